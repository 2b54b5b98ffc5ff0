// Ledger: the decision layer. Commands come in, are checked against the current state of the
// streams they touch, and become events appended atomically with the versions they were
// decided on. Every refusal is a Status with a stable error code and the field it concerns
// (docs/error-codes.md); a refused command writes nothing.
//
// Concurrency: a command decided on state that changed before its append loses the race in
// the log (stream_version_conflict); the ledger then decides again on the new state, up to
// conflict_retries_max times. With CommandContext::expected_version set (HTTP If-Match) it
// does not retry: the caller asked for that exact version.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/aggregates.h"
#include "engine/event_log.h"
#include "engine/geography.h"
#include "engine/money.h"

namespace malpro {

struct LedgerOptions {
  // Manual receipts may be dated at most this many days before today (Asia/Jakarta).
  int64_t receipt_window_days = 31;
  // A bank's paid time is accepted within [request time - skew, now + skew]: the bank's clock
  // and ours may differ by this much.
  int64_t paid_time_skew_s = 300;
  // UTC microseconds; the system clock when empty. Use the log's clock.
  std::function<int64_t()> clock;
  // Random ids (orders, receipts) when the caller gives none; tests and demos seed it.
  std::function<std::string()> new_id;
};

// Who asks, and how the request should be matched for idempotency and concurrency.
struct CommandContext {
  std::string actor;            // e.g. "operator:rina", "asn:1985..."; required
  std::string idempotency_key;  // empty: none
  // The digest of the request as received (e.g. method, path and body). When empty, the
  // ledger uses the digest of the command's fields.
  std::optional<Hash> request_digest;
  // If-Match: the version the target stream must be at.
  std::optional<uint64_t> expected_version;
};

struct CommandResult {
  std::string stream_id;        // the stream the command was about
  uint64_t stream_version = 0;  // its version after the command
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  bool replayed = false;  // an idempotent retry: nothing new was written
};

struct RegisterAsn {
  std::string nip;
  std::string name;
  std::string agency;  // OPD, e.g. "Diskominfo"
  std::string rank_class;
  std::string kelurahan;  // home; the kecamatan follows from it
};

struct RegisterUmkm {
  std::string umkm_id;  // empty: generated
  std::string name;
  std::string nib;  // optional
  std::string category;
  std::string kecamatan;
  std::string kelurahan;
  std::string sponsor;  // e.g. Diskopindag, Dispangtan, or a community
  std::string settlement_account;
  std::string qris_criteria;
};

struct ListProduct {
  std::string umkm_id;
  std::string product_id;
  std::string name;
  std::string unit;  // e.g. "kg", "pack", "pcs"
  Money price;
};

struct PlaceOrder {
  struct Line {
    std::string product_id;
    int64_t quantity = 0;
  };
  std::string order_id;  // empty: generated
  std::string buyer_nip;
  std::string umkm_id;
  std::vector<Line> lines;
  std::string payment_method;  // COD or CASHLESS
};

struct SubmitReceipt {
  std::string receipt_id;  // empty: generated
  std::string nip;
  std::string shop_name;
  std::string kelurahan;
  Money amount;
  std::string purchase_date;  // YYYY-MM-DD, Asia/Jakarta
  std::string photo;          // the bytes of a JPEG or PNG
};

struct PolicyDefaults {
  std::vector<std::pair<std::string, Money>> minimum_spend;  // rank group -> amount
  int64_t fee_basis_points = 0;
  Money umi_zero_fee_max;
  int settlement_cutoff_minutes = 0;
  CivilDate effective_from;
};

// The lines of one business day, computed from the log: every payment.succeeded and
// payment.refunded whose business_date is that day, with the fee recorded in each, and each
// merchant's debt carried from its line in the latest closed batch (MerchantSettlement).
struct SettlementDay {
  CivilDate business_date;
  // By umkm_id: merchants with payments or refunds that day.
  std::vector<MerchantSettlement> merchants;
  Money total_gross;
  Money total_fee;
  Money total_net;  // what is paid out: the sum of the lines' net
  Money total_refunds;
  int64_t payments = 0;
};

// Closes a business day with the totals the files were written from and the files' hashes.
struct CloseSettlement {
  std::string business_date;  // YYYY-MM-DD
  std::vector<MerchantSettlement> merchants;
  Money total_net;
  std::string file_name;       // of the pain.001 file; empty when no line pays anything
  std::string pain001_sha256;  // lowercase hex; empty when no line pays anything
  std::string csv_sha256;      // lowercase hex
};

// One run of a bank statement against the ledger, as computed by the reconciler.
struct RecordReconciliation {
  std::string statement_id;
  std::string format;  // camt053, mt940 or csv
  std::string account;
  std::string period_from;  // YYYY-MM-DD
  std::string period_to;    // YYYY-MM-DD
  std::string statement_sha256;
  int64_t entries = 0;  // booked entries read from the statement
  int64_t matched = 0;
  int64_t missing_in_ledger = 0;
  int64_t missing_at_bank = 0;
  int64_t amount_mismatch = 0;
  int64_t refund_due = 0;  // credits of payment.refund_due money (kind refund_due)
  // Indexed 1..n in order; at most reconciliation_discrepancies_max (the counts stay whole).
  std::vector<Discrepancy> discrepancies;
};

// The counts of `run` as fields of an open object, in the order the reconciliation's event and
// the reconcile answer both write them: entries, matched, missing_in_ledger, missing_at_bank,
// amount_mismatch, refund_due.
void WriteReconciliationCounts(JsonWriter& writer, const RecordReconciliation& run);

// Closes a month's compliance: the figures the read models gave at `as_of_sequence` (the
// log's head when they were computed), and their digest (docs/projections.md).
struct CloseComplianceMonth {
  std::string month;  // YYYY-MM, Asia/Jakarta
  uint64_t as_of_sequence = 0;
  int64_t asn = 0;        // ASN counted in the month
  int64_t compliant = 0;  // of them, compliant
  Money committed;
  Money shortfall;
  std::string figures_sha256;  // lowercase hex
};

// Bounds of the settlement and reconciliation events, which must fit in one payload
// (payload_bytes_max = 64 KiB): a merchant entry takes about 120-160 bytes (up to ~270 when it
// recovers refunds; Close refuses a batch whose event would not fit), a discrepancy about 250.
inline constexpr size_t settlement_merchants_max = 400;
inline constexpr size_t reconciliation_discrepancies_max = 200;
// A late payment whose business day is already closed moves to the next open day; it looks
// at most this many days ahead.
inline constexpr int64_t closed_days_skipped_max = 366;

// The bank's word that a cashless payment was made. Every field must match the payment
// request; see Ledger::RecordPaymentSucceeded.
struct BankSuccess {
  // Where the word came from. A statement entry (an operator resolving a reconciliation
  // discrepancy) carries a booking date, not the notification's reference: its paid time is
  // the start of that Jakarta day and its reference is not compared.
  enum class Source { kNotification, kStatusQuery, kStatement };
  std::string payment_id;
  std::string channel;         // QRIS or VA: the route or query the word came by
  std::string bank_reference;  // QRIS: originalReferenceNo; VA: virtualAccountNo
  Money amount;
  int64_t paid_at_us = 0;
  Source source = Source::kNotification;
};

// What the payer was shown for a cashless payment, recorded in payment.requested.
struct PaymentShown {
  std::string_view qr_content;  // QRIS: the EMVCo payload; empty for a virtual account
  int64_t expires_at_us = 0;    // when the bank stops accepting it; 0 when not known
};

class Ledger {
 public:
  // `log` must outlive the ledger.
  Ledger(EventLog* log, Geography geography, LedgerOptions options);

