// Read model benchmarks:
//   BM_RebuildAllProjections  a full rebuild of every read model from sequence 1 over a
//                             history of at least 1,000,000 events (items/s = events folded)
//                             and cpu_s = the process's CPU seconds (both cores) per rebuild
//   BM_ReplayLogOnly          the peer in the same run: reading and decoding the same events
//                             from the log the way a rebuild does, without folding them
// The history is the demo market (20,000 ASN, 1,000 UMKM) over consecutive months, written
// through the ledger without syncs; it is generated once into $MALPRO_BENCH_DIR (or /tmp) and
// reused while its marker file says it is complete. See docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "adapters/cli/demo.h"
#include "projections/projector.h"
#include "tests/support/demo_history.h"

namespace malpro {
namespace {

constexpr uint64_t kHistoryEventsMin = 1'000'000;

std::string BenchPath(const std::string& name) {
  const char* base = std::getenv("MALPRO_BENCH_DIR");
  return std::string(base ? base : "/tmp") + "/malpro-bench-" + name;
}

// Writes the history unless a complete one is there; returns its directory.
std::string History() {
  const std::string dir = BenchPath("history");
  const std::string marker = dir + "/COMPLETE";
  if (std::filesystem::exists(marker)) return dir;
  std::filesystem::remove_all(dir);
  DemoOptions demo;
  demo.seed = 1;
  demo.asn_count = demo_asn_max;
  demo.umkm_count = demo_umkm_max;
  demo.month = "2026-01";
  demo.months = 6;
  std::atomic<int64_t> now(0);
  uint64_t next_id = 0;
  testing::TestLedger history = testing::OpenDemoLedger(dir, demo, &now, [&next_id] {
    std::string id(1, 'b');
    id += std::to_string(++next_id);
    return id;
  });
  Result<DemoSummary> seeded = SeedDemo(*history.ledger, demo, &now);
  if (!seeded.ok()) std::cerr << seeded.status().ToString() << "\n";
  MALPRO_ASSERT(seeded.ok());
  const uint64_t head = history.log->Head().sequence;
  std::cerr << "history: " << head << " events\n";
  MALPRO_ASSERT(head >= kHistoryEventsMin);
  std::ofstream(marker) << head << "\n";
  return dir;
}

// User and system CPU seconds of the whole process so far.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& time) { return time.tv_sec + time.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::unique_ptr<EventLog> OpenHistory() {
  LogOptions options;
  options.data_dir = History();
  options.read_only = true;
  return std::move(EventLog::Open(options)).value();
}

void BM_RebuildAllProjections(benchmark::State& state) {
  std::unique_ptr<EventLog> log = OpenHistory();
  uint64_t events = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = BenchPath("read-models");
    std::filesystem::remove_all(dir);
    ProjectorOptions options;
    options.dir = dir;
    state.ResumeTiming();
    const double cpu_before = ProcessCpuSeconds();
    std::unique_ptr<Projector> projector = std::move(Projector::Open(log.get(), options)).value();
    MALPRO_ASSERT(projector->CatchUp().ok());
    cpu_seconds += ProcessCpuSeconds() - cpu_before;
    events += projector->Applied();
    state.PauseTiming();
    projector.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["cpu_s"] = cpu_seconds / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RebuildAllProjections)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_ReplayLogOnly(benchmark::State& state) {
  std::unique_ptr<EventLog> log = OpenHistory();
  uint64_t events = 0;
  for (auto _ : state) {
    // The way a rebuild reads: one scan, batches of the projector's size.
    std::unique_ptr<EventLog::Scanner> scan = log->Scan(1);
    std::vector<Event> batch;
    while (true) {
      MALPRO_ASSERT(scan->ReadInto(ProjectorOptions().read_batch_events, &batch).ok());
      if (batch.empty()) break;
      events += batch.size();
      benchmark::DoNotOptimize(batch.back().sequence);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_ReplayLogOnly)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace malpro

BENCHMARK_MAIN();
