#include "adapters/bank/snap_protocol.h"

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>

#include "adapters/bank/snap_signature.h"
#include "engine/assert.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/json.h"

namespace malpro {
namespace {

struct SnapService {
  std::string_view path;
  std::string_view service_code;
};

constexpr SnapService kServices[] = {
    {snap_access_token_path, snap_access_token_service_code},
    {snap_qris_generate_path, snap_qris_generate_service_code},
    {snap_qris_query_path, snap_qris_query_service_code},
    {snap_qris_cancel_path, snap_qris_cancel_service_code},
    {snap_qris_notify_path, snap_qris_notify_service_code},
    {snap_va_create_path, snap_va_create_service_code},
    {snap_va_status_path, snap_va_status_service_code},
    {snap_va_delete_path, snap_va_delete_service_code},
    {snap_va_payment_path, snap_va_payment_service_code},
};

constexpr std::string_view kExternalIdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
// Random bytes of a token we issue (hex: twice as many characters).
constexpr int kTokenBytes = 24;
// expiresIn of a token answer: seconds, at most 9 digits (over 31 years), so it fits easily.
constexpr size_t kExpiresInDigitsMax = 9;

SnapRefusal Refuse(SnapCase kind, std::string message) { return {kind, std::move(message)}; }

// The first of `names` the request lacks (or has empty).
std::optional<SnapRefusal> MissingHeader(const HttpRequest& request,
                                         std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (request[name].empty()) {
      return Refuse(snap_invalid_mandatory_field, "Invalid Mandatory Field " + std::string(name));
    }
  }
  return std::nullopt;
}

bool WithinWindow(int64_t timestamp_us, const SnapVerifyOptions& options) {
  const int64_t window_us = options.timestamp_window_s * micros_per_second;
  return timestamp_us >= options.now_us - window_us && timestamp_us <= options.now_us + window_us;
}

bool RsaVerified(std::string_view public_key_pem, std::string_view text,
                 std::string_view signature) {
  Result<bool> verified = SnapRsaVerify(public_key_pem, text, signature);
  return verified.ok() && *verified;
}

// Signed by the sender's key, or during a rotation by its next one.
bool SenderSigned(const SnapVerifyOptions& options, std::string_view text,
                  std::string_view signature) {
  return RsaVerified(options.public_key_pem, text, signature) ||
         (!options.public_key_next_pem.empty() &&
          RsaVerified(options.public_key_next_pem, text, signature));
}

// The string a transaction's X-SIGNATURE covers: with the token when one is required.
Result<std::string> TransactionStringToSign(const HttpRequest& request, bool with_token) {
  const std::string_view timestamp = request[snap_header_timestamp];
  if (with_token) {
    return SnapTransactionStringToSign(request.method_string(), request.target(),
                                       SnapBearerToken(request), request.body(), timestamp);
  }
  return SnapNotificationStringToSign(request.method_string(), request.target(), request.body(),
                                      timestamp);
}

bool TransactionSignatureMatches(const HttpRequest& request, const SnapVerifyOptions& options,
                                 std::string_view text) {
  const std::string_view signature = request[snap_header_signature];
  if (options.algorithm == SnapSignatureAlgorithm::kRsaSha256) {
    return SenderSigned(options, text, signature);
  }
  // An empty secret would make every signature computable: never accept one.
  return !options.client_secret.empty() &&
         SnapHmacSignatureMatches(options.client_secret, text, signature);
}

SnapVerdict VerifyAccessTokenRequest(const HttpRequest& request, const SnapVerifyOptions& options) {
  if (std::optional<SnapRefusal> missing = MissingHeader(
          request, {snap_header_client_key, snap_header_timestamp, snap_header_signature})) {
    return {std::move(missing)};
  }
  const std::string_view client = request[snap_header_client_key];
  const std::string_view timestamp = request[snap_header_timestamp];
  Result<int64_t> at = ParseSnapTimestamp(timestamp);
  if (!at.ok()) return {Refuse(snap_invalid_field_format, "Invalid Field Format X-TIMESTAMP")};
  if (client != options.partner_id) {
    return {Refuse(snap_unauthorized, "Unauthorized. [Unknown client]")};
  }
  if (!WithinWindow(*at, options)) {
    return {Refuse(snap_unauthorized, "Unauthorized. [Timestamp outside the window]")};
  }
  if (!SenderSigned(options, SnapAccessTokenStringToSign(client, timestamp),
                    request[snap_header_signature])) {
    return {Refuse(snap_unauthorized, "Unauthorized. [Signature]")};
  }
  return {std::nullopt, *at};
}

SnapVerdict VerifyTransaction(const HttpRequest& request, const SnapVerifyOptions& options) {
  const bool token_required = options.bearer_token_required;
  MALPRO_ASSERT(!token_required || options.token_valid);
  std::optional<SnapRefusal> missing =
      token_required ? MissingHeader(request, {snap_header_authorization, snap_header_timestamp,
                                               snap_header_signature, snap_header_partner_id,
                                               snap_header_external_id, snap_header_channel_id})
                     : MissingHeader(request, {snap_header_timestamp, snap_header_signature,
                                               snap_header_partner_id, snap_header_external_id,
                                               snap_header_channel_id});
  if (missing) return {std::move(missing)};
  Result<int64_t> at = ParseSnapTimestamp(request[snap_header_timestamp]);
  if (!at.ok()) return {Refuse(snap_invalid_field_format, "Invalid Field Format X-TIMESTAMP")};
  if (!IsSnapExternalId(request[snap_header_external_id])) {
    return {Refuse(snap_invalid_field_format, "Invalid Field Format X-EXTERNAL-ID")};
  }
  Result<std::string> text = TransactionStringToSign(request, token_required);
  if (!text.ok()) return {Refuse(snap_invalid_field_format, "Invalid Field Format body")};
  if (request[snap_header_partner_id] != options.partner_id) {
    return {Refuse(snap_unauthorized, "Unauthorized. [Unknown partner]")};
  }
  if (!WithinWindow(*at, options)) {
    return {Refuse(snap_unauthorized, "Unauthorized. [Timestamp outside the window]")};
  }
  if (token_required) {
    const std::string_view token = SnapBearerToken(request);
    if (token.empty() || !options.token_valid(token)) {
      return {Refuse(snap_invalid_token, "Invalid Token (B2B)")};
    }
  }
  if (!TransactionSignatureMatches(request, options, *text)) {
    return {Refuse(snap_unauthorized, "Unauthorized. [Signature]")};
  }
  return {std::nullopt, *at};
}

}  // namespace

