// Reads a whole topic back for tests (the auditor's reader, with the test's defaults).
#pragma once

#include "adapters/kafka/topic_audit.h"

namespace malpro::testing {

using ::malpro::TopicRecord;

inline Result<std::vector<TopicRecord>> ReadWholeTopic(const std::string& brokers,
                                                       const std::string& topic,
                                                       int timeout_ms = 20'000) {
  return ::malpro::ReadWholeTopic(brokers, KafkaOptions{}, topic, timeout_ms);
}

}  // namespace malpro::testing
