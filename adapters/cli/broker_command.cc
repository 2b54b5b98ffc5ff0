// `malpro broker`: the embedded Kafka-protocol broker on its own, for a primary, its replicas
// and a standby on one machine (docs/replication.md, "Trying failover on one machine"). The
// same broker as `malpro serve` embeds (librdkafka's mock cluster): real sockets and protocol,
// messages in memory only, lost when it stops. The primary and the replicas use it as
// kafka.brokers; it outlives any of them, so a primary can be killed and a replica promoted.
#include <iostream>
#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/kafka_limits.h"
#include "projections/read_models.h"

namespace malpro::cli {
namespace {

int RunBroker(const CommonOptions& common) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();
  const KafkaOptions& kafka = config->kafka;
  Result<std::unique_ptr<EmbeddedBroker>> broker =
      EmbeddedBroker::Start(kafka.embedded_brokers, kafka.embedded_port);
  if (!broker.ok()) return Fail(broker.status());
  // Every topic `malpro serve` creates on its embedded broker, sized the same.
  for (const std::string& topic :
       {kafka.EventsTopic(), kafka.CommandsTopic(), kafka.ResultsTopic()}) {
    Status created =
        (*broker)->CreateTopic(topic, kafka.EmbeddedPartitions(), kafka.replication_factor);
    if (!created.ok()) return Fail(created);
  }
  ReadModels models;  // their changelog topics, as `malpro serve` names them
  for (const Projection* model : models.All()) {
    const std::string topic = kafka.topic_prefix + ".proj." + std::string(model->name());
    Status created =
        (*broker)->CreateTopic(topic, kafka.EmbeddedPartitions(), kafka.replication_factor);
    if (!created.ok()) return Fail(created);
  }
  for (const std::string& topic : {kafka.topic_prefix + ".checkpoints", kafka.EpochsTopic()}) {
    Status created = (*broker)->CreateTopic(topic, 1, kafka.replication_factor);
    if (!created.ok()) return Fail(created);
  }
  const std::string address = (*broker)->FirstAddress();
  std::cout << "malpro: embedded Kafka broker at " << address << " (kafka.brokers = \""
            << (*broker)->bootstrap() << "\"); in memory only, lost when it stops; keeps about "
            << kafka.embedded_retention_events << " records a topic (" << kafka.EmbeddedPartitions()
            << " partitions of " << (embedded_partition_bytes >> 20) << " MiB)" << std::endl;
  std::cout << "malpro: running; stop with Ctrl-C" << std::endl;
  const int signal_number = WaitForStopSignal({});
  std::cout << "malpro: signal " << signal_number << ", stopping; the broker's records are gone"
            << std::endl;
  return kExitOk;
}

}  // namespace

void AddBrokerCommand(CLI::App& app, std::vector<Command>& commands) {
  CLI::App* broker = app.add_subcommand(
      "broker",
      "run the embedded Kafka-protocol broker on its own (in memory) until SIGINT/SIGTERM, for a "
      "primary and its replicas on one machine (docs/replication.md)");
  commands.push_back({broker, RunBroker});
}

}  // namespace malpro::cli
