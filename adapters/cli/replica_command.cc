// `malpro replica --kafka BROKERS`: a read replica fed by the primary's events topic
// (docs/replication.md). Its log becomes a byte-for-byte copy of the primary's, its read models
// and Merkle tree follow that log, and it serves every read route and live feed; writes are
// refused 421 replica_read_only naming the primary. It writes nothing of its own: no policy on
// first start, no relay, no checkpoints.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/cli/geography_config.h"
#include "adapters/cli/serve_metrics.h"
#include "adapters/cli/serve_parts.h"
#include "adapters/http/api.h"
#include "adapters/http/metrics.h"
#include "adapters/http/server.h"
#include "adapters/kafka/replica.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro::cli {
namespace {

struct ReplicaFlags {
  std::string brokers;      // the primary's cluster (its kafka.brokers, or embedded broker)
  std::string primary_url;  // where writes go, named in refusals
  std::string key;          // the log's checkpoint verifier key (text or file)
};

// {"role":"replica","primary":...,"replica":{...}} for /healthz.
std::string ReplicaHealthJson(const Replica& replica, const ReplicaFlags& flags) {
  const ReplicaStatus status = replica.Status();
  JsonWriter writer;
  writer.BeginObject()
      .Field("role", "replica")
      .Field("primary", flags.primary_url)
      .Field("bootstrap", flags.brokers)
      .Key("replica")
      .BeginObject()
      .Field("state", ReplicaStateName(status.state))
      .Field("applied_sequence", static_cast<int64_t>(status.applied_sequence))
      .Field("topic_sequence", static_cast<int64_t>(status.topic_sequence))
      .Field("lag", static_cast<int64_t>(status.lag))
      .Field("events_applied", static_cast<int64_t>(status.events_applied))
      .Field("records_fenced", static_cast<int64_t>(status.records_fenced))
      .Field("checkpoints_verified", static_cast<int64_t>(status.checkpoints_verified))
      .Field("last_checkpoint_size", static_cast<int64_t>(status.last_checkpoint_size))
      .Field("last_error", status.last_error)
      .EndObject();
  return writer.EndObject().Take();
}

// What the replica adds to the API beside the read routes.
void ConnectReplica(const ReplicaFlags& flags, const Replica& replica,
                    ApiDependencies& dependencies) {
  const std::string primary = flags.primary_url.empty() ? "the primary" : flags.primary_url;
  dependencies.read_only = "this server is a read replica of the ledger (malpro replica); send " +
                           std::string("writes to ") + primary;
  dependencies.primary_url = flags.primary_url.empty() ? "unknown" : flags.primary_url;
  dependencies.health_details = [&replica, &flags] { return ReplicaHealthJson(replica, flags); };
  dependencies.health_check = [&replica] {
    const ReplicaStatus status = replica.Status();
    if (status.state != ReplicaState::kFailed) return Status::Ok();
    return Status::Unavailable(errc::kReplicaChainBroken,
                               "the replica stopped applying events: " + status.last_error);
  };
}

// The locals are declared in the order things start and so destroyed in reverse: the HTTP
// server first, then the replica, and the core (the Merkle tree, the read models, the metrics).
int ServeReplica(const MalproConfig& config, const ReplicaFlags& flags, EventLog& log) {
  Result<Geography> geography = LoadGeography(config.geography_file);
  if (!geography.ok()) return Fail(geography.status());
  Ledger ledger(&log, std::move(geography).value(), LedgerOptionsOf(config, {}));
  Result<std::unique_ptr<ServingCore>> started = StartServingCore(config, log, /*sign=*/false);
  if (!started.ok()) return Fail(started.status());
  ServingCore& core = **started;
  ReplicaOptions options{flags.brokers, config.kafka, std::nullopt, config.checkpoints.origin,
                         core.tree.store.get()};
  if (!flags.key.empty() || config.checkpoints_enabled) {
    Result<NoteVerifier> verifier = ResolveVerifier(config, flags.key);
    if (!verifier.ok()) return Fail(verifier.status());
    options.verifier = std::move(verifier).value();
  }
  Replica replica(&log, options);
  AddReplicaMetrics(core.metrics, &replica);
  ApiDependencies dependencies =
      ApiDependenciesOf(config, log, ledger, core.models.get(), core.metrics);
  dependencies.tlog = core.tree.store.get();
  ConnectReplica(flags, replica, dependencies);
  replica.Start();
  std::cout << "malpro: replica of " << config.kafka.EventsTopic() << " at " << flags.brokers
            << " from sequence " << log.Head().sequence + 1 << "; writes go to "
            << (flags.primary_url.empty() ? "the primary" : flags.primary_url) << std::endl;
  if (options.verifier) {
    std::cout << "malpro: signed checkpoints on " << config.kafka.topic_prefix
              << ".checkpoints checked against this replica's tree with key "
              << options.verifier->Text() << std::endl;
  } else {
    std::cout << "malpro: signed checkpoints not checked (give the log's verifier key with "
                 "--key, or configure [transparency])"
              << std::endl;
  }
  HttpServing serving;
  serving.note = ", read-only replica";
  const int served = ServeHttpUntilSignal(config, std::move(dependencies), core.metrics, serving);
  replica.Stop();
  core.Stop();
  return served;
}

int RunReplica(const CommonOptions& common, const ReplicaFlags& flags) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();  // before any thread starts, so that only sigwait sees them
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(config->log);
  if (!log.ok()) return Fail(WhenLocked(log.status(), config->log.data_dir));
  PrintHead(**log, config->log.data_dir);
  // Marked as a replica's: `malpro serve` refuses it until `malpro promote` (docs/replication.md).
  Result<WriterEpoch> epoch = (*log)->Epoch();
  if (!epoch.ok()) return Fail(epoch.status());
  if (epoch->writer != "replica") {
    Status marked = (*log)->SetEpoch(WriterEpoch{epoch->epoch, epoch->first_sequence, "replica"});
    if (!marked.ok()) return Fail(marked);
  }
  const int stopped = ServeReplica(*config, flags, **log);
  const ChainHead head = (*log)->Head();
  log->reset();
  std::cout << "malpro: stopped; the replica's log is closed at sequence " << head.sequence
            << " (head hash " << HashToHex(head.hash) << ")" << std::endl;
  return stopped;
}

}  // namespace

void AddReplicaCommand(CLI::App& app, std::vector<Command>& commands) {
  auto flags = std::make_shared<ReplicaFlags>();
  CLI::App* replica = app.add_subcommand(
      "replica",
      "keep a read replica of the primary's log from its Kafka events topic and serve the read "
      "routes until SIGINT/SIGTERM (docs/replication.md)");
  replica
      ->add_option("--kafka", flags->brokers,
                   "bootstrap servers of the primary's Kafka cluster (its kafka.brokers, or the "
                   "embedded broker's address that `malpro serve` prints)")
      ->required();
  replica->add_option("--primary", flags->primary_url,
                      "the primary's URL, named to clients whose writes this replica refuses "
                      "(e.g. http://10.0.0.5:8080); default: none, the refusal says "
                      "\"the primary\"");
  replica->add_option("--key", flags->key,
                      "the log's checkpoint verifier key (NAME+KEYID+BASE64, or a file holding "
                      "it) to check the signed checkpoints of <prefix>.checkpoints with; "
                      "default: the key of [transparency] private_key_file when configured, "
                      "else none are checked");
  commands.push_back(
      {replica, [flags](const CommonOptions& common) { return RunReplica(common, *flags); }});
}

}  // namespace malpro::cli
