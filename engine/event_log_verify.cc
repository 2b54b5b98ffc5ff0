// Verify: the recomputation of the hash chain over a range of the log
// (docs/event-log-format.md, section 5).
#include <algorithm>
#include <array>
#include <future>

#include "engine/event_log_internal.h"

namespace malpro {
namespace {

constexpr uint64_t kVerifyProgressEvery = 65536;
// Verify reads this many events at a time, checking their order, layout and links in order,
// and recomputes their hashes on a second thread while it reads the next ones (each event's
// hash depends only on what is stored with it).
constexpr size_t kVerifyChunkEvents = 8192;
// A last chunk smaller than this is hashed on the reading thread alone.
constexpr size_t kVerifyParallelEventsMin = 512;
// Read-ahead of Verify's scan of the events.
constexpr size_t kVerifyReadaheadBytes = 4 * 1024 * 1024;

// An event Verify has read whose hash is yet to be recomputed.
struct HashCheck {
  size_t offset = 0;  // of its canonical encoding, in the chunk's bytes
  size_t canonical_bytes = 0;
  Hash previous;
  Hash stored;
};

// The first of checks[begin, end) whose recomputed hash differs from the stored one, or end.
size_t FirstBadHash(const std::string& bytes, const std::vector<HashCheck>& checks, size_t begin,
                    size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const HashCheck& check = checks[i];
    const std::string_view canonical(bytes.data() + check.offset, check.canonical_bytes);
    if (ComputeEventHash(check.previous, canonical) != check.stored) return i;
  }
  return end;
}

// The first thing wrong with the chain: where, and what.
struct Problem {
  uint64_t sequence = 0;
  std::string what;
};

// What is wrong with the envelope `stored` under sequence `expected` before its hashes are
// looked at: its frame, version, layout and sequence. Sets *canonical to its canonical bytes.
std::optional<std::string> EnvelopeProblem(std::string_view stored, uint64_t expected,
                                           std::string_view* canonical) {
  Result<std::string_view> part = CanonicalPart(stored);
  if (!part.ok()) return "the envelope's layout is broken (lengths or format version)";
  *canonical = *part;
  const uint8_t version = EnvelopeVersion(*canonical);
  if (!IsKnownEnvelopeVersion(version)) {
    return "unknown envelope format version " + std::to_string(version);
  }
  if (!IsWellFormedCanonical(*canonical)) {
    return "the envelope's layout is broken (lengths or format version)";
  }
  if (EnvelopeSequence(*canonical) != expected) {
    return "the envelope holds sequence " + std::to_string(EnvelopeSequence(*canonical)) +
           ", not the sequence it is stored under";
  }
  return std::nullopt;
}

// Walks the events from where `it` stands, expected to be `from` on, up to `to`, in chunks:
// the reading thread checks each event's key, envelope and link to the one before, and the
// hashes of a chunk are recomputed on a second thread while the next chunk is read. Records
// what verified in the report.
class ChainWalk {
 public:
  ChainWalk(rocksdb::Iterator& it, uint64_t from, uint64_t to, const Hash& anchor,
            const std::function<void(uint64_t)>& progress, VerifyReport* report)
      : it_(it),
        to_(to),
        expected_(from),
        previous_(anchor),
        progress_(progress),
        report_(*report) {}

  // The first problem, if any: a bad hash before anything met later, then what reading met.
  std::optional<Problem> Run();
  // The sequence after the last event read.
  uint64_t expected() const { return expected_; }

 private:
  // Two chunks: one is hashed on a second thread while the next is read.
  struct Chunk {
    uint64_t first = 0;
    std::string bytes;
    std::vector<HashCheck> checks;
  };

  void ReadChunk(Chunk& chunk);
  // Checks the event where `it_` stands; false (with broken_ set) when it is bad.
  bool TakeEvent(Chunk& chunk);
  // Takes the result of hashing `chunk`: the verified part counts, and a bad hash is the
  // problem to report (it precedes anything met later).
  std::optional<Problem> Account(const Chunk& chunk, size_t bad);
  // The first bad hash of the last chunk, hashed here, half on a second thread.
  static size_t HashLastChunk(const Chunk& chunk);

