// Identifiers of people and businesses in Indonesia, validated fully.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace malpro {

// A calendar date (proleptic Gregorian).
struct CivilDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  auto operator<=>(const CivilDate&) const = default;
};

// A real date: month 1..12 and day within the month, 29 February in leap years only. Any year.
bool IsValidDate(int year, int month, int day);
// "YYYY-MM-DD", validated as a real date; InvalidArgument "date_invalid" naming `field`.
Result<CivilDate> ParseIsoDate(std::string_view text, std::string_view field);
// "YYYY-MM-DD"; the inverse of ParseIsoDate for years 0..9999.
std::string FormatIsoDate(CivilDate date);
// Days since 1970-01-01 (negative before), and back. DaysFromCivil requires a valid date
// (asserted); CivilFromDays requires a day whose year fits in an int (asserted).
int64_t DaysFromCivil(CivilDate date);
CivilDate CivilFromDays(int64_t days);

// NIP (Nomor Induk Pegawai), 18 digits: birth date YYYYMMDD, appointment (TMT CPNS) YYYYMM,
// sex digit (1 male, 2 female), serial 3 digits (001..999).
struct Nip {
  std::string digits;
  CivilDate birth_date;
  int appointment_year = 0;
  int appointment_month = 0;
  int sex = 0;     // 1 or 2
  int serial = 0;  // 1..999
};

// Refuses, with field `field` and these error codes:
//   nip_length (not 18 characters), nip_not_digits, nip_birth_date (not a real date, or
//   before 1900), nip_appointment_month (month not 01..12 or year before 1900),
//   nip_appointment_before_adulthood (appointment month before the month of the 18th
//   birthday), nip_sex_digit (not 1 or 2), nip_serial (000).
Result<Nip> ParseNip(std::string_view text, std::string_view field);

// NIB (Nomor Induk Berusaha): 13 digits. Error codes nib_length, nib_not_digits.
Status ValidateNib(std::string_view text, std::string_view field);

// NIK (Nomor Induk Kependudukan): 16 digits; digits 7-12 are a birth date DDMMYY where
// women add 40 to DD. Error codes nik_length, nik_not_digits, nik_birth_date. The century of
// YY is unknown, so 29 February is accepted when YY is a multiple of 4.
Status ValidateNik(std::string_view text, std::string_view field);

}  // namespace malpro
