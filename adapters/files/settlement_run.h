// `malpro settle`: closes one business day. Computes the day's totals from the log, writes the
// pain.001 and CSV files, and records both SHA-256 in settlement.batch_closed. Nothing is left
// on disk when the ledger refuses the close (e.g. the day is already closed).
#pragma once

#include <string>

#include "adapters/files/settlement_files.h"
#include "engine/ledger.h"

namespace malpro {

struct SettleOutcome {
  SettlementDay day;
  std::vector<SettlementPayee> payees;  // in the order of day.merchants
  std::string pain001_path;             // empty when the day had no payments
  std::string csv_path;
  std::string pain001_sha256;  // lowercase hex, empty when there is no pain.001
  std::string csv_sha256;
  CommandResult result;
};

// Closes `business_date`, writing its files into `out_dir` (created when missing). Refuses
// before writing anything when the day is already closed or not over, and when a file of that
// name exists in `out_dir`.
Result<SettleOutcome> Settle(Ledger& ledger, CivilDate business_date, const std::string& out_dir,
                             const SettlementFileOptions& options, const CommandContext& context);

// The outcome as JSON for the API: business_date, payments, total_gross, total_fee, total_net,
// merchants (umkm_id, payments, gross, fee, net, settlement_account), pain001 and csv (file,
// sha256).
std::string SettleOutcomeJson(const SettleOutcome& outcome);

// Writes `bytes` to a new file at `path` (refusing an existing one) and syncs it.
Status WriteNewFile(const std::string& path, std::string_view bytes);

}  // namespace malpro
