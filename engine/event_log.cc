#include "engine/event_log.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <simdjson.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <set>
#include <shared_mutex>

#include "engine/assert.h"
#include "engine/error_codes.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

constexpr char kEventsColumn[] = "events";
// Before the stream index had its own database, it was this column family of the log's;
// kept (empty) so that such directories open, and read when a read-only open finds no index
// database yet.
constexpr char kStreamIndexColumn[] = "stream_index";
// The stream index's own RocksDB database, inside the data directory.
constexpr char kStreamIndexDirectory[] = "stream-index";
// Where the ingester writes a table file of index entries before the index database takes
// it in; emptied on open.
constexpr char kStreamIndexIngestDirectory[] = "stream-index-ingest";
// Past every key the index holds (stream ids and "index_head" are printable ASCII).
constexpr char kIndexKeysEnd[] = "\xff";
// What a part's batch reserves: a part, plus the envelope that takes it past write_part_bytes.
constexpr size_t kPartBatchBytes = write_part_bytes + write_part_bytes / 4;
// An envelope's bytes besides its payload, roughly (fields, hashes, batch record), for sizing.
constexpr size_t kEnvelopeBytesBesidesPayload = 160;
constexpr char kIdempotencyColumn[] = "idempotency";
constexpr char kBlobsColumn[] = "blobs";
constexpr char kHeadKey[] = "chain_head";
constexpr char kIndexHeadKey[] = "index_head";
// Present while a group is written in parts: the sequence of its first event.
constexpr char kUnfinishedGroupKey[] = "unfinished_group";
constexpr uint8_t kIdempotencyRecordVersion = 1;
constexpr size_t kIdempotencyRecordBytes = 1 + hash_bytes + 8 + 4 + 8;
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000 * 1000;
constexpr uint64_t kVerifyProgressEvery = 65536;
// Verify reads this many events at a time, checking their order, layout and links in order,
// and recomputes their hashes on a second thread while it reads the next ones (each event's
// hash depends only on what is stored with it).
constexpr size_t kVerifyChunkEvents = 8192;
// A last chunk smaller than this is hashed on the reading thread alone.
constexpr size_t kVerifyParallelEventsMin = 512;

// An event Verify has read whose hash is yet to be recomputed.
struct HashCheck {
  size_t offset = 0;  // of its canonical encoding, in the chunk's bytes
  size_t canonical_bytes = 0;
  Hash previous;
  Hash stored;
};

// The first of checks[begin, end) whose recomputed hash differs from the stored one, or end.
size_t FirstBadHash(const std::string& bytes, const std::vector<HashCheck>& checks, size_t begin,
                    size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const HashCheck& check = checks[i];
    const std::string_view canonical(bytes.data() + check.offset, check.canonical_bytes);
    if (ComputeEventHash(check.previous, canonical) != check.stored) return i;
  }
  return end;
}

// The stream index's threads yield the CPU to the write path (nice levels; best effort).
void LowerThisThreadsPriority() {
  const auto thread = static_cast<id_t>(gettid());
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, thread);
  if (errno == 0) {
    setpriority(PRIO_PROCESS, thread, std::min(nice + indexer_nice_increment, 19));
  }
}

int64_t SystemClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string EncodeU64(uint64_t value) { return SequenceKey(value); }

// Big-endian, like SequenceKey, into a caller's 8 bytes.
void StoreU64(char* out, uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

uint64_t DecodeU64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) value = value << 8 | uint8_t(bytes[i]);
  return value;
}

std::string StreamIndexKey(std::string_view stream_id, uint64_t version) {
  std::string key(stream_id);
  key.push_back('\0');
  key.append(EncodeU64(version));
  return key;
}

Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(message);
  return Status::IOError(message);
}

// The idempotency record: what the key was used for and what it produced.
struct IdempotencyRecord {
  Hash request_digest{};
  uint64_t first_sequence = 0;
  uint32_t event_count = 0;
  int64_t recorded_at_us = 0;
};

std::string EncodeIdempotencyRecord(const IdempotencyRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kIdempotencyRecordVersion));
  out.append(HashView(record.request_digest));
  out.append(EncodeU64(record.first_sequence));
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(record.event_count >> shift));
  }
  out.append(EncodeU64(static_cast<uint64_t>(record.recorded_at_us)));
  return out;
}

std::optional<IdempotencyRecord> DecodeIdempotencyRecord(std::string_view bytes) {
  if (bytes.size() != kIdempotencyRecordBytes || uint8_t(bytes[0]) != kIdempotencyRecordVersion) {
    return std::nullopt;
  }
  IdempotencyRecord record;
  std::copy_n(bytes.begin() + 1, hash_bytes, record.request_digest.begin());
  record.first_sequence = DecodeU64(bytes.substr(1 + hash_bytes, 8));
  record.event_count = static_cast<uint32_t>(DecodeU64(bytes.substr(1 + hash_bytes + 8, 4)));
  record.recorded_at_us = static_cast<int64_t>(DecodeU64(bytes.substr(1 + hash_bytes + 12, 8)));
  return record;
}

// Drops idempotency records older than the retention during compaction.
class IdempotencyRetentionFilter : public rocksdb::CompactionFilter {
 public:
  IdempotencyRetentionFilter(std::function<int64_t()> clock, int64_t retention_days)
      : clock_(std::move(clock)), retention_us_(retention_days * kMicrosPerDay) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    auto record = DecodeIdempotencyRecord(std::string_view(value.data(), value.size()));
    return record && record->recorded_at_us < clock_() - retention_us_;
  }
  const char* Name() const override { return "malpro.IdempotencyRetentionFilter"; }

 private:
  std::function<int64_t()> clock_;
  int64_t retention_us_;
};

// The stream id part of an index key: everything before the first 0x00, or the whole key.
// Index memtables hash on it, so that an insert walks only that stream's entries.
class StreamIdPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "malpro.StreamIdPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* end = std::memchr(key.data(), '\0', key.size());
    return end == nullptr ? key
                          : rocksdb::Slice(key.data(), static_cast<const char*>(end) - key.data());
  }
  bool InDomain(const rocksdb::Slice& /*key*/) const override { return true; }
};

// Identifiers are printable ASCII from a small alphabet so that they are safe as keys, in
// file names and in URLs.
bool IsIdentifierChar(char c, bool allow_upper) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == ':' || (allow_upper && c >= 'A' && c <= 'Z');
}

// The codes an identifier's three refusals carry.
struct IdentifierCodes {
  std::string_view missing;
  std::string_view too_long;
  std::string_view invalid;
};
constexpr IdentifierCodes stream_id_codes{errc::kStreamIdMissing, errc::kStreamIdTooLong,
                                          errc::kStreamIdInvalid};
constexpr IdentifierCodes event_type_codes{errc::kEventTypeMissing, errc::kEventTypeTooLong,
                                           errc::kEventTypeInvalid};
constexpr IdentifierCodes actor_codes{errc::kActorMissing, errc::kActorTooLong,
                                      errc::kActorInvalid};
constexpr IdentifierCodes idempotency_key_codes{
    errc::kIdempotencyKeyMissing, errc::kIdempotencyKeyTooLong, errc::kIdempotencyKeyInvalid};

Status CheckIdentifier(std::string_view value, size_t bytes_max, bool allow_upper,
                       std::string_view field, const IdentifierCodes& codes) {
  if (value.empty()) {
    return Status::InvalidArgument(codes.missing, field,
                                   std::string(field) + " is required");
  }
  if (value.size() > bytes_max) {
    return Status::LimitExceeded(codes.too_long, field,
                                 std::string(field) + " is longer than " +
                                     std::to_string(bytes_max) + " bytes");
  }
  for (char c : value) {
    if (!IsIdentifierChar(c, allow_upper)) {
      return Status::InvalidArgument(
          codes.invalid, field,
          std::string(field) + " may only contain " +
              (allow_upper ? "letters" : "lowercase letters") + ", digits and - _ . :");
    }
  }
  return Status::Ok();
}

Status CheckPayloadSize(std::string_view payload, std::string_view field) {
  if (payload.size() > payload_bytes_max) {
    return Status::LimitExceeded(errc::kPayloadTooLarge, field,
                                 std::string(field) + " is larger than " +
                                     std::to_string(payload_bytes_max) + " bytes");
  }
  return Status::Ok();
}

// That the payload is one minified JSON object.
Status CheckPayloadJson(std::string_view payload, std::string_view field) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(payload.data(), payload.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kPayloadNotJson, field,
                                   std::string(field) + " must be valid JSON");
  }
  if (!root.is_object()) {
    return Status::InvalidArgument(errc::kPayloadNotObject, field,
                                   std::string(field) + " must be a JSON object");
  }
  // Valid JSON without a single whitespace byte is minified; only a payload with some needs
  // the full check (its whitespace may all be inside strings).
  if (std::memchr(payload.data(), ' ', payload.size()) == nullptr &&
      std::memchr(payload.data(), '\n', payload.size()) == nullptr &&
      std::memchr(payload.data(), '\t', payload.size()) == nullptr &&
      std::memchr(payload.data(), '\r', payload.size()) == nullptr) {
    return Status::Ok();
  }
  thread_local std::string minified;
  minified.resize(payload.size());
  size_t minified_size = 0;
  if (simdjson::minify(payload.data(), payload.size(), minified.data(), minified_size) !=
          simdjson::SUCCESS ||
      minified_size != payload.size()) {
    return Status::InvalidArgument(errc::kPayloadNotMinified, field,
                                   std::string(field) + " must be minified JSON (no whitespace "
                                                        "outside strings)");
  }
  return Status::Ok();
}

std::string IndexedField(std::string_view name, size_t index, std::string_view member) {
  return std::string(name) + "[" + std::to_string(index) + "]." + std::string(member);
}

// That each payload is a minified JSON object, the costly part of checking a request.
Status CheckPayloads(const AppendRequest& request) {
  for (size_t i = 0; i < request.events.size(); ++i) {
    if (!CheckPayloadJson(request.events[i].payload, "payload").ok()) {
      return CheckPayloadJson(request.events[i].payload, IndexedField("events", i, "payload"));
    }
  }
  return Status::Ok();
}

