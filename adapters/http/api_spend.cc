// ASN spend and the city's compliance: read-model reads, and the closing of a month.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/csv_views.h"
#include "adapters/http/http_limits.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/log_limits.h"
#include "projections/projector.h"

namespace malpro {

void Api::AddSpendRoutes() {
  AddRoute(http::verb::get, "/v1/asn/{nip}/spend", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, call.path["nip"]), call);
             return ReadModel(call, [&] { return deps_.projector->AsnHistory(call.path["nip"]); });
           });
  AddRoute(http::verb::get, "/v1/asn/{nip}/spend/{month}", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, call.path["nip"]), call);
             MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
             return ReadModel(call, [&] {
               return deps_.projector->AsnSpend(call.path["nip"], call.path["month"]);
             });
           });
  AddRoute(http::verb::get, "/v1/compliance/{month}", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
             const std::string by =
                 QueryText(call, "by").empty() ? "agency" : QueryText(call, "by");
             if (by != "agency" && by != "rank_class") {
               return ErrorResponse(call.request,
                                    Status::InvalidArgument(errc::kQueryInvalid, "by",
                                                            "by must be agency or rank_class"));
             }
             const bool by_agency = by == "agency";
             return ReadModel(
                 call,
                 [&]() -> Result<std::string> {
                   return deps_.projector->Rollup(
                       call.path["month"], by_agency ? RollupBy::kAgency : RollupBy::kRankClass);
                 },
                 by_agency ? &csv_compliance_by_agency : &csv_compliance_by_rank_class);
           });
  // Closes a month's compliance with the figures the read models give at the log's head.
  AddRoute(http::verb::post, "/v1/compliance/{month}/close", {kOperator, kAdmin},
           [this](ApiCall& call) { return CloseCompliance(call); });
  AddRoute(http::verb::get, "/v1/compliance/{month}/shortfalls", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
             Result<PageQuery> page = QueryPage(call);
             MALPRO_CHECK_OR_RETURN(page.status(), call);
             // The agency in any letter case; one no registered ASN has is agency_unknown.
             return ReadModel(
                 call,
                 [&]() -> Result<std::string> {
                   return deps_.projector->Shortfalls(call.path["month"], QueryText(call, "agency"),
                                                      page->offset, page->limit);
                 },
                 &csv_shortfalls);
           });
}

HttpResponse Api::CloseCompliance(ApiCall& call) {
  const std::string& month = call.path["month"];
  MALPRO_CHECK_OR_RETURN(CheckMonthParameter(month), call);
  if (deps_.projector == nullptr) {
    return ErrorResponse(
        call.request, Status::Unavailable(errc::kReadModelsOff, "the read models are not running"));
  }
  Result<CommandContext> context = ContextOf(call);
  if (!context.ok()) return ErrorResponse(call.request, context.status());
  Result<CommandResult> result = Status::Unavailable(errc::kComplianceFiguresStale, "not tried");
  MonthFigures figures;
  // The log may move on between reading the figures and appending: try again a few times.
  for (int attempt = 0; attempt < compliance_close_attempts_max; ++attempt) {
    const uint64_t head = deps_.log->Head().sequence;
    if (!deps_.projector->WaitForApplied(head, std::chrono::milliseconds(http_read_wait_ms))) {
      return ErrorResponse(call.request,
                           Status::Unavailable(errc::kReadModelsBehind,
                                               "the read models did not reach the log's head"));
    }
    auto [computed, applied] = deps_.projector->ComplianceFigures(month);
    figures = std::move(computed);
    CloseComplianceMonth command{month,
                                 applied,
                                 figures.asn,
                                 figures.compliant,
                                 figures.committed,
                                 figures.shortfall,
                                 figures.sha256};
    result = deps_.ledger->CloseMonth(command, *context);
    if (result.ok() || result.status().error_code() != errc::kComplianceFiguresStale) break;
  }
  if (!result.ok()) return ErrorResponse(call.request, result.status());
  HttpResponse response = CommandResponse(call.request, *result);
  // The command's fields, then the figures it closed the month with.
  const std::string closed = JsonWriter()
                                 .BeginObject()
                                 .Field("month", month)
                                 .Field("asn", figures.asn)
                                 .Field("compliant", figures.compliant)
                                 .Field("committed", AmountText(figures.committed))
                                 .Field("shortfall", AmountText(figures.shortfall))
                                 .Field("figures_sha256", figures.sha256)
                                 .EndObject()
                                 .Take();
  std::string& text = response.body();
  text.back() = ',';
  text.append(closed, 1);  // without its opening brace
  response.prepare_payload();
  return response;
}

}  // namespace malpro
