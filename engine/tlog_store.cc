#include "engine/tlog_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>

#include "engine/assert.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

constexpr char size_key[] = "size";
// The tree's own block cache: 64 MiB holds the tiles and inner hashes of 1M leaves.
constexpr size_t tlog_block_cache_bytes = 64 << 20;
// Full level-0 tiles and their inner hashes, as read, most recent kept (proofs of recent
// events, and of one order's events, read the same ones).
constexpr size_t tlog_recent_tiles_bytes = 64 << 20;
constexpr char tile_key_prefix = 't';
// The hashes inside a full tile (TileInner): "n" + level byte + index, 8 bytes big-endian.
constexpr char inner_key_prefix = 'n';
// In the cache of recent tiles only: a hash folded from a partial tile ("f" + level + index).
constexpr char folded_key_prefix = 'f';
// Checkpoints: "c" + size (8 bytes big-endian); and for each kind of reason but "interval",
// "k" + kind + 0x00 + size, with no value, to list them by kind.
constexpr char checkpoint_key_prefix = 'c';
constexpr char checkpoint_kind_prefix = 'k';
constexpr char checkpoint_kind_interval[] = "interval";

Status FromRocksDb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message = "Merkle tree: " + std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(message);
  return Status::IOError(message);
}

void PutBigEndian(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

uint64_t GetBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes.substr(0, 8)) value = value << 8 | static_cast<uint8_t>(c);
  return value;
}

std::string TileKey(int level, uint64_t index, char prefix = tile_key_prefix) {
  std::string key(1, prefix);
  key.push_back(static_cast<char>(level));
  PutBigEndian(index, &key);
  return key;
}

std::string CheckpointKey(uint64_t size) {
  std::string key(1, checkpoint_key_prefix);
  PutBigEndian(size, &key);
  return key;
}

std::string KindPrefix(std::string_view kind) {
  std::string key(1, checkpoint_kind_prefix);
  key.append(kind);
  key.push_back('\0');
  return key;
}

std::string_view KindOf(std::string_view reason) { return reason.substr(0, reason.find(' ')); }

// A checkpoint's value: issued_at_us (8 bytes big-endian), the number of reasons (1 byte),
// each reason as its length (1 byte) and bytes, then the note.
std::string EncodeCheckpoint(const StoredCheckpoint& checkpoint) {
  std::string value;
  PutBigEndian(static_cast<uint64_t>(checkpoint.issued_at_us), &value);
  value.push_back(static_cast<char>(std::min<size_t>(checkpoint.reasons.size(), 255)));
  for (size_t i = 0; i < std::min<size_t>(checkpoint.reasons.size(), 255); ++i) {
    const std::string_view reason = std::string_view(checkpoint.reasons[i]).substr(0, 255);
    value.push_back(static_cast<char>(reason.size()));
    value.append(reason);
  }
  value.append(checkpoint.note);
  return value;
}

Result<StoredCheckpoint> DecodeCheckpoint(uint64_t size, std::string_view value) {
  const Status bad = Status::Corruption("Merkle tree: checkpoint " + std::to_string(size) +
                                        " is not stored as a checkpoint");
  if (value.size() < 9) return bad;
  StoredCheckpoint checkpoint;
  checkpoint.size = size;
  checkpoint.issued_at_us = static_cast<int64_t>(GetBigEndian(value));
  size_t at = 9;
  for (int n = static_cast<uint8_t>(value[8]); n > 0; --n) {
    if (at >= value.size()) return bad;
    const size_t length = static_cast<uint8_t>(value[at++]);
    if (value.size() - at < length) return bad;
    checkpoint.reasons.emplace_back(value.substr(at, length));
    at += length;
  }
  checkpoint.note = value.substr(at);
  return checkpoint;
}

Status TileMissing(const TileId& tile) {
  return Status::NotFound(errc::kTileNotFound, "path",
                          TilePath(tile) + " is not in the Merkle tree yet");
}

}  // namespace

Hash TlogLeafHash(const Event& event) { return MerkleLeafHash(HashView(event.hash)); }

