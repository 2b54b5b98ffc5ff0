// EventLog: the durable, append-only, hash-chained log of every event, backed by RocksDB.
//
// Layout (docs/event-log-format.md; every name and record is in engine/log_format.h): column
// family "events" maps the 8-byte big-endian sequence to the envelope; "blobs" maps a SHA-256
// to the bytes it hashes; "idempotency" maps a command's idempotency key to its digest and
// result; "default" holds the chain head. The stream index, a database of its own in
// <data_dir>/stream-index, maps (stream id, 0x00, version) to the sequence, so a stream's
// current version is its last index key. The implementation is split by responsibility
// (engine/event_log_internal.h lists the files).
//
// Threading: every method is safe to call from any thread. Appends are queued to a single
// writer thread that checks them in order and combines concurrent ones into one group (group
// commit) of envelopes ending with the chain head record. A group is usually one RocksDB
// write. A large one is written in parts of about 64 KiB by a putter thread while the writer
// stages the next part (hashing is serial, so this is where a large command gains a second
// core); its first part records that the group is unfinished, and its last part, with the
// head record, clears that again. A syncer thread then fdatasyncs the write-ahead log, while
// the writer already stages and writes the next group; one sync covers every group written
// before it. Only then does the durable head advance and are the group's commands answered,
// refusals and replays included. Readers see nothing past the durable head, so nothing they
// read can be lost in a crash. The stream index is derived data: an indexer thread, at a
// lower CPU priority, takes each durable group's index entries into memory, where readers
// find them at once; every index_entries_in_memory entries an ingester thread
// writes them, sorted, into a table file that the index database ingests, with the index's
// checkpoint in the same file. On open the index catches up from the log past that
// checkpoint. Stream reads wait until the index has reached the head they started at.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/envelope.h"
#include "engine/hash.h"
#include "engine/log_limits.h"
#include "engine/result.h"

namespace rocksdb {
class DB;
class Iterator;
struct Options;
class Env;
class ColumnFamilyHandle;
class CompactionFilter;
class WriteBatch;
}  // namespace rocksdb

