// ChangelogPublisher: every changed row of the read models to a compacted topic per read
// model, `<prefix>.proj.<name>`, keyed by the row key with the row's JSON as value, so a
// dashboard can rebuild its view by reading a topic from the start (docs/kafka-records.md).
//
// On start it publishes every row as of a position (a compacted topic keeps the latest value
// per key, so publishing a row again is harmless), then the rows of each commit after it. A
// record carries the header `position`: the log sequence its commit folded up to.
//
// Threading: Start() runs it on its own thread; Status() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "projections/projector.h"

namespace malpro {

struct ChangelogStatus {
  uint64_t position = 0;        // the highest position of a row change acknowledged
  uint64_t rows_published = 0;  // records acknowledged since Start()
  std::string last_error;       // the latest delivery or produce error; empty if none
};

class ChangelogPublisher {
 public:
  // `projector` must outlive the publisher.
  ChangelogPublisher(const Projector* projector, std::string brokers, KafkaOptions options);
  ~ChangelogPublisher();  // Stop()
  ChangelogPublisher(const ChangelogPublisher&) = delete;
  ChangelogPublisher& operator=(const ChangelogPublisher&) = delete;

  // The topics it writes: `<prefix>.proj.<name>` for each read model.
  static std::vector<std::string> Topics(const Projector& projector, const KafkaOptions& options);

  void Start();
  // Stops after flushing what was produced (bounded wait).
  void Stop();
  ChangelogStatus Status() const;

 private:
  void Run();

  const Projector* projector_;
  const std::string brokers_;
  const KafkaOptions options_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex status_mutex_;
  ChangelogStatus status_;
  std::thread thread_;
};

}  // namespace malpro
