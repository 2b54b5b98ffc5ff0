// The simulated bank's side of SNAP: what the partner (Malpro's SnapClient) calls. Each
// request is verified by VerifySnapRequest (snap_protocol.h) as the bank would, then answered
// from the payments the simulator issued.
#include <cctype>

#include "adapters/bank/qris.h"
#include "adapters/bank/simulator_impl.h"
#include "adapters/bank/snap_signature.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/json.h"
#include "engine/payment_channel.h"

namespace malpro {

BankSimulator::Impl::Service BankSimulator::Impl::ServiceOf(std::string_view target) {
  if (target == snap_qris_generate_path) return &Impl::GenerateQris;
  if (target == snap_qris_query_path) return &Impl::QueryQris;
  if (target == snap_qris_cancel_path) return &Impl::CancelQris;
  if (target == snap_va_create_path) return &Impl::CreateVa;
  if (target == snap_va_status_path) return &Impl::VaStatus;
  if (target == snap_va_delete_path) return &Impl::DeleteVa;
  return nullptr;
}

HttpResponse BankSimulator::Impl::BankSide(const HttpRequest& request) {
  const std::string_view target = request.target();
  const bool token_request = target == snap_access_token_path;
  const Service service = ServiceOf(target);
  if (!token_request && service == nullptr) {
    return SnapAnswer(request, snap_path_not_found, snap_no_service_code, "Not Found");
  }
  if (request.method() != http::verb::post) {
    return SnapAnswer(request, snap_method_not_allowed, SnapServiceCode(target),
                      "Method Not Allowed");
  }
  if (token_request) {
    return AnswerSnapAccessTokenRequest(request,
                                        VerifyOptions(SnapRequestKind::kAccessToken, Now()),
                                        tokens_, options_.token_lifetime_s);
  }
  return Transaction(request, service);
}

SnapVerifyOptions BankSimulator::Impl::VerifyOptions(SnapRequestKind kind, int64_t now_us) const {
  SnapVerifyOptions verify;
  verify.kind = kind;
  verify.partner_id = options_.client_id;
  verify.timestamp_window_s = options_.timestamp_window_s;
  verify.now_us = now_us;
  verify.public_key_pem = options_.client_public_key_pem;  // token requests
  if (kind == SnapRequestKind::kTransaction) {
    verify.algorithm = SnapSignatureAlgorithm::kHmacSha512;
    verify.client_secret = options_.client_secret;
    verify.bearer_token_required = true;
    verify.token_valid = [this, now_us](std::string_view token) {
      return tokens_.Valid(token, now_us);
    };
  }
  return verify;
}

HttpResponse BankSimulator::Impl::Transaction(const HttpRequest& request, Service service) {
  const std::string_view code = SnapServiceCode(request.target());
  const SnapVerdict verdict =
      VerifySnapRequest(request, VerifyOptions(SnapRequestKind::kTransaction, Now()));
  if (!verdict.ok()) return SnapAnswer(request, *verdict.refusal, code);
  const std::string external_key =
      SnapExternalIdDay(verdict.timestamp_us) + "|" + std::string(request[snap_header_external_id]);
  const std::string digest =
      HashToHex(Sha256(std::string(request.target()) + "\n" + request.body()));
  if (std::optional<HttpResponse> replayed = Replay(request, external_key, digest)) {
    return *replayed;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element body;
  if (parser.parse(request.body()).get(body) != simdjson::SUCCESS || !body.is_object()) {
    return SnapAnswer(request, snap_invalid_field_format, code, "Invalid Field Format body");
  }
  HttpResponse answer = (this->*service)(request, body);
  if (answer.result_int() < 500) Remember(external_key, digest, answer);
  return answer;
}

std::optional<HttpResponse> BankSimulator::Impl::Replay(const HttpRequest& request,
                                                        const std::string& key,
                                                        const std::string& digest) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto seen = external_ids_.find(key);
  if (seen == external_ids_.end()) return std::nullopt;
  if (seen->second.first != digest) {
    return SnapAnswer(request, snap_conflict, SnapServiceCode(request.target()),
                      snap_external_id_reused_message);
  }
  HttpResponse again = seen->second.second;
  again.keep_alive(request.keep_alive());
  return again;
}

void BankSimulator::Impl::Remember(const std::string& key, const std::string& digest,
                                   const HttpResponse& answer) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (external_ids_.size() >= bank_simulator_external_ids_max) {
    // Ids are unique per day only: those of other days need not be remembered.
    const std::string day = key.substr(0, key.find('|') + 1);
    std::erase_if(external_ids_, [&](const auto& entry) { return !entry.first.starts_with(day); });
  }
  if (external_ids_.size() < bank_simulator_external_ids_max) {
    external_ids_.emplace(key, std::make_pair(digest, answer));
  }
}

