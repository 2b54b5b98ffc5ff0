// The event log's on-disk format in one place: the column families, keys, records and
// envelope layout that docs/event-log-format.md specifies byte for byte, as named constants
// and small inline encoders and decoders. The document is the specification ("§n" below is its
// section n); a change here is a format change and is made there too. Persisted names and
// values are append-only (§8): never rename, renumber, reuse or remove one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "engine/hash.h"
#include "engine/log_limits.h"

namespace malpro {

// ---- Integers (preamble): big-endian; signed ones as their two's-complement bit pattern ----

inline void PutU16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value));
}

inline void PutU32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

inline void PutU64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// Into a caller's 8 bytes, for keys built without a string.
inline void StoreU64(char* out, uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

inline std::string EncodeU64(uint64_t value) {
  std::string out;
  PutU64(&out, value);
  return out;
}

// The big-endian value of all of `bytes` (at most 8 of them).
inline uint64_t LoadBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) value = value << 8 | uint8_t(bytes[i]);
  return value;
}

// The u64 in the first 8 bytes of `bytes`, which has at least 8.
inline uint64_t LoadU64(std::string_view bytes) { return LoadBigEndian(bytes.substr(0, 8)); }

// ---- §1 The log's database: column families and the records of the default family ----

// The column families, in the order the log opens them (a family's handle has its index here).
inline constexpr std::string_view head_column_name = "default";  // RocksDB's default family
inline constexpr std::string_view events_column_name = "events";
// Before the stream index had its own database, it was this column family of the log's;
// kept (empty) so that such directories open, and read when a read-only open finds no index
// database yet.
inline constexpr std::string_view legacy_stream_index_column_name = "stream_index";
inline constexpr std::string_view idempotency_column_name = "idempotency";
inline constexpr std::string_view blobs_column_name = "blobs";
inline constexpr std::array<std::string_view, 5> log_column_names = {
    head_column_name, events_column_name, legacy_stream_index_column_name, idempotency_column_name,
    blobs_column_name};
inline constexpr size_t head_column_index = 0;
inline constexpr size_t events_column_index = 1;
inline constexpr size_t legacy_stream_index_column_index = 2;
inline constexpr size_t idempotency_column_index = 3;
inline constexpr size_t blobs_column_index = 4;
static_assert(log_column_names[events_column_index] == events_column_name);
static_assert(log_column_names[idempotency_column_index] == idempotency_column_name);
static_assert(log_column_names[blobs_column_index] == blobs_column_name);

// `events`: the key of an event is its sequence as a u64.
inline constexpr size_t sequence_key_bytes = 8;

// Big-endian 8-byte key of a sequence, the log's RocksDB key.
inline std::string SequenceKey(uint64_t sequence) { return EncodeU64(sequence); }
// Inverse of SequenceKey; false unless exactly 8 bytes.
inline bool ParseSequenceKey(std::string_view key, uint64_t* sequence) {
  if (key.size() != sequence_key_bytes) return false;
  *sequence = LoadU64(key);
  return true;
}

// `default`: the chain head record, a u64 sequence of the last event, then its hash. Absent
// while the log is empty.
inline constexpr std::string_view chain_head_key = "chain_head";
inline constexpr size_t chain_head_record_bytes = 8 + hash_bytes;

inline std::string EncodeChainHeadRecord(uint64_t sequence, const Hash& hash) {
  std::string value = EncodeU64(sequence);
  value.append(HashView(hash));
  return value;
}
// False when `value` is not chain_head_record_bytes long.
inline bool DecodeChainHeadRecord(std::string_view value, uint64_t* sequence, Hash* hash) {
  if (value.size() != chain_head_record_bytes) return false;
  *sequence = LoadU64(value);
  std::memcpy(hash->data(), value.data() + 8, hash_bytes);
  return true;
}

// `default`: the writer's epoch (EventLog::Epoch): u64 epoch, u64 first sequence, then the
// writer's name (the rest of the value). Absent until a promotion or a replica sets it; absent
// reads as epoch 1 from sequence 1 by an unnamed writer.
inline constexpr std::string_view writer_epoch_key = "writer_epoch";

