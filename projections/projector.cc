#include "projections/projector.h"

#include <openssl/evp.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <future>
#include <optional>

#include "engine/assert.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

// A catch-up at least this long serializes its rows on two threads.
constexpr uint64_t parallel_commit_events = 100'000;
// Memtable of each read model's column family.
constexpr size_t read_model_write_buffer_bytes = 64 << 20;
// Write-ahead log kept before the column families that hold its oldest file are flushed.
constexpr uint64_t read_model_wal_bytes_max = 128 << 20;

// A commit's write batch is sized in advance: each row's key and JSON plus this much for
// its record's header, and room for the checkpoints.
constexpr size_t batch_row_overhead_bytes = 16;
constexpr size_t batch_checkpoints_bytes = 4096;
// A catch-up skips a commit when its end is nearer than this share of the interval.
constexpr uint64_t catch_up_commit_skip_divisor = 4;

// The checkpoint key sorts before every row key (rows start with a letter).
constexpr std::string_view checkpoint_key = std::string_view("\0checkpoint", 11);

Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message = "read models: " + std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(message);
  return Status::IOError(message);
}

// Every commit rewrites the rows it changed, under keys spread over the whole table (one
// row per buyer), and only the projector writes. A memtable that appends and sorts when it
// is flushed costs a fraction of a skiplist insert per row; the few reads of this database
// (the checkpoint on open, loading rows, digests) pay for the sort instead.
rocksdb::ColumnFamilyOptions FamilyOptions() {
  rocksdb::ColumnFamilyOptions options;
  options.write_buffer_size = read_model_write_buffer_bytes;
  options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  return options;
}

struct Checkpoint {
  int version = 0;
  uint64_t sequence = 0;
  std::string hash;  // hex of the event at `sequence`; empty at 0
};

std::string EncodeCheckpoint(std::string_view name, int version, uint64_t sequence,
                             const Hash& hash) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("projection", name)
      .Field("version", version)
      .Field("sequence", static_cast<int64_t>(sequence))
      .Field("hash", sequence == 0 ? std::string() : HashToHex(hash))
      .EndObject();
  return writer.Take();
}

Result<Checkpoint> DecodeCheckpoint(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> object = ParseJsonObject(parser, json, "checkpoint");
  if (!object.ok()) return object.status();
  RowReader reader(*object);
  Checkpoint checkpoint;
  checkpoint.version = static_cast<int>(reader.Int("version"));
  checkpoint.sequence = static_cast<uint64_t>(reader.Int("sequence"));
  checkpoint.hash = reader.Text("hash");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return checkpoint;
}

// Where a bulk commit writes its table files before the database takes them in.
constexpr std::string_view bulk_commit_directory = "bulk-commit";

// Table files of a bulk commit: not compressed (compactions compress them later).
rocksdb::Options RowFileOptions() {
  rocksdb::Options options(rocksdb::DBOptions(), FamilyOptions());
  options.compression = rocksdb::kNoCompression;
  return options;
}

// One projection's rows of a commit, after its checkpoint (which sorts first), in key order.
Status WriteRowFile(const std::string& path, const std::string& checkpoint,
                    const std::vector<RowWrite>& rows) {
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), RowFileOptions());
  MALPRO_RETURN_IF_ERROR(FromRocks(writer.Open(path), "open " + path));
  rocksdb::Status status =
      writer.Put(rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()), checkpoint);
  std::string key;
  for (const RowWrite& row : rows) {
    if (!status.ok()) break;
    key.assign(*row.prefix);
    key.append(*row.key);
    status = writer.Put(key, *row.json);
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "write " + path));
  return FromRocks(writer.Finish(), "finish " + path);
}

}  // namespace

struct Projector::Columns {
  rocksdb::ColumnFamilyHandle* default_family = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> projections;  // in projections_ order
  std::vector<rocksdb::ColumnFamilyHandle*> all;
};

Projector::Projector(const EventLog* log, ProjectorOptions options)
    : log_(log), options_(std::move(options)) {
  projections_ = models_.All();
}

