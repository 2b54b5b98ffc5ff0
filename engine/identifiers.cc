#include "engine/identifiers.h"

#include <cstdio>
#include <limits>

#include "engine/assert.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

constexpr size_t kIsoDateChars = 10;  // YYYY-MM-DD
constexpr size_t kNipDigits = 18;
constexpr size_t kNibDigits = 13;
constexpr size_t kNikDigits = 16;
// NIP birth and appointment years before this are typing errors, not civil servants.
constexpr int kNipYearMin = 1900;
// An ASN is appointed (TMT CPNS) no earlier than the month of the 18th birthday.
constexpr int kAdulthoodYears = 18;
// NIK: women's birth day DD is written as DD + 40.
constexpr int kNikFemaleDayOffset = 40;
constexpr int kMonthsPerYear = 12;

// Days from 0000-03-01 to 1970-01-01 in Hinnant's era arithmetic.
constexpr int64_t kEpochShiftDays = 719468;
constexpr int64_t kDaysPerEra = 146097;  // 400 Gregorian years
constexpr int64_t kYearsPerEra = 400;

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  constexpr int kDaysPerMonth[kMonthsPerYear] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDaysPerMonth[month - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// The number written by the decimal digits `text`, which must all be digits.
int DigitsValue(std::string_view text) {
  int value = 0;
  for (char c : text) {
    MALPRO_ASSERT(IsDigit(c));
    value = value * 10 + (c - '0');
  }
  return value;
}

Status Invalid(std::string_view error_code, std::string_view field, std::string_view rule) {
  return Status::InvalidArgument(error_code, field, std::string(field) + ": " + std::string(rule));
}

// The length and digits checks shared by every all-digit identifier.
Status CheckDigits(std::string_view text, std::string_view field, size_t length,
                   std::string_view length_code, std::string_view digits_code) {
  if (text.size() != length) {
    return Invalid(length_code, field,
                   "must be exactly " + std::to_string(length) + " digits, not " +
                       std::to_string(text.size()) + " characters");
  }
  if (!AllDigits(text)) return Invalid(digits_code, field, "must contain only the digits 0-9");
  return Status::Ok();
}

}  // namespace

bool IsValidDate(int year, int month, int day) {
  if (month < 1 || month > kMonthsPerYear) return false;
  return day >= 1 && day <= DaysInMonth(year, month);
}

Result<CivilDate> ParseIsoDate(std::string_view text, std::string_view field) {
  constexpr size_t kYearEnd = 4;
  constexpr size_t kMonthEnd = 7;
  bool shaped = text.size() == kIsoDateChars && text[kYearEnd] == '-' && text[kMonthEnd] == '-';
  if (shaped) {
    shaped = AllDigits(text.substr(0, kYearEnd)) && AllDigits(text.substr(kYearEnd + 1, 2)) &&
             AllDigits(text.substr(kMonthEnd + 1, 2));
  }
  if (!shaped) return Invalid(errc::kDateInvalid, field, "must be a date written YYYY-MM-DD");
  CivilDate date{.year = DigitsValue(text.substr(0, kYearEnd)),
                 .month = DigitsValue(text.substr(kYearEnd + 1, 2)),
                 .day = DigitsValue(text.substr(kMonthEnd + 1, 2))};
  if (!IsValidDate(date.year, date.month, date.day)) {
    return Invalid(errc::kDateInvalid, field, "must be a real calendar date YYYY-MM-DD");
  }
  return date;
}

std::string FormatIsoDate(CivilDate date) {
  if (date.year < 0 || date.year > 9999) {
    // Large enough for any three ints with their signs and separators.
    char buffer[3 * 12 + 3];
    std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02d", date.year, date.month, date.day);
    return buffer;
  }
  // Read models format a date per event: without snprintf this is several times faster.
  std::string text = "0000-00-00";
  text[0] = static_cast<char>('0' + date.year / 1000);
  text[1] = static_cast<char>('0' + date.year / 100 % 10);
  text[2] = static_cast<char>('0' + date.year / 10 % 10);
  text[3] = static_cast<char>('0' + date.year % 10);
  text[5] = static_cast<char>('0' + date.month / 10);
  text[6] = static_cast<char>('0' + date.month % 10);
  text[8] = static_cast<char>('0' + date.day / 10);
  text[9] = static_cast<char>('0' + date.day % 10);
  return text;
}

// Howard Hinnant's days_from_civil: counts in 400-year eras that start on 1 March, so that
// the leap day is the last day of its year.
int64_t DaysFromCivil(CivilDate date) {
  MALPRO_ASSERT(IsValidDate(date.year, date.month, date.day));
  const int64_t year = static_cast<int64_t>(date.year) - (date.month <= 2 ? 1 : 0);
  const int64_t era = (year >= 0 ? year : year - (kYearsPerEra - 1)) / kYearsPerEra;
  const int64_t year_of_era = year - era * kYearsPerEra;                              // [0, 399]
  const int64_t month_from_march = date.month > 2 ? date.month - 3 : date.month + 9;  // [0, 11]
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + date.day - 1;        // [0, 365]
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * kDaysPerEra + day_of_era - kEpochShiftDays;
}

