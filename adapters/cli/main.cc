// malpro: the one program. Subcommands: serve, demo, audit verify|replay|export, settle,
// reconcile, bank-sim, version.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <tuple>

#include "adapters/bank/in_process_bank.h"
#include "adapters/bank/payments.h"
#include "adapters/bank/simulator.h"
#include "adapters/bank/snap_client.h"
#include "adapters/cli/config.h"
#include "adapters/cli/demo.h"
#include "adapters/files/reconcile.h"
#include "adapters/files/settlement_run.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "projections/projector.h"
#include "adapters/cli/geography_config.h"
#include "adapters/http/api.h"
#include "adapters/http/server.h"
#include "adapters/kafka/kafka_service.h"
#include "adapters/kafka/topic_audit.h"
#include "engine/event_log.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

constexpr char kVersion[] = "0.1.0";

// Exit statuses shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;  // e.g. the chain does not verify
constexpr int kExitError = 2;        // bad configuration, unreadable data

struct CommonOptions {
  std::string config_path;
  std::string data_dir;  // overrides log.data_dir when set
  int port = -1;         // overrides http.port when set
};

Result<MalproConfig> ResolveConfig(const CommonOptions& common) {
  MalproConfig config = DefaultConfig();
  if (!common.config_path.empty()) {
    Result<MalproConfig> loaded = LoadConfig(common.config_path);
    if (!loaded.ok()) return loaded.status();
    config = std::move(loaded).value();
  }
  if (!common.data_dir.empty()) config.log.data_dir = common.data_dir;
  if (common.port >= 0) config.http.port = static_cast<uint16_t>(common.port);
  return config;
}

int Fail(const Status& status) {
  std::cerr << "malpro: " << status.ToString() << "\n";
  return kExitError;
}

// Blocks SIGINT and SIGTERM in every thread and waits for one of them.
int WaitForStopSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

void BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// Serves the API over an open log until SIGINT/SIGTERM. `hints` is printed once serving.
// `demo_payments`, when given, takes payment requests if no bank is configured.
int ServeUntilSignal(const MalproConfig& config, EventLog& log, Ledger& ledger,
                     const std::function<void(uint16_t port, const std::string& kafka)>& hints,
                     BankPayments* demo_payments = nullptr) {
  HttpMetrics metrics;
  metrics.AddGauge("malpro_log_head_sequence", "Sequence of the last durable event.",
                   [&log] { return static_cast<double>(log.Head().sequence); });
  metrics.AddGauge("malpro_log_commands_appended_total", "Commands written since start.",
                   [&log] { return static_cast<double>(log.Counters().commands_appended); }, "counter");
  metrics.AddGauge("malpro_log_events_appended_total", "Events written since start.",
                   [&log] { return static_cast<double>(log.Counters().events_appended); }, "counter");
  metrics.AddGauge("malpro_log_groups_synced_total",
                   "Group writes made durable since start; commands per group is the group-commit factor.",
                   [&log] { return static_cast<double>(log.Counters().groups_synced); }, "counter");
  metrics.AddGauge("malpro_log_syncs_total",
                   "fdatasyncs of the write-ahead log since start, each for one or more groups.",
                   [&log] { return static_cast<double>(log.Counters().syncs); }, "counter");
  metrics.AddGauge("malpro_log_commands_refused_total",
                   "Commands refused by the log (version conflicts, reused idempotency keys).",
                   [&log] { return static_cast<double>(log.Counters().commands_refused); }, "counter");
  metrics.AddGauge("malpro_log_unfinished_events_removed",
                   "Events of a group cut short by a crash while written in parts, removed when "
                   "the log opened (none was acknowledged).",
                   [&log] { return static_cast<double>(log.Counters().unfinished_events_removed); });
  // The read models: caught up before the API opens, then following the log.
  ProjectorOptions projector_options;
  projector_options.dir = config.log.data_dir + "/projections";
  projector_options.progress = [](const std::string& line) {
    std::cerr << "malpro: " << line << std::endl;
  };
  Result<std::unique_ptr<Projector>> projector = Projector::Open(&log, projector_options);
  if (!projector.ok()) return Fail(projector.status());
  Status caught_up = (*projector)->CatchUp();
  if (!caught_up.ok()) return Fail(caught_up);
  (*projector)->Start();
  std::cout << "malpro: read models in " << projector_options.dir << " at sequence "
            << (*projector)->Applied() << std::endl;
  Projector* models = projector->get();
  metrics.AddGauge("malpro_projection_applied_sequence",
                   "Last sequence folded into the read models.",
                   [models] { return static_cast<double>(models->Applied()); });
  metrics.AddGauge("malpro_projection_lag_events",
                   "Events in the log not yet folded into the read models.", [models, &log] {
                     const uint64_t head = log.Head().sequence;
                     return static_cast<double>(head - std::min(head, models->Applied()));
                   });
  ApiDependencies dependencies{&log, &ledger, models, &config.tokens, &metrics,
                               config.http.body_bytes_max, config.http.photo_body_bytes_max, {}, {}};
  // The day's close and the statement's reconciliation, while serving.
  dependencies.close_settlement = [&config, &ledger, &log](
                                      const std::string& date,
                                      const CommandContext& context) -> Result<DetailedAnswer> {
    Result<CivilDate> day = ParseIsoDate(date, "date");
    if (!day.ok()) return day.status();
    Result<SettleOutcome> outcome =
        Settle(ledger, log, *day, config.settlement_out_dir, config.settlement, context);
    if (!outcome.ok()) return outcome.status();
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
    std::cout << "malpro: Bank Jatim notifications accepted at " << snap_qris_notify_path
              << " (partner " << config.bank.partner_id << ", " << config.bank.authentication
              << " signatures)" << std::endl;
  }
  // Payment requests to the bank and the poller of pending payments.
  auto add_payment_metrics = [&metrics](BankPayments* payments) {
    metrics.AddGauge("malpro_bank_payments_pending",
                     "Cashless payments waiting for the bank, as the poller last saw the log.",
                     [payments] { return static_cast<double>(payments->PendingCount()); });
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
      metrics.AddGauge(name, help, [payments, field] {
        return static_cast<double>(payments->Totals().*field);
      }, "counter");
    }
  };
  std::unique_ptr<SnapClient> bank_client;
  std::unique_ptr<BankPayments> bank_payments;
  if (config.bank_client_enabled) {
    Result<std::unique_ptr<SnapClient>> client = SnapClient::Create(config.bank_client);
    if (!client.ok()) return Fail(client.status());
    bank_client = std::move(client).value();
    bank_payments = std::make_unique<BankPayments>(&ledger, &log, bank_client.get(),
                                                   config.bank_payments);
    ConnectPayments(bank_payments.get(), &dependencies);
    add_payment_metrics(bank_payments.get());
    bank_payments->Start();
    std::cout << "malpro: cashless payments requested from " << config.bank_client.base_url
              << "; pending ones asked about after " << config.bank_payments.poll_after_s
              << " s, expired after " << config.bank_payments.expire_after_s << " s" << std::endl;
  } else if (demo_payments != nullptr) {
    ConnectPayments(demo_payments, &dependencies);
    add_payment_metrics(demo_payments);
    demo_payments->Start();
  }
  // The relay (and the embedded broker, the intake) run while the API does; destroyed last,
  // the relay flushes what the API wrote until the end.
  Result<std::unique_ptr<KafkaService>> kafka =
      KafkaService::Start(config.kafka, &log, &ledger, models);
  if (!kafka.ok()) return Fail(kafka.status());
  KafkaService* kafka_service = kafka->get();
  if (config.kafka.enabled) {
    dependencies.health_details = [kafka_service] { return kafka_service->HealthJson(); };
    metrics.AddGauge("malpro_kafka_relay_published_sequence",
                     "Every event up to this sequence is in the events topic.", [kafka_service] {
                       return static_cast<double>(kafka_service->RelayState().published_sequence);
                     });
    metrics.AddGauge("malpro_kafka_relay_lag_events",
                     "Events in the log not yet acknowledged by Kafka.", [kafka_service] {
                       return static_cast<double>(kafka_service->RelayState().lag);
                     });
    metrics.AddGauge("malpro_kafka_changelog_rows_published_total",
                     "Read model rows acknowledged on the changelog topics since start.",
                     [kafka_service] {
                       return static_cast<double>(
                           kafka_service->ChangelogState().rows_published);
                     }, "counter");
  }
  if (!(*kafka)->Description().empty()) std::cout << "malpro: " << (*kafka)->Description() << std::endl;
  Api api(std::move(dependencies));
  HttpServer server(config.http, &api, &metrics);
  Status started = server.Start();
  if (!started.ok()) return Fail(started);
  std::cout << "malpro: HTTP API on http://" << config.http.listen_address << ":" << server.port()
            << " (" << config.tokens.size() << " tokens configured)" << std::endl;
  if (hints) hints(server.port(), kafka_service->bootstrap());
  std::cout << "malpro: running; stop with Ctrl-C" << std::endl;
  const int signal_number = WaitForStopSignal();
  std::cout << "malpro: signal " << signal_number << ", stopping" << std::endl;
  server.Stop();
  if (bank_payments) bank_payments->Stop();
  if (demo_payments != nullptr) demo_payments->Stop();
  models->Stop();
  return kExitOk;
}

// Opens the log and the ledger and writes the configured policy on first start.
struct Opened {
  // Declared first, destroyed last: closing the log answers what is still queued, and those
  // answers may reach the ledger (its caches).
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<EventLog> log;
};

Result<Opened> OpenLedger(const MalproConfig& config, LogOptions log_options,
                          std::function<int64_t()> clock) {
  Result<Geography> geography = LoadGeography(config.geography_file);
  if (!geography.ok()) return geography.status();
  log_options.clock = clock;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(log_options);
  if (!log.ok()) return log.status();
  LedgerOptions ledger_options;
  ledger_options.receipt_window_days = config.receipt_window_days;
  ledger_options.paid_time_skew_s = config.paid_time_skew_s;
  ledger_options.clock = clock;
  auto ledger = std::make_unique<Ledger>(log->get(), std::move(geography).value(), ledger_options);
  CommandContext seeding;
  seeding.actor = "system:config";
  Result<std::optional<CommandResult>> seeded = ledger->SeedPolicy(config.policy, seeding);
  if (!seeded.ok()) return seeded.status();
  return Opened{std::move(ledger), std::move(log).value()};
}

