// `malpro audit export`: events as JSON Lines (docs/event-log-format.md, section 9), with the
// hash chain checked as they are written, so that what the command reports is true of the file.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>

#include "engine/envelope.h"
#include "engine/event_log.h"
#include "engine/result.h"

namespace malpro {

// Checks events as they go past, in order of sequence: each has the sequence after the one
// before, its previous hash is that event's hash, and its hash is SHA-256(previous hash ||
// its canonical bytes) (docs/event-log-format.md, section 5). Records the first problem; the
// events after it are not checked.
class ChainCheck {
 public:
  // `anchor`: the verified event before the first one to come ({0, zero_hash}: from event 1).
  explicit ChainCheck(const ChainHead& anchor);
  // Starts out failed: the chain before the first event to come does not verify.
  explicit ChainCheck(VerifyReport failed_before);

  void Take(const Event& event);
  // ok, the events checked (not counting the anchor's), the last that verified, and the first
  // problem.
  const VerifyReport& report() const { return report_; }

 private:
  VerifyReport report_;
};

struct ExportReport {
  uint64_t first_sequence = 0;  // of the range asked for (at least 1)
  uint64_t last_sequence = 0;   // of the range asked for, at most the head
  uint64_t written = 0;         // events written
  // The chain from event 1 through the last event written: the events before the range are
  // verified by EventLog::Verify, those written by ChainCheck.
  VerifyReport chain;
};

// Writes the events `from`..`to` (0: the head) of `log` to `out`, one JSON line each, checking
// the chain from event 1 as it goes. A chain that does not verify is reported in `chain`, not
// as an error: every event read is still written (the file is the evidence). Errors: the log
// cannot be read (e.g. an envelope does not decode). `progress` is called with the last
// sequence written after each batch.
Result<ExportReport> ExportEvents(const EventLog& log, uint64_t from, uint64_t to,
                                  std::ostream& out,
                                  const std::function<void(uint64_t)>& progress = {});

}  // namespace malpro
