// `malpro reconcile`: matches a bank statement with the ledger (adapters/files/reconcile.h) and
// records the run, on a ledger that is not being served.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/files/reconcile.h"
#include "adapters/files/statement.h"
#include "engine/money.h"

namespace malpro::cli {
namespace {

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

// Writes the report as CSV to `out_path` and says so.
Status WriteReport(const ReconcileOutcome& outcome, const ReconciliationState& state,
                   const std::string& out_path) {
  std::ofstream report(out_path, std::ios::binary | std::ios::trunc);
  report << ReconciliationCsv(outcome.report, &state);
  report.flush();
  if (!report) return Status::IOError("cannot write " + out_path);
  std::printf("report %s\n", out_path.c_str());
  return Status::Ok();
}

int RunReconcile(const CommonOptions& common, const std::string& statement_path,
                 const std::string& format, const std::string& out_path, const std::string& actor) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  std::ifstream file(statement_path, std::ios::binary);
  if (!file) return Fail(Status::IOError("cannot read " + statement_path));
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Result<Opened> opened =
      OpenExistingLedger(*config,
                         "curl -X POST -H 'Authorization: Bearer TOKEN' "
                         "--data-binary @" +
                             statement_path + " http://HOST:PORT/v1/reconciliation");
  if (!opened.ok()) return Fail(opened.status());
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
    Status written = WriteReport(*outcome, *state, out_path);
    if (!written.ok()) return Fail(written);
  }
  std::printf("recorded reconciliation.completed at sequence %llu (stream reconciliation-%s)\n",
              static_cast<unsigned long long>(outcome->result.last_sequence),
              outcome->report.command.statement_id.c_str());
  for (const Discrepancy& discrepancy : state->discrepancies) {
    if (state->ResolutionOf(discrepancy).empty()) return kExitCheckFailed;
  }
  return kExitOk;
}

struct ReconcileFlags {
  std::string statement_path;
  std::string format;  // empty: detected
  std::string out;     // empty: no CSV report
  std::string actor;   // empty: operator:$USER
};

}  // namespace

void AddReconcileCommand(CLI::App& app, std::vector<Command>& commands) {
  auto flags = std::make_shared<ReconcileFlags>();
  CLI::App* reconcile = app.add_subcommand(
      "reconcile",
      "match a bank statement (camt.053, MT940 or CSV) of the collection account "
      "(settlement.debtor_account) with the ledger and record the run: matched, missing in "
      "ledger, missing at bank, amount mismatch. Exit 0 when nothing is open, 1 when a "
      "discrepancy is, 2 on errors");
  reconcile->add_option("--statement", flags->statement_path, "the statement file")
      ->required()
      ->check(CLI::ExistingFile);
  reconcile->add_option("--format", flags->format, "camt053, mt940 or csv (default: detected)")
      ->check(CLI::IsMember({"camt053", "mt940", "csv"}));
  reconcile->add_option("-o,--out", flags->out,
                        "write the report as CSV to this file (default: none, no report file)");
  reconcile->add_option("--actor", flags->actor, "who runs it (default: operator:$USER)");
  commands.push_back({reconcile, [flags](const CommonOptions& common) {
                        return RunReconcile(common, flags->statement_path, flags->format,
                                            flags->out, flags->actor);
                      }});
}

}  // namespace malpro::cli
