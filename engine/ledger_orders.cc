// Ledger: the commands of an order: place (also without waiting for the synced write),
// accept, deliver, cancel (voiding a pending payment request with it), cash received.
#include <array>
#include <set>

#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckReason;
using ledger_internal::MakeEvent;

Status CheckOrderShape(const PlaceOrder& command) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(command.umkm_id, "umkm_id"));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(command.payment_method, "payment_method", errc::kPaymentMethodUnknown,
                 std::array<std::string_view, 2>{payment_cod, payment_cashless}));
  if (command.lines.empty()) {
    return Status::InvalidArgument(errc::kOrderEmpty, "lines", "an order has at least one line");
  }
  if (command.lines.size() > order_lines_max) {
    return Status::LimitExceeded(
        errc::kOrderTooManyLines, "lines",
        "an order has at most " + std::to_string(order_lines_max) + " lines");
  }
  std::set<std::string_view> products;
  for (size_t i = 0; i < command.lines.size(); ++i) {
    const PlaceOrder::Line& line = command.lines[i];
    const std::string prefix = "lines[" + std::to_string(i) + "].";
    MALPRO_RETURN_IF_ERROR(CheckEntityId(line.product_id, prefix + "product_id"));
    if (line.quantity < 1 || line.quantity > order_quantity_max) {
      return Status::InvalidArgument(
          errc::kQuantityOutOfRange, prefix + "quantity",
          prefix + "quantity must be 1 to " + std::to_string(order_quantity_max));
    }
    if (!products.insert(line.product_id).second) {
      return Status::InvalidArgument(errc::kOrderDuplicateLine, prefix + "product_id",
                                     "each product appears on one line only");
    }
  }
  return Status::Ok();
}

// Prices the lines from the merchant's catalog as it is now; writes the order.placed payload.
Result<std::string> PricedOrderPayload(const PlaceOrder& command, std::string_view order_id,
                                       const UmkmState& umkm) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("order_id", order_id)
      .Field("buyer_nip", command.buyer_nip)
      .Field("umkm_id", command.umkm_id)
      .Field("payment_method", command.payment_method)
      .Key("lines")
      .BeginArray();
  Money total;
  for (size_t i = 0; i < command.lines.size(); ++i) {
    const PlaceOrder::Line& line = command.lines[i];
    auto product = umkm.products.find(line.product_id);
    if (product == umkm.products.end() || !product->second.listed) {
      return Status::Conflict(
          errc::kProductNotListed, "lines[" + std::to_string(i) + "].product_id",
          "UMKM " + command.umkm_id + " does not list product " + line.product_id);
    }
    // Bounded: price <= product_price_max and quantity <= order_quantity_max fit int64 sen.
    const Money line_total = Money::FromSen(product->second.price.sen() * line.quantity);
    total += line_total;
    if (total > order_total_max) {
      return Status::LimitExceeded(errc::kOrderTooLarge, "lines",
                                   "an order totals at most " + FormatSnap(order_total_max));
    }
    writer.BeginObject()
        .Field("product_id", line.product_id)
        .Field("name", product->second.name)
        .Field("unit", product->second.unit)
        .Field("quantity", line.quantity)
        .Field("unit_price", FormatSnap(product->second.price))
        .Field("line_total", FormatSnap(line_total))
        .EndObject();
  }
  return writer.EndArray().Field("total", FormatSnap(total)).EndObject().Take();
}

Status CheckBuyerAndMerchant(const AsnState& buyer, const UmkmState& umkm,
                             const PlaceOrder& command) {
  if (buyer.version == 0) {
    return Status::InvalidArgument(errc::kBuyerUnknown, "buyer_nip",
                                   "no ASN with NIP " + command.buyer_nip + " is registered");
  }
  if (!buyer.active)
    return Status::Conflict(errc::kBuyerInactive, "buyer_nip", "the buyer is deactivated");
  if (umkm.version == 0) {
    return Status::InvalidArgument(errc::kUmkmUnknown, "umkm_id",
                                   "no UMKM " + command.umkm_id + " is registered");
  }
  if (umkm.status == UmkmStatus::kSuspended) {
    return Status::Conflict(errc::kUmkmSuspended, "umkm_id", "the UMKM is suspended");
  }
  if (umkm.status != UmkmStatus::kVerified) {
    return Status::Conflict(errc::kUmkmNotVerified, "umkm_id", "the UMKM is not verified yet");
  }
  return Status::Ok();
}

}  // namespace