Result<std::unique_ptr<TlogStore>> TlogStore::Open(const std::string& dir, bool read_only) {
  std::unique_ptr<TlogStore> store(new TlogStore());
  store->recent_ = rocksdb::NewLRUCache(tlog_recent_tiles_bytes);
  store->read_only_ = read_only;
  if (read_only && !std::filesystem::exists(dir + "/CURRENT")) return store;  // none yet
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  options.keep_log_file_num = 2;
  options.write_buffer_size = 4 << 20;
  options.compression = rocksdb::kNoCompression;  // hashes do not compress
  // Proofs read the upper tiles again and again, and the lower ones of recent events.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(tlog_block_cache_bytes);
  table.cache_index_and_filter_blocks = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));  // a Get looks in one file
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  MALPRO_RETURN_IF_ERROR(FromRocksDb(read_only ? rocksdb::DB::OpenForReadOnly(options, dir, &db)
                                               : rocksdb::DB::Open(options, dir, &db),
                                     "open " + dir));
  store->db_.reset(db);
  MALPRO_RETURN_IF_ERROR(store->Load());
  return store;
}

TlogStore::~TlogStore() = default;

Status TlogStore::Load() {
  std::string value;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), size_key, &value);
  if (got.IsNotFound()) return Status::Ok();
  MALPRO_RETURN_IF_ERROR(FromRocksDb(got, "read the size"));
  if (value.size() != 8) return Status::Corruption("Merkle tree: the size is not 8 bytes");
  const uint64_t size = GetBigEndian(value);
  std::vector<std::string> partials;
  for (int level = 0; level <= tile_level_max; ++level) {
    const uint64_t hashes = size >> (tile_height * level);
    if (hashes % tile_width_full == 0) continue;
    std::string tile;
    MALPRO_RETURN_IF_ERROR(FromRocksDb(
        db_->Get(rocksdb::ReadOptions(), TileKey(level, hashes / tile_width_full), &tile),
        "read the last tile of level " + std::to_string(level)));
    tile.resize(std::min<size_t>(tile.size(), hashes % tile_width_full * hash_bytes));
    partials.push_back(std::move(tile));
  }
  Result<TileBuilder> builder = TileBuilder::Resume(size, partials);
  if (!builder.ok()) return builder.status();
  builder_ = std::move(builder).value();
  return Status::Ok();
}

bool TlogStore::Exists() const { return db_ != nullptr; }

uint64_t TlogStore::Size() const {
  std::shared_lock lock(mutex_);
  return builder_.size();
}

Status TlogStore::Append(const std::vector<Hash>& leaf_hashes) {
  MALPRO_ASSERT(!read_only_);
  if (leaf_hashes.empty()) return Status::Ok();
  TileBuilder next = builder_;  // the only writer: no lock needed to read
  std::vector<TileBuilder::Changed> changed;
  next.Append(leaf_hashes, &changed);
  rocksdb::WriteBatch batch;
  for (const TileBuilder::Changed& tile : changed) {
    batch.Put(TileKey(tile.tile.level, tile.tile.index), tile.bytes);
    if (!tile.inner.empty()) {
      batch.Put(TileKey(tile.tile.level, tile.tile.index, inner_key_prefix), tile.inner);
    }
  }
  std::string size;
  PutBigEndian(next.size(), &size);
  batch.Put(size_key, size);
  // Neither synced nor logged (no write-ahead log): the tree is derived from the log, and a
  // crash that loses the batches not yet flushed leaves the tree of an earlier prefix (a batch's
  // tiles and size are flushed together), built again on start. Keeping the WAL would double
  // the tree's writes, which compete with the log's synced writes for the disk.
  rocksdb::WriteOptions options;
  options.disableWAL = true;
  MALPRO_RETURN_IF_ERROR(FromRocksDb(db_->Write(options, &batch), "write tiles"));
  std::unique_lock lock(mutex_);
  builder_ = std::move(next);
  return Status::Ok();
}

