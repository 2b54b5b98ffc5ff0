// malpro: the one program. Subcommands: serve, demo, audit verify|replay|export, settle,
// reconcile, bank-sim, version; each but version in a file of its own (adapters/cli/commands.h).
// Here: the options every subcommand shares, the app, and the dispatch.
#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "adapters/cli/commands.h"

namespace malpro::cli {
namespace {

constexpr char kVersion[] = "0.1.0";

void AddCommonOptions(CLI::App& app, CommonOptions& common) {
  app.add_option("-c,--config", common.config_path,
                 "TOML configuration file (see config/malpro.toml); built-in defaults when omitted")
      ->check(CLI::ExistingFile);
  app.add_option("-d,--data", common.data_dir, "data directory; overrides log.data_dir");
  app.add_option("-p,--port", common.port, "HTTP port; overrides http.port (0: any free port)")
      ->check(CLI::Range(0, 65535));
}

void AddVersionCommand(CLI::App& app, std::vector<Command>& commands) {
  CLI::App* version = app.add_subcommand("version", "print the version");
  commands.push_back({version, [](const CommonOptions&) {
                        std::cout << "malpro " << kVersion << "\n";
                        return kExitOk;
                      }});
}

}  // namespace
}  // namespace malpro::cli

int main(int argc, char** argv) {
  using namespace malpro::cli;
  CLI::App app{"malpro: the Malpro Ledger, an event-sourced ledger for Malang Beli Produk Lokal"};
  app.require_subcommand(1);
  CommonOptions common;
  AddCommonOptions(app, common);
  // In the order `malpro --help` lists them.
  std::vector<Command> commands;
  AddServeCommand(app, commands);
  AddAuditCommands(app, commands);
  AddDemoCommand(app, commands);
  AddSettleCommand(app, commands);
  AddReconcileCommand(app, commands);
  AddBankSimCommand(app, commands);
  AddVersionCommand(app, commands);

  CLI11_PARSE(app, argc, argv);
  // Exactly one subcommand (and under audit, one of its own) was given: the app and audit
  // require one, and allow no more.
  for (const Command& command : commands) {
    if (command.subcommand->parsed()) return command.run(common);
  }
  return kExitError;
}
