// GET /tlog/tile/...: the Merkle tree's tiles and entry bundles as C2SP tlog-tiles serves them,
// public and immutable, over real sockets.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/tlog_store.h"
#include "tests/support/api_server.h"

namespace malpro {
namespace {

using boost::beast::http::verb;
using testing::Reply;

class TlogApiTest : public testing::ApiServerTest {
 protected:
  void SetUp() override {
    store_ = std::move(TlogStore::Open(dir_.Sub("tlog"), false)).value();
    add_dependencies_ = [this](ApiDependencies& dependencies) { dependencies.tlog = store_.get(); };
    Start(HttpOptions{});
    SeedMerchant();
    builder_ = std::make_unique<TlogBuilder>(log_.get(), store_.get());
    ASSERT_TRUE(builder_->CatchUp().ok());
  }

  // A GET without a token: tiles are public.
  Reply Get(const std::string& target) { return Call(verb::get, target, "", std::nullopt); }

  std::unique_ptr<TlogStore> store_;
  std::unique_ptr<TlogBuilder> builder_;
};

TEST_F(TlogApiTest, TilesAndEntryBundlesAreServedToAnyoneAndCachedForever) {
  const uint64_t size = store_->Size();
  ASSERT_EQ(size, log_->Head().sequence);
  ASSERT_GT(size, 1u);
  ASSERT_LT(size, 256u);
  const std::vector<Event> events = *log_->Read(1, size);

  Reply tile = Get("/tlog/tile/0/000.p/" + std::to_string(size));
  ASSERT_EQ(tile.status, 200) << tile.body;
  EXPECT_EQ(tile.headers["Content-Type"], "application/octet-stream");
  EXPECT_EQ(tile.headers["Cache-Control"], "public, max-age=31536000, immutable");
  ASSERT_EQ(tile.body.size(), size * hash_bytes);
  for (uint64_t i = 0; i < size; ++i) {
    EXPECT_EQ(tile.body.substr(i * hash_bytes, hash_bytes), HashView(TlogLeafHash(events[i])))
        << "leaf " << i;
  }
  // The first hashes of a partial tile never change: a narrower one is its prefix.
  EXPECT_EQ(Get("/tlog/tile/0/000.p/1").body, tile.body.substr(0, hash_bytes));

  Reply entries = Get("/tlog/tile/entries/000.p/" + std::to_string(size));
  ASSERT_EQ(entries.status, 200) << entries.body;
  ASSERT_EQ(entries.body.size(), size * (2 + hash_bytes));
  for (uint64_t i = 0; i < size; ++i) {
    const std::string entry = entries.body.substr(i * (2 + hash_bytes), 2 + hash_bytes);
    EXPECT_EQ(entry.substr(0, 2), std::string("\x00\x20", 2)) << "entry " << i;
    EXPECT_EQ(entry.substr(2), HashView(events[i].hash)) << "entry " << i;
  }
}

TEST_F(TlogApiTest, TilesTheTreeDoesNotHoldOrPathsC2spDoesNotWriteAreRefused) {
  const uint64_t size = store_->Size();
  for (const std::string& missing : std::vector<std::string>{
           "/tlog/tile/0/000", "/tlog/tile/0/001.p/1", "/tlog/tile/1/000.p/1",
           "/tlog/tile/0/000.p/" + std::to_string(size + 1), "/tlog/tile/entries/000"}) {
    Reply reply = Get(missing);
    EXPECT_EQ(reply.status, 404) << missing;
    EXPECT_NE(reply.body.find(R"("code":"tile_not_found")"), std::string::npos)
        << missing << ": " << reply.body;
  }
  for (const std::string bad : {"/tlog/tile/0/1", "/tlog/tile/6/000.p/1", "/tlog/tile/0/000.p/0",
                                "/tlog/tile/0/x000/000.p/1", "/tlog/tile/zero/000"}) {
    Reply reply = Get(bad);
    EXPECT_EQ(reply.status, 400) << bad;
    EXPECT_NE(reply.body.find(R"("code":"tile_path_invalid")"), std::string::npos)
        << bad << ": " << reply.body;
    EXPECT_NE(reply.body.find(R"("field":"path")"), std::string::npos) << bad << ": " << reply.body;
  }
  EXPECT_EQ(Call(verb::post, "/tlog/tile/0/000.p/1", "", std::nullopt).status, 405);
}

TEST_F(TlogApiTest, AProcessWithoutATreeSaysSo) {
  add_dependencies_ = nullptr;
  Start(HttpOptions{});
  Reply reply = Get("/tlog/tile/0/000.p/1");
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.body.find(R"("code":"tlog_off")"), std::string::npos) << reply.body;
}

}  // namespace
}  // namespace malpro
