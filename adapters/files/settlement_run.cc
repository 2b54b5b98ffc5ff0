#include "adapters/files/settlement_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "adapters/files/files_limits.h"
#include "engine/hash.h"
#include "engine/json.h"

namespace malpro {
namespace {

Status RefuseIfClosedOrOpen(const Ledger& ledger, CivilDate business_date) {
  Result<SettlementState> closed = ledger.LoadSettlement(business_date);
  if (closed.ok()) {
    return Status::Conflict("settlement_already_closed", "business_date",
                            "business day " + FormatIsoDate(business_date) +
                                " is already closed (files " + closed->file_name + ", csv sha256 " +
                                closed->csv_sha256 + ")");
  }
  if (closed.status().code() != StatusCode::kNotFound) return closed.status();
  Result<int64_t> end = ledger.BusinessDayEnd(business_date);
  if (!end.ok()) return end.status();
  if (ledger.Now() < *end) {
    return Status::Conflict("settlement_day_not_over", "business_date",
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

}  // namespace

Status WriteNewFile(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::Conflict("out_file_exists", "out", path + " exists; it is never overwritten");
    }
    return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  }
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

static_assert(settlement_merchants_max <= end_to_end_index_max,
              "every merchant of a batch needs an end-to-end id");

Result<SettleOutcome> Settle(Ledger& ledger, CivilDate business_date, const std::string& out_dir,
                             const SettlementFileOptions& options, const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(RefuseIfClosedOrOpen(ledger, business_date));
  SettleOutcome outcome;
  Result<SettlementDay> day = ledger.ComputeSettlement(business_date);
  if (!day.ok()) return day.status();
  outcome.day = std::move(day).value();
  if (outcome.day.merchants.size() > settlement_merchants_max) {
    return Status::LimitExceeded("settlement_too_many_merchants", "merchants",
                                 "a settlement batch holds at most " +
                                     std::to_string(settlement_merchants_max) + " merchants");
  }
  Result<std::vector<SettlementPayee>> payees = LoadPayees(ledger, outcome.day);
  if (!payees.ok()) return payees.status();
  outcome.payees = std::move(payees).value();

  const int64_t now = ledger.Now();
  const std::string csv = WriteSettlementCsv(outcome.day, outcome.payees);
  std::string pain001;
  if (!outcome.day.merchants.empty()) {
    pain001 = WritePain001(outcome.day, outcome.payees, options, now,
                           SettlementExecutionDate(business_date, now));
  }
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) return Status::IOError("cannot create " + out_dir + ": " + error.message());
  outcome.csv_path = out_dir + "/" + SettlementCsvFileName(business_date);
  outcome.csv_sha256 = HashToHex(Sha256(csv));
  MALPRO_RETURN_IF_ERROR(WriteNewFile(outcome.csv_path, csv));
  if (!pain001.empty()) {
    outcome.pain001_path = out_dir + "/" + Pain001FileName(business_date);
    outcome.pain001_sha256 = HashToHex(Sha256(pain001));
    Status written = WriteNewFile(outcome.pain001_path, pain001);
    if (!written.ok()) {
      std::filesystem::remove(outcome.csv_path, error);
      return written;
    }
  }
  CloseSettlement command{
      FormatIsoDate(business_date), outcome.day.merchants,
      outcome.day.total_net,        pain001.empty() ? "" : Pain001FileName(business_date),
      outcome.pain001_sha256,       outcome.csv_sha256};
  Result<CommandResult> closed = ledger.Close(command, context);
  if (!closed.ok()) {
    // The files describe a batch the ledger did not record: they must not reach the bank.
    std::filesystem::remove(outcome.csv_path, error);
    if (!outcome.pain001_path.empty()) std::filesystem::remove(outcome.pain001_path, error);
    return closed.status();
  }
  outcome.result = *closed;
  return outcome;
}

std::string SettleOutcomeJson(const SettleOutcome& outcome) {
  const SettlementDay& day = outcome.day;
  JsonWriter writer;
  writer.BeginObject()
      .Field("business_date", FormatIsoDate(day.business_date))
      .Field("payments", day.payments)
      .Field("total_gross", FormatSnap(day.total_gross))
      .Field("total_fee", FormatSnap(day.total_fee))
      .Field("total_net", FormatSnap(day.total_net));
  writer.Key("merchants").BeginArray();
  for (size_t i = 0; i < day.merchants.size(); ++i) {
    const MerchantSettlement& merchant = day.merchants[i];
    writer.BeginObject()
        .Field("umkm_id", merchant.umkm_id)
        .Field("payments", merchant.payments)
        .Field("gross", FormatSnap(merchant.gross))
        .Field("fee", FormatSnap(merchant.fee))
        .Field("net", FormatSnap(merchant.net));
    if (i < outcome.payees.size()) writer.Field("settlement_account", outcome.payees[i].settlement_account);
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