// Checks everything about a request that does not depend on the log's state but the JSON of
// its payloads (CheckPayloads). Runs on the caller's thread so that the writer only does what
// must be serial.
Status ValidateRequest(const AppendRequest& request, size_t* payload_bytes) {
  if (request.events.empty()) {
    return Status::InvalidArgument(errc::kEventsMissing, "events", "a command writes at least one event");
  }
  if (request.events.size() > command_events_max) {
    return Status::LimitExceeded(errc::kTooManyEvents, "events",
                                 "a command writes at most " +
                                     std::to_string(command_events_max) + " events");
  }
  if (request.expectations.size() > command_streams_max) {
    return Status::LimitExceeded(errc::kTooManyExpectations, "expectations",
                                 "a command checks at most " +
                                     std::to_string(command_streams_max) + " streams");
  }
  MALPRO_RETURN_IF_ERROR(CheckIdentifier(request.actor, actor_bytes_max, true, "actor", actor_codes));
  if (!request.idempotency_key.empty()) {
    MALPRO_RETURN_IF_ERROR(CheckIdentifier(request.idempotency_key, idempotency_key_bytes_max,
                                           true, "idempotency_key", idempotency_key_codes));
  }
  size_t total = 0;
  for (size_t i = 0; i < request.events.size(); ++i) {
    // Checked with a plain field name first; only an error pays for the indexed one.
    const ProposedEvent& event = request.events[i];
    if (!CheckIdentifier(event.stream_id, stream_id_bytes_max, false, "stream_id", stream_id_codes)
             .ok()) {
      return CheckIdentifier(event.stream_id, stream_id_bytes_max, false,
                             IndexedField("events", i, "stream_id"), stream_id_codes);
    }
    if (!CheckIdentifier(event.type, event_type_bytes_max, false, "type", event_type_codes).ok()) {
      return CheckIdentifier(event.type, event_type_bytes_max, false,
                             IndexedField("events", i, "type"), event_type_codes);
    }
    if (!CheckPayloadSize(event.payload, "payload").ok()) {
      return CheckPayloadSize(event.payload, IndexedField("events", i, "payload"));
    }
    total += event.payload.size();
  }
  if (total > command_payload_bytes_max) {
    return Status::LimitExceeded(errc::kCommandTooLarge, "events",
                                 "a command carries at most " +
                                     std::to_string(command_payload_bytes_max) +
                                     " bytes of payload");
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < request.expectations.size(); ++i) {
    const std::string field = IndexedField("expectations", i, "stream_id");
    MALPRO_RETURN_IF_ERROR(CheckIdentifier(request.expectations[i].stream_id, stream_id_bytes_max,
                                           false, field, stream_id_codes));
    if (!seen.insert(request.expectations[i].stream_id).second) {
      return Status::InvalidArgument(errc::kExpectationDuplicate, field,
                                     "each stream may be expected at one version only");
    }
  }
  *payload_bytes = total;
  return Status::Ok();
}

void AppendLengthPrefixed(std::string* out, std::string_view bytes) {
  out->append(EncodeU64(bytes.size()));
  out->append(bytes);
}

}  // namespace

struct EventLog::Columns {
  rocksdb::ColumnFamilyHandle* head = nullptr;  // the default column family
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* stream_index = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency = nullptr;
  rocksdb::ColumnFamilyHandle* blobs = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  // Where the stream index lives: its own database, whose default column family holds the
  // entries and the index_head record.
  rocksdb::DB* index_db = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* index_head = nullptr;
};

// The JSON check of a large command's payloads, which its caller runs while the writer
// already stages the command (but writes none of it before the check is done).
struct PayloadCheck {
  std::atomic<int> state{0};  // 0 running, 1 passed, 2 failed
  Status error;               // set before state becomes 2

  void Publish(Status status) {
    const bool passed = status.ok();
    error = std::move(status);
    state.store(passed ? 1 : 2, std::memory_order_release);
    state.notify_all();
  }
  Status Await() {
    int now = state.load(std::memory_order_acquire);
    while (now == 0) {
      state.wait(0, std::memory_order_acquire);
      now = state.load(std::memory_order_acquire);
    }
    return now == 1 ? Status::Ok() : error;
  }
};

struct EventLog::PendingIndex {
  struct Entry {
    uint64_t version = 0;
    uint64_t sequence = 0;
  };
  // Each stream's entries in version order; every one is past what the database holds for
  // the stream, and the sealed entries' are before the ones being filled.
  std::unordered_map<std::string, std::vector<Entry>, StringHash, std::equal_to<>> streams;
  size_t entries = 0;
  uint64_t last_sequence = 0;  // the index head once these are in the database

  void Add(std::string_view stream_id, uint64_t version, uint64_t sequence) {
    auto found = streams.find(stream_id);
    if (found == streams.end()) {
      found = streams.emplace(std::string(stream_id), std::vector<Entry>()).first;
    }
    found->second.push_back({version, sequence});
    ++entries;
  }
  void Add(const IndexEntries& group);

  const std::vector<Entry>* Find(std::string_view stream_id) const {
    auto found = streams.find(stream_id);
    return found == streams.end() ? nullptr : &found->second;
  }

  // Appends the stream's entries from version `from` on to `out`, until it holds `limit`.
  void Collect(std::string_view stream_id, uint64_t from, size_t limit,
               std::vector<Entry>* out) const {
    const std::vector<Entry>* stream = Find(stream_id);
    if (stream == nullptr) return;
    auto first = std::lower_bound(stream->begin(), stream->end(), from,
                                  [](const Entry& entry, uint64_t v) { return entry.version < v; });
    for (; first != stream->end() && out->size() < limit; ++first) out->push_back(*first);
  }
};

// A group's stream index entries, as the writer stages them, for the indexer.
struct EventLog::IndexEntries {
  struct Entry {
    size_t stream_offset = 0;  // in `stream_ids`
    size_t stream_bytes = 0;
    uint64_t version = 0;
    uint64_t sequence = 0;
  };
  std::string stream_ids;  // one after the other
  std::vector<Entry> entries;
  size_t saved_stream_bytes = 0;
  size_t saved_entries = 0;

  void Add(std::string_view stream_id, uint64_t version, uint64_t sequence) {
    entries.push_back({stream_ids.size(), stream_id.size(), version, sequence});
    stream_ids.append(stream_id);
  }
  std::string_view StreamId(const Entry& entry) const {
    return std::string_view(stream_ids).substr(entry.stream_offset, entry.stream_bytes);
  }
  void SetSavePoint() {
    saved_stream_bytes = stream_ids.size();
    saved_entries = entries.size();
  }
  void RollbackToSavePoint() {
    stream_ids.resize(saved_stream_bytes);
    entries.resize(saved_entries);
  }
  size_t Count() const { return entries.size(); }
};

void EventLog::PendingIndex::Add(const IndexEntries& group) {
  for (const IndexEntries::Entry& entry : group.entries) {
    Add(group.StreamId(entry), entry.version, entry.sequence);
  }
}

namespace {

// Set while an AppendAsync completion runs. The documented rule (event_log.h) is that a
// completion never calls into the log: it may run on the syncer's thread, which the log needs
// in order to answer anything, so such a call could wait for itself.
thread_local bool in_append_completion = false;

}  // namespace

struct EventLog::PendingAppend {
  AppendRequest request;
  Hash request_digest{};
  size_t payload_bytes = 0;
  std::shared_ptr<PayloadCheck> payload_check;  // set when checked while staged
  std::promise<Result<AppendResult>> promise;  // Append waits on it
  AppendDone done;                             // AppendAsync's instead of the promise
  bool finished = false;                       // each append is answered exactly once

  void Finish(Result<AppendResult> result) {
    MALPRO_ASSERT(!finished);
    finished = true;
    if (done) {
      in_append_completion = true;
      done(std::move(result));
      in_append_completion = false;
    } else {
      promise.set_value(std::move(result));
    }
  }
};

// What the commands of one group have staged but not yet made durable.
struct EventLog::GroupState {
  ChainHead head;
  uint64_t first_sequence = 0;
  int64_t recorded_at_us = 0;
  std::unordered_map<std::string, IdempotencyRecord> idempotency;
  // Scratch space reused by every command of the group.
  std::vector<uint64_t*> event_versions;
  std::string value_buffer;
  std::unique_ptr<rocksdb::WriteBatch> batch;  // the part being staged
  bool parted = false;                         // a part has been sent to be written
  IndexEntries* index_entries = nullptr;  // the stream index entries, for the indexer
};

// A group the writer has handed to the syncer: what it wrote, if anything, and the answer
// of each of its commands, given once what it wrote is durable.
struct EventLog::WrittenGroup {
  std::vector<std::pair<std::unique_ptr<PendingAppend>, Result<AppendResult>>> answers;
  bool wrote = false;
  ChainHead head;  // after the group, when it wrote
  uint64_t commands_appended = 0;
  uint64_t events_appended = 0;
  std::unique_ptr<IndexEntries> index_entries;
};

// What the writer hands on to be written: a part of a group's batch, and with the group's last
// part the group itself, for the syncer.
struct EventLog::Part {
  std::unique_ptr<rocksdb::WriteBatch> batch;  // null when the group wrote nothing
  std::optional<WrittenGroup> group;           // set on the group's last part
};

EventLog::EventLog(LogOptions options) : options_(std::move(options)) {}

std::vector<std::string> EventLog::ColumnFamilyNames() {
  return {rocksdb::kDefaultColumnFamilyName, kEventsColumn, kStreamIndexColumn, kIdempotencyColumn,
          kBlobsColumn};
}

Hash EventLog::DefaultRequestDigest(const AppendRequest& request) {
  std::string material;
  AppendLengthPrefixed(&material, request.actor);
  material.append(EncodeU64(request.expectations.size()));
  for (const StreamExpectation& expectation : request.expectations) {
    AppendLengthPrefixed(&material, expectation.stream_id);
    material.append(EncodeU64(expectation.version));
  }
  material.append(EncodeU64(request.events.size()));
  for (const ProposedEvent& event : request.events) {
    AppendLengthPrefixed(&material, event.stream_id);
    AppendLengthPrefixed(&material, event.type);
    AppendLengthPrefixed(&material, event.payload);
  }
  return Sha256(material);
}

