// GET /tlog/tile/...: the Merkle tree's tiles and entry bundles as C2SP tlog-tiles serves them,
// public and immutable, over real sockets; GET /tlog/checkpoint(s): its signed checkpoints.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/tlog_checkpoints.h"
#include "engine/tlog_proofs.h"
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
    add_dependencies_ = [this](ApiDependencies& dependencies) {
      dependencies.tlog = store_.get();
      std::ifstream pem(MALPRO_SOURCE_DIR "/config/trial-keys/checkpoint_private.pem");
      std::stringstream text;
      text << pem.rdbuf();
      issuer_ = std::make_unique<CheckpointIssuer>(
          log_.get(), store_.get(),
          *NoteSigner::FromPem("malangkota.go.id/malpro", text.str(), "k"),
          CheckpointOptions{"malangkota.go.id/malpro", std::chrono::hours(1), {}, {}});
      dependencies.checkpoints = issuer_.get();
    };
    Start(HttpOptions{});
    SeedMerchant();
    builder_ = std::make_unique<TlogBuilder>(log_.get(), store_.get());
    ASSERT_TRUE(builder_->CatchUp().ok());
  }

  // A GET without a token: tiles are public.
  Reply Get(const std::string& target) { return Call(verb::get, target, "", std::nullopt); }

  std::unique_ptr<TlogStore> store_;
  std::unique_ptr<TlogBuilder> builder_;
  std::unique_ptr<CheckpointIssuer> issuer_;
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
  for (const std::string target : {"/tlog/checkpoint", "/tlog/checkpoints"}) {
    Reply off = Get(target);
    EXPECT_EQ(off.status, 503) << target;
    EXPECT_NE(off.body.find(R"("code":"checkpoints_off")"), std::string::npos) << off.body;
  }
}

TEST_F(TlogApiTest, TheLatestCheckpointIsServedAsASignedNoteAndTheKeptOnesAsAList) {
  Reply none = Get("/tlog/checkpoint");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find(R"("code":"checkpoint_none")"), std::string::npos) << none.body;

  const uint64_t size = store_->Size();
  ASSERT_GT(size, 2u);
  ASSERT_TRUE(issuer_->Issue(1, "interval").ok());
  ASSERT_TRUE(issuer_->Issue(2, "settlement 2026-11-20").ok());
  ASSERT_TRUE(issuer_->Issue(size, "interval").ok());

  Reply latest = Get("/tlog/checkpoint");
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(latest.headers["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_EQ(latest.headers["Cache-Control"], "no-cache");
  Result<SignedNote> note = ParseSignedNote(latest.body, "body");
  ASSERT_TRUE(note.ok()) << latest.body;
  EXPECT_TRUE(VerifyNote(*note, issuer_->verifier()).ok());
  Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, "body");
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->origin, "malangkota.go.id/malpro");
  EXPECT_EQ(checkpoint->size, size);
  EXPECT_EQ(checkpoint->root, *store_->Root(size));

  Reply first = Get("/tlog/checkpoints?limit=2");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find(R"("size":1,)"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find(R"("reasons":["settlement 2026-11-20"])"), std::string::npos);
  EXPECT_NE(first.body.find(R"("next_after_size":2)"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find(R"("key":")" + issuer_->verifier().Text() + "\""), std::string::npos);
  Reply rest = Get("/tlog/checkpoints?after_size=2");
  EXPECT_NE(rest.body.find(R"("size":)" + std::to_string(size) + ","), std::string::npos);
  EXPECT_NE(rest.body.find(R"("next_after_size":null)"), std::string::npos) << rest.body;
  Reply settlements = Get("/tlog/checkpoints?kind=settlement");
  EXPECT_NE(settlements.body.find(R"("size":2,)"), std::string::npos) << settlements.body;
  EXPECT_EQ(settlements.body.find(R"("size":1,)"), std::string::npos) << settlements.body;

  for (const std::string bad : {"/tlog/checkpoints?kind=interval", "/tlog/checkpoints?limit=1001",
                                "/tlog/checkpoints?after_size=x"}) {
    Reply refused = Get(bad);
    EXPECT_EQ(refused.status, 400) << bad << ": " << refused.body;
    EXPECT_NE(refused.body.find(R"("code":"query_invalid")"), std::string::npos) << refused.body;
  }
}

