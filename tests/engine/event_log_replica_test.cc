// EventLog::AppendReplicated: a read replica's append of the events another log wrote, byte
// for byte the same envelopes (engine/event_log_replica.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/error_codes.h"
#include "engine/event_log.h"
#include "engine/log_limits.h"
#include "tests/support/log_fixture.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

constexpr int kReplicaTestStreams = 5;
// Recorded times: the primary's clock is well after the replica's (2033 and 2001).
constexpr int64_t kReplicaTestPrimaryTime = 2'000'000'000'000'000;
constexpr int64_t kReplicaTestReplicaTime = 1'000'000'000'000'000;

// A command the primary was given, and what it answered.
struct ReplicaTestCommand {
  AppendRequest request;
  AppendResult result;
};

std::string ReplicaTestStream(int i) {
  return "replica-s" + std::to_string(i % kReplicaTestStreams);
}

// Command `i` of the primary: 1 to 4 events over several streams, every third without a key.
AppendRequest ReplicaTestRequest(int i) {
  std::vector<ProposedEvent> events;
  for (int j = 0; j < 1 + i % 4; ++j) {
    events.push_back(testing::MakeEvent(
        ReplicaTestStream(i + j), "thing.happened",
        R"({"i":)" + std::to_string(i) + R"(,"j":)" + std::to_string(j) + R"(,"s":"x"})"));
  }
  AppendRequest request = testing::MakeRequest(std::move(events), "test:primary");
  if (i % 3 != 0) request.idempotency_key = "replica-key-" + std::to_string(i);
  return request;
}

// The command of five events, with a key, that the copy splits across two batches.
AppendRequest ReplicaTestSplitRequest() {
  std::vector<ProposedEvent> events;
  for (int j = 0; j < 5; ++j) {
    events.push_back(testing::MakeEvent(ReplicaTestStream(j), "thing.split",
                                        R"({"part":)" + std::to_string(j) + "}"));
  }
  AppendRequest request = testing::MakeRequest(std::move(events), "test:primary");
  request.idempotency_key = "replica-split";
  return request;
}

// Appends `count` commands to `log` (the split command as the fourth), returning them.
std::vector<ReplicaTestCommand> ReplicaTestPopulate(EventLog& log, int count) {
  std::vector<ReplicaTestCommand> commands;
  for (int i = 0; i < count; ++i) {
    AppendRequest request = i == 3 ? ReplicaTestSplitRequest() : ReplicaTestRequest(i);
    Result<AppendResult> result = log.Append(request);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) break;
    commands.push_back({std::move(request), *result});
  }
  return commands;
}

// Every event of `log`, read in batches.
std::vector<Event> ReplicaTestReadAll(const EventLog& log) {
  std::vector<Event> all;
  const uint64_t head = log.Head().sequence;
  while (all.size() < head) {
    Result<std::vector<Event>> batch = log.Read(all.size() + 1, 64);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok() || batch->empty()) break;
    all.insert(all.end(), batch->begin(), batch->end());
  }
  EXPECT_EQ(all.size(), head);
  return all;
}

// The events as the primary relays them: each command's first event with the request digest
// of its key (zero for the others and for events without a key).
std::vector<ReplicatedEvent> ReplicaTestRelay(const EventLog& primary,
                                              const std::vector<Event>& events) {
  std::vector<ReplicatedEvent> relayed;
  for (const Event& event : events) {
    ReplicatedEvent replicated{event, zero_hash};
    if (!event.idempotency_key.empty()) {
      Result<std::optional<IdempotencyEntry>> entry =
          primary.LookupIdempotency(event.idempotency_key);
      EXPECT_TRUE(entry.ok() && entry->has_value()) << event.idempotency_key;
      if (entry.ok() && entry->has_value() && (*entry)->first_sequence == event.sequence) {
        replicated.request_digest = (*entry)->request_digest;
      }
    }
    relayed.push_back(std::move(replicated));
  }
  return relayed;
}

// Events [first, last] (1-based sequences) of `events`.
std::vector<ReplicatedEvent> ReplicaTestSlice(const std::vector<ReplicatedEvent>& events,
                                              uint64_t first, uint64_t last) {
  return std::vector<ReplicatedEvent>(events.begin() + static_cast<ptrdiff_t>(first - 1),
                                      events.begin() + static_cast<ptrdiff_t>(last));
}

