// The subcommands of `malpro`, one file each (serve_command.cc, audit_command.cc, ...), and
// what they share. main.cc assembles them into one CLI11 app. Internal to the program: no
// library or test includes it.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/cli/config.h"
#include "adapters/http/api.h"
#include "adapters/http/console_files.h"
#include "engine/event_log.h"
#include "engine/ledger.h"
#include "engine/result.h"
#include "engine/tlog_witness.h"

namespace malpro {

class BankPayments;
class Projector;

namespace cli {

// What `malpro version` prints and /metrics' malpro_build_info says.
inline constexpr char kVersion[] = "0.1.0";

// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // e.g. the chain does not verify
inline constexpr int kExitError = 2;        // bad configuration, unreadable data
// The command line is wrong (an unknown option or subcommand, a missing or bad value): the
// same status as the errors above, which scripts already treat as "not done".
inline constexpr int kExitUsage = 2;
static_assert(kExitUsage == kExitError, "README and RUNBOOK document one status for both");

// The options given before the subcommand; every subcommand reads its configuration through
// them.
struct CommonOptions {
  std::string config_path;
  std::string data_dir;  // overrides log.data_dir when set
  int port = -1;         // overrides http.port when set
};

// A registered subcommand as main dispatches it: `run` is called once the command line parsed,
// for the one subcommand that was given. `run` owns the storage CLI11 parses the
// subcommand's options into, so the options live as long as the Command.
struct Command {
  CLI::App* subcommand = nullptr;  // owned by the app
  std::function<int(const CommonOptions& common)> run;
};

// Each adds its subcommand (with its options and help text) to `app` and appends what runs it
// to `commands`. main calls them in the order `malpro --help` lists the subcommands.
void AddServeCommand(CLI::App& app, std::vector<Command>& commands);
// `replica --kafka BROKERS` (replica_command.cc).
void AddReplicaCommand(CLI::App& app, std::vector<Command>& commands);
// `promote --kafka BROKERS` (promote_command.cc).
void AddPromoteCommand(CLI::App& app, std::vector<Command>& commands);
// `broker`: the embedded Kafka broker on its own (broker_command.cc).
void AddBrokerCommand(CLI::App& app, std::vector<Command>& commands);
void AddAuditCommands(CLI::App& app, std::vector<Command>& commands);  // verify, export, replay
// `audit check-proof` and `audit verify --since-checkpoint` (audit_proofs.cc).
void AddCheckProofCommand(CLI::App& audit, std::vector<Command>& commands);
// The witnesses whose cosignatures a check requires: --witness keys (cosigners' verifier keys,
// text or file; repeatable) and --witnesses-required N. Without --witness, the config's
// [[transparency.witnesses]] and witnesses_required; with --witness and no N, all of them.
struct CosignatureFlags {
  std::vector<std::string> witnesses;
  int required = -1;  // -1: as above
};
void AddCosignatureOptions(CLI::App* command, CosignatureFlags* flags);
int RunAuditSinceCheckpoint(const CommonOptions& common, const std::string& file,
                            const std::string& key, const CosignatureFlags& cosignatures);
// `audit verify --kafka`: the chain of what the events topic still holds, tied to the signed
// checkpoints of the checkpoints topic when a key is given or configured.
int RunAuditVerifyKafka(const CommonOptions& common, const std::string& brokers,
                        const std::string& key, const std::string& expected_head);
// `backup -o DIR` and `restore --from DIR` (backup_command.cc).
void AddBackupCommands(CLI::App& app, std::vector<Command>& commands);
void AddDemoCommand(CLI::App& app, std::vector<Command>& commands);
void AddSettleCommand(CLI::App& app, std::vector<Command>& commands);
void AddReconcileCommand(CLI::App& app, std::vector<Command>& commands);
void AddBankSimCommand(CLI::App& app, std::vector<Command>& commands);
void AddWitnessCommand(CLI::App& app, std::vector<Command>& commands);

// A witness's key, name, the logs it cosigns for and its state (witness_command.cc); `malpro
// witness` and `malpro bank-sim --witness-key` open one.
struct WitnessFlags {
  std::string key_file;           // PEM Ed25519 private key
  std::string name;               // its name in cosignatures
  std::vector<std::string> logs;  // verifier keys of the logs (text, or a file holding it)
  std::string state_dir;
};
struct OpenedWitness {
  std::unique_ptr<Witness> witness;
  std::vector<std::string> origins;
};
// The flags' names (`key_flag`, ...) are what errors name.
Result<OpenedWitness> OpenWitness(const WitnessFlags& flags, std::string_view key_flag,
                                  std::string_view log_flag, std::string_view state_flag);

// ---- Shared by the commands (commands.cc, audit_proofs.cc). ----

// A small file (a proof, checkpoint or key: at most 256 KiB); InvalidArgument naming `option`
// when it cannot be read or is larger.
Result<std::string> ReadSmallFile(const std::string& path, std::string_view option);
// A verifier key given as NAME+KEYID+BASE64 or as a file that holds it; InvalidArgument
// note_key_invalid naming `option` otherwise.
Result<NoteVerifier> VerifierKeyArgument(const std::string& given, std::string_view option);

// The log's checkpoint verifier key: `key` (the key itself, NAME+KEYID+BASE64, or a file
// holding it; named --key in errors), else the one of [transparency] private_key_file; an
// error naming --key when neither is there.
Result<NoteVerifier> ResolveVerifier(const MalproConfig& config, const std::string& key);

// The built-in defaults or the --config file, with --data and --port applied.
Result<MalproConfig> ResolveConfig(const CommonOptions& common);

// Prints the status to standard error and returns kExitError.
int Fail(const Status& status);

// Prints `malpro: WHAT; run 'malpro SUB --help'` (one line, naming `command`, the app or
// subcommand whose command line is wrong) to standard error and returns kExitUsage.
int UsageError(const CLI::App& command, const std::string& what);

// `status` from opening the log for writing (serve, demo); when another process holds the
// data directory's RocksDB LOCK, Unavailable data_dir_in_use saying what to do instead.
Status WhenLocked(const Status& status, const std::string& data_dir);

// `status` from starting a server on `port`; when the port is in use, Unavailable port_in_use
// saying what to do instead: stop the other server or pass `option` (e.g. "--port") N.
Status WhenPortInUse(const Status& status, uint16_t port, const std::string& option);

// The console's files and the sign-in sessions, which the API uses while it runs.
struct BrowserParts {
  std::unique_ptr<SessionTable> sessions;
  std::unique_ptr<ConsoleFiles> console;
};

// Loads the console (a line on standard error when it is not served), opens the sessions and
// sets the CORS origins, in `dependencies`.
BrowserParts StartBrowserParts(const MalproConfig& config, ApiDependencies& dependencies);
// "malpro: console on http://ADDRESS:PORT/ (N files from DIR)" when one is served.
void PrintConsoleLine(const MalproConfig& config, const BrowserParts& parts, uint16_t port);

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread; called before any thread starts, so
// that every thread inherits the mask and only WaitForStopSignal sees them.
void BlockStopSignals();
// Waits for SIGINT or SIGTERM (blocked by BlockStopSignals) and returns its number. Each
// SIGHUP meanwhile calls `on_hangup` (when set) and goes on waiting.
int WaitForStopSignal(const std::function<void()>& on_hangup = {});
// The same until `done` is set (looked at every 100 ms): 0 then. A SIGHUP is ignored.
int WaitForStopSignalUntil(const std::atomic<bool>& done);
// What `malpro serve` (and `replica`) do on SIGHUP: read the tokens of config.source_path again
// and use them at once (a file that does not load leaves the tokens in use, and says why), and
// close the sign-in sessions of tokens no longer there. Nothing else is reloaded.
void ReloadTokens(const MalproConfig& config, SessionTable* sessions);

// The log and the ledger, opened by OpenLedger.
struct Opened {
  // Declared first, destroyed last: closing the log answers what is still queued, and those
  // answers may reach the ledger (its caches).
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<EventLog> log;
};

// The ledger's options from the config; `clock`, when set, is the time it reads.
LedgerOptions LedgerOptionsOf(const MalproConfig& config, std::function<int64_t()> clock);

// Opens the log and the ledger and writes the configured policy on first start. `clock`, when
// set, is the time both read.
Result<Opened> OpenLedger(const MalproConfig& config, LogOptions log_options,
                          std::function<int64_t()> clock);

// Ok unless the log is a read replica's (its writer epoch names "replica"): then Conflict
// log_is_replica, as `malpro serve` and `malpro demo` refuse it until `malpro promote`.
Status CheckWriterIsPrimary(const MalproConfig& config, const EventLog& log);

// Closes the log (finishing what is queued) and the ledger, once nothing else writes to them,
// then prints "malpro: stopped; the log is closed cleanly at sequence N (head hash H)", as read
// back from the closed directory. Returns kExitOk, or the error reading it back.
int CloseLedger(Opened& opened, const LogOptions& log_options);

// Ok when a Malpro log is at log_options.data_dir; settle, reconcile and the audit commands
// call it before opening one (see commands.cc for why).
Status RequireLedgerDirectory(const LogOptions& log_options);

// Prints the data directory and the head of its log to standard output.
void PrintHead(const EventLog& log, const std::string& data_dir);

// `status` from opening the log for writing; when `malpro serve` holds the log, the status
// says so and names `route`, the API call that does the same.
Status WhenServing(const Status& status, const std::string& route);

// Opens the existing ledger at config.log.data_dir (RequireLedgerDirectory, then OpenLedger)
// for a command run from the command line; when `malpro serve` holds it, the error names
// `route` (WhenServing).
Result<Opened> OpenExistingLedger(const MalproConfig& config, const std::string& route);

// The actor of commands run from the command line: `given`, else the operator at the terminal.
std::string CliActor(const std::string& given);

// ---- serve_command.cc, also used by demo. ----

// Serves the API over an open log until SIGINT/SIGTERM (blocked beforehand with
// BlockStopSignals). `hints` is printed once serving. `demo_payments`, when given, takes
// payment requests if no bank is configured. Returns the exit status once everything it
// started has stopped; the caller then closes the log (CloseLedger).
int ServeUntilSignal(const MalproConfig& config, EventLog& log, Ledger& ledger,
                     const std::function<void(uint16_t port, const std::string& kafka)>& hints,
                     BankPayments* demo_payments = nullptr);

// ---- replay_serve.cc: `malpro audit replay --serve`. ----

// Serves the API read-only over `log`, opened read-only as of a sequence (LogOptions::
// read_until), and `projector`, replayed to it, until SIGINT/SIGTERM (blocked beforehand).
int ServeReplay(const MalproConfig& config, EventLog& log, Projector& projector);

}  // namespace cli
}  // namespace malpro
