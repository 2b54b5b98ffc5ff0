// Appends to the log from several threads while the relay publishes it, until killed.
// Usage: relay_crash_child DATA_DIR BROKERS HEAD_MAX
// Appending stops once the log's head reaches HEAD_MAX (the relay keeps running), so that the
// parent test bounds the topic's size across its rounds. A line on standard output says the log
// is open and the relay started: appending begins.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/relay.h"

int main(int argc, char** argv) {
  using namespace malpro;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DATA_DIR BROKERS HEAD_MAX\n", argv[0]);
    return 2;
  }
  LogOptions options;
  options.data_dir = argv[1];
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 3;
  }
  const uint64_t head_max = std::strtoull(argv[3], nullptr, 10);
  RelayOptions relay_options;
  relay_options.brokers = argv[2];
  Relay relay(log->get(), relay_options);
  relay.Start();
  std::printf("appending\n");
  std::fflush(stdout);
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; (*log)->Head().sequence < head_max; ++i) {
        // Streams shared between threads: per-stream order is decided by the log.
        const std::string stream = "order-" + std::to_string((i * kThreads + t) % 11);
        AppendRequest request;
        request.actor = "crash:child";
        for (uint64_t part = 0; part <= i % 3; ++part) {
          request.events.push_back(
              {stream, "order.noted",
               R"({"thread":)" + std::to_string(t) + R"(,"i":)" + std::to_string(i) + "}"});
        }
        Result<AppendResult> appended = (*log)->Append(request);
        if (!appended.ok()) {
          std::fprintf(stderr, "append: %s\n", appended.status().ToString().c_str());
          std::_Exit(4);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // Appending is done; the relay keeps publishing until the parent kills this process.
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}
