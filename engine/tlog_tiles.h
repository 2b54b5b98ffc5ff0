// The Merkle tree of the log as C2SP tlog-tiles keeps it (docs/transparency.md, "Tiles").
//
// A tile at level L holds up to 256 hashes of tree level 8L: level 0 the leaf hashes (leaf n is
// MerkleLeafHash of event n + 1's 32-byte hash), level 1 the roots of full level-0 tiles, and so
// on. Tile N of level L covers hashes [256N, 256N + 256) of its tree level. A full tile never
// changes; the last tile of a level grows until it is full, and the first W hashes of a partial
// tile of width W never change either. Every hash of the tree, at any level, is computed from
// the tiles (TileHashReader), so they are all a server keeps.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/hash.h"
#include "engine/merkle_tree.h"
#include "engine/result.h"

namespace malpro {

// Tree levels a tile spans, and the hashes in a full tile.
inline constexpr int tile_height = 8;
inline constexpr uint64_t tile_width_full = 256;
// The highest tile level: six levels of 8 span 48 tree levels, a tree of up to 2^48 leaves.
inline constexpr int tile_level_max = 5;
// The "level" of an entry bundle (tile/entries/N): the leaves' data, 256 to a bundle, each as a
// 2-byte big-endian length and its bytes (here always 32: an event's hash).
inline constexpr int tile_level_entries = -1;

// One tile: its level (or tile_level_entries), its index, and how many hashes (entries) it holds
// (1..256; 256 is a full tile).
struct TileId {
  int level = 0;
  uint64_t index = 0;
  uint64_t width = tile_width_full;
  bool operator==(const TileId&) const = default;
};

// The C2SP path of a tile below the log's prefix: "tile/0/x001/x234/067" for a full tile,
// "tile/0/x001/x234/067.p/7" for a partial one, "tile/entries/067" for an entry bundle.
std::string TilePath(const TileId& tile);
// The tile a path names, written exactly as TilePath writes it (no leading zeros beyond each
// element's three digits, level 0..tile_level_max or entries, width 1..255 after ".p/").
// InvalidArgument tile_path_invalid naming "path" otherwise.
Result<TileId> ParseTilePath(std::string_view path);

// The width of tile `index` of `level` in a tree of `size` leaves: 0 when the tree has none of
// its hashes, tile_width_full when it is full.
uint64_t TileWidthAt(int level, uint64_t index, uint64_t size);

// The root of the hashes in `tile` (its bytes: width x 32), which must be a full tile: the
// hash one tile level up.
Hash TileRoot(std::string_view tile);
// The hashes inside a full tile, between its own level and the next tile level's: its 128
// node hashes one level up, then 64, ... then the 2 just below its root, 254 hashes in all
// (kept next to the tile so that a proof reads them instead of folding the tile again). The
// tile's root is set in `*root`.
inline constexpr size_t tile_inner_hashes = tile_width_full - 2;
std::string TileInner(std::string_view tile, Hash* root);
// Where the hashes `below` (1 to 7) levels above a tile's own start among TileInner's.
inline constexpr size_t TileInnerStart(int below) {
  return tile_width_full - (2 * tile_width_full >> below);
}

// Builds the tiles of a tree leaf by leaf, in memory: the last (not yet full) tile of each
// level. Appending may fill tiles; `changed` receives each tile that a call filled or grew.
class TileBuilder {
 public:
  struct Changed {
    TileId tile;
    std::string bytes;  // width x 32
    std::string inner;  // a full tile's TileInner; empty for a partial one
  };

  // Starts at a tree of `size` leaves whose last tiles (one per level, as TileWidthAt says,
  // empty ones omitted) are `partials`, lowest level first.
  static Result<TileBuilder> Resume(uint64_t size, const std::vector<std::string>& partials);
  TileBuilder() = default;

  uint64_t size() const { return size_; }
  // Appends leaf hashes in order; afterwards `changed` holds every tile they filled, and the
  // last tile of each level they grew (once, as it stands after the last leaf).
  void Append(const std::vector<Hash>& leaf_hashes, std::vector<Changed>* changed);
  // The last, partial tile of `level` (empty when the level has only full tiles or none).
  const std::string& Partial(int level) const { return partials_[level]; }

 private:
  void AppendAt(int level, const Hash& hash, std::vector<Changed>* changed,
                std::array<bool, tile_level_max + 1>* grown);

  uint64_t size_ = 0;
  std::array<std::string, tile_level_max + 1> partials_;
};

// Reads any hash of the tree (MerkleHashReader) from its tiles: the hash at (level, index)
// folds the 2^(level mod 8) hashes below it in one tile of level level / 8. `read_tile`
// returns the bytes of a tile of at least the width asked (NotFound when it has none).
// With `read_inner` (the TileInner of a full tile; NotFound when not kept), the hashes
// inside full tiles are read instead of folded. Each tile (and inner) is read once a reader.
// With `memo`, a hash folded from a tile (a complete subtree inside a partial tile, whose hash
// never changes) is asked of it first: memo(level, index, fold) returns a kept one or fold()'s.
class TileHashReader final : public MerkleHashReader {
 public:
  using ReadTile = std::function<Result<std::string>(const TileId& tile)>;
  using Memo = std::function<Result<Hash>(int level, uint64_t index,
                                          const std::function<Result<Hash>()>& fold)>;
  TileHashReader(uint64_t size, ReadTile read_tile, ReadTile read_inner = {}, Memo memo = {})
      : size_(size),
        read_tile_(std::move(read_tile)),
        read_inner_(std::move(read_inner)),
        memo_(std::move(memo)) {}
  Result<Hash> ReadHash(int level, uint64_t index) const override;

 private:
  // The bytes of `tile` (inner: its TileInner), read once.
  Result<const std::string*> Cached(const TileId& tile, bool inner) const;

  uint64_t size_;
  ReadTile read_tile_;
  ReadTile read_inner_;
  Memo memo_;
  mutable std::map<std::tuple<bool, int, uint64_t, uint64_t>, std::string> cache_;
};

}  // namespace malpro
