#include "engine/civil_time.h"
#include "engine/ledger.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include "engine/assert.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

namespace types = event_types;

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

bool IsJpeg(std::string_view bytes) { return bytes.starts_with("\xFF\xD8\xFF"); }
bool IsPng(std::string_view bytes) { return bytes.starts_with("\x89PNG\r\n\x1A\n"); }

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

// A QRIS payload: printable ASCII (EMVCo tags and values), bounded; empty for a VA.
Status CheckQrContent(std::string_view content) {
  if (content.size() > qr_content_chars_max) {
    return Status::InvalidArgument(errc::kQrContentTooLong, "qr_content",
                                   "qr_content must be at most " +
                                       std::to_string(qr_content_chars_max) + " characters");
  }
  for (char c : content) {
    if (c < 0x20 || c > 0x7e) {
      return Status::InvalidArgument(errc::kQrContentInvalid, "qr_content",
                                     "qr_content must be printable ASCII");
    }
  }
  return Status::Ok();
}

Status CheckReason(std::string_view reason) {
  return CheckName(reason, "reason", reason_chars_max);
}

Status CheckSettlementAccount(std::string_view account) {
  const bool digits_only = !account.empty() &&
                           account.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only || account.size() < settlement_account_digits_min ||
      account.size() > settlement_account_digits_max) {
    return Status::InvalidArgument(
        errc::kSettlementAccountInvalid, "settlement_account",
        "settlement_account must be a Bank Jatim account number of " +
            std::to_string(settlement_account_digits_min) + " to " +
            std::to_string(settlement_account_digits_max) + " digits");
  }
  return Status::Ok();
}

Result<int> ParseCutoff(std::string_view hh_mm) {
  const bool shape = hh_mm.size() == 5 && hh_mm[2] == ':' &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[0])) &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[1])) &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[3])) &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[4]));
  const int hours = shape ? (hh_mm[0] - '0') * 10 + (hh_mm[1] - '0') : -1;
  const int minutes = shape ? (hh_mm[3] - '0') * 10 + (hh_mm[4] - '0') : -1;
  if (!shape || hours > 23 || minutes > 59) {
    return Status::InvalidArgument(errc::kCutoffInvalid, "cutoff",
                                   "cutoff must be a time of day HH:MM (00:00 to 23:59)");
  }
  return hours * 60 + minutes;
}

std::string FormatCutoff(int minutes_of_day) {
  const int hours = minutes_of_day / 60;
  const int minutes = minutes_of_day % 60;
  return std::string{char('0' + hours / 10), char('0' + hours % 10), ':', char('0' + minutes / 10),
                     char('0' + minutes % 10)};
}

ProposedEvent MakeEvent(std::string stream_id, std::string_view type, std::string payload) {
  return ProposedEvent{std::move(stream_id), std::string(type), std::move(payload)};
}

}  // namespace

Ledger::Ledger(EventLog* log, Geography geography, LedgerOptions options)
    : log_(log), geography_(std::move(geography)), options_(std::move(options)) {
  if (!options_.clock) options_.clock = WallClockMicros;
  if (!options_.new_id) options_.new_id = RandomId;
}

template <typename State>
Result<State> Ledger::Load(const std::string& stream_id) const {
  State state;
  uint64_t from = 1;
  while (true) {
    Result<std::vector<Event>> events = log_->ReadStream(stream_id, from, read_events_max);
    if (!events.ok()) return events.status();
    for (const Event& event : *events) MALPRO_RETURN_IF_ERROR(state.Apply(event));
    if (events->size() < read_events_max) return state;
    from += events->size();
  }
}

template <typename State>
std::optional<State> Ledger::StateCache<State>::Get(const std::string& stream_id) const {
  std::lock_guard lock(mutex_);
  auto found = states_.find(stream_id);
  if (found == states_.end()) return std::nullopt;
  return found->second;
}

template <typename State>
void Ledger::StateCache<State>::Put(const std::string& stream_id, const State& state) {
  std::lock_guard lock(mutex_);
  if (states_.size() >= ledger_cache_entries_max) states_.clear();
  states_[stream_id] = state;
}

template <typename State>
void Ledger::StateCache<State>::Erase(const std::string& stream_id) {
  std::lock_guard lock(mutex_);
  states_.erase(stream_id);
}

template <typename State>
Result<State> Ledger::LoadCached(const std::string& stream_id, StateCache<State>& cache,
                                 Freshness freshness) const {
  if (freshness == Freshness::kCachedState) {
    if (std::optional<State> cached = cache.Get(stream_id)) return *cached;
  }
  Result<State> state = Load<State>(stream_id);
  if (state.ok() && state->version > 0) cache.Put(stream_id, *state);
  return state;
}

void Ledger::Forget(const std::string& stream_id) const {
  asn_cache_.Erase(stream_id);
  umkm_cache_.Erase(stream_id);
}

namespace {

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

}  // namespace

template <typename State>
Result<State> Ledger::LoadTarget(const std::string& stream_id, std::string_view what,
                                 std::string_view field, const CommandContext& context) const {
  Result<State> state = Load<State>(stream_id);
  if (!state.ok()) return state.status();
  if (state->version == 0) {
    // Name the id the caller gave, not the stream it lives in ("order-" + id).
    std::string_view id = stream_id;
    if (id.size() > what.size() && id.starts_with(what) && id[what.size()] == '-') {
      id.remove_prefix(what.size() + 1);
    }
    return Status::NotFound(NotFoundCode(what), field,
                            "no " + std::string(what) + " '" + std::string(id) + "'");
  }
  if (context.expected_version && *context.expected_version != state->version) {
    return Status::Conflict(errc::kVersionMismatch, "If-Match",
                            stream_id + " is at version " + std::to_string(state->version) +
                                ", not the expected " + std::to_string(*context.expected_version));
  }
  return state;
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
  const bool lost = !appended.ok() && appended.status().error_code() == errc::kStreamVersionConflict;
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
    Result<std::optional<IdempotencyEntry>> earlier = log_->LookupIdempotency(context.idempotency_key);
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
    return Status::InvalidArgument(errc::kPolicyRetroactive, "effective_from",
                                   "effective_from may not be before today (" +
                                       FormatIsoDate(today) + ", Asia/Jakarta)");
  }
  *date = *parsed;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// ASN

Result<CommandResult> Ledger::Register(const RegisterAsn& command, const CommandContext& context) {
  Result<Nip> nip = ParseNip(command.nip, "nip");
  if (!nip.ok()) return nip.status();
  MALPRO_RETURN_IF_ERROR(CheckName(command.name, "name"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.agency, "agency"));
  MALPRO_RETURN_IF_ERROR(CheckOneOf(command.rank_class, "rank_class", errc::kRankClassUnknown, rank_classes));
  Result<std::string> kecamatan = geography_.KecamatanOf(command.kelurahan, "kelurahan");
  if (!kecamatan.ok()) return kecamatan.status();
  const std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("nip", command.nip)
                                  .Field("name", command.name)
                                  .Field("agency", command.agency)
                                  .Field("rank_class", command.rank_class)
                                  .Field("kecamatan", *kecamatan)
                                  .Field("kelurahan", command.kelurahan)
                                  .EndObject()
                                  .Take();
  const std::string stream = AsnStream(command.nip);
  return Execute(context, "asn.register" + payload, [&](Freshness freshness) -> Result<Decision> {
    // First try: the expectation that the stream does not exist decides. After losing, read.
    Result<AsnState> state =
        freshness == Freshness::kFreshState ? Load<AsnState>(stream) : Result<AsnState>(AsnState{});
    if (!state.ok()) return state.status();
    if (state->version != 0) {
      return Status::Conflict(errc::kAsnAlreadyRegistered, "nip",
                              "an ASN with NIP " + command.nip + " is already registered");
    }
    return Decision{{MakeEvent(stream, types::asn_registered, payload)}, {{stream, 0}}};
  });
}

