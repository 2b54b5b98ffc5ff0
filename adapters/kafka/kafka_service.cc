#include "adapters/kafka/kafka_service.h"

#include <algorithm>

#include "adapters/kafka/kafka_limits.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {

int KafkaOptions::EmbeddedPartitions() const {
  const int64_t bytes = embedded_retention_events * embedded_record_bytes;
  const int64_t sized = (bytes + embedded_partition_bytes - 1) / embedded_partition_bytes;
  return static_cast<int>(std::clamp<int64_t>(sized, partitions, kafka_partitions_max));
}

Result<std::unique_ptr<KafkaService>> KafkaService::Start(const KafkaOptions& options,
                                                          EventLog* log, Ledger* ledger,
                                                          const Projector* projector) {
  std::unique_ptr<KafkaService> service(new KafkaService());
  service->options_ = options;
  if (!options.enabled) return service;
  const std::vector<std::string> topics = {options.EventsTopic(), options.CommandsTopic(),
                                           options.ResultsTopic()};
  const std::vector<std::string> changelogs = projector != nullptr
                                                  ? ChangelogPublisher::Topics(*projector, options)
                                                  : std::vector<std::string>{};
  if (options.brokers.empty()) {
    Result<std::unique_ptr<EmbeddedBroker>> broker =
        EmbeddedBroker::Start(options.embedded_brokers, options.embedded_port);
    if (!broker.ok()) return broker.status();
    service->broker_ = std::move(broker).value();
    // Sized to keep embedded_retention_events records a topic. It does not compact;
    // dashboards read the latest row per key anyway.
    for (const std::vector<std::string>* list : {&topics, &changelogs}) {
      for (const std::string& topic : *list) {
        MALPRO_RETURN_IF_ERROR(service->broker_->CreateTopic(topic, options.EmbeddedPartitions(),
                                                             options.replication_factor));
      }
    }
    for (const std::string& topic : {CheckpointPublisher::Topic(options), options.EpochsTopic()}) {
      MALPRO_RETURN_IF_ERROR(service->broker_->CreateTopic(topic, 1, options.replication_factor));
    }
    service->bootstrap_ = service->broker_->bootstrap();
  } else {
    service->bootstrap_ = options.brokers;
    Status created = CreateKafkaTopics(options.brokers, options, topics);
    // An unreachable cluster may come later; the relay retries. A refusal is a setup error.
    if (!created.ok() && created.error_code() != errc::kKafkaUnavailable) return created;
    KafkaOptions one_partition = options;  // checkpoints keep their order: one partition
    one_partition.partitions = 1;
    created = CreateKafkaTopics(options.brokers, one_partition,
                                {CheckpointPublisher::Topic(options), options.EpochsTopic()});
    if (!created.ok() && created.error_code() != errc::kKafkaUnavailable) return created;
    if (!changelogs.empty()) {
      created = CreateKafkaTopics(options.brokers, options, changelogs, /*compacted=*/true);
      if (!created.ok() && created.error_code() != errc::kKafkaUnavailable) return created;
    }
  }
  service->relay_ = std::make_unique<Relay>(log, RelayOptions{service->bootstrap_, options});
  service->relay_->Start();
  // A primary that a promotion fenced learns it before it serves (when the cluster answers
  // in time): it then refuses writes from the first one.
  (void)service->relay_->WaitUntilStarted(std::chrono::milliseconds(relay_start_wait_ms));
  Result<WriterEpoch> epoch = log->Epoch();
  if (!epoch.ok()) return epoch.status();
  service->checkpoints_ =
      std::make_unique<CheckpointPublisher>(service->bootstrap_, options, epoch->epoch);
  service->checkpoints_->Start();
  if (projector != nullptr) {
    service->changelog_ =
        std::make_unique<ChangelogPublisher>(projector, service->bootstrap_, options);
    service->changelog_->Start();
  }
  if (options.intake) service->StartIntake(ledger);
  return service;
}