Result<std::string> TlogStore::Tile(const TileId& tile) const {
  std::string bytes;
  {
    std::shared_lock lock(mutex_);
    const uint64_t width = TileWidthAt(tile.level, tile.index, builder_.size());
    if (tile.level < 0 || tile.level > tile_level_max || width < tile.width) {
      return TileMissing(tile);
    }
    if (width < tile_width_full) bytes = builder_.Partial(tile.level);
  }
  if (bytes.empty()) {
    Result<std::string> full = ReadFull(tile, /*inner=*/false);
    if (!full.ok()) return full.status();
    bytes = std::move(full).value();
  }
  if (bytes.size() < tile.width * hash_bytes) {
    return Status::Corruption("Merkle tree: " + TilePath(tile) + " holds " +
                              std::to_string(bytes.size() / hash_bytes) + " hashes");
  }
  bytes.resize(tile.width * hash_bytes);
  return bytes;
}

TileHashReader TlogStore::Reader(uint64_t size) const {
  // Hashes folded from partial tiles (the right edge of the tree, which every proof meets) are
  // kept with the recent tiles: a complete subtree's hash never changes.
  auto memo = [this](int level, uint64_t index,
                     const std::function<Result<Hash>()>& fold) -> Result<Hash> {
    std::string key(1, folded_key_prefix);
    key.push_back(static_cast<char>(level));
    PutBigEndian(index, &key);
    if (rocksdb::Cache::Handle* handle = recent_->Lookup(key)) {
      const Hash hash = *static_cast<const Hash*>(recent_->Value(handle));
      recent_->Release(handle);
      return hash;
    }
    Result<Hash> hash = fold();
    if (hash.ok()) {
      (void)recent_->Insert(
          key, new Hash(*hash), sizeof(Hash) + key.size(),
          [](const rocksdb::Slice&, void* value) { delete static_cast<Hash*>(value); });
    }
    return hash;
  };
  return TileHashReader(
      size, [this](const TileId& tile) { return Tile(tile); },
      [this](const TileId& tile) { return Inner(tile); }, memo);
}

Result<std::string> TlogStore::ReadFull(const TileId& tile, bool inner) const {
  const std::pair<bool, uint64_t> key{inner, uint64_t(tile.level) << 56 | tile.index};
  std::string cache_key(1, inner ? inner_key_prefix : tile_key_prefix);
  PutBigEndian(key.second, &cache_key);
  if (tile.level > 0) {
    std::shared_lock lock(upper_mutex_);
    auto found = upper_.find(key);
    if (found != upper_.end()) return found->second;
  } else if (rocksdb::Cache::Handle* handle = recent_->Lookup(cache_key)) {
    std::string bytes = *static_cast<const std::string*>(recent_->Value(handle));
    recent_->Release(handle);
    return bytes;
  }
  std::string bytes;
  const rocksdb::Status got =
      db_->Get(rocksdb::ReadOptions(),
               TileKey(tile.level, tile.index, inner ? inner_key_prefix : tile_key_prefix), &bytes);
  if (got.IsNotFound()) return TileMissing(tile);  // inner: a tree built before they were kept
  MALPRO_RETURN_IF_ERROR(FromRocksDb(got, "read " + TilePath(tile)));
  if (tile.level > 0) {
    std::unique_lock lock(upper_mutex_);
    upper_.emplace(key, bytes);
  } else {
    (void)recent_->Insert(
        cache_key, new std::string(bytes), bytes.size(),
        [](const rocksdb::Slice&, void* value) { delete static_cast<std::string*>(value); });
  }
  return bytes;
}

Result<std::string> TlogStore::Inner(const TileId& tile) const { return ReadFull(tile, true); }

Result<Hash> TlogStore::Root(uint64_t size) const {
  if (size > Size()) {
    return Status::InvalidArgument(
        errc::kProofRangeInvalid, "size",
        "the Merkle tree holds " + std::to_string(Size()) + " leaves, not " + std::to_string(size));
  }
  return MerkleTreeHash(size, Reader(size));
}

