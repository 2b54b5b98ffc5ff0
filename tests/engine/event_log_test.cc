#include "engine/event_log.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/log_format.h"
#include "engine/log_limits.h"
#include "tests/engine/worked_example.h"
#include "tests/support/log_fixture.h"

namespace malpro {
namespace {

// A format version 2 that exists only in this test binary, to show that a log of version 1
// still reads and verifies once a newer version exists: version 1's fields in the same order,
// each text field and the payload with a 32-bit length. It keeps the frame of every version
// (log_format.h): byte 0 the version, bytes 1-8 the sequence.
constexpr uint8_t kTestVersion2 = 2;
constexpr size_t kTestVersion2FixedBytes = 1 + 8 + 8 + 8;

void AppendCanonicalTestVersion2(const Event& event, std::string* out) {
  out->push_back(static_cast<char>(kTestVersion2));
  PutU64(out, event.sequence);
  PutU64(out, event.stream_version);
  PutU64(out, static_cast<uint64_t>(event.recorded_at_us));
  for (const std::string* text :
       {&event.stream_id, &event.type, &event.actor, &event.idempotency_key, &event.payload}) {
    PutU32(out, static_cast<uint32_t>(text->size()));
    out->append(*text);
  }
}

bool DecodeCanonicalTestVersion2(std::string_view canonical, Event* event) {
  if (canonical.size() < kTestVersion2FixedBytes || uint8_t(canonical[0]) != kTestVersion2) {
    return false;
  }
  event->sequence = LoadU64(canonical.substr(1));
  event->stream_version = LoadU64(canonical.substr(9));
  event->recorded_at_us = static_cast<int64_t>(LoadU64(canonical.substr(17)));
  size_t at = kTestVersion2FixedBytes;
  for (std::string* text :
       {&event->stream_id, &event->type, &event->actor, &event->idempotency_key, &event->payload}) {
    if (canonical.size() - at < 4) return false;
    const uint64_t length = LoadBigEndian(canonical.substr(at, 4));
    at += 4;
    if (canonical.size() - at < length) return false;
    text->assign(canonical.substr(at, length));
    at += length;
  }
  return at == canonical.size();
}

constexpr EnvelopeCodec kTestVersion2Codec{kTestVersion2, AppendCanonicalTestVersion2,
                                           DecodeCanonicalTestVersion2};

}  // namespace

// The envelope's test hook (engine/envelope.h): this binary knows the version 2 above.
const EnvelopeCodec* EnvelopeCodecForTesting(uint8_t version) {
  return version == kTestVersion2 ? &kTestVersion2Codec : nullptr;
}

namespace {

using testing::MakeEvent;
using testing::MakeRequest;
using testing::RawDatabase;
using testing::TempDir;

// The event stored under `sequence`.
Event StoredEvent(RawDatabase& raw, uint64_t sequence) {
  return *DecodeEnvelope(raw.GetEvent(sequence));
}

// Stores `event` under its sequence with its hash computed again, as a forger would; returns
// it with that hash.
Event PutRehashed(RawDatabase& raw, Event event) {
  event.hash = ComputeEventHash(event.previous_hash, EncodeCanonical(event));
  raw.PutEvent(event.sequence, EncodeEnvelope(event));
  return event;
}

// Applies `change` to the stored bytes of the event under `sequence`.
void ChangeStoredBytes(RawDatabase& raw, uint64_t sequence,
                       const std::function<void(std::string&)>& change) {
  std::string value = raw.GetEvent(sequence);
  change(value);
  raw.PutEvent(sequence, value);
}

// Verify failed, and first at `sequence`.
void ExpectBrokenAt(const VerifyReport& report, uint64_t sequence) {
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_sequence, sequence) << report.problem;
}

// `retry` was answered as a replay of `original`, which was written.
void ExpectReplayOf(const Result<AppendResult>& retry, const Result<AppendResult>& original) {
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_FALSE(original->replayed);
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_sequence, original->first_sequence);
  EXPECT_EQ(retry->last_sequence, original->last_sequence);
}

// A command of 1000 events of about 300 bytes over 7 streams: written in several parts.
AppendRequest LargeCommand() {
  AppendRequest request;
  request.actor = "test:big";
  const std::string filler(250, 'x');
  for (int i = 0; i < 1000; ++i) {
    request.events.push_back({"big-" + std::to_string(i % 7), "thing.happened",
                              R"({"i":)" + std::to_string(i) + R"(,"f":")" + filler + "\"}"});
  }
  return request;
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(LogOptions options = {}) {
    log_.reset();
    options.data_dir = dir_.Sub("log");
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }

  AppendResult MustAppend(AppendRequest request) {
    Result<AppendResult> result = log_->Append(std::move(request));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : AppendResult{};
  }

  void AppendEvents(int count) {
    for (int i = 0; i < count; ++i) {
      MustAppend(MakeRequest({MakeEvent("s-" + std::to_string(i % 3), "thing.happened",
                                        R"({"i":)" + std::to_string(i) + "}")}));
    }
  }

  // `commands` commands of 1000 events each, over `streams` streams.
  void AppendLargeCommands(int commands, int streams) {
    for (int command = 0; command < commands; ++command) {
      std::vector<ProposedEvent> proposed;
      for (int i = 0; i < 1000; ++i) {
        proposed.push_back(MakeEvent("s" + std::to_string(i % streams), "x.n"));
      }
      MustAppend(MakeRequest(proposed));
    }
  }

  VerifyReport VerifyAfterReopen() {
    LogOptions options;
    options.check_on_open = false;
    Reopen(options);
    Result<VerifyReport> report = log_->Verify(1, 0);
    EXPECT_TRUE(report.ok());
    return report.ok() ? *report : VerifyReport{};
  }

  // Verifies the whole chain of the open log and expects it intact; returns the report.
  VerifyReport ExpectIntactChain() {
    Result<VerifyReport> report = log_->Verify(1, 0);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return VerifyReport{};
    EXPECT_TRUE(report->ok) << report->problem;
    return *report;
  }

  // Closes the log and lets `tamper` change its stored bytes directly.
  void Tamper(const std::function<void(RawDatabase&)>& tamper) {
    log_.reset();
    RawDatabase raw(dir_.Sub("log"));
    tamper(raw);
  }

  // Tamper, then what Verify reports after the log is opened again.
  VerifyReport TamperThenVerify(const std::function<void(RawDatabase&)>& tamper) {
    Tamper(tamper);
    return VerifyAfterReopen();
  }

  // Options for another open of this test's log directory.
  LogOptions SameDirectory(bool read_only = false) {
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    options.read_only = read_only;
    return options;
  }

  // Opening the log directory again is refused as corrupt, with a message that `says` so.
  void ExpectOpenRefusedAsCorrupt(std::string_view says) {
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(SameDirectory());
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
    EXPECT_NE(opened.status().message().find(says), std::string::npos)
        << opened.status().ToString();
  }

  // Appends without waiting; the future holds the answer.
  std::future<Result<AppendResult>> AppendLater(AppendRequest request) {
    auto answer = std::make_shared<std::promise<Result<AppendResult>>>();
    std::future<Result<AppendResult>> future = answer->get_future();
    log_->AppendAsync(std::move(request), [answer](Result<AppendResult> result) {
      answer->set_value(std::move(result));
    });
    return future;
  }

  TempDir dir_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogTest, EmptyLogHasZeroHead) {
  EXPECT_EQ(log_->Head().sequence, 0u);
  EXPECT_EQ(log_->Head().hash, zero_hash);
  Result<VerifyReport> report = log_->Verify(1, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->events_checked, 0u);
}

TEST_F(EventLogTest, AppendAssignsDenseSequencesAndStreamVersions) {
  AppendResult first = MustAppend(MakeRequest({MakeEvent("a"), MakeEvent("b"), MakeEvent("a")}));
  EXPECT_EQ(first.first_sequence, 1u);
  EXPECT_EQ(first.last_sequence, 3u);
  AppendResult second = MustAppend(MakeRequest({MakeEvent("a")}));
  EXPECT_EQ(second.first_sequence, 4u);
  EXPECT_EQ(second.last_sequence, 4u);
  EXPECT_EQ(*log_->StreamVersion("a"), 3u);
  EXPECT_EQ(*log_->StreamVersion("b"), 1u);
  EXPECT_EQ(*log_->StreamVersion("never"), 0u);

  Result<std::vector<Event>> events = log_->Read(1, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[2].stream_id, "a");
  EXPECT_EQ((*events)[2].stream_version, 2u);
  EXPECT_EQ((*events)[0].previous_hash, zero_hash);
  EXPECT_EQ((*events)[1].previous_hash, (*events)[0].hash);
  EXPECT_EQ(log_->Head().hash, (*events)[3].hash);
}