// settle, reconcile and the audit commands work on a ledger that exists: a mistyped --data must
// be an error, not a new empty ledger (settle would close a day with no payments and exit 0).
// Only serve and demo create a data directory. NotFound (data_dir_not_found) when nothing is at
// the path, InvalidArgument (data_dir_not_ledger) when what is there is not a Malpro log.
Status RequireLedgerDirectory(const LogOptions& log_options) {
  const std::string& dir = log_options.data_dir;
  std::error_code error;
  const std::filesystem::file_status found = std::filesystem::status(dir, error);
  if (!std::filesystem::exists(found)) {
    return Status::NotFound(errc::kDataDirNotFound, "log.data_dir",
                            "no data directory at " + dir +
                                " (--data or log.data_dir); settle, reconcile and audit open an "
                                "existing ledger, only serve and demo create one");
  }
  if (!std::filesystem::is_directory(found)) {
    return Status::InvalidArgument(errc::kDataDirNotLedger, "log.data_dir",
                                   dir + " (--data or log.data_dir) is not a directory");
  }
  // A read-only open takes no lock and creates nothing; it tells a Malpro log from anything
  // else (a folder without a database, another RocksDB database).
  LogOptions probe = log_options;
  probe.read_only = true;
  probe.check_on_open = false;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(probe);
  if (!log.ok()) {
    const std::string what = dir + " (--data or log.data_dir) is not a Malpro data directory";
    return Status::InvalidArgument(errc::kDataDirNotLedger, "log.data_dir",
                                   what + ": " + log.status().message());
  }
  return Status::Ok();
}

void PrintHead(const EventLog& log, const std::string& data_dir) {
  const ChainHead head = log.Head();
  std::cout << "malpro: log " << data_dir << " open, head sequence " << head.sequence
            << ", head hash " << HashToHex(head.hash) << std::endl;
}

int RunServe(const CommonOptions& common) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();  // before any thread starts, so that only sigwait sees them
  Result<Opened> opened = OpenLedger(*config, config->log, {});
  if (!opened.ok()) return Fail(opened.status());
  PrintHead(*opened->log, config->log.data_dir);
  return ServeUntilSignal(*config, *opened->log, *opened->ledger, {});
}

int RunDemo(const CommonOptions& common, const DemoOptions& demo) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();
  // While seeding, time is the demo month's; afterwards the wall clock (always later).
  auto simulated = std::make_shared<std::atomic<int64_t>>(0);
  auto clock = [simulated] {
    const int64_t now = simulated->load();
    return now != 0 ? now
                    : std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  };
  {
    // The month must lie before the first event, so seed only into an empty log.
    LogOptions probe = config->log;
    probe.read_only = true;
    Result<std::unique_ptr<EventLog>> existing = EventLog::Open(probe);
    if (existing.ok() && (*existing)->Head().sequence > 0) {
      std::cout << "malpro demo: " << config->log.data_dir
                << " already holds events; serving them without seeding" << std::endl;
      simulated->store(-1);  // marker: do not seed
    }
  }
  const bool seed = simulated->load() == 0;
  simulated->store(seed ? DemoMonthStartMicros(demo) : 0);
  Result<Opened> opened = OpenLedger(*config, config->log, clock);
  if (!opened.ok()) return Fail(opened.status());
  // A simulated bank over real sockets: the seeded cashless payments go through it as real
  // payments would, and while serving it takes the API's payment requests unless a bank is
  // configured.
  std::unique_ptr<InProcessBank> bank;
  if ((seed && demo.bank_payments > 0) || !config->bank_client_enabled) {
    Result<std::unique_ptr<InProcessBank>> started =
        InProcessBank::Start(opened->ledger.get(), opened->log.get(), clock);
    if (!started.ok()) return Fail(started.status());
    bank = std::move(started).value();
  }
  if (seed) {
    // The first cashless payments go through the simulated bank; the rest straight to the
    // ledger (the bank path is slower).
    DemoBank demo_bank;
    if (demo.bank_payments > 0) {
      InProcessBank* link = bank.get();
      demo_bank.payments_max = demo.bank_payments;
      demo_bank.pay = [link](const std::string& order_id, const std::string& channel,
                             bool expire_first) {
        CommandContext context;
        context.actor = "system:bank-adapter";
        return link->Pay(order_id, channel, expire_first, context);
      };
    }
    Result<DemoSummary> summary =
        SeedDemo(*opened->ledger, demo, simulated.get(), demo.bank_payments > 0 ? &demo_bank : nullptr);
    if (!summary.ok()) return Fail(summary.status());
    simulated->store(0);
    PrintDemoSummary(*summary);
  }
  PrintHead(*opened->log, config->log.data_dir);
  // The demo's month is the month of its first event (Asia/Jakarta).
  std::string month;
  Result<std::vector<Event>> first = opened->log->Read(1, 1);
  if (first.ok() && !first->empty()) {
    month = FormatIsoDate(JakartaDate(first->front().recorded_at_us)).substr(0, 7);
  }
  BankPayments* demo_payments = config->bank_client_enabled || !bank ? nullptr : bank->payments();
  const std::string bank_sim_url = demo_payments != nullptr ? bank->simulator_url() : "";
  if (demo_payments != nullptr) {
    std::cout << "malpro: cashless payments go to the demo's simulated bank at " << bank_sim_url
              << " (it pays with POST " << bank_sim_url << "/sim/pay)" << std::endl;
  }
  return ServeUntilSignal(*config, *opened->log, *opened->ledger,
                          [&](uint16_t port, const std::string& kafka) {
                            PrintDemoHints(port, config->log.data_dir, month, kafka, bank_sim_url);
                          },
                          demo_payments);
}

struct BankSimFlags {
  int port = 9090;
  std::string callback_url;  // default: this config's HTTP API
  std::string client_public_key = "config/trial-keys/malpro_public.pem";
  std::string bank_private_key = "config/trial-keys/bank_private.pem";
  std::string state_dir = "bank-sim-state";
};

Result<std::string> ReadTextFile(const std::string& path, std::string_view flag) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) {
    return Status::InvalidArgument(errc::kFileUnreadable, flag, std::string(flag) + ": cannot read " + path);
  }
  return text.str();
}

