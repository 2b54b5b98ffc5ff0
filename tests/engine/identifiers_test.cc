#include "engine/identifiers.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace malpro {
namespace {

// Born 1985-07-12, appointed 2010-01, male, serial 003.
constexpr char kMaleNip[] = "198507122010011003";
// Born 1990-01-01, appointed 2015-03, female, serial 001.
constexpr char kFemaleNip[] = "199001012015032001";

// Expects `status` to be an InvalidArgument with `error_code` about `field`, whose message
// names the field.
void ExpectRefused(const Status& status, std::string_view error_code, std::string_view field) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(status.error_code(), error_code) << status.ToString();
  EXPECT_EQ(status.field(), field);
  EXPECT_EQ(status.message().rfind(std::string(field) + ": ", 0), 0u) << status.message();
}

void ExpectNipRefused(std::string_view text, std::string_view error_code) {
  SCOPED_TRACE(std::string(text));
  Result<Nip> nip = ParseNip(text, "nip");
  ASSERT_FALSE(nip.ok());
  ExpectRefused(nip.status(), error_code, "nip");
}

// The parts a valid NIP splits into.
struct NipParts {
  std::string_view birth_date;
  int appointment_year;
  int appointment_month;
  int sex;
  int serial;
};

void ExpectNipParts(std::string_view text, const NipParts& expected) {
  SCOPED_TRACE(std::string(text));
  Result<Nip> nip = ParseNip(text, "nip");
  ASSERT_TRUE(nip.ok()) << nip.status().ToString();
  EXPECT_EQ(nip->digits, text);
  EXPECT_EQ(FormatIsoDate(nip->birth_date), expected.birth_date);
  EXPECT_EQ(nip->appointment_year, expected.appointment_year);
  EXPECT_EQ(nip->appointment_month, expected.appointment_month);
  EXPECT_EQ(nip->sex, expected.sex);
  EXPECT_EQ(nip->serial, expected.serial);
}

TEST(NipTest, ValidMaleNipIsSplitIntoItsParts) {
  ExpectNipParts(kMaleNip, {"1985-07-12", 2010, 1, 1, 3});
}

TEST(NipTest, ValidFemaleNipIsSplitIntoItsParts) {
  ExpectNipParts(kFemaleNip, {"1990-01-01", 2015, 3, 2, 1});
}

TEST(NipTest, HighestSerialIsAccepted) {
  Result<Nip> nip = ParseNip("198507122010011999", "nip");
  ASSERT_TRUE(nip.ok()) << nip.status().ToString();
  EXPECT_EQ(nip->serial, 999);
}

TEST(NipTest, LeapDayBirthIsValidOnlyInLeapYears) {
  EXPECT_TRUE(ParseNip("198402292010011003", "nip").ok());
  ExpectNipRefused("198502292010011003", "nip_birth_date");
  // Centuries are leap years only when divisible by 400.
  ExpectNipRefused("190002291930011003", "nip_birth_date");
  EXPECT_TRUE(ParseNip("200002292018021001", "nip").ok());
}

TEST(NipTest, BirthDateThatIsNotARealDateIsRefused) {
  ExpectNipRefused("198502302010011003", "nip_birth_date");  // 30 February
  ExpectNipRefused("198513122010011003", "nip_birth_date");  // month 13
  ExpectNipRefused("198500122010011003", "nip_birth_date");  // month 00
  ExpectNipRefused("198504312010011003", "nip_birth_date");  // 31 April
  ExpectNipRefused("198507002010011003", "nip_birth_date");  // day 00
}

TEST(NipTest, BirthYearBefore1900IsRefused) {
  ExpectNipRefused("189912312010011003", "nip_birth_date");
}

TEST(NipTest, BirthDateRefusalNamesTheDigitsAndTheRule) {
  Result<Nip> nip = ParseNip("198502302010011003", "buyer_nip");
  ASSERT_FALSE(nip.ok());
  ExpectRefused(nip.status(), "nip_birth_date", "buyer_nip");
  EXPECT_NE(nip.status().message().find("digits 1-8 must be a real birth date YYYYMMDD"),
            std::string::npos)
      << nip.status().message();
}

