// The simulator's control side (/sim/*): an operator or a test plays the payer, and the
// simulated bank sends its signed notifications to the partner (SignSnapRequest,
// snap_protocol.h); also its end-of-day statement.
#include <algorithm>

#include "adapters/bank/http_client.h"
#include "adapters/bank/simulator_impl.h"
#include "adapters/bank/snap_signature.h"
#include "adapters/files/statement_writer.h"
#include "adapters/http/request_body.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

// A late payment (BankSimulator::PayLate) is dated this long before the void that it beat.
constexpr int64_t kLatePaymentLeadUs = micros_per_second;

HttpResponse JsonAnswer(const HttpRequest& request, int status, std::string body) {
  HttpResponse response{static_cast<http::status>(status), request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse ControlError(const HttpRequest& request, const Status& status) {
  JsonWriter w;
  w.BeginObject()
      .Key("error")
      .BeginObject()
      .Field("code", status.error_code())
      .Field("message", status.message());
  if (!status.field().empty()) w.Field("field", status.field());
  return JsonAnswer(request, ErrorStatus(status), w.EndObject().EndObject().Take());
}

// A boolean field of a control body; false when absent. `json` was parsed before.
Result<bool> OptionalBool(const std::string& json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::element value;
  if (root[key].get(value) != simdjson::SUCCESS || value.is_null()) return false;
  bool flag = false;
  if (value.get(flag) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kBodyFieldWrongType, key,
                                   std::string(key) + " must be true or false");
  }
  return flag;
}

}  // namespace

std::string BankSimulator::Impl::NoticeBody(const Issued& issued, Money amount) const {
  JsonWriter w;
  w.BeginObject();
  if (issued.channel == payment_channel_qris) {
    const std::string status = issued.state == "paid" ? "00" : "06";
    w.Field("originalReferenceNo", issued.reference_no)
        .Field("originalPartnerReferenceNo", issued.payment_id)
        .Field("latestTransactionStatus", status)
        .Field("transactionStatusDesc", issued.state == "paid" ? "success" : "failed at the bank")
        .Key("amount")
        .Raw(SnapAmountJson(amount));
    if (issued.state == "paid") {
      w.Key("additionalInfo")
          .BeginObject()
          .Field("paidTime", SnapTimestamp(issued.paid_at_us))
          .EndObject();
    }
  } else {
    w.Field("partnerServiceId", issued.partner_service_id)
        .Field("customerNo", issued.customer_no)
        .Field("virtualAccountNo", issued.virtual_account)
        .Field("trxId", issued.payment_id)
        .Field("paymentRequestId", issued.reference_no)
        .Key("paidAmount")
        .Raw(SnapAmountJson(amount))
        .Field("trxDateTime", SnapTimestamp(issued.paid_at_us));
  }
  return w.EndObject().Take();
}

Result<std::string> BankSimulator::Impl::PartnerToken() {
  std::lock_guard<std::mutex> lock(partner_mutex_);
  if (!partner_token_.empty() && Now() < partner_token_expires_us_) return partner_token_;
  Result<HttpEndpoint> endpoint = ParseHttpUrl(options_.callback_base_url, "callback_base_url");
  if (!endpoint.ok()) return endpoint.status();
  Result<std::map<std::string, std::string>> headers = SignSnapAccessTokenRequest(
      options_.notify_partner_id, SnapTimestamp(Now()), options_.bank_private_key_pem);
  if (!headers.ok()) return headers.status();
  Result<HttpReply> reply = SendHttp(*endpoint, "POST", snap_access_token_path, *headers,
                                     snap_access_token_body, options_.callback_timeout_ms);
  if (!reply.ok()) return reply.status();
  Result<SnapAccessToken> token = ReadSnapAccessTokenAnswer(*reply, "partner access token");
  if (!token.ok()) return token.status();
  partner_token_ = token->token;
  partner_token_expires_us_ =
      Now() + (token->expires_in_s - snap_token_renew_margin_s) * micros_per_second;
  return partner_token_;
}

