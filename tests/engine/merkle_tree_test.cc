#include "engine/merkle_tree.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

#include "engine/error_codes.h"

namespace malpro {
namespace {

// The leaves of the RFC 6962 reference tests (Certificate Transparency's merkle tree tests).
std::vector<std::string> ReferenceLeaves() {
  return {"",
          std::string("\x00", 1),
          "\x10",
          "\x20\x21",
          "\x30\x31",
          "\x40\x41\x42\x43",
          "\x50\x51\x52\x53\x54\x55\x56\x57",
          "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
}

Hash FromHex(std::string_view hex) {
  Hash hash{};
  EXPECT_TRUE(HashFromHex(hex, &hash)) << hex;
  return hash;
}

std::vector<Hash> FromHex(const std::vector<std::string_view>& hexes) {
  std::vector<Hash> hashes;
  for (std::string_view hex : hexes) hashes.push_back(FromHex(hex));
  return hashes;
}

MemoryMerkleTree TreeOf(const std::vector<std::string>& leaves) {
  MemoryMerkleTree tree;
  for (const std::string& leaf : leaves) tree.Append(MerkleLeafHash(leaf));
  return tree;
}

// The simplest reading of RFC 9162's MTH, straight from its recursion over the leaves.
Hash ReferenceRoot(const std::vector<Hash>& leaves, size_t begin, size_t end) {
  if (end - begin == 1) return leaves[begin];
  size_t split = 1;
  while (split * 2 < end - begin) split *= 2;
  return MerkleNodeHash(ReferenceRoot(leaves, begin, begin + split),
                        ReferenceRoot(leaves, begin + split, end));
}

TEST(MerkleTreeTest, RootsOfTheReferenceTreesOfEverySize) {
  const std::vector<std::string> leaves = ReferenceLeaves();
  const std::vector<std::string_view> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const MemoryMerkleTree tree = TreeOf(leaves);
  for (uint64_t size = 1; size <= leaves.size(); ++size) {
    Result<Hash> root = MerkleTreeHash(size, tree);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_EQ(HashToHex(*root), roots[size - 1]) << "size " << size;
  }
  EXPECT_EQ(HashToHex(*MerkleTreeHash(0, tree)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerkleTreeTest, ReferenceInclusionAndConsistencyProofs) {
  const MemoryMerkleTree tree = TreeOf(ReferenceLeaves());
  EXPECT_EQ(*InclusionProof(0, 8, tree),
            FromHex({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}));
  EXPECT_EQ(*InclusionProof(5, 8, tree),
            FromHex({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}));
  EXPECT_EQ(*ConsistencyProof(1, 8, tree),
            FromHex({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}));
  EXPECT_EQ(*ConsistencyProof(6, 8, tree),
            FromHex({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}));
  EXPECT_EQ(*ConsistencyProof(3, 7, tree),
            FromHex({"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                     "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                     "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"}));
  EXPECT_TRUE(ConsistencyProof(8, 8, tree)->empty());
}

// Every proof of every size up to 70 verifies against the roots a plain recursion computes,
// and the stored hashes an append reports are the tree's own.
TEST(MerkleTreeTest, EveryProofOfEverySmallTreeVerifies) {
  std::vector<Hash> leaves;
  MemoryMerkleTree tree;
  MemoryMerkleTree rebuilt;  // from HashesToStore alone
  std::vector<std::vector<Hash>> stored;
  struct StoredReader : MerkleHashReader {
    const std::vector<std::vector<Hash>>* levels;
    Result<Hash> ReadHash(int level, uint64_t index) const override {
      return (*levels)[level][index];
    }
  } stored_reader;
  stored_reader.levels = &stored;
  for (uint64_t n = 0; n < 70; ++n) {
    leaves.push_back(MerkleLeafHash("leaf " + std::to_string(n)));
    Result<std::vector<SubtreeHash>> to_store = HashesToStore(n, leaves.back(), stored_reader);
    ASSERT_TRUE(to_store.ok());
    for (const SubtreeHash& hash : *to_store) {
      if (stored.size() <= static_cast<size_t>(hash.level)) stored.emplace_back();
      ASSERT_EQ(stored[hash.level].size(), hash.index);
      stored[hash.level].push_back(hash.hash);
    }
    tree.Append(leaves.back());
    const uint64_t size = n + 1;
    const Hash root = ReferenceRoot(leaves, 0, size);
    ASSERT_EQ(*tree.Root(), root);
    ASSERT_EQ(*MerkleTreeHash(size, stored_reader), root);
    for (uint64_t index = 0; index < size; ++index) {
      Result<std::vector<Hash>> proof = InclusionProof(index, size, tree);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyInclusion(index, size, leaves[index], *proof, root).ok())
          << index << " in " << size;
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      Result<std::vector<Hash>> proof = ConsistencyProof(old_size, size, tree);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(
          VerifyConsistency(old_size, size, ReferenceRoot(leaves, 0, old_size), root, *proof).ok())
          << old_size << " to " << size;
    }
  }
}

TEST(MerkleTreeTest, AlteredProofsLeavesAndRootsFail) {
  std::mt19937_64 random(20261202);
  MemoryMerkleTree tree;
  std::vector<Hash> leaves;
  for (int n = 0; n < 1000; ++n) {
    leaves.push_back(MerkleLeafHash(std::to_string(random())));
    tree.Append(leaves.back());
  }
  const Hash root = *tree.Root();
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t index = random() % leaves.size();
    std::vector<Hash> proof = *InclusionProof(index, leaves.size(), tree);
    ASSERT_TRUE(VerifyInclusion(index, leaves.size(), leaves[index], proof, root).ok());
    EXPECT_FALSE(
        VerifyInclusion(index, leaves.size(), leaves[(index + 1) % 1000], proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(index ^ 1, leaves.size(), leaves[index], proof, root).ok());
    std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
    EXPECT_FALSE(VerifyInclusion(index, leaves.size(), leaves[index], shorter, root).ok());
    std::vector<Hash> longer = proof;
    longer.push_back(root);
    EXPECT_FALSE(VerifyInclusion(index, leaves.size(), leaves[index], longer, root).ok());
    proof[random() % proof.size()][random() % hash_bytes] ^= 1;
    EXPECT_FALSE(VerifyInclusion(index, leaves.size(), leaves[index], proof, root).ok());

    const uint64_t old_size = 1 + random() % (leaves.size() - 1);
    const Hash old_root = *MerkleTreeHash(old_size, tree);
    std::vector<Hash> consistency = *ConsistencyProof(old_size, leaves.size(), tree);
    ASSERT_TRUE(VerifyConsistency(old_size, leaves.size(), old_root, root, consistency).ok());
    EXPECT_FALSE(VerifyConsistency(old_size, leaves.size(), root, root, consistency).ok());
    std::vector<Hash> cut(consistency.begin(), consistency.end() - 1);
    EXPECT_FALSE(VerifyConsistency(old_size, leaves.size(), old_root, root, cut).ok());
    consistency[random() % consistency.size()][random() % hash_bytes] ^= 1;
    EXPECT_FALSE(VerifyConsistency(old_size, leaves.size(), old_root, root, consistency).ok());
  }
  EXPECT_FALSE(VerifyConsistency(5, 5, root, *tree.Root(), {root}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 5, root, root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(6, 5, root, root, {root}).ok());
}

TEST(MerkleTreeTest, ProofsOutsideTheTreeAreRefusedByName) {
  const MemoryMerkleTree tree = TreeOf(ReferenceLeaves());
  Result<std::vector<Hash>> beyond = InclusionProof(8, 8, tree);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().error_code(), errc::kProofRangeInvalid);
  EXPECT_EQ(beyond.status().field(), "index");
  for (auto [old_size, new_size] : {std::pair<uint64_t, uint64_t>{0, 4}, {5, 4}}) {
    Result<std::vector<Hash>> refused = ConsistencyProof(old_size, new_size, tree);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().error_code(), errc::kProofRangeInvalid);
  }
  // A size the store does not hold yet is the store's error, not a wrong proof.
  EXPECT_FALSE(InclusionProof(0, 9, tree).ok());
}

TEST(MerkleTreeTest, AFrontierGrowsToTheRootOfEveryLargerTree) {
  MemoryMerkleTree tree;
  std::vector<Hash> leaves;
  for (uint64_t n = 0; n < 300; ++n) leaves.push_back(MerkleLeafHash("leaf " + std::to_string(n)));
  for (const Hash& leaf : leaves) tree.Append(leaf);
  for (uint64_t size : {0u, 1u, 2u, 3u, 7u, 8u, 100u, 255u, 256u, 257u}) {
    Result<std::vector<Hash>> frontier = TreeFrontier(size, tree);
    ASSERT_TRUE(frontier.ok());
    EXPECT_EQ(frontier->size(), static_cast<size_t>(std::popcount(size)));
    Result<FrontierTree> grown = FrontierTree::Resume(size, *frontier);
    ASSERT_TRUE(grown.ok());
    MemoryMerkleTree expected;
    for (uint64_t n = 0; n < size; ++n) expected.Append(leaves[n]);
    EXPECT_EQ(grown->Root(), *expected.Root()) << size;
    for (uint64_t n = size; n < 300; ++n) {
      grown->Append(leaves[n]);
      expected.Append(leaves[n]);
      ASSERT_EQ(grown->Root(), *expected.Root()) << size << " grown to " << n + 1;
    }
  }
  EXPECT_EQ(FrontierTree::Resume(3, {Hash{}}).status().error_code(), errc::kProofInvalid);
}

TEST(MerkleTreeTest, MultiLeafProofsGiveTheRootAndOneLeafIsTheRfcPath) {
  std::mt19937_64 random(20261203);
  MemoryMerkleTree tree;
  std::vector<Hash> leaves;
  for (uint64_t size = 1; size <= 70; ++size) {
    leaves.push_back(MerkleLeafHash("leaf " + std::to_string(size)));
    tree.Append(leaves.back());
    const Hash root = *tree.Root();
    for (uint64_t index = 0; index < size; ++index) {
      EXPECT_EQ(*MultiInclusionProof({index}, size, tree), *InclusionProof(index, size, tree))
          << index << " of " << size;
    }
    for (int round = 0; round < 20; ++round) {
      std::vector<uint64_t> indices;
      for (uint64_t i = 0; i < size; ++i) {
        if (random() % 4 == 0) indices.push_back(i);
      }
      if (indices.empty()) indices.push_back(random() % size);
      std::vector<Hash> chosen;
      for (uint64_t i : indices) chosen.push_back(leaves[i]);
      Result<std::vector<Hash>> proof = MultiInclusionProof(indices, size, tree);
      ASSERT_TRUE(proof.ok());
      Result<Hash> computed = MultiInclusionRoot(indices, chosen, size, *proof);
      ASSERT_TRUE(computed.ok()) << computed.status().ToString();
      EXPECT_EQ(*computed, root) << size;
      // A changed leaf, a proof hash short or too many, another size: not the root.
      chosen.back()[0] ^= 1;
      EXPECT_NE(*MultiInclusionRoot(indices, chosen, size, *proof), root);
      chosen.back()[0] ^= 1;
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(MultiInclusionRoot(indices, chosen, size, longer).ok());
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_FALSE(MultiInclusionRoot(indices, chosen, size, shorter).ok());
      }
    }
  }
  EXPECT_EQ(MultiInclusionProof({3, 3}, 8, tree).status().error_code(), errc::kProofRangeInvalid);
  EXPECT_EQ(MultiInclusionProof({}, 8, tree).status().error_code(), errc::kProofRangeInvalid);
}

}  // namespace
}  // namespace malpro
