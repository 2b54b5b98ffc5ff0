// Aggregates: the current state of one stream, folded from its events. The decision layer
// (engine/ledger.h) loads them to check a command against the state it would change.
// Event types and payloads are specified in docs/domain-events.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/civil_time.h"
#include "engine/envelope.h"
#include "engine/identifiers.h"
#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

// Stream ids of the domain.
std::string AsnStream(std::string_view nip);
std::string UmkmStream(std::string_view umkm_id);
std::string OrderStream(std::string_view order_id);
std::string ReceiptStream(std::string_view receipt_id);
std::string PhotoStream(std::string_view photo_sha256_hex);
inline constexpr std::string_view policy_stream = "policy";

// Who an ASN is and where they live, as registered and changed since: what the ASN's state
// and the read models' profile of the ASN (projections/read_models.h) both hold.
struct AsnIdentity {
  std::string nip;
  std::string name;
  std::string agency;
  std::string rank_class;
  std::string kecamatan;
  std::string kelurahan;
};

struct AsnState : AsnIdentity {
  uint64_t version = 0;  // 0: not registered
  bool active = false;

  Status Apply(const Event& event);
};

struct Product {
  std::string product_id;
  std::string name;
  std::string unit;
  Money price;
  bool listed = false;
};

enum class UmkmStatus { kRegistered, kVerified, kSuspended };
std::string_view UmkmStatusName(UmkmStatus status);

struct UmkmState {
  uint64_t version = 0;  // 0: not registered
  std::string umkm_id;
  std::string name;
  std::string nib;  // empty when the business has none
  std::string category;
  std::string kecamatan;
  std::string kelurahan;
  std::string sponsor;
  std::string settlement_account;
  std::string qris_criteria;
  UmkmStatus status = UmkmStatus::kRegistered;
  std::map<std::string, Product> products;  // by product id, listed or not

  Status Apply(const Event& event);
};

struct OrderLine {
  std::string product_id;
  std::string name;
  std::string unit;
  int64_t quantity = 0;
  Money unit_price;
  Money line_total;
};

enum class OrderStatus { kPlaced, kAccepted, kDelivered, kCancelled };
std::string_view OrderStatusName(OrderStatus status);

struct OrderState {
  uint64_t version = 0;  // 0: no such order
  std::string order_id;
  std::string buyer_nip;
  std::string umkm_id;
  std::vector<OrderLine> lines;
  Money total;
  std::string payment_method;  // COD or CASHLESS
  OrderStatus status = OrderStatus::kPlaced;
  bool cash_received = false;
  int64_t placed_at_us = 0;
  std::string cancel_reason;

  // `with_lines` false leaves `lines` empty (and unchecked): for folds that only count money,
  // such as the read models, reading each line cost more than the rest of the order.
  Status Apply(const Event& event, bool with_lines = true);
};

enum class ReceiptStatus { kSubmitted, kApproved, kRejected };
std::string_view ReceiptStatusName(ReceiptStatus status);
// The status ReceiptStatusName gives `name`; nullopt for any other text.
std::optional<ReceiptStatus> ReceiptStatusNamed(std::string_view name);

struct ReceiptState {
  uint64_t version = 0;  // 0: no such receipt
  std::string receipt_id;
  std::string nip;
  std::string shop_name;
  std::string kecamatan;
  std::string kelurahan;
  Money amount;
  CivilDate purchase_date;
  std::string photo_sha256;
  ReceiptStatus status = ReceiptStatus::kSubmitted;
  std::string rejection_reason;

  Status Apply(const Event& event);
};

std::string PaymentStream(std::string_view payment_id);
// The stream that claims one bank reference of one channel: bank-reference-{hex SHA-256 of
// "CHANNEL|reference"} (a VA number may hold spaces, a stream id may not).
std::string BankReferenceStream(std::string_view channel, std::string_view bank_reference);

// kVoided: the order was cancelled while the request was pending. kRefundDue: the bank moved
// money that counts toward nothing (a voided request, a cancelled order); it is owed back.
enum class PaymentStatus {
  kNone,
  kRequested,
  kSucceeded,
  kFailed,
  kExpired,
  kRefunded,
  kVoided,
  kRefundDue
};
std::string_view PaymentStatusName(PaymentStatus status);