std::string_view SnapServiceCode(std::string_view path) {
  for (const SnapService& service : kServices) {
    if (service.path == path) return service.service_code;
  }
  return "";
}

bool IsSnapExternalId(std::string_view external_id) {
  return !external_id.empty() && external_id.size() <= snap_external_id_chars_max &&
         external_id.find_first_not_of(kExternalIdAlphabet) == std::string_view::npos;
}

std::string SnapExternalIdDay(int64_t timestamp_us) {
  return FormatIsoDate(JakartaDate(timestamp_us));
}

std::string SnapAmountJson(Money amount) {
  return JsonWriter()
      .BeginObject()
      .Field("value", FormatSnap(amount))
      .Field("currency", "IDR")
      .EndObject()
      .Take();
}

std::string SnapResponseCode(SnapCase kind, std::string_view service_code) {
  MALPRO_ASSERT(service_code.size() == 2 && kind.case_code.size() == 2);
  return std::to_string(kind.http_status) + std::string(service_code) + std::string(kind.case_code);
}

HttpResponse SnapAnswer(const HttpRequest& request, SnapCase kind, std::string_view service_code,
                        std::string_view message, const std::function<void(JsonWriter&)>& extra) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("responseCode", SnapResponseCode(kind, service_code))
      .Field("responseMessage", message);
  if (extra) extra(writer);
  HttpResponse response{static_cast<http::status>(kind.http_status), request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = writer.EndObject().Take();
  response.prepare_payload();
  return response;
}

HttpResponse SnapAnswer(const HttpRequest& request, const SnapRefusal& refusal,
                        std::string_view service_code) {
  return SnapAnswer(request, refusal.kind, service_code, refusal.message);
}

SnapVerdict VerifySnapRequest(const HttpRequest& request, const SnapVerifyOptions& options) {
  return options.kind == SnapRequestKind::kAccessToken ? VerifyAccessTokenRequest(request, options)
                                                       : VerifyTransaction(request, options);
}

std::string_view SnapBearerToken(const HttpRequest& request) {
  const std::string_view authorization = request[snap_header_authorization];
  return authorization.starts_with(snap_bearer_prefix)
             ? authorization.substr(snap_bearer_prefix.size())
             : std::string_view();
}

std::string SnapIssuedTokens::Issue(int64_t now_us, int64_t expires_us) {
  const std::string token = RandomHex(kTokenBytes);
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(expiry_, [now_us](const auto& entry) { return entry.second <= now_us; });
  while (expiry_.size() >= snap_issued_tokens_max) {
    auto oldest =
        std::min_element(expiry_.begin(), expiry_.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    expiry_.erase(oldest);
  }
  expiry_[token] = expires_us;
  return token;
}

bool SnapIssuedTokens::Valid(std::string_view token, int64_t now_us) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = expiry_.find(std::string(token));
  return found != expiry_.end() && found->second > now_us;
}

