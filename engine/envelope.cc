#include "engine/envelope.h"

#include <cstring>

#include "engine/log_limits.h"

namespace malpro {
namespace {

void PutU16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value));
}

void PutU32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

void PutU64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

void PutBytes16(std::string* out, std::string_view bytes) {
  MALPRO_ASSERT(bytes.size() <= UINT16_MAX);
  PutU16(out, static_cast<uint16_t>(bytes.size()));
  out->append(bytes);
}

// Reads big-endian fields from a byte string, remembering whether it ran past the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  uint64_t ReadUnsigned(size_t width) {
    if (!Has(width)) return 0;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) value = value << 8 | static_cast<uint8_t>(bytes_[i]);
    bytes_.remove_prefix(width);
    return value;
  }
  std::string_view ReadBytes(size_t length) {
    if (!Has(length)) return {};
    std::string_view out = bytes_.substr(0, length);
    bytes_.remove_prefix(length);
    return out;
  }
  std::string_view ReadBytes16() { return ReadBytes(ReadUnsigned(2)); }
  std::string_view ReadBytes32() { return ReadBytes(ReadUnsigned(4)); }
  void ReadHash(Hash* hash) {
    std::string_view bytes = ReadBytes(hash_bytes);
    if (!failed_) std::memcpy(hash->data(), bytes.data(), hash_bytes);
  }

  bool failed() const { return failed_; }
  size_t remaining() const { return bytes_.size(); }
  std::string_view rest() const { return bytes_; }

 private:
  bool Has(size_t length) {
    if (failed_ || bytes_.size() < length) {
      failed_ = true;
      return false;
    }
    return true;
  }

  std::string_view bytes_;
  bool failed_ = false;
};

}  // namespace

EventView ViewOf(const Event& event) {
  return {event.sequence,     event.stream_id, event.stream_version,    event.type,
          event.recorded_at_us, event.actor,   event.idempotency_key, event.payload};
}

void AppendCanonical(const EventView& event, std::string* out) {
  out->reserve(out->size() + 1 + 8 + 8 + 8 + 2 * 4 + 4 + event.stream_id.size() +
               event.type.size() + event.actor.size() + event.idempotency_key.size() +
               event.payload.size() + 2 * hash_bytes);
  out->push_back(static_cast<char>(envelope_format_version));
  PutU64(out, event.sequence);
  PutU64(out, event.stream_version);
  PutU64(out, static_cast<uint64_t>(event.recorded_at_us));
  PutBytes16(out, event.stream_id);
  PutBytes16(out, event.type);
  PutBytes16(out, event.actor);
  PutBytes16(out, event.idempotency_key);
  MALPRO_ASSERT(event.payload.size() <= UINT32_MAX);
  PutU32(out, static_cast<uint32_t>(event.payload.size()));
  out->append(event.payload);
}

std::string EncodeCanonical(const Event& event) {
  std::string out;
  AppendCanonical(ViewOf(event), &out);
  return out;
}

std::string EncodeEnvelope(const Event& event) {
  std::string out = EncodeCanonical(event);
  out.append(HashView(event.previous_hash));
  out.append(HashView(event.hash));
  return out;
}

Status DecodeEnvelopeInto(std::string_view bytes, Event* event) {
  Reader reader(bytes);
  const uint64_t version = reader.ReadUnsigned(1);
  if (reader.failed() || version != envelope_format_version) {
    return Status::Corruption("envelope: unknown format version " + std::to_string(version));
  }
  event->sequence = reader.ReadUnsigned(8);
  event->stream_version = reader.ReadUnsigned(8);
  event->recorded_at_us = static_cast<int64_t>(reader.ReadUnsigned(8));
  event->stream_id.assign(reader.ReadBytes16());
  event->type.assign(reader.ReadBytes16());
  event->actor.assign(reader.ReadBytes16());
  event->idempotency_key.assign(reader.ReadBytes16());
  event->payload.assign(reader.ReadBytes32());
  reader.ReadHash(&event->previous_hash);
  reader.ReadHash(&event->hash);
  if (reader.failed()) return Status::Corruption("envelope: truncated");
  if (reader.remaining() != 0) return Status::Corruption("envelope: trailing bytes");
  return Status::Ok();
}

Result<Event> DecodeEnvelope(std::string_view bytes) {
  Event event;
  MALPRO_RETURN_IF_ERROR(DecodeEnvelopeInto(bytes, &event));
  return event;
}

bool IsWellFormedCanonical(std::string_view canonical) {
  Reader reader(canonical);
  if (reader.ReadUnsigned(1) != envelope_format_version) return false;
  reader.ReadBytes(3 * 8);  // sequence, stream version, recorded at
  for (int field = 0; field < 4; ++field) reader.ReadBytes16();
  reader.ReadBytes32();
  return !reader.failed() && reader.remaining() == 0;
}

Result<std::string_view> CanonicalPart(std::string_view stored) {
  if (stored.size() < 1 + 2 * hash_bytes) return Status::Corruption("envelope: truncated");
  return stored.substr(0, stored.size() - 2 * hash_bytes);
}

Hash ComputeEventHash(const Hash& previous_hash, std::string_view canonical) {
  return Sha256(HashView(previous_hash), canonical);
}

std::string SequenceKey(uint64_t sequence) {
  std::string key;
  PutU64(&key, sequence);
  return key;
}

bool ParseSequenceKey(std::string_view key, uint64_t* sequence) {
  if (key.size() != 8) return false;
  Reader reader(key);
  *sequence = reader.ReadUnsigned(8);
  return true;
}

}  // namespace malpro
