// EmbeddedBroker: a Kafka-protocol cluster inside this process, on 127.0.0.1, for `malpro
// serve` without a configured cluster and for tests. It is librdkafka's mock cluster
// (rdkafka_mock.h): real sockets and the real protocol, messages kept in memory only (and
// trimmed per partition beyond a few MiB), so it suits trials, demos and tests, not
// production. Any Kafka client, kcat included, can produce to it and consume from it.
//
// Threading: the cluster runs on its own thread; every method is safe from any thread.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/kafka/kafka_client.h"
#include "engine/result.h"

namespace malpro {

class EmbeddedBroker {
 public:
  // Starts `brokers` brokers (ids 1..brokers), each listening on its own free port of
  // 127.0.0.1, or with `port` on port, port + 1, ... (kafka.embedded_port): the same across
  // restarts. InvalidArgument unless 1 <= brokers <= embedded_brokers_max; Unavailable
  // kafka_embedded_broker_failed when a port is taken, or when this program cannot choose the
  // broker's port (only the `malpro` program links the listen-port hook, listen_port_hook.h).
  static Result<std::unique_ptr<EmbeddedBroker>> Start(int brokers = 1, int port = 0);

  // Stops the brokers; their messages are gone.
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // bootstrap.servers for clients: "127.0.0.1:PORT[,127.0.0.1:PORT...]".
  const std::string& bootstrap() const { return bootstrap_; }
  // The first broker's address, e.g. "127.0.0.1:39123": enough for `kcat -b`.
  std::string FirstAddress() const;
  int broker_count() const { return broker_count_; }

  // Creates a topic (the mock does not implement the CreateTopics request). A topic that
  // already exists keeps its partitions. replication_factor is capped at the broker count.
  Status CreateTopic(const std::string& topic, int partitions, int replication_factor);

  // Fault injection for tests. broker_id -1 means every broker.
  // Closes the broker's connections and refuses new ones (no leader change).
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);
  // The next `count` requests of Kafka API `api_key` (e.g. 0 = Produce) fail with `error`.
  void PushRequestErrors(int16_t api_key, size_t count, rd_kafka_resp_err_t error);
  // Delays every response of the broker by rtt_ms.
  Status SetBrokerRoundTrip(int32_t broker_id, int rtt_ms);

 private:
  EmbeddedBroker() = default;

  KafkaHandle owner_;  // the mock cluster's bookkeeping handle; outlives cluster_
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  int broker_count_ = 0;
};

}  // namespace malpro
