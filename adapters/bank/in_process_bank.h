// InProcessBank: the bank simulator wired to a ledger over real sockets on 127.0.0.1, for
// `malpro demo`, so that seeded cashless payments take the same path as real ones: payment
// request through SnapClient to the simulator (token, QRIS generate or VA create), then the
// simulator pays and sends its signed notification to the notify endpoint, which verifies it
// and records payment.succeeded. Keys are generated for the session and never written.
//
// Voids go the same way: BankPayments' SnapClient cancels a QRIS (qr-mpm-cancel) or deletes a
// virtual account (delete-va) at the simulator, which serves both; simulator()->PayLate
// emulates a payer who paid just before a void arrived.
//
// The simulator keeps no state directory: its reference numbering starts above the highest
// simulator reference ("BJQR"/"BJVA" + 12 digits) that a payment.requested in the log
// recorded, so a demo served again on its data never hands out a reference of its log again,
// and a fresh demo still numbers from 1 (the same seed gives the same log).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/bank/notify.h"
#include "adapters/bank/payments.h"
#include "adapters/bank/simulator.h"
#include "adapters/bank/snap_client.h"
#include "adapters/http/server.h"

namespace malpro {

class InProcessBank {
 public:
  // `ledger` and `log` must outlive the bank; `clock` is the ledger's clock.
  static Result<std::unique_ptr<InProcessBank>> Start(Ledger* ledger, EventLog* log,
                                                      std::function<int64_t()> clock);
  ~InProcessBank();

  // Requests the payment of a cashless order by `channel` through the bank, then has the
  // simulated payer pay it; OK once the notification was accepted. With `expire_first`, the
  // first QR or account is left unpaid and expired (as the poller would) and a second one
  // is paid. Returns the commands written.
  Result<int> Pay(const std::string& order_id, const std::string& channel, bool expire_first,
                  const CommandContext& context);

  // The payment requests of this bank, for an API that serves alongside it.
  BankPayments* payments() { return payments_.get(); }
  // Where the simulator listens: its SNAP endpoints and its control API (/sim/pay ...).
  std::string simulator_url() const { return simulator_->base_url(); }
  // The simulated bank itself, e.g. to pay a voided request late (PayLate).
  BankSimulator* simulator() { return simulator_.get(); }

 private:
  InProcessBank() = default;

  Ledger* ledger_ = nullptr;
  BankNotifyOptions notify_;
  TokenTable no_tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<BankSimulator> simulator_;
  std::unique_ptr<SnapClient> client_;
  std::unique_ptr<BankPayments> payments_;
};

// The highest simulator reference number (SimulatedReferenceNumber) among the bank references
// that payment.requested events of `log` recorded; 0 when there is none.
Result<uint64_t> HighestSimulatedReference(const EventLog& log);

// A fresh RSA key pair (private PEM, public PEM) of `bits`.
Result<std::pair<std::string, std::string>> GenerateRsaKeyPair(int bits);

}  // namespace malpro
