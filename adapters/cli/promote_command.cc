// `malpro promote --kafka BROKERS`: makes a stopped read replica's directory the primary's
// (docs/replication.md, "Promotion and fencing"). It claims the next writer epoch on the
// cluster (a record on <prefix>.epochs, then a fence in every partition of <prefix>.events),
// takes every event the old primary relayed before the fences, checks that this log holds the
// last of them, and records the epoch in the log. `malpro serve` on the directory is then the
// primary; the old primary's relay, on its next check, finds itself fenced and stops.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "adapters/cli/commands.h"
#include "adapters/kafka/promotion.h"
#include "adapters/kafka/replica.h"
#include "engine/error_codes.h"
#include "engine/hash.h"

namespace malpro::cli {
namespace {

struct PromoteFlags {
  std::string brokers;
  bool force = false;  // promote even when relayed events are missing here
  int timeout_s = 600;
};

// A name no other promotion gives: the host, then 8 random bytes in hex.
std::string NewWriterName() {
  char host[256] = {};
  (void)gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + RandomHex(8);
}

// Reads every partition up to its fence and appends what continues the log.
Result<ReplicaStatus> TakeUpToFences(const MalproConfig& config, const PromoteFlags& flags,
                                     EventLog& log, const EpochClaim& claim) {
  ReplicaOptions options{flags.brokers, config.kafka, std::nullopt, "", nullptr};
  options.stop_at = claim.fence_offsets;
  Replica replica(&log, options);
  replica.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.timeout_s);
  ReplicaStatus status = replica.Status();
  while (status.state != ReplicaState::kFinished && status.state != ReplicaState::kFailed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = replica.Status();
  }
  replica.Stop();
  if (status.state == ReplicaState::kFinished) return status;
  if (status.state == ReplicaState::kFailed) {
    return Status::Conflict(
        errc::kReplicaChainBroken, "events",
        "the events before the fences do not continue this log: " + status.last_error);
  }
  return Status::Unavailable(errc::kKafkaUnavailable,
                             "the events topic was not read up to the fences within " +
                                 std::to_string(flags.timeout_s) + " s (--timeout-s); " +
                                 status.last_error);
}

int RunPromote(const CommonOptions& common, const PromoteFlags& flags) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(config->log);
  if (!opened.ok()) return Fail(WhenLocked(opened.status(), config->log.data_dir));
  EventLog& log = **opened;
  Result<WriterEpoch> current = log.Epoch();
  if (!current.ok()) return Fail(current.status());
  std::cout << "malpro: promoting " << config->log.data_dir << " (sequence " << log.Head().sequence
            << ", epoch " << current->epoch << ")" << std::endl;
  Result<EpochClaim> claim = ClaimEpoch(flags.brokers, config->kafka, *current, NewWriterName());
  if (!claim.ok()) return Fail(claim.status());
  std::cout << "malpro: epoch " << claim->epoch << " claimed on " << config->kafka.EpochsTopic()
            << " and fenced in " << claim->fence_offsets.size() << " partitions of "
            << config->kafka.EventsTopic() << "; the old primary is fenced" << std::endl;
  Result<ReplicaStatus> taken = TakeUpToFences(*config, flags, log, *claim);
  if (!taken.ok()) return Fail(taken.status());
  const ChainHead head = log.Head();
  std::cout << "malpro: the old primary relayed up to sequence " << taken->read_sequence
            << " before the fences; this log holds 1.." << head.sequence << " ("
            << taken->records_fenced << " fenced records passed over)" << std::endl;
  if (head.sequence < taken->read_sequence && !flags.force) {
    return Fail(Status::Conflict(
        errc::kReplicaEventsMissing, "events",
        "events " + std::to_string(head.sequence + 1) + ".." +
            std::to_string(taken->read_sequence) +
            " were relayed but do not follow this log without a gap (lost to retention, or a "
            "fenced writer's); not promoted. Promote a replica that holds them, or run again "
            "with --force to lose them"));
  }
  Status recorded = log.SetEpoch(WriterEpoch{claim->epoch, head.sequence + 1, claim->writer});
  if (!recorded.ok()) return Fail(recorded);
  std::cout << "malpro: promoted: epoch " << claim->epoch << " (writer " << claim->writer
            << ") from sequence " << head.sequence + 1 << "; head hash " << HashToHex(head.hash)
            << "; start it with `malpro serve` (kafka.brokers = " << flags.brokers << ")"
            << std::endl;
  return kExitOk;
}

}  // namespace

void AddPromoteCommand(CLI::App& app, std::vector<Command>& commands) {
  auto flags = std::make_shared<PromoteFlags>();
  CLI::App* promote = app.add_subcommand(
      "promote",
      "make a stopped read replica's data directory the primary's: fence the old primary on "
      "Kafka, take every event it relayed, record the new epoch (docs/replication.md)");
  promote
      ->add_option("--kafka", flags->brokers,
                   "bootstrap servers of the primary's Kafka cluster, as given to `malpro replica`")
      ->required();
  promote->add_flag("--force", flags->force,
                    "promote even when events the old primary relayed are missing from this log "
                    "(they are then lost); default: refuse");
  promote
      ->add_option("--timeout-s", flags->timeout_s,
                   "how long to read the events topic up to the fences (default: 600)")
      ->check(CLI::Range(1, 86'400));
  commands.push_back(
      {promote, [flags](const CommonOptions& common) { return RunPromote(common, *flags); }});
}

}  // namespace malpro::cli
