// Signed checkpoints: kept by size with their reasons, issued at month ends found by the
// events' recorded times, on request once the tree holds the size, on the interval while the
// tree grows, and refused on start when the kept one is not the tree's.
#include "engine/tlog_checkpoints.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/tlog_proofs.h"
#include "tests/support/log_fixture.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

constexpr char kOrigin[] = "malangkota.go.id/malpro";

std::string ReadSourceFile(const std::string& path) {
  std::ifstream stream(std::string(MALPRO_SOURCE_DIR) + "/" + path);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

NoteSigner TrialSigner(const std::string& name = kOrigin) {
  Result<NoteSigner> signer =
      NoteSigner::FromPem(name, ReadSourceFile("config/trial-keys/checkpoint_private.pem"), "key");
  EXPECT_TRUE(signer.ok()) << signer.status().ToString();
  return std::move(signer).value();
}

int64_t Jakarta(int year, int month, int day, int hour) {
  return JakartaTimeMicros({year, month, day}, hour * 3600);
}

class CheckpointIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    options.sync = false;
    options.clock = [this] { return now_us_; };
    log_ = std::move(EventLog::Open(options)).value();
    store_ = std::move(TlogStore::Open(dir_.Sub("log") + "/" + tlog_directory, false)).value();
    builder_ = std::make_unique<TlogBuilder>(log_.get(), store_.get());
  }

  void Close() {
    issuer_.reset();
    builder_.reset();
    store_.reset();
    log_.reset();
  }

  // `events` events (two a command) recorded at `at_us`.
  void AppendAt(int64_t at_us, int events) {
    now_us_ = at_us;
    for (int i = 0; i < events / 2; ++i) {
      const std::string stream = "thing-" + std::to_string(appended_++ % 7);
      ASSERT_TRUE(log_->Append(testing::MakeRequest(
                                   {testing::MakeEvent(stream), testing::MakeEvent(stream)}))
                      .ok());
    }
  }

  void NewIssuer(std::chrono::milliseconds interval = std::chrono::hours(1),
                 NoteSigner signer = TrialSigner(),
                 std::function<std::string(const std::string&, uint64_t)> cosign = {}) {
    issuer_ = std::make_unique<CheckpointIssuer>(
        log_.get(), store_.get(), std::move(signer),
        CheckpointOptions{kOrigin, interval, [this] { return now_us_; }, std::move(cosign)});
  }

  // The checkpoint kept for `size`, checked: its note verifies with the trial key and carries
  // the origin, the size and the tree's root of that size.
  StoredCheckpoint Kept(uint64_t size) {
    Result<std::optional<StoredCheckpoint>> kept = store_->CheckpointAt(size);
    EXPECT_TRUE(kept.ok() && kept->has_value()) << "no checkpoint of size " << size;
    if (!kept.ok() || !kept->has_value()) return {};
    Result<SignedNote> note = ParseSignedNote((*kept)->note, "note");
    EXPECT_TRUE(note.ok());
    EXPECT_TRUE(VerifyNote(*note, TrialSigner().verifier()).ok());
    Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, "note");
    EXPECT_TRUE(checkpoint.ok());
    EXPECT_EQ(checkpoint->origin, kOrigin);
    EXPECT_EQ(checkpoint->size, size);
    EXPECT_EQ(checkpoint->root, *store_->Root(size));
    return **kept;
  }

  testing::TempDir dir_;
  int64_t now_us_ = Jakarta(2026, 10, 30, 9);
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<TlogStore> store_;
  std::unique_ptr<TlogBuilder> builder_;
  std::unique_ptr<CheckpointIssuer> issuer_;
  int appended_ = 0;
};

