// Reading the events topic back, for auditors: every record of every partition, and a check
// of the hash chain from the records alone (`malpro audit verify --kafka`), without the data
// directory. docs/kafka-records.md says what a record holds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "adapters/kafka/kafka_options.h"
#include "engine/event_log.h"
#include "engine/result.h"
#include "engine/signed_note.h"

namespace malpro {

struct TopicRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Every record of `topic`, grouped by partition in offset order (each partition from offset 0
// to its high watermark). Unavailable when the topic cannot be read within timeout_ms, or when
// retention has dropped its first records; with `what_is_left`, each partition is read from
// its first record still kept instead (`*trimmed` says whether any was dropped).
Result<std::vector<TopicRecord>> ReadWholeTopic(const std::string& brokers,
                                                const KafkaOptions& options,
                                                const std::string& topic, int timeout_ms,
                                                bool what_is_left = false, bool* trimmed = nullptr);

// Checks relayed events as an auditor would: each record's value is an event whose hash is
// SHA-256(previous_hash || canonical bytes), whose headers agree with it, whose key is its
// stream; the sequences are 1..N, each exactly once; each links to the one before it; and
// within a partition a stream's events come in order. `report.problem` names the first
// failure (ok = false); an empty topic verifies with 0 events.
VerifyReport VerifyTopicRecords(const std::vector<TopicRecord>& records);

// The chain of the events of a topic that retention may have trimmed: from `first`, the first
// sequence from which no event is missing (1, or the largest first sequence of a partition
// whose first record kept is not at offset 0),
// each record checked as VerifyTopicRecords does and linked to the one before (the first's
// previous hash is taken as it stands). `hashes` are the events' hashes from `first` on.
struct TopicChain {
  VerifyReport report;
  uint64_t first = 1;
  std::vector<Hash> hashes;
  uint64_t epoch = 1;  // the highest writer epoch of its events (docs/replication.md)
};
TopicChain VerifyTopicSuffix(const std::vector<TopicRecord>& records);

// What the signed checkpoints on `<prefix>.checkpoints` say of a topic's chain
// (docs/transparency.md, section 7).
struct TopicCheckpointReport {
  bool ok = true;
  std::string problem;
  uint64_t from_size = 0;  // the checkpoint whose frontier was grown (0: from the empty tree)
  uint64_t to_size = 0;    // the checkpoint whose root the grown tree matched (0: none usable)
  size_t checkpoints = 0;  // records read that verified
  size_t fenced = 0;       // checkpoints of a fenced writer, passed over
};
// Each record of `checkpoint_records` must be a checkpoint of `origin` signed by `verifier`,
// keyed by its size, with the `frontier` header of the tree at that size. Picks the smallest
// size S0 >= chain.first - 1 (or 0 when the chain starts at 1) whose frontier folds to its
// signed root, grows it with the chain's leaves up to the largest checkpoint size S1 the chain
// holds, and compares the root at every checkpoint's size with its signed one. A checkpoint of
// an epoch below the chain's whose root differs is a fenced writer's and is passed over
// (`fenced`); of two checkpoints of one size, the higher epoch's counts. to_size: the largest
// that matched (0, and ok, when none could be compared).
TopicCheckpointReport CheckTopicAgainstCheckpoints(
    const TopicChain& chain, const std::vector<TopicRecord>& checkpoint_records,
    const NoteVerifier& verifier, std::string_view origin);

}  // namespace malpro
