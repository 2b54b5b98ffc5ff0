// Orders: placing (also without a waiting thread, HandleAsync), reading, and their transitions.
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
namespace {

// Who may place an order: the route's roles, and HandleAsync's.
const std::set<Role> kPlaceOrderRoles = {kAsn, kOperator, kAdmin};

}  // namespace

bool Api::HandleAsync(std::shared_ptr<const HttpRequest> request,
                      std::function<void(MakeResponse)> respond,
                      std::function<void(std::function<void()>)> defer) {
  if (request->method() != http::verb::post || !deps_.read_only.empty()) return false;
  if (deps_.write_gate && !deps_.write_gate().ok()) return false;  // Handle refuses it
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(request->target(), &path, &query);
  if (path != "/v1/orders" || !query.empty()) return false;
  // Anything to refuse is refused by Handle, with the same words.
  Result<Principal> principal = Authenticate(*request);
  if (!principal.ok() || !kPlaceOrderRoles.contains(principal->role)) {
    return false;
  }
  ApiCall call{*request, *principal, {}, {}};
  RequestBody body(request->body());
  Result<PlaceOrder> order = BindPlaceOrder(body);
  if (!order.ok() || !CheckOwnNip(call, order->buyer_nip).ok()) return false;
  Result<CommandContext> context = ContextOf(call);
  if (!context.ok()) return false;
  Ledger* ledger = deps_.ledger;
  auto answer = [request](const Result<CommandResult>& result) -> HttpResponse {
    if (!result.ok()) return ErrorResponse(*request, result.status());
    const size_t dash = result->stream_id.find('-');
    return CommandResponse(*request, *result, "order_id", result->stream_id.substr(dash + 1));
  };
  return ledger->PlaceAsync(
      *order, *context,
      [ledger, context = *context, respond, defer, answer](Result<CommandResult> result,
                                                           const PlaceOrder& placed) {
        if (!result.ok() && result.status().error_code() == errc::kStreamVersionConflict) {
          // A cached state was stale: decide again on fresh state, where waiting is allowed.
          defer([ledger, context, placed, respond, answer] {
            Result<CommandResult> again = ledger->Place(placed, context);
            respond([answer, again = std::move(again)] { return answer(again); });
          });
          return;
        }
        // Possibly on the log's syncing thread: the response is made where it is written.
        respond([answer, result = std::move(result)] { return answer(result); });
      });
}

void Api::AddOrderRoutes() {
  AddRoute(http::verb::post, "/v1/orders", kPlaceOrderRoles, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    Result<PlaceOrder> order = BindPlaceOrder(body);
    if (!order.ok()) return ErrorResponse(call.request, order.status());
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, order->buyer_nip), call);
    return RunCommand(
        call, [&](const CommandContext& c) { return deps_.ledger->Place(*order, c); }, "order_id");
  });
  AddRoute(http::verb::get, "/v1/orders/{order_id}", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, call.path["order_id"]);
             if (!order.ok()) return ErrorResponse(call.request, order.status());
             return Ok(call.request, OrderJson(*order));
           });
  using Transition = Result<CommandResult> (Ledger::*)(std::string_view, const CommandContext&);
  const std::pair<std::string, Transition> transitions[] = {
      {"accept", &Ledger::AcceptOrder},
      {"deliver", &Ledger::DeliverOrder},
      {"cash-received", &Ledger::ConfirmCashReceived}};
  for (const auto& [name, method] : transitions) {
    AddRoute(http::verb::post, "/v1/orders/{order_id}/" + name, {kMerchant, kOperator, kAdmin},
             [this, method = method](ApiCall& call) {  // clang 14 cannot capture a binding
               const std::string& id = call.path["order_id"];
               Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
               if (!order.ok()) return ErrorResponse(call.request, order.status());
               // The ledger by name, not through this: GCC's -fsanitize=vptr misreads `this`
               // captured implicitly by a lambda nested in one with an init-capture.
               Ledger* ledger = deps_.ledger;
               return RunCommand(call, [ledger, method, &id](const CommandContext& c) {
                 return (ledger->*method)(id, c);
               });
             });
  }
  AddRoute(http::verb::post, "/v1/orders/{order_id}/cancel", {kAsn, kMerchant, kOperator, kAdmin},
           [this](ApiCall& call) {
             const std::string& id = call.path["order_id"];
             RequestBody body(call.request.body());
             Result<CancelOrderBody> cancel = BindCancelOrder(body, id);
             MALPRO_CHECK_OR_RETURN(cancel.status(), call);
             Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
             if (!order.ok()) return ErrorResponse(call.request, order.status());
             HttpResponse response = RunCommand(call, [&](const CommandContext& c) {
               return deps_.ledger->CancelOrder(id, cancel->reason, c);
             });
             // The request voided with the order is voided at the bank too (the bank adapter also
             // does it from the log, for cancels that come by other ways).
             if (response.result_int() < 300 && deps_.void_payment) deps_.void_payment(id);
             return response;
           });
}

// The orders work list: a merchant's new orders, a buyer's history (read model work_lists).
void Api::AddOrderListRoutes() {
  AddRoute(
      http::verb::get, "/v1/orders", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
      [this](ApiCall& call) {
        OrderListQuery query;
        MALPRO_CHECK_OR_RETURN(
            PartyListFilters(call, &query.buyer_nip, &query.umkm_id, &query.status), call);
        if (!query.status.empty()) {
          MALPRO_CHECK_OR_RETURN(CheckOneOf(query.status, "status", errc::kQueryStatusUnknown,
                                            std::array<std::string_view, 4>{
                                                "placed", "accepted", "delivered", "cancelled"}),
                                 call);
        }
        using DateParameter = std::pair<std::string, std::optional<CivilDate>*>;
        for (const DateParameter& parameter :
             {DateParameter{"from", &query.from}, DateParameter{"to", &query.to}}) {
          if (!call.query.contains(parameter.first)) continue;
          const std::string text = QueryText(call, parameter.first);
          MALPRO_CHECK_OR_RETURN(CheckDate(text, parameter.first), call);
          *parameter.second = *ParseIsoDate(text, parameter.first);
        }
        if (query.from && query.to && *query.to < *query.from) {
          return ErrorResponse(call.request, Status::InvalidArgument(errc::kQueryInvalid, "to",
                                                                     "to must not be before from"));
        }
        MALPRO_CHECK_OR_RETURN(QueryListPage(call, list_orders, false, &query.page), call);
        return ReadModel(
            call, [&]() -> Result<std::string> { return deps_.projector->OrderList(query); },
            &csv_orders);
      });
}

}  // namespace malpro
