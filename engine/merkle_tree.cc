#include "engine/merkle_tree.h"

#include <algorithm>
#include <bit>
#include <string>

#include "engine/assert.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

constexpr char leaf_prefix = 0x00;
constexpr char node_prefix = 0x01;

// The largest power of two below n (n >= 2): where RFC 9162 splits a tree of n leaves.
uint64_t SplitPoint(uint64_t n) {
  MALPRO_ASSERT(n >= 2);
  return std::bit_floor(n - 1);
}

// The root of leaves [begin, end), where begin is a multiple of a power of two at least
// end - begin (as every range the RFC's recursion meets is): the complete subtrees the range
// falls into, largest first, folded from the right.
Result<Hash> RangeHash(uint64_t begin, uint64_t end, const MerkleHashReader& reader) {
  MALPRO_ASSERT(begin < end);
  Hash subtrees[merkle_levels_max + 1];
  int count = 0;
  while (begin < end) {
    int level = begin == 0 ? merkle_levels_max : std::countr_zero(begin);
    while ((uint64_t{1} << level) > end - begin) --level;
    Result<Hash> hash = reader.ReadHash(level, begin >> level);
    if (!hash.ok()) return hash.status();
    MALPRO_ASSERT(count <= merkle_levels_max);
    subtrees[count++] = *hash;
    begin += uint64_t{1} << level;
  }
  Hash root = subtrees[--count];
  while (count > 0) root = MerkleNodeHash(subtrees[--count], root);
  return root;
}

// RFC 9162 PATH(m, D[begin:end]), appended bottom-up.
Status AppendPath(uint64_t m, uint64_t begin, uint64_t end, const MerkleHashReader& reader,
                  std::vector<Hash>* proof) {
  if (end - begin == 1) return Status::Ok();
  const uint64_t middle = begin + SplitPoint(end - begin);
  const bool in_left = m < middle;
  MALPRO_RETURN_IF_ERROR(in_left ? AppendPath(m, begin, middle, reader, proof)
                                 : AppendPath(m, middle, end, reader, proof));
  Result<Hash> sibling =
      in_left ? RangeHash(middle, end, reader) : RangeHash(begin, middle, reader);
  if (!sibling.ok()) return sibling.status();
  proof->push_back(*sibling);
  return Status::Ok();
}

// RFC 9162 SUBPROOF(m, D[begin:end], b), appended bottom-up.
Status AppendSubproof(uint64_t m, uint64_t begin, uint64_t end, bool whole_old_tree,
                      const MerkleHashReader& reader, std::vector<Hash>* proof) {
  if (m == end - begin) {
    if (whole_old_tree) return Status::Ok();
    Result<Hash> hash = RangeHash(begin, end, reader);
    if (!hash.ok()) return hash.status();
    proof->push_back(*hash);
    return Status::Ok();
  }
  const uint64_t middle = begin + SplitPoint(end - begin);
  const bool in_left = m <= middle - begin;
  MALPRO_RETURN_IF_ERROR(in_left ? AppendSubproof(m, begin, middle, whole_old_tree, reader, proof)
                                 : AppendSubproof(m - (middle - begin), middle, end,
                                                  /*whole_old_tree=*/false, reader, proof));
  Result<Hash> sibling =
      in_left ? RangeHash(middle, end, reader) : RangeHash(begin, middle, reader);
  if (!sibling.ok()) return sibling.status();
  proof->push_back(*sibling);
  return Status::Ok();
}

// The multi-leaf proof's recursion over leaves [begin, end) holding indices[first, last).
Status AppendMultiPath(const std::vector<uint64_t>& indices, size_t first, size_t last,
                       uint64_t begin, uint64_t end, const MerkleHashReader& reader,
                       std::vector<Hash>* proof) {
  if (end - begin == 1) return Status::Ok();
  const uint64_t middle = begin + SplitPoint(end - begin);
  const size_t split = static_cast<size_t>(
      std::lower_bound(indices.begin() + first, indices.begin() + last, middle) - indices.begin());
  if (split > first) {
    MALPRO_RETURN_IF_ERROR(AppendMultiPath(indices, first, split, begin, middle, reader, proof));
  }
  if (split < last) {
    MALPRO_RETURN_IF_ERROR(AppendMultiPath(indices, split, last, middle, end, reader, proof));
  }
  if (split == first || split == last) {
    Result<Hash> sibling =
        split == first ? RangeHash(begin, middle, reader) : RangeHash(middle, end, reader);
    if (!sibling.ok()) return sibling.status();
    proof->push_back(*sibling);
  }
  return Status::Ok();
}

