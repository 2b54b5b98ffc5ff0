// Proofs against signed checkpoints (docs/transparency.md, section 6), checked offline with
// nothing but the proof and the log's verifier key:
//
// - an inclusion proof bundle: that some events (one, or all of an order's, or a receipt's)
//   are in the log a checkpoint signs. With one event it is exactly a C2SP tlog-proof whose
//   extra data is the event's hash; with several, one `index` line each and the multi-leaf
//   proof of MultiInclusionProof.
//
//     c2sp.org/tlog-proof@v1
//     extra <base64 of the events' 32-byte hashes, in index order>
//     index <leaf index = sequence - 1>          (one line per event)
//     <base64 proof hash>                        (zero or more)
//     <empty line>
//     <the signed checkpoint, verbatim>
//
// - a consistency proof bundle: that the log a newer checkpoint signs extends the one an older
//   checkpoint signs (RFC 9162 consistency proof).
//
//     malpro.tlog-consistency@v1
//     <base64 proof hash>                        (zero or more)
//     <empty line>
//     <the older signed checkpoint, verbatim>
//     <the newer signed checkpoint, verbatim>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event_log.h"
#include "engine/signed_note.h"
#include "engine/tlog_store.h"

namespace malpro {

inline constexpr char proof_bundle_header[] = "c2sp.org/tlog-proof@v1";
inline constexpr char consistency_bundle_header[] = "malpro.tlog-consistency@v1";
// Events in one inclusion bundle at most (an order has a handful).
inline constexpr size_t proof_events_max = 64;

struct InclusionBundle {
  std::vector<uint64_t> indices;   // leaf indices (event sequence - 1), increasing
  std::vector<Hash> event_hashes;  // one per index
  std::vector<Hash> proof;
  std::string checkpoint;  // the signed note
};
std::string InclusionBundleText(const InclusionBundle& bundle);

struct ConsistencyBundle {
  std::vector<Hash> proof;
  std::string old_checkpoint;
  std::string new_checkpoint;
};
std::string ConsistencyBundleText(const ConsistencyBundle& bundle);

// The two kinds of line C2SP's tlog texts are made of (proof bundles, add-checkpoint bodies):
// a decimal without leading zeros (at most 19 digits), and one hash in canonical base64.
std::optional<uint64_t> ParseDecimal(std::string_view text);
std::optional<Hash> ParseHashLine(std::string_view line);

// Either kind, parsed; InvalidArgument proof_invalid naming `field` (and the line) otherwise.
struct ParsedProof {
  bool consistency = false;
  InclusionBundle inclusion;
  ConsistencyBundle consistency_bundle;
};
Result<ParsedProof> ParseProofBundle(std::string_view text, std::string_view field);

// The bundle for the events `sequences` (increasing, 1 to proof_events_max of them) against
// `checkpoint`, a kept checkpoint of `store` whose size covers them. InvalidArgument
// proof_range_invalid when it does not.
Result<InclusionBundle> MakeInclusionBundle(const EventLog& log, const TlogStore& store,
                                            const std::vector<uint64_t>& sequences,
                                            const StoredCheckpoint& checkpoint);
// The bundle showing that kept checkpoint `newer` extends kept checkpoint `older`.
Result<ConsistencyBundle> MakeConsistencyBundle(const TlogStore& store,
                                                const StoredCheckpoint& older,
                                                const StoredCheckpoint& newer);

// What a checked bundle showed.
struct ProofVerdict {
  Checkpoint checkpoint;            // the (newer) checkpoint
  Checkpoint old_checkpoint;        // consistency bundles: the older one
  std::vector<uint64_t> sequences;  // inclusion bundles: the events shown
  std::vector<Hash> event_hashes;
};
// Checks a bundle offline: each checkpoint's note is signed by `verifier`, is of `origin`
// (when not empty), and the proof gives its root. Corruption saying what fails.
Result<ProofVerdict> CheckProof(const ParsedProof& proof, const NoteVerifier& verifier,
                                std::string_view origin);

}  // namespace malpro
