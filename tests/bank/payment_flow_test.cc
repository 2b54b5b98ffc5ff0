// Cashless payments end to end over real sockets on 127.0.0.1: the API asks the simulated
// bank (SnapClient -> BankSimulator) for a QRIS or virtual account, the simulator pays and
// notifies the API, the poller asks about what was never notified, and expiry.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "adapters/bank/notify.h"
#include "adapters/bank/payments.h"
#include "adapters/bank/qris.h"
#include "adapters/bank/simulator.h"
#include "adapters/bank/snap_signature.h"
#include "adapters/files/reconcile.h"
#include "adapters/files/settlement_run.h"
#include "adapters/http/server.h"
#include "engine/domain_events.h"
#include "engine/hash.h"
#include "engine/payment_channel.h"
#include "projections/projector.h"
#include "tests/bank/bank_testing.h"
#include "tests/bank/handler_server.h"
#include "tests/support/beast_client.h"
#include "tests/support/reconciliation_counts.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

using testing::kBankNotifySecret;
using testing::kBankNow;
using testing::kSecond;

using boost::beast::http::verb;

constexpr const char* kBuyer = testing::kBankBuyer;

using testing::ReadTestFile;

std::string JsonString(const std::string& json, std::string_view a, std::string_view b = {}) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return "";
  std::string_view value;
  auto found = b.empty() ? root[a] : root[a][b];
  if (found.get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

class PaymentFlowTest : public ::testing::Test {
 protected:
  void SetUp() override { Build("rsa"); }
  void TearDown() override {
    if (server_) server_->Stop();
    if (simulator_) simulator_->Stop();
  }

  void Build(const std::string& authentication) {
    if (server_) server_->Stop();
    if (simulator_) simulator_->Stop();
    testing::OpenClockedLedger(
        dir_.Sub("log-" + authentication), [this] { return now_.load(); }, &log_, &ledger_);
    SeedLedger();

    BankSimulatorOptions simulator;
    simulator.client_id = "MALPRO";
    simulator.client_secret = "malpro-client-secret";
    simulator.client_public_key_pem = ReadTestFile("partner_public.pem");
    simulator.bank_private_key_pem = ReadTestFile("bank_private.pem");
    simulator.notify_partner_id = "BJTM";
    simulator.notify_authentication = authentication;
    simulator.notify_client_secret = kBankNotifySecret;
    simulator.clock = [this] { return now_.load() + bank_skew_us_.load(); };
    simulator.state_dir = dir_.Sub("bank-state-" + authentication);
    simulator_ = std::make_unique<BankSimulator>(simulator);
    ASSERT_TRUE(simulator_->Start().ok());

    SnapClientOptions client;
    client.base_url = simulator_->base_url();
    client.client_id = "MALPRO";
    client.client_secret = "malpro-client-secret";
    client.private_key_pem = ReadTestFile("partner_private.pem");
    client.request_timeout_ms = 5000;
    client.clock = [this] { return now_.load(); };
    client_ = std::move(SnapClient::Create(client)).value();
    BankPaymentOptions payment_options;
    payment_options.poll_after_s = 120;
    payment_options.expire_after_s = 1800;
    payment_options.clock = [this] { return now_.load(); };
    payments_ =
        std::make_unique<BankPayments>(ledger_.get(), log_.get(), client_.get(), payment_options);

    notify_.partner_id = "BJTM";
    notify_.bank_public_key_pem = ReadTestFile("bank_public.pem");
    notify_.authentication = authentication;
    notify_.client_secret = kBankNotifySecret;
    notify_.clock = [this] { return now_.load(); };
    tokens_ = TokenTable();
    ASSERT_TRUE(tokens_.Add(HashToHex(Sha256("t-asn")), {Role::kAsn, kBuyer}, "token").ok());
    ASSERT_TRUE(tokens_.Add(HashToHex(Sha256("t-op")), {Role::kOperator, "rina"}, "token").ok());
    ApiDependencies dependencies =
        testing::BankNotifyDependencies(log_.get(), ledger_.get(), &tokens_, &metrics_, &notify_);
    ConnectPayments(payments_.get(), &dependencies);
    api_ = std::make_unique<malpro::Api>(std::move(dependencies));
    HttpOptions http;
    http.port = 0;
    server_ = std::make_unique<HttpServer>(http, api_.get(), &metrics_);
    ASSERT_TRUE(server_->Start().ok());
    simulator_->SetCallbackBaseUrl("http://127.0.0.1:" + std::to_string(server_->port()));
  }

  void SeedLedger() {
    CommandContext admin;
    admin.actor = "admin:setup";
    const Status seeded = testing::SeedMarket(*ledger_, admin);
    ASSERT_TRUE(seeded.ok()) << seeded.ToString();
    for (const char* id : {"order-1", "order-2", "order-3", "order-4"}) {
      ASSERT_TRUE(ledger_->Place({id, kBuyer, "warung", {{"beras", 1}}, "CASHLESS"}, admin).ok());
    }
    ASSERT_TRUE(ledger_->Place({"order-cod", kBuyer, "warung", {{"beras", 1}}, "COD"}, admin).ok());
  }

  testing::Reply Call(verb method, const std::string& target, const std::string& body = "",
                      const std::string& token = "t-asn") {
    return testing::BeastClient(server_->port())
        .Send(method, target, body, {{"Authorization", "Bearer " + token}});
  }
  testing::Reply RequestPayment(const std::string& order, const std::string& channel) {
    return Call(verb::post, "/v1/orders/" + order + "/payment",
                R"({"channel":")" + channel + R"("})");
  }
  testing::Reply Control(const std::string& action, const std::string& body) {
    return testing::BeastClient(simulator_->port()).Send(verb::post, "/sim/" + action, body);
  }
  Event LastEvent() { return log_->Read(log_->Head().sequence, 1)->front(); }
  PaymentStatus StatusOf(const std::string& payment) {
    return ledger_->LoadPayment(payment)->status;
  }

  std::atomic<int64_t> now_{kBankNow};
  std::atomic<int64_t> bank_skew_us_{0};
  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<BankSimulator> simulator_;
  std::unique_ptr<SnapClient> client_;
  std::unique_ptr<BankPayments> payments_;
  BankNotifyOptions notify_;
  TokenTable tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<malpro::Api> api_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(PaymentFlowTest, AQrisPaymentGoesFromTheApiThroughTheBankIntoTheLog) {
  testing::Reply reply = RequestPayment("order-1", "QRIS");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string reference = JsonString(reply.body, "payment", "bank_reference");
  const std::string content = JsonString(reply.body, "payment", "qr_content");
  ASSERT_FALSE(reference.empty()) << reply.body;
  Result<std::map<std::string, std::string>> tags = ParseQrisPayload(content);
  ASSERT_TRUE(tags.ok()) << tags.status().ToString() << " " << content;
  EXPECT_EQ((*tags)["01"], "12");  // dynamic: one payment
  EXPECT_EQ((*tags)["53"], "360");
  EXPECT_EQ((*tags)["54"], "68000");
  EXPECT_NE((*tags)["62"].find(reference), std::string::npos);
  EXPECT_EQ(content.substr(content.size() - 8, 4), "6304");
  EXPECT_EQ(content.substr(content.size() - 4), QrisCrc(content.substr(0, content.size() - 4)));
  // The request and the claim of its reference, in one append.
  Event claimed = LastEvent();
  EXPECT_EQ(claimed.type, event_types::bank_reference_claimed);
  EXPECT_EQ(claimed.stream_id, BankReferenceStream("QRIS", reference));
  Event requested = log_->Read(claimed.sequence - 1, 1)->front();
  EXPECT_EQ(requested.type, event_types::payment_requested);
  EXPECT_NE(requested.payload.find("\"bank_reference\":\"" + reference + "\""), std::string::npos);
  // While pending, the payer can fetch what to pay again.
  testing::Reply pending = Call(verb::get, "/v1/orders/order-1/payment");
  EXPECT_EQ(JsonString(pending.body, "status"), "requested") << pending.body;
  EXPECT_EQ(JsonString(pending.body, "issued", "qr_content"), content);
  // A second request while pending is refused before the bank is asked.
  EXPECT_EQ(RequestPayment("order-1", "QRIS").status, 409);

  const uint64_t head = log_->Head().sequence;
  testing::Reply paid = Control("pay", R"({"reference":")" + reference + R"("})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_NE(paid.body.find("\"partner_status\":200"), std::string::npos) << paid.body;
  EXPECT_NE(paid.body.find("2005200"), std::string::npos) << paid.body;
  EXPECT_EQ(log_->Head().sequence, head + 1);
  EXPECT_EQ(LastEvent().type, event_types::payment_succeeded);
  EXPECT_EQ(StatusOf("order-1"), PaymentStatus::kSucceeded);
  EXPECT_EQ(JsonString(Call(verb::get, "/v1/orders/order-1/payment").body, "status"), "succeeded");

  // A refund is recorded by an operator, up to what was paid.
  testing::Reply refund =
      Call(verb::post, "/v1/orders/order-1/payment/refund", R"({"amount":"18000.00"})", "t-op");
  EXPECT_EQ(refund.status, 200) << refund.body;
  EXPECT_EQ(LastEvent().type, event_types::payment_refunded);
  EXPECT_EQ(
      Call(verb::post, "/v1/orders/order-1/payment/refund", R"({"amount":"60000.00"})", "t-op")
          .status,
      422);
  EXPECT_EQ(Call(verb::post, "/v1/orders/order-1/payment/refund", R"({"amount":"1.00"})").status,
            403);  // not the buyer's to decide

  std::vector<SimulatedStatementEntry> statement = simulator_->Statement("2026-11-22");
  ASSERT_EQ(statement.size(), 1u);
  EXPECT_EQ(statement[0].reference, "order-1");
  EXPECT_EQ(statement[0].bank_reference, reference);
  EXPECT_EQ(statement[0].amount, Money::FromRupiah(68'000));
  EXPECT_EQ(statement[0].credit_debit, "C");
  EXPECT_TRUE(simulator_->Statement("2026-11-23").empty());
  testing::Reply over_http =
      testing::BeastClient(simulator_->port()).Send(verb::get, "/sim/statement?date=2026-11-22");
  EXPECT_NE(over_http.body.find("\"amount\":\"68000.00\""), std::string::npos) << over_http.body;
}

TEST_F(PaymentFlowTest, WhatThePayerWasShownIsInTheEventAndSurvivesARestart) {
  testing::Reply qris = RequestPayment("order-1", "QRIS");
  ASSERT_EQ(qris.status, 201) << qris.body;
  const std::string content = JsonString(qris.body, "payment", "qr_content");
  const std::string expires = JsonString(qris.body, "payment", "expires_at");
  ASSERT_FALSE(content.empty());
  ASSERT_FALSE(expires.empty());
  const Event requested = log_->Read(LastEvent().sequence - 1, 1)->front();  // before the claim
  EXPECT_NE(requested.payload.find("\"qr_content\":\"" + content + "\""), std::string::npos)
      << requested.payload;
  EXPECT_NE(
      requested.payload.find("\"expires_at_us\":" + std::to_string(kBankNow + 1800 * kSecond)),
      std::string::npos)
      << requested.payload;
  testing::Reply va = RequestPayment("order-2", "VA");
  ASSERT_EQ(va.status, 201) << va.body;
  const std::string account = JsonString(va.body, "payment", "virtual_account_no");
  ASSERT_FALSE(account.empty());

  // A new process holds nothing in memory: it shows the same from the log.
  BankPaymentOptions options;
  options.expire_after_s = 1800;
  options.clock = [this] { return now_.load(); };
  BankPayments restarted(ledger_.get(), log_.get(), client_.get(), options);
  std::optional<PaymentRequested> shown = restarted.Issued("order-1");
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(shown->bank_reference, JsonString(qris.body, "payment", "bank_reference"));
  EXPECT_EQ(JsonString(PaymentRequestedJson(*shown), "amount"), "68000.00");
  EXPECT_EQ(shown->qr_content, content);
  EXPECT_EQ(SnapTimestamp(shown->expires_at_us), expires);
  std::optional<PaymentRequested> shown_va = restarted.Issued("order-2");
  ASSERT_TRUE(shown_va.has_value());
  // Shown without SNAP's padding; kept as the bank wrote it.
  EXPECT_EQ(ShownBankReference(shown_va->virtual_account_no), account);
  EXPECT_TRUE(shown_va->virtual_account_no.starts_with("   12345")) << shown_va->virtual_account_no;
  EXPECT_TRUE(shown_va->qr_content.empty());
  EXPECT_FALSE(restarted.Issued("order-3").has_value());  // never requested

  // Once paid there is nothing left to show.
  ASSERT_EQ(Control("pay", R"({"reference":")" +
                               JsonString(qris.body, "payment", "bank_reference") + R"("})")
                .status,
            200);
  EXPECT_FALSE(restarted.Issued("order-1").has_value());
}

TEST_F(PaymentFlowTest, ARetryUnderTheSameIdempotencyKeyGetsTheOriginalPayment) {
  auto request = [&](const std::string& key) {
    return testing::BeastClient(server_->port())
        .Send(verb::post, "/v1/orders/order-2/payment", R"({"channel":"QRIS"})",
              {{"Authorization", "Bearer t-asn"}, {"Idempotency-Key", key}});
  };
  testing::Reply first = request("pay-order-2");
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t head = log_->Head().sequence;
  testing::Reply retry = request("pay-order-2");
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_NE(retry.body.find("\"replayed\":true"), std::string::npos) << retry.body;
  EXPECT_EQ(JsonString(retry.body, "payment", "qr_content"),
            JsonString(first.body, "payment", "qr_content"));
  EXPECT_EQ(JsonString(retry.body, "payment", "bank_reference"),
            JsonString(first.body, "payment", "bank_reference"));
  EXPECT_EQ(request("another-key").status, 409);
  EXPECT_EQ(log_->Head().sequence, head);
  // The bank issued one QRIS only.
  testing::Reply issued = testing::BeastClient(simulator_->port()).Send(verb::get, "/sim/payments");
  EXPECT_EQ(issued.body.find("order-2"), issued.body.rfind("order-2")) << issued.body;
}

TEST_F(PaymentFlowTest, RequestsThatCannotBePaidAreRefusedWithoutWriting) {
  const uint64_t head = log_->Head().sequence;
  EXPECT_EQ(RequestPayment("order-cod", "QRIS").status, 409);
  EXPECT_EQ(RequestPayment("order-1", "CASH").status, 422);
  EXPECT_EQ(RequestPayment("order-404", "QRIS").status, 404);
  EXPECT_EQ(Call(verb::post, "/v1/orders/order-1/payment", R"({"channel":"QRIS","x":1})").status,
            400);
  EXPECT_EQ(log_->Head().sequence, head);
  EXPECT_EQ(
      testing::BeastClient(simulator_->port()).Send(verb::get, "/sim/payments").body.find("order-"),
      std::string::npos);
}

TEST_F(PaymentFlowTest, ARepeatedNotificationAppendsNothing) {
  ASSERT_EQ(RequestPayment("order-2", "QRIS").status, 201);
  ASSERT_TRUE(simulator_->Pay("order-2").ok());
  ASSERT_EQ(StatusOf("order-2"), PaymentStatus::kSucceeded);
  const uint64_t head = log_->Head().sequence;
  testing::Reply repeated = Control("duplicate", R"({"reference":"order-2"})");
  ASSERT_EQ(repeated.status, 200) << repeated.body;
  EXPECT_NE(repeated.body.find("\"partner_status\":200"), std::string::npos) << repeated.body;
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(PaymentFlowTest, AnotherAmountIsRefusedAndRecorded) {
  ASSERT_EQ(RequestPayment("order-3", "QRIS").status, 201);
  const uint64_t head = log_->Head().sequence;
  Result<NotifyOutcome> outcome = simulator_->Corrupt("order-3", "amount");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->status, 404);
  EXPECT_NE(outcome->body.find("4045213"), std::string::npos) << outcome->body;
  EXPECT_EQ(log_->Head().sequence, head + 1);
  EXPECT_EQ(LastEvent().type, event_types::payment_notification_refused);
  EXPECT_NE(LastEvent().payload.find("69000.00"), std::string::npos) << LastEvent().payload;
  EXPECT_EQ(StatusOf("order-3"), PaymentStatus::kRequested);
}

TEST_F(PaymentFlowTest, ForgedReplayedStaleAndMalformedNotificationsAppendNothing) {
  ASSERT_EQ(RequestPayment("order-1", "QRIS").status, 201);
  ASSERT_EQ(RequestPayment("order-2", "VA").status, 201);
  const uint64_t head = log_->Head().sequence;
  // Forged: the signature does not verify.
  Result<NotifyOutcome> forged = simulator_->Corrupt("order-1", "signature");
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 401) << forged->body;
  // Stale: the bank's clock (so its X-TIMESTAMP) is ten minutes behind.
  bank_skew_us_ = -600 * kSecond;
  Result<NotifyOutcome> stale = simulator_->Pay("order-1");
  bank_skew_us_ = 0;
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, 401) << stale->body;
  EXPECT_NE(stale->body.find("Timestamp"), std::string::npos) << stale->body;
  // Malformed: properly signed, but not a notification.
  const std::string timestamp = SnapTimestamp(now_);
  auto signed_post = [&](const std::string& body, const std::string& external_id) {
    const std::string text =
        *SnapNotificationStringToSign("POST", snap_qris_notify_path, body, timestamp);
    return testing::BeastClient(server_->port())
        .Send(verb::post, snap_qris_notify_path, body,
              {{"X-TIMESTAMP", timestamp},
               {"X-SIGNATURE", *SnapRsaSign(ReadTestFile("bank_private.pem"), text)},
               {"X-PARTNER-ID", "BJTM"},
               {"X-EXTERNAL-ID", external_id},
               {"CHANNEL-ID", "95221"}});
  };
  EXPECT_EQ(signed_post(R"({"originalPartnerReferenceNo":"order-1"})", "m-1").status, 400);
  EXPECT_EQ(log_->Head().sequence, head);
  // Replayed: an external id already used today, now on another notification.
  const std::string failed = R"({"originalReferenceNo":"x","originalPartnerReferenceNo":"order-1",)"
                             R"("latestTransactionStatus":"06",)"
                             R"("amount":{"value":"68000.00","currency":"IDR"}})";
  testing::Reply third = RequestPayment("order-3", "QRIS");
  ASSERT_EQ(third.status, 201);
  const std::string succeeded =
      R"({"originalReferenceNo":")" + JsonString(third.body, "payment", "bank_reference") +
      R"(","originalPartnerReferenceNo":"order-3","latestTransactionStatus":"00",)"
      R"("amount":{"value":"68000.00","currency":"IDR"}})";
  const uint64_t before_replay = log_->Head().sequence;
  ASSERT_EQ(signed_post(succeeded, "r-1").status, 200);
  EXPECT_EQ(log_->Head().sequence, before_replay + 1);
  testing::Reply replayed = signed_post(failed, "r-1");
  EXPECT_EQ(replayed.status, 409) << replayed.body;
  EXPECT_EQ(log_->Head().sequence, before_replay + 1);
  EXPECT_EQ(StatusOf("order-1"), PaymentStatus::kRequested);
  EXPECT_EQ(StatusOf("order-2"), PaymentStatus::kRequested);
}

