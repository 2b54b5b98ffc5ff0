// What the files of the Ledger share (engine/ledger.cc and engine/ledger_*.cc, one per
// aggregate's commands, as leveldb splits db_impl): the loading templates and the checks more
// than one aggregate's commands use. Not part of the engine's interface: include it from the
// ledger's own files only.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/assert.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/ledger.h"
#include "engine/log_limits.h"

namespace malpro {

// The short name every ledger file writes event types with (types::kOrderPlaced).
namespace types = event_types;

namespace ledger_internal {

// Refuses an amount that is not positive or over `maximum`, naming `field`.
Status CheckPositiveAmount(Money amount, Money maximum, std::string_view field);
// A cancellation, rejection or failure reason: a name of at most reason_chars_max.
Status CheckReason(std::string_view reason);
// A SHA-256 as 64 lowercase hex digits, naming `field`.
Status CheckSha256(std::string_view text, std::string_view field);
ProposedEvent MakeEvent(std::string stream_id, std::string_view type, std::string payload);
// The code a missing target of Ledger::LoadTarget is refused with, by what it is ("order").
std::string_view NotFoundCode(std::string_view what);

}  // namespace ledger_internal

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
    return Status::NotFound(ledger_internal::NotFoundCode(what), field,
                            "no " + std::string(what) + " '" + std::string(id) + "'");
  }
  if (context.expected_version && *context.expected_version != state->version) {
    return Status::Conflict(errc::kVersionMismatch, "If-Match",
                            stream_id + " is at version " + std::to_string(state->version) +
                                ", not the expected " + std::to_string(*context.expected_version));
  }
  return state;
}

}  // namespace malpro
