// BankSimulator: a stand-in for Bank Jatim's SNAP BI API, for tests, trials and the demo.
// It is NOT the bank: no money moves, and what it issued lives in memory and is gone when it
// stops. Only its reference numbering is kept (in state_dir), so that a bank reference is
// never handed out twice, across restarts too. docs/bank-simulator.md describes it for
// operators.
//
// Bank side (what our SnapClient calls), each request verified as the bank would:
//   POST /v1.0/access-token/b2b      SHA256withRSA over clientId|X-TIMESTAMP with the
//                                    partner's public key; issues a bearer token
//   POST /v1.0/qr/qr-mpm-generate    a dynamic QRIS (EMVCo, via BuildQrisPayload)
//   POST /v1.0/qr/qr-mpm-query       latestTransactionStatus of one QRIS payment
//   POST /v1.0/qr/qr-mpm-cancel      voids an unpaid QRIS (404 77 14 "Paid Bill" once paid)
//   POST /v1.0/transfer-va/create-va a closed virtual account for one payment
//   POST /v1.0/transfer-va/status    paymentFlagStatus of one virtual account
//   POST /v1.0/transfer-va/delete-va voids an unpaid virtual account (404 31 14 once paid)
// Requests are checked by VerifySnapRequest (snap_protocol.h), the rule Malpro's notify
// endpoint checks the bank by: the headers, their formats, the partner id, X-TIMESTAMP within
// the window, the bearer token it issued and the HMAC-SHA512 signature, in that order. A
// repeated external id of the day with the same body gets the first answer again (a client's
// retry), with another body 409. The implementation: simulator_impl.h.
//
// Control side (what an operator or a test calls), JSON {"reference": payment id, bank
// reference or virtual account number}:
//   POST /sim/pay        pays it and sends the signed notification to the callback URL;
//                        with "late":true it pays a VOIDED request (cancelled QRIS, deleted
//                        account) anyway: the payer who paid just before the void arrived
//   POST /sim/fail       fails it and notifies (status 06)
//   POST /sim/delay      pays it but withholds the notification: only a query tells ("late"
//                        as for /sim/pay)
//   POST /sim/duplicate  sends its last notification again (same X-EXTERNAL-ID and body)
//   POST /sim/corrupt    {"reference","mode":"signature"|"amount"}: a notification with a
//                        broken signature, or signed properly for another amount
//   GET  /sim/payments   everything issued, with its state
//   GET  /sim/statement?date=YYYY-MM-DD[&format=json|csv|camt053|mt940]  the end-of-day
//                        statement (Asia/Jakarta): its JSON, or a file `malpro reconcile` reads
//
// References: "BJQR" (QRIS) or "BJVA" (virtual account) and 12 digits, one counter for both.
// With a state_dir, numbers are reserved bank_simulator_reference_block at a time in
// state_dir/references ("next_reference N\n": no number from N on was ever handed out),
// written crash-safely (temp file, fsync, rename, fsync of the directory) BEFORE any of them
// is handed out; a restart continues from N, so the rest of a block is skipped, never reused.
// Simulators that share a state_dir take their blocks under an flock of
// state_dir/references.lock, so they never hand out the same number either.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/bank/qris.h"
#include "adapters/files/statement.h"
#include "adapters/http/http_handler.h"
#include "adapters/http/server.h"
#include "engine/money.h"

namespace malpro {

class Witness;

// The largest request body it reads (the SNAP bodies and /sim/* are a few hundred bytes);
// the server answers more with 413.
inline constexpr size_t bank_simulator_body_bytes_max = 64 * 1024;
// Payments the simulator remembers at most; it refuses to issue more (a trial, not a bank).
inline constexpr size_t bank_simulator_payments_max = 1'000'000;
// X-EXTERNAL-IDs remembered at most; those of earlier days are dropped first.
inline constexpr size_t bank_simulator_external_ids_max = 1'000'000;
// Reference numbers reserved per write of the state file: one synced write per block, not per
// payment; a restart skips what is left of the block.
inline constexpr uint64_t bank_simulator_reference_block = 1'000;
// References carry 12 digits after their prefix (BJQR..., BJVA...); past this the simulator
// issues nothing more rather than wrap around to a number it handed out before.
inline constexpr uint64_t bank_simulator_reference_max = 999'999'999'999;
static_assert(bank_simulator_reference_block < bank_simulator_reference_max);

struct BankSimulatorOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;                          // 0: any free port
  std::string client_id = "MALPRO";           // the partner it serves (X-CLIENT-KEY, X-PARTNER-ID)
  std::string client_secret;                  // verifies the partner's HMAC signatures
  std::string client_public_key_pem;          // verifies the partner's token requests
  std::string bank_private_key_pem;           // signs notifications (rsa), and token requests
                                              // to the partner (hmac)
  std::string notify_partner_id = "BJTM";     // X-PARTNER-ID of its notifications
  std::string notify_authentication = "rsa";  // "rsa" or "hmac", as the partner expects
  std::string notify_client_secret;           // hmac: the HMAC key of notifications
  std::string callback_base_url;              // the partner, e.g. http://127.0.0.1:8080
  std::string channel_id = "95221";
  std::string collection_account = "0011000000";  // the account its statements are of
  int64_t token_lifetime_s = 900;
  int64_t timestamp_window_s = 300;
  int callback_timeout_ms = 5000;
  std::function<int64_t()> clock;  // UTC microseconds; the system clock when empty
  // Where the reference numbering is kept across restarts (created when missing; relative to
  // the working directory). Empty: numbering only in memory, from first_reference, for a
  // simulator whose references are remembered elsewhere (the demo's: in its log).
  std::string state_dir = "bank-sim-state";
  uint64_t first_reference = 1;  // the lowest number it hands out (1 to reference_max)
  // When set (it must outlive the simulator), the bank also acts as a witness of the city's
  // log: POST /witness/add-checkpoint (C2SP tlog-witness), GET /witness its key.
  Witness* witness = nullptr;
};