TEST_F(EventLogTest, ReadStreamReturnsOnlyThatStreamFromAVersion) {
  MustAppend(
      MakeRequest({MakeEvent("a", "x.one"), MakeEvent("ab", "x.two"), MakeEvent("a", "x.three")}));
  MustAppend(MakeRequest({MakeEvent("a", "x.four")}));
  Result<std::vector<Event>> stream = log_->ReadStream("a", 2, 10);
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_EQ((*stream)[0].type, "x.three");
  EXPECT_EQ((*stream)[1].type, "x.four");
  EXPECT_EQ((*stream)[1].stream_version, 3u);
  EXPECT_EQ(log_->ReadStream("a", 1, 1)->size(), 1u);
  EXPECT_TRUE(log_->ReadStream("missing", 1, 10)->empty());
}

TEST_F(EventLogTest, ReadIntoReplacesWhatTheVectorHeldWithTheEventsRead) {
  AppendLargeCommands(2, 7);
  std::vector<Event> events;
  ASSERT_TRUE(log_->ReadInto(1, 1500, &events).ok());  // a scan
  ASSERT_EQ(events.size(), 1500u);
  const std::vector<Event> whole = *log_->Read(1, 2000);
  ASSERT_TRUE(log_->ReadInto(1999, 1500, &events).ok());  // fewer than it held: the rest goes
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], whole[1998]);
  EXPECT_EQ(events[1], whole[1999]);
  ASSERT_TRUE(log_->ReadInto(3, 4, &events).ok());  // more than it held
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i], whole[2 + i]);
  ASSERT_TRUE(log_->ReadInto(2001, 10, &events).ok());  // past the head
  EXPECT_TRUE(events.empty());
}

// A scan reads batch after batch from one position; it shows the events durable when it
// began, not those appended after.
TEST_F(EventLogTest, AScanReadsEveryEventOnceInBatchesUpToTheHeadItBeganAt) {
  AppendLargeCommands(3, 5);
  std::vector<Event> whole;
  for (uint64_t from = 1; from <= 3000; from += 1000) {
    const std::vector<Event> part = *log_->Read(from, 1000);
    whole.insert(whole.end(), part.begin(), part.end());
  }
  std::unique_ptr<EventLog::Scanner> scan = log_->Scan(2);
  MustAppend(MakeRequest({MakeEvent("late")}));  // after the scan began: not shown
  std::vector<Event> events;
  std::vector<Event> scanned;
  for (size_t limit : {1u, 1500u, 7u, 20000u, 5u}) {  // small, a scan's, over the maximum
    ASSERT_TRUE(scan->ReadInto(limit, &events).ok());
    EXPECT_LE(events.size(), std::min(limit, read_events_max));
    scanned.insert(scanned.end(), events.begin(), events.end());
  }
  ASSERT_EQ(scanned.size(), 2999u);
  for (size_t i = 0; i < scanned.size(); ++i) ASSERT_EQ(scanned[i], whole[i + 1]) << i;
  ASSERT_TRUE(scan->ReadInto(100, &events).ok());
  EXPECT_TRUE(events.empty());
  // A scan begun later shows the later event; one from past the head shows nothing.
  ASSERT_TRUE(log_->Scan(3001)->ReadInto(100, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].stream_id, "late");
  ASSERT_TRUE(log_->Scan(3002)->ReadInto(100, &events).ok());
  EXPECT_TRUE(events.empty());
}

TEST_F(EventLogTest, RecordedTimeComesFromTheClockAndNeverGoesBack) {
  std::atomic<int64_t> now{5'000'000};
  LogOptions options;
  options.clock = [&] { return now.load(); };
  Reopen(options);
  MustAppend(MakeRequest({MakeEvent("a")}));
  now = 1'000'000;  // the wall clock stepped back
  MustAppend(MakeRequest({MakeEvent("a")}));
  std::vector<Event> events = *log_->Read(1, 10);
  EXPECT_EQ(events[0].recorded_at_us, 5'000'000);
  EXPECT_EQ(events[1].recorded_at_us, 5'000'000);
}

TEST_F(EventLogTest, ExpectedVersionMismatchIsConflictAndWritesNothing) {
  MustAppend(MakeRequest({MakeEvent("order-1")}));
  AppendRequest stale = MakeRequest({MakeEvent("order-1"), MakeEvent("other")});
  stale.expectations = {{"order-1", 0}};
  Result<AppendResult> result = log_->Append(stale);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_EQ(result.status().error_code(), "stream_version_conflict");
  EXPECT_EQ(result.status().field(), "expectations[0].version");
  EXPECT_EQ(log_->Head().sequence, 1u);
  EXPECT_EQ(*log_->StreamVersion("other"), 0u);

  stale.expectations = {{"order-1", 1}};
  EXPECT_EQ(MustAppend(stale).first_sequence, 2u);
}

TEST_F(EventLogTest, AsyncAppendsAreAnsweredOnceWhenDurableBesideWaitingOnes) {
  constexpr int kAsync = 200;
  std::mutex mutex;
  std::condition_variable all_done;
  std::map<int, Result<AppendResult>> answers;
  std::atomic<int> calls{0};
  std::thread waiting([&] {
    for (int i = 0; i < 50; ++i) MustAppend(MakeRequest({MakeEvent("sync-" + std::to_string(i))}));
  });
  for (int i = 0; i < kAsync; ++i) {
    AppendRequest request = MakeRequest({MakeEvent("async-" + std::to_string(i))});
    request.expectations = {{"async-" + std::to_string(i), 0}};
    log_->AppendAsync(std::move(request), [&, i](Result<AppendResult> result) {
      ++calls;
      std::lock_guard lock(mutex);
      answers.emplace(i, std::move(result));
      all_done.notify_all();
    });
  }
  waiting.join();
  bool all_answered = false;
  {
    std::unique_lock lock(mutex);
    all_answered =
        all_done.wait_for(lock, std::chrono::seconds(30), [&] { return answers.size() == kAsync; });
  }
  if (!all_answered) {
    log_.reset();  // answers what is left while the callbacks' state still exists
    FAIL() << "not every asynchronous append was answered";
  }
  // A later append is answered after every earlier group: no second answer came meanwhile.
  MustAppend(MakeRequest({MakeEvent("barrier")}));
  EXPECT_EQ(calls.load(), kAsync);  // each exactly once
  std::set<uint64_t> sequences;
  for (const auto& [i, answer] : answers) {
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    // Durable and readable when answered: the event is there under its sequence.
    Result<std::vector<Event>> event = log_->Read(answer->first_sequence, 1);
    ASSERT_TRUE(event.ok());
    ASSERT_EQ(event->size(), 1u);
    EXPECT_EQ(event->front().stream_id, "async-" + std::to_string(i));
    sequences.insert(answer->first_sequence);
  }
  EXPECT_EQ(sequences.size(), static_cast<size_t>(kAsync));
  EXPECT_EQ(log_->Head().sequence, kAsync + 51u);
  EXPECT_TRUE(VerifyAfterReopen().ok);
}

TEST_F(EventLogTest, AsyncAppendsReportRefusalsAndConflictsWritingNothing) {
  MustAppend(MakeRequest({MakeEvent("order-1")}));
  AppendRequest stale = MakeRequest({MakeEvent("order-1")});
  stale.expectations = {{"order-1", 0}};
  Result<AppendResult> conflict = AppendLater(stale).get();
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().error_code(), "stream_version_conflict");
  AppendRequest no_actor = MakeRequest({MakeEvent("order-2")});
  no_actor.actor.clear();
  Result<AppendResult> refused = AppendLater(no_actor).get();  // refused before the queue
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Head().sequence, 1u);
}