// An order's proof: for its buyer and seller, not another ASN; it checks offline against the
// key, covers the order's events, and waits for a checkpoint that holds them.
TEST_F(TlogApiTest, AnOrdersProofIsForItsPartiesAndChecksAgainstTheKey) {
  ASSERT_NO_FATAL_FAILURE(SeedPolicy());
  for (const char* nip : {testing::kNip, testing::kOtherNip}) ASSERT_NO_FATAL_FAILURE(SeedAsn(nip));
  ASSERT_EQ(
      Call(
          verb::post, "/v1/orders",
          R"({"order_id":"o-1","buyer_nip":")" + std::string(testing::kNip) +
              R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"COD"})")
          .status,
      201);
  ASSERT_EQ(Call(verb::post, "/v1/orders/o-1/accept", "", Role::kMerchant).status, 200);
  const uint64_t head = log_->Head().sequence;
  ASSERT_TRUE(builder_->CatchUp().ok());

  ASSERT_TRUE(issuer_->Issue(head - 1, "interval").ok());
  Reply pending = Call(verb::get, "/v1/orders/o-1/proof", "", Role::kAsn);
  EXPECT_EQ(pending.status, 409) << pending.body;
  EXPECT_NE(pending.body.find(R"("code":"proof_pending")"), std::string::npos) << pending.body;

  ASSERT_TRUE(issuer_->Issue(head, "interval").ok());
  for (Role role : {Role::kAsn, Role::kMerchant, Role::kOperator, Role::kAuditor}) {
    Reply proof = Call(verb::get, "/v1/orders/o-1/proof", "", role);
    ASSERT_EQ(proof.status, 200) << proof.body;
    EXPECT_EQ(proof.headers["Content-Type"], "text/plain; charset=utf-8");
    EXPECT_EQ(proof.headers["Content-Disposition"],
              "attachment; filename=\"order-o-1.tlog-proof\"");
    Result<ParsedProof> parsed = ParseProofBundle(proof.body, "body");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    Result<ProofVerdict> verdict =
        CheckProof(*parsed, issuer_->verifier(), "malangkota.go.id/malpro");
    ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
    // The order's events, and only those: placed and accepted.
    const std::vector<Event> stream = *log_->ReadStream("order-o-1", 1, 10);
    ASSERT_EQ(verdict->sequences.size(), stream.size());
    for (size_t i = 0; i < stream.size(); ++i) {
      EXPECT_EQ(verdict->sequences[i], stream[i].sequence);
      EXPECT_EQ(verdict->event_hashes[i], stream[i].hash);
    }
    EXPECT_EQ(verdict->checkpoint.size, head);
  }
  // Not without a token; an older kept checkpoint may be asked for by size.
  EXPECT_EQ(Call(verb::get, "/v1/orders/o-1/proof", "", std::nullopt).status, 401);
  Reply unknown = Call(verb::get, "/v1/orders/o-404/proof", "", Role::kOperator);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  Reply older = Call(verb::get, "/v1/orders/o-1/proof?checkpoint_size=" + std::to_string(head - 1),
                     "", Role::kOperator);
  EXPECT_EQ(older.status, 409) << "the accept is newer than that checkpoint: " << older.body;
  Reply missing =
      Call(verb::get, "/v1/orders/o-1/proof?checkpoint_size=" + std::to_string(head + 5), "",
           Role::kOperator);
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(missing.body.find(R"("code":"checkpoint_none")"), std::string::npos) << missing.body;

  // One event's proof (auditors), and the consistency of two kept checkpoints (anyone).
  Reply event = Call(verb::get, "/v1/events/2/proof", "", Role::kAuditor);
  ASSERT_EQ(event.status, 200) << event.body;
  Result<ParsedProof> one = ParseProofBundle(event.body, "body");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->inclusion.indices, std::vector<uint64_t>{1});
  EXPECT_TRUE(CheckProof(*one, issuer_->verifier(), "").ok());
  EXPECT_EQ(Call(verb::get, "/v1/events/2/proof", "", Role::kAsn).status, 403);
  EXPECT_EQ(Call(verb::get, "/v1/events/0/proof", "", Role::kAuditor).status, 404);
  EXPECT_EQ(Call(verb::get, "/v1/events/x/proof", "", Role::kAuditor).status, 404);

  Reply grown = Get("/tlog/proof/consistency?old_size=" + std::to_string(head - 1));
  ASSERT_EQ(grown.status, 200) << grown.body;
  Result<ParsedProof> consistency = ParseProofBundle(grown.body, "body");
  ASSERT_TRUE(consistency.ok());
  Result<ProofVerdict> extends = CheckProof(*consistency, issuer_->verifier(), "");
  ASSERT_TRUE(extends.ok()) << extends.status().ToString();
  EXPECT_EQ(extends->old_checkpoint.size, head - 1);
  EXPECT_EQ(extends->checkpoint.size, head);
  EXPECT_EQ(Get("/tlog/proof/consistency").status, 400);
  EXPECT_EQ(Get("/tlog/proof/consistency?old_size=1").status, 404);
}

}  // namespace
}  // namespace malpro
