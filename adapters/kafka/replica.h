// Replica: makes a local log a copy of the primary's from the events topic (docs/replication.md).
//
// It reads every partition of <prefix>.events from its first record, skips what the local log
// already holds (by the `sequence` header), puts the rest back in sequence order (partitions
// have no order between them), and appends them in batches with EventLog::AppendReplicated,
// which checks each event's hash, the chain from the local head, and the stream versions, and
// stores the very envelopes the primary stored: the two logs hold the same bytes. A batch the
// log refuses (another log's topic, a topic rewritten, a gap that retention made) stops the
// replica in state kFailed with the reason; it keeps what it has, and serving reads goes on.
//
// Signed checkpoints: with a verifier key and the replica's Merkle tree, it also reads
// <prefix>.checkpoints; each must be signed by that key for the log's origin, and once the
// tree holds its size, its root must be the tree's. Each that holds is kept in the tree's
// store (as the primary keeps it); one that does not stops the replica (kFailed).
//
// Promotions (docs/replication.md, "A standby: promotion and fencing"): a record carries its
// writer's epoch; a fence record in a partition ends the lower epochs there, and once the log holds
// an event of an epoch, lower epochs' records are a fenced writer's and are passed over. The log
// records each new epoch (EventLog::SetEpoch, writer "replica").
//
// Memory: events that arrive before the one missing are held until it comes; beyond
// replica_pending_events_max, the partitions that are ahead are paused until the rest catch up.
//
// Threading: Start() runs the replica on its own thread; Status() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "engine/event_log.h"
#include "engine/signed_note.h"
#include "engine/tlog_store.h"

namespace malpro {

enum class ReplicaState {
  kStopped,     // not started, or stopped
  kStarting,    // connecting, reading the topic's partitions and tails
  kCatchingUp,  // applying what the topic held when it started
  kFollowing,   // caught up once: applying each event as it is relayed
  kRetrying,    // the cluster could not be read; a new session starts after a backoff
  kFailed,      // the log refused what the topic holds (last_error says why); nothing more
  kFinished,    // with ReplicaOptions::stop_at: read up to the fences (a promotion)
};

const char* ReplicaStateName(ReplicaState state);

// What /healthz and /metrics show about the replica.
struct ReplicaStatus {
  ReplicaState state = ReplicaState::kStopped;
  uint64_t applied_sequence = 0;  // the local log's head
  // The highest sequence known to be in the topic: its partitions' last records when the
  // session started, and every record read since.
  uint64_t topic_sequence = 0;
  uint64_t lag = 0;                    // topic_sequence - applied_sequence, or 0
  uint64_t events_applied = 0;         // appended since Start()
  int64_t applied_recorded_at_us = 0;  // the last applied event's recorded time
  uint64_t sessions_started = 0;
  uint64_t records_fenced = 0;        // a fenced writer's records, passed over since Start()
  uint64_t read_sequence = 0;         // the highest sequence read from the topic, fenced aside
  uint64_t checkpoints_verified = 0;  // signed checkpoints checked against the tree
  uint64_t last_checkpoint_size = 0;  // the largest of them
  std::string last_error;             // the latest error, kept after recovery; empty if none
};

struct ReplicaOptions {
  // bootstrap.servers of the primary's cluster.
  std::string brokers;
  // Topic names and librdkafka passthrough properties (the primary's topic_prefix).
  KafkaOptions kafka;
  // The log's checkpoint verifier key and origin, and the replica's Merkle tree (following
  // its log): set all three to check the signed checkpoints; null `tree` checks none.
  std::optional<NoteVerifier> verifier;
  std::string origin;
  TlogStore* tree = nullptr;
  // `malpro promote`: per partition of the events topic, the offset of its fence. The replica
  // reads each partition up to it, appends every event that continues the log, and ends in
  // kFinished. Empty: it follows the topic until stopped.
  std::vector<int64_t> stop_at = {};
};

class Replica {
 public:
  // `log` must outlive the replica; nothing else may append to it while the replica runs.
  Replica(EventLog* log, ReplicaOptions options);
  // Stops (see Stop()).
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Starts the replica's thread. Requires it not running.
  void Start();
  // Ends the session after the batch being appended, then joins the thread.
  void Stop();

  ReplicaStatus Status() const;

  // Blocks until the local log holds `sequence` or the timeout passes; returns whether it did.
  bool WaitForApplied(uint64_t sequence, std::chrono::milliseconds timeout) const;

 private:
  class Session;

  void Run();
  void RecordError(const malpro::Status& status);
  void SetState(ReplicaState state);
  void Report(uint64_t topic_sequence, uint64_t applied, int64_t recorded_at_us,
              uint64_t records_fenced, uint64_t read_sequence);
  void ReportCheckpoint(uint64_t size);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  EventLog* const log_;
  const ReplicaOptions options_;

  std::atomic<bool> stopping_{false};
  std::thread thread_;
  uint64_t head_at_start_ = 0;  // set by Start() before the thread runs

  mutable std::mutex mutex_;  // guards status_
  mutable std::condition_variable changed_;
  ReplicaStatus status_;
};

}  // namespace malpro
