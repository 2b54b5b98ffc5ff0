#include "adapters/kafka/intake.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "adapters/http/command_bodies.h"
#include "adapters/http/error_status.h"
#include "adapters/http/request_body.h"
#include "adapters/kafka/kafka_client.h"
#include "adapters/kafka/kafka_limits.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

using OrderTransition = Result<CommandResult> (Ledger::*)(std::string_view, const CommandContext&);

// Commands whose body is {"order_id"} only, and the ledger call of each.
const std::map<std::string_view, OrderTransition>& OrderTransitions() {
  static const std::map<std::string_view, OrderTransition> transitions = {
      {"accept_order", &Ledger::AcceptOrder},
      {"deliver_order", &Ledger::DeliverOrder},
      {"confirm_cash_received", &Ledger::ConfirmCashReceived}};
  return transitions;
}

// The body binders are the HTTP routes' (command_bodies.h); the ids a route takes from its path
// are fields of the body here.
Result<CommandResult> Decide(Ledger& ledger, const IntakeCommand& command, RequestBody& body,
                             const CommandContext& context) {
  if (command.command == "place_order") {
    Result<PlaceOrder> order = BindPlaceOrder(body);
    if (!order.ok()) return order.status();
    return ledger.Place(*order, context);
  }
  if (auto found = OrderTransitions().find(command.command); found != OrderTransitions().end()) {
    Result<std::string> order_id = BindOrderTransition(body);
    if (!order_id.ok()) return order_id.status();
    return (ledger.*(found->second))(*order_id, context);
  }
  if (command.command == "cancel_order") {
    Result<CancelOrderBody> cancel = BindCancelOrder(body, FromBody);
    if (!cancel.ok()) return cancel.status();
    return ledger.CancelOrder(cancel->order_id, cancel->reason, context);
  }
  if (command.command == "register_asn") {
    Result<RegisterAsn> asn = BindRegisterAsn(body);
    if (!asn.ok()) return asn.status();
    return ledger.Register(*asn, context);
  }
  if (command.command == "list_product") {
    Result<ListProduct> product = BindListProduct(body, FromBody);
    if (!product.ok()) return product.status();
    return ledger.List(*product, context);
  }
  // The header is raw bytes and the message goes into a JSON result record, which must be
  // UTF-8: a name that is not is left out.
  const std::string name = simdjson::validate_utf8(command.command) ? "\"" + command.command + "\""
                                                                    : std::string("(not UTF-8)");
  return Status::InvalidArgument(
      errc::kCommandUnknown, "command",
      "unknown command " + name +
          "; one of place_order, accept_order, deliver_order, confirm_cash_received, "
          "cancel_order, register_asn, list_product");
}

}  // namespace

Result<CommandResult> RunIntakeCommand(Ledger& ledger, const IntakeCommand& command,
                                       const std::string& actor) {
  if (command.idempotency_key.empty()) {
    // Without a key a command delivered twice would be decided twice.
    return Status::InvalidArgument(errc::kHeaderIdempotencyKeyMissing, "idempotency-key",
                                   "every command needs an idempotency-key header");
  }
  if (command.body.size() > intake_command_bytes_max) {
    return Status::LimitExceeded(
        errc::kBodyTooLarge, "value",
        "a command is at most " + std::to_string(intake_command_bytes_max) + " bytes");
  }
  CommandContext context;
  context.actor = actor;
  context.idempotency_key = command.idempotency_key;
  // "The same request" for the key: the command and its exact body, as HTTP digests the
  // method, target and body.
  context.request_digest = Sha256("kafka " + command.command + "\n" + command.body);
  RequestBody body(command.body);
  return Decide(ledger, command, body, context);
}

std::string IntakeResultJson(std::string_view command, const Result<CommandResult>& result) {
  JsonWriter writer;
  writer.BeginObject();
  if (result.ok()) {
    writer.Field("ok", true)
        .Field("command", command)
        .Field("stream_id", result->stream_id)
        .Field("stream_version", static_cast<int64_t>(result->stream_version))
        .Field("first_sequence", static_cast<int64_t>(result->first_sequence))
        .Field("sequence", static_cast<int64_t>(result->last_sequence))
        .Field("replayed", result->replayed);
  } else {
    const Status& status = result.status();
    writer.Key("error").BeginObject().Field("code", status.error_code());
    writer.Field("message", status.message());
    if (!status.field().empty()) writer.Field("field", status.field());
    writer.EndObject().Field("status", ErrorStatus(status));
  }
  return writer.EndObject().Take();
}

// One consumer-group membership: from subscribing to an error or Stop().
class Intake::Session {
 public:
  explicit Session(Intake* intake) : intake_(intake) {}
  ~Session() {
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }
  malpro::Status Run();

 private:
  malpro::Status Open();
  malpro::Status HandleBatch();
  // Decides one command and queues its result; a passing failure of the log is returned so
  // that the command is taken again, uncommitted.
  malpro::Status Handle(const rd_kafka_message_t* message);

  Intake* const intake_;
  KafkaHandle consumer_;
  KafkaHandle producer_;
};

