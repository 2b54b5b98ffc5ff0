// The embedded broker keeps what its start line promises: a log of the demo month's size is
// whole in a topic sized by kafka.embedded_retention_events, where the configured partition
// count alone would have dropped its oldest records.
#include <gtest/gtest.h>

#include <string>

#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/kafka_client.h"
#include "adapters/kafka/kafka_limits.h"

namespace malpro {
namespace {

// Produces `records` records of `value_bytes` each to `topic`, keyed like the relay's streams
// and partitioned by its rule, then answers how many the topic still holds (high - low
// watermark, summed over partitions).
int64_t RecordsKeptAfterProducing(const EmbeddedBroker& broker, const std::string& topic,
                                  int partitions, int records, size_t value_bytes) {
  Result<rd_kafka_conf_t*> conf =
      MakeKafkaConf(broker.bootstrap(), KafkaOptions{}, {{"linger.ms", "5"}});
  EXPECT_TRUE(conf.ok());
  Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
  EXPECT_TRUE(producer.ok());
  const std::string value(value_bytes, 'x');
  for (int i = 0; i < records; ++i) {
    const std::string key = "order-" + std::to_string(i % 9973);
    rd_kafka_resp_err_t error;
    do {
      error = rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                RD_KAFKA_V_PARTITION(KafkaPartitionOf(key, partitions)),
                                RD_KAFKA_V_KEY(key.data(), key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(producer->get(), 10);
    } while (error == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    EXPECT_EQ(error, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  EXPECT_EQ(rd_kafka_flush(producer->get(), 60'000), RD_KAFKA_RESP_ERR_NO_ERROR);
  int64_t kept = 0;
  for (int partition = 0; partition < partitions; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(producer->get(), topic.c_str(), partition, &low,
                                               &high, 10'000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    kept += high - low;
  }
  return kept;
}

TEST(EmbeddedRetentionTest, ATopicSizedForTheRetentionKeepsADemoMonthWhole) {
  // The demo month: ~66,500 events of ~700 bytes each as the relay writes them.
  constexpr int records = 70'000;
  constexpr size_t value_bytes = 700;
  KafkaOptions options;
  EXPECT_EQ(options.embedded_retention_events, 100'000);
  EXPECT_EQ(options.EmbeddedPartitions(), 20);
  options.embedded_retention_events = 1'000;
  EXPECT_EQ(options.EmbeddedPartitions(), options.partitions);  // never fewer than configured
  options.embedded_retention_events = embedded_retention_events_max;
  EXPECT_LE(options.EmbeddedPartitions(), kafka_partitions_max);

  Result<std::unique_ptr<EmbeddedBroker>> broker = EmbeddedBroker::Start(1);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  const int sized = KafkaOptions{}.EmbeddedPartitions();
  ASSERT_TRUE((*broker)->CreateTopic("sized", sized, 1).ok());
  EXPECT_EQ(RecordsKeptAfterProducing(**broker, "sized", sized, records, value_bytes), records);
  // With the configured 3 partitions, the mock drops the oldest beyond 5 MiB a partition.
  ASSERT_TRUE((*broker)->CreateTopic("configured", 3, 1).ok());
  EXPECT_LT(RecordsKeptAfterProducing(**broker, "configured", 3, records, value_bytes),
            records * 3 / 4);
}

}  // namespace
}  // namespace malpro
