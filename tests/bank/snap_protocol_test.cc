// The shared SNAP protocol (adapters/bank/snap_protocol.h): its codes and signing, and the
// request checks run against BOTH receivers, Malpro's notify endpoint (rsa and hmac) and the
// bank simulator, so that each refusal is answered alike on every side (the same HTTP status,
// case code and message; only the service code differs) and the two cannot drift apart again.
#include "adapters/bank/snap_protocol.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <functional>
#include <map>

#include "adapters/bank/notify.h"
#include "adapters/bank/simulator.h"
#include "adapters/bank/snap_signature.h"
#include "engine/error_codes.h"
#include "tests/bank/bank_testing.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

using testing::kBankClientSecret;
using testing::kBankNotifySecret;
using testing::kBankNow;
using testing::kBankTimestamp;
using testing::kSecond;

constexpr int64_t kWindowSeconds = 300;

using testing::ReadTestFile;

HttpRequest Post(std::string_view path, const std::map<std::string, std::string>& headers,
                 const std::string& body) {
  HttpRequest request{http::verb::post, path, 11};
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  return request;
}

// responseCode and responseMessage of a SNAP answer.
std::pair<std::string, std::string> CodeAndMessage(const HttpResponse& response) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view code, message;
  if (parser.parse(response.body()).get(root) != simdjson::SUCCESS ||
      root["responseCode"].get(code) != simdjson::SUCCESS ||
      root["responseMessage"].get(message) != simdjson::SUCCESS) {
    return {"", ""};
  }
  return {std::string(code), std::string(message)};
}

// What a sender makes of a request before it is signed, and may change.
struct Draft {
  std::string timestamp = kBankTimestamp;
  std::string external_id;
  std::string partner_id;
  std::string body;
  std::string signed_body;  // the body the signature covers; empty: `body`
  std::string token;
};

// One receiver of transactions (or notifications), as the tests drive it.
struct Side {
  std::string name;
  std::string path;
  std::string service_code;
  std::string partner_id;  // the partner it serves
  SnapSignatureAlgorithm algorithm;
  std::string signing_key;        // the HMAC secret or the sender's PEM private key
  bool token_required = false;    // it issues bearer tokens and requires one
  std::string token_partner_id;   // X-CLIENT-KEY of its token requests
  std::string token_signing_key;  // the PEM private key signing its token requests
  std::string body;               // a body it accepts once verified
  std::string accepted_code;      // its answer to that body
  std::function<HttpResponse(const HttpRequest&)> handle;
};

// A refusal expected alike on every side.
struct Refusal {
  int http_status;
  std::string case_code;
  std::string message;
};

class SnapReceiversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::OpenClockedLedger(
        dir_.Sub("log"), [] { return kBankNow; }, &log_, &ledger_);
    rsa_.partner_id = "BJTM";
    rsa_.bank_public_key_pem = ReadTestFile("bank_public.pem");
    rsa_.timestamp_window_s = kWindowSeconds;
    rsa_.clock = [] { return kBankNow; };
    hmac_ = rsa_;
    hmac_.issued_tokens = std::make_shared<SnapIssuedTokens>();
    hmac_.authentication = "hmac";
    hmac_.client_secret = kBankNotifySecret;
    BankSimulatorOptions simulator;
    simulator.client_id = "MALPRO";
    simulator.client_secret = kBankClientSecret;
    simulator.client_public_key_pem = ReadTestFile("partner_public.pem");
    simulator.bank_private_key_pem = ReadTestFile("bank_private.pem");
    simulator.timestamp_window_s = kWindowSeconds;
    simulator.state_dir.clear();
    simulator.clock = [] { return kBankNow; };
    simulator_ = std::make_unique<BankSimulator>(simulator);
    BuildSides();
  }

  void BuildSides() {
    const std::string notification =
        R"({"originalReferenceNo":"BJ-pay-404","originalPartnerReferenceNo":"pay-404",)"
        R"("latestTransactionStatus":"00","transactionStatusDesc":"success",)"
        R"("amount":{"value":"68000.00","currency":"IDR"}})";
    const std::string generate =
        R"({"partnerReferenceNo":"order-1","amount":{"value":"68000.00","currency":"IDR"},)"
        R"("merchantId":"warung","validityPeriod":"2026-11-22T10:45:00+07:00"})";
    auto notify = [this](const BankNotifyOptions& options) {
      return [this, &options](const HttpRequest& request) {
        return *HandleBankRequest(request, *ledger_, options);
      };
    };
    sides_ = {
        {"notify-rsa", snap_qris_notify_path, "52", "BJTM", SnapSignatureAlgorithm::kRsaSha256,
         ReadTestFile("bank_private.pem"), false, "", "", notification, "4045201", notify(rsa_)},
        {"notify-hmac", snap_qris_notify_path, "52", "BJTM", SnapSignatureAlgorithm::kHmacSha512,
         kBankNotifySecret, true, "BJTM", ReadTestFile("bank_private.pem"), notification, "4045201",
         notify(hmac_)},
        {"simulator", snap_qris_generate_path, "47", "MALPRO", SnapSignatureAlgorithm::kHmacSha512,
         kBankClientSecret, true, "MALPRO", ReadTestFile("partner_private.pem"), generate,
         "2004700", [this](const HttpRequest& request) { return simulator_->Handle(request); }},
    };
  }

  // A token from the side's token endpoint.
  std::string TokenOf(const Side& side) {
    Result<std::map<std::string, std::string>> headers =
        SignSnapAccessTokenRequest(side.token_partner_id, kBankTimestamp, side.token_signing_key);
    EXPECT_TRUE(headers.ok()) << headers.status().ToString();
    const HttpResponse answer =
        side.handle(Post(snap_access_token_path, *headers, snap_access_token_body));
    Result<SnapAccessToken> token = ReadSnapAccessTokenAnswer(
        HttpReply{static_cast<int>(answer.result_int()), answer.body()}, side.name);
    EXPECT_TRUE(token.ok()) << side.name << ": " << token.status().ToString();
    return token.ok() ? token->token : "";
  }

  // The side's answer to a request drafted as `before` says, signed, then changed as `after`
  // says (e.g. a header removed).
  HttpResponse Send(const Side& side, const std::function<void(Draft&)>& before,
                    const std::function<void(std::map<std::string, std::string>&)>& after = {}) {
    Draft draft;
    draft.external_id = "ext-" + std::to_string(++sent_);
    draft.partner_id = side.partner_id;
    draft.body = side.body;
    if (side.token_required) draft.token = TokenOf(side);
    if (before) before(draft);
    SnapSigner signer;
    signer.algorithm = side.algorithm;
    signer.key = side.signing_key;
    signer.partner_id = draft.partner_id;
    signer.channel_id = "95221";
    Result<std::map<std::string, std::string>> headers = SignSnapRequest(
        signer, side.path, draft.signed_body.empty() ? draft.body : draft.signed_body, draft.token,
        draft.timestamp, draft.external_id);
    EXPECT_TRUE(headers.ok()) << side.name << ": " << headers.status().ToString();
    if (after) after(*headers);
    return side.handle(Post(side.path, *headers, draft.body));
  }

  // Every side refuses alike.
  void ExpectRefusedEverywhere(
      const Refusal& refusal, const std::function<void(Draft&)>& before,
      const std::function<void(std::map<std::string, std::string>&)>& after = {}) {
    for (const Side& side : sides_) {
      SCOPED_TRACE(side.name);
      const HttpResponse answer = Send(side, before, after);
      EXPECT_EQ(static_cast<int>(answer.result_int()), refusal.http_status) << answer.body();
      const auto [code, message] = CodeAndMessage(answer);
      EXPECT_EQ(code, std::to_string(refusal.http_status) + side.service_code + refusal.case_code);
      EXPECT_EQ(message, refusal.message);
    }
  }

  // Every side gets past the checks and answers as it does to a good request.
  void ExpectAcceptedEverywhere(const std::function<void(Draft&)>& before) {
    for (const Side& side : sides_) {
      SCOPED_TRACE(side.name);
      const HttpResponse answer = Send(side, before);
      EXPECT_EQ(CodeAndMessage(answer).first, side.accepted_code) << answer.body();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
  BankNotifyOptions rsa_;
  BankNotifyOptions hmac_;
  std::unique_ptr<BankSimulator> simulator_;
  std::vector<Side> sides_;
  int sent_ = 0;
};

TEST_F(SnapReceiversTest, AProperlySignedRequestPassesOnEverySide) { ExpectAcceptedEverywhere({}); }

TEST_F(SnapReceiversTest, AMissingHeaderIsAMandatoryFieldOnEverySide) {
  for (const char* header : {snap_header_timestamp, snap_header_signature, snap_header_partner_id,
                             snap_header_external_id, snap_header_channel_id}) {
    SCOPED_TRACE(header);
    ExpectRefusedEverywhere({400, "02", "Invalid Mandatory Field " + std::string(header)}, {},
                            [&](auto& headers) { headers.erase(header); });
  }
}

TEST_F(SnapReceiversTest, AMissingAuthorizationIsAMandatoryFieldWhereATokenIsRequired) {
  for (const Side& side : sides_) {
    SCOPED_TRACE(side.name);
    const HttpResponse answer =
        Send(side, {}, [](auto& headers) { headers.erase(snap_header_authorization); });
    if (side.token_required) {
      EXPECT_EQ(CodeAndMessage(answer),
                std::make_pair("400" + side.service_code + "02",
                               std::string("Invalid Mandatory Field Authorization")));
    } else {
      EXPECT_EQ(CodeAndMessage(answer).first, side.accepted_code) << answer.body();
    }
  }
}

TEST_F(SnapReceiversTest, AnExternalIdOutsideTheAlphabetOrTooLongIsRefusedOnEverySide) {
  for (const std::string& external_id :
       {std::string("bad id!"), std::string("ext_1"), std::string(37, '7')}) {
    SCOPED_TRACE(external_id);
    ExpectRefusedEverywhere({400, "01", "Invalid Field Format X-EXTERNAL-ID"},
                            [&](Draft& draft) { draft.external_id = external_id; });
  }
  ExpectAcceptedEverywhere([](Draft& draft) { draft.external_id = std::string(36, '7'); });
}

TEST_F(SnapReceiversTest, AMalformedTimestampIsAFieldFormatOnEverySide) {
  ExpectRefusedEverywhere({400, "01", "Invalid Field Format X-TIMESTAMP"},
                          [](Draft& draft) { draft.timestamp = "2026-11-22 10:15:00"; });
}

TEST_F(SnapReceiversTest, ABodyThatIsNotJsonIsAFieldFormatOnEverySide) {
  ExpectRefusedEverywhere({400, "01", "Invalid Field Format body"}, [](Draft& draft) {
    draft.signed_body = draft.body;
    draft.body = R"({"amount":"68000.00)";  // a string never closed: no digest to sign
  });
}

