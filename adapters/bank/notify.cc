#include "adapters/bank/notify.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>

#include "adapters/bank/snap_signature.h"
#include "adapters/http/request_body.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/json.h"

namespace malpro {
namespace {

std::string_view ServiceCode(const HttpRequest& request) {
  if (request.target() == snap_bank_access_token_path) return snap_access_token_service_code;
  return request.target() == snap_va_payment_path ? snap_va_service_code : snap_qris_service_code;
}

HttpResponse SnapAnswer(const HttpRequest& request, int http_status, std::string_view case_code,
                        std::string_view message) {
  HttpResponse response{static_cast<http::status>(http_status), request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = JsonWriter()
                        .BeginObject()
                        .Field("responseCode", std::to_string(http_status) +
                                                   std::string(ServiceCode(request)) +
                                                   std::string(case_code))
                        .Field("responseMessage", message)
                        .EndObject()
                        .Take();
  response.prepare_payload();
  return response;
}

// The checks every bank call passes before its body is read. Returns the refusal, if any.
std::optional<HttpResponse> Authenticate(const HttpRequest& request, const BankNotifyOptions& options,
                                         int64_t* timestamp_us) {
  for (const char* header : {"X-TIMESTAMP", "X-SIGNATURE", "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID"}) {
    if (request[header].empty()) {
      return SnapAnswer(request, 400, "02", "Invalid Mandatory Field " + std::string(header));
    }
  }
  const std::string_view external_id = request["X-EXTERNAL-ID"];
  if (external_id.size() > snap_external_id_chars_max ||
      external_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") !=
          std::string_view::npos) {
    return SnapAnswer(request, 400, "01", "Invalid Field Format X-EXTERNAL-ID");
  }
  if (request["X-PARTNER-ID"] != options.partner_id) {
    return SnapAnswer(request, 401, "00", "Unauthorized. [Unknown partner]");
  }
  Result<int64_t> timestamp = ParseSnapTimestamp(request["X-TIMESTAMP"]);
  if (!timestamp.ok()) return SnapAnswer(request, 400, "01", "Invalid Field Format X-TIMESTAMP");
  const int64_t now = options.clock ? options.clock() : WallClockMicros();
  const int64_t window_us = options.timestamp_window_s * 1'000'000;
  if (*timestamp < now - window_us || *timestamp > now + window_us) {
    return SnapAnswer(request, 401, "00", "Unauthorized. [Timestamp outside the window]");
  }
  if (options.authentication == "hmac") {
    const std::string_view authorization = request[http::field::authorization];
    const std::string_view token =
        authorization.starts_with("Bearer ") ? authorization.substr(7) : std::string_view();
    if (token.empty() || !options.issued_tokens->Valid(token, now)) {
      return SnapAnswer(request, 401, "01", "Invalid Token (B2B)");
    }
    Result<std::string> text = SnapTransactionStringToSign(
        request.method_string(), request.target(), token, request.body(), request["X-TIMESTAMP"]);
    if (!text.ok()) return SnapAnswer(request, 400, "01", "Invalid Field Format body");
    // An empty secret would make every signature computable: never accept one.
    if (options.client_secret.empty() ||
        !SnapHmacSignatureMatches(options.client_secret, *text, request["X-SIGNATURE"])) {
      return SnapAnswer(request, 401, "00", "Unauthorized. [Signature]");
    }
  } else {
    Result<std::string> text = SnapNotificationStringToSign(
        request.method_string(), request.target(), request.body(), request["X-TIMESTAMP"]);
    if (!text.ok()) return SnapAnswer(request, 400, "01", "Invalid Field Format body");
    Result<bool> verified =
        SnapRsaVerify(options.bank_public_key_pem, *text, request["X-SIGNATURE"]);
    if (!verified.ok() || !*verified) {
      return SnapAnswer(request, 401, "00", "Unauthorized. [Signature]");
    }
  }
  *timestamp_us = *timestamp;
  return std::nullopt;
}

struct Notification {
  std::string channel;         // QRIS (qr-mpm-notify) or VA (transfer-va/payment)
  std::string payment_id;      // originalPartnerReferenceNo / trxId: our payment (order) id
  // QRIS: originalReferenceNo; VA: virtualAccountNo (what payment.requested holds)
  std::string bank_reference;
  std::string status;          // latestTransactionStatus: 00 success, 06 failed, ...
  std::string description;     // transactionStatusDesc
  Money amount;
  std::string paid_time;       // additionalInfo.paidTime, optional
};

// A SNAP amount object {"value":"10000.00","currency":"IDR"} under `key` of the body.
Result<Money> ReadSnapMoney(simdjson::dom::element root, std::string_view key) {
  std::string_view value, currency;
  if (root[key]["value"].get(value) != simdjson::SUCCESS ||
      root[key]["currency"].get(currency) != simdjson::SUCCESS || currency != "IDR") {
    return Status::InvalidArgument(
        errc::kBodyFieldMissing, key,
        std::string(key) + " must be {\"value\":\"10000.00\",\"currency\":\"IDR\"}");
  }
  return ParseSnapAmount(value, std::string(key) + ".value");
}

Result<Notification> ReadNotification(const HttpRequest& request) {
  RequestBody body(request.body());
  Notification notification{"QRIS", body.String("originalPartnerReferenceNo"),
                            body.String("originalReferenceNo"),
                            body.String("latestTransactionStatus"),
                            body.OptionalString("transactionStatusDesc"), Money(), ""};
  if (!body.status().ok()) return body.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view paid_time;
  if (parser.parse(request.body()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kBodyInvalidJson, "body", "the body must be JSON");
  }
  Result<Money> amount = ReadSnapMoney(root, "amount");
  if (!amount.ok()) return amount.status();
  notification.amount = *amount;
  if (root["additionalInfo"]["paidTime"].get(paid_time) == simdjson::SUCCESS) {
    notification.paid_time = std::string(paid_time);
  }
  return notification;
}

// transfer-va/payment: trxId is our payment id, virtualAccountNo the account that was paid
// into; a payment flag always means paid.
Result<Notification> ReadVaPayment(const HttpRequest& request) {
  RequestBody body(request.body());
  Notification notification{"VA", body.String("trxId"), body.String("virtualAccountNo"), "00",
                            "virtual account paid", Money(), body.OptionalString("trxDateTime")};
  if (!body.status().ok()) return body.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(request.body()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kBodyInvalidJson, "body", "the body must be JSON");
  }
  Result<Money> amount = ReadSnapMoney(root, "paidAmount");
  if (!amount.ok()) return amount.status();
  notification.amount = *amount;
  return notification;
}

HttpResponse AnswerLedgerRefusal(const HttpRequest& request, const Status& status) {
  const std::string& code = status.error_code();
  if (code == errc::kPaymentAlreadySucceeded) return SnapAnswer(request, 200, "00", "Successful");
  if (code == errc::kPaymentNotFound) return SnapAnswer(request, 404, "01", "Transaction Not Found");
  if (code == errc::kAmountMismatch) return SnapAnswer(request, 404, "13", "Invalid Amount");
  if (code == errc::kBankReferenceMismatch || code == errc::kNotificationChannelMismatch) {
    return SnapAnswer(request, 404, "18", "Inconsistent Request");
  }
  if (code == errc::kPaidTimeOutOfWindow) {
    return SnapAnswer(request, 400, "01", "Invalid Field Format paidTime");
  }
  if (code == errc::kIdempotencyKeyReused) return SnapAnswer(request, 409, "00", "Conflict X-EXTERNAL-ID");
  if (status.code() == StatusCode::kConflict) return SnapAnswer(request, 409, "01", status.message());
  if (status.code() == StatusCode::kInvalidArgument) return SnapAnswer(request, 400, "01", status.message());
  return SnapAnswer(request, 500, "00", "General Error");
}

// Records a success (or, for a voided request or a cancelled order, the refund due). A word
// that does not match the request is refused and kept for the operator (under its own
// idempotency key, so the same notice twice is recorded once).
Result<CommandResult> RecordSuccess(Ledger& ledger, const Notification& notification,
                                    int64_t timestamp_us, const CommandContext& context) {
  BankSuccess success;
  success.payment_id = notification.payment_id;
  success.channel = notification.channel;
  success.bank_reference = notification.bank_reference;
  success.amount = notification.amount;
  success.paid_at_us = timestamp_us;
  if (!notification.paid_time.empty()) {
    Result<int64_t> parsed = ParseSnapTimestamp(notification.paid_time);
    if (!parsed.ok()) return parsed.status();
    success.paid_at_us = *parsed;
  }
  return ledger.RecordBankSuccess(success, context);
}

// POST /v1.0/access-token/b2b: the bank proves its key over clientId|X-TIMESTAMP and gets a
// token for signing its notifications (hmac authentication only).
HttpResponse IssueToken(const HttpRequest& request, const BankNotifyOptions& options) {
  const std::string_view client = request["X-CLIENT-KEY"];
  const std::string_view timestamp = request["X-TIMESTAMP"];
  for (const char* header : {"X-CLIENT-KEY", "X-TIMESTAMP", "X-SIGNATURE"}) {
    if (request[header].empty()) {
      return SnapAnswer(request, 400, "02", "Invalid Mandatory Field " + std::string(header));
    }
  }
  if (client != options.partner_id) return SnapAnswer(request, 401, "00", "Unauthorized. [Unknown client]");
  Result<int64_t> at = ParseSnapTimestamp(timestamp);
  if (!at.ok()) return SnapAnswer(request, 400, "01", "Invalid Field Format X-TIMESTAMP");
  const int64_t now = options.clock ? options.clock() : WallClockMicros();
  const int64_t window_us = options.timestamp_window_s * 1'000'000;
  if (*at < now - window_us || *at > now + window_us) {
    return SnapAnswer(request, 401, "00", "Unauthorized. [Timestamp outside the window]");
  }
  Result<bool> verified = SnapRsaVerify(options.bank_public_key_pem,
                                        SnapAccessTokenStringToSign(client, timestamp),
                                        request["X-SIGNATURE"]);
  if (!verified.ok() || !*verified) return SnapAnswer(request, 401, "00", "Unauthorized. [Signature]");
  const std::string token =
      options.issued_tokens->Issue(now, now + options.token_lifetime_s * 1'000'000);
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = JsonWriter()
                        .BeginObject()
                        .Field("responseCode", "2007300")
                        .Field("responseMessage", "Successful")
                        .Field("accessToken", token)
                        .Field("tokenType", "Bearer")
                        .Field("expiresIn", std::to_string(options.token_lifetime_s))
                        .EndObject()
                        .Take();
  response.prepare_payload();
  return response;
}

}  // namespace

std::string BankAccessTokens::Issue(int64_t now_us, int64_t expires_us) {
  unsigned char raw[24];
  MALPRO_ASSERT(RAND_bytes(raw, sizeof raw) == 1);
  const std::string token = BytesToHex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(expiry_, [now_us](const auto& entry) { return entry.second <= now_us; });
  while (expiry_.size() >= bank_issued_tokens_max) {
    auto oldest = std::min_element(expiry_.begin(), expiry_.end(), [](const auto& a, const auto& b) {
      return a.second < b.second;
    });
    expiry_.erase(oldest);
  }
  expiry_[token] = expires_us;
  return token;
}

bool BankAccessTokens::Valid(std::string_view token, int64_t now_us) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = expiry_.find(std::string(token));
  return found != expiry_.end() && found->second > now_us;
}

