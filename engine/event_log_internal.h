// What the files of the event log share and nobody else sees: the private parts of EventLog
// (event_log.h), the conversion of RocksDB's errors, and the checks of an append request.
//
// The log is split by responsibility, as leveldb splits its database:
//   event_log.cc          the accessors: head, counters, health, idempotency lookups, blobs
//   event_log_open.cc     open, recovery of a group cut short, the tail check, close
//   event_log_request.cc  the checks of an append request (field rules) and its digest
//   event_log_writer.cc   the append queue, group staging, the putter and the syncer
//   event_log_replica.cc  a replica's append: events another log wrote, checked and staged
//   stream_index.cc       the stream index: catch-up, indexer, ingester, version lookups
//   event_log_reader.cc   reads by sequence and by stream, and the Scanner
//   event_log_verify.cc   Verify, the recomputation of the hash chain
// The bytes they read and write are named in log_format.h.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/event_log.h"
#include "engine/log_format.h"

namespace malpro {

inline Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(message);
  return Status::IOError(message);
}

// ---- The checks of an append request (event_log_request.cc; docs/event-log-format.md, 4) ----

// Checks everything about a request that does not depend on the log's state but the JSON of
// its payloads (CheckPayloads). Runs on the caller's thread so that the writer only does what
// must be serial. Sets *payload_bytes to the command's payload bytes.
Status ValidateRequest(const AppendRequest& request, size_t* payload_bytes);
// That each payload is a minified JSON object, the costly part of checking a request.
Status CheckPayloads(const AppendRequest& request);
// That `stream_id` is a valid stream id (the field "stream_id"), for reads by stream.
Status CheckStreamId(std::string_view stream_id);
// "name[index].member", the field of one element of a request's list.
std::string IndexedField(std::string_view name, size_t index, std::string_view member);

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

// ---- The private parts of EventLog ----

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
  void Add(const IndexEntries& group) {
    for (const IndexEntries::Entry& entry : group.entries) {
      Add(group.StreamId(entry), entry.version, entry.sequence);
    }
  }

  const std::vector<Entry>* Find(std::string_view stream_id) const {
    auto found = streams.find(stream_id);
    return found == streams.end() ? nullptr : &found->second;
  }

  // Appends the stream's entries from version `from` on to `out`, until it holds `limit`.
  void Collect(std::string_view stream_id, uint64_t from, size_t limit,
               std::vector<Entry>* out) const;
};

struct EventLog::PendingAppend {
  AppendRequest request;
  std::vector<ReplicatedEvent> replicated;  // a replica's batch instead of a request
  Hash request_digest{};
  size_t payload_bytes = 0;
  std::shared_ptr<PayloadCheck> payload_check;  // set when checked while staged
  std::promise<Result<AppendResult>> promise;   // Append waits on it
  AppendDone done;                              // AppendAsync's instead of the promise
  bool finished = false;                        // each append is answered exactly once

  // Answers the append: calls `done`, or fulfils the promise. Exactly once.
  void Finish(Result<AppendResult> result);
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
  std::unique_ptr<rocksdb::WriteBatch> batch;   // the part being staged
  bool parted = false;                          // a part has been sent to be written
  std::unique_ptr<IndexEntries> index_entries;  // the stream index entries, for the indexer

  // Marks where a command staged while its payloads are checked begins.
  void SetSavePoint();
  // Ends that command's savepoint with the check's outcome, `checked`, which it returns: a
  // pass keeps what was staged; a failure takes it out of the group again, winding back the
  // versions of its first `staged` events and the head to `head_before`.
  Status EndSavePoint(Status checked, const ChainHead& head_before, size_t staged);
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

}  // namespace malpro