TEST_F(PaymentFlowTest, ThePollerRecordsWhatTheNotificationNeverDelivered) {
  ASSERT_EQ(RequestPayment("order-1", "QRIS").status, 201);
  testing::Reply va = RequestPayment("order-2", "VA");
  ASSERT_EQ(va.status, 201) << va.body;
  const std::string account = JsonString(va.body, "payment", "virtual_account_no");
  ASSERT_EQ(account.size(), 17u) << va.body;  // shown without SNAP's 3 spaces of padding
  const uint64_t head = log_->Head().sequence;
  // Paid at the bank, notifications withheld.
  testing::Reply delayed = Control("delay", R"({"reference":"order-1"})");
  ASSERT_EQ(delayed.status, 200) << delayed.body;
  EXPECT_NE(delayed.body.find("\"notified\":false"), std::string::npos);
  ASSERT_TRUE(simulator_->Pay(account, /*notify=*/false).ok());
  EXPECT_EQ(log_->Head().sequence, head);
  // Not yet due: nothing asked.
  Result<PollReport> early = payments_->PollOnce();
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->asked, 0);
  now_ += 121 * kSecond;
  Result<PollReport> report = payments_->PollOnce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->asked, 2);
  EXPECT_EQ(report->succeeded, 2);
  EXPECT_EQ(report->errors, 0);
  EXPECT_EQ(StatusOf("order-1"), PaymentStatus::kSucceeded);
  EXPECT_EQ(StatusOf("order-2"), PaymentStatus::kSucceeded);
  EXPECT_EQ(LastEvent().actor, "system:bank-poller");
  EXPECT_EQ(log_->Head().sequence, head + 2);
  // A pass later finds nothing left to ask.
  EXPECT_EQ(payments_->PollOnce()->asked, 0);
  EXPECT_EQ(payments_->Totals().succeeded, 2);
  EXPECT_EQ(payments_->PendingCount(), 0u);
}

