// Checks shared by the relay tests: the topic against the log it relays.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "adapters/kafka/kafka_client.h"
#include "engine/event_log.h"
#include "engine/json.h"
#include "engine/log_limits.h"
#include "tests/kafka/topic_reader.h"

namespace malpro::testing {

// The topic holds every sequence 1..head of the log exactly once, in the partition of its
// key, in increasing order within each partition, with the log's value and headers; the chain
// links through the headers; every stream's versions arrive in order.
inline void ExpectTopicMatchesLog(const std::vector<TopicRecord>& records, const EventLog& log,
                                  int partitions) {
  const uint64_t head = log.Head().sequence;
  std::map<uint64_t, const TopicRecord*> by_sequence;
  std::map<int32_t, uint64_t> last_in_partition;
  std::map<std::string, uint64_t> last_version;
  size_t problems = 0;
  for (const TopicRecord& record : records) {
    if (problems > 20) break;  // one broken run would otherwise print thousands of lines
    const std::optional<uint64_t> sequence =
        ParseSequenceText(record.headers.count("sequence") ? record.headers.at("sequence") : "");
    if (!sequence) {
      ADD_FAILURE() << "record without sequence at partition " << record.partition << " offset "
                    << record.offset;
      ++problems;
      continue;
    }
    if (!by_sequence.emplace(*sequence, &record).second) {
      ADD_FAILURE() << "sequence " << *sequence << " published twice";
      ++problems;
    }
    if (*sequence <= last_in_partition[record.partition]) {
      ADD_FAILURE() << "partition " << record.partition << " goes from "
                    << last_in_partition[record.partition] << " to " << *sequence;
      ++problems;
    }
    last_in_partition[record.partition] = *sequence;
    EXPECT_EQ(record.partition, KafkaPartitionOf(record.key, partitions));
  }
  EXPECT_EQ(by_sequence.size(), head) << "the topic should hold exactly the log's events";
  std::string previous_hash = HashToHex(zero_hash);
  for (uint64_t from = 1; from <= head && problems <= 20; from += read_events_max) {
    for (const Event& event : *log.Read(from, read_events_max)) {
      auto found = by_sequence.find(event.sequence);
      if (found == by_sequence.end()) {
        ADD_FAILURE() << "sequence " << event.sequence << " missing from the topic";
        ++problems;
        continue;
      }
      const TopicRecord& record = *found->second;
      JsonWriter writer;
      WriteEventJson(writer, event, PayloadForm::kString);
      EXPECT_EQ(record.value, writer.Take());
      EXPECT_EQ(record.key, event.stream_id);
      EXPECT_EQ(record.headers.at("type"), event.type);
      EXPECT_EQ(record.headers.at("hash"), HashToHex(event.hash));
      // The chain, from the headers alone.
      EXPECT_EQ(record.headers.at("previous_hash"), previous_hash) << event.sequence;
      previous_hash = record.headers.at("hash");
      // Per-stream order: the topic order of one stream's records follows its versions.
      uint64_t& version = last_version[event.stream_id];
      EXPECT_EQ(event.stream_version, version + 1);
      version = event.stream_version;
    }
  }
  // Per-stream order as a consumer sees it: within a partition, one key's versions increase.
  std::map<std::string, uint64_t> seen;
  for (const TopicRecord& record : records) {
    const uint64_t sequence = *ParseSequenceText(record.headers.at("sequence"));
    uint64_t& last = seen[record.key];
    EXPECT_GT(sequence, last) << "stream " << record.key << " out of order";
    last = sequence;
  }
}

}  // namespace malpro::testing
