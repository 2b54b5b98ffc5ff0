// PaymentChannel: what differs between the ways a cashless payment is paid at Bank Jatim, one
// implementation per channel the ledger accepts (engine/payment_channel.h). BankPayments
// issues, asks about and voids a payment through the channel it was requested by; the notify
// endpoints read the bank's word with the channel whose notification path it arrives on.
// The ledger alone decides whether an order can be paid (Ledger::CheckPayable); a channel only
// speaks to the bank.
//
// Adding a channel (e.g. an e-wallet): its name in engine/payment_channel.h, one class here
// implementing PaymentChannel with the SNAP calls of its service, and one line in
// PaymentChannels() (payment_channel.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "adapters/bank/payments.h"
#include "adapters/bank/snap_client.h"
#include "engine/ledger.h"

namespace malpro {

// A payment request at the bank, as a channel's calls name it.
struct ChannelPayment {
  std::string_view payment_id;
  std::string_view bank_reference;  // as payment.requested holds it
  std::string_view umkm_id;         // the merchant paid
};

// The bank's word in one notification.
struct BankNotification {
  std::string channel;     // the name of the channel it arrived for
  std::string payment_id;  // originalPartnerReferenceNo / trxId: our payment (order) id
  // QRIS: originalReferenceNo; VA: virtualAccountNo (what payment.requested holds)
  std::string bank_reference;
  std::string status;       // latestTransactionStatus: 00 success, 06 failed, ...
  std::string description;  // transactionStatusDesc
  Money amount;
  std::string paid_time;  // a SNAP timestamp; empty when the bank gave none
};

class PaymentChannel {
 public:
  virtual ~PaymentChannel() = default;

  // The name the ledger knows the channel by (engine/payment_channel.h), e.g. "QRIS".
  virtual std::string_view name() const = 0;
  // The path of ours on which the bank notifies a payment by this channel (snap_protocol.h).
  virtual std::string_view notify_path() const = 0;

  // Issues the payment of `order` at the bank. `issued` arrives with payment_id, amount and
  // expires_at_us set; fills its bank_reference and what the payer is shown. `previous` is the
  // order's payment before this request (version 0 when never requested). Errors: the
  // bank's (SnapClient), nothing written.
  virtual Status Issue(SnapClient& client, const Ledger& ledger, const OrderState& order,
                       const PaymentState& previous, PaymentRequested* issued) const = 0;
  // Asks the bank about a payment requested by this channel.
  virtual Result<BankPaymentStatus> Query(SnapClient& client,
                                          const ChannelPayment& payment) const = 0;
  // Voids it at the bank (the answers are SnapClient::CancelQris's and DeleteVirtualAccount's).
  virtual Status Void(SnapClient& client, const ChannelPayment& payment) const = 0;
  // The bank reference a status answer speaks for, given the one the request holds.
  virtual std::string AnsweredReference(const BankPaymentStatus& answer,
                                        std::string_view requested) const = 0;
  // What the payer was shown beyond the QR content, from the request as recorded.
  virtual void ShowRecorded(const PaymentState& payment, PaymentRequested* shown) const = 0;
  // Reads the body of a notification that arrived on notify_path(). InvalidArgument naming
  // the field when one is missing or malformed.
  virtual Result<BankNotification> ReadNotification(std::string_view body) const = 0;
};

// QRIS MPM: qr-mpm-generate, qr-mpm-query, qr-mpm-cancel; notified on qr-mpm-notify.
struct QrisKind;
// A virtual account: create-va, transfer-va/status, delete-va; flagged paid on
// transfer-va/payment.
struct VirtualAccountKind;

// One channel: every member is specialized for its Kind in payment_channel.cc (the primary
// template defines none, so a Kind without its specializations does not link).
template <typename Kind>
class ConcreteChannel final : public PaymentChannel {
 public:
  std::string_view name() const override;
  std::string_view notify_path() const override;
  Status Issue(SnapClient& client, const Ledger& ledger, const OrderState& order,
               const PaymentState& previous, PaymentRequested* issued) const override;
  Result<BankPaymentStatus> Query(SnapClient& client, const ChannelPayment& payment) const override;
  Status Void(SnapClient& client, const ChannelPayment& payment) const override;
  std::string AnsweredReference(const BankPaymentStatus& answer,
                                std::string_view requested) const override;
  void ShowRecorded(const PaymentState& payment, PaymentRequested* shown) const override;
  Result<BankNotification> ReadNotification(std::string_view body) const override;
};

using QrisChannel = ConcreteChannel<QrisKind>;
using VirtualAccountChannel = ConcreteChannel<VirtualAccountKind>;

// Every channel, one registration each. Static: valid for the life of the program.
const std::vector<const PaymentChannel*>& PaymentChannels();
// The channel named `name`; InvalidArgument channel_unknown naming "channel" otherwise.
Result<const PaymentChannel*> FindPaymentChannel(std::string_view name);
// The channel whose notifications arrive on `path`; nullptr for any other path.
const PaymentChannel* ChannelNotifiedAt(std::string_view path);

}  // namespace malpro
