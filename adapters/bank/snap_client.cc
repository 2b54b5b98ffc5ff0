#include "adapters/bank/snap_client.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "adapters/bank/snap_signature.h"
#include "engine/civil_time.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

// A string field of an answer; InvalidArgument naming it when it is missing.
Result<std::string> AnswerString(simdjson::dom::element root, std::string_view key,
                                 std::string_view where) {
  std::string_view value;
  if (root[key].get(value) != simdjson::SUCCESS) {
    return Status::Unavailable(
        errc::kBankAnswerInvalid,
        std::string(where) + ": the answer has no string " + std::string(key));
  }
  return std::string(value);
}

// The responseCode of an answer, or "" when it has none.
std::string ResponseCode(const HttpReply& reply) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view code;
  if (parser.parse(reply.body).get(root) != simdjson::SUCCESS ||
      root["responseCode"].get(code) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(code);
}

bool Retryable(const Status& status) {
  return status.error_code() == errc::kBankUnreachable ||
         status.error_code() == errc::kBankTimeout || status.error_code() == errc::kBankServerError;
}

// QRIS answers carry latestTransactionStatus; virtual accounts paymentFlagStatus (same codes).
Result<BankPaymentStatus> ReadStatus(simdjson::dom::element root, std::string_view where,
                                     std::string_view status_key, std::string_view amount_key) {
  BankPaymentStatus status;
  Result<std::string> latest = AnswerString(root, status_key, where);
  if (!latest.ok()) return latest.status();
  status.latest_status = *latest;
  std::string_view text;
  if (root["transactionStatusDesc"].get(text) == simdjson::SUCCESS) status.description = text;
  if (root["originalReferenceNo"].get(text) == simdjson::SUCCESS) status.reference_no = text;
  if (root["paymentRequestId"].get(text) == simdjson::SUCCESS) status.reference_no = text;
  if (root["paymentFlagReason"]["english"].get(text) == simdjson::SUCCESS)
    status.description = text;
  if (root["paidTime"].get(text) == simdjson::SUCCESS) status.paid_time = text;
  if (root["trxDateTime"].get(text) == simdjson::SUCCESS) status.paid_time = text;
  std::string_view value;
  if (root[amount_key]["value"].get(value) == simdjson::SUCCESS) {
    Result<Money> amount = ParseSnapAmount(value, std::string(amount_key) + ".value");
    if (!amount.ok()) {
      return Status::Unavailable(errc::kBankAnswerInvalid,
                                 std::string(where) + ": " + amount.status().message());
    }
    status.amount = *amount;
  }
  return status;
}

}  // namespace

SnapClient::SnapClient(SnapClientOptions options, HttpEndpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

Result<std::unique_ptr<SnapClient>> SnapClient::Create(SnapClientOptions options) {
  Result<HttpEndpoint> endpoint = ParseHttpUrl(options.base_url, "bank.base_url");
  if (!endpoint.ok()) return endpoint.status();
  endpoint->ca_file = options.ca_file;
  if (options.client_id.empty()) {
    return Status::InvalidArgument(errc::kOptionMissing, "bank.client_id",
                                   "bank.client_id is required");
  }
  if (options.client_secret.empty()) {
    return Status::InvalidArgument(errc::kOptionMissing, "bank.client_secret",
                                   "bank.client_secret is required");
  }
  if (!SnapRsaSign(options.private_key_pem, "probe").ok()) {
    return Status::InvalidArgument(errc::kKeyInvalid, "bank.private_key_file",
                                   "bank.private_key_file must name a PEM RSA private key");
  }
  if (options.attempts_max < 1 || options.attempts_max > snap_attempts_limit) {
    return Status::InvalidArgument(
        errc::kOptionOutOfRange, "bank.attempts_max",
        "bank.attempts_max must be 1 to " + std::to_string(snap_attempts_limit));
  }
  return std::unique_ptr<SnapClient>(
      new SnapClient(std::move(options), std::move(endpoint).value()));
}

int64_t SnapClient::Now() const { return options_.clock ? options_.clock() : WallClockMicros(); }

std::string SnapClient::NextExternalId() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Microseconds since the epoch (16 digits) and a counter: unique for the day even when the
  // clock stands still, as the simulated clock of the demo may.
  return std::to_string(Now()) + std::to_string(++external_id_counter_ % 1'000'000'000);
}

Result<std::string> SnapClient::RequestToken() {
  const std::string where = std::string("POST ") + snap_access_token_path;
  Result<std::map<std::string, std::string>> headers = SignSnapAccessTokenRequest(
      options_.client_id, SnapTimestamp(Now()), options_.private_key_pem);
  if (!headers.ok()) return headers.status();
  Status last;
  int backoff_ms = options_.retry_backoff_ms;
  for (int attempt = 1; attempt <= options_.attempts_max; ++attempt) {
    Result<HttpReply> reply = SendHttp(endpoint_, "POST", snap_access_token_path, *headers,
                                       snap_access_token_body, options_.request_timeout_ms);
    Result<SnapAccessToken> token = reply.ok() ? ReadSnapAccessTokenAnswer(*reply, where)
                                               : Result<SnapAccessToken>(reply.status());
    if (token.ok()) {
      token_ = token->token;
      token_expires_us_ = Now() + (token->expires_in_s - snap_token_renew_margin_s) * 1'000'000;
      return token_;
    }
    last = token.status();
    if (!Retryable(last) || attempt == options_.attempts_max) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms *= 2;
  }
  return last;
}

Result<std::string> SnapClient::AccessToken() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!token_.empty() && Now() < token_expires_us_) return token_;
  token_.clear();
  return RequestToken();
}

