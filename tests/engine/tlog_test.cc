// The Merkle tree of the log kept as C2SP tiles: paths, the tiles against a tree held in memory,
// the store across reopenings, the builder that follows the log, and the check that rebuilds it.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <random>
#include <string>
#include <vector>

#include "engine/error_codes.h"
#include "engine/tlog_store.h"
#include "tests/support/log_fixture.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

Hash LeafNumber(uint64_t n) { return MerkleLeafHash(std::to_string(n)); }

Hash Hex(std::string_view hex) {
  Hash hash{};
  EXPECT_TRUE(HashFromHex(hex, &hash)) << hex;
  return hash;
}

// docs/transparency.md, sections 1 and 2.
TEST(TlogVectorsTest, TheDocumentedTestVectorsHold) {
  const Hash hash_1 = Hex("d67be149818a43116a21f90f49d3a188e01be40702e83924b5e7e2f3ede46d51");
  EXPECT_EQ(HashToHex(MerkleLeafHash(HashView(hash_1))),
            "7c033f7cbaaabab1c92f8feb6db74fba0f04a7d7d33c85357845059b2fb1e62e");
  MemoryMerkleTree tree;
  for (int i = 1; i <= 5; ++i) tree.Append(MerkleLeafHash(HashView(Sha256(std::to_string(i)))));
  const char* roots[] = {"58705e7af8dbab9f2f5b6449ba18d22cce7eedf245fca8dcfd93cf0f906ccf95",
                         "6e8393d7b8c8c1d492cbd897fa417689fe9a5b73cb6188a3b62af0bf8d4ddce6",
                         "0073e5dfb5d3c6f71fb0dc1db2f096e02a2d6fd6d7a59d23c100b15a8488dac4",
                         "e1219f0f3075cf801c6cd0b99dd72bb39851a09f287075edab199b36fec7b92e",
                         "4e7de5affaa10733332923d9eb1b8557bc889c448f0f31aeffc9dcac42135a2c"};
  for (uint64_t n = 1; n <= 5; ++n) {
    EXPECT_EQ(HashToHex(*MerkleTreeHash(n, tree)), roots[n - 1]) << n;
  }
  const Hash l2 = Hex("395421df5d0a75bdeb3c2ff42b96c071e4e197b1df5b7f7bbfd3e61a4864de46");
  const Hash l3 = Hex("4c6bf817639562abeec7d3a2a6d4d2aaf3e1e818e0ff82cd04a43463ff84f6d6");
  const Hash left = Hex(roots[1]);
  const Hash l4 = Hex("c89ca9c47afe1528d11e91a9a5f3ddae89b6a78edbc8d815fb18ff03d3b45326");
  EXPECT_EQ(*InclusionProof(2, 5, tree), (std::vector<Hash>{l3, left, l4}));
  EXPECT_EQ(*ConsistencyProof(3, 5, tree), (std::vector<Hash>{l2, l3, left, l4}));
}

