// `malpro bank-sim`: a stand-in Bank Jatim on 127.0.0.1 for trials (docs/bank-simulator.md).
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string_view>

#include "adapters/bank/simulator.h"
#include "adapters/cli/commands.h"
#include "engine/error_codes.h"

namespace malpro::cli {
namespace {

struct BankSimFlags {
  int port = 9090;
  std::string callback_url;  // default: this config's HTTP API
  std::string client_public_key = "config/trial-keys/malpro_public.pem";
  std::string bank_private_key = "config/trial-keys/bank_private.pem";
  std::string state_dir = "bank-sim-state";
  // The bank as a witness of the city's log: off while witness.key_file is empty.
  WitnessFlags witness{
      "", "bankjatim.co.id/witness-sim", {"config/trial-keys/checkpoint.vkey"}, ""};
};

Result<std::string> ReadTextFile(const std::string& path, std::string_view flag) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) {
    return Status::InvalidArgument(errc::kFileUnreadable, flag,
                                   std::string(flag) + ": cannot read " + path);
  }
  return text.str();
}

// The simulator's options: the partner and the bank as this config describes them, the keys
// read from their files.
Result<BankSimulatorOptions> SimulatorOptions(const MalproConfig& config,
                                              const BankSimFlags& flags) {
  Result<std::string> client_key = ReadTextFile(flags.client_public_key, "--client-public-key");
  if (!client_key.ok()) return client_key.status();
  Result<std::string> bank_key = ReadTextFile(flags.bank_private_key, "--bank-private-key");
  if (!bank_key.ok()) return bank_key.status();
  BankSimulatorOptions options;
  options.port = static_cast<uint16_t>(flags.port);
  options.client_id = config.bank_client.client_id;
  options.client_secret = config.bank_client.client_secret;
  options.client_public_key_pem = *client_key;
  options.bank_private_key_pem = *bank_key;
  options.notify_partner_id = config.bank.partner_id;
  options.notify_authentication = config.bank.authentication;
  options.notify_client_secret = config.bank.client_secret;
  options.channel_id = config.bank_client.channel_id;
  options.collection_account = config.settlement.debtor_account;
  options.timestamp_window_s = config.bank.timestamp_window_s;
  options.state_dir = flags.state_dir;
  options.callback_base_url = flags.callback_url.empty()
                                  ? "http://127.0.0.1:" + std::to_string(config.http.port)
                                  : flags.callback_url;
  return options;
}

// A stand-in Bank Jatim on 127.0.0.1 for trials; it serves the partner this config describes.
int RunBankSim(const CommonOptions& common, const BankSimFlags& flags) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();
  Result<BankSimulatorOptions> options = SimulatorOptions(*config, flags);
  if (!options.ok()) return Fail(options.status());
  Result<OpenedWitness> witness = OpenedWitness{};
  if (!flags.witness.key_file.empty()) {
    WitnessFlags witness_flags = flags.witness;
    witness_flags.state_dir = flags.state_dir + "/witness";
    witness = OpenWitness(witness_flags, "--witness-key", "--witness-log", "--state-dir");
    if (!witness.ok()) return Fail(witness.status());
    options->witness = witness->witness.get();
  }
  BankSimulator simulator(*options);
  Status started = simulator.Start();
  if (!started.ok()) {
    return Fail(WhenPortInUse(started, static_cast<uint16_t>(flags.port), "--listen-port"));
  }
  const std::string url = simulator.base_url();
  std::cout << "malpro bank-sim: a SIMULATED Bank Jatim (no money moves) on " << url
            << ", serving partner " << options->client_id << "; notifications ("
            << options->notify_authentication << ") go to " << options->callback_base_url
            << "\n  pay:        curl -s -X POST " << url
            << "/sim/pay -d '{\"reference\":\"ORDER_ID\"}'"
            << "\n  statement:  curl -s '" << url
            << "/sim/statement?date=YYYY-MM-DD&format=mt940' > statement.sta"
            << "   (format: mt940, camt053 or csv, as malpro reconcile reads; json, the default, "
               "to look at)"
            << "\n  payments:   curl -s " << url << "/sim/payments";
  if (options->witness != nullptr) {
    std::cout << "\n  witness:    " << options->witness->verifier().Text() << " at " << url
              << "/witness/add-checkpoint";
  }
  std::cout << "\nmalpro bank-sim: running; stop with Ctrl-C" << std::endl;
  const int signal_number = WaitForStopSignal();
  std::cout << "malpro bank-sim: signal " << signal_number << ", stopping" << std::endl;
  simulator.Stop();
  return kExitOk;
}

}  // namespace

void AddBankSimCommand(CLI::App& app, std::vector<Command>& commands) {
  auto flags = std::make_shared<BankSimFlags>();
  CLI::App* bank_sim = app.add_subcommand(
      "bank-sim",
      "run a SIMULATED Bank Jatim (SNAP BI token, QRIS generate/query/cancel, VA "
      "create/status/delete-va) on 127.0.0.1 for trials, with a control API (/sim/pay, "
      "{\"late\":true} to pay a voided request anyway, /sim/fail, /sim/delay, /sim/duplicate, "
      "/sim/corrupt, /sim/statement as JSON, or as camt.053, MT940 or CSV for malpro reconcile); "
      "see docs/bank-simulator.md");
  bank_sim->add_option("--listen-port", flags->port, "port of the simulator (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  bank_sim->add_option("--callback", flags->callback_url,
                       "malpro's base URL for notifications (default: http://127.0.0.1:http.port)");
  bank_sim
      ->add_option("--client-public-key", flags->client_public_key,
                   "PEM public key of the partner (verifies its token requests)")
      ->capture_default_str();
  bank_sim
      ->add_option("--bank-private-key", flags->bank_private_key,
                   "PEM private key of the simulated bank (signs notifications)")
      ->capture_default_str();
  bank_sim
      ->add_option("--state-dir", flags->state_dir,
                   "where the simulator keeps the high-water mark of its references, so that a "
                   "restart never hands one out again")
      ->capture_default_str();
  bank_sim->add_option("--witness-key", flags->witness.key_file,
                       "PEM Ed25519 private key: the bank also acts as a witness of the city's log "
                       "(POST /witness/add-checkpoint; trial key "
                       "config/trial-keys/bank_witness_private.pem); default: none (no witness)");
  bank_sim->add_option("--witness-name", flags->witness.name, "the witness's name")
      ->capture_default_str();
  bank_sim
      ->add_option("--witness-log", flags->witness.logs,
                   "verifier key of a log the witness cosigns for (text or file; repeatable)")
      ->capture_default_str();
  commands.push_back(
      {bank_sim, [flags](const CommonOptions& common) { return RunBankSim(common, *flags); }});
}

}  // namespace malpro::cli