Result<std::string> SnapClient::Transact(std::string_view path, std::string_view service_code,
                                         const std::string& body, std::string* refusal_code) {
  const std::string where = "POST " + std::string(path);
  const std::string external_id = NextExternalId();
  SnapSigner signer;
  signer.algorithm = SnapSignatureAlgorithm::kHmacSha512;
  signer.key = options_.client_secret;
  signer.partner_id = options_.client_id;
  signer.channel_id = options_.channel_id;
  Status last;
  int backoff_ms = options_.retry_backoff_ms;
  bool token_renewed = false;
  for (int attempt = 1; attempt <= options_.attempts_max; ++attempt) {
    Result<std::string> token = AccessToken();
    if (!token.ok()) return token.status();
    Result<std::map<std::string, std::string>> headers =
        SignSnapRequest(signer, path, body, *token, SnapTimestamp(Now()), external_id);
    if (!headers.ok()) return headers.status();
    Result<HttpReply> reply =
        SendHttp(endpoint_, "POST", path, *headers, body, options_.request_timeout_ms);
    last = reply.ok() ? CheckSnapAnswer(*reply, where, service_code) : reply.status();
    if (last.ok()) return std::move(reply->body);
    if (refusal_code != nullptr) {
      *refusal_code =
          reply.ok() && last.error_code() == errc::kBankRefused ? ResponseCode(*reply) : "";
    }
    if (reply.ok() && reply->status == 401 && !token_renewed) {
      // The bank may have forgotten the token (restart, revocation): one more try with a new one.
      token_renewed = true;
      std::lock_guard<std::mutex> lock(mutex_);
      token_.clear();
      --attempt;  // the renewal does not use up an attempt; it happens once at most
      continue;
    }
    if (!Retryable(last) || attempt == options_.attempts_max) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms *= 2;
  }
  return last;
}