// Groups are written first and synced while the next one is staged: nothing of a group may
// be read, and no answer given, before its sync.
TEST_F(EventLogTest, ReadersAndAnswersNeverRunAheadOfTheDurableHead) {
  constexpr int kWriters = 8;
  constexpr int kCommandsEach = 150;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> answers_ahead{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kCommandsEach; ++i) {
        AppendRequest request = MakeRequest({MakeEvent("w" + std::to_string(w))});
        if (i % 5 == 0)
          request.idempotency_key = "k-" + std::to_string(w) + "-" + std::to_string(i);
        Result<AppendResult> result = log_->Append(request);
        if (!result.ok() || result->last_sequence > log_->Head().sequence) answers_ahead++;
        if (i % 5 == 0) {  // the retry's answer, too, comes only once the original is durable
          Result<AppendResult> retry = log_->Append(request);
          if (!retry.ok() || !retry->replayed || retry->last_sequence > log_->Head().sequence) {
            answers_ahead++;
          }
        }
      }
      writers_left--;
    });
  }
  int reads = 0;
  int reads_ahead = 0;
  while (writers_left > 0) {
    const uint64_t before = log_->Head().sequence;
    Result<std::vector<Event>> events = log_->Read(before + 1, 64);
    std::unique_ptr<EventLog::Scanner> scan = log_->Scan(before + 1);  // a scan, too
    std::vector<Event> scanned;
    EXPECT_TRUE(scan->ReadInto(64, &scanned).ok());
    const uint64_t after = log_->Head().sequence;
    EXPECT_TRUE(events.ok());  // (no ASSERT while the writers run: they must be joined)
    for (const Event& event : events.ok() ? *events : std::vector<Event>()) {
      if (event.sequence > after) reads_ahead++;
    }
    for (const Event& event : scanned) {
      if (event.sequence > after) reads_ahead++;
    }
    if (++reads % 16 == 0) {  // a group being synced after the head is not damage
      Result<VerifyReport> report = log_->Verify(1, 0);
      EXPECT_TRUE(report.ok() && report->ok) << (report.ok() ? report->problem : "");
    }
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_GT(reads, 0);
  EXPECT_EQ(reads_ahead, 0) << "events were read before their group was synced";
  EXPECT_EQ(answers_ahead, 0) << "answers were given before their group was synced";
  const LogCounters counters = log_->Counters();
  EXPECT_EQ(counters.commands_appended, static_cast<uint64_t>(kWriters * kCommandsEach));
  EXPECT_GT(counters.syncs, 0u);
  EXPECT_LE(counters.syncs, counters.groups_synced);
}

// A command that lost a race learns of it only once the winner is durable, so that reading
// the stream again (as a retry does) finds the winner.
TEST_F(EventLogTest, ALoserOfARaceFindsTheWinnerWhenItIsTold) {
  for (int round = 0; round < 60; ++round) {
    const std::string stream = "race-" + std::to_string(round);
    std::vector<std::future<uint64_t>> seen;
    for (int racer = 0; racer < 2; ++racer) {
      seen.push_back(std::async(std::launch::async, [&] {
        AppendRequest request = MakeRequest({MakeEvent(stream)});
        request.expectations = {{stream, 0}};
        Result<AppendResult> result = log_->Append(request);
        if (result.ok()) return uint64_t{1};
        EXPECT_EQ(result.status().error_code(), "stream_version_conflict");
        Result<uint64_t> version = log_->StreamVersion(stream);
        return version.ok() ? *version : uint64_t{0};
      }));
    }
    for (auto& version : seen) EXPECT_EQ(version.get(), 1u) << stream;
  }
}

// A file system whose write-ahead log files fail to sync once `fail` is set.
class FailingWalSyncFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FailingWalSyncFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FailingWalSyncFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, file, debug);
    if (status.ok() && name.ends_with(".log")) {
      *file = std::make_unique<File>(std::move(*file), &fail);
    }
    return status;
  }
  std::atomic<bool> fail{false};

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, std::atomic<bool>* fail)
        : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected: the disk refused a sync");
      return target()->Sync(options, debug);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* debug) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected: the disk refused a sync");
      return target()->Fsync(options, debug);
    }

   private:
    std::atomic<bool>* fail_;
  };
};

// Refuses to create the table files the stream index ingests, while `fail` is set.
class RefusingIndexFileSystem : public rocksdb::FileSystemWrapper {
 public:
  RefusingIndexFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "RefusingIndexFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    if (fail && name.find("/stream-index-ingest/") != std::string::npos) {
      return rocksdb::IOStatus::NoSpace("injected: no room for the index file");
    }
    return target()->NewWritableFile(name, options, file, debug);
  }
  std::atomic<bool> fail{false};
};

TEST_F(EventLogTest, AnIndexFileThatCannotBeWrittenStopsAppendsAndTheIndexCatchesUpOnReopen) {
  auto file_system = std::make_shared<RefusingIndexFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(file_system);
  LogOptions options;
  options.env = env.get();
  options.index_entries_in_memory = 4;
  Reopen(options);
  for (int i = 0; i < 3; ++i) MustAppend(MakeRequest({MakeEvent("a")}));
  file_system->fail = true;
  MustAppend(MakeRequest({MakeEvent("a"), MakeEvent("b")}));  // the fifth entry: a file is due
  for (int i = 0; i < 500 && log_->Health().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const Status health = log_->Health();
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.ToString().find("stream-index-ingest"), std::string::npos) << health.ToString();
  EXPECT_FALSE(log_->Append(MakeRequest({MakeEvent("a")})).ok());
  EXPECT_EQ(log_->Head().sequence, 5u);
  log_.reset();  // closes, although what is in memory cannot be ingested

  file_system->fail = false;
  Reopen(options);  // the index catches up from the log: nothing acknowledged is missing
  ASSERT_EQ(log_->ReadStream("a", 1, 100)->size(), 4u);
  EXPECT_EQ(*log_->StreamVersion("b"), 1u);
  EXPECT_EQ(MustAppend(MakeRequest({MakeEvent("a")})).first_stream_version, 5u);
  log_.reset();  // before the environment it uses goes
}

TEST_F(EventLogTest, AFailedSyncAcknowledgesNothingAfterItAndTheLogStillCloses) {
  auto file_system = std::make_shared<FailingWalSyncFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(file_system);
  LogOptions options;
  options.env = env.get();
  Reopen(options);
  MustAppend(MakeRequest({MakeEvent("a")}));
  const ChainHead before = log_->Head();
  file_system->fail = true;
  // Many writers at once, so that groups are written while the failing sync runs.
  std::atomic<int> acknowledged{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 20; ++i) {
        AppendRequest request = MakeRequest({MakeEvent("w" + std::to_string(w))});
        if (log_->Append(std::move(request)).ok()) acknowledged++;
        answered++;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(answered, 160);
  EXPECT_EQ(acknowledged, 0);
  EXPECT_EQ(log_->Head().sequence, before.sequence);
  EXPECT_FALSE(log_->Health().ok());
  EXPECT_FALSE(AppendLater(MakeRequest({MakeEvent("b")})).get().ok());
  Result<std::vector<Event>> events = log_->Read(1, 100);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), before.sequence);  // nothing past the durable head is shown
  log_.reset();                                // the writer, syncer and indexer all stop
}

// The documented rule that a completion never calls into the log is asserted, in release
// builds too: such a call from the syncer's thread could wait for itself.
TEST_F(EventLogTest, ACompletionThatCallsIntoTheLogStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::promise<void> finished;
        log_->AppendAsync(MakeRequest({MakeEvent("a")}), [this](Result<AppendResult>) {
          (void)log_->Append(MakeRequest({MakeEvent("b")}));
        });
        finished.get_future().wait_for(std::chrono::seconds(10));
      },
      "assertion failed: !in_append_completion");
}

TEST_F(EventLogTest, ExpectationOnAStreamTheCommandDoesNotWriteIsChecked) {
  MustAppend(MakeRequest({MakeEvent("policy")}));
  AppendRequest request = MakeRequest({MakeEvent("order-1")});
  request.expectations = {{"policy", 2}};
  EXPECT_EQ(log_->Append(request).status().error_code(), "stream_version_conflict");
  request.expectations = {{"policy", 1}};
  EXPECT_TRUE(log_->Append(request).ok());
}

