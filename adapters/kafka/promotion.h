// Promotion: how a replica becomes the primary without a zombie's records ever interleaving
// with its own (docs/replication.md, "A standby: promotion and fencing").
//
// ClaimEpoch writes, with acks=all, a record of the next epoch to <prefix>.epochs and then a
// fence record of that epoch to every partition of <prefix>.events. From then on:
// - the old primary's relay finds the epoch on its next check (at most relay_fence_check_ms,
//   and before it confirms anything to a synchronous write) and stops: fenced;
// - every reader (replicas, `audit verify --kafka`) passes over, in a partition, the records
//   of lower epochs after its fence, and once it holds an event of an epoch, any lower
//   epoch's record;
// - so a synchronous write that the old primary answered was in the topic before the fences,
//   and the promoted replica, which reads every partition up to its fence, holds it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "engine/event_log.h"
#include "engine/result.h"

namespace malpro {

struct EpochClaim {
  uint64_t epoch = 0;
  std::string writer;
  std::vector<int64_t> fence_offsets;  // per partition of the events topic
};

// Claims the epoch after the highest of `current` and the epochs topic's last record, for a
// writer named `writer`. Unavailable when the cluster does not take the records in time.
Result<EpochClaim> ClaimEpoch(const std::string& brokers, const KafkaOptions& options,
                              const WriterEpoch& current, const std::string& writer);

}  // namespace malpro
