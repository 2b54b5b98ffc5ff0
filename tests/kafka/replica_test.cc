// The read replica against the embedded broker: a primary log relayed to the events topic, and
// a replica that makes another log in a temp dir a byte-for-byte copy of it.
#include "adapters/kafka/replica.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/relay.h"
#include "engine/envelope.h"
#include "tests/support/log_fixture.h"

namespace malpro {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kReplicaKafkaDeadline = seconds(45);

// Polls the replica's status until `done` holds or the deadline passes; returns the last seen.
ReplicaStatus ReplicaKafkaAwaitStatus(const Replica& replica,
                                      const std::function<bool(const ReplicaStatus&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kReplicaKafkaDeadline;
  ReplicaStatus status = replica.Status();
  while (!done(status) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    status = replica.Status();
  }
  return status;
}

// Every event of `primary` and of `copy` read in order: the same count, the same envelopes.
void ReplicaKafkaExpectSameEvents(const EventLog& primary, const EventLog& copy) {
  const ChainHead head = primary.Head();
  ASSERT_EQ(copy.Head().sequence, head.sequence);
  EXPECT_EQ(copy.Head().hash, head.hash);
  constexpr size_t chunk = 1000;
  size_t mismatches = 0;
  for (uint64_t from = 1; from <= head.sequence; from += chunk) {
    Result<std::vector<Event>> want = primary.Read(from, chunk);
    Result<std::vector<Event>> got = copy.Read(from, chunk);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), want->size()) << "from " << from;
    for (size_t i = 0; i < want->size(); ++i) {
      if (EncodeEnvelope((*got)[i]) != EncodeEnvelope((*want)[i])) {
        ADD_FAILURE_AT(__FILE__, __LINE__) << "event " << (*want)[i].sequence << " differs";
        if (++mismatches > 5) return;
      }
    }
  }
}

class ReplicaKafkaTest : public ::testing::Test {
 protected:
  // The broker and the events topic with `partitions` partitions; A and B are empty logs.
  void Open(int partitions) {
    Result<std::unique_ptr<EmbeddedBroker>> broker = EmbeddedBroker::Start(1);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    ASSERT_TRUE(broker_->CreateTopic("malpro.events", partitions, 1).ok());
    primary_ = OpenLog("a");
    copy_ = OpenLog("b");
    ASSERT_TRUE(primary_ && copy_);
  }

