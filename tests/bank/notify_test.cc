// Bank notifications over real sockets: verified before anything is appended, answered with
// SNAP codes, repeats acknowledged without appending, other amounts refused and recorded.
#include "adapters/bank/notify.h"

#include <gtest/gtest.h>

#include "adapters/bank/snap_signature.h"
#include "adapters/http/server.h"
#include "engine/domain_events.h"
#include "tests/bank/bank_testing.h"
#include "tests/bank/handler_server.h"
#include "tests/support/beast_client.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

using testing::kBankNow;
using testing::kBankTimestamp;

using boost::beast::http::verb;

using testing::ReadTestFile;

class BankNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::OpenClockedLedger(
        dir_.Sub("log"), [] { return kBankNow; }, &log_, &ledger_);
    CommandContext admin;
    admin.actor = "admin:setup";
    const Status seeded = testing::SeedMarket(*ledger_, admin);
    ASSERT_TRUE(seeded.ok()) << seeded.ToString();
    for (const char* id : {"pay-1", "pay-2", "pay-3", "pay-4"}) {
      ASSERT_TRUE(
          ledger_->Place({id, "198507122010011003", "warung", {{"beras", 1}}, "CASHLESS"}, admin)
              .ok());
    }
    for (const char* id : {"pay-1", "pay-2", "pay-4"}) {
      ASSERT_TRUE(ledger_->RequestPayment(id, "QRIS", std::string("BJ-") + id, admin).ok());
    }
    // A virtual account: its number (space-padded prefix) is the payment's reference.
    ASSERT_TRUE(ledger_->RequestPayment("pay-3", "VA", "  123450001", admin).ok());
    options_.partner_id = "BJTM";
    options_.bank_public_key_pem = ReadTestFile("bank_public.pem");
    options_.clock = [] { return kBankNow; };
    api_ = std::make_unique<Api>(
        testing::BankNotifyDependencies(log_.get(), ledger_.get(), &tokens_, &metrics_, &options_));
    HttpOptions http;
    http.port = 0;
    server_ = std::make_unique<HttpServer>(http, api_.get(), &metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }

  static std::string Body(const std::string& payment, const std::string& amount) {
    return R"({"originalReferenceNo":"BJ-)" + payment + R"(","originalPartnerReferenceNo":")" +
           payment +
           R"(","latestTransactionStatus":"00","transactionStatusDesc":"success","amount":{"value":")" +
           amount + R"(","currency":"IDR"}})";
  }

  testing::Reply Notify(const std::string& body, const std::string& external_id,
                        std::string timestamp = kBankTimestamp, std::string partner = "BJTM",
                        std::string signed_body = "", std::string path = snap_qris_notify_path) {
    const std::string text = *SnapNotificationStringToSign(
        "POST", path, signed_body.empty() ? body : signed_body, timestamp);
    const std::string signature = *SnapRsaSign(ReadTestFile("bank_private.pem"), text);
    return testing::BeastClient(server_->port())
        .Send(verb::post, path, body,
              {{"X-TIMESTAMP", timestamp},
               {"X-SIGNATURE", signature},
               {"X-PARTNER-ID", partner},
               {"X-EXTERNAL-ID", external_id},
               {"CHANNEL-ID", "95221"}});
  }

  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
  BankNotifyOptions options_;
  TokenTable tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(BankNotifyTest, AVerifiedNotificationRecordsTheSuccessOnce) {
  const uint64_t head = log_->Head().sequence;
  testing::Reply reply = Notify(Body("pay-1", "68000.00"), "ext-1");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("\"responseCode\":\"2005200\""), std::string::npos);
  EXPECT_EQ(log_->Head().sequence, head + 1);
  PaymentState payment = *ledger_->LoadPayment("pay-1");
  EXPECT_EQ(payment.status, PaymentStatus::kSucceeded);
  EXPECT_EQ(payment.fee, Money::FromSen(20'400));  // 0.3% of Rp68.000 for a UKE merchant
  // The same notice again, and the same success under a new external id: acknowledged, nothing
  // written.
  EXPECT_EQ(Notify(Body("pay-1", "68000.00"), "ext-1").status, 200);
  EXPECT_EQ(Notify(Body("pay-1", "68000.00"), "ext-2").status, 200);
  EXPECT_EQ(log_->Head().sequence, head + 1);
}

TEST_F(BankNotifyTest, DuringAKeyRotationTheNextKeyIsAcceptedBesidesTheCurrentOne) {
  // The bank now signs with the key our configuration knows only as its next one.
  options_.bank_public_key_pem = ReadTestFile("partner_public.pem");
  const uint64_t head = log_->Head().sequence;
  EXPECT_EQ(Notify(Body("pay-1", "68000.00"), "ext-r1").status, 401);
  EXPECT_EQ(log_->Head().sequence, head);
  options_.bank_public_key_next_pem = ReadTestFile("bank_public.pem");
  testing::Reply reply = Notify(Body("pay-1", "68000.00"), "ext-r2");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(log_->Head().sequence, head + 1);
  // The rotation over: only the new key, now the current one.
  options_.bank_public_key_pem = ReadTestFile("bank_public.pem");
  options_.bank_public_key_next_pem.clear();
  EXPECT_EQ(Notify(Body("pay-1", "68000.00"), "ext-r3").status, 200);  // acknowledged again
}

TEST_F(BankNotifyTest, ForgedStaleMalformedAndForeignNotificationsAppendNothing) {
  const uint64_t head = log_->Head().sequence;
  struct Case {
    testing::Reply reply;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {Notify(Body("pay-1", "68000.00"), "e1", kBankTimestamp, "BJTM", Body("pay-1", "1.00")), 401,
       "4015200"},
      {Notify(Body("pay-1", "68000.00"), "e2", "2026-11-22T10:05:00+07:00"), 401, "4015200"},
      {Notify(Body("pay-1", "68000.00"), "e3", kBankTimestamp, "OTHERBANK"), 401, "4015200"},
      {Notify(R"({"originalPartnerReferenceNo":"pay-1"})", "e4"), 400, "4005202"},
      {Notify(Body("pay-1", "68000.00"), "bad id!"), 400, "4005201"},
      {Notify(Body("pay-404", "68000.00"), "e5"), 404, "4045201"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.reply.status, c.status) << c.reply.body;
    EXPECT_NE(c.reply.body.find("\"responseCode\":\"" + c.code + "\""), std::string::npos)
        << c.reply.body;
  }
  testing::Reply missing = testing::BeastClient(server_->port())
                               .Send(verb::post, snap_qris_notify_path, Body("pay-1", "68000.00"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(log_->Head().sequence, head);
  EXPECT_EQ(ledger_->LoadPayment("pay-1")->status, PaymentStatus::kRequested);
}

TEST_F(BankNotifyTest, AnotherAmountIsRefusedAndKeptForTheOperator) {
  const uint64_t head = log_->Head().sequence;
  testing::Reply reply = Notify(Body("pay-2", "70000.00"), "ext-9");
  EXPECT_EQ(reply.status, 404);
  EXPECT_NE(reply.body.find("\"responseCode\":\"4045213\""), std::string::npos) << reply.body;
  EXPECT_EQ(log_->Head().sequence, head + 1);
  EXPECT_EQ(log_->Read(head + 1, 1)->front().type, event_types::payment_notification_refused);
  EXPECT_EQ(ledger_->LoadPayment("pay-2")->status, PaymentStatus::kRequested);
  // The right amount then succeeds; its external id is then used up for the day.
  EXPECT_EQ(Notify(Body("pay-2", "68000.00"), "ext-10").status, 200);
  EXPECT_EQ(ledger_->LoadPayment("pay-2")->status, PaymentStatus::kSucceeded);
  testing::Reply reused = Notify(Body("pay-1", "68000.00"), "ext-10");
  EXPECT_EQ(reused.status, 409);
  EXPECT_NE(reused.body.find("\"responseCode\":\"4095200\""), std::string::npos) << reused.body;
}

TEST_F(BankNotifyTest, AVirtualAccountPaymentFlagRecordsTheSuccess) {
  const std::string body =
      R"({"partnerServiceId":"  12345","customerNo":"0001","virtualAccountNo":"  123450001",)"
      R"("trxId":"pay-3","paymentRequestId":"BJ-VA-77","paidAmount":{"value":"68000.00",)"
      R"("currency":"IDR"},"trxDateTime":"2026-11-22T10:14:00+07:00"})";
  testing::Reply reply = Notify(body, "va-1", kBankTimestamp, "BJTM", "", snap_va_payment_path);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("\"responseCode\":\"2002500\""), std::string::npos) << reply.body;
  PaymentState payment = *ledger_->LoadPayment("pay-3");
  EXPECT_EQ(payment.status, PaymentStatus::kSucceeded);
  EXPECT_EQ(payment.paid_at_us, kBankNow - 60'000'000);  // trxDateTime, a minute before the notice
  // Signed over the same JSON with other whitespace: the minified bodies are equal, so the
  // signature holds (and the already-succeeded payment is acknowledged).
  testing::Reply respaced =
      Notify(body, "va-2", kBankTimestamp, "BJTM", body + " ", snap_va_payment_path);
  EXPECT_EQ(respaced.status, 200);
  testing::Reply tampered =
      Notify(body, "va-3", kBankTimestamp, "BJTM",
             std::string(body).replace(body.find("68000"), 5, "99000"), snap_va_payment_path);
  EXPECT_EQ(tampered.status, 401);
  EXPECT_NE(tampered.body.find("\"responseCode\":\"4012500\""), std::string::npos);
}

// A word that does not match its request is refused with the SNAP code the docs name and kept
// as payment.notification_refused; nothing else changes.
TEST_F(BankNotifyTest, AWordThatDoesNotMatchItsRequestIsRefusedAndKept) {
  struct Case {
    testing::Reply reply;
    int status;
    std::string code;
    std::string reason;
  };
  std::string other_reference = Body("pay-2", "68000.00");
  other_reference.replace(other_reference.find("BJ-pay-2"), 8, "BJ-pay-9");
  const std::string va_flag_for_qris =
      R"({"partnerServiceId":"  12345","customerNo":"0001","virtualAccountNo":"BJ-pay-2",)"
      R"("trxId":"pay-2","paymentRequestId":"BJ-VA-78","paidAmount":{"value":"68000.00",)"
      R"("currency":"IDR"}})";
  std::string too_early = Body("pay-2", "68000.00");
  too_early.insert(too_early.size() - 1,
                   R"(,"additionalInfo":{"paidTime":"2020-01-01T10:00:00+07:00"})");
  std::string too_late = Body("pay-2", "68000.00");
  too_late.insert(too_late.size() - 1,
                  R"(,"additionalInfo":{"paidTime":"2099-01-01T10:00:00+07:00"})");
  const uint64_t head = log_->Head().sequence;
  const std::vector<Case> cases = {
      {Notify(other_reference, "m1"), 404, "4045218", "bank_reference_mismatch"},
      {Notify(va_flag_for_qris, "m2", kBankTimestamp, "BJTM", "", snap_va_payment_path), 404,
       "4042518", "notification_channel_mismatch"},
      {Notify(too_early, "m3"), 400, "4005201", "paid_time_out_of_window"},
      {Notify(too_late, "m4"), 400, "4005201", "paid_time_out_of_window"},
  };
  ASSERT_EQ(log_->Head().sequence, head + cases.size());  // one refusal kept for each
  uint64_t kept = head;
  for (const Case& c : cases) {
    EXPECT_EQ(c.reply.status, c.status) << c.reply.body;
    EXPECT_NE(c.reply.body.find("\"responseCode\":\"" + c.code + "\""), std::string::npos)
        << c.reply.body;
    Event event = log_->Read(++kept, 1)->front();
    EXPECT_EQ(event.type, event_types::payment_notification_refused);
    EXPECT_NE(event.payload.find("\"reason\":\"" + c.reason + "\""), std::string::npos)
        << event.payload;
  }
  EXPECT_EQ(ledger_->LoadPayment("pay-2")->status, PaymentStatus::kRequested);
  // After the success, another amount is refused (not acknowledged as a success).
  ASSERT_EQ(Notify(Body("pay-2", "68000.00"), "m5").status, 200);
  testing::Reply after = Notify(Body("pay-2", "1.00"), "m6");
  EXPECT_EQ(after.status, 404);
  EXPECT_NE(after.body.find("\"responseCode\":\"4045213\""), std::string::npos) << after.body;
}

// The payer paid just before the cancel's void reached the bank: the notification is
// acknowledged, recorded as a refund due, and counts toward nothing.
TEST_F(BankNotifyTest, ASuccessForACancelledOrderIsARefundDue) {
  CommandContext buyer;
  buyer.actor = "asn:198507122010011003";
  ASSERT_TRUE(ledger_->CancelOrder("pay-4", "salah pesan", buyer).ok());
  EXPECT_EQ(ledger_->LoadPayment("pay-4")->status, PaymentStatus::kVoided);
  const uint64_t head = log_->Head().sequence;
  testing::Reply reply = Notify(Body("pay-4", "68000.00"), "late-1");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("\"responseCode\":\"2005200\""), std::string::npos) << reply.body;
  ASSERT_EQ(log_->Head().sequence, head + 1);
  EXPECT_EQ(log_->Read(head + 1, 1)->front().type, event_types::payment_refund_due);
  EXPECT_EQ(ledger_->LoadPayment("pay-4")->status, PaymentStatus::kRefundDue);
  EXPECT_EQ(Notify(Body("pay-4", "68000.00"), "late-2").status, 200);  // repeated: nothing new
  EXPECT_EQ(log_->Head().sequence, head + 1);
}

// A signed notification whose body holds a key twice is refused like any body: which amount
// or reference would count is not ours to guess.
TEST_F(BankNotifyTest, ANotificationWithARepeatedKeyIsRefusedAndWritesNothing) {
  const uint64_t head = log_->Head().sequence;
  std::string body = Body("pay-1", "68000.00");
  body.insert(body.size() - 1, R"(,"originalReferenceNo":"BJ-pay-9")");
  testing::Reply reply = Notify(body, "dup-1");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("\"responseCode\":\"4005202\""), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("originalReferenceNo"), std::string::npos) << reply.body;
  EXPECT_EQ(log_->Head().sequence, head);
  EXPECT_EQ(ledger_->LoadPayment("pay-1")->status, PaymentStatus::kRequested);
}

}  // namespace
}  // namespace malpro