// Feeds `events` to `replica` in batches that end at each sequence of `cuts` (and at the end).
void ReplicaTestFeed(EventLog& replica, const std::vector<ReplicatedEvent>& events,
                     std::set<uint64_t> cuts) {
  cuts.insert(events.size());
  uint64_t next = replica.Head().sequence + 1;
  for (uint64_t cut : cuts) {
    if (cut < next || cut > events.size()) continue;
    Result<AppendResult> result = replica.AppendReplicated(ReplicaTestSlice(events, next, cut));
    ASSERT_TRUE(result.ok()) << "batch " << next << ".." << cut << ": "
                             << result.status().ToString();
    EXPECT_EQ(result->first_sequence, next);
    EXPECT_EQ(result->last_sequence, cut);
    EXPECT_FALSE(result->replayed);
    next = cut + 1;
  }
}

// Recomputes the hash of events[from] and on, each linked to the one before it.
void ReplicaTestRechain(std::vector<ReplicatedEvent>& events, size_t from) {
  for (size_t i = from; i < events.size(); ++i) {
    Event& event = events[i].event;
    if (i > 0) event.previous_hash = events[i - 1].event.hash;
    event.hash = ComputeEventHash(event.previous_hash, EncodeCanonical(event));
  }
}

void ReplicaTestExpectSameHead(const EventLog& replica, const EventLog& primary) {
  EXPECT_EQ(replica.Head().sequence, primary.Head().sequence);
  EXPECT_EQ(replica.Head().hash, primary.Head().hash);
}

void ReplicaTestExpectVerifies(const EventLog& log) {
  Result<VerifyReport> report = log.Verify(1, 0);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->first_bad_sequence << ": " << report->problem;
  EXPECT_EQ(report->events_checked, log.Head().sequence);
}

// Both logs hold the same envelopes, streams and versions.
void ReplicaTestExpectSameContent(const EventLog& replica, const EventLog& primary) {
  ReplicaTestExpectSameHead(replica, primary);
  const std::vector<Event> expected = ReplicaTestReadAll(primary);
  const std::vector<Event> copied = ReplicaTestReadAll(replica);
  ASSERT_EQ(copied.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(EncodeEnvelope(copied[i]), EncodeEnvelope(expected[i])) << "sequence " << i + 1;
  }
  std::set<std::string> streams;
  for (const Event& event : expected) streams.insert(event.stream_id);
  for (const std::string& stream : streams) {
    Result<uint64_t> version = replica.StreamVersion(stream);
    ASSERT_TRUE(version.ok()) << version.status().ToString();
    EXPECT_EQ(*version, *primary.StreamVersion(stream)) << stream;
    Result<std::vector<Event>> events = replica.ReadStream(stream, 1, read_events_max);
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    EXPECT_EQ(*events, *primary.ReadStream(stream, 1, read_events_max)) << stream;
    EXPECT_EQ(events->size(), *version) << stream;
  }
}

void ReplicaTestExpectRefused(const Result<AppendResult>& result, StatusCode code,
                              const std::string& error_code) {
  ASSERT_FALSE(result.ok()) << "expected " << error_code;
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_EQ(result.status().error_code(), error_code) << result.status().ToString();
}

class EventLogReplicaTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLog> OpenLog(const std::string& name, int64_t fixed_time = 0) {
    LogOptions options;
    options.data_dir = dir_.Sub(name);
    if (fixed_time != 0) options.clock = [fixed_time] { return fixed_time; };
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(std::move(options));
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // Opens the primary ("a") with `commands` commands and an empty replica ("b").
  void OpenPair(int commands, int64_t primary_time = 0, int64_t replica_time = 0) {
    primary_ = OpenLog("a", primary_time);
    replica_ = OpenLog("b", replica_time);
    ASSERT_TRUE(primary_ && replica_);
    commands_ = ReplicaTestPopulate(*primary_, commands);
    ASSERT_EQ(commands_.size(), static_cast<size_t>(commands));
    relayed_ = ReplicaTestRelay(*primary_, ReplicaTestReadAll(*primary_));
  }

  // The batch ends: 1, 8, inside the split command (after its second event), then 100 on.
  std::set<uint64_t> VariedCuts() const {
    const uint64_t split_first = commands_[3].result.first_sequence;
    return {1, 8, split_first + 1, split_first + 101};
  }

  TempDir dir_;
  std::unique_ptr<EventLog> primary_;
  std::unique_ptr<EventLog> replica_;
  std::vector<ReplicaTestCommand> commands_;
  std::vector<ReplicatedEvent> relayed_;
};