malpro::Status Intake::Session::Open() {
  const IntakeOptions& options = intake_->options_;
  Result<rd_kafka_conf_t*> consumer_conf =
      MakeKafkaConf(options.brokers, options.kafka,
                    {{"group.id", options.kafka.intake_group},
                     {"enable.auto.commit", "false"},
                     {"enable.auto.offset.store", "false"},
                     {"auto.offset.reset", "earliest"},
                     {"enable.partition.eof", "false"},
                     // A member that vanished without leaving holds its partitions this long;
                     // commands should not wait the default 45 s after a crash.
                     {"session.timeout.ms", "6000"},
                     {"heartbeat.interval.ms", "1000"}});
  if (!consumer_conf.ok()) return consumer_conf.status();
  Result<KafkaHandle> consumer = NewKafkaClient(RD_KAFKA_CONSUMER, *consumer_conf);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  Result<rd_kafka_conf_t*> producer_conf =
      MakeKafkaConf(options.brokers, options.kafka,
                    {{"enable.idempotence", "true"},
                     {"message.timeout.ms", std::to_string(intake_result_flush_ms)},
                     {"linger.ms", "1"}});
  if (!producer_conf.ok()) return producer_conf.status();
  Result<KafkaHandle> producer = NewKafkaClient(RD_KAFKA_PRODUCER, *producer_conf);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(producer).value();
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, options.kafka.CommandsTopic().c_str(),
                                    RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t error = rd_kafka_subscribe(consumer_.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(error, "subscribing to " + options.kafka.CommandsTopic());
  }
  return malpro::Status::Ok();
}

malpro::Status Intake::Session::Run() {
  MALPRO_RETURN_IF_ERROR(Open());
  while (!intake_->stopping()) MALPRO_RETURN_IF_ERROR(HandleBatch());
  return malpro::Status::Ok();
}

malpro::Status Intake::Session::HandleBatch() {
  std::vector<rd_kafka_message_t*> batch;
  rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), intake_poll_wait_ms);
  while (message != nullptr) {
    batch.push_back(message);
    if (batch.size() >= intake_batch_messages_max) break;
    message = rd_kafka_consumer_poll(consumer_.get(), 0);
  }
  malpro::Status status;
  // Offsets to commit: the next offset per partition, for commands fully handled.
  rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(4);
  for (rd_kafka_message_t* taken : batch) {
    if (!status.ok()) break;
    if (taken->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = KafkaStatus(taken->err, "consuming commands");
      break;
    }
    status = Handle(taken);
    if (!status.ok()) break;
    const char* topic = rd_kafka_topic_name(taken->rkt);
    rd_kafka_topic_partition_t* entry =
        rd_kafka_topic_partition_list_find(offsets, topic, taken->partition);
    if (entry == nullptr)
      entry = rd_kafka_topic_partition_list_add(offsets, topic, taken->partition);
    entry->offset = taken->offset + 1;
  }
  for (rd_kafka_message_t* taken : batch) rd_kafka_message_destroy(taken);
  // The results first, then the offsets: a result lost with the process is written again
  // when the command comes back, as a replay.
  if (offsets->cnt > 0) {
    const rd_kafka_resp_err_t flushed = rd_kafka_flush(producer_.get(), intake_result_flush_ms);
    if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = KafkaStatus(flushed, "writing command results");
    } else {
      const rd_kafka_resp_err_t committed = rd_kafka_commit(consumer_.get(), offsets, 0);
      if (committed != RD_KAFKA_RESP_ERR_NO_ERROR && status.ok()) {
        status = KafkaStatus(committed, "committing command offsets");
      }
    }
  }
  rd_kafka_topic_partition_list_destroy(offsets);
  return status;
}

malpro::Status Intake::Session::Handle(const rd_kafka_message_t* message) {
  IntakeCommand command;
  command.command = std::string(KafkaHeader(message, "command").value_or(""));
  command.idempotency_key = std::string(KafkaHeader(message, "idempotency-key").value_or(""));
  command.body.assign(static_cast<const char*>(message->payload),
                      message->payload == nullptr ? 0 : message->len);
  Result<CommandResult> result =
      RunIntakeCommand(*intake_->ledger_, command, intake_->options_.actor);
  if (!result.ok() && (result.status().code() == StatusCode::kUnavailable ||
                       result.status().code() == StatusCode::kIOError)) {
    return result.status();  // not decided: leave it uncommitted, to be taken again
  }
  if (result.ok() && intake_->options_.confirm) {
    MALPRO_RETURN_IF_ERROR(intake_->options_.confirm(result->last_sequence));
  }
  const std::string value = IntakeResultJson(command.command, result);
  std::string key(static_cast<const char*>(message->key),
                  message->key == nullptr ? 0 : message->key_len);
  if (key.empty()) key = command.idempotency_key;
  const std::string topic = intake_->options_.kafka.ResultsTopic();
  const rd_kafka_resp_err_t error = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_HEADER("command", command.command.data(),
                        static_cast<ssize_t>(command.command.size())),
      RD_KAFKA_V_HEADER("idempotency-key", command.idempotency_key.data(),
                        static_cast<ssize_t>(command.idempotency_key.size())),
      RD_KAFKA_V_END);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(error, "writing a command result");
  std::lock_guard<std::mutex> lock(intake_->mutex_);
  ++intake_->status_.commands_decided;
  if (!result.ok()) ++intake_->status_.commands_refused;
  return malpro::Status::Ok();
}

Intake::Intake(Ledger* ledger, IntakeOptions options)
    : ledger_(ledger), options_(std::move(options)) {}

Intake::~Intake() { Stop(); }

void Intake::Start() {
  MALPRO_ASSERT(!thread_.joinable());
  stopping_.store(false, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.running = true;
  }
  thread_ = std::thread([this] { Run(); });
}

void Intake::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  status_.running = false;
}

IntakeStatus Intake::Status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void Intake::Run() {
  int backoff_ms = relay_retry_backoff_ms_first;
  while (!stopping()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++status_.sessions_started;
    }
    malpro::Status ended;
    {
      Session session(this);
      ended = session.Run();
    }
    if (stopping()) break;
    std::unique_lock<std::mutex> lock(mutex_);
    status_.last_error = ended.message();
    changed_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stopping(); });
    backoff_ms = std::min(backoff_ms * 2, relay_retry_backoff_ms_max);
  }
}

}  // namespace malpro
