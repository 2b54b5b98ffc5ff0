#include "engine/signed_note.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <charconv>
#include <cstdio>
#include <limits>

#include "engine/assert.h"
#include "engine/base64.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

constexpr size_t ed25519_key_bytes = 32;
constexpr size_t ed25519_signature_bytes = 64;

using NoteKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using NoteSigningContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Status BadKey(std::string_view field, std::string_view why) {
  return Status::InvalidArgument(
      errc::kNoteKeyInvalid, field,
      std::string(field) + " must be an Ed25519 key: " + std::string(why));
}

Status BadNote(std::string_view field, std::string_view why) {
  return Status::InvalidArgument(errc::kNoteInvalid, field,
                                 std::string(field) + " is not a signed note: " + std::string(why));
}

// C2SP: a key name is non-empty UTF-8 without spaces or '+'.
bool ValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == '+' || c == 0x7F) return false;
  }
  return true;
}

std::string KeyIdBytes(uint32_t key_id) {
  std::string bytes(4, '\0');
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(key_id >> (24 - 8 * i));
  return bytes;
}

uint32_t KeyIdOf(std::string_view bytes) {
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id = id << 8 | static_cast<uint8_t>(bytes[i]);
  return id;
}

Result<NoteSignature> ParseSignatureLine(std::string_view line, std::string_view field) {
  if (!line.starts_with(note_signature_prefix))
    return BadNote(field, "a signature line lacks the em dash");
  line.remove_prefix(note_signature_prefix.size());
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || !ValidKeyName(line.substr(0, space))) {
    return BadNote(field, "a signature line has no valid key name");
  }
  Result<std::string> bytes = DecodeBase64(line.substr(space + 1), field);
  if (!bytes.ok() || bytes->size() < 5) return BadNote(field, "a signature is not base64");
  return NoteSignature{std::string(line.substr(0, space)), KeyIdOf(*bytes), bytes->substr(4)};
}

}  // namespace

uint32_t NoteKeyId(std::string_view name, uint8_t type, std::string_view public_key) {
  std::string input(name);
  input.push_back('\n');
  input.push_back(static_cast<char>(type));
  input.append(public_key);
  const Hash hash = Sha256(input);
  return KeyIdOf(HashView(hash));
}

std::string NoteVerifier::Text() const {
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", key_id);
  return name + "+" + id + "+" + Base64Encode(std::string(1, static_cast<char>(type)) + public_key);
}

Result<NoteVerifier> ParseVerifierKey(std::string_view text, std::string_view field) {
  const size_t first = text.find('+');
  const size_t second = first == std::string_view::npos ? first : text.find('+', first + 1);
  if (second == std::string_view::npos || second - first != 9 ||
      !ValidKeyName(text.substr(0, first))) {
    return BadKey(field, "write it as name+keyid+base64, as C2SP signed-note does");
  }
  NoteVerifier verifier;
  verifier.name = std::string(text.substr(0, first));
  const std::string_view id = text.substr(first + 1, 8);
  auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), verifier.key_id, 16);
  Result<std::string> key = DecodeBase64(text.substr(second + 1), field);
  if (error != std::errc() || end != id.data() + id.size() || !key.ok() ||
      key->size() != 1 + ed25519_key_bytes ||
      (static_cast<uint8_t>((*key)[0]) != note_type_ed25519 &&
       static_cast<uint8_t>((*key)[0]) != note_type_cosignature_v1)) {
    return BadKey(field, "its key ID is not 8 hex digits or its key not type 1 or 4 and 32 bytes");
  }
  verifier.type = static_cast<uint8_t>((*key)[0]);
  verifier.public_key = key->substr(1);
  if (NoteKeyId(verifier.name, verifier.type, verifier.public_key) != verifier.key_id) {
    return BadKey(field, "its key ID does not match its name and key");
  }
  return verifier;
}

Result<NoteSigner> NoteSigner::FromPem(std::string_view name, std::string_view pem,
                                       std::string_view field, uint8_t type) {
  if (!ValidKeyName(name)) return BadKey(field, "its name has a space or a '+'");
  MALPRO_ASSERT(type == note_type_ed25519 || type == note_type_cosignature_v1);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                BIO_free);
  NoteKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (key == nullptr || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return BadKey(field, "not a PEM Ed25519 private key (openssl genpkey -algorithm ed25519)");
  }
  std::string public_key(ed25519_key_bytes, '\0');
  size_t length = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(public_key.data()),
                                  &length) != 1 ||
      length != ed25519_key_bytes) {
    return BadKey(field, "its public key cannot be read");
  }
  NoteSigner signer;
  signer.verifier_ = {std::string(name), NoteKeyId(name, type, public_key), public_key, type};
  signer.key_ = std::shared_ptr<void>(key.release(),
                                      [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
  return signer;
}

Result<std::string> NoteSigner::SignBytes(std::string_view message) const {
  NoteSigningContext context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string signature(ed25519_signature_bytes, '\0');
  size_t length = signature.size();
  if (context == nullptr ||
      EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr,
                         static_cast<EVP_PKEY*>(key_.get())) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Status::IOError("Ed25519 signing failed in OpenSSL");
  }
  return signature;
}