TEST_F(EventLogReplicaTest, ACopyMadeFromReadsHoldsTheSameBytes) {
  OpenPair(120);
  ASSERT_GE(relayed_.size(), 250u);
  ReplicaTestFeed(*replica_, relayed_, VariedCuts());
  ReplicaTestExpectSameContent(*replica_, *primary_);
  ReplicaTestExpectVerifies(*replica_);
  const uint64_t head = primary_->Head().sequence;
  primary_.reset();
  replica_.reset();
  testing::RawDatabase stored_primary(dir_.Sub("a"));
  testing::RawDatabase stored_replica(dir_.Sub("b"));
  for (uint64_t sequence = 1; sequence <= head; ++sequence) {
    EXPECT_EQ(stored_replica.GetEvent(sequence), stored_primary.GetEvent(sequence))
        << "sequence " << sequence;
  }
}

TEST_F(EventLogReplicaTest, ACopyAnswersRetriesAsThePrimaryWould) {
  OpenPair(60);
  const uint64_t split_first = commands_[3].result.first_sequence;
  ReplicaTestFeed(*replica_, relayed_, VariedCuts());
  ASSERT_EQ(replica_->Head().sequence, primary_->Head().sequence);
  for (const ReplicaTestCommand& command : commands_) {
    const std::string& key = command.request.idempotency_key;
    if (key.empty()) continue;
    Result<std::optional<IdempotencyEntry>> expected = primary_->LookupIdempotency(key);
    Result<std::optional<IdempotencyEntry>> copied = replica_->LookupIdempotency(key);
    ASSERT_TRUE(expected.ok() && copied.ok()) << key;
    ASSERT_TRUE(expected->has_value());
    ASSERT_TRUE(copied->has_value()) << key;
    EXPECT_EQ((*copied)->request_digest, (*expected)->request_digest) << key;
    EXPECT_EQ((*copied)->first_sequence, (*expected)->first_sequence) << key;
    EXPECT_EQ((*copied)->last_sequence, (*expected)->last_sequence) << key;
  }
  // The split command's record was joined across its two batches.
  Result<std::optional<IdempotencyEntry>> split = replica_->LookupIdempotency("replica-split");
  ASSERT_TRUE(split.ok() && split->has_value());
  EXPECT_EQ((*split)->first_sequence, split_first);
  EXPECT_EQ((*split)->last_sequence, split_first + 4);

  // Retried on the replica: the same request is a replay, a different one a reuse.
  const ChainHead head = replica_->Head();
  for (size_t index : {size_t{1}, size_t{2}, size_t{3}, commands_.size() - 1}) {
    const ReplicaTestCommand& command = commands_[index];
    ASSERT_FALSE(command.request.idempotency_key.empty()) << index;
    Result<AppendResult> retry = replica_->Append(command.request);
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
    EXPECT_TRUE(retry->replayed) << index;
    EXPECT_EQ(retry->first_sequence, command.result.first_sequence) << index;
    EXPECT_EQ(retry->last_sequence, command.result.last_sequence) << index;

    AppendRequest changed = command.request;
    changed.events.push_back(testing::MakeEvent("replica-other"));
    ReplicaTestExpectRefused(replica_->Append(changed), StatusCode::kConflict,
                             "idempotency_key_reused");
  }
  EXPECT_EQ(replica_->Head().sequence, head.sequence);
  EXPECT_EQ(replica_->Head().hash, head.hash);
}

