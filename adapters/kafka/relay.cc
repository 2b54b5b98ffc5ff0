#include "adapters/kafka/relay.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "adapters/kafka/kafka_limits.h"
#include "engine/await.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// Outside the anonymous namespace: Relay::Session holds one (GCC's -Wsubobject-linkage).
struct RelayTopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};

const char* RelayStateName(RelayState state) {
  switch (state) {
    case RelayState::kStopped:
      return "stopped";
    case RelayState::kStarting:
      return "starting";
    case RelayState::kPublishing:
      return "publishing";
    case RelayState::kStalled:
      return "stalled";
    case RelayState::kRetrying:
      return "retrying";
    case RelayState::kFenced:
      return "fenced";
  }
  return "unknown";
}

// One connection of the relay to the cluster: from reading the topic's tail to a failure or
// Stop(). Everything here runs on the relay thread, delivery reports included (they are
// served by rd_kafka_poll on this thread), so the window needs no lock.
class Relay::Session {
 public:
  explicit Session(Relay* relay) : relay_(relay) {}
  ~Session() {
    topic_.reset();  // before the producer that owns it
    producer_.reset();
  }

  // Returns OK when stopped, else the error that ended the session.
  malpro::Status Run();
  bool made_progress() const { return made_progress_; }

 private:
  malpro::Status Open();
  // Reads the epochs topic's last record: kafka_relay_fenced when it names another writer of
  // this epoch or a later one.
  malpro::Status ReadEpochs();
  // Asks for the epochs topic's end offset, and reads it again when it moved.
  malpro::Status CheckFence();
  // The periodic fence check, and the one that confirms acknowledged events to waiting
  // synchronous writes.
  malpro::Status ConfirmPublished();
  malpro::Status CheckTails(const std::vector<PartitionTail>& tails) const;
  malpro::Status PublishBatch();
  malpro::Status Publish(const Event& event, const std::string& request_digest);
  // The request_digest header of each of `events`: the digest of its command's idempotency
  // key on the command's first event, else empty (docs/kafka-records.md, section 2). One
  // batched read of the keys.
  malpro::Status RequestDigestsOf(const std::vector<Event>& events,
                                  std::vector<std::string>* digests);
  void Acknowledge(uint64_t sequence);
  void ReportProgress();
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  static void OnError(rd_kafka_t* handle, int error, const char* reason, void* opaque);

  Relay* const relay_;
  KafkaHandle producer_;
  KafkaHandle fence_client_;  // asks for the epochs topic's end offset, and nothing else
  std::unique_ptr<rd_kafka_topic_t, RelayTopicDeleter> topic_;
  int partitions_ = 0;
  std::vector<uint64_t> topic_last_;  // per partition: the last sequence the topic held
  uint64_t published_ = 0;            // every sequence up to it is in the topic
  uint64_t next_ = 1;                 // the next sequence to read from the log
  std::deque<bool> acknowledged_;     // [i]: whether published_ + 1 + i is in the topic
  uint64_t delivered_ = 0;            // records acknowledged, not yet counted in the status
  uint64_t reported_published_ = 0;   // what the relay's status shows
  bool reported_stalled_ = false;
  malpro::Status failure_;  // a refused record or a fatal producer error
  std::string last_key_;    // the idempotency key of the event published before
  WriterEpoch epoch_;       // the log's, read when the session opens
  std::string epoch_text_;  // its `epoch` header
  int64_t epochs_end_ = 0;  // the epochs topic's end offset at the last check
  uint64_t confirmed_ = 0;  // what the last fence check confirmed
  Clock::time_point last_fence_check_ = Clock::now();
  Clock::time_point last_progress_ = Clock::now();
  bool stalled_ = false;
  bool made_progress_ = false;
};

