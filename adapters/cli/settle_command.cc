// `malpro settle`: closes a business day into settlement files (adapters/files/settlement_run.h)
// on a ledger that is not being served.
#include <cstdio>
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/files/settlement_run.h"
#include "engine/identifiers.h"
#include "engine/money.h"

namespace malpro::cli {
namespace {

void PrintSettlement(const SettleOutcome& outcome) {
  std::printf("business day %s closed: %lld payments from %zu merchants\n",
              FormatIsoDate(outcome.day.business_date).c_str(),
              static_cast<long long>(outcome.day.payments), outcome.day.merchants.size());
  std::printf("%-28s %-16s %8s %16s %14s %16s\n", "merchant", "account", "payments", "gross", "fee",
              "net");
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

int RunSettle(const CommonOptions& common, const std::string& date_text, std::string out_dir,
              const std::string& actor) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Result<CivilDate> date = ParseIsoDate(date_text, "date");
  if (!date.ok()) return Fail(date.status());
  Result<Opened> opened = OpenExistingLedger(*config,
                                             "curl -X POST -H 'Authorization: Bearer TOKEN' "
                                             "http://HOST:PORT/v1/settlement/" +
                                                 date_text + "/close");
  if (!opened.ok()) return Fail(opened.status());
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

struct SettleFlags {
  std::string date;
  std::string out;    // empty: settlement.out_dir
  std::string actor;  // empty: operator:$USER
};

}  // namespace

void AddSettleCommand(CLI::App& app, std::vector<Command>& commands) {
  auto flags = std::make_shared<SettleFlags>();
  CLI::App* settle = app.add_subcommand(
      "settle",
      "close a business day (Asia/Jakarta, once past its cut-off): per merchant gross, fee and "
      "net of the day's cashless payments, written as pain.001 and CSV, both SHA-256 recorded in "
      "settlement.batch_closed. A day closes once, not before the ledger's first day; a close cut "
      "short is run again. The data directory must exist and not be in use by serve");
  settle->add_option("--date", flags->date, "the business day, YYYY-MM-DD")->required();
  settle->add_option("-o,--out", flags->out, "folder for the files (default: settlement.out_dir)");
  settle->add_option("--actor", flags->actor, "who closes it (default: operator:$USER)");
  commands.push_back({settle, [flags](const CommonOptions& common) {
                        return RunSettle(common, flags->date, flags->out, flags->actor);
                      }});
}

}  // namespace malpro::cli