Result<QrisIssued> SnapClient::GenerateQris(std::string_view payment_id, Money amount,
                                            std::string_view merchant_id, int64_t valid_until_us) {
  const std::string body = JsonWriter()
                               .BeginObject()
                               .Field("partnerReferenceNo", payment_id)
                               .Key("amount")
                               .Raw(SnapAmountJson(amount))
                               .Field("merchantId", merchant_id)
                               .Field("validityPeriod", SnapTimestamp(valid_until_us))
                               .EndObject()
                               .Take();
  Result<std::string> answer =
      Transact(snap_qris_generate_path, snap_qris_generate_service_code, body);
  if (!answer.ok()) return answer.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(*answer).value_unsafe();
  Result<std::string> reference = AnswerString(root, "referenceNo", snap_qris_generate_path);
  if (!reference.ok()) return reference.status();
  Result<std::string> content = AnswerString(root, "qrContent", snap_qris_generate_path);
  if (!content.ok()) return content.status();
  // It is shown to the payer and kept in payment.requested: an EMVCo payload is printable
  // ASCII of bounded length; anything else is the bank's fault, not the caller's.
  const bool printable =
      std::all_of(content->begin(), content->end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (content->empty() || content->size() > qr_content_chars_max || !printable) {
    return Status::Unavailable(errc::kBankAnswerInvalid,
                               std::string(snap_qris_generate_path) +
                                   ": qrContent is not a QRIS payload (printable ASCII, 1 to " +
                                   std::to_string(qr_content_chars_max) + " characters)");
  }
  return QrisIssued{*reference, *content};
}

Result<BankPaymentStatus> SnapClient::QueryQris(std::string_view payment_id,
                                                std::string_view reference_no,
                                                std::string_view merchant_id) {
  const std::string body = JsonWriter()
                               .BeginObject()
                               .Field("originalReferenceNo", reference_no)
                               .Field("originalPartnerReferenceNo", payment_id)
                               .Field("serviceCode", snap_qris_generate_service_code)
                               .Field("merchantId", merchant_id)
                               .EndObject()
                               .Take();
  Result<std::string> answer = Transact(snap_qris_query_path, snap_qris_query_service_code, body);
  if (!answer.ok()) return answer.status();
  simdjson::dom::parser parser;
  return ReadStatus(parser.parse(*answer).value_unsafe(), snap_qris_query_path,
                    "latestTransactionStatus", "amount");
}

Result<VirtualAccountIssued> SnapClient::CreateVirtualAccount(std::string_view payment_id,
                                                              Money amount,
                                                              std::string_view customer_no,
                                                              std::string_view customer_name,
                                                              int64_t valid_until_us) {
  const std::string body =
      JsonWriter()
          .BeginObject()
          .Field("partnerServiceId", options_.partner_service_id)
          .Field("customerNo", customer_no)
          .Field("virtualAccountNo", options_.partner_service_id + std::string(customer_no))
          .Field("virtualAccountName", customer_name)
          .Field("trxId", payment_id)
          .Key("totalAmount")
          .Raw(SnapAmountJson(amount))
          .Field("virtualAccountTrxType", "C")  // closed: this amount only
          .Field("expiredDate", SnapTimestamp(valid_until_us))
          .EndObject()
          .Take();
  Result<std::string> answer = Transact(snap_va_create_path, snap_va_create_service_code, body);
  if (!answer.ok()) return answer.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(*answer).value_unsafe();
  std::string_view number, reference;
  if (root["virtualAccountData"]["virtualAccountNo"].get(number) != simdjson::SUCCESS) {
    return Status::Unavailable(errc::kBankAnswerInvalid,
                               std::string(snap_va_create_path) +
                                   ": the answer has no virtualAccountData.virtualAccountNo");
  }
  if (root["virtualAccountData"]["referenceNo"].get(reference) != simdjson::SUCCESS) reference = "";
  return VirtualAccountIssued{std::string(number), std::string(reference)};
}

Result<BankPaymentStatus> SnapClient::QueryVirtualAccount(std::string_view payment_id,
                                                          std::string_view virtual_account_no) {
  const std::string body = JsonWriter()
                               .BeginObject()
                               .Field("partnerServiceId", options_.partner_service_id)
                               .Field("virtualAccountNo", virtual_account_no)
                               .Field("inquiryRequestId", payment_id)
                               .EndObject()
                               .Take();
  Result<std::string> answer = Transact(snap_va_status_path, snap_va_status_service_code, body);
  if (!answer.ok()) return answer.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(*answer).value_unsafe();
  simdjson::dom::element data;
  if (root["virtualAccountData"].get(data) != simdjson::SUCCESS) {
    return Status::Unavailable(
        errc::kBankAnswerInvalid,
        std::string(snap_va_status_path) + ": the answer has no virtualAccountData");
  }
  return ReadStatus(data, snap_va_status_path, "paymentFlagStatus", "paidAmount");
}

Status SnapClient::Void(std::string_view path, std::string_view service_code,
                        const std::string& body, std::string_view payment_id) {
  std::string refusal;
  Result<std::string> answer = Transact(path, service_code, body, &refusal);
  if (answer.ok()) return Status::Ok();
  if (refusal == SnapResponseCode(snap_paid_bill, service_code)) {
    return Status::Conflict(errc::kBankAlreadyPaid, "payment_id",
                            "POST " + std::string(path) + ": payment " + std::string(payment_id) +
                                " was paid before the bank received the void (" + refusal +
                                "); the money moved");
  }
  if (refusal == SnapResponseCode(snap_transaction_not_found, service_code) ||
      refusal == SnapResponseCode(snap_bill_not_found, service_code)) {
    return Status::NotFound(errc::kBankPaymentNotFound, "payment_id",
                            "POST " + std::string(path) + ": the bank knows no payment request " +
                                std::string(payment_id) + " (" + refusal + ")");
  }
  return answer.status();
}

Status SnapClient::CancelQris(std::string_view payment_id, std::string_view reference_no,
                              std::string_view merchant_id) {
  const std::string body = JsonWriter()
                               .BeginObject()
                               .Field("originalPartnerReferenceNo", payment_id)
                               .Field("originalReferenceNo", reference_no)
                               .Field("merchantId", merchant_id)
                               .Field("reason", snap_void_reason)
                               .EndObject()
                               .Take();
  return Void(snap_qris_cancel_path, snap_qris_cancel_service_code, body, payment_id);
}

Status SnapClient::DeleteVirtualAccount(std::string_view payment_id,
                                        std::string_view virtual_account_no) {
  // The number is partnerServiceId + customerNo (CreateVirtualAccount joins them); the bank
  // wants both halves again.
  const std::string& prefix = options_.partner_service_id;
  if (!virtual_account_no.starts_with(prefix) || virtual_account_no.size() == prefix.size()) {
    return Status::InvalidArgument(errc::kVirtualAccountInvalid, "virtual_account_no",
                                   "virtual_account_no must be bank.partner_service_id \"" +
                                       prefix + "\" followed by the customer number");
  }
  const std::string body = JsonWriter()
                               .BeginObject()
                               .Field("partnerServiceId", prefix)
                               .Field("customerNo", virtual_account_no.substr(prefix.size()))
                               .Field("virtualAccountNo", virtual_account_no)
                               .Field("trxId", payment_id)
                               .EndObject()
                               .Take();
  return Void(snap_va_delete_path, snap_va_delete_service_code, body, payment_id);
}

}  // namespace malpro