malpro::Status Relay::Session::Open() {
  const RelayOptions& options = relay_->options_;
  const std::string topic = options.kafka.EventsTopic();
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(
      options.brokers, options.kafka,
      {{"enable.idempotence", "true"},
       // Never give up on a record: one that timed out could leave a gap in its partition,
       // which the resume rule cannot see. An unreachable cluster is retried forever.
       {"message.timeout.ms", "0"},
       {"queue.buffering.max.messages", std::to_string(relay_window_events)},
       // A synchronous write waits for its record: no lingering then.
       {"linger.ms", options.kafka.synchronous ? "0" : "5"}});
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(*conf, this);
  rd_kafka_conf_set_dr_msg_cb(*conf, &Session::OnDelivery);
  rd_kafka_conf_set_error_cb(*conf, &Session::OnError);
  Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(producer).value();
  Result<int> partitions = KafkaPartitionCount(producer_.get(), topic, kafka_request_timeout_ms);
  if (!partitions.ok()) return partitions.status();
  partitions_ = *partitions;
  // The fence checks go on a connection of their own: behind the produce requests, each
  // waited about 40 ms (the broker's answers held back for delayed acknowledgements).
  Result<rd_kafka_conf_t*> fence_conf = MakeKafkaConf(options.brokers, options.kafka, {});
  if (!fence_conf.ok()) return fence_conf.status();
  Result<KafkaHandle> fence_client = NewKafkaClient(RD_KAFKA_PRODUCER, *fence_conf);
  if (!fence_client.ok()) return fence_client.status();
  fence_client_ = std::move(fence_client).value();
  Result<WriterEpoch> epoch = relay_->log_->Epoch();
  if (!epoch.ok()) return epoch.status();
  epoch_ = std::move(epoch).value();
  epoch_text_ = std::to_string(epoch_.epoch);
  relay_->SetEpoch(epoch_.epoch);
  MALPRO_RETURN_IF_ERROR(ReadEpochs());
  topic_.reset(rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr));
  Result<std::vector<PartitionTail>> tails = ReadPartitionTails(
      options.brokers, options.kafka, topic, partitions_, relay_tail_read_timeout_ms, epoch_.epoch);
  if (!tails.ok()) return tails.status();
  MALPRO_RETURN_IF_ERROR(CheckTails(*tails));
  // What the epoch's first event follows was in the topic before the promotion's fences.
  const uint64_t before_epoch = epoch_.first_sequence - 1;
  uint64_t lowest = UINT64_MAX;
  uint64_t highest = 0;
  for (const PartitionTail& tail : *tails) {
    const uint64_t last = std::max(tail.sequence, before_epoch);
    topic_last_.push_back(last);
    lowest = std::min(lowest, last);
    highest = std::max(highest, last);
  }
  // Every partition holds a prefix of its events, and a session never had more than the
  // window unacknowledged, so everything up to here is in the topic (docs/kafka-records.md).
  published_ = std::max(lowest, highest > relay_window_events ? highest - relay_window_events : 0);
  confirmed_ = published_;
  next_ = published_ + 1;
  reported_published_ = published_;
  relay_->Report(published_, 0, RelayState::kPublishing);
  return malpro::Status::Ok();
}

// The topic must continue this log: its last records may not lie beyond the log's head, and
// each must carry the hash the log has for its sequence (else it is another log's topic).
malpro::Status Relay::Session::CheckTails(const std::vector<PartitionTail>& tails) const {
  const uint64_t head = relay_->log_->Head().sequence;
  for (size_t partition = 0; partition < tails.size(); ++partition) {
    const PartitionTail& tail = tails[partition];
    if (tail.sequence == 0) continue;  // empty, or this epoch's fence
    const std::string where =
        relay_->options_.kafka.EventsTopic() + "[" + std::to_string(partition) + "]";
    if (tail.sequence > head) {
      return malpro::Status::Conflict(errc::kKafkaTopicAhead, "kafka.topic_prefix",
                                      where + " holds sequence " + std::to_string(tail.sequence) +
                                          " but the log ends at " + std::to_string(head) +
                                          ": the topic belongs to another log");
    }
    Result<std::vector<Event>> event = relay_->log_->Read(tail.sequence, 1);
    if (!event.ok()) return event.status();
    if (event->empty() || HashToHex(event->front().hash) != tail.hash) {
      return malpro::Status::Conflict(
          errc::kKafkaTopicMismatch, "kafka.topic_prefix",
          where + " ends with sequence " + std::to_string(tail.sequence) +
              " whose hash differs from the log's: the topic belongs to another log");
    }
  }
  return malpro::Status::Ok();
}