TEST(TlogTilesTest, PathsAreWrittenAndReadAsC2spWritesThem) {
  EXPECT_EQ(TilePath({0, 0, 256}), "tile/0/000");
  EXPECT_EQ(TilePath({0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({1, 999, 7}), "tile/1/999.p/7");
  EXPECT_EQ(TilePath({2, 1000, 255}), "tile/2/x001/000.p/255");
  EXPECT_EQ(TilePath({tile_level_entries, 1000, 9}), "tile/entries/x001/000.p/9");
  for (const TileId& tile :
       {TileId{0, 0, 256}, TileId{0, 1234067, 256}, TileId{1, 999, 7}, TileId{5, 1000, 1},
        TileId{3, 1'000'000'000, 256}, TileId{tile_level_entries, 67, 256}, TileId{-1, 1001, 3}}) {
    Result<TileId> parsed = ParseTilePath(TilePath(tile));
    ASSERT_TRUE(parsed.ok()) << TilePath(tile) << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, tile) << TilePath(tile);
  }
  for (std::string_view bad :
       {"tile/6/000", "tile/00/000", "tile/0/1", "tile/0/0000", "tile/0/x000/001", "tile/0/001/002",
        "tile/0/x01/002", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/",
        "tile/0/", "tile/-1/000", "tiles/0/000", "tile/0/000/", "tile/0/00a", "tile/entry/000",
        "tile/entries/1"}) {
    Result<TileId> parsed = ParseTilePath(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().error_code(), errc::kTilePathInvalid) << bad;
    EXPECT_EQ(parsed.status().field(), "path") << bad;
  }
}

TEST(TlogTilesTest, TileWidthsFollowTheTreeSize) {
  EXPECT_EQ(TileWidthAt(0, 0, 0), 0u);
  EXPECT_EQ(TileWidthAt(0, 0, 5), 5u);
  EXPECT_EQ(TileWidthAt(0, 0, 300), 256u);
  EXPECT_EQ(TileWidthAt(0, 1, 300), 44u);
  EXPECT_EQ(TileWidthAt(1, 0, 300), 1u);
  EXPECT_EQ(TileWidthAt(1, 0, 255), 0u);
  EXPECT_EQ(TileWidthAt(2, 0, 65536), 1u);
}

// Roots and proofs read from the store's tiles are those of a tree kept whole in memory, for
// every size that crosses a tile boundary of levels 0 and 1, across reopenings.
TEST(TlogStoreTest, TilesGiveTheRootsAndProofsOfTheWholeTree) {
  testing::TempDir dir;
  MemoryMerkleTree memory;
  std::mt19937_64 random(7);
  std::vector<uint64_t> sizes = {1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 66000};
  uint64_t leaves = 0;
  std::unique_ptr<TlogStore> store = *TlogStore::Open(dir.Sub("tlog"), false);
  for (uint64_t size : sizes) {
    std::vector<Hash> batch;
    while (leaves < size) {
      batch.push_back(LeafNumber(leaves++));
      memory.Append(batch.back());
    }
    ASSERT_TRUE(store->Append(batch).ok());
    if (size % 2 == 1) {  // resumes
      store.reset();
      store = *TlogStore::Open(dir.Sub("tlog"), false);
    }
    ASSERT_EQ(store->Size(), size);
    EXPECT_EQ(*store->Root(size), *memory.Root()) << size;
    const uint64_t old_size = 1 + random() % size;
    EXPECT_EQ(*store->Root(old_size), *MerkleTreeHash(old_size, memory)) << old_size;
    const uint64_t index = random() % size;
    EXPECT_EQ(*InclusionProof(index, size, store->Reader(size)),
              *InclusionProof(index, size, memory))
        << index << " of " << size;
    EXPECT_EQ(*ConsistencyProof(old_size, size, store->Reader(size)),
              *ConsistencyProof(old_size, size, memory))
        << old_size << " to " << size;
  }
  // A tile as C2SP serves it: level 0 holds the leaf hashes, level 1 the roots of full tiles.
  std::string tile = *store->Tile({0, 1, 256});
  ASSERT_EQ(tile.size(), 256 * hash_bytes);
  EXPECT_EQ(tile.substr(0, hash_bytes), HashView(LeafNumber(256)));
  std::string level_one = *store->Tile({1, 0, 7});
  EXPECT_EQ(level_one.substr(hash_bytes, hash_bytes), HashView(*MerkleTreeHash(256, [&] {
              MemoryMerkleTree second;
              for (uint64_t n = 256; n < 512; ++n) second.Append(LeafNumber(n));
              return second;
            }())));
  Result<std::string> beyond = store->Tile({0, 257, 256});
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().error_code(), errc::kTileNotFound);
  Result<std::string> wider = store->Tile({0, 257, 209});  // 66000 leaves: 208 in tile 257
  ASSERT_FALSE(wider.ok());
  EXPECT_EQ(wider.status().error_code(), errc::kTileNotFound);
  EXPECT_EQ(store->Tile({0, 257, 208})->size(), 208 * hash_bytes);
  EXPECT_EQ(store->Tile({0, 257, 100})->size(), 100 * hash_bytes);
}

class TlogBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    options.sync = false;
    log_ = std::move(EventLog::Open(options)).value();
    store_ = std::move(TlogStore::Open(dir_.Sub("log") + "/" + tlog_directory, false)).value();
  }

  void AppendEvents(int commands) {
    for (int i = 0; i < commands; ++i) {
      const std::string stream = "thing-" + std::to_string(appended_++ % 13);
      ASSERT_TRUE(log_->Append(testing::MakeRequest(
                                   {testing::MakeEvent(stream), testing::MakeEvent(stream)}))
                      .ok());
    }
  }

  // The root of the log's events as a tree in memory.
  Hash RootOfLog() {
    MemoryMerkleTree memory;
    for (const Event& event : *log_->Read(1, read_events_max)) {
      memory.Append(MerkleLeafHash(HashView(event.hash)));
    }
    return *memory.Root();
  }

  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<TlogStore> store_;
  int appended_ = 0;
};

