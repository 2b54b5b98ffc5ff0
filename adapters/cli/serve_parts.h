// What `malpro serve` and `malpro replica` both start beside the log (serve_command.cc): the
// read models and the Merkle tree.
#pragma once

#include <memory>

#include "adapters/cli/config.h"
#include "adapters/cli/witness_client.h"
#include "adapters/http/metrics.h"
#include "engine/event_log.h"
#include "engine/result.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_store.h"
#include "projections/projector.h"

namespace malpro::cli {

// The read models in {data_dir}/projections: caught up before the API opens, then following
// the log, with their metrics added to `metrics`.
Result<std::unique_ptr<Projector>> StartReadModels(const MalproConfig& config, EventLog& log,
                                                   HttpMetrics& metrics);

// The Merkle tree of the log (docs/transparency.md), built off the append path by a thread
// that follows the log; it catches up from where it stopped in the background.
struct MerkleTree {
  std::unique_ptr<TlogStore> store;
  std::unique_ptr<TlogBuilder> builder;
  // Asks [[transparency.witnesses]] to cosign each new latest checkpoint, on the issuer's
  // thread (declared before the issuer, so destroyed after it).
  std::unique_ptr<WitnessClient> witnesses;
  // Signs checkpoints of it when [transparency] has a key and `sign` was asked; started once
  // Kafka is (StartCheckpoints in serve_command.cc).
  std::unique_ptr<CheckpointIssuer> checkpoints;
};

// Opens {data_dir}/tlog and starts its builder. With `sign` and a key configured, also the
// checkpoint issuer (a replica signs nothing: only the primary does).
Result<MerkleTree> StartMerkleTree(const MalproConfig& config, const EventLog& log, bool sign);

}  // namespace malpro::cli
