// The relay against the embedded broker: real sockets, a real RocksDB log in a temp dir.
#include "adapters/kafka/relay.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/topic_audit.h"
#include "engine/base64.h"
#include "engine/tlog_store.h"
#include "tests/kafka/relay_checks.h"
#include "tests/support/log_fixture.h"

namespace malpro {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(1); }

  void Open(int brokers) {
    relay_.reset();
    broker_.reset();
    Result<std::unique_ptr<EmbeddedBroker>> broker = EmbeddedBroker::Start(brokers);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    ASSERT_TRUE(broker_->CreateTopic("malpro.events", kPartitions, 1).ok());
    if (!log_) {
      LogOptions options;
      options.data_dir = dir_.Sub("log");
      options.sync = false;  // these tests are about Kafka, not the disk
      Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      log_ = std::move(log).value();
    }
  }

  std::unique_ptr<Relay> MakeRelay() {
    RelayOptions options;
    options.brokers = broker_->bootstrap();
    options.stall_after_ms = 300;
    return std::make_unique<Relay>(log_.get(), options);
  }

  // `commands` commands of 1..3 events over `streams` streams.
  void Append(int commands, int streams = 7) {
    for (int i = 0; i < commands; ++i) {
      const std::string stream = "order-" + std::to_string((appended_ + i) % streams);
      std::vector<ProposedEvent> events;
      for (int part = 0; part <= (appended_ + i) % 3; ++part) {
        events.push_back(testing::MakeEvent(stream, "order.noted",
                                            R"({"n":)" + std::to_string(appended_ + i) + "}"));
      }
      ASSERT_TRUE(log_->Append(testing::MakeRequest(std::move(events))).ok());
    }
    appended_ += commands;
  }

  void ExpectTopicMatchesLog() {
    Result<std::vector<testing::TopicRecord>> records =
        testing::ReadWholeTopic(broker_->bootstrap(), "malpro.events");
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    testing::ExpectTopicMatchesLog(*records, *log_, kPartitions);
  }

  static constexpr int kPartitions = 3;
  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<Relay> relay_;
  int appended_ = 0;
};

TEST_F(RelayTest, PublishesEveryEventInOrderWithKeyValueAndHeaders) {
  Append(150);
  relay_ = MakeRelay();
  relay_->Start();
  Append(50);  // while it runs
  const uint64_t head = log_->Head().sequence;
  ASSERT_TRUE(relay_->WaitForPublished(head, seconds(20)));
  const RelayStatus status = relay_->Status();
  EXPECT_EQ(status.published_sequence, head);
  EXPECT_EQ(status.lag, 0u);
  EXPECT_EQ(status.events_published, head);
  EXPECT_EQ(status.state, RelayState::kPublishing);
  ExpectTopicMatchesLog();
}

TEST_F(RelayTest, RestartResumesFromTheTopicWithoutLossOrDuplicates) {
  Append(100);
  relay_ = MakeRelay();
  relay_->Start();
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  relay_->Stop();
  Append(100);
  relay_ = MakeRelay();  // no cursor kept anywhere but in the topic
  relay_->Start();
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  // Everything before the restart was found in the topic, not published again.
  const RelayStatus status = relay_->Status();
  EXPECT_LT(status.events_published, log_->Head().sequence);
  relay_->Stop();
  relay_ = MakeRelay();  // a restart with nothing new publishes nothing
  relay_->Start();
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  EXPECT_EQ(relay_->Status().events_published, 0u);
  ExpectTopicMatchesLog();
}

TEST_F(RelayTest, BrokersDownThenUpLoseNothingAndDuplicateNothing) {
  Open(3);
  Append(60);
  relay_ = MakeRelay();
  relay_->Start();
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  // Down between two appends: the mock broker does not deduplicate a retried batch that it
  // had already written (only a real broker checks the idempotent producer's sequence for
  // that), so the outage begins while nothing is in flight.
  ASSERT_TRUE(broker_->SetBrokerDown(-1).ok());
  Append(80);
  const uint64_t head = log_->Head().sequence;
  EXPECT_FALSE(relay_->WaitForPublished(head, milliseconds(1500)));
  RelayStatus status = relay_->Status();
  EXPECT_GT(status.lag, 0u);
  EXPECT_EQ(status.state, RelayState::kStalled);
  ASSERT_TRUE(broker_->SetBrokerUp(-1).ok());
  ASSERT_TRUE(relay_->WaitForPublished(head, seconds(30)));
  status = relay_->Status();
  EXPECT_EQ(status.lag, 0u);
  EXPECT_EQ(status.state, RelayState::kPublishing);
  ExpectTopicMatchesLog();
}

TEST_F(RelayTest, OneBrokerDownDelaysOnlyItsPartitions) {
  Open(3);
  relay_ = MakeRelay();
  relay_->Start();
  Append(30);
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  ASSERT_TRUE(broker_->SetBrokerDown(2).ok());
  Append(60);
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_TRUE(broker_->SetBrokerUp(2).ok());
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(30)));
  ExpectTopicMatchesLog();
}

