#include "adapters/bank/payment_channel.h"

#include <simdjson.h>

#include "adapters/bank/snap_protocol.h"
#include "adapters/http/request_body.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

constexpr size_t kVirtualAccountCustomerDigits = 12;

// The part of a virtual account number after the bank's prefix: digits derived from the
// payment id and its stream version, so a payment requested again gets another account.
std::string CustomerNumber(std::string_view payment_id, uint64_t version) {
  const Hash digest = Sha256(std::string(payment_id) + "#" + std::to_string(version));
  uint64_t number = 0;
  for (int i = 0; i < 8; ++i) number = (number << 8) | digest[i];
  std::string digits = std::to_string(number % 1'000'000'000'000ULL);
  return std::string(kVirtualAccountCustomerDigits - digits.size(), '0') + digits;
}

// A SNAP amount object {"value":"10000.00","currency":"IDR"} under `key` of the body.
Result<Money> ReadSnapMoney(simdjson::dom::element root, std::string_view key) {
  std::string_view value, currency;
  if (root[key]["value"].get(value) != simdjson::SUCCESS ||
      root[key]["currency"].get(currency) != simdjson::SUCCESS || currency != "IDR") {
    return Status::InvalidArgument(
        errc::kBodyFieldMissing, key,
        std::string(key) + " must be {\"value\":\"10000.00\",\"currency\":\"IDR\"}");
  }
  return ParseSnapAmount(value, std::string(key) + ".value");
}