TEST(NipTest, AppointmentMonthOutsideTheYearIsRefused) {
  ExpectNipRefused("198507122010131003", "nip_appointment_month");
  ExpectNipRefused("198507122010001003", "nip_appointment_month");
}

TEST(NipTest, AppointmentYearBefore1900IsRefused) {
  ExpectNipRefused("198507121899121003", "nip_appointment_month");
}

TEST(NipTest, AppointmentBeforeTheEighteenthBirthdayIsRefused) {
  ExpectNipRefused("198507122003061003", "nip_appointment_before_adulthood");
  ExpectNipRefused("198507121990011003", "nip_appointment_before_adulthood");
}

TEST(NipTest, AppointmentInTheMonthOfTheEighteenthBirthdayIsAccepted) {
  // Born 12 July 1985: 18 on 12 July 2003; the month counts, not the day.
  EXPECT_TRUE(ParseNip("198507122003071003", "nip").ok());
}

TEST(NipTest, SexDigitOtherThanOneOrTwoIsRefused) {
  ExpectNipRefused("198507122010013003", "nip_sex_digit");
  ExpectNipRefused("198507122010010003", "nip_sex_digit");
  ExpectNipRefused("198507122010019003", "nip_sex_digit");
}

TEST(NipTest, SerialZeroIsRefused) { ExpectNipRefused("198507122010011000", "nip_serial"); }

TEST(NipTest, WrongLengthIsRefused) {
  ExpectNipRefused("19850712201001100", "nip_length");    // 17 digits
  ExpectNipRefused("1985071220100110033", "nip_length");  // 19 digits
  ExpectNipRefused("", "nip_length");
}

TEST(NipTest, NonDigitsAreRefused) {
  ExpectNipRefused("19850712201001100A", "nip_not_digits");
  ExpectNipRefused("1985 7122010011003", "nip_not_digits");
  ExpectNipRefused("-98507122010011003", "nip_not_digits");
}

TEST(NipTest, LengthIsCheckedBeforeDigits) {
  ExpectNipRefused("1985-07-12-2010-01-1-003", "nip_length");
}

TEST(NibTest, ThirteenDigitsAreValid) {
  EXPECT_TRUE(ValidateNib("9120001234567", "nib").ok());
  EXPECT_TRUE(ValidateNib("0000000000000", "nib").ok());
}

TEST(NibTest, WrongLengthIsRefused) {
  ExpectRefused(ValidateNib("912000123456", "nib"), "nib_length", "nib");
  ExpectRefused(ValidateNib("91200012345678", "nib"), "nib_length", "nib");
  ExpectRefused(ValidateNib("", "umkm.nib"), "nib_length", "umkm.nib");
}

TEST(NibTest, NonDigitsAreRefused) {
  ExpectRefused(ValidateNib("912000123456X", "nib"), "nib_not_digits", "nib");
  ExpectRefused(ValidateNib("9120 01234567", "nib"), "nib_not_digits", "nib");
}

TEST(NikTest, MaleBirthDateIsValid) {
  // Kota Malang (3573), born 12 July 1985.
  EXPECT_TRUE(ValidateNik("3573011207850001", "nik").ok());
}

TEST(NikTest, WomenAddFortyToTheDay) {
  EXPECT_TRUE(ValidateNik("3573015207850002", "nik").ok());  // 12 + 40
  EXPECT_TRUE(ValidateNik("3573014101900002", "nik").ok());  // 1 + 40
  EXPECT_TRUE(ValidateNik("3573017112990002", "nik").ok());  // 31 + 40
}