Result<std::unique_ptr<Projector>> Projector::Open(const EventLog* log, ProjectorOptions options) {
  MALPRO_ASSERT(log != nullptr);
  if (options.dir.empty()) {
    return Status::InvalidArgument(errc::kConfigInvalid, "projections.dir",
                                   "the read models need a directory");
  }
  std::unique_ptr<Projector> projector(new Projector(log, std::move(options)));
  MALPRO_RETURN_IF_ERROR(projector->OpenDatabase());
  MALPRO_RETURN_IF_ERROR(projector->Prepare());
  return projector;
}

Projector::~Projector() {
  Stop();
  if (db_ != nullptr) {
    if (failed_.ok()) (void)Commit();
    for (rocksdb::ColumnFamilyHandle* handle : columns_->all) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }
}

Status Projector::OpenDatabase() {
  std::error_code error;
  std::filesystem::create_directories(options_.dir, error);
  if (error) {
    return Status::IOError("read models: cannot create " + options_.dir + ": " + error.message());
  }
  // Table files of a bulk commit that a crash left behind were never part of the database.
  const std::string bulk_dir = options_.dir + "/" + std::string(bulk_commit_directory);
  std::filesystem::remove_all(bulk_dir, error);
  if (!error) std::filesystem::create_directories(bulk_dir, error);
  if (error) {
    return Status::IOError("read models: cannot prepare " + bulk_dir + ": " + error.message());
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.allow_concurrent_memtable_write = false;  // one writer; see FamilyOptions
  // The catalog, circulation and log statistics change little; without a bound their
  // memtables would keep every write-ahead log file alive until a restart replays them.
  db_options.max_total_wal_size = read_model_wal_bytes_max;
  const rocksdb::ColumnFamilyOptions family_options = FamilyOptions();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, family_options}};
  for (const Projection* projection : projections_) {
    descriptors.emplace_back(std::string(projection->name()), family_options);
  }
  columns_ = std::make_unique<Columns>();
  rocksdb::DB* db = nullptr;
  MALPRO_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(db_options, options_.dir, descriptors, &columns_->all, &db),
                "open " + options_.dir));
  db_.reset(db);
  columns_->default_family = columns_->all[0];
  columns_->projections.assign(columns_->all.begin() + 1, columns_->all.end());
  return Status::Ok();
}

Status Projector::Prepare() {
  const ChainHead head = log_->Head();
  std::string reason;
  uint64_t sequence = 0;
  std::string hash;
  for (size_t i = 0; i < projections_.size() && reason.empty(); ++i) {
    const Projection& projection = *projections_[i];
    std::string stored;
    rocksdb::Status got =
        db_->Get(rocksdb::ReadOptions(), columns_->projections[i],
                 rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()), &stored);
    if (got.IsNotFound()) {
      reason = std::string(projection.name()) + " has no checkpoint";
      break;
    }
    MALPRO_RETURN_IF_ERROR(FromRocks(got, "read checkpoint"));
    Result<Checkpoint> checkpoint = DecodeCheckpoint(stored);
    if (!checkpoint.ok()) return checkpoint.status();
    if (checkpoint->version != projection.version()) {
      reason = std::string(projection.name()) + " version " + std::to_string(checkpoint->version) +
               " -> " + std::to_string(projection.version());
    } else if (i > 0 && (checkpoint->sequence != sequence || checkpoint->hash != hash)) {
      reason = "checkpoints differ between projections";
    }
    sequence = checkpoint->sequence;
    hash = checkpoint->hash;
  }
  if (reason.empty() && sequence > head.sequence) {
    reason = "checkpoint " + std::to_string(sequence) + " is past the log's head";
  }
  if (reason.empty() && sequence > 0) {
    Result<std::vector<Event>> event = log_->Read(sequence, 1);
    if (!event.ok()) return event.status();
    if (event->empty() || HashToHex(event->front().hash) != hash) {
      reason = "checkpoint " + std::to_string(sequence) + " is not an event of this log";
    }
  }
  if (!reason.empty()) return Reset(reason);
  folded_ = sequence;
  if (sequence > 0) {
    if (!HashFromHex(hash, &folded_hash_)) {
      return Status::Corruption("read models: checkpoint hash: " + hash);
    }
  }
  {
    std::lock_guard lock(progress_mutex_);
    applied_ = sequence;
    changes_floor_ = sequence;
  }
  world_ = std::make_unique<World>(LogStreamReader());
  world_folded_ = sequence;
  taken_ = sequence;
  MALPRO_RETURN_IF_ERROR(world_->LoadPolicy(sequence + 1));
  if (const PolicyState* policy = world_->Policy()) policy_ = *policy;
  return LoadRows();
}

