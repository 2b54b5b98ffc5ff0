#include "engine/aggregates.h"

#include <simdjson.h>

#include <optional>

#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/hash.h"
#include "engine/json.h"

namespace malpro {
namespace {

namespace types = event_types;

// Payloads were written by this program; a payload that does not parse is corruption.
Status PayloadCorrupt(const Event& event, const Status& cause) {
  return Status::Corruption("event " + std::to_string(event.sequence) + " (" + event.type +
                            "): " + cause.message());
}

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Reads the fields of one payload, remembering the first failure: call the getters, then
// Finish(). The payload is parsed on the first getter: most events of an order change only
// its status and read nothing (the log accepts only payloads that are JSON objects).
class PayloadReader {
 public:
  explicit PayloadReader(const Event& event) : event_(event) {}

  std::string Text(std::string_view key) {
    if (!Parsed()) return {};
    Result<std::string> value = Object().String(key);
    if (!value.ok()) status_ = value.status();
    return value.ok() ? std::move(value).value() : std::string();
  }
  std::string OptionalText(std::string_view key) {
    if (!Parsed() || !Object().Has(key)) return {};
    return Text(key);
  }
  int64_t OptionalInteger(std::string_view key) {
    if (!Parsed() || !Object().Has(key)) return 0;
    return Integer(key);
  }
  int64_t Integer(std::string_view key) {
    if (!Parsed()) return 0;
    Result<int64_t> value = Object().Int(key);
    if (!value.ok()) status_ = value.status();
    return value.ok() ? *value : 0;
  }
  Money Amount(std::string_view key) {
    std::string text = Text(key);
    if (!status_.ok()) return {};
    Result<Money> value = ParseAmount(text, key);
    if (!value.ok()) status_ = value.status();
    return value.ok() ? *value : Money();
  }
  CivilDate Date(std::string_view key) {
    std::string text = Text(key);
    if (!status_.ok()) return {};
    Result<CivilDate> value = ParseIsoDate(text, key);
    if (!value.ok()) status_ = value.status();
    return value.ok() ? *value : CivilDate();
  }
  Result<simdjson::dom::array> Array(std::string_view key) {
    if (!Parsed()) return status_;
    return Object().Array(key);
  }

  Status Finish() const { return status_.ok() ? Status::Ok() : PayloadCorrupt(event_, status_); }

 private:
  // Parses the payload once; false after any failure.
  bool Parsed() {
    if (!status_.ok()) return false;
    if (!object_.has_value()) {
      object_.emplace(ParseJsonObject(ThreadParser(), event_.payload, "payload"));
      if (!object_->ok()) status_ = object_->status();
    }
    return status_.ok();
  }

  const JsonObject& Object() const { return **object_; }

  const Event& event_;
  std::optional<Result<JsonObject>> object_;
  Status status_;
};

Status UnknownType(const Event& event) {
  return Status::Corruption("event " + std::to_string(event.sequence) + ": type " + event.type +
                            " does not belong in stream " + event.stream_id);
}

Result<OrderLine> ParseOrderLine(simdjson::dom::element element) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS)
    return Status::Corruption("a line is not an object");
  JsonObject json(object);
  Result<std::string> product_id = json.String("product_id");
  Result<std::string> name = json.String("name");
  Result<std::string> unit = json.String("unit");
  Result<int64_t> quantity = json.Int("quantity");
  Result<std::string> unit_price = json.String("unit_price");
  Result<std::string> line_total = json.String("line_total");
  for (const Status& status : {product_id.status(), name.status(), unit.status(), quantity.status(),
                               unit_price.status(), line_total.status()}) {
    if (!status.ok()) return status;
  }
  Result<Money> price = ParseAmount(*unit_price, "unit_price");
  Result<Money> total = ParseAmount(*line_total, "line_total");
  if (!price.ok()) return price.status();
  if (!total.ok()) return total.status();
  return OrderLine{*product_id, *name, *unit, *quantity, *price, *total};
}