TEST(NikTest, DayThatIsNotARealDateIsRefused) {
  ExpectRefused(ValidateNik("3573013207850001", "nik"), "nik_birth_date", "nik");  // 32
  ExpectRefused(ValidateNik("3573014007850001", "nik"), "nik_birth_date", "nik");  // 40
  ExpectRefused(ValidateNik("3573010007850001", "nik"), "nik_birth_date", "nik");  // 00
  ExpectRefused(ValidateNik("3573017207850001", "nik"), "nik_birth_date", "nik");  // 72 = 32+40
  ExpectRefused(ValidateNik("3573017104850001", "nik"), "nik_birth_date", "nik");  // 31 April
  ExpectRefused(ValidateNik("3573013002850001", "nik"), "nik_birth_date", "nik");  // 30 Feb
}

TEST(NikTest, MonthOutsideTheYearIsRefused) {
  ExpectRefused(ValidateNik("3573011213850001", "nik"), "nik_birth_date", "nik");
  ExpectRefused(ValidateNik("3573011200850001", "nik"), "nik_birth_date", "nik");
}

TEST(NikTest, LeapDayIsValidWhenTheTwoDigitYearIsAMultipleOfFour) {
  EXPECT_TRUE(ValidateNik("3573012902840001", "nik").ok());
  EXPECT_TRUE(ValidateNik("3573016902840002", "nik").ok());  // a woman: 29 + 40
  EXPECT_TRUE(ValidateNik("3573012902000001", "nik").ok());  // 2000
  ExpectRefused(ValidateNik("3573012902850001", "nik"), "nik_birth_date", "nik");
}

TEST(NikTest, WrongLengthIsRefused) {
  ExpectRefused(ValidateNik("357301120785000", "nik"), "nik_length", "nik");
  ExpectRefused(ValidateNik("35730112078500011", "nik"), "nik_length", "nik");
}

TEST(NikTest, NonDigitsAreRefused) {
  ExpectRefused(ValidateNik("357301120785000X", "nik"), "nik_not_digits", "nik");
}

TEST(DateTest, ParsesAValidDate) {
  Result<CivilDate> date = ParseIsoDate("2026-11-22", "purchase_date");
  ASSERT_TRUE(date.ok()) << date.status().ToString();
  EXPECT_EQ(date->year, 2026);
  EXPECT_EQ(date->month, 11);
  EXPECT_EQ(date->day, 22);
}

TEST(DateTest, ParsesLeapDayOnlyInLeapYears) {
  EXPECT_TRUE(ParseIsoDate("2024-02-29", "date").ok());
  EXPECT_TRUE(ParseIsoDate("2000-02-29", "date").ok());
  EXPECT_FALSE(ParseIsoDate("2023-02-29", "date").ok());
  EXPECT_FALSE(ParseIsoDate("1900-02-29", "date").ok());
}

TEST(DateTest, RefusesTextThatIsNotARealDate) {
  for (std::string_view text :
       {"2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "2026-1-01",
        "2026-01-1", "2026/01/01", "20260101", "", "2026-01-01 ", " 2026-01-01", "+026-01-01",
        "2026-0a-01", "2026-01-01T00:00:00"}) {
    SCOPED_TRACE(std::string(text));
    Result<CivilDate> date = ParseIsoDate(text, "effective_from");
    ASSERT_FALSE(date.ok());
    ExpectRefused(date.status(), "date_invalid", "effective_from");
  }
}

TEST(DateTest, FormatsWithZeroPadding) {
  EXPECT_EQ(FormatIsoDate({.year = 2026, .month = 1, .day = 5}), "2026-01-05");
  EXPECT_EQ(FormatIsoDate({.year = 5, .month = 12, .day = 31}), "0005-12-31");
}

TEST(DateTest, FormatAndParseRoundTrip) {
  const CivilDate date{.year = 1984, .month = 2, .day = 29};
  Result<CivilDate> parsed = ParseIsoDate(FormatIsoDate(date), "date");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(*parsed == date);
}

