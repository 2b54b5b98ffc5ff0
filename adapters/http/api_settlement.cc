// Closing a business day (settlement files) and reconciling a bank statement: work of
// adapters/files that `malpro serve` provides (ApiDependencies).
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "engine/error_codes.h"

namespace malpro {

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

}  // namespace malpro