// The rule in force on `date`: the latest effective_from not after it; among rules with the
// same effective_from, the one set last.
template <typename Rule>
const Rule* RuleOn(const std::vector<Rule>& rules, CivilDate date, auto&& matches) {
  const Rule* found = nullptr;
  for (const Rule& rule : rules) {
    if (rule.effective_from <= date && matches(rule) &&
        (found == nullptr || !(rule.effective_from < found->effective_from))) {
      found = &rule;
    }
  }
  return found;
}

}  // namespace

std::string AsnStream(std::string_view nip) { return "asn-" + std::string(nip); }
std::string UmkmStream(std::string_view umkm_id) { return "umkm-" + std::string(umkm_id); }
std::string OrderStream(std::string_view order_id) { return "order-" + std::string(order_id); }
std::string ReceiptStream(std::string_view receipt_id) {
  return "receipt-" + std::string(receipt_id);
}
std::string PhotoStream(std::string_view photo_sha256_hex) {
  return "photo-" + std::string(photo_sha256_hex);
}

std::string PaymentStream(std::string_view payment_id) {
  return "payment-" + std::string(payment_id);
}

std::string BankReferenceStream(std::string_view channel, std::string_view bank_reference) {
  return "bank-reference-" +
         HashToHex(Sha256(std::string(channel) + "|" + std::string(bank_reference)));
}

std::string_view PaymentStatusName(PaymentStatus status) {
  switch (status) {
    case PaymentStatus::kNone:
      return "none";
    case PaymentStatus::kRequested:
      return "requested";
    case PaymentStatus::kSucceeded:
      return "succeeded";
    case PaymentStatus::kFailed:
      return "failed";
    case PaymentStatus::kExpired:
      return "expired";
    case PaymentStatus::kRefunded:
      return "refunded";
    case PaymentStatus::kVoided:
      return "voided";
    case PaymentStatus::kRefundDue:
      return "refund_due";
  }
  return "unknown";
}

Status PaymentState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type == types::payment_requested) {
    payment_id = payload.Text("payment_id");
    order_id = payload.Text("order_id");
    umkm_id = payload.Text("umkm_id");
    buyer_nip = payload.Text("buyer_nip");
    amount = payload.Amount("amount");
    channel = payload.Text("channel");
    bank_reference = payload.Text("bank_reference");
    qr_content = payload.OptionalText("qr_content");
    expires_at_us = payload.OptionalInteger("expires_at_us");
    requested_at_us = event.recorded_at_us;
    status = PaymentStatus::kRequested;
    paid_at_us = 0;
    refund_due_cause.clear();
    refund_due_amount = Money();
    exception_resolution.clear();
  } else if (event.type == types::payment_succeeded) {
    status = PaymentStatus::kSucceeded;
    paid_at_us = payload.Integer("paid_at_us");
    business_date = payload.Date("business_date");
    fee = payload.Amount("fee");
  } else if (event.type == types::payment_failed) {
    status = PaymentStatus::kFailed;
  } else if (event.type == types::payment_expired) {
    status = PaymentStatus::kExpired;
  } else if (event.type == types::payment_refunded) {
    refunded += payload.Amount("amount");
    if (refunded >= amount) status = PaymentStatus::kRefunded;
  } else if (event.type == types::payment_voided) {
    status = PaymentStatus::kVoided;
  } else if (event.type == types::payment_refund_due) {
    status = PaymentStatus::kRefundDue;
    paid_at_us = payload.Integer("paid_at_us");
    refund_due_amount = payload.Amount("amount");
    refund_due_cause = payload.Text("cause");
  } else if (event.type == types::payment_exception_resolved) {
    exception_resolution = payload.Text("resolution");
  } else if (event.type != types::payment_notification_refused) {
    return UnknownType(event);
  }
  version = event.stream_version;
  return payload.Finish();
}

std::string SettlementStream(CivilDate business_date) {
  return "settlement-" + FormatIsoDate(business_date);
}

