#include "adapters/kafka/replica.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <vector>

#include "adapters/kafka/kafka_client.h"
#include "adapters/kafka/kafka_limits.h"
#include "engine/assert.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

using Clock = std::chrono::steady_clock;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// A refusal that no retry can cure: the topic is not this log's continuation.
bool RefusedForGood(const malpro::Status& status) {
  return status.code() == StatusCode::kConflict || status.code() == StatusCode::kCorruption;
}

std::string WhereOf(const rd_kafka_message_t& message) {
  return "partition " + std::to_string(message.partition) + " offset " +
         std::to_string(message.offset);
}

}  // namespace

const char* ReplicaStateName(ReplicaState state) {
  switch (state) {
    case ReplicaState::kStopped:
      return "stopped";
    case ReplicaState::kStarting:
      return "starting";
    case ReplicaState::kCatchingUp:
      return "catching_up";
    case ReplicaState::kFollowing:
      return "following";
    case ReplicaState::kRetrying:
      return "retrying";
    case ReplicaState::kFailed:
      return "failed";
    case ReplicaState::kFinished:
      return "finished";
  }
  return "unknown";
}

// The batches handed to the log and not yet answered; answers come on the log's syncing thread.
struct ReplicaInFlight {
  std::mutex mutex;
  std::condition_variable changed;
  size_t batches = 0;
  malpro::Status failure;

  // Waits until another batch may be handed on; the first refusal instead.
  malpro::Status AwaitRoom() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return batches < replica_batches_in_flight_max || !failure.ok(); });
    if (!failure.ok()) return failure;
    ++batches;
    return malpro::Status::Ok();
  }
  void Done(const malpro::Status& status) {
    {
      std::lock_guard lock(mutex);
      --batches;
      if (!status.ok() && failure.ok()) failure = status;
    }
    changed.notify_all();
  }
  malpro::Status Failure() {
    std::lock_guard lock(mutex);
    return failure;
  }
  // Waits until every batch handed on is answered.
  void Drain() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return batches == 0; });
  }
};

// An event read from the topic, with the epoch of the writer that relayed it.
struct PendingEvent {
  ReplicatedEvent replicated;
  uint64_t epoch = 1;
};

// One connection to the cluster: a consumer assigned every partition of the events topic from
// its first record. Lives on the replica's thread only.
class Replica::Session {
 public:
  explicit Session(Replica* replica) : replica_(replica) {}
  ~Session() {
    in_flight_->Drain();  // the next session starts from the log's head
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }

  // OK when stopped; else the error that ended the session (`failed_for_good` says whether a
  // new session may cure it).
  malpro::Status Run();
  bool failed_for_good() const { return failed_for_good_; }
  // With ReplicaOptions::stop_at: every partition was read up to its offset, and every event
  // that continues the log is in it.
  bool finished() const { return finished_; }
  bool made_progress() const { return made_progress_; }

 private:
  malpro::Status Open();
  // That the last record of each partition that the log holds is the log's own event: else
  // the topic is another log's (replica_chain_broken).
  malpro::Status CheckTails(const std::vector<PartitionTail>& tails) const;
  // Takes one record into `pending_` unless the log holds it already.
  malpro::Status Take(const rd_kafka_message_t& message);
  // Takes one record of the checkpoints topic: checks its signature and origin and keeps it
  // until the tree holds its size.
  malpro::Status TakeCheckpoint(const rd_kafka_message_t& message);
  // Compares the kept checkpoints the tree has reached with its roots, and keeps those that hold.
  malpro::Status CheckCheckpoints();
  // Appends the events that continue the log, in batches.
  malpro::Status Apply();
  // Before the first event of a later epoch: records it in the log, and drops the events of
  // lower epochs still waiting.
  malpro::Status EnterEpochOf(uint64_t epoch);
  // Pauses the partitions that are ahead while too many events wait, and resumes them after.
  void Throttle();
  void Report();

