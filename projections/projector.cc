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

// Memtable of each read model's column family.
constexpr size_t read_model_write_buffer_bytes = 64 << 20;
// Write-ahead log kept before the column families that hold its oldest file are flushed.
constexpr uint64_t read_model_wal_bytes_max = 128 << 20;

// A commit's write batch is sized in advance: each row's key and JSON plus this much for
// its record's header, and room for the checkpoints.
constexpr size_t batch_row_overhead_bytes = 16;
constexpr size_t batch_checkpoints_bytes = 4096;

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
      return Status::Corruption("read models: expected event " + std::to_string(world_folded_ + 1) +
                                ", read " + std::to_string(event.sequence));
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

// What one commit writes, as taken from the read models under their lock.
struct Projector::StagedCommit {
  // A long catch-up writes its rows as one table file per projection, each starting with its
  // checkpoint, and the database takes them in together (IngestExternalFiles is atomic): no
  // write-ahead log, memtable or flush for hundreds of MiB of rows.
  bool bulk = false;
  std::vector<std::string> files;            // bulk: one per projection
  std::optional<rocksdb::WriteBatch> batch;  // otherwise: rows and checkpoints
  std::vector<RowChange> changes;            // for subscribers, when keep_changes
  bool keep_changes = true;
};

Status Projector::CommitChanges(bool catching_up) {
  StagedCommit staged;
  staged.bulk = catching_up && folded_ - taken_ >= options_.bulk_commit_events;
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
  } remove_files{staged.files};
  MALPRO_RETURN_IF_ERROR(StageCommit(catching_up, &staged));
  MALPRO_RETURN_IF_ERROR(WriteCommit(staged));
  PublishCommit(staged);
  return Status::Ok();
}

Status Projector::TakeRows(bool catching_up, StagedCommit* staged,
                           std::vector<std::vector<RowWrite>>* taken) {
  taken->resize(projections_.size());
  std::vector<Status> written(projections_.size());
  if (staged->bulk) {
    for (size_t i = 0; i < projections_.size(); ++i) {
      staged->files.push_back(options_.dir + "/" + std::string(bulk_commit_directory) + "/" +
                              std::string(projections_[i]->name()) + "-" + std::to_string(folded_) +
                              ".sst");
    }
  }
  // Each projection serializes its own rows; after a long catch-up (a rebuild) there are
  // hundreds of thousands of them, so two threads share the projections then.
  std::atomic<size_t> next{0};
  auto take = [&] {
    for (size_t i = next++; i < projections_.size(); i = next++) {
      projections_[i]->TakeChanges(&(*taken)[i]);
      if (staged->bulk) {
        written[i] =
            WriteRowFile(staged->files[i],
                         EncodeCheckpoint(projections_[i]->name(), projections_[i]->version(),
                                          folded_, folded_hash_),
                         (*taken)[i]);
      }
    }
  };
  std::future<void> helper;
  if (catching_up) helper = std::async(std::launch::async, take);
  take();
  if (helper.valid()) helper.get();
  for (const Status& status : written) MALPRO_RETURN_IF_ERROR(status);
  return Status::Ok();
}

Status Projector::StageCommit(bool catching_up, StagedCommit* staged) {
  std::unique_lock lock(mutex_);
  std::vector<std::vector<RowWrite>> taken;
  MALPRO_RETURN_IF_ERROR(TakeRows(catching_up, staged, &taken));
  size_t rows = 0;
  for (const std::vector<RowWrite>& writes : taken) rows += writes.size();
  // Subscribers get the changes unless there are more than they could be kept (see
  // PublishCommit).
  staged->keep_changes = rows <= options_.changes_retained_max;
  if (staged->keep_changes) staged->changes.reserve(rows);
  if (!staged->bulk) {
    // Room for every row at once: growing the batch copied it over and over.
    size_t bytes = 0;
    for (const std::vector<RowWrite>& writes : taken) {
      for (const RowWrite& write : writes) {
        bytes += write.prefix->size() + write.key->size() + write.json->size() +
                 batch_row_overhead_bytes;
      }
    }
    staged->batch.emplace(bytes + batch_checkpoints_bytes);
  }
  for (size_t i = 0; i < projections_.size(); ++i) {
    for (const RowWrite& write : taken[i]) {
      if (!staged->bulk) {
        const rocksdb::Slice key_parts[] = {*write.prefix, *write.key};
        const rocksdb::Slice value(*write.json);
        MALPRO_RETURN_IF_ERROR(FromRocks(
            staged->batch->Put(columns_->projections[i], rocksdb::SliceParts(key_parts, 2),
                               rocksdb::SliceParts(&value, 1)),
            "stage row"));
      }
      if (staged->keep_changes) {
        staged->changes.push_back(
            RowChange{std::string(projections_[i]->name()), write.StoredKey(), *write.json});
      }
    }
    if (!staged->bulk) {
      const std::string checkpoint = EncodeCheckpoint(
          projections_[i]->name(), projections_[i]->version(), folded_, folded_hash_);
      MALPRO_RETURN_IF_ERROR(
          FromRocks(staged->batch->Put(columns_->projections[i],
                                       rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()),
                                       checkpoint),
                    "stage checkpoint"));
    }
  }
  taken_ = folded_;
  return Status::Ok();
}

Status Projector::WriteCommit(StagedCommit& staged) {
  if (staged.bulk) {
    std::vector<rocksdb::IngestExternalFileArg> args(projections_.size());
    for (size_t i = 0; i < projections_.size(); ++i) {
      args[i].column_family = columns_->projections[i];
      args[i].external_files = {staged.files[i]};
      args[i].options.move_files = true;
      args[i].options.write_global_seqno = false;
    }
    return FromRocks(db_->IngestExternalFiles(args), "commit (ingest table files)");
  }
  // Not synced: the batch is atomic in RocksDB's write-ahead log, so a crash keeps rows and
  // checkpoint together or loses both (then they are folded again from the durable log).
  rocksdb::WriteOptions write_options;
  return FromRocks(db_->Write(write_options, &*staged.batch), "commit");
}

void Projector::PublishCommit(StagedCommit& staged) {
  {
    std::lock_guard lock(progress_mutex_);
    if (!staged.keep_changes) {
      // More than the ring holds (a rebuild, a long catch-up): a subscriber behind this
      // commit starts again from a snapshot, as it would after the trimming below.
      changes_.clear();
      changes_floor_ = folded_;
    }
    for (RowChange& change : staged.changes) {
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

}  // namespace malpro
