#include "adapters/files/settlement_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <tuple>
#include <vector>

#include "adapters/files/files_limits.h"
#include "engine/aggregates.h"
#include "engine/assert.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/json.h"

namespace malpro {
namespace {

// Ends the process at `step` when the test hook asks for it (settlement_run.h).
void CrashPoint(std::string_view step) {
  MALPRO_ASSERT(std::find(std::begin(settle_crash_steps), std::end(settle_crash_steps), step) !=
                std::end(settle_crash_steps));
  const char* wanted = std::getenv(settle_crash_variable);
  if (wanted != nullptr && step == wanted) ::_exit(settle_crash_exit_code);
}

Status RefuseIfClosed(const Ledger& ledger, CivilDate business_date) {
  Result<SettlementState> closed = ledger.LoadSettlement(business_date);
  if (closed.status().code() == StatusCode::kNotFound) return Status::Ok();
  if (!closed.ok()) return closed.status();
  // Name both files with their recorded hashes, so that the operator can check the files at
  // hand (sha256sum) against what the ledger closed.
  const std::string pain001 =
      closed->file_name.empty()
          ? "no pain.001 (no line of the day pays anything)"
          : "pain.001 " + closed->file_name + " sha256 " + closed->pain001_sha256;
  return Status::Conflict(
      errc::kSettlementAlreadyClosed, "business_date",
      "business day " + FormatIsoDate(business_date) + " is already closed: " + pain001 + ", csv " +
          SettlementCsvFileName(business_date) + " sha256 " + closed->csv_sha256);
}

// A day before the first event recorded nothing: closing it would close it for good with no
// payments, which is nearly always a mistyped date.
Status RefuseIfBeforeFirstDay(const EventLog& log, CivilDate business_date) {
  Result<std::vector<Event>> first = log.Read(1, 1);
  if (!first.ok()) return first.status();
  const std::string date = FormatIsoDate(business_date);
  if (first->empty()) {
    return Status::InvalidArgument(errc::kSettlementBeforeFirstDay, "business_date",
                                   "business_date (--date) " + date +
                                       ": the ledger holds no events yet, so it has no day to "
                                       "settle");
  }
  const CivilDate first_day = JakartaDate(first->front().recorded_at_us);
  if (business_date < first_day) {
    return Status::InvalidArgument(
        errc::kSettlementBeforeFirstDay, "business_date",
        "business_date (--date) " + date + " is before the ledger's first day " +
            FormatIsoDate(first_day) + " (the Asia/Jakarta date of event 1); nothing was " +
            "recorded then");
  }
  return Status::Ok();
}

Status RefuseIfNotOver(const Ledger& ledger, CivilDate business_date) {
  Result<int64_t> end = ledger.BusinessDayEnd(business_date);
  if (!end.ok()) return end.status();
  if (ledger.Now() < *end) {
    return Status::Conflict(errc::kSettlementDayNotOver, "business_date",
                            "business day " + FormatIsoDate(business_date) +
                                " is not over: it ends at its cut-off (Asia/Jakarta)");
  }
  return Status::Ok();
}

Result<std::vector<SettlementPayee>> LoadPayees(const Ledger& ledger, const SettlementDay& day) {
  std::vector<SettlementPayee> payees;
  for (const MerchantSettlement& merchant : day.merchants) {
    Result<UmkmState> umkm = ledger.LoadUmkm(merchant.umkm_id);
    if (!umkm.ok()) return umkm.status();
    payees.push_back({merchant.umkm_id, umkm->name, umkm->settlement_account});
  }
  return payees;
}

// Writes `bytes` to `path`, replacing what is there, and syncs it.
Status WriteSyncedFile(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      return Status::IOError("writing " + path + ": " + reason);
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) return Status::IOError("syncing " + path + " failed");
  return Status::Ok();
}

// Makes the renames in `dir` durable before the event that names the files is appended.
Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + dir + ": " + std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Status::IOError("syncing " + dir + " failed");
  return Status::Ok();
}

// One file of the day: where it goes and its bytes.
struct DayFile {
  std::string path;
  std::string bytes;
  const char* written_step;  // the crash step reached once its temp file is synced
};

void RemoveQuietly(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

// Writes every file under its temp name, then renames each into place and syncs the folder.
// `stale` names a file of the day that must not remain, nor its temp file (a pain.001 of a day
// without payments: not the ledger's). On failure the temp files are removed.
Status WriteDayFiles(const std::string& out_dir, const std::vector<DayFile>& files,
                     const std::string& stale) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) return Status::IOError("cannot create " + out_dir + ": " + error.message());
  auto discard_temps = [&files] {
    for (const DayFile& file : files) RemoveQuietly(SettlementTempPath(file.path));
  };
  for (const DayFile& file : files) {
    Status written = WriteSyncedFile(SettlementTempPath(file.path), file.bytes);
    if (!written.ok()) {
      discard_temps();
      return written;
    }
    CrashPoint(file.written_step);
  }
  for (const DayFile& file : files) {
    if (::rename(SettlementTempPath(file.path).c_str(), file.path.c_str()) != 0) {
      const std::string reason = std::strerror(errno);
      discard_temps();
      return Status::IOError("cannot rename into " + file.path + ": " + reason);
    }
  }
  const std::vector<std::string> unwanted =
      stale.empty() ? std::vector<std::string>() : std::vector{stale, SettlementTempPath(stale)};
  for (const std::string& path : unwanted) {
    std::filesystem::remove(path, error);
    if (error) return Status::IOError("cannot remove " + path + ": " + error.message());
  }
  CrashPoint("after_rename");
  return SyncDirectory(out_dir);
}

