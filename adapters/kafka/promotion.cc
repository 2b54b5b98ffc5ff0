#include "adapters/kafka/promotion.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "adapters/kafka/kafka_client.h"
#include "adapters/kafka/kafka_limits.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

// Where each fence landed, from the delivery reports.
struct FenceDelivery {
  std::vector<int64_t> offsets;
  Status failure;
};

void OnFenceDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* delivery = static_cast<FenceDelivery*>(opaque);
  const size_t index = reinterpret_cast<uintptr_t>(message->_private);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (delivery->failure.ok()) delivery->failure = KafkaStatus(message->err, "writing a fence");
    return;
  }
  if (index < delivery->offsets.size()) delivery->offsets[index] = message->offset;
}

// One record with the fence headers (epoch, fence, writer) to topic[partition], tagged `index`.
Status ProduceFence(rd_kafka_t* producer, const std::string& topic, int32_t partition,
                    const std::string& epoch, const std::string& writer, const std::string& value,
                    size_t index) {
  const std::string key = "fence";
  const rd_kafka_resp_err_t error = rd_kafka_producev(
      producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_HEADER("epoch", epoch.data(), static_cast<ssize_t>(epoch.size())),
      RD_KAFKA_V_HEADER("fence", epoch.data(), static_cast<ssize_t>(epoch.size())),
      RD_KAFKA_V_HEADER("writer", writer.data(), static_cast<ssize_t>(writer.size())),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(index))), RD_KAFKA_V_END);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(error, "producing to " + topic);
  return Status::Ok();
}

// Waits until every record produced is acknowledged; the first failure otherwise.
Status FlushFences(rd_kafka_t* producer, const FenceDelivery& delivery, const std::string& what) {
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(producer, promotion_timeout_ms);
  if (!delivery.failure.ok()) return delivery.failure;
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(flushed, what);
  return Status::Ok();
}

}  // namespace

Result<EpochClaim> ClaimEpoch(const std::string& brokers, const KafkaOptions& options,
                              const WriterEpoch& current, const std::string& writer) {
  const std::string epochs_topic = options.EpochsTopic();
  Result<std::vector<PartitionTail>> last =
      ReadPartitionTails(brokers, options, epochs_topic, 1, relay_tail_read_timeout_ms);
  if (!last.ok()) return last.status();
  EpochClaim claim;
  claim.epoch = std::max(current.epoch, last->front().offset >= 0 ? last->front().epoch : 1) + 1;
  claim.writer = writer;
  FenceDelivery delivery;
  Result<rd_kafka_conf_t*> conf =
      MakeKafkaConf(brokers, options,
                    {{"enable.idempotence", "true"},
                     {"acks", "all"},
                     {"linger.ms", "0"},
                     {"message.timeout.ms", std::to_string(promotion_timeout_ms)}});
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(*conf, &delivery);
  rd_kafka_conf_set_dr_msg_cb(*conf, &OnFenceDelivery);
  Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *conf);
  if (!producer.ok()) return producer.status();
  const std::string epoch = std::to_string(claim.epoch);
  JsonWriter value;
  value.BeginObject()
      .Field("epoch", static_cast<int64_t>(claim.epoch))
      .Field("writer", writer)
      .Field("after_sequence_at_least", static_cast<int64_t>(current.first_sequence - 1))
      .Field("at", JakartaTimestamp(WallClockMicros()))
      .EndObject();
  const std::string text = value.Take();
  // The epoch first: a synchronous write the old primary confirms after this was in the topic
  // before the fences that follow.
  delivery.offsets.assign(1, -1);
  MALPRO_RETURN_IF_ERROR(ProduceFence(producer->get(), epochs_topic, 0, epoch, writer, text, 0));
  MALPRO_RETURN_IF_ERROR(FlushFences(producer->get(), delivery, "writing " + epochs_topic));
  const std::string events_topic = options.EventsTopic();
  Result<int> partitions =
      KafkaPartitionCount(producer->get(), events_topic, kafka_request_timeout_ms);
  if (!partitions.ok()) return partitions.status();
  delivery.offsets.assign(static_cast<size_t>(*partitions), -1);
  for (int32_t partition = 0; partition < *partitions; ++partition) {
    MALPRO_RETURN_IF_ERROR(ProduceFence(producer->get(), events_topic, partition, epoch, writer,
                                        text, static_cast<size_t>(partition)));
  }
  MALPRO_RETURN_IF_ERROR(FlushFences(producer->get(), delivery, "fencing " + events_topic));
  claim.fence_offsets = delivery.offsets;
  return claim;
}

}  // namespace malpro