TEST_F(EventLogTest, IdempotentRetryReturnsOriginalResult) {
  AppendRequest request = MakeRequest({MakeEvent("a"), MakeEvent("b")});
  request.idempotency_key = "retry-1";
  AppendResult first = MustAppend(request);
  MustAppend(MakeRequest({MakeEvent("c")}));
  AppendResult retry = MustAppend(request);
  EXPECT_TRUE(retry.replayed);
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(retry.first_sequence, first.first_sequence);
  EXPECT_EQ(retry.last_sequence, first.last_sequence);
  EXPECT_EQ(log_->Head().sequence, 3u);
  EXPECT_EQ(log_->Read(1, 10)->at(0).idempotency_key, "retry-1");
}

TEST_F(EventLogTest, IdempotencyKeyWithDifferentRequestIsRejected) {
  AppendRequest request = MakeRequest({MakeEvent("a", "x.y", R"({"amount":1})")});
  request.idempotency_key = "k";
  MustAppend(request);
  AppendRequest different = request;
  different.events[0].payload = R"({"amount":2})";
  Result<AppendResult> result = log_->Append(different);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_EQ(result.status().error_code(), "idempotency_key_reused");
  EXPECT_EQ(result.status().field(), "idempotency_key");
  EXPECT_EQ(log_->Head().sequence, 1u);
}

TEST_F(EventLogTest, CallerDigestDefinesTheSameRequest) {
  AppendRequest request = MakeRequest({MakeEvent("a", "x.y", R"({"price":100})")});
  request.idempotency_key = "k";
  request.request_digest = Sha256("POST /orders body");
  MustAppend(request);
  request.events[0].payload = R"({"price":120})";  // prices moved; same client request
  Result<AppendResult> retry = log_->Append(request);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed);
}

TEST_F(EventLogTest, IdempotencyKeySurvivesReopen) {
  AppendRequest request = MakeRequest({MakeEvent("a")});
  request.idempotency_key = "durable";
  MustAppend(request);
  Reopen();
  AppendResult retry = MustAppend(request);
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.first_sequence, 1u);
  EXPECT_EQ(log_->Head().sequence, 1u);
}

TEST_F(EventLogTest, SameKeyTwiceInOneGroupWritesOnce) {
  constexpr int kThreads = 16;
  AppendRequest request = MakeRequest({MakeEvent("a")});
  request.idempotency_key = "concurrent";
  std::vector<std::thread> threads;
  std::atomic<int> replays{0};
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      Result<AppendResult> result = log_->Append(request);
      if (!result.ok())
        failures++;
      else if (result->replayed)
        replays++;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(replays.load(), kThreads - 1);
  EXPECT_EQ(log_->Head().sequence, 1u);
}

TEST_F(EventLogTest, ARetryWhileItsOriginalIsStillBeingWrittenIsAnsweredFromIt) {
  // A large command is written in parts after the writer has staged it; a retry queued right
  // behind it lands in the next group while those parts may still be on their way, where a
  // lookup in the database cannot see the original yet.
  constexpr int kRounds = 12;
  uint64_t expected_head = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<ProposedEvent> events;
    for (size_t e = 0; e < command_events_max; ++e) {
      events.push_back(MakeEvent("retried-" + std::to_string(round), "thing.happened",
                                 R"({"round":)" + std::to_string(round) + R"(,"e":)" +
                                     std::to_string(e) + R"(,"padding":"0123456789abcdef"})"));
    }
    AppendRequest original = MakeRequest(std::move(events));
    original.idempotency_key = "retry-" + std::to_string(round);
    AppendRequest retry = original;
    AppendRequest other = MakeRequest({MakeEvent("retried-" + std::to_string(round))});
    other.idempotency_key = original.idempotency_key;  // the same key for another request
    SCOPED_TRACE("round " + std::to_string(round));
    std::future<Result<AppendResult>> first = AppendLater(std::move(original));
    std::future<Result<AppendResult>> second = AppendLater(std::move(retry));
    std::future<Result<AppendResult>> third = AppendLater(std::move(other));
    const Result<AppendResult> a = first.get();
    const Result<AppendResult> b = second.get();
    const Result<AppendResult> c = third.get();
    ASSERT_NO_FATAL_FAILURE(ExpectReplayOf(b, a));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().error_code(), "idempotency_key_reused") << c.status().ToString();
    expected_head += command_events_max;
    ASSERT_EQ(log_->Head().sequence, expected_head) << "round " << round;
  }
  EXPECT_EQ(*log_->StreamVersion("retried-0"), uint64_t{command_events_max});
  EXPECT_TRUE(log_->Verify(1, 0)->ok);
}

TEST_F(EventLogTest, IdempotencyKeysAreKeptThroughRetentionThenDropped) {
  std::atomic<int64_t> now{1'700'000'000'000'000};
  LogOptions options;
  options.clock = [&] { return now.load(); };
  options.idempotency_retention_days = 7;
  Reopen(options);
  AppendRequest request = MakeRequest({MakeEvent("a", "x.y", R"({"v":1})")});
  request.idempotency_key = "old";
  MustAppend(request);
  AppendRequest different = request;
  different.events[0].payload = R"({"v":2})";

  constexpr int64_t kDay = int64_t{86400} * 1000 * 1000;
  now += 6 * kDay;
  ASSERT_TRUE(log_->Compact().ok());
  EXPECT_EQ(log_->Append(different).status().error_code(), "idempotency_key_reused");

  now += 2 * kDay;
  ASSERT_TRUE(log_->Compact().ok());
  Result<AppendResult> after = log_->Append(different);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->replayed);
}

TEST_F(EventLogTest, RetentionShorterThanSevenDaysIsRefused) {
  LogOptions options;
  options.data_dir = dir_.Sub("other");
  options.idempotency_retention_days = 6;
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().field(), "log.idempotency_retention_days");
}

struct InvalidCase {
  std::string name;
  AppendRequest request;
  std::string error_code;
  std::string field;
};

TEST_F(EventLogTest, InvalidFieldsAreRejectedWithTheirNameAndNothingIsWritten) {
  std::vector<InvalidCase> cases;
  cases.push_back({"no events", MakeRequest({}), "events_missing", "events"});
  cases.push_back({"no actor", MakeRequest({MakeEvent("a")}, ""), "actor_missing", "actor"});
  cases.push_back({"upper-case stream", MakeRequest({MakeEvent("ok"), MakeEvent("Bad")}),
                   "stream_id_invalid", "events[1].stream_id"});
  cases.push_back({"stream with NUL", MakeRequest({MakeEvent(std::string("a\0b", 3))}),
                   "stream_id_invalid", "events[0].stream_id"});
  cases.push_back({"long stream",
                   MakeRequest({MakeEvent(std::string(stream_id_bytes_max + 1, 'a'))}),
                   "stream_id_too_long", "events[0].stream_id"});
  cases.push_back(
      {"empty type", MakeRequest({MakeEvent("a", "")}), "event_type_missing", "events[0].type"});
  cases.push_back({"payload not JSON", MakeRequest({MakeEvent("a", "x", "{nope")}),
                   "payload_not_json", "events[0].payload"});
  cases.push_back({"payload not object", MakeRequest({MakeEvent("a", "x", "[1,2]")}),
                   "payload_not_object", "events[0].payload"});
  cases.push_back({"payload not minified", MakeRequest({MakeEvent("a", "x", R"({"a": 1})")}),
                   "payload_not_minified", "events[0].payload"});
  cases.push_back({"payload too large",
                   MakeRequest({MakeEvent(
                       "a", "x", R"({"a":")" + std::string(payload_bytes_max, 'x') + "\"}")}),
                   "payload_too_large", "events[0].payload"});
  cases.push_back({"too many events",
                   MakeRequest(std::vector<ProposedEvent>(command_events_max + 1, MakeEvent("a"))),
                   "too_many_events", "events"});
  AppendRequest bad_key = MakeRequest({MakeEvent("a")});
  bad_key.idempotency_key = "has space";
  cases.push_back({"bad key", bad_key, "idempotency_key_invalid", "idempotency_key"});
  AppendRequest duplicate_expectation = MakeRequest({MakeEvent("a")});
  duplicate_expectation.expectations = {{"a", 0}, {"a", 1}};
  cases.push_back({"duplicate expectation", duplicate_expectation, "expectation_duplicate",
                   "expectations[1].stream_id"});

  for (const InvalidCase& c : cases) {
    Result<AppendResult> result = log_->Append(c.request);
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.status().error_code(), c.error_code) << c.name;
    EXPECT_EQ(result.status().field(), c.field) << c.name;
    EXPECT_FALSE(result.status().message().empty()) << c.name;
  }
  EXPECT_EQ(log_->Head().sequence, 0u);
}