// One order's cashless payment (the payment id is the order id); a failed or expired payment
// may be requested again.
struct PaymentState {
  uint64_t version = 0;
  std::string payment_id;
  std::string order_id;
  std::string umkm_id;
  std::string buyer_nip;
  Money amount;
  std::string channel;  // QRIS or VA
  // QRIS: the bank's referenceNo; VA: the virtual account number (the notification must
  // name the same one).
  std::string bank_reference;
  std::string qr_content;       // QRIS: the payload the payer was shown; empty for a VA
  int64_t expires_at_us = 0;    // when the bank stops accepting it; 0 when not recorded
  int64_t requested_at_us = 0;  // recorded_at of the latest payment.requested
  PaymentStatus status = PaymentStatus::kNone;
  int64_t paid_at_us = 0;
  CivilDate business_date;
  Money fee;
  Money refunded;
  // kRefundDue: why the money counts toward nothing (payment_voided or order_cancelled), the
  // amount the bank moved, and how the operator resolved it (empty while open).
  std::string refund_due_cause;
  Money refund_due_amount;
  std::string exception_resolution;

  Status Apply(const Event& event);
};

std::string SettlementStream(CivilDate business_date);
// compliance-{YYYY-MM}
std::string ComplianceStream(std::string_view month);
std::string ReconciliationStream(std::string_view statement_id);

// One merchant's line of a business day: the sums of its payment.succeeded and
// payment.refunded events of that business day, and what it is paid. A refund is recovered
// from the merchant in the batch of the business day it was recorded on; what a batch cannot
// recover (refunds above gross - fee) is carried, as a debt, into the merchant's next line:
//   x = gross - fee - refunds - carried_in,  net = max(0, x),  carried_out = max(0, -x),
// so over any run of batches  sum(net) - last carried_out = sum(gross - fee - refunds).
struct MerchantSettlement {
  std::string umkm_id;
  Money gross;
  Money fee;
  Money net;
  int64_t payments = 0;
  Money refunds;  // recovered in this line
  int64_t refund_count = 0;
  Money carried_in;   // >= 0: what the merchant's previous line could not recover
  Money carried_out;  // >= 0: what this line could not recover, for the next one

  bool operator==(const MerchantSettlement&) const = default;
};

// A closed business day (stream settlement-{YYYY-MM-DD}).
struct SettlementState {
  uint64_t version = 0;  // 0: the day is not closed
  CivilDate business_date;
  std::vector<MerchantSettlement> merchants;
  Money total_net;
  std::string file_name;
  std::string pain001_sha256;
  std::string csv_sha256;
  int64_t closed_at_us = 0;

  Status Apply(const Event& event);
};

// What one statement entry or one ledger record lacked in a reconciliation run. Kinds (persisted):
// missing_in_ledger, missing_at_bank, amount_mismatch, refund_due.
struct Discrepancy {
  int64_t index = 0;  // 1-based within its run
  std::string kind;
  std::string credit_debit;  // CRDT (money in: a payment) or DBIT (money out: a settlement)
  std::string reference;     // the bank reference, payment id or end-to-end id that was matched on
  std::string payment_id;    // the ledger payment concerned, when one is known
  std::string booking_date;  // YYYY-MM-DD of the statement entry, or of the ledger record
  int64_t booked_at_us = 0;  // the entry's time (its date's start when the statement has no time)
  std::optional<Money> statement_amount;  // absent for missing_at_bank
  std::optional<Money> ledger_amount;     // absent for missing_in_ledger

  bool operator==(const Discrepancy&) const = default;
};

class JsonWriter;
// An ASN's identity as fields of the object `writer` has open, in this order: nip, name, agency,
// rank_class, kecamatan, kelurahan (the ASN view and the read models' profile rows).
void WriteAsnIdentityFields(JsonWriter& writer, const AsnIdentity& asn);

// A receipt's submitted facts as fields of the object `writer` has open, in this order:
// receipt_id, nip, shop_name, kecamatan, kelurahan, amount, purchase_date, photo_sha256 (the
// receipt's view and the receipts work list).
void WriteReceiptFields(JsonWriter& writer, const ReceiptState& receipt);