// A stand-in Bank Jatim on 127.0.0.1 for trials; it serves the partner this config describes.
int RunBankSim(const CommonOptions& common, const BankSimFlags& flags) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();
  Result<std::string> client_key = ReadTextFile(flags.client_public_key, "--client-public-key");
  if (!client_key.ok()) return Fail(client_key.status());
  Result<std::string> bank_key = ReadTextFile(flags.bank_private_key, "--bank-private-key");
  if (!bank_key.ok()) return Fail(bank_key.status());
  BankSimulatorOptions options;
  options.port = static_cast<uint16_t>(flags.port);
  options.client_id = config->bank_client.client_id;
  options.client_secret = config->bank_client.client_secret;
  options.client_public_key_pem = *client_key;
  options.bank_private_key_pem = *bank_key;
  options.notify_partner_id = config->bank.partner_id;
  options.notify_authentication = config->bank.authentication;
  options.notify_client_secret = config->bank.client_secret;
  options.channel_id = config->bank_client.channel_id;
  options.collection_account = config->settlement.debtor_account;
  options.timestamp_window_s = config->bank.timestamp_window_s;
  options.state_dir = flags.state_dir;
  options.callback_base_url = flags.callback_url.empty()
                                  ? "http://127.0.0.1:" + std::to_string(config->http.port)
                                  : flags.callback_url;
  BankSimulator simulator(options);
  Status started = simulator.Start();
  if (!started.ok()) return Fail(started);
  const std::string url = simulator.base_url();
  std::cout << "malpro bank-sim: a SIMULATED Bank Jatim (no money moves) on " << url
            << ", serving partner " << options.client_id << "; notifications ("
            << options.notify_authentication << ") go to " << options.callback_base_url
            << "\n  pay:        curl -s -X POST " << url << "/sim/pay -d '{\"reference\":\"ORDER_ID\"}'"
            << "\n  statement:  curl -s '" << url << "/sim/statement?date=YYYY-MM-DD'"
            << "\n  payments:   curl -s " << url << "/sim/payments"
            << "\nmalpro bank-sim: running; stop with Ctrl-C" << std::endl;
  const int signal_number = WaitForStopSignal();
  std::cout << "malpro bank-sim: signal " << signal_number << ", stopping" << std::endl;
  simulator.Stop();
  return kExitOk;
}

// Prints "verified N/M (P%)" on one line when stderr is a terminal, else a line now and then.
class Progress {
 public:
  explicit Progress(uint64_t total) : total_(total), tty_(isatty(STDERR_FILENO) == 1) {}
  void Report(uint64_t done) {
    const int percent = total_ == 0 ? 100 : static_cast<int>(done * 100 / total_);
    if (tty_) {
      std::fprintf(stderr, "\rverified %llu/%llu (%d%%)", static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total_), percent);
    } else if (percent >= last_percent_ + 10) {
      std::fprintf(stderr, "verified %llu/%llu (%d%%)\n", static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total_), percent);
      last_percent_ = percent;
    }
  }
  void Finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool tty_;
  int last_percent_ = 0;
};

// Prints the verdict of a verification; exit status as `audit verify` documents.
int ReportVerification(const VerifyReport& report, const std::string& expected_head,
                       std::string_view source) {
  if (!report.ok) {
    std::cout << "FAILED at sequence " << report.first_bad_sequence << ": " << report.problem
              << "\n"
              << "verified before it: " << report.events_checked << " events, up to sequence "
              << report.verified_head.sequence << "\n";
    return kExitCheckFailed;
  }
  if (!expected_head.empty() && HashToHex(report.verified_head.hash) != expected_head) {
    std::cout << "FAILED: the chain verifies, but its head hash "
              << HashToHex(report.verified_head.hash) << " (sequence "
              << report.verified_head.sequence << ") is not the expected " << expected_head
              << ": history was rewritten or the range differs\n";
    return kExitCheckFailed;
  }
  std::cout << "OK: " << report.events_checked << " events verified" << source
            << ", head sequence " << report.verified_head.sequence << ", head hash "
            << HashToHex(report.verified_head.hash) << "\n";
  if (report.unfinished_events > 0) {
    std::cout << "note: " << report.unfinished_events
              << " events after the head belong to a group cut short by a crash while it was "
                 "written (never acknowledged, not part of the chain); they continue the chain "
                 "and are removed when the log next opens for writing\n";
  }
  return kExitOk;
}

// `audit verify --kafka BROKERS`: the chain from the events topic alone.
int RunAuditVerifyKafka(const CommonOptions& common, const std::string& brokers,
                        const std::string& expected_head) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  const std::string topic = config->kafka.EventsTopic();
  std::cerr << "reading " << topic << " from " << brokers << "\n";
  Result<std::vector<TopicRecord>> records =
      ReadWholeTopic(brokers, config->kafka, topic, /*timeout_ms=*/60'000);
  if (!records.ok()) return Fail(records.status());
  return ReportVerification(VerifyTopicRecords(*records), expected_head,
                            " from Kafka topic " + topic);
}

int RunAuditVerify(const CommonOptions& common, uint64_t from, uint64_t to,
                   const std::string& expected_head) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Status exists = RequireLedgerDirectory(config->log);
  if (!exists.ok()) return Fail(exists);
  LogOptions options = config->log;
  options.read_only = true;
  options.check_on_open = false;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) return Fail(log.status());
  const uint64_t last = to == 0 ? (*log)->Head().sequence : to;
  Progress progress(last);
  Result<VerifyReport> report =
      (*log)->Verify(from, to, [&](uint64_t sequence) { progress.Report(sequence); });
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  return ReportVerification(*report, expected_head, "");
}