// After a failed write or a refused close: files of a day that is still open describe a batch
// the ledger did not record and must not reach the bank. When the day turns out closed (the
// event landed although the answer was an error) or its state cannot be read, they stay: a
// new run then settles the question.
void RemoveUnrecorded(const Ledger& ledger, CivilDate business_date,
                      const std::vector<DayFile>& files) {
  if (ledger.LoadSettlement(business_date).status().code() != StatusCode::kNotFound) return;
  for (const DayFile& file : files) RemoveQuietly(file.path);
}

static_assert(settlement_merchants_max <= end_to_end_index_max,
              "every merchant of a batch needs an end-to-end id");

Result<SettleOutcome> SettleDay(Ledger& ledger, const EventLog* log, CivilDate business_date,
                                const std::string& out_dir, const SettlementFileOptions& options,
                                const CommandContext& context) {
  // One close at a time: two closes of one day writing the same files at once could leave the
  // files of one and the hashes of the other.
  static std::mutex closing;
  std::lock_guard<std::mutex> lock(closing);
  MALPRO_RETURN_IF_ERROR(RefuseIfClosed(ledger, business_date));
  MALPRO_RETURN_IF_ERROR(RefuseIfBeforeFirstDay(*log, business_date));
  MALPRO_RETURN_IF_ERROR(RefuseIfNotOver(ledger, business_date));
  SettleOutcome outcome;
  Result<SettlementDay> day = ledger.ComputeSettlement(business_date);
  if (!day.ok()) return day.status();
  outcome.day = std::move(day).value();
  if (outcome.day.merchants.size() > settlement_merchants_max) {
    return Status::LimitExceeded(errc::kSettlementTooManyMerchants, "merchants",
                                 "a settlement batch holds at most " +
                                     std::to_string(settlement_merchants_max) + " merchants");
  }
  Result<std::vector<SettlementPayee>> payees = LoadPayees(ledger, outcome.day);
  if (!payees.ok()) return payees.status();
  outcome.payees = std::move(payees).value();

  const int64_t now = ledger.Now();
  std::vector<DayFile> files;
  const std::string pain001_path = out_dir + "/" + Pain001FileName(business_date);
  if (SettlementPays(outcome.day)) {
    files.push_back({pain001_path,
                     WritePain001(outcome.day, outcome.payees, options, now,
                                  SettlementExecutionDate(business_date, now)),
                     "after_pain001"});
    outcome.pain001_path = pain001_path;
    outcome.pain001_sha256 = HashToHex(Sha256(files.back().bytes));
  }
  outcome.csv_path = out_dir + "/" + SettlementCsvFileName(business_date);
  files.push_back({outcome.csv_path, WriteSettlementCsv(outcome.day, outcome.payees), "after_csv"});
  outcome.csv_sha256 = HashToHex(Sha256(files.back().bytes));
  Status written = WriteDayFiles(out_dir, files, outcome.pain001_path.empty() ? pain001_path : "");
  if (!written.ok()) {
    RemoveUnrecorded(ledger, business_date, files);
    return written;
  }
  CrashPoint("before_close_event");

  CloseSettlement command{FormatIsoDate(business_date),
                          outcome.day.merchants,
                          outcome.day.total_net,
                          outcome.pain001_path.empty() ? "" : Pain001FileName(business_date),
                          outcome.pain001_sha256,
                          outcome.csv_sha256};
  Result<CommandResult> closed = ledger.Close(command, context);
  if (!closed.ok()) {
    RemoveUnrecorded(ledger, business_date, files);
    return closed.status();
  }
  CrashPoint("after_close_event");
  outcome.result = *closed;
  return outcome;
}

}  // namespace

std::string SettlementTempPath(const std::string& path) { return path + ".tmp"; }

Result<SettleOutcome> Settle(Ledger& ledger, const EventLog& log, CivilDate business_date,
                             const std::string& out_dir, const SettlementFileOptions& options,
                             const CommandContext& context) {
  return SettleDay(ledger, &log, business_date, out_dir, options, context);
}

std::string SettleOutcomeJson(const SettleOutcome& outcome) {
  const SettlementDay& day = outcome.day;
  JsonWriter writer;
  writer.BeginObject()
      .Field("business_date", FormatIsoDate(day.business_date))
      .Field("payments", day.payments)
      .Field("total_gross", FormatSnap(day.total_gross))
      .Field("total_fee", FormatSnap(day.total_fee))
      .Field("total_refunds", FormatSnap(day.total_refunds))
      .Field("total_net", FormatSnap(day.total_net));
  writer.Key("merchants").BeginArray();
  for (size_t i = 0; i < day.merchants.size(); ++i) {
    const MerchantSettlement& merchant = day.merchants[i];
    writer.BeginObject();
    WriteMerchantSettlementFields(writer, merchant);
    if (i < outcome.payees.size())
      writer.Field("settlement_account", outcome.payees[i].settlement_account);
    writer.EndObject();
  }
  writer.EndArray();
  for (const auto& [key, path, sha256] :
       {std::tuple{"pain001", outcome.pain001_path, outcome.pain001_sha256},
        std::tuple{"csv", outcome.csv_path, outcome.csv_sha256}}) {
    writer.Key(key).BeginObject().Field("file", path).Field("sha256", sha256).EndObject();
  }
  return writer.EndObject().Take();
}

}  // namespace malpro
