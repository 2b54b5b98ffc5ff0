// Cashless payments (one per order; the payment id is the order id) and their exceptions.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/csv_views.h"
#include "adapters/http/http_limits.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_body.h"
#include "engine/error_codes.h"
#include "engine/payment_channel.h"
#include "projections/projector.h"

namespace malpro {

void Api::AddPaymentRoutes() {
  // A refund of part or all of a succeeded payment (e.g. a damaged delivery). The money goes
  // back through the bank's own refund process; this records it, so that spend and sales
  // follow.
  AddRoute(http::verb::post, "/v1/orders/{order_id}/payment/refund", {kOperator, kAdmin},
           [this](ApiCall& call) {
             RequestBody body(call.request.body());
             body.AllowOnly({"amount"});
             const Money amount = body.Amount("amount");
             MALPRO_BODY_OR_RETURN(body, call);
             const std::string& id = call.path["order_id"];
             return RunCommand(call, [&](const CommandContext& context) {
               return deps_.ledger->RefundPayment(id, amount, context);
             });
           });
  // The operator's resolution of a refund_due exception: refunded (the money went back to
  // the payer at the bank) or explained, with a note.
  AddRoute(http::verb::post, "/v1/exceptions/{payment_id}/resolve", {kOperator, kAdmin},
           [this](ApiCall& call) {
             RequestBody body(call.request.body());
             body.AllowOnly({"resolution", "note"});
             const std::string resolution = body.String("resolution");
             const std::string note = body.String("note");
             MALPRO_BODY_OR_RETURN(body, call);
             const std::string& id = call.path["payment_id"];
             return RunCommand(call, [&](const CommandContext& context) {
               return deps_.ledger->ResolveException(id, resolution, note, context);
             });
           });
  AddRoute(http::verb::post, "/v1/orders/{order_id}/payment", {kAsn, kOperator, kAdmin},
           [this](ApiCall& call) { return RequestPayment(call); });
  AddRoute(http::verb::get, "/v1/orders/{order_id}/payment",
           {kAsn, kMerchant, kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
             const std::string& id = call.path["order_id"];
             Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
             if (!order.ok()) return ErrorResponse(call.request, order.status());
             Result<PaymentState> payment = deps_.ledger->LoadPayment(id);
             if (!payment.ok()) return ErrorResponse(call.request, payment.status());
             std::string issued;
             if (payment->status == PaymentStatus::kRequested && deps_.issued_payment) {
               issued = deps_.issued_payment(id);
             }
             return Ok(call.request, PaymentJson(*payment, issued));
           });
}

HttpResponse Api::RequestPayment(ApiCall& call) {
  const std::string& id = call.path["order_id"];
  RequestBody body(call.request.body());
  body.AllowOnly({"channel"});
  const std::string channel = body.String("channel");
  MALPRO_BODY_OR_RETURN(body, call);
  // Whether the order can be paid by this channel is the ledger's rule. A channel it does not
  // know is refused before anything of the order is said (not even whether it exists); the
  // rest is said only to whoever may see the order (LoadOwnOrder).
  MALPRO_CHECK_OR_RETURN(CheckPaymentChannel(channel), call);
  Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
  if (!order.ok()) return ErrorResponse(call.request, order.status());
  if (!deps_.request_payment) {
    // What the order itself rules out is said before the missing bank. (With a bank, the
    // payments adapter asks the ledger the same after answering a retry under its key.)
    OrderState payable_order;
    PaymentState payment;
    MALPRO_CHECK_OR_RETURN(deps_.ledger->CheckPayable(id, channel, &payable_order, &payment), call);
    return ErrorResponse(call.request,
                         Status::Unavailable(errc::kBankNotConfigured,
                                             "no bank is configured (bank.base_url is empty)"));
  }
  Result<CommandContext> context = ContextOf(call);
  if (!context.ok()) return ErrorResponse(call.request, context.status());
  Result<PaymentRequestAnswer> answer = deps_.request_payment(id, channel, *context);
  if (!answer.ok()) return ErrorResponse(call.request, answer.status());
  HttpResponse response = CommandResponse(call.request, answer->result, "payment_id", id);
  // The command's fields, then what the payer needs.
  AppendBodyField(response, "payment", answer->payment_json);
  return response;
}

// The payments work list: pending at the bank with their age, or any status (read model
// work_lists). Roles as the order's payment reads: the buyer, the seller, the city.
void Api::AddPaymentListRoutes() {
  AddRoute(
      http::verb::get, "/v1/payments", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
      [this](ApiCall& call) {
        PaymentListQuery query;
        MALPRO_CHECK_OR_RETURN(
            PartyListFilters(call, &query.buyer_nip, &query.umkm_id, &query.status), call);
        query.channel = QueryText(call, "channel");
        if (call.query.contains("older_than_s")) {
          Result<uint64_t> older = QueryNumber(call, "older_than_s", 0, http_older_than_s_max);
          MALPRO_CHECK_OR_RETURN(older.status(), call);
          query.older_than_s = static_cast<int64_t>(*older);
          // An age is a pending payment's: older_than_s lists those.
          if (query.status.empty()) query.status = "requested";
          if (query.status != "requested") {
            return ErrorResponse(
                call.request, Status::InvalidArgument(
                                  errc::kQueryInvalid, "older_than_s",
                                  "older_than_s lists pending payments only (status=requested)"));
          }
        }
        if (!query.status.empty()) {
          MALPRO_CHECK_OR_RETURN(CheckOneOf(query.status, "status", errc::kQueryStatusUnknown,
                                            std::array<std::string_view, 7>{
                                                "requested", "succeeded", "failed", "expired",
                                                "refunded", "voided", "refund_due"}),
                                 call);
        }
        if (!query.channel.empty()) {
          MALPRO_CHECK_OR_RETURN(
              CheckOneOf(query.channel, "channel", errc::kQueryChannelUnknown, payment_channels),
              call);
        }
        MALPRO_CHECK_OR_RETURN(QueryListPage(call, list_payments, false, &query.page), call);
        query.now_us = deps_.ledger->Now();
        return ReadModel(
            call, [&]() -> Result<std::string> { return deps_.projector->PaymentList(query); },
            &csv_payments);
      });
}

}  // namespace malpro