std::string ComplianceStream(std::string_view month) { return "compliance-" + std::string(month); }

std::string ReconciliationStream(std::string_view statement_id) {
  return "reconciliation-" + std::string(statement_id);
}

namespace {

Result<MerchantSettlement> ParseMerchantSettlement(simdjson::dom::element element) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) {
    return Status::Corruption("a merchant is not an object");
  }
  JsonObject json(object, "merchants[].");
  MerchantSettlement merchant;
  Result<std::string> umkm_id = json.String("umkm_id");
  if (!umkm_id.ok()) return umkm_id.status();
  merchant.umkm_id = *umkm_id;
  for (auto [key, target] : {std::pair{"gross", &merchant.gross}, std::pair{"fee", &merchant.fee},
                             std::pair{"net", &merchant.net}}) {
    Result<std::string> text = json.String(key);
    if (!text.ok()) return text.status();
    Result<Money> amount = ParseAmount(*text, key);
    if (!amount.ok()) return amount.status();
    *target = *amount;
  }
  Result<int64_t> payments = json.Int("payments");
  if (!payments.ok()) return payments.status();
  merchant.payments = *payments;
  // Batches closed before refunds were recovered have none of these: zeros.
  for (auto [key, target] :
       {std::pair{"refunds", &merchant.refunds}, std::pair{"carried_in", &merchant.carried_in},
        std::pair{"carried_out", &merchant.carried_out}}) {
    if (!json.Has(key)) continue;
    Result<std::string> text = json.String(key);
    if (!text.ok()) return text.status();
    Result<Money> amount = ParseAmount(*text, key);
    if (!amount.ok()) return amount.status();
    *target = *amount;
  }
  if (json.Has("refund_count")) {
    Result<int64_t> count = json.Int("refund_count");
    if (!count.ok()) return count.status();
    merchant.refund_count = *count;
  }
  return merchant;
}

Result<std::optional<Money>> OptionalAmount(const JsonObject& json, std::string_view key) {
  if (!json.Has(key)) return std::optional<Money>();
  Result<std::string> text = json.String(key);
  if (!text.ok()) return text.status();
  Result<Money> amount = ParseAmount(*text, key);
  if (!amount.ok()) return amount.status();
  return std::optional<Money>(*amount);
}

Result<Discrepancy> ParseDiscrepancy(simdjson::dom::element element) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) {
    return Status::Corruption("a discrepancy is not an object");
  }
  JsonObject json(object, "discrepancies[].");
  Discrepancy discrepancy;
  Result<int64_t> index = json.Int("index");
  Result<int64_t> booked_at = json.Int("booked_at_us");
  Result<std::string> kind = json.String("kind");
  Result<std::string> credit_debit = json.String("credit_debit");
  Result<std::string> reference = json.String("reference");
  Result<std::string> payment_id = json.String("payment_id");
  Result<std::string> booking_date = json.String("booking_date");
  Result<std::optional<Money>> statement_amount = OptionalAmount(json, "statement_amount");
  Result<std::optional<Money>> ledger_amount = OptionalAmount(json, "ledger_amount");
  for (const Status& status :
       {index.status(), booked_at.status(), kind.status(), credit_debit.status(),
        reference.status(), payment_id.status(), booking_date.status(), statement_amount.status(),
        ledger_amount.status()}) {
    if (!status.ok()) return status;
  }
  return Discrepancy{*index,        *kind,      *credit_debit,     *reference,    *payment_id,
                     *booking_date, *booked_at, *statement_amount, *ledger_amount};
}

std::string ResolutionKey(std::string_view kind, std::string_view reference) {
  return std::string(kind) + "|" + std::string(reference);
}

}  // namespace