  // ASN (civil servants).
  Result<CommandResult> Register(const RegisterAsn& command, const CommandContext& context);
  Result<CommandResult> ChangeRank(std::string_view nip, std::string_view rank_class,
                                   const CommandContext& context);
  Result<CommandResult> Deactivate(std::string_view nip, std::string_view reason,
                                   const CommandContext& context);

  // UMKM (merchants) and their products.
  Result<CommandResult> Register(const RegisterUmkm& command, const CommandContext& context);
  Result<CommandResult> VerifyUmkm(std::string_view umkm_id, const CommandContext& context);
  Result<CommandResult> SuspendUmkm(std::string_view umkm_id, std::string_view reason,
                                    const CommandContext& context);
  Result<CommandResult> List(const ListProduct& command, const CommandContext& context);
  Result<CommandResult> Reprice(std::string_view umkm_id, std::string_view product_id, Money price,
                                const CommandContext& context);
  Result<CommandResult> Delist(std::string_view umkm_id, std::string_view product_id,
                               const CommandContext& context);

  // Orders. CancelOrder refuses an order that is delivered (order_not_cancellable) or paid
  // (order_paid: cash received, or a cashless payment that succeeded and is not fully
  // refunded). A pending payment request is voided with it (payment.voided in the same
  // append): the caller voids it at the bank too.
  Result<CommandResult> Place(const PlaceOrder& command, const CommandContext& context);
  // Place without waiting for the synced write, for callers that must not block (an I/O
  // thread). Returns false, having done nothing, when the command needs the waiting path
  // (an idempotency key, If-Match, or a refusal on cached state, which is decided again on
  // fresh state); then call Place. Otherwise `done` gets the result exactly once, possibly on
  // the log's syncing thread: a lost race (stream_version_conflict) means nothing was written
  // and Place with `*placed` (the command with its order id) decides again.
  using PlaceDone = std::function<void(Result<CommandResult>, const PlaceOrder& placed)>;
  bool PlaceAsync(const PlaceOrder& command, const CommandContext& context, PlaceDone done);
  Result<CommandResult> AcceptOrder(std::string_view order_id, const CommandContext& context);
  Result<CommandResult> DeliverOrder(std::string_view order_id, const CommandContext& context);
  Result<CommandResult> CancelOrder(std::string_view order_id, std::string_view reason,
                                    const CommandContext& context);
  Result<CommandResult> ConfirmCashReceived(std::string_view order_id,
                                            const CommandContext& context);