std::optional<HttpResponse> HandleBankRequest(const HttpRequest& request, Ledger& ledger,
                                              const BankNotifyOptions& options) {
  if (request.target() == snap_bank_access_token_path && options.authentication == "hmac") {
    if (request.method() != http::verb::post) return SnapAnswer(request, 405, "00", "Method Not Allowed");
    return IssueToken(request, options);
  }
  const bool qris = request.target() == snap_qris_notify_path;
  if (!qris && request.target() != snap_va_payment_path) return std::nullopt;
  if (request.method() != http::verb::post) return SnapAnswer(request, 405, "00", "Method Not Allowed");
  int64_t timestamp_us = 0;
  if (std::optional<HttpResponse> refusal = Authenticate(request, options, &timestamp_us)) {
    return refusal;
  }
  Result<Notification> notification = qris ? ReadNotification(request) : ReadVaPayment(request);
  if (!notification.ok()) return SnapAnswer(request, 400, "02", notification.status().message());
  CommandContext context;
  context.actor = "bank:" + options.partner_id;
  // The external id may be used once a day: it is the command's idempotency key.
  context.idempotency_key = "snap-" + options.partner_id + "-" +
                            std::string(request["X-TIMESTAMP"].substr(0, 10)) + "-" +
                            std::string(request["X-EXTERNAL-ID"]);
  context.request_digest = Sha256(request.body());
  Result<CommandResult> result =
      notification->status == "00"
          ? RecordSuccess(ledger, *notification, timestamp_us, context)
          : ledger.RecordPaymentFailed(notification->payment_id,
                                       notification->description.empty()
                                           ? "bank status " + notification->status
                                           : notification->description,
                                       context);
  if (!result.ok()) return AnswerLedgerRefusal(request, result.status());
  return SnapAnswer(request, 200, "00", "Successful");
}

}  // namespace malpro
