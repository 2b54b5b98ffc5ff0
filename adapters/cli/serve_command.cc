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

// With kafka.synchronous: the API's answers to writes wait until the cluster acknowledged what
// they wrote (null otherwise).
std::unique_ptr<HttpHandler> SynchronousHandlerOf(const MalproConfig& config, const EventLog& log,
                                                  Api& api, KafkaService* kafka_service) {
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
// HTTP server and the API first, then the relay, the bank's poller and client, and the core
// (the Merkle tree, the read models, and the metrics, whose gauges read all of them) last.
int ServeUntilSignal(const MalproConfig& config, EventLog& log, Ledger& ledger,
                     const std::function<void(uint16_t port, const std::string& kafka)>& hints,
                     BankPayments* demo_payments) {
  Result<std::unique_ptr<ServingCore>> started = StartServingCore(config, log, /*sign=*/true);
  if (!started.ok()) return Fail(started.status());
  ServingCore& core = **started;
  CheckpointIssuer* const checkpoints = core.tree.checkpoints.get();
  ApiDependencies dependencies =
      ApiDependenciesOf(config, log, ledger, core.models.get(), core.metrics);
  dependencies.tlog = core.tree.store.get();
  dependencies.checkpoints = checkpoints;
  AddSettlementAndBankRoutes(config, log, ledger, checkpoints, dependencies);
  std::unique_ptr<SnapClient> bank_client;
  std::unique_ptr<BankPayments> bank_payments;
  Status payments = StartPayments(config, log, ledger, demo_payments, dependencies, core.metrics,
                                  &bank_client, &bank_payments);
  if (!payments.ok()) return Fail(payments);
  // The relay (and the embedded broker, the intake) run while the API does; destroyed last,
  // the relay flushes what the API wrote until the end.
  Result<std::unique_ptr<KafkaService>> kafka =
      KafkaService::Start(config.kafka, &log, &ledger, core.models.get());
  if (!kafka.ok()) return Fail(kafka.status());
  KafkaService* kafka_service = kafka->get();
  ConnectKafka(config, kafka_service, dependencies, core.metrics);
  // Declared after the Kafka service, so destroyed (stopping the issuer) before it.
  const struct StopCheckpoints {
    CheckpointIssuer* issuer;
    ~StopCheckpoints() {
      if (issuer != nullptr) issuer->Stop();
    }
  } stop_checkpoints{checkpoints};
  Status signing = StartCheckpoints(config, *core.tree.store, checkpoints, kafka_service);
  if (!signing.ok()) return Fail(signing);
  HttpServing serving;
  serving.wrap = [&](Api& api) { return SynchronousHandlerOf(config, log, api, kafka_service); };
  serving.listening = [&](uint16_t port) {
    if (hints) hints(port, kafka_service->bootstrap());
  };
  const int served = ServeHttpUntilSignal(config, std::move(dependencies), core.metrics, serving);
  if (bank_payments) bank_payments->Stop();
  if (demo_payments != nullptr) demo_payments->Stop();
  core.Stop();
  return served;
}

void AddServeCommand(CLI::App& app, std::vector<Command>& commands) {
  CLI::App* serve = app.add_subcommand(
      "serve",
      "open the log, seed the policy on first start, and serve the HTTP API until SIGINT/SIGTERM");
  commands.push_back({serve, RunServe});
}

}  // namespace malpro::cli
