#include "projections/world.h"

#include <string_view>

#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/json.h"

namespace malpro {
namespace {

namespace types = event_types;

// "order" of "order.placed".
std::string_view Family(std::string_view type) { return type.substr(0, type.find('.')); }

Status Missing(const Event& event, std::string_view what, std::string_view id) {
  return Status::Corruption("event " + std::to_string(event.sequence) + " (" + event.type +
                            ") refers to " + std::string(what) + " '" + std::string(id) +
                            "' that does not exist");
}

Result<CivilDate> SettledDate(const Event& event) {
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
  if (!payload.ok()) return payload.status();
  Result<std::string> text = payload->String("business_date");
  if (!text.ok()) return text.status();
  return ParseIsoDate(*text, "business_date");
}

// Folds one event into a stream's state. The read models count money: an order's lines are
// left unread.
template <typename State>
Status FoldInto(State& state, const Event& event) {
  return state.Apply(event);
}
Status FoldInto(OrderState& state, const Event& event) {
  return state.Apply(event, /*with_lines=*/false);
}

}  // namespace

template <typename Entry>
Result<Entry*> World::Lookup(StreamMap<Entry>& entries, std::string_view stream,
                             uint64_t before_sequence) {
  if (Entry* found = entries.Find(stream)) return found;
  if (!reader_) return static_cast<Entry*>(nullptr);
  Result<std::vector<Event>> events = reader_(stream, before_sequence);
  if (!events.ok()) return events.status();
  if (events->empty()) return static_cast<Entry*>(nullptr);
  Entry loaded;
  for (const Event& event : *events) {
    Status applied = FoldInto(loaded.state, event);
    if (!applied.ok()) return applied;
  }
  Entry& entry = entries.Insert(stream, std::move(loaded));
  MALPRO_RETURN_IF_ERROR(Created(entry, before_sequence));
  return &entry;
}

template <typename Entry>
Result<Entry*> World::Fold(StreamMap<Entry>& entries, Entry* entry, const Event& event) {
  const bool created = entry == nullptr;
  if (created) entry = &entries.Insert(event.stream_id, Entry());
  Status applied = FoldInto(entry->state, event);
  if (!applied.ok()) return applied;
  if (created) MALPRO_RETURN_IF_ERROR(Created(*entry, event.sequence));
  return entry;
}

template <typename Entry>
void World::Renew(Entry& entry) {
  if (entry.copy != nullptr) retired_.push_back(std::move(entry.copy));
  entry.copy = std::make_shared<const decltype(entry.state)>(entry.state);
}

Status World::Created(AsnEntry& entry, uint64_t) {
  entry.slot = asn_slots_++;
  Renew(entry);
  return Status::Ok();
}

Status World::Created(UmkmEntry& entry, uint64_t) {
  entry.slot = umkm_slots_++;
  Renew(entry);
  return Status::Ok();
}

Status World::Created(OrderEntry& entry, uint64_t before_sequence) {
  // Links both ways: whichever of the order and its payment is met second finds the first.
  // From sequence 1 the ledger writes an order before its payment: the payment is looked
  // for only when one was met without its order.
  if (!reader_ && orphan_payments_ == 0) return Status::Ok();
  Result<PaymentEntry*> payment =
      Lookup(payments_, PaymentStream(entry.state.order_id), before_sequence);
  if (!payment.ok()) return payment.status();
  if (*payment != nullptr) {
    entry.payment = *payment;
    (*payment)->order = &entry;
  }
  return Status::Ok();
}

Status World::Created(PaymentEntry& entry, uint64_t before_sequence) {
  Result<OrderEntry*> order = Lookup(orders_, OrderStream(entry.state.order_id), before_sequence);
  if (!order.ok()) return order.status();
  if (*order != nullptr) {
    entry.order = *order;
    (*order)->payment = &entry;
  } else {
    ++orphan_payments_;
  }
  return Status::Ok();
}

Status World::Created(ReceiptEntry&, uint64_t) { return Status::Ok(); }
Status World::Created(PolicyEntry&, uint64_t) { return Status::Ok(); }

template <typename Entry>
Result<Entry*> World::Follow(Entry** link, StreamMap<Entry>& entries, std::string_view stream,
                             std::string_view what, const std::string& id, const Event& event) {
  Result<Entry*> found = Lookup(entries, stream, event.sequence);
  if (!found.ok()) return found.status();
  if (*found == nullptr) return Missing(event, what, id);
  *link = *found;
  return *found;
}

Result<World::AsnEntry*> World::Asn(AsnEntry** link, const std::string& nip, const Event& event) {
  if (*link != nullptr) return *link;
  return Follow(link, asn_, AsnStream(nip), "ASN", nip, event);
}

Result<World::UmkmEntry*> World::Umkm(UmkmEntry** link, const std::string& umkm_id,
                                      const Event& event) {
  if (*link != nullptr) return *link;
  return Follow(link, umkm_, UmkmStream(umkm_id), "UMKM", umkm_id, event);
}

void World::Attach(Fact& fact, const AsnEntry* asn, const UmkmEntry* umkm) {
  if (asn != nullptr) {
    fact.asn = asn->copy.get();
    fact.asn_slot = asn->slot;
  }
  if (umkm != nullptr) {
    fact.umkm = umkm->copy.get();
    fact.umkm_slot = umkm->slot;
  }
}

bool World::OrderPending(const OrderEntry& order) const {
  if (order.state.status == OrderStatus::kCancelled || order.state.cash_received) return false;
  if (order.payment == nullptr) return true;
  const PaymentStatus status = order.payment->state.status;
  return status != PaymentStatus::kSucceeded && status != PaymentStatus::kRefunded;
}

Status World::Apply(const Event& event, Fact* out) {
  Fact& fact = *out;
  fact.event = &event;
  if (policy_state_ == nullptr) {
    Result<PolicyEntry*> policy = Lookup(policy_, policy_stream, event.sequence);
    if (!policy.ok()) return policy.status();
    policy_state_ = *policy != nullptr ? &(*policy)->state
                                       : &policy_.Insert(policy_stream, PolicyEntry()).state;
  }

  const std::string_view type = event.type;
  const std::string_view family = Family(type);
  if (family == "asn") {
    Result<AsnEntry*> before = Lookup(asn_, event.stream_id, event.sequence);
    if (!before.ok()) return before.status();
    if (*before != nullptr) fact.previous_rank_class = (*before)->state.rank_class;
    Result<AsnEntry*> asn = Fold(asn_, *before, event);
    if (!asn.ok()) return asn.status();
    if (*before != nullptr) Renew(**asn);  // a new entry got its copy when created
    fact.kind = FactKind::kAsnChanged;
    Attach(fact, *asn, nullptr);
    return Status::Ok();
  }
  if (family == "umkm" || family == "product") {
    Result<UmkmEntry*> before = Lookup(umkm_, event.stream_id, event.sequence);
    if (!before.ok()) return before.status();
    Result<UmkmEntry*> umkm = Fold(umkm_, *before, event);
    if (!umkm.ok()) return umkm.status();
    if (*before != nullptr) Renew(**umkm);
    fact.kind = FactKind::kUmkmChanged;
    Attach(fact, nullptr, *umkm);
    return Status::Ok();
  }
  if (family == "order") return ApplyOrder(event, fact);
  if (family == "payment") return ApplyPayment(event, fact);
  if (family == "receipt") return ApplyReceipt(event, fact);
  if (family == "policy") return ApplyPolicy(event, fact);
  if (type == types::compliance_month_closed) {
    fact.kind = FactKind::kMonthClosed;
    fact.closed_month = event.stream_id.substr(event.stream_id.find('-') + 1);
    return Status::Ok();
  }
  if (type == types::settlement_batch_closed) {
    Result<CivilDate> date = SettledDate(event);
    if (!date.ok()) {
      return Status::Corruption("event " + std::to_string(event.sequence) + ": " +
                                date.status().message());
    }
    fact.kind = FactKind::kSettlementClosed;
    fact.settled_date = *date;
  }
  return Status::Ok();  // photo claims and types a read model does not count
}

Status World::ApplyOrder(const Event& event, Fact& fact) {
  Result<OrderEntry*> before = Lookup(orders_, event.stream_id, event.sequence);
  if (!before.ok()) return before.status();
  const bool pending_before = *before != nullptr && OrderPending(**before);
  Result<OrderEntry*> folded = Fold(orders_, *before, event);
  if (!folded.ok()) return folded.status();
  OrderEntry& entry = **folded;
  const OrderState& order = entry.state;
  fact.order = FactOrder{order.placed_at_us, order.status, order.payment_method == payment_cashless,
                         order.cash_received};
  fact.amount = order.total;
  Result<AsnEntry*> asn = Asn(&entry.asn, order.buyer_nip, event);
  if (!asn.ok()) return asn.status();
  Result<UmkmEntry*> umkm = Umkm(&entry.umkm, order.umkm_id, event);
  if (!umkm.ok()) return umkm.status();
  Attach(fact, *asn, *umkm);
  if (event.type == types::order_placed) {
    fact.kind = FactKind::kOrderPlaced;
  } else if (event.type == types::order_cancelled && pending_before) {
    fact.kind = FactKind::kOrderCancelled;
  } else if (event.type == types::order_cash_received) {
    fact.kind = FactKind::kCashReceived;
    fact.was_pending = pending_before;
  }
  return Status::Ok();
}

Status World::ApplyPayment(const Event& event, Fact& fact) {
  Result<PaymentEntry*> before = Lookup(payments_, event.stream_id, event.sequence);
  if (!before.ok()) return before.status();
  const Money refunded_before = *before != nullptr ? (*before)->state.refunded : Money();
  Result<PaymentEntry*> folded = Fold(payments_, *before, event);
  if (!folded.ok()) return folded.status();
  PaymentEntry& entry = **folded;
  const PaymentState& payment = entry.state;
  fact.payment = FactPayment{
      payment.amount,        payment.fee,     payment.paid_at_us,     payment.business_date,
      payment.status,        payment.channel, payment.bank_reference, payment.requested_at_us,
      payment.expires_at_us, payment.refunded};
  if (entry.order == nullptr) return Missing(event, "order", payment.order_id);
  const OrderEntry& order = *entry.order;
  fact.order = FactOrder{order.state.placed_at_us, order.state.status,
                         order.state.payment_method == payment_cashless, order.state.cash_received};
  // The payment names the order's buyer and merchant: take the order's links when they match.
  if (entry.asn == nullptr && order.asn != nullptr && order.state.buyer_nip == payment.buyer_nip) {
    entry.asn = order.asn;
  }
  if (entry.umkm == nullptr && order.umkm != nullptr && order.state.umkm_id == payment.umkm_id) {
    entry.umkm = order.umkm;
  }
  Result<AsnEntry*> asn = Asn(&entry.asn, payment.buyer_nip, event);
  if (!asn.ok()) return asn.status();
  Result<UmkmEntry*> umkm = Umkm(&entry.umkm, payment.umkm_id, event);
  if (!umkm.ok()) return umkm.status();
  Attach(fact, *asn, *umkm);
  if (event.type == types::payment_succeeded) {
    fact.kind = FactKind::kPaymentSucceeded;
    fact.amount = payment.amount;
    const OrderState& placed = entry.order->state;
    fact.was_pending = placed.status != OrderStatus::kCancelled && !placed.cash_received;
  } else if (event.type == types::payment_refunded) {
    fact.kind = FactKind::kPaymentRefunded;
    fact.amount = payment.refunded - refunded_before;
  } else if (event.type == types::payment_refund_due) {
    fact.kind = FactKind::kPaymentRefundDue;
    fact.amount = payment.refund_due_amount;
  } else if (event.type == types::payment_exception_resolved) {
    fact.kind = FactKind::kExceptionResolved;
  }
  return Status::Ok();
}

Status World::ApplyReceipt(const Event& event, Fact& fact) {
  Result<ReceiptEntry*> before = Lookup(receipts_, event.stream_id, event.sequence);
  if (!before.ok()) return before.status();
  Result<ReceiptEntry*> folded = Fold(receipts_, *before, event);
  if (!folded.ok()) return folded.status();
  ReceiptEntry& entry = **folded;
  const ReceiptState& receipt = entry.state;
  fact.receipt = receipt;
  Result<AsnEntry*> asn = Asn(&entry.asn, receipt.nip, event);
  if (!asn.ok()) return asn.status();
  Attach(fact, *asn, nullptr);
  if (event.type == types::receipt_approved) {
    fact.kind = FactKind::kReceiptApproved;
    fact.amount = receipt.amount;
  }
  return Status::Ok();
}

Status World::ApplyPolicy(const Event& event, Fact& fact) {
  PolicyState& policy = *policy_state_;
  const size_t minimum_rules = policy.minimum_spend.size();
  const size_t fee_rules = policy.fee_rules.size();
  const size_t cutoffs = policy.cutoffs.size();
  Status applied = policy.Apply(event);
  if (!applied.ok()) return applied;
  fact.kind = FactKind::kPolicyChanged;
  if (policy.minimum_spend.size() > minimum_rules) {
    fact.effective_from = policy.minimum_spend.back().effective_from;
  } else if (policy.fee_rules.size() > fee_rules) {
    fact.effective_from = policy.fee_rules.back().effective_from;
  } else if (policy.cutoffs.size() > cutoffs) {
    fact.effective_from = policy.cutoffs.back().effective_from;
  }
  return Status::Ok();
}

const PolicyState* World::Policy() const {
  const PolicyEntry* found = policy_.Find(policy_stream);
  return found == nullptr ? nullptr : &found->state;
}

Status World::LoadPolicy(uint64_t next_sequence) {
  Result<PolicyEntry*> policy = Lookup(policy_, policy_stream, next_sequence);
  return policy.status();
}

}  // namespace malpro
