// Appends commands of three events from several threads until killed. After each durable
// append it prints "thread command first last" on stdout, so the parent test knows exactly
// what was acknowledged. Usage: log_crash_child DATA_DIR THREADS
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "engine/event_log.h"

int main(int argc, char** argv) {
  using namespace malpro;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR THREADS\n", argv[0]);
    return 2;
  }
  LogOptions options;
  options.data_dir = argv[1];
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 3;
  }
  const int thread_count = std::atoi(argv[2]);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "c-" + std::to_string(t);
      uint64_t version = *(*log)->StreamVersion(stream);
      while (true) {
        const uint64_t command = version / 3;
        AppendRequest request;
        request.actor = "crash:child";
        request.expectations = {{stream, version}};
        for (int part = 0; part < 3; ++part) {
          request.events.push_back({stream, "crash.part",
                                    R"({"command":)" + std::to_string(command) + R"(,"part":)" +
                                        std::to_string(part) + "}"});
        }
        Result<AppendResult> result = (*log)->Append(request);
        if (!result.ok()) {
          std::fprintf(stderr, "append: %s\n", result.status().ToString().c_str());
          std::_Exit(4);
        }
        version += 3;
        char line[128];
        const int length = std::snprintf(line, sizeof line, "%d %llu %llu %llu\n", t,
                                         static_cast<unsigned long long>(command),
                                         static_cast<unsigned long long>(result->first_sequence),
                                         static_cast<unsigned long long>(result->last_sequence));
        if (write(STDOUT_FILENO, line, length) != length) std::_Exit(5);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}
