// SnapClient against a recording stand-in over real sockets: the exact signatures it sends
// (fixed vectors computed with the openssl command line), the token cache, and how it retries,
// gives up and times out.
#include "adapters/bank/snap_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "adapters/bank/snap_signature.h"
#include "adapters/http/server.h"
#include "tests/bank/bank_testing.h"
#include "tests/bank/handler_server.h"

namespace malpro {
namespace {

using testing::kBankClientSecret;
using testing::kBankNow;
using testing::kBankTimestamp;

// printf '%s' 'MALPRO|2026-11-22T10:15:00+07:00' |
//   openssl dgst -sha256 -sign tests/bank/testdata/partner_private.pem | base64 -w0
constexpr char kTokenSignature[] =
    "NsbMjT4x8ou2bHm2fm1QxmtVYwXToT267yEaI6LfRMUYeQmSxemuutH66D+PWKGkOhxg277sYiOjvLYR9RCLcrPO2Xq2"
    "GRhqNgtDkSm87wJL+CFlPcPnu6wiB0Zv16dxJ0mGOAuMDH4K/7tVOYlM2r76sqbto/2Vf0Rr7bBSbIY+S0NevURfc3Uq"
    "dJDJA8xFIG+uO1GH9ERp+eA/wU/GNrT2Terj0ki/IEmVGnJXlmEqnJouUBNsQmPBBHuH0Zr+WNqeQy+xE+CHZu7Y5fwu"
    "fEex21Ha8XdLciEMN4D7zDu1kADHRM5IXJXvMfQM71gYZfmp43KcjXf5TQF96iACzQ==";
constexpr char kGenerateBody[] =
    R"({"partnerReferenceNo":"pay-1","amount":{"value":"68000.00","currency":"IDR"},)"
    R"("merchantId":"warung","validityPeriod":"2026-11-22T10:45:00+07:00"})";
// H=$(printf '%s' "$BODY" | sha256sum | cut -d' ' -f1)
// printf '%s' "POST:/v1.0/qr/qr-mpm-generate:tok-fixed:$H:2026-11-22T10:15:00+07:00" |
//   openssl dgst -sha512 -hmac malpro-client-secret -binary | base64 -w0
constexpr char kGenerateSignature[] =
    "Ber/pEcMejKzN9aXyCwlcnvev5nDsdxxyIht1BXHZIGFLWknYYS1xWIziKxLLh2DVST5WiXnXlSD81zbyUAfGQ==";

using testing::ReadTestFile;

struct Recorded {
  std::string target;
  std::map<std::string, std::string> headers;
  std::string body;
};

HttpResponse Answer(const HttpRequest& request, int status, std::string body) {
  HttpResponse response{static_cast<http::status>(status), request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// Records every request and answers with what `respond` says.
class RecordingBank {
 public:
  explicit RecordingBank(std::function<HttpResponse(const HttpRequest&)> respond)
      : respond_(std::move(respond)) {}
  std::string url() const { return server_.url(); }
  std::vector<Recorded> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  std::optional<HttpResponse> Receive(const HttpRequest& request) {
    Recorded recorded{std::string(request.target()), {}, request.body()};
    for (const auto& field : request) {
      recorded.headers[std::string(field.name_string())] = std::string(field.value());
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(std::move(recorded));
    }
    return respond_(request);
  }

  std::function<HttpResponse(const HttpRequest&)> respond_;
  std::mutex mutex_;
  std::vector<Recorded> requests_;
  // Last: stopped before what its handler touches is gone.
  testing::HandlerServer server_{[this](const HttpRequest& request) { return Receive(request); }};
};

HttpResponse TokenOr(const HttpRequest& request, int status, std::string body) {
  if (request.target() == snap_access_token_path) {
    return Answer(request, 200,
                  R"({"responseCode":"2007300","responseMessage":"Successful",)"
                  R"("accessToken":"tok-fixed","tokenType":"Bearer","expiresIn":"900"})");
  }
  return Answer(request, status, std::move(body));
}

SnapClientOptions Options(const std::string& url) {
  SnapClientOptions options;
  options.base_url = url;
  options.client_id = "MALPRO";
  options.client_secret = kBankClientSecret;
  options.private_key_pem = ReadTestFile("partner_private.pem");
  options.request_timeout_ms = 2000;
  options.retry_backoff_ms = 10;
  options.clock = [] { return kBankNow; };
  return options;
}

TEST(SnapClientTest, OutboundRequestsCarryTheFixedSignatures) {
  RecordingBank bank([](const HttpRequest& request) {
    return TokenOr(request, 200,
                   R"({"responseCode":"2004700","responseMessage":"Successful",)"
                   R"("referenceNo":"BJQR1","partnerReferenceNo":"pay-1","qrContent":"000201"})");
  });
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
  Result<QrisIssued> issued =
      client->GenerateQris("pay-1", Money::FromRupiah(68'000), "warung", kBankNow + 1800'000'000);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->reference_no, "BJQR1");
  EXPECT_EQ(issued->qr_content, "000201");
  std::vector<Recorded> requests = bank.requests();
  ASSERT_EQ(requests.size(), 2u);
  Recorded token = requests[0];
  EXPECT_EQ(token.target, "/v1.0/access-token/b2b");
  EXPECT_EQ(token.headers["X-CLIENT-KEY"], "MALPRO");
  EXPECT_EQ(token.headers["X-TIMESTAMP"], kBankTimestamp);
  EXPECT_EQ(token.headers["X-SIGNATURE"], kTokenSignature);
  EXPECT_EQ(token.body, R"({"grantType":"client_credentials"})");
  EXPECT_TRUE(*SnapRsaVerify(ReadTestFile("partner_public.pem"),
                             "MALPRO|" + std::string(kBankTimestamp),
                             token.headers["X-SIGNATURE"]));
  EXPECT_FALSE(*SnapRsaVerify(ReadTestFile("partner_public.pem"),
                              "MALPRO|2026-11-22T10:15:01+07:00", token.headers["X-SIGNATURE"]));
  Recorded generate = requests[1];
  EXPECT_EQ(generate.target, "/v1.0/qr/qr-mpm-generate");
  EXPECT_EQ(generate.body, kGenerateBody);
  EXPECT_EQ(generate.headers["Authorization"], "Bearer tok-fixed");
  EXPECT_EQ(generate.headers["X-PARTNER-ID"], "MALPRO");
  EXPECT_EQ(generate.headers["CHANNEL-ID"], "95221");
  EXPECT_EQ(generate.headers["X-TIMESTAMP"], kBankTimestamp);
  EXPECT_EQ(generate.headers["X-SIGNATURE"], kGenerateSignature);
  const std::string external_id = generate.headers["X-EXTERNAL-ID"];
  EXPECT_FALSE(external_id.empty());
  EXPECT_LE(external_id.size(), 36u);
  EXPECT_EQ(external_id.find_first_not_of("0123456789"), std::string::npos);
  // The token is cached; each transaction gets its own external id.
  ASSERT_TRUE(client->GenerateQris("pay-1", Money::FromRupiah(68'000), "warung", kBankNow).ok());
  requests = bank.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].target, "/v1.0/qr/qr-mpm-generate");
  EXPECT_NE(requests[2].headers["X-EXTERNAL-ID"], external_id);
}

TEST(SnapClientTest, ServerErrorsAreRetriedWithTheSameExternalIdThenReported) {
  RecordingBank bank([](const HttpRequest& request) {
    return TokenOr(request, 503, R"({"responseCode":"5034700","responseMessage":"Down"})");
  });
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
  Result<QrisIssued> issued =
      client->GenerateQris("pay-1", Money::FromRupiah(1), "warung", kBankNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().error_code(), "bank_server_error");
  std::vector<Recorded> requests = bank.requests();
  ASSERT_EQ(requests.size(), 4u);  // the token, then three attempts
  for (size_t i = 2; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].headers["X-EXTERNAL-ID"], requests[1].headers["X-EXTERNAL-ID"]);
  }
}

TEST(SnapClientTest, ARefusalIsNotRetriedAndNamesTheBanksCode) {
  RecordingBank bank([](const HttpRequest& request) {
    return TokenOr(request, 400,
                   R"({"responseCode":"4004701","responseMessage":"Invalid Field Format amount"})");
  });
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
  Result<QrisIssued> issued =
      client->GenerateQris("pay-1", Money::FromRupiah(1), "warung", kBankNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().error_code(), "bank_refused");
  EXPECT_NE(issued.status().message().find("4004701"), std::string::npos)
      << issued.status().ToString();
  EXPECT_EQ(bank.requests().size(), 2u);
}

TEST(SnapClientTest, AQrContentThatIsNoQrisPayloadIsTheBanksFault) {
  for (const std::string& content :
       {std::string("0002\\u000a0101"), std::string(600, '0'), std::string()}) {
    RecordingBank bank([&content](const HttpRequest& request) {
      return TokenOr(request, 200,
                     R"({"responseCode":"2004700","responseMessage":"Successful",)"
                     R"("referenceNo":"BJQR1","partnerReferenceNo":"pay-1","qrContent":")" +
                         content + R"("})");
    });
    std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
    Result<QrisIssued> issued =
        client->GenerateQris("pay-1", Money::FromRupiah(1), "warung", kBankNow);
    ASSERT_FALSE(issued.ok()) << content;
    EXPECT_EQ(issued.status().error_code(), "bank_answer_invalid") << issued.status().ToString();
    EXPECT_NE(issued.status().message().find("qrContent"), std::string::npos);
  }
}

TEST(SnapClientTest, ASilentBankTimesOutWithinTheBound) {
  RecordingBank bank([](const HttpRequest& request) {
    if (request.target() != snap_access_token_path) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    }
    return TokenOr(request, 200, "{}");
  });
  SnapClientOptions options = Options(bank.url());
  options.request_timeout_ms = 200;
  options.attempts_max = 2;
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(options)).value();
  const auto start = std::chrono::steady_clock::now();
  Result<QrisIssued> issued =
      client->GenerateQris("pay-1", Money::FromRupiah(1), "warung", kBankNow);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().error_code(), "bank_timeout");
  EXPECT_LT(elapsed, std::chrono::milliseconds(1200));
}