namespace malpro {

struct IdempotencyRecord;  // log_format.h

struct LogOptions {
  // Directory of the RocksDB database; created when missing (unless read_only).
  std::string data_dir = "data";
  // Opens without the writer and without taking RocksDB's lock, so an auditor can verify a
  // copy, or the live directory, while `malpro serve` runs. Appends fail with Unavailable.
  bool read_only = false;
  // With read_only: the log as it stood at this sequence (0: its whole length). Head() is this
  // event's, and no read shows an event after it (`malpro audit replay --serve`). An error
  // (sequence_invalid) when the log does not hold it.
  uint64_t read_until = 0;
  // Syncs each group write to disk before acknowledging. Only benchmarks of throwaway data
  // turn this off; the log promises durability only when it is on.
  bool sync = true;
  // The RocksDB environment; null for the default. Tests pass one that injects faults.
  rocksdb::Env* env = nullptr;
  // On open, re-verify the chain of the last open_verify_tail_events events and check that
  // the head record matches the last event. `malpro audit verify` turns it off so that it can
  // report damage instead of refusing to open.
  bool check_on_open = true;
  // Idempotency keys older than this are dropped during compaction. At least 7.
  int64_t idempotency_retention_days = 30;
  // RocksDB memtable size per column family.
  size_t write_buffer_bytes = 64 * 1024 * 1024;
  // RocksDB block cache shared by all column families.
  size_t block_cache_bytes = 256 * 1024 * 1024;
  // Stream index entries kept in memory before they are written into the index database
  // (tests lower it to make the index write many small files).
  size_t index_entries_in_memory = stream_index_pending_entries_max;
  // UTC microseconds since the epoch; the system clock when empty. Recorded times never go
  // backwards: an event is stamped max(clock(), previous event's time).
  std::function<int64_t()> clock;
};

// One event a command wants to write. The log assigns sequence, version, time and hashes.
struct ProposedEvent {
  std::string stream_id;
  std::string type;
  std::string payload;  // minified JSON object
};

// Optimistic concurrency: the command is refused unless `stream_id` is at `version` now.
// Version 0 means the stream must not exist yet.
struct StreamExpectation {
  std::string stream_id;
  uint64_t version = 0;
};

// One command: all of its events are written, or none.
struct AppendRequest {
  std::vector<ProposedEvent> events;
  std::vector<StreamExpectation> expectations;  // streams not listed are not checked
  std::string actor;                            // who caused it; required
  std::string idempotency_key;                  // empty: none
  // What "the same request" means for the idempotency key. When empty, the digest of the
  // actor, expectations and events. Callers whose events depend on state (e.g. prices at the
  // moment an order is placed) pass the digest of the request they received instead.
  std::optional<Hash> request_digest;
};

struct AppendResult {
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  // The stream version given to the first event; 0 when replayed (read the event instead).
  uint64_t first_stream_version = 0;
  // True when the idempotency key matched an earlier identical request: nothing was written
  // and the sequences are the original ones.
  bool replayed = false;
};

// One event as another log (the primary) wrote it, for a replica's AppendReplicated.
struct ReplicatedEvent {
  Event event;
  // The request digest of the command the event belongs to when it carried an idempotency
  // key (the relayed record's request_digest header); zero when unknown. Kept with the key, so
  // that a promoted replica answers a retried command as the primary would have.
  Hash request_digest = zero_hash;
};

// What an idempotency key was used for.
struct IdempotencyEntry {
  Hash request_digest{};
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
};

struct ChainHead {
  uint64_t sequence = 0;  // 0 for an empty log
  Hash hash = zero_hash;
};

// Which writer appends the log from which sequence on. A log that was never promoted is epoch 1
// from sequence 1 with no writer name. `malpro promote` raises the epoch and names the new
// writer; a read replica records the epoch of what it applies, with writer "replica". The
// Kafka adapter carries the epoch on every relayed record and fences lower ones
// (docs/replication.md, "A standby: promotion and fencing").
struct WriterEpoch {
  uint64_t epoch = 1;
  uint64_t first_sequence = 1;  // the first event of this epoch
  std::string writer;
};

// Counters since open, for metrics.
struct LogCounters {
  uint64_t commands_appended = 0;  // commands written (not replays, not refusals)
  uint64_t events_appended = 0;
  uint64_t groups_synced = 0;     // groups written and made durable; commands / groups is the
                                  // group-commit factor
  uint64_t syncs = 0;             // fdatasyncs of the write-ahead log, each for one or more groups
  uint64_t commands_refused = 0;  // conflicts and idempotency refusals decided by the writer
  // Events of a group written in parts and cut short by a crash (none was acknowledged),
  // removed when the log was opened.
  uint64_t unfinished_events_removed = 0;
};

struct VerifyReport {
  bool ok = true;
  uint64_t events_checked = 0;
  // First sequence that failed and why; set when !ok.
  uint64_t first_bad_sequence = 0;
  std::string problem;
  // The last event that verified (its sequence and hash).
  ChainHead verified_head;
  // Events after the chain head record that belong to a group cut short by a crash while it
  // was written in parts: never acknowledged, not part of the chain the head vouches for, and
  // removed when the log is next opened for writing. They continue the chain from the head
  // (checked); anything else after the head is reported as a problem.
  uint64_t unfinished_events = 0;
};

// `report` marked failed: not ok, first bad at `sequence`, for `problem`.
VerifyReport VerifyFailure(VerifyReport report, uint64_t sequence, std::string problem);

class EventLog {
 public:
  // Opens or creates the log in options.data_dir. Corruption when the open checks fail.
  static Result<std::unique_ptr<EventLog>> Open(LogOptions options);

  // Finishes queued appends, then closes.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Writes the command's events atomically and durably. Errors (nothing written):
  //   InvalidArgument / LimitExceeded: a field breaks a rule (the field is named);
  //   Conflict "stream_version_conflict": an expectation did not hold;
  //   Conflict "idempotency_key_reused": the key was used for a different request;
  //   IOError: the write or its sync failed (the outcome is unknown); the log then refuses
  //   further appends until reopened;
  //   Unavailable "log_closed" / "log_read_only".
  Result<AppendResult> Append(AppendRequest request);
  // The same without waiting: `done` gets the result, exactly once, on the log's syncing
  // thread once the group holding the command is durable (or at once, on this thread, when the
  // request is refused before it is queued). A command of overlapped_check_events_min events
  // or more has its payloads' JSON checked on this thread after it is queued, while the writer
  // stages it; a bad payload there is answered like a conflict, on the syncing thread. `done`
  // must be quick and must not call into the log (the syncer would wait for itself): hand the
  // result on.
  using AppendDone = std::function<void(Result<AppendResult>)>;
  void AppendAsync(AppendRequest request, AppendDone done);