namespace {

Status CheckNoteText(std::string_view text) {
  if (text.empty() || text.back() != '\n' || text.find("\n\n") != std::string_view::npos) {
    return Status::InvalidArgument(errc::kNoteInvalid, "text",
                                   "a note's text ends in one newline and has no empty line");
  }
  return Status::Ok();
}

std::string BigEndian64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (56 - 8 * i));
  return bytes;
}

bool VerifyEd25519(const std::string& public_key, std::string_view signature,
                   std::string_view message) {
  NoteKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(public_key.data()),
                                          public_key.size()),
              EVP_PKEY_free);
  NoteSigningContext context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return key != nullptr && context != nullptr && signature.size() == ed25519_signature_bytes &&
         EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace

std::string CosignedMessage(std::string_view text, uint64_t time) {
  return "cosignature/v1\ntime " + std::to_string(time) + "\n" + std::string(text);
}

Result<std::string> NoteSigner::Sign(std::string_view text) const {
  MALPRO_ASSERT(verifier_.type == note_type_ed25519);
  MALPRO_RETURN_IF_ERROR(CheckNoteText(text));
  Result<std::string> signature = SignBytes(text);
  if (!signature.ok()) return signature.status();
  return std::string(text) + "\n" + std::string(note_signature_prefix) + verifier_.name + " " +
         Base64Encode(KeyIdBytes(verifier_.key_id) + *signature) + "\n";
}

Result<std::string> NoteSigner::Cosign(std::string_view text, uint64_t time) const {
  MALPRO_ASSERT(verifier_.type == note_type_cosignature_v1);
  MALPRO_RETURN_IF_ERROR(CheckNoteText(text));
  MALPRO_ASSERT(time <= uint64_t{std::numeric_limits<int64_t>::max()});
  Result<std::string> signature = SignBytes(CosignedMessage(text, time));
  if (!signature.ok()) return signature.status();
  return std::string(note_signature_prefix) + verifier_.name + " " +
         Base64Encode(KeyIdBytes(verifier_.key_id) + BigEndian64(time) + *signature) + "\n";
}

Result<SignedNote> ParseSignedNote(std::string_view note, std::string_view field) {
  if (note.size() > note_bytes_max) return BadNote(field, "it is longer than 64 KiB");
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos || note.back() != '\n') {
    return BadNote(field, "it has no empty line before its signatures");
  }
  SignedNote parsed;
  parsed.text = std::string(note.substr(0, split + 1));
  std::string_view lines = note.substr(split + 2);
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    Result<NoteSignature> signature = ParseSignatureLine(lines.substr(0, end), field);
    if (!signature.ok()) return signature.status();
    parsed.signatures.push_back(std::move(signature).value());
    if (parsed.signatures.size() > note_signatures_max)
      return BadNote(field, "too many signatures");
    lines.remove_prefix(end + 1);
  }
  if (parsed.signatures.empty()) return BadNote(field, "it has no signature");
  return parsed;
}

Result<uint64_t> VerifyNoteSignature(const SignedNote& note, const NoteVerifier& verifier) {
  for (const NoteSignature& signature : note.signatures) {
    if (signature.name != verifier.name || signature.key_id != verifier.key_id) continue;
    bool verified = false;
    uint64_t time = 0;
    if (verifier.type == note_type_cosignature_v1) {
      if (signature.signature.size() == 8 + ed25519_signature_bytes) {
        for (int i = 0; i < 8; ++i) time = time << 8 | static_cast<uint8_t>(signature.signature[i]);
        verified =
            time <= uint64_t{std::numeric_limits<int64_t>::max()} &&
            VerifyEd25519(verifier.public_key, std::string_view(signature.signature).substr(8),
                          CosignedMessage(note.text, time));
      }
    } else {
      verified = VerifyEd25519(verifier.public_key, signature.signature, note.text);
    }
    if (verified) return time;
    return Status::Corruption("the signature of " + verifier.name + " does not verify");
  }
  return Status::Corruption("the note has no signature by " + verifier.name);
}

Status VerifyNote(const SignedNote& note, const NoteVerifier& verifier) {
  Result<uint64_t> verified = VerifyNoteSignature(note, verifier);
  return verified.ok() ? Status::Ok() : verified.status();
}

std::string CheckpointText(const Checkpoint& checkpoint) {
  std::string text = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                     Base64Encode(HashView(checkpoint.root)) + "\n";
  for (const std::string& extension : checkpoint.extensions) text += extension + "\n";
  return text;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text, std::string_view field) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        errc::kCheckpointInvalid, field,
        std::string(field) + " is not a checkpoint: " + std::string(why));
  };
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() <= checkpoint_lines_max) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) return bad("its last line does not end in a newline");
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  if (lines.size() < 3 || lines.size() > checkpoint_lines_max) return bad("it needs 3 to 16 lines");
  Checkpoint checkpoint;
  checkpoint.origin = std::string(lines[0]);
  if (checkpoint.origin.empty()) return bad("its origin line is empty");
  const std::string_view size = lines[1];
  auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), checkpoint.size);
  if (size.empty() || error != std::errc() || end != size.data() + size.size() ||
      (size.size() > 1 && size[0] == '0')) {
    return bad("its second line is not a tree size in decimal");
  }
  Result<std::string> root = DecodeBase64(lines[2], field);
  if (!root.ok() || root->size() != hash_bytes) return bad("its third line is not a base64 hash");
  std::copy(root->begin(), root->end(), checkpoint.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return bad("an extension line is empty");
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

}  // namespace malpro
