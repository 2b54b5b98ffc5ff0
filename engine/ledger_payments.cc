// Ledger: the commands of a cashless payment: request, the bank's word (success, failure,
// expiry, refused notifications), refunds and the resolution of refund_due exceptions.
#include <array>

#include "engine/civil_time.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

using ledger_internal::CheckPositiveAmount;
using ledger_internal::CheckReason;
using ledger_internal::MakeEvent;

// A QRIS payload: printable ASCII (EMVCo tags and values), bounded; empty for a VA.
Status CheckQrContent(std::string_view content) {
  if (content.size() > qr_content_chars_max) {
    return Status::InvalidArgument(
        errc::kQrContentTooLong, "qr_content",
        "qr_content must be at most " + std::to_string(qr_content_chars_max) + " characters");
  }
  for (char c : content) {
    if (c < 0x20 || c > 0x7e) {
      return Status::InvalidArgument(errc::kQrContentInvalid, "qr_content",
                                     "qr_content must be printable ASCII");
    }
  }
  return Status::Ok();
}

Status PaymentNotPending(const PaymentState& payment) {
  if (payment.status == PaymentStatus::kSucceeded || payment.status == PaymentStatus::kRefunded) {
    return Status::Conflict(errc::kPaymentAlreadySucceeded, "payment_id",
                            "the payment already succeeded");
  }
  return Status::Conflict(errc::kPaymentNotPending, "payment_id",
                          "the payment is " + std::string(PaymentStatusName(payment.status)) +
                              ", not waiting for the bank");
}

// The business day a payment settles on: its Jakarta date, or the next day from the cut-off.
CivilDate BusinessDate(const PolicyState& policy, int64_t paid_at_us) {
  const CivilDate date = JakartaDate(paid_at_us);
  std::optional<CutoffRule> cutoff = policy.CutoffOn(date);
  if (cutoff && JakartaMinuteOfDay(paid_at_us) >= cutoff->minutes_of_day) {
    return CivilFromDays(DaysFromCivil(date) + 1);
  }
  return date;
}

}  // namespace

namespace {

// The order's payability given its payment (the rule of Ledger::CheckPayable).
Status PayableState(const OrderState& order, const PaymentState& payment) {
  if (order.payment_method != payment_cashless) {
    return Status::Conflict(errc::kOrderNotCashless, "order_id", "the order is cash on delivery");
  }
  if (order.status == OrderStatus::kCancelled) {
    return Status::Conflict(errc::kOrderNotPayable, "order_id", "the order is cancelled");
  }
  if (payment.status == PaymentStatus::kRequested) {
    return Status::Conflict(errc::kPaymentPending, "order_id",
                            "a payment for this order is pending");
  }
  if (payment.status == PaymentStatus::kSucceeded || payment.status == PaymentStatus::kRefunded) {
    return Status::Conflict(errc::kOrderAlreadyPaid, "order_id", "the order is paid");
  }
  return Status::Ok();
}

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Whether the bank's word matches the request (the notification rules of
// docs/domain-events.md): channel, reference, amount, paid time.
Status MatchRequest(const BankSuccess& success, const PaymentState& payment, int64_t now_us,
                    int64_t skew_s) {
  if (success.channel != payment.channel) {
    return Status::Conflict(
        errc::kNotificationChannelMismatch, "channel",
        "the bank reports a " + success.channel + " payment; the request was " + payment.channel);
  }
  if (success.source != BankSuccess::Source::kStatement &&
      success.bank_reference != payment.bank_reference) {
    return Status::Conflict(errc::kBankReferenceMismatch, "bank_reference",
                            "the bank reports reference '" + success.bank_reference +
                                "'; the request holds '" + payment.bank_reference + "'");
  }
  if (success.amount != payment.amount) {
    return Status::InvalidArgument(errc::kAmountMismatch, "amount",
                                   "the bank reports " + FormatSnap(success.amount) +
                                       ", the payment is for " + FormatSnap(payment.amount));
  }
  const int64_t skew_us = skew_s * kMicrosPerSecond;
  const int64_t earliest = success.source == BankSuccess::Source::kStatement
                               ? JakartaDayStartMicros(JakartaDate(payment.requested_at_us))
                               : payment.requested_at_us - skew_us;
  if (success.paid_at_us < earliest || success.paid_at_us > now_us + skew_us) {
    return Status::InvalidArgument(errc::kPaidTimeOutOfWindow, "paid_at",
                                   "the paid time must lie between the request (less " +
                                       std::to_string(skew_s) + " s) and now (plus " +
                                       std::to_string(skew_s) + " s)");
  }
  return Status::Ok();
}

}  // namespace