  Replica* const replica_;
  std::shared_ptr<ReplicaInFlight> in_flight_ = std::make_shared<ReplicaInFlight>();
  KafkaHandle consumer_;
  std::string topic_;
  std::string checkpoints_topic_;  // empty: checkpoints are not checked
  int partitions_ = 0;
  struct HeldCheckpoint {
    Checkpoint checkpoint;
    std::string note;
    uint64_t epoch = 1;
  };
  std::map<uint64_t, HeldCheckpoint> checkpoints_;  // by size
  std::map<uint64_t, PendingEvent> pending_;        // read, not yet in the log
  std::vector<uint64_t> partition_fence_;           // per partition: the highest fence's epoch read
  uint64_t applied_epoch_ = 1;                      // the epoch of the log's last event
  std::vector<bool> reached_stop_;                  // per partition: read up to options.stop_at
  uint64_t next_ = 1;                               // the sequence the log needs next
  uint64_t ready_through_ = 0;                      // pending_ holds next_..ready_through_
  uint64_t topic_sequence_ = 0;
  uint64_t start_sequence_ = 0;           // the topic's highest sequence when the session started
  std::vector<uint64_t> partition_last_;  // per partition: the last sequence read from it
  bool paused_ = false;
  bool caught_up_ = false;
  bool failed_for_good_ = false;
  bool finished_ = false;
  bool made_progress_ = false;
  uint64_t fenced_records_ = 0;
  uint64_t reported_fenced_ = 0;  // of fenced_records_, what the status counts already
  uint64_t read_sequence_ = 0;    // the highest sequence of the records read, fenced ones aside
  int64_t recorded_at_us_ = 0;
  Clock::time_point last_apply_ = Clock::now();
  Clock::time_point waiting_since_ = Clock::now();  // for the event next_, with later ones here
};

