// Appends commands of three events from several threads, and commands of 400 larger events
// (about 100 KiB, more than one write part) from one more, until killed. After each durable
// append it prints "thread command first last" on stdout, so the parent test knows exactly
// what was acknowledged. Usage: log_crash_child DATA_DIR THREADS
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "engine/event_log.h"
#include "tests/engine/log_crash_payloads.h"

namespace {
using namespace malpro;

using crash::BigPayload;
using crash::kBigCommandEvents;
using crash::kBigThread;
using crash::kSmallCommandEvents;
using crash::SmallPayload;

// Appends commands of `events` events to `stream` until killed, printing each acknowledged
// one as "thread command first last".
[[noreturn]] void AppendUntilKilled(EventLog& log, int thread, const std::string& stream,
                                    uint64_t events,
                                    std::string (*payload)(uint64_t command, uint64_t part)) {
  uint64_t version = *log.StreamVersion(stream);
  while (true) {
    const uint64_t command = version / events;
    AppendRequest request;
    request.actor = "crash:child";
    request.expectations = {{stream, version}};
    for (uint64_t part = 0; part < events; ++part) {
      request.events.push_back({stream, "crash.part", payload(command, part)});
    }
    Result<AppendResult> result = log.Append(request);
    if (!result.ok()) {
      std::fprintf(stderr, "append: %s\n", result.status().ToString().c_str());
      std::_Exit(4);
    }
    version += events;
    char line[128];
    const int length = std::snprintf(line, sizeof line, "%d %llu %llu %llu\n", thread,
                                     static_cast<unsigned long long>(command),
                                     static_cast<unsigned long long>(result->first_sequence),
                                     static_cast<unsigned long long>(result->last_sequence));
    if (write(STDOUT_FILENO, line, length) != length) std::_Exit(5);
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR THREADS\n", argv[0]);
    return 2;
  }
  LogOptions options;
  options.data_dir = argv[1];
  // The index writes a table file every few commands, so kills also land while one is written
  // or ingested.
  options.index_entries_in_memory = 300;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 3;
  }
  const int thread_count = std::atoi(argv[2]);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      AppendUntilKilled(**log, t, "c-" + std::to_string(t), kSmallCommandEvents, SmallPayload);
    });
  }
  // One more thread writes large commands, each written in several parts (event_log.h), so
  // that kills land between the parts of a group.
  threads.emplace_back(
      [&] { AppendUntilKilled(**log, kBigThread, "big", kBigCommandEvents, BigPayload); });
  for (auto& thread : threads) thread.join();
}
