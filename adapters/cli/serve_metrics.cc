#include "adapters/cli/serve_metrics.h"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <tuple>
#include <vector>

#include "adapters/bank/payments.h"
#include "adapters/cli/commands.h"
#include "adapters/kafka/kafka_service.h"
#include "adapters/kafka/replica.h"
#include "engine/civil_time.h"
#include "engine/identifiers.h"
#include "engine/log_format.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_store.h"
#include "projections/projector.h"

namespace malpro::cli {
namespace {

namespace fs = std::filesystem;

using Sample = HttpMetrics::Sample;

std::string Label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + HttpMetrics::EscapeLabelValue(value) + "\"";
}

// 00:00 Asia/Jakarta of the oldest unclosed business day, in Unix seconds; 0 when none.
double OldestUnclosedDayStart(const Projector* models) {
  const std::vector<std::string> days = models->UnclosedBusinessDays();
  if (days.empty()) return 0;
  Result<CivilDate> oldest = ParseIsoDate(days.front(), "business_date");
  if (!oldest.ok()) return 0;
  return static_cast<double>(JakartaDayStartMicros(*oldest) / micros_per_second);
}

// Sizes of the regular files under `dir`; files that vanish meanwhile (RocksDB compacts) are
// skipped.
double DirectoryBytes(const std::string& dir) {
  std::error_code error;
  fs::recursive_directory_iterator entry(dir, fs::directory_options::skip_permission_denied, error);
  uintmax_t total = 0;
  for (size_t seen = 0;
       !error && entry != fs::recursive_directory_iterator() && seen < metrics_data_dir_entries_max;
       ++seen, entry.increment(error)) {
    std::error_code size_error;
    if (!entry->is_regular_file(size_error) || size_error) continue;
    const uintmax_t size = entry->file_size(size_error);
    if (!size_error) total += size;
  }
  return static_cast<double>(total);
}

}  // namespace

void AddBuildMetrics(HttpMetrics& metrics) {
  const std::string labels =
      Label("version", kVersion) + "," +
      Label("log_format_version", std::to_string(int{envelope_format_version_current}));
  metrics.AddGaugeFamily(
      "malpro_build_info",
      "Always 1; the program's version and the event envelope format version it writes.", [labels] {
        return std::vector<Sample>{{labels, 1}};
      });
}

void AddLogMetrics(HttpMetrics& metrics, const EventLog& log) {
  const EventLog* events = &log;
  metrics.AddGauge("malpro_log_head_sequence", "Sequence of the last durable event.",
                   [events] { return static_cast<double>(events->Head().sequence); });
  using Field = uint64_t LogCounters::*;
  for (const auto& [name, help, field] :
       {std::tuple<const char*, const char*, Field>{"malpro_log_commands_appended_total",
                                                    "Commands written since start.",
                                                    &LogCounters::commands_appended},
        {"malpro_log_events_appended_total", "Events written since start.",
         &LogCounters::events_appended},
        {"malpro_log_groups_synced_total",
         "Group writes made durable since start; commands per group is the group-commit factor.",
         &LogCounters::groups_synced},
        {"malpro_log_syncs_total",
         "fdatasyncs of the write-ahead log since start, each for one or more groups.",
         &LogCounters::syncs},
        {"malpro_log_commands_refused_total",
         "Commands refused by the log (version conflicts, reused idempotency keys).",
         &LogCounters::commands_refused}}) {
    metrics.AddGauge(
        name, help, [events, field] { return static_cast<double>(events->Counters().*field); },
        "counter");
  }
  metrics.AddGauge(
      "malpro_log_unfinished_events_removed",
      "Events of a group cut short by a crash while written in parts, removed when "
      "the log opened (none was acknowledged).",
      [events] { return static_cast<double>(events->Counters().unfinished_events_removed); });
}

void AddReadModelMetrics(HttpMetrics& metrics, const Projector* models, const EventLog& log) {
  const EventLog* events = &log;
  metrics.AddGauge("malpro_projection_applied_sequence",
                   "Last sequence folded into the read models.",
                   [models] { return static_cast<double>(models->Applied()); });
  metrics.AddGauge("malpro_projection_lag_events",
                   "Events in the log not yet folded into the read models.", [models, events] {
                     const uint64_t head = events->Head().sequence;
                     return static_cast<double>(head - std::min(head, models->Applied()));
                   });
  metrics.AddGauge(
      "malpro_settlement_unclosed_business_days",
      "Business days with succeeded cashless payments that no closed settlement batch holds "
      "yet (today's included), as the read models stand.",
      [models] { return static_cast<double>(models->UnclosedBusinessDays().size()); });
  metrics.AddGauge(
      "malpro_settlement_oldest_unclosed_business_day_timestamp_seconds",
      "00:00 Asia/Jakarta of the oldest of those days, in Unix seconds; 0 when there is none.",
      [models] { return OldestUnclosedDayStart(models); });
}

