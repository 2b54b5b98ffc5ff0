// `malpro audit export`: the events as JSON Lines, the chain checked as they are written.
#include "adapters/cli/audit_export.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

// The chain from event 1 up to the event before `from`: where the export's check starts.
Result<VerifyReport> VerifyBefore(const EventLog& log, uint64_t from) {
  if (from <= 1) return VerifyReport{};
  return log.Verify(1, from - 1);
}

}  // namespace

ChainCheck::ChainCheck(const ChainHead& anchor) { report_.verified_head = anchor; }

ChainCheck::ChainCheck(VerifyReport failed_before) : report_(std::move(failed_before)) {}

void ChainCheck::Take(const Event& event) {
  if (!report_.ok) return;
  const ChainHead& before = report_.verified_head;
  const uint64_t expected = before.sequence + 1;
  if (event.sequence != expected) {
    report_ = VerifyFailure(std::move(report_), expected,
                            "event " + std::to_string(expected) + " is missing (next read is " +
                                std::to_string(event.sequence) + ")");
    return;
  }
  if (event.previous_hash != before.hash) {
    report_ = VerifyFailure(
        std::move(report_), event.sequence,
        "previous hash does not match the hash of event " + std::to_string(before.sequence));
    return;
  }
  if (ComputeEventHash(event.previous_hash, EncodeCanonical(event)) != event.hash) {
    report_ = VerifyFailure(std::move(report_), event.sequence,
                            "content does not match its hash (the event was altered)");
    return;
  }
  ++report_.events_checked;
  report_.verified_head = ChainHead{event.sequence, event.hash};
}

Result<ExportReport> ExportEvents(const EventLog& log, uint64_t from, uint64_t to,
                                  std::ostream& out,
                                  const std::function<void(uint64_t)>& progress) {
  ExportReport report;
  report.first_sequence = std::max<uint64_t>(from, 1);
  const uint64_t head = log.Head().sequence;
  report.last_sequence = to == 0 ? head : std::min(to, head);
  Result<VerifyReport> before = VerifyBefore(log, report.first_sequence);
  if (!before.ok()) return before.status();
  ChainCheck check = before->ok ? ChainCheck(before->verified_head) : ChainCheck(*before);
  const uint64_t checked_before = before->events_checked;
  std::unique_ptr<EventLog::Scanner> scanner = log.Scan(report.first_sequence);
  std::vector<Event> events;
  JsonWriter writer;
  bool done = report.first_sequence > report.last_sequence;
  while (!done) {
    MALPRO_RETURN_IF_ERROR(scanner->ReadInto(read_events_max, &events));
    done = events.empty();
    for (const Event& event : events) {
      if (event.sequence > report.last_sequence) {
        done = true;
        break;
      }
      check.Take(event);
      WriteEventJson(writer, event, PayloadForm::kString);
      out << writer.Take() << "\n";
      ++report.written;
    }
    if (progress && !events.empty()) progress(report.first_sequence + report.written - 1);
  }
  report.chain = check.report();
  if (report.chain.ok && report.chain.verified_head.sequence < report.last_sequence) {
    // The scan ended early: an event of the range was not there to read.
    report.chain =
        VerifyFailure(std::move(report.chain), report.chain.verified_head.sequence + 1,
                      "event " + std::to_string(report.chain.verified_head.sequence + 1) +
                          " is missing (the log ends at " +
                          std::to_string(report.chain.verified_head.sequence) + ")");
  }
  if (report.chain.ok) report.chain.events_checked += checked_before;
  return report;
}

}  // namespace malpro