// Howard Hinnant's civil_from_days, the inverse of DaysFromCivil.
CivilDate CivilFromDays(int64_t days) {
  const int64_t shifted = days + kEpochShiftDays;
  const int64_t era = (shifted >= 0 ? shifted : shifted - (kDaysPerEra - 1)) / kDaysPerEra;
  const int64_t day_of_era = shifted - era * kDaysPerEra;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) /
      365;  // [0, 399]
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;                // [0, 11]
  const int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;      // [1, 31]
  const int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const int64_t year = year_of_era + era * kYearsPerEra + (month <= 2 ? 1 : 0);
  MALPRO_ASSERT(year >= std::numeric_limits<int>::min() && year <= std::numeric_limits<int>::max());
  return CivilDate{.year = static_cast<int>(year),
                   .month = static_cast<int>(month),
                   .day = static_cast<int>(day)};
}

Result<Nip> ParseNip(std::string_view text, std::string_view field) {
  MALPRO_RETURN_IF_ERROR(
      CheckDigits(text, field, kNipDigits, errc::kNipLength, errc::kNipNotDigits));
  Nip nip;
  nip.digits = std::string(text);
  nip.birth_date = CivilDate{.year = DigitsValue(text.substr(0, 4)),
                             .month = DigitsValue(text.substr(4, 2)),
                             .day = DigitsValue(text.substr(6, 2))};
  nip.appointment_year = DigitsValue(text.substr(8, 4));
  nip.appointment_month = DigitsValue(text.substr(12, 2));
  nip.sex = DigitsValue(text.substr(14, 1));
  nip.serial = DigitsValue(text.substr(15, 3));

  const CivilDate& birth = nip.birth_date;
  if (birth.year < kNipYearMin || !IsValidDate(birth.year, birth.month, birth.day)) {
    return Invalid(errc::kNipBirthDate, field,
                   "digits 1-8 must be a real birth date YYYYMMDD, in " +
                       std::to_string(kNipYearMin) + " or later");
  }
  if (nip.appointment_year < kNipYearMin || nip.appointment_month < 1 ||
      nip.appointment_month > kMonthsPerYear) {
    return Invalid(errc::kNipAppointmentMonth, field,
                   "digits 9-14 must be an appointment month YYYYMM with month 01-12, in " +
                       std::to_string(kNipYearMin) + " or later");
  }
  const int appointment_months = nip.appointment_year * kMonthsPerYear + nip.appointment_month;
  const int adulthood_months = (birth.year + kAdulthoodYears) * kMonthsPerYear + birth.month;
  if (appointment_months < adulthood_months) {
    return Invalid(errc::kNipAppointmentBeforeAdulthood, field,
                   "digits 9-14 (appointment month) must not be before the month of the " +
                       std::to_string(kAdulthoodYears) + "th birthday given by digits 1-8");
  }
  if (nip.sex != 1 && nip.sex != 2) {
    return Invalid(errc::kNipSexDigit, field, "digit 15 must be 1 (male) or 2 (female)");
  }
  if (nip.serial == 0) {
    return Invalid(errc::kNipSerial, field, "digits 16-18 must be a serial number 001-999");
  }
  return nip;
}

Status ValidateNib(std::string_view text, std::string_view field) {
  return CheckDigits(text, field, kNibDigits, errc::kNibLength, errc::kNibNotDigits);
}

// The birth year of a NIK is written with two digits only, so the day is checked against the
// month in either century: 29 February passes when YY is a multiple of 4 (00 stands for 2000).
Status ValidateNik(std::string_view text, std::string_view field) {
  MALPRO_RETURN_IF_ERROR(
      CheckDigits(text, field, kNikDigits, errc::kNikLength, errc::kNikNotDigits));
  int day = DigitsValue(text.substr(6, 2));
  const int month = DigitsValue(text.substr(8, 2));
  const int two_digit_year = DigitsValue(text.substr(10, 2));
  if (day > kNikFemaleDayOffset) day -= kNikFemaleDayOffset;
  constexpr int kLeapCenturyStart = 2000;  // every multiple of 4 in 2000..2099 is a leap year
  if (!IsValidDate(kLeapCenturyStart + two_digit_year, month, day)) {
    return Invalid(errc::kNikBirthDate, field,
                   "digits 7-12 must be a real birth date DDMMYY, with 40 added to DD for "
                   "women");
  }
  return Status::Ok();
}

}  // namespace malpro
