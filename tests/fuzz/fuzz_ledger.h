// A real ledger for the fuzz targets whose input ends in a command (the Kafka intake, the
// bank's notifications): a log in a temporary directory with a fixed clock, holding one ASN,
// one verified merchant with a product, and orders whose cashless payments were requested.
//
// State carries over from input to input, as it does in the service. So that neither the
// disk nor the fold grows without bound over a long run, the log is thrown away and built
// again after appends_before_reset appends.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "adapters/cli/geography_config.h"
#include "engine/event_log.h"
#include "engine/ledger.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/temp_dir.h"

namespace malpro::fuzz {

// 2026-11-22T10:15:00+07:00, the time of every event and of every check against the clock.
inline constexpr int64_t fixture_now_us = 1'795'317'300'000'000;
inline constexpr char fixture_timestamp[] = "2026-11-22T10:15:00+07:00";
inline constexpr char fixture_buyer_nip[] = "198507122010011003";
inline constexpr char fixture_umkm_id[] = "warung-bu-sri";
inline constexpr char fixture_product_id[] = "beras-5kg";
// Cashless orders pay-1 .. pay-4 of one product each (Rp68.000); QRIS payments were requested
// for pay-1, pay-2 (references BJ-pay-1, BJ-pay-2) and a virtual account for pay-3.
inline constexpr int64_t fixture_price_rupiah = 68'000;

class FuzzLedger {
 public:
  static constexpr uint64_t appends_before_reset = 2'000;

  // The ledger for this input, built again first when the current one has taken its share.
  static FuzzLedger& ForInput() {
    if (instance_ == nullptr) {
      instance_ = new FuzzLedger();
      // Closed at exit while RocksDB's static objects still exist: they were made while the
      // first log opened, before this handler was registered, so they go after it runs.
      std::atexit([] {
        delete instance_;
        instance_ = nullptr;
      });
    } else if (instance_->log_->Head().sequence >= instance_->reset_at_) {
      delete instance_;  // the old log closes before its directory goes
      instance_ = new FuzzLedger();
    }
    return *instance_;
  }

  Ledger& ledger() { return *ledger_; }
  // The sequence of the last event written.
  uint64_t head_sequence() const { return log_->Head().sequence; }

 private:
  FuzzLedger() {
    LogOptions log_options;
    log_options.data_dir = directory_.Sub("log");
    log_options.sync = false;  // thrown away: nothing to keep durable
    log_options.write_buffer_bytes = 4 << 20;
    log_options.block_cache_bytes = 8 << 20;
    log_options.clock = [] { return fixture_now_us; };
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(log_options);
    FUZZ_CHECK_DETAIL(log.ok(), log.status().ToString());
    log_ = std::move(log).value();
    LedgerOptions options;
    options.clock = [] { return fixture_now_us; };
    options.new_id = [this] { return "fuzz-" + std::to_string(++ids_made_); };
    ledger_ = std::make_unique<Ledger>(log_.get(), Geography(KotaMalang()), options);
    Seed();
    reset_at_ = log_->Head().sequence + appends_before_reset;
  }

  static const Geography& KotaMalang() {
    static const Geography geography = [] {
      Result<Geography> loaded = LoadGeography(MALPRO_SOURCE_DIR "/config/kota-malang.toml");
      FUZZ_CHECK_DETAIL(loaded.ok(), loaded.status().ToString());
      return std::move(loaded).value();
    }();
    return geography;
  }

  void Seed() {
    CommandContext admin;
    admin.actor = "admin:setup";
    auto must = [](const auto& result) {
      FUZZ_CHECK_DETAIL(result.ok(), result.status().ToString());
    };
    must(ledger_->SeedPolicy({{{"III", Money::FromRupiah(400'000)}},
                              30,
                              Money::FromRupiah(500'000),
                              22 * 60,
                              {2023, 3, 13}},
                             admin));
    must(ledger_->Register(
        RegisterAsn{fixture_buyer_nip, "Siti Rahayu", "Diskominfo", "III/a", "Kauman"}, admin));
    must(ledger_->Register(RegisterUmkm{fixture_umkm_id, "Warung Bu Sri", "", "sembako", "Klojen",
                                        "Kauman", "Diskopindag", "0012345678", "UKE"},
                           admin));
    must(ledger_->VerifyUmkm(fixture_umkm_id, admin));
    must(ledger_->List({fixture_umkm_id, fixture_product_id, "Beras 5 kg", "pack",
                        Money::FromRupiah(fixture_price_rupiah)},
                       admin));
    for (const char* id : {"pay-1", "pay-2", "pay-3", "pay-4"}) {
      must(ledger_->Place(
          {id, fixture_buyer_nip, fixture_umkm_id, {{fixture_product_id, 1}}, "CASHLESS"}, admin));
    }
    for (const char* id : {"pay-1", "pay-2"}) {
      must(ledger_->RequestPayment(id, "QRIS", std::string("BJ-") + id, admin));
    }
    must(ledger_->RequestPayment("pay-3", "VA", "  123450001", admin));
  }

  static inline FuzzLedger* instance_ = nullptr;

  testing::TempDir directory_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
  uint64_t ids_made_ = 0;
  uint64_t reset_at_ = 0;
};

}  // namespace malpro::fuzz
