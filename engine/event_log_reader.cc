// Reads of the event log: by sequence (Read, ReadInto, the Scanner) and by stream
// (ReadStream, StreamVersion). Nothing past the durable head is shown.
#include <algorithm>
#include <cstring>
#include <shared_mutex>

#include "engine/event_log_internal.h"

namespace malpro {

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

uint64_t EventLog::LastShown() const {
  if (!options_.read_only) return Head().sequence;
  return options_.read_until > 0 ? options_.read_until : UINT64_MAX;
}

Status EventLog::ReadInto(uint64_t from_sequence, size_t limit, std::vector<Event>* events) const {
  limit = std::min(limit, read_events_max);
  from_sequence = std::max<uint64_t>(from_sequence, 1);
  // Groups are written before they are synced: nothing past the durable head is shown.
  const uint64_t last = LastShown();
  if (from_sequence > last)
    limit = 0;
  else
    limit = static_cast<size_t>(std::min<uint64_t>(limit, last - from_sequence + 1));
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
  scanner->last_ = LastShown();
  scanner->it_.reset(db_->NewIterator(ScanReadOptions(), columns_->events));
  return scanner;
}

EventLog::Scanner::~Scanner() = default;

Status EventLog::Scanner::ReadInto(size_t limit, std::vector<Event>* events) {
  limit = std::min(limit, read_events_max);
  if (next_ > last_)
    limit = 0;
  else
    limit = static_cast<size_t>(std::min<uint64_t>(limit, last_ - next_ + 1));
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

Status EventLog::Scanner::ReadHashes(size_t limit, std::vector<Hash>* hashes) {
  hashes->clear();
  limit = std::min(limit, read_events_max);
  if (next_ > last_) return Status::Ok();
  limit = static_cast<size_t>(std::min<uint64_t>(limit, last_ - next_ + 1));
  if (!positioned_) {
    it_->Seek(SequenceKey(next_));
    positioned_ = true;
  }
  for (; it_->Valid() && hashes->size() < limit; it_->Next()) {
    const std::string_view stored(it_->value().data(), it_->value().size());
    const uint64_t wanted = next_ + hashes->size();
    if (stored.size() < envelope_frame_head_bytes + envelope_hashes_bytes ||
        EnvelopeSequence(stored) != wanted) {
      return Status::Corruption("event " + std::to_string(wanted) +
                                " is missing or too short to hold its hash");
    }
    Hash& hash = hashes->emplace_back();
    std::memcpy(hash.data(), StoredHash(stored).data(), hash_bytes);
  }
  next_ += hashes->size();
  MALPRO_RETURN_IF_ERROR(FromRocks(it_->status(), "read events"));
  if (hashes->size() < limit) {
    return Status::Corruption("event " + std::to_string(next_) + " is missing from the log");
  }
  return Status::Ok();
}

Result<std::vector<Event>> EventLog::ReadStream(std::string_view stream_id, uint64_t from_version,
                                                size_t limit) const {
  MALPRO_RETURN_IF_ERROR(CheckStreamId(stream_id));
  limit = std::min(limit, read_events_max);
  MALPRO_RETURN_IF_ERROR(WaitForIndex(Head().sequence));
  from_version = std::max<uint64_t>(from_version, 1);
  const std::string prefix = StreamIndexPrefix(stream_id);
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
    uint64_t sequence = 0;
    if (!DecodeStreamIndexEntry(it->key().ToStringView(), it->value().ToStringView(), prefix.size(),
                                &last_version, &sequence)) {
      return Status::Corruption("malformed stream index entry for " + std::string(stream_id));
    }
    sequences.push_back(sequence);
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "read stream"));
  for (const PendingIndex::Entry& entry : pending) {
    if (sequences.size() >= limit) break;
    if (entry.version > last_version) sequences.push_back(entry.sequence);
  }
  // A read-only log as of a sequence: a stream's later versions come later in the log.
  const uint64_t last_shown = LastShown();
  while (!sequences.empty() && sequences.back() > last_shown) sequences.pop_back();
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
  MALPRO_RETURN_IF_ERROR(CheckStreamId(stream_id));
  MALPRO_RETURN_IF_ERROR(WaitForIndex(Head().sequence));
  if (!options_.read_only || options_.read_until == 0) return LastIndexedVersion(stream_id);
  // As of a sequence: the versions whose events the reads show, counted.
  uint64_t version = 0;
  for (;;) {
    Result<std::vector<Event>> events = ReadStream(stream_id, version + 1, read_events_max);
    if (!events.ok()) return events.status();
    version += events->size();
    if (events->size() < read_events_max) return version;
  }
}

}  // namespace malpro