Result<NotifyOutcome> BankSimulator::Impl::Send(const std::string& path, const std::string& body,
                                                const std::string& external_id,
                                                bool break_signature) {
  NotifyOutcome outcome;
  if (options_.callback_base_url.empty()) return outcome;
  Result<HttpEndpoint> endpoint = ParseHttpUrl(options_.callback_base_url, "callback_base_url");
  if (!endpoint.ok()) return endpoint.status();
  const bool hmac = options_.notify_authentication == "hmac";
  std::string token;
  if (hmac) {
    Result<std::string> issued = PartnerToken();
    if (!issued.ok()) return issued.status();
    token = *issued;
  }
  SnapSigner signer;
  signer.algorithm =
      hmac ? SnapSignatureAlgorithm::kHmacSha512 : SnapSignatureAlgorithm::kRsaSha256;
  signer.key = hmac ? options_.notify_client_secret : options_.bank_private_key_pem;
  signer.partner_id = options_.notify_partner_id;
  signer.channel_id = options_.channel_id;
  Result<std::map<std::string, std::string>> headers =
      SignSnapRequest(signer, path, body, token, SnapTimestamp(Now()), external_id);
  if (!headers.ok()) return headers.status();
  if (break_signature) {
    // A broken signature: the right length and alphabet, the wrong bytes.
    std::string& signature = (*headers)[snap_header_signature];
    signature[signature.size() / 2] = signature[signature.size() / 2] == 'A' ? 'B' : 'A';
  }
  Result<HttpReply> reply =
      SendHttp(*endpoint, "POST", path, *headers, body, options_.callback_timeout_ms);
  if (!reply.ok()) return reply.status();
  outcome.sent = true;
  outcome.status = reply->status;
  outcome.body = reply->body;
  return outcome;
}

Status BankSimulator::Impl::CheckSettleable(const Issued& issued, std::string_view action,
                                            bool late) {
  const bool voided = issued.state == "cancelled";
  if (late && !voided) {
    return Status::Conflict(errc::kPaymentNotVoided, "late",
                            "late pays a request voided at the bank (qr-mpm-cancel, delete-va); "
                            "this one is " +
                                issued.state);
  }
  if (issued.state != "pending" && !late) {
    return Status::Conflict(
        errc::kPaymentNotPending, "reference",
        "the payment is " + issued.state +
            (voided ? " (voided at the bank); \"late\":true pays it anyway, as a payer who paid "
                      "just before the void arrived"
                    : ""));
  }
  if (action == "fail" && issued.channel == payment_channel_va) {
    return Status::Conflict(errc::kVaCannotFail, "reference",
                            "a virtual account has no failed notification; it just stays unpaid");
  }
  return Status::Ok();
}