Result<std::unique_ptr<EventLog>> EventLog::Open(LogOptions options) {
  if (options.idempotency_retention_days < idempotency_retention_days_min) {
    return Status::InvalidArgument(errc::kRetentionTooShort, "log.idempotency_retention_days",
                                   "idempotency keys must be kept at least " +
                                       std::to_string(idempotency_retention_days_min) + " days");
  }
  if (options.idempotency_retention_days > idempotency_retention_days_max) {
    return Status::InvalidArgument(errc::kRetentionTooLong, "log.idempotency_retention_days",
                                   "idempotency keys are kept at most " +
                                       std::to_string(idempotency_retention_days_max) + " days");
  }
  if (!options.clock) options.clock = SystemClockMicros;
  std::unique_ptr<EventLog> log(new EventLog(std::move(options)));
  MALPRO_RETURN_IF_ERROR(log->OpenDatabase());
  MALPRO_RETURN_IF_ERROR(log->LoadHead());
  if (!log->options_.read_only) MALPRO_RETURN_IF_ERROR(log->RemoveUnfinishedGroup());
  if (log->options_.check_on_open) MALPRO_RETURN_IF_ERROR(log->CheckTail());
  if (!log->options_.read_only) {
    MALPRO_RETURN_IF_ERROR(log->CatchUpIndex());
    log->written_head_ = log->head_;
    log->written_sequence_ = log->head_.sequence;
    log->put_sequence_ = log->head_.sequence;
    log->pending_index_ = std::make_unique<PendingIndex>();
    log->ingester_ = std::thread([raw = log.get()] { raw->IngesterLoop(); });
    log->indexer_ = std::thread([raw = log.get()] { raw->IndexerLoop(); });
    log->syncer_ = std::thread([raw = log.get()] { raw->SyncerLoop(); });
    log->putter_ = std::thread([raw = log.get()] { raw->PutterLoop(); });
    log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  }
  return log;
}

Status EventLog::OpenDatabase() {
  rocksdb::Options db_options;
  db_options.create_if_missing = !options_.read_only;
  db_options.create_missing_column_families = !options_.read_only;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  db_options.max_total_wal_size = wal_bytes_max;
  if (options_.env != nullptr) db_options.env = options_.env;

  // One thread writes at a time; the hashed idempotency memtables and the stream index's
  // insert hints do not take concurrent inserts.
  db_options.allow_concurrent_memtable_write = false;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions column_options;
  column_options.write_buffer_size = options_.write_buffer_bytes;
  column_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // The events are keyed by sequence, so each table file holds its own range of keys and a
  // lookup finds its file by the file's key range alone: a bloom filter would only cost CPU
  // at every flush and compaction.
  rocksdb::ColumnFamilyOptions events_options = column_options;
  rocksdb::BlockBasedTableOptions events_table = table;
  events_table.filter_policy.reset();
  events_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(events_table));

  // The stream index takes one entry per event at a random place (by stream) but in order
  // within a stream: a skiplist memtable with an insert hint per stream id puts each stream's
  // next version where its last one went. Large memtables and a later L0 trigger keep the
  // number of times an entry is rewritten by compaction low.
  rocksdb::ColumnFamilyOptions index_options = column_options;
  index_options.write_buffer_size = stream_index_write_buffer_bytes;
  index_options.level0_file_num_compaction_trigger = stream_index_level0_files;
  index_options.compression = rocksdb::kNoCompression;  // small keys and values; saves flush CPU
  index_options.prefix_extractor = std::make_shared<StreamIdPrefix>();
  index_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamIdPrefix>();

  // Idempotency keys are random and have no order within: hashed memtables, small enough
  // that their skiplists stay in the CPU cache.
  rocksdb::ColumnFamilyOptions idempotency_options = column_options;
  idempotency_options.write_buffer_size = idempotency_write_buffer_bytes;
  idempotency_options.compression = rocksdb::kNoCompression;
  idempotency_options.prefix_extractor = std::make_shared<StreamIdPrefix>();
  idempotency_options.memtable_factory.reset(
      rocksdb::NewHashSkipListRepFactory(index_memtable_buckets));
  retention_filter_ = std::make_unique<IdempotencyRetentionFilter>(
      options_.clock, options_.idempotency_retention_days);
  idempotency_options.compaction_filter = retention_filter_.get();

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : ColumnFamilyNames()) {
    descriptors.emplace_back(name, name == kIdempotencyColumn ? idempotency_options
                                   : name == kEventsColumn    ? events_options
                                                              : column_options);
  }
  if (!options_.read_only) {
    std::error_code error;
    std::filesystem::create_directories(options_.data_dir, error);
    if (error) return Status::IOError("cannot create " + options_.data_dir + ": " + error.message());
  }
  if (options_.read_only && !std::filesystem::exists(options_.data_dir + "/CURRENT")) {
    return Status::NotFound(errc::kLogNotFound, "log.data_dir", "no log at " + options_.data_dir);
  }
  columns_ = std::make_unique<Columns>();
  rocksdb::DB* db = nullptr;
  rocksdb::Status status =
      options_.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options_.data_dir, descriptors, &columns_->all, &db)
          : rocksdb::DB::Open(db_options, options_.data_dir, descriptors, &columns_->all, &db);
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "open " + options_.data_dir));
  db_.reset(db);
  columns_->head = columns_->all[0];
  columns_->events = columns_->all[1];
  columns_->stream_index = columns_->all[2];
  columns_->idempotency = columns_->all[3];
  columns_->blobs = columns_->all[4];
  index_db_options_ = std::make_unique<rocksdb::Options>(db_options, index_options);
  // A read-only open (an audit) opens the index only for its first stream read.
  return options_.read_only ? Status::Ok() : OpenIndex();
}

// The stream index is derived data with a write-ahead log of its own: its writes never wait
// in the log's write queue (RocksDB writes one batch at a time per database), and the log's
// write-ahead log carries only what must be synced.
Status EventLog::OpenIndex() const {
  const rocksdb::Options& index_db_options = *index_db_options_;
  const std::string path = options_.data_dir + "/" + kStreamIndexDirectory;
  if (options_.read_only && !std::filesystem::exists(path + "/CURRENT")) {
    // Last written by a version that kept the index in the log's own column family.
    columns_->index_db = db_.get();
    columns_->index = columns_->stream_index;
    columns_->index_head = columns_->head;
    return Status::Ok();
  }
  if (!options_.read_only) {
    const std::string ingest_path = options_.data_dir + "/" + kStreamIndexIngestDirectory;
    std::error_code error;
    std::filesystem::remove_all(ingest_path, error);  // a table file a crash left behind
    if (!error) std::filesystem::create_directories(ingest_path, error);
    if (error) return Status::IOError("cannot prepare " + ingest_path + ": " + error.message());
  }
  rocksdb::DB* db = nullptr;
  MALPRO_RETURN_IF_ERROR(FromRocks(
      options_.read_only ? rocksdb::DB::OpenForReadOnly(index_db_options, path, &db)
                         : rocksdb::DB::Open(index_db_options, path, &db),
      "open " + path));
  index_db_.reset(db);
  columns_->index_db = db;
  columns_->index = db->DefaultColumnFamily();
  columns_->index_head = db->DefaultColumnFamily();
  if (options_.read_only) return Status::Ok();
  // An index left in the log's column family by an earlier version: emptied, the new one is
  // built from the log when the log opens.
  std::unique_ptr<rocksdb::Iterator> legacy(
      db_->NewIterator(rocksdb::ReadOptions(), columns_->stream_index));
  legacy->SeekToFirst();
  MALPRO_RETURN_IF_ERROR(FromRocks(legacy->status(), "read the old stream index"));
  if (legacy->Valid()) {
    legacy.reset();
    rocksdb::WriteBatch batch;
    batch.DeleteRange(columns_->stream_index, rocksdb::Slice(), rocksdb::Slice(kIndexKeysEnd));
    batch.Delete(columns_->head, kIndexHeadKey);
    MALPRO_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                                     "empty the old stream index"));
  }
  return Status::Ok();
}

Status EventLog::LoadHead() {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->head, kHeadKey, &value);
  std::unique_ptr<rocksdb::Iterator> last(db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
  last->SeekToLast();
  MALPRO_RETURN_IF_ERROR(FromRocks(last->status(), "read log tail"));
  if (status.IsNotFound()) {
    if (!last->Valid()) return Status::Ok();
    Result<std::optional<uint64_t>> unfinished = UnfinishedGroup();
    if (!unfinished.ok()) return unfinished.status();
    if (*unfinished == uint64_t{1}) return Status::Ok();  // the first group, cut short
    if (options_.check_on_open) {
      return Status::Corruption("events exist but the chain head record is missing");
    }
    head_missing_ = true;  // Verify reports it
    uint64_t last_sequence = 0;
    ParseSequenceKey(std::string_view(last->key().data(), last->key().size()), &last_sequence);
    head_.sequence = last_sequence;
    return Status::Ok();
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read chain head"));
  if (value.size() != 8 + hash_bytes) return Status::Corruption("chain head record has a bad size");
  head_.sequence = DecodeU64(value);
  std::copy_n(value.begin() + 8, hash_bytes, head_.hash.begin());
  if (last->Valid()) {
    Result<Event> event = DecodeEnvelope(std::string_view(last->value().data(), last->value().size()));
    if (event.ok()) last_recorded_at_us_ = event->recorded_at_us;
  }
  return Status::Ok();
}

Result<std::optional<uint64_t>> EventLog::UnfinishedGroup() const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), columns_->head, kUnfinishedGroupKey, &value);
  if (status.IsNotFound()) return std::optional<uint64_t>();
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read unfinished group record"));
  if (value.size() != 8) return Status::Corruption("unfinished group record has a bad size");
  return std::optional<uint64_t>(DecodeU64(value));
}

