#include "engine/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace malpro {
namespace {

void ExpectRefused(const Result<Money>& result, std::string_view code) {
  ASSERT_FALSE(result.ok()) << "expected " << code;
  EXPECT_EQ(result.status().error_code(), code) << result.status().ToString();
  EXPECT_EQ(result.status().field(), "amount");
}

TEST(MoneyTest, JsonAmountsAcceptWholeAndUpToTwoDecimals) {
  EXPECT_EQ(*ParseAmount("10000", "amount"), Money::FromRupiah(10'000));
  EXPECT_EQ(*ParseAmount("10000.5", "amount"), Money::FromSen(1'000'050));
  EXPECT_EQ(*ParseAmount("10000.05", "amount"), Money::FromSen(1'000'005));
  EXPECT_EQ(*ParseAmount("0", "amount"), Money());
  EXPECT_EQ(*ParseAmount("0.01", "amount"), Money::FromSen(1));
}

TEST(MoneyTest, MoreThanTwoDecimalsIsRefused) {
  ExpectRefused(ParseAmount("10000.001", "amount"), "amount_too_precise");
  ExpectRefused(ParseSnapAmount("1.000", "amount"), "amount_too_precise");
  ExpectRefused(ParseMt940Amount("1,001", "amount"), "amount_too_precise");
}

TEST(MoneyTest, SignsSpacesGroupingAndLettersAreRefused) {
  for (std::string_view text : {"-1", "+1", " 1", "1 ", "10.000,00", "1,000.00", "1e3", "abc", "",
                                ".5", "5.", "1..2", "010000"}) {
    ExpectRefused(ParseAmount(text, "amount"), "amount_invalid");
  }
}

TEST(MoneyTest, OverflowIsRefused) {
  EXPECT_EQ(*ParseAmount("1000000000000", "amount"), Money::FromSen(money_sen_max));
  ExpectRefused(ParseAmount("1000000000000.01", "amount"), "amount_too_large");
  ExpectRefused(ParseAmount("99999999999999999999999", "amount"), "amount_too_large");
}

TEST(MoneyTest, SnapAmountsHaveExactlyTwoDecimals) {
  EXPECT_EQ(*ParseSnapAmount("10000.00", "amount"), Money::FromRupiah(10'000));
  ExpectRefused(ParseSnapAmount("10000", "amount"), "amount_invalid");
  ExpectRefused(ParseSnapAmount("10000.0", "amount"), "amount_invalid");
  EXPECT_EQ(FormatSnap(Money::FromSen(1'000'050)), "10000.50");
  EXPECT_EQ(FormatSnap(Money()), "0.00");
}

TEST(MoneyTest, Mt940UsesACommaAndAllowsAnEmptyFraction) {
  EXPECT_EQ(*ParseMt940Amount("10000,00", "amount"), Money::FromRupiah(10'000));
  EXPECT_EQ(*ParseMt940Amount("10000,", "amount"), Money::FromRupiah(10'000));
  EXPECT_EQ(*ParseMt940Amount("10000,5", "amount"), Money::FromSen(1'000'050));
  ExpectRefused(ParseMt940Amount("10000.00", "amount"), "amount_invalid");
  EXPECT_EQ(FormatMt940(Money::FromRupiah(10'000)), "10000,00");
}

TEST(MoneyTest, QrisPrintsWholeRupiahWithoutDecimals) {
  EXPECT_EQ(FormatQris(Money::FromRupiah(10'000)), "10000");
  EXPECT_EQ(FormatQris(Money::FromSen(1'000'050)), "10000.50");
  EXPECT_EQ(*ParseQrisAmount("10000", "amount"), Money::FromRupiah(10'000));
}

TEST(MoneyTest, DisplayGroupsThousandsTheIndonesianWay) {
  EXPECT_EQ(FormatDisplay(Money::FromRupiah(1'250'000)), "Rp1.250.000");
  EXPECT_EQ(FormatDisplay(Money()), "Rp0");
  EXPECT_EQ(FormatDisplay(Money::FromSen(1'000'050)), "Rp10.000,50");
  EXPECT_EQ(FormatDisplay(Money::FromRupiah(-5'000)), "-Rp5.000");
  EXPECT_EQ(FormatSnap(Money::FromRupiah(-5'000)), "-5000.00");
  // The extremes of the range, and amounts below one rupiah.
  EXPECT_EQ(FormatSnap(Money::FromSen(INT64_MIN)), "-92233720368547758.08");
  EXPECT_EQ(FormatSnap(Money::FromSen(INT64_MAX)), "92233720368547758.07");
  EXPECT_EQ(FormatSnap(Money::FromSen(-7)), "-0.07");
  EXPECT_EQ(FormatQris(Money::FromSen(-100)), "-1");
}

TEST(MoneyTest, BasisPointsRoundHalfUpToTheSen) {
  EXPECT_EQ(ApplyBasisPoints(Money::FromRupiah(100'000), 30), Money::FromRupiah(300));
  EXPECT_EQ(ApplyBasisPoints(Money::FromSen(150), 30), Money::FromSen(0));  // 0.45 sen
  EXPECT_EQ(ApplyBasisPoints(Money::FromSen(167), 30), Money::FromSen(1));  // 0.501 sen
  EXPECT_EQ(ApplyBasisPoints(Money::FromSen(5000), 1), Money::FromSen(1));  // 0.5 sen, up
  EXPECT_EQ(ApplyBasisPoints(Money::FromRupiah(123), 0), Money());
  EXPECT_EQ(ApplyBasisPoints(Money::FromRupiah(123), 10'000), Money::FromRupiah(123));
  EXPECT_EQ(ApplyBasisPoints(Money::FromSen(money_sen_max), 10'000), Money::FromSen(money_sen_max));
}

TEST(MoneyTest, EveryChannelRoundTripsRandomAmounts) {
  std::mt19937_64 random(20261122);
  std::uniform_int_distribution<int64_t> sen(0, money_sen_max);
  for (int i = 0; i < 10'000; ++i) {
    const Money amount = Money::FromSen(
        i < 5 ? std::array<int64_t, 5>{0, 1, 99, 100, money_sen_max}[i] : sen(random));
    ASSERT_EQ(*ParseSnapAmount(FormatSnap(amount), "amount"), amount);
    ASSERT_EQ(*ParseAmount(FormatSnap(amount), "amount"), amount);
    ASSERT_EQ(*ParseMt940Amount(FormatMt940(amount), "amount"), amount);
    ASSERT_EQ(*ParseQrisAmount(FormatQris(amount), "amount"), amount);
  }
}

}  // namespace
}  // namespace malpro
