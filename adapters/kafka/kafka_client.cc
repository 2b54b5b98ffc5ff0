#include "adapters/kafka/kafka_client.h"

#include <chrono>
#include <limits>
#include <set>

#include "adapters/kafka/kafka_limits.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

// Sets one property; on refusal, names it as the configuration file does.
Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    const std::string field = "kafka.properties." + name;
    return Status::InvalidArgument(errc::kConfigOutOfRange, field, field + ": " + error);
  }
  return Status::Ok();
}

bool IsPassing(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

using Clock = std::chrono::steady_clock;

int MillisecondsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};

}  // namespace

Result<rd_kafka_conf_t*> MakeKafkaConf(const std::string& brokers, const KafkaOptions& options,
                                       const std::vector<KafkaSetting>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status status = SetProperty(conf, "bootstrap.servers", brokers);
  // librdkafka logs to stderr by default. Errors reach the callers as Status instead (the
  // relay's and intake's status, /healthz), and connection noise while a broker is away
  // would drown the program's own output; critical messages still print.
  if (status.ok()) status = SetProperty(conf, "log_level", "2");
  for (const auto& [name, value] : options.properties) {
    if (!status.ok()) break;
    status = SetProperty(conf, name, value);
  }
  for (const auto& [name, value] : settings) {
    if (!status.ok()) break;
    status = SetProperty(conf, name, value);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  return conf;
}

Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf, error, sizeof error);
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes it only on success
    return Status::InvalidArgument(errc::kConfigOutOfRange, "kafka.properties",
                                   std::string("cannot create a Kafka client: ") + error);
  }
  return KafkaHandle(handle);
}

Status KafkaStatus(rd_kafka_resp_err_t error, std::string_view what) {
  const std::string message = std::string(what) + ": " + rd_kafka_err2str(error);
  return Status::Unavailable(IsPassing(error) ? errc::kKafkaUnavailable : errc::kKafkaError,
                             message);
}

Result<int> KafkaPartitionCount(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(client, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t error = rd_kafka_metadata(client, 0, handle, &metadata, timeout_ms);
  rd_kafka_topic_destroy(handle);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(error, "reading the metadata of " + topic);
  }
  Result<int> count = Status::NotFound(errc::kKafkaTopicMissing, "kafka.topic_prefix",
                                       "the cluster has no topic " + topic);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& found = metadata->topics[i];
    if (topic != found.topic) continue;
    if (found.err == RD_KAFKA_RESP_ERR_NO_ERROR && found.partition_cnt > 0) {
      count = found.partition_cnt;
    } else if (found.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
               found.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      count = KafkaStatus(found.err, "reading the metadata of " + topic);
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (count.ok() && *count > kafka_partitions_max) {
    return Status::LimitExceeded(
        errc::kKafkaPartitionsTooMany, "kafka.partitions",
        topic + " has more than " + std::to_string(kafka_partitions_max) + " partitions");
  }
  return count;
}

namespace {

// The topics the cluster knows; none when it does not answer in time.
std::set<std::string> ExistingTopics(rd_kafka_t* client) {
  std::set<std::string> existing;
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(client, 1, nullptr, &metadata, kafka_request_timeout_ms) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return existing;
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      existing.insert(metadata->topics[i].topic);
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return existing;
}

}  // namespace

Status CreateKafkaTopics(const std::string& brokers, const KafkaOptions& options,
                         const std::vector<std::string>& topics, bool compacted) {
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(brokers, options, {});
  if (!conf.ok()) return conf.status();
  Result<KafkaHandle> admin = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
  if (!admin.ok()) return admin.status();
  // Topics the cluster has already are not asked for: not every Kafka-protocol broker answers
  // CreateTopics (librdkafka's mock cluster, `malpro broker`, does not).
  const std::set<std::string> existing = ExistingTopics(admin->get());
  std::vector<rd_kafka_NewTopic_t*> requests;
  Status status;
  for (const std::string& topic : topics) {
    if (existing.contains(topic)) continue;
    char error[512];
    rd_kafka_NewTopic_t* request = rd_kafka_NewTopic_new(
        topic.c_str(), options.partitions, options.replication_factor, error, sizeof error);
    if (request == nullptr) {
      status = Status::InvalidArgument(errc::kConfigOutOfRange, "kafka.partitions",
                                       "cannot create topic " + topic + ": " + error);
      break;
    }
    if (compacted) {
      (void)rd_kafka_NewTopic_set_config(request, "cleanup.policy", "compact");
    }
    requests.push_back(request);
  }
  if (status.ok() && requests.empty()) return status;
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin->get());
  if (status.ok()) {
    rd_kafka_AdminOptions_t* admin_options =
        rd_kafka_AdminOptions_new(admin->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    char error[512];
    (void)rd_kafka_AdminOptions_set_operation_timeout(admin_options, kafka_request_timeout_ms,
                                                      error, sizeof error);
    rd_kafka_CreateTopics(admin->get(), requests.data(), requests.size(), admin_options, queue);
    rd_kafka_AdminOptions_destroy(admin_options);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 2 * kafka_request_timeout_ms);
    if (event == nullptr) {
      status = KafkaStatus(RD_KAFKA_RESP_ERR__TIMED_OUT, "creating topics");
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = KafkaStatus(rd_kafka_event_error(event), "creating topics");
    } else {
      size_t count = 0;
      const rd_kafka_topic_result_t** results =
          rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
      for (size_t i = 0; i < count && status.ok(); ++i) {
        const rd_kafka_resp_err_t error = rd_kafka_topic_result_error(results[i]);
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR ||
            error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          continue;
        }
        status = KafkaStatus(
            error, std::string("creating topic ") + rd_kafka_topic_result_name(results[i]));
      }
    }
    if (event != nullptr) rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
  return status;
}

