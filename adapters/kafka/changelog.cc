#include "adapters/kafka/changelog.h"

#include <chrono>

#include "adapters/kafka/kafka_client.h"

namespace malpro {
namespace {

// Rows asked of the projector per step; a commit is never split, so a step may hold more.
constexpr size_t changelog_rows_per_step = 4096;
// How long Stop() waits for outstanding records.
constexpr int changelog_flush_ms = 5'000;
// Idle wait between polls of the projector.
constexpr auto changelog_idle_wait = std::chrono::milliseconds(50);

struct Delivery {
  std::mutex* mutex;
  ChangelogStatus* status;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* delivery = static_cast<Delivery*>(opaque);
  std::lock_guard lock(*delivery->mutex);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivery->status->last_error = rd_kafka_err2str(message->err);
    return;
  }
  ++delivery->status->rows_published;
  const uint64_t position = reinterpret_cast<uintptr_t>(message->_private);
  if (position > delivery->status->position) delivery->status->position = position;
}

}  // namespace

ChangelogPublisher::ChangelogPublisher(const Projector* projector, std::string brokers,
                                       KafkaOptions options)
    : projector_(projector), brokers_(std::move(brokers)), options_(std::move(options)) {}

ChangelogPublisher::~ChangelogPublisher() { Stop(); }

std::vector<std::string> ChangelogPublisher::Topics(const Projector& projector,
                                                    const KafkaOptions& options) {
  std::vector<std::string> topics;
  for (const std::string& name : projector.Names()) {
    topics.push_back(options.topic_prefix + ".proj." + name);
  }
  return topics;
}

void ChangelogPublisher::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void ChangelogPublisher::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

ChangelogStatus ChangelogPublisher::Status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void ChangelogPublisher::Run() {
  Delivery delivery{&status_mutex_, &status_};
  auto record_error = [this](const std::string& error) {
    std::lock_guard lock(status_mutex_);
    status_.last_error = error;
  };
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(
      brokers_, options_,
      {{"enable.idempotence", "true"}, {"linger.ms", "5"}, {"message.timeout.ms", "0"}});
  if (!conf.ok()) return record_error(conf.status().ToString());
  rd_kafka_conf_set_opaque(*conf, &delivery);
  rd_kafka_conf_set_dr_msg_cb(*conf, &OnDelivery);
  Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
  if (!producer.ok()) return record_error(producer.status().ToString());

  auto produce = [&](const RowChange& row, uint64_t position) {
    const std::string topic = options_.topic_prefix + ".proj." + row.projection;
    const std::string position_text = std::to_string(position);
    while (!stopping_) {
      const rd_kafka_resp_err_t error = rd_kafka_producev(
          producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(row.key.data(), row.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(row.value.data()), row.value.size()),
          RD_KAFKA_V_HEADER("position", position_text.data(),
                            static_cast<ssize_t>(position_text.size())),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(position))),
          RD_KAFKA_V_END);
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        record_error(std::string("produce to ") + topic + ": " + rd_kafka_err2str(error));
        return;
      }
      rd_kafka_poll(producer->get(), 100);  // the queue is full: serve delivery reports
    }
  };

  uint64_t position = 0;
  bool snapshot_due = true;
  while (!stopping_) {
    if (snapshot_due) {
      auto [rows, snapshot_position] = projector_->Snapshot("");
      for (const RowChange& row : rows) produce(row, snapshot_position);
      position = snapshot_position;
      snapshot_due = false;
    }
    ChangePage page = projector_->ChangesAfter(position, "", changelog_rows_per_step);
    if (page.reset) {
      snapshot_due = true;
      continue;
    }
    for (const ChangePage::Change& change : page.changes) produce(change.row, change.sequence);
    position = page.position;
    rd_kafka_poll(producer->get(), 0);
    if (page.changes.empty()) {
      projector_->WaitForApplied(position + 1, changelog_idle_wait);
      rd_kafka_poll(producer->get(), 0);
    }
  }
  rd_kafka_flush(producer->get(), changelog_flush_ms);
}

}  // namespace malpro