Status Projector::Reset(const std::string& reason) {
  if (options_.progress) {
    options_.progress("read models: rebuilding from sequence 1 (" + reason + ")");
  }
  for (size_t i = 0; i < projections_.size(); ++i) {
    rocksdb::ColumnFamilyHandle*& handle = columns_->projections[i];
    // A column family without a single key (a new database) has nothing to drop; dropping
    // and creating one costs syncs of the database's manifest and options.
    std::unique_ptr<rocksdb::Iterator> any(db_->NewIterator(rocksdb::ReadOptions(), handle));
    any->SeekToFirst();
    MALPRO_RETURN_IF_ERROR(FromRocks(any->status(), "read column family"));
    if (!any->Valid()) continue;
    any.reset();
    MALPRO_RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(handle), "drop column family"));
    MALPRO_RETURN_IF_ERROR(FromRocks(db_->DestroyColumnFamilyHandle(handle), "drop handle"));
    const rocksdb::ColumnFamilyOptions family_options = FamilyOptions();
    MALPRO_RETURN_IF_ERROR(FromRocks(
        db_->CreateColumnFamily(family_options, std::string(projections_[i]->name()), &handle),
        "create column family"));
    columns_->all[i + 1] = handle;
  }
  rebuilt_on_open_ = true;
  folded_ = 0;
  folded_hash_ = zero_hash;
  world_ = std::make_unique<World>();  // complete from sequence 1
  world_folded_ = 0;
  policy_ = PolicyState();
  // Nothing is written until the first commit: without a checkpoint, a start after a crash
  // before it rebuilds again.
  taken_ = 0;
  std::lock_guard lock(progress_mutex_);
  applied_ = 0;
  changes_.clear();
  changes_floor_ = 0;
  return Status::Ok();
}

Status Projector::LoadRows() {
  for (size_t i = 0; i < projections_.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), columns_->projections[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key();
      if (key.ToStringView() == checkpoint_key) continue;
      MALPRO_RETURN_IF_ERROR(
          projections_[i]->LoadRow(key.ToStringView(), it->value().ToStringView()));
    }
    MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "load rows"));
  }
  return Status::Ok();
}

World::StreamReader Projector::LogStreamReader() const {
  const EventLog* log = log_;
  return [log](std::string_view stream_id, uint64_t before_sequence) -> Result<std::vector<Event>> {
    std::vector<Event> events;
    uint64_t version = 1;
    while (true) {
      Result<std::vector<Event>> page = log->ReadStream(stream_id, version, read_events_max);
      if (!page.ok()) return page.status();
      for (Event& event : *page) {
        if (event.sequence >= before_sequence) return events;
        events.push_back(std::move(event));
      }
      if (page->size() < read_events_max) return events;
      version += page->size();
    }
  };
}

uint64_t Projector::Target() const {
  const uint64_t head = log_->Head().sequence;
  if (options_.until_sequence == 0) return head;
  return std::min(head, options_.until_sequence);
}

Status Projector::ReadBatch(EventLog::Scanner* scan, uint64_t from, uint64_t target,
                            std::vector<Event>* events) const {
  const size_t limit =
      static_cast<size_t>(std::min<uint64_t>(options_.read_batch_events, target - from + 1));
  MALPRO_RETURN_IF_ERROR(scan != nullptr ? scan->ReadInto(limit, events)
                                         : log_->ReadInto(from, limit, events));
  if (events->empty()) {
    return Status::Corruption("read models: event " + std::to_string(from) + " is missing");
  }
  return Status::Ok();
}