malpro::Status Relay::Session::Run() {
  MALPRO_RETURN_IF_ERROR(Open());
  relay_->Confirm(confirmed_);
  while (!relay_->stopping()) {
    rd_kafka_poll(producer_.get(), 0);
    ReportProgress();
    if (!failure_.ok()) return failure_;
    MALPRO_RETURN_IF_ERROR(ConfirmPublished());
    relay_->ExpireWaiters();
    const uint64_t in_flight = next_ - 1 - published_;
    if (next_ <= relay_->log_->Head().sequence && in_flight < relay_window_events) {
      malpro::Status status = PublishBatch();
      if (!status.ok() && !relay_->stopping()) return status;
    } else if (in_flight > 0) {
      rd_kafka_poll(producer_.get(), relay_poll_wait_ms);
    } else {
      (void)relay_->log_->WaitForSequence(next_, std::chrono::milliseconds(relay_idle_wait_ms));
    }
  }
  // Stopping: give the records in flight a bounded time to be acknowledged. flush serves
  // the delivery reports, so the published sequence is exact afterwards.
  (void)rd_kafka_flush(producer_.get(), relay_stop_flush_ms);
  ReportProgress();
  return malpro::Status::Ok();
}

malpro::Status Relay::Session::ReadEpochs() {
  const RelayOptions& options = relay_->options_;
  const std::string topic = options.kafka.EpochsTopic();
  // No epochs topic (a cluster that creates none by itself, where it could not be created):
  // no promotion has written one. The checks go on, and see it once one does.
  Result<int> exists = KafkaPartitionCount(fence_client_.get(), topic, kafka_request_timeout_ms);
  if (!exists.ok() && exists.status().error_code() == errc::kKafkaTopicMissing) {
    last_fence_check_ = Clock::now();
    return malpro::Status::Ok();
  }
  Result<std::vector<PartitionTail>> tails =
      ReadPartitionTails(options.brokers, options.kafka, topic, 1, relay_tail_read_timeout_ms);
  if (!tails.ok()) return tails.status();
  const PartitionTail& last = tails->front();
  last_fence_check_ = Clock::now();
  if (last.offset < 0) return malpro::Status::Ok();  // never promoted
  epochs_end_ = std::max(epochs_end_, last.offset + 1);
  if (last.epoch > epoch_.epoch || (last.epoch == epoch_.epoch && last.writer != epoch_.writer)) {
    return malpro::Status::Conflict(
        errc::kKafkaRelayFenced, "kafka",
        topic + " says epoch " + std::to_string(last.epoch) + " belongs to writer \"" +
            last.writer + "\" (promoted), not to this log (epoch " + epoch_text_ + ", writer \"" +
            epoch_.writer +
            "\"): this primary is fenced, publishes nothing more and refuses "
            "writes; send them to the promoted primary");
  }
  return malpro::Status::Ok();
}

malpro::Status Relay::Session::CheckFence() {
  int64_t low = 0;
  int64_t high = 0;
  const std::string topic = relay_->options_.kafka.EpochsTopic();
  const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
      fence_client_.get(), topic.c_str(), 0, &low, &high, kafka_request_timeout_ms);
  if (error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    high = 0;  // no epochs topic yet: never promoted
  } else if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(error, "reading the end offset of " + topic);
  }
  last_fence_check_ = Clock::now();
  if (high == epochs_end_) return malpro::Status::Ok();
  return ReadEpochs();
}