Status SettlementState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type != types::settlement_batch_closed) return UnknownType(event);
  business_date = payload.Date("business_date");
  total_net = payload.Amount("total_net");
  file_name = payload.Text("file_name");
  pain001_sha256 = payload.Text("pain001_sha256");
  csv_sha256 = payload.Text("csv_sha256");
  closed_at_us = event.recorded_at_us;
  MALPRO_RETURN_IF_ERROR(payload.Finish());
  Result<simdjson::dom::array> array = payload.Array("merchants");
  if (!array.ok()) return PayloadCorrupt(event, array.status());
  merchants.clear();
  for (simdjson::dom::element element : *array) {
    Result<MerchantSettlement> merchant = ParseMerchantSettlement(element);
    if (!merchant.ok()) return PayloadCorrupt(event, merchant.status());
    merchants.push_back(std::move(merchant).value());
  }
  version = event.stream_version;
  return Status::Ok();
}

Status ReconciliationState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type == types::reconciliation_completed) {
    statement_id = payload.Text("statement_id");
    runs = payload.Integer("run");
    matched = payload.Integer("matched");
    MALPRO_RETURN_IF_ERROR(payload.Finish());
    Result<simdjson::dom::array> array = payload.Array("discrepancies");
    if (!array.ok()) return PayloadCorrupt(event, array.status());
    discrepancies.clear();
    for (simdjson::dom::element element : *array) {
      Result<Discrepancy> discrepancy = ParseDiscrepancy(element);
      if (!discrepancy.ok()) return PayloadCorrupt(event, discrepancy.status());
      discrepancies.push_back(std::move(discrepancy).value());
    }
  } else if (event.type == types::reconciliation_discrepancy_resolved) {
    const std::string kind = payload.Text("kind");
    const std::string reference = payload.Text("reference");
    resolutions[ResolutionKey(kind, reference)] = payload.Text("resolution");
    MALPRO_RETURN_IF_ERROR(payload.Finish());
  } else {
    return UnknownType(event);
  }
  version = event.stream_version;
  return Status::Ok();
}

std::string ReconciliationState::ResolutionOf(const Discrepancy& discrepancy) const {
  auto found = resolutions.find(ResolutionKey(discrepancy.kind, discrepancy.reference));
  return found == resolutions.end() ? std::string() : found->second;
}

std::string_view UmkmStatusName(UmkmStatus status) {
  switch (status) {
    case UmkmStatus::kRegistered:
      return "registered";
    case UmkmStatus::kVerified:
      return "verified";
    case UmkmStatus::kSuspended:
      return "suspended";
  }
  return "unknown";
}

std::string_view OrderStatusName(OrderStatus status) {
  switch (status) {
    case OrderStatus::kPlaced:
      return "placed";
    case OrderStatus::kAccepted:
      return "accepted";
    case OrderStatus::kDelivered:
      return "delivered";
    case OrderStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string_view ReceiptStatusName(ReceiptStatus status) {
  switch (status) {
    case ReceiptStatus::kSubmitted:
      return "submitted";
    case ReceiptStatus::kApproved:
      return "approved";
    case ReceiptStatus::kRejected:
      return "rejected";
  }
  return "unknown";
}

std::optional<ReceiptStatus> ReceiptStatusNamed(std::string_view name) {
  for (ReceiptStatus status :
       {ReceiptStatus::kSubmitted, ReceiptStatus::kApproved, ReceiptStatus::kRejected}) {
    if (ReceiptStatusName(status) == name) return status;
  }
  return std::nullopt;
}

Status AsnState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type == types::asn_registered) {
    nip = payload.Text("nip");
    name = payload.Text("name");
    agency = payload.Text("agency");
    rank_class = payload.Text("rank_class");
    kecamatan = payload.Text("kecamatan");
    kelurahan = payload.Text("kelurahan");
    active = true;
  } else if (event.type == types::asn_rank_changed) {
    rank_class = payload.Text("rank_class");
  } else if (event.type == types::asn_deactivated) {
    active = false;
  } else {
    return UnknownType(event);
  }
  version = event.stream_version;
  return payload.Finish();
}

