// The bank's SNAP calls (adapters/bank/notify.h): QRIS notifications, virtual account payment
// flags and the access-token request, answered by HandleBankRequest against a real ledger
// (tests/fuzz/fuzz_ledger.h) whose clock is the fixture's time.
//
// Input, as text:
//   line 1     "METHOD TARGET AUTHENTICATION", e.g. "POST /v1.0/qr/qr-mpm-notify rsa" (rsa or
//              hmac; anything else is rsa)
//   then       header lines "Name: value" up to an empty line
//   the rest   the body
// Two header values are stand-ins the harness fills in, so that inputs can get past the
// signature check: "X-SIGNATURE: sign" becomes the right signature of the request (the bank's
// RSA key, or HMAC with the client secret), "Authorization: Bearer issue" a token we issued.
// Properties:
//   - the bank's paths, and only they, are answered;
//   - every answer is JSON with a responseCode of the HTTP status, the service code and a
//     two-digit case, and never 500: bad input is a 4xx;
//   - a request whose signature the harness did not make is never accepted (400, 401 or 405);
//   - an accepted notification sent again is accepted again and appends nothing.
#include <simdjson.h>

#include "adapters/bank/notify.h"
#include "adapters/bank/snap_signature.h"
#include "tests/bank/bank_testing.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_ledger.h"

namespace malpro {
namespace {

constexpr char kClientSecret[] = "fuzz-client-secret";
constexpr char kSignStandIn[] = "sign";
constexpr char kTokenStandIn[] = "Bearer issue";

std::string ReadTestFile(const std::string& name) {
  std::string text = testing::ReadTestFile(name);
  FUZZ_CHECK(!text.empty());
  return text;
}

const std::string& BankPrivateKey() {
  static const std::string pem = ReadTestFile("bank_private.pem");
  return pem;
}

BankNotifyOptions Options(bool hmac) {
  static BankNotifyOptions options = [] {
    BankNotifyOptions made;
    made.partner_id = "BJTM";
    made.bank_public_key_pem = ReadTestFile("bank_public.pem");
    made.client_secret = kClientSecret;
    made.clock = [] { return fuzz::fixture_now_us; };
    return made;
  }();
  BankNotifyOptions chosen = options;  // copies share the issued tokens
  chosen.authentication = hmac ? "hmac" : "rsa";
  return chosen;
}

struct Parsed {
  HttpRequest request;
  bool hmac = false;
  bool signed_by_harness = false;
};

// Replaces the stand-ins with a token and the signature of the request as built.
void Sign(Parsed* parsed, const BankNotifyOptions& options) {
  HttpRequest& request = parsed->request;
  if (request[http::field::authorization] == kTokenStandIn) {
    const std::string token =
        options.issued_tokens->Issue(fuzz::fixture_now_us, fuzz::fixture_now_us + 900'000'000);
    request.set(http::field::authorization, "Bearer " + token);
  }
  if (request["X-SIGNATURE"] != kSignStandIn) return;
  const std::string timestamp(request["X-TIMESTAMP"]);
  Result<std::string> signature = Status::InvalidArgument(errc::kKeyInvalid, "", "not signed");
  if (request.target() == snap_bank_access_token_path) {
    signature = SnapRsaSign(BankPrivateKey(),
                            SnapAccessTokenStringToSign(request["X-CLIENT-KEY"], timestamp));
  } else if (parsed->hmac) {
    const std::string_view authorization = request[http::field::authorization];
    const std::string_view token =
        authorization.starts_with("Bearer ") ? authorization.substr(7) : std::string_view();
    Result<std::string> text = SnapTransactionStringToSign(
        request.method_string(), request.target(), token, request.body(), timestamp);
    if (text.ok()) signature = SnapHmacSignature(kClientSecret, *text);
  } else {
    Result<std::string> text = SnapNotificationStringToSign(
        request.method_string(), request.target(), request.body(), timestamp);
    if (text.ok()) signature = SnapRsaSign(BankPrivateKey(), *text);
  }
  if (!signature.ok()) return;  // e.g. a body that is not JSON: the stand-in stays
  request.set("X-SIGNATURE", *signature);
  parsed->signed_by_harness = true;
}

Parsed Parse(std::string_view text) {
  Parsed parsed;
  std::string_view first = fuzz::TakeLine(&text);
  const std::string_view method = first.substr(0, first.find(' '));
  first.remove_prefix(std::min(first.size(), method.size() + 1));
  const std::string_view target = first.substr(0, first.find(' '));
  first.remove_prefix(std::min(first.size(), target.size() + 1));
  parsed.hmac = first == "hmac";
  parsed.request.version(11);
  parsed.request.method_string(method.empty() ? std::string_view("POST") : method);
  parsed.request.target(target);
  while (!text.empty()) {
    const std::string_view line = fuzz::TakeLine(&text);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    parsed.request.set(line.substr(0, colon), value);
  }
  parsed.request.body() = std::string(text);
  parsed.request.prepare_payload();
  return parsed;
}

bool IsBankPath(std::string_view target, bool hmac) {
  return target == snap_qris_notify_path || target == snap_va_payment_path ||
         (hmac && target == snap_bank_access_token_path);
}

void CheckAnswer(const HttpRequest& request, const HttpResponse& response) {
  const int status = static_cast<int>(response.result_int());
  FUZZ_CHECK_DETAIL(status != 500, response.body());
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  FUZZ_CHECK_DETAIL(parser.parse(response.body()).get(object) == simdjson::SUCCESS,
                    response.body());
  std::string_view code;
  std::string_view message;
  FUZZ_CHECK(object["responseCode"].get(code) == simdjson::SUCCESS);
  FUZZ_CHECK(object["responseMessage"].get(message) == simdjson::SUCCESS);
  const std::string_view service =
      request.target() == snap_bank_access_token_path ? snap_access_token_service_code
      : request.target() == snap_va_payment_path      ? snap_va_service_code
                                                      : snap_qris_service_code;
  FUZZ_CHECK_DETAIL(code.size() == 7 && code.substr(0, 3) == std::to_string(status) &&
                        code.substr(3, 2) == service &&
                        code.find_first_not_of("0123456789") == std::string_view::npos,
                    std::string(code));
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace malpro;
  Parsed parsed = Parse(fuzz::AsText(data, size));
  const BankNotifyOptions options = Options(parsed.hmac);
  Sign(&parsed, options);
  fuzz::FuzzLedger& fixture = fuzz::FuzzLedger::ForInput();
  std::optional<HttpResponse> response =
      HandleBankRequest(parsed.request, fixture.ledger(), options);
  FUZZ_CHECK(response.has_value() == IsBankPath(parsed.request.target(), parsed.hmac));
  if (!response) return 0;
  CheckAnswer(parsed.request, *response);
  const int status = static_cast<int>(response->result_int());
  if (!parsed.signed_by_harness) {
    FUZZ_CHECK_DETAIL(status == 400 || status == 401 || status == 405, response->body());
    return 0;
  }
  if (status != 200 || parsed.request.target() == snap_bank_access_token_path) return 0;
  const uint64_t head = fixture.head_sequence();
  std::optional<HttpResponse> again = HandleBankRequest(parsed.request, fixture.ledger(), options);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK_DETAIL(again->result_int() == 200, again->body());
  FUZZ_CHECK(fixture.head_sequence() == head);
  return 0;
}
