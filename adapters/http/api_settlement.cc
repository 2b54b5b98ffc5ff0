// Closing a business day (settlement files) and reconciling a bank statement: work of
// adapters/files that `malpro serve` provides (ApiDependencies). The closed days' batches and
// their files, from the read model work_lists.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/csv_views.h"
#include "adapters/http/http_limits.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "projections/projector.h"

namespace malpro {
namespace {

// The bytes of a settlement file the batch recorded, checked against its recorded SHA-256.
// `name` is a name the log holds, never one from the request.
Result<std::string> ReadSettlementFile(const std::string& out_dir, const std::string& name,
                                       const std::string& sha256) {
  const std::filesystem::path path = std::filesystem::path(out_dir) / name;
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return Status::NotFound(errc::kSettlementFileNotFound, "name",
                            name + " is recorded but not in settlement.out_dir (" + out_dir + ")");
  }
  if (size > http_settlement_file_bytes_max) {
    return Status::IOError(name + " is larger than " +
                           std::to_string(http_settlement_file_bytes_max) + " bytes");
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  if (!file.good() && !file.eof()) return Status::IOError("cannot read " + path.string());
  std::string text = bytes.str();
  if (HashToHex(Sha256(text)) != sha256) {
    return Status::Corruption(name +
                              " in settlement.out_dir does not match the SHA-256 the log "
                              "recorded for it (" +
                              sha256 + ")");
  }
  return text;
}

}  // namespace

void Api::AddDayCloseRoutes() {
  // Answers the command's fields and, under `key`, the details.
  auto detailed = [](ApiCall& call, std::string_view key, const Result<DetailedAnswer>& answer) {
    if (!answer.ok()) return ErrorResponse(call.request, answer.status());
    HttpResponse response = CommandResponse(call.request, answer->result);
    AppendBodyField(response, key, answer->details_json);
    return response;
  };
  AddRoute(http::verb::post, "/v1/settlement/{date}/close", {kOperator, kAdmin},
           [this, detailed](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckDate(call.path["date"], "date"), call);
             if (!deps_.close_settlement) {
               return ErrorResponse(
                   call.request,
                   Status::Unavailable(errc::kSettlementOff, "settlement is not available here"));
             }
             Result<CommandContext> context = ContextOf(call);
             MALPRO_CHECK_OR_RETURN(context.status(), call);
             return detailed(call, "settlement",
                             deps_.close_settlement(call.path["date"], *context));
           });
  AddRoute(http::verb::post, "/v1/reconciliation", {kOperator, kAdmin},
           [this, detailed](ApiCall& call) {
             const std::string format = QueryText(call, "format");
             if (!format.empty() && format != "camt053" && format != "mt940" && format != "csv") {
               return ErrorResponse(
                   call.request, Status::InvalidArgument(errc::kQueryInvalid, "format",
                                                         "format must be camt053, mt940 or csv"));
             }
             if (!deps_.reconcile_statement) {
               return ErrorResponse(call.request,
                                    Status::Unavailable(errc::kReconciliationOff,
                                                        "reconciliation is not available here"));
             }
             Result<CommandContext> context = ContextOf(call);
             MALPRO_CHECK_OR_RETURN(context.status(), call);
             return detailed(call, "reconciliation",
                             deps_.reconcile_statement(call.request.body(), format, *context));
           });
}

// Closed days: the batches, one batch with its merchants, and its two files.
void Api::AddSettlementListRoutes() {
  const std::set<Role> city = {kOperator, kAuditor, kAdmin};
  AddRoute(http::verb::get, "/v1/settlement", city, [this](ApiCall& call) {
    ListPage page;
    MALPRO_CHECK_OR_RETURN(QueryListPage(call, list_settlement, true, &page), call);
    return ReadModel(
        call, [&]() -> Result<std::string> { return deps_.projector->SettlementBatches(page); },
        &csv_settlement_batches);
  });
  AddRoute(http::verb::get, "/v1/settlement/{date}", city, [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckDate(call.path["date"], "date"), call);
    const CivilDate date = *ParseIsoDate(call.path["date"], "date");
    return ReadModel(
        call, [&]() -> Result<std::string> { return deps_.projector->SettlementBatch(date); },
        &csv_settlement_batch);
  });
  AddRoute(http::verb::get, "/v1/settlement/{date}/files/{name}", city,
           [this](ApiCall& call) { return SettlementFile(call); });
}

HttpResponse Api::SettlementFile(ApiCall& call) {
  MALPRO_CHECK_OR_RETURN(CheckDate(call.path["date"], "date"), call);
  const CivilDate date = *ParseIsoDate(call.path["date"], "date");
  if (deps_.settlement_out_dir.empty()) {
    return ErrorResponse(call.request, Status::Unavailable(errc::kSettlementOff,
                                                           "settlement files are not served here"));
  }
  const std::string& name = call.path["name"];
  std::string bytes;
  std::string content_type;
  // The file is sent as recorded: a format= (ReadModel's JSON or CSV) does not apply to it.
  call.query.erase("format");
  HttpResponse response = ReadModel(call, [&]() -> Result<std::string> {
    Result<SettlementBatchFiles> files = deps_.projector->SettlementFiles(date);
    if (!files.ok()) return files.status();
    // Only the names the batch recorded are served, from the configured folder.
    std::string sha256;
    if (!files->pain001_file.empty() && name == files->pain001_file) {
      sha256 = files->pain001_sha256;
      content_type = "application/xml";
    } else if (name == files->csv_file) {
      sha256 = files->csv_sha256;
      content_type = "text/csv; charset=utf-8";
    } else {
      return Status::NotFound(
          errc::kSettlementFileNotFound, "name",
          "the batch of " + call.path["date"] + " recorded " +
              (files->pain001_file.empty() ? "" : files->pain001_file + " and ") + files->csv_file +
              " only");
    }
    Result<std::string> read = ReadSettlementFile(deps_.settlement_out_dir, name, sha256);
    if (!read.ok()) return read.status();
    bytes = std::move(read).value();
    return std::string("{}");
  });
  if (response.result() != http::status::ok) return response;
  response.set(http::field::content_type, content_type);
  response.set(http::field::content_disposition, "attachment; filename=\"" + name + "\"");
  response.body() = std::move(bytes);
  response.prepare_payload();
  return response;
}

}  // namespace malpro