malpro::Status Relay::Session::ConfirmPublished() {
  const uint64_t acknowledged = published_;
  const bool waited_for = acknowledged > confirmed_ && relay_->HasWaiters();
  if (!waited_for &&
      Clock::now() - last_fence_check_ < std::chrono::milliseconds(relay_fence_check_ms)) {
    return malpro::Status::Ok();
  }
  MALPRO_RETURN_IF_ERROR(CheckFence());
  // The check began after `acknowledged` was in the topic: a promotion after it comes later,
  // and its fences follow these records in every partition.
  if (acknowledged > confirmed_) {
    confirmed_ = acknowledged;
    relay_->Confirm(confirmed_);
  }
  return malpro::Status::Ok();
}

malpro::Status Relay::Session::PublishBatch() {
  const uint64_t in_flight = next_ - 1 - published_;
  const size_t limit = static_cast<size_t>(
      std::min<uint64_t>(relay_read_batch_events, relay_window_events - in_flight));
  Result<std::vector<Event>> events = relay_->log_->Read(next_, limit);
  if (!events.ok()) return events.status();
  std::vector<std::string> digests;
  MALPRO_RETURN_IF_ERROR(RequestDigestsOf(*events, &digests));
  for (size_t i = 0; i < events->size(); ++i) {
    const Event& event = (*events)[i];
    MALPRO_ASSERT(event.sequence == next_);
    MALPRO_RETURN_IF_ERROR(Publish(event, digests[i]));
    next_ = event.sequence + 1;
  }
  return malpro::Status::Ok();
}

malpro::Status Relay::Session::Publish(const Event& event, const std::string& request_digest) {
  const int32_t partition = KafkaPartitionOf(event.stream_id, partitions_);
  acknowledged_.push_back(false);
  if (event.sequence <= topic_last_[static_cast<size_t>(partition)]) {
    Acknowledge(event.sequence);  // the topic has it already: its partition holds a prefix
    return malpro::Status::Ok();
  }
  JsonWriter writer;
  WriteEventJson(writer, event, PayloadForm::kString);
  const std::string value = writer.Take();
  const std::string sequence = std::to_string(event.sequence);
  const std::string hash = HashToHex(event.hash);
  const std::string previous_hash = HashToHex(event.previous_hash);
  const std::string format_version = std::to_string(event.format_version);
  // The headers of docs/kafka-records.md, section 2; request_digest only where there is one.
  rd_kafka_headers_t* headers = rd_kafka_headers_new(7);
  auto add = [headers](const char* name, const std::string& value) {
    (void)rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
  };
  add("sequence", sequence);
  add("type", event.type);
  add("hash", hash);
  add("previous_hash", previous_hash);
  add("format_version", format_version);
  add("epoch", epoch_text_);
  if (!request_digest.empty()) add("request_digest", request_digest);
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(relay_stop_flush_ms);
  while (true) {
    const rd_kafka_resp_err_t error = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(event.stream_id.data(), event.stream_id.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(event.sequence))),
        RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return malpro::Status::Ok();
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_headers_destroy(headers);  // kept by the producer only when it took the record
      acknowledged_.pop_back();
      return KafkaStatus(error, "producing sequence " + sequence);
    }
    // The producer's queue is full: serve delivery reports until it has room. Bounded, so
    // that Stop() is noticed; the caller then retries the same event.
    rd_kafka_poll(producer_.get(), relay_poll_wait_ms);
    ReportProgress();
    if (relay_->stopping() || !failure_.ok() || Clock::now() > deadline) {
      rd_kafka_headers_destroy(headers);
      acknowledged_.pop_back();
      return failure_.ok() ? malpro::Status::Unavailable(errc::kKafkaUnavailable,
                                                         "the producer queue stayed full")
                           : failure_;
    }
  }
}