Result<uint64_t> EventLog::CheckUnfinishedEvents() const {
  std::unique_ptr<rocksdb::Iterator> last(
      db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
  last->SeekToLast();
  MALPRO_RETURN_IF_ERROR(FromRocks(last->status(), "read log tail"));
  uint64_t last_sequence = 0;
  if (!last->Valid() ||
      !ParseSequenceKey(std::string_view(last->key().data(), last->key().size()), &last_sequence) ||
      last_sequence <= head_.sequence) {
    return uint64_t{0};
  }
  // The events of a group cut short continue the chain from the head record: the first links
  // to the head's hash (or to the zero hash on an empty log), each next to the one before.
  Result<VerifyReport> tail = Verify(head_.sequence + 1, last_sequence);
  if (!tail.ok()) return tail.status();
  if (!tail->ok) {
    return Status::Corruption("event " + std::to_string(tail->first_bad_sequence) +
                              " after the chain head record does not continue its chain: " +
                              tail->problem);
  }
  if (head_.sequence > 0) {
    std::string first;
    MALPRO_RETURN_IF_ERROR(FromRocks(db_->Get(rocksdb::ReadOptions(), columns_->events,
                                              SequenceKey(head_.sequence + 1), &first),
                                     "read unfinished group"));
    if (first.size() < 2 * hash_bytes ||
        std::string_view(first).substr(first.size() - 2 * hash_bytes, hash_bytes) !=
            HashView(head_.hash)) {
      return Status::Corruption("event " + std::to_string(head_.sequence + 1) +
                                " after the chain head record does not link to its hash");
    }
  }
  return last_sequence - head_.sequence;
}

Status EventLog::RemoveUnfinishedGroup() {
  Result<std::optional<uint64_t>> unfinished = UnfinishedGroup();
  if (!unfinished.ok()) return unfinished.status();
  if (!unfinished->has_value()) return Status::Ok();
  if (**unfinished != head_.sequence + 1) {
    return Status::Corruption("the unfinished group record says the group starts at " +
                              std::to_string(**unfinished) + ", but the chain head record is at " +
                              std::to_string(head_.sequence));
  }
  Result<uint64_t> count = CheckUnfinishedEvents();
  if (!count.ok()) return count.status();
  // Nothing of the group was acknowledged: its answers waited for the head record.
  rocksdb::WriteBatch batch;
  if (*count > 0) {
    batch.DeleteRange(columns_->events, SequenceKey(head_.sequence + 1),
                      SequenceKey(head_.sequence + *count + 1));
  }
  batch.Delete(columns_->head, kUnfinishedGroupKey);
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  MALPRO_RETURN_IF_ERROR(FromRocks(db_->Write(write_options, &batch), "remove unfinished group"));
  counters_.unfinished_events_removed = *count;
  last_recorded_at_us_ = 0;
  if (head_.sequence > 0) {
    std::string value;
    MALPRO_RETURN_IF_ERROR(FromRocks(
        db_->Get(rocksdb::ReadOptions(), columns_->events, SequenceKey(head_.sequence), &value),
        "read the head event"));
    Result<Event> event = DecodeEnvelope(value);
    if (event.ok()) last_recorded_at_us_ = event->recorded_at_us;
  }
  return Status::Ok();
}

Status EventLog::CheckTail() {
  std::unique_ptr<rocksdb::Iterator> last(db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
  last->SeekToLast();
  uint64_t last_sequence = 0;
  if (last->Valid() && !ParseSequenceKey(std::string_view(last->key().data(), last->key().size()),
                                         &last_sequence)) {
    return Status::Corruption("the last key of the log is not an 8-byte sequence");
  }
  if (last_sequence != head_.sequence) {
    return Status::Corruption("the chain head record says " + std::to_string(head_.sequence) +
                              " but the last event is " + std::to_string(last_sequence));
  }
  if (head_.sequence == 0) return Status::Ok();
  const uint64_t from = head_.sequence > open_verify_tail_events
                            ? head_.sequence - open_verify_tail_events + 1
                            : 1;
  Result<VerifyReport> report = Verify(from, head_.sequence);
  if (!report.ok()) return report.status();
  if (!report->ok) {
    return Status::Corruption("tail check failed at sequence " +
                              std::to_string(report->first_bad_sequence) + ": " + report->problem);
  }
  if (report->verified_head.hash != head_.hash) {
    return Status::Corruption("the chain head record's hash differs from the last event's hash");
  }
  return Status::Ok();
}

EventLog::~EventLog() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_not_empty_.notify_all();
  queue_not_full_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(put_mutex_);
    put_stopping_ = true;  // after the writer: the putter writes what the writer handed over
  }
  put_work_ready_.notify_all();
  if (putter_.joinable()) putter_.join();
  {
    std::lock_guard lock(sync_mutex_);
    sync_stopping_ = true;  // after the writer: the syncer drains what the writer handed over
  }
  sync_work_ready_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  {
    std::lock_guard lock(index_mutex_);
    index_stopping_ = true;  // after the syncer: the indexer drains what the syncer queued
  }
  index_work_ready_.notify_all();
  if (indexer_.joinable()) indexer_.join();
  {
    std::lock_guard lock(pending_index_mutex_);
    ingest_stopping_ = true;  // after the indexer: the ingester ingests what the indexer sealed
  }
  index_sealed_.notify_all();
  if (ingester_.joinable()) ingester_.join();
  if (index_db_) index_db_->Close().PermitUncheckedError();
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* handle : columns_->all) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }
}

int64_t EventLog::Now() const { return options_.clock(); }

Status EventLog::Enqueue(AppendRequest request, std::unique_ptr<PendingAppend> pending) {
  MALPRO_ASSERT(!in_append_completion);
  if (options_.read_only) {
    return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  }
  MALPRO_RETURN_IF_ERROR(ValidateRequest(request, &pending->payload_bytes));
  // A large command's payloads are checked after it is queued, while the writer stages it.
  std::shared_ptr<PayloadCheck> check;
  if (request.events.size() >= overlapped_check_events_min) {
    check = std::make_shared<PayloadCheck>();
    pending->payload_check = check;
  } else {
    MALPRO_RETURN_IF_ERROR(CheckPayloads(request));
  }
  if (!request.idempotency_key.empty()) {  // the digest matters only with a key
    pending->request_digest =
        request.request_digest ? *request.request_digest : DefaultRequestDigest(request);
  }
  pending->request = std::move(request);
  const AppendRequest& queued = pending->request;  // the writer only reads it from here on
  {
    std::unique_lock lock(queue_mutex_);
    queue_not_full_.wait(lock, [&] {
      return stopping_ || !failed_.ok() || queue_.size() < append_queue_commands_max;
    });
    if (stopping_) return Status::Unavailable(errc::kLogClosed, "the log is closing");
    if (!failed_.ok()) return failed_;
    queue_.push_back(std::move(pending));
  }
  queue_not_empty_.notify_one();
  // The writer answers the command; `queued` lives until then, and the answer waits for this.
  if (check) check->Publish(CheckPayloads(queued));
  return Status::Ok();
}

Result<AppendResult> EventLog::Append(AppendRequest request) {
  auto pending = std::make_unique<PendingAppend>();
  std::future<Result<AppendResult>> done = pending->promise.get_future();
  MALPRO_RETURN_IF_ERROR(Enqueue(std::move(request), std::move(pending)));
  return done.get();
}

void EventLog::AppendAsync(AppendRequest request, AppendDone done) {
  auto pending = std::make_unique<PendingAppend>();
  pending->done = done;
  Status queued = Enqueue(std::move(request), std::move(pending));
  if (!queued.ok()) done(std::move(queued));  // refused before the queue: nothing written
}