TEST_F(PaymentFlowTest, TheOldestPendingAgeSkipsPaymentsResolvedSinceThePollersPass) {
  EXPECT_EQ(payments_->OldestPendingAgeSeconds(), 0);
  ASSERT_EQ(RequestPayment("order-1", "QRIS").status, 201);
  now_ += 60 * kSecond;
  ASSERT_EQ(RequestPayment("order-2", "QRIS").status, 201);
  now_ += 30 * kSecond;
  Result<PollReport> pass = payments_->PollOnce();  // follows the log; neither is due yet
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->asked, 0);
  EXPECT_DOUBLE_EQ(payments_->OldestPendingAgeSeconds(), 90);
  // order-1 is paid and notified after the pass: the oldest still pending is order-2.
  testing::Reply paid = Control("pay", R"({"reference":"order-1"})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  ASSERT_EQ(StatusOf("order-1"), PaymentStatus::kSucceeded);
  EXPECT_DOUBLE_EQ(payments_->OldestPendingAgeSeconds(), 30);
}

TEST_F(PaymentFlowTest, AnUnpaidPaymentExpiresAndMayBeRequestedAgain) {
  ASSERT_EQ(RequestPayment("order-4", "QRIS").status, 201);
  now_ += 600 * kSecond;
  Result<PollReport> pending = payments_->PollOnce();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->asked, 1);
  EXPECT_EQ(pending->expired, 0);
  EXPECT_EQ(StatusOf("order-4"), PaymentStatus::kRequested);
  now_ += 1201 * kSecond;
  Result<PollReport> report = payments_->PollOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->expired, 1);
  EXPECT_EQ(StatusOf("order-4"), PaymentStatus::kExpired);
  EXPECT_EQ(LastEvent().type, event_types::payment_expired);
  // Failed at the bank: notified and recorded; then a new request is allowed.
  ASSERT_EQ(RequestPayment("order-4", "QRIS").status, 200);
  testing::Reply failed = Control("fail", R"({"reference":"order-4"})");
  ASSERT_EQ(failed.status, 200) << failed.body;
  EXPECT_EQ(StatusOf("order-4"), PaymentStatus::kFailed);
  EXPECT_EQ(RequestPayment("order-4", "QRIS").status, 200);
  EXPECT_EQ(StatusOf("order-4"), PaymentStatus::kRequested);
}

