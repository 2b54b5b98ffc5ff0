// Ledger: construction, the command loop (Execute: idempotency, decide, append, retry after a
// lost race), the state caches, the shared checks of ledger_internal.h, and the loads. Each
// aggregate's commands are in a file of their own: ledger_asn.cc, ledger_umkm.cc,
// ledger_orders.cc, ledger_receipts.cc, ledger_payments.cc, ledger_policy.cc,
// ledger_settlement.cc, ledger_compliance.cc, ledger_reconciliation.cc.
#include "engine/ledger.h"

#include <random>

#include "engine/assert.h"
#include "engine/civil_time.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

// Time-ordered ids: 12 hex digits of microseconds, then 8 random hex digits.
std::string RandomId() {
  thread_local std::mt19937_64 random(std::random_device{}());
  static constexpr char digits[] = "0123456789abcdef";
  uint64_t time = static_cast<uint64_t>(WallClockMicros());
  uint64_t noise = random();
  std::string id(20, '0');
  for (int i = 11; i >= 0; --i, time >>= 4) id[i] = digits[time & 0xf];
  for (int i = 19; i >= 12; --i, noise >>= 4) id[i] = digits[noise & 0xf];
  return id;
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

namespace ledger_internal {

Status CheckPositiveAmount(Money amount, Money maximum, std::string_view field) {
  if (amount <= Money()) {
    return Status::InvalidArgument(errc::kAmountNotPositive, field,
                                   std::string(field) + " must be more than zero");
  }
  if (amount > maximum) {
    return Status::InvalidArgument(errc::kAmountTooLarge, field,
                                   std::string(field) + " must be at most " + FormatSnap(maximum));
  }
  return Status::Ok();
}

Status CheckReason(std::string_view reason) {
  return CheckName(reason, "reason", reason_chars_max);
}

Status CheckSha256(std::string_view text, std::string_view field) {
  if (IsSha256Hex(text)) return Status::Ok();
  return Status::InvalidArgument(errc::kSha256Invalid, field,
                                 std::string(field) + " must be 64 lowercase hex digits");
}

ProposedEvent MakeEvent(std::string stream_id, std::string_view type, std::string payload) {
  return ProposedEvent{std::move(stream_id), std::string(type), std::move(payload)};
}

// The code a missing target of LoadTarget is refused with, by what it is.
std::string_view NotFoundCode(std::string_view what) {
  if (what == "asn") return errc::kAsnNotFound;
  if (what == "umkm") return errc::kUmkmNotFound;
  if (what == "order") return errc::kOrderNotFound;
  if (what == "payment") return errc::kPaymentNotFound;
  if (what == "receipt") return errc::kReceiptNotFound;
  if (what == "reconciliation") return errc::kReconciliationNotFound;
  MALPRO_ASSERT(what == "settlement");
  return errc::kSettlementNotFound;
}

}  // namespace ledger_internal

Ledger::Ledger(EventLog* log, Geography geography, LedgerOptions options)
    : log_(log), geography_(std::move(geography)), options_(std::move(options)) {
  if (!options_.clock) options_.clock = WallClockMicros;
  if (!options_.new_id) options_.new_id = RandomId;
}

void Ledger::Forget(const std::string& stream_id) const {
  asn_cache_.Erase(stream_id);
  umkm_cache_.Erase(stream_id);
}

Result<CommandResult> Ledger::ReplayResult(const AppendResult& appended) const {
  Result<std::vector<Event>> first = log_->Read(appended.first_sequence, 1);
  if (!first.ok()) return first.status();
  if (first->empty()) return Status::Corruption("the replayed command's first event is missing");
  return CommandResult{first->front().stream_id, first->front().stream_version,
                       appended.first_sequence, appended.last_sequence, true};
}

Ledger::Touched Ledger::TouchedBy(const Decision& decision) {
  Touched touched;
  for (const ProposedEvent& event : decision.events) touched.written.push_back(event.stream_id);
  for (const StreamExpectation& e : decision.expectations) touched.expected.push_back(e.stream_id);
  return touched;
}

bool Ledger::ForgetAfter(const Touched& touched, const Result<AppendResult>& appended) const {
  const bool lost =
      !appended.ok() && appended.status().error_code() == errc::kStreamVersionConflict;
  if (appended.ok() || lost) {
    for (const std::string& stream : touched.written) Forget(stream);
  }
  if (lost) {
    for (const std::string& stream : touched.expected) Forget(stream);
  }
  return lost;
}

Status Ledger::RequireNewStream(const std::string& stream, std::string_view code,
                                std::string_view field, const std::string& message) const {
  Result<uint64_t> existing = log_->StreamVersion(stream);
  if (!existing.ok()) return existing.status();
  if (*existing != 0) return Status::Conflict(code, field, message);
  return Status::Ok();
}

Result<CommandResult> Ledger::Execute(const CommandContext& context, std::string_view command_text,
                                      const Decide& decide) {
  if (context.actor.empty()) {
    return Status::InvalidArgument(errc::kActorMissing, "actor", "every command names its actor");
  }
  // The digest only matters with an idempotency key: it tells a retry from a reuse.
  std::optional<Hash> digest;
  if (!context.idempotency_key.empty()) {
    digest = context.request_digest ? *context.request_digest : Sha256(command_text);
    // Before deciding: a retry of a command that already succeeded must get its original
    // result, not a refusal from the state the command itself created.
    Result<std::optional<IdempotencyEntry>> earlier =
        log_->LookupIdempotency(context.idempotency_key);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      if ((*earlier)->request_digest != *digest) {
        return Status::Conflict(errc::kIdempotencyKeyReused, "Idempotency-Key",
                                "this idempotency key was already used for a different request");
      }
      return ReplayResult({(*earlier)->first_sequence, (*earlier)->last_sequence, 0, true});
    }
  }
  for (int attempt = 0;; ++attempt) {
    // Bounded: a refusal on cached state is decided once more on fresh state, and a lost race
    // is retried only while attempt < conflict_retries_max.
    MALPRO_ASSERT(attempt <= conflict_retries_max);
    const Freshness freshness = attempt == 0 ? Freshness::kCachedState : Freshness::kFreshState;
    Result<Decision> decision = decide(freshness);
    // A refusal never reaches the log, so the log cannot catch a stale cached state behind
    // it: refuse only on fresh state.
    if (!decision.ok() && freshness == Freshness::kCachedState) continue;
    if (!decision.ok()) return decision.status();
    const std::string stream_id = decision->events.front().stream_id;
    const Touched touched = TouchedBy(*decision);
    AppendRequest request{std::move(decision->events), std::move(decision->expectations),
                          context.actor, context.idempotency_key, digest};
    Result<AppendResult> appended = log_->Append(std::move(request));
    const bool lost = ForgetAfter(touched, appended);
    if (appended.ok()) {
      if (appended->replayed) return ReplayResult(*appended);
      return CommandResult{stream_id, appended->first_stream_version, appended->first_sequence,
                           appended->last_sequence, false};
    }
    const bool lost_race = lost && !context.expected_version && attempt < conflict_retries_max;
    if (!lost_race) return appended.status();
  }
}

