// KafkaOptions: where the Kafka adapter connects and what it names its topics. The `[kafka]`
// section of the configuration file maps onto this struct (config/malpro.toml).
#pragma once

#include <map>
#include <string>

namespace malpro {

struct KafkaOptions {
  // Turns the whole adapter off (no broker, no relay, no intake).
  bool enabled = true;
  // bootstrap.servers of a real cluster, e.g. "k1:9092,k2:9092". Empty: `malpro serve`
  // starts an embedded Kafka-protocol broker on 127.0.0.1 and uses it.
  std::string brokers;
  // Topics are <topic_prefix>.events, <topic_prefix>.commands, <topic_prefix>.command-results.
  std::string topic_prefix = "malpro";
  // Partitions and replication factor of the topics this program creates. An existing topic
  // keeps its own partition count; the relay reads it from the cluster.
  int partitions = 3;
  int replication_factor = 1;
  // Brokers of the embedded cluster (used only when `brokers` is empty).
  int embedded_brokers = 1;
  // The embedded cluster's first broker listens on this port of 127.0.0.1 (the next brokers
  // on the ports after it), the same across restarts; 0: a free port, new at each start.
  int embedded_port = 0;
  // Records the embedded cluster keeps of each topic it holds (events, changelogs): its
  // partitions are sized for them (kafka_limits.h). Its memory grows with what it keeps.
  int64_t embedded_retention_events = 100'000;
  // Synchronous mode: a write is answered only once the cluster has acknowledged (acks=all)
  // every event up to it and no promotion has fenced this primary since; else 503 after
  // synchronous_timeout_ms (docs/replication.md, "Synchronous mode").
  bool synchronous = false;
  int synchronous_timeout_ms = 5'000;
  // Consume commands from <topic_prefix>.commands and answer on .command-results.
  bool intake = false;
  // Consumer group of the command intake.
  std::string intake_group = "malpro-intake";
  // librdkafka properties passed to every client this program creates (producer, consumer,
  // admin), e.g. security.protocol, sasl.mechanism, ssl.ca.location. They are applied before
  // the settings the relay relies on (enable.idempotence and the like), which cannot be
  // overridden.
  std::map<std::string, std::string> properties;

  // Partitions of the events and changelog topics on the embedded cluster: `partitions`, or
  // more when embedded_retention_events records need them.
  int EmbeddedPartitions() const;

  std::string EventsTopic() const { return topic_prefix + ".events"; }
  std::string CommandsTopic() const { return topic_prefix + ".commands"; }
  std::string ResultsTopic() const { return topic_prefix + ".command-results"; }
  // One partition: a record per promotion (docs/replication.md, "A standby: promotion and
  // fencing").
  std::string EpochsTopic() const { return topic_prefix + ".epochs"; }
};

}  // namespace malpro