Status TlogStore::ForEachTile(
    const std::function<Status(const TileId&, std::string_view)>& visit) const {
  if (db_ == nullptr) return Status::Ok();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, tile_key_prefix));
       it->Valid() && it->key().starts_with(std::string_view(&tile_key_prefix, 1)); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != 10) return Status::Corruption("Merkle tree: a key of " + BytesToHex(key));
    const TileId tile{static_cast<uint8_t>(key[1]), GetBigEndian(key.substr(2)),
                      it->value().size() / hash_bytes};
    MALPRO_RETURN_IF_ERROR(visit(tile, it->value().ToStringView()));
  }
  return FromRocksDb(it->status(), "read the tiles");
}

Status TlogStore::PutCheckpoint(const StoredCheckpoint& checkpoint) {
  MALPRO_ASSERT(!read_only_);
  rocksdb::WriteBatch batch;
  batch.Put(CheckpointKey(checkpoint.size), EncodeCheckpoint(checkpoint));
  for (const std::string& reason : checkpoint.reasons) {
    if (KindOf(reason) == checkpoint_kind_interval) continue;
    std::string key = KindPrefix(KindOf(reason));
    PutBigEndian(checkpoint.size, &key);
    batch.Put(key, "");
  }
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocksDb(db_->Write(options, &batch),
                     "write checkpoint " + std::to_string(checkpoint.size));
}

Result<std::optional<StoredCheckpoint>> TlogStore::CheckpointAt(uint64_t size) const {
  if (db_ == nullptr) return std::optional<StoredCheckpoint>();
  std::string value;
  const rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), CheckpointKey(size), &value);
  if (got.IsNotFound()) return std::optional<StoredCheckpoint>();
  MALPRO_RETURN_IF_ERROR(FromRocksDb(got, "read checkpoint " + std::to_string(size)));
  Result<StoredCheckpoint> checkpoint = DecodeCheckpoint(size, value);
  if (!checkpoint.ok()) return checkpoint.status();
  return std::optional<StoredCheckpoint>(std::move(checkpoint).value());
}

Result<std::optional<StoredCheckpoint>> TlogStore::LatestCheckpoint() const {
  if (db_ == nullptr) return std::optional<StoredCheckpoint>();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(CheckpointKey(UINT64_MAX));
  if (!it->Valid()) {
    MALPRO_RETURN_IF_ERROR(FromRocksDb(it->status(), "read the checkpoints"));
    return std::optional<StoredCheckpoint>();
  }
  const std::string_view key = it->key().ToStringView();
  if (key.size() != 9 || key[0] != checkpoint_key_prefix) return std::optional<StoredCheckpoint>();
  Result<StoredCheckpoint> checkpoint =
      DecodeCheckpoint(GetBigEndian(key.substr(1)), it->value().ToStringView());
  if (!checkpoint.ok()) return checkpoint.status();
  return std::optional<StoredCheckpoint>(std::move(checkpoint).value());
}

Result<std::vector<StoredCheckpoint>> TlogStore::Checkpoints(uint64_t after_size, size_t limit,
                                                             std::string_view kind) const {
  std::vector<StoredCheckpoint> found;
  if (db_ == nullptr || limit == 0 || after_size == UINT64_MAX) return found;
  const std::string prefix =
      kind.empty() ? std::string(1, checkpoint_key_prefix) : KindPrefix(kind);
  std::string start = prefix;
  PutBigEndian(after_size + 1, &start);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(start); it->Valid() && found.size() < limit; it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (!key.starts_with(prefix) || key.size() != prefix.size() + 8) break;
    const uint64_t size = GetBigEndian(key.substr(prefix.size()));
    if (kind.empty()) {
      Result<StoredCheckpoint> checkpoint = DecodeCheckpoint(size, it->value().ToStringView());
      if (!checkpoint.ok()) return checkpoint.status();
      found.push_back(std::move(checkpoint).value());
      continue;
    }
    Result<std::optional<StoredCheckpoint>> checkpoint = CheckpointAt(size);
    if (!checkpoint.ok()) return checkpoint.status();
    if (!checkpoint->has_value()) {
      return Status::Corruption("Merkle tree: checkpoint " + std::to_string(size) +
                                " is listed but not kept");
    }
    found.push_back(std::move(**checkpoint));
  }
  MALPRO_RETURN_IF_ERROR(FromRocksDb(it->status(), "read the checkpoints"));
  return found;
}

}  // namespace malpro