std::vector<std::unique_ptr<EventLog::PendingAppend>> EventLog::TakeGroup() {
  std::vector<std::unique_ptr<PendingAppend>> group;
  std::unique_lock lock(queue_mutex_);
  queue_not_empty_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  size_t payload_bytes = 0;
  while (!queue_.empty() && group.size() < group_commands_max &&
         payload_bytes + queue_.front()->payload_bytes <= group_payload_bytes_max) {
    payload_bytes += queue_.front()->payload_bytes;
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  lock.unlock();
  queue_not_full_.notify_all();
  return group;
}

void EventLog::WriterLoop() {
  while (true) {
    std::vector<std::unique_ptr<PendingAppend>> group = TakeGroup();
    if (group.empty()) return;  // stopping and drained
    CommitGroup(group);
  }
}

void EventLog::CommitGroup(std::vector<std::unique_ptr<PendingAppend>>& group) {
  Status failed;
  {
    std::lock_guard lock(queue_mutex_);
    failed = failed_;
  }
  if (!failed.ok()) {  // queued before a write failed: nothing more is written
    WrittenGroup refused;
    for (auto& pending : group) refused.answers.emplace_back(std::move(pending), failed);
    Dispatch(Part{nullptr, std::move(refused)});
    return;
  }
  // Idempotency records of groups now written whole are found in the database.
  const uint64_t put_sequence = put_sequence_.load();
  while (!unwritten_groups_.empty() && unwritten_groups_.front().first <= put_sequence) {
    for (const std::string& key : unwritten_groups_.front().second) {
      unwritten_idempotency_.erase(key);
    }
    unwritten_groups_.pop_front();
  }
  GroupState state;
  state.head = written_head_;
  state.first_sequence = state.head.sequence + 1;
  if (stream_versions_.size() > stream_cache_entries_max) {
    // A cache miss reads the index, so the index must hold everything before forgetting.
    if (WaitForIndex(state.head.sequence).ok()) stream_versions_.clear();
  }
  state.recorded_at_us = std::max(Now(), last_recorded_at_us_);
  // Room for the group's envelopes up to a part, so that the batch rarely grows by copying.
  size_t envelope_bytes = 0;
  for (const auto& pending : group) {
    envelope_bytes +=
        pending->payload_bytes + pending->request.events.size() * kEnvelopeBytesBesidesPayload;
  }
  state.batch = std::make_unique<rocksdb::WriteBatch>(std::min(envelope_bytes, kPartBatchBytes));
  auto index_entries = std::make_unique<IndexEntries>();
  state.index_entries = index_entries.get();
  WrittenGroup written;
  written.answers.reserve(group.size());
  const uint64_t events_before = state.head.sequence;
  for (auto& pending : group) {
    AppendResult result;
    Status status = StageAppend(*pending, state, &result);
    if (pending->payload_check) {
      // The answer waits for the caller's check of the payloads (which reads the request
      // until then); bad input is answered as such whatever else was found.
      Status checked = pending->payload_check->Await();
      if (!checked.ok()) status = std::move(checked);
    }
    if (!status.ok()) {
      if (status.code() == StatusCode::kConflict) {
        std::lock_guard lock(head_mutex_);  // counted before the caller can look
        counters_.commands_refused++;
      }
      written.answers.emplace_back(std::move(pending), std::move(status));
    } else {
      if (!result.replayed) written.commands_appended++;
      written.answers.emplace_back(std::move(pending), result);
    }
  }
  Part last;
  if (state.head.sequence > events_before) {
    // The group's last part: its idempotency records and the head record, so that they are
    // durable together with the whole group or not at all.
    std::vector<std::string> keys;
    for (const auto& [key, record] : state.idempotency) {
      state.batch->Put(columns_->idempotency, key, EncodeIdempotencyRecord(record));
      unwritten_idempotency_[key] =
          IdempotencyEntry{record.request_digest, record.first_sequence,
                           record.first_sequence + record.event_count - 1};
      keys.push_back(key);
    }
    if (!keys.empty()) unwritten_groups_.emplace_back(state.head.sequence, std::move(keys));
    std::string head_value = EncodeU64(state.head.sequence);
    head_value.append(HashView(state.head.hash));
    state.batch->Put(columns_->head, kHeadKey, head_value);
    if (state.parted) state.batch->Delete(columns_->head, kUnfinishedGroupKey);
    // Not synced here: the syncer syncs while the next group is staged and written. Readers
    // see nothing of it before then (they stay at or behind the durable head). If the write
    // fails, the log refuses every later command, so the writer's view may run ahead.
    written_sequence_ = state.head.sequence;  // before the events can be seen
    written_head_ = state.head;
    last_recorded_at_us_ = state.recorded_at_us;
    written.wrote = true;
    written.head = state.head;
    written.events_appended = state.head.sequence - events_before;
    written.index_entries = std::move(index_entries);
    last.batch = std::move(state.batch);
  }
  // Every answer, refusals and replays included, waits for the sync of what was written
  // before it: whoever gets an answer finds everything before it durable and readable.
  last.group = std::move(written);
  Dispatch(std::move(last));
}

void EventLog::EmitPart(GroupState& group) {
  if (!group.parted) {
    // Until the last part clears it, this record says that the events from here on belong to
    // an unfinished group; after a crash they are removed on open (none was acknowledged).
    group.batch->Put(columns_->head, kUnfinishedGroupKey, EncodeU64(group.first_sequence));
    group.parted = true;
  }
  written_sequence_ = group.head.sequence;  // before the events can be seen
  Dispatch(Part{std::move(group.batch), std::nullopt});
  group.batch = std::make_unique<rocksdb::WriteBatch>(kPartBatchBytes);
}

void EventLog::Dispatch(Part part) {
  {
    std::unique_lock lock(put_mutex_);
    if (put_outstanding_ > 0 || !part.group) {
      put_queue_not_full_.wait(lock, [&] { return put_queue_.size() < put_queue_parts_max; });
      put_queue_.push_back(std::move(part));
      ++put_outstanding_;
      lock.unlock();
      put_work_ready_.notify_one();
      return;
    }
  }
  // A group in one part while the putter is idle (the common case of small commands): written
  // here, one hand-off fewer. Only the writer queues parts, so none can overtake this one.
  WritePart(part);
}

void EventLog::WritePart(Part& part) {
  Status status = put_failed_;
  if (status.ok() && part.batch) {
    status = FromRocks(db_->Write(rocksdb::WriteOptions(), part.batch.get()), "append");
    if (!status.ok()) {
      // What is in memory may now be ahead of the disk: refuse everything until reopened.
      put_failed_ = status;
      StopAppends(status);
    }
  }
  if (!part.group) return;
  WrittenGroup& written = *part.group;
  if (!status.ok()) {
    // This group, or a part before it, was not written: none of its commands is answered as
    // done, replays included (their originals may be among what was lost).
    for (auto& [pending, answer] : written.answers) {
      if (answer.ok()) answer = status;
    }
    written.wrote = false;
    written.commands_appended = 0;
    written.events_appended = 0;
    written.index_entries.reset();
  } else if (written.wrote) {
    put_sequence_ = written.head.sequence;
  }
  HandToSyncer(std::move(written));
}

void EventLog::PutterLoop() {
  while (true) {
    Part part;
    {
      std::unique_lock lock(put_mutex_);
      put_work_ready_.wait(lock, [&] { return put_stopping_ || !put_queue_.empty(); });
      if (put_queue_.empty()) return;  // stopping and drained
      part = std::move(put_queue_.front());
      put_queue_.pop_front();
    }
    put_queue_not_full_.notify_one();
    WritePart(part);
    std::lock_guard lock(put_mutex_);
    --put_outstanding_;
  }
}

void EventLog::StopAppends(const Status& failure) {
  {
    std::lock_guard lock(queue_mutex_);
    failed_ = failure;
  }
  queue_not_full_.notify_all();
  {
    // Nothing more will be indexed: a writer or reader waiting for the index stops.
    std::lock_guard lock(index_mutex_);
    if (index_failed_.ok()) index_failed_ = failure;
  }
  index_advanced_.notify_all();
  index_queue_not_full_.notify_all();
}

void EventLog::HandToSyncer(WrittenGroup written) {
  {
    std::unique_lock lock(sync_mutex_);
    sync_queue_not_full_.wait(lock, [&] { return sync_queue_.size() < sync_queue_groups_max; });
    sync_queue_.push_back(std::move(written));
  }
  sync_work_ready_.notify_one();
}

void EventLog::SyncerLoop() {
  while (true) {
    std::vector<WrittenGroup> groups;
    {
      std::unique_lock lock(sync_mutex_);
      sync_work_ready_.wait(lock, [&] { return sync_stopping_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;  // stopping and drained
      groups.swap(sync_queue_);
    }
    sync_queue_not_full_.notify_all();
    const auto last_written = std::find_if(groups.rbegin(), groups.rend(),
                                           [](const WrittenGroup& group) { return group.wrote; });
    // What was written is synced and acknowledged even when a later write failed; after a
    // failed sync nothing is (a later fdatasync may succeed without the lost data).
    Status status = sync_failed_;
    if (status.ok() && last_written != groups.rend()) {
      // One fdatasync covers every group written so far, these and any the writer has
      // written since: the write-ahead log is one file, synced up to its end.
      if (options_.sync) status = FromRocks(db_->SyncWAL(), "sync");
      if (!status.ok()) {
        sync_failed_ = status;
        StopAppends(status);
      } else {
        LogCounters added;
        for (WrittenGroup& group : groups) {
          if (!group.wrote) continue;
          QueueIndexWork(std::move(group.index_entries), group.head.sequence);
          added.commands_appended += group.commands_appended;
          added.events_appended += group.events_appended;
          added.groups_synced++;
        }
        std::lock_guard lock(head_mutex_);
        MALPRO_ASSERT(last_written->head.sequence >= head_.sequence);  // only ever forward
        head_ = last_written->head;
        counters_.commands_appended += added.commands_appended;
        counters_.events_appended += added.events_appended;
        counters_.groups_synced += added.groups_synced;
        if (options_.sync) counters_.syncs++;
      }
    }
    head_advanced_.notify_all();
    for (WrittenGroup& group : groups) {
      for (auto& [pending, answer] : group.answers) {
        // After a failed sync a refusal may rest on what was never made durable: it gets
        // the failure too.
        if (!status.ok()) answer = status;
        pending->Finish(std::move(answer));
      }
    }
  }
}

Status EventLog::WaitForDurable(uint64_t sequence) const {
  constexpr auto health_check_every = std::chrono::milliseconds(100);  // a failed sync ends it
  while (!WaitForSequence(sequence, health_check_every)) {
    MALPRO_RETURN_IF_ERROR(Health());
  }
  return Status::Ok();
}

Result<uint64_t*> EventLog::CurrentVersion(std::string_view stream_id) {
  if (auto cached = stream_versions_.find(stream_id); cached != stream_versions_.end()) {
    return &cached->second;
  }
  Result<uint64_t> version = LastIndexedVersion(stream_id);
  if (!version.ok()) return version.status();
  return &stream_versions_.emplace(std::string(stream_id), *version).first->second;
}

Status EventLog::StageAppend(PendingAppend& pending, GroupState& group, AppendResult* result) {
  // A replay is answered with the rest of the group, after the sync: by then the original
  // is durable whether it was in an earlier group or in this one.
  const AppendRequest& request = pending.request;
  if (!request.idempotency_key.empty()) {
    std::optional<IdempotencyRecord> earlier;
    if (auto staged = group.idempotency.find(request.idempotency_key);
        staged != group.idempotency.end()) {
      earlier = staged->second;
    } else if (auto unwritten = unwritten_idempotency_.find(request.idempotency_key);
               unwritten != unwritten_idempotency_.end()) {
      const IdempotencyEntry& entry = unwritten->second;
      earlier = IdempotencyRecord{
          entry.request_digest, entry.first_sequence,
          static_cast<uint32_t>(entry.last_sequence - entry.first_sequence + 1), 0};
    } else {
      std::string value;
      rocksdb::Status status =
          db_->Get(rocksdb::ReadOptions(), columns_->idempotency, request.idempotency_key, &value);
      if (!status.IsNotFound()) {
        MALPRO_RETURN_IF_ERROR(FromRocks(status, "read idempotency key"));
        earlier = DecodeIdempotencyRecord(value);
        if (!earlier) return Status::Corruption("idempotency record has a bad format");
      }
    }
    if (earlier) {
      if (earlier->request_digest != pending.request_digest) {
        return Status::Conflict(errc::kIdempotencyKeyReused, "idempotency_key",
                                "this idempotency key was already used for a different request");
      }
      result->first_sequence = earlier->first_sequence;
      result->last_sequence = earlier->first_sequence + earlier->event_count - 1;
      result->replayed = true;
      return Status::Ok();
    }
  }
  for (size_t i = 0; i < request.expectations.size(); ++i) {
    const StreamExpectation& expectation = request.expectations[i];
    Result<uint64_t*> current = CurrentVersion(expectation.stream_id);
    if (!current.ok()) return current.status();
    if (**current != expectation.version) {
      return Status::Conflict(
          errc::kStreamVersionConflict, IndexedField("expectations", i, "version"),
          "stream " + expectation.stream_id + " is at version " + std::to_string(**current) +
              ", the command expected version " + std::to_string(expectation.version));
    }
  }
  // Every stream version the command needs is read before its first change, so that a failed
  // read cannot leave part of the command in the group's batch or in the version cache.
  // (The cache entries point into a node-based map: they stay valid as it grows.)
  std::vector<uint64_t*>& versions = group.event_versions;
  versions.clear();
  for (const ProposedEvent& proposed : request.events) {
    Result<uint64_t*> current = CurrentVersion(proposed.stream_id);
    if (!current.ok()) return current.status();
    versions.push_back(*current);
  }
  // From here on nothing can fail: the command is staged whole. The cache runs ahead of the
  // disk until the group is written; if that write fails, the log refuses every append.
  result->first_sequence = group.head.sequence + 1;
  result->first_stream_version = 0;
  // A command whose payloads are still being checked is staged meanwhile, but nothing of it
  // leaves the group's current part before the check passes; if it fails, it is taken out.
  PayloadCheck* check = pending.payload_check.get();
  const ChainHead head_before = group.head;
  if (check != nullptr) {
    group.batch->SetSavePoint();
    group.index_entries->SetSavePoint();
  }
  auto await_check = [&](size_t staged) -> Status {
    Status checked = check->Await();
    // Both fail only without a savepoint, which is set above whenever check is set.
    if (checked.ok()) {
      const rocksdb::Status popped = group.batch->PopSavePoint();
      MALPRO_ASSERT(popped.ok());
    } else {
      for (size_t j = 0; j < staged; ++j) --*versions[j];
      group.head = head_before;
      const rocksdb::Status rolled_back = group.batch->RollbackToSavePoint();
      MALPRO_ASSERT(rolled_back.ok());
      group.index_entries->RollbackToSavePoint();
    }
    check = nullptr;
    return checked;
  };
  std::string& value = group.value_buffer;
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& proposed = request.events[i];
    EventView event{group.head.sequence + 1, proposed.stream_id,    ++*versions[i],
                    proposed.type,           group.recorded_at_us, request.actor,
                    request.idempotency_key, proposed.payload};
    value.clear();
    AppendCanonical(event, &value);
    const Hash hash = ComputeEventHash(group.head.hash, value);
    value.append(HashView(group.head.hash));
    value.append(HashView(hash));
    char sequence_key[8];
    StoreU64(sequence_key, event.sequence);
    const rocksdb::Slice sequence_slice(sequence_key, sizeof sequence_key);
    group.batch->Put(columns_->events, sequence_slice, value);
    // A command's events take the sequences after the group's head, one each, and each
    // stream's next version.
    MALPRO_ASSERT(event.sequence == result->first_sequence + i && event.stream_version >= 1);
    group.index_entries->Add(event.stream_id, event.stream_version, event.sequence);
    if (result->first_stream_version == 0) result->first_stream_version = event.stream_version;
    group.head = {event.sequence, hash};
    if (group.batch->GetDataSize() >= write_part_bytes) {
      if (check != nullptr) MALPRO_RETURN_IF_ERROR(await_check(i + 1));
      EmitPart(group);
    }
  }
  if (check != nullptr) MALPRO_RETURN_IF_ERROR(await_check(request.events.size()));
  result->last_sequence = group.head.sequence;
  MALPRO_ASSERT(result->last_sequence + 1 == result->first_sequence + request.events.size());
  if (!request.idempotency_key.empty()) {
    IdempotencyRecord record{pending.request_digest, result->first_sequence,
                             static_cast<uint32_t>(request.events.size()), group.recorded_at_us};
    group.idempotency[request.idempotency_key] = record;  // written with the group's last part
  }
  return Status::Ok();
}

Result<std::optional<IdempotencyEntry>> EventLog::LookupIdempotency(std::string_view key) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->idempotency, key, &value);
  if (status.IsNotFound()) return std::optional<IdempotencyEntry>();
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read idempotency key"));
  std::optional<IdempotencyRecord> record = DecodeIdempotencyRecord(value);
  if (!record) return Status::Corruption("idempotency record has a bad format");
  // The record may belong to a group written but not yet synced: a retry learns of the
  // original only once it is durable.
  if (!options_.read_only) {
    MALPRO_RETURN_IF_ERROR(WaitForDurable(record->first_sequence + record->event_count - 1));
  }
  return std::optional<IdempotencyEntry>(IdempotencyEntry{
      record->request_digest, record->first_sequence,
      record->first_sequence + record->event_count - 1});
}

