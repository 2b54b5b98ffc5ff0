#include "engine/envelope.h"

#include <cstring>

#include "engine/log_format.h"

namespace malpro {
namespace {

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

// Format version 1 (docs/event-log-format.md, section 2).

void AppendCanonicalV1(const EventView& event, std::string* out) {
  out->reserve(out->size() + envelope_v1_canonical_overhead_bytes + event.stream_id.size() +
               event.type.size() + event.actor.size() + event.idempotency_key.size() +
               event.payload.size() + envelope_hashes_bytes);
  out->push_back(static_cast<char>(envelope_format_version_1));
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

Status DecodeEnvelopeV1(std::string_view bytes, Event* event) {
  Reader reader(bytes);
  reader.ReadUnsigned(1);  // the version, 1
  event->format_version = envelope_format_version_1;
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

bool IsWellFormedCanonicalV1(std::string_view canonical) {
  Reader reader(canonical);
  reader.ReadUnsigned(1);   // the version, 1
  reader.ReadBytes(3 * 8);  // sequence, stream version, recorded at
  for (size_t field = 0; field < envelope_v1_text_fields; ++field) reader.ReadBytes16();
  reader.ReadBytes32();
  return !reader.failed() && reader.remaining() == 0;
}

// Versions this build does not know: a test binary's codec, if it supplies one.

const EnvelopeCodec* CodecForTesting(uint8_t version) {
  if (EnvelopeCodecForTesting == nullptr) return nullptr;  // no program defines the hook
  const EnvelopeCodec* codec = EnvelopeCodecForTesting(version);
  MALPRO_ASSERT(codec == nullptr || codec->version == version);
  return codec;
}

Status UnknownVersion(uint8_t version, std::string_view bytes) {
  return Status::Corruption("envelope: unknown format version " + std::to_string(version) +
                            " (sequence " + std::to_string(EnvelopeSequence(bytes)) + ")");
}

Status DecodeEnvelopeWithCodec(const EnvelopeCodec& codec, std::string_view bytes, Event* event) {
  if (bytes.size() < envelope_frame_head_bytes + envelope_hashes_bytes ||
      !codec.decode_canonical(bytes.substr(0, bytes.size() - envelope_hashes_bytes), event)) {
    return Status::Corruption("envelope: the layout of format version " +
                              std::to_string(codec.version) + " does not hold");
  }
  event->format_version = codec.version;
  std::memcpy(event->previous_hash.data(), StoredPreviousHash(bytes).data(), hash_bytes);
  std::memcpy(event->hash.data(), StoredHash(bytes).data(), hash_bytes);
  return Status::Ok();
}

}  // namespace

EventView ViewOf(const Event& event) {
  return {event.sequence,       event.stream_id, event.stream_version,  event.type,
          event.recorded_at_us, event.actor,     event.idempotency_key, event.payload};
}

void AppendCanonical(const EventView& event, std::string* out) {
  static_assert(envelope_format_version_current == envelope_format_version_1,
                "the log writes version 1; a new current version needs its encoder here");
  AppendCanonicalV1(event, out);
}

std::string EncodeCanonical(const Event& event) {
  std::string out;
  switch (event.format_version) {
    case envelope_format_version_1:
      AppendCanonicalV1(ViewOf(event), &out);
      break;
    default: {
      // Only decoding and ParseEventJson set another version, and both refuse unknown ones.
      const EnvelopeCodec* codec = CodecForTesting(event.format_version);
      MALPRO_ASSERT(codec != nullptr);
      codec->append_canonical(event, &out);
      break;
    }
  }
  return out;
}

std::string EncodeEnvelope(const Event& event) {
  std::string out = EncodeCanonical(event);
  out.append(HashView(event.previous_hash));
  out.append(HashView(event.hash));
  return out;
}

Status DecodeEnvelopeInto(std::string_view bytes, Event* event) {
  // Every version begins with its version byte and the sequence (the frame, log_format.h).
  if (bytes.size() < envelope_frame_head_bytes) return Status::Corruption("envelope: truncated");
  const uint8_t version = EnvelopeVersion(bytes);
  switch (version) {
    case envelope_format_version_1:
      return DecodeEnvelopeV1(bytes, event);
    default: {
      const EnvelopeCodec* codec = CodecForTesting(version);
      if (codec == nullptr) return UnknownVersion(version, bytes);
      return DecodeEnvelopeWithCodec(*codec, bytes, event);
    }
  }
}

Result<Event> DecodeEnvelope(std::string_view bytes) {
  Event event;
  MALPRO_RETURN_IF_ERROR(DecodeEnvelopeInto(bytes, &event));
  return event;
}

bool IsKnownEnvelopeVersion(uint8_t version) {
  switch (version) {
    case envelope_format_version_1:
      return true;
    default:
      return CodecForTesting(version) != nullptr;
  }
}

bool IsWellFormedCanonical(std::string_view canonical) {
  if (canonical.empty()) return false;
  const uint8_t version = EnvelopeVersion(canonical);
  switch (version) {
    case envelope_format_version_1:
      return IsWellFormedCanonicalV1(canonical);
    default: {
      const EnvelopeCodec* codec = CodecForTesting(version);
      if (codec == nullptr || canonical.size() < envelope_frame_head_bytes) return false;
      thread_local Event scratch;
      return codec->decode_canonical(canonical, &scratch);
    }
  }
}

Result<std::string_view> CanonicalPart(std::string_view stored) {
  if (stored.size() < 1 + envelope_hashes_bytes) return Status::Corruption("envelope: truncated");
  return stored.substr(0, stored.size() - envelope_hashes_bytes);
}

Hash ComputeEventHash(const Hash& previous_hash, std::string_view canonical) {
  return Sha256(HashView(previous_hash), canonical);
}

}  // namespace malpro
