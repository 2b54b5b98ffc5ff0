// KafkaService: everything Kafka that `malpro serve` runs, started and stopped in one place:
// the embedded broker (when kafka.brokers is empty) or the topics on a real cluster, the
// relay, and the command intake when kafka.intake is on.
#pragma once

#include <memory>
#include <string>

#include "adapters/kafka/changelog.h"
#include "adapters/kafka/checkpoint_publisher.h"
#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/intake.h"
#include "adapters/kafka/kafka_options.h"
#include "adapters/kafka/relay.h"
#include "engine/ledger.h"

namespace malpro {

class KafkaService {
 public:
  // Starts what `options` asks for; with options.enabled false, nothing. `log` and `ledger`
  // must outlive the service. Errors: the embedded broker cannot start, or the cluster refuses
  // to create the topics (an unreachable cluster is not an error: the relay retries).
  // With a `projector`, the read models' changed rows also go to their changelog topics.
  static Result<std::unique_ptr<KafkaService>> Start(const KafkaOptions& options, EventLog* log,
                                                     Ledger* ledger,
                                                     const Projector* projector = nullptr);
  // Stops the intake, the changelogs, then the relay (which flushes), then the embedded broker.
  ~KafkaService();
  KafkaService(const KafkaService&) = delete;
  KafkaService& operator=(const KafkaService&) = delete;

  // What `malpro serve` prints about Kafka, one line; empty when disabled.
  std::string Description() const;
  // bootstrap.servers in use; empty when disabled.
  const std::string& bootstrap() const { return bootstrap_; }
  // The relay's status (state kStopped when disabled).
  RelayStatus RelayState() const;
  // OK, or kafka_relay_fenced once a promotion fenced this primary: its writes are refused.
  Status Fenced() const;
  // Synchronous mode (Relay::WhenConfirmed); OK at once when Kafka is off.
  void WhenConfirmed(uint64_t sequence, std::chrono::steady_clock::time_point deadline,
                     std::function<void(Status)> done);
  // {"bootstrap":...,"relay":{"state":...,"published_sequence":...,"lag":...,"last_error":...},
  //  "intake":{...}} for /healthz.
  std::string HealthJson() const;
  // The changelogs' status (zeros when not publishing).
  ChangelogStatus ChangelogState() const {
    return changelog_ ? changelog_->Status() : ChangelogStatus{};
  }

  EmbeddedBroker* embedded_broker() { return broker_.get(); }

  // Queues a signed checkpoint and the tree's frontier at its size for `<prefix>.checkpoints`;
  // nothing when disabled, nor once a promotion fenced this primary (its tree is no longer
  // the history's).
  void PublishCheckpoint(const StoredCheckpoint& checkpoint, const std::vector<Hash>& frontier) {
    if (checkpoints_ && Fenced().ok()) checkpoints_->Publish(checkpoint, frontier);
  }

 private:
  KafkaService() = default;
  // The command intake; in synchronous mode it writes a result once the relay confirmed it.
  void StartIntake(Ledger* ledger);

  KafkaOptions options_;
  std::string bootstrap_;
  std::unique_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<ChangelogPublisher> changelog_;
  std::unique_ptr<CheckpointPublisher> checkpoints_;
  std::unique_ptr<Intake> intake_;
};

}  // namespace malpro
