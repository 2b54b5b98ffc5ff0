// Relay: publishes every event of the log, in sequence order, to the topic
// <topic_prefix>.events, one record per event (docs/kafka-records.md): key = stream id,
// value = the event as JSON with the payload as the exact stored string, headers sequence,
// type, hash and previous_hash.
//
// Exactly once without a local cursor: each session starts by reading the last record of
// every partition and resumes from what the topic holds (the resume rule in
// docs/kafka-records.md). The producer is idempotent, the relay picks each record's partition
// itself from its key, and at most relay_window_events events are unacknowledged at any time.
// "Published" is the highest sequence such that every event up to it is acknowledged.
//
// Errors never stop the relay: an unreachable cluster is retried by the producer; a session
// that fails (no metadata, a fatal producer error, a refused record) ends, and a new session
// starts after a growing backoff and resumes from the topic again.
//
// Threading: Start() runs the relay on its own thread; Status() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/kafka/kafka_client.h"
#include "adapters/kafka/kafka_options.h"
#include "engine/event_log.h"

namespace malpro {

enum class RelayState {
  kStopped,     // not started, or stopped
  kStarting,    // a session is reading the topic's tail
  kPublishing,  // connected; lag is the backlog being sent
  kStalled,     // events wait for acknowledgement that has not come for a while (broker away)
  kRetrying,    // the last session failed; a new one starts after a backoff
};

const char* RelayStateName(RelayState state);

// What /healthz and /metrics show about the relay.
struct RelayStatus {
  RelayState state = RelayState::kStopped;
  uint64_t head_sequence = 0;       // the log's head when the status was taken
  uint64_t published_sequence = 0;  // every event up to it is in the topic
  uint64_t lag = 0;                 // head_sequence - published_sequence
  uint64_t events_published = 0;    // records acknowledged since Start()
  uint64_t sessions_started = 0;    // 1 + restarts after errors
  std::string last_error;           // the latest error, kept after recovery; empty if none
};

struct RelayOptions {
  // bootstrap.servers (the embedded broker's address, or kafka.brokers).
  std::string brokers;
  // Topic names and librdkafka passthrough properties.
  KafkaOptions kafka;
  // The relay reports kStalled when published has not advanced for this long while events
  // wait for acknowledgement.
  int stall_after_ms = 2'000;
};

class Relay {
 public:
  // `log` must outlive the relay.
  Relay(EventLog* log, RelayOptions options);
  // Stops (see Stop()).
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Starts the relay thread. Requires the relay not running.
  void Start();
  // Ends the session: waits up to relay_stop_flush_ms for in-flight events to be acknowledged,
  // then joins the thread. Events not acknowledged by then are published by the next start.
  void Stop();

  RelayStatus Status() const;

  // Blocks until published_sequence >= sequence or the timeout passes; returns whether it did.
  bool WaitForPublished(uint64_t sequence, std::chrono::milliseconds timeout) const;

 private:
  class Session;

  void Run();
  void RecordError(const malpro::Status& status);
  void SetState(RelayState state);
  // From the session: the published sequence, records acknowledged since the last report,
  // and whether acknowledgements are overdue, in one step so that readers see them together.
  void Report(uint64_t published, uint64_t delivered, RelayState state);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  EventLog* const log_;
  const RelayOptions options_;

  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable std::mutex mutex_;  // guards status_
  mutable std::condition_variable changed_;
  RelayStatus status_;
};

}  // namespace malpro