int32_t KafkaPartitionOf(std::string_view key, int partitions) {
  // The topic handle and opaques are unused by this partitioner; a key is never empty here.
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

std::optional<std::string_view> KafkaHeader(const rd_kafka_message_t* message, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), value == nullptr ? 0 : size);
}

std::optional<uint64_t> ParseSequenceText(std::string_view text) {
  if (text.empty() || text.size() > sequence_header_bytes_max) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value == 0) return std::nullopt;
  return value;
}

std::optional<uint64_t> RecordEpoch(std::optional<std::string_view> epoch_header) {
  if (!epoch_header) return 1;
  return ParseSequenceText(*epoch_header);
}

std::optional<uint64_t> RecordEpoch(const rd_kafka_message_t& message) {
  return RecordEpoch(KafkaHeader(&message, "epoch"));
}

namespace {

// One partition being searched backwards for its last record of epoch >= min_epoch.
struct TailSearch {
  int64_t low = 0;
  int64_t start = 0;  // the first offset of the range being read
  int64_t last = -1;  // the last offset of the partition; -1: empty, nothing to search
  bool done = true;
  bool read_last = false;  // the range's last record arrived
};

// Takes one record of a range being read: the latest record of epoch >= min_epoch becomes the
// partition's tail. Corruption when such a record is neither a fence nor carries a sequence.
Status TakeTail(const rd_kafka_message_t& message, const std::string& topic, uint64_t min_epoch,
                std::vector<TailSearch>* searches, std::vector<PartitionTail>* tails) {
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(message.err, "reading the last records of " + topic);
  }
  const size_t partition = static_cast<size_t>(message.partition);
  if (partition >= searches->size()) return Status::Ok();
  TailSearch& search = (*searches)[partition];
  if (search.done || message.offset < search.start || message.offset > search.last) {
    return Status::Ok();
  }
  if (message.offset == search.last) search.read_last = true;
  const uint64_t epoch = RecordEpoch(message).value_or(0);  // 0: invalid, below every epoch
  if (epoch < min_epoch) return Status::Ok();  // a fenced writer's record (or none valid)
  PartitionTail& tail = (*tails)[partition];
  tail = PartitionTail{};
  tail.epoch = epoch;
  tail.offset = message.offset;
  if (KafkaHeader(&message, "fence")) {
    tail.fence = true;
    tail.writer = std::string(KafkaHeader(&message, "writer").value_or(""));
    return Status::Ok();
  }
  const std::optional<std::string_view> header = KafkaHeader(&message, "sequence");
  const std::optional<uint64_t> sequence = header ? ParseSequenceText(*header) : std::nullopt;
  if (!sequence) {
    return Status::Corruption(topic + "[" + std::to_string(partition) + "] offset " +
                              std::to_string(message.offset) +
                              " has no valid sequence header; the relay publishes into "
                              "a topic only it writes");
  }
  tail.sequence = *sequence;
  tail.hash = std::string(KafkaHeader(&message, "hash").value_or(""));
  return Status::Ok();
}