namespace {

std::string PlaceCommandText(const PlaceOrder& command, const std::string& order_id) {
  std::string command_text = "order.place|" + order_id + "|" + command.buyer_nip + "|" +
                             command.umkm_id + "|" + command.payment_method;
  for (const PlaceOrder::Line& line : command.lines) {
    command_text += "|" + line.product_id + "*" + std::to_string(line.quantity);
  }
  return command_text;
}

Status CheckPlace(const PlaceOrder& command, const std::string& order_id) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(order_id, "order_id"));
  Result<Nip> nip = ParseNip(command.buyer_nip, "buyer_nip");
  if (!nip.ok()) return nip.status();
  return CheckOrderShape(command);
}

}  // namespace

Result<Ledger::Decision> Ledger::DecidePlace(const PlaceOrder& command, const std::string& order_id,
                                             Freshness freshness) {
  const std::string stream = OrderStream(order_id);
  const std::string buyer_stream = AsnStream(command.buyer_nip);
  const std::string umkm_stream = UmkmStream(command.umkm_id);
  if (freshness == Freshness::kFreshState) {  // the expectation {order, 0} decides first
    MALPRO_RETURN_IF_ERROR(RequireNewStream(stream, errc::kOrderAlreadyExists, "order_id",
                                            "order " + order_id + " exists"));
  }
  Result<AsnState> buyer = LoadCached(buyer_stream, asn_cache_, freshness);
  if (!buyer.ok()) return buyer.status();
  Result<UmkmState> umkm = LoadCached(umkm_stream, umkm_cache_, freshness);
  if (!umkm.ok()) return umkm.status();
  MALPRO_RETURN_IF_ERROR(CheckBuyerAndMerchant(*buyer, *umkm, command));
  Result<std::string> payload = PricedOrderPayload(command, order_id, *umkm);
  if (!payload.ok()) return payload.status();
  return Decision{{MakeEvent(stream, types::order_placed, std::move(payload).value())},
                  {{stream, 0}, {buyer_stream, buyer->version}, {umkm_stream, umkm->version}}};
}

Result<CommandResult> Ledger::Place(const PlaceOrder& command, const CommandContext& context) {
  const std::string order_id = command.order_id.empty() ? options_.new_id() : command.order_id;
  MALPRO_RETURN_IF_ERROR(CheckPlace(command, order_id));
  return Execute(context, PlaceCommandText(command, order_id),
                 [&](Freshness freshness) { return DecidePlace(command, order_id, freshness); });
}

bool Ledger::PlaceAsync(const PlaceOrder& command, const CommandContext& context, PlaceDone done) {
  if (context.actor.empty() || !context.idempotency_key.empty() || context.expected_version) {
    return false;
  }
  PlaceOrder placed = command;
  if (placed.order_id.empty()) placed.order_id = options_.new_id();
  if (Status checked = CheckPlace(placed, placed.order_id); !checked.ok()) {
    done(checked, placed);
    return true;
  }
  Result<Decision> decision = DecidePlace(placed, placed.order_id, Freshness::kCachedState);
  if (!decision.ok()) return false;  // refused on cached state: decide again on fresh state
  const std::string stream_id = decision->events.front().stream_id;
  Touched touched = TouchedBy(*decision);
  AppendRequest request{std::move(decision->events), std::move(decision->expectations),
                        context.actor, "", std::nullopt};
  log_->AppendAsync(std::move(request),
                    [this, placed = std::move(placed), stream_id, touched = std::move(touched),
                     done = std::move(done)](Result<AppendResult> appended) {
                      ForgetAfter(touched, appended);
                      if (!appended.ok()) return done(appended.status(), placed);
                      done(CommandResult{stream_id, appended->first_stream_version,
                                         appended->first_sequence, appended->last_sequence, false},
                           placed);
                    });
  return true;
}

Result<CommandResult> Ledger::Transition(std::string_view order_id, std::string_view event_type,
                                         const CommandContext& context,
                                         const std::function<Status(const OrderState&)>& allowed,
                                         std::string payload) {
  const std::string stream = OrderStream(order_id);
  return Execute(
      context, stream + "|" + std::string(event_type) + payload,
      [&](Freshness) -> Result<Decision> {
        Result<OrderState> state = LoadTarget<OrderState>(stream, "order", "order_id", context);
        if (!state.ok()) return state.status();
        MALPRO_RETURN_IF_ERROR(allowed(*state));
        return Decision{{MakeEvent(stream, event_type, payload)}, {{stream, state->version}}};
      });
}

namespace {

Status WrongOrderState(std::string_view code, const OrderState& order, std::string_view rule) {
  return Status::Conflict(
      code, "order_id",
      std::string(rule) + "; the order is " + std::string(OrderStatusName(order.status)));
}

std::string OrderIdPayload(std::string_view order_id) {
  return JsonWriter().BeginObject().Field("order_id", order_id).EndObject().Take();
}

}  // namespace