malpro::Status Replica::Session::Open() {
  topic_ = replica_->options_.kafka.EventsTopic();
  Result<rd_kafka_conf_t*> conf =
      MakeKafkaConf(replica_->options_.brokers, replica_->options_.kafka,
                    {{"group.id", "malpro-replica"},
                     {"enable.auto.commit", "false"},
                     {"enable.partition.eof", "false"},
                     {"auto.offset.reset", "earliest"},
                     {"fetch.max.bytes", std::to_string(replica_fetch_bytes_max)}});
  if (!conf.ok()) return conf.status();
  Result<KafkaHandle> consumer = NewKafkaClient(RD_KAFKA_CONSUMER, *conf);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  Result<int> partitions = KafkaPartitionCount(consumer_.get(), topic_, kafka_request_timeout_ms);
  if (!partitions.ok()) return partitions.status();
  partitions_ = *partitions;
  Result<WriterEpoch> epoch = replica_->log_->Epoch();
  if (!epoch.ok()) return epoch.status();
  applied_epoch_ = epoch->epoch;
  Result<std::vector<PartitionTail>> tails =
      ReadPartitionTails(replica_->options_.brokers, replica_->options_.kafka, topic_, partitions_,
                         relay_tail_read_timeout_ms, applied_epoch_);
  if (!tails.ok()) return tails.status();
  MALPRO_RETURN_IF_ERROR(CheckTails(*tails));
  for (const PartitionTail& tail : *tails)
    topic_sequence_ = std::max(topic_sequence_, tail.sequence);
  start_sequence_ = topic_sequence_;
  partition_last_.assign(static_cast<size_t>(partitions_), 0);
  partition_fence_.assign(static_cast<size_t>(partitions_), 0);
  reached_stop_.assign(static_cast<size_t>(partitions_), replica_->options_.stop_at.empty());
  if (!replica_->options_.stop_at.empty() &&
      replica_->options_.stop_at.size() != static_cast<size_t>(partitions_)) {
    return malpro::Status::Conflict(
        errc::kReplicaEventInvalid, "events",
        topic_ + " has " + std::to_string(partitions_) + " partitions, not the " +
            std::to_string(replica_->options_.stop_at.size()) + " fenced");
  }
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions_);
  for (int32_t partition = 0; partition < partitions_; ++partition) {
    rd_kafka_topic_partition_list_add(assignment, topic_.c_str(), partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  if (replica_->options_.tree != nullptr && replica_->options_.verifier) {
    checkpoints_topic_ = replica_->options_.kafka.topic_prefix + ".checkpoints";
    rd_kafka_topic_partition_list_add(assignment, checkpoints_topic_.c_str(), 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  const rd_kafka_resp_err_t assigned = rd_kafka_assign(consumer_.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(assigned, "assigning " + topic_);
  next_ = replica_->log_->Head().sequence + 1;
  ready_through_ = next_ - 1;
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::CheckTails(const std::vector<PartitionTail>& tails) const {
  const uint64_t head = replica_->log_->Head().sequence;
  for (size_t partition = 0; partition < tails.size(); ++partition) {
    const PartitionTail& tail = tails[partition];
    if (tail.sequence == 0 || tail.sequence > head) continue;
    Result<std::vector<Event>> event = replica_->log_->Read(tail.sequence, 1);
    if (!event.ok()) return event.status();
    if (event->empty() || HashToHex(event->front().hash) != tail.hash) {
      return malpro::Status::Conflict(errc::kReplicaChainBroken, "events",
                                      topic_ + " partition " + std::to_string(partition) +
                                          " ends with event " + std::to_string(tail.sequence) +
                                          " whose hash is not this log's: the topic is "
                                          "another log's, or this directory holds another log");
    }
  }
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::Run() {
  malpro::Status opened = Open();
  if (!opened.ok()) {
    failed_for_good_ = RefusedForGood(opened);
    return opened;
  }
  replica_->SetState(ReplicaState::kCatchingUp);
  Report();
  while (!replica_->stopping()) {
    Message message(rd_kafka_consumer_poll(consumer_.get(), replica_poll_wait_ms));
    if (message && message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Passing trouble (a broker away): the consumer retries by itself.
      replica_->RecordError(KafkaStatus(message->err, "reading " + topic_));
    } else if (message) {
      const bool checkpoint =
          !checkpoints_topic_.empty() && message->partition == 0 &&
          rd_kafka_topic_name(message->rkt) == std::string_view(checkpoints_topic_);
      malpro::Status taken = checkpoint ? TakeCheckpoint(*message) : Take(*message);
      if (!taken.ok()) {
        failed_for_good_ = true;
        return taken;
      }
    }
    const bool batch_ready = ready_through_ >= next_ + replica_batch_events - 1;
    if (!message || batch_ready ||
        Clock::now() - last_apply_ > std::chrono::milliseconds(replica_apply_wait_ms)) {
      malpro::Status applied = Apply();
      if (!applied.ok()) {
        failed_for_good_ = RefusedForGood(applied);
        return applied;
      }
      if (!checkpoints_.empty()) {
        malpro::Status checked = CheckCheckpoints();
        if (!checked.ok()) {
          failed_for_good_ = true;
          return checked;
        }
      }
      Throttle();
      Report();
      if (std::all_of(reached_stop_.begin(), reached_stop_.end(), [](bool b) { return b; }) &&
          !replica_->options_.stop_at.empty()) {
        in_flight_->Drain();
        MALPRO_RETURN_IF_ERROR(in_flight_->Failure());
        finished_ = true;
        Report();
        return malpro::Status::Ok();
      }
    }
  }
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::Take(const rd_kafka_message_t& message) {
  const size_t partition = static_cast<size_t>(message.partition);
  if (!reached_stop_[partition] && message.offset >= replica_->options_.stop_at[partition]) {
    reached_stop_[partition] = true;
  }
  const std::optional<uint64_t> epoch = RecordEpoch(message);
  if (!epoch) {
    return malpro::Status::Conflict(
        errc::kReplicaEventInvalid, "events",
        topic_ + " " + WhereOf(message) + ": the record has no valid epoch header");
  }
  if (KafkaHeader(&message, "fence")) {  // a promotion: lower epochs end here in this partition
    partition_fence_[partition] = std::max(partition_fence_[partition], *epoch);
    return malpro::Status::Ok();
  }
  // A fenced writer's record: after a fence of a later epoch in its partition, or of an epoch
  // below the log's own (docs/replication.md, "A standby: promotion and fencing").
  if (*epoch < partition_fence_[partition] || *epoch < applied_epoch_) {
    ++fenced_records_;
    return malpro::Status::Ok();
  }
  const std::optional<std::string_view> header = KafkaHeader(&message, "sequence");
  const std::optional<uint64_t> sequence =
      header ? ParseSequenceText(*header) : std::optional<uint64_t>();
  if (!sequence) {
    return malpro::Status::Conflict(
        errc::kReplicaEventInvalid, "events",
        topic_ + " " + WhereOf(message) + ": the record has no valid sequence header");
  }
  partition_last_[partition] = std::max(partition_last_[partition], *sequence);
  topic_sequence_ = std::max(topic_sequence_, *sequence);
  read_sequence_ = std::max(read_sequence_, *sequence);
  // What the log holds, and a record read twice (a retried produce on the embedded broker).
  // Of two writers' records of one sequence, the later epoch's is the history.
  if (*sequence < next_) return malpro::Status::Ok();
  if (auto held = pending_.find(*sequence); held != pending_.end()) {
    if (held->second.epoch >= *epoch) return malpro::Status::Ok();
    pending_.erase(held);
  }
  Result<Event> event =
      ParseEventJson(std::string_view(static_cast<const char*>(message.payload), message.len));
  if (!event.ok() || event->sequence != *sequence) {
    return malpro::Status::Conflict(errc::kReplicaEventInvalid, "events",
                                    topic_ + " " + WhereOf(message) + ": the value is not event " +
                                        std::to_string(*sequence) +
                                        (event.ok() ? "" : ": " + event.status().message()));
  }
  PendingEvent& pending = pending_[*sequence];
  pending.epoch = *epoch;
  ReplicatedEvent& replicated = pending.replicated;
  replicated.event = std::move(event).value();
  if (const std::optional<std::string_view> digest = KafkaHeader(&message, "request_digest");
      digest && !digest->empty() && !HashFromHex(*digest, &replicated.request_digest)) {
    return malpro::Status::Conflict(
        errc::kReplicaEventInvalid, "events",
        topic_ + " " + WhereOf(message) + ": the request_digest header is not 64 hex digits");
  }
  while (pending_.contains(ready_through_ + 1)) ++ready_through_;
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::Apply() {
  last_apply_ = Clock::now();
  MALPRO_RETURN_IF_ERROR(in_flight_->Failure());
  while (ready_through_ >= next_) {
    MALPRO_RETURN_IF_ERROR(EnterEpochOf(pending_.begin()->second.epoch));
    if (ready_through_ < next_) break;  // the stale events it dropped left a gap
    std::vector<ReplicatedEvent> batch;
    size_t payload_bytes = 0;
    auto it = pending_.begin();
    // A batch holds one epoch's events: the next epoch is recorded before its first event.
    while (it != pending_.end() && it->first <= ready_through_ &&
           it->second.epoch == applied_epoch_ && batch.size() < replicated_events_max &&
           payload_bytes + it->second.replicated.event.payload.size() <=
               command_payload_bytes_max) {
      MALPRO_ASSERT(it->first == next_ + batch.size());  // pending_ holds next_.. in order
      payload_bytes += it->second.replicated.event.payload.size();
      batch.push_back(std::move(it->second.replicated));
      it = pending_.erase(it);
    }
    const uint64_t last = batch.back().event.sequence;
    recorded_at_us_ = batch.back().event.recorded_at_us;
    // Batches are appended while the next ones are read: the log checks and writes them in
    // order, and the first refusal ends the session (the ones queued after it fail too).
    MALPRO_RETURN_IF_ERROR(in_flight_->AwaitRoom());
    replica_->log_->AppendReplicatedAsync(
        std::move(batch), [in_flight = in_flight_, last](Result<AppendResult> appended) {
          MALPRO_ASSERT(!appended.ok() || appended->last_sequence == last);
          in_flight->Done(appended.status());
        });
    next_ = last + 1;
    made_progress_ = true;
    waiting_since_ = Clock::now();
  }
  if (pending_.empty()) waiting_since_ = Clock::now();
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::EnterEpochOf(uint64_t epoch) {
  if (epoch <= applied_epoch_) return malpro::Status::Ok();
  // The log records the new epoch once every earlier event is in it.
  in_flight_->Drain();
  MALPRO_RETURN_IF_ERROR(in_flight_->Failure());
  MALPRO_RETURN_IF_ERROR(replica_->log_->SetEpoch(WriterEpoch{epoch, next_, "replica"}));
  applied_epoch_ = epoch;
  // Events of lower epochs still waiting are a fenced writer's: never the history.
  std::erase_if(pending_, [&](const auto& entry) { return entry.second.epoch < applied_epoch_; });
  ready_through_ = next_ - 1;
  while (pending_.contains(ready_through_ + 1)) ++ready_through_;
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::TakeCheckpoint(const rd_kafka_message_t& message) {
  const std::string note(static_cast<const char*>(message.payload), message.len);
  const std::string where = checkpoints_topic_ + " " + WhereOf(message);
  Result<SignedNote> signed_note = ParseSignedNote(note, "checkpoint");
  malpro::Status verified = signed_note.ok()
                                ? VerifyNote(*signed_note, *replica_->options_.verifier)
                                : signed_note.status();
  Result<Checkpoint> checkpoint =
      verified.ok() ? ParseCheckpoint(signed_note->text, "checkpoint") : verified;
  if (!checkpoint.ok() || checkpoint->origin != replica_->options_.origin) {
    return malpro::Status::Conflict(errc::kReplicaCheckpointInvalid, "checkpoint",
                                    where + ": not a checkpoint of " + replica_->options_.origin +
                                        " signed by " + replica_->options_.verifier->Text() +
                                        (checkpoint.ok() ? " (origin " + checkpoint->origin + ")"
                                                         : ": " + checkpoint.status().message()));
  }
  const uint64_t epoch = RecordEpoch(message).value_or(0);
  const uint64_t size = checkpoint->size;
  checkpoints_[size] = HeldCheckpoint{std::move(checkpoint).value(), note, epoch};
  return malpro::Status::Ok();
}

malpro::Status Replica::Session::CheckCheckpoints() {
  TlogStore& tree = *replica_->options_.tree;
  const uint64_t size = tree.Size();
  while (!checkpoints_.empty() && checkpoints_.begin()->first <= size) {
    const auto& [checkpoint, note, epoch] = checkpoints_.begin()->second;
    Result<Hash> root = tree.Root(checkpoint.size);
    if (!root.ok()) return root.status();
    if (*root != checkpoint.root && epoch < applied_epoch_) {
      // Signed by a writer that a promotion fenced, over events that never became the history.
      ++fenced_records_;
      checkpoints_.erase(checkpoints_.begin());
      continue;
    }
    if (*root != checkpoint.root) {
      return malpro::Status::Conflict(
          errc::kReplicaCheckpointMismatch, "checkpoint",
          "the signed checkpoint of size " + std::to_string(checkpoint.size) + " on " +
              checkpoints_topic_ + " has root " + HashToHex(checkpoint.root) +
              " but this log's tree has " + HashToHex(*root) +
              ": the primary signed another history than it relayed");
    }
    // Kept as the primary keeps it, so that `audit verify` on the replica checks it too.
    StoredCheckpoint stored{checkpoint.size, WallClockMicros(), {"replicated"}, note};
    if (Result<std::optional<StoredCheckpoint>> kept = tree.CheckpointAt(checkpoint.size);
        kept.ok() && *kept) {
      stored = **kept;
    }
    MALPRO_RETURN_IF_ERROR(tree.PutCheckpoint(stored));
    replica_->ReportCheckpoint(checkpoint.size);
    checkpoints_.erase(checkpoints_.begin());
  }
  return malpro::Status::Ok();
}

void Replica::Session::Throttle() {
  const bool too_many = pending_.size() > replica_pending_events_max;
  if (too_many == paused_) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions_);
  for (int32_t partition = 0; partition < partitions_; ++partition) {
    // The partition that holds the event missing has not reached it: it is never paused.
    if (!too_many || partition_last_[static_cast<size_t>(partition)] >= next_) {
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition);
    }
  }
  if (too_many) {
    (void)rd_kafka_pause_partitions(consumer_.get(), list);
  } else if (pending_.size() <= replica_pending_events_max / 2) {
    (void)rd_kafka_resume_partitions(consumer_.get(), list);
    paused_ = false;
  }
  if (too_many) paused_ = true;
  rd_kafka_topic_partition_list_destroy(list);
}

void Replica::Session::Report() {
  // Caught up once its log holds what the topic held when the session started.
  const uint64_t applied = replica_->log_->Head().sequence;
  if (applied >= start_sequence_) caught_up_ = true;
  if (!pending_.empty() &&
      Clock::now() - waiting_since_ > std::chrono::seconds(replica_gap_report_s)) {
    replica_->RecordError(malpro::Status::Unavailable(
        errc::kKafkaUnavailable,
        "waiting for event " + std::to_string(next_) + ": " + topic_ + " holds event " +
            std::to_string(pending_.begin()->first) + " but not it, for over " +
            std::to_string(replica_gap_report_s) + " s (records lost to retention?)"));
    waiting_since_ = Clock::now();
  }
  replica_->SetState(caught_up_ ? ReplicaState::kFollowing : ReplicaState::kCatchingUp);
  replica_->Report(topic_sequence_, applied, recorded_at_us_, fenced_records_ - reported_fenced_,
                   read_sequence_);
  reported_fenced_ = fenced_records_;
}

Replica::Replica(EventLog* log, ReplicaOptions options) : log_(log), options_(std::move(options)) {}

Replica::~Replica() { Stop(); }

void Replica::Start() {
  MALPRO_ASSERT(!thread_.joinable());
  stopping_.store(false, std::memory_order_release);
  head_at_start_ = log_->Head().sequence;
  thread_ = std::thread([this] { Run(); });
}

void Replica::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Replica::Run() {
  int backoff_ms = relay_retry_backoff_ms_first;
  while (!stopping()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++status_.sessions_started;
      status_.state = ReplicaState::kStarting;
    }
    malpro::Status ended;
    bool for_good = false;
    bool made_progress = false;
    bool finished = false;
    {
      Session session(this);
      ended = session.Run();
      for_good = session.failed_for_good();
      made_progress = session.made_progress();
      finished = session.finished();
    }
    if (finished) {
      SetState(ReplicaState::kFinished);
      return;
    }
    if (stopping()) break;
    RecordError(ended);
    if (for_good) {
      SetState(ReplicaState::kFailed);
      return;  // keeps the state: nothing more is applied until an operator acts
    }
    if (made_progress) backoff_ms = relay_retry_backoff_ms_first;
    std::unique_lock<std::mutex> lock(mutex_);
    status_.state = ReplicaState::kRetrying;
    changed_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stopping(); });
    backoff_ms = std::min(backoff_ms * 2, relay_retry_backoff_ms_max);
  }
  SetState(ReplicaState::kStopped);
}

void Replica::RecordError(const malpro::Status& status) {
  if (status.ok()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  // The code first ("replica_chain_broken: ..."), for docs/error-codes.md.
  status_.last_error = status.error_code().empty() ? status.message()
                                                   : status.error_code() + ": " + status.message();
}

void Replica::SetState(ReplicaState state) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_.state = state;
}

void Replica::Report(uint64_t topic_sequence, uint64_t applied, int64_t recorded_at_us,
                     uint64_t records_fenced, uint64_t read_sequence) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.read_sequence = std::max(status_.read_sequence, read_sequence);
    status_.records_fenced += records_fenced;
    status_.applied_sequence = std::max(status_.applied_sequence, applied);
    status_.topic_sequence = std::max(status_.topic_sequence, topic_sequence);
    if (recorded_at_us != 0) status_.applied_recorded_at_us = recorded_at_us;
  }
  changed_.notify_all();
}

void Replica::ReportCheckpoint(uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++status_.checkpoints_verified;
  status_.last_checkpoint_size = std::max(status_.last_checkpoint_size, size);
}

ReplicaStatus Replica::Status() const {
  const uint64_t head = log_->Head().sequence;
  std::lock_guard<std::mutex> lock(mutex_);
  ReplicaStatus status = status_;
  status.applied_sequence = std::max(status.applied_sequence, head);
  status.topic_sequence = std::max(status.topic_sequence, status.applied_sequence);
  status.lag = status.topic_sequence - status.applied_sequence;
  status.events_applied = head - head_at_start_;
  return status;
}

bool Replica::WaitForApplied(uint64_t sequence, std::chrono::milliseconds timeout) const {
  return log_->WaitForSequence(sequence, timeout);
}

}  // namespace malpro
