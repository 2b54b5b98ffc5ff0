// What the subcommands share: the configuration, the exit on error, the stop signals, and
// opening the ledger.
#include "adapters/cli/commands.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "adapters/cli/geography_config.h"
#include "engine/error_codes.h"
#include "engine/hash.h"

namespace malpro::cli {

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

int UsageError(const CLI::App& command, const std::string& what) {
  std::string path;
  for (const CLI::App* app = &command; app != nullptr; app = app->get_parent()) {
    path.insert(0, app->get_parent() == nullptr ? "malpro" : " " + app->get_name());
  }
  std::string line = what;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::cerr << "malpro: " << line << "; run '" << path << " --help'\n";
  return kExitUsage;
}

namespace {

// RocksDB refuses a second writer of a database: "While lock file: DIR/LOCK: ...".
bool LockHeld(const Status& status) { return status.message().find("LOCK") != std::string::npos; }

}  // namespace

Status WhenLocked(const Status& status, const std::string& data_dir) {
  if (!LockHeld(status)) return status;
  return Status::Unavailable(errc::kDataDirInUse,
                             "data directory " + data_dir +
                                 " is in use by another malpro process (its LOCK is held): stop "
                                 "it or use another --data");
}

BrowserParts StartBrowserParts(const MalproConfig& config, ApiDependencies& dependencies) {
  BrowserParts parts;
  parts.sessions = std::make_unique<SessionTable>(config.sessions);
  if (!config.console_dir.empty()) {
    Result<std::unique_ptr<ConsoleFiles>> console = ConsoleFiles::Load(config.console_dir);
    if (console.ok()) {
      parts.console = std::move(console).value();
    } else {
      std::cerr << "malpro: the console is not served: " << console.status().message() << "\n";
    }
  }
  dependencies.sessions = parts.sessions.get();
  dependencies.console = parts.console.get();
  dependencies.cors_origins = config.cors_origins;
  return parts;
}

void PrintConsoleLine(const MalproConfig& config, const BrowserParts& parts, uint16_t port) {
  if (!parts.console) return;
  std::cout << "malpro: console on http://" << config.http.listen_address << ":" << port << "/ ("
            << parts.console->size() << " files from " << config.console_dir << ")" << std::endl;
}

Status WhenPortInUse(const Status& status, uint16_t port, const std::string& option) {
  // The servers' bind errors carry the system's text for EADDRINUSE.
  const std::string in_use = std::generic_category().message(EADDRINUSE);
  if (status.ok() || status.message().find(in_use) == std::string::npos) return status;
  return Status::Unavailable(errc::kPortInUse, "port " + std::to_string(port) +
                                                   " is in use: stop the other server or pass " +
                                                   option + " N (0: any free port)");
}

namespace {

// How often WaitForStopSignalUntil looks at its `done` flag.
constexpr long stop_signal_poll_ns = 100'000'000;

// SIGINT, SIGTERM and SIGHUP: the signals BlockStopSignals blocks and the waits below take.
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  return signals;
}

}  // namespace

// Blocks SIGINT and SIGTERM in every thread and waits for one of them.
int WaitForStopSignal(const std::function<void()>& on_hangup) {
  const sigset_t signals = StopSignals();
  while (true) {
    int received = 0;
    sigwait(&signals, &received);
    if (received != SIGHUP) return received;
    if (on_hangup) on_hangup();  // else a hangup is ignored: only SIGINT and SIGTERM stop
  }
}

int WaitForStopSignalUntil(const std::atomic<bool>& done) {
  const sigset_t signals = StopSignals();
  const timespec poll{0, stop_signal_poll_ns};
  while (!done.load()) {
    const int received = sigtimedwait(&signals, nullptr, &poll);
    if (received == SIGINT || received == SIGTERM) return received;
  }
  return 0;
}

void BlockStopSignals() {
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void ReloadTokens(const MalproConfig& config, SessionTable* sessions) {
  if (config.source_path.empty()) {
    std::cout << "malpro: SIGHUP: no configuration file (--config) to reload the tokens from"
              << std::endl;
    return;
  }
  Result<MalproConfig> next = LoadConfig(config.source_path);
  if (!next.ok()) {
    std::cerr << "malpro: SIGHUP: tokens not reloaded, the tokens in use stay: "
              << next.status().ToString() << std::endl;
    return;
  }
  config.tokens.ReplaceWith(next->tokens);
  const size_t closed = sessions != nullptr ? sessions->CloseRevoked(config.tokens) : 0;
  std::cout << "malpro: SIGHUP: " << config.tokens.size() << " tokens reloaded from "
            << config.source_path << " (nothing else is reloaded); " << closed
            << " sign-in sessions of tokens no longer there closed" << std::endl;
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

LedgerOptions LedgerOptionsOf(const MalproConfig& config, std::function<int64_t()> clock) {
  LedgerOptions options;
  options.receipt_window_days = config.receipt_window_days;
  options.paid_time_skew_s = config.paid_time_skew_s;
  options.clock = std::move(clock);
  return options;
}

Result<Opened> OpenLedger(const MalproConfig& config, LogOptions log_options,
                          std::function<int64_t()> clock) {
  Result<Geography> geography = LoadGeography(config.geography_file);
  if (!geography.ok()) return geography.status();
  log_options.clock = clock;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(log_options);
  if (!log.ok()) return log.status();
  auto ledger = std::make_unique<Ledger>(log->get(), std::move(geography).value(),
                                         LedgerOptionsOf(config, clock));
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

int CloseLedger(Opened& opened, const LogOptions& log_options) {
  opened.log.reset();  // finishes what is queued; the ledger's caches may still hear of it
  opened.ledger.reset();
  // What the directory holds now that the log is closed: read back without writing or locking.
  LogOptions closed = log_options;
  closed.read_only = true;
  closed.check_on_open = false;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(closed);
  if (!log.ok()) return Fail(log.status());
  const ChainHead head = (*log)->Head();
  std::cout << "malpro: stopped; the log is closed cleanly at sequence " << head.sequence
            << " (head hash " << HashToHex(head.hash) << ")" << std::endl;
  return kExitOk;
}

void PrintHead(const EventLog& log, const std::string& data_dir) {
  const ChainHead head = log.Head();
  std::cout << "malpro: log " << data_dir << " open, head sequence " << head.sequence
            << ", head hash " << HashToHex(head.hash) << std::endl;
}

// settle and reconcile write to the log: while `malpro serve` holds it, say where to go instead.
Status WhenServing(const Status& status, const std::string& route) {
  if (!LockHeld(status)) return status;
  return Status::Unavailable(errc::kDataDirInUse,
                             status.message() +
                                 "\n  the data directory is in use by `malpro serve`; "
                                 "do this through its API instead: " +
                                 route);
}

Result<Opened> OpenExistingLedger(const MalproConfig& config, const std::string& route) {
  MALPRO_RETURN_IF_ERROR(RequireLedgerDirectory(config.log));
  Result<Opened> opened = OpenLedger(config, config.log, {});
  if (!opened.ok()) return WhenServing(opened.status(), route);
  return opened;
}

// The actor of commands run from the command line: the operator at the terminal.
std::string CliActor(const std::string& given) {
  if (!given.empty()) return given;
  const char* user = std::getenv("USER");
  return "operator:" + std::string(user != nullptr && *user != '\0' ? user : "cli");
}

}  // namespace malpro::cli
