// A Merkle tree over the log as RFC 9162 (section 2.1) defines it: leaves and interior nodes
// hashed apart (0x00 and 0x01 prefixes), a tree of any size split at the largest power of two
// below it, inclusion proofs for one leaf and consistency proofs between two sizes, and the
// verification of both.
//
// The tree is kept as the hashes of its complete subtrees: the subtree at `level` with
// `index` covers leaves [index * 2^level, (index + 1) * 2^level). Appending leaf n stores the
// subtrees it completes (HashesToStore); those never change afterwards, so they can be kept
// in immutable tiles (C2SP tlog-tiles) and every root and proof of any size up to the tree's is
// computed from them (MerkleTreeHash, InclusionProof, ConsistencyProof). The verifications
// need nothing but the proof, the sizes and the roots.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/hash.h"
#include "engine/result.h"

namespace malpro {

// The deepest level a tree of 2^64 - 1 leaves has.
inline constexpr int merkle_levels_max = 63;

// RFC 9162 2.1.1: SHA-256(0x00 || leaf) and SHA-256(0x01 || left || right).
Hash MerkleLeafHash(std::string_view leaf);
Hash MerkleNodeHash(const Hash& left, const Hash& right);

// Where the stored hashes of complete subtrees are read from.
class MerkleHashReader {
 public:
  virtual ~MerkleHashReader() = default;
  // The hash of the complete subtree at (level, index). Called only for subtrees within a
  // size the caller knows the store holds; NotFound or IOError from the store pass through.
  virtual Result<Hash> ReadHash(int level, uint64_t index) const = 0;
};

// One complete subtree's hash, to be stored.
struct SubtreeHash {
  int level = 0;
  uint64_t index = 0;
  Hash hash{};
};

// The subtrees that leaf `n` (0-based) completes, leaf first: (0, n), then (1, n / 2) when n is
// odd, and so on up while the subtree is complete. Reads the left siblings from `reader`,
// which must hold every subtree of the first n leaves.
Result<std::vector<SubtreeHash>> HashesToStore(uint64_t n, const Hash& leaf_hash,
                                               const MerkleHashReader& reader);

// The root of the first `size` leaves (RFC 9162 MTH); SHA-256 of nothing for size 0.
Result<Hash> MerkleTreeHash(uint64_t size, const MerkleHashReader& reader);

// RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of the first `size` leaves.
// InvalidArgument when index >= size.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                         const MerkleHashReader& reader);

// RFC 9162 2.1.4.1: the proof that the tree of `old_size` leaves is a prefix of the tree of
// `new_size` leaves. Empty when the sizes are equal; InvalidArgument unless
// 0 < old_size <= new_size.
Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                           const MerkleHashReader& reader);

// The proof that the leaves at `indices` (strictly increasing, each below `size`) are in the
// tree of `size` leaves (docs/transparency.md, section 6.2): the RFC 9162 recursion over the
// tree, descending into each subtree that holds one of them (the left one first when both do)
// and giving the root of each sibling subtree that holds none, after what is below it. For one
// leaf it is the RFC 9162 audit path. InvalidArgument proof_range_invalid otherwise.
Result<std::vector<Hash>> MultiInclusionProof(const std::vector<uint64_t>& indices, uint64_t size,
                                              const MerkleHashReader& reader);
// The root that `proof` and the leaves give (the same recursion); Corruption when the proof
// holds too few or too many hashes, or the indices are not increasing or below `size`.
Result<Hash> MultiInclusionRoot(const std::vector<uint64_t>& indices,
                                const std::vector<Hash>& leaf_hashes, uint64_t size,
                                const std::vector<Hash>& proof);

// The frontier of the tree of `size` leaves: the roots of the complete subtrees [0, size)
// falls into, largest first (one for each bit set in `size`). Whoever holds it and the leaves
// after `size` can compute the root of any larger tree (docs/transparency.md, section 7).
Result<std::vector<Hash>> TreeFrontier(uint64_t size, const MerkleHashReader& reader);

// A tree known by its frontier, grown leaf by leaf.
class FrontierTree {
 public:
  // InvalidArgument proof_invalid unless `frontier` holds one hash per bit set in `size`.
  static Result<FrontierTree> Resume(uint64_t size, const std::vector<Hash>& frontier);
  FrontierTree() = default;
  void Append(const Hash& leaf_hash);
  uint64_t size() const { return size_; }
  // The root of the tree as it stands (SHA-256 of nothing when empty).
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> subtrees_;  // largest first, as TreeFrontier gives them
};

// RFC 9162 2.1.3.2: whether `proof` shows the leaf with `leaf_hash` at `index` in the tree of
// `size` leaves whose root is `root`. Corruption saying why when it does not.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root);

// RFC 9162 2.1.4.2: whether `proof` shows that the tree of `old_size` leaves with `old_root`
// is a prefix of the tree of `new_size` leaves with `new_root`. Equal sizes need an empty proof
// and equal roots. Corruption saying why when it does not.
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, const std::vector<Hash>& proof);

// A tree held in memory: for tests, benches and verifiers that rebuild a tree from its leaves.
class MemoryMerkleTree final : public MerkleHashReader {
 public:
  // Appends the leaf with `leaf_hash` (already MerkleLeafHash'ed).
  void Append(const Hash& leaf_hash);
  uint64_t size() const { return size_; }
  Result<Hash> Root() const { return MerkleTreeHash(size_, *this); }
  Result<Hash> ReadHash(int level, uint64_t index) const override;

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[level][index]
  uint64_t size_ = 0;
};

}  // namespace malpro
