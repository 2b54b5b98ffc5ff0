// The endpoints Bank Jatim calls (SNAP BI): QRIS payment notifications and virtual account
// payment flags. Each is verified before anything is appended, by VerifySnapRequest
// (snap_protocol.h lists the checks, in order, and their answers): the headers, the partner
// id, the timestamp window, the bank's signature (SHA256withRSA over
// METHOD:path:hex(sha256(minified body)):X-TIMESTAMP with the bank's public key), and the
// external id, which may be used once per day (it becomes the command's idempotency key, so a
// repeat with the same body is acknowledged and appends nothing; reused for another body it is
// 409). A refused notification (e.g. another amount) does not use up its external id: it is
// kept for the operator as payment.notification_refused. Answers carry SNAP response codes:
// HTTP status + service code + case code (2005200 success, 4005201/4005202 field
// format/missing, 4015200 unauthorized, 4045201 transaction not found, 4045213 invalid amount,
// 4095200 external id reused).
//
// Authentication of notifications is selectable: "rsa" (the bank signs with its key, as
// above) or "hmac": the bank first takes a token from our POST /v1.0/access-token/b2b
// (SHA256withRSA over clientId|X-TIMESTAMP with its key, X-CLIENT-KEY = partner id), then
// signs each notification like a SNAP transaction: base64(HMAC-SHA512(client secret,
// METHOD:path:token:hex(sha256(minified body)):X-TIMESTAMP)) with Authorization: Bearer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/bank/snap_protocol.h"
#include "adapters/http/api.h"
#include "engine/ledger.h"

namespace malpro {

// The names tests/fuzz/snap_notify_fuzz.cc knows these by; snap_protocol.h has the rest.
inline constexpr const char* snap_bank_access_token_path = snap_access_token_path;
inline constexpr const char* snap_qris_service_code = snap_qris_notify_service_code;
inline constexpr const char* snap_va_service_code = snap_va_payment_service_code;

struct BankNotifyOptions {
  std::string partner_id;           // the X-PARTNER-ID the bank must send
  std::string bank_public_key_pem;  // verifies X-SIGNATURE (rsa) and the token request (hmac)
  // During a rotation of the bank's key: its next key, accepted besides the current one
  // (bank.bank_public_key_next_file); empty otherwise.
  std::string bank_public_key_next_pem;
  int64_t timestamp_window_s = 300;    // how far X-TIMESTAMP may be from now, either way
  std::string authentication = "rsa";  // of notifications: "rsa" or "hmac"
  std::string client_secret;           // hmac: the HMAC-SHA512 key shared with the bank
  int64_t token_lifetime_s = 900;      // hmac: how long a token we issue is valid
  // hmac: the tokens issued; copies of the options share them.
  std::shared_ptr<SnapIssuedTokens> issued_tokens = std::make_shared<SnapIssuedTokens>();
  std::function<int64_t()> clock;  // UTC microseconds; the system clock when empty
};

// Answers the request when it is one of the bank's endpoints; std::nullopt otherwise.
std::optional<HttpResponse> HandleBankRequest(const HttpRequest& request, Ledger& ledger,
                                              const BankNotifyOptions& options);

// The paths HandleBankRequest answers with `options` (each channel's notification path, and
// the token endpoint with hmac authentication): ApiDependencies::external_route_paths.
std::vector<std::string> BankRoutePaths(const BankNotifyOptions& options);

}  // namespace malpro