  // Manual receipts.
  Result<CommandResult> Submit(const SubmitReceipt& command, const CommandContext& context);
  Result<CommandResult> ApproveReceipt(std::string_view receipt_id, const CommandContext& context);
  Result<CommandResult> RejectReceipt(std::string_view receipt_id, std::string_view reason,
                                      const CommandContext& context);

  // Cashless payments: one per order, the payment id is the order id. A failed or expired
  // payment may be requested again; only a succeeded one counts toward spend and settlement.
  // `shown` is what the payer was given to pay with (the QRIS payload, the expiry), kept
  // in the event so that it can be shown again after a restart.
  // Whether the order can be paid by `channel` now: the order exists and is cashless
  // (order_not_cashless), is not cancelled (order_not_payable), and has no pending
  // (payment_pending) or succeeded (order_already_paid) payment. Fills `*order` and `*payment`
  // (version 0 when never requested). RequestPayment decides by the same rule; the bank
  // adapter asks before it calls the bank.
  Status CheckPayable(std::string_view order_id, std::string_view channel, OrderState* order,
                      PaymentState* payment) const;
  // Refuses a bank reference that another payment request already holds
  // (bank_reference_taken): it is claimed in stream bank-reference-{...} with the request.
  Result<CommandResult> RequestPayment(std::string_view order_id, std::string_view channel,
                                       std::string_view bank_reference,
                                       const CommandContext& context,
                                       const PaymentShown& shown = {});
  // From a verified bank notification, a status query or a statement. The word must match
  // the request: its channel (notification_channel_mismatch), its bank reference
  // (bank_reference_mismatch), its amount (amount_mismatch, also after a success) and a paid
  // time within [request time - skew, now + skew] (paid_time_out_of_window). A matching word
  // for a pending request of an order still open appends payment.succeeded, which counts;
  // for a voided request or a cancelled order it appends payment.refund_due, which counts
  // toward nothing. The same word again is payment_already_succeeded (nothing written); a
  // payment failed or expired is payment_not_pending.
  Result<CommandResult> RecordPaymentSucceeded(const BankSuccess& success,
                                               const CommandContext& context);
  // RecordPaymentSucceeded, and when the word is refused for not matching the request, keeps
  // it as payment.notification_refused (under the context's idempotency key + "-refused") for
  // the operator. Returns the refusal either way.
  Result<CommandResult> RecordBankSuccess(const BankSuccess& success,
                                          const CommandContext& context);
  // Whether `status` is a refusal of a bank's word for not matching its request.
  static bool IsNotificationMismatch(const Status& status);
  // Resolves a refund_due exception: `refunded` (the money went back to the payer) or
  // `explained`, with a note. exception_not_open when the payment has none open.
  Result<CommandResult> ResolveException(std::string_view payment_id, std::string_view resolution,
                                         std::string_view note, const CommandContext& context);
  Result<CommandResult> RecordPaymentFailed(std::string_view payment_id, std::string_view reason,
                                            const CommandContext& context);
  Result<CommandResult> ExpirePayment(std::string_view payment_id, const CommandContext& context);
  Result<CommandResult> RefundPayment(std::string_view payment_id, Money amount,
                                      const CommandContext& context);
  // Keeps an authentic notification that was refused, for the operator.
  Result<CommandResult> RecordRefusedNotification(std::string_view payment_id,
                                                  std::string_view reason, Money notified_amount,
                                                  std::string_view bank_reference,
                                                  const CommandContext& context);

