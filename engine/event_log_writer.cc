// The write path of the event log: the append queue, the writer that stages each group of
// commands (group commit), the putter that writes a large group's parts, and the syncer that
// makes written groups durable and answers their commands (docs/event-log-format.md, 6).
#include <algorithm>

#include "engine/assert.h"
#include "engine/error_codes.h"
#include "engine/event_log_internal.h"

namespace malpro {
namespace {

// What a part's batch reserves: a part, plus the envelope that takes it past write_part_bytes.
constexpr size_t kPartBatchBytes = write_part_bytes + write_part_bytes / 4;
// An envelope's bytes besides its payload, roughly (fields, hashes, batch record), for sizing.
constexpr size_t kEnvelopeBytesBesidesPayload = 160;

// Set while an AppendAsync completion runs. The documented rule (event_log.h) is that a
// completion never calls into the log: it may run on the syncer's thread, which the log needs
// in order to answer anything, so such a call could wait for itself.
thread_local bool in_append_completion = false;

// A command whose idempotency key was used before: the original's result when the request is
// the same, a conflict otherwise.
Status AnswerFromEarlierUse(const IdempotencyRecord& earlier, const Hash& request_digest,
                            AppendResult* result) {
  if (earlier.request_digest != request_digest) {
    return Status::Conflict(errc::kIdempotencyKeyReused, "idempotency_key",
                            "this idempotency key was already used for a different request");
  }
  result->first_sequence = earlier.first_sequence;
  result->last_sequence = earlier.first_sequence + earlier.event_count - 1;
  result->replayed = true;
  return Status::Ok();
}

}  // namespace

void EventLog::PendingAppend::Finish(Result<AppendResult> result) {
  MALPRO_ASSERT(!finished);
  finished = true;
  if (done) {
    in_append_completion = true;
    done(std::move(result));
    in_append_completion = false;
  } else {
    promise.set_value(std::move(result));
  }
}

Status EventLog::Enqueue(AppendRequest request, std::unique_ptr<PendingAppend> pending) {
  MALPRO_ASSERT(!in_append_completion);
  if (options_.read_only) {
    return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  }
  MALPRO_RETURN_IF_ERROR(ValidateRequest(request, &pending->payload_bytes));
  // A large command's payloads are checked after it is queued, while the writer stages it.
  std::shared_ptr<PayloadCheck> check;
  if (request.events.size() >= overlapped_check_events_min) {
    check = std::make_shared<PayloadCheck>();
    pending->payload_check = check;
  } else {
    MALPRO_RETURN_IF_ERROR(CheckPayloads(request));
  }
  if (!request.idempotency_key.empty()) {  // the digest matters only with a key
    pending->request_digest =
        request.request_digest ? *request.request_digest : DefaultRequestDigest(request);
  }
  pending->request = std::move(request);
  const AppendRequest& queued = pending->request;  // the writer only reads it from here on
  MALPRO_RETURN_IF_ERROR(PushPending(std::move(pending)));
  // The writer answers the command; `queued` lives until then, and the answer waits for this.
  if (check) check->Publish(CheckPayloads(queued));
  return Status::Ok();
}

Status EventLog::PushPending(std::unique_ptr<PendingAppend> pending) {
  {
    std::unique_lock lock(queue_mutex_);
    queue_not_full_.wait(lock, [&] {
      return stopping_ || !failed_.ok() || queue_.size() < append_queue_commands_max;
    });
    if (stopping_) return Status::Unavailable(errc::kLogClosed, "the log is closing");
    if (!failed_.ok()) return failed_;
    queue_.push_back(std::move(pending));
  }
  queue_not_empty_.notify_one();
  return Status::Ok();
}

Result<AppendResult> EventLog::Append(AppendRequest request) {
  auto pending = std::make_unique<PendingAppend>();
  std::future<Result<AppendResult>> done = pending->promise.get_future();
  MALPRO_RETURN_IF_ERROR(Enqueue(std::move(request), std::move(pending)));
  return done.get();
}

void EventLog::AppendAsync(AppendRequest request, AppendDone done) {
  auto pending = std::make_unique<PendingAppend>();
  pending->done = done;
  Status queued = Enqueue(std::move(request), std::move(pending));
  if (!queued.ok()) done(std::move(queued));  // refused before the queue: nothing written
}

std::vector<std::unique_ptr<EventLog::PendingAppend>> EventLog::TakeGroup() {
  std::vector<std::unique_ptr<PendingAppend>> group;
  std::unique_lock lock(queue_mutex_);
  queue_not_empty_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  size_t payload_bytes = 0;
  while (!queue_.empty() && group.size() < group_commands_max &&
         payload_bytes + queue_.front()->payload_bytes <= group_payload_bytes_max) {
    payload_bytes += queue_.front()->payload_bytes;
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  lock.unlock();
  queue_not_full_.notify_all();
  return group;
}

void EventLog::WriterLoop() {
  while (true) {
    std::vector<std::unique_ptr<PendingAppend>> group = TakeGroup();
    if (group.empty()) return;  // stopping and drained
    CommitGroup(group);
  }
}

void EventLog::CommitGroup(std::vector<std::unique_ptr<PendingAppend>>& group) {
  Status failed;
  {
    std::lock_guard lock(queue_mutex_);
    failed = failed_;
  }
  if (!failed.ok()) {  // queued before a write failed: nothing more is written
    WrittenGroup refused;
    for (auto& pending : group) refused.answers.emplace_back(std::move(pending), failed);
    Dispatch(Part{nullptr, std::move(refused)});
    return;
  }
  ForgetWrittenIdempotency();
  GroupState state;
  StartGroup(group, state);
  WrittenGroup written;
  written.answers.reserve(group.size());
  const uint64_t events_before = state.head.sequence;
  StageGroup(group, state, written);
  Part last;
  if (state.head.sequence > events_before) {
    last.batch = FinishGroup(state, written, events_before);
  }
  // Every answer, refusals and replays included, waits for the sync of what was written
  // before it: whoever gets an answer finds everything before it durable and readable.
  last.group = std::move(written);
  Dispatch(std::move(last));
}

void EventLog::ForgetWrittenIdempotency() {
  // Idempotency records of groups now written whole are found in the database.
  const uint64_t put_sequence = put_sequence_.load();
  while (!unwritten_groups_.empty() && unwritten_groups_.front().first <= put_sequence) {
    for (const std::string& key : unwritten_groups_.front().second) {
      unwritten_idempotency_.erase(key);
    }
    unwritten_groups_.pop_front();
  }
}

void EventLog::StartGroup(const std::vector<std::unique_ptr<PendingAppend>>& group,
                          GroupState& state) {
  state.head = written_head_;
  state.first_sequence = state.head.sequence + 1;
  if (stream_versions_.size() > stream_cache_entries_max) {
    // A cache miss reads the index, so the index must hold everything before forgetting.
    if (WaitForIndex(state.head.sequence).ok()) stream_versions_.clear();
  }
  state.recorded_at_us = std::max(Now(), last_recorded_at_us_);
  // Room for the group's envelopes up to a part, so that the batch rarely grows by copying.
  size_t envelope_bytes = 0;
  for (const auto& pending : group) {
    envelope_bytes +=
        pending->payload_bytes + (pending->request.events.size() + pending->replicated.size()) *
                                     kEnvelopeBytesBesidesPayload;
  }
  state.batch = std::make_unique<rocksdb::WriteBatch>(std::min(envelope_bytes, kPartBatchBytes));
  state.index_entries = std::make_unique<IndexEntries>();
}

void EventLog::StageGroup(std::vector<std::unique_ptr<PendingAppend>>& group, GroupState& state,
                          WrittenGroup& written) {
  for (auto& pending : group) {
    AppendResult result;
    Status status = StageAppend(*pending, state, &result);
    if (pending->payload_check) {
      // The answer waits for the caller's check of the payloads (which reads the request
      // until then); bad input is answered as such whatever else was found.
      Status checked = pending->payload_check->Await();
      if (!checked.ok()) status = std::move(checked);
    }
    if (!status.ok()) {
      if (status.code() == StatusCode::kConflict) {
        std::lock_guard lock(head_mutex_);  // counted before the caller can look
        counters_.commands_refused++;
      }
      written.answers.emplace_back(std::move(pending), std::move(status));
    } else {
      if (!result.replayed) written.commands_appended++;
      written.answers.emplace_back(std::move(pending), result);
    }
  }
}

std::unique_ptr<rocksdb::WriteBatch> EventLog::FinishGroup(GroupState& state, WrittenGroup& written,
                                                           uint64_t events_before) {
  // The group's last part: its idempotency records and the head record, so that they are
  // durable together with the whole group or not at all.
  std::vector<std::string> keys;
  for (const auto& [key, record] : state.idempotency) {
    state.batch->Put(columns_->idempotency, key, EncodeIdempotencyRecord(record));
    unwritten_idempotency_[key] = IdempotencyEntry{record.request_digest, record.first_sequence,
                                                   record.first_sequence + record.event_count - 1};
    keys.push_back(key);
  }
  if (!keys.empty()) unwritten_groups_.emplace_back(state.head.sequence, std::move(keys));
  state.batch->Put(columns_->head, chain_head_key,
                   EncodeChainHeadRecord(state.head.sequence, state.head.hash));
  if (state.parted) state.batch->Delete(columns_->head, unfinished_group_key);
  // Not synced here: the syncer syncs while the next group is staged and written. Readers
  // see nothing of it before then (they stay at or behind the durable head). If the write
  // fails, the log refuses every later command, so the writer's view may run ahead.
  written_sequence_ = state.head.sequence;  // before the events can be seen
  written_head_ = state.head;
  last_recorded_at_us_ = state.recorded_at_us;
  written.wrote = true;
  written.head = state.head;
  written.events_appended = state.head.sequence - events_before;
  written.index_entries = std::move(state.index_entries);
  return std::move(state.batch);
}

void EventLog::EmitPart(GroupState& group) {
  if (!group.parted) {
    // Until the last part clears it, this record says that the events from here on belong to
    // an unfinished group; after a crash they are removed on open (none was acknowledged).
    group.batch->Put(columns_->head, unfinished_group_key, EncodeU64(group.first_sequence));
    group.parted = true;
  }
  written_sequence_ = group.head.sequence;  // before the events can be seen
  Dispatch(Part{std::move(group.batch), std::nullopt});
  group.batch = std::make_unique<rocksdb::WriteBatch>(kPartBatchBytes);
}

void EventLog::Dispatch(Part part) {
  {
    std::unique_lock lock(put_mutex_);
    if (put_outstanding_ > 0 || !part.group) {
      put_queue_not_full_.wait(lock, [&] { return put_queue_.size() < put_queue_parts_max; });
      put_queue_.push_back(std::move(part));
      ++put_outstanding_;
      lock.unlock();
      put_work_ready_.notify_one();
      return;
    }
  }
  // A group in one part while the putter is idle (the common case of small commands): written
  // here, one hand-off fewer. Only the writer queues parts, so none can overtake this one.
  WritePart(part);
}

void EventLog::WritePart(Part& part) {
  Status status = put_failed_;
  if (status.ok() && part.batch) {
    status = FromRocks(db_->Write(rocksdb::WriteOptions(), part.batch.get()), "append");
    if (!status.ok()) {
      // What is in memory may now be ahead of the disk: refuse everything until reopened.
      put_failed_ = status;
      StopAppends(status);
    }
  }
  if (!part.group) return;
  WrittenGroup& written = *part.group;
  if (!status.ok()) {
    // This group, or a part before it, was not written: none of its commands is answered as
    // done, replays included (their originals may be among what was lost).
    for (auto& [pending, answer] : written.answers) {
      if (answer.ok()) answer = status;
    }
    written.wrote = false;
    written.commands_appended = 0;
    written.events_appended = 0;
    written.index_entries.reset();
  } else if (written.wrote) {
    put_sequence_ = written.head.sequence;
  }
  HandToSyncer(std::move(written));
}

void EventLog::PutterLoop() {
  while (true) {
    Part part;
    {
      std::unique_lock lock(put_mutex_);
      put_work_ready_.wait(lock, [&] { return put_stopping_ || !put_queue_.empty(); });
      if (put_queue_.empty()) return;  // stopping and drained
      part = std::move(put_queue_.front());
      put_queue_.pop_front();
    }
    put_queue_not_full_.notify_one();
    WritePart(part);
    std::lock_guard lock(put_mutex_);
    --put_outstanding_;
  }
}

void EventLog::StopAppends(const Status& failure) {
  {
    std::lock_guard lock(queue_mutex_);
    failed_ = failure;
  }
  queue_not_full_.notify_all();
  {
    // Nothing more will be indexed: a writer or reader waiting for the index stops.
    std::lock_guard lock(index_mutex_);
    if (index_failed_.ok()) index_failed_ = failure;
  }
  index_advanced_.notify_all();
  index_queue_not_full_.notify_all();
}

void EventLog::HandToSyncer(WrittenGroup written) {
  {
    std::unique_lock lock(sync_mutex_);
    sync_queue_not_full_.wait(lock, [&] { return sync_queue_.size() < sync_queue_groups_max; });
    sync_queue_.push_back(std::move(written));
  }
  sync_work_ready_.notify_one();
}

void EventLog::SyncerLoop() {
  while (true) {
    std::vector<WrittenGroup> groups;
    {
      std::unique_lock lock(sync_mutex_);
      sync_work_ready_.wait(lock, [&] { return sync_stopping_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;  // stopping and drained
      groups.swap(sync_queue_);
    }
    sync_queue_not_full_.notify_all();
    const auto last_written = std::find_if(groups.rbegin(), groups.rend(),
                                           [](const WrittenGroup& group) { return group.wrote; });
    // What was written is synced and acknowledged even when a later write failed; after a
    // failed sync nothing is (a later fdatasync may succeed without the lost data).
    Status status = sync_failed_;
    if (status.ok() && last_written != groups.rend()) {
      // One fdatasync covers every group written so far, these and any the writer has
      // written since: the write-ahead log is one file, synced up to its end.
      if (options_.sync) status = FromRocks(db_->SyncWAL(), "sync");
      if (!status.ok()) {
        sync_failed_ = status;
        StopAppends(status);
      } else {
        LogCounters added;
        for (WrittenGroup& group : groups) {
          if (!group.wrote) continue;
          QueueIndexWork(std::move(group.index_entries), group.head.sequence);
          added.commands_appended += group.commands_appended;
          added.events_appended += group.events_appended;
          added.groups_synced++;
        }
        std::lock_guard lock(head_mutex_);
        MALPRO_ASSERT(last_written->head.sequence >= head_.sequence);  // only ever forward
        head_ = last_written->head;
        counters_.commands_appended += added.commands_appended;
        counters_.events_appended += added.events_appended;
        counters_.groups_synced += added.groups_synced;
        if (options_.sync) counters_.syncs++;
      }
    }
    head_advanced_.notify_all();
    for (WrittenGroup& group : groups) {
      for (auto& [pending, answer] : group.answers) {
        // After a failed sync a refusal may rest on what was never made durable: it gets
        // the failure too.
        if (!status.ok()) answer = status;
        pending->Finish(std::move(answer));
      }
    }
  }
}

Result<uint64_t*> EventLog::CurrentVersion(std::string_view stream_id) {
  if (auto cached = stream_versions_.find(stream_id); cached != stream_versions_.end()) {
    return &cached->second;
  }
  Result<uint64_t> version = LastIndexedVersion(stream_id);
  if (!version.ok()) return version.status();
  return &stream_versions_.emplace(std::string(stream_id), *version).first->second;
}

Status EventLog::StageAppend(PendingAppend& pending, GroupState& group, AppendResult* result) {
  // A replay is answered with the rest of the group, after the sync: by then the original
  // is durable whether it was in an earlier group or in this one.
  if (!pending.replicated.empty()) return StageReplicated(pending, group, result);
  const AppendRequest& request = pending.request;
  if (!request.idempotency_key.empty()) {
    Result<std::optional<IdempotencyRecord>> earlier = EarlierUse(request.idempotency_key, group);
    if (!earlier.ok()) return earlier.status();
    if (*earlier) return AnswerFromEarlierUse(**earlier, pending.request_digest, result);
  }
  MALPRO_RETURN_IF_ERROR(CheckExpectations(request));
  // Every stream version the command needs is read before its first change, so that a failed
  // read cannot leave part of the command in the group's batch or in the version cache.
  // (The cache entries point into a node-based map: they stay valid as it grows.)
  MALPRO_RETURN_IF_ERROR(LoadEventVersions(request, &group.event_versions));
  MALPRO_RETURN_IF_ERROR(StageEvents(pending, group, result));
  if (!request.idempotency_key.empty()) {
    IdempotencyRecord record{pending.request_digest, result->first_sequence,
                             static_cast<uint32_t>(request.events.size()), group.recorded_at_us};
    group.idempotency[request.idempotency_key] = record;  // written with the group's last part
  }
  return Status::Ok();
}

Result<std::optional<IdempotencyRecord>> EventLog::EarlierUse(const std::string& key,
                                                              const GroupState& group) const {
  if (auto staged = group.idempotency.find(key); staged != group.idempotency.end()) {
    return std::optional<IdempotencyRecord>(staged->second);
  }
  if (auto unwritten = unwritten_idempotency_.find(key);
      unwritten != unwritten_idempotency_.end()) {
    const IdempotencyEntry& entry = unwritten->second;
    return std::optional<IdempotencyRecord>(IdempotencyRecord{
        entry.request_digest, entry.first_sequence,
        static_cast<uint32_t>(entry.last_sequence - entry.first_sequence + 1), 0});
  }
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->idempotency, key, &value);
  if (status.IsNotFound()) return std::optional<IdempotencyRecord>();
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read idempotency key"));
  std::optional<IdempotencyRecord> earlier = DecodeIdempotencyRecord(value);
  if (!earlier) return Status::Corruption("idempotency record has a bad format");
  return earlier;
}

Status EventLog::CheckExpectations(const AppendRequest& request) {
  for (size_t i = 0; i < request.expectations.size(); ++i) {
    const StreamExpectation& expectation = request.expectations[i];
    Result<uint64_t*> current = CurrentVersion(expectation.stream_id);
    if (!current.ok()) return current.status();
    if (**current != expectation.version) {
      return Status::Conflict(
          errc::kStreamVersionConflict, IndexedField("expectations", i, "version"),
          "stream " + expectation.stream_id + " is at version " + std::to_string(**current) +
              ", the command expected version " + std::to_string(expectation.version));
    }
  }
  return Status::Ok();
}

Status EventLog::LoadEventVersions(const AppendRequest& request, std::vector<uint64_t*>* versions) {
  versions->clear();
  for (const ProposedEvent& proposed : request.events) {
    Result<uint64_t*> current = CurrentVersion(proposed.stream_id);
    if (!current.ok()) return current.status();
    versions->push_back(*current);
  }
  return Status::Ok();
}

void EventLog::GroupState::SetSavePoint() {
  batch->SetSavePoint();
  index_entries->SetSavePoint();
}

Status EventLog::GroupState::EndSavePoint(Status checked, const ChainHead& head_before,
                                          size_t staged) {
  // Both fail only without a savepoint, which is set whenever a check is awaited.
  if (checked.ok()) {
    const rocksdb::Status popped = batch->PopSavePoint();
    MALPRO_ASSERT(popped.ok());
  } else {
    for (size_t j = 0; j < staged; ++j) --*event_versions[j];
    head = head_before;
    const rocksdb::Status rolled_back = batch->RollbackToSavePoint();
    MALPRO_ASSERT(rolled_back.ok());
    index_entries->RollbackToSavePoint();
  }
  return checked;
}

Status EventLog::StageEvents(PendingAppend& pending, GroupState& group, AppendResult* result) {
  // From here on nothing can fail: the command is staged whole. The cache runs ahead of the
  // disk until the group is written; if that write fails, the log refuses every append.
  const AppendRequest& request = pending.request;
  result->first_sequence = group.head.sequence + 1;
  result->first_stream_version = 0;
  // A command whose payloads are still being checked is staged meanwhile, but nothing of it
  // leaves the group's current part before the check passes; if it fails, it is taken out.
  PayloadCheck* check = pending.payload_check.get();
  const ChainHead head_before = group.head;
  if (check != nullptr) group.SetSavePoint();
  auto await_check = [&](size_t staged) -> Status {
    PayloadCheck* awaited = std::exchange(check, nullptr);
    return group.EndSavePoint(awaited->Await(), head_before, staged);
  };
  for (size_t i = 0; i < request.events.size(); ++i) {
    const uint64_t version = ++*group.event_versions[i];
    StageEvent(request, i, version, group);
    // A command's events take the sequences after the group's head, one each, and each
    // stream's next version.
    MALPRO_ASSERT(group.head.sequence == result->first_sequence + i && version >= 1);
    if (result->first_stream_version == 0) result->first_stream_version = version;
    if (group.batch->GetDataSize() >= write_part_bytes) {
      if (check != nullptr) MALPRO_RETURN_IF_ERROR(await_check(i + 1));
      EmitPart(group);
    }
  }
  if (check != nullptr) MALPRO_RETURN_IF_ERROR(await_check(request.events.size()));
  result->last_sequence = group.head.sequence;
  MALPRO_ASSERT(result->last_sequence + 1 == result->first_sequence + request.events.size());
  return Status::Ok();
}

void EventLog::StageEvent(const AppendRequest& request, size_t index, uint64_t version,
                          GroupState& group) {
  const ProposedEvent& proposed = request.events[index];
  EventView event{group.head.sequence + 1, proposed.stream_id,   version,
                  proposed.type,           group.recorded_at_us, request.actor,
                  request.idempotency_key, proposed.payload};
  std::string& value = group.value_buffer;
  value.clear();
  AppendCanonical(event, &value);
  const Hash hash = ComputeEventHash(group.head.hash, value);
  value.append(HashView(group.head.hash));
  value.append(HashView(hash));
  char sequence_key[sequence_key_bytes];
  StoreU64(sequence_key, event.sequence);
  group.batch->Put(columns_->events, rocksdb::Slice(sequence_key, sizeof sequence_key), value);
  group.index_entries->Add(event.stream_id, event.stream_version, event.sequence);
  group.head = {event.sequence, hash};
}

}  // namespace malpro