TEST(DateTest, DaysAreCountedFromTheUnixEpoch) {
  EXPECT_EQ(DaysFromCivil({.year = 1970, .month = 1, .day = 1}), 0);
  EXPECT_EQ(DaysFromCivil({.year = 1969, .month = 12, .day = 31}), -1);
  EXPECT_EQ(DaysFromCivil({.year = 2000, .month = 3, .day = 1}), 11017);
  EXPECT_EQ(DaysFromCivil({.year = 1900, .month = 1, .day = 1}), -25567);
  EXPECT_EQ(FormatIsoDate(CivilFromDays(0)), "1970-01-01");
  EXPECT_EQ(FormatIsoDate(CivilFromDays(-1)), "1969-12-31");
  EXPECT_EQ(FormatIsoDate(CivilFromDays(11017)), "2000-03-01");
}

TEST(DateTest, DatesBeforeYearZeroRoundTrip) {
  const CivilDate date{.year = -401, .month = 2, .day = 28};
  EXPECT_TRUE(CivilFromDays(DaysFromCivil(date)) == date);
  EXPECT_EQ(DaysFromCivil({.year = 0, .month = 3, .day = 1}), -719468);
}

// The reference model: the calendar walked one day at a time.
bool ReferenceIsLeap(int year) {
  if (year % 400 == 0) return true;
  if (year % 100 == 0) return false;
  return year % 4 == 0;
}

int ReferenceDaysInMonth(int year, int month) {
  switch (month) {
    case 2:
      return ReferenceIsLeap(year) ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11:
      return 30;
    default:
      return 31;
  }
}

constexpr int kReferenceYearFirst = 1900;
constexpr int kReferenceYearLast = 2100;
constexpr int64_t kReferenceFirstDay = -25567;  // 1900-01-01
constexpr uint64_t kSeed = 0x4d616c616e67;      // "Malang"
constexpr int kSamples = 200000;

// Every date from 1900-01-01 to 2100-12-31; element i is kReferenceFirstDay + i.
std::vector<CivilDate> ReferenceCalendar() {
  std::vector<CivilDate> calendar;
  for (int year = kReferenceYearFirst; year <= kReferenceYearLast; ++year) {
    for (int month = 1; month <= 12; ++month) {
      for (int day = 1; day <= ReferenceDaysInMonth(year, month); ++day) {
        calendar.push_back({.year = year, .month = month, .day = day});
      }
    }
  }
  return calendar;
}

TEST(DateTest, RandomDaysRoundTripAgainstADayByDayCalendar) {
  const std::vector<CivilDate> calendar = ReferenceCalendar();
  ASSERT_EQ(calendar.size(), 201u * 365 + 49);  // 49 leap years in 1900..2100
  std::mt19937_64 random(kSeed);
  std::uniform_int_distribution<size_t> pick(0, calendar.size() - 1);
  for (int sample = 0; sample < kSamples; ++sample) {
    const size_t index = pick(random);
    const CivilDate& date = calendar[index];
    const int64_t days = kReferenceFirstDay + static_cast<int64_t>(index);
    ASSERT_EQ(DaysFromCivil(date), days) << FormatIsoDate(date) << " seed " << kSeed;
    ASSERT_EQ(FormatIsoDate(CivilFromDays(days)), FormatIsoDate(date)) << "seed " << kSeed;
  }
}

TEST(DateTest, RandomTriplesAreValidExactlyWhenTheCalendarHasThem) {
  std::mt19937_64 random(kSeed);
  std::uniform_int_distribution<int> year(kReferenceYearFirst, kReferenceYearLast);
  std::uniform_int_distribution<int> month(0, 13);
  std::uniform_int_distribution<int> day(0, 32);
  for (int sample = 0; sample < kSamples; ++sample) {
    const int y = year(random);
    const int m = month(random);
    const int d = day(random);
    const bool expected = m >= 1 && m <= 12 && d >= 1 && d <= ReferenceDaysInMonth(y, m);
    ASSERT_EQ(IsValidDate(y, m, d), expected) << y << "-" << m << "-" << d << " seed " << kSeed;
  }
}

}  // namespace
}  // namespace malpro