  // Policy. Each change takes effect from a date that may not be before today.
  Result<CommandResult> SetMinimumSpend(std::string_view rank_group, Money amount,
                                        std::string_view effective_from,
                                        const CommandContext& context);
  Result<CommandResult> SetFeeRule(int64_t basis_points, Money umi_zero_fee_max,
                                   std::string_view effective_from, const CommandContext& context);
  Result<CommandResult> SetSettlementCutoff(std::string_view hh_mm, std::string_view effective_from,
                                            const CommandContext& context);
  // Writes `defaults` as the first policy when the policy stream is empty; else does nothing.
  Result<std::optional<CommandResult>> SeedPolicy(const PolicyDefaults& defaults,
                                                  const CommandContext& context);

  // Settlement of a business day. ComputeSettlement scans the log (every event; settlement
  // runs once a day). Close refuses a malformed date (date_invalid), a day that is not over
  // yet by the cut-off in force on it (settlement_day_not_over), a day already closed
  // (settlement_already_closed), totals that differ from the log's (settlement_totals_stale:
  // write the files again), and more than settlement_merchants_max merchants.
  Result<SettlementDay> ComputeSettlement(CivilDate business_date) const;
  Result<CommandResult> Close(const CloseSettlement& command, const CommandContext& context);
  // When the business day ends: the cut-off in force on it (Asia/Jakarta), or midnight when
  // the policy has none. UTC microseconds.
  Result<int64_t> BusinessDayEnd(CivilDate business_date) const;
  // NotFound (settlement_not_found) when the day is not closed.
  Result<SettlementState> LoadSettlement(CivilDate business_date) const;

  // Compliance. Closes a month once it is over (Asia/Jakarta): month_invalid,
  // month_not_over, month_already_closed, and compliance_figures_stale when the log's head is
  // no longer `as_of_sequence` (compute the figures again). Money that later counts in a
  // closed month is shown by the read models as an adjustment, not folded in silently.
  Result<CommandResult> CloseMonth(const CloseComplianceMonth& command,
                                   const CommandContext& context);

  // Reconciliation. Record appends a run (reconciliation.completed); a statement may be
  // reconciled again, e.g. after a discrepancy was resolved. ResolveDiscrepancy records how
  // the operator resolved discrepancy `index` (1-based) of the latest run: `explained` with a
  // note, or `payment_recorded` once the payment it names has succeeded.
  Result<CommandResult> Record(const RecordReconciliation& command, const CommandContext& context);
  Result<CommandResult> ResolveDiscrepancy(std::string_view statement_id, int64_t index,
                                           std::string_view resolution, std::string_view note,
                                           const CommandContext& context);
  // NotFound (reconciliation_not_found) when the statement was never reconciled.
  Result<ReconciliationState> LoadReconciliation(std::string_view statement_id) const;