  // A replica's append: writes events another log wrote, byte for byte the same envelopes, so
  // that this log becomes a copy of that one. The batch (at most replicated_events_max events
  // and command_payload_bytes_max of payload) must continue this log: its first event follows
  // the head in sequence and chain, each the one before it, each carries the hash of its own
  // canonical bytes and is its stream's next version. Events with an idempotency key record it
  // as the primary did (a command cut across two batches is joined), with the digest given.
  // The whole batch is written durably, or nothing. Errors (nothing written): InvalidArgument /
  // LimitExceeded (replica_events_missing, replica_batch_too_large); Conflict
  // replica_event_invalid (an event's hash, layout or stream id is wrong, or it does not follow
  // the event before it: the message names the sequence), replica_chain_broken (the batch does
  // not follow this log's head) or replica_stream_version (an event is not its stream's next
  // version); and Append's IOError and Unavailable. A batch counts as one command in Counters().
  Result<AppendResult> AppendReplicated(std::vector<ReplicatedEvent> events);
  // The same without waiting, as AppendAsync: `done` gets the result exactly once, on the
  // log's syncing thread once the batch is durable (or at once, on this thread, when it is
  // refused before it is queued), and must not call into the log. Batches queued one after
  // another are checked and written in that order.
  void AppendReplicatedAsync(std::vector<ReplicatedEvent> events, AppendDone done);

  // Up to `limit` (at most read_events_max) durable events from `from_sequence` on, in order.
  Result<std::vector<Event>> Read(uint64_t from_sequence, size_t limit) const;
  // The same into `*events`, replacing what it held and reusing its events' room (a reader
  // that goes through the log batch by batch). On failure it holds the events read before.
  Status ReadInto(uint64_t from_sequence, size_t limit, std::vector<Event>* events) const;

  // A forward scan for a reader that goes through many events in order (a catch-up, a
  // replay): one RocksDB iterator and its read-ahead serve every batch, where each ReadInto
  // seeks and reads ahead anew (~0.4 ms a call). It shows the events that were durable when
  // Scan was called (a read-only log: all of them). It must not outlive the log.
  class Scanner {
   public:
    ~Scanner();
    Scanner(const Scanner&) = delete;
    Scanner& operator=(const Scanner&) = delete;
    // The next up to `limit` (at most read_events_max) events, into `*events` as ReadInto
    // does; none at the end.
    Status ReadInto(size_t limit, std::vector<Event>* events);
    // The stored hashes of the next up to `limit` (at most read_events_max) events, without
    // decoding them (the Merkle tree's leaves); none at the end. Corruption when an event is
    // missing or too short to hold them.
    Status ReadHashes(size_t limit, std::vector<Hash>* hashes);

   private:
    friend class EventLog;
    Scanner() = default;
    std::unique_ptr<rocksdb::Iterator> it_;
    uint64_t next_ = 0;  // the sequence the next event should have
    uint64_t last_ = 0;  // the last sequence shown
    bool positioned_ = false;
  };
  std::unique_ptr<Scanner> Scan(uint64_t from_sequence) const;

  // Up to `limit` events of one stream from version `from_version` (1-based) on.
  Result<std::vector<Event>> ReadStream(std::string_view stream_id, uint64_t from_version,
                                        size_t limit) const;

  // The stream's current version, 0 when it does not exist.
  Result<uint64_t> StreamVersion(std::string_view stream_id) const;

  // The last durable event's sequence and hash.
  ChainHead Head() const;

  // The writer's epoch (struct WriterEpoch); epoch 1 from sequence 1 when none was set.
  Result<WriterEpoch> Epoch() const;
  // Records a new epoch, synced. InvalidArgument log_epoch_invalid when it is lower than the
  // current one, or starts past head + 1; LogReadOnly on a read-only open.
  Status SetEpoch(const WriterEpoch& epoch);

  // Counters since open. Thread-safe.
  LogCounters Counters() const;
  // OK while appends are accepted; the write error once a synced write failed (appends are
  // then refused until the log is reopened).
  Status Health() const;

