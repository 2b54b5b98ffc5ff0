// A replica's append (EventLog::AppendReplicated): events another log wrote, checked on the
// caller's thread (each hash, the chain within the batch) and on the writer's (that the batch
// follows this log's head, the stream versions), then staged as the very envelopes the other
// log stored, so that the two logs hold the same bytes (docs/replication.md).
#include <unordered_map>

#include "engine/assert.h"
#include "engine/error_codes.h"
#include "engine/event_log_internal.h"

namespace malpro {
namespace {

Status InvalidReplicatedEvent(uint64_t sequence, const std::string& why) {
  return Status::Conflict(errc::kReplicaEventInvalid, "events",
                          "replicated event " + std::to_string(sequence) + " " + why);
}

// The checks that need nothing of this log: sizes, each event's own hash and layout, and the
// chain from each event to the next. Sets *payload_bytes.
Status CheckReplicatedBatch(const std::vector<ReplicatedEvent>& events, size_t* payload_bytes) {
  if (events.empty()) {
    return Status::InvalidArgument(errc::kReplicaEventsMissing, "events",
                                   "a replicated batch holds at least one event");
  }
  if (events.size() > replicated_events_max) {
    return Status::LimitExceeded(
        errc::kReplicaBatchTooLarge, "events",
        "a replicated batch holds at most " + std::to_string(replicated_events_max) + " events");
  }
  size_t total = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i].event;
    total += event.payload.size();
    if (i > 0 && event.sequence != events[i - 1].event.sequence + 1) {
      return InvalidReplicatedEvent(
          event.sequence, "does not follow event " + std::to_string(events[i - 1].event.sequence));
    }
    if (i > 0 && event.previous_hash != events[i - 1].event.hash) {
      return InvalidReplicatedEvent(event.sequence,
                                    "does not link to the hash of the event before it");
    }
    if (!IsKnownEnvelopeVersion(event.format_version)) {
      return InvalidReplicatedEvent(event.sequence,
                                    "has a format version this build does not know");
    }
    if (!CheckStreamId(event.stream_id).ok() || event.stream_version == 0) {
      return InvalidReplicatedEvent(event.sequence, "has an invalid stream id or version");
    }
    if (ComputeEventHash(event.previous_hash, EncodeCanonical(event)) != event.hash) {
      return InvalidReplicatedEvent(event.sequence, "does not hash to the hash it carries");
    }
  }
  if (total > command_payload_bytes_max) {
    return Status::LimitExceeded(errc::kReplicaBatchTooLarge, "events",
                                 "a replicated batch carries at most " +
                                     std::to_string(command_payload_bytes_max) +
                                     " bytes of payload");
  }
  *payload_bytes = total;
  return Status::Ok();
}

}  // namespace

Result<AppendResult> EventLog::AppendReplicated(std::vector<ReplicatedEvent> events) {
  if (options_.read_only) {
    return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  }
  auto pending = std::make_unique<PendingAppend>();
  MALPRO_RETURN_IF_ERROR(CheckReplicatedBatch(events, &pending->payload_bytes));
  pending->replicated = std::move(events);
  std::future<Result<AppendResult>> done = pending->promise.get_future();
  MALPRO_RETURN_IF_ERROR(PushPending(std::move(pending)));
  return done.get();
}