TEST_F(CheckpointIssuerTest, EachMonthEndGetsTheCheckpointOfTheEventsRecordedBeforeIt) {
  AppendAt(Jakarta(2026, 10, 30, 9), 10);
  AppendAt(Jakarta(2026, 10, 31, 23), 4);  // 23:00 WIB: still October
  AppendAt(Jakarta(2026, 11, 1, 0), 6);    // 00:00 WIB on the 1st: November
  AppendAt(Jakarta(2026, 12, 2, 8), 2);    // November passed whole
  ASSERT_TRUE(builder_->CatchUp().ok());
  NewIssuer();
  ASSERT_TRUE(issuer_->CatchUp().ok());

  Result<std::vector<StoredCheckpoint>> month_ends = store_->Checkpoints(0, 10, "month-end");
  ASSERT_TRUE(month_ends.ok());
  ASSERT_EQ(month_ends->size(), 2u);
  EXPECT_EQ((*month_ends)[0].size, 14u);
  EXPECT_EQ((*month_ends)[0].reasons, std::vector<std::string>{"month-end 2026-10"});
  EXPECT_EQ((*month_ends)[1].size, 20u);
  EXPECT_EQ((*month_ends)[1].reasons, std::vector<std::string>{"month-end 2026-11"});
  EXPECT_EQ(Kept(14), (*month_ends)[0]);
  EXPECT_EQ(Kept(20), (*month_ends)[1]);
  EXPECT_EQ(issuer_->Latest()->size, 20u);

  // Issued again after a restart, nothing changes: one checkpoint a size, one reason each.
  Close();
  Open();
  ASSERT_TRUE(builder_->CatchUp().ok());
  NewIssuer();
  ASSERT_TRUE(issuer_->CatchUp().ok());
  EXPECT_EQ(store_->Checkpoints(0, 10, "")->size(), 2u);
  EXPECT_EQ(Kept(14).reasons, std::vector<std::string>{"month-end 2026-10"});
}

TEST_F(CheckpointIssuerTest, ARequestIsSignedOnceTheTreeHoldsItAndTheIntervalSignsTheGrowth) {
  AppendAt(now_us_, 8);
  ASSERT_TRUE(builder_->CatchUp().ok());
  NewIssuer(std::chrono::milliseconds(100));
  ASSERT_TRUE(issuer_->CatchUp().ok());
  EXPECT_FALSE(issuer_->Latest().has_value()) << "no month has ended";
  issuer_->Start();
  ASSERT_TRUE(issuer_->WaitFor(8, std::chrono::seconds(10)));
  EXPECT_EQ(Kept(8).reasons, std::vector<std::string>{"interval"});

  AppendAt(now_us_, 4);
  issuer_->Request(12, "settlement 2026-10-29");
  builder_->Start();
  ASSERT_TRUE(issuer_->WaitFor(12, std::chrono::seconds(10)));
  builder_->Stop();
  issuer_->Stop();
  EXPECT_TRUE(issuer_->Health().ok());
  const std::vector<std::string> reasons = Kept(12).reasons;
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons.front(), "settlement 2026-10-29") << "the request comes before the interval";
  EXPECT_EQ(store_->Checkpoints(0, 10, "settlement")->size(), 1u);
  EXPECT_EQ(store_->Checkpoints(8, 10, "")->front().size, 12u);
  EXPECT_EQ(store_->LatestCheckpoint()->value().size, 12u);
  EXPECT_EQ(issuer_->Latest()->size, 12u);
}