TEST_F(EventLogTest, ReopenRestoresHeadAndContinuesTheChain) {
  AppendEvents(10);
  const ChainHead before = log_->Head();
  Reopen();
  EXPECT_EQ(log_->Head().sequence, before.sequence);
  EXPECT_EQ(log_->Head().hash, before.hash);
  AppendEvents(5);
  EXPECT_EQ(*log_->StreamVersion("s-0"), 6u);
  const VerifyReport report = ExpectIntactChain();
  EXPECT_EQ(report.events_checked, 15u);
  EXPECT_EQ(report.verified_head.hash, log_->Head().hash);
}

TEST_F(EventLogTest, VerifyOfASubrangeIsAnchoredOnThePreviousEvent) {
  AppendEvents(20);
  Result<VerifyReport> report = log_->Verify(8, 12);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->events_checked, 5u);
  EXPECT_EQ(report->verified_head.sequence, 12u);
}

TEST_F(EventLogTest, VerifyDetectsAFlippedByte) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    ChangeStoredBytes(raw, 6, [](std::string& value) { value[value.size() / 2] ^= 0x01; });
  });
  ExpectBrokenAt(report, 6);
  EXPECT_EQ(report.events_checked, 5u);
}

TEST_F(EventLogTest, VerifyOfALongLogReportsTheFirstProblemWhereverItLies) {
  // Verify hashes a chunk of events on two threads; the first problem in sequence order is the
  // one reported, whichever thread or check finds it.
  constexpr int kCommands = 140;
  constexpr int kEventsPerCommand = 500;
  for (int c = 0; c < kCommands; ++c) {
    std::vector<ProposedEvent> events;
    for (int e = 0; e < kEventsPerCommand; ++e) {
      events.push_back(
          MakeEvent("long-" + std::to_string(e % 50), "thing.happened",
                    R"({"c":)" + std::to_string(c) + R"(,"e":)" + std::to_string(e) + "}"));
    }
    MustAppend(MakeRequest(std::move(events)));
  }
  constexpr uint64_t kTotal = uint64_t{kCommands} * kEventsPerCommand;
  std::vector<uint64_t> progress;
  Result<VerifyReport> whole = log_->Verify(1, 0, [&](uint64_t at) { progress.push_back(at); });
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->ok) << whole->problem;
  EXPECT_EQ(whole->events_checked, kTotal);
  EXPECT_EQ(progress, std::vector<uint64_t>{65536});

  struct Case {
    const char* name;
    uint64_t flipped;  // 0: none
    uint64_t removed;  // 0: none
    uint64_t first_bad;
    const char* problem;
  };
  const std::vector<Case> cases = {
      {"altered in the second half of a chunk", 14192, 0, 14192, "altered"},
      {"altered in the first half, removed later in the chunk", 12000, 15000, 12000, "altered"},
      {"removed in the first half, altered later in the chunk", 15000, 13000, 13000, "missing"},
      {"altered in the last chunk", 69999, 0, 69999, "altered"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string flipped_original;
    std::string removed_original;
    VerifyReport report = TamperThenVerify([&](RawDatabase& raw) {
      if (c.flipped != 0) {
        flipped_original = raw.GetEvent(c.flipped);
        ChangeStoredBytes(raw, c.flipped,
                          [](std::string& value) { value[value.size() / 3] ^= 0x01; });
      }
      if (c.removed != 0) {
        removed_original = raw.GetEvent(c.removed);
        raw.DeleteEvent(c.removed);
      }
    });
    ExpectBrokenAt(report, c.first_bad);
    EXPECT_EQ(report.events_checked, c.first_bad - 1);
    EXPECT_EQ(report.verified_head.sequence, c.first_bad - 1);
    EXPECT_NE(report.problem.find(c.problem), std::string::npos) << report.problem;
    Tamper([&](RawDatabase& raw) {
      if (c.flipped != 0) raw.PutEvent(c.flipped, flipped_original);
      if (c.removed != 0) raw.PutEvent(c.removed, removed_original);
    });
  }
  VerifyReport restored = VerifyAfterReopen();
  EXPECT_TRUE(restored.ok) << restored.problem;
  EXPECT_EQ(restored.events_checked, kTotal);
}

TEST_F(EventLogTest, VerifyDetectsARemovedEvent) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) { raw.DeleteEvent(4); });
  ExpectBrokenAt(report, 4);
  EXPECT_NE(report.problem.find("missing"), std::string::npos) << report.problem;
}

TEST_F(EventLogTest, VerifyDetectsARemovedLastEvent) {
  AppendEvents(10);
  ExpectBrokenAt(TamperThenVerify([](RawDatabase& raw) { raw.DeleteEvent(10); }), 10);
}

TEST_F(EventLogTest, VerifyDetectsAReorderedPair) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    const std::string third = raw.GetEvent(3);
    const std::string fourth = raw.GetEvent(4);
    raw.PutEvent(3, fourth);
    raw.PutEvent(4, third);
  });
  ExpectBrokenAt(report, 3);
}

TEST_F(EventLogTest, VerifyDetectsARewrittenEventWithARecomputedHash) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    Event event = StoredEvent(raw, 5);
    event.payload = R"({"i":999})";
    PutRehashed(raw, event);
  });
  ExpectBrokenAt(report, 6);  // event 6 no longer links to event 5
}

TEST_F(EventLogTest, VerifyDetectsARewrittenLastEventWithARecomputedHash) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    Event event = StoredEvent(raw, 10);
    event.payload = R"({"i":999})";
    PutRehashed(raw, event);
  });
  ExpectBrokenAt(report, 10);
  EXPECT_NE(report.problem.find("chain head record"), std::string::npos) << report.problem;
}

TEST_F(EventLogTest, VerifyDetectsEventsStoredAfterTheHead) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    Event extra = StoredEvent(raw, 10);
    extra.previous_hash = extra.hash;
    extra.sequence = 11;
    PutRehashed(raw, extra);
  });
  ExpectBrokenAt(report, 11);
}

// A crash between the parts of a large group leaves its first parts after the head record,
// with the record that says a group was being written from there.
TEST_F(EventLogTest, AGroupCutShortWhileWrittenInPartsIsRemovedOnOpen) {
  AppendEvents(10);
  const ChainHead head = log_->Head();
  Tamper([](RawDatabase& raw) {
    raw.PutChainedEvents(10, 3);
    raw.PutUnfinishedGroup(11);
  });
  // An auditor's read-only look before the restart: the chain up to the head verifies, and
  // the unfinished events are counted apart from it.
  LogOptions read_only = SameDirectory(/*read_only=*/true);
  read_only.check_on_open = false;
  {
    Result<std::unique_ptr<EventLog>> auditor = EventLog::Open(read_only);
    ASSERT_TRUE(auditor.ok()) << auditor.status().ToString();
    Result<VerifyReport> report = (*auditor)->Verify(1, 0);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_EQ(report->verified_head.sequence, 10u);
    EXPECT_EQ(report->unfinished_events, 3u);
  }
  Reopen();
  EXPECT_EQ(log_->Head().sequence, head.sequence);
  EXPECT_EQ(log_->Head().hash, head.hash);
  EXPECT_EQ(log_->Counters().unfinished_events_removed, 3u);
  EXPECT_EQ(log_->Read(1, 100)->size(), 10u);
  AppendResult next = MustAppend(MakeRequest({MakeEvent("s-0")}));
  EXPECT_EQ(next.first_sequence, 11u);
  EXPECT_EQ(log_->Read(11, 10)->front().stream_id, "s-0");
  EXPECT_EQ(ExpectIntactChain().unfinished_events, 0u);
  Reopen();  // and the record is gone: the next open removes nothing
  EXPECT_EQ(log_->Counters().unfinished_events_removed, 0u);
  EXPECT_EQ(log_->Head().sequence, 11u);
}