Result<CommandResult> Ledger::AcceptOrder(std::string_view order_id,
                                          const CommandContext& context) {
  return Transition(
      order_id, types::order_accepted, context,
      [](const OrderState& order) {
        if (order.status == OrderStatus::kPlaced) return Status::Ok();
        return WrongOrderState(errc::kOrderNotPlaced, order, "only a placed order can be accepted");
      },
      OrderIdPayload(order_id));
}

Result<CommandResult> Ledger::DeliverOrder(std::string_view order_id,
                                           const CommandContext& context) {
  return Transition(
      order_id, types::order_delivered, context,
      [](const OrderState& order) {
        if (order.status == OrderStatus::kAccepted) return Status::Ok();
        return WrongOrderState(errc::kOrderNotAccepted, order,
                               "only an accepted order can be delivered");
      },
      OrderIdPayload(order_id));
}

Result<CommandResult> Ledger::CancelOrder(std::string_view order_id, std::string_view reason,
                                          const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = OrderStream(order_id);
  const std::string payment_stream = PaymentStream(order_id);
  std::string payload = JsonWriter()
                            .BeginObject()
                            .Field("order_id", order_id)
                            .Field("reason", reason)
                            .EndObject()
                            .Take();
  return Execute(
      context, stream + "|" + std::string(types::order_cancelled) + payload,
      [&](Freshness) -> Result<Decision> {
        Result<OrderState> order = LoadTarget<OrderState>(stream, "order", "order_id", context);
        if (!order.ok()) return order.status();
        if (order->cash_received) {
          return WrongOrderState(errc::kOrderPaid, *order,
                                 "cash was received for this order; a paid order is cancelled only "
                                 "after a full refund");
        }
        if (order->status != OrderStatus::kPlaced && order->status != OrderStatus::kAccepted) {
          return WrongOrderState(errc::kOrderNotCancellable, *order,
                                 "an order can be cancelled only before delivery");
        }
        Decision decision{{MakeEvent(stream, types::order_cancelled, payload)},
                          {{stream, order->version}}};
        if (order->payment_method != payment_cashless) return decision;
        Result<PaymentState> payment = Load<PaymentState>(payment_stream);
        if (!payment.ok()) return payment.status();
        if (payment->status == PaymentStatus::kSucceeded) {
          return Status::Conflict(
              errc::kOrderPaid, "order_id",
              "the order's payment succeeded; a paid order is cancelled only after "
              "a full refund (refunded " +
                  FormatSnap(payment->refunded) + " of " + FormatSnap(payment->amount) + ")");
        }
        // A concurrent bank success or payment request makes this decision lose and decide again.
        decision.expectations.push_back({payment_stream, payment->version});
        if (payment->status == PaymentStatus::kRequested) {
          decision.events.push_back(MakeEvent(payment_stream, types::payment_voided,
                                              JsonWriter()
                                                  .BeginObject()
                                                  .Field("payment_id", order_id)
                                                  .Field("order_id", order_id)
                                                  .Field("channel", payment->channel)
                                                  .Field("bank_reference", payment->bank_reference)
                                                  .Field("reason", "order_cancelled")
                                                  .EndObject()
                                                  .Take()));
        }
        return decision;
      });
}

Result<CommandResult> Ledger::ConfirmCashReceived(std::string_view order_id,
                                                  const CommandContext& context) {
  const std::string stream = OrderStream(order_id);
  return Execute(context, stream + "|cash_received", [&](Freshness) -> Result<Decision> {
    Result<OrderState> state = LoadTarget<OrderState>(stream, "order", "order_id", context);
    if (!state.ok()) return state.status();
    if (state->payment_method != payment_cod) {
      return Status::Conflict(errc::kOrderNotCod, "order_id", "the order is not cash on delivery");
    }
    if (state->status != OrderStatus::kDelivered) {
      return WrongOrderState(errc::kOrderNotDelivered, *state, "cash is confirmed after delivery");
    }
    if (state->cash_received) {
      return Status::Conflict(errc::kCashAlreadyReceived, "order_id",
                              "cash for this order was already confirmed");
    }
    std::string payload = JsonWriter()
                              .BeginObject()
                              .Field("order_id", order_id)
                              .Field("amount", FormatSnap(state->total))
                              .EndObject()
                              .Take();
    return Decision{{MakeEvent(stream, types::order_cash_received, std::move(payload))},
                    {{stream, state->version}}};
  });
}

}  // namespace malpro