  rocksdb::Iterator& it_;
  const uint64_t to_;
  uint64_t expected_;
  Hash previous_;
  const std::function<void(uint64_t)>& progress_;
  VerifyReport& report_;
  std::array<Chunk, 2> chunks_;
  std::optional<Problem> broken_;  // the first problem met reading
};

std::optional<Problem> ChainWalk::Run() {
  size_t current = 0;
  std::future<size_t> hashing;  // of the other chunk, when valid
  while (true) {
    // Read a chunk: everything but the hashes is checked in order here.
    Chunk& chunk = chunks_[current];
    ReadChunk(chunk);
    if (hashing.valid()) {
      if (auto failed = Account(chunks_[1 - current], hashing.get())) return failed;
    }
    const bool last = broken_ || !it_.Valid() || expected_ > to_;
    if (!last) {
      hashing = std::async(std::launch::async, FirstBadHash, std::cref(chunk.bytes),
                           std::cref(chunk.checks), size_t{0}, chunk.checks.size());
      current = 1 - current;
      continue;
    }
    if (auto failed = Account(chunk, HashLastChunk(chunk))) return failed;
    return std::move(broken_);
  }
}

void ChainWalk::ReadChunk(Chunk& chunk) {
  chunk.first = expected_;
  chunk.bytes.clear();
  chunk.checks.clear();
  for (; it_.Valid() && expected_ <= to_ && chunk.checks.size() < kVerifyChunkEvents;
       it_.Next(), ++expected_) {
    if (!TakeEvent(chunk)) break;
  }
}

bool ChainWalk::TakeEvent(Chunk& chunk) {
  uint64_t key_sequence = 0;
  if (!ParseSequenceKey(it_.key().ToStringView(), &key_sequence)) {
    broken_ = Problem{expected_, "a key that is not an 8-byte sequence follows"};
    return false;
  }
  if (key_sequence != expected_) {
    broken_ =
        Problem{expected_, "event " + std::to_string(expected_) + " is missing (next stored is " +
                               std::to_string(key_sequence) + ")"};
    return false;
  }
  const std::string_view stored = it_.value().ToStringView();
  std::string_view canonical;
  if (std::optional<std::string> problem = EnvelopeProblem(stored, expected_, &canonical)) {
    broken_ = Problem{expected_, std::move(*problem)};
    return false;
  }
  HashCheck check;
  std::copy_n(StoredPreviousHash(stored).begin(), hash_bytes, check.previous.begin());
  std::copy_n(StoredHash(stored).begin(), hash_bytes, check.stored.begin());
  if (check.previous != previous_) {
    broken_ = Problem{expected_, "previous hash does not match the hash of event " +
                                     std::to_string(expected_ - 1)};
    return false;
  }
  check.offset = chunk.bytes.size();
  check.canonical_bytes = canonical.size();
  chunk.bytes.append(canonical);
  previous_ = check.stored;
  chunk.checks.push_back(check);
  return true;
}

std::optional<Problem> ChainWalk::Account(const Chunk& chunk, size_t bad) {
  if (bad > 0) {
    report_.verified_head = {chunk.first + bad - 1, chunk.checks[bad - 1].stored};
    report_.events_checked += bad;
  }
  if (progress_) {
    const uint64_t verified_to = chunk.first + bad;  // exclusive
    for (uint64_t at =
             (chunk.first + kVerifyProgressEvery - 1) / kVerifyProgressEvery * kVerifyProgressEvery;
         at < verified_to; at += kVerifyProgressEvery) {
      progress_(at);
    }
  }
  if (bad < chunk.checks.size()) {
    return Problem{chunk.first + bad, "content does not match its hash (the event was altered)"};
  }
  return std::nullopt;
}

size_t ChainWalk::HashLastChunk(const Chunk& chunk) {
  if (chunk.checks.size() < kVerifyParallelEventsMin) {
    return FirstBadHash(chunk.bytes, chunk.checks, 0, chunk.checks.size());
  }
  const size_t half = chunk.checks.size() / 2;
  std::future<size_t> second = std::async(std::launch::async, FirstBadHash, std::cref(chunk.bytes),
                                          std::cref(chunk.checks), half, chunk.checks.size());
  const size_t bad = FirstBadHash(chunk.bytes, chunk.checks, 0, half);
  const size_t bad_in_second = second.get();
  return bad == half ? bad_in_second : bad;
}

}  // namespace

