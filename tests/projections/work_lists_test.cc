// The work lists' read model (projections/work_lists.h): what each row says after each event,
// its indexes as committed and as loaded again, cursors, and the walk's bound.
#include "projections/work_lists.h"

#include <gtest/gtest.h>

#include <set>

#include "projections/projector.h"
#include "tests/projections/projection_testing.h"
#include "tests/support/ledger_fixture.h"
#include "tests/support/list_pages.h"

namespace malpro {
namespace {

using testing::Ids;
using testing::Next;

using testing::kBuyer;
using testing::kJan31;
using testing::kOtherBuyer;

constexpr int64_t kMinute = 60'000'000;

class WorkListsTest : public testing::ProjectionFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenLedgerOnJan31());
    RegisterBuyers();
    for (const std::string id : {"warung-bu-sri", "kripik-tempe"}) {
      Ok(ledger_->Register(RegisterUmkm{id, "Toko " + id, "", "sembako", "Klojen", "Kauman",
                                        "Diskopindag", "0012345678", "UKE"},
                           As("admin:setup")));
      Ok(ledger_->VerifyUmkm(id, As("operator:rina")));
      Ok(ledger_->List({id, "beras-5kg", "Beras 5 kg", "pack", Money::FromRupiah(68'000)},
                       As("operator:rina")));
    }
  }

  void Place(const std::string& id, const std::string& nip, const std::string& umkm_id,
             const std::string& method = "COD") {
    now_ += kMinute;
    Ok(ledger_->Place(PlaceOrder{id, nip, umkm_id, {{"beras-5kg", 1}}, method}, As("asn:" + nip)));
  }

  static OrderListQuery Orders(std::string umkm_id, std::string status, size_t limit = 50) {
    OrderListQuery query;
    query.umkm_id = std::move(umkm_id);
    query.status = std::move(status);
    query.page.limit = limit;
    return query;
  }
};

TEST_F(WorkListsTest, OrdersAreFiledByMerchantBuyerAndTheirStatusAsItChanges) {
  Place("o-1", kBuyer, "warung-bu-sri");
  Place("o-2", kOtherBuyer, "warung-bu-sri");
  Place("o-3", kBuyer, "kripik-tempe");
  Place("o-4", kBuyer, "warung-bu-sri", "CASHLESS");
  Ok(ledger_->AcceptOrder("o-1", As("merchant:warung-bu-sri")));
  Ok(ledger_->RequestPayment("o-4", "QRIS", "ref-o-4", As("system:bank")));
  std::unique_ptr<Projector> projector = OpenProjector();
  ASSERT_NE(projector, nullptr);

  EXPECT_EQ(Ids(projector->OrderList(Orders("warung-bu-sri", "placed")), "order_id"),
            (std::vector<std::string>{"o-2", "o-4"}));
  EXPECT_EQ(Ids(projector->OrderList(Orders("warung-bu-sri", "accepted")), "order_id"),
            (std::vector<std::string>{"o-1"}));
  OrderListQuery buyer;
  buyer.buyer_nip = kBuyer;
  EXPECT_EQ(Ids(projector->OrderList(buyer), "order_id"),
            (std::vector<std::string>{"o-1", "o-3", "o-4"}));
  buyer.umkm_id = "warung-bu-sri";  // both: the merchant's index, the buyer checked on the way
  EXPECT_EQ(Ids(projector->OrderList(buyer), "order_id"), (std::vector<std::string>{"o-1", "o-4"}));
  const std::string cashless = projector->OrderList(Orders("warung-bu-sri", "placed", 50));
  EXPECT_NE(cashless.find(R"("order_id":"o-4","buyer_nip":")" + std::string(kBuyer) +
                          R"(","umkm_id":"warung-bu-sri","payment_method":"CASHLESS",)"
                          R"("total":"68000.00","status":"placed","cash_received":false,)"
                          R"("payment_status":"requested")"),
            std::string::npos)
      << cashless;

  // Moving on, followed live: the accepted order leaves "placed" and the paid one shows it.
  projector->Start();
  Ok(ledger_->AcceptOrder("o-2", As("merchant:warung-bu-sri")));
  Ok(ledger_->RecordPaymentSucceeded(
      testing::BankPaid("o-4", "QRIS", "ref-o-4", Money::FromRupiah(68'000), now_.load()),
      As("bank:bank-jatim")));
  ASSERT_TRUE(projector->WaitForApplied(log_->Head().sequence, std::chrono::seconds(5)));
  EXPECT_EQ(Ids(projector->OrderList(Orders("warung-bu-sri", "placed")), "order_id"),
            (std::vector<std::string>{"o-4"}));
  EXPECT_EQ(Ids(projector->OrderList(Orders("warung-bu-sri", "accepted")), "order_id"),
            (std::vector<std::string>{"o-1", "o-2"}));
  EXPECT_NE(projector->OrderList(Orders("", "placed")).find(R"("payment_status":"succeeded")"),
            std::string::npos);
  projector->Stop();
}

TEST_F(WorkListsTest, IndexesAreFiledAgainFromTheStoredRowsOnOpen) {
  Place("o-1", kBuyer, "warung-bu-sri");
  Place("o-2", kBuyer, "warung-bu-sri", "CASHLESS");
  Ok(ledger_->RequestPayment("o-2", "VA", "8808 0001", As("system:bank")));
  std::string orders;
  std::string payments;
  {
    std::unique_ptr<Projector> projector = OpenProjector();
    orders = projector->OrderList(Orders("warung-bu-sri", "placed"));
    PaymentListQuery pending;
    pending.status = "requested";
    pending.channel = "VA";
    payments = projector->PaymentList(pending);
  }
  ASSERT_EQ(Ids(orders, "order_id").size(), 2u) << orders;
  ASSERT_EQ(Ids(payments, "payment_id"), (std::vector<std::string>{"o-2"})) << payments;
  Ok(ledger_->CancelOrder("o-1", "salah pesan", As("asn:x")));
  // Rows loaded, not folded again; then one more event on top of them.
  std::unique_ptr<Projector> reopened = OpenProjector();
  EXPECT_FALSE(reopened->Report().rebuilt_on_open);
  EXPECT_EQ(Ids(reopened->OrderList(Orders("warung-bu-sri", "placed")), "order_id"),
            (std::vector<std::string>{"o-2"}));
  EXPECT_EQ(Ids(reopened->OrderList(Orders("warung-bu-sri", "cancelled")), "order_id"),
            (std::vector<std::string>{"o-1"}));
  PaymentListQuery pending;
  pending.status = "requested";
  pending.channel = "VA";
  EXPECT_EQ(reopened->PaymentList(pending), payments);
  // A rebuild from sequence 1 files the same rows the same way.
  std::unique_ptr<Projector> rebuilt = OpenProjector("rebuilt");
  EXPECT_EQ(rebuilt->OrderList(Orders("warung-bu-sri", "")),
            reopened->OrderList(Orders("warung-bu-sri", "")));
}

TEST_F(WorkListsTest, ACursorPagesOnWithoutSkippingOrRepeatingWhileOrdersArrive) {
  for (int i = 1; i <= 5; ++i) Place("o-" + std::to_string(i), kBuyer, "warung-bu-sri");
  std::unique_ptr<Projector> projector = OpenProjector();
  projector->Start();
  OrderListQuery query = Orders("warung-bu-sri", "", 2);
  std::vector<std::string> seen;
  std::string page = projector->OrderList(query);
  for (const std::string& id : Ids(page, "order_id")) seen.push_back(id);
  for (int i = 6; i <= 8; ++i) Place("o-" + std::to_string(i), kBuyer, "warung-bu-sri");
  ASSERT_TRUE(projector->WaitForApplied(log_->Head().sequence, std::chrono::seconds(5)));
  for (int pages = 0; !Next(page).empty() && pages < 10; ++pages) {
    query.page.after = *ParseCursor(Next(page), list_orders);
    page = projector->OrderList(query);
    for (const std::string& id : Ids(page, "order_id")) seen.push_back(id);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"o-1", "o-2", "o-3", "o-4", "o-5", "o-6", "o-7", "o-8"}));
  EXPECT_EQ(Next(page), "");
  // Newest first: orders arriving after the first page are newer than it, never in later pages.
  query.page = ListPage{std::nullopt, /*newest_first=*/true, 3};
  page = projector->OrderList(query);
  seen = Ids(page, "order_id");
  Place("o-9", kBuyer, "warung-bu-sri");
  ASSERT_TRUE(projector->WaitForApplied(log_->Head().sequence, std::chrono::seconds(5)));
  while (!Next(page).empty()) {
    query.page.after = *ParseCursor(Next(page), list_orders);
    page = projector->OrderList(query);
    for (const std::string& id : Ids(page, "order_id")) seen.push_back(id);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"o-8", "o-7", "o-6", "o-5", "o-4", "o-3", "o-2", "o-1"}));
  projector->Stop();
}