namespace {

// Digits derived from `text`, for the merchant PAN and NMID of a generated QRIS.
std::string DigitsOf(std::string_view text, size_t count) {
  const Hash digest = Sha256(text);
  std::string digits;
  for (size_t i = 0; digits.size() < count; ++i) digits.push_back('0' + digest[i % 32] % 10);
  return digits;
}

// A required string of a request body, or the SNAP refusal naming it.
std::optional<std::string> Required(simdjson::dom::element body, std::string_view key) {
  std::string_view value;
  if (body[key].get(value) != simdjson::SUCCESS || value.empty()) return std::nullopt;
  return std::string(value);
}

// The SNAP refusal of a virtual account request (create-va, delete-va) that lacks one of the
// fields naming the account; nullopt when it has them all.
std::optional<HttpResponse> RefuseMissingVaField(const HttpRequest& request,
                                                 simdjson::dom::element body,
                                                 std::string_view service) {
  for (const char* key : {"partnerServiceId", "customerNo", "virtualAccountNo", "trxId"}) {
    if (!Required(body, key)) {
      return SnapAnswer(request, snap_invalid_mandatory_field, service,
                        "Invalid Mandatory Field " + std::string(key));
    }
  }
  return std::nullopt;
}

// SNAP latestTransactionStatus / paymentFlagStatus of a state.
std::string_view LatestStatus(std::string_view state) {
  if (state == "paid") return "00";
  if (state == "cancelled") return "05";
  if (state == "failed") return "06";
  return "03";  // pending
}

Result<Money> RequestAmount(simdjson::dom::element body, std::string_view key) {
  std::string_view value, currency;
  if (body[key]["value"].get(value) != simdjson::SUCCESS ||
      body[key]["currency"].get(currency) != simdjson::SUCCESS || currency != "IDR") {
    return Status::InvalidArgument(errc::kAmountInvalid, key, std::string(key));
  }
  Result<Money> amount = ParseSnapAmount(value, key);
  if (amount.ok() && *amount <= Money()) {
    return Status::InvalidArgument(errc::kAmountInvalid, key, std::string(key));
  }
  return amount;
}

}  // namespace

HttpResponse BankSimulator::Impl::GenerateQris(const HttpRequest& request,
                                               simdjson::dom::element body) {
  constexpr std::string_view service = snap_qris_generate_service_code;
  std::optional<std::string> payment_id = Required(body, "partnerReferenceNo");
  std::optional<std::string> merchant_id = Required(body, "merchantId");
  if (!payment_id)
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      "Invalid Mandatory Field partnerReferenceNo");
  if (!merchant_id)
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      "Invalid Mandatory Field merchantId");
  Result<Money> amount = RequestAmount(body, "amount");
  if (!amount.ok())
    return SnapAnswer(request, snap_invalid_field_format, service, "Invalid Field Format amount");
  std::lock_guard<std::mutex> lock(mutex_);
  if (issued_.size() >= bank_simulator_payments_max) {
    return SnapAnswer(request, snap_service_unavailable, service,
                      "Service Unavailable. [Simulator full]");
  }
  Result<uint64_t> number = NextReference();
  if (!number.ok()) {
    return SnapAnswer(request, snap_service_unavailable, service,
                      "Service Unavailable. [References: " + number.status().message() + "]");
  }
  Issued issued;
  issued.channel = payment_channel_qris;
  issued.payment_id = *payment_id;
  issued.issued_at_us = Now();
  issued.reference_no = ReferenceOf("BJQR", *number);
  issued.merchant_id = *merchant_id;
  issued.amount = *amount;
  QrisMerchant merchant;
  merchant.merchant_pan = "936001140" + DigitsOf(*merchant_id, 10);
  merchant.merchant_id = merchant_id->substr(0, 15);
  merchant.nmid = "ID10" + DigitsOf("nmid" + *merchant_id, 11);
  std::string name = merchant_id->substr(0, qris_merchant_name_chars_max);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  merchant.name = name;
  Result<std::string> content = BuildQrisPayload(merchant, *amount, issued.reference_no);
  if (!content.ok())
    return SnapAnswer(request, snap_invalid_field_format, service,
                      "Invalid Field Format " + content.status().message());
  index_[issued.payment_id] = index_[issued.reference_no] = issued_.size();
  issued_.push_back(issued);
  return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
    w.Field("referenceNo", issued.reference_no)
        .Field("partnerReferenceNo", issued.payment_id)
        .Field("qrContent", *content)
        .Field("merchantName", merchant.name);
  });
}

