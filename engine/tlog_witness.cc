#include "engine/tlog_witness.h"

#include <rocksdb/db.h>

#include <filesystem>

#include "engine/assert.h"
#include "engine/base64.h"
#include "engine/error_codes.h"
#include "engine/merkle_tree.h"
#include "engine/tlog_proofs.h"

namespace malpro {
namespace {

// The state's keys: "l" + origin -> the text of the latest checkpoint cosigned for it.
constexpr std::string_view witness_latest_prefix = "l";

Status WitnessDbStatus(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  return Status::IOError("witness state: " + std::string(what) + ": " + status.ToString());
}

WitnessAnswer Refuse(WitnessVerdict verdict, std::string message) {
  WitnessAnswer answer;
  answer.verdict = verdict;
  answer.message = std::move(message);
  return answer;
}

// C2SP: "old", a space, the size in decimal without leading zeroes.
std::optional<uint64_t> ParseOldLine(std::string_view line) {
  if (!line.starts_with("old ")) return std::nullopt;
  return ParseDecimal(line.substr(4));
}

struct AddRequest {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string note;
};

// The request's parts; nullopt and a kMalformed answer naming the rule otherwise.
std::optional<AddRequest> ParseAddRequest(std::string_view body, WitnessAnswer* refused) {
  auto malformed = [&](const std::string& why) -> std::optional<AddRequest> {
    *refused = Refuse(WitnessVerdict::kMalformed, "add-checkpoint body: " + why);
    return std::nullopt;
  };
  if (body.size() > witness_request_bytes_max) return malformed("it is longer than 72 KiB");
  AddRequest request;
  const size_t first_end = body.find('\n');
  std::optional<uint64_t> old_size =
      first_end == std::string_view::npos ? std::nullopt : ParseOldLine(body.substr(0, first_end));
  if (!old_size) return malformed("the first line must be \"old N\" (N in decimal)");
  request.old_size = *old_size;
  body.remove_prefix(first_end + 1);
  while (true) {
    const size_t end = body.find('\n');
    if (end == std::string_view::npos) return malformed("no empty line before the checkpoint");
    if (end == 0) break;
    if (request.proof.size() == witness_proof_lines_max) {
      return malformed("more than 63 consistency proof lines");
    }
    std::optional<Hash> hash = ParseHashLine(body.substr(0, end));
    if (!hash) return malformed("a proof line is not the base64 of a 32-byte hash");
    request.proof.push_back(*hash);
    body.remove_prefix(end + 1);
  }
  request.note = std::string(body.substr(1));
  return request;
}

}  // namespace

Witness::Witness(NoteSigner cosigner, std::vector<WitnessLog> logs)
    : cosigner_(std::move(cosigner)), logs_(std::move(logs)) {}

Witness::~Witness() = default;

Result<std::unique_ptr<Witness>> Witness::Open(NoteSigner cosigner, std::vector<WitnessLog> logs,
                                               const std::string& state_dir) {
  MALPRO_ASSERT(cosigner.verifier().type == note_type_cosignature_v1);
  if (logs.empty() || logs.size() > witness_logs_max) {
    return Status::InvalidArgument(errc::kWitnessLogInvalid, "log",
                                   "log: a witness cosigns for 1 to 64 logs");
  }
  for (const WitnessLog& log : logs) {
    for (const NoteVerifier& key : log.keys) {
      if (key.type != note_type_ed25519) {
        return Status::InvalidArgument(errc::kWitnessLogInvalid, "log",
                                       "log: " + key.name + " is a cosigner's key, not a log's");
      }
    }
  }
  std::unique_ptr<Witness> witness(new Witness(std::move(cosigner), std::move(logs)));
  std::error_code made;
  std::filesystem::create_directories(state_dir, made);
  if (made) {
    return Status::IOError("witness state: cannot create " + state_dir + ": " + made.message());
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_open_files = 16;
  rocksdb::DB* db = nullptr;
  MALPRO_RETURN_IF_ERROR(WitnessDbStatus(rocksdb::DB::Open(options, state_dir, &db), state_dir));
  witness->db_.reset(db);
  for (const WitnessLog& log : witness->logs_) {
    std::string text;
    rocksdb::Status got =
        db->Get(rocksdb::ReadOptions(), std::string(witness_latest_prefix) + log.origin, &text);
    if (got.IsNotFound()) continue;
    MALPRO_RETURN_IF_ERROR(WitnessDbStatus(got, "reading " + log.origin));
    Result<Checkpoint> latest = ParseCheckpoint(text, "state");
    if (!latest.ok() || latest->origin != log.origin) {
      return Status::Corruption("witness state: the checkpoint kept for " + log.origin +
                                " is not one of it");
    }
    witness->latest_[log.origin] = *latest;
  }
  return witness;
}

std::optional<Checkpoint> Witness::Latest(std::string_view origin) const {
  std::lock_guard lock(mutex_);
  auto found = latest_.find(origin);
  if (found == latest_.end()) return std::nullopt;
  return found->second;
}

WitnessAnswer Witness::Check(const WitnessLog& log, uint64_t old_size,
                             const std::vector<Hash>& proof, const Checkpoint& checkpoint) const {
  if (old_size > checkpoint.size) {
    return Refuse(WitnessVerdict::kMalformed, "old size " + std::to_string(old_size) +
                                                  " is larger than the checkpoint's " +
                                                  std::to_string(checkpoint.size));
  }
  auto found = latest_.find(log.origin);
  const uint64_t latest_size = found == latest_.end() ? 0 : found->second.size;
  if (old_size != latest_size) {
    WitnessAnswer answer = Refuse(WitnessVerdict::kSizeConflict,
                                  "old size " + std::to_string(old_size) +
                                      " is not the size of the latest checkpoint cosigned, " +
                                      std::to_string(latest_size));
    answer.latest_size = latest_size;
    return answer;
  }
  if (old_size == 0) {
    if (!proof.empty()) {
      return Refuse(WitnessVerdict::kMalformed, "the proof must be empty when the old size is 0");
    }
    return {WitnessVerdict::kCosigned, "", 0, ""};
  }
  if (old_size == checkpoint.size && found->second.root != checkpoint.root) {
    return Refuse(WitnessVerdict::kRootConflict, "the checkpoint of size " +
                                                     std::to_string(old_size) +
                                                     " has another root than the one cosigned");
  }
  Status consistent =
      VerifyConsistency(old_size, checkpoint.size, found->second.root, checkpoint.root, proof);
  if (!consistent.ok()) {
    return Refuse(WitnessVerdict::kProofInvalid, "the consistency proof from " +
                                                     std::to_string(old_size) + " to " +
                                                     std::to_string(checkpoint.size) +
                                                     " does not verify: " + consistent.message());
  }
  return {WitnessVerdict::kCosigned, "", 0, ""};
}

WitnessAnswer Witness::AddCheckpoint(std::string_view body, uint64_t now_s) {
  WitnessAnswer refused;
  std::optional<AddRequest> request = ParseAddRequest(body, &refused);
  if (!request) return refused;
  Result<SignedNote> note = ParseSignedNote(request->note, "checkpoint");
  if (!note.ok()) return Refuse(WitnessVerdict::kMalformed, note.status().message());
  Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, "checkpoint");
  if (!checkpoint.ok()) return Refuse(WitnessVerdict::kMalformed, checkpoint.status().message());
  auto log = std::find_if(logs_.begin(), logs_.end(), [&](const WitnessLog& candidate) {
    return candidate.origin == checkpoint->origin;
  });
  if (log == logs_.end()) {
    return Refuse(WitnessVerdict::kUnknownOrigin,
                  "this witness does not know the log " + checkpoint->origin);
  }
  // Signatures by unknown keys are ignored; one by a key of the log must verify.
  const bool trusted =
      std::any_of(log->keys.begin(), log->keys.end(),
                  [&](const NoteVerifier& key) { return VerifyNote(*note, key).ok(); });
  if (!trusted) {
    return Refuse(WitnessVerdict::kUntrusted,
                  "no signature on the checkpoint verifies with a key of " + log->origin);
  }
  std::lock_guard lock(mutex_);
  WitnessAnswer answer = Check(*log, request->old_size, request->proof, *checkpoint);
  if (answer.verdict != WitnessVerdict::kCosigned) return answer;
  Result<std::string> line = cosigner_.Cosign(note->text, now_s);
  if (!line.ok()) return Refuse(WitnessVerdict::kFailed, line.status().message());
  rocksdb::WriteOptions synced;
  synced.sync = true;
  Status kept = WitnessDbStatus(
      db_->Put(synced, std::string(witness_latest_prefix) + log->origin, note->text), "keeping");
  if (!kept.ok()) return Refuse(WitnessVerdict::kFailed, kept.message());
  latest_[log->origin] = *checkpoint;
  answer.cosignatures = std::move(line).value();
  return answer;
}

std::string AddCheckpointBody(uint64_t old_size, const std::vector<Hash>& proof,
                              std::string_view note) {
  std::string body = "old " + std::to_string(old_size) + "\n";
  for (const Hash& hash : proof) body += Base64Encode(HashView(hash)) + "\n";
  body += "\n";
  body += note;
  return body;
}

CosignatureCount CountCosignatures(const SignedNote& note,
                                   const std::vector<NoteVerifier>& witnesses) {
  CosignatureCount count;
  for (const NoteVerifier& witness : witnesses) {
    if (witness.type != note_type_cosignature_v1) continue;  // a log's key is no witness
    const bool signed_by_name =
        std::any_of(note.signatures.begin(), note.signatures.end(),
                    [&](const NoteSignature& signature) { return signature.name == witness.name; });
    if (!signed_by_name) continue;
    Result<uint64_t> verified = VerifyNoteSignature(note, witness);
    if (verified.ok()) {
      ++count.verified;
      count.names.push_back(witness.name);
    } else if (count.problem.empty()) {
      count.problem = verified.status().message();
    }
  }
  return count;
}

Status CheckCosignatures(const SignedNote& note, const std::vector<NoteVerifier>& witnesses,
                         size_t required) {
  const CosignatureCount count = CountCosignatures(note, witnesses);
  if (count.verified >= required) return Status::Ok();
  std::string message = "the checkpoint carries " + std::to_string(count.verified) + " of the " +
                        std::to_string(required) + " witness cosignatures required";
  if (!count.problem.empty()) message += " (" + count.problem + ")";
  return Status::Corruption(message);
}

}  // namespace malpro
