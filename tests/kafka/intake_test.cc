// The command intake against the embedded broker and a real ledger.
#include "adapters/kafka/intake.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "adapters/cli/geography_config.h"
#include "adapters/kafka/embedded_broker.h"
#include "engine/error_codes.h"
#include "tests/kafka/topic_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ledger.h"

namespace malpro {
namespace {

constexpr char kBuyer[] = "198507122010011003";
constexpr char kOrder[] =
    R"({"order_id":"o-1","buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri",)"
    R"("lines":[{"product_id":"beras-5kg","quantity":2}],"payment_method":"COD"})";

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions log_options;
    log_options.data_dir = dir_.Sub("log");
    log_options.sync = false;
    log_ = *EventLog::Open(log_options);
    Result<Geography> geography = LoadGeography(MALPRO_SOURCE_DIR "/config/kota-malang.toml");
    ASSERT_TRUE(geography.ok()) << geography.status().ToString();
    ledger_ = std::make_unique<Ledger>(log_.get(), std::move(geography).value(), LedgerOptions{});
    CommandContext admin;
    admin.actor = "admin:setup";
    ASSERT_TRUE(
        ledger_
            ->Register(RegisterAsn{kBuyer, "Siti Rahayu", "Diskominfo", "III/a", "Kauman"}, admin)
            .ok());
    ASSERT_TRUE(ledger_
                    ->Register(RegisterUmkm{"warung-bu-sri", "Warung Bu Sri", "", "sembako",
                                            "Klojen", "Kauman", "Diskopindag", "0012345678", "UMI"},
                               admin)
                    .ok());
    ASSERT_TRUE(ledger_->VerifyUmkm("warung-bu-sri", admin).ok());
    ASSERT_TRUE(
        ledger_
            ->List({"warung-bu-sri", "beras-5kg", "Beras 5 kg", "pack", Money::FromRupiah(68'000)},
                   admin)
            .ok());
    broker_ = *EmbeddedBroker::Start(1);
    options_.brokers = broker_->bootstrap();
    ASSERT_TRUE(broker_->CreateTopic("malpro.commands", 2, 1).ok());
    ASSERT_TRUE(broker_->CreateTopic("malpro.command-results", 2, 1).ok());
  }

  void Send(const std::string& command, const std::string& key, const std::string& body) {
    if (!producer_) {
      producer_ = *NewKafkaClient(RD_KAFKA_PRODUCER,
                                  *MakeKafkaConf(broker_->bootstrap(), KafkaOptions{}, {}));
    }
    rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
    rd_kafka_header_add(headers, "command", -1, command.data(), command.size());
    if (!key.empty()) rd_kafka_header_add(headers, "idempotency-key", -1, key.data(), key.size());
    ASSERT_EQ(rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC("malpro.commands"),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key.data(), key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(body.data()), body.size()),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_flush(producer_.get(), 10'000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // The results, once there are `count` of them (bounded wait).
  std::vector<testing::TopicRecord> Results(size_t count) {
    std::vector<testing::TopicRecord> records;
    for (int attempt = 0; attempt < 250 && records.size() < count; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      Result<std::vector<testing::TopicRecord>> read =
          testing::ReadWholeTopic(broker_->bootstrap(), "malpro.command-results");
      if (read.ok()) records = std::move(read).value();
    }
    return records;
  }

  std::string ResultFor(const std::vector<testing::TopicRecord>& results, const std::string& key,
                        int nth = 0) {
    for (const testing::TopicRecord& record : results) {
      if (record.headers.count("idempotency-key") && record.headers.at("idempotency-key") == key &&
          nth-- == 0) {
        return record.value;
      }
    }
    return "";
  }

  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<EmbeddedBroker> broker_;
  KafkaHandle producer_;
  IntakeOptions options_;
};

TEST_F(IntakeTest, DuplicateDeliveryOfACommandAppendsOnce) {
  Intake intake(ledger_.get(), options_);
  intake.Start();
  const uint64_t head_before = log_->Head().sequence;
  Send("place_order", "k-1", kOrder);
  Send("place_order", "k-1", kOrder);  // delivered again, as after a producer retry
  std::vector<testing::TopicRecord> results = Results(2);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(log_->Head().sequence, head_before + 1) << "the order was placed twice";
  Result<OrderState> order = ledger_->LoadOrder("o-1");
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_EQ(order->version, 1u);
  const std::string first = ResultFor(results, "k-1", 0);
  const std::string second = ResultFor(results, "k-1", 1);
  const std::string sequence = std::to_string(head_before + 1);
  EXPECT_EQ(first, R"({"ok":true,"command":"place_order","stream_id":"order-o-1",)"
                   R"("stream_version":1,"first_sequence":)" +
                       sequence + R"(,"sequence":)" + sequence + R"(,"replayed":false})");
  EXPECT_EQ(second, R"({"ok":true,"command":"place_order","stream_id":"order-o-1",)"
                    R"("stream_version":1,"first_sequence":)" +
                        sequence + R"(,"sequence":)" + sequence + R"(,"replayed":true})");
  // A new intake in the same group starts after the committed offsets: nothing is decided
  // again, and the next command goes through.
  intake.Stop();
  Intake again(ledger_.get(), options_);
  again.Start();
  Send("accept_order", "k-2", R"({"order_id":"o-1"})");
  results = Results(3);
  ASSERT_EQ(results.size(), 3u) << again.Status().last_error << " sessions "
                                << again.Status().sessions_started;
  EXPECT_EQ(again.Status().commands_decided, 1u);
  EXPECT_EQ(ledger_->LoadOrder("o-1")->status, OrderStatus::kAccepted);
}

TEST_F(IntakeTest, RefusalsCarryTheHttpErrorCodesAndFields) {
  Intake intake(ledger_.get(), options_);
  intake.Start();
  const uint64_t head_before = log_->Head().sequence;
  Send("place_order", "", kOrder);
  Send("launch_rocket", "k-3", "{}");
  Send("place_order", "k-4", R"({"buyer_nip":"198507122010011003"})");
  Send("cancel_order", "k-5", R"({"order_id":"nope","reason":"x"})");
  std::vector<testing::TopicRecord> results = Results(4);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(log_->Head().sequence, head_before) << "a refused command wrote something";
  std::map<std::string, std::string> codes;
  for (const testing::TopicRecord& record : results) codes[record.key] = record.value;
  EXPECT_NE(codes[""].find(R"("code":"header_idempotency_key_missing")"), std::string::npos);
  EXPECT_NE(codes["k-3"].find(R"("code":"command_unknown","message")"), std::string::npos);
  EXPECT_NE(codes["k-3"].find(R"("field":"command")"), std::string::npos);
  EXPECT_NE(codes["k-4"].find(R"("code":"body_field_missing")"), std::string::npos);
  EXPECT_NE(codes["k-4"].find(R"("status":400)"), std::string::npos);
  EXPECT_NE(codes["k-5"].find(R"("status":404)"), std::string::npos) << codes["k-5"];
  EXPECT_EQ(intake.Status().commands_refused, 4u);
}

// The bodies are bound by the HTTP routes' binders (command_bodies.h), with the route's path
// parameter as a required field: each refusal names the field with the route's code.
TEST_F(IntakeTest, BodiesAreBoundByTheHttpRoutesRules) {
  const uint64_t head_before = log_->Head().sequence;
  struct Case {
    std::string command, body;
    std::string_view code;
    std::string field;
  };
  const Case cases[] = {
      {"list_product", R"({"product_id":"gula","name":"Gula","unit":"kg","price":"15000.00"})",
       errc::kBodyFieldMissing, "umkm_id"},
      {"list_product",
       R"({"umkm_id":"warung-bu-sri","product_id":"gula","name":"Gula","unit":"kg","price":15000})",
       errc::kBodyFieldWrongType, "price"},
      {"list_product",
       R"({"umkm_id":"warung-bu-sri","product_id":"gula","name":"Gula","unit":"kg","price":"1,50"})",
       errc::kAmountInvalid, "price"},
      {"cancel_order", R"({"order_id":"o-1"})", errc::kBodyFieldMissing, "reason"},
      {"cancel_order", R"({"order_id":"o-1","reason":"x","why":"y"})", errc::kBodyFieldUnknown,
       "why"},
      {"accept_order", R"({"order_id":"o-1","note":"x"})", errc::kBodyFieldUnknown, "note"},
      {"register_asn", R"({"nip":7})", errc::kBodyFieldWrongType, "nip"},
      {"place_order",
       R"({"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri",)"
       R"("lines":[{"product_id":"beras-5kg"}],"payment_method":"COD"})",
       errc::kBodyFieldMissing, "lines[0].quantity"},
  };
  for (const Case& c : cases) {
    Result<CommandResult> result =
        RunIntakeCommand(*ledger_, IntakeCommand{c.command, "k-" + c.field, c.body}, "kafka:test");
    ASSERT_FALSE(result.ok()) << c.command << " " << c.body;
    EXPECT_EQ(result.status().error_code(), c.code) << c.body << ": " << result.status().ToString();
    EXPECT_EQ(result.status().field(), c.field) << c.body;
  }
  EXPECT_EQ(log_->Head().sequence, head_before) << "a refused command wrote something";
}

// The same bytes must mean the same command to every reader: a value with a key twice is
// refused with the HTTP API's code, and nothing is written.
TEST_F(IntakeTest, ACommandWithARepeatedKeyIsRefusedWithTheHttpCode) {
  Intake intake(ledger_.get(), options_);
  intake.Start();
  const uint64_t head_before = log_->Head().sequence;
  const std::string order = kOrder;
  Send("place_order", "k-dup",
       order.substr(0, order.size() - 1) + R"(,"payment_method":"CASHLESS"})");
  Send("cancel_order", "k-dup-2", R"({"order_id":"o-1","reason":"a","reason":"b"})");
  std::vector<testing::TopicRecord> results = Results(2);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(log_->Head().sequence, head_before) << "a refused command wrote something";
  EXPECT_EQ(ledger_->LoadOrder("o-1").status().code(), StatusCode::kNotFound);
  const std::string placed = ResultFor(results, "k-dup");
  EXPECT_NE(placed.find(R"({"error":{"code":"body_duplicate_key","message":")"), std::string::npos)
      << placed;
  EXPECT_NE(placed.find(R"("field":"payment_method"},"status":400})"), std::string::npos) << placed;
  const std::string cancelled = ResultFor(results, "k-dup-2");
  EXPECT_NE(cancelled.find(R"("code":"body_duplicate_key")"), std::string::npos) << cancelled;
  EXPECT_NE(cancelled.find(R"("field":"reason")"), std::string::npos) << cancelled;
  EXPECT_EQ(intake.Status().commands_refused, 2u);
}

// Through Kafka as over HTTP: cancelling a cashless order whose payment is pending voids the
// request with it, and a paid order is refused until fully refunded.
TEST_F(IntakeTest, ACancelVoidsThePendingPaymentAndAPaidOrderIsRefused) {
  const std::string order = kOrder;
  const std::string cashless =
      order.substr(0, order.find(R"("payment_method")")) + R"("payment_method":"CASHLESS"})";
  Intake intake(ledger_.get(), options_);
  intake.Start();
  Send("place_order", "c-1", cashless);
  ASSERT_EQ(Results(1).size(), 1u);
  CommandContext bank;
  bank.actor = "system:bank";
  ASSERT_TRUE(ledger_->RequestPayment("o-1", "VA", "  123450001", bank).ok());
  Send("cancel_order", "c-2", R"({"order_id":"o-1","reason":"salah pesan"})");
  std::vector<testing::TopicRecord> results = Results(2);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_NE(ResultFor(results, "c-2").find(R"("ok":true)"), std::string::npos)
      << ResultFor(results, "c-2");
  EXPECT_EQ(ledger_->LoadPayment("o-1")->status, PaymentStatus::kVoided);
  EXPECT_EQ(ledger_->LoadOrder("o-1")->status, OrderStatus::kCancelled);

  // Another order, paid: its cancel is refused with the rule's code.
  std::string second = cashless;
  second.replace(second.find("o-1"), 3, "o-2");
  Send("place_order", "c-3", second);
  ASSERT_EQ(Results(3).size(), 3u);
  ASSERT_TRUE(ledger_->RequestPayment("o-2", "QRIS", "BJQR-2", bank).ok());
  ASSERT_TRUE(
      ledger_
          ->RecordPaymentSucceeded(testing::BankPaid("o-2", "QRIS", "BJQR-2",
                                                     Money::FromRupiah(136'000), ledger_->Now()),
                                   bank)
          .ok());
  Send("cancel_order", "c-4", R"({"order_id":"o-2","reason":"berubah pikiran"})");
  results = Results(4);
  ASSERT_EQ(results.size(), 4u);
  const std::string refused = ResultFor(results, "c-4");
  EXPECT_NE(refused.find(R"("code":"order_paid")"), std::string::npos) << refused;
  EXPECT_NE(refused.find(R"("status":409)"), std::string::npos) << refused;
  EXPECT_EQ(ledger_->LoadOrder("o-2")->status, OrderStatus::kPlaced);
}

}  // namespace
}  // namespace malpro

namespace malpro {
namespace {

// Synchronous mode: a result is written only once its events are confirmed; a command whose
// confirmation fails is taken again and answered then, as a replay, appending nothing more.
TEST_F(IntakeTest, InSynchronousModeAResultWaitsForTheConfirmation) {
  std::atomic<int> asked{0};
  std::atomic<uint64_t> asked_for{0};
  IntakeOptions options = options_;
  options.confirm = [&](uint64_t sequence) {
    asked_for = sequence;
    if (asked.fetch_add(1) == 0) {
      return Status::Unavailable(errc::kKafkaNotAcknowledged, "not yet");
    }
    return Status::Ok();
  };
  Intake intake(ledger_.get(), options);
  intake.Start();
  const uint64_t head_before = log_->Head().sequence;
  Send("place_order", "k-sync", kOrder);
  std::vector<testing::TopicRecord> results = Results(1);
  ASSERT_EQ(results.size(), 1u) << "no result after the confirmation came";
  EXPECT_GE(asked.load(), 2) << "the first refusal did not make the intake ask again";
  EXPECT_EQ(asked_for.load(), head_before + 1);
  EXPECT_EQ(log_->Head().sequence, head_before + 1) << "the retried command appended again";
  const std::string result = ResultFor(results, "k-sync");
  EXPECT_NE(result.find(R"("ok":true)"), std::string::npos) << result;
  EXPECT_NE(result.find(R"("sequence":)" + std::to_string(head_before + 1)), std::string::npos)
      << result;
}

}  // namespace
}  // namespace malpro