HttpResponse BankSimulator::Impl::QueryQris(const HttpRequest& request,
                                            simdjson::dom::element body) {
  constexpr std::string_view service = snap_qris_query_service_code;
  std::optional<std::string> reference = Required(body, "originalReferenceNo");
  std::optional<std::string> payment_id = Required(body, "originalPartnerReferenceNo");
  if (!reference && !payment_id) {
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      "Invalid Mandatory Field originalReferenceNo");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const Issued* issued = Find(reference ? *reference : *payment_id);
  if (issued == nullptr || issued->channel != payment_channel_qris) {
    return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
      w.Field("latestTransactionStatus", "07").Field("transactionStatusDesc", "Not Found");
    });
  }
  const std::string_view status = LatestStatus(issued->state);
  return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
    w.Field("originalReferenceNo", issued->reference_no)
        .Field("originalPartnerReferenceNo", issued->payment_id)
        .Field("serviceCode", snap_qris_generate_service_code)
        .Field("latestTransactionStatus", status)
        .Field("transactionStatusDesc", issued->state);
    if (issued->state == "paid") w.Field("paidTime", SnapTimestamp(issued->paid_at_us));
    w.Key("amount").Raw(SnapAmountJson(issued->amount));
  });
}

JsonWriter& BankSimulator::Impl::BeginVaData(JsonWriter& w, const Issued& issued) {
  return w.Key("virtualAccountData")
      .BeginObject()
      .Field("partnerServiceId", issued.partner_service_id)
      .Field("customerNo", issued.customer_no)
      .Field("virtualAccountNo", issued.virtual_account);
}

HttpResponse BankSimulator::Impl::CreateVa(const HttpRequest& request,
                                           simdjson::dom::element body) {
  constexpr std::string_view service = snap_va_create_service_code;
  if (std::optional<HttpResponse> refused = RefuseMissingVaField(request, body, service)) {
    return *std::move(refused);
  }
  Result<Money> amount = RequestAmount(body, "totalAmount");
  if (!amount.ok())
    return SnapAnswer(request, snap_invalid_field_format, service,
                      "Invalid Field Format totalAmount");
  Issued issued;
  issued.channel = payment_channel_va;
  issued.partner_service_id = *Required(body, "partnerServiceId");
  issued.customer_no = *Required(body, "customerNo");
  issued.virtual_account = *Required(body, "virtualAccountNo");
  issued.payment_id = *Required(body, "trxId");
  issued.amount = *amount;
  if (issued.virtual_account != issued.partner_service_id + issued.customer_no ||
      issued.partner_service_id.size() != 8) {
    return SnapAnswer(request, snap_invalid_field_format, service,
                      "Invalid Field Format virtualAccountNo (partnerServiceId of 8 + customerNo)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (issued_.size() >= bank_simulator_payments_max) {
    return SnapAnswer(request, snap_service_unavailable, service,
                      "Service Unavailable. [Simulator full]");
  }
  const Issued* existing = Find(issued.virtual_account);
  if (existing != nullptr && existing->state == "pending") {
    return SnapAnswer(request, snap_conflict, service, "Conflict. [Virtual account in use]");
  }
  Result<uint64_t> number = NextReference();
  if (!number.ok()) {
    return SnapAnswer(request, snap_service_unavailable, service,
                      "Service Unavailable. [References: " + number.status().message() + "]");
  }
  issued.issued_at_us = Now();
  issued.reference_no = ReferenceOf("BJVA", *number);
  index_[issued.payment_id] = index_[issued.reference_no] = index_[issued.virtual_account] =
      issued_.size();
  issued_.push_back(issued);
  return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
    BeginVaData(w, issued)
        .Field("trxId", issued.payment_id)
        .Field("referenceNo", issued.reference_no)
        .Key("totalAmount")
        .Raw(SnapAmountJson(issued.amount))
        .EndObject();
  });
}

