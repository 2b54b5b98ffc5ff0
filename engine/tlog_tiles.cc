#include "engine/tlog_tiles.h"

#include <algorithm>
#include <charconv>

#include "engine/assert.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

Status BadPath(std::string_view why) {
  return Status::InvalidArgument(
      errc::kTilePathInvalid, "path",
      "path must be tile/L/N[.p/W] as C2SP tlog-tiles writes it: " + std::string(why));
}

// A decimal number of exactly `digits` digits ("067"), or of 1 to 3 digits without a leading
// zero when digits is 0 ("7", "255").
bool ParseDigits(std::string_view text, size_t digits, uint64_t* value) {
  if (text.empty() || text.size() > 3) return false;
  if (digits != 0 && text.size() != digits) return false;
  if (digits == 0 && text.size() > 1 && text[0] == '0') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(text.data(), text.data() + text.size(), *value);
  return true;
}

Hash HashAt(std::string_view tile, uint64_t i) {
  Hash hash;
  std::copy_n(tile.data() + i * hash_bytes, hash_bytes, hash.begin());
  return hash;
}

// The root of hashes [first, first + count) of a tile, count a power of two.
Hash FoldRange(std::string_view tile, uint64_t first, uint64_t count) {
  if (count == 1) return HashAt(tile, first);
  const uint64_t half = count / 2;
  return MerkleNodeHash(FoldRange(tile, first, half), FoldRange(tile, first + half, half));
}

}  // namespace

std::string TilePath(const TileId& tile) {
  std::string path =
      "tile/" +
      (tile.level == tile_level_entries ? std::string("entries") : std::to_string(tile.level)) +
      "/";
  std::string index = std::to_string(tile.index);
  index.insert(0, (3 - index.size() % 3) % 3, '0');
  for (size_t at = 0; at < index.size(); at += 3) {
    if (at + 3 < index.size()) path += 'x';
    path.append(index, at, 3);
    if (at + 3 < index.size()) path += '/';
  }
  if (tile.width < tile_width_full) path += ".p/" + std::to_string(tile.width);
  return path;
}

Result<TileId> ParseTilePath(std::string_view path) {
  if (!path.starts_with("tile/")) return BadPath("it does not start with tile/");
  path.remove_prefix(5);
  TileId tile;
  const size_t slash = path.find('/');
  uint64_t level = 0;
  if (slash != std::string_view::npos && path.substr(0, slash) == "entries") {
    tile.level = tile_level_entries;
  } else if (slash == std::string_view::npos || !ParseDigits(path.substr(0, slash), 0, &level) ||
             level > tile_level_max) {
    return BadPath("the level must be 0 to " + std::to_string(tile_level_max) + " or entries");
  } else {
    tile.level = static_cast<int>(level);
  }
  path.remove_prefix(slash + 1);
  const size_t partial = path.find(".p/");
  std::string_view index = path.substr(0, partial);
  if (partial != std::string_view::npos) {
    uint64_t width = 0;
    if (!ParseDigits(path.substr(partial + 3), 0, &width) || width == 0 ||
        width >= tile_width_full) {
      return BadPath("a partial tile's width must be 1 to 255");
    }
    tile.width = width;
  }
  uint64_t value = 0;
  bool first = true;
  while (true) {
    const size_t next = index.find('/');
    const bool last = next == std::string_view::npos;
    std::string_view element = index.substr(0, next);
    if (!last) {
      if (!element.starts_with('x')) return BadPath("every index element but the last has an x");
      element.remove_prefix(1);
    }
    uint64_t digits = 0;
    if (!ParseDigits(element, 3, &digits) || (first && !last && digits == 0) ||
        value > (UINT64_MAX - digits) / 1000) {
      return BadPath("the index is written in elements of three digits, x001/x234/067");
    }
    value = value * 1000 + digits;
    first = false;
    if (last) break;
    index.remove_prefix(next + 1);
  }
  tile.index = value;
  return tile;
}

uint64_t TileWidthAt(int level, uint64_t index, uint64_t size) {
  // Hashes of tree level 8 * level: one per full subtree of 2^(8 * level) leaves (entries: one
  // per leaf).
  const int shift = tile_height * std::max(level, 0);
  const uint64_t hashes = shift >= 64 ? 0 : size >> shift;
  const uint64_t first = index * tile_width_full;
  if (hashes <= first) return 0;
  return std::min<uint64_t>(hashes - first, tile_width_full);
}

Hash TileRoot(std::string_view tile) {
  MALPRO_ASSERT(tile.size() == tile_width_full * hash_bytes);
  return FoldRange(tile, 0, tile_width_full);
}