  // Blocks until Head().sequence >= sequence or the timeout passes; returns whether it got there.
  bool WaitForSequence(uint64_t sequence, std::chrono::milliseconds timeout) const;

  // Recomputes the chain over [from, to] (to = 0: the head). For from > 1 the stored hash of
  // event from-1 is the anchor. Reports the first bad sequence: a missing event, an event
  // stored under the wrong key, a broken envelope layout, a previous hash that does not link,
  // or altered content. When `to` is the head, also checks that the last hash equals the
  // chain head record and that no event follows it (beyond a group written and waiting for
  // its sync). A rewrite of the tail together with the head record can only be caught
  // against a head hash kept elsewhere (Kafka, a receipt).
  // `progress`, when set, is called with the sequence reached every 65,536 events.
  Result<VerifyReport> Verify(uint64_t from, uint64_t to,
                              const std::function<void(uint64_t)>& progress = {}) const;

  // The durable record of an idempotency key, if it was used (and not yet expired); waits
  // while the command that used it is written but not yet synced.
  Result<std::optional<IdempotencyEntry>> LookupIdempotency(std::string_view key) const;
  // The records of many keys in one batched read, in `*entries` (one per key, in order), for
  // keys whose commands are durable (the relay's). Faster than a lookup each.
  Status LookupIdempotencyMany(const std::vector<std::string_view>& keys,
                               std::vector<std::optional<IdempotencyEntry>>* entries) const;

  // Content-addressed storage beside the log, for files that events refer to by hash (photos
  // of receipts). Stores `bytes` under their SHA-256, synced; storing the same bytes twice is
  // harmless. LimitExceeded beyond blob_bytes_max.
  Result<Hash> PutBlob(std::string_view bytes);
  // NotFound when no blob has that hash.
  Result<std::string> GetBlob(const Hash& hash) const;

  // Compacts every column family; this is when expired idempotency keys are dropped. RocksDB
  // also compacts on its own; operators rarely need to call this.
  Status Compact();

  // Writes every record of this log's database (events, blobs, idempotency keys, head records)
  // into a new database at `target_dir` (created; out_not_empty when one is there), synced. On
  // a read-only open this is one moment of the log even while `malpro serve` writes to it: the
  // open fixed its view, and RocksDB keeps every table file it shows open. The stream index is
  // not copied: the copy's first open for writing rebuilds it from the events.
  Status CopyTo(const std::string& target_dir) const;

  // The names of the column families, for tools that open the database directly.
  static std::vector<std::string> ColumnFamilyNames();

  // The request digest the log uses when AppendRequest::request_digest is empty.
  static Hash DefaultRequestDigest(const AppendRequest& request);

 private:
  struct PendingAppend;
  struct GroupState;
  struct WrittenGroup;
  struct Part;
  struct Columns;
  struct PendingIndex;
  struct IndexEntries;

  // Open and recovery (event_log_open.cc).
  explicit EventLog(LogOptions options);
  Status OpenDatabase();
  // Opens the stream index database (for a read-only open, on its first stream read).
  Status OpenIndex() const;
  Status LoadHead();
  // Moves the head back to options_.read_until (a read-only open as of a sequence).
  Status CapHead();
  // The last sequence a read may show: the durable head, or for a read-only open its cap.
  uint64_t LastShown() const;
  // The first sequence of the group whose parts were being written, if one was cut short.
  Result<std::optional<uint64_t>> UnfinishedGroup() const;
  // Checks that the events after the head record continue its chain: their count, or an error
  // naming the first that does not.
  Result<uint64_t> CheckUnfinishedEvents() const;
  Status RemoveUnfinishedGroup();
  Status CheckTail();
  // Starts the writer's, putter's, syncer's and the stream index's threads.
  void StartThreads();