TEST_F(WorkListsTest, PendingPaymentsCarryTheirAgeAgainstTheCallersClockOnly) {
  Place("c-1", kBuyer, "warung-bu-sri", "CASHLESS");
  Place("c-2", kOtherBuyer, "kripik-tempe", "CASHLESS");
  Ok(ledger_->RequestPayment("c-1", "QRIS", "ref-c-1", As("system:bank")));
  const int64_t requested = now_.load();
  now_ += 10 * kMinute;
  Ok(ledger_->RequestPayment("c-2", "QRIS", "ref-c-2", As("system:bank")));
  std::unique_ptr<Projector> projector = OpenProjector();
  PaymentListQuery query;
  query.status = "requested";
  query.now_us = requested + 15 * kMinute;
  const std::string page = projector->PaymentList(query);
  EXPECT_EQ(Ids(page, "payment_id"), (std::vector<std::string>{"c-1", "c-2"})) << page;
  EXPECT_NE(page.find(R"("sequence":)"), std::string::npos);
  EXPECT_NE(page.find(R"(,"age_s":900})"), std::string::npos) << page;
  EXPECT_NE(page.find(R"(,"age_s":300})"), std::string::npos) << page;
  query.older_than_s = 600;
  EXPECT_EQ(Ids(projector->PaymentList(query), "payment_id"), (std::vector<std::string>{"c-1"}));
  // The stored rows know no clock: the same rows, asked later, are only older.
  query.now_us += 3600 * 1'000'000LL;
  EXPECT_NE(projector->PaymentList(query).find(R"(,"age_s":4500})"), std::string::npos);
  std::vector<ProjectionDigest> digests = *projector->Digests();
  std::unique_ptr<Projector> again = OpenProjector("again");
  EXPECT_EQ(digests.back().sha256, (*again->Digests()).back().sha256);
  EXPECT_EQ(digests.back().name, "work_lists");
}

