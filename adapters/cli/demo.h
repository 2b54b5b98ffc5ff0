// `malpro demo`: a realistic month in Kota Malang, written through the ordinary ledger
// commands (no back door into the log) with a seeded random generator, so the same seed
// gives the same month.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/ledger.h"

namespace malpro {

inline constexpr int demo_asn_max = 20'000;
inline constexpr int demo_umkm_max = 1'000;
inline constexpr int demo_months_max = 24;

struct DemoOptions {
  uint64_t seed = 20230313;  // the day Malpro was launched
  int asn_count = 7000;
  int umkm_count = 165;
  std::string month;  // YYYY-MM; empty: the month before the current one (Asia/Jakarta)
  int months = 1;     // consecutive months from `month` (benchmarks and tests seed several)
  // Cashless payments through the simulated bank (0: none; the default is more than a month
  // holds, so every one goes through it).
  int bank_payments = 1'000'000;
  // Set (from another thread): the seeder stops once the day it is writing is whole.
  const std::atomic<bool>* stop = nullptr;
};

struct DemoSummary {
  std::string month;
  int asn = 0;
  int umkm = 0;
  int products = 0;
  struct Orders {
    int delivered = 0;
    int cancelled = 0;
    int open = 0;
  } orders;
  struct Payments {
    int cashless = 0;
    int through_bank = 0;  // of them, paid through the simulated bank over sockets
    int refunds = 0;
    // Cashless orders cancelled while their payment was pending (the request voided), of
    // which the bank still reported some paid: refunds due, some already refunded.
    int voided = 0;
    int refunds_due = 0;
  } payments;
  struct Receipts {
    int approved = 0;
    int rejected = 0;
  } receipts;
  int exceptions_open = 0;
  uint64_t commands = 0;
  // Days written whole; fewer than the month's when DemoOptions::stop stopped the seeder.
  int days_seeded = 0;
  bool stopped = false;
};

// 00:00 Asia/Jakarta on the first day of the demo month, in UTC microseconds.
int64_t DemoMonthStartMicros(const DemoOptions& options);

// Pays a cashless order the way real ones are paid: through the bank (with `expire_first`,
// a first QR or account expires unpaid). Returns the commands written.
struct DemoBank {
  std::function<Result<int>(const std::string& order_id, const std::string& channel,
                            bool expire_first)>
      pay;
  // Payments through the bank at most; the rest are written to the ledger directly, as the
  // bank path costs a few milliseconds per payment (docs/bank-simulator.md).
  int payments_max = 0;
};

// Writes the month. `now_us` is the clock the ledger and log read; the seeder moves it
// forward through the month. `bank`, when given, pays the first payments_max cashless
// orders. Progress goes to standard error.
Result<DemoSummary> SeedDemo(Ledger& ledger, const DemoOptions& options,
                             std::atomic<int64_t>* now_us, const DemoBank* bank = nullptr);

void PrintDemoSummary(const DemoSummary& summary);
// What to try next: URLs, a token for each role, commands.
// `month` (YYYY-MM) is the demo's; `kafka` the bootstrap address (empty: Kafka is off);
// `bank_sim_url` the demo's simulated bank (empty: payments go to a configured bank).
void PrintDemoHints(uint16_t port, const std::string& data_dir, const std::string& month,
                    const std::string& kafka, const std::string& bank_sim_url);

}  // namespace malpro