Status Ledger::CheckEffectiveFrom(std::string_view text, CivilDate* date) const {
  Result<CivilDate> parsed = ParseIsoDate(text, "effective_from");
  if (!parsed.ok()) return parsed.status();
  const CivilDate today = JakartaDate(Now());
  if (*parsed < today) {
    return Status::InvalidArgument(
        errc::kPolicyRetroactive, "effective_from",
        "effective_from may not be before today (" + FormatIsoDate(today) + ", Asia/Jakarta)");
  }
  *date = *parsed;
  return Status::Ok();
}

Result<AsnState> Ledger::LoadAsn(std::string_view nip) const {
  return LoadTarget<AsnState>(AsnStream(nip), "asn", "nip", CommandContext{});
}
Result<UmkmState> Ledger::LoadUmkm(std::string_view umkm_id) const {
  return LoadTarget<UmkmState>(UmkmStream(umkm_id), "umkm", "umkm_id", CommandContext{});
}
Result<OrderState> Ledger::LoadOrder(std::string_view order_id) const {
  return LoadTarget<OrderState>(OrderStream(order_id), "order", "order_id", CommandContext{});
}
Result<ReceiptState> Ledger::LoadReceipt(std::string_view receipt_id) const {
  return LoadTarget<ReceiptState>(ReceiptStream(receipt_id), "receipt", "receipt_id",
                                  CommandContext{});
}
Result<PolicyState> Ledger::LoadPolicy() const {
  return Load<PolicyState>(std::string(policy_stream));
}
Result<PaymentState> Ledger::LoadPayment(std::string_view payment_id) const {
  return LoadTarget<PaymentState>(PaymentStream(payment_id), "payment", "payment_id",
                                  CommandContext{});
}

Result<SettlementState> Ledger::LoadSettlement(CivilDate business_date) const {
  return LoadTarget<SettlementState>(SettlementStream(business_date), "settlement", "business_date",
                                     CommandContext{});
}
Result<ReconciliationState> Ledger::LoadReconciliation(std::string_view statement_id) const {
  return LoadTarget<ReconciliationState>(ReconciliationStream(statement_id), "reconciliation",
                                         "statement_id", CommandContext{});
}

}  // namespace malpro
