// The payment channels the ledger accepts for a cashless payment, by the name it persists in
// payment.requested and bank-reference streams (docs/domain-events.md). The list may grow,
// never rename or drop a name. How a channel is paid at the bank is the bank adapter's
// (adapters/bank/payment_channel.h: one PaymentChannel per name here).
#pragma once

#include <array>
#include <string_view>

#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/status.h"

namespace malpro {

inline constexpr std::string_view payment_channel_qris = "QRIS";  // QRIS MPM: a QR code
inline constexpr std::string_view payment_channel_va = "VA";      // a virtual account
inline constexpr std::array<std::string_view, 2> payment_channels = {payment_channel_qris,
                                                                     payment_channel_va};

// Refuses a channel the ledger does not know: channel_unknown naming "channel", listing them.
inline Status CheckPaymentChannel(std::string_view channel) {
  return CheckOneOf(channel, "channel", errc::kChannelUnknown, payment_channels);
}

// A bank reference as people and our answers show it. A SNAP virtual account number is its
// 8-character partnerServiceId, left-padded with spaces, then the customer number
// ("   12345000000001234"); it is shown without the padding ("12345000000001234"), as bank
// statements write it. The log and the SNAP wire format keep it as the bank wrote it.
inline std::string_view ShownBankReference(std::string_view reference) {
  const size_t start = reference.find_first_not_of(' ');
  return start == std::string_view::npos ? std::string_view() : reference.substr(start);
}

}  // namespace malpro