// docs/transparency.md, section 8.4: witnesses are asked about each new largest checkpoint only
// (never history's smaller ones), what they add is kept, and while the tree does not grow the
// latest is asked about again until they answer.
TEST_F(CheckpointIssuerTest, WitnessesAreAskedForwardOnlyAndAgainWhileOneIsMissing) {
  AppendAt(Jakarta(2026, 10, 31, 9), 6);
  AppendAt(Jakarta(2026, 11, 1, 9), 4);
  ASSERT_TRUE(builder_->CatchUp().ok());
  std::mutex mutex;
  std::vector<uint64_t> asked;
  bool answering = false;
  auto cosign = [&](const std::string& note, uint64_t size) {
    std::lock_guard lock(mutex);
    asked.push_back(size);
    return answering ? note + "\xE2\x80\x94 witness.example/w1 AAAAAAAAAAA=\n" : note;
  };
  NewIssuer(std::chrono::milliseconds(50), TrialSigner(), cosign);
  ASSERT_TRUE(issuer_->CatchUp().ok());  // the month end of October (6): the largest yet
  issuer_->Start();
  ASSERT_TRUE(issuer_->WaitFor(10, std::chrono::seconds(10)));
  // The witness does not answer yet: 10 is kept without it, and asked about again.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mutex);
      if (std::count(asked.begin(), asked.end(), 10u) >= 3) {
        answering = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 0; i < 200 && Kept(10).note.find("witness.example/w1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  issuer_->Stop();
  const StoredCheckpoint latest = Kept(10);  // still verifies with the log's key
  EXPECT_NE(latest.note.find("\n\xE2\x80\x94 witness.example/w1 AAAAAAAAAAA=\n"),
            std::string::npos);
  EXPECT_EQ(latest.reasons, std::vector<std::string>{"interval"}) << "kept again, reasons kept";
  EXPECT_EQ(issuer_->Latest()->note, latest.note);
  std::lock_guard lock(mutex);
  EXPECT_EQ(asked.front(), 6u);
  EXPECT_EQ(std::count(asked.begin(), asked.end(), 6u), 1) << "history is asked about once";
  // Once cosigned, the latest is passed to the hook again (it skips witnesses that cosigned),
  // and never a smaller checkpoint.
  EXPECT_TRUE(std::all_of(asked.begin() + 1, asked.end(), [](uint64_t s) { return s == 10; }));
}

TEST_F(CheckpointIssuerTest, AKeptCheckpointThatIsNotTheTreesStopsTheStart) {
  AppendAt(now_us_, 6);
  ASSERT_TRUE(builder_->CatchUp().ok());
  NewIssuer();
  ASSERT_TRUE(issuer_->CatchUp().ok());
  ASSERT_TRUE(issuer_->Issue(6, "interval").ok());

  // Another key (or origin) than the one that signed the kept checkpoint.
  NewIssuer(std::chrono::hours(1), TrialSigner("another.example/log"));
  Status started = issuer_->CatchUp();
  EXPECT_EQ(started.code(), StatusCode::kCorruption) << started.ToString();
  EXPECT_NE(started.message().find("audit verify"), std::string::npos) << started.message();
}

TEST_F(CheckpointIssuerTest, ProofBundlesCheckOfflineAgainstTheKeyAndNothingElse) {
  AppendAt(now_us_, 40);
  ASSERT_TRUE(builder_->CatchUp().ok());
  NewIssuer();
  ASSERT_TRUE(issuer_->Issue(25, "interval").ok());
  ASSERT_TRUE(issuer_->Issue(40, "interval").ok());
  const StoredCheckpoint older = Kept(25);
  const StoredCheckpoint newer = Kept(40);
  const NoteVerifier key = TrialSigner().verifier();

  for (const std::vector<uint64_t>& sequences :
       std::vector<std::vector<uint64_t>>{{1}, {40}, {3, 4, 5, 31}, {7, 40}}) {
    Result<InclusionBundle> made = MakeInclusionBundle(*log_, *store_, sequences, newer);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    const std::string text = InclusionBundleText(*made);
    Result<ParsedProof> parsed = ParseProofBundle(text, "FILE");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
    EXPECT_EQ(InclusionBundleText(parsed->inclusion), text);
    Result<ProofVerdict> verdict = CheckProof(*parsed, key, kOrigin);
    ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
    EXPECT_EQ(verdict->sequences, sequences);
    EXPECT_EQ(verdict->checkpoint.size, 40u);
    EXPECT_EQ(verdict->event_hashes.front(), (*log_->Read(sequences.front(), 1))[0].hash);
    // Another event's hash in its place, or another key, or another origin: refused.
    ParsedProof altered = *parsed;
    altered.inclusion.event_hashes.front()[5] ^= 0x10;
    EXPECT_FALSE(CheckProof(altered, key, kOrigin).ok());
    EXPECT_FALSE(CheckProof(*parsed, TrialSigner("someone.else").verifier(), kOrigin).ok());
    EXPECT_FALSE(CheckProof(*parsed, key, "another.example/log").ok());
  }
  EXPECT_EQ(MakeInclusionBundle(*log_, *store_, {26}, older).status().error_code(),
            errc::kProofRangeInvalid);

  Result<ConsistencyBundle> grown = MakeConsistencyBundle(*store_, older, newer);
  ASSERT_TRUE(grown.ok());
  const std::string text = ConsistencyBundleText(*grown);
  Result<ParsedProof> parsed = ParseProofBundle(text, "FILE");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
  ASSERT_TRUE(parsed->consistency);
  EXPECT_EQ(parsed->consistency_bundle.old_checkpoint, older.note);
  EXPECT_EQ(parsed->consistency_bundle.new_checkpoint, newer.note);
  Result<ProofVerdict> verdict = CheckProof(*parsed, key, kOrigin);
  ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
  EXPECT_EQ(verdict->old_checkpoint.size, 25u);
  EXPECT_EQ(verdict->checkpoint.size, 40u);
  parsed->consistency_bundle.proof.front()[0] ^= 1;
  EXPECT_FALSE(CheckProof(*parsed, key, kOrigin).ok());

  for (const std::string& bad :
       {std::string("c2sp.org/tlog-proof@v1\nindex 1\n\n"), std::string("hello\n"),
        std::string("c2sp.org/tlog-proof@v1\nextra AAAA\nindex 01\n\n") + newer.note,
        std::string("malpro.tlog-consistency@v1\n\n") + newer.note}) {
    Result<ParsedProof> refused = ParseProofBundle(bad, "FILE");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().error_code(), errc::kProofInvalid);
    EXPECT_EQ(refused.status().field(), "FILE");
  }
}

// Hashes of any tree without building it: proofs of a huge tree, for their size alone.
class SyntheticTree final : public MerkleHashReader {
 public:
  Result<Hash> ReadHash(int level, uint64_t index) const override {
    return Sha256(std::to_string(level) + "/" + std::to_string(index));
  }
};

// An order's events come in clusters: placed, payment requested and paid within minutes,
// completed later. Its bundle in a log of 16 million events must fit a QR code (version 40,
// level L: 2,953 bytes).
TEST(ProofSizeTest, AnOrdersBundleInALogOf16MillionEventsFitsAQrCode) {
  const uint64_t size = uint64_t{1} << 24;
  const std::vector<uint64_t> indices = {9'000'000, 9'000'002, 9'000'007, 12'345'678};
  Result<std::vector<Hash>> proof = MultiInclusionProof(indices, size, SyntheticTree());
  ASSERT_TRUE(proof.ok());
  InclusionBundle bundle{indices, std::vector<Hash>(indices.size()), *proof, ""};
  bundle.checkpoint = *TrialSigner().Sign(CheckpointText({kOrigin, size, Hash{}, {}}));
  const std::string text = InclusionBundleText(bundle);
  EXPECT_LE(text.size(), 2953u) << proof->size() << " proof hashes";
  // One event alone: about a kilobyte.
  bundle = {{9'000'000},
            {Hash{}},
            *MultiInclusionProof({9'000'000}, size, SyntheticTree()),
            bundle.checkpoint};
  EXPECT_LE(InclusionBundleText(bundle).size(), 1400u);
}

// docs/transparency.md, section 5.2: the trial key, its verifier key file, and the test vector.
TEST(CheckpointVectorTest, TheTrialKeySignsTheDocumentedCheckpoint) {
  const NoteSigner signer = TrialSigner();
  std::string vkey = ReadSourceFile("config/trial-keys/checkpoint.vkey");
  while (!vkey.empty() && vkey.back() == '\n') vkey.pop_back();
  EXPECT_EQ(signer.verifier().Text(), vkey);
  Hash root{};
  ASSERT_TRUE(
      HashFromHex("ffa2df65e2c11ba5a2dc7a1e56c98cefbc6ede521b964b5a1e876f41b22b33b3", &root));
  const std::string text = CheckpointText({kOrigin, 7, root, {}});
  EXPECT_EQ(text, "malangkota.go.id/malpro\n7\n/6LfZeLBG6Wi3HoeVsmM77xu3lIblktaHodvQbIrM7M=\n");
  EXPECT_EQ(*signer.Sign(text),
            text +
                "\n\xE2\x80\x94 malangkota.go.id/malpro "
                "KjQCKWxD5IvY2iiRasiLb6+TCM5gAXEEzLW5wUMV9L7IcXL77M5gFkfgb0vOoH3NHUmQ0JH6BNFv+"
                "CUHyMbxodyrqw0=\n");
}

TEST(CheckpointOriginTest, OriginsAreSchemaLessWithoutSpacesOrPlus) {
  EXPECT_TRUE(CheckCheckpointOrigin("malangkota.go.id/malpro", "o").ok());
  for (std::string_view bad : {"", "with space", "a+b", "tab\there", "caf\xC3\xA9"}) {
    Status status = CheckCheckpointOrigin(bad, "transparency.origin");
    EXPECT_EQ(status.error_code(), errc::kCheckpointOriginInvalid) << bad;
    EXPECT_EQ(status.field(), "transparency.origin");
  }
}

}  // namespace
}  // namespace malpro
