// `malpro serve`: the log, the read models, the bank, Kafka and the HTTP API, until
// SIGINT/SIGTERM. ServeUntilSignal is also how `malpro demo` serves its month.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "adapters/bank/notify.h"
#include "adapters/bank/payments.h"
#include "adapters/bank/snap_client.h"
#include "adapters/bank/snap_protocol.h"
#include "adapters/cli/commands.h"
#include "adapters/cli/serve_metrics.h"
#include "adapters/cli/serve_parts.h"
#include "adapters/cli/witness_client.h"
#include "adapters/files/reconcile.h"
#include "adapters/files/settlement_run.h"
#include "adapters/http/api.h"
#include "adapters/http/console_files.h"
#include "adapters/http/metrics.h"
#include "adapters/http/server.h"
#include "adapters/http/synchronous_handler.h"
#include "adapters/kafka/kafka_service.h"
#include "engine/identifiers.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_store.h"
#include "projections/projector.h"

namespace malpro::cli {

// The read models: caught up before the API opens, then following the log.
Result<std::unique_ptr<Projector>> StartReadModels(const MalproConfig& config, EventLog& log,
                                                   HttpMetrics& metrics) {
  ProjectorOptions projector_options;
  projector_options.dir = config.log.data_dir + "/projections";
  projector_options.progress = [](const std::string& line) {
    std::cerr << "malpro: " << line << std::endl;
  };
  Result<std::unique_ptr<Projector>> projector = Projector::Open(&log, projector_options);
  if (!projector.ok()) return projector.status();
  Status caught_up = (*projector)->CatchUp();
  if (!caught_up.ok()) return caught_up;
  (*projector)->Start();
  std::cout << "malpro: read models in " << projector_options.dir << " at sequence "
            << (*projector)->Applied() << std::endl;
  AddReadModelMetrics(metrics, projector->get(), log);
  return projector;
}

Result<MerkleTree> StartMerkleTree(const MalproConfig& config, const EventLog& log, bool sign) {
  const std::string dir = config.log.data_dir + "/" + tlog_directory;
  Result<std::unique_ptr<TlogStore>> store = TlogStore::Open(dir, /*read_only=*/false);
  if (!store.ok()) return store.status();
  MerkleTree tree{std::move(store).value(), nullptr, nullptr, nullptr};
  if (tree.store->Size() > log.Head().sequence) {
    return Status::Corruption("the Merkle tree in " + dir + " holds " +
                              std::to_string(tree.store->Size()) + " leaves but the log only " +
                              std::to_string(log.Head().sequence) + " events: stop, move " + dir +
                              " aside, and start again to build it from the log");
  }
  tree.builder = std::make_unique<TlogBuilder>(&log, tree.store.get());
  tree.builder->Start();
  std::cout << "malpro: Merkle tree in " << dir << " at " << tree.store->Size()
            << " leaves, following the log" << std::endl;
  if (sign && config.checkpoints_enabled) {
    Result<NoteSigner> signer = NoteSigner::FromPem(
        config.checkpoint_key_name, config.checkpoint_key_pem, "transparency.private_key_file");
    if (!signer.ok()) return signer.status();
    CheckpointOptions options = config.checkpoints;
    if (!config.witnesses.empty()) {
      tree.witnesses = std::make_unique<WitnessClient>(config.witnesses, tree.store.get());
      options.cosign = [client = tree.witnesses.get()](const std::string& note, uint64_t size) {
        return client->Cosign(note, size);
      };
    }
    tree.checkpoints = std::make_unique<CheckpointIssuer>(&log, tree.store.get(),
                                                          std::move(signer).value(), options);
  }
  return tree;
}

namespace {

// Checkpoints kept are published to Kafka too; the latest again on start (a crash may have
// lost it in flight). Month ends the log holds are signed before the thread starts.
Status StartCheckpoints(const MalproConfig& config, const TlogStore& store,
                        CheckpointIssuer* issuer, KafkaService* kafka_service) {
  if (issuer == nullptr) return Status::Ok();
  auto publish = [&store, kafka_service](const StoredCheckpoint& checkpoint) {
    Result<std::vector<Hash>> frontier =
        TreeFrontier(checkpoint.size, store.Reader(checkpoint.size));
    if (!frontier.ok()) {
      std::cerr << "malpro: checkpoint " << checkpoint.size
                << " not published: " << frontier.status().ToString() << std::endl;
      return;
    }
    kafka_service->PublishCheckpoint(checkpoint, *frontier);
  };
  issuer->OnIssued(publish);
  MALPRO_RETURN_IF_ERROR(issuer->CatchUp());
  if (std::optional<StoredCheckpoint> latest = issuer->Latest()) publish(*latest);
  issuer->Start();
  std::cout << "malpro: signed checkpoints of origin " << config.checkpoints.origin << " every "
            << config.checkpoints.interval.count() / 1000 << " s while the log grows; key "
            << issuer->verifier().Text() << std::endl;
  for (const WitnessConfig& witness : config.witnesses) {
    std::cout << "malpro: witness " << witness.key.Text() << " at " << witness.url
              << " is asked to cosign each new checkpoint" << std::endl;
  }
  return Status::Ok();
}

// The day's close and the statement's reconciliation, while serving; and Bank Jatim's
// notifications when configured.
void AddSettlementAndBankRoutes(const MalproConfig& config, EventLog& log, Ledger& ledger,
                                CheckpointIssuer* checkpoints, ApiDependencies& dependencies) {
  dependencies.settlement_out_dir = config.settlement_out_dir;  // the closed days' files
  dependencies.close_settlement = [&config, &ledger, &log, checkpoints](
                                      const std::string& date,
                                      const CommandContext& context) -> Result<DetailedAnswer> {
    Result<CivilDate> day = ParseIsoDate(date, "date");
    if (!day.ok()) return day.status();
    Result<SettleOutcome> outcome =
        Settle(ledger, log, *day, config.settlement_out_dir, config.settlement, context);
    if (!outcome.ok()) return outcome.status();
    // A checkpoint of the log with the day's close in it, signed once the tree holds it.
    if (checkpoints != nullptr) {
      checkpoints->Request(log.Head().sequence,
                           std::string(checkpoint_reason_settlement) + " " + date);
    }
    return DetailedAnswer{outcome->result, SettleOutcomeJson(*outcome)};
  };
  dependencies.reconcile_statement = [&config, &ledger, &log](
                                         std::string_view statement, const std::string& format,
                                         const CommandContext& context) -> Result<DetailedAnswer> {
    Result<ReconcileOutcome> outcome = RunReconciliation(ledger, log, statement, format,
                                                         config.settlement.debtor_account, context);
    if (!outcome.ok()) return outcome.status();
    return DetailedAnswer{outcome->result, ReconcileOutcomeJson(*outcome)};
  };
  if (config.bank_enabled) {
    dependencies.external_routes = [&config, &ledger](const HttpRequest& request) {
      return HandleBankRequest(request, ledger, config.bank);
    };
    dependencies.external_route_paths = BankRoutePaths(config.bank);
    std::cout << "malpro: Bank Jatim notifications accepted at " << snap_qris_notify_path
              << " (partner " << config.bank.partner_id << ", " << config.bank.authentication
              << " signatures)" << std::endl;
  }
}

// Payment requests to the bank and the poller of pending payments: through the configured
// bank (its client and poller are returned in `*bank_client` and `*bank_payments`, owned by the
// caller), else through `demo_payments` when given.
Status StartPayments(const MalproConfig& config, EventLog& log, Ledger& ledger,
                     BankPayments* demo_payments, ApiDependencies& dependencies,
                     HttpMetrics& metrics, std::unique_ptr<SnapClient>* bank_client,
                     std::unique_ptr<BankPayments>* bank_payments) {
  if (config.bank_client_enabled) {
    Result<std::unique_ptr<SnapClient>> client = SnapClient::Create(config.bank_client);
    if (!client.ok()) return client.status();
    *bank_client = std::move(client).value();
    *bank_payments =
        std::make_unique<BankPayments>(&ledger, &log, bank_client->get(), config.bank_payments);
    ConnectPayments(bank_payments->get(), &dependencies);
    AddPaymentMetrics(metrics, bank_payments->get());
    (*bank_payments)->Start();
    std::cout << "malpro: cashless payments requested from " << config.bank_client.base_url
              << "; pending ones asked about after " << config.bank_payments.poll_after_s
              << " s, expired after " << config.bank_payments.expire_after_s << " s" << std::endl;
  } else if (demo_payments != nullptr) {
    ConnectPayments(demo_payments, &dependencies);
    AddPaymentMetrics(metrics, demo_payments);
    demo_payments->Start();
  }
  return Status::Ok();
}

// The health details and metrics of the relay, when Kafka is on; its description either way.
void ConnectKafka(const MalproConfig& config, KafkaService* kafka_service,
                  ApiDependencies& dependencies, HttpMetrics& metrics) {
  if (config.kafka.enabled) {
    dependencies.health_details = [kafka_service] { return kafka_service->HealthJson(); };
    // A primary that a promotion fenced refuses writes, and /healthz says it is failing.
    dependencies.write_gate = [kafka_service] { return kafka_service->Fenced(); };
    dependencies.health_check = [kafka_service] { return kafka_service->Fenced(); };
    AddRelayMetrics(metrics, kafka_service);
  }
  if (!kafka_service->Description().empty()) {
    std::cout << "malpro: " << kafka_service->Description() << std::endl;
  }
}

// A read replica's directory is served by `malpro replica` until `malpro promote`.
Status CheckWriterIsPrimary(const MalproConfig& config, const EventLog& log) {
  Result<WriterEpoch> epoch = log.Epoch();
  if (!epoch.ok()) return epoch.status();
  if (epoch->writer != "replica") return Status::Ok();
  return Status::Conflict(errc::kLogIsReplica, "data_dir",
                          config.log.data_dir +
                              " holds a read replica's log: `malpro promote` makes it a primary "
                              "(docs/replication.md), or serve it with `malpro replica`");
}

// With kafka.synchronous: the API's answers to writes wait until the cluster acknowledged what
// they wrote (null otherwise).
std::unique_ptr<SynchronousHandler> SynchronousHandlerOf(const MalproConfig& config,
                                                         const EventLog& log, Api& api,
                                                         KafkaService* kafka_service) {
  if (!config.kafka.enabled || !config.kafka.synchronous) return nullptr;
  return std::make_unique<SynchronousHandler>(
      &api, &log,
      [kafka_service](uint64_t sequence, std::chrono::steady_clock::time_point deadline,
                      std::function<void(Status)> done) {
        kafka_service->WhenConfirmed(sequence, deadline, std::move(done));
      },
      std::chrono::milliseconds(config.kafka.synchronous_timeout_ms));
}

int RunServe(const CommonOptions& common) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();  // before any thread starts, so that only sigwait sees them
  Result<Opened> opened = OpenLedger(*config, config->log, {});
  if (!opened.ok()) return Fail(WhenLocked(opened.status(), config->log.data_dir));
  PrintHead(*opened->log, config->log.data_dir);
  Status primary = CheckWriterIsPrimary(*config, *opened->log);
  if (!primary.ok()) return Fail(primary);
  const int stopped = ServeUntilSignal(*config, *opened->log, *opened->ledger, {});
  if (stopped != kExitOk) return stopped;
  return CloseLedger(*opened, config->log);
}

}  // namespace

