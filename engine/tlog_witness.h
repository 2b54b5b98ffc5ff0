// Witnesses (docs/transparency.md, section 8): C2SP tlog-witness and tlog-cosignature.
//
// A witness cosigns a log's checkpoint only after checking that it is consistent with the
// latest checkpoint of that log it cosigned before, so that a log cannot show two histories
// to two people without one of them holding a checkpoint no witness would cosign. Its
// cosignature ("cosignature/v1", signature type 0x04) is a note signature line that anyone may
// add to the checkpoint; a checker that requires N cosignatures of the witnesses it trusts
// trusts a checkpoint only with them.
//
// This file holds the witness itself (the check, the cosignature and its durable state, over
// the request body of C2SP's add-checkpoint), the request a log sends, and the check of a
// note's cosignatures. HTTP lives in adapters/http/witness_handler.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hash.h"
#include "engine/result.h"
#include "engine/signed_note.h"

namespace rocksdb {
class DB;
}

namespace malpro {

// C2SP tlog-witness: a client sends at most 63 consistency proof lines.
inline constexpr size_t witness_proof_lines_max = 63;
// Logs one witness knows at most, and keys per log.
inline constexpr size_t witness_logs_max = 64;
// An add-checkpoint request body's bytes at most (a checkpoint note is at most note_bytes_max).
inline constexpr size_t witness_request_bytes_max = note_bytes_max + 8 * 1024;

// A log a witness cosigns for: its origin and the keys its checkpoints are signed with.
struct WitnessLog {
  std::string origin;
  std::vector<NoteVerifier> keys;
};

enum class WitnessVerdict {
  kCosigned,       // 200: cosignatures holds the witness's signature line
  kMalformed,      // 400: the body is not old size, proof lines, empty line, checkpoint
  kUnknownOrigin,  // 404
  kUntrusted,      // 403: no signature by a key of the log verifies
  kSizeConflict,   // 409: the old size is not the latest cosigned size (latest_size)
  kRootConflict,   // 409: the same size with another root than the one cosigned
  kProofInvalid,   // 422: the consistency proof does not verify
  kFailed,         // 500: the state could not be kept (nothing cosigned)
};

struct WitnessAnswer {
  WitnessVerdict verdict = WitnessVerdict::kFailed;
  std::string cosignatures;  // kCosigned: "— name base64\n"
  uint64_t latest_size = 0;  // kSizeConflict: the size of the latest cosigned checkpoint
  std::string message;       // otherwise: why, naming the rule
};

// Threading: every method may be called from any thread; AddCheckpoint checks and keeps a
// log's latest checkpoint atomically (two requests for one log are answered one after the
// other, so a smaller checkpoint can never replace a larger one).
class Witness {
 public:
  // `cosigner`: a signer of type note_type_cosignature_v1. `state_dir`: a RocksDB directory
  // that holds the latest checkpoint cosigned per origin (created when missing).
  static Result<std::unique_ptr<Witness>> Open(NoteSigner cosigner, std::vector<WitnessLog> logs,
                                               const std::string& state_dir);
  ~Witness();
  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;

  // Answers a C2SP add-checkpoint request `body`, cosigning at `now_s` (POSIX seconds).
  WitnessAnswer AddCheckpoint(std::string_view body, uint64_t now_s);
  const NoteVerifier& verifier() const { return cosigner_.verifier(); }
  // The latest checkpoint cosigned for `origin`, if any.
  std::optional<Checkpoint> Latest(std::string_view origin) const;

 private:
  Witness(NoteSigner cosigner, std::vector<WitnessLog> logs);
  WitnessAnswer Check(const WitnessLog& log, uint64_t old_size, const std::vector<Hash>& proof,
                      const Checkpoint& checkpoint) const;

  NoteSigner cosigner_;
  std::vector<WitnessLog> logs_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mutex_;
  std::map<std::string, Checkpoint, std::less<>> latest_;  // by origin
};

// The body of an add-checkpoint request: "old N\n", the proof's hashes in base64 a line each,
// an empty line, and the signed checkpoint note.
std::string AddCheckpointBody(uint64_t old_size, const std::vector<Hash>& proof,
                              std::string_view note);

// What a note's cosignatures showed against the witnesses a checker trusts (cosigner keys;
// a key of another type is passed over).
struct CosignatureCount {
  size_t verified = 0;             // witnesses whose cosignature verifies
  std::vector<std::string> names;  // their names
  std::string problem;             // the first cosignature by a trusted name that failed
};
CosignatureCount CountCosignatures(const SignedNote& note,
                                   const std::vector<NoteVerifier>& witnesses);
// Ok when at least `required` of `witnesses` cosigned `note`; Corruption naming how many did.
Status CheckCosignatures(const SignedNote& note, const std::vector<NoteVerifier>& witnesses,
                         size_t required);

}  // namespace malpro