TEST_F(SnapReceiversTest, AnotherPartnerIsUnauthorizedOnEverySide) {
  ExpectRefusedEverywhere({401, "00", "Unauthorized. [Unknown partner]"},
                          [](Draft& draft) { draft.partner_id = "OTHERBANK"; });
}

TEST_F(SnapReceiversTest, ATimestampOutsideTheWindowIsUnauthorizedOnEverySide) {
  for (int64_t offset_s : {-kWindowSeconds - 1, kWindowSeconds + 1}) {
    SCOPED_TRACE(offset_s);
    ExpectRefusedEverywhere(
        {401, "00", "Unauthorized. [Timestamp outside the window]"},
        [&](Draft& draft) { draft.timestamp = SnapTimestamp(kBankNow + offset_s * kSecond); });
  }
  // The window's edges are inside it, on every side.
  for (int64_t offset_s : {-kWindowSeconds, kWindowSeconds}) {
    ExpectAcceptedEverywhere(
        [&](Draft& draft) { draft.timestamp = SnapTimestamp(kBankNow + offset_s * kSecond); });
  }
}

TEST_F(SnapReceiversTest, ASignatureOverAnotherBodyIsUnauthorizedOnEverySide) {
  ExpectRefusedEverywhere({401, "00", "Unauthorized. [Signature]"}, [](Draft& draft) {
    draft.signed_body = draft.body;
    draft.signed_body.replace(draft.signed_body.find("68000"), 5, "99000");
  });
  ExpectRefusedEverywhere({401, "00", "Unauthorized. [Signature]"}, {}, [](auto& headers) {
    headers[snap_header_signature] = Base64Encode("forty bytes that are no signature at all");
  });
}

