// Opening the event log, its recovery after a crash (a group cut short, an index left by an
// earlier version), the tail check, and closing it (docs/event-log-format.md, sections 1 and 6).
#include <rocksdb/compaction_filter.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/event_log_internal.h"

namespace malpro {
namespace {

constexpr int64_t kMicrosPerDay = seconds_per_day * micros_per_second;

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
    const void* end = std::memchr(key.data(), stream_index_separator, key.size());
    return end == nullptr ? key
                          : rocksdb::Slice(key.data(), static_cast<const char*>(end) - key.data());
  }
  bool InDomain(const rocksdb::Slice& /*key*/) const override { return true; }
};

rocksdb::Options DatabaseOptions(const LogOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  db_options.max_total_wal_size = wal_bytes_max;
  if (options.env != nullptr) db_options.env = options.env;

  // One thread writes at a time; the hashed idempotency memtables and the stream index's
  // insert hints do not take concurrent inserts.
  db_options.allow_concurrent_memtable_write = false;
  return db_options;
}

// The options of each kind of column family, of the log's database and of the stream index's.
struct ColumnOptions {
  rocksdb::ColumnFamilyOptions plain;  // the head and blobs families, and the legacy index
  rocksdb::ColumnFamilyOptions events;
  rocksdb::ColumnFamilyOptions index;  // the stream index database's
  rocksdb::ColumnFamilyOptions idempotency;
};

ColumnOptions MakeColumnOptions(const LogOptions& options,
                                const rocksdb::CompactionFilter* retention_filter) {
  ColumnOptions made;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  made.plain.write_buffer_size = options.write_buffer_bytes;
  made.plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // The events are keyed by sequence, so each table file holds its own range of keys and a
  // lookup finds its file by the file's key range alone: a bloom filter would only cost CPU
  // at every flush and compaction.
  made.events = made.plain;
  rocksdb::BlockBasedTableOptions events_table = table;
  events_table.filter_policy.reset();
  made.events.table_factory.reset(rocksdb::NewBlockBasedTableFactory(events_table));

  // The stream index takes one entry per event at a random place (by stream) but in order
  // within a stream: a skiplist memtable with an insert hint per stream id puts each stream's
  // next version where its last one went. Large memtables and a later L0 trigger keep the
  // number of times an entry is rewritten by compaction low.
  made.index = made.plain;
  made.index.write_buffer_size = stream_index_write_buffer_bytes;
  made.index.level0_file_num_compaction_trigger = stream_index_level0_files;
  made.index.compression = rocksdb::kNoCompression;  // small keys and values; saves flush CPU
  made.index.prefix_extractor = std::make_shared<StreamIdPrefix>();
  made.index.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamIdPrefix>();

  // Idempotency keys are random and have no order within: hashed memtables, small enough
  // that their skiplists stay in the CPU cache.
  made.idempotency = made.plain;
  made.idempotency.write_buffer_size = idempotency_write_buffer_bytes;
  made.idempotency.compression = rocksdb::kNoCompression;
  made.idempotency.prefix_extractor = std::make_shared<StreamIdPrefix>();
  made.idempotency.memtable_factory.reset(
      rocksdb::NewHashSkipListRepFactory(index_memtable_buckets));
  made.idempotency.compaction_filter = retention_filter;
  return made;
}

}  // namespace

EventLog::EventLog(LogOptions options) : options_(std::move(options)) {}

std::vector<std::string> EventLog::ColumnFamilyNames() {
  MALPRO_ASSERT(rocksdb::kDefaultColumnFamilyName == head_column_name);
  return std::vector<std::string>(log_column_names.begin(), log_column_names.end());
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
  if (!options.clock) options.clock = WallClockMicros;
  std::unique_ptr<EventLog> log(new EventLog(std::move(options)));
  MALPRO_RETURN_IF_ERROR(log->OpenDatabase());
  MALPRO_RETURN_IF_ERROR(log->LoadHead());
  if (!log->options_.read_only) MALPRO_RETURN_IF_ERROR(log->RemoveUnfinishedGroup());
  if (log->options_.check_on_open) MALPRO_RETURN_IF_ERROR(log->CheckTail());
  if (log->options_.read_only && log->options_.read_until > 0) {
    MALPRO_RETURN_IF_ERROR(log->CapHead());
  }
  if (!log->options_.read_only) {
    MALPRO_RETURN_IF_ERROR(log->CatchUpIndex());
    log->StartThreads();
  }
  return log;
}

void EventLog::StartThreads() {
  written_head_ = head_;
  written_sequence_ = head_.sequence;
  put_sequence_ = head_.sequence;
  pending_index_ = std::make_unique<PendingIndex>();
  ingester_ = std::thread([this] { IngesterLoop(); });
  indexer_ = std::thread([this] { IndexerLoop(); });
  syncer_ = std::thread([this] { SyncerLoop(); });
  putter_ = std::thread([this] { PutterLoop(); });
  writer_ = std::thread([this] { WriterLoop(); });
}

