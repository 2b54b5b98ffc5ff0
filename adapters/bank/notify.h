// The endpoints Bank Jatim calls (SNAP BI): QRIS payment notifications and virtual account
// payment flags. Each is verified before
// anything is appended: the partner id, the timestamp window, the bank's signature
// (SHA256withRSA over METHOD:path:hex(sha256(minified body)):X-TIMESTAMP with the bank's
// public key), and the external id, which may be used once per day (it becomes the
// command's idempotency key, so a repeat with the same body is acknowledged and appends
// nothing; reused for another body it is 409). A refused notification (e.g. another amount)
// does not use up its external id: it is kept for the operator as
// payment.notification_refused. Answers carry SNAP response codes: HTTP status + service code
// + case code (2005200 success, 4005201/4005202 field format/missing, 4015200 unauthorized,
// 4045201 transaction not found, 4045213 invalid amount, 4095200 external id reused).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "adapters/http/api.h"
#include "engine/ledger.h"

namespace malpro {

inline constexpr char snap_qris_notify_path[] = "/v1.0/qr/qr-mpm-notify";
inline constexpr char snap_qris_service_code[] = "52";
// Virtual account payment flag: the bank tells us a VA was paid.
inline constexpr char snap_va_payment_path[] = "/v1.0/transfer-va/payment";
inline constexpr char snap_va_service_code[] = "25";
// SNAP allows X-EXTERNAL-ID up to 36 characters; it becomes part of an idempotency key.
inline constexpr size_t snap_external_id_chars_max = 36;

struct BankNotifyOptions {
  std::string partner_id;           // the X-PARTNER-ID the bank must send
  std::string bank_public_key_pem;  // verifies X-SIGNATURE
  int64_t timestamp_window_s = 300; // how far X-TIMESTAMP may be from now, either way
  std::function<int64_t()> clock;   // UTC microseconds; the system clock when empty
};

// Answers the request when it is one of the bank's endpoints; std::nullopt otherwise.
std::optional<HttpResponse> HandleBankRequest(const HttpRequest& request, Ledger& ledger,
                                              const BankNotifyOptions& options);

}  // namespace malpro
