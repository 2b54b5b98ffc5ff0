#include "engine/money.h"

#include <charconv>

#include "engine/assert.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

Status Invalid(std::string_view code, std::string_view field, std::string_view rule) {
  return Status::InvalidArgument(code, field, std::string(field) + " " + std::string(rule));
}

// Parses digits[separator digits] where the separator is `decimal` and there are at most two
// decimals (exactly two when `exact_decimals`). Leading zeros are refused except a lone "0"
// before the separator, so that each amount has one spelling.
Result<Money> ParseWithSeparator(std::string_view text, std::string_view field, char decimal,
                                 bool exact_decimals, bool allow_empty_fraction) {
  if (text.empty()) return Invalid(errc::kAmountInvalid, field, "is empty");
  const size_t separator = text.find(decimal);
  std::string_view whole = text.substr(0, separator);
  std::string_view fraction =
      separator == std::string_view::npos ? std::string_view() : text.substr(separator + 1);
  auto all_digits = [](std::string_view part) {
    return part.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction)) {
    return Invalid(errc::kAmountInvalid, field,
                   std::string("must be digits with an optional '") + decimal +
                       "' and up to 2 decimals, no sign or grouping");
  }
  if (whole.size() > 1 && whole[0] == '0') {
    return Invalid(errc::kAmountInvalid, field, "must not have leading zeros");
  }
  if (fraction.size() > 2)
    return Invalid(errc::kAmountTooPrecise, field, "must have at most 2 decimals");
  if (separator != std::string_view::npos && fraction.empty() && !allow_empty_fraction) {
    return Invalid(errc::kAmountInvalid, field, "must have digits after the decimal separator");
  }
  if (exact_decimals && fraction.size() != 2) {
    return Invalid(errc::kAmountInvalid, field, "must have exactly 2 decimals, e.g. \"10000.00\"");
  }
  if (whole.size() > 13) return Invalid(errc::kAmountTooLarge, field, "is too large");
  int64_t sen = 0;
  for (char c : whole) sen = sen * 10 + (c - '0');
  sen *= 100;
  if (fraction.size() >= 1) sen += (fraction[0] - '0') * 10;
  if (fraction.size() == 2) sen += fraction[1] - '0';
  if (sen > money_sen_max) {
    return Invalid(errc::kAmountTooLarge, field,
                   "must be at most " + FormatSnap(Money::FromSen(money_sen_max)));
  }
  return Money::FromSen(sen);
}

std::string Format(Money amount, char decimal, bool always_decimals) {
  const int64_t sen = amount.sen();
  const uint64_t magnitude =
      sen < 0 ? static_cast<uint64_t>(-(sen + 1)) + 1 : static_cast<uint64_t>(sen);
  // Written into a buffer once (rows and files format millions of amounts).
  char text[32];
  char* end = text;
  if (sen < 0) *end++ = '-';
  end = std::to_chars(end, text + sizeof text, magnitude / 100).ptr;
  const uint64_t cents = magnitude % 100;
  if (always_decimals || cents != 0) {
    *end++ = decimal;
    *end++ = static_cast<char>('0' + cents / 10);
    *end++ = static_cast<char>('0' + cents % 10);
  }
  return std::string(text, end);
}

}  // namespace

Result<Money> ParseAmount(std::string_view text, std::string_view field) {
  return ParseWithSeparator(text, field, '.', false, false);
}

Result<Money> ParseSnapAmount(std::string_view text, std::string_view field) {
  return ParseWithSeparator(text, field, '.', true, false);
}

Result<Money> ParseMt940Amount(std::string_view text, std::string_view field) {
  return ParseWithSeparator(text, field, ',', false, true);
}

Result<Money> ParseQrisAmount(std::string_view text, std::string_view field) {
  return ParseWithSeparator(text, field, '.', false, false);
}

std::string FormatSnap(Money amount) { return Format(amount, '.', true); }
std::string FormatMt940(Money amount) { return Format(amount, ',', true); }
std::string FormatQris(Money amount) { return Format(amount, '.', false); }

std::string FormatDisplay(Money amount) {
  const int64_t sen = amount.sen();
  const uint64_t magnitude =
      sen < 0 ? static_cast<uint64_t>(-(sen + 1)) + 1 : static_cast<uint64_t>(sen);
  const std::string whole = std::to_string(magnitude / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back('.');
    grouped.push_back(whole[i]);
  }
  std::string text = std::string(sen < 0 ? "-" : "") + "Rp" + grouped;
  if (magnitude % 100 != 0) {
    text += ',';
    text.push_back(static_cast<char>('0' + magnitude % 100 / 10));
    text.push_back(static_cast<char>('0' + magnitude % 10));
  }
  return text;
}

Money ApplyBasisPoints(Money amount, int64_t basis_points) {
  MALPRO_ASSERT(basis_points >= 0 && basis_points <= 10'000);
  MALPRO_ASSERT(amount.sen() >= 0 && amount.sen() <= money_sen_max);
  // amount <= 10^14 sen and basis points <= 10^4: the product fits int64 (< 9.2 * 10^18).
  const int64_t scaled = amount.sen() * basis_points;
  return Money::FromSen((scaled + 5'000) / 10'000);
}

}  // namespace malpro