Status Ledger::CheckPayable(std::string_view order_id, std::string_view channel, OrderState* order,
                            PaymentState* payment) const {
  MALPRO_RETURN_IF_ERROR(CheckPaymentChannel(channel));
  Result<OrderState> loaded_order =
      LoadTarget<OrderState>(OrderStream(order_id), "order", "order_id", CommandContext{});
  if (!loaded_order.ok()) return loaded_order.status();
  Result<PaymentState> loaded_payment = Load<PaymentState>(PaymentStream(order_id));
  if (!loaded_payment.ok()) return loaded_payment.status();
  MALPRO_RETURN_IF_ERROR(PayableState(*loaded_order, *loaded_payment));
  *order = std::move(loaded_order).value();
  *payment = std::move(loaded_payment).value();
  return Status::Ok();
}

Result<CommandResult> Ledger::RequestPayment(std::string_view order_id, std::string_view channel,
                                             std::string_view bank_reference,
                                             const CommandContext& context,
                                             const PaymentShown& shown) {
  MALPRO_RETURN_IF_ERROR(CheckPaymentChannel(channel));
  MALPRO_RETURN_IF_ERROR(CheckName(bank_reference, "bank_reference", entity_id_chars_max));
  MALPRO_RETURN_IF_ERROR(CheckQrContent(shown.qr_content));
  if (shown.expires_at_us < 0) {
    return Status::InvalidArgument(errc::kExpiresAtInvalid, "expires_at_us",
                                   "expires_at_us must not be negative");
  }
  const std::string order_stream = OrderStream(order_id);
  const std::string stream = PaymentStream(order_id);
  const std::string reference_stream = BankReferenceStream(channel, bank_reference);
  return Execute(
      context, stream + "|request|" + std::string(channel) + "|" + std::string(bank_reference),
      [&](Freshness) -> Result<Decision> {
        Result<OrderState> order =
            LoadTarget<OrderState>(order_stream, "order", "order_id", CommandContext{});
        if (!order.ok()) return order.status();
        Result<PaymentState> payment = Load<PaymentState>(stream);
        if (!payment.ok()) return payment.status();
        MALPRO_RETURN_IF_ERROR(PayableState(*order, *payment));
        MALPRO_RETURN_IF_ERROR(RequireNewStream(reference_stream, errc::kBankReferenceTaken,
                                                "bank_reference",
                                                "another payment request already holds this bank "
                                                "reference"));
        JsonWriter writer;
        writer.BeginObject()
            .Field("payment_id", order_id)
            .Field("order_id", order_id)
            .Field("umkm_id", order->umkm_id)
            .Field("buyer_nip", order->buyer_nip)
            .Field("amount", FormatSnap(order->total))
            .Field("channel", channel)
            .Field("bank_reference", bank_reference);
        if (!shown.qr_content.empty()) writer.Field("qr_content", shown.qr_content);
        if (shown.expires_at_us != 0) writer.Field("expires_at_us", shown.expires_at_us);
        std::string payload = writer.EndObject().Take();
        std::string claim = JsonWriter()
                                .BeginObject()
                                .Field("channel", channel)
                                .Field("bank_reference", bank_reference)
                                .Field("payment_id", order_id)
                                .EndObject()
                                .Take();
        return Decision{
            {MakeEvent(stream, types::payment_requested, std::move(payload)),
             MakeEvent(reference_stream, types::bank_reference_claimed, std::move(claim))},
            {{stream, payment->version}, {order_stream, order->version}, {reference_stream, 0}}};
      });
}

namespace {

// The fields payment.succeeded and payment.refund_due begin with: whose money, how much.
JsonWriter& PaidFields(JsonWriter& writer, const PaymentState& payment, Money amount) {
  return writer.BeginObject()
      .Field("payment_id", payment.payment_id)
      .Field("order_id", payment.order_id)
      .Field("umkm_id", payment.umkm_id)
      .Field("buyer_nip", payment.buyer_nip)
      .Field("amount", FormatSnap(amount));
}

std::string SucceededPayload(const PaymentState& payment, const BankSuccess& success, Money fee,
                             CivilDate business_date) {
  JsonWriter writer;
  return PaidFields(writer, payment, success.amount)
      .Field("fee", FormatSnap(fee))
      .Field("net", FormatSnap(success.amount - fee))
      .Field("paid_at_us", success.paid_at_us)
      .Field("business_date", FormatIsoDate(business_date))
      .Field("bank_reference", payment.bank_reference)
      .EndObject()
      .Take();
}

// payment.refund_due: the money counts toward nothing, for `cause`.
std::string RefundDuePayload(const PaymentState& payment, const BankSuccess& success,
                             std::string_view cause) {
  JsonWriter writer;
  return PaidFields(writer, payment, success.amount)
      .Field("paid_at_us", success.paid_at_us)
      .Field("bank_reference", payment.bank_reference)
      .Field("cause", cause)
      .EndObject()
      .Take();
}

}  // namespace