// "YYYY-MM-DD" (the end of that day) or "YYYY-MM-DDTHH:MM[:SS]", Asia/Jakarta, in UTC
// microseconds.
Result<int64_t> ParseJakartaTime(const std::string& text) {
  const auto invalid = [] {
    return Status::InvalidArgument(errc::kTimeInvalid, "at",
                                   "--at must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] "
                                   "(Asia/Jakarta)");
  };
  Result<CivilDate> date = ParseIsoDate(text.substr(0, 10), "at");
  if (!date.ok()) return invalid();
  int64_t seconds = seconds_per_day - 1;
  if (text.size() > 10) {
    const bool with_seconds = text.size() == 19;
    if ((text.size() != 16 && !with_seconds) || text[10] != 'T' || text[13] != ':' ||
        (with_seconds && text[16] != ':')) {
      return invalid();
    }
    auto two_digits = [&](size_t at, int* value) {
      if (!std::isdigit(static_cast<unsigned char>(text[at])) ||
          !std::isdigit(static_cast<unsigned char>(text[at + 1]))) {
        return false;
      }
      *value = (text[at] - '0') * 10 + (text[at + 1] - '0');
      return true;
    };
    int hour = 0, minute = 0, second = 0;
    if (!two_digits(11, &hour) || !two_digits(14, &minute) ||
        (with_seconds && !two_digits(17, &second)) || hour > 23 || minute > 59 || second > 59) {
      return invalid();
    }
    seconds = hour * 3600 + minute * 60 + second;
  }
  return JakartaTimeMicros(*date, seconds) + (micros_per_second - 1);
}

// The last sequence recorded at or before `at_us` (times never go backwards in the log).
Result<uint64_t> LastSequenceAt(const EventLog& log, int64_t at_us) {
  uint64_t low = 0;  // recorded at or before
  uint64_t high = log.Head().sequence + 1;  // after
  while (high - low > 1) {
    const uint64_t middle = low + (high - low) / 2;
    Result<std::vector<Event>> event = log.Read(middle, 1);
    if (!event.ok()) return event.status();
    if (event->empty()) return Status::Corruption("event " + std::to_string(middle) + " is missing");
    if (event->front().recorded_at_us <= at_us) low = middle; else high = middle;
  }
  return low;
}

int RunAuditReplay(const CommonOptions& common, uint64_t until, const std::string& at,
                   std::string out_dir) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Status exists = RequireLedgerDirectory(config->log);
  if (!exists.ok()) return Fail(exists);
  LogOptions options = config->log;
  options.read_only = true;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) return Fail(log.status());
  if (!at.empty()) {
    Result<int64_t> at_us = ParseJakartaTime(at);
    if (!at_us.ok()) return Fail(at_us.status());
    Result<uint64_t> sequence = LastSequenceAt(**log, *at_us);
    if (!sequence.ok()) return Fail(sequence.status());
    until = *sequence;
  }
  if (until == 0 || until > (*log)->Head().sequence) {
    return Fail(Status::InvalidArgument(
        errc::kSequenceInvalid, "until",
        "nothing to replay: the log holds sequences 1.." + std::to_string((*log)->Head().sequence)));
  }
  if (out_dir.empty()) out_dir = "replay-" + std::to_string(until);
  std::error_code error;
  if (std::filesystem::exists(out_dir, error) && !std::filesystem::is_empty(out_dir, error)) {
    return Fail(Status::InvalidArgument(errc::kOutNotEmpty, "out",
                                        out_dir + " is not empty; replay into a new directory"));
  }
  ProjectorOptions projector_options;
  projector_options.dir = out_dir;
  projector_options.until_sequence = until;
  projector_options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  Result<std::unique_ptr<Projector>> projector = Projector::Open(log->get(), projector_options);
  if (!projector.ok()) return Fail(projector.status());
  Status caught_up = (*projector)->CatchUp();
  if (!caught_up.ok()) return Fail(caught_up);
  Result<std::vector<ProjectionDigest>> digests = (*projector)->Digests();
  if (!digests.ok()) return Fail(digests.status());
  const Event last = (*log)->Read(until, 1)->front();
  const std::string month = FormatIsoDate(JakartaDate(last.recorded_at_us)).substr(0, 7);
  std::cout << "replayed to sequence " << until << " (recorded "
            << FormatIsoDate(JakartaDate(last.recorded_at_us)) << ", Asia/Jakarta), hash "
            << HashToHex(last.hash) << "\nread models in " << out_dir << "\n";
  for (const ProjectionDigest& digest : *digests) {
    std::cout << "  " << digest.name << " v" << digest.version << ": " << digest.rows
              << " rows, sha256 " << digest.sha256 << "\n";
  }
  const AsnSpendProjection::Compliance compliance = (*projector)->MonthCompliance(month);
  std::cout << "month " << month << " so far: " << compliance.compliant << " of "
            << compliance.asn << " ASN compliant, committed spend "
            << FormatDisplay(compliance.committed) << "\n";
  return kExitOk;
}

// One event as a line of JSON (docs/event-log-format.md, section 9). It carries the envelope's
// format version, the layout of its canonical bytes, and the payload as a JSON string holding
// the exact stored bytes, so that a verifier can rebuild the canonical bytes without
// re-serializing JSON.
std::string ExportLine(const Event& event) {
  JsonWriter writer;
  WriteEventJson(writer, event, PayloadForm::kString);
  return writer.Take();
}

