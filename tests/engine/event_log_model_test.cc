// Seeded randomized test of the event log against a simple in-memory reference model.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>

#include "engine/event_log.h"
#include "tests/support/log_fixture.h"
#include "tests/support/sanitizers.h"

namespace malpro {
namespace {

using testing::TempDir;

// The reference: a vector of events, stream versions, and idempotency keys.
class ReferenceLog {
 public:
  struct Stored {
    std::string stream_id;
    uint64_t version;
    std::string type;
    std::string payload;
  };
  struct Outcome {
    std::string error_code;  // empty on success
    uint64_t first = 0;
    uint64_t last = 0;
    bool replayed = false;
  };

  Outcome Append(const AppendRequest& request, const std::string& signature) {
    if (!request.idempotency_key.empty()) {
      if (auto it = keys_.find(request.idempotency_key); it != keys_.end()) {
        if (it->second.signature != signature) return {"idempotency_key_reused"};
        return {"", it->second.first, it->second.last, true};
      }
    }
    for (const StreamExpectation& expectation : request.expectations) {
      if (Version(expectation.stream_id) != expectation.version) return {"stream_version_conflict"};
    }
    Outcome outcome{"", events_.size() + 1, 0, false};
    for (const ProposedEvent& event : request.events) {
      events_.push_back({event.stream_id, ++versions_[event.stream_id], event.type, event.payload});
    }
    outcome.last = events_.size();
    if (!request.idempotency_key.empty()) {
      keys_[request.idempotency_key] = {signature, outcome.first, outcome.last};
    }
    return outcome;
  }

  uint64_t Version(const std::string& stream_id) const {
    auto it = versions_.find(stream_id);
    return it == versions_.end() ? 0 : it->second;
  }
  const std::vector<Stored>& events() const { return events_; }

 private:
  struct KeyRecord {
    std::string signature;
    uint64_t first;
    uint64_t last;
  };
  std::vector<Stored> events_;
  std::map<std::string, uint64_t> versions_;
  std::map<std::string, KeyRecord> keys_;
};

class EventLogModelTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void Reopen() {
    log_.reset();
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    // Small sets of index entries in memory: reads also meet entries on their way into the
    // index database.
    options.index_entries_in_memory = Uniform(1, 40);
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }

  std::string RandomStream() { return "s-" + std::to_string(Uniform(0, 7)); }
  uint64_t Uniform(uint64_t low, uint64_t high) {
    return std::uniform_int_distribution<uint64_t>(low, high)(random_);
  }

  // Builds a random command and the string that identifies "the same request".
  AppendRequest RandomRequest(std::string* signature) {
    AppendRequest request;
    request.actor = "model:" + std::to_string(Uniform(0, 1));
    const uint64_t count = Uniform(1, 4);
    for (uint64_t i = 0; i < count; ++i) {
      request.events.push_back({RandomStream(), "model.e" + std::to_string(Uniform(0, 2)),
                                R"({"v":)" + std::to_string(Uniform(0, 3)) + "}"});
    }
    if (Uniform(0, 9) < 7) {
      const std::string stream = Uniform(0, 1) ? request.events[0].stream_id : RandomStream();
      uint64_t version = reference_.Version(stream);
      if (Uniform(0, 9) < 3) version = Uniform(0, 1) || version == 0 ? version + 1 : version - 1;
      request.expectations.push_back({stream, version});
    }
    if (Uniform(0, 9) < 3) request.idempotency_key = "key-" + std::to_string(Uniform(0, 9));
    *signature = request.actor;
    for (const auto& e : request.expectations)
      *signature += "|" + e.stream_id + "@" + std::to_string(e.version);
    for (const auto& e : request.events)
      *signature += "|" + e.stream_id + "/" + e.type + "/" + e.payload;
    return request;
  }

  void CheckAppend() {
    std::string signature;
    AppendRequest request = RandomRequest(&signature);
    ReferenceLog::Outcome expected = reference_.Append(request, signature);
    Result<AppendResult> actual = log_->Append(request);
    if (!expected.error_code.empty()) {
      ASSERT_FALSE(actual.ok()) << signature;
      ASSERT_EQ(actual.status().error_code(), expected.error_code) << signature;
      return;
    }
    ASSERT_TRUE(actual.ok()) << actual.status().ToString() << " " << signature;
    ASSERT_EQ(actual->first_sequence, expected.first);
    ASSERT_EQ(actual->last_sequence, expected.last);
    ASSERT_EQ(actual->replayed, expected.replayed);
  }

  void CheckReads() {
    const auto& events = reference_.events();
    ASSERT_EQ(log_->Head().sequence, events.size());
    const uint64_t from = Uniform(1, events.size() + 1);
    const uint64_t limit = Uniform(1, 50);
    std::vector<Event> read = *log_->Read(from, limit);
    ASSERT_EQ(read.size(), std::min<uint64_t>(limit, events.size() + 1 - from));
    for (const Event& event : read) {
      const auto& stored = events[event.sequence - 1];
      ASSERT_EQ(event.stream_id, stored.stream_id);
      ASSERT_EQ(event.stream_version, stored.version);
      ASSERT_EQ(event.payload, stored.payload);
    }
    const std::string stream = RandomStream();
    const uint64_t from_version = Uniform(1, reference_.Version(stream) + 1);
    std::vector<Event> stream_events = *log_->ReadStream(stream, from_version, 1000);
    ASSERT_EQ(stream_events.size(), reference_.Version(stream) + 1 - from_version);
    for (size_t i = 0; i < stream_events.size(); ++i) {
      ASSERT_EQ(stream_events[i].stream_version, from_version + i);
      ASSERT_EQ(events[stream_events[i].sequence - 1].stream_id, stream);
    }
    ASSERT_EQ(*log_->StreamVersion(stream), reference_.Version(stream));
  }

  TempDir dir_;
  std::unique_ptr<EventLog> log_;
  ReferenceLog reference_;
  std::mt19937_64 random_{GetParam()};
};

TEST_P(EventLogModelTest, RandomHistoryMatchesTheReference) {
  constexpr int kOperations = testing::kSanitized ? 1500 : 3000;
  Reopen();
  for (int i = 0; i < kOperations; ++i) {
    const uint64_t choice = Uniform(0, 99);
    if (choice < 65) {
      ASSERT_NO_FATAL_FAILURE(CheckAppend()) << "operation " << i;
    } else if (choice < 97) {
      ASSERT_NO_FATAL_FAILURE(CheckReads()) << "operation " << i;
    } else {
      ASSERT_NO_FATAL_FAILURE(Reopen());
    }
  }
  Result<VerifyReport> report = log_->Verify(1, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events_checked, reference_.events().size());
}

INSTANTIATE_TEST_SUITE_P(Seeds, EventLogModelTest, ::testing::Values(1u, 2u, 3u, 20261122u));

}  // namespace
}  // namespace malpro