Status Projector::MakeFacts(FactBatch& batch) {
  batch.facts.clear();
  batch.facts.reserve(batch.events.size());
  for (const Event& event : batch.events) {
    if (event.sequence != world_folded_ + 1) {
      return Status::Corruption("read models: expected event " +
                                std::to_string(world_folded_ + 1) + ", read " +
                                std::to_string(event.sequence));
    }
    MALPRO_RETURN_IF_ERROR(world_->Apply(event, &batch.facts.emplace_back()));
    world_folded_ = event.sequence;
  }
  batch.retired = world_->TakeRetired();
  return Status::Ok();
}

Status Projector::FoldFacts(FactBatch& batch) {
  std::unique_lock lock(mutex_);
  for (Fact& fact : batch.facts) {
    const Event& event = *fact.event;
    MALPRO_ASSERT(event.sequence == folded_ + 1);
    if (fact.kind == FactKind::kPolicyChanged) MALPRO_RETURN_IF_ERROR(policy_.Apply(event));
    fact.policy = &policy_;
    for (Projection* projection : projections_) {
      MALPRO_RETURN_IF_ERROR(projection->Apply(fact));
    }
    folded_ = event.sequence;
    folded_hash_ = event.hash;
  }
  events_folded_ += batch.facts.size();
  return Status::Ok();
}

Status Projector::FoldEvents(FactBatch& batch) {
  MALPRO_RETURN_IF_ERROR(MakeFacts(batch));
  return FoldFacts(batch);
}

Status Projector::Commit(bool catching_up) {
  Status status = CommitChanges(catching_up);
  if (!status.ok()) {
    // The rows changed since the last commit were taken and are lost to this projector: it
    // commits nothing more (a restart folds them again from the checkpoint).
    std::lock_guard lock(progress_mutex_);
    failed_ = status;
  }
  return status;
}