Result<CommandResult> Ledger::RecordPaymentSucceeded(const BankSuccess& success,
                                                     const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckPaymentChannel(success.channel));
  if (success.source != BankSuccess::Source::kStatement) {
    MALPRO_RETURN_IF_ERROR(
        CheckName(success.bank_reference, "bank_reference", entity_id_chars_max));
  }
  const std::string stream = PaymentStream(success.payment_id);
  std::shared_lock<std::shared_mutex> no_close(settlement_mutex_);
  return Execute(
      context,
      stream + "|succeeded|" + success.channel + "|" + success.bank_reference + "|" +
          FormatSnap(success.amount) + "|" + std::to_string(success.paid_at_us),
      [&](Freshness freshness) -> Result<Decision> {
        Result<PaymentState> payment =
            LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
        if (!payment.ok()) return payment.status();
        const PaymentStatus status = payment->status;
        if (status == PaymentStatus::kFailed || status == PaymentStatus::kExpired ||
            status == PaymentStatus::kNone) {
          return PaymentNotPending(*payment);
        }
        MALPRO_RETURN_IF_ERROR(MatchRequest(success, *payment, Now(), options_.paid_time_skew_s));
        if (status != PaymentStatus::kRequested && status != PaymentStatus::kVoided) {
          return Status::Conflict(errc::kPaymentAlreadySucceeded, "payment_id",
                                  "the bank's word for this payment was already recorded");
        }
        Result<OrderState> order = Load<OrderState>(OrderStream(payment->order_id));
        if (!order.ok()) return order.status();
        if (status == PaymentStatus::kVoided || order->status == OrderStatus::kCancelled) {
          const std::string_view cause =
              status == PaymentStatus::kVoided ? "payment_voided" : "order_cancelled";
          return Decision{
              {MakeEvent(stream, types::payment_refund_due,
                         RefundDuePayload(*payment, success, cause))},
              {{stream, payment->version}, {OrderStream(payment->order_id), order->version}}};
        }
        Result<PolicyState> policy = LoadPolicy();
        if (!policy.ok()) return policy.status();
        Result<UmkmState> umkm = LoadCached(UmkmStream(payment->umkm_id), umkm_cache_, freshness);
        if (!umkm.ok()) return umkm.status();
        Result<CivilDate> business_date =
            OpenBusinessDate(BusinessDate(*policy, success.paid_at_us));
        if (!business_date.ok()) return business_date.status();
        std::optional<FeeRule> rule = policy->FeeRuleOn(*business_date);
        const Money fee = rule ? FeeFor(*rule, umkm->qris_criteria, success.amount) : Money();
        // The day must still be open when the payment lands, or the settlement would miss it;
        // the order must still be open, or the money would count for a cancelled order.
        return Decision{{MakeEvent(stream, types::payment_succeeded,
                                   SucceededPayload(*payment, success, fee, *business_date))},
                        {{stream, payment->version},
                         {OrderStream(payment->order_id), order->version},
                         {std::string(policy_stream), policy->version},
                         {SettlementStream(*business_date), 0}}};
      });
}

bool Ledger::IsNotificationMismatch(const Status& status) {
  const std::string& code = status.error_code();
  return code == errc::kAmountMismatch || code == errc::kBankReferenceMismatch ||
         code == errc::kNotificationChannelMismatch || code == errc::kPaidTimeOutOfWindow;
}

Result<CommandResult> Ledger::RecordBankSuccess(const BankSuccess& success,
                                                const CommandContext& context) {
  Result<CommandResult> result = RecordPaymentSucceeded(success, context);
  if (result.ok() || !IsNotificationMismatch(result.status())) return result;
  CommandContext kept_context = context;
  if (!kept_context.idempotency_key.empty()) kept_context.idempotency_key += "-refused";
  // Best effort: the refusal stands whether or not it could be kept.
  (void)RecordRefusedNotification(success.payment_id, result.status().error_code(), success.amount,
                                  success.bank_reference, kept_context);
  return result;
}

Result<CommandResult> Ledger::ResolveException(std::string_view payment_id,
                                               std::string_view resolution, std::string_view note,
                                               const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckOneOf(resolution, "resolution", errc::kResolutionUnknown,
                                    std::array<std::string_view, 2>{"refunded", "explained"}));
  MALPRO_RETURN_IF_ERROR(CheckName(note, "note", reason_chars_max));
  const std::string stream = PaymentStream(payment_id);
  std::string payload = JsonWriter()
                            .BeginObject()
                            .Field("payment_id", payment_id)
                            .Field("resolution", resolution)
                            .Field("note", note)
                            .EndObject()
                            .Take();
  return Execute(context, stream + "|resolve" + payload, [&](Freshness) -> Result<Decision> {
    Result<PaymentState> payment =
        LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
    if (!payment.ok()) return payment.status();
    if (payment->status != PaymentStatus::kRefundDue || !payment->exception_resolution.empty()) {
      return Status::Conflict(errc::kExceptionNotOpen, "payment_id",
                              "the payment has no open exception; it is " +
                                  std::string(PaymentStatusName(payment->status)));
    }
    return Decision{{MakeEvent(stream, types::payment_exception_resolved, payload)},
                    {{stream, payment->version}}};
  });
}

