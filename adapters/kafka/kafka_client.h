// Plumbing shared by the Kafka adapter's clients: configuration, handles, errors, topics and
// the partition of a key. librdkafka errors become Status here, at the edge.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "engine/result.h"

namespace malpro {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

// librdkafka property name and value.
using KafkaSetting = std::pair<std::string, std::string>;

// A configuration with bootstrap.servers = `brokers`, then options.properties, then
// `settings` (which win). InvalidArgument naming the property ("kafka.properties.NAME") when
// librdkafka refuses one. The caller owns the result (or hands it to NewKafkaClient).
Result<rd_kafka_conf_t*> MakeKafkaConf(const std::string& brokers, const KafkaOptions& options,
                                       const std::vector<KafkaSetting>& settings);

// Creates a client; takes ownership of `conf` in every case.
Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, rd_kafka_conf_t* conf);

// Unavailable "kafka_unavailable" for errors that pass (timeouts, transport, no leader),
// else Unavailable "kafka_error"; the message names `what` and librdkafka's description.
Status KafkaStatus(rd_kafka_resp_err_t error, std::string_view what);

// The partition count of `topic`. NotFound "kafka_topic_missing" when the cluster does not
// know it; Unavailable when the cluster does not answer within timeout_ms.
Result<int> KafkaPartitionCount(rd_kafka_t* client, const std::string& topic, int timeout_ms);

// Creates `topics` on a real cluster with the admin API (CreateTopics) with the configured
// partitions and replication factor, compacted (cleanup.policy=compact) when `compacted`. A
// topic that already exists is left as it is.
Status CreateKafkaTopics(const std::string& brokers, const KafkaOptions& options,
                         const std::vector<std::string>& topics, bool compacted = false);

// The partition a relayed record goes to: (murmur2(key) & 0x7fffffff) mod partitions, the rule
// of Kafka's Java client, so that every client agrees where a stream lives.
int32_t KafkaPartitionOf(std::string_view key, int partitions);

// A header's value, if the message has it (the last one when repeated).
std::optional<std::string_view> KafkaHeader(const rd_kafka_message_t* message, const char* name);

// The last record of one partition as the relay wrote it: its `sequence` and `hash` headers,
// or a promotion's fence (docs/replication.md, "A standby: promotion and fencing").
struct PartitionTail {
  uint64_t sequence = 0;  // 0: the partition holds no such record, or it is a fence
  std::string hash;       // lowercase hex
  uint64_t epoch = 0;     // its `epoch` header; 1 when it has none
  bool fence = false;     // a fence record: no event, the start of `epoch` in this partition
  std::string writer;     // a fence's `writer` header: the promoted writer's name
  int64_t offset = -1;    // -1: the partition holds no record of epoch >= min_epoch
};

// For each partition of `topic` (0..partitions-1), its last record of epoch >= min_epoch:
// records of lower epochs after it (a fenced writer's) are passed over, up to
// relay_fenced_records_max of them (else Conflict kafka_topic_fenced). Corruption when such
// a record is neither a fence nor carries a valid sequence header; Unavailable when the
// cluster does not answer within timeout_ms.
Result<std::vector<PartitionTail>> ReadPartitionTails(const std::string& brokers,
                                                      const KafkaOptions& options,
                                                      const std::string& topic, int partitions,
                                                      int timeout_ms, uint64_t min_epoch = 1);

// Parses a decimal sequence as written in the `sequence` header: 1 to 20 digits, no sign,
// not zero.
std::optional<uint64_t> ParseSequenceText(std::string_view text);

// The writer epoch of a record, from the value of its `epoch` header (docs/kafka-records.md):
// 1 when it has none (records relayed before epochs existed), nullopt when the value is not a
// number as ParseSequenceText reads it.
std::optional<uint64_t> RecordEpoch(std::optional<std::string_view> epoch_header);
std::optional<uint64_t> RecordEpoch(const rd_kafka_message_t& message);

}  // namespace malpro
