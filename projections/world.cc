#include "projections/world.h"

#include <string_view>

#include "engine/domain_events.h"
#include "engine/json.h"

namespace malpro {
namespace {

namespace types = event_types;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

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

}  // namespace

template <typename State>
Result<State*> World::Lookup(std::unordered_map<std::string, State>& states,
                             const std::string& stream, uint64_t before_sequence) {
  auto found = states.find(stream);
  if (found != states.end()) return &found->second;
  if (!reader_) return static_cast<State*>(nullptr);
  Result<std::vector<Event>> events = reader_(stream, before_sequence);
  if (!events.ok()) return events.status();
  if (events->empty()) return static_cast<State*>(nullptr);
  State state;
  for (const Event& event : *events) {
    Status applied = state.Apply(event);
    if (!applied.ok()) return applied;
  }
  return &states.emplace(stream, std::move(state)).first->second;
}

template <typename State>
Result<State*> World::Fold(std::unordered_map<std::string, State>& states, const Event& event) {
  Result<State*> found = Lookup(states, event.stream_id, event.sequence);
  if (!found.ok()) return found.status();
  State* state = *found;
  if (state == nullptr) state = &states[event.stream_id];
  Status applied = state->Apply(event);
  if (!applied.ok()) return applied;
  return state;
}

Result<bool> World::OrderPending(const OrderState& order, uint64_t before_sequence) {
  if (order.status == OrderStatus::kCancelled || order.cash_received) return false;
  Result<PaymentState*> payment = Lookup(payments_, PaymentStream(order.order_id), before_sequence);
  if (!payment.ok()) return payment.status();
  if (*payment == nullptr) return true;
  const PaymentStatus status = (*payment)->status;
  return status != PaymentStatus::kSucceeded && status != PaymentStatus::kRefunded;
}

Status World::AttachParties(Fact& fact, const std::string& nip, const std::string& umkm_id,
                            uint64_t before_sequence) {
  const Event& event = *fact.event;
  if (!nip.empty()) {
    Result<AsnState*> asn = Lookup(asn_, AsnStream(nip), before_sequence);
    if (!asn.ok()) return asn.status();
    if (*asn == nullptr) return Missing(event, "ASN", nip);
    fact.asn = *asn;
  }
  if (!umkm_id.empty()) {
    Result<UmkmState*> umkm = Lookup(umkm_, UmkmStream(umkm_id), before_sequence);
    if (!umkm.ok()) return umkm.status();
    if (*umkm == nullptr) return Missing(event, "UMKM", umkm_id);
    fact.umkm = *umkm;
  }
  return Status::Ok();
}

Result<Fact> World::Apply(const Event& event) {
  Fact fact;
  fact.event = &event;
  if (policy_state_ == nullptr) {
    Result<PolicyState*> policy = Lookup(policy_, std::string(policy_stream), event.sequence);
    if (!policy.ok()) return policy.status();
    policy_state_ = *policy != nullptr ? *policy : &policy_[std::string(policy_stream)];
  }
  fact.policy = policy_state_;

  const std::string_view type = event.type;
  if (StartsWith(type, "asn.")) {
    Result<AsnState*> before = Lookup(asn_, event.stream_id, event.sequence);
    if (!before.ok()) return before.status();
    if (*before != nullptr) fact.previous_rank_class = (*before)->rank_class;
    Result<AsnState*> asn = Fold(asn_, event);
    if (!asn.ok()) return asn.status();
    fact.kind = FactKind::kAsnChanged;
    fact.asn = *asn;
    return fact;
  }
  if (StartsWith(type, "umkm.") || StartsWith(type, "product.")) {
    Result<UmkmState*> umkm = Fold(umkm_, event);
    if (!umkm.ok()) return umkm.status();
    fact.kind = FactKind::kUmkmChanged;
    fact.umkm = *umkm;
    return fact;
  }
  if (StartsWith(type, "order.")) return ApplyOrder(event, fact);
  if (StartsWith(type, "payment.")) return ApplyPayment(event, fact);
  if (StartsWith(type, "receipt.")) return ApplyReceipt(event, fact);
  if (StartsWith(type, "policy.")) return ApplyPolicy(event, fact);
  if (type == types::settlement_batch_closed) {
    Result<CivilDate> date = SettledDate(event);
    if (!date.ok()) {
      return Status::Corruption("event " + std::to_string(event.sequence) + ": " +
                                date.status().message());
    }
    fact.kind = FactKind::kSettlementClosed;
    fact.settled_date = *date;
  }
  return fact;  // photo claims and types a read model does not count
}

Result<Fact> World::ApplyOrder(const Event& event, Fact fact) {
  bool pending_before = false;
  Result<OrderState*> before = Lookup(orders_, event.stream_id, event.sequence);
  if (!before.ok()) return before.status();
  if (*before != nullptr) {
    Result<bool> pending = OrderPending(**before, event.sequence);
    if (!pending.ok()) return pending.status();
    pending_before = *pending;
  }
  Result<OrderState*> folded = Fold(orders_, event);
  if (!folded.ok()) return folded.status();
  const OrderState& order = **folded;
  fact.order = &order;
  fact.amount = order.total;
  Status parties = AttachParties(fact, order.buyer_nip, order.umkm_id, event.sequence);
  if (!parties.ok()) return parties;
  if (event.type == types::order_placed) {
    fact.kind = FactKind::kOrderPlaced;
  } else if (event.type == types::order_cancelled && pending_before) {
    fact.kind = FactKind::kOrderCancelled;
  } else if (event.type == types::order_cash_received) {
    fact.kind = FactKind::kCashReceived;
    fact.was_pending = pending_before;
  }
  return fact;
}

Result<Fact> World::ApplyPayment(const Event& event, Fact fact) {
  Money refunded_before;
  Result<PaymentState*> before = Lookup(payments_, event.stream_id, event.sequence);
  if (!before.ok()) return before.status();
  if (*before != nullptr) refunded_before = (*before)->refunded;
  Result<PaymentState*> folded = Fold(payments_, event);
  if (!folded.ok()) return folded.status();
  const PaymentState& payment = **folded;
  fact.payment = &payment;
  Result<OrderState*> order = Lookup(orders_, OrderStream(payment.order_id), event.sequence);
  if (!order.ok()) return order.status();
  if (*order == nullptr) return Missing(event, "order", payment.order_id);
  fact.order = *order;
  Status parties = AttachParties(fact, payment.buyer_nip, payment.umkm_id, event.sequence);
  if (!parties.ok()) return parties;
  if (event.type == types::payment_succeeded) {
    fact.kind = FactKind::kPaymentSucceeded;
    fact.amount = payment.amount;
    const OrderState& placed = **order;
    fact.was_pending = placed.status != OrderStatus::kCancelled && !placed.cash_received;
  } else if (event.type == types::payment_refunded) {
    fact.kind = FactKind::kPaymentRefunded;
    fact.amount = payment.refunded - refunded_before;
  }
  return fact;
}

Result<Fact> World::ApplyReceipt(const Event& event, Fact fact) {
  Result<ReceiptState*> folded = Fold(receipts_, event);
  if (!folded.ok()) return folded.status();
  const ReceiptState& receipt = **folded;
  fact.receipt = &receipt;
  Status parties = AttachParties(fact, receipt.nip, "", event.sequence);
  if (!parties.ok()) return parties;
  if (event.type == types::receipt_approved) {
    fact.kind = FactKind::kReceiptApproved;
    fact.amount = receipt.amount;
  }
  return fact;
}

Result<Fact> World::ApplyPolicy(const Event& event, Fact fact) {
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
  return fact;
}

const AsnState* World::FindAsn(const std::string& nip) const {
  auto found = asn_.find(AsnStream(nip));
  return found == asn_.end() ? nullptr : &found->second;
}

const UmkmState* World::FindUmkm(const std::string& umkm_id) const {
  auto found = umkm_.find(UmkmStream(umkm_id));
  return found == umkm_.end() ? nullptr : &found->second;
}

const PolicyState* World::Policy() const {
  auto found = policy_.find(std::string(policy_stream));
  return found == policy_.end() ? nullptr : &found->second;
}

Status World::LoadPolicy(uint64_t next_sequence) {
  Result<PolicyState*> policy = Lookup(policy_, std::string(policy_stream), next_sequence);
  return policy.status();
}

}  // namespace malpro
