// What the read-model tests share: the day they happen on, their two buyers, and a fixture
// that opens a ledger on that day and registers them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "projections/projector.h"
#include "tests/support/ledger_fixture.h"

namespace malpro::testing {

// 2026-01-31 10:00 in Malang (03:00 UTC).
inline constexpr int64_t kJan31 = 1'769'828'400'000'000;
inline constexpr char kBuyer[] = "198507122010011003";
inline constexpr char kOtherBuyer[] = "199001012015032001";

class ProjectionFixture : public LedgerFixture {
 protected:
  // The ledger on 2026-01-31, its log unsynced (nothing here outlives the test).
  void OpenLedgerOnJan31() {
    now_ = kJan31;
    LogOptions log_options;
    log_options.sync = false;
    ASSERT_NO_FATAL_FAILURE(OpenLedger(log_options));
  }

  void Ok(const Result<CommandResult>& result) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
  }

  // kBuyer (Siti Rahayu, III/a, Kauman) and kOtherBuyer (Budi Santoso, IV/a, Sawojajar).
  void RegisterBuyers() {
    Ok(ledger_->Register(RegisterAsn{kBuyer, "Siti Rahayu", "Diskominfo", "III/a", "Kauman"},
                         As("admin:setup")));
    Ok(ledger_->Register(RegisterAsn{kOtherBuyer, "Budi Santoso", "Dinkes", "IV/a", "Sawojajar"},
                         As("admin:setup")));
  }

  // A projector over the log in dir_/`name`, caught up; nullptr (and a failure) if it is not.
  std::unique_ptr<Projector> OpenProjector(const std::string& name = "read-models") {
    ProjectorOptions options;
    options.dir = dir_.Sub(name);
    Result<std::unique_ptr<Projector>> projector = Projector::Open(log_.get(), options);
    EXPECT_TRUE(projector.ok()) << projector.status().ToString();
    if (!projector.ok()) return nullptr;
    Status caught_up = (*projector)->CatchUp();
    EXPECT_TRUE(caught_up.ok()) << caught_up.ToString();
    return std::move(projector).value();
  }
};

}  // namespace malpro::testing
