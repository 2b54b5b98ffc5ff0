// SNAP BI (Bank Indonesia's national open payment API) as Malpro and the bank simulator speak
// it, in one place: the paths and their service codes, the header names, the answer codes, the
// checks a receiver makes of a request before it reads the body, and how a sender signs one.
//
// Two parties speak it, each as sender and as receiver:
//   Malpro      receives the bank's notifications and token requests (notify.h) and sends
//               token requests and transactions to the bank (snap_client.h);
//   simulator   receives Malpro's token requests and transactions and sends notifications
//               (simulator.h).
// Both receive through VerifySnapRequest and answer its refusals with SnapAnswer, so that they
// check the same things, in the same order, with the same answers. The signature primitives
// (strings to sign, RSA, HMAC, X-TIMESTAMP) are in snap_signature.h.
//
// Checks of a request, in this order; the first that fails is the answer (xx: the service).
// Token request (POST /v1.0/access-token/b2b):
//   1. X-CLIENT-KEY, X-TIMESTAMP, X-SIGNATURE present:  400xx02 "Invalid Mandatory Field <name>"
//   2. X-TIMESTAMP ISO 8601 with an offset:             400xx01 "Invalid Field Format X-TIMESTAMP"
//   3. X-CLIENT-KEY the partner served:                 401xx00 "Unauthorized. [Unknown client]"
//   4. X-TIMESTAMP within the window of now:            401xx00 "Unauthorized. [Timestamp outside
//                                                       the window]"
//   5. X-SIGNATURE SHA256withRSA over X-CLIENT-KEY|X-TIMESTAMP by the partner's key:
//                                                       401xx00 "Unauthorized. [Signature]"
// Transaction or notification:
//   1. Authorization (when a token is required), X-TIMESTAMP, X-SIGNATURE, X-PARTNER-ID,
//      X-EXTERNAL-ID, CHANNEL-ID present:               400xx02 "Invalid Mandatory Field <name>"
//   2. X-TIMESTAMP ISO 8601 with an offset:             400xx01 "Invalid Field Format X-TIMESTAMP"
//   3. X-EXTERNAL-ID 1-36 letters, digits and '-':      400xx01 "Invalid Field Format
//                                                       X-EXTERNAL-ID"
//   4. the body JSON (its digest is signed):            400xx01 "Invalid Field Format body"
//   5. X-PARTNER-ID the partner served:                 401xx00 "Unauthorized. [Unknown partner]"
//   6. X-TIMESTAMP within the window of now:            401xx00 "Unauthorized. [Timestamp outside
//                                                       the window]"
//   7. when a token is required, Authorization "Bearer " and a token the receiver issued that
//      has not expired:                                 401xx01 "Invalid Token (B2B)"
//   8. X-SIGNATURE over the request (HMAC-SHA512 with the client secret, or SHA256withRSA by the
//      sender's key; with the token when one is required):
//                                                       401xx00 "Unauthorized. [Signature]"
// The format first (400), then who is asking (401): a malformed request is told what is wrong
// with it whoever sent it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/bank/http_client.h"
#include "adapters/http/api.h"
#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

class JsonWriter;

// Paths. The token path is served by both parties: by the bank for Malpro's client, and by
// Malpro for the bank when notifications are signed with HMAC.
inline constexpr char snap_access_token_path[] = "/v1.0/access-token/b2b";
inline constexpr char snap_qris_generate_path[] = "/v1.0/qr/qr-mpm-generate";
inline constexpr char snap_qris_query_path[] = "/v1.0/qr/qr-mpm-query";
inline constexpr char snap_qris_cancel_path[] = "/v1.0/qr/qr-mpm-cancel";
inline constexpr char snap_qris_notify_path[] = "/v1.0/qr/qr-mpm-notify";
inline constexpr char snap_va_create_path[] = "/v1.0/transfer-va/create-va";
inline constexpr char snap_va_status_path[] = "/v1.0/transfer-va/status";
inline constexpr char snap_va_delete_path[] = "/v1.0/transfer-va/delete-va";
// Virtual account payment flag: the bank tells the partner that a virtual account was paid.
inline constexpr char snap_va_payment_path[] = "/v1.0/transfer-va/payment";

// Service codes: the middle two digits of a responseCode, one per path above.
inline constexpr char snap_access_token_service_code[] = "73";
inline constexpr char snap_qris_generate_service_code[] = "47";
inline constexpr char snap_qris_query_service_code[] = "51";
inline constexpr char snap_qris_cancel_service_code[] = "77";
inline constexpr char snap_qris_notify_service_code[] = "52";
inline constexpr char snap_va_create_service_code[] = "27";
inline constexpr char snap_va_status_service_code[] = "26";
inline constexpr char snap_va_delete_service_code[] = "31";
inline constexpr char snap_va_payment_service_code[] = "25";
// The service of an answer to a path that is none of the above (the simulator's 404).
inline constexpr char snap_no_service_code[] = "00";