void EventLog::AppendReplicatedAsync(std::vector<ReplicatedEvent> events, AppendDone done) {
  if (options_.read_only) {
    done(Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only"));
    return;
  }
  auto pending = std::make_unique<PendingAppend>();
  Status checked = CheckReplicatedBatch(events, &pending->payload_bytes);
  if (!checked.ok()) {
    done(std::move(checked));  // refused before the queue: nothing written
    return;
  }
  pending->replicated = std::move(events);
  pending->done = done;
  Status queued = PushPending(std::move(pending));
  if (!queued.ok()) done(std::move(queued));
}

Status EventLog::StageReplicated(PendingAppend& pending, GroupState& group, AppendResult* result) {
  const std::vector<ReplicatedEvent>& events = pending.replicated;
  const Event& first = events.front().event;
  if (first.sequence != group.head.sequence + 1 || first.previous_hash != group.head.hash) {
    return Status::Conflict(errc::kReplicaChainBroken, "events",
                            "replicated event " + std::to_string(first.sequence) +
                                " does not follow this log's head (sequence " +
                                std::to_string(group.head.sequence) + ", hash " +
                                HashToHex(group.head.hash) + ")");
  }
  // Every version and idempotency record is looked up before anything is staged, so a
  // refusal leaves no trace.
  MALPRO_RETURN_IF_ERROR(CheckReplicatedVersions(events, group));
  std::unordered_map<std::string, IdempotencyRecord> records;
  MALPRO_RETURN_IF_ERROR(ReplicatedKeys(events, group, &records));
  // From here on nothing can fail: the batch is staged whole.
  for (auto& [key, record] : records) group.idempotency[key] = record;
  result->first_sequence = first.sequence;
  result->first_stream_version = first.stream_version;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i].event;
    MALPRO_ASSERT(event.sequence == group.head.sequence + 1);
    ++*group.event_versions[i];
    char sequence_key[sequence_key_bytes];
    StoreU64(sequence_key, event.sequence);
    group.batch->Put(columns_->events, rocksdb::Slice(sequence_key, sizeof sequence_key),
                     EncodeEnvelope(event));
    group.index_entries->Add(event.stream_id, event.stream_version, event.sequence);
    group.head = {event.sequence, event.hash};
    // Times never go backwards: commands appended after these are stamped no earlier.
    group.recorded_at_us = std::max(group.recorded_at_us, event.recorded_at_us);
    if (group.batch->GetDataSize() >= write_part_bytes) EmitPart(group);
  }
  result->last_sequence = group.head.sequence;
  return Status::Ok();
}

Status EventLog::CheckReplicatedVersions(const std::vector<ReplicatedEvent>& events,
                                         GroupState& group) {
  std::unordered_map<uint64_t*, uint64_t> added;
  group.event_versions.clear();
  for (const ReplicatedEvent& replicated : events) {
    Result<uint64_t*> current = CurrentVersion(replicated.event.stream_id);
    if (!current.ok()) return current.status();
    const uint64_t expected = **current + ++added[*current];
    if (replicated.event.stream_version != expected) {
      return Status::Conflict(errc::kReplicaStreamVersion, "events",
                              "replicated event " + std::to_string(replicated.event.sequence) +
                                  " is version " + std::to_string(replicated.event.stream_version) +
                                  " of stream " + replicated.event.stream_id + ", which is at " +
                                  std::to_string(expected - 1));
    }
    group.event_versions.push_back(*current);
  }
  return Status::Ok();
}

Status EventLog::ReplicatedKeys(const std::vector<ReplicatedEvent>& events, const GroupState& group,
                                std::unordered_map<std::string, IdempotencyRecord>* records) {
  // A command's events are consecutive and all carry its key: each one after the first
  // extends the record the first began, in this batch or in an earlier one.
  for (const ReplicatedEvent& replicated : events) {
    const Event& event = replicated.event;
    if (event.idempotency_key.empty()) continue;
    std::optional<IdempotencyRecord> record;
    if (auto made = records->find(event.idempotency_key); made != records->end()) {
      record = made->second;
    } else {
      Result<std::optional<IdempotencyRecord>> earlier = EarlierUse(event.idempotency_key, group);
      if (!earlier.ok()) return earlier.status();
      record = *earlier;
    }
    if (record && record->first_sequence + record->event_count == event.sequence) {
      record->event_count++;
      // A record of a group not yet written whole carries no time: a command's events share
      // one, and the retention of its key counts from it.
      if (record->recorded_at_us == 0) record->recorded_at_us = event.recorded_at_us;
    } else {
      record =
          IdempotencyRecord{replicated.request_digest, event.sequence, 1, event.recorded_at_us};
    }
    (*records)[event.idempotency_key] = *record;
  }
  return Status::Ok();
}

}  // namespace malpro
