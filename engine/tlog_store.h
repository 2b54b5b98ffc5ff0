// The Merkle tree of the log, kept as tiles (engine/tlog_tiles.h) in a RocksDB database of its
// own beside the log (`{data_dir}/tlog`), built off the append path by a thread that follows
// the log (TlogBuilder), and read by the tile routes, proofs and checkpoints
// (docs/transparency.md).
//
// Leaf n (0-based) is MerkleLeafHash of the 32-byte hash of event n + 1 (docs/transparency.md,
// "Leaves"): a proof carries hashes only, never an event's payload.
//
// Stored: one key per tile ("t" + level byte + index, 8 bytes big-endian; the value is the
// tile's hashes as they stand, a partial tile growing in place), for each full tile the hashes
// inside it ("n" + level byte + index: TileInner, read by proofs instead of folding the tile) and
// the tree's size ("size", 8 bytes big-endian), written in one batch, so the tree a crash leaves is
// the tree of some prefix of the log (the builder goes on from there). Threading: one writer (the
// builder), any number of readers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/event_log.h"
#include "engine/tlog_tiles.h"

namespace rocksdb {
class Cache;
class DB;
}  // namespace rocksdb

namespace malpro {

// Where the tree lives below the log's data directory.
inline constexpr char tlog_directory[] = "tlog";
// Leaves a builder appends in one batch at most.
inline constexpr size_t tlog_batch_leaves_max = 4096;
// After a batch smaller than that, the builder waits this long for more events, so that under
// load it writes at most ~50 batches a second.
inline constexpr std::chrono::milliseconds tlog_batch_gather{20};

// The leaf hash of an event: MerkleLeafHash over its 32-byte hash.
Hash TlogLeafHash(const Event& event);

// A signed checkpoint as kept (engine/tlog_checkpoints.h): the note, and when and why it was
// issued. A size has one checkpoint (Ed25519 signs the same text the same way); its reasons
// gather every occasion that asked for it.
struct StoredCheckpoint {
  uint64_t size = 0;
  int64_t issued_at_us = 0;
  // "interval", "settlement 2026-12-02", "month-end 2026-11": a kind, then what it closed.
  std::vector<std::string> reasons;
  std::string note;  // the signed note (tlog-checkpoint text, empty line, signatures)
  bool operator==(const StoredCheckpoint&) const = default;
};

class TlogStore {
 public:
  // Opens (read_only: without creating or writing) the tree in `dir`. Read-only, a directory
  // that holds no tree gives an empty store that does not exist (Exists()).
  static Result<std::unique_ptr<TlogStore>> Open(const std::string& dir, bool read_only);
  bool Exists() const;
  ~TlogStore();
  TlogStore(const TlogStore&) = delete;
  TlogStore& operator=(const TlogStore&) = delete;

  // Leaves in the tree.
  uint64_t Size() const;
  // Appends leaf hashes in order (one batch with the new size; not synced: see tlog_store.cc).
  Status Append(const std::vector<Hash>& leaf_hashes);
  // The bytes of `tile` (its width x 32) as of the tree now. NotFound tile_not_found when the
  // tree does not hold that many hashes there yet (a wider tile than it has, or none).
  Result<std::string> Tile(const TileId& tile) const;
  // The hashes inside the full `tile` (TileInner); NotFound tile_not_found when not kept.
  Result<std::string> Inner(const TileId& tile) const;
  // The root of the first `size` leaves (size <= Size()).
  Result<Hash> Root(uint64_t size) const;
  // Reads the tree of the first `size` leaves (size <= Size()), for proofs.
  TileHashReader Reader(uint64_t size) const;
  // Every stored tile of a tree of Size() leaves, lowest level first, by index.
  Status ForEachTile(const std::function<Status(const TileId&, std::string_view)>& visit) const;

  // Keeps `checkpoint` (replacing one of the same size), synced: a checkpoint once served or
  // published is never lost.
  Status PutCheckpoint(const StoredCheckpoint& checkpoint);
  Result<std::optional<StoredCheckpoint>> CheckpointAt(uint64_t size) const;
  // The checkpoint of the largest size, if any.
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() const;
  // Up to `limit` checkpoints of sizes above `after_size`, smallest first; with a `kind` (a
  // reason's first word, "settlement" or "month-end"), only those with such a reason.
  Result<std::vector<StoredCheckpoint>> Checkpoints(uint64_t after_size, size_t limit,
                                                    std::string_view kind) const;

 private:
  TlogStore() = default;
  Status Load();

  std::unique_ptr<rocksdb::DB> db_;
  bool read_only_ = false;
  // A full tile's bytes (inner: its TileInner; NotFound when not kept). Above level 0 read
  // once and kept (they never change, every proof reads some, and they are 1/256 of the level
  // below); at level 0 kept in an LRU cache of recent ones.
  Result<std::string> ReadFull(const TileId& tile, bool inner) const;

  mutable std::shared_mutex mutex_;  // builder_ and the last tiles
  TileBuilder builder_;
  mutable std::shared_mutex upper_mutex_;
  mutable std::map<std::pair<bool, uint64_t>, std::string> upper_;  // (inner, level << 56 | index)
  std::shared_ptr<rocksdb::Cache> recent_;
};

// Follows the log: appends each new event's leaf to the store, a batch at a time, off the
// append path. Stop() (or the destructor) ends the thread; a failure stops it and is kept.
class TlogBuilder {
 public:
  TlogBuilder(const EventLog* log, TlogStore* store) : log_(log), store_(store) {}
  ~TlogBuilder() { Stop(); }
  TlogBuilder(const TlogBuilder&) = delete;
  TlogBuilder& operator=(const TlogBuilder&) = delete;

  // Folds every event up to the log's head now, on the caller's thread. Corruption when the
  // tree holds more leaves than the log has events.
  Status CatchUp();
  void Start();
  void Stop();
  // Blocks until the tree holds `size` leaves or the timeout passes.
  bool WaitForSize(uint64_t size, std::chrono::milliseconds timeout) const;
  // Ok, or why the thread stopped.
  Status Health() const;

 private:
  // Appends the leaves of the next events after the tree's size; how many (0: none new).
  Result<size_t> Step();
  void Loop();

  const EventLog* log_;
  TlogStore* store_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable grown_;
  Status failure_;
};

// The entry bundle `tile` (level tile_level_entries) of the tree in `store`: the hashes of
// events 256N + 1 .. 256N + width from `log`, each as 0x00 0x20 and its 32 bytes. NotFound
// tile_not_found when the tree does not hold those leaves yet.
Result<std::string> EntryBundle(const EventLog& log, const TlogStore& store, const TileId& tile);

// What VerifyTlog found.
struct TlogReport {
  bool ok = true;
  uint64_t size = 0;  // leaves in the stored tree
  Hash root{};
  std::string problem;  // the first problem, when not ok
};

// Rebuilds the tree from the log's events (their hashes) and compares every stored tile with
// the rebuilt one, and the size with the log's head. Errors only for what stops the check
// (an unreadable log or store).
Result<TlogReport> VerifyTlog(const EventLog& log, const TlogStore& store);

}  // namespace malpro