// A merchant's settlement line as fields of the object `writer` has open, in this order:
// umkm_id, payments, gross, fee, refunds, refund_count, carried_in, net, carried_out (the
// close's answer and the settlement work list; the event payload keeps an order of its own).
void WriteMerchantSettlementFields(JsonWriter& writer, const MerchantSettlement& merchant);

// How WriteDiscrepancyFields writes the amount of the side that has none.
enum class MissingAmount {
  kOmitted,  // the field is left out: reconciliation.completed payloads (persisted)
  kNull,     // the field is null: views, so that every discrepancy has the same fields
};
// The one serialization of a discrepancy: writes its fields into the object `writer` has open,
// in this order: index, kind, credit_debit, reference, payment_id, booking_date,
// booked_at_us, statement_amount, ledger_amount. The event payload depends on it byte for
// byte (docs/domain-events.md, reconciliation.completed): append fields, never reorder them.
void WriteDiscrepancyFields(JsonWriter& writer, const Discrepancy& discrepancy,
                            MissingAmount missing = MissingAmount::kNull);

inline constexpr std::string_view discrepancy_missing_in_ledger = "missing_in_ledger";
inline constexpr std::string_view discrepancy_missing_at_bank = "missing_at_bank";
inline constexpr std::string_view discrepancy_amount_mismatch = "amount_mismatch";
// A credit for money the ledger recorded as payment.refund_due (a voided request or a cancelled
// order paid anyway): at the bank, counting toward nothing, owed back to the payer.
inline constexpr std::string_view discrepancy_refund_due = "refund_due";
inline constexpr std::string_view resolution_payment_recorded = "payment_recorded";
inline constexpr std::string_view resolution_explained = "explained";

// The reconciliation runs of one statement (stream reconciliation-{statement_id}). Discrepancies
// are those of the latest run; resolutions are kept by kind and reference across runs, so an
// explained difference stays explained when the statement is reconciled again.
struct ReconciliationState {
  uint64_t version = 0;  // 0: never reconciled
  std::string statement_id;
  int64_t runs = 0;
  int64_t matched = 0;
  std::vector<Discrepancy> discrepancies;
  std::map<std::string, std::string> resolutions;  // "kind|reference" -> resolution

  Status Apply(const Event& event);
  // The resolution of `discrepancy`, or "" when it is open.
  std::string ResolutionOf(const Discrepancy& discrepancy) const;
};

// Policy rules take effect from a date (Asia/Jakarta) and stay until a later rule replaces them.
struct MinimumSpendRule {
  std::string rank_group;  // a group (I, II, III, IV, PPPK) or one rank class (e.g. III/d)
  Money amount;
  CivilDate effective_from;
};

// The merchant fee (potongan): basis points of each payment, except that payments to UMI
// merchants up to `umi_zero_fee_max` carry no fee.
struct FeeRule {
  int64_t basis_points = 0;
  Money umi_zero_fee_max;
  CivilDate effective_from;
};

// Cashless payments at or after this minute of the day (Asia/Jakarta) settle the next day.
struct CutoffRule {
  int minutes_of_day = 0;
  CivilDate effective_from;
};

struct PolicyState {
  uint64_t version = 0;
  std::vector<MinimumSpendRule> minimum_spend;  // in the order they were set
  std::vector<FeeRule> fee_rules;
  std::vector<CutoffRule> cutoffs;

  Status Apply(const Event& event);
  // The rule in force on `date`: the one with the latest effective_from not after `date`;
  // among rules effective from the same date, the one set last.
  std::optional<Money> MinimumSpendOn(std::string_view rank_group, CivilDate date) const;
  // The minimum for an ASN of `rank_class` on `date`: a rule for that class when one is in
  // force (the more specific rule wins), else the rule for its group.
  std::optional<Money> MinimumSpendFor(std::string_view rank_class, CivilDate date) const;
  std::optional<FeeRule> FeeRuleOn(CivilDate date) const;
  std::optional<CutoffRule> CutoffOn(CivilDate date) const;
};

// The fee on one payment to a merchant of `criteria` under `rule`.
Money FeeFor(const FeeRule& rule, std::string_view criteria, Money amount);

}  // namespace malpro