struct MultiRootInput {
  const std::vector<uint64_t>& indices;
  const std::vector<Hash>& leaf_hashes;
  const std::vector<Hash>& proof;
  size_t next = 0;  // the next proof hash to take
};

// The root of leaves [begin, end) holding indices[first, last) (first < last).
Result<Hash> MultiRoot(MultiRootInput& input, size_t first, size_t last, uint64_t begin,
                       uint64_t end) {
  if (end - begin == 1) return input.leaf_hashes[first];
  const uint64_t middle = begin + SplitPoint(end - begin);
  const size_t split = static_cast<size_t>(
      std::lower_bound(input.indices.begin() + first, input.indices.begin() + last, middle) -
      input.indices.begin());
  auto side = [&](size_t from, size_t to, uint64_t low, uint64_t high) -> Result<Hash> {
    if (from < to) return MultiRoot(input, from, to, low, high);
    return Hash{};  // taken from the proof below, after the other side
  };
  Result<Hash> left = side(first, split, begin, middle);
  if (!left.ok()) return left.status();
  Result<Hash> right = side(split, last, middle, end);
  if (!right.ok()) return right.status();
  if (split == first || split == last) {
    if (input.next >= input.proof.size()) {
      return Status::Corruption("the proof holds too few hashes");
    }
    (split == first ? *left : *right) = input.proof[input.next++];
  }
  return MerkleNodeHash(*left, *right);
}

Status ProofFails(const std::string& why) {
  return Status::Corruption("the proof does not verify: " + why);
}

}  // namespace

Hash MerkleLeafHash(std::string_view leaf) {
  return Sha256(std::string_view(&leaf_prefix, 1), leaf);
}

Hash MerkleNodeHash(const Hash& left, const Hash& right) {
  char bytes[1 + 2 * hash_bytes];
  bytes[0] = node_prefix;
  std::copy(left.begin(), left.end(), bytes + 1);
  std::copy(right.begin(), right.end(), bytes + 1 + hash_bytes);
  return Sha256(std::string_view(bytes, sizeof(bytes)));
}

Result<std::vector<SubtreeHash>> HashesToStore(uint64_t n, const Hash& leaf_hash,
                                               const MerkleHashReader& reader) {
  std::vector<SubtreeHash> stored{{0, n, leaf_hash}};
  for (uint64_t index = n; index % 2 == 1; index /= 2) {
    const SubtreeHash& right = stored.back();
    Result<Hash> left = reader.ReadHash(right.level, index - 1);
    if (!left.ok()) return left.status();
    stored.push_back(SubtreeHash{right.level + 1, index / 2, MerkleNodeHash(*left, right.hash)});
  }
  return stored;
}

Result<Hash> MerkleTreeHash(uint64_t size, const MerkleHashReader& reader) {
  if (size == 0) return Sha256("");
  return RangeHash(0, size, reader);
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                         const MerkleHashReader& reader) {
  if (index >= size) {
    return Status::InvalidArgument(errc::kProofRangeInvalid, "index",
                                   "leaf " + std::to_string(index) + " is not in a tree of " +
                                       std::to_string(size) + " leaves");
  }
  std::vector<Hash> proof;
  MALPRO_RETURN_IF_ERROR(AppendPath(index, 0, size, reader, &proof));
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                           const MerkleHashReader& reader) {
  if (old_size == 0 || old_size > new_size) {
    return Status::InvalidArgument(errc::kProofRangeInvalid, "old_size",
                                   "a consistency proof needs 0 < old size <= new size (" +
                                       std::to_string(old_size) + ", " + std::to_string(new_size) +
                                       ")");
  }
  std::vector<Hash> proof;
  MALPRO_RETURN_IF_ERROR(
      AppendSubproof(old_size, 0, new_size, /*whole_old_tree=*/true, reader, &proof));
  return proof;
}

Result<std::vector<Hash>> TreeFrontier(uint64_t size, const MerkleHashReader& reader) {
  std::vector<Hash> frontier;
  uint64_t begin = 0;
  for (int level = merkle_levels_max; level >= 0; --level) {
    if ((size >> level & 1) == 0) continue;
    Result<Hash> hash = reader.ReadHash(level, begin >> level);
    if (!hash.ok()) return hash.status();
    frontier.push_back(*hash);
    begin += uint64_t{1} << level;
  }
  return frontier;
}