Result<NotifyOutcome> BankSimulator::Impl::Act(std::string_view action, std::string_view reference,
                                               std::string_view mode, bool late) {
  std::string path, body, external_id;
  bool break_signature = false;
  if (late && action != "pay" && action != "delay") {
    return Status::InvalidArgument(errc::kLateNotApplicable, "late",
                                   "late applies to /sim/pay and /sim/delay only");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Issued* issued = FindShown(reference);
    if (issued == nullptr) {
      return Status::NotFound(errc::kReferenceUnknown, "reference",
                              "no payment with reference " + std::string(reference));
    }
    path = issued->channel == payment_channel_qris ? snap_qris_notify_path : snap_va_payment_path;
    if (action == "pay" || action == "delay" || action == "fail") {
      MALPRO_RETURN_IF_ERROR(CheckSettleable(*issued, action, late));
      issued->state = action == "fail" ? "failed" : "paid";
      // A late payment beat the void: dated just before it, never before the request.
      issued->paid_at_us =
          late ? std::max(issued->issued_at_us, issued->voided_at_us - kLatePaymentLeadUs) : Now();
      issued->paid_after_void = late;
      if (action == "delay") return NotifyOutcome{};  // only a query tells
      body = NoticeBody(*issued, issued->amount);
      external_id = std::to_string(Now()) + std::to_string(next_external_id_++);
      issued->last_external_id = external_id;
      issued->last_body = body;
      issued->last_path = path;
    } else if (action == "duplicate") {
      if (issued->last_body.empty()) {
        return Status::Conflict(errc::kNothingToRepeat, "reference",
                                "no notification was sent for it yet");
      }
      body = issued->last_body;
      external_id = issued->last_external_id;
    } else if (action == "corrupt") {
      if (mode != "signature" && mode != "amount") {
        return Status::InvalidArgument(errc::kModeInvalid, "mode",
                                       "mode must be signature or amount");
      }
      Issued copy = *issued;
      if (copy.state == "pending") {
        copy.state = "paid";
        copy.paid_at_us = Now();
      }
      body =
          NoticeBody(copy, mode == "amount" ? copy.amount + Money::FromRupiah(1'000) : copy.amount);
      external_id = std::to_string(Now()) + std::to_string(next_external_id_++);
      break_signature = mode == "signature";
    } else {
      return Status::NotFound(errc::kRouteNotFound, "path", "no such control operation");
    }
  }
  return Send(path, body, external_id, break_signature);
}

std::vector<SimulatedStatementEntry> BankSimulator::Impl::Statement(std::string_view date) const {
  std::vector<SimulatedStatementEntry> entries;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Issued& issued : issued_) {
    if (issued.state != "paid") continue;
    const std::string booked = FormatIsoDate(JakartaDate(issued.paid_at_us));
    if (booked != date) continue;
    // A statement writes a virtual account number without SNAP's space padding.
    const std::string bank_reference(issued.channel == payment_channel_va
                                         ? ShownBankReference(issued.virtual_account)
                                         : issued.reference_no);
    entries.push_back({booked, issued.payment_id, bank_reference, issued.amount, "C",
                       issued.channel + " " + issued.payment_id + " " + bank_reference,
                       issued.paid_at_us});
  }
  return entries;
}

HttpResponse BankSimulator::Impl::Control(const HttpRequest& request) {
  const std::string_view target = request.target();
  if (request.method() == http::verb::get && target.starts_with("/sim/statement")) {
    return StatementRoute(request);
  }
  if (request.method() == http::verb::get && target == "/sim/payments") {
    return PaymentsRoute(request);
  }
  if (request.method() != http::verb::post) {
    return ControlError(request,
                        Status::NotFound(errc::kRouteNotFound, "path", "no such control route"));
  }
  RequestBody body(request.body());
  body.AllowOnly({"reference", "mode", "late"});
  const std::string reference = body.String("reference");
  const std::string mode = body.OptionalString("mode");
  if (!body.status().ok()) return ControlError(request, body.status());
  Result<bool> late = OptionalBool(request.body(), "late");
  if (!late.ok()) return ControlError(request, late.status());
  Result<NotifyOutcome> outcome = Act(target.substr(5), reference, mode, *late);
  if (!outcome.ok()) return ControlError(request, outcome.status());
  JsonWriter w;
  w.BeginObject().Field("reference", reference).Field("notified", outcome->sent);
  if (outcome->sent) {
    w.Field("partner_status", static_cast<int64_t>(outcome->status));
    w.Key("partner_answer").Raw(outcome->body.empty() ? "null" : outcome->body);
  }
  return JsonAnswer(request, 200, w.EndObject().Take());
}

HttpResponse BankSimulator::Impl::StatementRoute(const HttpRequest& request) {
  const std::string_view target = request.target();
  std::string date;
  std::string format = "json";
  const size_t query = target.find('?');
  for (size_t at = query; at != std::string_view::npos && at + 1 < target.size();) {
    const size_t next = target.find('&', at + 1);
    const std::string_view pair = target.substr(
        at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    if (pair.starts_with("date=")) date = std::string(pair.substr(5));
    if (pair.starts_with("format=")) format = std::string(pair.substr(7));
    at = next;
  }
  Result<CivilDate> day = ParseIsoDate(date, "date");
  if (!day.ok() || date.size() != 10) {
    return ControlError(
        request, Status::InvalidArgument(errc::kQueryInvalid, "date", "date must be YYYY-MM-DD"));
  }
  if (std::find(std::begin(simulated_statement_formats), std::end(simulated_statement_formats),
                format) == std::end(simulated_statement_formats)) {
    return ControlError(request, Status::InvalidArgument(
                                     errc::kQueryInvalid, "format",
                                     "format must be json, csv, camt053 or mt940 (the last three "
                                     "are what malpro reconcile reads)"));
  }
  if (format != "json") {
    Result<std::string> text = WriteStatement(
        SimulatedStatement(*day, options_.collection_account, Statement(date)), format, Now());
    if (!text.ok()) return ControlError(request, text.status());
    HttpResponse response{http::status::ok, request.version()};
    response.set(http::field::content_type, format == "csv"       ? "text/csv"
                                            : format == "camt053" ? "application/xml"
                                                                  : "text/plain");
    response.keep_alive(request.keep_alive());
    response.body() = std::move(text).value();
    response.prepare_payload();
    return response;
  }
  JsonWriter w;
  w.BeginObject().Field("date", date).Field("simulated", true).Key("entries").BeginArray();
  for (const SimulatedStatementEntry& entry : Statement(date)) {
    w.BeginObject()
        .Field("date", entry.date)
        .Field("reference", entry.reference)
        .Field("bank_reference", entry.bank_reference)
        .Field("amount", FormatSnap(entry.amount))
        .Field("currency", "IDR")
        .Field("credit_debit", entry.credit_debit)
        .Field("description", entry.description)
        .Field("booked_at", SnapTimestamp(entry.booked_at_us))
        .EndObject();
  }
  return JsonAnswer(request, 200, w.EndArray().EndObject().Take());
}

HttpResponse BankSimulator::Impl::PaymentsRoute(const HttpRequest& request) {
  JsonWriter w;
  w.BeginObject().Field("simulated", true).Key("payments").BeginArray();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Issued& issued : issued_) {
    w.BeginObject()
        .Field("payment_id", issued.payment_id)
        .Field("channel", issued.channel)
        .Field("reference_no", issued.reference_no)
        .Field("virtual_account_no", ShownBankReference(issued.virtual_account))
        .Field("amount", FormatSnap(issued.amount))
        .Field("state", issued.state)
        .Field("voided", issued.voided_at_us != 0)
        .Field("paid_after_void", issued.paid_after_void)
        .EndObject();
  }
  return JsonAnswer(request, 200, w.EndArray().EndObject().Take());
}

malpro::Statement SimulatedStatement(CivilDate date, std::string_view account,
                                     const std::vector<SimulatedStatementEntry>& entries) {
  malpro::Statement statement;
  statement.id = "BJTM-" + FormatIsoDate(date);
  statement.id.erase(std::remove(statement.id.begin() + 5, statement.id.end(), '-'),
                     statement.id.end());
  statement.account = std::string(account);
  statement.from = statement.to = date;
  for (const SimulatedStatementEntry& entry : entries) {
    StatementEntry written;
    written.position = statement.entries.size() + 1;
    written.credit = entry.credit_debit == "C";
    written.amount = entry.amount;
    written.booking_date = date;
    written.booked_at_us = entry.booked_at_us;
    written.references = {entry.reference, entry.bank_reference};
    written.description = entry.description;
    statement.entries.push_back(std::move(written));
  }
  return statement;
}

}  // namespace malpro