TEST_F(PaymentFlowTest, HmacNotificationsCarryTheTokenWeIssued) {
  Build("hmac");
  ASSERT_EQ(RequestPayment("order-1", "QRIS").status, 201);
  Result<NotifyOutcome> paid = simulator_->Pay("order-1");
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(StatusOf("order-1"), PaymentStatus::kSucceeded);
  // Without a token we issued, or with a broken signature: refused, nothing written.
  ASSERT_EQ(RequestPayment("order-2", "QRIS").status, 201);
  const uint64_t head = log_->Head().sequence;
  Result<NotifyOutcome> forged = simulator_->Corrupt("order-2", "signature");
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 401);
  const std::string body = R"({"originalReferenceNo":"x","originalPartnerReferenceNo":"order-2",)"
                           R"("latestTransactionStatus":"00",)"
                           R"("amount":{"value":"68000.00","currency":"IDR"}})";
  const std::string timestamp = SnapTimestamp(now_);
  const std::string text =
      *SnapTransactionStringToSign("POST", snap_qris_notify_path, "made-up", body, timestamp);
  testing::Reply unknown_token =
      testing::BeastClient(server_->port())
          .Send(verb::post, snap_qris_notify_path, body,
                {{"Authorization", "Bearer made-up"},
                 {"X-TIMESTAMP", timestamp},
                 {"X-SIGNATURE", SnapHmacSignature(kBankNotifySecret, text)},
                 {"X-PARTNER-ID", "BJTM"},
                 {"X-EXTERNAL-ID", "h-1"},
                 {"CHANNEL-ID", "95221"}});
  EXPECT_EQ(unknown_token.status, 401) << unknown_token.body;
  EXPECT_EQ(log_->Head().sequence, head);
  // A token request signed by another key gets no token.
  const std::string token_text = SnapAccessTokenStringToSign("BJTM", timestamp);
  testing::Reply stranger =
      testing::BeastClient(server_->port())
          .Send(verb::post, snap_bank_access_token_path, R"({"grantType":"client_credentials"})",
                {{"X-CLIENT-KEY", "BJTM"},
                 {"X-TIMESTAMP", timestamp},
                 {"X-SIGNATURE", *SnapRsaSign(ReadTestFile("partner_private.pem"), token_text)}});
  EXPECT_EQ(stranger.status, 401) << stranger.body;
  EXPECT_NE(stranger.body.find("4017300"), std::string::npos) << stranger.body;
}

}  // namespace
}  // namespace malpro