Status Projector::CommitChanges(bool catching_up) {
  std::vector<RowChange> changes;
  std::optional<rocksdb::WriteBatch> batch;
  bool keep_changes = true;
  // A long catch-up writes its rows as one table file per projection, each starting with its
  // checkpoint, and the database takes them in together (IngestExternalFiles is atomic): no
  // write-ahead log, memtable or flush for hundreds of MiB of rows.
  const bool bulk = catching_up && folded_ - taken_ >= options_.bulk_commit_events;
  std::vector<std::string> files;
  // Ingested files are linked into the database, and files of a failed commit are of no use:
  // either way they go.
  struct RemoveFiles {
    const std::vector<std::string>& files;
    ~RemoveFiles() {
      for (const std::string& file : files) {
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
      }
    }
  } remove_files{files};
  {
    std::unique_lock lock(mutex_);
    // Each projection serializes its own rows; after a long catch-up (a rebuild) there are
    // hundreds of thousands of them, so two threads share the projections then.
    std::vector<std::vector<RowWrite>> taken(projections_.size());
    std::vector<Status> written(projections_.size());
    if (bulk) {
      for (size_t i = 0; i < projections_.size(); ++i) {
        files.push_back(options_.dir + "/" + std::string(bulk_commit_directory) + "/" +
                        std::string(projections_[i]->name()) + "-" + std::to_string(folded_) +
                        ".sst");
      }
    }
    std::atomic<size_t> next{0};
    auto take = [&] {
      for (size_t i = next++; i < projections_.size(); i = next++) {
        projections_[i]->TakeChanges(&taken[i]);
        if (bulk) {
          written[i] = WriteRowFile(
              files[i],
              EncodeCheckpoint(projections_[i]->name(), projections_[i]->version(), folded_,
                               folded_hash_),
              taken[i]);
        }
      }
    };
    std::future<void> helper;
    if (catching_up) helper = std::async(std::launch::async, take);
    take();
    if (helper.valid()) helper.get();
    for (const Status& status : written) MALPRO_RETURN_IF_ERROR(status);
    size_t rows = 0;
    for (const std::vector<RowWrite>& writes : taken) rows += writes.size();
    // Subscribers get the changes unless there are more than they could be kept (see below).
    keep_changes = rows <= options_.changes_retained_max;
    if (keep_changes) changes.reserve(rows);
    if (!bulk) {
      // Room for every row at once: growing the batch copied it over and over.
      size_t bytes = 0;
      for (const std::vector<RowWrite>& writes : taken) {
        for (const RowWrite& write : writes) {
          bytes += write.prefix->size() + write.key->size() + write.json->size() +
                   batch_row_overhead_bytes;
        }
      }
      batch.emplace(bytes + batch_checkpoints_bytes);
    }
    for (size_t i = 0; i < projections_.size(); ++i) {
      for (const RowWrite& write : taken[i]) {
        if (!bulk) {
          const rocksdb::Slice key_parts[] = {*write.prefix, *write.key};
          const rocksdb::Slice value(*write.json);
          MALPRO_RETURN_IF_ERROR(FromRocks(batch->Put(columns_->projections[i],
                                                      rocksdb::SliceParts(key_parts, 2),
                                                      rocksdb::SliceParts(&value, 1)),
                                           "stage row"));
        }
        if (keep_changes) {
          changes.push_back(
              RowChange{std::string(projections_[i]->name()), write.StoredKey(), *write.json});
        }
      }
      if (!bulk) {
        const std::string checkpoint = EncodeCheckpoint(
            projections_[i]->name(), projections_[i]->version(), folded_, folded_hash_);
        MALPRO_RETURN_IF_ERROR(FromRocks(
            batch->Put(columns_->projections[i],
                       rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()), checkpoint),
            "stage checkpoint"));
      }
    }
    taken_ = folded_;
  }
  if (bulk) {
    std::vector<rocksdb::IngestExternalFileArg> args(projections_.size());
    for (size_t i = 0; i < projections_.size(); ++i) {
      args[i].column_family = columns_->projections[i];
      args[i].external_files = {files[i]};
      args[i].options.move_files = true;
      args[i].options.write_global_seqno = false;
    }
    MALPRO_RETURN_IF_ERROR(
        FromRocks(db_->IngestExternalFiles(args), "commit (ingest table files)"));
  } else {
    // Not synced: the batch is atomic in RocksDB's write-ahead log, so a crash keeps rows and
    // checkpoint together or loses both (then they are folded again from the durable log).
    rocksdb::WriteOptions write_options;
    MALPRO_RETURN_IF_ERROR(FromRocks(db_->Write(write_options, &*batch), "commit"));
  }
  {
    std::lock_guard lock(progress_mutex_);
    if (!keep_changes) {
      // More than the ring holds (a rebuild, a long catch-up): a subscriber behind this
      // commit starts again from a snapshot, as it would after the trimming below.
      changes_.clear();
      changes_floor_ = folded_;
    }
    for (RowChange& change : changes) {
      changes_.push_back(ChangePage::Change{folded_, std::move(change)});
    }
    while (changes_.size() > options_.changes_retained_max) {
      const uint64_t dropped = changes_.front().sequence;
      while (!changes_.empty() && changes_.front().sequence == dropped) changes_.pop_front();
      changes_floor_ = dropped;
    }
    applied_ = folded_;
  }
  applied_advanced_.notify_all();
  return Status::Ok();
}

namespace {

// Hands items from one stage of a catch-up to the next, at most `max` waiting.
template <typename T>
class StageQueue {
 public:
  explicit StageQueue(size_t max) : max_(max) {}

