// World: the state of every stream the read models refer to (ASN, merchants, orders,
// payments, receipts, the policy), folded in sequence order with the engine's aggregates, and
// the Fact each event amounts to for the read models.
//
// A projector starts either at sequence 1 (the world is then complete: a stream it has not
// seen does not exist yet) or behind a checkpoint. In the second case a stream met for the
// first time is folded from the log up to, not including, the event being applied, so a
// read model sees exactly the state it would have seen in a replay from 1.
//
// Streams an event refers to are found once: an order's entry keeps its buyer, merchant and
// payment, so folding an event looks up its own stream and follows links from there. ASN and
// merchants get a slot (dense, from 0, in the order the world first meets them) that read
// models use to keep their own rows per ASN or merchant without hashing the id again.
//
// Threading: one thread at a time (a catch-up's world stage, or the projector's thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/aggregates.h"
#include "engine/envelope.h"
#include "engine/result.h"
#include "projections/stream_map.h"

namespace malpro {

enum class FactKind {
  kOther,              // changes nothing a read model counts (e.g. order.accepted)
  kAsnChanged,         // asn.registered, asn.rank_changed, asn.deactivated
  kUmkmChanged,        // umkm.* and product.*
  kOrderPlaced,        // an order became pending
  kOrderCancelled,     // an order stopped being pending without being paid
  kCashReceived,       // COD: money changed hands (order total)
  kPaymentSucceeded,   // cashless: money changed hands (payment amount)
  kPaymentRefunded,    // part or all of a succeeded payment went back (amount)
  kReceiptApproved,    // a manual receipt counts (amount)
  kPolicyChanged,      // policy.*
  kSettlementClosed,   // settlement.batch_closed (settled_date)
  kPaymentRefundDue,   // the bank moved money that counts toward nothing (amount)
  kExceptionResolved,  // the operator resolved a refund_due
  kMonthClosed,        // compliance.month_closed (closed_month)
};

// What one event means for the read models. A fact does not point into the world's changing
// state, so read models may fold it on another thread while the world goes on:
// - `asn` and `umkm` point to immutable copies of those streams as of the event; the world
//   replaces a copy when its stream changes and hands the old one over (World::TakeRetired)
//   to whoever owns the facts that may still point to it;
// - what read models need of an order, a payment or a receipt is copied into the fact.
// No slot: the fact concerns no ASN or no merchant.
inline constexpr uint32_t no_slot = UINT32_MAX;

// Of the order concerned, as of the event.
struct FactOrder {
  int64_t placed_at_us = 0;
  OrderStatus status = OrderStatus::kPlaced;
  bool cashless = false;
  bool cash_received = false;
};
// Of the payment concerned, as of the event.
struct FactPayment {
  Money amount;
  Money fee;  // under the policy recorded at payment time
  int64_t paid_at_us = 0;
  CivilDate business_date;
  PaymentStatus status = PaymentStatus::kNone;
  std::string channel;
  std::string bank_reference;
  int64_t requested_at_us = 0;  // of the latest payment.requested
  int64_t expires_at_us = 0;
  Money refunded;
};

struct Fact {
  const Event* event = nullptr;  // owned by whoever passed it to World::Apply
  FactKind kind = FactKind::kOther;
  const AsnState* asn = nullptr;    // the ASN concerned: the buyer, the receipt's owner
  const UmkmState* umkm = nullptr;  // the merchant concerned
  std::optional<FactOrder> order;
  std::optional<FactPayment> payment;
  std::optional<ReceiptState> receipt;  // as of the event
  // Slots of `asn` and `umkm` within this world (no_slot when absent).
  uint32_t asn_slot = no_slot;
  uint32_t umkm_slot = no_slot;
  // The money this event moved: the order total (cash received, payment succeeded), the
  // refund, the approved receipt; for kOrderPlaced / kOrderCancelled the order total.
  Money amount;
  // kPaymentSucceeded: whether the order was still pending (placed, unpaid, not cancelled).
  bool was_pending = false;
  // kAsnChanged by asn.rank_changed: the class the ASN held before.
  std::string previous_rank_class;
  // The policy in force. Not set by the world: whoever folds facts keeps its own policy,
  // folded from the kPolicyChanged facts' events, and points here (Projector).
  const PolicyState* policy = nullptr;
  // kPolicyChanged: the date the new rule takes effect.
  CivilDate effective_from;
  // kSettlementClosed: the business day closed.
  CivilDate settled_date;
  // kMonthClosed: the month whose compliance was closed, "YYYY-MM".
  std::string closed_month;
};

class World {
 public:
  // Reads the events of `stream_id` with sequences below `before_sequence`, in order.
  using StreamReader = std::function<Result<std::vector<Event>>(std::string_view stream_id,
                                                                uint64_t before_sequence)>;

