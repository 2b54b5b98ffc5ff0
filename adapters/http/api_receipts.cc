// Manual receipts: submission with a photo, reading, approval and rejection.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/command_bodies.h"
#include "adapters/http/csv_views.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_body.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "projections/projector.h"

namespace malpro {

void Api::AddReceiptRoutes() {
  AddRoute(http::verb::post, "/v1/receipts", {kAsn, kOperator, kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    Result<ReceiptBody> receipt = BindSubmitReceipt(body);
    MALPRO_CHECK_OR_RETURN(receipt.status(), call);
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, receipt->command.nip), call);
    MALPRO_CHECK_OR_RETURN(DecodeReceiptPhoto(*receipt), call);
    const SubmitReceipt& command = receipt->command;
    return RunCommand(
        call,
        [&](const CommandContext& c) -> Result<CommandResult> {
          Result<CommandResult> submitted = deps_.ledger->Submit(command, c);
          // The ledger names the photo; the client sent it as photo_base64.
          if (!submitted.ok() && submitted.status().field() == "photo") {
            return submitted.status().WithField("photo_base64");
          }
          return submitted;
        },
        "receipt_id");
  });
  auto load_own = [this](ApiCall& call) -> Result<ReceiptState> {
    Result<ReceiptState> receipt = deps_.ledger->LoadReceipt(call.path["receipt_id"]);
    if (!receipt.ok()) return receipt.status();
    MALPRO_RETURN_IF_ERROR(CheckOwnNip(call, receipt->nip));
    return receipt;
  };
  AddRoute(http::verb::get, "/v1/receipts/{receipt_id}", {kAsn, kOperator, kAuditor, kAdmin},
           [load_own](ApiCall& call) {
             Result<ReceiptState> receipt = load_own(call);
             if (!receipt.ok()) return ErrorResponse(call.request, receipt.status());
             return Ok(call.request, ReceiptJson(*receipt));
           });
  AddRoute(http::verb::get, "/v1/receipts/{receipt_id}/photo", {kAsn, kOperator, kAuditor, kAdmin},
           [this, load_own](ApiCall& call) {
             Result<ReceiptState> receipt = load_own(call);
             if (!receipt.ok()) return ErrorResponse(call.request, receipt.status());
             Result<std::string> photo = deps_.ledger->Photo(receipt->photo_sha256);
             if (!photo.ok()) return ErrorResponse(call.request, photo.status());
             HttpResponse response{http::status::ok, call.request.version()};
             response.set(http::field::content_type,
                          photo->starts_with("\x89PNG") ? "image/png" : "image/jpeg");
             response.set(http::field::etag, "\"" + receipt->photo_sha256 + "\"");
             response.keep_alive(call.request.keep_alive());
             response.body() = std::move(photo).value();
             response.prepare_payload();
             return response;
           });
  AddRoute(http::verb::post, "/v1/receipts/{receipt_id}/approve", {kOperator, kAdmin},
           [this](ApiCall& call) {
             return RunCommand(call, [&](const CommandContext& c) {
               return deps_.ledger->ApproveReceipt(call.path["receipt_id"], c);
             });
           });
  AddRoute(http::verb::post, "/v1/receipts/{receipt_id}/reject", {kOperator, kAdmin},
           [this](ApiCall& call) {
             return RunReasonCommand(call, [&](const std::string& reason, const CommandContext& c) {
               return deps_.ledger->RejectReceipt(call.path["receipt_id"], reason, c);
             });
           });
}

// The approval queue and an ASN's receipts, with each photo's link (read model work_lists).
void Api::AddReceiptListRoutes() {
  AddRoute(http::verb::get, "/v1/receipts", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             ReceiptListQuery query;
             query.nip = QueryText(call, "nip");
             query.status = QueryText(call, "status");
             query.kelurahan = QueryText(call, "kelurahan");
             MALPRO_CHECK_OR_RETURN(OwnListFilters(call, "nip", &query.nip, nullptr), call);
             if (!query.status.empty()) {
               MALPRO_CHECK_OR_RETURN(
                   CheckOneOf(query.status, "status", errc::kQueryStatusUnknown,
                              std::array<std::string_view, 3>{"submitted", "approved", "rejected"}),
                   call);
             }
             if (!query.kelurahan.empty()) {  // in any letter case; the list knows it as written
               Result<std::string> kelurahan =
                   QueryKelurahan(deps_.ledger->geography(), query.kelurahan, "kelurahan");
               MALPRO_CHECK_OR_RETURN(kelurahan.status(), call);
               query.kelurahan = std::move(kelurahan).value();
             }
             MALPRO_CHECK_OR_RETURN(QueryListPage(call, list_receipts, false, &query.page), call);
             return ReadModel(
                 call, [&]() -> Result<std::string> { return deps_.projector->ReceiptList(query); },
                 &csv_receipts);
           });
}

}  // namespace malpro