inline std::string EncodeWriterEpochRecord(uint64_t epoch, uint64_t first_sequence,
                                           std::string_view writer) {
  std::string value = EncodeU64(epoch);
  value.append(EncodeU64(first_sequence));
  value.append(writer);
  return value;
}
// False when `value` is shorter than its two numbers.
inline bool DecodeWriterEpochRecord(std::string_view value, uint64_t* epoch,
                                    uint64_t* first_sequence, std::string* writer) {
  if (value.size() < 16) return false;
  *epoch = LoadU64(value);
  *first_sequence = LoadU64(value.substr(8));
  writer->assign(value.substr(16));
  return true;
}

// `default`, §6: a u64, the first sequence of a group being written in parts. Absent except
// between a large group's first and last part.
inline constexpr std::string_view unfinished_group_key = "unfinished_group";
// The unfinished group and index head records are one u64 each.
inline constexpr size_t sequence_record_bytes = 8;

// `blobs`: keyed by the SHA-256 of the stored bytes (at most blob_bytes_max).
inline constexpr size_t blob_key_bytes = hash_bytes;

// ---- §1 The stream index: a database of its own in a subdirectory of log.data_dir ----

inline constexpr std::string_view stream_index_directory = "stream-index";
// §6: where the ingester writes a table file of index entries before the index database takes
// it in; emptied on open.
inline constexpr std::string_view stream_index_ingest_directory = "stream-index-ingest";
// A u64: the last sequence whose stream index entries are applied (§6).
inline constexpr std::string_view index_head_key = "index_head";
// An entry's key is the stream id, this byte, then the u64 stream version; its value is the
// u64 sequence. Stream ids never contain it (§4), so a stream's entries are contiguous.
inline constexpr char stream_index_separator = '\0';
inline constexpr size_t stream_index_value_bytes = 8;
// Past every key the index holds (stream ids and "index_head" are printable ASCII).
inline constexpr std::string_view stream_index_keys_end = "\xff";

// What every key of the stream's entries begins with: the stream id and the separator.
inline std::string StreamIndexPrefix(std::string_view stream_id) {
  std::string prefix(stream_id);
  prefix.push_back(stream_index_separator);
  return prefix;
}

inline std::string StreamIndexKey(std::string_view stream_id, uint64_t version) {
  std::string key = StreamIndexPrefix(stream_id);
  PutU64(&key, version);
  return key;
}

// An entry of a stream whose keys begin with `prefix_bytes` bytes; false when its key or value
// has the wrong size.
inline bool DecodeStreamIndexEntry(std::string_view key, std::string_view value,
                                   size_t prefix_bytes, uint64_t* version, uint64_t* sequence) {
  if (key.size() != prefix_bytes + 8 || value.size() != stream_index_value_bytes) return false;
  *version = LoadU64(key.substr(prefix_bytes));
  *sequence = LoadU64(value);
  return true;
}

// ---- §2 The envelope, the value stored under a sequence in `events` ----

// Byte 0 of every envelope. The log writes the current version; readers decode every version
// they know (§8). A layout or hash-input change takes a new number.
inline constexpr uint8_t envelope_format_version_1 = 1;
inline constexpr uint8_t envelope_format_version_current = envelope_format_version_1;

// The frame every version keeps (§8): byte 0 its version, bytes 1-8 the u64 sequence, and the
// last 64 bytes the previous hash and the hash, after the canonical bytes.
inline constexpr size_t envelope_version_offset = 0;
inline constexpr size_t envelope_sequence_offset = 1;
inline constexpr size_t envelope_frame_head_bytes = 1 + 8;
inline constexpr size_t envelope_hashes_bytes = 2 * hash_bytes;