TEST_F(EventLogReplicaTest, RefusedBatchesWriteNothing) {
  OpenPair(12);
  ASSERT_GE(relayed_.size(), 20u);
  ReplicaTestFeed(*replica_, ReplicaTestSlice(relayed_, 1, 10), {});
  const ChainHead head = replica_->Head();
  ASSERT_EQ(head.sequence, 10u);
  const std::vector<ReplicatedEvent> next = ReplicaTestSlice(relayed_, 11, 15);

  struct Case {
    std::string name;
    std::vector<ReplicatedEvent> batch;
    StatusCode code;
    std::string error_code;
  };
  std::vector<Case> cases;
  cases.push_back({"skips an event", ReplicaTestSlice(relayed_, 12, 15), StatusCode::kConflict,
                   "replica_chain_broken"});
  cases.push_back({"sent again", ReplicaTestSlice(relayed_, 5, 12), StatusCode::kConflict,
                   "replica_chain_broken"});
  std::vector<ReplicatedEvent> other_chain = next;
  other_chain[0].event.previous_hash[0] ^= 1;
  ReplicaTestRechain(other_chain, 0);
  cases.push_back({"links elsewhere", other_chain, StatusCode::kConflict, "replica_chain_broken"});
  std::vector<ReplicatedEvent> altered = next;
  altered[2].event.payload = R"({"altered":true})";
  cases.push_back({"altered", altered, StatusCode::kConflict, "replica_event_invalid"});
  std::vector<ReplicatedEvent> gap = next;
  gap.erase(gap.begin() + 2);
  cases.push_back({"has a gap", gap, StatusCode::kConflict, "replica_event_invalid"});
  std::vector<ReplicatedEvent> version = next;
  version[3].event.stream_version++;
  ReplicaTestRechain(version, 3);
  cases.push_back({"skips a version", version, StatusCode::kConflict, "replica_stream_version"});
  std::vector<ReplicatedEvent> repeated = next;
  repeated[3].event.stream_version--;
  ReplicaTestRechain(repeated, 3);
  cases.push_back({"repeats a version", repeated, StatusCode::kConflict, "replica_stream_version"});
  cases.push_back({"is empty", {}, StatusCode::kInvalidArgument, "replica_events_missing"});
  cases.push_back({"is too large", std::vector<ReplicatedEvent>(replicated_events_max + 1, next[0]),
                   StatusCode::kLimitExceeded, "replica_batch_too_large"});

  for (const Case& refused : cases) {
    SCOPED_TRACE(refused.name);
    ReplicaTestExpectRefused(replica_->AppendReplicated(refused.batch), refused.code,
                             refused.error_code);
    EXPECT_EQ(replica_->Head().sequence, head.sequence);
    EXPECT_EQ(replica_->Head().hash, head.hash);
    EXPECT_EQ(*replica_->Read(11, 10), std::vector<Event>());
  }
  ReplicaTestFeed(*replica_, relayed_, {});
  ReplicaTestExpectSameContent(*replica_, *primary_);
  ReplicaTestExpectVerifies(*replica_);
}

TEST_F(EventLogReplicaTest, OrdinaryAppendsContinueTheCopiedChainNeverEarlier) {
  OpenPair(30, kReplicaTestPrimaryTime, kReplicaTestReplicaTime);
  ReplicaTestFeed(*replica_, relayed_, {10});
  const ChainHead copied = replica_->Head();
  const int64_t last_time = relayed_.back().event.recorded_at_us;
  ASSERT_EQ(last_time, kReplicaTestPrimaryTime);

  auto append_and_check = [&](const std::string& payload) {
    const uint64_t before = replica_->Head().sequence;
    Result<AppendResult> result = replica_->Append(
        testing::MakeRequest({testing::MakeEvent("replica-s1", "thing.after", payload),
                              testing::MakeEvent("replica-new", "thing.after", payload)},
                             "test:replica"));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->first_sequence, before + 1);
    EXPECT_EQ(result->last_sequence, before + 2);
    Result<std::vector<Event>> written = replica_->Read(before + 1, 2);
    ASSERT_TRUE(written.ok() && written->size() == 2u);
    EXPECT_EQ((*written)[0].stream_version,
              *primary_->StreamVersion("replica-s1") + 1 + (before - copied.sequence) / 2);
    for (const Event& event : *written) EXPECT_GE(event.recorded_at_us, last_time);
    ReplicaTestExpectVerifies(*replica_);
  };
  append_and_check(R"({"n":1})");
  Result<std::vector<Event>> first_after = replica_->Read(copied.sequence + 1, 1);
  ASSERT_TRUE(first_after.ok() && first_after->size() == 1u);
  EXPECT_EQ((*first_after)[0].previous_hash, copied.hash);

  // After reopening, too: the time comes from the last event stored.
  replica_.reset();
  replica_ = OpenLog("b", kReplicaTestReplicaTime);
  ASSERT_TRUE(replica_);
  append_and_check(R"({"n":2})");
}

// 200 events of about 2 KiB each, so that one replicated batch is written in several parts.
std::vector<ReplicaTestCommand> ReplicaTestPopulateLarge(EventLog& log) {
  std::vector<ReplicaTestCommand> commands;
  const std::string filler(2000, 'p');
  for (int c = 0; c < 4; ++c) {
    std::vector<ProposedEvent> events;
    for (int i = 0; i < 50; ++i) {
      events.push_back(testing::MakeEvent(ReplicaTestStream(i), "thing.large",
                                          R"({"c":)" + std::to_string(c) + R"(,"i":)" +
                                              std::to_string(i) + R"(,"f":")" + filler + "\"}"));
    }
    AppendRequest request = testing::MakeRequest(std::move(events), "test:primary");
    if (c % 2 == 0) request.idempotency_key = "replica-large-" + std::to_string(c);
    Result<AppendResult> result = log.Append(request);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) break;
    commands.push_back({std::move(request), *result});
  }
  return commands;
}

