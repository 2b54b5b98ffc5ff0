#include "engine/tlog_checkpoints.h"

#include <algorithm>
#include <cstdio>

#include "engine/civil_time.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

// While a requested checkpoint waits for the tree to hold its size, how often to look again.
constexpr std::chrono::milliseconds checkpoint_request_poll{50};
// Kept checkpoints read at a time by VerifyCheckpoints.
constexpr size_t checkpoints_verify_page = 1024;

}  // namespace

Status CheckCheckpointOrigin(std::string_view origin, std::string_view field) {
  const bool printable = std::all_of(origin.begin(), origin.end(),
                                     [](char c) { return c > ' ' && c < 0x7f && c != '+'; });
  if (origin.empty() || origin.size() > 255 || !printable) {
    return Status::InvalidArgument(errc::kCheckpointOriginInvalid, field,
                                   "must be 1 to 255 printable ASCII characters without spaces "
                                   "or '+', such as malangkota.go.id/malpro");
  }
  return Status::Ok();
}

CheckpointIssuer::CheckpointIssuer(const EventLog* log, TlogStore* store, NoteSigner signer,
                                   CheckpointOptions options)
    : log_(log), store_(store), signer_(std::move(signer)), options_(std::move(options)) {
  if (!options_.clock) options_.clock = WallClockMicros;
}

Status CheckpointIssuer::Issue(uint64_t size, const std::string& reason) {
  Result<std::optional<StoredCheckpoint>> kept = store_->CheckpointAt(size);
  if (!kept.ok()) return kept.status();
  StoredCheckpoint checkpoint;
  if (kept->has_value()) {
    checkpoint = std::move(**kept);
    if (std::find(checkpoint.reasons.begin(), checkpoint.reasons.end(), reason) !=
        checkpoint.reasons.end()) {
      return Status::Ok();  // issued for this before
    }
  } else {
    Result<Hash> root = store_->Root(size);
    if (!root.ok()) return root.status();
    Result<std::string> note = signer_.Sign(CheckpointText({options_.origin, size, *root, {}}));
    if (!note.ok()) return note.status();
    checkpoint.size = size;
    checkpoint.issued_at_us = options_.clock();
    checkpoint.note = std::move(note).value();
    if (options_.cosign) {
      std::unique_lock lock(mutex_);
      const bool largest = !latest_ || latest_->size < size;
      lock.unlock();
      if (largest) checkpoint.note = options_.cosign(checkpoint.note, size);
    }
  }
  checkpoint.reasons.push_back(reason);
  MALPRO_RETURN_IF_ERROR(store_->PutCheckpoint(checkpoint));
  {
    std::lock_guard lock(mutex_);
    if (!latest_ || latest_->size <= size) latest_ = checkpoint;
  }
  changed_.notify_all();
  if (on_issued_) on_issued_(checkpoint);
  return Status::Ok();
}

Result<CheckpointIssuer::Month> CheckpointIssuer::MonthOf(uint64_t sequence) const {
  Result<std::vector<Event>> events = log_->Read(sequence, 1);
  if (!events.ok()) return events.status();
  if (events->empty()) {
    return Status::Corruption("event " + std::to_string(sequence) + " is missing from the log");
  }
  const CivilDate date = JakartaDate(events->front().recorded_at_us);
  return Month{date.year, date.month};
}

Status CheckpointIssuer::IssueMonthEnds() {
  const uint64_t size = store_->Size();
  if (size == 0 || size <= month_scanned_) return Status::Ok();
  if (month_scanned_ == 0) {
    Result<Month> first = MonthOf(1);
    if (!first.ok()) return first.status();
    month_ = *first;
    month_scanned_ = 1;
  }
  for (;;) {
    Result<Month> last = MonthOf(size);
    if (!last.ok()) return last.status();
    if (*last == month_) break;
    // The first event after month_scanned_ recorded in a later month: recorded times never
    // go back, so the months of events 1..size are in order.
    uint64_t low = month_scanned_ + 1;
    uint64_t high = size;
    while (low < high) {
      const uint64_t middle = low + (high - low) / 2;
      Result<Month> month = MonthOf(middle);
      if (!month.ok()) return month.status();
      if (*month == month_) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    char name[32];
    std::snprintf(name, sizeof name, "%s %04d-%02d", checkpoint_reason_month_end, month_.year,
                  month_.month);
    MALPRO_RETURN_IF_ERROR(Issue(low - 1, name));
    Result<Month> next = MonthOf(low);
    if (!next.ok()) return next.status();
    month_ = *next;
    month_scanned_ = low;
  }
  month_scanned_ = size;
  return Status::Ok();
}

Status CheckpointIssuer::IssueStrides() {
  const uint64_t size = store_->Size();
  for (uint64_t next = stride_issued_ + checkpoint_stride; next <= size;
       next += checkpoint_stride) {
    MALPRO_RETURN_IF_ERROR(Issue(next, checkpoint_reason_stride));
    stride_issued_ = next;
  }
  return Status::Ok();
}

Status CheckpointIssuer::CatchUp() {
  Result<std::optional<StoredCheckpoint>> latest = store_->LatestCheckpoint();
  if (!latest.ok()) return latest.status();
  if (latest->has_value() && (*latest)->size <= store_->Size()) {
    Result<SignedNote> note = ParseSignedNote((*latest)->note, "checkpoint");
    if (!note.ok()) return note.status();
    Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, "checkpoint");
    if (!checkpoint.ok()) return checkpoint.status();
    Result<Hash> root = store_->Root(checkpoint->size);
    if (!root.ok()) return root.status();
    if (checkpoint->origin != options_.origin || *root != checkpoint->root ||
        !VerifyNote(*note, signer_.verifier()).ok()) {
      return Status::Corruption(
          "the latest checkpoint kept (size " + std::to_string(checkpoint->size) +
          ") is not the Merkle tree's of that size under this origin and key: the log or the "
          "tree was altered, or [transparency] origin or key changed; run malpro audit verify");
    }
  }
  {
    std::lock_guard lock(mutex_);
    latest_ = *latest;
  }
  MALPRO_RETURN_IF_ERROR(IssueStrides());
  return IssueMonthEnds();
}