  // The writer (event_log_writer.cc).
  void WriterLoop();
  // Validates `request` and queues it for the writer with `pending`; an error means it was
  // not queued.
  Status Enqueue(AppendRequest request, std::unique_ptr<PendingAppend> pending);
  std::vector<std::unique_ptr<PendingAppend>> TakeGroup();
  void CommitGroup(std::vector<std::unique_ptr<PendingAppend>>& group);
  // Drops the idempotency records of groups now written whole: the database has them.
  void ForgetWrittenIdempotency();
  // Starts `state` after the last group written, for the commands of `group`.
  void StartGroup(const std::vector<std::unique_ptr<PendingAppend>>& group, GroupState& state);
  // Stages each command of `group` in order, adding its answer to `written`.
  void StageGroup(std::vector<std::unique_ptr<PendingAppend>>& group, GroupState& state,
                  WrittenGroup& written);
  // Ends a group that staged events: adds its idempotency records and head record to its
  // last part, which it returns, and records what the group wrote in `written`.
  std::unique_ptr<rocksdb::WriteBatch> FinishGroup(GroupState& state, WrittenGroup& written,
                                                   uint64_t events_before);
  Status StageAppend(PendingAppend& pending, GroupState& group, AppendResult* result);
  // Puts a pending append on the writer's queue; an error means it was not queued.
  Status PushPending(std::unique_ptr<PendingAppend> pending);
  // The replica's append (event_log_replica.cc): a replicated batch staged after the group's
  // head.
  Status StageReplicated(PendingAppend& pending, GroupState& group, AppendResult* result);
  // That each event of `events` is its stream's next version; loads the versions into the
  // group's event_versions.
  Status CheckReplicatedVersions(const std::vector<ReplicatedEvent>& events, GroupState& group);
  // The idempotency records `events` make, into `*records`.
  Status ReplicatedKeys(const std::vector<ReplicatedEvent>& events, const GroupState& group,
                        std::unordered_map<std::string, IdempotencyRecord>* records);
  // The record of an earlier command with the idempotency key `key`: staged in this group,
  // written but not yet in the database's view, or in the database.
  Result<std::optional<IdempotencyRecord>> EarlierUse(const std::string& key,
                                                      const GroupState& group) const;
  Status CheckExpectations(const AppendRequest& request);
  // The cached version of each event's stream, in `*versions`, before anything is staged.
  Status LoadEventVersions(const AppendRequest& request, std::vector<uint64_t*>* versions);
  // Stages the command's events (their versions loaded) into the group's parts.
  Status StageEvents(PendingAppend& pending, GroupState& group, AppendResult* result);
  // Stages event `index` of `request` after the group's head, as stream version `version`.
  void StageEvent(const AppendRequest& request, size_t index, uint64_t version, GroupState& group);
  // Sends the part staged so far to be written and starts the next one.
  void EmitPart(GroupState& group);
  // Writes `part` here when it ends a group and the putter is idle; queues it otherwise.
  void Dispatch(Part part);
  void WritePart(Part& part);
  void PutterLoop();
  // After a failed write, sync or index write: every later append and index wait gets
  // `failure` until the log is reopened.
  void StopAppends(const Status& failure);
  void HandToSyncer(WrittenGroup written);
  void SyncerLoop();
  // Blocks until `sequence` is durable, or returns the error that stopped appends.
  Status WaitForDurable(uint64_t sequence) const;
  // The stream's current version in the writer's cache, loaded from the index on a miss.
  Result<uint64_t*> CurrentVersion(std::string_view stream_id);
  int64_t Now() const;

  // The stream index (stream_index.cc).
  Result<uint64_t> LastIndexedVersion(std::string_view stream_id) const;
  Status CatchUpIndex();
  void IndexerLoop();
  // Hands the entries in memory to the ingester, once it has ingested the last ones.
  void SealPendingIndex();
  void IngesterLoop();
  // Writes `sealed` into a table file, with the index head, and ingests it.
  Status IngestIndex(const PendingIndex& sealed);
  void QueueIndexWork(std::unique_ptr<IndexEntries> entries, uint64_t last_sequence);
  Status WaitForIndex(uint64_t sequence) const;
  // Read-only opens: indexes the events past the index database's head in memory, once.
  Status IndexTailReadOnly() const;

  // CopyTo's records, column family by column family, into `target`'s `handles`.
  Status CopyColumns(rocksdb::DB& target,
                     const std::vector<rocksdb::ColumnFamilyHandle*>& handles) const;

  // Verification (event_log_verify.cc).
  // The stored hash of event `sequence`, the anchor of a range after it; false when that
  // event is missing or too short to hold a hash.
  bool ReadAnchor(uint64_t sequence, Hash* anchor) const;
  // Verify's checks when the range ends at the head: the head record agrees, and nothing but
  // a group being written or one cut short follows. `it` stands after the range.
  Result<VerifyReport> VerifyAfterHead(rocksdb::Iterator& it, uint64_t to,
                                       VerifyReport report) const;