TEST_F(EventLogTest, TheFirstGroupCutShortLeavesAnEmptyLog) {
  AppendEvents(1);
  Tamper([](RawDatabase& raw) {
    raw.PutChainedEvents(1, 2);
    raw.DeleteHead();  // as if event 1 too belonged to the group cut short
    raw.PutUnfinishedGroup(1);
  });
  // Event 1 was indexed: the index, now ahead of the log, starts over from it.
  Reopen();
  EXPECT_EQ(log_->Head().sequence, 0u);
  EXPECT_EQ(log_->Counters().unfinished_events_removed, 3u);
  EXPECT_EQ(*log_->StreamVersion("s-0"), 0u);
  EXPECT_EQ(MustAppend(MakeRequest({MakeEvent("s-0")})).first_sequence, 1u);
  EXPECT_EQ(*log_->StreamVersion("s-0"), 1u);
}

TEST_F(EventLogTest, ADeletedStreamIndexIsRebuiltFromTheLog) {
  AppendEvents(30);
  log_.reset();
  std::filesystem::remove_all(dir_.Sub("log") + "/stream-index");
  Reopen();
  EXPECT_EQ(*log_->StreamVersion("s-1"), 10u);
  const std::vector<Event> events = *log_->ReadStream("s-1", 4, 100);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events.front().stream_version, 4u);
  EXPECT_EQ(events.front().sequence, 11u);  // s-1 holds events 2, 5, 8, 11, ...
  EXPECT_EQ(MustAppend(MakeRequest({MakeEvent("s-1")})).first_stream_version, 11u);
}

TEST_F(EventLogTest, EventsAfterTheHeadThatDoNotContinueItsChainAreNotRemoved) {
  AppendEvents(10);
  Tamper([](RawDatabase& raw) {
    Event forged = StoredEvent(raw, 10);
    forged.sequence = 11;  // previous hash left as event 10's own: does not link to it
    PutRehashed(raw, forged);
    raw.PutUnfinishedGroup(11);
  });
  ExpectOpenRefusedAsCorrupt("does not continue its chain");
  {
    RawDatabase raw(dir_.Sub("log"));
    EXPECT_EQ(StoredEvent(raw, 11).sequence, 11u);  // still there, for a look
  }
}

TEST_F(EventLogTest, ACommandLargerThanAPartIsWrittenWholeAndRetriedOnce) {
  // ~1000 events of ~300 bytes: several parts of write_part_bytes.
  AppendRequest request = LargeCommand();
  request.idempotency_key = "big-1";
  ASSERT_GT(request.events.size() * 300, 2 * write_part_bytes);
  // The same command twice at once: the second is staged while the first's parts are still
  // being written, and must be answered as a replay of it.
  std::future<Result<AppendResult>> first = AppendLater(request);
  std::future<Result<AppendResult>> second = AppendLater(request);
  Result<AppendResult> original = first.get();
  Result<AppendResult> retry = second.get();
  ASSERT_NO_FATAL_FAILURE(ExpectReplayOf(retry, original));
  EXPECT_EQ(log_->Head().sequence, 1000u);
  const std::vector<Event> events = *log_->Read(1, 1000);
  ASSERT_EQ(events.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(events[i].payload, request.events[i].payload);
    EXPECT_EQ(events[i].stream_version, static_cast<uint64_t>(i / 7 + 1));
  }
  EXPECT_EQ(*log_->StreamVersion("big-0"), 143u);
  Reopen();  // a clean close leaves no unfinished group
  EXPECT_EQ(log_->Counters().unfinished_events_removed, 0u);
  EXPECT_EQ(log_->Head().sequence, 1000u);
  ExpectIntactChain();
}

// A large command's payloads are checked while it is staged: a bad one late in the command
// must leave nothing behind, not even the parts staged before the check finished.
TEST_F(EventLogTest, ALargeCommandWithABadPayloadWritesNothing) {
  MustAppend(MakeRequest({MakeEvent("big-0")}));
  AppendRequest request = LargeCommand();
  request.events[900].payload = R"({"i":900,"f":)";  // cut short
  Result<AppendResult> refused = log_->Append(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().error_code(), "payload_not_json");
  EXPECT_EQ(refused.status().field(), "events[900].payload");
  EXPECT_EQ(log_->Head().sequence, 1u);
  EXPECT_EQ(*log_->StreamVersion("big-0"), 1u);
  EXPECT_EQ(*log_->StreamVersion("big-1"), 0u);
  EXPECT_EQ(log_->Counters().commands_refused, 0u);  // bad input, not a refusal
  // The versions the writer had counted for it are given back.
  request.events[900].payload = R"({"i":900})";
  AppendResult written = MustAppend(request);
  EXPECT_EQ(written.first_sequence, 2u);
  EXPECT_EQ(written.first_stream_version, 2u);  // big-0 was at 1
  EXPECT_EQ(*log_->StreamVersion("big-1"), 143u);
  Reopen();
  EXPECT_EQ(ExpectIntactChain().verified_head.sequence, 1001u);
}

TEST_F(EventLogTest, VerifyDetectsABrokenLayoutEvenWhenItsHashMatches) {
  AppendEvents(10);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    Event event = StoredEvent(raw, 10);
    std::string canonical = EncodeCanonical(event) + "junk";  // trailing bytes
    const Hash hash = ComputeEventHash(event.previous_hash, canonical);
    raw.PutEvent(
        10, canonical + std::string(HashView(event.previous_hash)) + std::string(HashView(hash)));
    raw.PutHead(10, hash);
  });
  ExpectBrokenAt(report, 10);
  EXPECT_NE(report.problem.find("layout"), std::string::npos) << report.problem;
}

TEST_F(EventLogTest, AVersionOneLogStillVerifiesAfterVersionTwoEventsFollowIt) {
  AppendEvents(10);
  // Events 11-15 as a log of version 2 would write them: continuing the chain and stream s-0.
  const auto write_as_version_2 = [](RawDatabase& raw) {
    Event event = StoredEvent(raw, 10);
    ASSERT_EQ(event.stream_id, "s-0");
    for (int i = 0; i < 5; ++i) {
      event.format_version = kTestVersion2;
      event.previous_hash = event.hash;
      event.sequence++;
      event.stream_version++;
      event.payload = R"({"written_as":2,"i":)" + std::to_string(i) + "}";
      event = PutRehashed(raw, event);
    }
    raw.PutHead(event.sequence, event.hash);
    EXPECT_EQ(uint8_t(raw.GetEvent(11)[0]), kTestVersion2);
    EXPECT_EQ(uint8_t(raw.GetEvent(10)[0]), envelope_format_version_1);
  };
  ASSERT_NO_FATAL_FAILURE(Tamper(write_as_version_2));
  Reopen();  // with the tail check, which covers all 15 events
  const VerifyReport report = ExpectIntactChain();
  EXPECT_EQ(report.events_checked, 15u);
  EXPECT_EQ(report.verified_head.hash, log_->Head().hash);
  Result<VerifyReport> anchored = log_->Verify(12, 14);  // anchored on a version 2 event
  ASSERT_TRUE(anchored.ok());
  EXPECT_TRUE(anchored->ok) << anchored->problem;

  // Reads carry each event's version; the stream index took the version 2 events on open.
  Result<std::vector<Event>> events = log_->Read(1, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 15u);
  for (const Event& event : *events) {
    EXPECT_EQ(event.format_version, event.sequence <= 10 ? 1 : 2) << event.sequence;
  }
  EXPECT_EQ((*events)[12].payload, R"({"written_as":2,"i":2})");
  Result<std::vector<Event>> stream = log_->ReadStream("s-0", 5, 100);
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->size(), 5u);
  EXPECT_EQ(stream->front().sequence, 11u);
  EXPECT_EQ(stream->front().format_version, kTestVersion2);

  // Writing always uses the current version, after version 2 events too.
  AppendEvents(3);
  events = log_->Read(16, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ(events->front().format_version, envelope_format_version_current);
  EXPECT_EQ(events->front().stream_version, 10u);  // s-0 after its version 2 events
  EXPECT_EQ(ExpectIntactChain().events_checked, 18u);
}

