// The base of the fixtures that drive a real ledger: a temp dir, a clock the test moves, and a
// log and ledger opened by OpenLedger (tests/engine/ledger_test.cc, tests/files,
// tests/projections/projector_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/ledger.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ledger.h"

namespace malpro {

class LedgerFixture : public ::testing::Test {
 protected:
  // Opens the log in dir_/log with `log_options` and a ledger on it, both on the clock now_;
  // with `counting_ids`, the ledger's ids are "id-1", "id-2", ... (else random). Call from
  // SetUp through ASSERT_NO_FATAL_FAILURE: a failure to open is fatal to the test.
  void OpenLedger(LogOptions log_options = {}, bool counting_ids = true) {
    log_options.data_dir = dir_.Sub("log");
    LedgerOptions options;
    if (counting_ids) options.new_id = testing::CountingIds(&ids_drawn_);
    Result<testing::TestLedger> opened = testing::OpenTestLedger(log_options, options, &now_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened->log);
    ledger_ = std::move(opened->ledger);
  }

  CommandContext As(std::string actor, std::string idempotency_key = "") {
    CommandContext context;
    context.actor = std::move(actor);
    context.idempotency_key = std::move(idempotency_key);
    return context;
  }

  testing::TempDir dir_;
  std::atomic<int64_t> now_{0};
  int ids_drawn_ = 0;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace malpro
