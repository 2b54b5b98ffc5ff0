// Promotion, fencing and synchronous confirmation against the embedded broker: a standby
// promoted while the old primary's records keep arriving after the fences, a fresh replica that
// must end with the new primary's log alone, and a relay that confirms or refuses in time.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/kafka_client.h"
#include "adapters/kafka/promotion.h"
#include "adapters/kafka/relay.h"
#include "adapters/kafka/replica.h"
#include "adapters/kafka/topic_audit.h"
#include "engine/envelope.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "tests/support/log_fixture.h"

namespace malpro {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kFailoverDeadline = seconds(45);

class FailoverKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<EmbeddedBroker>> broker = EmbeddedBroker::Start(1);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    ASSERT_TRUE(broker_->CreateTopic("malpro.events", 4, 1).ok());
    ASSERT_TRUE(broker_->CreateTopic("malpro.epochs", 1, 1).ok());
  }

  std::unique_ptr<EventLog> OpenLog(const std::string& name) {
    LogOptions options;
    options.data_dir = dir_.Sub(name);
    options.sync = false;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Appends `commands` one-event commands over 20 streams named with `tag`.
  static void Append(EventLog& log, int commands, const std::string& tag) {
    for (int i = 0; i < commands; ++i) {
      Result<AppendResult> appended = log.Append(testing::MakeRequest(
          {testing::MakeEvent(tag + "order-" + std::to_string(i % 20), "order.noted",
                              R"({"tag":")" + tag + R"(","i":)" + std::to_string(i) + "}")}));
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    }
  }

  std::unique_ptr<Relay> StartRelay(EventLog* log, bool synchronous = false) {
    RelayOptions options;
    options.brokers = broker_->bootstrap();
    options.kafka.synchronous = synchronous;
    auto relay = std::make_unique<Relay>(log, options);
    relay->Start();
    return relay;
  }

  std::unique_ptr<Replica> StartReplica(EventLog* log, std::vector<int64_t> stop_at = {}) {
    ReplicaOptions options;
    options.brokers = broker_->bootstrap();
    options.stop_at = std::move(stop_at);
    auto replica = std::make_unique<Replica>(log, options);
    replica->Start();
    return replica;
  }

  // Publishes events from..to of `log` as a relay of `epoch` would, after whatever the topic
  // holds: a writer that has not yet seen the fence.
  void PublishAsFencedWriter(const EventLog& log, uint64_t from, uint64_t to, uint64_t epoch) {
    Result<rd_kafka_conf_t*> conf = MakeKafkaConf(broker_->bootstrap(), KafkaOptions{}, {});
    ASSERT_TRUE(conf.ok());
    Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
    ASSERT_TRUE(producer.ok());
    Result<std::vector<Event>> events = log.Read(from, static_cast<size_t>(to - from + 1));
    ASSERT_TRUE(events.ok());
    const std::string epoch_text = std::to_string(epoch);
    for (const Event& event : *events) {
      JsonWriter writer;
      WriteEventJson(writer, event, PayloadForm::kString);
      const std::string value = writer.Take();
      const std::string sequence = std::to_string(event.sequence);
      const std::string hash = HashToHex(event.hash);
      const std::string previous = HashToHex(event.previous_hash);
      ASSERT_EQ(
          rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC("malpro.events"),
                            RD_KAFKA_V_PARTITION(KafkaPartitionOf(event.stream_id, 4)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(event.stream_id.data(), event.stream_id.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_HEADER("sequence", sequence.data(), -1),
                            RD_KAFKA_V_HEADER("type", event.type.data(), -1),
                            RD_KAFKA_V_HEADER("hash", hash.data(), -1),
                            RD_KAFKA_V_HEADER("previous_hash", previous.data(), -1),
                            RD_KAFKA_V_HEADER("epoch", epoch_text.data(), -1), RD_KAFKA_V_END),
          RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ(rd_kafka_flush(producer->get(), 10'000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  static ReplicaStatus AwaitState(const Replica& replica, ReplicaState state) {
    const auto deadline = std::chrono::steady_clock::now() + kFailoverDeadline;
    ReplicaStatus status = replica.Status();
    while (status.state != state && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
      status = replica.Status();
    }
    return status;
  }

  testing::TempDir dir_;
  std::unique_ptr<EmbeddedBroker> broker_;
};

TEST_F(FailoverKafkaTest, AFencedWritersRecordsNeverReachAReplicaAndTheChainVerifies) {
  std::unique_ptr<EventLog> old_primary = OpenLog("old");
  std::unique_ptr<EventLog> standby = OpenLog("standby");
  std::unique_ptr<EventLog> reader = OpenLog("reader");
  ASSERT_TRUE(old_primary && standby && reader);
  Append(*old_primary, 300, "a-");
  {
    std::unique_ptr<Relay> relay = StartRelay(old_primary.get());
    ASSERT_TRUE(relay->WaitForPublished(300, kFailoverDeadline));
    EXPECT_EQ(relay->Status().epoch, 1u);
  }
  std::unique_ptr<Replica> following = StartReplica(standby.get());
  ASSERT_TRUE(following->WaitForApplied(300, kFailoverDeadline));
  following->Stop();

  // The promotion: the epoch and the fences; then the old primary, not knowing, relays 60
  // events of its own after them.
  Result<EpochClaim> claim =
      ClaimEpoch(broker_->bootstrap(), KafkaOptions{}, WriterEpoch{}, "standby-1");
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  EXPECT_EQ(claim->epoch, 2u);
  ASSERT_EQ(claim->fence_offsets.size(), 4u);
  Append(*old_primary, 60, "zombie-");
  PublishAsFencedWriter(*old_primary, 301, 360, 1);

  // The standby reads up to the fences: the old primary's 60 are not the history.
  std::unique_ptr<Replica> taking = StartReplica(standby.get(), claim->fence_offsets);
  EXPECT_EQ(AwaitState(*taking, ReplicaState::kFinished).state, ReplicaState::kFinished);
  taking->Stop();
  ASSERT_EQ(standby->Head().sequence, 300u);
  ASSERT_TRUE(standby->SetEpoch(WriterEpoch{2, 301, "standby-1"}).ok());
  Append(*standby, 80, "new-");
  std::unique_ptr<Relay> new_relay = StartRelay(standby.get());
  ASSERT_TRUE(new_relay->WaitForPublished(380, kFailoverDeadline))
      << new_relay->Status().last_error;
  EXPECT_EQ(new_relay->Status().epoch, 2u);

  // A replica from scratch holds the new primary's log exactly, and passed over the 60.
  std::unique_ptr<Replica> fresh = StartReplica(reader.get());
  ASSERT_TRUE(fresh->WaitForApplied(380, kFailoverDeadline)) << fresh->Status().last_error;
  std::this_thread::sleep_for(milliseconds(200));
  const ReplicaStatus status = fresh->Status();
  fresh->Stop();
  EXPECT_EQ(reader->Head().sequence, 380u);
  EXPECT_EQ(reader->Head().hash, standby->Head().hash);
  EXPECT_EQ(status.records_fenced, 60u);
  Result<std::vector<Event>> want = standby->Read(1, 400);
  Result<std::vector<Event>> got = reader->Read(1, 400);
  ASSERT_TRUE(want.ok() && got.ok());
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < want->size(); ++i) {
    ASSERT_EQ(EncodeEnvelope((*got)[i]), EncodeEnvelope((*want)[i])) << "event " << i + 1;
  }
  Result<WriterEpoch> epoch = reader->Epoch();
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(epoch->epoch, 2u);
  EXPECT_EQ(epoch->first_sequence, 301u);
  EXPECT_EQ(epoch->writer, "replica");

  // From the topic alone, the chain runs to the new primary's head.
  Result<std::vector<TopicRecord>> records =
      ReadWholeTopic(broker_->bootstrap(), KafkaOptions{}, "malpro.events", 10'000);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  const VerifyReport report = VerifyTopicRecords(*records);
  EXPECT_TRUE(report.ok) << report.problem << " at " << report.first_bad_sequence;
  EXPECT_EQ(report.verified_head.hash, standby->Head().hash);

  // The old primary's relay, started again, is fenced: it publishes nothing, confirms nothing.
  std::unique_ptr<Relay> zombie = StartRelay(old_primary.get(), /*synchronous=*/true);
  const auto deadline = std::chrono::steady_clock::now() + kFailoverDeadline;
  while (zombie->Status().state != RelayState::kFenced &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(zombie->Status().state, RelayState::kFenced);
  EXPECT_EQ(zombie->Fenced().error_code(), errc::kKafkaRelayFenced);
  const Status confirmed =
      zombie->WaitForConfirmed(360, std::chrono::steady_clock::now() + seconds(5));
  EXPECT_EQ(confirmed.error_code(), errc::kKafkaRelayFenced) << confirmed.ToString();
  EXPECT_EQ(zombie->Status().events_published, 0u);
}

TEST_F(FailoverKafkaTest, ASynchronousWriteIsConfirmedOnceRelayedAndRefusedWhenTheBrokerIsAway) {
  std::unique_ptr<EventLog> log = OpenLog("primary");
  ASSERT_TRUE(log);
  std::unique_ptr<Relay> relay = StartRelay(log.get(), /*synchronous=*/true);
  Append(*log, 50, "s-");
  Status confirmed = relay->WaitForConfirmed(50, std::chrono::steady_clock::now() + seconds(20));
  EXPECT_TRUE(confirmed.ok()) << confirmed.ToString();
  EXPECT_GE(relay->Status().confirmed_sequence, 50u);
  EXPECT_GE(relay->Status().published_sequence, 50u);

  // The broker away: the next event is not confirmed within the deadline, and says so.
  ASSERT_TRUE(broker_->SetBrokerDown(-1).ok());
  Append(*log, 1, "s-late-");
  const auto asked = std::chrono::steady_clock::now();
  confirmed = relay->WaitForConfirmed(51, asked + milliseconds(400));
  EXPECT_EQ(confirmed.error_code(), errc::kKafkaNotAcknowledged) << confirmed.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, seconds(5));
  EXPECT_LT(relay->Status().confirmed_sequence, 51u);
  // Back: it is confirmed after all.
  ASSERT_TRUE(broker_->SetBrokerUp(-1).ok());
  confirmed = relay->WaitForConfirmed(51, std::chrono::steady_clock::now() + seconds(30));
  EXPECT_TRUE(confirmed.ok()) << confirmed.ToString();
}

}  // namespace
}  // namespace malpro