TEST_F(RelayTest, ProduceRequestErrorsAreRetriedWithoutLossOrDuplicates) {
  relay_ = MakeRelay();
  relay_->Start();
  Append(20);
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  // Produce is Kafka API key 0. Each error refuses a whole request; the producer retries it.
  broker_->PushRequestErrors(0, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  broker_->PushRequestErrors(0, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  broker_->PushRequestErrors(0, 3, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  Append(120);
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(30)));
  ExpectTopicMatchesLog();
}

TEST_F(RelayTest, RefusesATopicThatBelongsToAnotherLog) {
  Append(20);
  relay_ = MakeRelay();
  relay_->Start();
  ASSERT_TRUE(relay_->WaitForPublished(log_->Head().sequence, seconds(20)));
  relay_->Stop();
  relay_.reset();
  // Another log with as many events but other contents (so other hashes).
  testing::TempDir other_dir;
  LogOptions options;
  options.data_dir = other_dir.Sub("log");
  options.sync = false;
  std::unique_ptr<EventLog> other = *EventLog::Open(options);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(other->Append(testing::MakeRequest({testing::MakeEvent("other-1")})).ok());
  }
  RelayOptions relay_options;
  relay_options.brokers = broker_->bootstrap();
  Relay wrong(other.get(), relay_options);
  wrong.Start();
  const auto deadline = std::chrono::steady_clock::now() + seconds(15);
  RelayStatus status = wrong.Status();
  while (status.state != RelayState::kRetrying && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    status = wrong.Status();
  }
  wrong.Stop();
  EXPECT_EQ(status.state, RelayState::kRetrying);
  EXPECT_NE(status.last_error.find("another log"), std::string::npos) << status.last_error;
  EXPECT_EQ(status.events_published, 0u);
  ExpectTopicMatchesLog();  // untouched: still exactly the first log's events
}

}  // namespace
}  // namespace malpro

namespace malpro {
namespace {

// The auditor's check of the topic: what the relay wrote verifies; an altered, repeated or
// missing record is named.
class TopicAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::move(EmbeddedBroker::Start(1)).value();
    ASSERT_TRUE(broker_->CreateTopic("malpro.events", 3, 1).ok());
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    options.sync = false;
    log_ = std::move(EventLog::Open(options)).value();
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(log_->Append(testing::MakeRequest({testing::MakeEvent(
                                   "order-" + std::to_string(i % 4), "order.noted",
                                   R"({"n":)" + std::to_string(i) + "}")}))
                      .ok());
    }
    RelayOptions relay_options;
    relay_options.brokers = broker_->bootstrap();
    Relay relay(log_.get(), relay_options);
    relay.Start();
    for (int i = 0; i < 200 && relay.Status().published_sequence < 30; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(relay.Status().published_sequence, 30u);
    relay.Stop();
    Result<std::vector<TopicRecord>> records =
        ReadWholeTopic(broker_->bootstrap(), KafkaOptions{}, "malpro.events", 20'000);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    records_ = std::move(records).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<EventLog> log_;
  std::vector<TopicRecord> records_;
};

TEST_F(TopicAuditTest, WhatTheRelayWroteVerifiesToTheLogsHead) {
  const VerifyReport report = VerifyTopicRecords(records_);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 30u);
  EXPECT_EQ(report.verified_head.hash, log_->Head().hash);
}

TEST_F(TopicAuditTest, AnAlteredRecordIsNamed) {
  for (TopicRecord& record : records_) {
    if (record.headers["sequence"] != "17") continue;
    const size_t at = record.value.find(R"(\"n\":16)");
    ASSERT_NE(at, std::string::npos) << record.value;
    record.value.replace(at, std::string_view(R"(\"n\":16)").size(), R"(\"n\":99)");
  }
  const VerifyReport report = VerifyTopicRecords(records_);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_sequence, 17u);
  EXPECT_EQ(report.problem, "content does not match its hash");
}

TEST_F(TopicAuditTest, AFormatVersionHeaderOtherThanTheValuesIsNamed) {
  for (const TopicRecord& record : records_) EXPECT_EQ(record.headers.at("format_version"), "1");
  std::vector<TopicRecord> relabelled = records_;
  for (TopicRecord& record : relabelled) {
    if (record.headers["sequence"] == "9") record.headers["format_version"] = "2";
  }
  const VerifyReport report = VerifyTopicRecords(relabelled);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_sequence, 9u);
  EXPECT_EQ(report.problem.substr(report.problem.find(": ") + 2),
            "headers or key disagree with the value");
  // Records published before the header existed carry none, and still verify.
  std::vector<TopicRecord> older = records_;
  for (TopicRecord& record : older) record.headers.erase("format_version");
  EXPECT_TRUE(VerifyTopicRecords(older).ok);
}