TEST_F(EventLogReplicaTest, ABatchWrittenInPartsCopiesAndSurvivesReopening) {
  primary_ = OpenLog("a");
  replica_ = OpenLog("b");
  ASSERT_TRUE(primary_ && replica_);
  commands_ = ReplicaTestPopulateLarge(*primary_);
  ASSERT_EQ(commands_.size(), 4u);
  relayed_ = ReplicaTestRelay(*primary_, ReplicaTestReadAll(*primary_));
  ASSERT_EQ(relayed_.size(), 200u);
  size_t payload_bytes = 0;
  for (const ReplicatedEvent& replicated : relayed_)
    payload_bytes += replicated.event.payload.size();
  ASSERT_GT(payload_bytes, 4 * write_part_bytes);

  // Refused by its last event's version, after parts' worth of events: nothing is written.
  std::vector<ReplicatedEvent> bad_tail = relayed_;
  bad_tail.back().event.stream_version += 2;
  ReplicaTestRechain(bad_tail, bad_tail.size() - 1);
  ReplicaTestExpectRefused(replica_->AppendReplicated(bad_tail), StatusCode::kConflict,
                           "replica_stream_version");
  EXPECT_EQ(replica_->Head().sequence, 0u);

  Result<AppendResult> result = replica_->AppendReplicated(relayed_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->first_sequence, 1u);
  EXPECT_EQ(result->last_sequence, 200u);
  EXPECT_EQ(replica_->Counters().commands_appended, 1u);  // a batch counts as one command
  EXPECT_EQ(replica_->Counters().events_appended, 200u);
  ReplicaTestExpectSameContent(*replica_, *primary_);
  ReplicaTestExpectVerifies(*replica_);

  replica_.reset();
  replica_ = OpenLog("b");
  ASSERT_TRUE(replica_);
  EXPECT_EQ(replica_->Counters().unfinished_events_removed, 0u);
  ReplicaTestExpectSameContent(*replica_, *primary_);
  ReplicaTestExpectVerifies(*replica_);
  for (const char* key : {"replica-large-0", "replica-large-2"}) {
    Result<std::optional<IdempotencyEntry>> entry = replica_->LookupIdempotency(key);
    ASSERT_TRUE(entry.ok() && entry->has_value()) << key;
    EXPECT_EQ((*entry)->last_sequence - (*entry)->first_sequence, 49u) << key;
  }
}

}  // namespace
}  // namespace malpro

namespace malpro {
namespace {

TEST(EventLogEpochTest, AnEpochIsKeptAcrossReopeningAndNeverGoesBack) {
  testing::TempDir dir;
  LogOptions options;
  options.data_dir = dir.Sub("log");
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Result<WriterEpoch> epoch = (*log)->Epoch();
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(epoch->epoch, 1u);  // never promoted
  EXPECT_EQ(epoch->first_sequence, 1u);
  EXPECT_EQ(epoch->writer, "");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        (*log)->Append(testing::MakeRequest({testing::MakeEvent("s-" + std::to_string(i))})).ok());
  }
  // Past head + 1, or lower than the current: refused, nothing kept.
  Status refused = (*log)->SetEpoch(WriterEpoch{2, 7, "w"});
  EXPECT_EQ(refused.error_code(), errc::kLogEpochInvalid) << refused.ToString();
  ASSERT_TRUE((*log)->SetEpoch(WriterEpoch{3, 6, "writer-3"}).ok());
  refused = (*log)->SetEpoch(WriterEpoch{2, 6, "w"});
  EXPECT_EQ(refused.error_code(), errc::kLogEpochInvalid) << refused.ToString();
  log->reset();
  log = EventLog::Open(options);
  ASSERT_TRUE(log.ok());
  epoch = (*log)->Epoch();
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(epoch->epoch, 3u);
  EXPECT_EQ(epoch->first_sequence, 6u);
  EXPECT_EQ(epoch->writer, "writer-3");
  // A read-only open reads it and cannot change it.
  log->reset();
  options.read_only = true;
  log = EventLog::Open(options);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->Epoch()->writer, "writer-3");
  EXPECT_FALSE((*log)->SetEpoch(WriterEpoch{4, 6, "x"}).ok());
}

}  // namespace
}  // namespace malpro
