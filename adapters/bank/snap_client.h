// SnapClient: our side of Bank Jatim's SNAP BI API, for asking the bank for payments.
//
//   POST /v1.0/access-token/b2b      X-CLIENT-KEY, X-TIMESTAMP, X-SIGNATURE = base64(
//                                    SHA256withRSA(our private key, clientId|X-TIMESTAMP));
//                                    the token is kept until shortly before it expires.
//   POST /v1.0/qr/qr-mpm-generate    a dynamic QRIS for one payment (service code 47)
//   POST /v1.0/qr/qr-mpm-query       the status of a QRIS payment (service code 51)
//   POST /v1.0/transfer-va/create-va a virtual account for one payment (service code 27)
//   POST /v1.0/transfer-va/status    the status of a virtual account payment (service code 26)
//   POST /v1.0/qr/qr-mpm-cancel      voids a QRIS payment that was not paid (service code 77)
//   POST /v1.0/transfer-va/delete-va voids a virtual account that was not paid (service code 31)
// (paths, service codes, headers and signing: snap_protocol.h)
//
// Transactions carry Authorization: Bearer token, X-TIMESTAMP, X-SIGNATURE = base64(
// HMAC-SHA512(clientSecret, METHOD:path:token:hex(sha256(minified body)):X-TIMESTAMP)),
// X-PARTNER-ID, X-EXTERNAL-ID (unique per day) and CHANNEL-ID. Amounts are
// {"value":"10000.00","currency":"IDR"}.
//
// A call that cannot reach the bank, times out, or gets a 5xx is tried again, up to
// attempts_max times with the same X-EXTERNAL-ID (so the bank can tell a retry from a new
// request); a 401 drops the cached token and is tried once more with a new one. Other
// refusals are returned at once. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "adapters/bank/http_client.h"
#include "adapters/bank/snap_protocol.h"
#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

// The `reason` of a QRIS cancel, for the bank's records.
inline constexpr char snap_void_reason[] = "order cancelled in Malpro";
// Tries of one call at most, whatever the configuration says: a stuck bank must not hold an
// API worker for long.
inline constexpr int snap_attempts_limit = 5;

struct SnapClientOptions {
  std::string base_url;         // e.g. "http://127.0.0.1:9090" or "https://..."; required
  std::string ca_file;          // https: PEM of the CAs to trust; empty: the system's
  std::string client_id;        // X-CLIENT-KEY of the token request and X-PARTNER-ID after
  std::string client_secret;    // HMAC-SHA512 key of transaction signatures
  std::string private_key_pem;  // signs the token request (SHA256withRSA)
  std::string channel_id = "95221";
  std::string partner_service_id = "   12345";  // VA: the bank's 8-character prefix
  int request_timeout_ms = 5000;                // per attempt
  int attempts_max = 3;                         // 1 to snap_attempts_limit
  int retry_backoff_ms = 200;      // before the second attempt; doubled for each one after
  std::function<int64_t()> clock;  // UTC microseconds; the system clock when empty
};

struct QrisIssued {
  std::string reference_no;  // the bank's reference of the payment
  std::string qr_content;    // the EMVCo payload to show as a QR code
};

struct VirtualAccountIssued {
  std::string virtual_account_no;  // partnerServiceId + customerNo, what the payer enters
  std::string reference_no;
};

// What the bank says about one payment (qr-mpm-query, transfer-va/status).
struct BankPaymentStatus {
  // SNAP latestTransactionStatus: 00 success, 01 initiated, 02 paying, 03 pending,
  // 04 refunded, 05 cancelled, 06 failed, 07 not found.
  std::string latest_status;
  std::string description;
  std::string reference_no;
  Money amount;
  std::string paid_time;  // X-TIMESTAMP form; empty unless paid
};

class SnapClient {
 public:
  // InvalidArgument naming the option when one is missing or malformed.
  static Result<std::unique_ptr<SnapClient>> Create(SnapClientOptions options);

  // The B2B access token, from the cache while it is valid.
  Result<std::string> AccessToken();

  Result<QrisIssued> GenerateQris(std::string_view payment_id, Money amount,
                                  std::string_view merchant_id, int64_t valid_until_us);
  Result<BankPaymentStatus> QueryQris(std::string_view payment_id, std::string_view reference_no,
                                      std::string_view merchant_id);
  // `customer_no` is the part after the partner service id (e.g. the order's serial digits).
  Result<VirtualAccountIssued> CreateVirtualAccount(std::string_view payment_id, Money amount,
                                                    std::string_view customer_no,
                                                    std::string_view customer_name,
                                                    int64_t valid_until_us);
  Result<BankPaymentStatus> QueryVirtualAccount(std::string_view payment_id,
                                                std::string_view virtual_account_no);

  // Voids a payment request at the bank, so that it can no longer be paid: a QRIS by its
  // payment id, the bank's reference (QrisIssued::reference_no) and merchant id; a virtual
  // account by its payment id and number. Ok when the bank says the request is void (a void
  // of a void request, or of a failed one, is Ok too: nothing can be paid either way).
  // Errors:
  //   Conflict "bank_already_paid": the payer paid first (the bank answered "Paid Bill",
  //   case 14); the money moved and the payment's notification is or will be on its way;
  //   NotFound "bank_payment_not_found": the bank knows no such request (case 01 or 12);
  //   the transport errors of every call (bank_unreachable, bank_timeout, bank_server_error
  //   after the retries) and bank_refused / bank_answer_invalid for other answers: the
  //   request may still be payable, so try again later.
  Status CancelQris(std::string_view payment_id, std::string_view reference_no,
                    std::string_view merchant_id);
  Status DeleteVirtualAccount(std::string_view payment_id, std::string_view virtual_account_no);

  // A fresh X-EXTERNAL-ID: digits only, unique within the day for this process.
  std::string NextExternalId();

  const SnapClientOptions& options() const { return options_; }

 private:
  explicit SnapClient(SnapClientOptions options, HttpEndpoint endpoint);
  int64_t Now() const;
  // One transaction call with retries; the parsed answer is returned as its raw body. When
  // the bank refused it, `*refusal_code` (if given) receives the refusal's responseCode.
  Result<std::string> Transact(std::string_view path, std::string_view service_code,
                               const std::string& body, std::string* refusal_code = nullptr);
  // A void (QRIS cancel, VA delete): Transact, then the refusals a caller must tell apart.
  Status Void(std::string_view path, std::string_view service_code, const std::string& body,
              std::string_view payment_id);
  Result<std::string> RequestToken();

  SnapClientOptions options_;
  HttpEndpoint endpoint_;
  std::mutex mutex_;  // guards the cached token and the external id counter
  std::string token_;
  int64_t token_expires_us_ = 0;
  uint64_t external_id_counter_ = 0;
};

}  // namespace malpro