TEST_F(TopicAuditTest, ARepeatedOrMissingRecordIsNamed) {
  std::vector<TopicRecord> repeated = records_;
  for (const TopicRecord& record : records_) {
    if (record.headers.at("sequence") == "5") repeated.push_back(record);
  }
  repeated.back().offset += 1000;  // a later copy in the same partition
  VerifyReport report = VerifyTopicRecords(repeated);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_sequence, 5u);

  std::vector<TopicRecord> missing;
  for (const TopicRecord& record : records_) {
    if (record.headers.at("sequence") != "12") missing.push_back(record);
  }
  report = VerifyTopicRecords(missing);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_sequence, 12u);
  EXPECT_EQ(report.problem, "missing");
}

// A topic that retention trimmed: what is left chains, and two signed checkpoints from the
// checkpoints topic (one's frontier grown with the leaves after it to the other's root) tie it
// to the log; a frontier, root or key that is not the log's is named.
TEST_F(TopicAuditTest, ATrimmedTopicIsTiedToTheLogBySignedCheckpoints) {
  std::unique_ptr<TlogStore> store = std::move(TlogStore::Open(dir_.Sub("tlog"), false)).value();
  TlogBuilder builder(log_.get(), store.get());
  ASSERT_TRUE(builder.CatchUp().ok());
  std::ifstream pem(MALPRO_SOURCE_DIR "/config/trial-keys/checkpoint_private.pem");
  std::stringstream key_text;
  key_text << pem.rdbuf();
  const std::string origin = "malangkota.go.id/malpro";
  const NoteSigner signer = *NoteSigner::FromPem(origin, key_text.str(), "key");
  auto checkpoint_record = [&](uint64_t size, const Hash& root) {
    TopicRecord record;
    record.key = std::to_string(size);
    record.value = *signer.Sign(CheckpointText({origin, size, root, {}}));
    std::string frontier;
    for (const Hash& hash : *TreeFrontier(size, store->Reader(size))) frontier += HashView(hash);
    record.headers["frontier"] = Base64Encode(frontier);
    return record;
  };
  const std::vector<TopicRecord> checkpoints = {checkpoint_record(13, *store->Root(13)),
                                                checkpoint_record(30, *store->Root(30))};

  // Retention drops each partition's first two records.
  std::vector<TopicRecord> trimmed;
  std::map<int32_t, int> seen;
  for (const TopicRecord& record : records_) {
    if (seen[record.partition]++ >= 2) trimmed.push_back(record);
  }
  const TopicChain chain = VerifyTopicSuffix(trimmed);
  ASSERT_TRUE(chain.report.ok) << chain.report.problem;
  EXPECT_GT(chain.first, 3u);
  EXPECT_LE(chain.first, 13u);
  EXPECT_EQ(chain.report.verified_head.hash, log_->Head().hash);
  EXPECT_EQ(chain.hashes.size(), 30 - chain.first + 1);
  EXPECT_FALSE(VerifyTopicRecords(trimmed).ok) << "from 1, the first events are missing";

  TopicCheckpointReport tied =
      CheckTopicAgainstCheckpoints(chain, checkpoints, signer.verifier(), origin);
  ASSERT_TRUE(tied.ok) << tied.problem;
  EXPECT_EQ(tied.from_size, 13u);
  EXPECT_EQ(tied.to_size, 30u);
  EXPECT_EQ(tied.checkpoints, 2u);

  // The whole topic grows the tree from nothing.
  tied = CheckTopicAgainstCheckpoints(VerifyTopicSuffix(records_), checkpoints, signer.verifier(),
                                      origin);
  ASSERT_TRUE(tied.ok) << tied.problem;
  EXPECT_EQ(tied.from_size, 0u);
  EXPECT_EQ(tied.to_size, 30u);

  // A root that is not the events' (a forged log), a frontier that is not the tree's, another key.
  std::vector<TopicRecord> forged = checkpoints;
  forged[1] = checkpoint_record(30, *store->Root(29));
  tied = CheckTopicAgainstCheckpoints(chain, forged, signer.verifier(), origin);
  EXPECT_FALSE(tied.ok);
  EXPECT_NE(tied.problem.find("are not the log's"), std::string::npos) << tied.problem;
  std::vector<TopicRecord> bad_frontier = checkpoints;
  bad_frontier[0].headers["frontier"] = checkpoints[1].headers.at("frontier");
  tied = CheckTopicAgainstCheckpoints(chain, bad_frontier, signer.verifier(), origin);
  EXPECT_FALSE(tied.ok);
  EXPECT_NE(tied.problem.find("frontier"), std::string::npos) << tied.problem;
  const NoteSigner other = *NoteSigner::FromPem("someone.else", key_text.str(), "key");
  tied = CheckTopicAgainstCheckpoints(chain, checkpoints, other.verifier(), origin);
  EXPECT_FALSE(tied.ok);
  // No checkpoint at or after the trimmed start to grow from: nothing tied, and said so.
  tied = CheckTopicAgainstCheckpoints(chain, {checkpoints[1]}, signer.verifier(), origin);
  EXPECT_TRUE(tied.ok);
  EXPECT_EQ(tied.to_size, 0u);
}

}  // namespace
}  // namespace malpro
