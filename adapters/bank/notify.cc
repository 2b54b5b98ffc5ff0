#include "adapters/bank/notify.h"

#include "adapters/bank/payment_channel.h"
#include "adapters/bank/snap_signature.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/json.h"

namespace malpro {
namespace {

int64_t Now(const BankNotifyOptions& options) {
  return options.clock ? options.clock() : WallClockMicros();
}

// What we require of the bank's requests: its partner id and key, or with hmac its HMAC
// signature and a token we issued.
SnapVerifyOptions VerifyOptions(const BankNotifyOptions& options, SnapRequestKind kind,
                                int64_t now_us) {
  SnapVerifyOptions verify;
  verify.kind = kind;
  verify.partner_id = options.partner_id;
  verify.timestamp_window_s = options.timestamp_window_s;
  verify.now_us = now_us;
  verify.public_key_pem = options.bank_public_key_pem;
  verify.public_key_next_pem = options.bank_public_key_next_pem;
  if (options.authentication == "hmac" && kind == SnapRequestKind::kTransaction) {
    verify.algorithm = SnapSignatureAlgorithm::kHmacSha512;
    verify.client_secret = options.client_secret;
    verify.bearer_token_required = true;
    verify.token_valid = [tokens = options.issued_tokens, now_us](std::string_view token) {
      return tokens->Valid(token, now_us);
    };
  }
  return verify;
}

HttpResponse AnswerLedgerRefusal(const HttpRequest& request, std::string_view service,
                                 const Status& status) {
  const std::string& code = status.error_code();
  const auto answer = [&](SnapCase kind, std::string_view message) {
    return SnapAnswer(request, kind, service, message);
  };
  if (code == errc::kPaymentAlreadySucceeded) return answer(snap_successful, "Successful");
  if (code == errc::kPaymentNotFound) {
    return answer(snap_transaction_not_found, "Transaction Not Found");
  }
  if (code == errc::kAmountMismatch) return answer(snap_invalid_amount, "Invalid Amount");
  if (code == errc::kBankReferenceMismatch || code == errc::kNotificationChannelMismatch) {
    return answer(snap_inconsistent_request, "Inconsistent Request");
  }
  if (code == errc::kPaidTimeOutOfWindow) {
    return answer(snap_invalid_field_format, "Invalid Field Format paidTime");
  }
  if (code == errc::kIdempotencyKeyReused) {
    return answer(snap_conflict, snap_external_id_reused_message);
  }
  if (status.code() == StatusCode::kConflict) {
    return answer(snap_duplicate_request, status.message());
  }
  // A field over its limit (text_too_long, id_too_long) is the bank's bad input too, not ours.
  if (status.code() == StatusCode::kInvalidArgument ||
      status.code() == StatusCode::kLimitExceeded) {
    return answer(snap_invalid_field_format, status.message());
  }
  return answer(snap_general_error, "General Error");
}

// Records a success (or, for a voided request or a cancelled order, the refund due). A word
// that does not match the request is refused and kept for the operator (under its own
// idempotency key, so the same notice twice is recorded once).
Result<CommandResult> RecordSuccess(Ledger& ledger, const BankNotification& notification,
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

}  // namespace

std::vector<std::string> BankRoutePaths(const BankNotifyOptions& options) {
  std::vector<std::string> paths;
  for (const PaymentChannel* channel : PaymentChannels()) {
    paths.emplace_back(channel->notify_path());
  }
  if (options.authentication == "hmac") paths.emplace_back(snap_access_token_path);
  return paths;
}

std::optional<HttpResponse> HandleBankRequest(const HttpRequest& request, Ledger& ledger,
                                              const BankNotifyOptions& options) {
  const std::string_view target = request.target();
  // Our token endpoint for the bank exists with hmac notification authentication only.
  const bool token_request = target == snap_access_token_path && options.authentication == "hmac";
  const PaymentChannel* channel = ChannelNotifiedAt(target);
  if (!token_request && channel == nullptr) return std::nullopt;
  const std::string_view service = SnapServiceCode(target);
  if (request.method() != http::verb::post) {
    return SnapAnswer(request, snap_method_not_allowed, service, "Method Not Allowed");
  }
  const int64_t now = Now(options);
  if (token_request) {
    return AnswerSnapAccessTokenRequest(request,
                                        VerifyOptions(options, SnapRequestKind::kAccessToken, now),
                                        *options.issued_tokens, options.token_lifetime_s);
  }
  const SnapVerdict verdict =
      VerifySnapRequest(request, VerifyOptions(options, SnapRequestKind::kTransaction, now));
  if (!verdict.ok()) return SnapAnswer(request, *verdict.refusal, service);
  Result<BankNotification> notification = channel->ReadNotification(request.body());
  if (!notification.ok()) {
    return SnapAnswer(request, snap_invalid_mandatory_field, service,
                      notification.status().message());
  }
  CommandContext context;
  context.actor = "bank:" + options.partner_id;
  // The external id may be used once a day: it is the command's idempotency key.
  context.idempotency_key = "snap-" + options.partner_id + "-" +
                            SnapExternalIdDay(verdict.timestamp_us) + "-" +
                            std::string(request[snap_header_external_id]);
  context.request_digest = Sha256(request.body());
  Result<CommandResult> result =
      notification->status == "00"
          ? RecordSuccess(ledger, *notification, verdict.timestamp_us, context)
          : ledger.RecordPaymentFailed(notification->payment_id,
                                       notification->description.empty()
                                           ? "bank status " + notification->status
                                           : notification->description,
                                       context);
  if (!result.ok()) return AnswerLedgerRefusal(request, service, result.status());
  return SnapAnswer(request, snap_successful, service, "Successful");
}

}  // namespace malpro