Status UmkmState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type == types::umkm_registered) {
    umkm_id = payload.Text("umkm_id");
    name = payload.Text("name");
    nib = payload.OptionalText("nib");
    category = payload.Text("category");
    kecamatan = payload.Text("kecamatan");
    kelurahan = payload.Text("kelurahan");
    sponsor = payload.Text("sponsor");
    settlement_account = payload.Text("settlement_account");
    qris_criteria = payload.Text("qris_criteria");
    status = UmkmStatus::kRegistered;
  } else if (event.type == types::umkm_verified) {
    status = UmkmStatus::kVerified;
  } else if (event.type == types::umkm_suspended) {
    status = UmkmStatus::kSuspended;
  } else if (event.type == types::product_listed) {
    Product product;
    product.product_id = payload.Text("product_id");
    product.name = payload.Text("name");
    product.unit = payload.Text("unit");
    product.price = payload.Amount("price");
    product.listed = true;
    products[product.product_id] = product;
  } else if (event.type == types::product_repriced) {
    products[payload.Text("product_id")].price = payload.Amount("price");
  } else if (event.type == types::product_delisted) {
    products[payload.Text("product_id")].listed = false;
  } else {
    return UnknownType(event);
  }
  version = event.stream_version;
  return payload.Finish();
}

Status OrderState::Apply(const Event& event, bool with_lines) {
  PayloadReader payload(event);
  if (event.type == types::order_placed) {
    order_id = payload.Text("order_id");
    buyer_nip = payload.Text("buyer_nip");
    umkm_id = payload.Text("umkm_id");
    total = payload.Amount("total");
    payment_method = payload.Text("payment_method");
    placed_at_us = event.recorded_at_us;
    if (with_lines) {
      Result<simdjson::dom::array> array = payload.Array("lines");
      if (!array.ok()) return PayloadCorrupt(event, array.status());
      for (simdjson::dom::element element : *array) {
        Result<OrderLine> line = ParseOrderLine(element);
        if (!line.ok()) return PayloadCorrupt(event, line.status());
        lines.push_back(std::move(line).value());
      }
    }
    status = OrderStatus::kPlaced;
  } else if (event.type == types::order_accepted) {
    status = OrderStatus::kAccepted;
  } else if (event.type == types::order_delivered) {
    status = OrderStatus::kDelivered;
  } else if (event.type == types::order_cancelled) {
    status = OrderStatus::kCancelled;
    cancel_reason = payload.Text("reason");
  } else if (event.type == types::order_cash_received) {
    cash_received = true;
  } else {
    return UnknownType(event);
  }
  version = event.stream_version;
  return payload.Finish();
}

Status ReceiptState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type == types::receipt_submitted) {
    receipt_id = payload.Text("receipt_id");
    nip = payload.Text("nip");
    shop_name = payload.Text("shop_name");
    kecamatan = payload.Text("kecamatan");
    kelurahan = payload.Text("kelurahan");
    amount = payload.Amount("amount");
    purchase_date = payload.Date("purchase_date");
    photo_sha256 = payload.Text("photo_sha256");
    status = ReceiptStatus::kSubmitted;
  } else if (event.type == types::receipt_approved) {
    status = ReceiptStatus::kApproved;
  } else if (event.type == types::receipt_rejected) {
    status = ReceiptStatus::kRejected;
    rejection_reason = payload.Text("reason");
  } else {
    return UnknownType(event);
  }
  version = event.stream_version;
  return payload.Finish();
}

Status PolicyState::Apply(const Event& event) {
  PayloadReader payload(event);
  if (event.type == types::policy_minimum_spend_set) {
    minimum_spend.push_back(
        {payload.Text("rank_group"), payload.Amount("amount"), payload.Date("effective_from")});
  } else if (event.type == types::policy_fee_rule_set) {
    fee_rules.push_back({payload.Integer("basis_points"), payload.Amount("umi_zero_fee_max"),
                         payload.Date("effective_from")});
  } else if (event.type == types::policy_settlement_cutoff_set) {
    cutoffs.push_back(
        {static_cast<int>(payload.Integer("minutes_of_day")), payload.Date("effective_from")});
  } else {
    return UnknownType(event);
  }
  version = event.stream_version;
  return payload.Finish();
}