void AddPaymentMetrics(HttpMetrics& metrics, const BankPayments* payments) {
  metrics.AddGauge("malpro_bank_payments_pending",
                   "Cashless payments waiting for the bank, as the poller last saw the log.",
                   [payments] { return static_cast<double>(payments->PendingCount()); });
  metrics.AddGauge(
      "malpro_bank_payments_oldest_pending_age_seconds",
      "Seconds since the oldest payment still requested (not succeeded, failed, expired or "
      "voided) was requested; 0 when none is.",
      [payments] { return payments->OldestPendingAgeSeconds(); });
  using Field = int PollReport::*;
  for (const auto& [name, help, field] :
       {std::tuple<const char*, const char*, Field>{
            "malpro_bank_poll_asked_total", "Pending payments the poller asked the bank about.",
            &PollReport::asked},
        {"malpro_bank_poll_succeeded_total",
         "Successes recorded from the bank's answer to a query (no notification came).",
         &PollReport::succeeded},
        {"malpro_bank_poll_failed_total", "Failures recorded from a query.", &PollReport::failed},
        {"malpro_bank_poll_expired_total", "Payments expired unpaid.", &PollReport::expired},
        {"malpro_bank_poll_errors_total",
         "Queries that could not be made or recorded (tried again next pass).",
         &PollReport::errors}}) {
    metrics.AddGauge(
        name, help, [payments, field] { return static_cast<double>(payments->Totals().*field); },
        "counter");
  }
}

void AddRelayMetrics(HttpMetrics& metrics, const KafkaService* kafka) {
  metrics.AddGauge(
      "malpro_kafka_relay_up",
      "1 while the relay publishes (connected, acknowledgements coming), else 0 (starting, "
      "stalled, retrying, fenced or stopped).",
      [kafka] { return kafka->RelayState().state == RelayState::kPublishing ? 1.0 : 0.0; });
  metrics.AddGaugeFamily(
      "malpro_kafka_relay_state", "1 for the relay's current state, 0 for the others.", [kafka] {
        const RelayState now = kafka->RelayState().state;
        std::vector<Sample> samples;
        for (RelayState state :
             {RelayState::kStopped, RelayState::kStarting, RelayState::kPublishing,
              RelayState::kStalled, RelayState::kRetrying, RelayState::kFenced}) {
          samples.push_back({Label("state", RelayStateName(state)), state == now ? 1.0 : 0.0});
        }
        return samples;
      });
  metrics.AddGauge("malpro_kafka_relay_published_sequence",
                   "Every event up to this sequence is in the events topic.",
                   [kafka] { return static_cast<double>(kafka->RelayState().published_sequence); });
  metrics.AddGauge(
      "malpro_kafka_relay_confirmed_sequence",
      "Every event up to this sequence is in the events topic and a fence check after it found "
      "no promotion: what synchronous writes are answered up to.",
      [kafka] { return static_cast<double>(kafka->RelayState().confirmed_sequence); });
  metrics.AddGauge("malpro_kafka_relay_epoch",
                   "The writer epoch the relay's records carry (raised by each promotion).",
                   [kafka] { return static_cast<double>(kafka->RelayState().epoch); });
  metrics.AddGauge("malpro_kafka_relay_lag_events",
                   "Events in the log not yet acknowledged by Kafka (behind the log's head).",
                   [kafka] { return static_cast<double>(kafka->RelayState().lag); });
  metrics.AddGauge(
      "malpro_kafka_relay_events_published_total", "Events acknowledged by Kafka since start.",
      [kafka] { return static_cast<double>(kafka->RelayState().events_published); }, "counter");
  metrics.AddGauge(
      "malpro_kafka_relay_sessions_started_total",
      "Relay sessions started: 1, plus one per restart after an error.",
      [kafka] { return static_cast<double>(kafka->RelayState().sessions_started); }, "counter");
  metrics.AddGauge(
      "malpro_kafka_changelog_rows_published_total",
      "Read model rows acknowledged on the changelog topics since start.",
      [kafka] { return static_cast<double>(kafka->ChangelogState().rows_published); }, "counter");
}

