// `malpro witness`: a C2SP tlog-witness (docs/transparency.md, section 8), and the opening of a
// witness that `malpro bank-sim --witness-key` shares.
#include <iostream>
#include <map>

#include "adapters/cli/commands.h"
#include "adapters/http/metrics.h"
#include "adapters/http/server.h"
#include "adapters/http/witness_handler.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"

namespace malpro::cli {
namespace {

struct WitnessCommandFlags {
  WitnessFlags witness{"config/trial-keys/witness_private.pem",
                       "malangkota.go.id/witness-trial",
                       {"config/trial-keys/checkpoint.vkey"},
                       "witness-state"};
  std::string listen_address = "127.0.0.1";
  int port = 8090;
};

int RunWitness(const WitnessCommandFlags& flags) {
  BlockStopSignals();
  Result<OpenedWitness> opened = OpenWitness(flags.witness, "--key", "--log", "--state-dir");
  if (!opened.ok()) return Fail(opened.status());
  WitnessHandler handler(opened->witness.get(), opened->origins,
                         [] { return static_cast<uint64_t>(WallClockMicros() / 1'000'000); });
  HttpMetrics metrics;
  HttpOptions options;
  options.listen_address = flags.listen_address;
  options.port = static_cast<uint16_t>(flags.port);
  options.io_threads = 1;
  options.worker_threads = 2;
  HttpServer server(options, &handler, &metrics);
  Status started = server.Start();
  if (!started.ok()) return Fail(WhenPortInUse(started, options.port, "--listen-port"));
  std::cout << "malpro witness: " << opened->witness->verifier().Text() << "\n  cosigns for:";
  for (const std::string& origin : opened->origins) std::cout << " " << origin;
  std::cout << "\n  add-checkpoint: http://" << flags.listen_address << ":" << server.port()
            << "/add-checkpoint   (state in " << flags.witness.state_dir << ")"
            << "\nmalpro witness: running; stop with Ctrl-C" << std::endl;
  const int signal_number = WaitForStopSignal();
  std::cout << "malpro witness: signal " << signal_number << ", stopping" << std::endl;
  server.Stop();
  return kExitOk;
}

}  // namespace

Result<OpenedWitness> OpenWitness(const WitnessFlags& flags, std::string_view key_flag,
                                  std::string_view log_flag, std::string_view state_flag) {
  Result<std::string> pem = ReadSmallFile(flags.key_file, key_flag);
  if (!pem.ok()) return pem.status();
  Result<NoteSigner> cosigner =
      NoteSigner::FromPem(flags.name, *pem, key_flag, note_type_cosignature_v1);
  if (!cosigner.ok()) return cosigner.status();
  std::map<std::string, WitnessLog> by_origin;  // a log's keys are named after its origin
  for (const std::string& given : flags.logs) {
    Result<NoteVerifier> key = VerifierKeyArgument(given, log_flag);
    if (!key.ok()) return key.status();
    WitnessLog& log = by_origin[key->name];
    log.origin = key->name;
    log.keys.push_back(*key);
  }
  OpenedWitness opened;
  std::vector<WitnessLog> logs;
  for (auto& [origin, log] : by_origin) {
    opened.origins.push_back(origin);
    logs.push_back(std::move(log));
  }
  if (flags.state_dir.empty()) {
    return Status::InvalidArgument(errc::kOptionMissing, state_flag,
                                   std::string(state_flag) + " must name a directory");
  }
  Result<std::unique_ptr<Witness>> witness =
      Witness::Open(std::move(cosigner).value(), std::move(logs), flags.state_dir);
  if (!witness.ok()) return witness.status();
  opened.witness = std::move(witness).value();
  return opened;
}

void AddWitnessCommand(CLI::App& app, std::vector<Command>& commands) {
  auto flags = std::make_shared<WitnessCommandFlags>();
  CLI::App* witness = app.add_subcommand(
      "witness",
      "run a witness (C2SP tlog-witness): POST /add-checkpoint cosigns a log's signed checkpoint "
      "only when it is consistent with the last one it cosigned for that log; see "
      "docs/transparency.md, section 8");
  witness->add_option("--key", flags->witness.key_file, "PEM Ed25519 private key of the witness")
      ->capture_default_str();
  witness->add_option("--name", flags->witness.name, "the witness's name in its cosignatures")
      ->capture_default_str();
  witness
      ->add_option("--log", flags->witness.logs,
                   "verifier key of a log to cosign for (its name is the log's origin), as text "
                   "or a file; repeat for more logs or keys")
      ->capture_default_str();
  witness
      ->add_option("--state-dir", flags->witness.state_dir,
                   "where the latest checkpoint cosigned per log is kept (survives restarts)")
      ->capture_default_str();
  witness->add_option("--listen-address", flags->listen_address, "address to listen on")
      ->capture_default_str();
  witness->add_option("--listen-port", flags->port, "port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  commands.push_back({witness, [flags](const CommonOptions&) { return RunWitness(*flags); }});
}

}  // namespace malpro::cli