Result<VerifyReport> EventLog::Verify(uint64_t from, uint64_t to,
                                      const std::function<void(uint64_t)>& progress) const {
  from = std::max<uint64_t>(from, 1);
  if (to == 0) to = Head().sequence;
  VerifyReport report;
  Hash previous = zero_hash;
  if (from > 1 && !ReadAnchor(from - 1, &previous)) {
    return VerifyFailure(report, from - 1,
                         "the anchor event before the range is missing or truncated");
  }
  report.verified_head = {from - 1, previous};
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;
  read_options.readahead_size = kVerifyReadaheadBytes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, columns_->events));
  it->Seek(SequenceKey(from));
  ChainWalk walk(*it, from, to, previous, progress, &report);
  if (std::optional<Problem> problem = walk.Run()) {
    return VerifyFailure(std::move(report), problem->sequence, std::move(problem->what));
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(it->status(), "verify"));
  const uint64_t expected = walk.expected();
  if (expected <= to) {
    return VerifyFailure(std::move(report), expected,
                         "event " + std::to_string(expected) + " is missing (the log ends at " +
                             std::to_string(expected - 1) + ")");
  }
  return VerifyAfterHead(*it, to, std::move(report));
}

bool EventLog::ReadAnchor(uint64_t sequence, Hash* anchor) const {
  std::string stored;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), columns_->events, SequenceKey(sequence), &stored);
  if (!status.ok() || stored.size() < envelope_hashes_bytes) return false;
  std::copy_n(StoredHash(stored).begin(), hash_bytes, anchor->begin());
  return true;
}

Result<VerifyReport> EventLog::VerifyAfterHead(rocksdb::Iterator& it, uint64_t to,
                                               VerifyReport report) const {
  const ChainHead head = Head();
  if (to != head.sequence) return report;
  // The whole chain up to the recorded head: the head record must agree with it, and
  // nothing may follow it.
  if (head_missing_)
    return VerifyFailure(std::move(report), to, "the chain head record is missing");
  if (report.verified_head.hash != head.hash) {
    return VerifyFailure(std::move(report), to,
                         "the last event's hash differs from the chain head record");
  }
  // What the writer has written and the syncer not yet synced may follow the durable
  // head; anything beyond that does not belong there.
  const uint64_t written = written_sequence_.load();  // 0 when no writer runs
  if (it.Valid() && written <= to) {
    // A group cut short by a crash while written in parts: its events follow the head, and
    // a record says where the group began. Anything else there does not belong.
    Result<std::optional<uint64_t>> unfinished = UnfinishedGroup();
    if (!unfinished.ok()) return unfinished.status();
    if (*unfinished != to + 1) {
      return VerifyFailure(std::move(report), to + 1,
                           "events are stored after the chain head record");
    }
    Result<uint64_t> count = CheckUnfinishedEvents();
    if (!count.ok()) return VerifyFailure(std::move(report), to + 1, count.status().message());
    report.unfinished_events = *count;
    return report;
  }
  if (it.Valid()) {
    it.Seek(SequenceKey(written + 1));
    if (it.Valid()) {
      return VerifyFailure(std::move(report), written + 1,
                           "events are stored after the last group written");
    }
    MALPRO_RETURN_IF_ERROR(FromRocks(it.status(), "verify"));
  }
  return report;
}

VerifyReport VerifyFailure(VerifyReport report, uint64_t sequence, std::string problem) {
  report.ok = false;
  report.first_bad_sequence = sequence;
  report.problem = std::move(problem);
  return report;
}

}  // namespace malpro