  const LogOptions options_;
  std::unique_ptr<rocksdb::CompactionFilter> retention_filter_;  // outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  // The stream index; closed before db_. Mutable: a read-only open opens it on first use.
  mutable std::unique_ptr<rocksdb::DB> index_db_;
  // The index database's options: it is opened with them, and its table files written.
  std::unique_ptr<rocksdb::Options> index_db_options_;
  std::unique_ptr<Columns> columns_;

  // Queue of commands for the writer.
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_not_empty_;
  std::condition_variable queue_not_full_;
  std::deque<std::unique_ptr<PendingAppend>> queue_;
  bool stopping_ = false;
  Status failed_;  // set when a write failed; appends are refused from then on

  // Parts of groups on their way from the writer to the putter, in order.
  std::mutex put_mutex_;
  std::condition_variable put_work_ready_;
  std::condition_variable put_queue_not_full_;
  std::deque<Part> put_queue_;
  size_t put_outstanding_ = 0;  // queued or being written; the writer writes itself only at 0
  bool put_stopping_ = false;
  Status put_failed_;  // owned by whoever writes (putter, or writer when the putter is idle)
  std::atomic<uint64_t> put_sequence_{0};  // the last group written whole

  // Groups written (not yet synced) on their way from the writer to the syncer, in order.
  std::mutex sync_mutex_;
  std::condition_variable sync_work_ready_;
  std::condition_variable sync_queue_not_full_;
  std::vector<WrittenGroup> sync_queue_;  // taken whole by the syncer
  bool sync_stopping_ = false;
  Status sync_failed_;  // owned by the syncer: after a failed sync nothing is acknowledged

  // The durable head, for readers.
  mutable std::mutex head_mutex_;
  mutable std::condition_variable head_advanced_;
  ChainHead head_;
  LogCounters counters_;       // guarded by head_mutex_
  bool head_missing_ = false;  // opened without open checks and without a head record

  // Stream index work from the writer to the indexer, and the indexer's progress.
  struct IndexWork {
    std::unique_ptr<IndexEntries> entries;
    uint64_t last_sequence = 0;
  };
  mutable std::mutex index_mutex_;
  std::condition_variable index_work_ready_;
  std::condition_variable index_queue_not_full_;
  mutable std::condition_variable index_advanced_;
  std::deque<IndexWork> index_queue_;
  size_t index_queue_entries_ = 0;
  uint64_t indexed_sequence_ = 0;
  bool index_stopping_ = false;
  Status index_failed_;

  // Index entries applied by the indexer but not yet in the index database: the ones it is
  // filling, and the ones sealed for the ingester (immutable until dropped, which happens
  // only once they are ingested). Readers hold the lock shared while they look in both and
  // open their view of the database, so they see every entry at least once. A read-only
  // open has no indexer: its first stream read indexes, in memory, the events the index
  // database does not cover (a writer elsewhere may hold them in its memory).
  mutable std::shared_mutex pending_index_mutex_;
  std::condition_variable_any index_sealed_;    // the ingester has work, or is to stop
  std::condition_variable_any index_ingested_;  // the sealed entries were ingested (or failed)
  mutable std::unique_ptr<PendingIndex> pending_index_;  // mutable: see above
  mutable std::once_flag read_only_index_once_;
  mutable Status read_only_index_status_;
  std::unique_ptr<PendingIndex> sealed_index_;
  bool ingest_stopping_ = false;
  bool ingest_failed_ = false;

  // Owned by the writer thread.
  ChainHead written_head_;  // the last group written; the syncer makes it durable
  std::atomic<uint64_t> written_sequence_{0};  // its sequence, for Verify on other threads
  int64_t last_recorded_at_us_ = 0;
  // Each stream's version, including what the group being staged has added.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> stream_versions_;
  // Idempotency records of groups staged but not yet written whole, which a lookup in the
  // database cannot see yet; each group's keys with its last sequence, dropped once written.
  std::unordered_map<std::string, IdempotencyEntry, StringHash, std::equal_to<>>
      unwritten_idempotency_;
  std::deque<std::pair<uint64_t, std::vector<std::string>>> unwritten_groups_;

  std::thread writer_;
  std::thread putter_;
  std::thread syncer_;
  std::thread indexer_;
  std::thread ingester_;
};

}  // namespace malpro