malpro::Status Relay::Session::RequestDigestsOf(const std::vector<Event>& events,
                                                std::vector<std::string>* digests) {
  // A command's events are consecutive and share its key: one lookup per command.
  digests->assign(events.size(), std::string());
  std::vector<size_t> firsts;
  std::vector<std::string_view> keys;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& key = events[i].idempotency_key;
    if (!key.empty() && key != last_key_) {
      firsts.push_back(i);
      keys.push_back(key);
    }
    last_key_ = key;
  }
  std::vector<std::optional<IdempotencyEntry>> entries;
  MALPRO_RETURN_IF_ERROR(relay_->log_->LookupIdempotencyMany(keys, &entries));
  for (size_t j = 0; j < firsts.size(); ++j) {
    // An expired key (idempotency_retention_days) has no record here either: none to carry.
    const std::optional<IdempotencyEntry>& entry = entries[j];
    const Event& event = events[firsts[j]];
    if (entry && entry->first_sequence == event.sequence) {
      (*digests)[firsts[j]] = HashToHex(entry->request_digest);
    }
  }
  return malpro::Status::Ok();
}

void Relay::Session::Acknowledge(uint64_t sequence) {
  MALPRO_ASSERT(sequence > published_);
  const uint64_t index = sequence - published_ - 1;
  MALPRO_ASSERT(index < acknowledged_.size());
  acknowledged_[index] = true;
  while (!acknowledged_.empty() && acknowledged_.front()) {
    acknowledged_.pop_front();
    ++published_;
  }
}

void Relay::Session::ReportProgress() {
  const Clock::time_point now = Clock::now();
  const bool waiting = next_ - 1 > published_;
  const bool advanced = published_ != reported_published_;
  if (advanced || !waiting) {
    last_progress_ = now;
    stalled_ = false;
  } else if (!stalled_ &&
             now - last_progress_ > std::chrono::milliseconds(relay_->options_.stall_after_ms)) {
    stalled_ = true;
  }
  if (advanced || stalled_ != reported_stalled_) {
    made_progress_ = made_progress_ || delivered_ > 0;
    relay_->Report(published_, delivered_,
                   stalled_ ? RelayState::kStalled : RelayState::kPublishing);
    reported_published_ = published_;
    reported_stalled_ = stalled_;
    delivered_ = 0;
  }
}

void Relay::Session::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* session = static_cast<Session*>(opaque);
  const uint64_t sequence = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message->_private));
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A record the producer gave up on: later records of its partition may be in the topic,
    // so the session must end and resume from the topic.
    if (session->failure_.ok()) {
      session->failure_ =
          KafkaStatus(message->err, "publishing sequence " + std::to_string(sequence));
    }
    return;
  }
  ++session->delivered_;
  session->Acknowledge(sequence);
}

void Relay::Session::OnError(rd_kafka_t* handle, int error, const char* reason, void* opaque) {
  auto* session = static_cast<Session*>(opaque);
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    const rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(handle, text, sizeof text);
    if (session->failure_.ok()) {
      session->failure_ = KafkaStatus(fatal, std::string("fatal producer error: ") + text);
    }
    return;
  }
  // Passing trouble (a broker away, a dropped connection): the producer retries by itself.
  session->relay_->RecordError(KafkaStatus(static_cast<rd_kafka_resp_err_t>(error), reason));
}

Relay::Relay(EventLog* log, RelayOptions options) : log_(log), options_(std::move(options)) {}

Relay::~Relay() { Stop(); }

void Relay::Start() {
  MALPRO_ASSERT(!thread_.joinable());
  stopping_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
}

void Relay::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Relay::Run() {
  int backoff_ms = relay_retry_backoff_ms_first;
  while (!stopping()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++status_.sessions_started;
      status_.state = RelayState::kStarting;
    }
    bool made_progress = false;
    malpro::Status ended;
    {
      Session session(this);
      ended = session.Run();
      made_progress = session.made_progress();
    }
    if (stopping()) break;
    RecordError(ended);
    if (ended.error_code() == errc::kKafkaRelayFenced) {
      MarkFenced(ended);
      return;  // for good: only a restart after an operator's decision reads the epochs again
    }
    if (made_progress) backoff_ms = relay_retry_backoff_ms_first;
    SetState(RelayState::kRetrying);
    // Waiting synchronous writes time out meanwhile.
    const Clock::time_point retry_at = Clock::now() + std::chrono::milliseconds(backoff_ms);
    while (!stopping() && Clock::now() < retry_at) {
      ExpireWaiters();
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(relay_idle_wait_ms),
                        [this] { return stopping(); });
    }
    backoff_ms = std::min(backoff_ms * 2, relay_retry_backoff_ms_max);
  }
  SetState(RelayState::kStopped);
  ExpireWaiters(malpro::Status::Unavailable(errc::kKafkaNotAcknowledged,
                                            "the relay stopped before the cluster acknowledged"));
}