void KafkaService::StartIntake(Ledger* ledger) {
  IntakeOptions intake{bootstrap_, options_};
  if (options_.synchronous) {
    intake.confirm = [relay = relay_.get(),
                      timeout = options_.synchronous_timeout_ms](uint64_t sequence) {
      return relay->WaitForConfirmed(
          sequence, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout));
    };
  }
  intake_ = std::make_unique<Intake>(ledger, std::move(intake));
  intake_->Start();
}

KafkaService::~KafkaService() {
  if (intake_) intake_->Stop();
  if (changelog_) changelog_->Stop();
  if (checkpoints_) checkpoints_->Stop();
  if (relay_) relay_->Stop();
  broker_.reset();
}

std::string KafkaService::Description() const {
  if (!options_.enabled) return "";
  std::string text;
  if (broker_) {
    const std::string address = broker_->FirstAddress();
    text = "kafka: embedded broker at " + address + " (try: kcat -b " + address + " -C -t " +
           options_.EventsTopic() + "); in memory only, lost when malpro stops; keeps about " +
           std::to_string(options_.embedded_retention_events) +
           " records a topic (kafka.embedded_retention_events: " +
           std::to_string(options_.EmbeddedPartitions()) + " partitions of " +
           std::to_string(embedded_partition_bytes >> 20) + " MiB)";
  } else {
    text = "kafka: relaying to " + options_.EventsTopic() + " on " + bootstrap_;
  }
  if (intake_) text += "; commands from " + options_.CommandsTopic();
  return text;
}

RelayStatus KafkaService::RelayState() const { return relay_ ? relay_->Status() : RelayStatus{}; }

Status KafkaService::Fenced() const { return relay_ ? relay_->Fenced() : Status::Ok(); }

void KafkaService::WhenConfirmed(uint64_t sequence, std::chrono::steady_clock::time_point deadline,
                                 std::function<void(Status)> done) {
  if (!relay_) {
    done(Status::Ok());
    return;
  }
  relay_->WhenConfirmed(sequence, deadline, std::move(done));
}

std::string KafkaService::HealthJson() const {
  const RelayStatus relay = RelayState();
  JsonWriter writer;
  writer.BeginObject()
      .Field("bootstrap", bootstrap_)
      .Key("relay")
      .BeginObject()
      .Field("state", RelayStateName(relay.state))
      .Field("epoch", static_cast<int64_t>(relay.epoch))
      .Field("synchronous", options_.synchronous)
      .Field("published_sequence", static_cast<int64_t>(relay.published_sequence))
      .Field("confirmed_sequence", static_cast<int64_t>(relay.confirmed_sequence))
      .Field("lag", static_cast<int64_t>(relay.lag))
      .Field("events_published", static_cast<int64_t>(relay.events_published))
      .Field("last_error", relay.last_error)
      .EndObject();
  if (changelog_) {
    const ChangelogStatus changelog = changelog_->Status();
    writer.Key("changelogs")
        .BeginObject()
        .Field("position", static_cast<int64_t>(changelog.position))
        .Field("rows_published", static_cast<int64_t>(changelog.rows_published))
        .Field("last_error", changelog.last_error)
        .EndObject();
  }
  if (checkpoints_) {
    const CheckpointPublishStatus checkpoints = checkpoints_->Status();
    writer.Key("checkpoints")
        .BeginObject()
        .Field("published", static_cast<int64_t>(checkpoints.published))
        .Field("size", static_cast<int64_t>(checkpoints.size))
        .Field("last_error", checkpoints.last_error)
        .EndObject();
  }
  if (intake_) {
    const IntakeStatus intake = intake_->Status();
    writer.Key("intake")
        .BeginObject()
        .Field("commands_decided", static_cast<int64_t>(intake.commands_decided))
        .Field("commands_refused", static_cast<int64_t>(intake.commands_refused))
        .Field("last_error", intake.last_error)
        .EndObject();
  }
  return writer.EndObject().Take();
}

}  // namespace malpro