void CheckpointIssuer::Request(uint64_t size, std::string reason) {
  {
    std::lock_guard lock(mutex_);
    requests_.emplace_back(size, std::move(reason));
  }
  changed_.notify_all();
}

Status CheckpointIssuer::Step(bool interval_due) {
  std::vector<std::pair<uint64_t, std::string>> ready;
  const uint64_t size = store_->Size();
  {
    std::lock_guard lock(mutex_);
    auto held = std::stable_partition(requests_.begin(), requests_.end(),
                                      [size](const auto& request) { return request.first > size; });
    ready.assign(std::make_move_iterator(held), std::make_move_iterator(requests_.end()));
    requests_.erase(held, requests_.end());
  }
  MALPRO_RETURN_IF_ERROR(IssueStrides());
  MALPRO_RETURN_IF_ERROR(IssueMonthEnds());
  for (const auto& [requested, reason] : ready) MALPRO_RETURN_IF_ERROR(Issue(requested, reason));
  const std::optional<StoredCheckpoint> latest = Latest();
  if (interval_due && size > 0 && (!latest || latest->size < size)) {
    return Issue(size, checkpoint_reason_interval);
  }
  if (interval_due && latest && options_.cosign) return Recosign(*latest);
  return Status::Ok();
}

Status CheckpointIssuer::Recosign(const StoredCheckpoint& latest) {
  std::string note = options_.cosign(latest.note, latest.size);
  if (note == latest.note) return Status::Ok();
  // Kept again with the cosignatures added (and any reason merged since Latest() was read).
  Result<std::optional<StoredCheckpoint>> kept = store_->CheckpointAt(latest.size);
  if (!kept.ok()) return kept.status();
  StoredCheckpoint checkpoint = kept->value_or(latest);
  checkpoint.note = std::move(note);
  MALPRO_RETURN_IF_ERROR(store_->PutCheckpoint(checkpoint));
  {
    std::lock_guard lock(mutex_);
    if (latest_ && latest_->size == checkpoint.size) latest_ = checkpoint;
  }
  if (on_issued_) on_issued_(checkpoint);
  return Status::Ok();
}

void CheckpointIssuer::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void CheckpointIssuer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CheckpointIssuer::Loop() {
  auto next_interval = std::chrono::steady_clock::now();  // the first one at once
  while (!stopping_) {
    const bool interval_due = std::chrono::steady_clock::now() >= next_interval;
    if (interval_due) next_interval = std::chrono::steady_clock::now() + options_.interval;
    Status stepped = Step(interval_due);
    if (!stepped.ok()) {
      std::lock_guard lock(mutex_);
      failure_ = stepped;
      changed_.notify_all();
      return;
    }
    std::unique_lock lock(mutex_);
    // Requests wait for the tree: look again soon while one is held.
    const auto wake =
        requests_.empty()
            ? next_interval
            : std::min(next_interval, std::chrono::steady_clock::now() + checkpoint_request_poll);
    const size_t held = requests_.size();
    changed_.wait_until(lock, wake, [&] { return stopping_.load() || requests_.size() > held; });
  }
}

std::optional<StoredCheckpoint> CheckpointIssuer::Latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

bool CheckpointIssuer::WaitFor(uint64_t size, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] {
                             return (latest_ && latest_->size >= size) || !failure_.ok() ||
                                    stopping_.load();
                           }) &&
         latest_ && latest_->size >= size;
}

Status CheckpointIssuer::Health() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

Result<CheckpointsReport> VerifyCheckpoints(const TlogStore& store, std::string_view origin,
                                            const NoteVerifier* verifier) {
  CheckpointsReport report;
  uint64_t after = 0;
  for (;;) {
    Result<std::vector<StoredCheckpoint>> page =
        store.Checkpoints(after, checkpoints_verify_page, "");
    if (!page.ok()) return page.status();
    if (page->empty()) return report;
    for (const StoredCheckpoint& kept : *page) {
      after = kept.size;
      const std::string name = "checkpoint " + std::to_string(kept.size);
      auto fail = [&](const std::string& problem) {
        report.ok = false;
        report.problem = name + ": " + problem;
        return report;
      };
      Result<SignedNote> note = ParseSignedNote(kept.note, name);
      if (!note.ok()) return fail(note.status().message());
      Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, name);
      if (!checkpoint.ok()) return fail(checkpoint.status().message());
      if (checkpoint->size != kept.size)
        return fail("its note is of size " + std::to_string(checkpoint->size));
      if (checkpoint->origin != origin) return fail("its origin is " + checkpoint->origin);
      if (verifier != nullptr) {
        Status signature = VerifyNote(*note, *verifier);
        if (!signature.ok()) return fail(signature.message());
      }
      if (kept.size > store.Size()) {
        ++report.beyond_tree;
        continue;
      }
      Result<Hash> root = store.Root(kept.size);
      if (!root.ok()) return root.status();
      if (*root != checkpoint->root) {
        return fail("its root " + HashToHex(checkpoint->root) + " is not the tree's, " +
                    HashToHex(*root));
      }
      ++report.checked;
      report.latest_size = kept.size;
    }
  }
}

}  // namespace malpro
