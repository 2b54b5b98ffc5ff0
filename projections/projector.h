// Projector: keeps the read models (projections/read_models.h) folded behind the event log,
// stores them in their own RocksDB database (one column family per projection), and answers
// every query on them. docs/projections.md describes the rows and the rules.
//
// Exactly once: each commit writes the rows changed since the last commit and, in every
// projection's column family, the checkpoint (last sequence folded, with its hash and the
// projection's version) in one atomic RocksDB write batch, or, for a long catch-up, in one
// table file per column family that the database ingests atomically. After a crash the
// stored rows are the fold of events 1..checkpoint, and folding resumes at checkpoint + 1.
//
// Rebuild: on open, when a projection's stored version differs from its code's, a checkpoint
// is missing or does not name an event of this log, every projection is dropped and rebuilt
// from sequence 1 (they share one pass over the log), with progress reported.
//
// Threading: all methods are thread-safe. One thread folds (CatchUp, or the thread Start
// runs); queries take a shared lock and see the state as of the last commit. A catch-up runs
// in three stages, one thread each: reading the log, the world turning events into facts,
// and the read models folding facts and committing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/event_log.h"
#include "projections/read_models.h"
#include "projections/stage_queue.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace malpro {

struct ProjectorOptions {
  // The RocksDB directory of the read models; created when missing. `malpro serve` uses
  // <data_dir>/projections; `malpro audit replay` a directory of its own.
  std::string dir;
  // Fold no further than this sequence (0: follow the log). `audit replay --until`.
  uint64_t until_sequence = 0;
  // Events read from the log per step.
  size_t read_batch_events = 8192;
  // While catching up, commit at least this often (bounds the rows held changed in memory),
  // unless the catch-up ends within a quarter of it.
  uint64_t catch_up_commit_events = 1'000'000;
  // A catch-up's commit of at least this many events is written as table files that the
  // database takes in whole (a rebuild's rows), instead of through its write-ahead log.
  uint64_t bulk_commit_events = 100'000;
  // Row changes kept in memory for subscribers (SSE, changelogs); older ones are dropped
  // and a subscriber that falls behind them starts again from a snapshot.
  size_t changes_retained_max = 200'000;
  // Lines of progress while rebuilding or catching up (e.g. to standard error).
  std::function<void(const std::string&)> progress;
};

struct ProjectionDigest {
  std::string name;
  int version = 0;
  uint64_t sequence = 0;  // the checkpoint
  uint64_t rows = 0;
  std::string sha256;  // of every stored row (key and JSON) in key order; see docs
};

struct ProjectorStatus {
  uint64_t applied = 0;  // checkpoint of the last commit
  uint64_t log_head = 0;
  uint64_t events_folded = 0;  // since open
  bool rebuilt_on_open = false;
  Status health;
};

// Changed rows after a position, for subscribers. Positions are log sequences: every change
// carries the checkpoint of the commit that wrote it.
struct ChangePage {
  struct Change {
    uint64_t sequence = 0;
    RowChange row;
  };
  std::vector<Change> changes;  // whole commits, oldest first
  uint64_t position = 0;        // resume after this
  bool reset = false;  // the position is older than the changes kept: take a Snapshot instead
};

class Projector {
 public:
  // `log` must outlive the projector.
  static Result<std::unique_ptr<Projector>> Open(const EventLog* log, ProjectorOptions options);
  ~Projector();  // stops the thread and commits what was folded
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // Folds up to the log's head (or until_sequence) on the calling thread; returns when there.
  // After a failure (this one or an earlier one, see Report().health) it folds nothing and
  // returns that failure.
  Status CatchUp();
  // Follows the log on a thread of its own until Stop.
  void Start();
  void Stop();

  uint64_t Applied() const;
  // Blocks until Applied() >= sequence or the timeout passes; returns whether it got there.
  bool WaitForApplied(uint64_t sequence, std::chrono::milliseconds timeout) const;
  ProjectorStatus Report() const;

  // Digests of what is stored, read from the database (not from memory).
  Result<std::vector<ProjectionDigest>> Digests() const;

  // ---- Queries (JSON text; errors name the field). ----
  std::string Catalog(const CatalogQuery& query) const;
  Result<std::string> Merchant(const std::string& umkm_id) const;
  Result<std::string> AsnSpend(const std::string& nip, const std::string& month) const;
  Result<std::string> AsnHistory(const std::string& nip) const;
  std::string Rollup(const std::string& month, RollupBy by) const;
  // agency_unknown for an agency no registered ASN has (AsnSpendProjection::Shortfalls).
  Result<std::string> Shortfalls(const std::string& month, const std::string& agency, size_t offset,
                                 size_t limit) const;
  AsnSpendProjection::Compliance MonthCompliance(const std::string& month) const;
  // The month's compliance figures as the read models stand, and the sequence applied when
  // they were read (docs/projections.md, "Closing a month").
  std::pair<MonthFigures, uint64_t> ComplianceFigures(const std::string& month) const;
  std::string MerchantSales(const std::string& umkm_id, const std::string& from,
                            const std::string& to) const;
  std::string Outstanding(const std::string& umkm_id) const;
  std::string Circulation(const std::string& month) const;
  std::string LogStats() const;
  // Payment exceptions (refund due) with `status` open, resolved or all.
  std::string Exceptions(std::string_view status, const ListPage& page) const;
  int64_t OpenExceptions() const;
  // Work lists (projections/work_lists.h), page by page with a cursor.
  std::string OrderList(const OrderListQuery& query) const;
  std::string PaymentList(const PaymentListQuery& query) const;
  std::string ReceiptList(const ReceiptListQuery& query) const;
  std::string SettlementBatches(const ListPage& page) const;
  Result<std::string> SettlementBatch(CivilDate date) const;
  Result<SettlementBatchFiles> SettlementFiles(CivilDate date) const;
  std::string ReconciliationRuns(const ReconciliationListQuery& query) const;
  // The business days (YYYY-MM-DD, oldest first) with cashless payments that succeeded and
  // are in no closed settlement batch yet: the days of merchant_sales' outstanding rows.
  // Costs a look at each merchant with money outstanding (for /metrics, not for a hot path).
  std::vector<std::string> UnclosedBusinessDays() const;

