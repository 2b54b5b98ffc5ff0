// Money: an exact integer count of sen (IDR has 2 minor digits in ISO 4217; real amounts are
// whole rupiah). Never a float. Every channel's amount text is parsed and printed here:
//   SNAP BI  "10000.00"   (always two decimals, '.' separator, no grouping)
//   MT940    "10000,00"   (',' decimal separator, no grouping; "10000," is allowed)
//   QRIS     "10000"      (tag 54: whole rupiah, or up to two decimals with '.')
//   JSON API "10000.00"   (as SNAP; "10000" and "10000.5" are accepted on input)
//   display  "Rp10.000" or "Rp10.000,50" (Indonesian grouping, for people only)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace malpro {

// Largest amount the ledger accepts anywhere: Rp 1 trillion (10^12 rupiah), far above any
// order or settlement, far below int64 overflow even when summed 10^6 times.
inline constexpr int64_t money_sen_max = int64_t{1'000'000'000'000} * 100;

class Money {
 public:
  constexpr Money() = default;
  static constexpr Money FromSen(int64_t sen) { return Money(sen); }
  static constexpr Money FromRupiah(int64_t rupiah) { return Money(rupiah * 100); }

  constexpr int64_t sen() const { return sen_; }
  constexpr bool is_zero() const { return sen_ == 0; }
  constexpr bool is_whole_rupiah() const { return sen_ % 100 == 0; }

  constexpr auto operator<=>(const Money&) const = default;
  constexpr Money operator+(Money other) const { return Money(sen_ + other.sen_); }
  constexpr Money operator-(Money other) const { return Money(sen_ - other.sen_); }
  Money& operator+=(Money other) {
    sen_ += other.sen_;
    return *this;
  }
  Money& operator-=(Money other) {
    sen_ -= other.sen_;
    return *this;
  }

 private:
  constexpr explicit Money(int64_t sen) : sen_(sen) {}
  int64_t sen_ = 0;
};

// All parsers refuse, with InvalidArgument naming `field`: empty text, leading zeros ("010"),
// signs (-, +),
// spaces, grouping separators, more than 2 decimals ("amount_too_precise"), non-digits
// ("amount_invalid"), and amounts above money_sen_max ("amount_too_large"). Zero is allowed;
// callers that need a positive amount check it themselves.

// "10000", "10000.5", "10000.50": the JSON API form.
Result<Money> ParseAmount(std::string_view text, std::string_view field);
// Exactly two decimals: "10000.00".
Result<Money> ParseSnapAmount(std::string_view text, std::string_view field);
// "10000,00", "10000,5", "10000," or "10000".
Result<Money> ParseMt940Amount(std::string_view text, std::string_view field);
// "10000" or "10000.50" (QRIS tag 54).
Result<Money> ParseQrisAmount(std::string_view text, std::string_view field);

// Formatting. Negative amounts (e.g. a refund's effect) print with a leading '-'.
std::string FormatSnap(Money amount);     // "10000.00"
std::string FormatMt940(Money amount);    // "10000,00"
std::string FormatQris(Money amount);     // "10000" when whole rupiah, else "10000.50"
std::string FormatDisplay(Money amount);  // "Rp10.000" or "Rp10.000,50"

// amount * basis_points / 10000, rounded half up to whole sen. Requires 0 <= basis_points <= 10000.
Money ApplyBasisPoints(Money amount, int64_t basis_points);

}  // namespace malpro