TEST_F(SnapReceiversTest, AnUnknownOrMalformedTokenIsInvalidWhereATokenIsRequired) {
  for (const std::string& authorization : {std::string("Bearer made-up"), std::string("Basic x")}) {
    for (const Side& side : sides_) {
      if (!side.token_required) continue;
      SCOPED_TRACE(side.name + " " + authorization);
      const HttpResponse answer = Send(
          side, {}, [&](auto& headers) { headers[snap_header_authorization] = authorization; });
      EXPECT_EQ(CodeAndMessage(answer), std::make_pair("401" + side.service_code + "01",
                                                       std::string("Invalid Token (B2B)")));
    }
  }
}

// With several faults, the first check in the shared order answers, on every side.
TEST_F(SnapReceiversTest, TheChecksRunInTheSameOrderOnEverySide) {
  ExpectRefusedEverywhere(
      {400, "02", "Invalid Mandatory Field CHANNEL-ID"},
      [](Draft& draft) { draft.partner_id = "OTHERBANK"; },
      [](auto& headers) { headers.erase(snap_header_channel_id); });
  ExpectRefusedEverywhere({400, "01", "Invalid Field Format X-EXTERNAL-ID"}, [](Draft& draft) {
    draft.external_id = "bad id!";
    draft.timestamp = SnapTimestamp(kBankNow - 3600 * kSecond);
  });
  ExpectRefusedEverywhere({401, "00", "Unauthorized. [Unknown partner]"}, [](Draft& draft) {
    draft.partner_id = "OTHERBANK";
    draft.timestamp = SnapTimestamp(kBankNow - 3600 * kSecond);
  });
  ExpectRefusedEverywhere(
      {401, "00", "Unauthorized. [Timestamp outside the window]"},
      [](Draft& draft) { draft.timestamp = SnapTimestamp(kBankNow - 3600 * kSecond); },
      [](auto& headers) { headers[snap_header_authorization] = "Bearer made-up"; });
}

TEST_F(SnapReceiversTest, AnotherMethodIsRefusedAlikeOnEverySide) {
  for (const Side& side : sides_) {
    SCOPED_TRACE(side.name);
    HttpRequest request{http::verb::get, side.path, 11};
    const HttpResponse answer = side.handle(request);
    EXPECT_EQ(answer.result_int(), 405u);
    EXPECT_EQ(CodeAndMessage(answer),
              std::make_pair("405" + side.service_code + "00", std::string("Method Not Allowed")));
  }
}

// What a sender of a token request makes of it before it is signed.
struct TokenDraft {
  std::string client;
  std::string timestamp = kBankTimestamp;
  bool other_key = false;  // signed by the other party's key instead of the sender's
};

// The token endpoints of both sides (Malpro's for the bank with hmac, the simulator's for
// Malpro) check token requests alike.
TEST_F(SnapReceiversTest, TokenRequestsAreCheckedAlikeOnEverySide) {
  struct TokenCase {
    std::string name;
    std::function<void(TokenDraft&)> before;
    std::string header_removed;
    std::string code;
    std::string message;
  };
  const std::vector<TokenCase> cases = {
      {"no X-CLIENT-KEY",
       {},
       snap_header_client_key,
       "4007302",
       "Invalid Mandatory Field X-CLIENT-KEY"},
      {"no X-TIMESTAMP",
       {},
       snap_header_timestamp,
       "4007302",
       "Invalid Mandatory Field X-TIMESTAMP"},
      {"no X-SIGNATURE",
       {},
       snap_header_signature,
       "4007302",
       "Invalid Mandatory Field X-SIGNATURE"},
      {"malformed timestamp", [](TokenDraft& d) { d.timestamp = "22/11/2026 10:15"; }, "",
       "4007301", "Invalid Field Format X-TIMESTAMP"},
      {"unknown client", [](TokenDraft& d) { d.client = "STRANGER"; }, "", "4017300",
       "Unauthorized. [Unknown client]"},
      {"stale", [](TokenDraft& d) { d.timestamp = SnapTimestamp(kBankNow - 301 * kSecond); }, "",
       "4017300", "Unauthorized. [Timestamp outside the window]"},
      {"another key", [](TokenDraft& d) { d.other_key = true; }, "", "4017300",
       "Unauthorized. [Signature]"},
      {"the right one", {}, "", "2007300", "Successful"},
  };
  for (const Side& side : sides_) {
    if (!side.token_required) continue;
    // The other party's key: the bank's for the simulator, Malpro's for the notify endpoint.
    const std::string other_key =
        ReadTestFile(side.name == "simulator" ? "bank_private.pem" : "partner_private.pem");
    for (const TokenCase& c : cases) {
      SCOPED_TRACE(side.name + ": " + c.name);
      TokenDraft draft;
      draft.client = side.token_partner_id;
      if (c.before) c.before(draft);
      Result<std::map<std::string, std::string>> headers = SignSnapAccessTokenRequest(
          draft.client, draft.timestamp, draft.other_key ? other_key : side.token_signing_key);
      ASSERT_TRUE(headers.ok()) << headers.status().ToString();
      headers->erase(c.header_removed);
      const HttpResponse answer =
          side.handle(Post(snap_access_token_path, *headers, snap_access_token_body));
      EXPECT_EQ(CodeAndMessage(answer), std::make_pair(c.code, c.message)) << answer.body();
    }
  }
}

