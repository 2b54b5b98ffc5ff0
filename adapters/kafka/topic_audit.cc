#include "adapters/kafka/topic_audit.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>

#include "adapters/kafka/kafka_client.h"
#include "engine/envelope.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {

namespace {

// A consumed message's partition, offset, key, value and headers.
TopicRecord RecordOf(const rd_kafka_message_t& message) {
  TopicRecord record;
  record.partition = message.partition;
  record.offset = message.offset;
  record.key.assign(static_cast<const char*>(message.key), message.key_len);
  record.value.assign(static_cast<const char*>(message.payload), message.len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers[name] = std::string(static_cast<const char*>(value), size);
    }
  }
  return record;
}

}  // namespace

// Every record of `topic`, grouped by partition in offset order. Fails the calling test (via
// the returned status) when the topic cannot be read within timeout_ms.
Result<std::vector<TopicRecord>> ReadWholeTopic(const std::string& brokers,
                                                const KafkaOptions& options,
                                                const std::string& topic, int timeout_ms) {
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(brokers, options,
                                                {{"group.id", "malpro-audit-reader"},
                                                 {"enable.auto.commit", "false"},
                                                 {"enable.partition.eof", "false"}});
  if (!conf.ok()) return conf.status();
  Result<KafkaHandle> consumer = NewKafkaClient(RD_KAFKA_CONSUMER, *conf);
  if (!consumer.ok()) return consumer.status();
  Result<int> partitions = KafkaPartitionCount(consumer->get(), topic, timeout_ms);
  if (!partitions.ok()) return partitions.status();
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(*partitions);
  std::map<int32_t, int64_t> end;  // partition -> high watermark
  for (int32_t partition = 0; partition < *partitions; ++partition) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        consumer->get(), topic.c_str(), partition, &low, &high, timeout_ms);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return KafkaStatus(error, "watermarks of " + topic);
    }
    if (low > 0) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return Status::Unavailable(errc::kKafkaError, topic + " lost records to retention");
    }
    if (high == 0) continue;
    end[partition] = high;
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = 0;
  }
  (void)rd_kafka_assign(consumer->get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  std::map<int32_t, std::vector<TopicRecord>> by_partition;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  for (const auto& [partition, high] : end) done += high == 0 ? 1 : 0;
  while (done < end.size() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer->get(), 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      TopicRecord record = RecordOf(*message);
      by_partition[record.partition].push_back(record);
      if (record.offset + 1 == end[record.partition]) ++done;
    }
    rd_kafka_message_destroy(message);
  }
  (void)rd_kafka_assign(consumer->get(), nullptr);
  rd_kafka_consumer_close(consumer->get());
  if (done < end.size()) {
    return Status::Unavailable(errc::kKafkaUnavailable, "timed out reading " + topic);
  }
  std::vector<TopicRecord> records;
  for (auto& [partition, list] : by_partition) {
    records.insert(records.end(), list.begin(), list.end());
  }
  return records;
}

namespace {

std::string Header(const TopicRecord& record, const std::string& name) {
  auto found = record.headers.find(name);
  return found == record.headers.end() ? std::string() : found->second;
}

// The format_version header names the value's version; records published before the header
// existed have none (docs/kafka-records.md).
bool FormatVersionAgrees(const TopicRecord& record, const Event& event) {
  auto found = record.headers.find("format_version");
  return found == record.headers.end() || found->second == std::to_string(event.format_version);
}

}  // namespace

VerifyReport VerifyTopicRecords(const std::vector<TopicRecord>& records) {
  VerifyReport report;
  std::vector<Event> events;
  events.reserve(records.size());
  std::map<std::pair<int32_t, std::string>, uint64_t> last_in_partition;  // per stream
  for (const TopicRecord& record : records) {
    const std::string where = "partition " + std::to_string(record.partition) + " offset " +
                              std::to_string(record.offset);
    Result<Event> event = ParseEventJson(record.value);
    if (!event.ok()) {
      return VerifyFailure(report, 0,
                           where + ": the value is not an event: " + event.status().message());
    }
    const uint64_t sequence = event->sequence;
    if (Header(record, "sequence") != std::to_string(sequence) ||
        Header(record, "type") != event->type || Header(record, "hash") != HashToHex(event->hash) ||
        Header(record, "previous_hash") != HashToHex(event->previous_hash) ||
        !FormatVersionAgrees(record, *event) || record.key != event->stream_id) {
      return VerifyFailure(report, sequence, where + ": headers or key disagree with the value");
    }
    const std::string canonical = EncodeCanonical(*event);
    if (!IsWellFormedCanonical(canonical) ||
        ComputeEventHash(event->previous_hash, canonical) != event->hash) {
      return VerifyFailure(report, sequence, "content does not match its hash");
    }
    uint64_t& last = last_in_partition[{record.partition, event->stream_id}];
    if (sequence <= last) {
      return VerifyFailure(report, sequence,
                           "stream " + event->stream_id + " out of order in partition " +
                               std::to_string(record.partition));
    }
    last = sequence;
    events.push_back(std::move(event).value());
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.sequence < b.sequence; });
  Hash previous = zero_hash;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    const uint64_t expected = i + 1;
    if (event.sequence != expected) {
      if (event.sequence < expected) {
        return VerifyFailure(report, event.sequence, "published more than once");
      }
      return VerifyFailure(report, expected, "missing");
    }
    if (event.previous_hash != previous) {
      return VerifyFailure(report, event.sequence,
                           "previous hash does not link to the event before");
    }
    previous = event.hash;
    ++report.events_checked;
    report.verified_head = ChainHead{event.sequence, event.hash};
  }
  return report;
}

}  // namespace malpro