void AddReplicaMetrics(HttpMetrics& metrics, const Replica* replica) {
  metrics.AddGauge(
      "malpro_replica_up",
      "1 while the replica applies the events topic (catching up or following), else 0 "
      "(starting, retrying, failed or stopped).",
      [replica] {
        const ReplicaState state = replica->Status().state;
        return state == ReplicaState::kCatchingUp || state == ReplicaState::kFollowing ? 1.0 : 0.0;
      });
  metrics.AddGaugeFamily(
      "malpro_replica_state", "1 for the replica's current state, 0 for the others.", [replica] {
        const ReplicaState now = replica->Status().state;
        std::vector<Sample> samples;
        for (ReplicaState state :
             {ReplicaState::kStopped, ReplicaState::kStarting, ReplicaState::kCatchingUp,
              ReplicaState::kFollowing, ReplicaState::kRetrying, ReplicaState::kFailed}) {
          samples.push_back({Label("state", ReplicaStateName(state)), state == now ? 1.0 : 0.0});
        }
        return samples;
      });
  metrics.AddGauge("malpro_replica_applied_sequence",
                   "The replica's log holds every event up to this sequence.",
                   [replica] { return static_cast<double>(replica->Status().applied_sequence); });
  metrics.AddGauge("malpro_replica_topic_sequence",
                   "The highest sequence known to be in the events topic.",
                   [replica] { return static_cast<double>(replica->Status().topic_sequence); });
  metrics.AddGauge("malpro_replica_lag_events",
                   "Events in the topic that the replica's log does not hold yet.",
                   [replica] { return static_cast<double>(replica->Status().lag); });
  metrics.AddGauge(
      "malpro_replica_lag_seconds",
      "Seconds since the last event the replica applied was recorded, while it lags; 0 when "
      "caught up.",
      [replica] {
        const ReplicaStatus status = replica->Status();
        if (status.lag == 0 || status.applied_recorded_at_us == 0) return 0.0;
        const int64_t behind_us = WallClockMicros() - status.applied_recorded_at_us;
        return std::max<double>(0.0, static_cast<double>(behind_us) / 1e6);
      });
  metrics.AddGauge(
      "malpro_replica_events_applied_total", "Events the replica appended since start.",
      [replica] { return static_cast<double>(replica->Status().events_applied); }, "counter");
  metrics.AddGauge(
      "malpro_replica_checkpoints_verified_total",
      "Signed checkpoints of the checkpoints topic that the replica checked against its tree.",
      [replica] { return static_cast<double>(replica->Status().checkpoints_verified); }, "counter");
  metrics.AddGauge(
      "malpro_replica_checkpoint_size", "The largest signed checkpoint the replica checked.",
      [replica] { return static_cast<double>(replica->Status().last_checkpoint_size); });
  metrics.AddGauge(
      "malpro_replica_records_fenced_total",
      "Records of a writer that a promotion fenced, passed over by the replica since start.",
      [replica] { return static_cast<double>(replica->Status().records_fenced); }, "counter");
}

void AddTlogMetrics(HttpMetrics& metrics, const TlogStore* store, const TlogBuilder* builder,
                    const EventLog& log) {
  const EventLog* events = &log;
  metrics.AddGauge("malpro_tlog_leaves", "Leaves in the Merkle tree of the log (its size).",
                   [store] { return static_cast<double>(store->Size()); });
  metrics.AddGauge("malpro_tlog_lag_events", "Events in the log not yet in the Merkle tree.",
                   [store, events] {
                     const uint64_t head = events->Head().sequence;
                     return static_cast<double>(head - std::min(head, store->Size()));
                   });
  metrics.AddGauge("malpro_tlog_up", "1 while the Merkle tree follows the log, 0 after a failure.",
                   [builder] { return builder->Health().ok() ? 1.0 : 0.0; });
}

void AddCheckpointMetrics(HttpMetrics& metrics, const CheckpointIssuer* issuer,
                          const WitnessClient* witnesses) {
  if (issuer == nullptr) return;
  metrics.AddGauge(
      "malpro_tlog_checkpoint_cosignatures",
      "Witness cosignatures on the latest checkpoint (of [[transparency.witnesses]]).",
      [witnesses] {
        return witnesses == nullptr ? 0.0 : static_cast<double>(witnesses->last_cosignatures());
      });
  metrics.AddGauge(
      "malpro_tlog_witnesses", "Witnesses configured ([[transparency.witnesses]]).", [witnesses] {
        return witnesses == nullptr ? 0.0 : static_cast<double>(witnesses->witnesses());
      });
  metrics.AddGauge("malpro_tlog_checkpoint_size",
                   "Events covered by the latest signed checkpoint (0 before the first).",
                   [issuer] {
                     const std::optional<StoredCheckpoint> latest = issuer->Latest();
                     return latest ? static_cast<double>(latest->size) : 0.0;
                   });
  metrics.AddGauge("malpro_tlog_checkpoints_up",
                   "1 while checkpoints are signed, 0 after the signer stopped on a failure.",
                   [issuer] { return issuer->Health().ok() ? 1.0 : 0.0; });
}

void AddDataDirMetrics(HttpMetrics& metrics, std::string data_dir) {
  metrics.AddGauge("malpro_data_dir_bytes",
                   "Bytes of the files in the data directory (the log and the read models).",
                   [data_dir] { return DirectoryBytes(data_dir); });
  metrics.AddGauge("malpro_data_dir_free_bytes",
                   "Bytes free for this process on the data directory's file system.", [data_dir] {
                     std::error_code error;
                     const fs::space_info space = fs::space(data_dir, error);
                     return error ? 0.0 : static_cast<double>(space.available);
                   });
}

}  // namespace malpro::cli
