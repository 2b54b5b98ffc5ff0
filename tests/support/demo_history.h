// The demo market (adapters/cli/demo.h) written through a real ledger, for the tests and
// benchmarks that need a long history (tests/projections/determinism_test.cc,
// bench/projection_bench.cc). No gtest here: benchmarks include it too.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>

#include "adapters/cli/demo.h"
#include "engine/assert.h"
#include "engine/civil_time.h"
#include "tests/support/test_ledger.h"

namespace malpro::testing {

// The policy the demo market is written under: a minimum spend for every golongan, fee 0.7%,
// none for UMI payments up to Rp500.000, cut-off 22:00; in force from `effective_from`.
inline PolicyDefaults DemoPolicy(CivilDate effective_from) {
  return PolicyDefaults{.minimum_spend = {{"I", Money::FromRupiah(100'000)},
                                          {"II", Money::FromRupiah(200'000)},
                                          {"III", Money::FromRupiah(400'000)},
                                          {"IV", Money::FromRupiah(500'000)},
                                          {"PPPK", Money::FromRupiah(200'000)}},
                        .fee_basis_points = 70,
                        .umi_zero_fee_max = Money::FromRupiah(500'000),
                        .settlement_cutoff_minutes = 22 * 60,
                        .effective_from = effective_from};
}

// Opens an unsynced log in `log_dir` and a ledger on it, both on the clock `now_us` (set here to
// the start of the demo's month), with ids from `new_id`, and seeds DemoPolicy from the first
// day of that month. Ready for SeedDemo. A failure is a broken test setup: asserted.
inline TestLedger OpenDemoLedger(const std::string& log_dir, const DemoOptions& demo,
                                 std::atomic<int64_t>* now_us,
                                 std::function<std::string()> new_id) {
  now_us->store(DemoMonthStartMicros(demo));
  LogOptions log_options;
  log_options.data_dir = log_dir;
  log_options.sync = false;
  LedgerOptions options;
  options.new_id = std::move(new_id);
  Result<TestLedger> opened = OpenTestLedger(log_options, options, now_us);
  if (!opened.ok()) std::cerr << opened.status().ToString() << "\n";
  MALPRO_ASSERT(opened.ok());
  CommandContext context;
  context.actor = "system:config";
  MALPRO_ASSERT(opened->ledger->SeedPolicy(DemoPolicy(JakartaDate(now_us->load())), context).ok());
  return std::move(opened).value();
}

}  // namespace malpro::testing
