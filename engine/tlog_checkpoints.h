// Signed checkpoints of the Merkle tree (docs/transparency.md, "Checkpoints"): C2SP
// tlog-checkpoint notes over the origin, a tree size and its root, signed with the log's
// Ed25519 key, and kept in the tree's store (TlogStore::PutCheckpoint).
//
// The issuer signs one:
// - every `interval` while the tree grows ("interval");
// - when asked for a size, as soon as the tree holds it ("settlement 2026-12-02" after a day's
//   close);
// - at every month's end: the tree of the events recorded before 00:00 WIB on the 1st
//   ("month-end 2026-11"), found in the log by the events' recorded times, which never go
//   back. Month ends already in the log when it starts are issued then;
// - at every multiple of checkpoint_stride events ("stride"), history included.
//
// Threading: Start() runs it on its own thread; Latest(), Request() and WaitFor() may be called
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/event_log.h"
#include "engine/identifiers.h"
#include "engine/signed_note.h"
#include "engine/tlog_store.h"

namespace malpro {

// The kinds of reasons a checkpoint is issued for (a reason's first word).
inline constexpr char checkpoint_reason_interval[] = "interval";
inline constexpr char checkpoint_reason_settlement[] = "settlement";
inline constexpr char checkpoint_reason_month_end[] = "month-end";
inline constexpr char checkpoint_reason_stride[] = "stride";
// A checkpoint of every multiple of this many events ("stride"), so that any twice as many
// consecutive events (a topic that retention has trimmed) can be checked against two of them
// (docs/transparency.md, section 7).
inline constexpr uint64_t checkpoint_stride = 1024;

struct CheckpointOptions {
  // The log's identity, the checkpoint's first line: a schema-less URL without spaces or '+'.
  std::string origin;
  std::chrono::milliseconds interval{5000};
  // Now, in UTC microseconds (issued_at_us).
  std::function<int64_t()> clock;
  // When set: asked, on the issuer's thread, for the cosignatures of a new checkpoint that is
  // the largest yet (witnesses cosign only forward), with its signed note; answers the note
  // with whatever cosignature lines it got appended (the note unchanged when none). Kept so.
  // Asked again each interval for the latest one while the tree does not grow.
  std::function<std::string(const std::string& note, uint64_t size)> cosign;
};

// InvalidArgument checkpoint_origin_invalid naming `field` unless `origin` is 1 to 255 bytes of
// printable ASCII without spaces or '+'.
Status CheckCheckpointOrigin(std::string_view origin, std::string_view field);

class CheckpointIssuer {
 public:
  // `log` and `store` must outlive the issuer.
  CheckpointIssuer(const EventLog* log, TlogStore* store, NoteSigner signer,
                   CheckpointOptions options);
  ~CheckpointIssuer() { Stop(); }
  CheckpointIssuer(const CheckpointIssuer&) = delete;
  CheckpointIssuer& operator=(const CheckpointIssuer&) = delete;

  // Loads the latest checkpoint and issues those of the month ends the tree holds, on the
  // caller's thread. Corruption when the kept latest checkpoint is not the tree's (its root or
  // origin differs: the log or the tree was altered, or the key or origin changed).
  Status CatchUp();
  void Start();
  void Stop();

  // Called on the issuer's thread after each checkpoint is kept (set before Start()).
  void OnIssued(std::function<void(const StoredCheckpoint&)> on_issued) {
    on_issued_ = std::move(on_issued);
  }
  // A checkpoint of the first `size` events for `reason`, issued as soon as the tree holds them.
  void Request(uint64_t size, std::string reason);
  // The checkpoint of the largest size kept, if any.
  std::optional<StoredCheckpoint> Latest() const;
  // Blocks until a checkpoint of at least `size` is kept, or the timeout passes.
  bool WaitFor(uint64_t size, std::chrono::milliseconds timeout) const;
  // Ok, or why the thread stopped.
  Status Health() const;
  const NoteVerifier& verifier() const { return signer_.verifier(); }
  const std::string& origin() const { return options_.origin; }

  // Keeps the checkpoint of the first `size` leaves for `reason` (added to the reasons of one
  // kept for that size before). The tree must hold `size` leaves.
  Status Issue(uint64_t size, const std::string& reason);

 private:
  struct Month {
    int year = 0;
    int month = 0;
    bool operator==(const Month&) const = default;
  };
  Result<Month> MonthOf(uint64_t sequence) const;
  // Issues the month ends between the last one looked for and the tree's size now.
  Status IssueMonthEnds();
  // Issues the strides up to the tree's size now.
  Status IssueStrides();
  // Asks options_.cosign again for the latest checkpoint (a witness that was down may answer
  // now) and keeps it with the cosignatures it gained.
  Status Recosign(const StoredCheckpoint& latest);
  // One pass: requests the tree now holds, month ends, and the interval's checkpoint (or, with
  // no growth, the latest one's missing cosignatures).
  Status Step(bool interval_due);
  void Loop();

  const EventLog* log_;
  TlogStore* store_;
  NoteSigner signer_;
  CheckpointOptions options_;
  std::function<void(const StoredCheckpoint&)> on_issued_;
  // The month of event `month_scanned_` (0: none looked at yet).
  uint64_t month_scanned_ = 0;
  Month month_{};
  uint64_t stride_issued_ = 0;  // the largest stride size issued (or found kept)

  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::pair<uint64_t, std::string>> requests_;
  std::optional<StoredCheckpoint> latest_;
  Status failure_;
};

// What VerifyCheckpoints found.
struct CheckpointsReport {
  bool ok = true;
  uint64_t checked = 0;      // checkpoints whose root was compared
  uint64_t beyond_tree = 0;  // kept for sizes the tree does not hold yet (not compared)
  uint64_t latest_size = 0;  // the largest size checked
  std::string problem;       // the first problem, when not ok
};

// Every checkpoint kept in `store` (whose tiles VerifyTlog compared with the log): its note is a
// checkpoint of `origin` whose root is the tree's root of its size and, with a `verifier`, a
// signature by that key verifies. Errors only for what stops the check.
Result<CheckpointsReport> VerifyCheckpoints(const TlogStore& store, std::string_view origin,
                                            const NoteVerifier* verifier);

}  // namespace malpro