Status BodyNotJson() {
  return Status::InvalidArgument(errc::kBodyInvalidJson, "body", "the body must be JSON");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// QRIS

template <>
std::string_view QrisChannel::name() const {
  return payment_channel_qris;
}

template <>
std::string_view QrisChannel::notify_path() const {
  return snap_qris_notify_path;
}

template <>
Status QrisChannel::Issue(SnapClient& client, const Ledger&, const OrderState& order,
                          const PaymentState&, PaymentRequested* issued) const {
  Result<QrisIssued> qris =
      client.GenerateQris(issued->payment_id, order.total, order.umkm_id, issued->expires_at_us);
  if (!qris.ok()) return qris.status();
  issued->bank_reference = qris->reference_no;
  issued->qr_content = qris->qr_content;
  return Status::Ok();
}

template <>
Result<BankPaymentStatus> QrisChannel::Query(SnapClient& client,
                                             const ChannelPayment& payment) const {
  return client.QueryQris(payment.payment_id, payment.bank_reference, payment.umkm_id);
}

template <>
Status QrisChannel::Void(SnapClient& client, const ChannelPayment& payment) const {
  return client.CancelQris(payment.payment_id, payment.bank_reference, payment.umkm_id);
}

// The QRIS query names the reference it answers for.
template <>
std::string QrisChannel::AnsweredReference(const BankPaymentStatus& answer,
                                           std::string_view requested) const {
  return answer.reference_no.empty() ? std::string(requested) : answer.reference_no;
}

// The QR content is in payment.requested itself: nothing more to show.
template <>
void QrisChannel::ShowRecorded(const PaymentState&, PaymentRequested*) const {}

// qr-mpm-notify: originalPartnerReferenceNo is our payment id, originalReferenceNo the bank's.
template <>
Result<BankNotification> QrisChannel::ReadNotification(std::string_view body) const {
  RequestBody fields(body);
  BankNotification notification{std::string(name()),
                                fields.String("originalPartnerReferenceNo"),
                                fields.String("originalReferenceNo"),
                                fields.String("latestTransactionStatus"),
                                fields.OptionalString("transactionStatusDesc"),
                                Money(),
                                ""};
  if (!fields.status().ok()) return fields.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view paid_time;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return BodyNotJson();
  Result<Money> amount = ReadSnapMoney(root, "amount");
  if (!amount.ok()) return amount.status();
  notification.amount = *amount;
  if (root["additionalInfo"]["paidTime"].get(paid_time) == simdjson::SUCCESS) {
    notification.paid_time = std::string(paid_time);
  }
  return notification;
}

// ---------------------------------------------------------------------------------------
// Virtual account

template <>
std::string_view VirtualAccountChannel::name() const {
  return payment_channel_va;
}

template <>
std::string_view VirtualAccountChannel::notify_path() const {
  return snap_va_payment_path;
}

template <>
Status VirtualAccountChannel::Issue(SnapClient& client, const Ledger& ledger,
                                    const OrderState& order, const PaymentState& previous,
                                    PaymentRequested* issued) const {
  // The account bears the payer's name; the NIP when the ASN cannot be read.
  Result<AsnState> buyer = ledger.LoadAsn(order.buyer_nip);
  const std::string name = buyer.ok() ? buyer->name : order.buyer_nip;
  Result<VirtualAccountIssued> account = client.CreateVirtualAccount(
      issued->payment_id, order.total, CustomerNumber(issued->payment_id, previous.version), name,
      issued->expires_at_us);
  if (!account.ok()) return account.status();
  issued->bank_reference = account->virtual_account_no;
  issued->virtual_account_no = account->virtual_account_no;
  return Status::Ok();
}

template <>
Result<BankPaymentStatus> VirtualAccountChannel::Query(SnapClient& client,
                                                       const ChannelPayment& payment) const {
  return client.QueryVirtualAccount(payment.payment_id, payment.bank_reference);
}

template <>
Status VirtualAccountChannel::Void(SnapClient& client, const ChannelPayment& payment) const {
  return client.DeleteVirtualAccount(payment.payment_id, payment.bank_reference);
}

// A VA status is asked by the account number, which is the VA payment's reference.
template <>
std::string VirtualAccountChannel::AnsweredReference(const BankPaymentStatus&,
                                                     std::string_view requested) const {
  return std::string(requested);
}

template <>
void VirtualAccountChannel::ShowRecorded(const PaymentState& payment,
                                         PaymentRequested* shown) const {
  shown->virtual_account_no = payment.bank_reference;
}

// transfer-va/payment: trxId is our payment id, virtualAccountNo the account that was paid
// into; a payment flag always means paid.
template <>
Result<BankNotification> VirtualAccountChannel::ReadNotification(std::string_view body) const {
  RequestBody fields(body);
  BankNotification notification{std::string(name()),
                                fields.String("trxId"),
                                fields.String("virtualAccountNo"),
                                "00",
                                "virtual account paid",
                                Money(),
                                fields.OptionalString("trxDateTime")};
  if (!fields.status().ok()) return fields.status();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return BodyNotJson();
  Result<Money> amount = ReadSnapMoney(root, "paidAmount");
  if (!amount.ok()) return amount.status();
  notification.amount = *amount;
  return notification;
}

// ---------------------------------------------------------------------------------------
// Registration

const std::vector<const PaymentChannel*>& PaymentChannels() {
  static const QrisChannel qris;
  static const VirtualAccountChannel virtual_account;
  static const std::vector<const PaymentChannel*> channels = {&qris, &virtual_account};
  return channels;
}

Result<const PaymentChannel*> FindPaymentChannel(std::string_view name) {
  for (const PaymentChannel* channel : PaymentChannels()) {
    if (channel->name() == name) return channel;
  }
  // The ledger's refusal, listing the channels it accepts.
  Status unknown = CheckPaymentChannel(name);
  if (unknown.ok()) {
    unknown = Status::InvalidArgument(errc::kChannelUnknown, "channel",
                                      "channel " + std::string(name) + " has no bank adapter");
  }
  return unknown;
}

const PaymentChannel* ChannelNotifiedAt(std::string_view path) {
  for (const PaymentChannel* channel : PaymentChannels()) {
    if (channel->notify_path() == path) return channel;
  }
  return nullptr;
}

}  // namespace malpro