  // Waits for room unless `wait` is false; false when there is none without waiting, or
  // when the next stage has stopped (Close).
  bool Push(T item, bool wait = true) {
    {
      std::unique_lock lock(mutex_);
      if (wait) changed_.wait(lock, [&] { return items_.size() < max_ || closed_; });
      if (items_.size() >= max_ || closed_) return false;
      items_.push_back(std::move(item));
    }
    changed_.notify_all();
    return true;
  }
  // The next item, waiting for one unless `wait` is false; nullopt when there is none
  // without waiting, once the stage before has finished and all are taken, or when closed.
  std::optional<T> Pop(bool wait = true) {
    std::optional<T> item;
    {
      std::unique_lock lock(mutex_);
      if (wait) changed_.wait(lock, [&] { return !items_.empty() || finished_ || closed_; });
      if (items_.empty() || closed_) return item;
      item.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    changed_.notify_all();
    return item;
  }
  // The stage before: nothing follows what was pushed.
  void Finish() { Set(finished_); }
  // The next stage: take nothing more (it failed or is done).
  void Close() { Set(closed_); }

 private:
  void Set(bool& flag) {
    {
      std::lock_guard lock(mutex_);
      flag = true;
    }
    changed_.notify_all();
  }

  const size_t max_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> items_;
  bool finished_ = false;
  bool closed_ = false;
};

// Batches read ahead of the world, and batches of facts ahead of the read models.
constexpr size_t read_ahead_batches = 2;
constexpr size_t facts_ahead_batches = 16;

}  // namespace

Status Projector::CatchUp() {
  {
    std::lock_guard lock(progress_mutex_);
    if (!failed_.ok()) return failed_;
  }
  const uint64_t target = Target();
  const uint64_t start = folded_;
  auto fail = [this](const Status& status) {
    std::lock_guard lock(progress_mutex_);
    failed_ = status;
    return status;
  };

  // Three stages, each on its own thread, each stopping after the first failure it meets
  // and passing it on: reading the log, the world, the read models (this thread).
  // Batches go round: folded ones come back to be read into again, so their events' and
  // facts' memory is used again instead of freed on one thread and taken anew on another.
  StageQueue<Result<FactBatch>> read(read_ahead_batches);
  StageQueue<Result<FactBatch>> facts(facts_ahead_batches);
  // Every batch that exists: those queued, and one in the hands of each of the other stages.
  StageQueue<FactBatch> folded(read_ahead_batches + facts_ahead_batches + 2);
  std::thread reading([&] {
    std::unique_ptr<EventLog::Scanner> scan = log_->Scan(start + 1);
    for (uint64_t next = start + 1; next <= target;) {
      FactBatch batch = folded.Pop(/*wait=*/false).value_or(FactBatch());
      const Status status = ReadBatch(scan.get(), next, target, &batch.events);
      if (status.ok()) next += batch.events.size();
      if (!read.Push(status.ok() ? Result<FactBatch>(std::move(batch)) : status) || !status.ok()) {
        break;
      }
    }
    read.Finish();
  });
  std::thread world([&] {
    while (std::optional<Result<FactBatch>> batch = read.Pop()) {
      if (batch->ok()) {
        const Status status = MakeFacts(**batch);
        if (!status.ok()) batch.emplace(status);
      }
      const bool ok = batch->ok();
      if (!facts.Push(std::move(*batch)) || !ok) break;
    }
    read.Close();
    facts.Finish();
  });

  Status status;
  uint64_t since_commit = 0;
  uint64_t next_report = start + 100'000;
  while (std::optional<Result<FactBatch>> batch = facts.Pop()) {
    if (!batch->ok()) {
      status = batch->status();
      break;
    }
    status = FoldFacts(**batch);
    if (!status.ok()) break;
    since_commit += (*batch)->facts.size();
    (*batch)->facts.clear();
    (*batch)->retired.clear();
    folded.Push(std::move(**batch), /*wait=*/false);
    // A commit is skipped when the last one (at the target) follows within a quarter of the
    // interval: it would write most of the same rows again moments later.
    if (since_commit >= options_.catch_up_commit_events &&
        target - folded_ >= options_.catch_up_commit_events / catch_up_commit_skip_divisor) {
      status = Commit(/*catching_up=*/true);
      if (!status.ok()) break;
      since_commit = 0;
    }
    if (options_.progress && folded_ >= next_report) {
      options_.progress("read models: " + std::to_string(folded_) + "/" + std::to_string(target) +
                        " events (" +
                        std::to_string(folded_ * 100 / std::max<uint64_t>(target, 1)) + "%)");
      next_report += 100'000;
    }
  }
  facts.Close();
  world.join();
  reading.join();
  if (!status.ok()) return fail(status);
  if (options_.progress && target - start >= 100'000) {
    options_.progress("read models: folded to " + std::to_string(folded_));
  }
  const uint64_t events = folded_ - taken_;
  return Commit(/*catching_up=*/events >= parallel_commit_events ||
                events >= options_.bulk_commit_events);
}

void Projector::Start() {
  std::lock_guard lock(stop_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Projector::Stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Projector::Run() {
  constexpr auto idle_wait = std::chrono::milliseconds(100);
  while (true) {
    {
      std::lock_guard lock(stop_mutex_);
      if (stopping_) return;
    }
    {
      std::lock_guard lock(progress_mutex_);
      if (!failed_.ok()) return;  // a failed catch-up or commit: nothing more is folded
    }
    const uint64_t target = Target();
    if (folded_ >= target) {
      if (options_.until_sequence != 0 && folded_ >= options_.until_sequence) {
        std::this_thread::sleep_for(idle_wait);
      } else {
        log_->WaitForSequence(folded_ + 1, idle_wait);
      }
      continue;
    }
    FactBatch batch;
    Status status = ReadBatch(/*scan=*/nullptr, folded_ + 1, target, &batch.events);
    if (status.ok()) status = FoldEvents(batch);
    if (status.ok()) status = Commit();
    if (!status.ok()) {
      std::lock_guard lock(progress_mutex_);
      failed_ = status;
      return;  // a read model that cannot fold stops; /healthz says why
    }
  }
}

uint64_t Projector::Applied() const {
  std::lock_guard lock(progress_mutex_);
  return applied_;
}

bool Projector::WaitForApplied(uint64_t sequence, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(progress_mutex_);
  return applied_advanced_.wait_for(lock, timeout, [&] { return applied_ >= sequence; });
}

ProjectorStatus Projector::Report() const {
  ProjectorStatus report;
  report.log_head = log_->Head().sequence;
  std::lock_guard lock(progress_mutex_);
  report.applied = applied_;
  report.events_folded = events_folded_;
  report.rebuilt_on_open = rebuilt_on_open_;
  report.health = failed_;
  return report;
}

Result<std::vector<ProjectionDigest>> Projector::Digests() const {
  std::vector<ProjectionDigest> digests;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  Status status;
  for (size_t i = 0; i < projections_.size() && status.ok(); ++i) {
    ProjectionDigest digest;
    digest.name = std::string(projections_[i]->name());
    digest.version = projections_[i]->version();
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    MALPRO_ASSERT(sha != nullptr && EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) == 1);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, columns_->projections[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      const std::string_view value = it->value().ToStringView();
      if (key == checkpoint_key) {
        Result<Checkpoint> checkpoint = DecodeCheckpoint(value);
        if (!checkpoint.ok()) {
          status = checkpoint.status();
          break;
        }
        digest.sequence = checkpoint->sequence;
        continue;
      }
      // Length-prefixed so that no two different row sets hash the same bytes.
      for (std::string_view part : {key, value}) {
        const uint32_t size = static_cast<uint32_t>(part.size());
        const unsigned char length[4] = {
            static_cast<unsigned char>(size >> 24), static_cast<unsigned char>(size >> 16),
            static_cast<unsigned char>(size >> 8), static_cast<unsigned char>(size)};
        EVP_DigestUpdate(sha.get(), length, sizeof(length));
        EVP_DigestUpdate(sha.get(), part.data(), part.size());
      }
      ++digest.rows;
    }
    if (status.ok()) status = FromRocks(it->status(), "digest");
    Hash sum{};
    EVP_DigestFinal_ex(sha.get(), sum.data(), nullptr);
    digest.sha256 = HashToHex(sum);
    digests.push_back(std::move(digest));
  }
  db_->ReleaseSnapshot(snapshot);
  if (!status.ok()) return status;
  return digests;
}

// ---- Queries. ----

std::string Projector::Catalog(const CatalogQuery& query) const {
  std::shared_lock lock(mutex_);
  return models_.catalog.Query(query);
}

Result<std::string> Projector::Merchant(const std::string& umkm_id) const {
  std::shared_lock lock(mutex_);
  return models_.catalog.Merchant(umkm_id);
}

Result<std::string> Projector::AsnSpend(const std::string& nip, const std::string& month) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.Spend(nip, month, policy_);
}

Result<std::string> Projector::AsnHistory(const std::string& nip) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.History(nip);
}

