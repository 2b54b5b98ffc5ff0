// CheckpointPublisher: the log's signed checkpoints (engine/tlog_checkpoints.h) to the topic
// `<prefix>.checkpoints`, one partition, in the order they were issued: the key is the tree
// size in decimal, the value the signed note, byte for byte, and the header `frontier` the
// base64 of the tree's frontier at that size (docs/kafka-records.md).
//
// A checkpoint may be published more than once (the latest one again after a restart, when a
// crash could have lost it in flight): readers take the key as its identity.
//
// Threading: Publish() and Status() from any thread; Start() runs the producer on its own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "engine/tlog_store.h"

namespace malpro {

struct CheckpointPublishStatus {
  uint64_t published = 0;  // records acknowledged since Start()
  uint64_t size = 0;       // the size of the last acknowledged
  std::string last_error;  // the latest delivery or produce error; empty if none
};

class CheckpointPublisher {
 public:
  // `epoch`: the log's writer epoch, in each record's `epoch` header.
  CheckpointPublisher(std::string brokers, KafkaOptions options, uint64_t epoch = 1);
  ~CheckpointPublisher();  // Stop()
  CheckpointPublisher(const CheckpointPublisher&) = delete;
  CheckpointPublisher& operator=(const CheckpointPublisher&) = delete;

  static std::string Topic(const KafkaOptions& options) {
    return options.topic_prefix + ".checkpoints";
  }
  void Start();
  // Stops after flushing what was produced (bounded wait).
  void Stop();
  // Queues `checkpoint`, with the tree's frontier at its size (TreeFrontier), for the topic.
  void Publish(const StoredCheckpoint& checkpoint, const std::vector<Hash>& frontier);
  CheckpointPublishStatus Status() const;

 private:
  void Run();

  const std::string brokers_;
  const KafkaOptions options_;
  const uint64_t epoch_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable queued_;
  struct Queued {
    StoredCheckpoint checkpoint;
    std::string frontier;  // base64
  };
  std::deque<Queued> queue_;
  CheckpointPublishStatus status_;
  std::thread thread_;
};

}  // namespace malpro
