#include "adapters/kafka/embedded_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "adapters/kafka/kafka_limits.h"
#include "adapters/kafka/listen_port_hook.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

// Whether a listener could bind 127.0.0.1:port now (as the hook binds it, with SO_REUSEADDR).
bool LoopbackPortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const int on = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return bound;
}

}  // namespace

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(int brokers, int port) {
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
  const std::string ports =
      port == 0
          ? std::string("free ports")
          : "port " + std::to_string(port) +
                (brokers > 1 ? " and the next " + std::to_string(brokers - 1) : std::string());
  // The mock cannot recover from a listener it fails to bind (librdkafka 2.0.2 aborts): the
  // ports asked for are tried first.
  for (int i = 0; port != 0 && i < brokers; ++i) {
    if (!LoopbackPortFree(port + i)) {
      return Status::Unavailable(errc::kKafkaEmbeddedBrokerFailed,
                                 "cannot start the embedded Kafka broker: 127.0.0.1:" +
                                     std::to_string(port + i) + " is in use (kafka.embedded_port)");
    }
  }
  {
    // The mock binds its listeners to 127.0.0.1:0 while it starts; the hook gives them these.
    ListenPortRequest request(port, brokers);
    broker->cluster_ = rd_kafka_mock_cluster_new(broker->owner_.get(), brokers);
  }
  if (broker->cluster_ == nullptr) {
    return Status::Unavailable(errc::kKafkaEmbeddedBrokerFailed,
                               "cannot start the embedded Kafka broker on 127.0.0.1 (" + ports +
                                   (port == 0 ? ")" : "; taken? kafka.embedded_port)"));
  }
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  if (port != 0 && broker->FirstAddress() != "127.0.0.1:" + std::to_string(port)) {
    return Status::Unavailable(errc::kKafkaEmbeddedBrokerFailed,
                               "the embedded Kafka broker listens on " + broker->FirstAddress() +
                                   ", not on the port asked for (kafka.embedded_port " +
                                   std::to_string(port) +
                                   "): only the malpro program can choose its port");
  }
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