// Reads each unfinished search's range [start, last] once.
Status ReadTailRanges(rd_kafka_t* consumer, const std::string& topic, uint64_t min_epoch,
                      Clock::time_point deadline, std::vector<TailSearch>* searches,
                      std::vector<PartitionTail>* tails) {
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> assignment(
      rd_kafka_topic_partition_list_new(static_cast<int>(searches->size())));
  int remaining = 0;
  for (size_t partition = 0; partition < searches->size(); ++partition) {
    TailSearch& search = (*searches)[partition];
    if (search.done) continue;
    search.read_last = false;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(),
                                      static_cast<int32_t>(partition))
        ->offset = search.start;
    ++remaining;
  }
  if (remaining == 0) return Status::Ok();
  const rd_kafka_resp_err_t error = rd_kafka_assign(consumer, assignment.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(error, "assigning " + topic);
  Status status;
  while (remaining > 0 && status.ok()) {
    const int wait_ms = MillisecondsLeft(deadline);
    if (wait_ms == 0) {
      status = KafkaStatus(RD_KAFKA_RESP_ERR__TIMED_OUT, "reading the last records of " + topic);
      break;
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, wait_ms);
    if (message == nullptr) continue;
    const size_t partition = static_cast<size_t>(message->partition);
    const bool was_read = partition < searches->size() && (*searches)[partition].read_last;
    status = TakeTail(*message, topic, min_epoch, searches, tails);
    if (partition < searches->size() && !was_read && (*searches)[partition].read_last) {
      --remaining;
    }
    rd_kafka_message_destroy(message);
  }
  (void)rd_kafka_assign(consumer, nullptr);
  return status;
}

}  // namespace

Result<std::vector<PartitionTail>> ReadPartitionTails(const std::string& brokers,
                                                      const KafkaOptions& options,
                                                      const std::string& topic, int partitions,
                                                      int timeout_ms, uint64_t min_epoch) {
  // A consumer that only assigns partitions: it joins no group and commits nothing.
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(brokers, options,
                                                {{"group.id", "malpro-relay-resume"},
                                                 {"enable.auto.commit", "false"},
                                                 {"enable.auto.offset.store", "false"},
                                                 {"enable.partition.eof", "false"}});
  if (!conf.ok()) return conf.status();
  Result<KafkaHandle> consumer = NewKafkaClient(RD_KAFKA_CONSUMER, *conf);
  if (!consumer.ok()) return consumer.status();
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<PartitionTail> tails(static_cast<size_t>(partitions));
  std::vector<TailSearch> searches(static_cast<size_t>(partitions));
  for (int partition = 0; partition < partitions; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        consumer->get(), topic.c_str(), partition, &low, &high, MillisecondsLeft(deadline));
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaStatus(error,
                         "reading the offsets of " + topic + "[" + std::to_string(partition) + "]");
    }
    if (high <= low) continue;  // empty (or emptied by retention)
    searches[static_cast<size_t>(partition)] = TailSearch{low, high - 1, high - 1, false, false};
  }
  // The last record first; only past a fenced writer's records does the search go further
  // back, each range 64 times the one before.
  Status status;
  for (int64_t back = 1; status.ok(); back *= 64) {
    status = ReadTailRanges(consumer->get(), topic, min_epoch, deadline, &searches, &tails);
    bool searching = false;
    for (size_t partition = 0; partition < searches.size() && status.ok(); ++partition) {
      TailSearch& search = searches[partition];
      if (search.done) continue;
      if (tails[partition].offset >= 0 || search.start == search.low) {
        search.done = true;
        continue;
      }
      if (back >= relay_fenced_records_max) {
        status = Status::Conflict(errc::kKafkaTopicFenced, "kafka.topic_prefix",
                                  topic + "[" + std::to_string(partition) + "] ends with over " +
                                      std::to_string(relay_fenced_records_max) +
                                      " records of epochs below " + std::to_string(min_epoch));
        break;
      }
      search.start = std::max(search.low, search.last + 1 - back * 64);
      searching = true;
    }
    if (!searching) break;
  }
  rd_kafka_consumer_close(consumer->get());
  if (!status.ok()) return status;
  return tails;
}

}  // namespace malpro