TEST_F(TlogBuilderTest, TheTreeFollowsTheLogAndItsLeavesAreTheEventHashes) {
  AppendEvents(300);
  TlogBuilder builder(log_.get(), store_.get());
  ASSERT_TRUE(builder.CatchUp().ok());
  EXPECT_EQ(store_->Size(), 600u);
  EXPECT_EQ(*store_->Root(600), RootOfLog());
  builder.Start();
  AppendEvents(150);
  ASSERT_TRUE(builder.WaitForSize(900, std::chrono::seconds(10)));
  EXPECT_TRUE(builder.Health().ok());
  builder.Stop();
  EXPECT_EQ(*store_->Root(900), RootOfLog());
  Result<TlogReport> report = VerifyTlog(*log_, *store_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->size, 900u);
  EXPECT_EQ(report->root, RootOfLog());
}

TEST_F(TlogBuilderTest, TheCheckNamesATileThatDiffersFromWhatTheLogMakes) {
  AppendEvents(200);
  TlogBuilder builder(log_.get(), store_.get());
  ASSERT_TRUE(builder.CatchUp().ok());
  const std::string path = dir_.Sub("log") + "/" + tlog_directory;
  store_.reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key("t\0\0\0\0\0\0\0\0\0", 10);  // level 0, tile 0
    std::string tile;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &tile).ok());
    tile[40] ^= 1;  // the second leaf hash
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, tile).ok());
  }
  store_ = std::move(TlogStore::Open(path, true)).value();
  Result<TlogReport> report = VerifyTlog(*log_, *store_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_NE(report->problem.find("tile/0/000 differs"), std::string::npos) << report->problem;
}

// Proofs read the hashes inside a full tile as stored: a changed one is named too, and a tree
// without them (built before they were kept) still gives the same proofs by folding.
TEST_F(TlogBuilderTest, TheHashesInsideFullTilesAreCheckedAndOptional) {
  AppendEvents(300);
  TlogBuilder builder(log_.get(), store_.get());
  ASSERT_TRUE(builder.CatchUp().ok());
  const std::vector<Hash> proof = *InclusionProof(5, 600, store_->Reader(600));
  const std::string path = dir_.Sub("log") + "/" + tlog_directory;
  store_.reset();
  const std::string key("n\0\0\0\0\0\0\0\0\0", 10);  // the inner hashes of tile 0 of level 0
  auto change = [&](bool remove) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string inner;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &inner).ok());
    ASSERT_EQ(inner.size(), tile_inner_hashes * hash_bytes);
    inner[0] ^= 1;
    ASSERT_TRUE((remove ? db->Delete(rocksdb::WriteOptions(), key)
                        : db->Put(rocksdb::WriteOptions(), key, inner))
                    .ok());
  };
  change(/*remove=*/false);
  store_ = std::move(TlogStore::Open(path, true)).value();
  Result<TlogReport> report = VerifyTlog(*log_, *store_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_NE(report->problem.find("tile/0/000 differs"), std::string::npos) << report->problem;
  store_.reset();
  change(/*remove=*/true);
  store_ = std::move(TlogStore::Open(path, true)).value();
  EXPECT_TRUE(VerifyTlog(*log_, *store_)->ok);
  EXPECT_EQ(*InclusionProof(5, 600, store_->Reader(600)), proof);
}

TEST_F(TlogBuilderTest, ATreeLongerThanTheLogIsRefused) {
  AppendEvents(10);
  std::vector<Hash> extra(21, LeafNumber(1));
  ASSERT_TRUE(store_->Append(extra).ok());
  TlogBuilder builder(log_.get(), store_.get());
  Status caught_up = builder.CatchUp();
  EXPECT_EQ(caught_up.code(), StatusCode::kCorruption) << caught_up.ToString();
  Result<TlogReport> report = VerifyTlog(*log_, *store_);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_NE(report->problem.find("21 leaves but the log only 20"), std::string::npos)
      << report->problem;
}

}  // namespace
}  // namespace malpro
