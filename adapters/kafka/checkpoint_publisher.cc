#include "adapters/kafka/checkpoint_publisher.h"

#include <chrono>

#include "adapters/kafka/kafka_client.h"
#include "engine/base64.h"

namespace malpro {
namespace {

// How long Stop() waits for outstanding records.
constexpr int checkpoint_flush_ms = 5'000;

struct CheckpointDelivery {
  std::mutex* mutex;
  CheckpointPublishStatus* status;
};

void OnCheckpointDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* delivery = static_cast<CheckpointDelivery*>(opaque);
  std::lock_guard lock(*delivery->mutex);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivery->status->last_error = rd_kafka_err2str(message->err);
    return;
  }
  ++delivery->status->published;
  delivery->status->size = reinterpret_cast<uintptr_t>(message->_private);
}

}  // namespace

CheckpointPublisher::CheckpointPublisher(std::string brokers, KafkaOptions options, uint64_t epoch)
    : brokers_(std::move(brokers)), options_(std::move(options)), epoch_(epoch) {}

CheckpointPublisher::~CheckpointPublisher() { Stop(); }

void CheckpointPublisher::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void CheckpointPublisher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CheckpointPublisher::Publish(const StoredCheckpoint& checkpoint,
                                  const std::vector<Hash>& frontier) {
  std::string hashes;
  for (const Hash& hash : frontier) hashes.append(HashView(hash));
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({checkpoint, Base64Encode(hashes)});
  }
  queued_.notify_all();
}

CheckpointPublishStatus CheckpointPublisher::Status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void CheckpointPublisher::Run() {
  CheckpointDelivery delivery{&mutex_, &status_};
  auto record_error = [this](const std::string& error) {
    std::lock_guard lock(mutex_);
    status_.last_error = error;
  };
  // Idempotent and never timing out: a checkpoint is retried until the cluster takes it, in
  // order, while the process runs.
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(
      brokers_, options_,
      {{"enable.idempotence", "true"}, {"linger.ms", "0"}, {"message.timeout.ms", "0"}});
  if (!conf.ok()) return record_error(conf.status().ToString());
  rd_kafka_conf_set_opaque(*conf, &delivery);
  rd_kafka_conf_set_dr_msg_cb(*conf, &OnCheckpointDelivery);
  Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
  if (!producer.ok()) return record_error(producer.status().ToString());
  const std::string topic = Topic(options_);
  const std::string epoch = std::to_string(epoch_);
  while (!stopping_) {
    Queued queued;
    {
      std::unique_lock lock(mutex_);
      queued_.wait_for(lock, std::chrono::milliseconds(100),
                       [&] { return stopping_.load() || !queue_.empty(); });
      if (queue_.empty()) {
        lock.unlock();
        rd_kafka_poll(producer->get(), 0);
        continue;
      }
      queued = std::move(queue_.front());
      queue_.pop_front();
    }
    const StoredCheckpoint& checkpoint = queued.checkpoint;
    const std::string key = std::to_string(checkpoint.size);
    for (;;) {
      const rd_kafka_resp_err_t error = rd_kafka_producev(
          producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(checkpoint.note.data()), checkpoint.note.size()),
          RD_KAFKA_V_HEADER("frontier", queued.frontier.data(),
                            static_cast<ssize_t>(queued.frontier.size())),
          RD_KAFKA_V_HEADER("epoch", epoch.data(), static_cast<ssize_t>(epoch.size())),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(checkpoint.size))),
          RD_KAFKA_V_END);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL || stopping_) {
        record_error("produce to " + topic + ": " + rd_kafka_err2str(error));
        break;
      }
      rd_kafka_poll(producer->get(), 100);
    }
    rd_kafka_poll(producer->get(), 0);
  }
  rd_kafka_flush(producer->get(), checkpoint_flush_ms);
}

}  // namespace malpro
