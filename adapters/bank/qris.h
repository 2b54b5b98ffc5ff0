// QRIS merchant-presented mode (MPM) payloads: the EMVCo TLV string a payer's app scans.
// Each data object is ID (2 digits), length (2 digits), value. The payload ends with tag 63,
// a CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) over everything before its value,
// "6304" included, in 4 upper-case hex digits. Amounts go through engine/money.h (tag 54).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

inline constexpr size_t qris_merchant_name_chars_max = 25;  // tag 59
inline constexpr size_t qris_merchant_city_chars_max = 15;  // tag 60
inline constexpr size_t qris_reference_chars_max = 25;      // tag 62, sub-tag 05

struct QrisMerchant {
  std::string acquirer_domain = "ID.CO.BANKJATIM.WWW";  // tag 26 sub-tag 00
  std::string merchant_pan;            // tag 26 sub-tag 01, 19 digits (starts with 9360)
  std::string merchant_id;             // tag 26 sub-tag 02, the acquirer's merchant id
  std::string nmid;                    // tag 51 sub-tag 02, the national merchant id "ID10..."
  std::string criteria = "UMI";        // tag 26/51 sub-tag 03: UMI, UKE, UME, UBE
  std::string category_code = "5411";  // tag 52, ISO 18245 MCC
  std::string name;                    // tag 59
  std::string city = "MALANG";         // tag 60
  std::string postal_code;             // tag 61, optional
};

// A dynamic (point of initiation 12) payload for one payment of `amount`, with `reference`
// (e.g. the payment id) as the reference label. InvalidArgument naming the field when a value
// is too long or not of its form.
Result<std::string> BuildQrisPayload(const QrisMerchant& merchant, Money amount,
                                     std::string_view reference);

// The CRC of tag 63: CRC-16/CCITT-FALSE of `data`, as 4 upper-case hex digits.
std::string QrisCrc(std::string_view data);

// A parsed payload: top-level tags to values (templates such as 26 and 62 keep their
// nested TLV text). Refuses (qris_*) a malformed TLV, a wrong CRC, or a missing mandatory
// tag (00, 01, one of 26-51, 52, 53, 58, 59, 60, 63), and currency other than 360 (IDR).
Result<std::map<std::string, std::string>> ParseQrisPayload(std::string_view payload);

// The amount of tag 54 in a parsed payload; NotFound when the payload has none (static QR).
Result<Money> QrisAmount(const std::map<std::string, std::string>& tags);

}  // namespace malpro
