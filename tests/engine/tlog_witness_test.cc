// Witnesses (docs/transparency.md, section 8): a cosignature's bytes (the documented vector), a
// witness that cosigns only forward along a consistent tree and keeps what it cosigned across
// reopening, each refusal of C2SP's add-checkpoint, and the count a checker requires.
#include "engine/tlog_witness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/base64.h"
#include "engine/merkle_tree.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

constexpr char kLogOrigin[] = "malangkota.go.id/malpro";
constexpr char kWitnessName[] = "malangkota.go.id/witness-trial";

std::string SourceText(const std::string& path) {
  std::ifstream stream(std::string(MALPRO_SOURCE_DIR) + "/" + path);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

NoteSigner KeyFrom(const std::string& name, const std::string& pem_path, uint8_t type) {
  Result<NoteSigner> signer = NoteSigner::FromPem(name, SourceText(pem_path), "key", type);
  EXPECT_TRUE(signer.ok()) << signer.status().ToString();
  return std::move(signer).value();
}

NoteSigner LogKey() {
  return KeyFrom(kLogOrigin, "config/trial-keys/checkpoint_private.pem", note_type_ed25519);
}
NoteSigner WitnessKey() {
  return KeyFrom(kWitnessName, "config/trial-keys/witness_private.pem", note_type_cosignature_v1);
}

// A tree of leaves 0..n-1 (each leaf hash made from its index).
class GrowingTree {
 public:
  explicit GrowingTree(uint8_t seed = 0) : seed_(seed) {}
  void Grow(uint64_t to) {
    while (tree_.size() < to) {
      Hash leaf{};
      const uint64_t index = tree_.size();
      for (int i = 0; i < 8; ++i) leaf[i] = static_cast<uint8_t>(index >> (8 * i));
      leaf[31] = seed_;
      tree_.Append(MerkleLeafHash(HashView(leaf)));
    }
  }
  std::string Note(uint64_t size, const NoteSigner& signer = LogKey(),
                   const std::string& origin = kLogOrigin) const {
    return *signer.Sign(CheckpointText({origin, size, *MerkleTreeHash(size, tree_), {}}));
  }
  std::vector<Hash> Proof(uint64_t old_size, uint64_t size) const {
    return *ConsistencyProof(old_size, size, tree_);
  }

 private:
  uint8_t seed_;
  MemoryMerkleTree tree_;
};

std::unique_ptr<Witness> OpenWitness(const std::string& dir) {
  Result<std::unique_ptr<Witness>> witness =
      Witness::Open(WitnessKey(), {{kLogOrigin, {LogKey().verifier()}}}, dir);
  EXPECT_TRUE(witness.ok()) << witness.status().ToString();
  return std::move(witness).value();
}

TEST(CosignatureVectorTest, TheTrialWitnessCosignsTheDocumentedCheckpoint) {
  const NoteSigner witness = WitnessKey();
  std::string vkey = SourceText("config/trial-keys/witness.vkey");
  while (!vkey.empty() && vkey.back() == '\n') vkey.pop_back();
  EXPECT_EQ(witness.verifier().Text(), vkey);
  EXPECT_EQ(vkey,
            "malangkota.go.id/witness-trial+1ddd503c+BAsR3LCUa79mWFkceL4hXpuCdkpqVt9vTaqHNBC8cbM4");
  const std::string text =
      "malangkota.go.id/malpro\n7\n/6LfZeLBG6Wi3HoeVsmM77xu3lIblktaHodvQbIrM7M=\n";
  EXPECT_EQ(CosignedMessage(text, 1764720000), "cosignature/v1\ntime 1764720000\n" + text);
  const std::string line = *witness.Cosign(text, 1764720000);
  EXPECT_EQ(line,
            "\xE2\x80\x94 malangkota.go.id/witness-trial "
            "Hd1QPAAAAABpL32AElHhubH8CDim0gDL/"
            "aQDBnzXaOhnSIqWZhJPHu23U8WMHlfDHlj8DMJ7ioOOgvzbfYGi5ln8DX3W9NNFV1/"
            "uDw==\n");
  // docs/transparency.md, section 8.1 writes this line and the key as they are.
  const std::string docs = SourceText("docs/transparency.md");
  EXPECT_NE(docs.find("\n" + line), std::string::npos) << "section 8.1 lacks " << line;
  EXPECT_NE(docs.find("\n" + vkey + "\n"), std::string::npos);
  EXPECT_NE(docs.find("cosignature/v1\ntime 1764720000\n" + text), std::string::npos);
  // Added to the log's signed note, it verifies with the witness's key and gives its time.
  Result<SignedNote> note = ParseSignedNote(*LogKey().Sign(text) + line, "note");
  ASSERT_TRUE(note.ok());
  Result<uint64_t> time = VerifyNoteSignature(*note, witness.verifier());
  ASSERT_TRUE(time.ok()) << time.status().ToString();
  EXPECT_EQ(*time, 1764720000u);
  EXPECT_TRUE(VerifyNote(*note, LogKey().verifier()).ok());
  // The bank's trial witness key file is its vkey.
  const NoteSigner bank =
      KeyFrom("bankjatim.co.id/witness-sim", "config/trial-keys/bank_witness_private.pem",
              note_type_cosignature_v1);
  std::string bank_vkey = SourceText("config/trial-keys/bank_witness.vkey");
  while (!bank_vkey.empty() && bank_vkey.back() == '\n') bank_vkey.pop_back();
  EXPECT_EQ(bank.verifier().Text(), bank_vkey);
}

TEST(CosignatureVectorTest, AlteredTimeOrTextDoesNotVerify) {
  const std::string text =
      "malangkota.go.id/malpro\n7\n/6LfZeLBG6Wi3HoeVsmM77xu3lIblktaHodvQbIrM7M=\n";
  std::string line = *WitnessKey().Cosign(text, 1764720000);
  const std::string note = *LogKey().Sign(text);
  // The time is bytes 4..11 of the blob: change its last byte.
  const size_t blob_at = line.find(' ', 4) + 1;
  std::string blob = *DecodeBase64(line.substr(blob_at, line.size() - blob_at - 1), "b");
  blob[11] ^= 1;
  const std::string altered = line.substr(0, blob_at) + Base64Encode(blob) + "\n";
  EXPECT_FALSE(VerifyNote(*ParseSignedNote(note + altered, "n"), WitnessKey().verifier()).ok());
  const std::string other =
      "malangkota.go.id/malpro\n8\n/6LfZeLBG6Wi3HoeVsmM77xu3lIblktaHodvQbIrM7M=\n";
  EXPECT_FALSE(
      VerifyNote(*ParseSignedNote(*LogKey().Sign(other) + line, "n"), WitnessKey().verifier())
          .ok());
  // The log's own key parses as type 1, the witness's as type 4.
  EXPECT_EQ(ParseVerifierKey(WitnessKey().verifier().Text(), "k")->type, note_type_cosignature_v1);
  EXPECT_EQ(ParseVerifierKey(LogKey().verifier().Text(), "k")->type, note_type_ed25519);
}

TEST(WitnessTest, CosignsOnlyForwardAlongAConsistentTreeAndRemembersAcrossReopening) {
  testing::TempDir dir;
  GrowingTree tree;
  tree.Grow(1000);
  {
    std::unique_ptr<Witness> witness = OpenWitness(dir.path());
    WitnessAnswer first = witness->AddCheckpoint(AddCheckpointBody(0, {}, tree.Note(10)), 100);
    ASSERT_EQ(first.verdict, WitnessVerdict::kCosigned) << first.message;
    Result<SignedNote> cosigned = ParseSignedNote(tree.Note(10) + first.cosignatures, "n");
    ASSERT_TRUE(cosigned.ok());
    EXPECT_EQ(*VerifyNoteSignature(*cosigned, WitnessKey().verifier()), 100u);
    // Grown with a proof from 10.
    WitnessAnswer grown =
        witness->AddCheckpoint(AddCheckpointBody(10, tree.Proof(10, 777), tree.Note(777)), 101);
    EXPECT_EQ(grown.verdict, WitnessVerdict::kCosigned) << grown.message;
    // The same size again (the same root): cosigned again.
    EXPECT_EQ(witness->AddCheckpoint(AddCheckpointBody(777, {}, tree.Note(777)), 102).verdict,
              WitnessVerdict::kCosigned);
    // Going back is refused: 777 is its latest.
    WitnessAnswer back = witness->AddCheckpoint(AddCheckpointBody(0, {}, tree.Note(500)), 103);
    EXPECT_EQ(back.verdict, WitnessVerdict::kSizeConflict);
    EXPECT_EQ(back.latest_size, 777u);
  }
  std::unique_ptr<Witness> reopened = OpenWitness(dir.path());
  ASSERT_TRUE(reopened->Latest(kLogOrigin).has_value());
  EXPECT_EQ(reopened->Latest(kLogOrigin)->size, 777u);
  WitnessAnswer stale = reopened->AddCheckpoint(AddCheckpointBody(0, {}, tree.Note(900)), 104);
  EXPECT_EQ(stale.verdict, WitnessVerdict::kSizeConflict);
  EXPECT_EQ(stale.latest_size, 777u);
  EXPECT_EQ(
      reopened->AddCheckpoint(AddCheckpointBody(777, tree.Proof(777, 1000), tree.Note(1000)), 105)
          .verdict,
      WitnessVerdict::kCosigned);
}

TEST(WitnessTest, EachRefusalOfAddCheckpointIsItsOwn) {
  testing::TempDir dir;
  GrowingTree tree;
  tree.Grow(64);
  std::unique_ptr<Witness> witness = OpenWitness(dir.path());
  ASSERT_EQ(witness->AddCheckpoint(AddCheckpointBody(0, {}, tree.Note(20)), 1).verdict,
            WitnessVerdict::kCosigned);
  auto verdict = [&](const std::string& body) { return witness->AddCheckpoint(body, 2).verdict; };
  // 400: not the protocol's body, or an old size beyond the checkpoint's.
  for (const std::string& body : std::vector<std::string>{
           "", "old 20", "old 020\n\n" + tree.Note(30), "new 20\n\n" + tree.Note(30),
           "old 20\nnot-base64!\n\n" + tree.Note(30), "old 20\n" + tree.Note(30),
           "old 20\n\nnot a note\n"}) {
    EXPECT_EQ(verdict(body), WitnessVerdict::kMalformed) << body;
  }
  EXPECT_EQ(verdict(AddCheckpointBody(40, {}, tree.Note(30))), WitnessVerdict::kMalformed);
  std::vector<Hash> too_long(64, Hash{});
  EXPECT_EQ(verdict(AddCheckpointBody(20, too_long, tree.Note(30))), WitnessVerdict::kMalformed);
  // 404: another origin (its own key signs it).
  const NoteSigner other_log =
      KeyFrom("example.com/other", "config/trial-keys/checkpoint_private.pem", note_type_ed25519);
  EXPECT_EQ(verdict(AddCheckpointBody(20, {}, tree.Note(30, other_log, "example.com/other"))),
            WitnessVerdict::kUnknownOrigin);
  // 403: this origin, signed by a key it does not trust.
  const NoteSigner stranger =
      KeyFrom(kLogOrigin, "config/trial-keys/witness_private.pem", note_type_ed25519);
  EXPECT_EQ(verdict(AddCheckpointBody(20, tree.Proof(20, 30), tree.Note(30, stranger))),
            WitnessVerdict::kUntrusted);
  // 422: a proof that does not show 20 -> 30.
  std::vector<Hash> wrong = tree.Proof(20, 30);
  wrong.back()[0] ^= 1;
  EXPECT_EQ(verdict(AddCheckpointBody(20, wrong, tree.Note(30))), WitnessVerdict::kProofInvalid);
  // 409: the same size with another root (another history of 20 events).
  GrowingTree fork(/*seed=*/1);
  fork.Grow(20);
  EXPECT_EQ(verdict(AddCheckpointBody(20, {}, fork.Note(20))), WitnessVerdict::kRootConflict);
  // Nothing refused moved the witness: 20 -> 30 still cosigns.
  EXPECT_EQ(witness->Latest(kLogOrigin)->size, 20u);
  EXPECT_EQ(verdict(AddCheckpointBody(20, tree.Proof(20, 30), tree.Note(30))),
            WitnessVerdict::kCosigned);
}

TEST(WitnessTest, ALogKeyOfACosignerOrNoLogIsRefusedAtOpen) {
  testing::TempDir dir;
  Result<std::unique_ptr<Witness>> none = Witness::Open(WitnessKey(), {}, dir.Sub("a"));
  EXPECT_FALSE(none.ok());
  Result<std::unique_ptr<Witness>> cosigner_key =
      Witness::Open(WitnessKey(), {{kLogOrigin, {WitnessKey().verifier()}}}, dir.Sub("b"));
  ASSERT_FALSE(cosigner_key.ok());
  EXPECT_EQ(cosigner_key.status().field(), "log");
}

TEST(CosignatureCountTest, ACheckerCountsOnlyTrustedWitnessesThatVerify) {
  const std::string text =
      "malangkota.go.id/malpro\n7\n/6LfZeLBG6Wi3HoeVsmM77xu3lIblktaHodvQbIrM7M=\n";
  const NoteSigner bank =
      KeyFrom("bankjatim.co.id/witness-sim", "config/trial-keys/bank_witness_private.pem",
              note_type_cosignature_v1);
  const std::string note = *LogKey().Sign(text) + *WitnessKey().Cosign(text, 5);
  Result<SignedNote> parsed = ParseSignedNote(note, "n");
  ASSERT_TRUE(parsed.ok());
  const std::vector<NoteVerifier> both = {WitnessKey().verifier(), bank.verifier()};
  CosignatureCount count = CountCosignatures(*parsed, both);
  EXPECT_EQ(count.verified, 1u);
  EXPECT_EQ(count.names, std::vector<std::string>{kWitnessName});
  EXPECT_TRUE(CheckCosignatures(*parsed, both, 1).ok());
  Status short_of_two = CheckCosignatures(*parsed, both, 2);
  EXPECT_FALSE(short_of_two.ok());
  EXPECT_NE(short_of_two.message().find("1 of the 2"), std::string::npos) << short_of_two.message();
  // With both it holds 2; the log's own signature never counts as a witness's, even when a
  // checker is handed the log's key among the witnesses'.
  Result<SignedNote> two = ParseSignedNote(note + *bank.Cosign(text, 6), "n");
  EXPECT_TRUE(CheckCosignatures(*two, both, 2).ok());
  EXPECT_EQ(CountCosignatures(*two, {LogKey().verifier()}).verified, 0u);
  EXPECT_EQ(CountCosignatures(*parsed, {}).verified, 0u);
}

}  // namespace
}  // namespace malpro
