// The projector's catch-up: from its checkpoint to the log's head in three stages, each on its
// own thread (reading the log, the world, the read models), handing batches along bounded
// queues; see docs/projections.md.
#include <algorithm>
#include <string>
#include <thread>

#include "projections/projector.h"

namespace malpro {
namespace {

// Batches read ahead of the world, and batches of facts ahead of the read models.
constexpr size_t read_ahead_batches = 2;
constexpr size_t facts_ahead_batches = 16;
// A catch-up at least this long serializes its rows on two threads.
constexpr uint64_t parallel_commit_events = 100'000;
// A catch-up skips a commit when its end is nearer than this share of the interval.
constexpr uint64_t catch_up_commit_skip_divisor = 4;
// Progress is reported every this many events.
constexpr uint64_t progress_every_events = 100'000;

}  // namespace

Status Projector::CatchUp() {
  {
    std::lock_guard lock(progress_mutex_);
    if (!failed_.ok()) return failed_;
  }
  const uint64_t target = Target();
  const uint64_t start = folded_;
  // Three stages, each on its own thread, each stopping after the first failure it meets
  // and passing it on: reading the log, the world, the read models (this thread).
  // Batches go round: folded ones come back to be read into again, so their events' and
  // facts' memory is used again instead of freed on one thread and taken anew on another.
  BatchQueue read(read_ahead_batches);
  BatchQueue facts(facts_ahead_batches);
  // Every batch that exists: those queued, and one in the hands of each of the other stages.
  StageQueue<FactBatch> folded(read_ahead_batches + facts_ahead_batches + 2);
  std::thread reading([&] { ReadStage(start, target, read, folded); });
  std::thread world([&] { WorldStage(read, facts); });
  const Status status = FoldStage(start, target, facts, folded);
  facts.Close();
  world.join();
  reading.join();
  if (!status.ok()) {
    std::lock_guard lock(progress_mutex_);
    failed_ = status;
    return status;
  }
  if (options_.progress && target - start >= progress_every_events) {
    options_.progress("read models: folded to " + std::to_string(folded_));
  }
  const uint64_t events = folded_ - taken_;
  return Commit(/*catching_up=*/events >= parallel_commit_events ||
                events >= options_.bulk_commit_events);
}

void Projector::ReadStage(uint64_t start, uint64_t target, BatchQueue& read,
                          StageQueue<FactBatch>& folded) const {
  std::unique_ptr<EventLog::Scanner> scan = log_->Scan(start + 1);
  for (uint64_t next = start + 1; next <= target;) {
    FactBatch batch = folded.Pop(/*wait=*/false).value_or(FactBatch());
    const Status status = ReadBatch(scan.get(), next, target, &batch.events);
    if (status.ok()) next += batch.events.size();
    if (!read.Push(status.ok() ? Result<FactBatch>(std::move(batch)) : status) || !status.ok()) {
      break;
    }
  }
  read.Finish();
}

void Projector::WorldStage(BatchQueue& read, BatchQueue& facts) {
  while (std::optional<Result<FactBatch>> batch = read.Pop()) {
    if (batch->ok()) {
      const Status status = MakeFacts(**batch);
      if (!status.ok()) batch.emplace(status);
    }
    const bool ok = batch->ok();
    if (!facts.Push(std::move(*batch)) || !ok) break;
  }
  read.Close();
  facts.Finish();
}

Status Projector::FoldStage(uint64_t start, uint64_t target, BatchQueue& facts,
                            StageQueue<FactBatch>& folded) {
  uint64_t since_commit = 0;
  uint64_t next_report = start + progress_every_events;
  while (std::optional<Result<FactBatch>> batch = facts.Pop()) {
    if (!batch->ok()) return batch->status();
    MALPRO_RETURN_IF_ERROR(FoldFacts(**batch));
    since_commit += (*batch)->facts.size();
    (*batch)->facts.clear();
    (*batch)->retired.clear();
    folded.Push(std::move(**batch), /*wait=*/false);
    // A commit is skipped when the last one (at the target) follows within a quarter of the
    // interval: it would write most of the same rows again moments later.
    if (since_commit >= options_.catch_up_commit_events &&
        target - folded_ >= options_.catch_up_commit_events / catch_up_commit_skip_divisor) {
      MALPRO_RETURN_IF_ERROR(Commit(/*catching_up=*/true));
      since_commit = 0;
    }
    if (options_.progress && folded_ >= next_report) {
      options_.progress("read models: " + std::to_string(folded_) + "/" + std::to_string(target) +
                        " events (" +
                        std::to_string(folded_ * 100 / std::max<uint64_t>(target, 1)) + "%)");
      next_report += progress_every_events;
    }
  }
  return Status::Ok();
}

}  // namespace malpro