TEST_F(EventLogTest, ALogWrittenOnlyWithVersionOneVerifiesUnchanged) {
  LogOptions options;
  options.clock = [] { return int64_t{1763769600000000}; };
  Reopen(options);
  AppendEvents(5);
  EXPECT_EQ(ExpectIntactChain().events_checked, 5u);
  // The chain of version 1 as docs/event-log-format.md specifies it, computed apart from this
  // code (with the recipe of scripts/verify_export.py): a format change would move it.
  EXPECT_EQ(HashToHex(log_->Head().hash),
            "5cd3f38c62cc483a4068ee4583f65f5a3df1ebea1a70ce0636810169f324491e");
  Result<std::vector<Event>> events = log_->Read(1, 5);
  ASSERT_TRUE(events.ok());
  for (const Event& event : *events) EXPECT_EQ(event.format_version, envelope_format_version_1);
}

TEST_F(EventLogTest, AnEnvelopeOfAnUnknownVersionFailsVerifyAndReadsNamingTheVersion) {
  AppendEvents(6);
  VerifyReport report = TamperThenVerify([](RawDatabase& raw) {
    ChangeStoredBytes(raw, 4, [](std::string& value) { value[0] = 9; });
  });
  ExpectBrokenAt(report, 4);
  EXPECT_EQ(report.events_checked, 3u);
  EXPECT_EQ(report.problem, "unknown envelope format version 9");
  Result<std::vector<Event>> read = log_->Read(4, 1);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  EXPECT_NE(read.status().message().find("format version 9"), std::string::npos);
  EXPECT_NE(read.status().message().find("sequence 4"), std::string::npos);
}

// The worked example of docs/event-log-format.md, section 3, appended through the log: what it
// stores under the event's key, the chain head record and the stream index entry are the bytes
// the document prints.
TEST_F(EventLogTest, TheDocumentedWorkedExampleIsWhatTheLogStores) {
  if (testing::source_dir.empty()) GTEST_SKIP() << "built without MALPRO_SOURCE_DIR";
  const testing::WorkedExample example = testing::ReadWorkedExample();
  const Event documented = testing::WorkedExampleEvent();
  LogOptions options;
  options.clock = [&] { return documented.recorded_at_us; };
  Reopen(options);
  AppendRequest request = MakeRequest(
      {MakeEvent(documented.stream_id, documented.type, documented.payload)}, documented.actor);
  MustAppend(std::move(request));
  log_.reset();
  {
    RawDatabase raw(dir_.Sub("log"));
    EXPECT_EQ(BytesToHex(raw.GetEvent(1)),
              example.canonical_hex + std::string(64, '0') + example.hash_hex);
    std::string head;
    ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), chain_head_key, &head).ok());
    EXPECT_EQ(BytesToHex(head), example.chain_head_prefix_hex + example.hash_hex);
  }
  rocksdb::DB* index = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::OpenForReadOnly(
          rocksdb::Options(), dir_.Sub("log") + "/" + std::string(stream_index_directory), &index)
          .ok());
  std::unique_ptr<rocksdb::DB> index_db(index);
  std::string value;
  ASSERT_TRUE(
      index_db->Get(rocksdb::ReadOptions(), testing::HexToBytes(example.index_key_hex), &value)
          .ok());
  EXPECT_EQ(BytesToHex(value), example.index_value_hex);
}

TEST_F(EventLogTest, MissingHeadRecordIsRefusedOnOpenAndReportedByVerify) {
  AppendEvents(3);
  Tamper([](RawDatabase& raw) { raw.DeleteHead(); });
  EXPECT_EQ(EventLog::Open(SameDirectory()).status().code(), StatusCode::kCorruption);
  VerifyReport report = VerifyAfterReopen();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("head record is missing"), std::string::npos) << report.problem;
}

TEST_F(EventLogTest, OpenRefusesALogWhoseTailWasTamperedWith) {
  AppendEvents(10);
  Tamper([](RawDatabase& raw) {
    ChangeStoredBytes(raw, 9, [](std::string& value) { value[30] ^= 0x10; });
  });
  ExpectOpenRefusedAsCorrupt("9");
}

TEST_F(EventLogTest, ReadOnlyOpenSeesTheLiveLogAndRefusesAppends) {
  AppendEvents(7);
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(SameDirectory(/*read_only=*/true));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->Head().sequence, 7u);
  EXPECT_TRUE((*reader)->Verify(1, 0)->ok);
  EXPECT_EQ((*reader)->Append(MakeRequest({MakeEvent("a")})).status().error_code(),
            "log_read_only");
}

TEST_F(EventLogTest, AReadOnlyOpenFindsByStreamWhatTheWriterStillHoldsInMemory) {
  LogOptions writer_options;
  writer_options.index_entries_in_memory = 20;  // some entries ingested, the rest in memory
  Reopen(writer_options);
  AppendEvents(30);
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(SameDirectory(/*read_only=*/true));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  MustAppend(MakeRequest({MakeEvent("s-1")}));  // after the reader opened: not its to see
  EXPECT_EQ(*(*reader)->StreamVersion("s-1"), 10u);
  const std::vector<Event> events = *(*reader)->ReadStream("s-1", 4, 100);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events.front().sequence, 11u);  // s-1 holds events 2, 5, 8, 11, ...
  EXPECT_EQ(events.back().sequence, 29u);
  EXPECT_EQ(*(*reader)->StreamVersion("s-2"), 10u);
  EXPECT_EQ(*(*reader)->StreamVersion("never"), 0u);
}

TEST_F(EventLogTest, AReadOnlyOpenAsOfASequenceShowsNothingAfterIt) {
  LogOptions writer_options;
  writer_options.index_entries_in_memory = 20;  // some entries ingested, the rest in memory
  Reopen(writer_options);
  AppendEvents(30);  // s-0 holds events 1, 4, 7, ..., 28; s-1 holds 2, 5, ..., 29
  const Event at_17 = log_->Read(17, 1)->front();
  LogOptions as_of = SameDirectory(/*read_only=*/true);
  as_of.read_until = 17;
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(as_of);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->Head().sequence, 17u);
  EXPECT_EQ((*reader)->Head().hash, at_17.hash);
  const std::vector<Event> read = *(*reader)->Read(15, 100);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.back().sequence, 17u);
  EXPECT_TRUE((*reader)->Read(18, 10)->empty());
  std::vector<Event> scanned;
  ASSERT_TRUE((*reader)->Scan(1)->ReadInto(100, &scanned).ok());
  EXPECT_EQ(scanned.size(), 17u);
  const std::vector<Event> stream = *(*reader)->ReadStream("s-1", 1, 100);
  ASSERT_EQ(stream.size(), 6u);  // 2, 5, 8, 11, 14, 17
  EXPECT_EQ(stream.back().sequence, 17u);
  EXPECT_EQ(*(*reader)->StreamVersion("s-1"), 6u);
  EXPECT_EQ(*(*reader)->StreamVersion("s-2"), 5u);  // 3, 6, 9, 12, 15
  EXPECT_EQ((*reader)->Append(MakeRequest({MakeEvent("a")})).status().error_code(),
            "log_read_only");
  reader->reset();
  as_of.read_until = 31;  // past the head
  EXPECT_EQ(EventLog::Open(as_of).status().error_code(), "sequence_invalid");
}

TEST_F(EventLogTest, AReadOnlyOpenVerifiesWithoutTheDerivedStreamIndex) {
  AppendEvents(12);
  log_.reset();
  {
    // The index's database is damaged: it names a manifest that is not there.
    std::ofstream current(dir_.Sub("log") + "/stream-index/CURRENT", std::ios::trunc);
    current << "MANIFEST-999999\n";
  }
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(SameDirectory(/*read_only=*/true));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Result<VerifyReport> report = (*reader)->Verify(1, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events_checked, 12u);
  // Only a read by stream needs the index, and it reports the damage.
  EXPECT_FALSE((*reader)->ReadStream("s-0", 1, 10).ok());
  EXPECT_FALSE((*reader)->StreamVersion("s-0").ok());
}