int RunAuditExport(const CommonOptions& common, uint64_t from, uint64_t to,
                   const std::string& out_path) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Status exists = RequireLedgerDirectory(config->log);
  if (!exists.ok()) return Fail(exists);
  LogOptions options = config->log;
  options.read_only = true;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) return Fail(log.status());
  const uint64_t last = to == 0 ? (*log)->Head().sequence : to;
  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(Status::IOError("cannot write " + out_path));
  }
  std::ostream& out = out_path.empty() ? std::cout : file;
  Progress progress(last);
  uint64_t next = std::max<uint64_t>(from, 1);
  uint64_t written = 0;
  while (next <= last) {
    Result<std::vector<Event>> events = (*log)->Read(next, read_events_max);
    if (!events.ok()) return Fail(events.status());
    if (events->empty()) break;
    for (const Event& event : *events) {
      if (event.sequence > last) break;
      out << ExportLine(event) << "\n";
      ++written;
      next = event.sequence + 1;
    }
    progress.Report(next - 1);
  }
  progress.Finish();
  out.flush();
  if (!out) return Fail(Status::IOError("writing the export failed"));
  std::cerr << "exported " << written << " events (" << from << ".." << last << ")\n";
  return kExitOk;
}

// The actor of commands run from the command line: the operator at the terminal.
std::string CliActor(const std::string& given) {
  if (!given.empty()) return given;
  const char* user = std::getenv("USER");
  return "operator:" + std::string(user != nullptr && *user != '\0' ? user : "cli");
}

void PrintSettlement(const SettleOutcome& outcome) {
  std::printf("business day %s closed: %lld payments from %zu merchants\n",
              FormatIsoDate(outcome.day.business_date).c_str(),
              static_cast<long long>(outcome.day.payments), outcome.day.merchants.size());
  std::printf("%-28s %-16s %8s %16s %14s %16s\n", "merchant", "account", "payments", "gross",
              "fee", "net");
  for (size_t i = 0; i < outcome.day.merchants.size(); ++i) {
    const MerchantSettlement& merchant = outcome.day.merchants[i];
    std::printf("%-28s %-16s %8lld %16s %14s %16s\n", merchant.umkm_id.c_str(),
                outcome.payees[i].settlement_account.c_str(),
                static_cast<long long>(merchant.payments), FormatSnap(merchant.gross).c_str(),
                FormatSnap(merchant.fee).c_str(), FormatSnap(merchant.net).c_str());
  }
  std::printf("%-28s %-16s %8lld %16s %14s %16s\n", "TOTAL", "",
              static_cast<long long>(outcome.day.payments),
              FormatSnap(outcome.day.total_gross).c_str(),
              FormatSnap(outcome.day.total_fee).c_str(), FormatSnap(outcome.day.total_net).c_str());
  if (!outcome.pain001_path.empty()) {
    std::printf("pain.001 %s\n  sha256 %s\n", outcome.pain001_path.c_str(),
                outcome.pain001_sha256.c_str());
  }
  std::printf("csv      %s\n  sha256 %s\n", outcome.csv_path.c_str(), outcome.csv_sha256.c_str());
  std::printf("recorded settlement.batch_closed at sequence %llu (stream settlement-%s)\n",
              static_cast<unsigned long long>(outcome.result.last_sequence),
              FormatIsoDate(outcome.day.business_date).c_str());
}

// settle and reconcile write to the log: while `malpro serve` holds it, say where to go instead.
Status WhenServing(const Status& status, const std::string& route) {
  if (status.message().find("LOCK") == std::string::npos) return status;
  return Status::Unavailable(errc::kDataDirInUse,
                             status.message() + "\n  the data directory is in use by `malpro serve`; "
                             "do this through its API instead: " + route);
}

int RunSettle(const CommonOptions& common, const std::string& date_text, std::string out_dir,
              const std::string& actor) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Result<CivilDate> date = ParseIsoDate(date_text, "date");
  if (!date.ok()) return Fail(date.status());
  Status exists = RequireLedgerDirectory(config->log);
  if (!exists.ok()) return Fail(exists);
  Result<Opened> opened = OpenLedger(*config, config->log, {});
  if (!opened.ok()) {
    return Fail(WhenServing(opened.status(), "curl -X POST -H 'Authorization: Bearer TOKEN' "
                                             "http://HOST:PORT/v1/settlement/" + date_text + "/close"));
  }
  if (out_dir.empty()) out_dir = config->settlement_out_dir;
  CommandContext context;
  context.actor = CliActor(actor);
  std::cerr << "malpro settle: scanning " << opened->log->Head().sequence
            << " events for business day " << date_text << std::endl;
  Result<SettleOutcome> outcome =
      Settle(*opened->ledger, *opened->log, *date, out_dir, config->settlement, context);
  if (!outcome.ok()) return Fail(outcome.status());
  PrintSettlement(*outcome);
  return kExitOk;
}

