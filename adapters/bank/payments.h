// BankPayments: the cashless payment lifecycle against the bank.
//
// Request: a cashless order gets a QRIS (qr-mpm-generate) or a virtual account (create-va)
// from the bank, then payment.requested with the bank's reference (the QRIS referenceNo or
// the virtual account number). The bank is asked only when the ledger would accept the
// request, so a refused request costs no bank call; a request the bank refuses writes
// nothing.
//
// Poller: a payment still pending poll_after_s after its request is asked about (qr-mpm-query
// or transfer-va/status) once per pass. A success the notification never delivered is
// recorded from the answer, a failure likewise; a payment the bank reports unpaid after
// expire_after_s (the validity given to the bank) is expired. Only a succeeded payment counts.
// Pending payments are found by following the log from its start, so a restart loses none.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/bank/snap_client.h"
#include "adapters/http/api.h"
#include "engine/event_log.h"
#include "engine/ledger.h"

namespace malpro {

// Payments asked about in one pass at most: a pass must end well within its interval even
// when the bank is slow (attempts x timeout each).
inline constexpr size_t bank_poll_payments_per_pass_max = 200;
// Events read from the log in one pass at most, so a long backlog is caught up over passes.
inline constexpr uint64_t bank_poll_events_per_pass_max = 200'000;
// Pending payments looked up in the ledger for /metrics' oldest pending payment, oldest first:
// those the log resolved since the poller's last pass are skipped (a pass's worth at most).
inline constexpr size_t bank_oldest_pending_checks_max = 64;

struct BankPaymentOptions {
  int64_t poll_after_s = 120;      // a payment pending this long is asked about
  int64_t poll_interval_s = 30;    // between passes of the poller
  int64_t expire_after_s = 1800;   // validity given to the bank; unpaid after it: expired
  std::function<int64_t()> clock;  // UTC microseconds; the ledger's clock when empty
};

// What a payment request produced; what the payer needs to pay.
struct PaymentRequested {
  CommandResult result;
  std::string payment_id;
  std::string channel;  // QRIS or VA
  std::string bank_reference;
  std::string qr_content;          // QRIS: the EMVCo payload to show as a QR code
  std::string virtual_account_no;  // VA: the number to pay into
  Money amount;
  int64_t expires_at_us = 0;
};

// {"payment_id","channel","amount","bank_reference","qr_content"|"virtual_account_no",
// "expires_at"}: what the API answers with. A virtual account number (also as bank_reference)
// is shown without SNAP's space padding (ShownBankReference, engine/payment_channel.h).
std::string PaymentRequestedJson(const PaymentRequested& requested);

struct PollReport {
  int voided = 0;  // requests voided at the bank after their order was cancelled
  int asked = 0;
  int succeeded = 0;
  int failed = 0;
  int expired = 0;
  int errors = 0;  // the bank could not be asked, or the ledger refused; tried next pass
};

class BankPayments {
 public:
  // `ledger`, `log` and `client` must outlive this object.
  BankPayments(Ledger* ledger, const EventLog* log, SnapClient* client, BankPaymentOptions options);
  ~BankPayments();

  // Asks the bank for a payment of the order by `channel` (QRIS or VA) and records it.
  // Refusals: the ledger's (order_not_cashless, payment_pending, ...) before any bank call;
  // Unavailable (bank_*) when the bank cannot be asked or refuses. A retry under the same
  // idempotency key gets the original result (replayed) without asking the bank again.
  Result<PaymentRequested> Request(std::string_view order_id, std::string_view channel,
                                   const CommandContext& context);

  // The QR content or VA number of a pending payment requested by this process, if any.
  std::optional<PaymentRequested> Issued(std::string_view payment_id) const;

  // One pass of the poller: voids at the bank the requests voided in the ledger, then asks
  // about pending payments. Thread-compatible with Request.
  Result<PollReport> PollOnce();

  // Voids at the bank the request that payment.voided voided in the ledger (QRIS cancel,
  // VA deletion), now. When the bank answers that the payer already paid, asks for the
  // payment and records it (it becomes payment.refund_due). A void the bank could not be
  // reached for is tried again on the poller's next passes, while the request is still within
  // the validity given to the bank (expire_after_s); an older one cannot be paid any more.
  Status VoidAtBank(const std::string& payment_id);

  // The sums of every pass's report since start, and the payments now pending.
  PollReport Totals() const;
  size_t PendingCount() const;
  // Seconds since the oldest payment still pending (requested; not succeeded, failed, expired
  // or voided) was requested; 0 when none is. The candidates are those the poller last saw
  // pending, each confirmed in the ledger, so one resolved since is not counted; one requested
  // since is younger than the poller's interval. After bank_oldest_pending_checks_max resolved
  // candidates, the next is taken unconfirmed.
  double OldestPendingAgeSeconds() const;

  // Runs PollOnce every poll_interval_s on a thread of its own until Stop. Idempotent.
  void Start();
  void Stop();

 private:
  struct Pending {
    std::string channel;
    std::string bank_reference;
    int64_t requested_at_us = 0;
  };
  // Asks the bank about `payment_id` and records a success it reports (as refund_due for a
  // voided request).
  Status RecordPaidAfterVoid(const std::string& payment_id, const Pending& voided);
  // VoidAtBank without following the log; the caller holds poll_mutex_.
  Status VoidOne(const std::string& payment_id);
  int64_t Now() const;
  // The original result when `context`'s idempotency key already requested this payment.
  std::optional<PaymentRequested> Replay(std::string_view order_id, std::string_view channel,
                                         const CommandContext& context);
  Status FollowLog();
  // Asks the bank about one payment and records what it says; true when the payment is no
  // longer pending.
  Result<bool> Settle(const std::string& payment_id, const Pending& pending, PollReport* report);

  Ledger* ledger_;
  const EventLog* log_;
  SnapClient* client_;
  BankPaymentOptions options_;

  mutable std::mutex mutex_;  // guards the maps below
  std::map<std::string, Pending> pending_;
  std::map<std::string, Pending> voids_;  // voided in the ledger, not yet at the bank
  std::map<std::string, PaymentRequested> issued_;
  uint64_t followed_sequence_ = 0;
  PollReport totals_;

  std::mutex poll_mutex_;  // one pass at a time
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread poller_;
};

// Routes POST/GET /v1/orders/{order_id}/payment of the API to `payments` (which must outlive
// the Api built from `dependencies`).
void ConnectPayments(BankPayments* payments, ApiDependencies* dependencies);

}  // namespace malpro