TEST(SnapProtocolTest, AResponseCodeIsTheStatusTheServiceAndTheCase) {
  EXPECT_EQ(SnapResponseCode(snap_successful, snap_qris_generate_service_code), "2004700");
  EXPECT_EQ(SnapResponseCode(snap_unauthorized, snap_qris_notify_service_code), "4015200");
  EXPECT_EQ(SnapResponseCode(snap_paid_bill, snap_va_delete_service_code), "4043114");
  EXPECT_EQ(SnapResponseCode(snap_invalid_mandatory_field, snap_access_token_service_code),
            "4007302");
}

TEST(SnapProtocolTest, EveryPathHasItsServiceCode) {
  const std::map<std::string, std::string> expected = {
      {snap_access_token_path, "73"}, {snap_qris_generate_path, "47"},
      {snap_qris_query_path, "51"},   {snap_qris_cancel_path, "77"},
      {snap_qris_notify_path, "52"},  {snap_va_create_path, "27"},
      {snap_va_status_path, "26"},    {snap_va_delete_path, "31"},
      {snap_va_payment_path, "25"}};
  for (const auto& [path, code] : expected) EXPECT_EQ(SnapServiceCode(path), code) << path;
  EXPECT_EQ(SnapServiceCode("/v1.0/qr/qr-mpm-refund"), "");
  EXPECT_EQ(SnapServiceCode("/sim/pay"), "");
}

TEST(SnapProtocolTest, ExternalIdsAreLettersDigitsAndDashesUpTo36) {
  for (const std::string& good : {std::string("1"), std::string("ext-1"), std::string(36, 'A'),
                                  std::string("179531730000000012")}) {
    EXPECT_TRUE(IsSnapExternalId(good)) << good;
  }
  for (const std::string& bad : {std::string(""), std::string(37, 'A'), std::string("ext 1"),
                                 std::string("ext_1"), std::string("ext.1")}) {
    EXPECT_FALSE(IsSnapExternalId(bad)) << bad;
  }
  // Unique within the Jakarta day of the request's X-TIMESTAMP.
  EXPECT_EQ(SnapExternalIdDay(kBankNow), "2026-11-22");
  EXPECT_EQ(SnapExternalIdDay(*ParseSnapTimestamp("2026-11-22T17:30:00Z")), "2026-11-23");
}

TEST(SnapProtocolTest, WhatASenderSignsTheReceiverVerifies) {
  const std::string body = R"({"a": 1})";
  SnapIssuedTokens tokens;
  const std::string token = tokens.Issue(kBankNow, kBankNow + 900 * kSecond);
  const std::string secret = kBankClientSecret;
  const std::string private_key = ReadTestFile("bank_private.pem");
  const std::string public_key = ReadTestFile("bank_public.pem");
  for (const bool hmac : {true, false}) {
    SCOPED_TRACE(hmac ? "hmac with a token" : "rsa without one");
    SnapSigner signer;
    signer.algorithm =
        hmac ? SnapSignatureAlgorithm::kHmacSha512 : SnapSignatureAlgorithm::kRsaSha256;
    signer.key = hmac ? std::string_view(secret) : std::string_view(private_key);
    signer.partner_id = "BJTM";
    signer.channel_id = "95221";
    Result<std::map<std::string, std::string>> headers = SignSnapRequest(
        signer, snap_qris_notify_path, body, hmac ? token : "", kBankTimestamp, "ext-1");
    ASSERT_TRUE(headers.ok()) << headers.status().ToString();
    EXPECT_EQ(headers->count(snap_header_authorization), hmac ? 1u : 0u);
    SnapVerifyOptions options;
    options.partner_id = "BJTM";
    options.now_us = kBankNow;
    options.algorithm = signer.algorithm;
    options.client_secret = secret;
    options.public_key_pem = public_key;
    options.bearer_token_required = hmac;
    options.token_valid = [&](std::string_view presented) {
      return tokens.Valid(presented, kBankNow);
    };
    const SnapVerdict verdict =
        VerifySnapRequest(Post(snap_qris_notify_path, *headers, body), options);
    EXPECT_TRUE(verdict.ok()) << verdict.refusal->message;
    EXPECT_EQ(verdict.timestamp_us, kBankNow);
  }
}