// The version byte of canonical bytes or a stored value, which is not empty.
inline uint8_t EnvelopeVersion(std::string_view envelope) {
  return uint8_t(envelope[envelope_version_offset]);
}
// The sequence of canonical bytes or a stored value of at least envelope_frame_head_bytes.
inline uint64_t EnvelopeSequence(std::string_view envelope) {
  return LoadU64(envelope.substr(envelope_sequence_offset));
}
// The two hashes of a stored value of at least envelope_hashes_bytes, by position.
inline std::string_view StoredPreviousHash(std::string_view stored) {
  return stored.substr(stored.size() - envelope_hashes_bytes, hash_bytes);
}
inline std::string_view StoredHash(std::string_view stored) {
  return stored.substr(stored.size() - hash_bytes);
}

// Version 1: after the version byte and the sequence, the u64 stream version and the i64
// recorded time; then stream id, type, actor and idempotency key, each a u16 length and its
// bytes; then the payload, a u32 length and its bytes. C = 37 + S + T + A + K + P.
inline constexpr size_t envelope_v1_fixed_bytes = envelope_frame_head_bytes + 8 + 8;
inline constexpr size_t envelope_v1_text_fields = 4;
inline constexpr size_t envelope_v1_text_length_bytes = 2;
inline constexpr size_t envelope_v1_payload_length_bytes = 4;
inline constexpr size_t envelope_v1_canonical_overhead_bytes =
    envelope_v1_fixed_bytes + envelope_v1_text_fields * envelope_v1_text_length_bytes +
    envelope_v1_payload_length_bytes;
static_assert(envelope_v1_canonical_overhead_bytes == 37, "§2: C = 37 + S + T + A + K + P");
static_assert(stream_id_bytes_max <= UINT16_MAX, "stream id length is encoded in 16 bits");
static_assert(event_type_bytes_max <= UINT16_MAX, "event type length is encoded in 16 bits");
static_assert(actor_bytes_max <= UINT16_MAX, "actor length is encoded in 16 bits");
static_assert(idempotency_key_bytes_max <= UINT16_MAX, "key length is encoded in 16 bits");
static_assert(payload_bytes_max <= UINT32_MAX, "payload length is encoded in 32 bits");

// ---- §7 Idempotency records, the values of `idempotency` (keyed by the idempotency key) ----

inline constexpr uint8_t idempotency_record_version_1 = 1;
// Version byte, request digest, u64 first sequence, u32 event count, i64 recorded time.
inline constexpr size_t idempotency_record_bytes = 1 + hash_bytes + 8 + 4 + 8;
static_assert(idempotency_record_bytes == 53, "§7: the record is 53 bytes");

// What the key was used for and what it produced.
struct IdempotencyRecord {
  Hash request_digest{};
  uint64_t first_sequence = 0;
  uint32_t event_count = 0;
  int64_t recorded_at_us = 0;
};

inline std::string EncodeIdempotencyRecord(const IdempotencyRecord& record) {
  std::string out;
  out.reserve(idempotency_record_bytes);
  out.push_back(static_cast<char>(idempotency_record_version_1));
  out.append(HashView(record.request_digest));
  PutU64(&out, record.first_sequence);
  PutU32(&out, record.event_count);
  PutU64(&out, static_cast<uint64_t>(record.recorded_at_us));
  return out;
}

// Nothing when the record has another size or version byte (Corruption to the caller).
inline std::optional<IdempotencyRecord> DecodeIdempotencyRecord(std::string_view bytes) {
  if (bytes.size() != idempotency_record_bytes ||
      uint8_t(bytes[0]) != idempotency_record_version_1) {
    return std::nullopt;
  }
  IdempotencyRecord record;
  std::memcpy(record.request_digest.data(), bytes.data() + 1, hash_bytes);
  record.first_sequence = LoadU64(bytes.substr(1 + hash_bytes));
  record.event_count = static_cast<uint32_t>(LoadBigEndian(bytes.substr(1 + hash_bytes + 8, 4)));
  record.recorded_at_us = static_cast<int64_t>(LoadU64(bytes.substr(1 + hash_bytes + 12)));
  return record;
}

// §7 default request digest: L(x), the u64 length of `x` followed by `x`.
inline void PutLengthPrefixed64(std::string* out, std::string_view bytes) {
  PutU64(out, bytes.size());
  out->append(bytes);
}

}  // namespace malpro
