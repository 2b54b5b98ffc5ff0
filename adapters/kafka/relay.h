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
// Epochs and fencing (docs/replication.md, "A standby: promotion and fencing"): every record
// carries the log's writer epoch (EventLog::Epoch). A session first reads <prefix>.epochs: when a
// promotion made another writer the primary, the relay is fenced (kFenced) and publishes nothing
// more. It checks the epochs topic's end offset again every relay_fence_check_ms, and before it
// confirms a sequence to a synchronous write. After a promotion, the resume rule looks past the
// records a fenced writer added after the fence.
//
// Threading: Start() runs the relay on its own thread; Status() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
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
  kFenced,      // a promotion made another writer the primary: nothing more is published
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
  // Every event up to it is in the topic, and a fence check that began after its
  // acknowledgement found no promotion: what synchronous mode answers.
  uint64_t confirmed_sequence = 0;
  uint64_t epoch = 0;      // the writer's epoch the records carry (0 until a session read it)
  std::string last_error;  // the latest error, kept after recovery; empty if none
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

  // Blocks until the first session has read the epochs topic and the tails (publishing,
  // fenced, or retrying after an error) or the timeout passes; returns whether it did.
  bool WaitUntilStarted(std::chrono::milliseconds timeout) const;

  // Blocks until published_sequence >= sequence or the timeout passes; returns whether it did.
  bool WaitForPublished(uint64_t sequence, std::chrono::milliseconds timeout) const;

  // Synchronous mode: calls `done` once, with OK when confirmed_sequence >= sequence, with
  // Unavailable kafka_not_acknowledged when `deadline` passes first or the relay stops, or
  // with kafka_relay_fenced when a promotion fenced it. On the calling thread when that is
  // known at once, else on the relay's thread; `done` must not block.
  void WhenConfirmed(uint64_t sequence, std::chrono::steady_clock::time_point deadline,
                     std::function<void(::malpro::Status)> done);
  // Blocking form of WhenConfirmed.
  ::malpro::Status WaitForConfirmed(uint64_t sequence,
                                    std::chrono::steady_clock::time_point deadline);
  // OK, or the kafka_relay_fenced refusal once a promotion fenced this writer.
  ::malpro::Status Fenced() const;

 private:
  class Session;

  void Run();
  void RecordError(const ::malpro::Status& status);
  void SetState(RelayState state);
  // From the session: the published sequence, records acknowledged since the last report,
  // and whether acknowledgements are overdue, in one step so that readers see them together.
  void Report(uint64_t published, uint64_t delivered, RelayState state);
  // From the session: a fence check that began when `published` was acknowledged found no
  // promotion. Answers the waiters it covers.
  void Confirm(uint64_t published);
  // Whether a synchronous write waits for a sequence above the confirmed one.
  bool HasWaiters() const;
  // Answers the waiters whose deadline passed (or all, with `status`, when it is not OK).
  void ExpireWaiters(const ::malpro::Status& status = ::malpro::Status::Ok());
  void SetEpoch(uint64_t epoch);
  void MarkFenced(const ::malpro::Status& status);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  EventLog* const log_;
  const RelayOptions options_;

  std::atomic<bool> stopping_{false};
  std::thread thread_;

  struct Waiter {
    std::chrono::steady_clock::time_point deadline;
    std::function<void(::malpro::Status)> done;
  };

  mutable std::mutex mutex_;  // guards status_, waiters_ and fenced_
  mutable std::condition_variable changed_;
  RelayStatus status_;
  std::multimap<uint64_t, Waiter> waiters_;  // by the sequence each waits for
  ::malpro::Status fenced_;
};

}  // namespace malpro