TEST(ListCursorTest, OnlyACursorOfTheSameListIsTakenBack) {
  const ListPosition position{1'769'828'400'000'000, 61'392};
  const std::string text = CursorText(list_orders, position);
  EXPECT_EQ(text, "o-1769828400000000-61392");
  ASSERT_TRUE(ParseCursor(text, list_orders).ok());
  EXPECT_EQ(*ParseCursor(text, list_orders), position);
  for (const std::string& bad :
       {text.substr(1), "p" + text.substr(1), text + "x", std::string("o--1-2"),
        std::string("o-1-"), std::string("o-+1-2"), std::string("")}) {
    Result<ListPosition> parsed = ParseCursor(bad, list_orders);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().error_code(), "query_cursor_invalid");
    EXPECT_EQ(parsed.status().field(), "cursor");
  }
}

// A walk looks at list_walk_rows_max rows at most: a page of a rare filter ends there, with a
// cursor after the last row looked at, and the next page goes on from it.
TEST(ListIndexTest, AWalkStopsAtItsBoundAndTheNextPageGoesOnFromThere) {
  RowTable<OrderListRow> table("o/");
  ListIndex<OrderListRow> index;
  const size_t rows = list_walk_rows_max + 10;
  for (size_t i = 0; i < rows; ++i) {
    auto handle = table.Get("o-" + std::to_string(i));
    index.File({static_cast<int64_t>(i), i + 1}, handle, {});
  }
  auto rare = [&](const ListIndex<OrderListRow>::Item& item) {
    return item.handle->first == "o-" + std::to_string(rows - 1);
  };
  std::vector<std::string> emitted;
  auto emit = [&](const ListIndex<OrderListRow>::Item& item) {
    emitted.push_back(item.handle->first);
  };
  const std::optional<ListPosition> next = index.Walk("", {}, ListPage{}, rare, emit);
  ASSERT_TRUE(next.has_value());
  EXPECT_TRUE(emitted.empty());
  EXPECT_EQ(next->sequence, list_walk_rows_max);  // the last row looked at
  const std::optional<ListPosition> end = index.Walk("", {}, ListPage{next, false, 50}, rare, emit);
  EXPECT_FALSE(end.has_value());
  EXPECT_EQ(emitted, (std::vector<std::string>{"o-" + std::to_string(rows - 1)}));
  // Refiled under another term, a row leaves the terms it no longer has.
  index.File({0, 1}, table.Get("o-0"), {"s:cancelled"});
  index.File({0, 1}, table.Get("o-0"), {"s:placed"});
  emitted.clear();
  auto all = [](const ListIndex<OrderListRow>::Item&) { return true; };
  EXPECT_FALSE(index.Walk("s:cancelled", {}, ListPage{}, all, emit).has_value());
  EXPECT_TRUE(emitted.empty());
  index.Walk("s:placed", {}, ListPage{}, all, emit);
  EXPECT_EQ(emitted, (std::vector<std::string>{"o-0"}));
}

}  // namespace
}  // namespace malpro