void PrintReconciliation(const ReconcileOutcome& outcome, const ReconciliationState& state) {
  const RecordReconciliation& run = outcome.report.command;
  Result<std::string> bank_id = StatementIdFromStreamId(run.statement_id);
  std::printf("statement %s (%s, account %s, %s to %s): %lld entries, run %lld\n",
              bank_id.ok() ? bank_id->c_str() : run.statement_id.c_str(), run.format.c_str(),
              run.account.c_str(), run.period_from.c_str(), run.period_to.c_str(),
              static_cast<long long>(run.entries), static_cast<long long>(state.runs));
  std::printf(
      "matched %lld, missing in ledger %lld, missing at bank %lld, amount mismatch %lld, refund "
      "due %lld\n",
      static_cast<long long>(run.matched), static_cast<long long>(run.missing_in_ledger),
      static_cast<long long>(run.missing_at_bank), static_cast<long long>(run.amount_mismatch),
      static_cast<long long>(run.refund_due));
  if (run.discrepancies.empty()) return;
  std::printf("%3s %-18s %-4s %-26s %-20s %-10s %14s %14s %s\n", "#", "discrepancy", "c/d",
              "reference", "payment", "date", "statement", "ledger", "resolution");
  for (const Discrepancy& d : run.discrepancies) {
    const std::string resolution = state.ResolutionOf(d);
    std::printf("%3lld %-18s %-4s %-26s %-20s %-10s %14s %14s %s\n",
                static_cast<long long>(d.index), d.kind.c_str(), d.credit_debit.c_str(),
                d.reference.c_str(), d.payment_id.c_str(), d.booking_date.c_str(),
                d.statement_amount ? FormatSnap(*d.statement_amount).c_str() : "-",
                d.ledger_amount ? FormatSnap(*d.ledger_amount).c_str() : "-",
                resolution.empty() ? "open" : resolution.c_str());
  }
}

int RunReconcile(const CommonOptions& common, const std::string& statement_path,
                 const std::string& format, const std::string& out_path, const std::string& actor) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  std::ifstream file(statement_path, std::ios::binary);
  if (!file) return Fail(Status::IOError("cannot read " + statement_path));
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Status exists = RequireLedgerDirectory(config->log);
  if (!exists.ok()) return Fail(exists);
  Result<Opened> opened = OpenLedger(*config, config->log, {});
  if (!opened.ok()) {
    return Fail(WhenServing(opened.status(), "curl -X POST -H 'Authorization: Bearer TOKEN' "
                                             "--data-binary @" + statement_path +
                                             " http://HOST:PORT/v1/reconciliation"));
  }
  CommandContext context;
  context.actor = CliActor(actor);
  Result<ReconcileOutcome> outcome = RunReconciliation(*opened->ledger, *opened->log, text, format,
                                                       config->settlement.debtor_account, context);
  if (!outcome.ok()) return Fail(outcome.status());
  Result<ReconciliationState> state =
      opened->ledger->LoadReconciliation(outcome->report.command.statement_id);
  if (!state.ok()) return Fail(state.status());
  PrintReconciliation(*outcome, *state);
  if (!out_path.empty()) {
    std::ofstream report(out_path, std::ios::binary | std::ios::trunc);
    report << ReconciliationCsv(outcome->report, &*state);
    report.flush();
    if (!report) return Fail(Status::IOError("cannot write " + out_path));
    std::printf("report %s\n", out_path.c_str());
  }
  std::printf("recorded reconciliation.completed at sequence %llu (stream reconciliation-%s)\n",
              static_cast<unsigned long long>(outcome->result.last_sequence),
              outcome->report.command.statement_id.c_str());
  for (const Discrepancy& discrepancy : state->discrepancies) {
    if (state->ResolutionOf(discrepancy).empty()) return kExitCheckFailed;
  }
  return kExitOk;
}

}  // namespace
}  // namespace malpro