TEST(SnapClientTest, AnUnreachableBankAndBadOptionsAreReported) {
  SnapClientOptions options = Options("http://127.0.0.1:1");
  options.attempts_max = 1;
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(options)).value();
  Result<std::string> token = client->AccessToken();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().error_code(), "bank_unreachable");
  options.private_key_pem = "not a key";
  EXPECT_EQ(SnapClient::Create(options).status().field(), "bank.private_key_file");
  options = Options("ftp://bank.example");
  EXPECT_EQ(SnapClient::Create(options).status().field(), "bank.base_url");
  EXPECT_TRUE(SnapClient::Create(Options("https://bank.example")).ok());  // TLS is spoken
}

// The voids: what goes on the wire, and the refusals a caller must tell apart.

constexpr char kCancelBody[] =
    R"({"originalPartnerReferenceNo":"pay-1","originalReferenceNo":"BJQR1","merchantId":"warung",)"
    R"("reason":"order cancelled in Malpro"})";
constexpr char kDeleteBody[] =
    R"({"partnerServiceId":"   12345","customerNo":"0001","virtualAccountNo":"   123450001",)"
    R"("trxId":"pay-1"})";

// Whether `recorded` carries a valid transaction signature over its own path and body.
bool SignedProperly(const Recorded& recorded) {
  std::map<std::string, std::string> headers = recorded.headers;
  Result<std::string> text = SnapTransactionStringToSign("POST", recorded.target, "tok-fixed",
                                                         recorded.body, headers["X-TIMESTAMP"]);
  return text.ok() && SnapHmacSignatureMatches(kBankClientSecret, *text, headers["X-SIGNATURE"]);
}

