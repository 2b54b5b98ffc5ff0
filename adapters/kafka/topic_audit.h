// Reading the events topic back, for auditors: every record of every partition, and a check
// of the hash chain from the records alone (`malpro audit verify --kafka`), without the data
// directory. docs/kafka-records.md says what a record holds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "engine/event_log.h"
#include "engine/result.h"

namespace malpro {

struct TopicRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Every record of `topic`, grouped by partition in offset order (each partition from offset 0
// to its high watermark). Unavailable when the topic cannot be read within timeout_ms, or when
// retention has dropped its first records.
Result<std::vector<TopicRecord>> ReadWholeTopic(const std::string& brokers,
                                                const KafkaOptions& options,
                                                const std::string& topic, int timeout_ms);

// Checks relayed events as an auditor would: each record's value is an event whose hash is
// SHA-256(previous_hash || canonical bytes), whose headers agree with it, whose key is its
// stream; the sequences are 1..N, each exactly once; each links to the one before it; and
// within a partition a stream's events come in order. `report.problem` names the first
// failure (ok = false); an empty topic verifies with 0 events.
VerifyReport VerifyTopicRecords(const std::vector<TopicRecord>& records);

}  // namespace malpro
