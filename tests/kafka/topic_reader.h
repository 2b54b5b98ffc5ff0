// Reads a whole topic back for tests: every partition from its low to its high watermark.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "adapters/kafka/kafka_client.h"

namespace malpro::testing {

struct TopicRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Every record of `topic`, grouped by partition in offset order. Fails the calling test (via
// the returned status) when the topic cannot be read within timeout_ms.
inline Result<std::vector<TopicRecord>> ReadWholeTopic(const std::string& brokers,
                                                       const std::string& topic,
                                                       int timeout_ms = 20'000) {
  KafkaOptions options;
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(
      brokers, options,
      {{"group.id", "malpro-test-reader"}, {"enable.auto.commit", "false"},
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
      return Status::Unavailable("kafka_error", topic + " lost records to retention");
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
      TopicRecord record;
      record.partition = message->partition;
      record.offset = message->offset;
      record.key.assign(static_cast<const char*>(message->key), message->key_len);
      record.value.assign(static_cast<const char*>(message->payload), message->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          record.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      by_partition[record.partition].push_back(record);
      if (record.offset + 1 == end[record.partition]) ++done;
    }
    rd_kafka_message_destroy(message);
  }
  (void)rd_kafka_assign(consumer->get(), nullptr);
  rd_kafka_consumer_close(consumer->get());
  if (done < end.size()) {
    return Status::Unavailable("kafka_unavailable", "timed out reading " + topic);
  }
  std::vector<TopicRecord> records;
  for (auto& [partition, list] : by_partition) {
    records.insert(records.end(), list.begin(), list.end());
  }
  return records;
}

}  // namespace malpro::testing