std::string Projector::Rollup(const std::string& month, RollupBy by) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.Rollup(month, by, policy_);
}

std::string Projector::Shortfalls(const std::string& month, const std::string& agency,
                                  size_t offset, size_t limit) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.Shortfalls(month, agency, policy_, offset, limit);
}

std::pair<MonthFigures, uint64_t> Projector::ComplianceFigures(const std::string& month) const {
  std::shared_lock lock(mutex_);
  return {models_.asn_spend.Figures(month, policy_), Applied()};
}

AsnSpendProjection::Compliance Projector::MonthCompliance(const std::string& month) const {
  std::shared_lock lock(mutex_);
  return models_.asn_spend.MonthCompliance(month, policy_);
}

std::string Projector::MerchantSales(const std::string& umkm_id, const std::string& from,
                                     const std::string& to) const {
  std::shared_lock lock(mutex_);
  return models_.merchant_sales.Sales(umkm_id, from, to);
}

std::string Projector::Outstanding(const std::string& umkm_id) const {
  std::shared_lock lock(mutex_);
  return models_.merchant_sales.OutstandingJson(umkm_id);
}

std::string Projector::Circulation(const std::string& month) const {
  std::shared_lock lock(mutex_);
  return models_.circulation.Month(month);
}

std::string Projector::LogStats() const {
  std::shared_lock lock(mutex_);
  return models_.log_stats.Stats();
}