// The locals below are declared in the order things start and so destroyed in reverse: the
// HTTP server and the API first, then the relay, the bank's poller and client, the Merkle tree,
// the read models, and the metrics (whose gauges read all of them) last.
int ServeUntilSignal(const MalproConfig& config, EventLog& log, Ledger& ledger,
                     const std::function<void(uint16_t port, const std::string& kafka)>& hints,
                     BankPayments* demo_payments) {
  HttpMetrics metrics;
  AddBuildMetrics(metrics);
  AddLogMetrics(metrics, log);
  AddDataDirMetrics(metrics, config.log.data_dir);
  Result<std::unique_ptr<Projector>> projector = StartReadModels(config, log, metrics);
  if (!projector.ok()) return Fail(projector.status());
  Projector* models = projector->get();
  Result<MerkleTree> tree = StartMerkleTree(config, log, /*sign=*/true);
  if (!tree.ok()) return Fail(tree.status());
  AddTlogMetrics(metrics, tree->store.get(), tree->builder.get(), log);
  AddCheckpointMetrics(metrics, tree->checkpoints.get(), tree->witnesses.get());
  ApiDependencies dependencies{&log,
                               &ledger,
                               models,
                               &config.tokens,
                               &metrics,
                               config.http.body_bytes_max,
                               config.http.photo_body_bytes_max,
                               {},
                               {}};
  dependencies.tlog = tree->store.get();
  dependencies.checkpoints = tree->checkpoints.get();
  AddSettlementAndBankRoutes(config, log, ledger, tree->checkpoints.get(), dependencies);
  std::unique_ptr<SnapClient> bank_client;
  std::unique_ptr<BankPayments> bank_payments;
  Status payments = StartPayments(config, log, ledger, demo_payments, dependencies, metrics,
                                  &bank_client, &bank_payments);
  if (!payments.ok()) return Fail(payments);
  // The relay (and the embedded broker, the intake) run while the API does; destroyed last,
  // the relay flushes what the API wrote until the end.
  Result<std::unique_ptr<KafkaService>> kafka =
      KafkaService::Start(config.kafka, &log, &ledger, models);
  if (!kafka.ok()) return Fail(kafka.status());
  KafkaService* kafka_service = kafka->get();
  ConnectKafka(config, kafka_service, dependencies, metrics);
  // Declared after the Kafka service, so destroyed (stopping the issuer) before it.
  const struct StopCheckpoints {
    CheckpointIssuer* issuer;
    ~StopCheckpoints() {
      if (issuer != nullptr) issuer->Stop();
    }
  } stop_checkpoints{tree->checkpoints.get()};
  Status signing = StartCheckpoints(config, *tree->store, tree->checkpoints.get(), kafka_service);
  if (!signing.ok()) return Fail(signing);
  const BrowserParts browser_parts = StartBrowserParts(config, dependencies);
  Api api(std::move(dependencies));
  const auto synchronous = SynchronousHandlerOf(config, log, api, kafka_service);
  HttpServer server(config.http, synchronous ? synchronous.get() : static_cast<HttpHandler*>(&api),
                    &metrics);
  Status started = server.Start();
  if (!started.ok()) return Fail(WhenPortInUse(started, config.http.port, "--port"));
  std::cout << "malpro: HTTP API on http://" << config.http.listen_address << ":" << server.port()
            << " (" << config.tokens.size() << " tokens configured)" << std::endl;
  PrintConsoleLine(config, browser_parts, server.port());
  if (hints) hints(server.port(), kafka_service->bootstrap());
  std::cout << "malpro: running; stop with Ctrl-C; kill -HUP " << getpid() << " reloads the tokens"
            << std::endl;
  const int signal_number =
      WaitForStopSignal([&] { ReloadTokens(config, browser_parts.sessions.get()); });
  std::cout << "malpro: signal " << signal_number << ", stopping" << std::endl;
  server.Stop();
  if (bank_payments) bank_payments->Stop();
  if (demo_payments != nullptr) demo_payments->Stop();
  models->Stop();
  tree->builder->Stop();
  return kExitOk;
}

void AddServeCommand(CLI::App& app, std::vector<Command>& commands) {
  CLI::App* serve = app.add_subcommand(
      "serve",
      "open the log, seed the policy on first start, and serve the HTTP API until SIGINT/SIGTERM");
  commands.push_back({serve, RunServe});
}

}  // namespace malpro::cli
