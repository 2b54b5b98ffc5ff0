// The event envelope: what one entry of the log holds, its binary encoding in each format
// version, and the hash recipe. The byte layout is specified in docs/event-log-format.md and
// named in engine/log_format.h; keep the three in step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/hash.h"
#include "engine/log_format.h"
#include "engine/result.h"

namespace malpro {

struct Event {
  // The envelope's byte 0, naming the layout of its canonical bytes (of which it is the first).
  // Decoding sets it; the events the log writes have envelope_format_version_current.
  uint8_t format_version = envelope_format_version_current;
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

// The canonical fields of an event without owning them, for encoding without copies. Always
// encoded in the current format version: this is what the log writes.
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

// Byte 0 .. end of payload: the canonical bytes that the hash covers, in the event's own
// format_version, which this build must know (asserted; decoding and ParseEventJson refuse
// the others).
std::string EncodeCanonical(const Event& event);
// The canonical bytes in the current format version, added to `out` (reserving room for the
// two hashes that follow in the stored value). What the log's writer stores.
void AppendCanonical(const EventView& event, std::string* out);

// Canonical bytes followed by previous_hash and hash: the stored value.
std::string EncodeEnvelope(const Event& event);

// Decodes a stored value of any format version this build knows, setting format_version.
// Corruption when lengths or trailing bytes are wrong, and for an unknown version (the message
// names the version and the sequence). Does not check the hash; see ComputeEventHash.
Result<Event> DecodeEnvelope(std::string_view bytes);
// The same into `event`, whose strings keep their room (decoding many events into one).
Status DecodeEnvelopeInto(std::string_view bytes, Event* event);

// The canonical part of a stored value (everything before the two hashes), or Corruption.
Result<std::string_view> CanonicalPart(std::string_view stored);

// True when this build decodes envelopes of format version `version`.
bool IsKnownEnvelopeVersion(uint8_t version);

// True when `canonical` has a known format version and the length fields of that version's
// layout add up exactly. Cheap for version 1: no allocation; used by verification to catch
// broken layouts whose hash happens to match.
bool IsWellFormedCanonical(std::string_view canonical);

// SHA-256(previous_hash || canonical).
Hash ComputeEventHash(const Hash& previous_hash, std::string_view canonical);

// SequenceKey and ParseSequenceKey, the log's RocksDB key of a sequence, are in log_format.h.

// ---- Test hook: format versions this build does not know ----

// The canonical encoding of one format version. Only a test binary supplies one, to show that
// logs of the versions this build knows still decode and verify beside a newer version.
struct EnvelopeCodec {
  uint8_t version = 0;
  // Adds `event`'s canonical bytes in this version, byte 0 (`version`) included, to `out`.
  // The layout keeps the frame of every version (log_format.h): bytes 1-8 are the sequence.
  void (*append_canonical)(const Event& event, std::string* out) = nullptr;
  // Reads canonical bytes of this version into `event`'s fields other than format_version
  // and the hashes; false when the layout does not hold exactly.
  bool (*decode_canonical)(std::string_view canonical, Event* event) = nullptr;
};

// Declared weak: it is null unless the binary defines it, and only a test binary does. Returns
// the codec of `version`, a version this build does not know, or null. Decoding, encoding and
// verification consult it only after every version they know.
[[gnu::weak]] const EnvelopeCodec* EnvelopeCodecForTesting(uint8_t version);

}  // namespace malpro