  // A world that starts at sequence 1: it needs no reader.
  World() = default;
  // A world that starts behind a checkpoint and folds streams from the log on first use.
  explicit World(StreamReader reader) : reader_(std::move(reader)) {}

  // Folds `event` (the next in sequence) into its stream and says what it means. Corruption
  // when the payload does not fit its type, or when the event refers to a stream that does
  // not exist (the ledger never writes such an event). Fills `*fact`, a default Fact;
  // `event` must outlive it.
  Status Apply(const Event& event, Fact* fact);
  // The copies replaced since the last call (facts made before may still point to them):
  // keep them until those facts are folded.
  std::vector<std::shared_ptr<const void>> TakeRetired() { return std::exchange(retired_, {}); }

  // The policy as folded so far; nullptr before any policy event.
  const PolicyState* Policy() const;
  // Folds the policy up to `next_sequence` - 1 now, so queries see it before the next event.
  Status LoadPolicy(uint64_t next_sequence);

 private:
  struct AsnEntry {
    AsnState state;
    std::shared_ptr<const AsnState> copy;  // of `state`, for facts
    uint32_t slot = no_slot;
  };
  struct UmkmEntry {
    UmkmState state;
    std::shared_ptr<const UmkmState> copy;
    uint32_t slot = no_slot;
  };
  struct PaymentEntry;
  struct OrderEntry {
    OrderState state;
    AsnEntry* asn = nullptr;  // the buyer and merchant, once looked up
    UmkmEntry* umkm = nullptr;
    PaymentEntry* payment = nullptr;  // set when the payment stream is met
  };
  struct PaymentEntry {
    PaymentState state;
    OrderEntry* order = nullptr;
    AsnEntry* asn = nullptr;
    UmkmEntry* umkm = nullptr;
  };
  struct ReceiptEntry {
    ReceiptState state;
    AsnEntry* asn = nullptr;
  };
  struct PolicyEntry {
    PolicyState state;
  };

  // The entry of `stream` as of `before_sequence`: from memory, or (behind a checkpoint)
  // folded from the log on first use; nullptr when the stream does not exist yet.
  template <typename Entry>
  Result<Entry*> Lookup(StreamMap<Entry>& entries, std::string_view stream,
                        uint64_t before_sequence);
  // Folds `event` into `entry`, creating the entry when it is nullptr.
  template <typename Entry>
  Result<Entry*> Fold(StreamMap<Entry>& entries, Entry* entry, const Event& event);
  // Called once for every entry, when it is created.
  Status Created(AsnEntry& entry, uint64_t before_sequence);
  Status Created(UmkmEntry& entry, uint64_t before_sequence);
  Status Created(OrderEntry& entry, uint64_t before_sequence);
  Status Created(PaymentEntry& entry, uint64_t before_sequence);
  Status Created(ReceiptEntry& entry, uint64_t before_sequence);
  Status Created(PolicyEntry& entry, uint64_t before_sequence);
  // Finds the entry of `stream` for an empty `*link` and sets the link; Corruption naming
  // `what` and `id` when the stream does not exist. Asn and Umkm follow a set link at once.
  template <typename Entry>
  Result<Entry*> Follow(Entry** link, StreamMap<Entry>& entries, std::string_view stream,
                        std::string_view what, const std::string& id, const Event& event);
  Result<AsnEntry*> Asn(AsnEntry** link, const std::string& nip, const Event& event);
  Result<UmkmEntry*> Umkm(UmkmEntry** link, const std::string& umkm_id, const Event& event);
  bool OrderPending(const OrderEntry& order) const;
  Status ApplyOrder(const Event& event, Fact& fact);
  Status ApplyPayment(const Event& event, Fact& fact);
  Status ApplyReceipt(const Event& event, Fact& fact);
  Status ApplyPolicy(const Event& event, Fact& fact);
  static void Attach(Fact& fact, const AsnEntry* asn, const UmkmEntry* umkm);
  // Replaces the copy facts point to after `entry.state` changed.
  template <typename Entry>
  void Renew(Entry& entry);

  StreamReader reader_;      // empty: the world is complete from sequence 1
  StreamMap<AsnEntry> asn_;  // by stream id
  StreamMap<UmkmEntry> umkm_;
  StreamMap<OrderEntry> orders_;
  StreamMap<PaymentEntry> payments_;
  StreamMap<ReceiptEntry> receipts_;
  StreamMap<PolicyEntry> policy_;        // one entry: the policy stream
  PolicyState* policy_state_ = nullptr;  // that entry once looked up
  uint32_t asn_slots_ = 0;
  uint32_t umkm_slots_ = 0;
  uint64_t orphan_payments_ = 0;  // payments met before their order
  std::vector<std::shared_ptr<const void>> retired_;
};

}  // namespace malpro
