// The payment channels: the ledger's list of channel names (engine/payment_channel.h) and the
// bank adapter's registry of PaymentChannel implementations (adapters/bank/payment_channel.h),
// which must stay one for one.
#include "adapters/bank/payment_channel.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "adapters/bank/snap_protocol.h"
#include "engine/error_codes.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

void ExpectChannelUnknown(const Status& status) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.error_code(), errc::kChannelUnknown);
  EXPECT_EQ(status.field(), "channel");
}

TEST(PaymentChannelTest, LookupRefusesAnUnknownChannelNamingTheField) {
  for (std::string_view unknown : {"EWALLET", "qris", "", "QRIS "}) {
    SCOPED_TRACE(std::string(unknown));
    Result<const PaymentChannel*> found = FindPaymentChannel(unknown);
    ExpectChannelUnknown(found.status());
    ExpectChannelUnknown(CheckPaymentChannel(unknown));
  }
  // The message lists the channels that are accepted.
  EXPECT_NE(FindPaymentChannel("EWALLET").status().message().find("QRIS, VA"), std::string::npos)
      << FindPaymentChannel("EWALLET").status().message();
}

TEST(PaymentChannelTest, EveryChannelTheLedgerAcceptsHasOneImplementation) {
  ASSERT_EQ(PaymentChannels().size(), payment_channels.size());
  for (std::string_view name : payment_channels) {
    SCOPED_TRACE(std::string(name));
    EXPECT_TRUE(CheckPaymentChannel(name).ok());
    Result<const PaymentChannel*> found = FindPaymentChannel(name);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ((*found)->name(), name);
  }
  EXPECT_EQ((*FindPaymentChannel(payment_channel_qris))->name(), "QRIS");
  EXPECT_EQ((*FindPaymentChannel(payment_channel_va))->name(), "VA");
}

TEST(PaymentChannelTest, EachChannelIsNotifiedOnAPathOfItsOwn) {
  std::set<std::string_view> paths;
  for (const PaymentChannel* channel : PaymentChannels()) {
    EXPECT_TRUE(paths.insert(channel->notify_path()).second) << channel->notify_path();
    EXPECT_EQ(ChannelNotifiedAt(channel->notify_path()), channel);
  }
  EXPECT_EQ(ChannelNotifiedAt(snap_qris_notify_path)->name(), payment_channel_qris);
  EXPECT_EQ(ChannelNotifiedAt(snap_va_payment_path)->name(), payment_channel_va);
  EXPECT_EQ(ChannelNotifiedAt(snap_access_token_path), nullptr);
  EXPECT_EQ(ChannelNotifiedAt("/v1.0/qr/qr-mpm-notify/"), nullptr);
}

TEST(PaymentChannelTest, QueryAnswersSpeakForTheReferenceEachChannelIsAskedBy) {
  BankPaymentStatus answer;
  answer.reference_no = "BJQR-ANSWERED";
  const PaymentChannel& qris = **FindPaymentChannel(payment_channel_qris);
  const PaymentChannel& va = **FindPaymentChannel(payment_channel_va);
  EXPECT_EQ(qris.AnsweredReference(answer, "BJQR-REQUESTED"), "BJQR-ANSWERED");
  EXPECT_EQ(va.AnsweredReference(answer, "  123450001"), "  123450001");
  answer.reference_no.clear();
  EXPECT_EQ(qris.AnsweredReference(answer, "BJQR-REQUESTED"), "BJQR-REQUESTED");
}

TEST(PaymentChannelTest, NotificationsAreReadByTheirChannel) {
  const PaymentChannel& qris = **FindPaymentChannel(payment_channel_qris);
  Result<BankNotification> notice = qris.ReadNotification(
      R"({"originalReferenceNo":"BJQR-1","originalPartnerReferenceNo":"order-1",)"
      R"("latestTransactionStatus":"00","amount":{"value":"15000.00","currency":"IDR"},)"
      R"("additionalInfo":{"paidTime":"2026-11-22T10:15:00+07:00"}})");
  ASSERT_TRUE(notice.ok()) << notice.status().ToString();
  EXPECT_EQ(notice->channel, "QRIS");
  EXPECT_EQ(notice->payment_id, "order-1");
  EXPECT_EQ(notice->bank_reference, "BJQR-1");
  EXPECT_EQ(notice->amount, Money::FromRupiah(15'000));
  EXPECT_EQ(notice->paid_time, "2026-11-22T10:15:00+07:00");

  const PaymentChannel& va = **FindPaymentChannel(payment_channel_va);
  notice = va.ReadNotification(R"({"trxId":"order-2","virtualAccountNo":"  123450001",)"
                               R"("paidAmount":{"value":"20000.00","currency":"IDR"}})");
  ASSERT_TRUE(notice.ok()) << notice.status().ToString();
  EXPECT_EQ(notice->channel, "VA");
  EXPECT_EQ(notice->status, "00");  // a payment flag always means paid
  EXPECT_EQ(notice->bank_reference, "  123450001");
  EXPECT_EQ(notice->amount, Money::FromRupiah(20'000));

  Result<BankNotification> missing = va.ReadNotification(R"({"trxId":"order-2"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().field(), "virtualAccountNo");
}

}  // namespace
}  // namespace malpro