namespace malpro {
namespace {

// The whole day, as a payment operator runs it: orders paid by QRIS through the bank, the
// spend counted, the day closed after its cut-off, the bank's statement (with three injected
// differences) reconciled.
TEST_F(PaymentFlowTest, ADaysCycleFromQrisToReconciliationReportsExactlyTheInjectedDifferences) {
  ProjectorOptions projector_options;
  projector_options.dir = dir_.Sub("read-models");
  std::unique_ptr<Projector> projector =
      std::move(Projector::Open(log_.get(), projector_options)).value();
  ASSERT_TRUE(projector->CatchUp().ok());
  projector->Start();

  for (const char* order : {"order-1", "order-2", "order-3"}) {
    testing::Reply requested = RequestPayment(order, "QRIS");
    ASSERT_EQ(requested.status, 201) << requested.body;
    const std::string reference = JsonString(requested.body, "payment", "bank_reference");
    ASSERT_TRUE(ParseQrisPayload(JsonString(requested.body, "payment", "qr_content")).ok());
    testing::Reply paid = Control("pay", R"({"reference":")" + reference + R"("})");
    ASSERT_EQ(paid.status, 200) << paid.body;
    ASSERT_EQ(StatusOf(order), PaymentStatus::kSucceeded);
  }
  ASSERT_TRUE(projector->WaitForApplied(log_->Head().sequence, std::chrono::seconds(10)));
  const std::string spend = *projector->AsnSpend(kBuyer, "2026-11");
  EXPECT_NE(spend.find(R"("cashless":{"count":3,"amount":"204000.00"})"), std::string::npos)
      << spend;

  // The next morning the day is over: close it.
  now_ = kBankNow + 24 * 3600 * kSecond;
  CommandContext operator_context;
  operator_context.actor = "operator:rina";
  Result<SettleOutcome> settled = Settle(*ledger_, *log_, {2026, 11, 22}, dir_.Sub("settlement"),
                                         SettlementFileOptions{}, operator_context);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_EQ(settled->day.payments, 3);
  EXPECT_EQ(settled->day.total_gross, Money::FromRupiah(204'000));
  EXPECT_EQ(settled->day.total_fee, Money::FromSen(3 * 20'400));  // 0.3% of Rp68.000 each
  ASSERT_TRUE(projector->WaitForApplied(log_->Head().sequence, std::chrono::seconds(10)));
  EXPECT_NE(projector->Outstanding("warung").find(R"("payments":0)"), std::string::npos);

  // The bank's statement of the day, as its CSV export, with three differences injected: a
  // payment the bank does not show, one booked with another amount, one the ledger never saw.
  testing::Reply exported = testing::BeastClient(simulator_->port())
                                .Send(verb::get, "/sim/statement?date=2026-11-22&format=csv");
  ASSERT_EQ(exported.status, 200) << exported.body;
  std::string statement;
  std::istringstream lines(exported.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(",order-1,") != std::string::npos) continue;  // missing at the bank
    const size_t amount = line.find(",68000.00,order-2,");
    if (amount != std::string::npos) line.replace(amount, 10, ",60000.00,");
    statement += line + "\n";
  }
  statement += "BJTM-20261122,0011000000,2026-11-22,CRDT,5000.00,ghost-ref,\"unknown payer\"\n";
  Result<ReconcileOutcome> reconciled =
      RunReconciliation(*ledger_, *log_, statement, "csv", "0011000000", operator_context);
  ASSERT_TRUE(reconciled.ok()) << reconciled.status().ToString() << "\n" << statement;
  const RecordReconciliation& run = reconciled->report.command;
  ASSERT_NO_FATAL_FAILURE(testing::ExpectReconciliationCounts(
      run, /*entries=*/3, /*matched=*/1, /*missing_in_ledger=*/1, /*missing_at_bank=*/1,
      /*amount_mismatch=*/1, /*discrepancies=*/3));
  std::map<std::string, std::string> found;
  for (const Discrepancy& discrepancy : run.discrepancies) {
    found[discrepancy.kind] =
        discrepancy.payment_id.empty() ? discrepancy.reference : discrepancy.payment_id;
  }
  EXPECT_EQ(found[std::string(discrepancy_missing_at_bank)], "order-1");
  EXPECT_EQ(found[std::string(discrepancy_amount_mismatch)], "order-2");
  EXPECT_EQ(found[std::string(discrepancy_missing_in_ledger)], "ghost-ref");
  projector->Stop();
}

// Cancelled while its payment is pending: the request is voided in the ledger and at the bank;
// a payment that crossed the void still arrives, and is a refund due that counts for nothing.
TEST_F(PaymentFlowTest, ACancelVoidsTheRequestAtTheBankAndAPaymentThatCrossedItIsARefundDue) {
  for (const char* channel : {"QRIS", "VA"}) {
    const std::string order = std::string(channel) == "QRIS" ? "order-1" : "order-2";
    testing::Reply requested = RequestPayment(order, channel);
    ASSERT_EQ(requested.status, 201) << requested.body;
    const std::string reference = JsonString(requested.body, "payment", "bank_reference");
    testing::Reply cancelled =
        Call(verb::post, "/v1/orders/" + order + "/cancel", R"({"reason":"salah pesan"})");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(StatusOf(order), PaymentStatus::kVoided);
    // Voided at the bank: the payer can no longer pay it.
    testing::Reply paid = Control("pay", R"({"reference":")" + reference + R"("})");
    EXPECT_NE(paid.status, 200) << channel << " " << paid.body;
    EXPECT_EQ(StatusOf(order), PaymentStatus::kVoided);
    // The payment that crossed the void is notified all the same.
    const uint64_t head = log_->Head().sequence;
    testing::Reply late = Control("pay", R"({"reference":")" + reference + R"(","late":true})");
    ASSERT_EQ(late.status, 200) << channel << " " << late.body;
    EXPECT_EQ(StatusOf(order), PaymentStatus::kRefundDue) << channel;
    ASSERT_EQ(log_->Head().sequence, head + 1);
    EXPECT_EQ(LastEvent().type, event_types::payment_refund_due);
    EXPECT_NE(LastEvent().payload.find("\"cause\":\"payment_voided\""), std::string::npos);
  }
  // A paid order is not cancelled until it is fully refunded.
  testing::Reply third = RequestPayment("order-3", "QRIS");
  ASSERT_EQ(third.status, 201);
  ASSERT_EQ(Control("pay", R"({"reference":")" +
                               JsonString(third.body, "payment", "bank_reference") + R"("})")
                .status,
            200);
  ASSERT_EQ(StatusOf("order-3"), PaymentStatus::kSucceeded);
  testing::Reply refused =
      Call(verb::post, "/v1/orders/order-3/cancel", R"({"reason":"berubah pikiran"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(JsonString(refused.body, "error", "code"), "order_paid") << refused.body;
}

// A cancel that did not come over HTTP (Kafka intake, the CLI) is voided at the bank by the
// poller, from the log; a request past its validity is not voided again.
TEST_F(PaymentFlowTest, ThePollerVoidsAtTheBankWhatWasVoidedInTheLedger) {
  testing::Reply requested = RequestPayment("order-1", "VA");
  ASSERT_EQ(requested.status, 201) << requested.body;
  const std::string reference = JsonString(requested.body, "payment", "bank_reference");
  CommandContext buyer;
  buyer.actor = "asn:" + std::string(kBuyer);
  ASSERT_TRUE(ledger_->CancelOrder("order-1", "salah pesan", buyer).ok());
  Result<PollReport> pass = payments_->PollOnce();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->voided, 1);
  EXPECT_EQ(pass->errors, 0);
  testing::Reply paid = Control("pay", R"({"reference":")" + reference + R"("})");
  EXPECT_NE(paid.status, 200) << paid.body;  // voided at the bank
  Result<PollReport> again = payments_->PollOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->voided, 0);  // done once
}

}  // namespace
}  // namespace malpro

