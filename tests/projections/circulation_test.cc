// The circulation read model's month answer: days, channels and merchants, checked against
// sums and a Gini computed here from its definition (docs/projections.md, "Circulation").
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/ledger.h"
#include "projections/read_models.h"
#include "tests/projections/projection_testing.h"
#include "tests/projections/read_model_checks.h"
#include "tests/support/ledger_fixture.h"

namespace malpro {
namespace {

using testing::DefinitionGini;
using testing::ExpectAt;
using testing::JsonAt;
using testing::kBuyer;
using testing::kJan31;
using testing::kOtherBuyer;

constexpr int64_t kCirculationDay = 24 * 3'600'000'000LL;

TEST(GiniTextTest, EqualIncomesGiveZero) {
  EXPECT_EQ(GiniText({1, 1, 1, 1}), "0.0000");
  EXPECT_EQ(GiniText({500'000'00, 500'000'00}), "0.0000");
}

TEST(GiniTextTest, NoneOrOneIncomeOrNothingEarnedGiveZero) {
  EXPECT_EQ(GiniText({}), "0.0000");
  EXPECT_EQ(GiniText({42}), "0.0000");
  EXPECT_EQ(GiniText({0, 0, 0}), "0.0000");
}

TEST(GiniTextTest, AllButOneEarningNothingGivesNMinusOneOverN) {
  EXPECT_EQ(GiniText({0, 7}), "0.5000");
  EXPECT_EQ(GiniText({0, 0, 0, 5}), "0.7500");
  EXPECT_EQ(GiniText({0, 0, 10}), "0.6667");  // 2/3
  std::vector<int64_t> incomes(32, 0);
  incomes[17] = 123;
  EXPECT_EQ(GiniText(incomes), "0.9688");  // 31/32 = 0.96875, half up
}

// 1, 2, 3, 4: the pairs differ by 1, 2, 3, 1, 2, 1 (sum 10, both ways 20); 2 n^2 mean =
// 2 * 16 * 2.5 = 80; G = 20 / 80. Sorted form: (-3*1 - 1*2 + 1*3 + 3*4) / (4 * 10) = 10 / 40.
TEST(GiniTextTest, SmallCasesWorkedByHand) {
  EXPECT_EQ(GiniText({4, 2, 3, 1}), "0.2500");
  EXPECT_EQ(GiniText({1, 2}), "0.1667");           // 1 / (2 * 3)
  EXPECT_EQ(GiniText({20000, 233000}), "0.4209");  // 213000 / 506000 = 0.42094...
}

TEST(GiniTextTest, LargeAmountsDoNotOverflow) {
  EXPECT_EQ(GiniText({INT64_MAX / 2, 0}), "0.5000");
  EXPECT_EQ(GiniText(std::vector<int64_t>(100'000, 1'000'000'000'000)), "0.0000");
}

TEST(GiniTextTest, SortedFormEqualsTheDefinitionOnSeededIncomes) {
  std::mt19937_64 random(20261001);
  for (int round = 0; round < 500; ++round) {
    std::vector<int64_t> incomes(1 + random() % 12);
    for (int64_t& x : incomes)
      x = static_cast<int64_t>(random() % (round % 2 == 0 ? 5 : 10'000'000));
    EXPECT_EQ(GiniText(incomes), DefinitionGini(incomes)) << "round " << round;
  }
}

int64_t CirculationSen(const std::string& text) {
  const bool negative = text.starts_with("-");
  Result<Money> amount = ParseAmount(negative ? text.substr(1) : text, "amount");
  EXPECT_TRUE(amount.ok()) << "not an amount: " << text;
  return amount.ok() ? (negative ? -amount->sen() : amount->sen()) : 0;
}

// Days and channels each add up to the month's total; merchants' spend is the total less
// receipts; merchants.count is the number of merchants with spend.
void ExpectCirculationAddsUp(const std::string& json) {
  const int64_t total = CirculationSen(JsonAt(json, "/total/spend"));
  const int64_t purchases = std::stoll(JsonAt(json, "/total/purchases"));
  int64_t days = 0;
  int64_t day_purchases = 0;
  std::string previous;
  for (int i = 0; JsonAt(json, "/days/" + std::to_string(i)) != "<missing>"; ++i) {
    const std::string at = "/days/" + std::to_string(i);
    const std::string date = JsonAt(json, at + "/date");
    EXPECT_LT(previous, date) << "days in date order";
    previous = date;
    days += CirculationSen(JsonAt(json, at + "/spend"));
    day_purchases += std::stoll(JsonAt(json, at + "/purchases"));
  }
  EXPECT_EQ(days, total) << json;
  EXPECT_EQ(day_purchases, purchases) << json;
  int64_t channels = 0;
  int64_t channel_purchases = 0;
  for (const char* channel : {"cod", "qris", "va", "receipt"}) {
    const std::string at = std::string("/channels/") + channel;
    channels += CirculationSen(JsonAt(json, at + "/spend"));
    channel_purchases += std::stoll(JsonAt(json, at + "/purchases"));
  }
  EXPECT_EQ(channels, total) << json;
  EXPECT_EQ(channel_purchases, purchases) << json;
  EXPECT_EQ(CirculationSen(JsonAt(json, "/merchants/spend")),
            total - CirculationSen(JsonAt(json, "/channels/receipt/spend")))
      << json;
}

// The month's circulation answer, checked to add up (ExpectCirculationAddsUp).
std::string AddedUpCirculation(const Projector& projector, const std::string& month) {
  std::string json = projector.Circulation(month);
  ExpectCirculationAddsUp(json);
  return json;
}

class CirculationTest : public testing::ProjectionFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenLedgerOnJan31());
    PolicyDefaults defaults;
    defaults.minimum_spend = {{"III", Money::FromRupiah(400'000)}};
    defaults.effective_from = {2026, 1, 1};
    ASSERT_TRUE(ledger_->SeedPolicy(defaults, As("system:config")).ok());
    RegisterBuyers();
  }

  // A verified merchant in `kelurahan` selling one product "barang" at `price` rupiah.
  void Merchant(const std::string& id, const std::string& name, const std::string& kecamatan,
                const std::string& kelurahan, int64_t price) {
    Ok(ledger_->Register(RegisterUmkm{id, name, "", "sembako", kecamatan, kelurahan, "Diskopindag",
                                      "0012345678", "UKE"},
                         As("admin:setup")));
    Ok(ledger_->VerifyUmkm(id, As("operator:rina")));
    Ok(ledger_->List({id, "barang", "Barang", "pack", Money::FromRupiah(price)},
                     As("merchant:" + id)));
  }

  // A COD order of `quantity` of the merchant's product, delivered and paid in cash now.
  void Cod(const std::string& order_id, const std::string& umkm_id, int64_t quantity) {
    Ok(ledger_->Place(PlaceOrder{order_id, kBuyer, umkm_id, {{"barang", quantity}}, "COD"},
                      As("asn:x")));
    Ok(ledger_->AcceptOrder(order_id, As("merchant:" + umkm_id)));
    Ok(ledger_->DeliverOrder(order_id, As("merchant:" + umkm_id)));
    Ok(ledger_->ConfirmCashReceived(order_id, As("merchant:" + umkm_id)));
  }

  // A cashless order of `quantity` paid now through `channel` (QRIS or VA) for `amount`.
  void Cashless(const std::string& order_id, const std::string& umkm_id, int64_t quantity,
                const std::string& channel, int64_t amount) {
    Ok(ledger_->Place(
        PlaceOrder{order_id, kOtherBuyer, umkm_id, {{"barang", quantity}}, "CASHLESS"},
        As("asn:x")));
    Ok(ledger_->RequestPayment(order_id, channel, "ref-" + order_id, As("system:bank")));
    Ok(ledger_->RecordPaymentSucceeded(testing::BankPaid(order_id, channel, "ref-" + order_id,
                                                         Money::FromRupiah(amount), now_.load()),
                                       As("bank:bank-jatim")));
  }
};

TEST_F(CirculationTest, DaysChannelsAndMerchantsAddUpToTheMonth) {
  Merchant("warung-bu-sri", "Warung Bu Sri", "Klojen", "Kauman", 165'000);
  Merchant("kripik-tempe", "Kripik Tempe Sanan", "Blimbing", "Purwantoro", 15'000);
  Merchant("sate-pak-man", "Sate Pak Man", "Kedungkandang", "Sawojajar", 68'000);
  Cod("order-jan", "sate-pak-man", 1);  // 31 January: not February's
  now_ = kJan31 + kCirculationDay;      // 1 February
  Cod("order-cod", "warung-bu-sri", 1);
  Cashless("order-qris", "kripik-tempe", 2, "QRIS", 30'000);
  now_ = kJan31 + 3 * kCirculationDay;  // 3 February
  Ok(ledger_->Place(
      PlaceOrder{"order-va", kOtherBuyer, "sate-pak-man", {{"barang", 1}}, "CASHLESS"},
      As("asn:x")));
  Ok(ledger_->RequestPayment("order-va", "VA", "   12345000000000001", As("system:bank")));
  Ok(ledger_->RecordPaymentSucceeded(testing::BankPaid("order-va", "VA", "   12345000000000001",
                                                       Money::FromRupiah(68'000), now_.load()),
                                     As("bank:bank-jatim")));
  Ok(ledger_->Submit(
      SubmitReceipt{"receipt-1", kBuyer, "Toko Sumber Rejeki", "Kauman", Money::FromRupiah(50'000),
                    "2026-02-02", std::string("\x89PNG\r\n\x1A\n", 8) + "circulation receipt"},
      As("asn:x")));
  Ok(ledger_->ApproveReceipt("receipt-1", As("operator:rina")));
  now_ = kJan31 + 5 * kCirculationDay;  // 5 February: reduces 1 February's QRIS payment
  Ok(ledger_->RefundPayment("order-qris", Money::FromRupiah(10'000), As("operator:rina")));

  std::unique_ptr<Projector> projector = OpenProjector();
  ASSERT_NE(projector, nullptr);
  const std::string february = AddedUpCirculation(*projector, "2026-02");
  ExpectAt(
      february,
      {{"/total/spend", "303000.00"},
       {"/days", R"([{"date":"2026-02-01","spend":"185000.00","purchases":2},)"
                 R"({"date":"2026-02-02","spend":"50000.00","purchases":1},)"
                 R"({"date":"2026-02-03","spend":"68000.00","purchases":1}])"},
       {"/channels",
        R"({"cod":{"spend":"165000.00","purchases":1},"qris":{"spend":"20000.00","purchases":1},)"
        R"("va":{"spend":"68000.00","purchases":1},"receipt":{"spend":"50000.00","purchases":1}})"},
       {"/merchants/count", "3"},
       {"/merchants/spend", "253000.00"},
       {"/merchants/top/0",
        R"({"umkm_id":"warung-bu-sri","name":"Warung Bu Sri","spend":"165000.00","purchases":1})"},
       {"/merchants/top/1/umkm_id", "sate-pak-man"},
       {"/merchants/top/2/umkm_id", "kripik-tempe"},
       {"/merchants/top/2/spend", "20000.00"},
       {"/merchants/top_decile_merchants", "1"},
       {"/merchants/top_decile_share_basis_points", "6522"},  // 165000 / 253000, half up
       {"/merchants/top_decile_share_percent", "65.22"},
       {"/merchants/gini", DefinitionGini({165'000'00, 68'000'00, 20'000'00})}});
  // Sorted 20000, 68000, 165000: (-2 * 20000 + 0 + 2 * 165000) / (3 * 253000) = 0.38208...
  EXPECT_EQ(JsonAt(february, "/merchants/gini"), "0.3821");
  const std::string january = AddedUpCirculation(*projector, "2026-01");
  EXPECT_EQ(JsonAt(january, "/channels/cod/spend"), "68000.00");
  EXPECT_EQ(JsonAt(january, "/merchants/gini"), "0.0000");  // one merchant
}

// A paid order is cancelled only after a full refund: it stays a purchase of 0.00 on the day
// it was paid, and its merchant has no spend; money the bank moved for a voided request
// counts nowhere.
TEST_F(CirculationTest, ARefundedCancelledOrderAndAVoidedPaymentAddNoSpend) {
  Merchant("warung-bu-sri", "Warung Bu Sri", "Klojen", "Kauman", 68'000);
  now_ = kJan31 + kCirculationDay;
  Cashless("order-refunded", "warung-bu-sri", 1, "QRIS", 68'000);
  now_ = kJan31 + 2 * kCirculationDay;
  Ok(ledger_->RefundPayment("order-refunded", Money::FromRupiah(68'000), As("operator:rina")));
  Ok(ledger_->CancelOrder("order-refunded", "barang habis", As("asn:x")));
  Ok(ledger_->Place(
      PlaceOrder{"order-void", kOtherBuyer, "warung-bu-sri", {{"barang", 1}}, "CASHLESS"},
      As("asn:x")));
  Ok(ledger_->RequestPayment("order-void", "VA", "ref-void", As("system:bank")));
  Ok(ledger_->CancelOrder("order-void", "salah pesan", As("asn:x")));
  Ok(ledger_->RecordPaymentSucceeded(
      testing::BankPaid("order-void", "VA", "ref-void", Money::FromRupiah(68'000), now_.load()),
      As("bank:bank-jatim")));

  std::unique_ptr<Projector> projector = OpenProjector();
  ASSERT_NE(projector, nullptr);
  const std::string february = AddedUpCirculation(*projector, "2026-02");
  ExpectAt(
      february,
      {{"/total/spend", "0.00"},
       {"/total/purchases", "1"},
       {"/days", R"([{"date":"2026-02-01","spend":"0.00","purchases":1}])"},
       {"/channels/qris", R"({"spend":"0.00","purchases":1})"},
       {"/channels/va", R"({"spend":"0.00","purchases":0})"},
       {"/merchants",
        R"({"count":0,"spend":"0.00","top":[],"top_decile_merchants":0,)"
        R"("top_decile_share_basis_points":0,"top_decile_share_percent":"0.00","gini":"0.0000"})"}});
  EXPECT_EQ(JsonAt(projector->Circulation("2026-03"), "/days"), "[]");
}

// Twelve merchants: the top ten by spend (a tie by umkm_id), and the top decile is the
// largest two (ceil(12 / 10)).
TEST_F(CirculationTest, TopMerchantsAndTopDecileShare) {
  std::vector<int64_t> incomes;
  for (int i = 1; i <= 12; ++i) {
    const std::string id = std::string("toko-") + (i < 10 ? "0" : "") + std::to_string(i);
    const int64_t price = 10'000 * (i == 12 ? 11 : i);  // toko-11 and toko-12 tie
    Merchant(id, "Toko " + std::to_string(i), "Klojen", "Kauman", price);
    Cod("order-" + id, id, 1);
    incomes.push_back(price * 100);
  }
  std::unique_ptr<Projector> projector = OpenProjector();
  ASSERT_NE(projector, nullptr);
  const std::string january = AddedUpCirculation(*projector, "2026-01");
  ExpectAt(january, {{"/merchants/count", "12"},
                     {"/merchants/spend", "770000.00"},
                     {"/merchants/top/0/umkm_id", "toko-11"},
                     {"/merchants/top/0/name", "Toko 11"},
                     {"/merchants/top/1/umkm_id", "toko-12"},
                     {"/merchants/top/2/umkm_id", "toko-10"},
                     {"/merchants/top/9/umkm_id", "toko-03"},
                     {"/merchants/top/9/spend", "30000.00"},
                     {"/merchants/top/10", "<missing>"},
                     {"/merchants/top_decile_merchants", "2"},
                     {"/merchants/top_decile_share_basis_points", "2857"},  // 220000 / 770000
                     {"/merchants/top_decile_share_percent", "28.57"},
                     {"/merchants/gini", DefinitionGini(incomes)},
                     {"/channels/cod/purchases", "12"}});
}

}  // namespace
}  // namespace malpro
