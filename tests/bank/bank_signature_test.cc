#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "adapters/bank/qris.h"
#include "adapters/bank/snap_signature.h"
#include "tests/bank/bank_testing.h"

namespace malpro {
namespace {

using testing::kBankTimestamp;
using testing::ReadTestFile;

// Vectors computed outside this code: Python's hmac/hashlib for HMAC-SHA512, and
// `openssl dgst -sha256 -sign testdata/bank_private.pem | base64` for SHA256withRSA.
constexpr char kSpacedBody[] =
    R"({ "partnerReferenceNo": "p-1", "amount": {"value": "10000.00", "currency": "IDR"} })";
constexpr char kExpectedStringToSign[] =
    "POST:/v1.0/qr/qr-mpm-generate:tok123:"
    "e0fb117b485aeea13107fe52b19d32593b071644d6f33f36da966d5086c301c1:2026-11-22T10:15:00+07:00";
constexpr char kExpectedHmac[] =
    "x06TrxHJ0/86MFHk3Snt6Vfrm73iBxDI/KZvNyiucIsxqnETOK2aPb9K4+tsnUbDCPDgI7gL9U4OtAkJwxu0pA==";
constexpr char kExpectedRsa[] =
    "LA1Kzgi2dDzWpSpDxgRU2wDCFhslEm8lkN1WunuCWbKizw6zpV8f/"
    "TeW7fTZX4LKxpsEoYpQnGpdyUgrCgk+S+oMm04bUzsGd1klGg/"
    "issbfxvLwqZzlLsaYx0QEhNwZnUcaeTJp19PijAPCPM6Xkw/"
    "wHju+59+pXS9sglGMFsNW27GKF0b23PrV2kbVVU2ftoU+UGHHLYo4pWUEKJhUPWsqDw1fnLP8O/"
    "hYszwuJMyJ4QDspqfB5C6BRRBzeZPy4/nAwR3V3YPusbrY7CcFGtJvunBwa/oBncyBK4tJ1BmQDsU5e/"
    "LyUTdMKV5zO+5VvAhYMT/O/ltb/T3Qakc0Sw==";

TEST(SnapSignatureTest, TransactionStringToSignMinifiesAndHashesTheBody) {
  Result<std::string> text = SnapTransactionStringToSign("POST", "/v1.0/qr/qr-mpm-generate",
                                                         "tok123", kSpacedBody, kBankTimestamp);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, kExpectedStringToSign);
}

TEST(SnapSignatureTest, HmacSignatureMatchesTheFixedVector) {
  EXPECT_EQ(SnapHmacSignature("malpro-client-secret", kExpectedStringToSign), kExpectedHmac);
  EXPECT_TRUE(
      SnapHmacSignatureMatches("malpro-client-secret", kExpectedStringToSign, kExpectedHmac));
  EXPECT_FALSE(SnapHmacSignatureMatches("another-secret", kExpectedStringToSign, kExpectedHmac));
  std::string forged = kExpectedHmac;
  forged[3] = forged[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(SnapHmacSignatureMatches("malpro-client-secret", kExpectedStringToSign, forged));
}

TEST(SnapSignatureTest, AccessTokenRsaSignatureMatchesOpensslAndVerifies) {
  const std::string text = SnapAccessTokenStringToSign("malpro-client", kBankTimestamp);
  EXPECT_EQ(text, "malpro-client|2026-11-22T10:15:00+07:00");
  Result<std::string> signature = SnapRsaSign(ReadTestFile("bank_private.pem"), text);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(*signature, kExpectedRsa);
  const std::string public_key = ReadTestFile("bank_public.pem");
  EXPECT_TRUE(*SnapRsaVerify(public_key, text, *signature));
  EXPECT_FALSE(*SnapRsaVerify(public_key, text + "x", *signature));
  EXPECT_FALSE(*SnapRsaVerify(public_key, text, "not base64!"));
  EXPECT_FALSE(SnapRsaSign("not a key", text).ok());
}

TEST(SnapSignatureTest, TimestampsAreJakartaTimeWithTheirOffset) {
  // 2026-11-22T03:15:00Z
  EXPECT_EQ(SnapTimestamp(1'795'317'300'000'000), kBankTimestamp);
  EXPECT_EQ(*ParseSnapTimestamp(kBankTimestamp), 1'795'317'300'000'000);
  EXPECT_EQ(*ParseSnapTimestamp("2026-11-22T03:15:00Z"), 1'795'317'300'000'000);
  EXPECT_EQ(*ParseSnapTimestamp("2026-11-22T10:15:00.123+07:00"), 1'795'317'300'000'000);
  for (const char* bad : {"2026-11-22 10:15:00+07:00", "2026-02-30T10:15:00+07:00",
                          "2026-11-22T25:15:00+07:00", "2026-11-22T10:15:00", ""}) {
    EXPECT_FALSE(ParseSnapTimestamp(bad).ok()) << bad;
  }
}

TEST(QrisTest, CrcIsCcittFalse) {
  EXPECT_EQ(QrisCrc("123456789"), "29B1");  // the algorithm's published check value
}

QrisMerchant Merchant() {
  QrisMerchant merchant;
  merchant.merchant_pan = "9360011400000012345";
  merchant.merchant_id = "BJTM0001";
  merchant.nmid = "ID1026123456789";
  merchant.name = "Warung Bu Sri";
  merchant.postal_code = "65119";
  return merchant;
}

TEST(QrisTest, DynamicPayloadCarriesTheAmountAndParsesBack) {
  Result<std::string> payload = BuildQrisPayload(Merchant(), Money::FromRupiah(165'000), "pay-1");
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_TRUE(payload->starts_with("000201010212"));
  Result<std::map<std::string, std::string>> tags = ParseQrisPayload(*payload);
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_EQ((*tags)["53"], "360");
  EXPECT_EQ((*tags)["54"], "165000");
  EXPECT_EQ((*tags)["58"], "ID");
  EXPECT_EQ((*tags)["59"], "Warung Bu Sri");
  EXPECT_EQ((*tags)["60"], "MALANG");
  EXPECT_EQ((*tags)["62"], "0505pay-1");
  EXPECT_EQ(*QrisAmount(*tags), Money::FromRupiah(165'000));
  EXPECT_NE((*tags)["26"].find("ID.CO.BANKJATIM.WWW"), std::string::npos);
  EXPECT_EQ(payload->substr(payload->size() - 8, 4), "6304");
}

TEST(QrisTest, AlteredPayloadFailsItsCrc) {
  std::string payload = *BuildQrisPayload(Merchant(), Money::FromRupiah(165'000), "pay-1");
  const size_t amount = payload.find("5406165000");
  ASSERT_NE(amount, std::string::npos);
  payload[amount + 4] = '9';  // 965000
  EXPECT_EQ(ParseQrisPayload(payload).status().error_code(), "qris_crc_mismatch");
}

TEST(QrisTest, MalformedPayloadsAreRefused) {
  EXPECT_EQ(ParseQrisPayload("0002").status().error_code(), "qris_malformed");
  EXPECT_EQ(ParseQrisPayload("000201").status().error_code(), "qris_tag_missing");
  std::string without_crc =
      "00020101021252045411530336058"
      "02ID5901X6001Y";
  EXPECT_FALSE(ParseQrisPayload(without_crc).ok());
  QrisMerchant long_name = Merchant();
  long_name.name = std::string(26, 'x');
  EXPECT_EQ(BuildQrisPayload(long_name, Money::FromRupiah(1), "p").status().field(),
            "merchant_name");
  EXPECT_FALSE(BuildQrisPayload(Merchant(), Money(), "p").ok());
}

}  // namespace
}  // namespace malpro
