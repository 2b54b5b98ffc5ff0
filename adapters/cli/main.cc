// malpro: the one program. Subcommands: serve, demo, audit verify|replay|export, backup,
// restore, settle, reconcile, bank-sim, version; each but version in a file of its own
// (adapters/cli/commands.h).
// Here: the options every subcommand shares, the app, the dispatch, and usage errors (exit 2
// with a one-line hint, never CLI11's own exit codes).
#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "adapters/cli/commands.h"

namespace malpro::cli {
namespace {

// Given before or after the subcommand, at any depth (`malpro audit verify --data DIR`): every
// subcommand falls through to the app for the options it does not know.
void AddCommonOptions(CLI::App& app, CommonOptions& common) {
  app.fallthrough();  // inherited by the subcommands added after it
  app.add_option("-c,--config", common.config_path,
                 "TOML configuration file like config/malpro.toml (default: none, the built-in "
                 "defaults)")
      ->check(CLI::ExistingFile);
  app.add_option("-d,--data", common.data_dir,
                 "data directory; overrides log.data_dir (default: log.data_dir, ./data)");
  app.add_option("-p,--port", common.port,
                 "HTTP port; overrides http.port (default: http.port, 8080; 0: any free port)")
      ->check(CLI::Range(0, 65535));
}

// Each subcommand's --help names the global options, which its own list does not show.
void AddGlobalOptionsFooter(CLI::App& app) {
  for (CLI::App* subcommand : app.get_subcommands([](CLI::App*) { return true; })) {
    subcommand->footer(
        "Global options, before or after the subcommand: -c,--config FILE, -d,--data DIR, "
        "-p,--port N (see malpro --help)");
    AddGlobalOptionsFooter(*subcommand);
  }
}

// The deepest subcommand the command line reached (the app itself when none).
const CLI::App& CommandGiven(const CLI::App& app) {
  const CLI::App* given = &app;
  while (!given->get_subcommands().empty()) given = given->get_subcommands().front();
  return *given;
}

// What was wrong, in a phrase: CLI11's message, except that a word where a subcommand belongs
// is named as an unknown subcommand (CLI11 says one is required).
std::string UsageProblem(const CLI::App& app, const CLI::App& given, const CLI::ParseError& error) {
  const std::vector<const CLI::App*> choices =
      given.get_subcommands([](const CLI::App*) { return true; });
  if (choices.empty() || !given.get_subcommands().empty()) return error.what();
  std::string names;
  for (const CLI::App* choice : choices) names += (names.empty() ? "" : ", ") + choice->get_name();
  for (const std::string& word : app.remaining(/*recurse=*/true)) {
    if (!word.empty() && word[0] != '-') {
      return "unknown subcommand '" + word + "' (one of: " + names + ")";
    }
  }
  return "a subcommand is required (one of: " + names + ")";
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
  AddReplicaCommand(app, commands);
  AddPromoteCommand(app, commands);
  AddAuditCommands(app, commands);
  AddBackupCommands(app, commands);
  AddDemoCommand(app, commands);
  AddSettleCommand(app, commands);
  AddReconcileCommand(app, commands);
  AddBankSimCommand(app, commands);
  AddWitnessCommand(app, commands);
  AddBrokerCommand(app, commands);
  AddVersionCommand(app, commands);
  AddGlobalOptionsFooter(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help (and --help-all) end parsing with status 0: print the help as CLI11 does.
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);
    const CLI::App& given = CommandGiven(app);
    return UsageError(given, UsageProblem(app, given, error));
  }
  // Exactly one subcommand (and under audit, one of its own) was given: the app and audit
  // require one, and allow no more.
  for (const Command& command : commands) {
    if (command.subcommand->parsed()) return command.run(common);
  }
  return kExitError;
}