  std::unique_ptr<EventLog> OpenLog(const std::string& name) {
    LogOptions options;
    options.data_dir = dir_.Sub(name);
    options.sync = false;  // these tests are about Kafka, not the disk
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Appends commands of 1..5 events over `streams` streams to `log` until it has grown by at
  // least `events` events. Most commands carry an idempotency key (kept in keys_), every
  // third keyed one with an explicit request digest; every fifth command has no key.
  void AppendCommands(EventLog& log, int events, int streams, const std::string& tag = "") {
    const uint64_t target = log.Head().sequence + static_cast<uint64_t>(events);
    while (log.Head().sequence < target) {
      const int command = commands_++;
      const std::string stream = tag + "order-" + std::to_string(random_() % streams);
      const int count = 1 + static_cast<int>(random_() % 5);
      std::vector<ProposedEvent> proposed;
      for (int part = 0; part < count; ++part) {
        proposed.push_back(testing::MakeEvent(stream, "order.noted",
                                              R"({"command":)" + std::to_string(command) +
                                                  R"(,"part":)" + std::to_string(part) +
                                                  R"(,"tag":")" + tag + R"("})"));
      }
      AppendRequest request = testing::MakeRequest(std::move(proposed));
      if (command % 5 != 4) {
        request.idempotency_key = tag + "key-" + std::to_string(command);
        if (command % 3 == 0) {
          Hash digest{};
          digest.fill(static_cast<uint8_t>(command % 251));
          digest[0] = 0xd1;
          request.request_digest = digest;
        }
        keys_.push_back(request.idempotency_key);
      }
      Result<AppendResult> appended = log.Append(std::move(request));
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    }
  }

  void StartRelay() {
    RelayOptions options;
    options.brokers = broker_->bootstrap();
    relay_ = std::make_unique<Relay>(primary_.get(), options);
    relay_->Start();
  }

  void AwaitPublished() {
    ASSERT_TRUE(relay_->WaitForPublished(primary_->Head().sequence, kReplicaKafkaDeadline))
        << "relay published " << relay_->Status().published_sequence << " of "
        << primary_->Head().sequence;
  }

  std::unique_ptr<Replica> MakeReplica(EventLog* log) {
    ReplicaOptions options;  // no verifier nor tree: checkpoints are not checked here
    options.brokers = broker_->bootstrap();
    options.kafka = KafkaOptions{};
    return std::make_unique<Replica>(log, options);
  }

  void AwaitApplied(const Replica& replica) {
    const uint64_t head = primary_->Head().sequence;
    ASSERT_TRUE(replica.WaitForApplied(head, kReplicaKafkaDeadline))
        << "replica at " << copy_->Head().sequence << " of " << head << ", state "
        << ReplicaStateName(replica.Status().state) << ", error " << replica.Status().last_error;
  }

  // B holds A's events, envelope for envelope, and A's record of every idempotency key.
  void ExpectCopyEqualsPrimary() {
    ReplicaKafkaExpectSameEvents(*primary_, *copy_);
    ASSERT_FALSE(keys_.empty());
    for (const std::string& key : keys_) {
      Result<std::optional<IdempotencyEntry>> want = primary_->LookupIdempotency(key);
      Result<std::optional<IdempotencyEntry>> got = copy_->LookupIdempotency(key);
      ASSERT_TRUE(want.ok() && got.ok()) << key;
      ASSERT_TRUE(want->has_value()) << key;
      ASSERT_TRUE(got->has_value()) << key << " is not in the copy";
      EXPECT_EQ(HashToHex((*got)->request_digest), HashToHex((*want)->request_digest)) << key;
      EXPECT_EQ((*got)->first_sequence, (*want)->first_sequence) << key;
      EXPECT_EQ((*got)->last_sequence, (*want)->last_sequence) << key;
    }
    Result<VerifyReport> verified = copy_->Verify(1, 0);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_TRUE(verified->ok) << verified->problem << " at " << verified->first_bad_sequence;
    EXPECT_EQ(verified->events_checked, primary_->Head().sequence);
  }

  // The replica has caught up with A's head and says so.
  void ExpectFollowingAtHead(const Replica& replica, uint64_t events_applied) {
    const uint64_t head = primary_->Head().sequence;
    const ReplicaStatus status = ReplicaKafkaAwaitStatus(replica, [&](const ReplicaStatus& s) {
      return s.state == ReplicaState::kFollowing && s.lag == 0 && s.applied_sequence == head;
    });
    EXPECT_EQ(status.state, ReplicaState::kFollowing) << ReplicaStateName(status.state);
    EXPECT_EQ(status.lag, 0u);
    EXPECT_EQ(status.applied_sequence, head);
    EXPECT_EQ(status.topic_sequence, head);
    EXPECT_EQ(status.events_applied, events_applied);
    EXPECT_NE(status.applied_recorded_at_us, 0);
    EXPECT_GE(status.sessions_started, 1u);
  }

  testing::TempDir dir_;
  std::unique_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<EventLog> primary_;  // A
  std::unique_ptr<EventLog> copy_;     // B
  std::unique_ptr<Relay> relay_;       // declared after the logs: destroyed before them
  std::vector<std::string> keys_;
  std::mt19937 random_{20240611};
  int commands_ = 0;
};

TEST_F(ReplicaKafkaTest, ACopyFromTheTopicHoldsThePrimarysBytesAndKeys) {
  Open(7);
  AppendCommands(*primary_, 2000, 50);
  StartRelay();
  AwaitPublished();
  std::unique_ptr<Replica> replica = MakeReplica(copy_.get());
  EXPECT_EQ(replica->Status().state, ReplicaState::kStopped);
  replica->Start();
  AwaitApplied(*replica);
  ExpectFollowingAtHead(*replica, primary_->Head().sequence);
  ExpectCopyEqualsPrimary();
  // While it runs: each new event is relayed and applied.
  AppendCommands(*primary_, 500, 50);
  AwaitPublished();
  AwaitApplied(*replica);
  ExpectFollowingAtHead(*replica, primary_->Head().sequence);
  replica->Stop();
  EXPECT_EQ(replica->Status().state, ReplicaState::kStopped);
  ExpectCopyEqualsPrimary();
}

TEST_F(ReplicaKafkaTest, ARestartedReplicaGoesOnFromItsOwnHead) {
  Open(7);
  AppendCommands(*primary_, 2000, 50);
  StartRelay();
  AwaitPublished();
  std::unique_ptr<Replica> replica = MakeReplica(copy_.get());
  replica->Start();
  AwaitApplied(*replica);
  replica->Stop();
  replica.reset();
  const ChainHead stopped_at = copy_->Head();
  ASSERT_EQ(stopped_at.sequence, primary_->Head().sequence);
  AppendCommands(*primary_, 700, 50);
  AwaitPublished();
  EXPECT_EQ(copy_->Head().sequence, stopped_at.sequence);  // nothing applied while stopped
  replica = MakeReplica(copy_.get());
  replica->Start();
  AwaitApplied(*replica);
  ExpectFollowingAtHead(*replica, primary_->Head().sequence - stopped_at.sequence);
  replica->Stop();
  ExpectCopyEqualsPrimary();
}

TEST_F(ReplicaKafkaTest, AnotherLogsTopicStopsTheReplicaWithoutWriting) {
  Open(7);
  AppendCommands(*primary_, 200, 20);
  StartRelay();
  AwaitPublished();
  // B holds a few events of its own: the topic's next event does not follow its head.
  keys_.clear();
  AppendCommands(*copy_, 4, 3, "b-");
  const ChainHead before = copy_->Head();
  ASSERT_LT(before.sequence, 20u);
  std::unique_ptr<Replica> replica = MakeReplica(copy_.get());
  replica->Start();
  ReplicaStatus status = ReplicaKafkaAwaitStatus(
      *replica, [](const ReplicaStatus& s) { return s.state == ReplicaState::kFailed; });
  EXPECT_EQ(status.state, ReplicaState::kFailed) << ReplicaStateName(status.state);
  EXPECT_TRUE(status.last_error.find("this log's head") != std::string::npos ||
              status.last_error.find("another log") != std::string::npos)
      << status.last_error;
  std::this_thread::sleep_for(milliseconds(300));  // nothing more comes after the failure
  EXPECT_EQ(replica->Status().state, ReplicaState::kFailed);
  EXPECT_EQ(replica->Status().events_applied, 0u);
  replica->Stop();
  EXPECT_EQ(copy_->Head().sequence, before.sequence);
  EXPECT_EQ(copy_->Head().hash, before.hash);

  // A log C longer than the topic: the partitions' last records are in its range and are not
  // its events, which the replica finds before reading anything.
  std::unique_ptr<EventLog> longer = OpenLog("c");
  ASSERT_TRUE(longer);
  AppendCommands(*longer, static_cast<int>(primary_->Head().sequence) + 50, 20, "c-");
  const ChainHead longer_before = longer->Head();
  replica = MakeReplica(longer.get());
  replica->Start();
  status = ReplicaKafkaAwaitStatus(
      *replica, [](const ReplicaStatus& s) { return s.state == ReplicaState::kFailed; });
  replica->Stop();
  EXPECT_EQ(status.state, ReplicaState::kFailed) << ReplicaStateName(status.state);
  EXPECT_NE(status.last_error.find("another log"), std::string::npos) << status.last_error;
  EXPECT_EQ(longer->Head().sequence, longer_before.sequence);
  EXPECT_EQ(longer->Head().hash, longer_before.hash);
}

TEST_F(ReplicaKafkaTest, EventsArriveInAnyPartitionOrderAndAreAppliedInSequence) {
  Open(16);
  // Many streams over many partitions: consecutive sequences land in different partitions,
  // which the consumer reads in no particular order between them.
  AppendCommands(*primary_, 1500, 97);
  StartRelay();
  AwaitPublished();
  std::unique_ptr<Replica> replica = MakeReplica(copy_.get());
  replica->Start();
  AppendCommands(*primary_, 300, 97);  // while the replica catches up
  AwaitPublished();
  AwaitApplied(*replica);
  ExpectFollowingAtHead(*replica, primary_->Head().sequence);
  replica->Stop();
  ExpectCopyEqualsPrimary();
}

}  // namespace
}  // namespace malpro