TEST(SnapClientTest, CancelQrisSendsTheSnapCancelAndIsOkWhenTheBankVoidsIt) {
  RecordingBank bank([](const HttpRequest& request) {
    return TokenOr(request, 200,
                   R"({"responseCode":"2007700","responseMessage":"Successful",)"
                   R"("originalReferenceNo":"BJQR1","originalPartnerReferenceNo":"pay-1",)"
                   R"("cancelTime":"2026-11-22T10:15:00+07:00"})");
  });
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
  Status cancelled = client->CancelQris("pay-1", "BJQR1", "warung");
  ASSERT_TRUE(cancelled.ok()) << cancelled.ToString();
  std::vector<Recorded> requests = bank.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/v1.0/qr/qr-mpm-cancel");
  EXPECT_EQ(requests[1].body, kCancelBody);
  EXPECT_EQ(requests[1].headers["Authorization"], "Bearer tok-fixed");
  EXPECT_EQ(requests[1].headers["X-PARTNER-ID"], "MALPRO");
  EXPECT_FALSE(requests[1].headers["X-EXTERNAL-ID"].empty());
  EXPECT_TRUE(SignedProperly(requests[1]));
}

TEST(SnapClientTest, DeleteVirtualAccountSendsBothHalvesOfTheNumber) {
  RecordingBank bank([](const HttpRequest& request) {
    return TokenOr(request, 200, R"({"responseCode":"2003100","responseMessage":"Successful"})");
  });
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
  Status deleted = client->DeleteVirtualAccount("pay-1", "   123450001");
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  std::vector<Recorded> requests = bank.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/v1.0/transfer-va/delete-va");
  EXPECT_EQ(requests[1].body, kDeleteBody);
  EXPECT_TRUE(SignedProperly(requests[1]));
  // A number that is not ours is refused before the bank is asked.
  for (const char* number : {"99999990001", "   12345"}) {
    Status refused = client->DeleteVirtualAccount("pay-1", number);
    EXPECT_EQ(refused.error_code(), "virtual_account_invalid") << number;
    EXPECT_EQ(refused.field(), "virtual_account_no");
  }
  EXPECT_EQ(bank.requests().size(), 2u);
}