Result<CommandResult> Ledger::RecordPaymentFailed(std::string_view payment_id,
                                                  std::string_view reason,
                                                  const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = PaymentStream(payment_id);
  return Execute(context, stream + "|failed|" + std::string(reason),
                 [&](Freshness) -> Result<Decision> {
                   Result<PaymentState> payment =
                       LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
                   if (!payment.ok()) return payment.status();
                   if (payment->status != PaymentStatus::kRequested)
                     return PaymentNotPending(*payment);
                   std::string payload = JsonWriter()
                                             .BeginObject()
                                             .Field("payment_id", payment_id)
                                             .Field("order_id", payment->order_id)
                                             .Field("reason", reason)
                                             .EndObject()
                                             .Take();
                   return Decision{{MakeEvent(stream, types::payment_failed, std::move(payload))},
                                   {{stream, payment->version}}};
                 });
}

Result<CommandResult> Ledger::ExpirePayment(std::string_view payment_id,
                                            const CommandContext& context) {
  const std::string stream = PaymentStream(payment_id);
  return Execute(context, stream + "|expired", [&](Freshness) -> Result<Decision> {
    Result<PaymentState> payment =
        LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
    if (!payment.ok()) return payment.status();
    if (payment->status != PaymentStatus::kRequested) return PaymentNotPending(*payment);
    std::string payload = JsonWriter()
                              .BeginObject()
                              .Field("payment_id", payment_id)
                              .Field("order_id", payment->order_id)
                              .EndObject()
                              .Take();
    return Decision{{MakeEvent(stream, types::payment_expired, std::move(payload))},
                    {{stream, payment->version}}};
  });
}

Result<CommandResult> Ledger::RefundPayment(std::string_view payment_id, Money amount,
                                            const CommandContext& context) {
  const std::string stream = PaymentStream(payment_id);
  // A refund is recovered in the batch of its business day: like a success, it must not
  // land on a day a close is computing.
  std::shared_lock<std::shared_mutex> no_close(settlement_mutex_);
  return Execute(
      context, stream + "|refund|" + FormatSnap(amount), [&](Freshness) -> Result<Decision> {
        Result<PaymentState> payment =
            LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
        if (!payment.ok()) return payment.status();
        if (payment->status != PaymentStatus::kSucceeded) {
          return Status::Conflict(errc::kPaymentNotRefundable, "payment_id",
                                  "only a succeeded payment can be refunded; this one is " +
                                      std::string(PaymentStatusName(payment->status)));
        }
        MALPRO_RETURN_IF_ERROR(
            CheckPositiveAmount(amount, payment->amount - payment->refunded, "amount"));
        Result<PolicyState> policy = LoadPolicy();
        if (!policy.ok()) return policy.status();
        Result<CivilDate> business_date = OpenBusinessDate(BusinessDate(*policy, Now()));
        if (!business_date.ok()) return business_date.status();
        std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("payment_id", payment_id)
                                  .Field("order_id", payment->order_id)
                                  .Field("umkm_id", payment->umkm_id)
                                  .Field("buyer_nip", payment->buyer_nip)
                                  .Field("amount", FormatSnap(amount))
                                  .Field("business_date", FormatIsoDate(*business_date))
                                  .EndObject()
                                  .Take();
        // The day it is recovered on must still be open when it lands.
        return Decision{{MakeEvent(stream, types::payment_refunded, std::move(payload))},
                        {{stream, payment->version},
                         {std::string(policy_stream), policy->version},
                         {SettlementStream(*business_date), 0}}};
      });
}

Result<CommandResult> Ledger::RecordRefusedNotification(std::string_view payment_id,
                                                        std::string_view reason,
                                                        Money notified_amount,
                                                        std::string_view bank_reference,
                                                        const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = PaymentStream(payment_id);
  std::string payload = JsonWriter()
                            .BeginObject()
                            .Field("payment_id", payment_id)
                            .Field("reason", reason)
                            .Field("notified_amount", FormatSnap(notified_amount))
                            .Field("bank_reference", bank_reference)
                            .EndObject()
                            .Take();
  return Execute(context, stream + "|refused" + payload, [&](Freshness) -> Result<Decision> {
    Result<PaymentState> payment =
        LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
    if (!payment.ok()) return payment.status();
    return Decision{{MakeEvent(stream, types::payment_notification_refused, payload)},
                    {{stream, payment->version}}};
  });
}

}  // namespace malpro