namespace malpro {
namespace {

// SNAP's virtualAccountNo is partnerServiceId ("   12345": 8 characters, space-padded) and the
// customer number. The API, the simulator's control side and its statements show it without
// the padding; the wire and the log keep it padded.
TEST_F(PaymentFlowTest, AVirtualAccountNumberIsShownTrimmedAndKeptPaddedOnTheWire) {
  testing::Reply va = RequestPayment("order-2", "VA");
  ASSERT_EQ(va.status, 201) << va.body;
  const std::string shown = JsonString(va.body, "payment", "virtual_account_no");
  EXPECT_TRUE(shown.starts_with("12345")) << va.body;
  EXPECT_EQ(shown.size(), 17u) << va.body;
  EXPECT_EQ(JsonString(va.body, "payment", "bank_reference"), shown) << va.body;
  const Event requested = log_->Read(LastEvent().sequence - 1, 1)->front();
  ASSERT_EQ(requested.type, event_types::payment_requested);
  EXPECT_NE(requested.payload.find("\"bank_reference\":\"   " + shown + "\""), std::string::npos)
      << requested.payload;
  testing::Reply pending = Call(verb::get, "/v1/orders/order-2/payment");
  EXPECT_EQ(JsonString(pending.body, "bank_reference"), shown) << pending.body;
  EXPECT_EQ(JsonString(pending.body, "issued", "virtual_account_no"), shown) << pending.body;
  testing::Reply issued = testing::BeastClient(simulator_->port()).Send(verb::get, "/sim/payments");
  EXPECT_NE(issued.body.find("\"virtual_account_no\":\"" + shown + "\""), std::string::npos)
      << issued.body;
  EXPECT_EQ(issued.body.find("   12345"), std::string::npos) << issued.body;
  // The number as shown pays the account; the notification carries it padded, as SNAP wants.
  testing::Reply paid = Control("pay", R"({"reference":")" + shown + R"("})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(StatusOf("order-2"), PaymentStatus::kSucceeded);
  EXPECT_NE(LastEvent().payload.find("\"bank_reference\":\"   " + shown + "\""), std::string::npos)
      << LastEvent().payload;
  EXPECT_EQ(JsonString(Call(verb::get, "/v1/orders/order-2/payment").body, "bank_reference"),
            shown);
  std::vector<SimulatedStatementEntry> statement = simulator_->Statement("2026-11-22");
  ASSERT_EQ(statement.size(), 1u);
  EXPECT_EQ(statement[0].bank_reference, shown);
}

// What a reconciliation says of the day is the same whichever statement file the simulator
// gives: camt.053, MT940 or CSV. Its JSON is no statement file, and is refused saying so.
TEST_F(PaymentFlowTest, TheSimulatorsStatementReconcilesAlikeInEveryFormat) {
  for (const char* order : {"order-1", "order-3"}) {
    ASSERT_EQ(RequestPayment(order, "QRIS").status, 201);
  }
  ASSERT_EQ(RequestPayment("order-2", "VA").status, 201);
  ASSERT_EQ(Control("pay", R"({"reference":"order-1"})").status, 200);
  ASSERT_EQ(Control("pay", R"({"reference":"order-2"})").status, 200);
  ASSERT_EQ(Control("delay", R"({"reference":"order-3"})").status, 200);  // never notified
  CommandContext operator_context;
  operator_context.actor = "operator:rina";
  auto statement = [&](const std::string& format) {
    return testing::BeastClient(simulator_->port())
        .Send(verb::get, "/sim/statement?date=2026-11-22&format=" + format);
  };
  std::vector<std::string> first;  // what the first format's run said, discrepancy by discrepancy
  for (const std::string format : {"csv", "camt053", "mt940"}) {
    testing::Reply file = statement(format);
    ASSERT_EQ(file.status, 200) << format << " " << file.body;
    Result<ReconcileOutcome> reconciled =
        RunReconciliation(*ledger_, *log_, file.body, "", "0011000000", operator_context);
    ASSERT_TRUE(reconciled.ok()) << format << " " << reconciled.status().ToString() << "\n"
                                 << file.body;
    const RecordReconciliation& run = reconciled->report.command;
    EXPECT_EQ(run.format, format);
    EXPECT_EQ(run.statement_id, "bjtm-20261122");
    EXPECT_EQ(run.entries, 3) << format;
    EXPECT_EQ(run.matched, 2) << format << "\n" << file.body;
    EXPECT_EQ(run.missing_in_ledger, 1) << format;
    EXPECT_EQ(run.missing_at_bank, 0) << format;
    EXPECT_EQ(run.amount_mismatch, 0) << format;
    std::vector<std::string> said;
    for (const ReconciliationLine& line : reconciled->report.lines) {
      said.push_back(
          line.result + " " + line.detail.payment_id + " " +
          (line.detail.statement_amount ? FormatSnap(*line.detail.statement_amount) : "-"));
    }
    EXPECT_NE(std::find(said.begin(), said.end(), "missing_in_ledger order-3 68000.00"), said.end())
        << format;
    if (first.empty()) first = said;
    EXPECT_EQ(said, first) << format;
  }
  testing::Reply json = statement("json");
  ASSERT_EQ(json.status, 200);
  Result<ReconcileOutcome> refused =
      RunReconciliation(*ledger_, *log_, json.body, "", "0011000000", operator_context);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().error_code(), errc::kStatementFormatUnsupported);
  EXPECT_NE(refused.status().message().find("format=mt940"), std::string::npos)
      << refused.status().message();
  testing::Reply unknown = statement("xlsx");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("camt053"), std::string::npos) << unknown.body;
}

}  // namespace
}  // namespace malpro