Result<CommandResult> Ledger::ChangeRank(std::string_view nip, std::string_view rank_class,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckOneOf(rank_class, "rank_class", errc::kRankClassUnknown, rank_classes));
  const std::string stream = AsnStream(nip);
  return Execute(context, stream + "|rank|" + std::string(rank_class), [&](Freshness) -> Result<Decision> {
    Result<AsnState> state = LoadTarget<AsnState>(stream, "asn", "nip", context);
    if (!state.ok()) return state.status();
    if (!state->active) return Status::Conflict(errc::kAsnInactive, "nip", "the ASN is deactivated");
    if (state->rank_class == rank_class) {
      return Status::InvalidArgument(errc::kRankUnchanged, "rank_class",
                                     "the ASN already has rank class " + state->rank_class);
    }
    std::string payload = JsonWriter()
                              .BeginObject()
                              .Field("nip", nip)
                              .Field("rank_class", rank_class)
                              .Field("previous_rank_class", state->rank_class)
                              .EndObject()
                              .Take();
    return Decision{{MakeEvent(stream, types::asn_rank_changed, std::move(payload))},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::Deactivate(std::string_view nip, std::string_view reason,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = AsnStream(nip);
  return Execute(context, stream + "|deactivate|" + std::string(reason), [&](Freshness) -> Result<Decision> {
    Result<AsnState> state = LoadTarget<AsnState>(stream, "asn", "nip", context);
    if (!state.ok()) return state.status();
    if (!state->active) {
      return Status::Conflict(errc::kAsnInactive, "nip", "the ASN is already deactivated");
    }
    std::string payload =
        JsonWriter().BeginObject().Field("nip", nip).Field("reason", reason).EndObject().Take();
    return Decision{{MakeEvent(stream, types::asn_deactivated, std::move(payload))},
                    {{stream, state->version}}};
  });
}

// ---------------------------------------------------------------------------------------
// UMKM and products

Result<CommandResult> Ledger::Register(const RegisterUmkm& command, const CommandContext& context) {
  const std::string umkm_id = command.umkm_id.empty() ? options_.new_id() : command.umkm_id;
  MALPRO_RETURN_IF_ERROR(CheckEntityId(umkm_id, "umkm_id"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.name, "name"));
  if (!command.nib.empty()) MALPRO_RETURN_IF_ERROR(ValidateNib(command.nib, "nib"));
  MALPRO_RETURN_IF_ERROR(CheckOneOf(command.category, "category", errc::kCategoryUnknown, umkm_categories));
  MALPRO_RETURN_IF_ERROR(
      geography_.CheckPair(command.kecamatan, command.kelurahan, "kecamatan", "kelurahan"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.sponsor, "sponsor"));
  MALPRO_RETURN_IF_ERROR(CheckSettlementAccount(command.settlement_account));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(command.qris_criteria, "qris_criteria", errc::kQrisCriteriaUnknown, qris_criteria));
  JsonWriter writer;
  writer.BeginObject().Field("umkm_id", umkm_id).Field("name", command.name);
  if (!command.nib.empty()) writer.Field("nib", command.nib);
  const std::string payload = writer.Field("category", command.category)
                                  .Field("kecamatan", command.kecamatan)
                                  .Field("kelurahan", command.kelurahan)
                                  .Field("sponsor", command.sponsor)
                                  .Field("settlement_account", command.settlement_account)
                                  .Field("qris_criteria", command.qris_criteria)
                                  .EndObject()
                                  .Take();
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, "umkm.register" + payload, [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = Load<UmkmState>(stream);
    if (!state.ok()) return state.status();
    if (state->version != 0) {
      return Status::Conflict(errc::kUmkmAlreadyRegistered, "umkm_id",
                              "UMKM " + umkm_id + " is already registered");
    }
    return Decision{{MakeEvent(stream, types::umkm_registered, payload)}, {{stream, 0}}};
  });
}

Result<CommandResult> Ledger::VerifyUmkm(std::string_view umkm_id, const CommandContext& context) {
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, stream + "|verify", [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    if (state->status == UmkmStatus::kVerified) {
      return Status::Conflict(errc::kUmkmAlreadyVerified, "umkm_id", "the UMKM is already verified");
    }
    std::string payload = JsonWriter().BeginObject().Field("umkm_id", umkm_id).EndObject().Take();
    return Decision{{MakeEvent(stream, types::umkm_verified, std::move(payload))},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::SuspendUmkm(std::string_view umkm_id, std::string_view reason,
                                          const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, stream + "|suspend|" + std::string(reason), [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    if (state->status == UmkmStatus::kSuspended) {
      return Status::Conflict(errc::kUmkmAlreadySuspended, "umkm_id", "the UMKM is already suspended");
    }
    std::string payload = JsonWriter()
                              .BeginObject()
                              .Field("umkm_id", umkm_id)
                              .Field("reason", reason)
                              .EndObject()
                              .Take();
    return Decision{{MakeEvent(stream, types::umkm_suspended, std::move(payload))},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::List(const ListProduct& command, const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(command.product_id, "product_id"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.name, "name"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.unit, "unit", unit_chars_max));
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(command.price, product_price_max, "price"));
  const std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("product_id", command.product_id)
                                  .Field("name", command.name)
                                  .Field("unit", command.unit)
                                  .Field("price", FormatSnap(command.price))
                                  .EndObject()
                                  .Take();
  const std::string stream = UmkmStream(command.umkm_id);
  return Execute(context, stream + "|list" + payload, [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    auto product = state->products.find(command.product_id);
    if (product != state->products.end() && product->second.listed) {
      return Status::Conflict(errc::kProductAlreadyListed, "product_id",
                              "product " + command.product_id + " is already listed");
    }
    return Decision{{MakeEvent(stream, types::product_listed, payload)}, {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::Reprice(std::string_view umkm_id, std::string_view product_id,
                                      Money price, const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(price, product_price_max, "price"));
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, stream + "|reprice|" + std::string(product_id) + "|" + FormatSnap(price),
                 [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    auto product = state->products.find(std::string(product_id));
    if (product == state->products.end() || !product->second.listed) {
      return Status::NotFound(errc::kProductNotFound, "product_id",
                              "UMKM " + std::string(umkm_id) + " lists no product " +
                                  std::string(product_id));
    }
    if (product->second.price == price) {
      return Status::InvalidArgument(errc::kPriceUnchanged, "price", "the product already has that price");
    }
    std::string payload = JsonWriter()
                              .BeginObject()
                              .Field("product_id", product_id)
                              .Field("price", FormatSnap(price))
                              .Field("previous_price", FormatSnap(product->second.price))
                              .EndObject()
                              .Take();
    return Decision{{MakeEvent(stream, types::product_repriced, std::move(payload))},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::Delist(std::string_view umkm_id, std::string_view product_id,
                                     const CommandContext& context) {
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, stream + "|delist|" + std::string(product_id), [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    auto product = state->products.find(std::string(product_id));
    if (product == state->products.end() || !product->second.listed) {
      return Status::NotFound(errc::kProductNotFound, "product_id",
                              "UMKM " + std::string(umkm_id) + " lists no product " +
                                  std::string(product_id));
    }
    std::string payload =
        JsonWriter().BeginObject().Field("product_id", product_id).EndObject().Take();
    return Decision{{MakeEvent(stream, types::product_delisted, std::move(payload))},
                    {{stream, state->version}}};
  });
}

// ---------------------------------------------------------------------------------------
// Orders

namespace {

Status CheckOrderShape(const PlaceOrder& command) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(command.umkm_id, "umkm_id"));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(command.payment_method, "payment_method", errc::kPaymentMethodUnknown,
                 std::array<std::string_view, 2>{payment_cod, payment_cashless}));
  if (command.lines.empty()) {
    return Status::InvalidArgument(errc::kOrderEmpty, "lines", "an order has at least one line");
  }
  if (command.lines.size() > order_lines_max) {
    return Status::LimitExceeded(errc::kOrderTooManyLines, "lines",
                                 "an order has at most " + std::to_string(order_lines_max) +
                                     " lines");
  }
  std::set<std::string_view> products;
  for (size_t i = 0; i < command.lines.size(); ++i) {
    const PlaceOrder::Line& line = command.lines[i];
    const std::string prefix = "lines[" + std::to_string(i) + "].";
    MALPRO_RETURN_IF_ERROR(CheckEntityId(line.product_id, prefix + "product_id"));
    if (line.quantity < 1 || line.quantity > order_quantity_max) {
      return Status::InvalidArgument(errc::kQuantityOutOfRange, prefix + "quantity",
                                     prefix + "quantity must be 1 to " +
                                         std::to_string(order_quantity_max));
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
      return Status::Conflict(errc::kProductNotListed, "lines[" + std::to_string(i) + "].product_id",
                              "UMKM " + command.umkm_id + " does not list product " +
                                  line.product_id);
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

Status CheckBuyerAndMerchant(const AsnState& buyer, const UmkmState& umkm, const PlaceOrder& command) {
  if (buyer.version == 0) {
    return Status::InvalidArgument(errc::kBuyerUnknown, "buyer_nip",
                                   "no ASN with NIP " + command.buyer_nip + " is registered");
  }
  if (!buyer.active) return Status::Conflict(errc::kBuyerInactive, "buyer_nip", "the buyer is deactivated");
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

Result<Ledger::Decision> Ledger::DecidePlace(const PlaceOrder& command,
                                             const std::string& order_id, Freshness freshness) {
  const std::string stream = OrderStream(order_id);
  const std::string buyer_stream = AsnStream(command.buyer_nip);
  const std::string umkm_stream = UmkmStream(command.umkm_id);
  if (freshness == Freshness::kFreshState) {  // the expectation {order, 0} decides first
    MALPRO_RETURN_IF_ERROR(
        RequireNewStream(stream, errc::kOrderAlreadyExists, "order_id", "order " + order_id + " exists"));
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
  return Execute(context, PlaceCommandText(command, order_id), [&](Freshness freshness) {
    return DecidePlace(command, order_id, freshness);
  });
}

bool Ledger::PlaceAsync(const PlaceOrder& command, const CommandContext& context,
                        PlaceDone done) {
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
  log_->AppendAsync(
      std::move(request),
      [this, placed = std::move(placed), stream_id, touched = std::move(touched),
       done = std::move(done)](Result<AppendResult> appended) {
        ForgetAfter(touched, appended);
        if (!appended.ok()) return done(appended.status(), placed);
        done(CommandResult{stream_id, appended->first_stream_version, appended->first_sequence,
                           appended->last_sequence, false},
             placed);
      });
  return true;
}

Result<CommandResult> Ledger::Transition(std::string_view order_id, std::string_view event_type,
                                         const CommandContext& context,
                                         const std::function<Status(const OrderState&)>& allowed,
                                         std::string payload) {
  const std::string stream = OrderStream(order_id);
  return Execute(context, stream + "|" + std::string(event_type) + payload,
                 [&](Freshness) -> Result<Decision> {
    Result<OrderState> state = LoadTarget<OrderState>(stream, "order", "order_id", context);
    if (!state.ok()) return state.status();
    MALPRO_RETURN_IF_ERROR(allowed(*state));
    return Decision{{MakeEvent(stream, event_type, payload)}, {{stream, state->version}}};
  });
}

namespace {

Status WrongOrderState(std::string_view code, const OrderState& order, std::string_view rule) {
  return Status::Conflict(code, "order_id",
                          std::string(rule) + "; the order is " +
                              std::string(OrderStatusName(order.status)));
}

std::string OrderIdPayload(std::string_view order_id) {
  return JsonWriter().BeginObject().Field("order_id", order_id).EndObject().Take();
}

}  // namespace

Result<CommandResult> Ledger::AcceptOrder(std::string_view order_id, const CommandContext& context) {
  return Transition(order_id, types::order_accepted, context, [](const OrderState& order) {
    if (order.status == OrderStatus::kPlaced) return Status::Ok();
    return WrongOrderState(errc::kOrderNotPlaced, order, "only a placed order can be accepted");
  }, OrderIdPayload(order_id));
}

Result<CommandResult> Ledger::DeliverOrder(std::string_view order_id, const CommandContext& context) {
  return Transition(order_id, types::order_delivered, context, [](const OrderState& order) {
    if (order.status == OrderStatus::kAccepted) return Status::Ok();
    return WrongOrderState(errc::kOrderNotAccepted, order, "only an accepted order can be delivered");
  }, OrderIdPayload(order_id));
}

Result<CommandResult> Ledger::CancelOrder(std::string_view order_id, std::string_view reason,
                                          const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = OrderStream(order_id);
  const std::string payment_stream = PaymentStream(order_id);
  std::string payload =
      JsonWriter().BeginObject().Field("order_id", order_id).Field("reason", reason).EndObject().Take();
  return Execute(context, stream + "|" + std::string(types::order_cancelled) + payload,
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
      return Status::Conflict(errc::kOrderPaid, "order_id",
                              "the order's payment succeeded; a paid order is cancelled only after "
                              "a full refund (refunded " + FormatSnap(payment->refunded) + " of " +
                                  FormatSnap(payment->amount) + ")");
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

// ---------------------------------------------------------------------------------------
// Manual receipts

namespace {

Status CheckPhoto(std::string_view photo) {
  if (photo.empty()) return Status::InvalidArgument(errc::kPhotoMissing, "photo", "photo is required");
  if (photo.size() > receipt_photo_bytes_max) {
    return Status::LimitExceeded(errc::kPhotoTooLarge, "photo",
                                 "photo must be at most " +
                                     std::to_string(receipt_photo_bytes_max) + " bytes");
  }
  if (!IsJpeg(photo) && !IsPng(photo)) {
    return Status::InvalidArgument(errc::kPhotoTypeUnsupported, "photo",
                                   "photo must be a JPEG or PNG image");
  }
  return Status::Ok();
}

}  // namespace

Result<CommandResult> Ledger::Submit(const SubmitReceipt& command, const CommandContext& context) {
  const std::string receipt_id = command.receipt_id.empty() ? options_.new_id() : command.receipt_id;
  MALPRO_RETURN_IF_ERROR(CheckEntityId(receipt_id, "receipt_id"));
  Result<Nip> nip = ParseNip(command.nip, "nip");
  if (!nip.ok()) return nip.status();
  MALPRO_RETURN_IF_ERROR(CheckName(command.shop_name, "shop_name"));
  Result<std::string> kecamatan = geography_.KecamatanOf(command.kelurahan, "kelurahan");
  if (!kecamatan.ok()) return kecamatan.status();
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(command.amount, receipt_amount_max, "amount"));
  Result<CivilDate> purchase_date = ParseIsoDate(command.purchase_date, "purchase_date");
  if (!purchase_date.ok()) return purchase_date.status();
  const int64_t today = DaysFromCivil(JakartaDate(Now()));
  const int64_t purchase_day = DaysFromCivil(*purchase_date);
  if (purchase_day > today) {
    return Status::InvalidArgument(errc::kReceiptDateInFuture, "purchase_date",
                                   "purchase_date may not be after today (Asia/Jakarta)");
  }
  if (purchase_day < today - options_.receipt_window_days) {
    return Status::InvalidArgument(errc::kReceiptDateTooOld, "purchase_date",
                                   "purchase_date may be at most " +
                                       std::to_string(options_.receipt_window_days) +
                                       " days before today");
  }
  MALPRO_RETURN_IF_ERROR(CheckPhoto(command.photo));
  const std::string photo_sha256 = HashToHex(Sha256(command.photo));
  const std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("receipt_id", receipt_id)
                                  .Field("nip", command.nip)
                                  .Field("shop_name", command.shop_name)
                                  .Field("kecamatan", *kecamatan)
                                  .Field("kelurahan", command.kelurahan)
                                  .Field("amount", FormatSnap(command.amount))
                                  .Field("purchase_date", command.purchase_date)
                                  .Field("photo_sha256", photo_sha256)
                                  .Field("photo_type", IsJpeg(command.photo) ? "image/jpeg" : "image/png")
                                  .Field("photo_bytes", static_cast<int64_t>(command.photo.size()))
                                  // The rule the date was checked by, so that an auditor
                                  // can check it from the log alone.
                                  .Field("receipt_window_days", options_.receipt_window_days)
                                  .EndObject()
                                  .Take();
  const std::string stream = ReceiptStream(receipt_id);
  const std::string asn_stream = AsnStream(command.nip);
  const std::string photo_stream = PhotoStream(photo_sha256);
  bool photo_stored = false;
  return Execute(context, "receipt.submit" + payload, [&](Freshness freshness) -> Result<Decision> {
    MALPRO_RETURN_IF_ERROR(RequireNewStream(stream, errc::kReceiptAlreadyExists, "receipt_id",
                                            "receipt " + receipt_id + " exists"));
    Result<AsnState> asn = LoadCached(asn_stream, asn_cache_, freshness);
    if (!asn.ok()) return asn.status();
    if (asn->version == 0) {
      return Status::InvalidArgument(errc::kAsnUnknown, "nip", "no ASN with NIP " + command.nip + " is registered");
    }
    if (!asn->active) return Status::Conflict(errc::kAsnInactive, "nip", "the ASN is deactivated");
    Result<uint64_t> claimed = log_->StreamVersion(photo_stream);
    if (!claimed.ok()) return claimed.status();
    if (*claimed != 0) {
      return Status::Conflict(errc::kReceiptPhotoDuplicate, "photo",
                              "this photo was already submitted with another receipt");
    }
    if (!photo_stored) {  // content-addressed: stored before the events that refer to it
      Result<Hash> stored = log_->PutBlob(command.photo);
      if (!stored.ok()) return stored.status();
      photo_stored = true;
    }
    std::string claim = JsonWriter().BeginObject().Field("receipt_id", receipt_id).EndObject().Take();
    return Decision{{MakeEvent(stream, types::receipt_submitted, payload),
                     MakeEvent(photo_stream, types::photo_claimed, std::move(claim))},
                    {{stream, 0}, {photo_stream, 0}, {asn_stream, asn->version}}};
  });
}

Result<CommandResult> Ledger::DecideReceipt(std::string_view receipt_id, std::string_view event_type,
                                            std::string_view reason, const CommandContext& context) {
  const std::string stream = ReceiptStream(receipt_id);
  return Execute(context, stream + "|" + std::string(event_type) + "|" + std::string(reason),
                 [&](Freshness) -> Result<Decision> {
    Result<ReceiptState> state = LoadTarget<ReceiptState>(stream, "receipt", "receipt_id", context);
    if (!state.ok()) return state.status();
    if (state->status != ReceiptStatus::kSubmitted) {
      return Status::Conflict(errc::kReceiptAlreadyDecided, "receipt_id",
                              "the receipt was already " +
                                  std::string(ReceiptStatusName(state->status)));
    }
    JsonWriter payload;
    payload.BeginObject().Field("receipt_id", receipt_id);
    if (!reason.empty()) payload.Field("reason", reason);
    return Decision{{MakeEvent(stream, event_type, payload.EndObject().Take())},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::ApproveReceipt(std::string_view receipt_id,
                                             const CommandContext& context) {
  return DecideReceipt(receipt_id, types::receipt_approved, "", context);
}

Result<CommandResult> Ledger::RejectReceipt(std::string_view receipt_id, std::string_view reason,
                                            const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  return DecideReceipt(receipt_id, types::receipt_rejected, reason, context);
}

// ---------------------------------------------------------------------------------------
// Cashless payments

namespace {

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
    return Status::Conflict(errc::kPaymentPending, "order_id", "a payment for this order is pending");
  }
  if (payment.status == PaymentStatus::kSucceeded || payment.status == PaymentStatus::kRefunded) {
    return Status::Conflict(errc::kOrderAlreadyPaid, "order_id", "the order is paid");
  }
  return Status::Ok();
}

Status CheckChannel(std::string_view channel) {
  return CheckOneOf(channel, "channel", errc::kChannelUnknown, std::array<std::string_view, 2>{"QRIS", "VA"});
}

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Whether the bank's word matches the request (the notification rules of
// docs/domain-events.md): channel, reference, amount, paid time.
Status MatchRequest(const BankSuccess& success, const PaymentState& payment, int64_t now_us,
                    int64_t skew_s) {
  if (success.channel != payment.channel) {
    return Status::Conflict(errc::kNotificationChannelMismatch, "channel",
                            "the bank reports a " + success.channel +
                                " payment; the request was " + payment.channel);
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
    return Status::InvalidArgument(
        errc::kPaidTimeOutOfWindow, "paid_at",
        "the paid time must lie between the request (less " + std::to_string(skew_s) +
            " s) and now (plus " + std::to_string(skew_s) + " s)");
  }
  return Status::Ok();
}

}  // namespace

Status Ledger::CheckPayable(std::string_view order_id, std::string_view channel,
                            OrderState* order, PaymentState* payment) const {
  MALPRO_RETURN_IF_ERROR(CheckChannel(channel));
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
  MALPRO_RETURN_IF_ERROR(CheckChannel(channel));
  MALPRO_RETURN_IF_ERROR(CheckName(bank_reference, "bank_reference", entity_id_chars_max));
  MALPRO_RETURN_IF_ERROR(CheckQrContent(shown.qr_content));
  if (shown.expires_at_us < 0) {
    return Status::InvalidArgument(errc::kExpiresAtInvalid, "expires_at_us",
                                   "expires_at_us must not be negative");
  }
  const std::string order_stream = OrderStream(order_id);
  const std::string stream = PaymentStream(order_id);
  const std::string reference_stream = BankReferenceStream(channel, bank_reference);
  return Execute(context, stream + "|request|" + std::string(channel) + "|" + std::string(bank_reference),
                 [&](Freshness) -> Result<Decision> {
    Result<OrderState> order = LoadTarget<OrderState>(order_stream, "order", "order_id", CommandContext{});
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
    return Decision{{MakeEvent(stream, types::payment_requested, std::move(payload)),
                     MakeEvent(reference_stream, types::bank_reference_claimed, std::move(claim))},
                    {{stream, payment->version}, {order_stream, order->version},
                     {reference_stream, 0}}};
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
  MALPRO_RETURN_IF_ERROR(CheckChannel(success.channel));
  if (success.source != BankSuccess::Source::kStatement) {
    MALPRO_RETURN_IF_ERROR(CheckName(success.bank_reference, "bank_reference", entity_id_chars_max));
  }
  const std::string stream = PaymentStream(success.payment_id);
  std::shared_lock<std::shared_mutex> no_close(settlement_mutex_);
  return Execute(context,
                 stream + "|succeeded|" + success.channel + "|" + success.bank_reference + "|" +
                     FormatSnap(success.amount) + "|" + std::to_string(success.paid_at_us),
                 [&](Freshness freshness) -> Result<Decision> {
    Result<PaymentState> payment = LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
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
      return Decision{{MakeEvent(stream, types::payment_refund_due,
                                 RefundDuePayload(*payment, success, cause))},
                      {{stream, payment->version}, {OrderStream(payment->order_id), order->version}}};
    }
    Result<PolicyState> policy = LoadPolicy();
    if (!policy.ok()) return policy.status();
    Result<UmkmState> umkm = LoadCached(UmkmStream(payment->umkm_id), umkm_cache_, freshness);
    if (!umkm.ok()) return umkm.status();
    Result<CivilDate> business_date = OpenBusinessDate(BusinessDate(*policy, success.paid_at_us));
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
  (void)RecordRefusedNotification(success.payment_id, result.status().error_code(),
                                  success.amount, success.bank_reference, kept_context);
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
    Result<PaymentState> payment = LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
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

Result<CommandResult> Ledger::RecordPaymentFailed(std::string_view payment_id, std::string_view reason,
                                                  const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = PaymentStream(payment_id);
  return Execute(context, stream + "|failed|" + std::string(reason), [&](Freshness) -> Result<Decision> {
    Result<PaymentState> payment = LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
    if (!payment.ok()) return payment.status();
    if (payment->status != PaymentStatus::kRequested) return PaymentNotPending(*payment);
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

Result<CommandResult> Ledger::ExpirePayment(std::string_view payment_id, const CommandContext& context) {
  const std::string stream = PaymentStream(payment_id);
  return Execute(context, stream + "|expired", [&](Freshness) -> Result<Decision> {
    Result<PaymentState> payment = LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
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
  return Execute(context, stream + "|refund|" + FormatSnap(amount), [&](Freshness) -> Result<Decision> {
    Result<PaymentState> payment = LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
    if (!payment.ok()) return payment.status();
    if (payment->status != PaymentStatus::kSucceeded) {
      return Status::Conflict(errc::kPaymentNotRefundable, "payment_id",
                              "only a succeeded payment can be refunded; this one is " +
                                  std::string(PaymentStatusName(payment->status)));
    }
    MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(amount, payment->amount - payment->refunded, "amount"));
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
    Result<PaymentState> payment = LoadTarget<PaymentState>(stream, "payment", "payment_id", context);
    if (!payment.ok()) return payment.status();
    return Decision{{MakeEvent(stream, types::payment_notification_refused, payload)},
                    {{stream, payment->version}}};
  });
}

// ---------------------------------------------------------------------------------------
// Policy

namespace {

std::string MinimumSpendPayload(std::string_view group, Money amount, CivilDate from) {
  return JsonWriter()
      .BeginObject()
      .Field("rank_group", group)
      .Field("amount", FormatSnap(amount))
      .Field("effective_from", FormatIsoDate(from))
      .EndObject()
      .Take();
}

std::string FeeRulePayload(int64_t basis_points, Money umi_zero_fee_max, CivilDate from) {
  return JsonWriter()
      .BeginObject()
      .Field("basis_points", basis_points)
      .Field("umi_zero_fee_max", FormatSnap(umi_zero_fee_max))
      .Field("effective_from", FormatIsoDate(from))
      .EndObject()
      .Take();
}

std::string CutoffPayload(int minutes_of_day, CivilDate from) {
  return JsonWriter()
      .BeginObject()
      .Field("cutoff", FormatCutoff(minutes_of_day))
      .Field("minutes_of_day", minutes_of_day)
      .Field("effective_from", FormatIsoDate(from))
      .EndObject()
      .Take();
}

// A minimum-spend rule names a golongan group (I..IV, PPPK) or a single rank class (III/d).
Status CheckRankGroupOrClass(std::string_view value, std::string_view field) {
  if (CheckOneOf(value, field, errc::kRankGroupUnknown, rank_groups).ok()) return Status::Ok();
  if (CheckOneOf(value, field, errc::kRankGroupUnknown, rank_classes).ok()) return Status::Ok();
  return Status::InvalidArgument(errc::kRankGroupUnknown, field,
                                 std::string(field) +
                                     " must be a rank group (I, II, III, IV, PPPK) or a rank class "
                                     "such as III/d");
}

Status CheckFeeRule(int64_t basis_points, Money umi_zero_fee_max) {
  if (basis_points < 0 || basis_points > basis_points_max) {
    return Status::InvalidArgument(errc::kBasisPointsOutOfRange, "basis_points",
                                   "basis_points must be 0 to " + std::to_string(basis_points_max));
  }
  if (umi_zero_fee_max < Money() || umi_zero_fee_max > order_total_max) {
    return Status::InvalidArgument(errc::kAmountOutOfRange, "umi_zero_fee_max",
                                   "umi_zero_fee_max must be 0 to " + FormatSnap(order_total_max));
  }
  return Status::Ok();
}

}  // namespace

Result<CommandResult> Ledger::SetMinimumSpend(std::string_view rank_group, Money amount,
                                              std::string_view effective_from,
                                              const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckRankGroupOrClass(rank_group, "rank_group"));
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(amount, order_total_max, "amount"));
  CivilDate from;
  MALPRO_RETURN_IF_ERROR(CheckEffectiveFrom(effective_from, &from));
  std::string payload = MinimumSpendPayload(rank_group, amount, from);
  return Execute(context, "policy.minimum" + payload, [&](Freshness) -> Result<Decision> {
    return Decision{{MakeEvent(std::string(policy_stream), types::policy_minimum_spend_set, payload)}, {}};
  });
}

Result<CommandResult> Ledger::SetFeeRule(int64_t basis_points, Money umi_zero_fee_max,
                                         std::string_view effective_from,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckFeeRule(basis_points, umi_zero_fee_max));
  CivilDate from;
  MALPRO_RETURN_IF_ERROR(CheckEffectiveFrom(effective_from, &from));
  std::string payload = FeeRulePayload(basis_points, umi_zero_fee_max, from);
  return Execute(context, "policy.fee" + payload, [&](Freshness) -> Result<Decision> {
    return Decision{{MakeEvent(std::string(policy_stream), types::policy_fee_rule_set, payload)}, {}};
  });
}

Result<CommandResult> Ledger::SetSettlementCutoff(std::string_view hh_mm,
                                                  std::string_view effective_from,
                                                  const CommandContext& context) {
  Result<int> minutes = ParseCutoff(hh_mm);
  if (!minutes.ok()) return minutes.status();
  CivilDate from;
  MALPRO_RETURN_IF_ERROR(CheckEffectiveFrom(effective_from, &from));
  std::string payload = CutoffPayload(*minutes, from);
  return Execute(context, "policy.cutoff" + payload, [&](Freshness) -> Result<Decision> {
    return Decision{
        {MakeEvent(std::string(policy_stream), types::policy_settlement_cutoff_set, payload)}, {}};
  });
}

Result<std::optional<CommandResult>> Ledger::SeedPolicy(const PolicyDefaults& defaults,
                                                        const CommandContext& context) {
  for (const auto& [group, amount] : defaults.minimum_spend) {
    MALPRO_RETURN_IF_ERROR(CheckRankGroupOrClass(group, "policy.minimum_spend"));
    MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(amount, order_total_max, "policy.minimum_spend." + group));
  }
  MALPRO_RETURN_IF_ERROR(CheckFeeRule(defaults.fee_basis_points, defaults.umi_zero_fee_max));
  Result<uint64_t> version = log_->StreamVersion(policy_stream);
  if (!version.ok()) return version.status();
  if (*version != 0) return std::optional<CommandResult>();
  const std::string stream(policy_stream);
  Decision decision;
  for (const auto& [group, amount] : defaults.minimum_spend) {
    decision.events.push_back(MakeEvent(stream, types::policy_minimum_spend_set,
                                        MinimumSpendPayload(group, amount, defaults.effective_from)));
  }
  decision.events.push_back(MakeEvent(stream, types::policy_fee_rule_set,
                                      FeeRulePayload(defaults.fee_basis_points,
                                                     defaults.umi_zero_fee_max,
                                                     defaults.effective_from)));
  decision.events.push_back(MakeEvent(stream, types::policy_settlement_cutoff_set,
                                      CutoffPayload(defaults.settlement_cutoff_minutes,
                                                    defaults.effective_from)));
  decision.expectations = {{stream, 0}};
  Result<CommandResult> result =
      Execute(context, "policy.seed", [&](Freshness) -> Result<Decision> { return decision; });
  if (!result.ok()) {
    // Another process seeded it first: that is the outcome asked for.
    if (result.status().error_code() == errc::kStreamVersionConflict) return std::optional<CommandResult>();
    return result.status();
  }
  return std::optional<CommandResult>(*result);
}

// ---------------------------------------------------------------------------------------
// Settlement

namespace {

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Status CheckSha256(std::string_view text, std::string_view field) {
  if (IsSha256Hex(text)) return Status::Ok();
  return Status::InvalidArgument(errc::kSha256Invalid, field,
                                 std::string(field) + " must be 64 lowercase hex digits");
}

// Folds one payment.succeeded or payment.refunded into the day's lines when it belongs to
// `date_text` (refunds recorded before they had a business date belong to no day).
Status AddToDay(const Event& event, std::string_view date_text, simdjson::dom::parser& parser,
                std::map<std::string, MerchantSettlement>* merchants) {
  // Most belong to other days: skip them without parsing.
  if (event.payload.find(std::string("\"business_date\":\"") + std::string(date_text) + "\"") ==
      std::string::npos) {
    return Status::Ok();
  }
  const bool refund = event.type == types::payment_refunded;
  Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
  if (!payload.ok()) return Status::Corruption("event " + std::to_string(event.sequence));
  Result<std::string> date = payload->String("business_date");
  Result<std::string> umkm_id = payload->String("umkm_id");
  Result<std::string> amount_text = payload->String("amount");
  Result<std::string> fee_text = refund ? Result<std::string>(std::string("0")) : payload->String("fee");
  if (!date.ok() || !umkm_id.ok() || !amount_text.ok() || !fee_text.ok()) {
    return Status::Corruption("event " + std::to_string(event.sequence) + " lacks a field");
  }
  if (*date != date_text) return Status::Ok();
  Result<Money> amount = ParseAmount(*amount_text, "amount");
  Result<Money> fee = ParseAmount(*fee_text, "fee");
  if (!amount.ok() || !fee.ok()) {
    return Status::Corruption("event " + std::to_string(event.sequence) + ": bad amount");
  }
  MerchantSettlement& merchant = (*merchants)[*umkm_id];
  merchant.umkm_id = *umkm_id;
  if (refund) {
    merchant.refunds += *amount;
    ++merchant.refund_count;
  } else {
    merchant.gross += *amount;
    merchant.fee += *fee;
    ++merchant.payments;
  }
  return Status::Ok();
}

// What each merchant still owes from its line in the latest closed batch (by log order).
Status AddCarried(const Event& event, std::map<std::string, Money>* carried) {
  SettlementState batch;
  MALPRO_RETURN_IF_ERROR(batch.Apply(event));
  for (const MerchantSettlement& merchant : batch.merchants) {
    (*carried)[merchant.umkm_id] = merchant.carried_out;
  }
  return Status::Ok();
}

std::string SettlementPayload(const CloseSettlement& command) {
  JsonWriter writer;
  writer.BeginObject().Field("business_date", command.business_date).Key("merchants").BeginArray();
  for (const MerchantSettlement& merchant : command.merchants) {
    writer.BeginObject()
        .Field("umkm_id", merchant.umkm_id)
        .Field("gross", FormatSnap(merchant.gross))
        .Field("fee", FormatSnap(merchant.fee))
        .Field("net", FormatSnap(merchant.net))
        .Field("payments", merchant.payments);
    // Only lines that recover something carry these (absent means zero), so that a batch of
    // settlement_merchants_max ordinary lines still fits one event.
    if (merchant.refund_count != 0 || merchant.carried_in != Money() ||
        merchant.carried_out != Money()) {
      writer.Field("refunds", FormatSnap(merchant.refunds))
          .Field("refund_count", merchant.refund_count)
          .Field("carried_in", FormatSnap(merchant.carried_in))
          .Field("carried_out", FormatSnap(merchant.carried_out));
    }
    writer.EndObject();
  }
  return writer.EndArray()
      .Field("total_net", FormatSnap(command.total_net))
      .Field("file_name", command.file_name)
      .Field("pain001_sha256", command.pain001_sha256)
      .Field("csv_sha256", command.csv_sha256)
      .EndObject()
      .Take();
}

Status CheckCloseSettlement(const CloseSettlement& command) {
  if (command.merchants.size() > settlement_merchants_max) {
    return Status::LimitExceeded(errc::kSettlementTooManyMerchants, "merchants",
                                 "a settlement batch holds at most " +
                                     std::to_string(settlement_merchants_max) + " merchants");
  }
  MALPRO_RETURN_IF_ERROR(CheckSha256(command.csv_sha256, "csv_sha256"));
  const bool pays = std::any_of(command.merchants.begin(), command.merchants.end(),
                                [](const MerchantSettlement& merchant) {
                                  return merchant.net > Money();
                                });
  if (!pays) {
    if (!command.file_name.empty() || !command.pain001_sha256.empty()) {
      return Status::InvalidArgument(errc::kSettlementFileUnexpected, "file_name",
                                     "a day whose lines pay nothing has no pain.001 file");
    }
    return Status::Ok();
  }
  MALPRO_RETURN_IF_ERROR(CheckName(command.file_name, "file_name"));
  return CheckSha256(command.pain001_sha256, "pain001_sha256");
}

}  // namespace

Result<CivilDate> Ledger::OpenBusinessDate(CivilDate date) const {
  for (int64_t skipped = 0; skipped <= closed_days_skipped_max; ++skipped) {
    Result<uint64_t> version = log_->StreamVersion(SettlementStream(date));
    if (!version.ok()) return version.status();
    if (*version == 0) return date;
    date = CivilFromDays(DaysFromCivil(date) + 1);
  }
  return Status::Conflict(errc::kSettlementDaysClosed, "paid_at",
                          "every business day for a year after the payment is closed");
}

Result<int64_t> Ledger::BusinessDayEnd(CivilDate business_date) const {
  Result<PolicyState> policy = LoadPolicy();
  if (!policy.ok()) return policy.status();
  std::optional<CutoffRule> cutoff = policy->CutoffOn(business_date);
  return JakartaTimeMicros(business_date,
                           cutoff ? int64_t{cutoff->minutes_of_day} * 60 : seconds_per_day);
}

Result<SettlementDay> Ledger::ComputeSettlement(CivilDate business_date) const {
  const std::string date_text = FormatIsoDate(business_date);
  std::map<std::string, MerchantSettlement> merchants;
  std::map<std::string, Money> carried;
  simdjson::dom::parser parser;
  for (uint64_t from = 1;;) {
    Result<std::vector<Event>> events = log_->Read(from, read_events_max);
    if (!events.ok()) return events.status();
    for (const Event& event : *events) {
      if (event.type == types::payment_succeeded || event.type == types::payment_refunded) {
        MALPRO_RETURN_IF_ERROR(AddToDay(event, date_text, parser, &merchants));
      } else if (event.type == types::settlement_batch_closed) {
        MALPRO_RETURN_IF_ERROR(AddCarried(event, &carried));
      }
    }
    if (events->size() < read_events_max) break;
    from = events->back().sequence + 1;
  }
  SettlementDay day;
  day.business_date = business_date;
  for (auto& [umkm_id, merchant] : merchants) {
    if (auto found = carried.find(umkm_id); found != carried.end()) {
      merchant.carried_in = found->second;
    }
    const Money due = merchant.gross - merchant.fee - merchant.refunds - merchant.carried_in;
    merchant.net = due > Money() ? due : Money();
    merchant.carried_out = due < Money() ? Money() - due : Money();
    day.total_gross += merchant.gross;
    day.total_fee += merchant.fee;
    day.total_net += merchant.net;
    day.total_refunds += merchant.refunds;
    day.payments += merchant.payments;
    day.merchants.push_back(std::move(merchant));
  }
  return day;
}

Result<CommandResult> Ledger::Close(const CloseSettlement& command, const CommandContext& context) {
  Result<CivilDate> date = ParseIsoDate(command.business_date, "business_date");
  if (!date.ok()) return date.status();
  MALPRO_RETURN_IF_ERROR(CheckCloseSettlement(command));
  const std::string stream = SettlementStream(*date);
  const std::string payload = SettlementPayload(command);
  if (payload.size() > payload_bytes_max) {
    return Status::LimitExceeded(errc::kSettlementTooManyMerchants, "merchants",
                                 "the day's lines do not fit one settlement.batch_closed (" +
                                     std::to_string(payload.size()) + " bytes, at most " +
                                     std::to_string(payload_bytes_max) + ")");
  }
  std::unique_lock<std::shared_mutex> no_success(settlement_mutex_);
  return Execute(context, "settlement.close" + payload, [&](Freshness) -> Result<Decision> {
    Result<uint64_t> version = log_->StreamVersion(stream);
    if (!version.ok()) return version.status();
    if (*version != 0) {
      return Status::Conflict(errc::kSettlementAlreadyClosed, "business_date",
                              "business day " + command.business_date + " is already closed");
    }
    Result<int64_t> end = BusinessDayEnd(*date);
    if (!end.ok()) return end.status();
    if (Now() < *end) {
      return Status::Conflict(errc::kSettlementDayNotOver, "business_date",
                              "business day " + command.business_date +
                                  " is not over: it ends at its cut-off (Asia/Jakarta)");
    }
    Result<SettlementDay> day = ComputeSettlement(*date);
    if (!day.ok()) return day.status();
    if (day->merchants != command.merchants || day->total_net != command.total_net) {
      return Status::Conflict(errc::kSettlementTotalsStale, "merchants",
                              "the totals differ from the payments in the log; compute them and "
                              "write the files again");
    }
    return Decision{{MakeEvent(stream, types::settlement_batch_closed, payload)}, {{stream, 0}}};
  });
}

// ---------------------------------------------------------------------------------------
// Compliance

namespace {

Status CheckCloseMonth(const CloseComplianceMonth& command) {
  Result<CivilDate> first = ParseIsoDate(command.month + "-01", "month");
  if (command.month.size() != 7 || !first.ok()) {
    return Status::InvalidArgument(errc::kMonthInvalid, "month", "month must be YYYY-MM");
  }
  if (command.asn < 0 || command.compliant < 0 || command.compliant > command.asn ||
      command.committed < Money() || command.shortfall < Money()) {
    return Status::InvalidArgument(errc::kComplianceFiguresInvalid, "asn",
                                   "counts and amounts must not be negative, and compliant "
                                   "at most asn");
  }
  return CheckSha256(command.figures_sha256, "figures_sha256");
}

}  // namespace

Result<CommandResult> Ledger::CloseMonth(const CloseComplianceMonth& command,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckCloseMonth(command));
  const CivilDate first = *ParseIsoDate(command.month + "-01", "month");
  const CivilDate next = first.month == 12 ? CivilDate{first.year + 1, 1, 1}
                                           : CivilDate{first.year, first.month + 1, 1};
  const int64_t month_end_us = JakartaDayStartMicros(next);
  const std::string stream = ComplianceStream(command.month);
  const std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("month", command.month)
                                  .Field("as_of_sequence", static_cast<int64_t>(command.as_of_sequence))
                                  .Field("asn", command.asn)
                                  .Field("compliant", command.compliant)
                                  .Field("not_compliant", command.asn - command.compliant)
                                  .Field("committed", FormatSnap(command.committed))
                                  .Field("shortfall", FormatSnap(command.shortfall))
                                  .Field("figures_sha256", command.figures_sha256)
                                  .EndObject()
                                  .Take();
  return Execute(context, "compliance.close" + payload, [&](Freshness) -> Result<Decision> {
    if (Now() < month_end_us) {
      return Status::Conflict(errc::kMonthNotOver, "month",
                              "month " + command.month + " is not over (Asia/Jakarta)");
    }
    Result<uint64_t> version = log_->StreamVersion(stream);
    if (!version.ok()) return version.status();
    if (*version != 0) {
      return Status::Conflict(errc::kMonthAlreadyClosed, "month",
                              "month " + command.month + " is already closed");
    }
    if (log_->Head().sequence != command.as_of_sequence) {
      return Status::Conflict(errc::kComplianceFiguresStale, "as_of_sequence",
                              "the log moved on since the figures were computed; compute them "
                              "again");
    }
    return Decision{{MakeEvent(stream, types::compliance_month_closed, payload)}, {{stream, 0}}};
  });
}

// ---------------------------------------------------------------------------------------
// Reconciliation

namespace {

constexpr std::array<std::string_view, 3> kStatementFormats = {"camt053", "mt940", "csv"};
constexpr std::array<std::string_view, 4> kDiscrepancyKinds = {
    discrepancy_missing_in_ledger, discrepancy_missing_at_bank, discrepancy_amount_mismatch,
    discrepancy_refund_due};
constexpr std::array<std::string_view, 2> kCreditDebit = {"CRDT", "DBIT"};
constexpr std::array<std::string_view, 2> kResolutions = {resolution_payment_recorded,
                                                           resolution_explained};

Status CheckDiscrepancies(const RecordReconciliation& command) {
  const int64_t counted = command.missing_in_ledger + command.missing_at_bank +
                          command.amount_mismatch + command.refund_due;
  const int64_t listed = static_cast<int64_t>(command.discrepancies.size());
  if (listed > static_cast<int64_t>(reconciliation_discrepancies_max)) {
    return Status::LimitExceeded(errc::kTooManyDiscrepancies, "discrepancies",
                                 "a run lists at most " +
                                     std::to_string(reconciliation_discrepancies_max) +
                                     " discrepancies");
  }
  const bool whole = listed == counted;
  const bool truncated =
      listed == static_cast<int64_t>(reconciliation_discrepancies_max) && counted > listed;
  if (!whole && !truncated) {
    return Status::InvalidArgument(errc::kDiscrepancyCountMismatch, "discrepancies",
                                   "the discrepancies listed must match their counts");
  }
  for (int64_t i = 0; i < listed; ++i) {
    const Discrepancy& discrepancy = command.discrepancies[i];
    const std::string field = "discrepancies[" + std::to_string(i) + "]";
    if (discrepancy.index != i + 1) {
      return Status::InvalidArgument(errc::kDiscrepancyIndexInvalid, field + ".index",
                                     "discrepancies are numbered 1, 2, 3... in order");
    }
    MALPRO_RETURN_IF_ERROR(CheckOneOf(discrepancy.kind, field + ".kind", errc::kKindUnknown,
                                      kDiscrepancyKinds));
    MALPRO_RETURN_IF_ERROR(CheckOneOf(discrepancy.credit_debit, field + ".credit_debit",
                                      errc::kCreditDebitUnknown, kCreditDebit));
  }
  return Status::Ok();
}

void WriteDiscrepancy(JsonWriter& writer, const Discrepancy& discrepancy) {
  writer.BeginObject()
      .Field("index", discrepancy.index)
      .Field("kind", discrepancy.kind)
      .Field("credit_debit", discrepancy.credit_debit)
      .Field("reference", discrepancy.reference)
      .Field("payment_id", discrepancy.payment_id)
      .Field("booking_date", discrepancy.booking_date)
      .Field("booked_at_us", discrepancy.booked_at_us);
  if (discrepancy.statement_amount) {
    writer.Field("statement_amount", FormatSnap(*discrepancy.statement_amount));
  }
  if (discrepancy.ledger_amount) {
    writer.Field("ledger_amount", FormatSnap(*discrepancy.ledger_amount));
  }
  writer.EndObject();
}

std::string ReconciliationPayload(const RecordReconciliation& command, int64_t run) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("statement_id", command.statement_id)
      .Field("run", run)
      .Field("format", command.format)
      .Field("account", command.account)
      .Field("period_from", command.period_from)
      .Field("period_to", command.period_to)
      .Field("statement_sha256", command.statement_sha256)
      .Field("entries", command.entries)
      .Field("matched", command.matched)
      .Field("missing_in_ledger", command.missing_in_ledger)
      .Field("missing_at_bank", command.missing_at_bank)
      .Field("amount_mismatch", command.amount_mismatch)
      .Field("refund_due", command.refund_due)
      .Field("discrepancies_truncated",
             static_cast<int64_t>(command.discrepancies.size()) <
                 command.missing_in_ledger + command.missing_at_bank + command.amount_mismatch)
      .Key("discrepancies")
      .BeginArray();
  for (const Discrepancy& discrepancy : command.discrepancies) {
    WriteDiscrepancy(writer, discrepancy);
  }
  return writer.EndArray().EndObject().Take();
}

}  // namespace

Result<CommandResult> Ledger::Record(const RecordReconciliation& command,
                                     const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(command.statement_id, "statement_id"));
  MALPRO_RETURN_IF_ERROR(CheckOneOf(command.format, "format", errc::kFormatUnknown, kStatementFormats));
  MALPRO_RETURN_IF_ERROR(CheckName(command.account, "account"));
  Result<CivilDate> from = ParseIsoDate(command.period_from, "period_from");
  if (!from.ok()) return from.status();
  Result<CivilDate> to = ParseIsoDate(command.period_to, "period_to");
  if (!to.ok()) return to.status();
  if (*to < *from) {
    return Status::InvalidArgument(errc::kPeriodInvalid, "period_to",
                                   "period_to may not be before period_from");
  }
  MALPRO_RETURN_IF_ERROR(CheckSha256(command.statement_sha256, "statement_sha256"));
  for (int64_t count : {command.entries, command.matched, command.missing_in_ledger,
                        command.missing_at_bank, command.amount_mismatch}) {
    if (count < 0) {
      return Status::InvalidArgument(errc::kCountNegative, "entries", "counts may not be negative");
    }
  }
  MALPRO_RETURN_IF_ERROR(CheckDiscrepancies(command));
  const std::string stream = ReconciliationStream(command.statement_id);
  return Execute(context, "reconciliation.record" + ReconciliationPayload(command, 0),
                 [&](Freshness) -> Result<Decision> {
    Result<ReconciliationState> state = Load<ReconciliationState>(stream);
    if (!state.ok()) return state.status();
    if (context.expected_version && *context.expected_version != state->version) {
      return Status::Conflict(errc::kVersionMismatch, "If-Match",
                              stream + " is at version " + std::to_string(state->version));
    }
    return Decision{{MakeEvent(stream, types::reconciliation_completed,
                               ReconciliationPayload(command, state->runs + 1))},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::ResolveDiscrepancy(std::string_view statement_id, int64_t index,
                                                 std::string_view resolution,
                                                 std::string_view note,
                                                 const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(statement_id, "statement_id"));
  MALPRO_RETURN_IF_ERROR(CheckOneOf(resolution, "resolution", errc::kResolutionUnknown, kResolutions));
  if (resolution == resolution_explained || !note.empty()) {
    MALPRO_RETURN_IF_ERROR(CheckName(note, "note", reason_chars_max));
  }
  const std::string stream = ReconciliationStream(statement_id);
  return Execute(context,
                 stream + "|resolve|" + std::to_string(index) + "|" + std::string(resolution) +
                     "|" + std::string(note),
                 [&](Freshness) -> Result<Decision> {
    Result<ReconciliationState> state =
        LoadTarget<ReconciliationState>(stream, "reconciliation", "statement_id", context);
    if (!state.ok()) return state.status();
    if (index < 1 || index > static_cast<int64_t>(state->discrepancies.size())) {
      return Status::NotFound(errc::kDiscrepancyNotFound, "index",
                              "the latest run of " + std::string(statement_id) + " has " +
                                  std::to_string(state->discrepancies.size()) +
                                  " discrepancies; index must be 1 to that");
    }
    const Discrepancy& discrepancy = state->discrepancies[index - 1];
    if (!state->ResolutionOf(discrepancy).empty()) {
      return Status::Conflict(errc::kDiscrepancyAlreadyResolved, "index",
                              "discrepancy " + std::to_string(index) + " is already " +
                                  state->ResolutionOf(discrepancy));
    }
    std::vector<StreamExpectation> expectations = {{stream, state->version}};
    if (resolution == resolution_payment_recorded) {
      if (discrepancy.kind != discrepancy_missing_in_ledger || discrepancy.payment_id.empty()) {
        return Status::InvalidArgument(
            errc::kResolutionNotApplicable, "resolution",
            "payment_recorded applies to a payment missing in the ledger whose pending payment "
            "is known");
      }
      Result<PaymentState> payment = Load<PaymentState>(PaymentStream(discrepancy.payment_id));
      if (!payment.ok()) return payment.status();
      if (payment->status != PaymentStatus::kSucceeded) {
        return Status::Conflict(errc::kPaymentNotSucceeded, "payment_id",
                                "payment " + discrepancy.payment_id + " is " +
                                    std::string(PaymentStatusName(payment->status)));
      }
      expectations.push_back({PaymentStream(discrepancy.payment_id), payment->version});
    }
    std::string payload = JsonWriter()
                              .BeginObject()
                              .Field("statement_id", statement_id)
                              .Field("run", state->runs)
                              .Field("index", index)
                              .Field("kind", discrepancy.kind)
                              .Field("reference", discrepancy.reference)
                              .Field("resolution", resolution)
                              .Field("note", note)
                              .Field("payment_id", discrepancy.payment_id)
                              .EndObject()
                              .Take();
    return Decision{{MakeEvent(stream, types::reconciliation_discrepancy_resolved,
                               std::move(payload))},
                    std::move(expectations)};
  });
}

// ---------------------------------------------------------------------------------------
// Loads

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
Result<PolicyState> Ledger::LoadPolicy() const { return Load<PolicyState>(std::string(policy_stream)); }
Result<PaymentState> Ledger::LoadPayment(std::string_view payment_id) const {
  return LoadTarget<PaymentState>(PaymentStream(payment_id), "payment", "payment_id",
                                  CommandContext{});
}

Result<SettlementState> Ledger::LoadSettlement(CivilDate business_date) const {
  return LoadTarget<SettlementState>(SettlementStream(business_date), "settlement",
                                     "business_date", CommandContext{});
}
Result<ReconciliationState> Ledger::LoadReconciliation(std::string_view statement_id) const {
  return LoadTarget<ReconciliationState>(ReconciliationStream(statement_id), "reconciliation",
                                         "statement_id", CommandContext{});
}

Result<std::string> Ledger::Photo(std::string_view sha256_hex) const {
  Hash hash;
  if (!HashFromHex(sha256_hex, &hash)) {
    return Status::InvalidArgument(errc::kSha256Invalid, "sha256", "sha256 must be 64 hex digits");
  }
  return log_->GetBlob(hash);
}

}  // namespace malpro
