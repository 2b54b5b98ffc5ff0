#include "projections/projector.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "adapters/cli/geography_config.h"
#include "engine/domain_events.h"
#include "engine/ledger.h"
#include "tests/projections/projection_digests.h"
#include "tests/projections/projection_testing.h"
#include "tests/projections/read_model_checks.h"
#include "tests/support/ledger_fixture.h"

namespace malpro {
namespace {

using testing::ExpectAt;
using testing::JsonAt;
using testing::kBuyer;
using testing::kJan31;
using testing::kOtherBuyer;

constexpr int64_t kHour = 3'600'000'000;

std::string PngPhoto(std::string_view unique) {
  return std::string("\x89PNG\r\n\x1A\n", 8) + "receipt photo " + std::string(unique);
}

class ProjectorTest : public testing::ProjectionFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenLedgerOnJan31()); }

  // Policy: golongan III must spend Rp400.000 a month; fee 0.7%, none for UMI up to Rp500.000.
  void SeedMarket() {
    PolicyDefaults defaults;
    defaults.minimum_spend = {{"III", Money::FromRupiah(400'000)},
                              {"IV", Money::FromRupiah(500'000)}};
    defaults.fee_basis_points = 70;
    defaults.umi_zero_fee_max = Money::FromRupiah(500'000);
    defaults.settlement_cutoff_minutes = 22 * 60;
    defaults.effective_from = {2026, 1, 1};
    ASSERT_TRUE(ledger_->SeedPolicy(defaults, As("system:config")).ok());
    RegisterBuyers();
    Ok(ledger_->Register(RegisterUmkm{"warung-bu-sri", "Warung Bu Sri", "", "sembako", "Klojen",
                                      "Kauman", "Diskopindag", "0012345678", "UKE"},
                         As("admin:setup")));
    Ok(ledger_->VerifyUmkm("warung-bu-sri", As("operator:rina")));
    Ok(ledger_->List(
        {"warung-bu-sri", "beras-5kg", "Beras 5 kg", "pack", Money::FromRupiah(68'000)},
        As("merchant:warung-bu-sri")));
    Ok(ledger_->List({"warung-bu-sri", "telur-1kg", "Telur 1 kg", "kg", Money::FromRupiah(29'000)},
                     As("merchant:warung-bu-sri")));
    Ok(ledger_->Register(RegisterUmkm{"kripik-tempe", "Kripik Tempe Sanan", "", "makanan",
                                      "Blimbing", "Purwantoro", "Diskopindag", "0098765432", "UMI"},
                         As("admin:setup")));
    Ok(ledger_->List(
        {"kripik-tempe", "kripik-250g", "Kripik Tempe 250 g", "pack", Money::FromRupiah(15'000)},
        As("merchant:kripik-tempe")));
  }

  // A COD order of beras x2 + telur x1 (Rp165.000), delivered; cash received if `paid`.
  void CodOrder(const std::string& id, const std::string& nip, bool paid) {
    Ok(ledger_->Place(
        PlaceOrder{id, nip, "warung-bu-sri", {{"beras-5kg", 2}, {"telur-1kg", 1}}, "COD"},
        As("asn:" + nip)));
    Ok(ledger_->AcceptOrder(id, As("merchant:warung-bu-sri")));
    Ok(ledger_->DeliverOrder(id, As("merchant:warung-bu-sri")));
    if (paid) Ok(ledger_->ConfirmCashReceived(id, As("merchant:warung-bu-sri")));
  }

  // A cashless order of beras x1 (Rp68.000) paid by QRIS at the current time.
  void CashlessOrder(const std::string& id, const std::string& nip) {
    Ok(ledger_->Place(PlaceOrder{id, nip, "warung-bu-sri", {{"beras-5kg", 1}}, "CASHLESS"},
                      As("asn:" + nip)));
    Ok(ledger_->RequestPayment(id, "QRIS", "ref-" + id, As("system:bank")));
    Ok(ledger_->RecordPaymentSucceeded(
        testing::BankPaid(id, "QRIS", "ref-" + id, Money::FromRupiah(68'000), now_.load()),
        As("bank:bank-jatim")));
  }
};

// A read model built on TableProjection gets storing, loading and listing of its tables from
// the base: rows in key order across tables, whatever order they were registered in.
struct Counter {
  int64_t n = 0;
  void Write(JsonWriter& writer) const { writer.BeginObject().Field("n", n).EndObject(); }
  static Result<Counter> Read(const JsonObject& object) {
    RowReader reader(object);
    Counter row{reader.Int("n")};
    MALPRO_RETURN_IF_ERROR(reader.Finish());
    return row;
  }
};

class TwoTables : public TableProjection {
 public:
  TwoTables() { OwnTables(later_, earlier_); }
  std::string_view name() const override { return "two_tables"; }
  int version() const override { return 1; }
  Status Apply(const Fact&) override {
    later_.Mutable("x").n++;
    earlier_.Mutable("y").n += 2;
    return Status::Ok();
  }
  RowTable<Counter> later_{"t/"};
  RowTable<Counter> earlier_{"h/"};
};

TEST(TableProjectionTest, StoresLoadsAndListsEveryRegisteredTableInKeyOrder) {
  TwoTables model;
  ASSERT_TRUE(model.Apply(Fact{}).ok());
  std::vector<RowWrite> changes;
  model.TakeChanges(&changes);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].StoredKey(), "h/y");
  EXPECT_EQ(*changes[0].json, R"({"n":2})");
  EXPECT_EQ(changes[1].StoredKey(), "t/x");

  TwoTables loaded;
  EXPECT_TRUE(loaded.LoadRow("t/x", R"({"n":5})").ok());
  EXPECT_TRUE(loaded.LoadRow("h/y", R"({"n":7})").ok());
  const Status unknown = loaded.LoadRow("q/z", R"({"n":1})");
  EXPECT_EQ(unknown.code(), StatusCode::kCorruption);
  EXPECT_NE(unknown.message().find("two_tables: unknown row 'q/z'"), std::string::npos);
  std::vector<std::string> listed;
  loaded.ForEachRow(
      [&](const std::string& key, const std::string& json) { listed.push_back(key + "=" + json); });
  EXPECT_EQ(listed, (std::vector<std::string>{R"(h/y={"n":7})", R"(t/x={"n":5})"}));
  EXPECT_EQ(loaded.earlier_.Find("y")->n, 7);
}

TEST_F(ProjectorTest, CashCountsInTheJakartaMonthItWasReceived) {
  SeedMarket();
  now_ = kJan31 + 13 * kHour;  // 23:00 WIB on 31 January
  CodOrder("order-jan", kBuyer, false);
  now_ = kJan31 + 14 * kHour + 10 * 60'000'000LL;  // 00:10 WIB on 1 February, still 31 Jan UTC
  Ok(ledger_->ConfirmCashReceived("order-jan", As("merchant:warung-bu-sri")));
  std::unique_ptr<Projector> projector = OpenProjector();
  ASSERT_NE(projector, nullptr);

  const std::string january = *projector->AsnSpend(kBuyer, "2026-01");
  ExpectAt(january, {{"/committed", "0.00"},
                     {"/pending", "0.00"},  // placed in January, no longer pending
                     {"/pending_orders", "0"}});
  const std::string february = *projector->AsnSpend(kBuyer, "2026-02");
  ExpectAt(february, {{"/committed", "165000.00"},
                      {"/cod/count", "1"},
                      {"/minimum", "400000.00"},
                      {"/compliant", "false"},
                      {"/shortfall", "235000.00"}});
}

TEST_F(ProjectorTest, PlacedUnpaidOrdersArePendingUntilPaidOrCancelled) {
  SeedMarket();
  CodOrder("order-open", kBuyer, false);
  Ok(ledger_->Place(
      PlaceOrder{"order-cancelled", kBuyer, "warung-bu-sri", {{"telur-1kg", 1}}, "COD"},
      As("asn:x")));
  std::unique_ptr<Projector> projector = OpenProjector();
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/pending"), "194000.00");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/pending_orders"), "2");
  projector.reset();

  Ok(ledger_->CancelOrder("order-cancelled", "salah pesan", As("asn:x")));
  projector = OpenProjector();  // resumes from its checkpoint
  ExpectAt(*projector->AsnSpend(kBuyer, "2026-01"),
           {{"/pending", "165000.00"}, {"/pending_orders", "1"}, {"/committed", "0.00"}});
}

TEST_F(ProjectorTest, CashlessCountsWhenPaidAndRefundsReduceThatMonth) {
  SeedMarket();
  CashlessOrder("order-qris", kBuyer);
  now_ = kJan31 + 24 * kHour;  // 1 February: the refund reverses January's payment
  Ok(ledger_->RefundPayment("order-qris", Money::FromRupiah(18'000), As("operator:rina")));
  Ok(ledger_->Place(
      PlaceOrder{"order-unpaid", kBuyer, "warung-bu-sri", {{"beras-5kg", 1}}, "CASHLESS"},
      As("asn:x")));
  Ok(ledger_->RequestPayment("order-unpaid", "VA", "ref-x", As("system:bank")));
  Ok(ledger_->RecordPaymentFailed("order-unpaid", "insufficient funds", As("bank:bank-jatim")));
  std::unique_ptr<Projector> projector = OpenProjector();

  const std::string january = *projector->AsnSpend(kBuyer, "2026-01");
  ExpectAt(january, {{"/cashless/count", "1"},
                     {"/cashless/amount", "68000.00"},
                     {"/refunds", "18000.00"},
                     {"/committed", "50000.00"}});
  const std::string february = *projector->AsnSpend(kBuyer, "2026-02");
  EXPECT_EQ(JsonAt(february, "/committed"), "0.00");  // a failed payment counts for nothing
  EXPECT_EQ(JsonAt(february, "/pending"), "68000.00");

  // Fee 0.7% of Rp68.000 for a UKE merchant = Rp476; the refund lands on its own day.
  const std::string sales = projector->MerchantSales("warung-bu-sri", "2026-01-01", "2026-02-28");
  ExpectAt(sales, {{"/days/0/date", "2026-01-31"},
                   {"/days/0/fee", "476.00"},
                   {"/days/0/net", "67524.00"},
                   {"/days/1/date", "2026-02-01"},
                   {"/days/1/refunds", "18000.00"},
                   {"/total/net", "49524.00"}});
}

TEST_F(ProjectorTest, MoneyForAVoidedRequestCountsTowardNothingAndIsAnException) {
  SeedMarket();
  Ok(ledger_->Place(
      PlaceOrder{"order-void", kBuyer, "warung-bu-sri", {{"beras-5kg", 1}}, "CASHLESS"},
      As("asn:x")));
  Ok(ledger_->RequestPayment("order-void", "QRIS", "ref-void", As("system:bank")));
  Ok(ledger_->CancelOrder("order-void", "salah pesan", As("asn:x")));
  const BankSuccess late =
      testing::BankPaid("order-void", "QRIS", "ref-void", Money::FromRupiah(68'000), now_.load());
  Ok(ledger_->RecordPaymentSucceeded(late, As("bank:bank-jatim")));
  CashlessOrder("order-paid", kBuyer);
  std::unique_ptr<Projector> projector = OpenProjector();

  // Only the paid order counts: for the buyer, the merchant, the settlement, the city.
  const std::string january = *projector->AsnSpend(kBuyer, "2026-01");
  ExpectAt(january, {{"/cashless/count", "1"}, {"/committed", "68000.00"}, {"/pending", "0.00"}});
  const std::string sales = projector->MerchantSales("warung-bu-sri", "2026-01-01", "2026-01-31");
  EXPECT_EQ(JsonAt(sales, "/total/gross"), "68000.00");
  EXPECT_EQ(JsonAt(projector->Outstanding("warung-bu-sri"), "/gross"), "68000.00");
  EXPECT_EQ(JsonAt(projector->Circulation("2026-01"), "/total/spend"), "68000.00");

  std::string open = projector->Exceptions("open", {});
  ExpectAt(open, {{"/total", "1"},
                  {"/open_amount", "68000.00"},
                  {"/exceptions/0/payment_id", "order-void"},
                  {"/exceptions/0/cause", "payment_voided"},
                  {"/exceptions/0/status", "open"}});
  projector.reset();

  Ok(ledger_->ResolveException("order-void", "refunded", "dikembalikan", As("operator:rina")));
  projector = OpenProjector();  // resumes from its checkpoint
  EXPECT_EQ(JsonAt(projector->Exceptions("open", {}), "/total"), "0");
  const std::string resolved = projector->Exceptions("resolved", {});
  EXPECT_EQ(JsonAt(resolved, "/exceptions/0/resolution"), "refunded");
  EXPECT_EQ(JsonAt(resolved, "/exceptions/0/amount"), "68000.00");
  EXPECT_EQ(projector->OpenExceptions(), 0);
}

// An exception's place is when it was raised (not its payment id), so a cursor pages on while
// new ones arrive; a virtual account number is shown without SNAP's padding.
TEST_F(ProjectorTest, ExceptionsArePagedInTheOrderTheyWereRaisedWithTheirVaAsShown) {
  SeedMarket();
  for (const auto& [id, channel, reference] :
       {std::tuple{"order-z", "QRIS", "ref-z"}, {"order-a", "VA", "   12345000000000001"}}) {
    Ok(ledger_->Place(PlaceOrder{id, kBuyer, "warung-bu-sri", {{"beras-5kg", 1}}, "CASHLESS"},
                      As("asn:x")));
    Ok(ledger_->RequestPayment(id, channel, reference, As("system:bank")));
    Ok(ledger_->CancelOrder(id, "salah pesan", As("asn:x")));
    Ok(ledger_->RecordPaymentSucceeded(
        testing::BankPaid(id, channel, reference, Money::FromRupiah(68'000), now_.load()),
        As("bank:bank-jatim")));
    now_ += 60'000'000;
  }
  std::unique_ptr<Projector> projector = OpenProjector();
  ListPage page;
  page.limit = 1;
  const std::string first = projector->Exceptions("open", page);
  ExpectAt(first, {{"/total", "2"}, {"/exceptions/0/payment_id", "order-z"}, {"/sort", "oldest"}});
  Result<ListPosition> after = ParseCursor(JsonAt(first, "/next"), list_exceptions);
  ASSERT_TRUE(after.ok()) << first;
  page.after = *after;
  const std::string second = projector->Exceptions("open", page);
  ExpectAt(second, {{"/exceptions/0/payment_id", "order-a"},
                    {"/exceptions/0/bank_reference", "12345000000000001"},
                    {"/exceptions/1", "<missing>"},
                    {"/next", "null"}});
  EXPECT_LT(std::stoll(JsonAt(first, "/exceptions/0/recorded_at_us")),
            std::stoll(JsonAt(second, "/exceptions/0/recorded_at_us")));
  page = ListPage{};
  page.newest_first = true;
  ExpectAt(projector->Exceptions("all", page), {{"/exceptions/0/payment_id", "order-a"},
                                                {"/exceptions/1/payment_id", "order-z"},
                                                {"/next", "null"}});
  EXPECT_EQ(JsonAt(projector->Exceptions("resolved", {}), "/total"), "0");
}

TEST_F(ProjectorTest, AClosedMonthShowsLaterMoneyAsAnAdjustment) {
  SeedMarket();
  CodOrder("order-jan", kBuyer, true);  // Rp165.000 in January
  std::unique_ptr<Projector> projector = OpenProjector();
  auto [figures, applied] = projector->ComplianceFigures("2026-01");
  EXPECT_EQ(figures.asn, 2);
  EXPECT_EQ(figures.compliant, 0);
  EXPECT_EQ(figures.committed, Money::FromRupiah(165'000));
  EXPECT_EQ(figures.shortfall, Money::FromRupiah(235'000 + 500'000));
  CloseComplianceMonth command{"2026-01",         applied,           figures.asn,
                               figures.compliant, figures.committed, figures.shortfall,
                               figures.sha256};
  Result<CommandResult> early = ledger_->CloseMonth(command, As("operator:rina"));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().error_code(), "month_not_over");
  now_ = kJan31 + 24 * kHour;  // 1 February
  CloseComplianceMonth stale = command;
  stale.as_of_sequence = applied - 1;
  Result<CommandResult> refused = ledger_->CloseMonth(stale, As("operator:rina"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().error_code(), "compliance_figures_stale");
  Ok(ledger_->CloseMonth(command, As("operator:rina")));
  Result<CommandResult> again = ledger_->CloseMonth(command, As("operator:rina"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().error_code(), "month_already_closed");
  ASSERT_TRUE(projector->CatchUp().ok());
  std::string rollup = projector->Rollup("2026-01", RollupBy::kAgency);
  ExpectAt(rollup, {{"/closed/figures_sha256", figures.sha256},
                    {"/closed/recorded_sha256", figures.sha256},
                    {"/closed/adjustments/asn", "0"}});
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/committed_at_close"), "165000.00");
  EXPECT_EQ(JsonAt(projector->Rollup("2026-02", RollupBy::kAgency), "/closed"), "null");

  // A receipt of 30 January approved in February: January's figure changes, as an adjustment.
  Ok(ledger_->Submit(SubmitReceipt{"receipt-late", kBuyer, "Toko Sumber Rejeki", "Kauman",
                                   Money::FromRupiah(300'000), "2026-01-30", PngPhoto("late")},
                     As("asn:x")));
  Ok(ledger_->ApproveReceipt("receipt-late", As("operator:rina")));
  // And the other buyer, who had nothing in January, gets a late receipt too.
  Ok(ledger_->Submit(SubmitReceipt{"receipt-other", kOtherBuyer, "Toko Lain", "Sawojajar",
                                   Money::FromRupiah(20'000), "2026-01-29", PngPhoto("other")},
                     As("asn:x")));
  Ok(ledger_->ApproveReceipt("receipt-other", As("operator:rina")));
  ASSERT_TRUE(projector->CatchUp().ok());
  rollup = projector->Rollup("2026-01", RollupBy::kAgency);
  ExpectAt(rollup, {{"/total/committed", "485000.00"},
                    {"/closed/committed", "165000.00"},  // the figure as closed stays
                    {"/closed/adjustments/asn", "2"},
                    {"/closed/adjustments/committed", "320000.00"},
                    {"/closed/adjustments/compliance_changed", "1"}});  // 465.000 >= 400.000
  const std::string row = *projector->AsnSpend(kBuyer, "2026-01");
  ExpectAt(row, {{"/closed", "true"},
                 {"/committed_at_close", "165000.00"},
                 {"/compliant_at_close", "false"},
                 {"/adjustment", "300000.00"}});
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kOtherBuyer, "2026-01"), "/committed_at_close"), "0.00");
  projector.reset();
  // The same after a reopen from the stored rows.
  projector = OpenProjector();
  EXPECT_EQ(projector->Rollup("2026-01", RollupBy::kAgency), rollup);
}

TEST_F(ProjectorTest, ApprovedReceiptsCountInTheirPurchaseMonthAndRejectedOnesNever) {
  SeedMarket();
  now_ = kJan31 + 24 * kHour;  // 1 February
  Ok(ledger_->Submit(SubmitReceipt{"receipt-ok", kBuyer, "Toko Sumber Rejeki", "Kauman",
                                   Money::FromRupiah(120'000), "2026-01-30", PngPhoto("a")},
                     As("asn:x")));
  Ok(ledger_->Submit(SubmitReceipt{"receipt-bad", kBuyer, "Toko Lain", "Kauman",
                                   Money::FromRupiah(999'000), "2026-01-30", PngPhoto("b")},
                     As("asn:x")));
  Ok(ledger_->ApproveReceipt("receipt-ok", As("operator:rina")));
  Ok(ledger_->RejectReceipt("receipt-bad", "foto tidak jelas", As("operator:rina")));
  std::unique_ptr<Projector> projector = OpenProjector();
  const std::string january = *projector->AsnSpend(kBuyer, "2026-01");
  EXPECT_EQ(JsonAt(january, "/receipts/count"), "1");
  EXPECT_EQ(JsonAt(january, "/committed"), "120000.00");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-02"), "/committed"), "0.00");
  // The shop was in Klojen, the buyer's own kecamatan.
  const std::string circulation = projector->Circulation("2026-01");
  EXPECT_EQ(JsonAt(circulation, "/total/spend"), "120000.00");
  EXPECT_EQ(JsonAt(circulation, "/total/local_share_percent"), "100.00");
}

TEST_F(ProjectorTest, PolicyChangeMidMonthAppliesToThatWholeMonthOnly) {
  SeedMarket();
  CodOrder("order-1", kBuyer, true);  // 31 January: Rp165.000
  now_ = kJan31 + 24 * kHour;
  CodOrder("order-2", kBuyer, true);  // 1 February
  now_ = kJan31 + 15 * 24 * kHour;    // 15 February
  Ok(ledger_->SetMinimumSpend("III", Money::FromRupiah(150'000), "2026-02-15", As("admin:x")));
  std::unique_ptr<Projector> projector = OpenProjector();
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/minimum"), "400000.00");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/compliant"), "false");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-02"), "/minimum"), "150000.00");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-02"), "/compliant"), "true");
  // A month nobody spent in still shows the rule: the other ASN is golongan IV.
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kOtherBuyer, "2026-02"), "/minimum"), "500000.00");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kOtherBuyer, "2026-02"), "/shortfall"), "500000.00");
  EXPECT_EQ(projector->AsnSpend("199901012020121001", "2026-02").status().error_code(),
            "asn_not_found");
}

TEST_F(ProjectorTest, RollupsCountEveryAsnIncludingThoseWhoSpentNothing) {
  SeedMarket();
  now_ = kJan31 + 24 * kHour;
  CodOrder("order-1", kBuyer, true);
  CodOrder("order-2", kBuyer, true);
  CodOrder("order-3", kBuyer, true);  // Rp495.000 >= Rp400.000
  std::unique_ptr<Projector> projector = OpenProjector();
  const std::string by_agency = projector->Rollup("2026-02", RollupBy::kAgency);
  ExpectAt(by_agency, {{"/total/asn", "2"},
                       {"/total/compliant", "1"},
                       {"/groups/0/agency", "Dinkes"},
                       {"/groups/0/compliant", "0"},
                       {"/groups/1/agency", "Diskominfo"},
                       {"/groups/1/compliant", "1"}});
  const std::string by_rank = projector->Rollup("2026-02", RollupBy::kRankClass);
  ExpectAt(by_rank, {{"/groups/0/rank_class", "III/a"},
                     {"/groups/1/rank_class", "IV/a"},
                     {"/groups/1/shortfall", "500000.00"}});
  const Result<std::string> shortfalls = projector->Shortfalls("2026-02", "", 0, 10);
  ASSERT_TRUE(shortfalls.ok()) << shortfalls.status().ToString();
  EXPECT_EQ(JsonAt(*shortfalls, "/total"), "1");
  EXPECT_EQ(JsonAt(*shortfalls, "/asn/0/nip"), kOtherBuyer);
  EXPECT_EQ(projector->MonthCompliance("2026-02").compliant, 1);
  // Nobody was registered in December.
  EXPECT_EQ(projector->MonthCompliance("2025-12").asn, 0);
}

TEST_F(ProjectorTest, ShortfallsTakeTheAgencyInAnyCaseAndRefuseOneNoAsnHas) {
  SeedMarket();
  now_ = kJan31 + 24 * kHour;
  std::unique_ptr<Projector> projector = OpenProjector();
  const Result<std::string> exact = projector->Shortfalls("2026-02", "Dinkes", 0, 10);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(JsonAt(*exact, "/total"), "1");
  EXPECT_EQ(JsonAt(*exact, "/asn/0/nip"), kOtherBuyer);
  for (const char* spelling : {"DINKES", "dinkes", "dInKeS"}) {
    const Result<std::string> other_case = projector->Shortfalls("2026-02", spelling, 0, 10);
    ASSERT_TRUE(other_case.ok()) << spelling << ": " << other_case.status().ToString();
    EXPECT_EQ(*other_case, *exact) << spelling;
  }
  // An agency of registered ASN is known in a month before any of them was registered.
  const Result<std::string> before = projector->Shortfalls("2025-12", "dinkes", 0, 10);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(JsonAt(*before, "/total"), "0");
  for (const char* unknown : {"Dishub", "Dinke", "Dinkes "}) {
    const Result<std::string> refused = projector->Shortfalls("2026-02", unknown, 0, 10);
    ASSERT_FALSE(refused.ok()) << unknown;
    EXPECT_EQ(refused.status().error_code(), errc::kAgencyUnknown);
    EXPECT_EQ(refused.status().field(), "agency");
    EXPECT_NE(refused.status().message().find(std::string("\"") + unknown + "\""),
              std::string::npos)
        << refused.status().message();
  }
}

TEST_F(ProjectorTest, RankChangeSetsTheMinimumFromItsMonthOn) {
  SeedMarket();
  CodOrder("order-1", kBuyer, true);
  now_ = kJan31 + 24 * kHour;
  CodOrder("order-2", kBuyer, true);
  Ok(ledger_->ChangeRank(kBuyer, "IV/a", As("admin:bkpsdm")));
  std::unique_ptr<Projector> projector = OpenProjector();
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/rank_class"), "III/a");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-01"), "/minimum"), "400000.00");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-02"), "/rank_class"), "IV/a");
  EXPECT_EQ(JsonAt(*projector->AsnSpend(kBuyer, "2026-02"), "/minimum"), "500000.00");
}

TEST_F(ProjectorTest, CatalogShowsVerifiedMerchantsWithCurrentPricesAndFilters) {
  SeedMarket();
  Ok(ledger_->Reprice("warung-bu-sri", "beras-5kg", Money::FromRupiah(70'000), As("merchant:x")));
  Ok(ledger_->Delist("warung-bu-sri", "telur-1kg", As("merchant:x")));
  std::unique_ptr<Projector> projector = OpenProjector();
  // kripik-tempe is registered but not verified.
  const std::string all = projector->Catalog(CatalogQuery{});
  ExpectAt(all, {{"/total", "1"},
                 {"/merchants/0/umkm_id", "warung-bu-sri"},
                 {"/merchants/0/products/0/price", "70000.00"},
                 {"/merchants/0/products/1", "<missing>"}});
  projector.reset();

  Ok(ledger_->VerifyUmkm("kripik-tempe", As("operator:rina")));
  projector = OpenProjector();
  EXPECT_EQ(JsonAt(projector->Catalog(CatalogQuery{}), "/total"), "2");
  EXPECT_EQ(
      JsonAt(projector->Catalog(CatalogQuery{"makanan", "", "", 0, 50}), "/merchants/0/umkm_id"),
      "kripik-tempe");
  EXPECT_EQ(JsonAt(projector->Catalog(CatalogQuery{"", "Klojen", "", 0, 50}), "/total"), "1");
  const std::string search = projector->Catalog(CatalogQuery{"", "", "KRIPIK", 0, 50});
  EXPECT_EQ(JsonAt(search, "/total"), "1");
  EXPECT_EQ(JsonAt(search, "/merchants/0/products/0/product_id"), "kripik-250g");
  EXPECT_EQ(JsonAt(projector->Catalog(CatalogQuery{"", "", "beras", 0, 50}), "/total"), "1");
  EXPECT_EQ(JsonAt(*projector->Merchant("kripik-tempe"), "/status"), "verified");
  EXPECT_EQ(projector->Merchant("nope").status().error_code(), "umkm_not_found");
}

TEST_F(ProjectorTest, OutstandingCashlessMoneyLeavesWhenItsDayIsSettled) {
  SeedMarket();
  CashlessOrder("order-a", kBuyer);  // business day 2026-01-31
  now_ = kJan31 + 24 * kHour;
  CashlessOrder("order-b", kBuyer);  // business day 2026-02-01
  std::unique_ptr<Projector> projector = OpenProjector();
  std::string owed = projector->Outstanding("warung-bu-sri");
  EXPECT_EQ(JsonAt(owed, "/payments"), "2");
  EXPECT_EQ(JsonAt(owed, "/net"), "135048.00");
  EXPECT_EQ(projector->UnclosedBusinessDays(),
            (std::vector<std::string>{"2026-01-31", "2026-02-01"}));
  projector.reset();

  AppendRequest close;
  close.actor = "operator:rina";
  close.events.push_back(ProposedEvent{
      "settlement-2026-01-31", std::string(event_types::settlement_batch_closed),
      R"({"business_date":"2026-01-31","merchants":[],"total_net":"67524.00","file_name":"x",)"
      R"("pain001_sha256":"00","csv_sha256":"00"})"});
  ASSERT_TRUE(log_->Append(close).ok());
  projector = OpenProjector();
  owed = projector->Outstanding("warung-bu-sri");
  EXPECT_EQ(JsonAt(owed, "/payments"), "1");
  EXPECT_EQ(JsonAt(owed, "/days/0/business_date"), "2026-02-01");
  EXPECT_EQ(JsonAt(projector->Outstanding(""), "/total/net"), "67524.00");
  EXPECT_EQ(projector->UnclosedBusinessDays(), std::vector<std::string>{"2026-02-01"});
}

TEST_F(ProjectorTest, CirculationSplitsSpendByPlaceAndLocalShare) {
  SeedMarket();
  CodOrder("order-1", kBuyer, true);       // Klojen buyer at a Klojen merchant
  CodOrder("order-2", kOtherBuyer, true);  // Kedungkandang buyer at a Klojen merchant
  std::unique_ptr<Projector> projector = OpenProjector();
  const std::string january = projector->Circulation("2026-01");
  ExpectAt(january, {{"/total/spend", "330000.00"},
                     {"/total/local_spend", "165000.00"},
                     {"/total/local_share_percent", "50.00"},
                     {"/kecamatan/0/kecamatan", "Klojen"},
                     {"/kecamatan/0/kelurahan/0/kelurahan", "Kauman"},
                     {"/kecamatan/0/share_percent", "100.00"}});
}

TEST_F(ProjectorTest, LogStatsCountEventsPerTypeAndTheHead) {
  SeedMarket();
  CodOrder("order-1", kBuyer, true);
  std::unique_ptr<Projector> projector = OpenProjector();
  const std::string stats = projector->LogStats();
  EXPECT_EQ(JsonAt(stats, "/events"), std::to_string(log_->Head().sequence));
  EXPECT_EQ(JsonAt(stats, "/head_hash"), HashToHex(log_->Head().hash));
  EXPECT_NE(stats.find(R"({"type":"order.placed","events":1})"), std::string::npos) << stats;
}

TEST_F(ProjectorTest, ResumingFromACheckpointEqualsARebuild) {
  SeedMarket();
  CodOrder("order-1", kBuyer, false);
  CashlessOrder("order-2", kOtherBuyer);
  std::unique_ptr<Projector> resumed = OpenProjector("resumed");
  resumed.reset();
  // Every kind of event after the checkpoint, touching streams folded before it.
  Ok(ledger_->ConfirmCashReceived("order-1", As("merchant:x")));
  Ok(ledger_->RefundPayment("order-2", Money::FromRupiah(8'000), As("operator:rina")));
  Ok(ledger_->ChangeRank(kBuyer, "III/b", As("admin:bkpsdm")));
  Ok(ledger_->Reprice("warung-bu-sri", "telur-1kg", Money::FromRupiah(30'000), As("merchant:x")));
  resumed = OpenProjector("resumed");
  EXPECT_FALSE(resumed->Report().rebuilt_on_open);
  std::unique_ptr<Projector> rebuilt = OpenProjector("rebuilt");
  EXPECT_TRUE(rebuilt->Report().rebuilt_on_open);
  ExpectSameDigests(DigestsOf(*resumed), DigestsOf(*rebuilt));
  EXPECT_EQ(DigestsOf(*resumed)[0].sequence, log_->Head().sequence);
}

TEST_F(ProjectorTest, AVersionMismatchRebuildsFromSequenceOne) {
  SeedMarket();
  CodOrder("order-1", kBuyer, true);
  std::vector<ProjectionDigest> before;
  {
    std::unique_ptr<Projector> projector = OpenProjector();
    before = DigestsOf(*projector);
  }
  {  // As if the catalog's code had been at version 0 when these rows were written.
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name :
         {std::string("default"), std::string("catalog"), std::string("asn_spend"),
          std::string("merchant_sales"), std::string("circulation"), std::string("log_stats"),
          std::string("exceptions"), std::string("work_lists")}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), dir_.Sub("read-models"), families, &handles, &db)
            .ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], std::string("\0checkpoint", 11),
                        R"({"projection":"catalog","version":0,"sequence":3,"hash":""})")
                    .ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], "m/stale", "{}").ok());
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    delete db;
  }
  std::vector<std::string> progress;
  ProjectorOptions options;
  options.dir = dir_.Sub("read-models");
  options.progress = [&](const std::string& line) { progress.push_back(line); };
  std::unique_ptr<Projector> projector = *Projector::Open(log_.get(), options);
  ASSERT_TRUE(projector->CatchUp().ok());
  EXPECT_TRUE(projector->Report().rebuilt_on_open);
  ASSERT_FALSE(progress.empty());
  EXPECT_NE(progress[0].find("catalog version 0 -> 1"), std::string::npos) << progress[0];
  ExpectSameDigests(DigestsOf(*projector), before);  // the stale row is gone
}

// A long catch-up (a rebuild) commits its rows as table files that the database ingests, one
// per projection with its checkpoint. They store what a commit through the write-ahead log
// stores, later commits through the log go on from them, and a commit whose files cannot be
// written fails naming the file and leaves the last checkpoint as it was.
TEST_F(ProjectorTest, ABulkCommitStoresWhatABatchStoresAndAFailedOneLeavesTheCheckpoint) {
  SeedMarket();
  CodOrder("order-1", kBuyer, true);
  CashlessOrder("order-2", kOtherBuyer);
  ProjectorOptions options;
  options.dir = dir_.Sub("bulk");
  options.bulk_commit_events = 1;      // every catch-up commit
  options.catch_up_commit_events = 2;  // commits after each batch read
  options.read_batch_events = 4;
  std::unique_ptr<Projector> bulk = *Projector::Open(log_.get(), options);
  ASSERT_TRUE(bulk->CatchUp().ok());
  const uint64_t first = log_->Head().sequence;
  EXPECT_EQ(bulk->Applied(), first);
  options.dir = dir_.Sub("batch");
  options.bulk_commit_events = UINT64_MAX;
  std::unique_ptr<Projector> batch = *Projector::Open(log_.get(), options);
  ASSERT_TRUE(batch->CatchUp().ok());
  ExpectSameDigests(DigestsOf(*bulk), DigestsOf(*batch));
  ASSERT_GT(DigestsOf(*bulk)[1].rows, 0u);

  // Events after the bulk commit, committed through the log, change rows it wrote.
  Ok(ledger_->RefundPayment("order-2", Money::FromRupiah(8'000), As("operator:rina")));
  bulk->Start();
  ASSERT_TRUE(bulk->WaitForApplied(log_->Head().sequence, std::chrono::seconds(10)));
  bulk->Stop();
  bulk.reset();
  options.dir = dir_.Sub("bulk");
  options.bulk_commit_events = 1;
  options.catch_up_commit_events = UINT64_MAX;   // from here on, one commit at the end
  bulk = *Projector::Open(log_.get(), options);  // reopened: rows loaded from both kinds
  EXPECT_FALSE(bulk->Report().rebuilt_on_open);
  std::unique_ptr<Projector> rebuilt = OpenProjector("rebuilt");
  ExpectSameDigests(DigestsOf(*bulk), DigestsOf(*rebuilt));

  // Where the table files go is taken by a plain file: the catch-up's last commit cannot
  // write them.
  CodOrder("order-3", kBuyer, true);
  const std::string files = dir_.Sub("bulk") + "/bulk-commit";
  std::filesystem::remove_all(files);
  std::ofstream(files) << "not a directory";
  const uint64_t applied = bulk->Applied();
  const Status failed = bulk->CatchUp();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find(files), std::string::npos) << failed.ToString();
  EXPECT_EQ(bulk->Applied(), applied);
  EXPECT_EQ(bulk->Report().health.ToString(), failed.ToString());
  // The rows of the failed commit were taken: this projector commits nothing more, not even
  // when it closes, so the stored checkpoint never runs ahead of the stored rows.
  std::filesystem::remove(files);
  std::filesystem::create_directories(files);
  EXPECT_EQ(bulk->CatchUp().ToString(), failed.ToString());
  bulk->Start();
  bulk->Stop();
  EXPECT_EQ(bulk->Applied(), applied);
  bulk.reset();
  bulk = *Projector::Open(log_.get(), options);  // the directory is made again on open
  for (const ProjectionDigest& digest : DigestsOf(*bulk)) {
    EXPECT_EQ(digest.sequence, applied) << digest.name;
  }
  ASSERT_TRUE(bulk->CatchUp().ok());
  rebuilt.reset();
  std::filesystem::remove_all(dir_.Sub("rebuilt"));
  rebuilt = OpenProjector("rebuilt");
  ExpectSameDigests(DigestsOf(*bulk), DigestsOf(*rebuilt));
}

// A catch-up runs in stages on three threads (reading, the world, the read models). An event
// the world cannot fold, a few batches in, stops all of them: the catch-up says which event
// and why, and nothing folded by it is committed.
TEST_F(ProjectorTest, AnEventTheWorldCannotFoldStopsTheCatchUpAndCommitsNothing) {
  SeedMarket();
  for (int i = 0; i < 6; ++i) CodOrder("order-" + std::to_string(i), kBuyer, true);
  Result<std::vector<Event>> events = log_->Read(1, 1000);
  ASSERT_TRUE(events.ok());
  std::string placed;
  for (const Event& event : *events) {
    if (event.type == event_types::order_placed) placed = event.payload;
  }
  ASSERT_NE(placed.find(kBuyer), std::string::npos);
  placed.replace(placed.find(kBuyer), std::string(kBuyer).size(), "199912312020121999");
  const std::string order_id = JsonAt(placed, "/order_id");
  AppendRequest ghost;
  ghost.actor = "test:raw";
  ghost.events.push_back(ProposedEvent{OrderStream(order_id + "-ghost"),
                                       std::string(event_types::order_placed), placed});
  Result<AppendResult> appended = log_->Append(ghost);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  const uint64_t bad = appended->first_sequence;
  for (int i = 6; i < 9; ++i) CodOrder("order-" + std::to_string(i), kOtherBuyer, true);
  ASSERT_GT(bad, 20u);

  ProjectorOptions options;
  options.dir = dir_.Sub("read-models");
  options.read_batch_events = 4;  // the bad event is several batches in, more follow it
  std::unique_ptr<Projector> projector = *Projector::Open(log_.get(), options);
  const Status caught_up = projector->CatchUp();
  ASSERT_FALSE(caught_up.ok());
  EXPECT_EQ(caught_up.code(), StatusCode::kCorruption) << caught_up.ToString();
  EXPECT_NE(caught_up.message().find("event " + std::to_string(bad)), std::string::npos)
      << caught_up.ToString();
  EXPECT_NE(caught_up.message().find("199912312020121999"), std::string::npos)
      << caught_up.ToString();
  EXPECT_EQ(projector->Report().health.ToString(), caught_up.ToString());
  EXPECT_EQ(projector->Applied(), 0u);
  for (const ProjectionDigest& digest : DigestsOf(*projector)) {
    EXPECT_EQ(digest.sequence, 0u) << digest.name;
    EXPECT_EQ(digest.rows, 0u) << digest.name;
  }
}

TEST_F(ProjectorTest, LiveFollowingWaitsForAppliedAndPublishesChanges) {
  SeedMarket();
  std::unique_ptr<Projector> projector = OpenProjector();
  const uint64_t start = projector->Applied();
  const auto [rows, position] = projector->Snapshot("catalog");
  EXPECT_EQ(position, start);
  EXPECT_EQ(rows.size(), 2u);
  projector->Start();
  Result<CommandResult> repriced =
      ledger_->Reprice("warung-bu-sri", "beras-5kg", Money::FromRupiah(71'000), As("merchant:x"));
  ASSERT_TRUE(repriced.ok());
  ASSERT_TRUE(projector->WaitForApplied(repriced->last_sequence, std::chrono::seconds(10)));
  EXPECT_EQ(JsonAt(projector->Catalog(CatalogQuery{}), "/merchants/0/products/0/price"),
            "71000.00");
  ChangePage page = projector->ChangesAfter(start, "catalog", 100);
  EXPECT_FALSE(page.reset);
  ASSERT_EQ(page.changes.size(), 1u);
  EXPECT_EQ(page.changes[0].sequence, repriced->last_sequence);
  EXPECT_EQ(page.changes[0].row.key, "m/warung-bu-sri");
  EXPECT_EQ(JsonAt(page.changes[0].row.value, "/products/0/price"), "71000.00");
  EXPECT_EQ(page.position, repriced->last_sequence);
  EXPECT_TRUE(projector->ChangesAfter(page.position, "", 100).changes.empty());
  EXPECT_FALSE(
      projector->WaitForApplied(repriced->last_sequence + 1, std::chrono::milliseconds(50)));
  projector->Stop();
  // After a restart the changes before the checkpoint are no longer kept: a subscriber that
  // was behind starts again from a snapshot.
  projector.reset();
  projector = OpenProjector();
  EXPECT_TRUE(projector->ChangesAfter(start, "", 100).reset);
  EXPECT_FALSE(projector->ChangesAfter(repriced->last_sequence, "", 100).reset);
}

}  // namespace
}  // namespace malpro