// The service code of a path above; "" for any other path.
std::string_view SnapServiceCode(std::string_view path);

// Header names.
inline constexpr char snap_header_authorization[] = "Authorization";
inline constexpr char snap_header_timestamp[] = "X-TIMESTAMP";
inline constexpr char snap_header_signature[] = "X-SIGNATURE";
inline constexpr char snap_header_client_key[] = "X-CLIENT-KEY";  // token requests
inline constexpr char snap_header_partner_id[] = "X-PARTNER-ID";
inline constexpr char snap_header_external_id[] = "X-EXTERNAL-ID";
inline constexpr char snap_header_channel_id[] = "CHANNEL-ID";
// Authorization is this and the token.
inline constexpr std::string_view snap_bearer_prefix = "Bearer ";
// The body of a token request.
inline constexpr char snap_access_token_body[] = R"({"grantType":"client_credentials"})";
// A sender renews its token this long before the receiver says it expires, so that it never
// expires in flight.
inline constexpr int64_t snap_token_renew_margin_s = 30;

// SNAP allows X-EXTERNAL-ID up to 36 characters; Malpro makes it part of an idempotency key.
inline constexpr size_t snap_external_id_chars_max = 36;
// Whether `external_id` is 1 to snap_external_id_chars_max letters, digits and '-'.
bool IsSnapExternalId(std::string_view external_id);
// The day an X-EXTERNAL-ID is unique in: the Asia/Jakarta date (YYYY-MM-DD) of the request's
// verified X-TIMESTAMP (UTC microseconds).
std::string SnapExternalIdDay(int64_t timestamp_us);

// What an answer says, apart from its service: the HTTP status and the case code, whose
// meaning depends on the status (SNAP's table of response codes).
struct SnapCase {
  int http_status = 0;
  std::string_view case_code;  // two digits
};
inline constexpr SnapCase snap_successful{200, "00"};
inline constexpr SnapCase snap_invalid_field_format{400, "01"};
inline constexpr SnapCase snap_invalid_mandatory_field{400, "02"};
inline constexpr SnapCase snap_unauthorized{401, "00"};
inline constexpr SnapCase snap_invalid_token{401, "01"};
inline constexpr SnapCase snap_path_not_found{404, "00"};  // the simulator's unknown paths
inline constexpr SnapCase snap_transaction_not_found{404, "01"};
inline constexpr SnapCase snap_bill_not_found{404, "12"};  // Invalid Bill/Virtual Account
inline constexpr SnapCase snap_invalid_amount{404, "13"};
// "Paid Bill": what the bank answers a void that came after the payment (4047714, 4043114).
inline constexpr SnapCase snap_paid_bill{404, "14"};
inline constexpr SnapCase snap_inconsistent_request{404, "18"};
inline constexpr SnapCase snap_method_not_allowed{405, "00"};
inline constexpr SnapCase snap_conflict{409, "00"};
// SNAP's "Duplicate partnerReferenceNo"; Malpro answers it to a notification the ledger
// refuses as conflicting with what it holds.
inline constexpr SnapCase snap_duplicate_request{409, "01"};
inline constexpr SnapCase snap_general_error{500, "00"};
inline constexpr SnapCase snap_service_unavailable{503, "00"};

// The answer to an X-EXTERNAL-ID used earlier the same day for another request (409xx00).
inline constexpr char snap_external_id_reused_message[] =
    "Conflict. [X-EXTERNAL-ID used today for another request]";

// responseCode = HTTP status + service code + case code, e.g. "4015200".
std::string SnapResponseCode(SnapCase kind, std::string_view service_code);

// An amount as SNAP writes one: {"value":"10000.00","currency":"IDR"}.
std::string SnapAmountJson(Money amount);

// A refusal: the case and the responseMessage, e.g. "Invalid Mandatory Field X-TIMESTAMP".
struct SnapRefusal {
  SnapCase kind;
  std::string message;
};

// A SNAP answer: JSON {"responseCode","responseMessage"} and then what `extra` writes, with
// the case's HTTP status; keep-alive as the request asked.
HttpResponse SnapAnswer(const HttpRequest& request, SnapCase kind, std::string_view service_code,
                        std::string_view message,
                        const std::function<void(JsonWriter&)>& extra = {});
HttpResponse SnapAnswer(const HttpRequest& request, const SnapRefusal& refusal,
                        std::string_view service_code);

enum class SnapRequestKind {
  kAccessToken,  // POST /v1.0/access-token/b2b, signed SHA256withRSA over clientId|X-TIMESTAMP
  kTransaction,  // any other call: a bank service, or a notification to the partner
};

enum class SnapSignatureAlgorithm {
  kRsaSha256,   // SHA256withRSA with the sender's private key, verified with its public key
  kHmacSha512,  // HMAC-SHA512 with the client secret both sides hold
};

