// C2SP signed notes with Ed25519, against the signed-note specification's own example key and
// note, and C2SP checkpoints.
#include "engine/signed_note.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/base64.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

// The example of C2SP signed-note (and Go's golang.org/x/mod/sumdb/note): the private key
// PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz as PEM.
constexpr char kPeterNeumannPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kPeterNeumannVkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kSignedNote[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

TEST(SignedNoteTest, TheSpecificationsExampleSignsAndVerifies) {
  Result<NoteSigner> signer = NoteSigner::FromPem("PeterNeumann", kPeterNeumannPem, "key");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ(signer->verifier().Text(), kPeterNeumannVkey);
  EXPECT_EQ(*signer->Sign(kText), kSignedNote);

  Result<NoteVerifier> verifier = ParseVerifierKey(kPeterNeumannVkey, "vkey");
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  Result<SignedNote> note = ParseSignedNote(kSignedNote, "note");
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(note->text, kText);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].key_id, 0xc74f20a3u);
  EXPECT_TRUE(VerifyNote(*note, *verifier).ok());
}

TEST(SignedNoteTest, AChangedTextOrAnotherKeyDoesNotVerify) {
  NoteVerifier verifier = *ParseVerifierKey(kPeterNeumannVkey, "vkey");
  std::string changed = kSignedNote;
  changed[3] = 'Y';
  Status altered = VerifyNote(*ParseSignedNote(changed, "note"), verifier);
  EXPECT_EQ(altered.code(), StatusCode::kCorruption);
  EXPECT_NE(altered.message().find("does not verify"), std::string::npos) << altered.message();
  NoteVerifier other = verifier;
  other.name = "SomeoneElse";
  Status unsigned_by = VerifyNote(*ParseSignedNote(kSignedNote, "note"), other);
  EXPECT_NE(unsigned_by.message().find("no signature by SomeoneElse"), std::string::npos);
}

TEST(SignedNoteTest, MalformedKeysAndNotesAreRefusedNamingTheField) {
  for (std::string_view bad :
       {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "PeterNeumann",
        "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"}) {
    Result<NoteVerifier> parsed = ParseVerifierKey(bad, "witness.key");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().error_code(), errc::kNoteKeyInvalid) << bad;
    EXPECT_EQ(parsed.status().field(), "witness.key") << bad;
  }
  Result<NoteSigner> not_pem = NoteSigner::FromPem("x", "not a key", "tlog.key_file");
  EXPECT_EQ(not_pem.status().error_code(), errc::kNoteKeyInvalid);
  EXPECT_EQ(not_pem.status().field(), "tlog.key_file");
  for (std::string_view bad : {std::string_view(kText), std::string_view("text\n\nsig\n"),
                               std::string_view("text\n\n-- PeterNeumann AAAA\n")}) {
    Result<SignedNote> parsed = ParseSignedNote(bad, "note");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().error_code(), errc::kNoteInvalid) << bad;
  }
  NoteSigner signer = *NoteSigner::FromPem("PeterNeumann", kPeterNeumannPem, "key");
  EXPECT_EQ(signer.Sign("no newline").status().error_code(), errc::kNoteInvalid);
  EXPECT_EQ(signer.Sign("two\n\nparagraphs\n").status().error_code(), errc::kNoteInvalid);
}

TEST(CheckpointTest, ACheckpointIsWrittenAndReadAsC2spWritesIt) {
  Checkpoint checkpoint{"malang.go.id/malpro", 1034030, Sha256("root"), {"time 1764000000"}};
  const std::string text = CheckpointText(checkpoint);
  EXPECT_EQ(text, "malang.go.id/malpro\n1034030\n" + Base64Encode(HashView(checkpoint.root)) +
                      "\ntime 1764000000\n");
  Result<Checkpoint> parsed = ParseCheckpoint(text, "checkpoint");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, checkpoint);
  for (std::string_view bad :
       {"origin\n12\n", "origin\n012\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "origin\n1\nAAAA\n",
        "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}) {
    Result<Checkpoint> refused = ParseCheckpoint(bad, "checkpoint");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().error_code(), errc::kCheckpointInvalid) << bad;
  }
}

}  // namespace
}  // namespace malpro