void Relay::SetEpoch(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_.epoch = epoch;
}

void Relay::MarkFenced(const malpro::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fenced_ = status;
    status_.state = RelayState::kFenced;
  }
  changed_.notify_all();
  ExpireWaiters(status);
}

malpro::Status Relay::Fenced() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fenced_;
}

void Relay::Confirm(uint64_t published) {
  std::vector<std::function<void(malpro::Status)>> answered;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.confirmed_sequence = std::max(status_.confirmed_sequence, published);
    auto end = waiters_.upper_bound(status_.confirmed_sequence);
    for (auto it = waiters_.begin(); it != end; ++it)
      answered.push_back(std::move(it->second.done));
    waiters_.erase(waiters_.begin(), end);
  }
  for (auto& done : answered) done(malpro::Status::Ok());
}

bool Relay::HasWaiters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !waiters_.empty();
}

void Relay::ExpireWaiters(const malpro::Status& status) {
  std::vector<std::pair<uint64_t, std::function<void(malpro::Status)>>> answered;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (waiters_.empty()) return;
    const Clock::time_point now = Clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (status.ok() && it->second.deadline > now) {
        ++it;
        continue;
      }
      answered.emplace_back(it->first, std::move(it->second.done));
      it = waiters_.erase(it);
    }
  }
  for (auto& [sequence, done] : answered) {
    done(!status.ok() ? status
                      : malpro::Status::Unavailable(
                            errc::kKafkaNotAcknowledged,
                            "written to the log as sequence " + std::to_string(sequence) +
                                " but not acknowledged by the Kafka cluster within "
                                "kafka.synchronous_timeout_ms; it may not survive a failover: "
                                "retry with the same Idempotency-Key"));
  }
}

void Relay::WhenConfirmed(uint64_t sequence, std::chrono::steady_clock::time_point deadline,
                          std::function<void(malpro::Status)> done) {
  malpro::Status answer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!fenced_.ok()) {
      answer = fenced_;
    } else if (status_.confirmed_sequence >= sequence) {
      answer = malpro::Status::Ok();
    } else if (stopping()) {
      answer = malpro::Status::Unavailable(errc::kKafkaNotAcknowledged,
                                           "the relay is stopping: not acknowledged");
    } else {
      waiters_.emplace(sequence, Waiter{deadline, std::move(done)});
      return;
    }
  }
  done(answer);
}

malpro::Status Relay::WaitForConfirmed(uint64_t sequence,
                                       std::chrono::steady_clock::time_point deadline) {
  return AwaitStatus([&](std::function<void(malpro::Status)> done) {
    WhenConfirmed(sequence, deadline, std::move(done));
  });
}

void Relay::RecordError(const malpro::Status& status) {
  if (status.ok()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  status_.last_error = status.message();
}

void Relay::SetState(RelayState state) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.state = state;
  }
  changed_.notify_all();
}

bool Relay::WaitUntilStarted(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return status_.state != RelayState::kStarting && status_.state != RelayState::kStopped;
  });
}

void Relay::Report(uint64_t published, uint64_t delivered, RelayState state) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.published_sequence = published;
    status_.events_published += delivered;
    status_.state = state;
  }
  changed_.notify_all();
}

RelayStatus Relay::Status() const {
  const uint64_t head = log_->Head().sequence;
  std::lock_guard<std::mutex> lock(mutex_);
  RelayStatus status = status_;
  status.head_sequence = std::max(head, status.published_sequence);
  status.lag = status.head_sequence - status.published_sequence;
  return status;
}

bool Relay::WaitForPublished(uint64_t sequence, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return status_.published_sequence >= sequence; });
}

}  // namespace malpro
