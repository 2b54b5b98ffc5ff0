// `malpro settle`: closes one business day. Computes the day's totals from the log, writes the
// pain.001 and CSV files, and records both SHA-256 in settlement.batch_closed.
//
// Crash safety (docs/settlement-files.md, "Writing the files"): each file is written to
// "<name>.tmp", synced and renamed over "<name>", the folder is synced, and only then is the
// close recorded. Killed at any point before the event is durable, the day stays open and the
// next run writes both files again over whatever the killed run left; once the event is
// durable, the files on disk are those whose SHA-256 it records. Closes in one process take
// turns (the log's lock keeps a second process out), so two closes never write the same files.
#pragma once

#include <string>

#include "adapters/files/settlement_files.h"
#include "engine/event_log.h"
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
// before writing anything a day already closed (settlement_already_closed, the message giving
// each recorded file's name and SHA-256; the files on disk are left alone), a day before the
// ledger's first day, the Asia/Jakarta date of event 1 (settlement_before_first_day), and a
// day not over (settlement_day_not_over). Files of the day that an earlier, unfinished run left
// are replaced. When the ledger refuses the close after the files were written (e.g.
// settlement_totals_stale: a payment landed meanwhile), they are removed again.
Result<SettleOutcome> Settle(Ledger& ledger, const EventLog& log, CivilDate business_date,
                             const std::string& out_dir, const SettlementFileOptions& options,
                             const CommandContext& context);

// The outcome as JSON for the API: business_date, payments, total_gross, total_fee,
// total_refunds, total_net, merchants (umkm_id, payments, gross, fee, refunds, refund_count,
// carried_in, net, carried_out, settlement_account), pain001 and csv (file,
// sha256).
std::string SettleOutcomeJson(const SettleOutcome& outcome);

// Where a settlement file is written before it is renamed into place: "<path>.tmp".
std::string SettlementTempPath(const std::string& path);

// Test hook for the crash tests (tests/cli/settle_crash_test.sh): when the environment variable
// MALPRO_SETTLE_CRASH_AT names one of the steps below, the process ends with
// _exit(settle_crash_exit_code) on reaching it, as if killed there. Never set in production.
inline constexpr char settle_crash_variable[] = "MALPRO_SETTLE_CRASH_AT";
inline constexpr int settle_crash_exit_code = 86;
inline constexpr const char* settle_crash_steps[] = {
    "after_pain001",       // the pain.001 written and synced under its temp name
    "after_csv",           // the CSV too
    "after_rename",        // both renamed into place, the folder not yet synced
    "before_close_event",  // the folder synced, settlement.batch_closed not yet appended
    "after_close_event"};  // the event durable, nothing reported yet

}  // namespace malpro
