// The event envelope: what one entry of the log holds, its binary encoding, and the hash
// recipe. The byte layout is specified in docs/event-log-format.md; keep the two in step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/hash.h"
#include "engine/result.h"

namespace malpro {

struct Event {
  uint64_t sequence = 0;        // global, from 1, no gaps
  std::string stream_id;        // e.g. "order-01J..."
  uint64_t stream_version = 0;  // 1-based position within the stream
  std::string type;             // e.g. "order.placed"
  int64_t recorded_at_us = 0;   // UTC microseconds since the Unix epoch
  std::string actor;            // who caused it
  std::string idempotency_key;  // empty when the command had none
  std::string payload;          // minified JSON
  Hash previous_hash{};         // hash of event sequence-1 (zero_hash for sequence 1)
  Hash hash{};                  // SHA-256(previous_hash || canonical bytes)

  bool operator==(const Event&) const = default;
};

// The canonical fields of an event without owning them, for encoding without copies.
struct EventView {
  uint64_t sequence = 0;
  std::string_view stream_id;
  uint64_t stream_version = 0;
  std::string_view type;
  int64_t recorded_at_us = 0;
  std::string_view actor;
  std::string_view idempotency_key;
  std::string_view payload;
};

EventView ViewOf(const Event& event);

// Byte 0 .. end of payload: the canonical bytes that the hash covers. AppendCanonical adds
// them to `out` (reserving room for the two hashes that follow in the stored value).
std::string EncodeCanonical(const Event& event);
void AppendCanonical(const EventView& event, std::string* out);

// Canonical bytes followed by previous_hash and hash: the stored value.
std::string EncodeEnvelope(const Event& event);

// Decodes a stored value. Corruption when lengths, version or trailing bytes are wrong.
// Does not check the hash; see ComputeEventHash.
Result<Event> DecodeEnvelope(std::string_view bytes);
// The same into `event`, whose strings keep their room (decoding many events into one).
Status DecodeEnvelopeInto(std::string_view bytes, Event* event);

// The canonical part of a stored value (everything before the two hashes), or Corruption.
Result<std::string_view> CanonicalPart(std::string_view stored);

// True when `canonical` has format version 1 and its length fields add up exactly. Cheap:
// no allocation; used by verification to catch broken layouts whose hash happens to match.
bool IsWellFormedCanonical(std::string_view canonical);

// SHA-256(previous_hash || canonical).
Hash ComputeEventHash(const Hash& previous_hash, std::string_view canonical);

// Big-endian 8-byte key of a sequence, the log's RocksDB key.
std::string SequenceKey(uint64_t sequence);
// Inverse of SequenceKey; false unless exactly 8 bytes.
bool ParseSequenceKey(std::string_view key, uint64_t* sequence);

}  // namespace malpro