std::string Projector::Exceptions(std::string_view status, size_t offset, size_t limit) const {
  std::shared_lock lock(mutex_);
  return models_.exceptions.List(status, offset, limit);
}

int64_t Projector::OpenExceptions() const {
  std::shared_lock lock(mutex_);
  return models_.exceptions.OpenCount();
}

// ---- Subscriptions. ----

std::vector<std::string> Projector::Names() const {
  std::vector<std::string> names;
  for (const Projection* projection : projections_) names.emplace_back(projection->name());
  return names;
}

ChangePage Projector::ChangesAfter(uint64_t position, const std::string& projection,
                                   size_t limit) const {
  ChangePage page;
  std::lock_guard lock(progress_mutex_);
  page.position = std::max(position, changes_floor_);
  if (position < changes_floor_) {
    page.reset = true;
    return page;
  }
  auto it = std::upper_bound(
      changes_.begin(), changes_.end(), position,
      [](uint64_t value, const ChangePage::Change& change) { return value < change.sequence; });
  for (; it != changes_.end(); ++it) {
    if (page.changes.size() >= limit && it->sequence != page.position) break;
    page.position = it->sequence;
    if (projection.empty() || it->row.projection == projection) page.changes.push_back(*it);
  }
  if (it == changes_.end()) page.position = std::max(page.position, applied_);
  return page;
}

std::pair<std::vector<RowChange>, uint64_t> Projector::Snapshot(
    const std::string& projection) const {
  std::vector<RowChange> rows;
  std::shared_lock lock(mutex_);
  for (const Projection* candidate : projections_) {
    if (!projection.empty() && candidate->name() != projection) continue;
    const std::string name(candidate->name());
    candidate->ForEachRow([&](const std::string& key, const std::string& json) {
      rows.push_back(RowChange{name, key, json});
    });
  }
  // Under the shared lock the rows are those of the last commit taken (taken_); changes
  // committed later carry later positions.
  return {std::move(rows), taken_};
}

}  // namespace malpro