Result<Hash> EventLog::PutBlob(std::string_view bytes) {
  if (options_.read_only) return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  if (bytes.size() > blob_bytes_max) {
    return Status::LimitExceeded(errc::kBlobTooLarge, "blob",
                                 "a stored file is at most " + std::to_string(blob_bytes_max) +
                                     " bytes");
  }
  const Hash hash = Sha256(bytes);
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  MALPRO_RETURN_IF_ERROR(FromRocks(
      db_->Put(write_options, columns_->blobs, rocksdb::Slice(HashView(hash).data(), hash_bytes),
               rocksdb::Slice(bytes.data(), bytes.size())),
      "store blob"));
  return hash;
}

Result<std::string> EventLog::GetBlob(const Hash& hash) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->blobs,
                                    rocksdb::Slice(HashView(hash).data(), hash_bytes), &value);
  if (status.IsNotFound()) {
    return Status::NotFound(errc::kBlobNotFound, "sha256", "no stored file has that SHA-256");
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read blob"));
  return value;
}

Status EventLog::Compact() {
  if (options_.read_only) return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  for (rocksdb::ColumnFamilyHandle* handle : columns_->all) {
    MALPRO_RETURN_IF_ERROR(FromRocks(
        db_->CompactRange(rocksdb::CompactRangeOptions(), handle, nullptr, nullptr), "compact"));
  }
  if (index_db_) {
    MALPRO_RETURN_IF_ERROR(FromRocks(
        index_db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr), "compact"));
  }
  return Status::Ok();
}

LogCounters EventLog::Counters() const {
  std::lock_guard lock(head_mutex_);
  return counters_;
}

Status EventLog::Health() const {
  std::lock_guard lock(queue_mutex_);
  return failed_;
}

ChainHead EventLog::Head() const {
  std::lock_guard lock(head_mutex_);
  return head_;
}

bool EventLog::WaitForSequence(uint64_t sequence, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(head_mutex_);
  return head_advanced_.wait_for(lock, timeout, [&] { return head_.sequence >= sequence; });
}

Result<std::vector<Event>> EventLog::Read(uint64_t from_sequence, size_t limit) const {
  std::vector<Event> events;
  MALPRO_RETURN_IF_ERROR(ReadInto(from_sequence, limit, &events));
  return events;
}

namespace {

// Up to `limit` events from where `it` stands, into `*events` (reusing its events' room);
// `it` is left on the first event not read. Whatever happens, `events` holds what was read.
Status ReadEvents(rocksdb::Iterator& it, size_t limit, std::vector<Event>* events) {
  size_t read = 0;
  struct Trim {
    std::vector<Event>* events;
    const size_t* read;
    ~Trim() { events->resize(std::min(events->size(), *read)); }
  } trim{events, &read};
  if (limit >= scan_events_min) events->reserve(limit);
  for (; it.Valid() && read < limit; it.Next()) {
    if (read == events->size()) events->emplace_back();
    MALPRO_RETURN_IF_ERROR(DecodeEnvelopeInto(
        std::string_view(it.value().data(), it.value().size()), &(*events)[read]));
    ++read;
  }
  return FromRocks(it.status(), "read events");
}

// Reads of many events in order (a rebuild, a replay, a catch-up): read ahead, and leave the
// block cache to the blocks read again.
rocksdb::ReadOptions ScanReadOptions() {
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;
  read_options.readahead_size = scan_readahead_bytes;
  return read_options;
}

}  // namespace

Status EventLog::ReadInto(uint64_t from_sequence, size_t limit, std::vector<Event>* events) const {
  limit = std::min(limit, read_events_max);
  from_sequence = std::max<uint64_t>(from_sequence, 1);
  if (!options_.read_only) {
    // Groups are written before they are synced: nothing past the durable head is shown.
    const uint64_t head = Head().sequence;
    if (from_sequence > head) limit = 0;
    else limit = static_cast<size_t>(std::min<uint64_t>(limit, head - from_sequence + 1));
  }
  if (limit == 0) {
    events->clear();
    return Status::Ok();
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(
      limit >= scan_events_min ? ScanReadOptions() : rocksdb::ReadOptions(), columns_->events));
  it->Seek(SequenceKey(from_sequence));
  return ReadEvents(*it, limit, events);
}

std::unique_ptr<EventLog::Scanner> EventLog::Scan(uint64_t from_sequence) const {
  std::unique_ptr<Scanner> scanner(new Scanner());
  scanner->next_ = std::max<uint64_t>(from_sequence, 1);
  // Groups are written before they are synced: nothing past the durable head is shown. The
  // head is read before the iterator is made, so the iterator sees every event up to it.
  scanner->last_ = options_.read_only ? UINT64_MAX : Head().sequence;
  scanner->it_.reset(db_->NewIterator(ScanReadOptions(), columns_->events));
  return scanner;
}

EventLog::Scanner::~Scanner() = default;

Status EventLog::Scanner::ReadInto(size_t limit, std::vector<Event>* events) {
  limit = std::min(limit, read_events_max);
  if (next_ > last_) limit = 0;
  else limit = static_cast<size_t>(std::min<uint64_t>(limit, last_ - next_ + 1));
  if (limit == 0) {
    events->clear();
    return Status::Ok();
  }
  if (!positioned_) {
    it_->Seek(SequenceKey(next_));
    positioned_ = true;
  }
  const Status status = ReadEvents(*it_, limit, events);
  next_ += events->size();
  return status;
}

