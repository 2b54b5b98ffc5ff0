// The stream index (docs/event-log-format.md, sections 1 and 6): derived data, kept by an
// indexer thread that takes each synced group's entries into memory and an ingester thread
// that writes them, sorted, into table files the index database ingests; and the lookups of a
// stream's version that the writer and readers make.
#include <rocksdb/sst_file_writer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <shared_mutex>

#include "engine/event_log_internal.h"

namespace malpro {
namespace {

// The stream index's threads yield the CPU to the write path (nice levels; best effort).
void LowerThisThreadsPriority() {
  const auto thread = static_cast<id_t>(gettid());
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, thread);
  if (errno == 0) {
    setpriority(PRIO_PROCESS, thread, std::min(nice + indexer_nice_increment, 19));
  }
}

}  // namespace

void EventLog::PendingIndex::Collect(std::string_view stream_id, uint64_t from, size_t limit,
                                     std::vector<Entry>* out) const {
  const std::vector<Entry>* stream = Find(stream_id);
  if (stream == nullptr) return;
  auto first = std::lower_bound(stream->begin(), stream->end(), from,
                                [](const Entry& entry, uint64_t v) { return entry.version < v; });
  for (; first != stream->end() && out->size() < limit; ++first) out->push_back(*first);
}

Status EventLog::CatchUpIndex() {
  std::string value;
  rocksdb::DB* index_db = columns_->index_db;
  rocksdb::Status status =
      index_db->Get(rocksdb::ReadOptions(), columns_->index_head, index_head_key, &value);
  if (!status.IsNotFound()) MALPRO_RETURN_IF_ERROR(FromRocks(status, "read index head"));
  uint64_t indexed = status.ok() ? LoadBigEndian(value) : 0;
  if (indexed > head_.sequence) {
    // Ahead of the log (a directory put together from different backups): the index is
    // derived data, so it starts over from the log.
    rocksdb::WriteBatch clear;
    clear.DeleteRange(columns_->index, rocksdb::Slice(), rocksdb::Slice(stream_index_keys_end));
    MALPRO_RETURN_IF_ERROR(
        FromRocks(index_db->Write(rocksdb::WriteOptions(), &clear), "clear the stream index"));
    indexed = 0;
  }
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), columns_->events));
  for (it->Seek(SequenceKey(indexed + 1)); it->Valid(); it->Next()) {
    Result<Event> event = DecodeEnvelope(std::string_view(it->value().data(), it->value().size()));
    if (!event.ok()) return event.status();
    batch.Put(columns_->index, StreamIndexKey(event->stream_id, event->stream_version), it->key());
    indexed = event->sequence;
    if (batch.Count() >= index_catch_up_batch_events) {
      batch.Put(columns_->index_head, index_head_key, EncodeU64(indexed));
      MALPRO_RETURN_IF_ERROR(FromRocks(index_db->Write(rocksdb::WriteOptions(), &batch), "index"));
      batch.Clear();
    }
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read log for the index"));
  if (batch.Count() > 0) {
    batch.Put(columns_->index_head, index_head_key, EncodeU64(indexed));
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

  const std::string path = options_.data_dir + "/" + std::string(stream_index_ingest_directory) +
                           "/index-" + std::to_string(sealed.last_sequence) + ".sst";
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *index_db_options_);
  MALPRO_RETURN_IF_ERROR(FromRocks(writer.Open(path), "open " + path));
  // The head record goes in the same file as the entries it covers, at its place in key
  // order: an ingested file is all there or not at all.
  const rocksdb::Slice head_key(index_head_key);
  const std::string head_value = EncodeU64(sealed.last_sequence);
  bool head_written = false;
  rocksdb::Status status;
  std::string key;
  char value[stream_index_value_bytes];
  for (Stream* stream : streams) {
    key.assign(stream->first);
    key.push_back(stream_index_separator);
    if (!head_written && head_key.compare(rocksdb::Slice(key)) < 0) {
      status = writer.Put(head_key, head_value);
      head_written = true;
    }
    for (const PendingIndex::Entry& entry : stream->second) {
      if (!status.ok()) break;
      key.resize(stream->first.size() + 1);
      char version[sizeof(uint64_t)];
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
      columns_->index_db->Get(rocksdb::ReadOptions(), columns_->index_head, index_head_key, &value);
  if (!found.IsNotFound()) MALPRO_RETURN_IF_ERROR(FromRocks(found, "read index head"));
  const uint64_t indexed = found.ok() ? LoadBigEndian(value) : 0;
  const uint64_t head = Head().sequence;
  auto tail = std::make_unique<PendingIndex>();
  if (indexed < head) {
    rocksdb::ReadOptions read_options;
    read_options.fill_cache = false;
    read_options.readahead_size = scan_readahead_bytes;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, columns_->events));
    Event event;
    for (it->Seek(SequenceKey(indexed + 1)); it->Valid(); it->Next()) {
      MALPRO_RETURN_IF_ERROR(
          DecodeEnvelopeInto(std::string_view(it->value().data(), it->value().size()), &event));
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
  rocksdb::Status found = columns_->index_db->Get(rocksdb::ReadOptions(), columns_->index,
                                                  StreamIndexKey(stream_id, 1), &first);
  if (found.IsNotFound()) return uint64_t{0};
  MALPRO_RETURN_IF_ERROR(FromRocks(found, "read stream version"));
  // The stream's last entry: the one before the highest possible version.
  rocksdb::ReadOptions read_options;
  read_options.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(
      columns_->index_db->NewIterator(read_options, columns_->index));
  const std::string prefix = StreamIndexPrefix(stream_id);
  it->SeekForPrev(StreamIndexKey(stream_id, UINT64_MAX));
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read stream version"));
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) {
    return Status::Corruption("stream index: version 1 of " + std::string(stream_id) +
                              " exists but its last entry was not found");
  }
  return LoadU64(std::string_view(it->key().data() + prefix.size(), 8));
}

}  // namespace malpro
