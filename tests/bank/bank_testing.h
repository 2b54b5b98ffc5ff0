// What the bank tests share: the fixed clock, the keys and requests under tests/bank/testdata/,
// and a ledger with a policy, a buyer and a verified merchant selling one product. Free of
// gtest, so the fuzz targets can use it too.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "adapters/cli/geography_config.h"
#include "engine/domain_events.h"
#include "engine/event_log.h"
#include "engine/ledger.h"

namespace malpro::testing {

inline constexpr int64_t kBankNow = 1'795'317'300'000'000;             // 2026-11-22T10:15:00+07:00
inline constexpr char kBankTimestamp[] = "2026-11-22T10:15:00+07:00";  // kBankNow in SNAP's form
inline constexpr int64_t kSecond = 1'000'000;                          // in microseconds
// The secrets the bank tests configure on both sides: our SNAP client's, and the one the bank
// signs its notifications with.
inline constexpr char kBankClientSecret[] = "malpro-client-secret";
inline constexpr char kBankNotifySecret[] = "bank-notify-secret";
// The ASN who buys in SeedMarket's marketplace.
inline constexpr char kBankBuyer[] = "198507122010011003";

// The text of tests/bank/testdata/`name` ("" when it cannot be read).
inline std::string ReadTestFile(const std::string& name) {
  std::ifstream file(MALPRO_SOURCE_DIR "/tests/bank/testdata/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A ledger over `log` with Kota Malang's geography and `options`.
inline std::unique_ptr<Ledger> MalangLedger(EventLog* log, LedgerOptions options = {}) {
  return std::make_unique<Ledger>(
      log, std::move(LoadGeography(MALPRO_SOURCE_DIR "/config/kota-malang.toml")).value(), options);
}

// Opens an event log in `data_dir` and a Kota Malang ledger over it, both on `clock`.
inline void OpenClockedLedger(const std::string& data_dir, const std::function<int64_t()>& clock,
                              std::unique_ptr<EventLog>* log, std::unique_ptr<Ledger>* ledger) {
  LogOptions log_options;
  log_options.data_dir = data_dir;
  log_options.clock = clock;
  *log = std::move(EventLog::Open(log_options)).value();
  LedgerOptions ledger_options;
  ledger_options.clock = clock;
  *ledger = MalangLedger(log->get(), ledger_options);
}

// Seeds the policy, registers kBankBuyer, registers and verifies the merchant "warung" and
// lists its product "beras" at Rp 68,000. The status of the first command that fails.
inline Status SeedMarket(Ledger& ledger, const CommandContext& admin) {
  MALPRO_RETURN_IF_ERROR(ledger
                             .SeedPolicy({{{"III", Money::FromRupiah(400'000)}},
                                          30,
                                          Money::FromRupiah(500'000),
                                          22 * 60,
                                          {2023, 3, 13}},
                                         admin)
                             .status());
  MALPRO_RETURN_IF_ERROR(
      ledger.Register(RegisterAsn{kBankBuyer, "Siti", "Diskominfo", "III/a", "Kauman"}, admin)
          .status());
  MALPRO_RETURN_IF_ERROR(ledger
                             .Register(RegisterUmkm{"warung", "Warung", "", "sembako", "Klojen",
                                                    "Kauman", "Diskopindag", "0012345678", "UKE"},
                                       admin)
                             .status());
  MALPRO_RETURN_IF_ERROR(ledger.VerifyUmkm("warung", admin).status());
  return ledger.List({"warung", "beras", "Beras", "pack", Money::FromRupiah(68'000)}, admin)
      .status();
}

}  // namespace malpro::testing