Result<FrontierTree> FrontierTree::Resume(uint64_t size, const std::vector<Hash>& frontier) {
  if (frontier.size() != static_cast<size_t>(std::popcount(size))) {
    return Status::InvalidArgument(errc::kProofInvalid, "frontier",
                                   "the frontier of a tree of " + std::to_string(size) +
                                       " leaves holds " + std::to_string(std::popcount(size)) +
                                       " hashes, not " + std::to_string(frontier.size()));
  }
  FrontierTree tree;
  tree.size_ = size;
  tree.subtrees_ = frontier;
  return tree;
}

void FrontierTree::Append(const Hash& leaf_hash) {
  subtrees_.push_back(leaf_hash);
  // Like a binary counter: each 1 bit that carries merges two subtrees of its level.
  for (uint64_t carried = size_; (carried & 1) == 1; carried >>= 1) {
    const Hash right = subtrees_.back();
    subtrees_.pop_back();
    subtrees_.back() = MerkleNodeHash(subtrees_.back(), right);
  }
  ++size_;
}

Hash FrontierTree::Root() const {
  if (subtrees_.empty()) return Sha256("");
  Hash root = subtrees_.back();
  for (size_t i = subtrees_.size() - 1; i > 0; --i) root = MerkleNodeHash(subtrees_[i - 1], root);
  return root;
}

Result<std::vector<Hash>> MultiInclusionProof(const std::vector<uint64_t>& indices, uint64_t size,
                                              const MerkleHashReader& reader) {
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= size || (i > 0 && indices[i] <= indices[i - 1])) {
      return Status::InvalidArgument(
          errc::kProofRangeInvalid, "index",
          "leaves must be increasing and below the tree size " + std::to_string(size));
    }
  }
  if (indices.empty()) {
    return Status::InvalidArgument(errc::kProofRangeInvalid, "index", "a proof needs a leaf");
  }
  std::vector<Hash> proof;
  MALPRO_RETURN_IF_ERROR(AppendMultiPath(indices, 0, indices.size(), 0, size, reader, &proof));
  return proof;
}

Result<Hash> MultiInclusionRoot(const std::vector<uint64_t>& indices,
                                const std::vector<Hash>& leaf_hashes, uint64_t size,
                                const std::vector<Hash>& proof) {
  if (indices.empty() || indices.size() != leaf_hashes.size()) {
    return ProofFails("a proof needs one leaf hash for each index");
  }
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= size || (i > 0 && indices[i] <= indices[i - 1])) {
      return ProofFails("its leaves are not increasing and below the tree size " +
                        std::to_string(size));
    }
  }
  MultiRootInput input{indices, leaf_hashes, proof};
  Result<Hash> root = MultiRoot(input, 0, indices.size(), 0, size);
  if (!root.ok()) return root.status();
  if (input.next != proof.size()) return ProofFails("the proof holds too many hashes");
  return root;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return ProofFails("the leaf index is not below the tree size");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return ProofFails("it is longer than the tree is deep");
    if (fn % 2 == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      while (fn % 2 == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("it is shorter than the tree is deep");
  if (r != root) return ProofFails("it leads to another root");
  return Status::Ok();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size == 0 || old_size > new_size) {
    return ProofFails("it needs 0 < old size <= new size");
  }
  if (old_size == new_size) {
    if (!proof.empty()) return ProofFails("equal sizes take an empty proof");
    if (old_root != new_root) return ProofFails("equal sizes with different roots");
    return Status::Ok();
  }
  if (proof.empty()) return ProofFails("it is empty");
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  // An old tree that is a complete subtree is its own first node.
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while (fn % 2 == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path.front();
  Hash sr = path.front();
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return ProofFails("it is longer than the tree is deep");
    if (fn % 2 == 1 || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      while (fn % 2 == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("it is shorter than the tree is deep");
  if (fr != old_root) return ProofFails("it leads to another old root");
  if (sr != new_root) return ProofFails("it leads to another new root");
  return Status::Ok();
}

void MemoryMerkleTree::Append(const Hash& leaf_hash) {
  Hash hash = leaf_hash;
  uint64_t index = size_;
  for (size_t level = 0;; ++level) {
    if (levels_.size() <= level) levels_.emplace_back();
    MALPRO_ASSERT(levels_[level].size() == index);
    levels_[level].push_back(hash);
    if (index % 2 == 0) break;
    hash = MerkleNodeHash(levels_[level][index - 1], hash);
    index /= 2;
  }
  ++size_;
}

Result<Hash> MemoryMerkleTree::ReadHash(int level, uint64_t index) const {
  if (level < 0 || static_cast<size_t>(level) >= levels_.size() || index >= levels_[level].size()) {
    return Status::Corruption("no stored hash at level " + std::to_string(level) + " index " +
                              std::to_string(index));
  }
  return levels_[level][index];
}

}  // namespace malpro
