// A real event log and a ledger on it for tests and benchmarks, both reading one clock the
// caller moves, over the shipped Kota Malang geography. The including target defines
// MALPRO_SOURCE_DIR. No gtest here: benchmarks include it too.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adapters/cli/geography_config.h"
#include "engine/event_log.h"
#include "engine/ledger.h"

namespace malpro::testing {

// The log and the ledger writing to it; the ledger is destroyed first.
struct TestLedger {
  std::unique_ptr<EventLog> log;
  std::unique_ptr<Ledger> ledger;
};

// Opens the log with `log_options` and a ledger with `options`, both with their clock set to
// read `now_us` (which must outlive them). An error opening the log or loading the geography
// is returned.
inline Result<TestLedger> OpenTestLedger(LogOptions log_options, LedgerOptions options,
                                         std::atomic<int64_t>* now_us) {
  log_options.clock = [now_us] { return now_us->load(); };
  options.clock = log_options.clock;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(log_options);
  if (!log.ok()) return log.status();
  Result<Geography> geography = LoadGeography(MALPRO_SOURCE_DIR "/config/kota-malang.toml");
  if (!geography.ok()) return geography.status();
  TestLedger opened{std::move(log).value(), nullptr};
  opened.ledger =
      std::make_unique<Ledger>(opened.log.get(), std::move(geography).value(), std::move(options));
  return opened;
}

// The bank's notification that `payment_id` was paid `amount` by `channel` (QRIS or VA) under
// `bank_reference` at `paid_at_us`.
inline BankSuccess BankPaid(std::string payment_id, std::string channel, std::string bank_reference,
                            Money amount, int64_t paid_at_us) {
  BankSuccess success;
  success.payment_id = std::move(payment_id);
  success.channel = std::move(channel);
  success.bank_reference = std::move(bank_reference);
  success.amount = amount;
  success.paid_at_us = paid_at_us;
  return success;
}

// Ids "id-1", "id-2", ... in the order the ledger draws them, counted in `*drawn` (which must
// outlive the ledger).
inline std::function<std::string()> CountingIds(int* drawn) {
  return [drawn] { return "id-" + std::to_string(++*drawn); };
}

}  // namespace malpro::testing