Status EventLog::OpenDatabase() {
  const rocksdb::Options db_options = DatabaseOptions(options_);
  retention_filter_ = std::make_unique<IdempotencyRetentionFilter>(
      options_.clock, options_.idempotency_retention_days);
  const ColumnOptions column_options = MakeColumnOptions(options_, retention_filter_.get());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : ColumnFamilyNames()) {
    descriptors.emplace_back(name, name == idempotency_column_name ? column_options.idempotency
                                   : name == events_column_name    ? column_options.events
                                                                   : column_options.plain);
  }
  if (!options_.read_only) {
    std::error_code error;
    std::filesystem::create_directories(options_.data_dir, error);
    if (error)
      return Status::IOError("cannot create " + options_.data_dir + ": " + error.message());
  }
  if (options_.read_only && !std::filesystem::exists(options_.data_dir + "/CURRENT")) {
    return Status::NotFound(errc::kLogNotFound, "log.data_dir", "no log at " + options_.data_dir);
  }
  columns_ = std::make_unique<Columns>();
  rocksdb::DB* db = nullptr;
  rocksdb::Status status =
      options_.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options_.data_dir, descriptors, &columns_->all,
                                         &db)
          : rocksdb::DB::Open(db_options, options_.data_dir, descriptors, &columns_->all, &db);
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "open " + options_.data_dir));
  db_.reset(db);
  columns_->head = columns_->all[head_column_index];
  columns_->events = columns_->all[events_column_index];
  columns_->stream_index = columns_->all[legacy_stream_index_column_index];
  columns_->idempotency = columns_->all[idempotency_column_index];
  columns_->blobs = columns_->all[blobs_column_index];
  index_db_options_ = std::make_unique<rocksdb::Options>(db_options, column_options.index);
  // A read-only open (an audit) opens the index only for its first stream read.
  return options_.read_only ? Status::Ok() : OpenIndex();
}

// The stream index is derived data with a write-ahead log of its own: its writes never wait
// in the log's write queue (RocksDB writes one batch at a time per database), and the log's
// write-ahead log carries only what must be synced.
Status EventLog::OpenIndex() const {
  const rocksdb::Options& index_db_options = *index_db_options_;
  const std::string path = options_.data_dir + "/" + std::string(stream_index_directory);
  if (options_.read_only && !std::filesystem::exists(path + "/CURRENT")) {
    // Last written by a version that kept the index in the log's own column family.
    columns_->index_db = db_.get();
    columns_->index = columns_->stream_index;
    columns_->index_head = columns_->head;
    return Status::Ok();
  }
  if (!options_.read_only) {
    const std::string ingest_path =
        options_.data_dir + "/" + std::string(stream_index_ingest_directory);
    std::error_code error;
    std::filesystem::remove_all(ingest_path, error);  // a table file a crash left behind
    if (!error) std::filesystem::create_directories(ingest_path, error);
    if (error) return Status::IOError("cannot prepare " + ingest_path + ": " + error.message());
  }
  rocksdb::DB* db = nullptr;
  MALPRO_RETURN_IF_ERROR(FromRocks(options_.read_only
                                       ? rocksdb::DB::OpenForReadOnly(index_db_options, path, &db)
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
    batch.DeleteRange(columns_->stream_index, rocksdb::Slice(),
                      rocksdb::Slice(stream_index_keys_end));
    batch.Delete(columns_->head, index_head_key);
    MALPRO_RETURN_IF_ERROR(
        FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "empty the old stream index"));
  }
  return Status::Ok();
}

Status EventLog::LoadHead() {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->head, chain_head_key, &value);
  std::unique_ptr<rocksdb::Iterator> last(
      db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
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
  if (!DecodeChainHeadRecord(value, &head_.sequence, &head_.hash)) {
    return Status::Corruption("chain head record has a bad size");
  }
  if (last->Valid()) {
    Result<Event> event =
        DecodeEnvelope(std::string_view(last->value().data(), last->value().size()));
    if (event.ok()) last_recorded_at_us_ = event->recorded_at_us;
  }
  return Status::Ok();
}

Status EventLog::CapHead() {
  const uint64_t until = options_.read_until;
  if (until > head_.sequence) {
    return Status::InvalidArgument(errc::kSequenceInvalid, "read_until",
                                   "the log holds sequences 1.." + std::to_string(head_.sequence) +
                                       ", not " + std::to_string(until));
  }
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), columns_->events, SequenceKey(until), &value);
  if (status.IsNotFound())
    return Status::Corruption("the log misses event " + std::to_string(until));
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read the event to stop at"));
  Result<Event> event = DecodeEnvelope(value);
  if (!event.ok()) return event.status();
  head_ = ChainHead{until, event->hash};
  last_recorded_at_us_ = event->recorded_at_us;
  return Status::Ok();
}