int main(int argc, char** argv) {
  using namespace malpro;
  CLI::App app{"malpro: the Malpro Ledger, an event-sourced ledger for Malang Beli Produk Lokal"};
  app.require_subcommand(1);
  CommonOptions common;
  app.add_option("-c,--config", common.config_path,
                 "TOML configuration file (see config/malpro.toml); built-in defaults when omitted")
      ->check(CLI::ExistingFile);
  app.add_option("-d,--data", common.data_dir, "data directory; overrides log.data_dir");
  app.add_option("-p,--port", common.port, "HTTP port; overrides http.port (0: any free port)")
      ->check(CLI::Range(0, 65535));

  CLI::App* serve = app.add_subcommand(
      "serve",
      "open the log, seed the policy on first start, and serve the HTTP API until SIGINT/SIGTERM");

  CLI::App* audit =
      app.add_subcommand("audit", "auditor tools; an existing data directory is opened read-only");
  audit->require_subcommand(1);
  uint64_t verify_from = 1;
  uint64_t verify_to = 0;
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "recompute the hash chain; prints OK and the head hash, or the first bad sequence and what "
      "is wrong. Exit 0 when it verifies, 1 when it does not, 2 on other errors");
  verify->add_option("--from", verify_from, "first sequence to check (default 1)");
  verify->add_option("--to", verify_to, "last sequence to check (default: the head)");
  std::string verify_head;
  verify->add_option("--head-hash", verify_head,
                     "the head hash recorded earlier (e.g. by the auditor); fail unless the "
                     "verified chain ends on it");
  std::string verify_kafka;
  verify->add_option("--kafka", verify_kafka,
                     "verify from the Kafka events topic instead of the data directory: the "
                     "bootstrap address (e.g. the embedded broker `serve` printed)");

  uint64_t export_from = 1;
  uint64_t export_to = 0;
  std::string export_out;
  CLI::App* export_command = audit->add_subcommand(
      "export",
      "write events as JSON Lines (one event per line with its envelope format version, hashes "
      "in hex, the payload as the exact stored string); scripts/verify_export.py checks the "
      "chain from such a file alone");
  export_command->add_option("--from", export_from, "first sequence (default 1)");
  export_command->add_option("--to", export_to, "last sequence (default: the head)");
  export_command->add_option("-o,--out", export_out, "file to write (default: standard output)");

  uint64_t replay_until = 0;
  std::string replay_at;
  std::string replay_out;
  CLI::App* replay = audit->add_subcommand(
      "replay",
      "rebuild every read model as of a point of the log into a new directory (live state is "
      "never touched) and print each model's digest and the month's compliance figures");
  CLI::Option* until_option =
      replay->add_option("--until", replay_until, "the last sequence to fold");
  replay->add_option("--at", replay_at,
                     "a time instead: YYYY-MM-DD (end of that day) or YYYY-MM-DDTHH:MM[:SS], "
                     "Asia/Jakarta")
      ->excludes(until_option);
  replay->add_option("-o,--out", replay_out, "directory to build in (default: replay-SEQ)");

  DemoOptions demo_options;
  CLI::App* demo = app.add_subcommand(
      "demo",
      "seed a realistic month in Kota Malang (ASN, UMKM, products, orders, receipts, a policy "
      "change) into an empty log through the ordinary commands, then serve it like `serve`; "
      "with a log that already holds events, just serve it");
  demo->add_option("--seed", demo_options.seed, "random seed; the same seed gives the same month");
  demo->add_option("--asn", demo_options.asn_count, "civil servants to register")
      ->check(CLI::Range(1, demo_asn_max));
  demo->add_option("--umkm", demo_options.umkm_count, "merchants to register")
      ->check(CLI::Range(1, demo_umkm_max));
  demo->add_option("--bank-payments", demo_options.bank_payments,
                   "cashless payments to make through an in-process simulated bank over "
                   "127.0.0.1 (the rest go to the ledger directly); default: all; 0: none")
      ->check(CLI::Range(0, 1'000'000));
  demo->add_option("--month", demo_options.month,
                   "the month to seed, YYYY-MM (default: the month before this one)");

  std::string settle_date;
  std::string settle_out;
  std::string command_actor;
  CLI::App* settle = app.add_subcommand(
      "settle",
      "close a business day (Asia/Jakarta, once past its cut-off): per merchant gross, fee and "
      "net of the day's cashless payments, written as pain.001 and CSV, both SHA-256 recorded in "
      "settlement.batch_closed. A day closes once, not before the ledger's first day; a close cut "
      "short is run again. The data directory must exist and not be in use by serve");
  settle->add_option("--date", settle_date, "the business day, YYYY-MM-DD")->required();
  settle->add_option("-o,--out", settle_out, "folder for the files (default: settlement.out_dir)");
  settle->add_option("--actor", command_actor, "who closes it (default: operator:$USER)");

  std::string statement_path;
  std::string statement_format;
  std::string reconcile_out;
  CLI::App* reconcile = app.add_subcommand(
      "reconcile",
      "match a bank statement (camt.053, MT940 or CSV) of the collection account "
      "(settlement.debtor_account) with the ledger and record the run: matched, missing in "
      "ledger, missing at bank, amount mismatch. Exit 0 when nothing is open, 1 when a "
      "discrepancy is, 2 on errors");
  reconcile->add_option("--statement", statement_path, "the statement file")
      ->required()
      ->check(CLI::ExistingFile);
  reconcile->add_option("--format", statement_format, "camt053, mt940 or csv (default: detected)")
      ->check(CLI::IsMember({"camt053", "mt940", "csv"}));
  reconcile->add_option("-o,--out", reconcile_out, "write the report as CSV to this file");
  reconcile->add_option("--actor", command_actor, "who runs it (default: operator:$USER)");

  BankSimFlags sim_flags;
  CLI::App* bank_sim = app.add_subcommand(
      "bank-sim",
      "run a SIMULATED Bank Jatim (SNAP BI token, QRIS generate/query/cancel, VA "
      "create/status/delete-va) on 127.0.0.1 for trials, with a control API (/sim/pay, "
      "{\"late\":true} to pay a voided request anyway, /sim/fail, /sim/delay, /sim/duplicate, "
      "/sim/corrupt, /sim/statement); see docs/bank-simulator.md");
  bank_sim->add_option("--listen-port", sim_flags.port, "port of the simulator (0: any free port)")
      ->check(CLI::Range(0, 65535));
  bank_sim->add_option("--callback", sim_flags.callback_url,
                       "malpro's base URL for notifications (default: http://127.0.0.1:http.port)");
  bank_sim->add_option("--client-public-key", sim_flags.client_public_key,
                       "PEM public key of the partner (verifies its token requests)");
  bank_sim->add_option("--bank-private-key", sim_flags.bank_private_key,
                       "PEM private key of the simulated bank (signs notifications)");
  bank_sim
      ->add_option("--state-dir", sim_flags.state_dir,
                   "where the simulator keeps the high-water mark of its references, so that a "
                   "restart never hands one out again")
      ->capture_default_str();

  CLI::App* version = app.add_subcommand("version", "print the version");

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return RunServe(common);
  if (demo->parsed()) return RunDemo(common, demo_options);
  if (verify->parsed() && !verify_kafka.empty()) {
    return RunAuditVerifyKafka(common, verify_kafka, verify_head);
  }
  if (bank_sim->parsed()) return RunBankSim(common, sim_flags);
  if (verify->parsed()) return RunAuditVerify(common, verify_from, verify_to, verify_head);
  if (export_command->parsed()) return RunAuditExport(common, export_from, export_to, export_out);
  if (replay->parsed()) {
    if (replay_until == 0 && replay_at.empty()) {
      return Fail(Status::InvalidArgument(errc::kOptionMissing, "until", "give --until SEQ or --at TIME"));
    }
    return RunAuditReplay(common, replay_until, replay_at, replay_out);
  }
  if (settle->parsed()) return RunSettle(common, settle_date, settle_out, command_actor);
  if (reconcile->parsed()) {
    return RunReconcile(common, statement_path, statement_format, reconcile_out, command_actor);
  }
  if (version->parsed()) {
    std::cout << "malpro " << kVersion << "\n";
    return 0;
  }
  return 2;
}