  // Current state of one stream. NotFound when it does not exist (except the policy).
  Result<AsnState> LoadAsn(std::string_view nip) const;
  Result<UmkmState> LoadUmkm(std::string_view umkm_id) const;
  Result<OrderState> LoadOrder(std::string_view order_id) const;
  Result<ReceiptState> LoadReceipt(std::string_view receipt_id) const;
  Result<PolicyState> LoadPolicy() const;
  Result<PaymentState> LoadPayment(std::string_view payment_id) const;

  // The stored photo of a receipt, by its SHA-256 (lowercase hex).
  Result<std::string> Photo(std::string_view sha256_hex) const;

  const Geography& geography() const { return geography_; }
  int64_t Now() const { return options_.clock(); }

 private:
  // What a command decided to write.
  struct Decision {
    std::vector<ProposedEvent> events;  // the first one is on the command's own stream
    std::vector<StreamExpectation> expectations;
  };
  // The first decision may use cached states: the expectations make a stale one lose in the
  // log. After a lost race the command decides again on states read fresh from the log.
  enum class Freshness { kCachedState, kFreshState };
  using Decide = std::function<Result<Decision>(Freshness)>;

  // Recently loaded states of the streams that orders and receipts refer to (buyers and
  // merchants). Entries are dropped when the ledger writes to their stream.
  template <typename State>
  class StateCache {
   public:
    std::optional<State> Get(const std::string& stream_id) const;
    void Put(const std::string& stream_id, const State& state);
    void Erase(const std::string& stream_id);

   private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, State> states_;
  };
  template <typename State>
  Result<State> LoadCached(const std::string& stream_id, StateCache<State>& cache,
                           Freshness freshness) const;
  void Forget(const std::string& stream_id) const;
  // The streams a decision writes and those it only expects a version of.
  struct Touched {
    std::vector<std::string> written;
    std::vector<std::string> expected;
  };
  static Touched TouchedBy(const Decision& decision);
  // After the decision's append: written streams changed; a lost race means some cached
  // state was stale. Returns whether the race was lost.
  bool ForgetAfter(const Touched& touched, const Result<AppendResult>& appended) const;
  // Conflict `code` on `field` when `stream` already holds events (an id taken twice).
  Status RequireNewStream(const std::string& stream, std::string_view code, std::string_view field,
                          const std::string& message) const;

  Result<CommandResult> Execute(const CommandContext& context, std::string_view command_text,
                                const Decide& decide);
  // The decision of Place for `order_id` (its id given or made).
  Result<Decision> DecidePlace(const PlaceOrder& command, const std::string& order_id,
                               Freshness freshness);
  Result<CommandResult> ReplayResult(const AppendResult& appended) const;
  template <typename State>
  Result<State> Load(const std::string& stream_id) const;
  // Loads the target stream's state for a state transition and applies If-Match.
  template <typename State>
  Result<State> LoadTarget(const std::string& stream_id, std::string_view what,
                           std::string_view field, const CommandContext& context) const;
  Status CheckEffectiveFrom(std::string_view text, CivilDate* date) const;
  // `date`, or the first later day whose settlement is not closed.
  Result<CivilDate> OpenBusinessDate(CivilDate date) const;
  Result<CommandResult> DecideReceipt(std::string_view receipt_id, std::string_view event_type,
                                      std::string_view reason, const CommandContext& context);
  Result<CommandResult> Transition(std::string_view order_id, std::string_view event_type,
                                   const CommandContext& context,
                                   const std::function<Status(const OrderState&)>& allowed,
                                   std::string payload);

  // Shared by RecordPaymentSucceeded from its decision to its append, exclusive for Close
  // from computing the day to its append (the log alone cannot order them: a success does
  // not write the settlement stream whose absence it relies on).
  mutable std::shared_mutex settlement_mutex_;
  EventLog* log_;
  Geography geography_;
  LedgerOptions options_;
  mutable StateCache<AsnState> asn_cache_;
  mutable StateCache<UmkmState> umkm_cache_;
};

}  // namespace malpro