Result<std::optional<uint64_t>> EventLog::UnfinishedGroup() const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), columns_->head, unfinished_group_key, &value);
  if (status.IsNotFound()) return std::optional<uint64_t>();
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read unfinished group record"));
  if (value.size() != sequence_record_bytes) {
    return Status::Corruption("unfinished group record has a bad size");
  }
  return std::optional<uint64_t>(LoadU64(value));
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
    return Status::Corruption(
        "event " + std::to_string(tail->first_bad_sequence) +
        " after the chain head record does not continue its chain: " + tail->problem);
  }
  if (head_.sequence > 0) {
    std::string first;
    MALPRO_RETURN_IF_ERROR(FromRocks(
        db_->Get(rocksdb::ReadOptions(), columns_->events, SequenceKey(head_.sequence + 1), &first),
        "read unfinished group"));
    if (first.size() < envelope_hashes_bytes || StoredPreviousHash(first) != HashView(head_.hash)) {
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
  batch.Delete(columns_->head, unfinished_group_key);
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
  std::unique_ptr<rocksdb::Iterator> last(
      db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
  last->SeekToLast();
  uint64_t last_sequence = 0;
  if (last->Valid() &&
      !ParseSequenceKey(std::string_view(last->key().data(), last->key().size()), &last_sequence)) {
    return Status::Corruption("the last key of the log is not an 8-byte sequence");
  }
  if (last_sequence != head_.sequence) {
    return Status::Corruption("the chain head record says " + std::to_string(head_.sequence) +
                              " but the last event is " + std::to_string(last_sequence));
  }
  if (head_.sequence == 0) return Status::Ok();
  const uint64_t from =
      head_.sequence > open_verify_tail_events ? head_.sequence - open_verify_tail_events + 1 : 1;
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

namespace {

// Writes `batch` into `target` and starts it over.
Status WriteCopied(rocksdb::DB& target, rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;  // flushed into table files at the end
  MALPRO_RETURN_IF_ERROR(FromRocks(target.Write(write_options, &batch), "write the copy"));
  batch.Clear();
  return Status::Ok();
}

}  // namespace

Status EventLog::CopyColumns(rocksdb::DB& target,
                             const std::vector<rocksdb::ColumnFamilyHandle*>& handles) const {
  constexpr size_t kBatchBytes = 4 << 20;
  rocksdb::WriteBatch batch;
  // Every key in order: the idempotency family's hashed memtable and prefix filters would
  // otherwise show a scan only the keys of one prefix (none, from SeekToFirst).
  rocksdb::ReadOptions read_options;
  read_options.total_order_seek = true;
  read_options.fill_cache = false;
  for (size_t i = 0; i < columns_->all.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, columns_->all[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      MALPRO_RETURN_IF_ERROR(
          FromRocks(batch.Put(handles[i], it->key(), it->value()), "stage the copy"));
      if (batch.GetDataSize() >= kBatchBytes) MALPRO_RETURN_IF_ERROR(WriteCopied(target, batch));
    }
    MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read " + options_.data_dir));
  }
  if (batch.Count() > 0) MALPRO_RETURN_IF_ERROR(WriteCopied(target, batch));
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(target.Flush(flush, handles), "flush the copy");
}

Status EventLog::CopyTo(const std::string& target_dir) const {
  if (std::filesystem::exists(target_dir + "/CURRENT")) {
    return Status::InvalidArgument(errc::kOutNotEmpty, "target",
                                   target_dir + " already holds a database");
  }
  LogOptions target_options = options_;
  target_options.data_dir = target_dir;
  target_options.read_only = false;
  rocksdb::Options db_options = DatabaseOptions(target_options);
  db_options.error_if_exists = true;
  const ColumnOptions column_options = MakeColumnOptions(target_options, nullptr);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : ColumnFamilyNames()) {
    descriptors.emplace_back(name, name == idempotency_column_name ? column_options.idempotency
                                   : name == events_column_name    ? column_options.events
                                                                   : column_options.plain);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* opened = nullptr;
  MALPRO_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(db_options, target_dir, descriptors, &handles, &opened),
                "create " + target_dir));
  std::unique_ptr<rocksdb::DB> target(opened);
  Status copied = CopyColumns(*target, handles);
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    target->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  const rocksdb::Status closed = target->Close();
  MALPRO_RETURN_IF_ERROR(copied);
  return FromRocks(closed, "close " + target_dir);
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

}  // namespace malpro