  // ---- Subscriptions. ----
  // Names of the projections, in fold order.
  std::vector<std::string> Names() const;
  // Changes of `projection` (empty: all) after `position`, at least `limit` rows unless
  // fewer exist (a commit is never split).
  ChangePage ChangesAfter(uint64_t position, const std::string& projection, size_t limit) const;
  // Every row of `projection` (empty: all) as committed, and the position it is as of.
  std::pair<std::vector<RowChange>, uint64_t> Snapshot(const std::string& projection) const;

 private:
  struct Columns;
  Projector(const EventLog* log, ProjectorOptions options);
  Status OpenDatabase();
  Status Prepare();  // compares checkpoints; loads rows or resets for a rebuild
  Status Reset(const std::string& reason);
  Status LoadRows();
  // The next events from `from` up to `target` into `*events` (reusing its room): from a
  // catch-up's scan (which stands at `from`), or read anew when `scan` is nullptr.
  Status ReadBatch(EventLog::Scanner* scan, uint64_t from, uint64_t target,
                   std::vector<Event>* events) const;
  // Events with what they mean for the read models, and the world's copies those facts may
  // still point to.
  struct FactBatch {
    std::vector<Event> events;
    std::vector<Fact> facts;  // one per event; each points to its event
    std::vector<std::shared_ptr<const void>> retired;
  };
  // The world's stage: the facts of the batch's events.
  Status MakeFacts(FactBatch& batch);
  // The read models' stage: folds the facts in and advances folded_.
  Status FoldFacts(FactBatch& batch);
  Status FoldEvents(FactBatch& batch);
  // The stages of CatchUp, each on its own thread, passing batches (or the first failure).
  using BatchQueue = StageQueue<Result<FactBatch>>;
  void ReadStage(uint64_t start, uint64_t target, BatchQueue& read,
                 StageQueue<FactBatch>& folded) const;
  void WorldStage(BatchQueue& read, BatchQueue& facts);
  Status FoldStage(uint64_t start, uint64_t target, BatchQueue& facts,
                   StageQueue<FactBatch>& folded);
  // `catching_up`: many rows changed; serialize them on two threads, and write them as table
  // files when the commit covers at least bulk_commit_events. A failed commit leaves the
  // projector failed (Report().health): it folds and commits nothing more.
  Status Commit(bool catching_up = false);
  Status CommitChanges(bool catching_up);
  // The steps of a commit: take the changed rows under the read models' lock and stage them
  // (serialized by TakeRows), write them, then let queries' waiters and subscribers see them.
  struct StagedCommit;
  Status TakeRows(bool catching_up, StagedCommit* staged,
                  std::vector<std::vector<RowWrite>>* taken);
  Status StageCommit(bool catching_up, StagedCommit* staged);
  Status WriteCommit(StagedCommit& staged);
  void PublishCommit(StagedCommit& staged);
  void Run();
  uint64_t Target() const;
  World::StreamReader LogStreamReader() const;

  const EventLog* log_;
  const ProjectorOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<Columns> columns_;

  ReadModels models_;
  std::vector<Projection*> projections_;  // models_.All()

  std::unique_ptr<World> world_;  // owned by the world's stage
  uint64_t world_folded_ = 0;     // last sequence the world has folded (world's stage)
  // The policy in force as the read models have folded it (queries and facts use it);
  // written under mutex_ by the read models' stage.
  PolicyState policy_;
  uint64_t folded_ = 0;  // last sequence folded into the read models (their stage)
  Hash folded_hash_{};
  std::atomic<uint64_t> events_folded_{0};
  uint64_t taken_ = 0;  // the sequence of the rows last taken for a commit; under mutex_
  bool rebuilt_on_open_ = false;

  mutable std::shared_mutex mutex_;  // the rows in memory and the world

  mutable std::mutex progress_mutex_;
  mutable std::condition_variable applied_advanced_;
  uint64_t applied_ = 0;  // guarded by progress_mutex_
  Status failed_;
  std::deque<ChangePage::Change> changes_;  // guarded by progress_mutex_
  uint64_t changes_floor_ = 0;              // changes after this position are all in changes_

  std::mutex stop_mutex_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace malpro
