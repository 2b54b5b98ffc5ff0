// What `malpro serve`, `malpro replica` and `malpro audit replay --serve` start beside the log
// (serve_parts.cc): the metrics, the read models, the Merkle tree, and the HTTP API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adapters/cli/config.h"
#include "adapters/cli/witness_client.h"
#include "adapters/http/api.h"
#include "adapters/http/http_handler.h"
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

// The metrics, read models and Merkle tree of a server that follows a log (serve, replica),
// declared in the order they start and so destroyed in reverse: the metrics last, as their
// gauges read the others.
struct ServingCore {
  HttpMetrics metrics;
  std::unique_ptr<Projector> models;
  MerkleTree tree;
  // Stops the read models and the tree's builder, once the HTTP server has stopped.
  void Stop();
};

// Adds the build, log and data-directory metrics, then starts the read models and the Merkle
// tree (StartMerkleTree, `sign` as there), with their metrics.
Result<std::unique_ptr<ServingCore>> StartServingCore(const MalproConfig& config, EventLog& log,
                                                      bool sign);

// The API's dependencies every server has: the log, the ledger, the read models (may be null),
// the tokens, the metrics and the body limits of config.http. The rest stays empty.
ApiDependencies ApiDependenciesOf(const MalproConfig& config, EventLog& log, Ledger& ledger,
                                  Projector* models, HttpMetrics& metrics);

// How a server serves its API (ServeHttpUntilSignal).
struct HttpServing {
  // Appended to "malpro: HTTP API on http://ADDRESS:PORT (N tokens configured)".
  std::string note;
  // SIGHUP reloads the tokens (ReloadTokens); false: a SIGHUP is ignored.
  bool reload_tokens = true;
  // The handler served in front of the API (serve's synchronous mode); empty: the API itself.
  std::function<std::unique_ptr<HttpHandler>(Api&)> wrap;
  // Called once the server listens, with its port (after the console's line).
  std::function<void(uint16_t port)> listening;
};

// Loads the console and the sessions (StartBrowserParts), starts the API and the HTTP server on
// config.http, prints where they listen, and serves until SIGINT/SIGTERM (blocked beforehand
// with BlockStopSignals). Returns kExitOk once the server has stopped, or kExitError when it
// could not start (port_in_use naming --port).
int ServeHttpUntilSignal(const MalproConfig& config, ApiDependencies dependencies,
                         HttpMetrics& metrics, const HttpServing& serving);

}  // namespace malpro::cli