std::string TileInner(std::string_view tile, Hash* root) {
  MALPRO_ASSERT(tile.size() == tile_width_full * hash_bytes);
  std::string inner;
  inner.reserve(tile_inner_hashes * hash_bytes);  // so that appending never moves `below`
  std::string_view below = tile;
  size_t at = 0;  // where `below` starts in `inner` once it is there
  for (size_t count = tile_width_full / 2; count >= 1; count /= 2) {
    const size_t start = inner.size();
    for (size_t i = 0; i < count; ++i) {
      const Hash node = MerkleNodeHash(HashAt(below, 2 * i), HashAt(below, 2 * i + 1));
      if (count == 1) {
        *root = node;
      } else {
        inner.append(HashView(node));
      }
    }
    if (count == 1) break;
    at = start;
    below = std::string_view(inner).substr(at);
  }
  return inner;
}

Result<TileBuilder> TileBuilder::Resume(uint64_t size, const std::vector<std::string>& partials) {
  TileBuilder builder;
  builder.size_ = size;
  size_t next = 0;
  for (int level = 0; level <= tile_level_max; ++level) {
    const uint64_t hashes = size >> (tile_height * level);
    const uint64_t width = hashes % tile_width_full;
    if (width == 0) continue;
    if (next >= partials.size() || partials[next].size() != width * hash_bytes) {
      return Status::Corruption("the Merkle tree's last tile of level " + std::to_string(level) +
                                " does not hold " + std::to_string(width) + " hashes");
    }
    builder.partials_[level] = partials[next++];
  }
  if (next != partials.size()) return Status::Corruption("the Merkle tree has extra tiles");
  return builder;
}

void TileBuilder::AppendAt(int level, const Hash& hash, std::vector<Changed>* changed,
                           std::array<bool, tile_level_max + 1>* grown) {
  MALPRO_ASSERT(level <= tile_level_max);
  std::string& tile = partials_[level];
  tile.append(HashView(hash));
  const uint64_t hashes = size_ >> (tile_height * level);  // after this one
  const uint64_t index = (hashes - 1) / tile_width_full;
  if (tile.size() < tile_width_full * hash_bytes) {
    (*grown)[level] = true;
    return;
  }
  (*grown)[level] = false;
  Hash root{};
  std::string inner = TileInner(tile, &root);
  changed->push_back({TileId{level, index, tile_width_full}, std::move(tile), std::move(inner)});
  tile.clear();
  AppendAt(level + 1, root, changed, grown);
}

void TileBuilder::Append(const std::vector<Hash>& leaf_hashes, std::vector<Changed>* changed) {
  std::array<bool, tile_level_max + 1> grown{};
  for (const Hash& leaf : leaf_hashes) {
    ++size_;
    AppendAt(0, leaf, changed, &grown);
  }
  for (int level = 0; level <= tile_level_max; ++level) {
    if (!grown[level]) continue;
    const uint64_t width = partials_[level].size() / hash_bytes;
    const uint64_t index = (size_ >> (tile_height * level)) / tile_width_full;
    changed->push_back({TileId{level, index, width}, partials_[level], {}});
  }
}

Result<Hash> TileHashReader::ReadHash(int level, uint64_t index) const {
  const int tile_level = level / tile_height;
  const int below = level % tile_height;  // tree levels between the tile's and the hash's
  const uint64_t first = index << below;  // among the tile level's hashes
  const uint64_t count = uint64_t{1} << below;
  if (tile_level > tile_level_max || first + count > size_ >> (tile_height * tile_level)) {
    return Status::Corruption("the Merkle tree of " + std::to_string(size_) +
                              " leaves has no complete subtree at level " + std::to_string(level) +
                              " index " + std::to_string(index));
  }
  TileId tile{tile_level, first / tile_width_full, 0};
  tile.width = TileWidthAt(tile_level, tile.index, size_);
  const uint64_t offset = first % tile_width_full;
  if (below > 0 && tile.width == tile_width_full && read_inner_) {
    Result<const std::string*> inner = Cached(tile, /*inner=*/true);
    if (inner.ok() && (*inner)->size() == tile_inner_hashes * hash_bytes) {
      return HashAt(**inner, TileInnerStart(below) + (offset >> below));
    }
    if (!inner.ok() && inner.status().code() != StatusCode::kNotFound) return inner.status();
  }
  auto fold = [&]() -> Result<Hash> {
    Result<const std::string*> bytes = Cached(tile, /*inner=*/false);
    if (!bytes.ok()) return bytes.status();
    if ((*bytes)->size() < (offset + count) * hash_bytes) {
      return Status::Corruption("the Merkle tree's tile " + TilePath(tile) + " is too short");
    }
    return FoldRange(**bytes, offset, count);
  };
  if (count > 1 && memo_) return memo_(level, index, fold);
  return fold();
}

Result<const std::string*> TileHashReader::Cached(const TileId& tile, bool inner) const {
  const auto key = std::make_tuple(inner, tile.level, tile.index, tile.width);
  auto found = cache_.find(key);
  if (found != cache_.end()) return &found->second;
  Result<std::string> bytes = inner ? read_inner_(tile) : read_tile_(tile);
  if (!bytes.ok()) return bytes.status();
  return &cache_.emplace(key, std::move(bytes).value()).first->second;
}

}  // namespace malpro