HttpResponse BankSimulator::Impl::VaStatus(const HttpRequest& request,
                                           simdjson::dom::element body) {
  constexpr std::string_view service = snap_va_status_service_code;
  std::optional<std::string> number = Required(body, "virtualAccountNo");
  if (!number)
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      "Invalid Mandatory Field virtualAccountNo");
  std::lock_guard<std::mutex> lock(mutex_);
  const Issued* issued = Find(*number);
  if (issued == nullptr || issued->channel != payment_channel_va) {
    return SnapAnswer(request, snap_bill_not_found, service,
                      "Invalid Bill/Virtual Account [Not Found]");
  }
  const std::string_view status = LatestStatus(issued->state);
  return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
    BeginVaData(w, *issued)
        .Field("inquiryRequestId", issued->payment_id)
        .Field("paymentRequestId", issued->reference_no)
        .Field("paymentFlagStatus", status)
        .Key("paymentFlagReason")
        .BeginObject()
        .Field("english", issued->state)
        .Field("indonesia", issued->state)
        .EndObject();
    if (issued->state == "paid") w.Field("trxDateTime", SnapTimestamp(issued->paid_at_us));
    w.Key("paidAmount").Raw(SnapAmountJson(issued->amount)).EndObject();
  });
}

int64_t BankSimulator::Impl::Void(Issued& issued) {
  // A failed request stays failed: it cannot be paid either way.
  if (issued.state == "pending") {
    issued.state = "cancelled";
    issued.voided_at_us = Now();
  }
  return issued.voided_at_us != 0 ? issued.voided_at_us : Now();
}

HttpResponse BankSimulator::Impl::CancelQris(const HttpRequest& request,
                                             simdjson::dom::element body) {
  constexpr std::string_view service = snap_qris_cancel_service_code;
  std::optional<std::string> reference = Required(body, "originalReferenceNo");
  if (!reference) {
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      "Invalid Mandatory Field originalReferenceNo");
  }
  if (!Required(body, "reason"))
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      "Invalid Mandatory Field reason");
  // Optional in SNAP; when given they must name the same payment.
  std::optional<std::string> payment_id = Required(body, "originalPartnerReferenceNo");
  std::optional<std::string> merchant_id = Required(body, "merchantId");
  std::lock_guard<std::mutex> lock(mutex_);
  Issued* issued = Find(*reference);
  if (issued == nullptr || issued->channel != payment_channel_qris ||
      issued->reference_no != *reference || (payment_id && *payment_id != issued->payment_id) ||
      (merchant_id && *merchant_id != issued->merchant_id)) {
    return SnapAnswer(request, snap_transaction_not_found, service, "Transaction Not Found");
  }
  if (issued->state == "paid") {
    return SnapAnswer(request, snap_paid_bill, service, "Paid Bill. [Transaction already paid]");
  }
  const int64_t cancelled_at = Void(*issued);
  return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
    w.Field("originalReferenceNo", issued->reference_no)
        .Field("originalPartnerReferenceNo", issued->payment_id)
        .Field("cancelTime", SnapTimestamp(cancelled_at))
        .Field("transactionDate", SnapTimestamp(issued->issued_at_us));
  });
}

HttpResponse BankSimulator::Impl::DeleteVa(const HttpRequest& request,
                                           simdjson::dom::element body) {
  constexpr std::string_view service = snap_va_delete_service_code;
  if (std::optional<HttpResponse> refused = RefuseMissingVaField(request, body, service)) {
    return *std::move(refused);
  }
  const std::string number = *Required(body, "virtualAccountNo");
  if (number != *Required(body, "partnerServiceId") + *Required(body, "customerNo")) {
    return SnapAnswer(request, snap_invalid_field_format, service,
                      "Invalid Field Format virtualAccountNo (partnerServiceId + customerNo)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Issued* issued = Find(number);
  if (issued == nullptr || issued->channel != payment_channel_va ||
      issued->virtual_account != number || issued->payment_id != *Required(body, "trxId")) {
    return SnapAnswer(request, snap_bill_not_found, service,
                      "Invalid Bill/Virtual Account [Not Found]");
  }
  if (issued->state == "paid") {
    return SnapAnswer(request, snap_paid_bill, service,
                      "Paid Bill. [Virtual account already paid]");
  }
  Void(*issued);
  return SnapAnswer(request, snap_successful, service, "Successful", [&](JsonWriter& w) {
    BeginVaData(w, *issued).Field("trxId", issued->payment_id).EndObject();
  });
}

}  // namespace malpro