std::optional<Money> PolicyState::MinimumSpendOn(std::string_view rank_group,
                                                 CivilDate date) const {
  const MinimumSpendRule* rule = RuleOn(
      minimum_spend, date, [&](const MinimumSpendRule& r) { return r.rank_group == rank_group; });
  if (rule == nullptr) return std::nullopt;
  return rule->amount;
}

std::optional<Money> PolicyState::MinimumSpendFor(std::string_view rank_class,
                                                  CivilDate date) const {
  if (std::optional<Money> specific = MinimumSpendOn(rank_class, date)) return specific;
  return MinimumSpendOn(RankGroupOf(rank_class), date);
}

std::optional<FeeRule> PolicyState::FeeRuleOn(CivilDate date) const {
  const FeeRule* rule = RuleOn(fee_rules, date, [](const FeeRule&) { return true; });
  if (rule == nullptr) return std::nullopt;
  return *rule;
}

std::optional<CutoffRule> PolicyState::CutoffOn(CivilDate date) const {
  const CutoffRule* rule = RuleOn(cutoffs, date, [](const CutoffRule&) { return true; });
  if (rule == nullptr) return std::nullopt;
  return *rule;
}

Money FeeFor(const FeeRule& rule, std::string_view criteria, Money amount) {
  if (criteria == "UMI" && amount <= rule.umi_zero_fee_max) return Money();
  return ApplyBasisPoints(amount, rule.basis_points);
}

void WriteAsnIdentityFields(JsonWriter& writer, const AsnIdentity& asn) {
  writer.Field("nip", asn.nip)
      .Field("name", asn.name)
      .Field("agency", asn.agency)
      .Field("rank_class", asn.rank_class)
      .Field("kecamatan", asn.kecamatan)
      .Field("kelurahan", asn.kelurahan);
}

void WriteReceiptFields(JsonWriter& writer, const ReceiptState& receipt) {
  writer.Field("receipt_id", receipt.receipt_id)
      .Field("nip", receipt.nip)
      .Field("shop_name", receipt.shop_name)
      .Field("kecamatan", receipt.kecamatan)
      .Field("kelurahan", receipt.kelurahan)
      .Field("amount", FormatSnap(receipt.amount))
      .Field("purchase_date", FormatIsoDate(receipt.purchase_date))
      .Field("photo_sha256", receipt.photo_sha256);
}

void WriteMerchantSettlementFields(JsonWriter& writer, const MerchantSettlement& merchant) {
  writer.Field("umkm_id", merchant.umkm_id)
      .Field("payments", merchant.payments)
      .Field("gross", FormatSnap(merchant.gross))
      .Field("fee", FormatSnap(merchant.fee))
      .Field("refunds", FormatSnap(merchant.refunds))
      .Field("refund_count", merchant.refund_count)
      .Field("carried_in", FormatSnap(merchant.carried_in))
      .Field("net", FormatSnap(merchant.net))
      .Field("carried_out", FormatSnap(merchant.carried_out));
}

void WriteDiscrepancyFields(JsonWriter& writer, const Discrepancy& discrepancy,
                            MissingAmount missing) {
  writer.Field("index", discrepancy.index)
      .Field("kind", discrepancy.kind)
      .Field("credit_debit", discrepancy.credit_debit)
      .Field("reference", discrepancy.reference)
      .Field("payment_id", discrepancy.payment_id)
      .Field("booking_date", discrepancy.booking_date)
      .Field("booked_at_us", discrepancy.booked_at_us);
  for (const auto& [key, amount] : {std::pair{"statement_amount", &discrepancy.statement_amount},
                                    std::pair{"ledger_amount", &discrepancy.ledger_amount}}) {
    if (*amount) {
      writer.Field(key, FormatSnap(**amount));
    } else if (missing == MissingAmount::kNull) {
      writer.Key(key).Null();
    }
  }
}

}  // namespace malpro