Result<std::vector<Event>> EventLog::ReadStream(std::string_view stream_id, uint64_t from_version,
                                                size_t limit) const {
  MALPRO_RETURN_IF_ERROR(
      CheckIdentifier(stream_id, stream_id_bytes_max, false, "stream_id", stream_id_codes));
  limit = std::min(limit, read_events_max);
  MALPRO_RETURN_IF_ERROR(WaitForIndex(Head().sequence));
  from_version = std::max<uint64_t>(from_version, 1);
  std::string prefix(stream_id);
  prefix.push_back('\0');
  rocksdb::ReadOptions read_options;
  read_options.prefix_same_as_start = true;  // within the stream: prefix blooms apply
  std::unique_ptr<rocksdb::Iterator> it;
  std::vector<PendingIndex::Entry> pending;  // the stream's entries not in the database yet
  {
    // The database's view and the entries in memory are taken together: the ingester drops
    // sealed entries only after they are in the database, so none is missed (one may be in
    // both, and is taken once).
    std::shared_lock lock(pending_index_mutex_);
    it.reset(columns_->index_db->NewIterator(read_options, columns_->index));
    if (sealed_index_) sealed_index_->Collect(stream_id, from_version, limit, &pending);
    if (pending_index_) pending_index_->Collect(stream_id, from_version, limit, &pending);
  }
  std::vector<uint64_t> sequences;
  uint64_t last_version = 0;
  for (it->Seek(StreamIndexKey(stream_id, from_version));
       it->Valid() && it->key().starts_with(prefix) && sequences.size() < limit; it->Next()) {
    if (it->key().size() != prefix.size() + 8 || it->value().size() != 8) {
      return Status::Corruption("malformed stream index entry for " + std::string(stream_id));
    }
    last_version = DecodeU64(std::string_view(it->key().data() + prefix.size(), 8));
    sequences.push_back(DecodeU64(std::string_view(it->value().data(), 8)));
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read stream"));
  for (const PendingIndex::Entry& entry : pending) {
    if (sequences.size() >= limit) break;
    if (entry.version > last_version) sequences.push_back(entry.sequence);
  }
  std::vector<Event> events;
  events.reserve(sequences.size());
  for (uint64_t sequence : sequences) {
    std::string value;
    rocksdb::Status status =
        db_->Get(rocksdb::ReadOptions(), columns_->events, SequenceKey(sequence), &value);
    if (status.IsNotFound()) return Status::Corruption("stream index points at a missing event");
    MALPRO_RETURN_IF_ERROR(FromRocks(status, "read stream event"));
    Result<Event> event = DecodeEnvelope(value);
    if (!event.ok()) return event.status();
    events.push_back(std::move(event).value());
  }
  return events;
}

Result<uint64_t> EventLog::StreamVersion(std::string_view stream_id) const {
  MALPRO_RETURN_IF_ERROR(
      CheckIdentifier(stream_id, stream_id_bytes_max, false, "stream_id", stream_id_codes));
  MALPRO_RETURN_IF_ERROR(WaitForIndex(Head().sequence));
  return LastIndexedVersion(stream_id);
}

Status EventLog::CatchUpIndex() {
  std::string value;
  rocksdb::DB* index_db = columns_->index_db;
  rocksdb::Status status =
      index_db->Get(rocksdb::ReadOptions(), columns_->index_head, kIndexHeadKey, &value);
  if (!status.IsNotFound()) MALPRO_RETURN_IF_ERROR(FromRocks(status, "read index head"));
  uint64_t indexed = status.ok() ? DecodeU64(value) : 0;
  if (indexed > head_.sequence) {
    // Ahead of the log (a directory put together from different backups): the index is
    // derived data, so it starts over from the log.
    rocksdb::WriteBatch clear;
    clear.DeleteRange(columns_->index, rocksdb::Slice(), rocksdb::Slice(kIndexKeysEnd));
    MALPRO_RETURN_IF_ERROR(
        FromRocks(index_db->Write(rocksdb::WriteOptions(), &clear), "clear the stream index"));
    indexed = 0;
  }
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
  for (it->Seek(SequenceKey(indexed + 1)); it->Valid(); it->Next()) {
    Result<Event> event = DecodeEnvelope(std::string_view(it->value().data(), it->value().size()));
    if (!event.ok()) return event.status();
    batch.Put(columns_->index, StreamIndexKey(event->stream_id, event->stream_version),
              it->key());
    indexed = event->sequence;
    if (batch.Count() >= index_catch_up_batch_events) {
      batch.Put(columns_->index_head, kIndexHeadKey, EncodeU64(indexed));
      MALPRO_RETURN_IF_ERROR(FromRocks(index_db->Write(rocksdb::WriteOptions(), &batch), "index"));
      batch.Clear();
    }
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read log for the index"));
  if (batch.Count() > 0) {
    batch.Put(columns_->index_head, kIndexHeadKey, EncodeU64(indexed));
    MALPRO_RETURN_IF_ERROR(FromRocks(index_db->Write(rocksdb::WriteOptions(), &batch), "index"));
  }
  std::lock_guard lock(index_mutex_);
  indexed_sequence_ = indexed;
  return Status::Ok();
}

void EventLog::QueueIndexWork(std::unique_ptr<IndexEntries> index_entries, uint64_t last_sequence) {
  const size_t entries = index_entries->Count();
  {
    std::unique_lock lock(index_mutex_);
    index_queue_not_full_.wait(lock, [&] {
      return index_queue_.empty() || index_queue_entries_ + entries <= index_queue_entries_max ||
             !index_failed_.ok();
    });
    if (!index_failed_.ok()) return;
    index_queue_.push_back({std::move(index_entries), last_sequence});
    index_queue_entries_ += entries;
  }
  index_work_ready_.notify_one();
}

void EventLog::IndexerLoop() {
  // The index yields the CPU to the write path: it catches up while the disk syncs, and the
  // bound on its queue holds the syncer back if it ever falls too far behind.
  LowerThisThreadsPriority();
  while (true) {
    std::deque<IndexWork> works;
    {
      std::unique_lock lock(index_mutex_);
      index_work_ready_.wait(lock, [&] { return index_stopping_ || !index_queue_.empty(); });
      if (index_queue_.empty()) break;  // stopping and drained
      works.swap(index_queue_);
    }
    size_t entries = 0;
    for (IndexWork& work : works) {
      entries += work.entries->Count();
      std::unique_lock lock(pending_index_mutex_);
      pending_index_->Add(*work.entries);
      pending_index_->last_sequence = work.last_sequence;
    }
    {
      std::lock_guard lock(index_mutex_);
      index_queue_entries_ -= entries;
      indexed_sequence_ = works.back().last_sequence;
    }
    index_advanced_.notify_all();
    index_queue_not_full_.notify_all();
    if (pending_index_->entries >= options_.index_entries_in_memory) SealPendingIndex();
  }
  SealPendingIndex();  // what is left goes into the database on a clean close
}

void EventLog::SealPendingIndex() {
  std::unique_lock lock(pending_index_mutex_);
  if (pending_index_->entries == 0) return;
  index_ingested_.wait(lock, [&] { return sealed_index_ == nullptr || ingest_failed_; });
  if (ingest_failed_) return;  // appends and stream reads have stopped until a reopen
  sealed_index_ = std::move(pending_index_);
  pending_index_ = std::make_unique<PendingIndex>();
  lock.unlock();
  index_sealed_.notify_one();
}

void EventLog::IngesterLoop() {
  LowerThisThreadsPriority();
  std::unique_lock lock(pending_index_mutex_);
  while (true) {
    index_sealed_.wait(lock, [&] { return ingest_stopping_ || sealed_index_ != nullptr; });
    if (sealed_index_ == nullptr) return;  // stopping, and everything sealed is ingested
    const PendingIndex* sealed = sealed_index_.get();  // immutable until dropped here
    lock.unlock();
    const Status status = IngestIndex(*sealed);
    lock.lock();
    if (!status.ok()) {
      ingest_failed_ = true;  // kept in memory: lookups already under way still find them
      lock.unlock();
      index_ingested_.notify_all();
      StopAppends(status);
      return;
    }
    sealed_index_.reset();
    index_ingested_.notify_all();
  }
}

Status EventLog::IngestIndex(const PendingIndex& sealed) {
  using Stream = const std::pair<const std::string, std::vector<PendingIndex::Entry>>;
  std::vector<Stream*> streams;
  streams.reserve(sealed.streams.size());
  for (Stream& stream : sealed.streams) streams.push_back(&stream);
  std::sort(streams.begin(), streams.end(),
            [](Stream* a, Stream* b) { return a->first < b->first; });

  const std::string path = options_.data_dir + "/" + kStreamIndexIngestDirectory + "/index-" +
                           std::to_string(sealed.last_sequence) + ".sst";
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *index_db_options_);
  MALPRO_RETURN_IF_ERROR(FromRocks(writer.Open(path), "open " + path));
  // The head record goes in the same file as the entries it covers, at its place in key
  // order: an ingested file is all there or not at all.
  const rocksdb::Slice head_key(kIndexHeadKey);
  const std::string head_value = EncodeU64(sealed.last_sequence);
  bool head_written = false;
  rocksdb::Status status;
  std::string key;
  char value[8];
  for (Stream* stream : streams) {
    key.assign(stream->first);
    key.push_back('\0');
    if (!head_written && head_key.compare(rocksdb::Slice(key)) < 0) {
      status = writer.Put(head_key, head_value);
      head_written = true;
    }
    for (const PendingIndex::Entry& entry : stream->second) {
      if (!status.ok()) break;
      key.resize(stream->first.size() + 1);
      char version[8];
      StoreU64(version, entry.version);
      key.append(version, sizeof version);
      StoreU64(value, entry.sequence);
      status = writer.Put(rocksdb::Slice(key), rocksdb::Slice(value, sizeof value));
    }
    if (!status.ok()) break;
  }
  if (status.ok() && !head_written) status = writer.Put(head_key, head_value);
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "write " + path));
  MALPRO_RETURN_IF_ERROR(FromRocks(writer.Finish(), "finish " + path));
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;  // the file is linked into the database, not copied
  status = index_db_->IngestExternalFile(columns_->index, {path}, ingest);
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // linked, or not taken: either way not needed here
  return FromRocks(status, "ingest " + path);
}

Status EventLog::WaitForIndex(uint64_t sequence) const {
  if (options_.read_only) {
    std::call_once(read_only_index_once_, [this] {
      read_only_index_status_ = OpenIndex();
      if (read_only_index_status_.ok()) read_only_index_status_ = IndexTailReadOnly();
    });
    return read_only_index_status_;
  }
  std::unique_lock lock(index_mutex_);
  index_advanced_.wait(lock, [&] { return indexed_sequence_ >= sequence || !index_failed_.ok(); });
  return index_failed_;
}