TEST(SnapClientTest, AVoidThePayerBeatIsBankAlreadyPaidAndIsNotRetried) {
  RecordingBank bank([](const HttpRequest& request) {
    const bool qris = request.target() == snap_qris_cancel_path;
    return TokenOr(request, 404,
                   std::string(R"({"responseCode":")") + (qris ? "4047714" : "4043114") +
                       R"(","responseMessage":"Paid Bill"})");
  });
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
  Status qris = client->CancelQris("pay-1", "BJQR1", "warung");
  EXPECT_EQ(qris.code(), StatusCode::kConflict) << qris.ToString();
  EXPECT_EQ(qris.error_code(), "bank_already_paid");
  EXPECT_NE(qris.message().find("4047714"), std::string::npos) << qris.ToString();
  Status va = client->DeleteVirtualAccount("pay-1", "   123450001");
  EXPECT_EQ(va.code(), StatusCode::kConflict) << va.ToString();
  EXPECT_EQ(va.error_code(), "bank_already_paid");
  EXPECT_EQ(bank.requests().size(), 3u);  // the token, then one try of each
}

TEST(SnapClientTest, VoidRefusalsOtherThanPaidKeepTheirOwnCodes) {
  struct Case {
    int status;
    std::string code;
    std::string expected;
  };
  // Paid Bill of another service, not found, a plain refusal, a success of another service,
  // and a bank that is down: none of them may read as "already paid".
  const std::vector<Case> cases = {
      {404, "4043114", "bank_refused"},           {404, "4047701", "bank_payment_not_found"},
      {404, "4047712", "bank_payment_not_found"}, {400, "4007702", "bank_refused"},
      {200, "2005100", "bank_refused"},           {503, "5037700", "bank_server_error"}};
  for (const Case& c : cases) {
    RecordingBank bank([&c](const HttpRequest& request) {
      return TokenOr(request, c.status,
                     R"({"responseCode":")" + c.code + R"(","responseMessage":"No"})");
    });
    std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(Options(bank.url()))).value();
    Status status = client->CancelQris("pay-1", "BJQR1", "warung");
    EXPECT_EQ(status.error_code(), c.expected) << c.code << ": " << status.ToString();
  }
  // Unreachable: reported as such, never as paid or unknown.
  SnapClientOptions options = Options("http://127.0.0.1:1");
  options.attempts_max = 1;
  std::unique_ptr<SnapClient> client = std::move(SnapClient::Create(options)).value();
  EXPECT_EQ(client->DeleteVirtualAccount("pay-1", "   123450001").error_code(), "bank_unreachable");
}

}  // namespace
}  // namespace malpro