// The number of a simulator reference ("BJQR000000000042" -> 42), or nullopt when `reference`
// is not "BJQR" or "BJVA" and 12 digits.
std::optional<uint64_t> SimulatedReferenceNumber(std::string_view reference);

// One line of the bank's end-of-day statement.
struct SimulatedStatementEntry {
  std::string date;            // booking date, YYYY-MM-DD, Asia/Jakarta
  std::string reference;       // the partner's payment id
  std::string bank_reference;  // the bank's reference (QRIS referenceNo, or the VA number
                               // without SNAP's space padding, as statements write it)
  Money amount;
  std::string credit_debit;  // "C" credit (money in) or "D" debit
  std::string description;
  int64_t booked_at_us = 0;
};

// The statement formats GET /sim/statement gives: its own JSON, and the three that
// `malpro reconcile` reads (adapters/files/statement.h).
inline constexpr std::string_view simulated_statement_formats[] = {"json", "csv", "camt053",
                                                                   "mt940"};

// The day's entries as the bank's statement of `account`: id BJTM-YYYYMMDD, the period that
// day, each entry a credit whose references are the partner's payment id, then the bank's
// reference. WriteStatement (adapters/files/statement_writer.h) writes it as camt.053, MT940
// or CSV.
Statement SimulatedStatement(CivilDate date, std::string_view account,
                             const std::vector<SimulatedStatementEntry>& entries);

// What the partner answered to a notification the simulator sent.
struct NotifyOutcome {
  bool sent = false;  // false: withheld (delay) or no callback configured
  int status = 0;     // the partner's HTTP status
  std::string body;   // the partner's answer
};

class BankSimulator {
 public:
  explicit BankSimulator(BankSimulatorOptions options);
  ~BankSimulator();
  BankSimulator(const BankSimulator&) = delete;
  BankSimulator& operator=(const BankSimulator&) = delete;

  // Serves over HTTP on listen_address:port. IOError when it cannot bind, or when state_dir
  // cannot be created or locked; Corruption when state_dir/references is malformed (it is
  // never guessed at: a wrong guess would hand out references again).
  Status Start();
  void Stop();
  uint16_t port() const;
  std::string base_url() const;

  // Answers one request (bank or control side); usable without sockets.
  HttpResponse Handle(const HttpRequest& request);

  // The control operations, as over /sim/*. NotFound for an unknown reference; Conflict
  // when the payment is not in a state that allows it (a voided one: "payment_not_pending").
  Result<NotifyOutcome> Pay(std::string_view reference, bool notify = true);
  // Pays a payment request that was voided at the bank (qr-mpm-cancel, delete-va) anyway, as
  // a payer who paid just before the void arrived: paid one second before the void (not
  // before the request), then notified as any success (unless !notify). Conflict
  // "payment_not_voided" for a request that is not void.
  Result<NotifyOutcome> PayLate(std::string_view reference, bool notify = true);
  Result<NotifyOutcome> Fail(std::string_view reference);
  Result<NotifyOutcome> Duplicate(std::string_view reference);
  Result<NotifyOutcome> Corrupt(std::string_view reference, std::string_view mode);
  std::vector<SimulatedStatementEntry> Statement(std::string_view date) const;

  // Points notifications at another partner URL (e.g. once its port is known).
  void SetCallbackBaseUrl(std::string url);

 private:
  struct Issued;
  struct Notice;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace malpro
