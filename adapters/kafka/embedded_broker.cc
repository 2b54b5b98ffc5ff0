#include "adapters/kafka/embedded_broker.h"

#include <algorithm>
#include <vector>

#include "adapters/kafka/kafka_limits.h"
#include "engine/error_codes.h"

namespace malpro {

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(int brokers) {
  if (brokers < 1 || brokers > embedded_brokers_max) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "kafka.embedded_brokers",
        "kafka.embedded_brokers must be 1 to " + std::to_string(embedded_brokers_max));
  }
  // The mock cluster needs a client handle for its bookkeeping; this one never connects.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  if (rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Status::Unavailable(errc::kKafkaError, error);
  }
  Result<KafkaHandle> owner = NewKafkaClient(RD_KAFKA_PRODUCER, conf);
  if (!owner.ok()) return owner.status();
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->owner_ = std::move(owner).value();
  broker->cluster_ = rd_kafka_mock_cluster_new(broker->owner_.get(), brokers);
  if (broker->cluster_ == nullptr) {
    return Status::Unavailable(errc::kKafkaEmbeddedBrokerFailed,
                               "cannot start the embedded Kafka broker on 127.0.0.1");
  }
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  broker->broker_count_ = brokers;
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

std::string EmbeddedBroker::FirstAddress() const {
  return bootstrap_.substr(0, bootstrap_.find(','));
}

Status EmbeddedBroker::CreateTopic(const std::string& topic, int partitions,
                                   int replication_factor) {
  if (partitions < 1 || partitions > kafka_partitions_max) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "kafka.partitions",
        "kafka.partitions must be 1 to " + std::to_string(kafka_partitions_max));
  }
  const int replicas = std::clamp(replication_factor, 1, broker_count_);
  const rd_kafka_resp_err_t error =
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replicas);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR && error != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return KafkaStatus(error, "creating topic " + topic + " on the embedded broker");
  }
  return Status::Ok();
}

Status EmbeddedBroker::SetBrokerDown(int32_t broker_id) {
  const rd_kafka_resp_err_t error = rd_kafka_mock_broker_set_down(cluster_, broker_id);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(error, "setting a broker down");
  return Status::Ok();
}

Status EmbeddedBroker::SetBrokerUp(int32_t broker_id) {
  const rd_kafka_resp_err_t error = rd_kafka_mock_broker_set_up(cluster_, broker_id);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(error, "setting a broker up");
  return Status::Ok();
}

void EmbeddedBroker::PushRequestErrors(int16_t api_key, size_t count, rd_kafka_resp_err_t error) {
  std::vector<rd_kafka_resp_err_t> errors(count, error);
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
}

Status EmbeddedBroker::SetBrokerRoundTrip(int32_t broker_id, int rtt_ms) {
  const rd_kafka_resp_err_t error = rd_kafka_mock_broker_set_rtt(cluster_, broker_id, rtt_ms);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(error, "setting a broker's delay");
  return Status::Ok();
}

}  // namespace malpro