// What the receiving side requires of a request. The views must outlive the call.
struct SnapVerifyOptions {
  SnapRequestKind kind = SnapRequestKind::kTransaction;
  // X-PARTNER-ID (X-CLIENT-KEY of a token request) must be this.
  std::string_view partner_id;
  int64_t timestamp_window_s = 300;  // how far X-TIMESTAMP may be from now, either way
  int64_t now_us = 0;                // UTC microseconds
  // Transactions only; a token request is always SHA256withRSA.
  SnapSignatureAlgorithm algorithm = SnapSignatureAlgorithm::kRsaSha256;
  std::string_view public_key_pem;  // kRsaSha256 and token requests: the sender's public key
  // While the sender rotates its key: the next one, accepted besides public_key_pem; empty
  // otherwise.
  std::string_view public_key_next_pem;
  std::string_view client_secret;  // kHmacSha512: the key; empty refuses every signature
  // Transactions: Authorization: Bearer <token> is mandatory, the token is checked with
  // token_valid and is part of the string to sign (METHOD:path:token:digest:timestamp).
  // Without: no token, and the string to sign is METHOD:path:digest:timestamp.
  bool bearer_token_required = false;
  std::function<bool(std::string_view token)> token_valid;  // required with a bearer token
};

// What VerifySnapRequest found: a refusal to answer with, or the request's X-TIMESTAMP.
struct [[nodiscard]] SnapVerdict {
  std::optional<SnapRefusal> refusal;  // empty: the request passed every check
  int64_t timestamp_us = 0;            // X-TIMESTAMP in UTC microseconds, once verified
  bool ok() const { return !refusal.has_value(); }
};

// Checks the headers and signature of `request` as the file comment lists; does not read the
// body beyond its digest. The method is the caller's to check (405) before.
SnapVerdict VerifySnapRequest(const HttpRequest& request, const SnapVerifyOptions& options);

// The bearer token of the Authorization header; "" when there is none.
std::string_view SnapBearerToken(const HttpRequest& request);

// The access tokens a receiver issued, each until its expiry; at most snap_issued_tokens_max
// (expired ones are dropped first, then the oldest). Thread-safe.
inline constexpr size_t snap_issued_tokens_max = 256;
class SnapIssuedTokens {
 public:
  // A new random token (48 hex digits) valid until `expires_us`.
  std::string Issue(int64_t now_us, int64_t expires_us);
  bool Valid(std::string_view token, int64_t now_us) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int64_t> expiry_;  // token -> expiry, UTC microseconds
};

// Answers a token request: verified as SnapRequestKind::kAccessToken with `options`, then a
// token from `tokens` valid for `lifetime_s`: 2007300 with accessToken, tokenType "Bearer" and
// expiresIn (seconds, as a string).
HttpResponse AnswerSnapAccessTokenRequest(const HttpRequest& request,
                                          const SnapVerifyOptions& options,
                                          SnapIssuedTokens& tokens, int64_t lifetime_s);

// Sending: the headers of a token request, X-CLIENT-KEY, X-TIMESTAMP and X-SIGNATURE
// (SHA256withRSA over client_key|timestamp). InvalidArgument for a bad key.
Result<std::map<std::string, std::string>> SignSnapAccessTokenRequest(
    std::string_view client_key, std::string_view timestamp, std::string_view private_key_pem);

// Sending: who signs a transaction or notification, and how.
struct SnapSigner {
  SnapSignatureAlgorithm algorithm = SnapSignatureAlgorithm::kHmacSha512;
  std::string_view key;         // kHmacSha512: the client secret; kRsaSha256: the PEM private key
  std::string_view partner_id;  // X-PARTNER-ID
  std::string_view channel_id;  // CHANNEL-ID
};

// Sending: the headers of a POST of `body` to `path`: Authorization (when `token` is not
// empty), X-TIMESTAMP, X-SIGNATURE (over the transaction string with the token, or the
// notification string without one), X-PARTNER-ID, X-EXTERNAL-ID and CHANNEL-ID.
// InvalidArgument when the body is not JSON or the key cannot sign.
Result<std::map<std::string, std::string>> SignSnapRequest(
    const SnapSigner& signer, std::string_view path, std::string_view body, std::string_view token,
    std::string_view timestamp, std::string_view external_id);

// Checks a SNAP answer: HTTP 2xx and a responseCode "2xx" + service code + case. Anything
// else becomes Unavailable("bank_refused") quoting the answer's code and message;
// "bank_server_error" for a 5xx, "bank_answer_invalid" without a responseCode.
Status CheckSnapAnswer(const HttpReply& reply, std::string_view where,
                       std::string_view service_code);

// A token answer read: CheckSnapAnswer for the token service, then accessToken and expiresIn
// (1 to 9 digits), else Unavailable("bank_answer_invalid") naming `where`.
struct SnapAccessToken {
  std::string token;
  int64_t expires_in_s = 0;
};
Result<SnapAccessToken> ReadSnapAccessTokenAnswer(const HttpReply& reply, std::string_view where);

}  // namespace malpro
