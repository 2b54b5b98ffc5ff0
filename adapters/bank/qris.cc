#include "adapters/bank/qris.h"

#include <cstdio>

#include "engine/error_codes.h"

namespace malpro {
namespace {

bool IsDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

Status AppendObject(std::string* out, std::string_view id, std::string_view value,
                    std::string_view field) {
  if (value.size() > 99) {
    return Status::InvalidArgument(errc::kQrisValueTooLong, field,
                                   std::string(field) + " is longer than 99 characters");
  }
  char length[3];
  std::snprintf(length, sizeof length, "%02zu", value.size());
  out->append(id).append(length).append(value);
  return Status::Ok();
}

Status CheckText(std::string_view value, size_t chars_max, std::string_view field) {
  if (value.empty() || value.size() > chars_max) {
    return Status::InvalidArgument(
        errc::kQrisFieldInvalid, field,
        std::string(field) + " must be 1 to " + std::to_string(chars_max) + " characters");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
      return Status::InvalidArgument(errc::kQrisFieldInvalid, field,
                                     std::string(field) + " must be printable ASCII");
    }
  }
  return Status::Ok();
}

// Merchant account information: a template of sub-objects under one top-level ID.
Result<std::string> AccountTemplate(std::string_view domain, std::string_view id_value,
                                    std::string_view id_tag, const std::string& criteria) {
  std::string inner;
  MALPRO_RETURN_IF_ERROR(AppendObject(&inner, "00", domain, "acquirer_domain"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&inner, id_tag, id_value, "merchant_id"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&inner, "03", criteria, "criteria"));
  return inner;
}

}  // namespace

std::string QrisCrc(std::string_view data) {
  uint16_t crc = 0xFFFF;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  char hex[5];
  std::snprintf(hex, sizeof hex, "%04X", crc);
  return hex;
}

Result<std::string> BuildQrisPayload(const QrisMerchant& merchant, Money amount,
                                     std::string_view reference) {
  if (merchant.merchant_pan.size() != 19 || !IsDigits(merchant.merchant_pan)) {
    return Status::InvalidArgument(errc::kQrisFieldInvalid, "merchant_pan",
                                   "merchant_pan must be 19 digits");
  }
  MALPRO_RETURN_IF_ERROR(CheckText(merchant.name, qris_merchant_name_chars_max, "merchant_name"));
  MALPRO_RETURN_IF_ERROR(CheckText(merchant.city, qris_merchant_city_chars_max, "merchant_city"));
  MALPRO_RETURN_IF_ERROR(CheckText(reference, qris_reference_chars_max, "reference"));
  if (merchant.category_code.size() != 4 || !IsDigits(merchant.category_code)) {
    return Status::InvalidArgument(errc::kQrisFieldInvalid, "category_code",
                                   "category_code must be 4 digits");
  }
  if (amount <= Money()) {
    return Status::InvalidArgument(errc::kAmountNotPositive, "amount",
                                   "amount must be more than zero");
  }
  std::string payload;
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "00", "01", "format"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "01", "12", "initiation"));  // dynamic
  std::string pan_template;
  MALPRO_RETURN_IF_ERROR(
      AppendObject(&pan_template, "00", merchant.acquirer_domain, "acquirer_domain"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&pan_template, "01", merchant.merchant_pan, "merchant_pan"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&pan_template, "02", merchant.merchant_id, "merchant_id"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&pan_template, "03", merchant.criteria, "criteria"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "26", pan_template, "merchant_account"));
  Result<std::string> national =
      AccountTemplate("ID.CO.QRIS.WWW", merchant.nmid, "02", merchant.criteria);
  if (!national.ok()) return national.status();
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "51", *national, "national_account"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "52", merchant.category_code, "category_code"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "53", "360", "currency"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "54", FormatQris(amount), "amount"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "58", "ID", "country"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "59", merchant.name, "merchant_name"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "60", merchant.city, "merchant_city"));
  if (!merchant.postal_code.empty()) {
    MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "61", merchant.postal_code, "postal_code"));
  }
  std::string additional;
  MALPRO_RETURN_IF_ERROR(AppendObject(&additional, "05", reference, "reference"));
  MALPRO_RETURN_IF_ERROR(AppendObject(&payload, "62", additional, "additional_data"));
  payload.append("6304");
  payload.append(QrisCrc(payload));
  return payload;
}

Result<std::map<std::string, std::string>> ParseQrisPayload(std::string_view payload) {
  const Status malformed = Status::InvalidArgument(errc::kQrisMalformed, "qris",
                                                   "the QRIS payload is not a valid TLV string");
  std::map<std::string, std::string> tags;
  size_t at = 0;
  while (at < payload.size()) {
    if (at + 4 > payload.size() || !IsDigits(payload.substr(at, 4))) return malformed;
    const std::string id(payload.substr(at, 2));
    const size_t length = std::stoul(std::string(payload.substr(at + 2, 2)));
    if (at + 4 + length > payload.size() || tags.contains(id)) return malformed;
    tags[id] = std::string(payload.substr(at + 4, length));
    if (id == "63") {
      if (at + 4 + length != payload.size() || length != 4) return malformed;
      if (QrisCrc(payload.substr(0, at + 4)) != tags[id]) {
        return Status::InvalidArgument(errc::kQrisCrcMismatch, "qris",
                                       "the QRIS CRC (tag 63) is wrong");
      }
    }
    at += 4 + length;
  }
  bool has_account = false;
  for (int id = 26; id <= 51; ++id) has_account = has_account || tags.contains(std::to_string(id));
  for (const char* id : {"00", "01", "52", "53", "58", "59", "60", "63"}) {
    if (!tags.contains(id) || !has_account) {
      return Status::InvalidArgument(
          errc::kQrisTagMissing, "qris",
          std::string("the QRIS payload lacks mandatory tag ") + (has_account ? id : "26-51"));
    }
  }
  if (tags["53"] != "360") {
    return Status::InvalidArgument(errc::kQrisCurrency, "qris",
                                   "QRIS currency (tag 53) must be 360 (IDR)");
  }
  return tags;
}

Result<Money> QrisAmount(const std::map<std::string, std::string>& tags) {
  auto found = tags.find("54");
  if (found == tags.end())
    return Status::NotFound(errc::kQrisNoAmount, "qris", "a static QR has no amount");
  return ParseQrisAmount(found->second, "qris.54");
}

}  // namespace malpro
