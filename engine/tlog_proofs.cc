#include "engine/tlog_proofs.h"

#include "engine/base64.h"
#include "engine/error_codes.h"
#include "engine/merkle_tree.h"

namespace malpro {
namespace {

constexpr std::string_view signature_line_start = "\xE2\x80\x94 ";

void AppendHashLines(const std::vector<Hash>& hashes, std::string* out) {
  for (const Hash& hash : hashes) {
    out->append(Base64Encode(HashView(hash)));
    out->push_back('\n');
  }
}

// Splits `text` into its lines (each without its newline); the text must end in a newline.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    if (end == std::string_view::npos) break;
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

// The byte offset just after the signature lines of the note that starts at `at`: where the
// next note starts. npos when the note has no empty line or no signature.
size_t EndOfNote(std::string_view text, size_t at) {
  const size_t blank = text.find("\n\n", at);
  if (blank == std::string_view::npos) return std::string_view::npos;
  size_t line = blank + 2;
  size_t end = std::string_view::npos;
  while (line < text.size() && text.substr(line).starts_with(signature_line_start)) {
    const size_t newline = text.find('\n', line);
    if (newline == std::string_view::npos) return std::string_view::npos;
    line = newline + 1;
    end = line;
  }
  return end;
}

Result<Checkpoint> CheckNote(std::string_view note, const NoteVerifier& verifier,
                             std::string_view origin, std::string_view which) {
  Result<SignedNote> parsed = ParseSignedNote(note, which);
  if (!parsed.ok()) return parsed.status();
  Result<Checkpoint> checkpoint = ParseCheckpoint(parsed->text, which);
  if (!checkpoint.ok()) return checkpoint.status();
  if (!origin.empty() && checkpoint->origin != origin) {
    return Status::Corruption(std::string(which) + " is of origin " + checkpoint->origin +
                              ", not " + std::string(origin));
  }
  Status signature = VerifyNote(*parsed, verifier);
  if (!signature.ok()) {
    return Status::Corruption(std::string(which) + ": " + signature.message());
  }
  return checkpoint;
}

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

std::optional<Hash> ParseHashLine(std::string_view line) {
  Result<std::string> bytes = DecodeBase64(line, "hash");
  if (!bytes.ok() || bytes->size() != hash_bytes || Base64Encode(*bytes) != line) {
    return std::nullopt;
  }
  Hash hash{};
  std::copy(bytes->begin(), bytes->end(), reinterpret_cast<char*>(hash.data()));
  return hash;
}

std::string InclusionBundleText(const InclusionBundle& bundle) {
  std::string text = std::string(proof_bundle_header) + "\n";
  std::string hashes;
  for (const Hash& hash : bundle.event_hashes) hashes.append(HashView(hash));
  text += "extra " + Base64Encode(hashes) + "\n";
  for (uint64_t index : bundle.indices) text += "index " + std::to_string(index) + "\n";
  AppendHashLines(bundle.proof, &text);
  text.push_back('\n');
  text.append(bundle.checkpoint);
  return text;
}

std::string ConsistencyBundleText(const ConsistencyBundle& bundle) {
  std::string text = std::string(consistency_bundle_header) + "\n";
  AppendHashLines(bundle.proof, &text);
  text.push_back('\n');
  text.append(bundle.old_checkpoint);
  text.append(bundle.new_checkpoint);
  return text;
}

Result<ParsedProof> ParseProofBundle(std::string_view text, std::string_view field) {
  auto bad = [field](const std::string& why) {
    return Status::InvalidArgument(errc::kProofInvalid, field,
                                   std::string(field) + " is not a proof bundle: " + why);
  };
  if (text.size() > note_bytes_max * 3) return bad("it is larger than 192 KiB");
  if (text.empty() || text.back() != '\n') return bad("it does not end in a newline");
  const std::vector<std::string_view> lines = Lines(text);
  ParsedProof parsed;
  size_t line = 1;
  if (lines[0] == consistency_bundle_header) {
    parsed.consistency = true;
  } else if (lines[0] != proof_bundle_header) {
    return bad(std::string("its first line is neither ") + proof_bundle_header + " nor " +
               consistency_bundle_header);
  }
  InclusionBundle& inclusion = parsed.inclusion;
  std::string extra;
  if (!parsed.consistency) {
    if (line < lines.size() && lines[line].starts_with("extra ")) {
      Result<std::string> bytes = DecodeBase64(lines[line].substr(6), field);
      if (!bytes.ok()) return bad("line 2: its extra data is not base64");
      extra = std::move(bytes).value();
      ++line;
    }
    for (; line < lines.size() && lines[line].starts_with("index "); ++line) {
      std::optional<uint64_t> index = ParseDecimal(lines[line].substr(6));
      if (!index || (!inclusion.indices.empty() && *index <= inclusion.indices.back())) {
        return bad("line " + std::to_string(line + 1) +
                   ": an index is a decimal without leading zeros, each above the one before");
      }
      inclusion.indices.push_back(*index);
    }
    if (inclusion.indices.empty() || inclusion.indices.size() > proof_events_max) {
      return bad("it needs 1 to " + std::to_string(proof_events_max) + " index lines");
    }
    if (extra.size() != inclusion.indices.size() * hash_bytes) {
      return bad("its extra data must be the 32-byte hash of each indexed event");
    }
    for (size_t i = 0; i < inclusion.indices.size(); ++i) {
      Hash& hash = inclusion.event_hashes.emplace_back();
      std::copy_n(extra.data() + i * hash_bytes, hash_bytes, reinterpret_cast<char*>(hash.data()));
    }
  }
  std::vector<Hash>& proof = parsed.consistency ? parsed.consistency_bundle.proof : inclusion.proof;
  for (; line < lines.size() && !lines[line].empty(); ++line) {
    std::optional<Hash> hash = ParseHashLine(lines[line]);
    if (!hash) return bad("line " + std::to_string(line + 1) + " is not a base64 SHA-256 hash");
    proof.push_back(*hash);
  }
  if (line >= lines.size()) return bad("no empty line before the checkpoint");
  size_t at = 0;
  for (size_t i = 0; i <= line; ++i) at += lines[i].size() + 1;
  const std::string_view notes = text.substr(at);
  if (!parsed.consistency) {
    inclusion.checkpoint = std::string(notes);
    return parsed;
  }
  const size_t split = EndOfNote(notes, 0);
  if (split == std::string_view::npos || split >= notes.size()) {
    return bad("it needs two signed checkpoints after the empty line");
  }
  parsed.consistency_bundle.old_checkpoint = std::string(notes.substr(0, split));
  parsed.consistency_bundle.new_checkpoint = std::string(notes.substr(split));
  return parsed;
}

Result<InclusionBundle> MakeInclusionBundle(const EventLog& log, const TlogStore& store,
                                            const std::vector<uint64_t>& sequences,
                                            const StoredCheckpoint& checkpoint) {
  if (sequences.empty() || sequences.size() > proof_events_max ||
      sequences.back() > checkpoint.size || sequences.front() == 0) {
    return Status::InvalidArgument(errc::kProofRangeInvalid, "sequence",
                                   "a proof covers 1 to " + std::to_string(proof_events_max) +
                                       " events, each in the checkpoint's " +
                                       std::to_string(checkpoint.size) + " events");
  }
  InclusionBundle bundle;
  for (uint64_t sequence : sequences) {
    Result<std::vector<Event>> event = log.Read(sequence, 1);
    if (!event.ok()) return event.status();
    if (event->empty()) {
      return Status::Corruption("event " + std::to_string(sequence) + " is missing from the log");
    }
    bundle.indices.push_back(sequence - 1);
    bundle.event_hashes.push_back(event->front().hash);
  }
  Result<std::vector<Hash>> proof =
      MultiInclusionProof(bundle.indices, checkpoint.size, store.Reader(checkpoint.size));
  if (!proof.ok()) return proof.status();
  bundle.proof = std::move(proof).value();
  bundle.checkpoint = checkpoint.note;
  return bundle;
}

Result<ConsistencyBundle> MakeConsistencyBundle(const TlogStore& store,
                                                const StoredCheckpoint& older,
                                                const StoredCheckpoint& newer) {
  Result<std::vector<Hash>> proof =
      ConsistencyProof(older.size, newer.size, store.Reader(newer.size));
  if (!proof.ok()) return proof.status();
  return ConsistencyBundle{std::move(proof).value(), older.note, newer.note};
}

Result<ProofVerdict> CheckProof(const ParsedProof& proof, const NoteVerifier& verifier,
                                std::string_view origin) {
  ProofVerdict verdict;
  if (proof.consistency) {
    const ConsistencyBundle& bundle = proof.consistency_bundle;
    Result<Checkpoint> older =
        CheckNote(bundle.old_checkpoint, verifier, origin, "the older checkpoint");
    if (!older.ok()) return older.status();
    Result<Checkpoint> newer =
        CheckNote(bundle.new_checkpoint, verifier, origin, "the newer checkpoint");
    if (!newer.ok()) return newer.status();
    if (older->origin != newer->origin) {
      return Status::Corruption("the two checkpoints are of different origins");
    }
    MALPRO_RETURN_IF_ERROR(
        VerifyConsistency(older->size, newer->size, older->root, newer->root, bundle.proof));
    verdict.old_checkpoint = *older;
    verdict.checkpoint = *newer;
    return verdict;
  }
  const InclusionBundle& bundle = proof.inclusion;
  Result<Checkpoint> checkpoint = CheckNote(bundle.checkpoint, verifier, origin, "the checkpoint");
  if (!checkpoint.ok()) return checkpoint.status();
  std::vector<Hash> leaves;
  for (const Hash& hash : bundle.event_hashes) leaves.push_back(MerkleLeafHash(HashView(hash)));
  Result<Hash> root = MultiInclusionRoot(bundle.indices, leaves, checkpoint->size, bundle.proof);
  if (!root.ok()) return root.status();
  if (*root != checkpoint->root) {
    return Status::Corruption("the proof does not verify: it gives the root " + HashToHex(*root) +
                              ", the checkpoint signs " + HashToHex(checkpoint->root));
  }
  verdict.checkpoint = *checkpoint;
  for (uint64_t index : bundle.indices) verdict.sequences.push_back(index + 1);
  verdict.event_hashes = bundle.event_hashes;
  return verdict;
}

}  // namespace malpro