HttpResponse AnswerSnapAccessTokenRequest(const HttpRequest& request,
                                          const SnapVerifyOptions& options,
                                          SnapIssuedTokens& tokens, int64_t lifetime_s) {
  MALPRO_ASSERT(options.kind == SnapRequestKind::kAccessToken);
  const SnapVerdict verdict = VerifySnapRequest(request, options);
  if (!verdict.ok()) return SnapAnswer(request, *verdict.refusal, snap_access_token_service_code);
  const std::string token =
      tokens.Issue(options.now_us, options.now_us + lifetime_s * micros_per_second);
  return SnapAnswer(request, snap_successful, snap_access_token_service_code, "Successful",
                    [&](JsonWriter& writer) {
                      writer.Field("accessToken", token)
                          .Field("tokenType", "Bearer")
                          .Field("expiresIn", std::to_string(lifetime_s));
                    });
}

Result<std::map<std::string, std::string>> SignSnapAccessTokenRequest(
    std::string_view client_key, std::string_view timestamp, std::string_view private_key_pem) {
  Result<std::string> signature =
      SnapRsaSign(private_key_pem, SnapAccessTokenStringToSign(client_key, timestamp));
  if (!signature.ok()) return signature.status();
  return std::map<std::string, std::string>{{snap_header_timestamp, std::string(timestamp)},
                                            {snap_header_client_key, std::string(client_key)},
                                            {snap_header_signature, *signature}};
}

Result<std::map<std::string, std::string>> SignSnapRequest(
    const SnapSigner& signer, std::string_view path, std::string_view body, std::string_view token,
    std::string_view timestamp, std::string_view external_id) {
  Result<std::string> text =
      token.empty() ? SnapNotificationStringToSign("POST", path, body, timestamp)
                    : SnapTransactionStringToSign("POST", path, token, body, timestamp);
  if (!text.ok()) return text.status();
  Result<std::string> signature = signer.algorithm == SnapSignatureAlgorithm::kHmacSha512
                                      ? Result<std::string>(SnapHmacSignature(signer.key, *text))
                                      : SnapRsaSign(signer.key, *text);
  if (!signature.ok()) return signature.status();
  std::map<std::string, std::string> headers = {
      {snap_header_timestamp, std::string(timestamp)},
      {snap_header_signature, *signature},
      {snap_header_partner_id, std::string(signer.partner_id)},
      {snap_header_external_id, std::string(external_id)},
      {snap_header_channel_id, std::string(signer.channel_id)}};
  if (!token.empty()) {
    headers[snap_header_authorization] = std::string(snap_bearer_prefix) + std::string(token);
  }
  return headers;
}

Status CheckSnapAnswer(const HttpReply& reply, std::string_view where,
                       std::string_view service_code) {
  if (reply.status >= 500) {
    return Status::Unavailable(
        errc::kBankServerError,
        std::string(where) + ": the bank answered HTTP " + std::to_string(reply.status));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view code, message;
  if (parser.parse(reply.body).get(root) != simdjson::SUCCESS ||
      root["responseCode"].get(code) != simdjson::SUCCESS) {
    return Status::Unavailable(errc::kBankAnswerInvalid, std::string(where) + ": HTTP " +
                                                             std::to_string(reply.status) +
                                                             " without a SNAP responseCode");
  }
  if (root["responseMessage"].get(message) != simdjson::SUCCESS) message = "";
  const bool success = reply.status >= 200 && reply.status < 300 && code.size() == 7 &&
                       code[0] == '2' && code.substr(3, 2) == service_code;
  if (!success) {
    return Status::Unavailable(errc::kBankRefused, std::string(where) + ": the bank answered " +
                                                       std::string(code) + " " +
                                                       std::string(message));
  }
  return Status::Ok();
}

Result<SnapAccessToken> ReadSnapAccessTokenAnswer(const HttpReply& reply, std::string_view where) {
  MALPRO_RETURN_IF_ERROR(CheckSnapAnswer(reply, where, snap_access_token_service_code));
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(reply.body).value_unsafe();  // checked above
  const auto lacks = [&](std::string_view key) {
    return Status::Unavailable(
        errc::kBankAnswerInvalid,
        std::string(where) + ": the answer has no string " + std::string(key));
  };
  std::string_view token, expires_in;
  if (root["accessToken"].get(token) != simdjson::SUCCESS) return lacks("accessToken");
  if (root["expiresIn"].get(expires_in) != simdjson::SUCCESS) return lacks("expiresIn");
  if (token.empty() || expires_in.empty() || expires_in.size() > kExpiresInDigitsMax ||
      expires_in.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status::Unavailable(errc::kBankAnswerInvalid,
                               std::string(where) +
                                   ": accessToken must be given and expiresIn "
                                   "be seconds (1 to 9 digits)");
  }
  return SnapAccessToken{std::string(token), std::stoll(std::string(expires_in))};
}

}  // namespace malpro
