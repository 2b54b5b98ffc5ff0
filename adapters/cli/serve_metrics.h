// The gauges `malpro serve` (and `malpro demo`) add to /metrics beside the HTTP server's own
// requests, latency, connections and subscriptions: the build, the log, the read models and
// the business days not yet settled, the bank's pending payments, the Kafka relay and the
// data directory. Each reads its component when scraped; none keeps state of its own.
// docs/RUNBOOK.md ("Health and metrics") lists every metric with its labels and meaning.
#pragma once

#include <cstddef>
#include <string>

#include "adapters/cli/witness_client.h"
#include "adapters/http/metrics.h"
#include "engine/event_log.h"

namespace malpro {

class BankPayments;
class CheckpointIssuer;
class KafkaService;
class Replica;
class Projector;
class TlogBuilder;
class TlogStore;

namespace cli {

// Entries of the data directory looked at per scrape at most (RocksDB keeps some thousands of
// files): beyond them malpro_data_dir_bytes is a lower bound.
inline constexpr size_t metrics_data_dir_entries_max = 200'000;

// malpro_build_info{version,log_format_version} 1.
void AddBuildMetrics(HttpMetrics& metrics);
// The log's head and counters. `log` must outlive `metrics`' scrapes.
void AddLogMetrics(HttpMetrics& metrics, const EventLog& log);
// The read models' position and lag, and the business days with cashless payments no closed
// settlement batch holds yet. `models` and `log` must outlive `metrics`' scrapes.
void AddReadModelMetrics(HttpMetrics& metrics, const Projector* models, const EventLog& log);
// The poller's pending payments, the oldest one's age and its totals.
void AddPaymentMetrics(HttpMetrics& metrics, const BankPayments* payments);
// The relay's state, published sequence and lag, and the changelogs' rows.
void AddRelayMetrics(HttpMetrics& metrics, const KafkaService* kafka);
// A replica's state, applied sequence, the topic's sequence and the lag between them
// (`malpro replica`).
void AddReplicaMetrics(HttpMetrics& metrics, const Replica* replica);
// The Merkle tree's leaves, its lag behind the log, and whether its builder runs. All must
// outlive `metrics`' scrapes.
void AddTlogMetrics(HttpMetrics& metrics, const TlogStore* store, const TlogBuilder* builder,
                    const EventLog& log);
// malpro_tlog_checkpoint_size and malpro_tlog_checkpoints_up, when checkpoints are signed.
// With `witnesses` (may be null): the cosignatures gathered and the witnesses configured.
void AddCheckpointMetrics(HttpMetrics& metrics, const CheckpointIssuer* issuer,
                          const WitnessClient* witnesses);
// Bytes in `data_dir` (the log and the read models) and free on its file system.
void AddDataDirMetrics(HttpMetrics& metrics, std::string data_dir);

}  // namespace cli
}  // namespace malpro