TEST(SnapProtocolTest, AnEmptyClientSecretAcceptsNoSignature) {
  SnapSigner signer;
  signer.algorithm = SnapSignatureAlgorithm::kHmacSha512;
  signer.key = "";
  signer.partner_id = "MALPRO";
  signer.channel_id = "95221";
  Result<std::map<std::string, std::string>> headers =
      SignSnapRequest(signer, snap_qris_query_path, "{}", "token", kBankTimestamp, "ext-1");
  ASSERT_TRUE(headers.ok());
  SnapVerifyOptions options;
  options.partner_id = "MALPRO";
  options.now_us = kBankNow;
  options.algorithm = SnapSignatureAlgorithm::kHmacSha512;
  options.bearer_token_required = true;
  options.token_valid = [](std::string_view) { return true; };
  const SnapVerdict verdict =
      VerifySnapRequest(Post(snap_qris_query_path, *headers, "{}"), options);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.refusal->kind.http_status, 401);
  EXPECT_EQ(verdict.refusal->message, "Unauthorized. [Signature]");
}

TEST(SnapProtocolTest, IssuedTokensExpireAndAreBounded) {
  SnapIssuedTokens tokens;
  const std::string first = tokens.Issue(kBankNow, kBankNow + 10 * kSecond);
  EXPECT_TRUE(tokens.Valid(first, kBankNow + 9 * kSecond));
  EXPECT_FALSE(tokens.Valid(first, kBankNow + 10 * kSecond));
  EXPECT_FALSE(tokens.Valid("made-up", kBankNow));
  // The oldest goes first when the table is full.
  std::vector<std::string> issued;
  for (size_t i = 0; i < snap_issued_tokens_max + 1; ++i) {
    issued.push_back(tokens.Issue(kBankNow, kBankNow + static_cast<int64_t>(100 + i) * kSecond));
  }
  EXPECT_FALSE(tokens.Valid(issued.front(), kBankNow));
  EXPECT_TRUE(tokens.Valid(issued.back(), kBankNow));
  EXPECT_TRUE(tokens.Valid(issued[1], kBankNow));
}

TEST(SnapProtocolTest, ATokenAnswerNeedsATokenAndSecondsThatFit) {
  const std::string success = R"("responseCode":"2007300","responseMessage":"Successful")";
  auto read = [&](const std::string& fields) {
    return ReadSnapAccessTokenAnswer(HttpReply{200, "{" + success + fields + "}"}, "test");
  };
  Result<SnapAccessToken> good = read(R"(,"accessToken":"t","expiresIn":"900")");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->token, "t");
  EXPECT_EQ(good->expires_in_s, 900);
  for (const char* bad :
       {R"(,"expiresIn":"900")", R"(,"accessToken":"t")", R"(,"accessToken":"","expiresIn":"900")",
        R"(,"accessToken":"t","expiresIn":"15m")",
        R"(,"accessToken":"t","expiresIn":"99999999999999999999999")"}) {
    EXPECT_EQ(read(bad).status().error_code(), errc::kBankAnswerInvalid) << bad;
  }
  const HttpReply refused{401, R"({"responseCode":"4017300","responseMessage":"Unauthorized."})"};
  EXPECT_EQ(ReadSnapAccessTokenAnswer(refused, "test").status().error_code(), errc::kBankRefused);
}

}  // namespace
}  // namespace malpro
