// Event type names of the domain (docs/domain-events.md). Persisted: never rename one.
#pragma once

#include <string_view>

namespace malpro::event_types {

inline constexpr std::string_view asn_registered = "asn.registered";
inline constexpr std::string_view asn_rank_changed = "asn.rank_changed";
inline constexpr std::string_view asn_deactivated = "asn.deactivated";

inline constexpr std::string_view umkm_registered = "umkm.registered";
inline constexpr std::string_view umkm_verified = "umkm.verified";
inline constexpr std::string_view umkm_suspended = "umkm.suspended";
inline constexpr std::string_view product_listed = "product.listed";
inline constexpr std::string_view product_repriced = "product.repriced";
inline constexpr std::string_view product_delisted = "product.delisted";

inline constexpr std::string_view order_placed = "order.placed";
inline constexpr std::string_view order_accepted = "order.accepted";
inline constexpr std::string_view order_delivered = "order.delivered";
inline constexpr std::string_view order_cancelled = "order.cancelled";
inline constexpr std::string_view order_cash_received = "order.cash_received";

inline constexpr std::string_view receipt_submitted = "receipt.submitted";
inline constexpr std::string_view receipt_approved = "receipt.approved";
inline constexpr std::string_view receipt_rejected = "receipt.rejected";
inline constexpr std::string_view photo_claimed = "photo.claimed";

inline constexpr std::string_view policy_minimum_spend_set = "policy.minimum_spend_set";
inline constexpr std::string_view policy_fee_rule_set = "policy.fee_rule_set";
inline constexpr std::string_view policy_settlement_cutoff_set = "policy.settlement_cutoff_set";

// Cashless payments (stream payment-{payment_id}); written by the bank adapter.
inline constexpr std::string_view payment_requested = "payment.requested";
inline constexpr std::string_view payment_succeeded = "payment.succeeded";
inline constexpr std::string_view payment_failed = "payment.failed";
inline constexpr std::string_view payment_expired = "payment.expired";
inline constexpr std::string_view payment_refunded = "payment.refunded";
// A bank notification that was authentic but refused (e.g. a different amount): kept for the
// operator, changes nothing else.
inline constexpr std::string_view payment_notification_refused = "payment.notification_refused";
// A pending request voided because its order was cancelled (written with order.cancelled).
inline constexpr std::string_view payment_voided = "payment.voided";
// The bank moved money for a voided request or a cancelled order: recorded, counts toward
// nothing, owed back to the payer (an exception for the operator).
inline constexpr std::string_view payment_refund_due = "payment.refund_due";
// The operator resolved a refund_due exception (refunded to the payer, or explained).
inline constexpr std::string_view payment_exception_resolved = "payment.exception_resolved";
// A bank reference taken by one payment request (stream bank-reference-{sha256 of it}), so
// that no other payment can ever hold it.
inline constexpr std::string_view bank_reference_claimed = "bank_reference.claimed";

// The close of one month's compliance figures (stream compliance-{YYYY-MM}).
inline constexpr std::string_view compliance_month_closed = "compliance.month_closed";

// Settlement of a business day (stream settlement-{YYYY-MM-DD}).
inline constexpr std::string_view settlement_batch_closed = "settlement.batch_closed";

// Reconciliation of a bank statement with the ledger (stream reconciliation-{statement_id}).
inline constexpr std::string_view reconciliation_completed = "reconciliation.completed";
inline constexpr std::string_view reconciliation_discrepancy_resolved =
    "reconciliation.discrepancy_resolved";

}  // namespace malpro::event_types