TEST_F(EventLogTest, ReadOnlyOpenOfAMissingDirectoryIsNotFound) {
  LogOptions options;
  options.data_dir = dir_.Sub("nothing-here");
  options.read_only = true;
  EXPECT_EQ(EventLog::Open(options).status().code(), StatusCode::kNotFound);
}

TEST_F(EventLogTest, WaitForSequenceWakesWhenTheEventIsDurable) {
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    AppendEvents(3);
  });
  EXPECT_TRUE(log_->WaitForSequence(3, std::chrono::seconds(10)));
  writer.join();
  EXPECT_FALSE(log_->WaitForSequence(4, std::chrono::milliseconds(10)));
}

TEST_F(EventLogTest, ConcurrentAppendsAreDenseOrderedPerStreamAndVerify) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 150;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        // Half go to a stream shared by all threads, half to the thread's own stream.
        std::string stream = i % 2 == 0 ? "shared" : "own-" + std::to_string(t);
        std::string payload = R"({"t":)" + std::to_string(t) + R"(,"i":)" + std::to_string(i) + "}";
        if (!log_->Append(MakeRequest({MakeEvent(stream, "x.y", payload)})).ok()) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  const uint64_t total = kThreads * kAppendsPerThread;
  EXPECT_EQ(log_->Head().sequence, total);

  std::map<std::string, uint64_t> versions;
  uint64_t expected = 1;
  for (uint64_t from = 1; from <= total; from += read_events_max) {
    for (const Event& event : *log_->Read(from, read_events_max)) {
      EXPECT_EQ(event.sequence, expected++);
      EXPECT_EQ(event.stream_version, ++versions[event.stream_id]) << event.stream_id;
    }
  }
  EXPECT_EQ(versions["shared"], total / 2);
  ExpectIntactChain();
}

TEST_F(EventLogTest, StreamReadsSeeEveryEntryWhileTheIndexIsWrittenInSmallFiles) {
  LogOptions options;
  options.index_entries_in_memory = 16;  // a table file ingested every few commands
  Reopen(options);
  constexpr int kWriters = 4;
  constexpr int kAppendsPerWriter = 300;
  constexpr int kStreams = 6;
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    std::vector<uint64_t> seen(kStreams, 0);
    while (writing.load()) {
      for (int s = 0; s < kStreams; ++s) {
        const std::string stream = "st-" + std::to_string(s);
        Result<std::vector<Event>> events = log_->ReadStream(stream, 1, read_events_max);
        Result<uint64_t> version = log_->StreamVersion(stream);
        if (!events.ok() || !version.ok()) {
          failures++;
          continue;
        }
        // Versions 1..n without a gap or a repeat, never fewer than seen before.
        for (size_t i = 0; i < events->size(); ++i) {
          if ((*events)[i].stream_version != i + 1 || (*events)[i].stream_id != stream) failures++;
        }
        if (events->size() < seen[s] || *version < events->size()) failures++;
        seen[s] = events->size();
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kAppendsPerWriter; ++i) {
        const std::string stream = "st-" + std::to_string((w + i) % kStreams);
        if (!log_->Append(MakeRequest({MakeEvent(stream), MakeEvent("own-" + std::to_string(w))}))
                 .ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  writing = false;
  reader.join();
  EXPECT_EQ(failures.load(), 0);

  // The index database holds table files the running log ingested (its memtable alone would
  // not have been flushed at this size).
  int tables = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("log") + "/stream-index")) {
    if (entry.path().extension() == ".sst") ++tables;
  }
  EXPECT_GT(tables, 0);

  const auto check_streams = [&] {
    uint64_t total = 0;
    for (int s = 0; s < kStreams; ++s) {
      const std::string stream = "st-" + std::to_string(s);
      const std::vector<Event> events = *log_->ReadStream(stream, 1, read_events_max);
      ASSERT_EQ(*log_->StreamVersion(stream), events.size());
      for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].stream_version, i + 1);
      total += events.size();
    }
    EXPECT_EQ(total, uint64_t{kWriters * kAppendsPerWriter});
    EXPECT_EQ(*log_->StreamVersion("own-2"), uint64_t{kAppendsPerWriter});
    const std::vector<Event> tail = *log_->ReadStream("own-0", 290, read_events_max);
    ASSERT_EQ(tail.size(), 11u);
    EXPECT_EQ(tail.front().stream_version, 290u);
  };
  check_streams();
  log_.reset();  // what is still in memory goes into the index on close
  EXPECT_TRUE(std::filesystem::is_empty(dir_.Sub("log") + "/stream-index-ingest"));
  Reopen();
  check_streams();
  EXPECT_EQ(MustAppend(MakeRequest({MakeEvent("own-1")})).first_stream_version,
            uint64_t{kAppendsPerWriter + 1});
}

TEST_F(EventLogTest, CountersShowCommandsEventsGroupsAndRefusals) {
  MustAppend(MakeRequest({MakeEvent("a"), MakeEvent("b")}));
  MustAppend(MakeRequest({MakeEvent("a")}));
  AppendRequest stale = MakeRequest({MakeEvent("a")});
  stale.expectations = {{"a", 0}};
  EXPECT_FALSE(log_->Append(stale).ok());
  const LogCounters counters = log_->Counters();
  EXPECT_EQ(counters.commands_appended, 2u);
  EXPECT_EQ(counters.events_appended, 3u);
  EXPECT_EQ(counters.groups_synced, 2u);
  EXPECT_EQ(counters.commands_refused, 1u);
  EXPECT_TRUE(log_->Health().ok());
}

TEST_F(EventLogTest, ExactlyOneOfTwoConflictingAppendsWins) {
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    const uint64_t version = *log_->StreamVersion("contested");
    std::atomic<int> wins{0};
    std::atomic<int> conflicts{0};
    auto contender = [&](int who) {
      AppendRequest request =
          MakeRequest({MakeEvent("contested", "x.y", R"({"who":)" + std::to_string(who) + "}")});
      request.expectations = {{"contested", version}};
      Result<AppendResult> result = log_->Append(request);
      if (result.ok())
        wins++;
      else if (result.status().error_code() == "stream_version_conflict")
        conflicts++;
    };
    std::thread first(contender, 1);
    std::thread second(contender, 2);
    first.join();
    second.join();
    ASSERT_EQ(wins.load(), 1) << "round " << round;
    ASSERT_EQ(conflicts.load(), 1) << "round " << round;
  }
  EXPECT_EQ(*log_->StreamVersion("contested"), uint64_t{kRounds});
}

// A copy taken from a read-only open while the log stays open for writing holds the log as
// that open saw it: its events, blobs and idempotency keys; it opens for writing with the
// stream index rebuilt, and a second copy into the same directory is refused.
TEST_F(EventLogTest, CopyToFromAReadOnlyOpenBesideTheWriterIsTheLogAsThatOpenSawIt) {
  AppendEvents(20);
  AppendRequest keyed = MakeRequest({MakeEvent("keyed")});
  keyed.idempotency_key = "copied-key";
  const AppendResult original = MustAppend(keyed);
  Result<Hash> blob = log_->PutBlob("photo bytes");
  ASSERT_TRUE(blob.ok());
  const ChainHead head = log_->Head();
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(SameDirectory(/*read_only=*/true));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  AppendEvents(5);  // after the reader opened: not in the copy
  const std::string copy_dir = dir_.Sub("copy");
  ASSERT_TRUE((*reader)->CopyTo(copy_dir).ok());
  const Status again = (*reader)->CopyTo(copy_dir);
  EXPECT_EQ(again.error_code(), "out_not_empty") << again.ToString();
  reader->reset();

  LogOptions options;
  options.data_dir = copy_dir;
  Result<std::unique_ptr<EventLog>> copy = EventLog::Open(options);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ((*copy)->Head().sequence, head.sequence);
  EXPECT_EQ((*copy)->Head().hash, head.hash);
  Result<VerifyReport> report = (*copy)->Verify(1, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(*(*copy)->GetBlob(*blob), "photo bytes");
  EXPECT_EQ(*(*copy)->StreamVersion("s-0"), 7u);
  Result<AppendResult> retry = (*copy)->Append(keyed);
  ExpectReplayOf(retry, Result<AppendResult>(original));
}

}  // namespace
}  // namespace malpro
