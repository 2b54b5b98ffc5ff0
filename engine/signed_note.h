// C2SP signed-note with Ed25519 signatures (through OpenSSL), and the C2SP tlog-checkpoint that
// such a note carries (docs/transparency.md, "Checkpoints").
//
// A note is UTF-8 text ending in a newline, then an empty line, then one line per signature:
// U+2014 (em dash), a space, the key's name, a space, and base64 of the 4-byte key ID followed
// by the signature. An Ed25519 signature covers the text (its final newline included). A key
// ID is the first 4 bytes of SHA-256(name || 0x0A || signature type || public key), big-endian.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hash.h"
#include "engine/result.h"

namespace malpro {

// What starts every signature line: U+2014 EM DASH and a space.
inline constexpr std::string_view note_signature_prefix = "\xE2\x80\x94 ";
// Signature types of C2SP signed-note.
inline constexpr uint8_t note_type_ed25519 = 0x01;
// C2SP tlog-cosignature, Ed25519 "cosignature/v1": a witness's timestamped signature.
inline constexpr uint8_t note_type_cosignature_v1 = 0x04;
// Lines of a checkpoint's text at most (origin, size, root and extensions), and its bytes.
inline constexpr size_t checkpoint_lines_max = 16;
inline constexpr size_t note_bytes_max = 64 * 1024;
inline constexpr size_t note_signatures_max = 100;

uint32_t NoteKeyId(std::string_view name, uint8_t type, std::string_view public_key);

// A verifier key as C2SP writes it: "<name>+<8 hex digits of the key ID>+<base64(type || key)>".
struct NoteVerifier {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;            // 32 bytes
  uint8_t type = note_type_ed25519;  // or note_type_cosignature_v1
  std::string Text() const;
};
// InvalidArgument note_key_invalid naming `field` when `text` is not an Ed25519 verifier key (of
// type 1, or 4 for a cosigner) whose ID matches its name and key.
Result<NoteVerifier> ParseVerifierKey(std::string_view text, std::string_view field);

// Signs notes with an Ed25519 private key.
class NoteSigner {
 public:
  // `pem`: an Ed25519 private key in PEM (`openssl genpkey -algorithm ed25519`); `name`: the
  // key's name, which C2SP restricts to UTF-8 without spaces or '+'. InvalidArgument
  // note_key_invalid naming `field` otherwise.
  // `type` note_type_cosignature_v1 makes a cosigner (a witness's key), whose key ID differs.
  static Result<NoteSigner> FromPem(std::string_view name, std::string_view pem,
                                    std::string_view field, uint8_t type = note_type_ed25519);
  const NoteVerifier& verifier() const { return verifier_; }
  // The note: `text` (which must end in a newline), an empty line, and this key's signature.
  // A signer of type 1 only.
  Result<std::string> Sign(std::string_view text) const;
  // A cosigner's signature line ("— name base64(key ID || time || signature)\n") over
  // CosignedMessage(text, time); `time` in POSIX seconds. A cosigner only.
  Result<std::string> Cosign(std::string_view text, uint64_t time) const;

 private:
  Result<std::string> SignBytes(std::string_view message) const;
  std::shared_ptr<void> key_;  // EVP_PKEY
  NoteVerifier verifier_;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // after the key ID
};
struct SignedNote {
  std::string text;  // with its final newline
  std::vector<NoteSignature> signatures;
};
// InvalidArgument note_invalid naming `field` when `note` is not a signed note.
Result<SignedNote> ParseSignedNote(std::string_view note, std::string_view field);
// What a cosignature signs: "cosignature/v1\n", "time <time>\n", then the note's text.
std::string CosignedMessage(std::string_view text, uint64_t time);
// Ok when `note` carries a signature by `verifier` (same name and key ID) that verifies over
// its text (a cosigner's: over CosignedMessage with its time); Corruption saying why otherwise.
Status VerifyNote(const SignedNote& note, const NoteVerifier& verifier);
// The same, answering a cosignature's time (0 for a type-1 signature).
Result<uint64_t> VerifyNoteSignature(const SignedNote& note, const NoteVerifier& verifier);

// C2SP tlog-checkpoint: the origin line, the tree size in decimal, the root in base64, then
// any extension lines, each ending in a newline.
struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;
  bool operator==(const Checkpoint&) const = default;
};
std::string CheckpointText(const Checkpoint& checkpoint);
// InvalidArgument checkpoint_invalid naming `field` when `text` is not a checkpoint.
Result<Checkpoint> ParseCheckpoint(std::string_view text, std::string_view field);

}  // namespace malpro