Status EventLog::IndexTailReadOnly() const {
  std::string value;
  rocksdb::Status found =
      columns_->index_db->Get(rocksdb::ReadOptions(), columns_->index_head, kIndexHeadKey, &value);
  if (!found.IsNotFound()) MALPRO_RETURN_IF_ERROR(FromRocks(found, "read index head"));
  const uint64_t indexed = found.ok() ? DecodeU64(value) : 0;
  const uint64_t head = Head().sequence;
  auto tail = std::make_unique<PendingIndex>();
  if (indexed < head) {
    rocksdb::ReadOptions read_options;
    read_options.fill_cache = false;
    read_options.readahead_size = scan_readahead_bytes;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, columns_->events));
    Event event;
    for (it->Seek(SequenceKey(indexed + 1)); it->Valid(); it->Next()) {
      MALPRO_RETURN_IF_ERROR(DecodeEnvelopeInto(
          std::string_view(it->value().data(), it->value().size()), &event));
      if (event.sequence > head) break;
      tail->Add(event.stream_id, event.stream_version, event.sequence);
    }
    MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read log for the index"));
  }
  tail->last_sequence = head;
  std::unique_lock lock(pending_index_mutex_);
  pending_index_ = std::move(tail);
  return Status::Ok();
}

Result<uint64_t> EventLog::LastIndexedVersion(std::string_view stream_id) const {
  // The newest entries are in memory; the lock is held through the database lookup so that
  // sealed entries cannot leave memory before they are in the database (see ReadStream).
  std::shared_lock lock(pending_index_mutex_);
  for (const PendingIndex* pending : {pending_index_.get(), sealed_index_.get()}) {
    if (pending == nullptr) continue;
    if (const auto* entries = pending->Find(stream_id); entries != nullptr && !entries->empty()) {
      return entries->back().version;
    }
  }
  // A stream exists when its version 1 does: a point lookup, which the bloom filters answer
  // without reading for the usual case of a stream being created (a new order).
  std::string first;
  rocksdb::Status found =
      columns_->index_db->Get(rocksdb::ReadOptions(), columns_->index, StreamIndexKey(stream_id, 1),
                              &first);
  if (found.IsNotFound()) return uint64_t{0};
  MALPRO_RETURN_IF_ERROR(FromRocks(found, "read stream version"));
  // The stream's last entry: the one before the highest possible version.
  rocksdb::ReadOptions read_options;
  read_options.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(
      columns_->index_db->NewIterator(read_options, columns_->index));
  std::string prefix(stream_id);
  prefix.push_back('\0');
  it->SeekForPrev(StreamIndexKey(stream_id, UINT64_MAX));
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read stream version"));
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) {
    return Status::Corruption("stream index: version 1 of " + std::string(stream_id) +
                              " exists but its last entry was not found");
  }
  return DecodeU64(std::string_view(it->key().data() + prefix.size(), 8));
}

Result<VerifyReport> EventLog::Verify(uint64_t from, uint64_t to,
                                      const std::function<void(uint64_t)>& progress) const {
  from = std::max<uint64_t>(from, 1);
  if (to == 0) to = Head().sequence;
  VerifyReport report;
  Hash previous = zero_hash;
  if (from > 1) {
    std::string anchor;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->events,
                                      SequenceKey(from - 1), &anchor);
    if (!status.ok() || anchor.size() < 2 * hash_bytes) {
      report.ok = false;
      report.first_bad_sequence = from - 1;
      report.problem = "the anchor event before the range is missing or truncated";
      return report;
    }
    std::copy_n(anchor.end() - hash_bytes, hash_bytes, previous.begin());
  }
  report.verified_head = {from - 1, previous};
  auto fail = [&](uint64_t sequence, std::string problem) {
    report.ok = false;
    report.first_bad_sequence = sequence;
    report.problem = std::move(problem);
    return report;
  };
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;
  read_options.readahead_size = 4 * 1024 * 1024;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, columns_->events));
  uint64_t expected = from;
  // Two chunks: one is hashed on a second thread while the next is read.
  struct Chunk {
    uint64_t first = 0;
    std::string bytes;
    std::vector<HashCheck> checks;
  };
  std::array<Chunk, 2> chunks;
  size_t current = 0;
  std::future<size_t> hashing;  // of the other chunk, when valid
  std::optional<std::pair<uint64_t, std::string>> broken;  // the first problem met reading
  // Takes the result of hashing `chunk`: the verified part counts, and a bad hash is the
  // problem to report (it precedes anything met later).
  auto account = [&](const Chunk& chunk, size_t bad) -> std::optional<VerifyReport> {
    if (bad > 0) {
      report.verified_head = {chunk.first + bad - 1, chunk.checks[bad - 1].stored};
      report.events_checked += bad;
    }
    if (progress) {
      const uint64_t verified_to = chunk.first + bad;  // exclusive
      for (uint64_t at = (chunk.first + kVerifyProgressEvery - 1) / kVerifyProgressEvery *
                         kVerifyProgressEvery;
           at < verified_to; at += kVerifyProgressEvery) {
        progress(at);
      }
    }
    if (bad < chunk.checks.size()) {
      return fail(chunk.first + bad, "content does not match its hash (the event was altered)");
    }
    return std::nullopt;
  };
  it->Seek(SequenceKey(from));
  while (true) {
    // Read a chunk: everything but the hashes is checked in order here.
    Chunk& chunk = chunks[current];
    chunk.first = expected;
    chunk.bytes.clear();
    chunk.checks.clear();
    for (; it->Valid() && expected <= to && chunk.checks.size() < kVerifyChunkEvents;
         it->Next(), ++expected) {
      uint64_t key_sequence = 0;
      if (!ParseSequenceKey(std::string_view(it->key().data(), it->key().size()), &key_sequence)) {
        broken.emplace(expected, "a key that is not an 8-byte sequence follows");
        break;
      }
      if (key_sequence != expected) {
        broken.emplace(expected, "event " + std::to_string(expected) +
                                     " is missing (next stored is " +
                                     std::to_string(key_sequence) + ")");
        break;
      }
      const std::string_view stored(it->value().data(), it->value().size());
      Result<std::string_view> canonical = CanonicalPart(stored);
      if (!canonical.ok() || !IsWellFormedCanonical(*canonical)) {
        broken.emplace(expected, "the envelope's layout is broken (lengths or format version)");
        break;
      }
      if (uint8_t((*canonical)[0]) != envelope_format_version) {
        broken.emplace(expected, "unknown envelope format version");
        break;
      }
      if (DecodeU64(canonical->substr(1, 8)) != expected) {
        broken.emplace(expected, "the envelope holds sequence " +
                                     std::to_string(DecodeU64(canonical->substr(1, 8))) +
                                     ", not the sequence it is stored under");
        break;
      }
      HashCheck& check = chunk.checks.emplace_back();
      std::copy_n(stored.end() - 2 * hash_bytes, hash_bytes, check.previous.begin());
      std::copy_n(stored.end() - hash_bytes, hash_bytes, check.stored.begin());
      if (check.previous != previous) {
        chunk.checks.pop_back();
        broken.emplace(expected, "previous hash does not match the hash of event " +
                                     std::to_string(expected - 1));
        break;
      }
      check.offset = chunk.bytes.size();
      check.canonical_bytes = canonical->size();
      chunk.bytes.append(*canonical);
      previous = check.stored;
    }
    if (hashing.valid()) {
      if (auto failed = account(chunks[1 - current], hashing.get())) return *failed;
    }
    const bool last = broken || !it->Valid() || expected > to;
    if (!last) {
      hashing = std::async(std::launch::async, FirstBadHash, std::cref(chunk.bytes),
                           std::cref(chunk.checks), size_t{0}, chunk.checks.size());
      current = 1 - current;
      continue;
    }
    // The last chunk: hashed here, half on a second thread.
    size_t bad = chunk.checks.size();
    if (chunk.checks.size() >= kVerifyParallelEventsMin) {
      const size_t half = chunk.checks.size() / 2;
      std::future<size_t> second =
          std::async(std::launch::async, FirstBadHash, std::cref(chunk.bytes),
                     std::cref(chunk.checks), half, chunk.checks.size());
      bad = FirstBadHash(chunk.bytes, chunk.checks, 0, half);
      const size_t bad_in_second = second.get();
      if (bad == half) bad = bad_in_second;
    } else {
      bad = FirstBadHash(chunk.bytes, chunk.checks, 0, chunk.checks.size());
    }
    if (auto failed = account(chunk, bad)) return *failed;
    break;
  }
  if (broken) return fail(broken->first, std::move(broken->second));
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "verify"));
  if (expected <= to) {
    return fail(expected, "event " + std::to_string(expected) + " is missing (the log ends at " +
                              std::to_string(expected - 1) + ")");
  }
  const ChainHead head = Head();
  if (to == head.sequence) {
    // The whole chain up to the recorded head: the head record must agree with it, and
    // nothing may follow it.
    if (head_missing_) return fail(to, "the chain head record is missing");
    if (report.verified_head.hash != head.hash) {
      return fail(to, "the last event's hash differs from the chain head record");
    }
    // What the writer has written and the syncer not yet synced may follow the durable
    // head; anything beyond that does not belong there.
    const uint64_t written = written_sequence_.load();  // 0 when no writer runs
    if (it->Valid() && written <= to) {
      // A group cut short by a crash while written in parts: its events follow the head, and
      // a record says where the group began. Anything else there does not belong.
      Result<std::optional<uint64_t>> unfinished = UnfinishedGroup();
      if (!unfinished.ok()) return unfinished.status();
      if (*unfinished != to + 1) {
        return fail(to + 1, "events are stored after the chain head record");
      }
      Result<uint64_t> count = CheckUnfinishedEvents();
      if (!count.ok()) return fail(to + 1, count.status().message());
      report.unfinished_events = *count;
      return report;
    }
    if (it->Valid()) {
      it->Seek(SequenceKey(written + 1));
      if (it->Valid()) {
        return fail(written + 1, "events are stored after the last group written");
      }
      MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "verify"));
    }
  }
  return report;
}

}  // namespace malpro
