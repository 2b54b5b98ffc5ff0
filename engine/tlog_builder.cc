// TlogBuilder, which keeps the Merkle tree up with the log, and VerifyTlog, which rebuilds it.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "engine/error_codes.h"
#include "engine/tlog_store.h"

namespace malpro {
namespace {

// The nice value of the builder's thread (0 is the process's; 19 the lowest priority).
constexpr int tlog_builder_nice = 10;

}  // namespace

Result<size_t> TlogBuilder::Step() {
  const uint64_t size = store_->Size();
  const uint64_t head = log_->Head().sequence;
  if (size > head) {
    return Status::Corruption("the Merkle tree holds " + std::to_string(size) +
                              " leaves but the log only " + std::to_string(head) + " events");
  }
  if (size == head) return size_t{0};
  std::unique_ptr<EventLog::Scanner> scanner = log_->Scan(size + 1);
  const size_t wanted = static_cast<size_t>(std::min<uint64_t>(head - size, tlog_batch_leaves_max));
  // The leaves come from the events' stored hashes: nothing is decoded (audit verify checks
  // that each stored hash is the hash of its event).
  std::vector<Hash> leaves;
  MALPRO_RETURN_IF_ERROR(scanner->ReadHashes(std::min(wanted, read_events_max), &leaves));
  for (Hash& leaf : leaves) leaf = MerkleLeafHash(HashView(leaf));
  MALPRO_RETURN_IF_ERROR(store_->Append(leaves));
  {
    std::lock_guard lock(mutex_);  // a waiter between its check and its wait sees the news
  }
  grown_.notify_all();
  return leaves.size();
}

Status TlogBuilder::CatchUp() {
  while (true) {
    Result<size_t> appended = Step();
    if (!appended.ok()) return appended.status();
    if (*appended == 0) return Status::Ok();
  }
}

void TlogBuilder::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void TlogBuilder::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  grown_.notify_all();
}

void TlogBuilder::Loop() {
  // Below the log's own threads: the tree catches up in the time they leave (appends wait on
  // the disk most of the time), instead of taking CPU from them under load.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), tlog_builder_nice);
  while (!stopping_) {
    Result<size_t> appended = Step();
    if (!appended.ok()) {
      std::lock_guard lock(mutex_);
      failure_ = appended.status();
      grown_.notify_all();
      return;
    }
    if (*appended == 0) {
      log_->WaitForSequence(store_->Size() + 1, std::chrono::milliseconds(200));
    }
    if (*appended < tlog_batch_leaves_max && !stopping_) {
      std::this_thread::sleep_for(tlog_batch_gather);
    }
  }
}

bool TlogBuilder::WaitForSize(uint64_t size, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return grown_.wait_for(lock, timeout, [&] {
    return store_->Size() >= size || !failure_.ok() || stopping_;
  }) && store_->Size() >= size;
}

Status TlogBuilder::Health() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

Result<std::string> EntryBundle(const EventLog& log, const TlogStore& store, const TileId& tile) {
  if (tile.level != tile_level_entries ||
      TileWidthAt(tile_level_entries, tile.index, store.Size()) < tile.width) {
    return Status::NotFound(errc::kTileNotFound, "path",
                            TilePath(tile) + " is not in the Merkle tree yet");
  }
  Result<std::vector<Event>> events = log.Read(tile.index * tile_width_full + 1, tile.width);
  if (!events.ok()) return events.status();
  if (events->size() != tile.width) {
    return Status::Corruption("the log does not hold the events of " + TilePath(tile));
  }
  std::string bundle;
  bundle.reserve(tile.width * (2 + hash_bytes));
  for (const Event& event : *events) {
    bundle.push_back(0);
    bundle.push_back(static_cast<char>(hash_bytes));
    bundle.append(HashView(event.hash));
  }
  return bundle;
}

namespace {

Result<size_t> CountStoredTiles(const TlogStore& store) {
  size_t stored = 0;
  MALPRO_RETURN_IF_ERROR(store.ForEachTile([&](const TileId&, std::string_view) {
    ++stored;
    return Status::Ok();
  }));
  return stored;
}

}  // namespace

Result<TlogReport> VerifyTlog(const EventLog& log, const TlogStore& store) {
  TlogReport report;
  report.size = store.Size();
  const uint64_t head = log.Head().sequence;
  auto fail = [&](std::string problem) {
    report.ok = false;
    report.problem = std::move(problem);
    return report;
  };
  if (report.size > head) {
    return fail("the Merkle tree holds " + std::to_string(report.size) +
                " leaves but the log only " + std::to_string(head) + " events");
  }
  TileBuilder rebuilt;
  size_t tiles = 0;
  std::unique_ptr<EventLog::Scanner> scanner = log.Scan(1);
  std::vector<Event> events;
  std::vector<TileBuilder::Changed> changed;
  auto compare = [&](const TileBuilder::Changed& tile) -> Result<bool> {
    Result<std::string> stored = store.Tile(tile.tile);
    if (!stored.ok()) return stored.status();
    if (*stored != tile.bytes) return false;
    if (tile.inner.empty()) return true;
    Result<std::string> inner = store.Inner(tile.tile);
    if (!inner.ok()) {  // a tree built before inner hashes were kept folds its tiles
      return inner.status().code() == StatusCode::kNotFound ? Result<bool>(true)
                                                            : Result<bool>(inner.status());
    }
    return *inner == tile.inner;
  };
  while (rebuilt.size() < report.size) {
    events.clear();
    MALPRO_RETURN_IF_ERROR(scanner->ReadInto(
        static_cast<size_t>(std::min<uint64_t>(report.size - rebuilt.size(), read_events_max)),
        &events));
    if (events.empty()) return fail("the log ended before the Merkle tree's size");
    std::vector<Hash> leaves;
    for (const Event& event : events) leaves.push_back(TlogLeafHash(event));
    changed.clear();
    rebuilt.Append(leaves, &changed);
    for (const TileBuilder::Changed& tile : changed) {
      if (tile.tile.width < tile_width_full) continue;  // partial: compared at the end
      ++tiles;
      Result<bool> same = compare(tile);
      if (!same.ok()) return same.status();
      if (!*same) return fail(TilePath(tile.tile) + " differs from the tile the log makes");
    }
  }
  for (int level = 0; level <= tile_level_max; ++level) {
    const std::string& partial = rebuilt.Partial(level);
    if (partial.empty()) continue;
    ++tiles;
    const uint64_t index = (report.size >> (tile_height * level)) / tile_width_full;
    TileBuilder::Changed tile{TileId{level, index, partial.size() / hash_bytes}, partial, {}};
    Result<bool> same = compare(tile);
    if (!same.ok()) return same.status();
    if (!*same) return fail(TilePath(tile.tile) + " differs from the tile the log makes");
  }
  Result<size_t> stored = CountStoredTiles(store);
  if (!stored.ok()) return stored.status();
  if (*stored != tiles) {
    return fail("the Merkle tree stores " + std::to_string(*stored) + " tiles where its " +
                std::to_string(report.size) + " leaves make " + std::to_string(tiles));
  }
  Result<Hash> root = store.Root(report.size);
  if (!root.ok()) return root.status();
  report.root = *root;
  return report;
}

}  // namespace malpro
