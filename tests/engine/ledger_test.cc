#include "engine/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <optional>
#include <thread>

#include "adapters/cli/geography_config.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "tests/support/ledger_fixture.h"

namespace malpro {
namespace {

// 2026-11-22 10:00 in Malang (03:00 UTC).
constexpr int64_t kNow = 1'795'316'400'000'000;
constexpr char kBuyer[] = "198507122010011003";
constexpr char kOtherBuyer[] = "199001012015032001";

std::string PngPhoto(std::string_view unique) {
  return std::string("\x89PNG\r\n\x1A\n", 8) + "fake image body " + std::string(unique);
}

class LedgerTest : public LedgerFixture {
 protected:
  void SetUp() override {
    now_ = kNow;
    ASSERT_NO_FATAL_FAILURE(OpenLedger());
  }

  RegisterAsn Asn(std::string nip = kBuyer) {
    return {std::move(nip), "Siti Rahayu", "Diskominfo", "III/a", "Kauman"};
  }

  RegisterUmkm Umkm(std::string id = "warung-bu-sri") {
    return {std::move(id), "Warung Bu Sri", "1234567890123", "sembako", "Klojen",
            "Kauman",      "Diskopindag",   "0012345678",    "UMI"};
  }

  // A registered buyer and a verified merchant listing beras at Rp68.000 and telur at Rp29.000.
  void SeedMarket() {
    ASSERT_TRUE(ledger_->Register(Asn(), As("admin:setup")).ok());
    ASSERT_TRUE(ledger_->Register(Umkm(), As("admin:setup")).ok());
    ASSERT_TRUE(ledger_->VerifyUmkm("warung-bu-sri", As("operator:rina")).ok());
    ASSERT_TRUE(
        ledger_
            ->List({"warung-bu-sri", "beras-5kg", "Beras 5 kg", "pack", Money::FromRupiah(68'000)},
                   As("merchant:warung-bu-sri"))
            .ok());
    ASSERT_TRUE(
        ledger_
            ->List({"warung-bu-sri", "telur-1kg", "Telur 1 kg", "kg", Money::FromRupiah(29'000)},
                   As("merchant:warung-bu-sri"))
            .ok());
  }

  PlaceOrder Order(std::string order_id = "order-1", std::string method = "COD") {
    return {std::move(order_id),
            kBuyer,
            "warung-bu-sri",
            {{"beras-5kg", 2}, {"telur-1kg", 1}},
            std::move(method)};
  }

  void ExpectRefused(const Result<CommandResult>& result, std::string_view code,
                     std::string_view field) {
    ASSERT_FALSE(result.ok()) << "expected " << code;
    EXPECT_EQ(result.status().error_code(), code) << result.status().ToString();
    EXPECT_EQ(result.status().field(), field) << result.status().ToString();
    EXPECT_FALSE(result.status().message().empty());
  }
};

TEST_F(LedgerTest, RegisteringAnAsnRecordsTheKecamatanOfTheirKelurahan) {
  Result<CommandResult> result = ledger_->Register(Asn(), As("admin:setup"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->stream_id, std::string("asn-") + kBuyer);
  EXPECT_EQ(result->stream_version, 1u);
  Result<AsnState> asn = ledger_->LoadAsn(kBuyer);
  ASSERT_TRUE(asn.ok());
  EXPECT_EQ(asn->kecamatan, "Klojen");
  EXPECT_TRUE(asn->active);
  EXPECT_EQ(log_->Read(1, 1)->front().actor, "admin:setup");
}

TEST_F(LedgerTest, DuplicateNipIsRefusedAndWritesNothing) {
  ASSERT_TRUE(ledger_->Register(Asn(), As("admin:setup")).ok());
  ExpectRefused(ledger_->Register(Asn(), As("admin:setup")), "asn_already_registered", "nip");
  EXPECT_EQ(log_->Head().sequence, 1u);
}

TEST_F(LedgerTest, InvalidAsnFieldsAreRefusedByName) {
  RegisterAsn bad = Asn("198502302010011003");  // 30 February
  ExpectRefused(ledger_->Register(bad, As("admin:setup")), "nip_birth_date", "nip");
  bad = Asn();
  bad.rank_class = "V/a";
  ExpectRefused(ledger_->Register(bad, As("admin:setup")), "rank_class_unknown", "rank_class");
  bad = Asn();
  bad.kelurahan = "Menteng";
  ExpectRefused(ledger_->Register(bad, As("admin:setup")), "kelurahan_unknown", "kelurahan");
  bad = Asn();
  bad.name = "  ";
  ExpectRefused(ledger_->Register(bad, As("admin:setup")), "field_missing", "name");
  EXPECT_EQ(log_->Head().sequence, 0u);
}

TEST_F(LedgerTest, RankChangesAndDeactivationFollowTheRules) {
  ASSERT_TRUE(ledger_->Register(Asn(), As("admin:setup")).ok());
  ExpectRefused(ledger_->ChangeRank(kBuyer, "III/a", As("admin:x")), "rank_unchanged",
                "rank_class");
  ASSERT_TRUE(ledger_->ChangeRank(kBuyer, "III/b", As("admin:x")).ok());
  EXPECT_EQ(ledger_->LoadAsn(kBuyer)->rank_class, "III/b");
  ExpectRefused(ledger_->Deactivate(kBuyer, "", As("admin:x")), "field_missing", "reason");
  ASSERT_TRUE(ledger_->Deactivate(kBuyer, "pensiun", As("admin:x")).ok());
  ExpectRefused(ledger_->Deactivate(kBuyer, "pensiun", As("admin:x")), "asn_inactive", "nip");
  ExpectRefused(ledger_->ChangeRank(kBuyer, "III/c", As("admin:x")), "asn_inactive", "nip");
  ExpectRefused(ledger_->ChangeRank(kOtherBuyer, "III/c", As("admin:x")), "asn_not_found", "nip");
}

TEST_F(LedgerTest, InvalidUmkmFieldsAreRefusedByName) {
  struct Case {
    std::function<void(RegisterUmkm&)> change;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](RegisterUmkm& u) { u.nib = "12345"; }, "nib_length", "nib"},
      {[](RegisterUmkm& u) { u.category = "senjata"; }, "category_unknown", "category"},
      {[](RegisterUmkm& u) { u.kelurahan = "Dinoyo"; }, "kelurahan_not_in_kecamatan", "kelurahan"},
      {[](RegisterUmkm& u) { u.kecamatan = "Batu"; }, "kecamatan_unknown", "kecamatan"},
      {[](RegisterUmkm& u) { u.settlement_account = "12-34"; }, "settlement_account_invalid",
       "settlement_account"},
      {[](RegisterUmkm& u) { u.qris_criteria = "XXL"; }, "qris_criteria_unknown", "qris_criteria"},
      {[](RegisterUmkm& u) { u.umkm_id = "Warung Sri"; }, "id_invalid", "umkm_id"},
  };
  for (const Case& c : cases) {
    RegisterUmkm command = Umkm();
    c.change(command);
    ExpectRefused(ledger_->Register(command, As("admin:setup")), c.code, c.field);
  }
  EXPECT_EQ(log_->Head().sequence, 0u);
  RegisterUmkm without_nib = Umkm();
  without_nib.nib.clear();
  EXPECT_TRUE(ledger_->Register(without_nib, As("admin:setup")).ok());
  ExpectRefused(ledger_->Register(Umkm(), As("admin:setup")), "umkm_already_registered", "umkm_id");
}

TEST_F(LedgerTest, MerchantVerificationAndSuspensionAreTransitions) {
  ASSERT_TRUE(ledger_->Register(Umkm(), As("admin:setup")).ok());
  ASSERT_TRUE(ledger_->VerifyUmkm("warung-bu-sri", As("operator:rina")).ok());
  ExpectRefused(ledger_->VerifyUmkm("warung-bu-sri", As("operator:rina")), "umkm_already_verified",
                "umkm_id");
  ASSERT_TRUE(ledger_->SuspendUmkm("warung-bu-sri", "laporan pembeli", As("operator:rina")).ok());
  ExpectRefused(ledger_->SuspendUmkm("warung-bu-sri", "lagi", As("operator:rina")),
                "umkm_already_suspended", "umkm_id");
  EXPECT_EQ(ledger_->LoadUmkm("warung-bu-sri")->status, UmkmStatus::kSuspended);
  ASSERT_TRUE(ledger_->VerifyUmkm("warung-bu-sri", As("operator:rina")).ok());  // reinstated
  ExpectRefused(ledger_->VerifyUmkm("nobody", As("operator:rina")), "umkm_not_found", "umkm_id");
}

TEST_F(LedgerTest, ProductsAreListedRepricedDelistedAndRelisted) {
  SeedMarket();
  ExpectRefused(ledger_->List({"warung-bu-sri", "beras-5kg", "Beras", "pack", Money::FromRupiah(1)},
                              As("merchant:x")),
                "product_already_listed", "product_id");
  ExpectRefused(ledger_->List({"warung-bu-sri", "gula", "Gula", "kg", Money()}, As("merchant:x")),
                "amount_not_positive", "price");
  ASSERT_TRUE(
      ledger_->Reprice("warung-bu-sri", "beras-5kg", Money::FromRupiah(70'000), As("merchant:x"))
          .ok());
  ExpectRefused(
      ledger_->Reprice("warung-bu-sri", "beras-5kg", Money::FromRupiah(70'000), As("merchant:x")),
      "price_unchanged", "price");
  ASSERT_TRUE(ledger_->Delist("warung-bu-sri", "telur-1kg", As("merchant:x")).ok());
  ExpectRefused(ledger_->Delist("warung-bu-sri", "telur-1kg", As("merchant:x")),
                "product_not_found", "product_id");
  ASSERT_TRUE(
      ledger_
          ->List({"warung-bu-sri", "telur-1kg", "Telur 1 kg", "kg", Money::FromRupiah(31'000)},
                 As("merchant:x"))
          .ok());
  UmkmState umkm = *ledger_->LoadUmkm("warung-bu-sri");
  EXPECT_EQ(umkm.products["beras-5kg"].price, Money::FromRupiah(70'000));
  EXPECT_TRUE(umkm.products["telur-1kg"].listed);
  EXPECT_EQ(umkm.products["telur-1kg"].price, Money::FromRupiah(31'000));
}

TEST_F(LedgerTest, OrderIsPricedFromTheCatalogAtThatMoment) {
  SeedMarket();
  Result<CommandResult> placed = ledger_->Place(Order(), As(std::string("asn:") + kBuyer));
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  ASSERT_TRUE(
      ledger_->Reprice("warung-bu-sri", "beras-5kg", Money::FromRupiah(99'000), As("merchant:x"))
          .ok());
  OrderState order = *ledger_->LoadOrder("order-1");
  EXPECT_EQ(order.total, Money::FromRupiah(2 * 68'000 + 29'000));
  ASSERT_EQ(order.lines.size(), 2u);
  EXPECT_EQ(order.lines[0].unit_price, Money::FromRupiah(68'000));
  EXPECT_EQ(order.lines[0].line_total, Money::FromRupiah(136'000));
  EXPECT_EQ(order.status, OrderStatus::kPlaced);
  EXPECT_EQ(order.placed_at_us, kNow);

  // Folded without its lines (as the read models fold it): the same order otherwise.
  Result<std::vector<Event>> events = log_->ReadStream(OrderStream("order-1"), 1, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  OrderState without_lines;
  ASSERT_TRUE(without_lines.Apply(events->front(), /*with_lines=*/false).ok());
  EXPECT_TRUE(without_lines.lines.empty());
  order.lines.clear();
  EXPECT_EQ(without_lines.order_id, order.order_id);
  EXPECT_EQ(without_lines.buyer_nip, order.buyer_nip);
  EXPECT_EQ(without_lines.umkm_id, order.umkm_id);
  EXPECT_EQ(without_lines.total, order.total);
  EXPECT_EQ(without_lines.payment_method, order.payment_method);
  EXPECT_EQ(without_lines.status, order.status);
  EXPECT_EQ(without_lines.placed_at_us, order.placed_at_us);
  EXPECT_EQ(without_lines.version, order.version);
}

TEST_F(LedgerTest, OrdersBreakingRulesAreRefusedAndWriteNothing) {
  SeedMarket();
  const uint64_t head = log_->Head().sequence;
  PlaceOrder order = Order();
  order.lines.clear();
  ExpectRefused(ledger_->Place(order, As("asn:x")), "order_empty", "lines");
  order = Order();
  order.lines.assign(order_lines_max + 1, {"beras-5kg", 1});
  ExpectRefused(ledger_->Place(order, As("asn:x")), "order_too_many_lines", "lines");
  order = Order();
  order.lines[1].quantity = 0;
  ExpectRefused(ledger_->Place(order, As("asn:x")), "quantity_out_of_range", "lines[1].quantity");
  order = Order();
  order.lines[1].product_id = "beras-5kg";
  ExpectRefused(ledger_->Place(order, As("asn:x")), "order_duplicate_line", "lines[1].product_id");
  order = Order();
  order.lines = {{"beras-5kg", 1000}};  // Rp68.000.000 > Rp50.000.000
  ExpectRefused(ledger_->Place(order, As("asn:x")), "order_too_large", "lines");
  order = Order();
  order.lines[1].product_id = "durian";
  ExpectRefused(ledger_->Place(order, As("asn:x")), "product_not_listed", "lines[1].product_id");
  order = Order();
  order.payment_method = "KREDIT";
  ExpectRefused(ledger_->Place(order, As("asn:x")), "payment_method_unknown", "payment_method");
  order = Order();
  order.buyer_nip = kOtherBuyer;
  ExpectRefused(ledger_->Place(order, As("asn:x")), "buyer_unknown", "buyer_nip");
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(LedgerTest, SuspendedOrUnverifiedMerchantsAndInactiveBuyersCannotBeOrderedFrom) {
  SeedMarket();
  ASSERT_TRUE(ledger_->SuspendUmkm("warung-bu-sri", "audit", As("operator:rina")).ok());
  ExpectRefused(ledger_->Place(Order(), As("asn:x")), "umkm_suspended", "umkm_id");
  ASSERT_TRUE(ledger_->Register(Umkm("toko-baru"), As("admin:setup")).ok());
  PlaceOrder order = Order();
  order.umkm_id = "toko-baru";
  ExpectRefused(ledger_->Place(order, As("asn:x")), "umkm_not_verified", "umkm_id");
  ASSERT_TRUE(ledger_->VerifyUmkm("warung-bu-sri", As("operator:rina")).ok());
  ASSERT_TRUE(ledger_->Deactivate(kBuyer, "mutasi", As("admin:x")).ok());
  ExpectRefused(ledger_->Place(Order(), As("asn:x")), "buyer_inactive", "buyer_nip");
}

TEST_F(LedgerTest, CashOnDeliveryOrderFollowsItsLifecycle) {
  SeedMarket();
  ASSERT_TRUE(ledger_->Place(Order(), As("asn:x")).ok());
  ExpectRefused(ledger_->DeliverOrder("order-1", As("merchant:x")), "order_not_accepted",
                "order_id");
  ExpectRefused(ledger_->ConfirmCashReceived("order-1", As("merchant:x")), "order_not_delivered",
                "order_id");
  ASSERT_TRUE(ledger_->AcceptOrder("order-1", As("merchant:x")).ok());
  ExpectRefused(ledger_->AcceptOrder("order-1", As("merchant:x")), "order_not_placed", "order_id");
  ASSERT_TRUE(ledger_->DeliverOrder("order-1", As("merchant:x")).ok());
  ExpectRefused(ledger_->CancelOrder("order-1", "berubah pikiran", As("asn:x")),
                "order_not_cancellable", "order_id");
  ASSERT_TRUE(ledger_->ConfirmCashReceived("order-1", As("merchant:x")).ok());
  ExpectRefused(ledger_->ConfirmCashReceived("order-1", As("merchant:x")), "cash_already_received",
                "order_id");
  OrderState order = *ledger_->LoadOrder("order-1");
  EXPECT_EQ(order.status, OrderStatus::kDelivered);
  EXPECT_TRUE(order.cash_received);
  EXPECT_EQ(order.version, 4u);
  ExpectRefused(ledger_->AcceptOrder("order-9", As("merchant:x")), "order_not_found", "order_id");
}

TEST_F(LedgerTest, CancellationNeedsAReasonAndCashlessOrdersTakeNoCash) {
  SeedMarket();
  ASSERT_TRUE(ledger_->Place(Order("order-2", "CASHLESS"), As("asn:x")).ok());
  ASSERT_TRUE(ledger_->AcceptOrder("order-2", As("merchant:x")).ok());
  ASSERT_TRUE(ledger_->DeliverOrder("order-2", As("merchant:x")).ok());
  ExpectRefused(ledger_->ConfirmCashReceived("order-2", As("merchant:x")), "order_not_cod",
                "order_id");
  ASSERT_TRUE(ledger_->Place(Order("order-3"), As("asn:x")).ok());
  ExpectRefused(ledger_->CancelOrder("order-3", "", As("asn:x")), "field_missing", "reason");
  ASSERT_TRUE(ledger_->CancelOrder("order-3", "salah pesan", As("asn:x")).ok());
  EXPECT_EQ(ledger_->LoadOrder("order-3")->cancel_reason, "salah pesan");
  ExpectRefused(ledger_->AcceptOrder("order-3", As("merchant:x")), "order_not_placed", "order_id");
}

TEST_F(LedgerTest, ManualReceiptIsStoredWithItsPhotoAndDecidedOnce) {
  SeedMarket();
  SubmitReceipt receipt{
      "r-1",        kBuyer,         "Toko Kelontong Pak Min", "Sukun", Money::FromRupiah(125'000),
      "2026-11-20", PngPhoto("one")};
  Result<CommandResult> submitted = ledger_->Submit(receipt, As("asn:x"));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(submitted->last_sequence, submitted->first_sequence + 1);  // receipt + photo claim
  ReceiptState state = *ledger_->LoadReceipt("r-1");
  EXPECT_EQ(state.kecamatan, "Sukun");
  EXPECT_EQ(*ledger_->Photo(state.photo_sha256), receipt.photo);
  ASSERT_TRUE(ledger_->ApproveReceipt("r-1", As("operator:rina")).ok());
  ExpectRefused(ledger_->RejectReceipt("r-1", "buram", As("operator:rina")),
                "receipt_already_decided", "receipt_id");
}

TEST_F(LedgerTest, ReceiptsBreakingRulesAreRefused) {
  SeedMarket();
  SubmitReceipt receipt{
      "r-1",        kBuyer,         "Toko Pak Min", "Sukun", Money::FromRupiah(125'000),
      "2026-11-20", PngPhoto("one")};
  ASSERT_TRUE(ledger_->Submit(receipt, As("asn:x")).ok());
  const uint64_t head = log_->Head().sequence;
  SubmitReceipt again = receipt;
  again.receipt_id = "r-2";
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "receipt_photo_duplicate", "photo");
  again.photo = PngPhoto("two");
  again.purchase_date = "2026-11-23";
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "receipt_date_in_future", "purchase_date");
  again.purchase_date = "2026-10-01";
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "receipt_date_too_old", "purchase_date");
  again.purchase_date = "2026-11-21";
  again.photo = "GIF89a not allowed";
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "photo_type_unsupported", "photo");
  again.photo = PngPhoto(std::string(receipt_photo_bytes_max, 'x'));
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "photo_too_large", "photo");
  again.photo = PngPhoto("two");
  again.amount = Money();
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "amount_not_positive", "amount");
  again.amount = Money::FromRupiah(1);
  again.nip = kOtherBuyer;
  ExpectRefused(ledger_->Submit(again, As("asn:x")), "asn_unknown", "nip");
  EXPECT_EQ(log_->Head().sequence, head);
  again.nip = kBuyer;
  ASSERT_TRUE(ledger_->Submit(again, As("asn:x")).ok());
  ExpectRefused(ledger_->RejectReceipt("r-2", "", As("operator:rina")), "field_missing", "reason");
  ASSERT_TRUE(ledger_->RejectReceipt("r-2", "foto buram", As("operator:rina")).ok());
  EXPECT_EQ(ledger_->LoadReceipt("r-2")->rejection_reason, "foto buram");
}

TEST_F(LedgerTest, PolicyIsSeededOnceAndChangesTakeEffectFromADate) {
  PolicyDefaults defaults{{{"I", Money::FromRupiah(300'000)},
                           {"II", Money::FromRupiah(300'000)},
                           {"III", Money::FromRupiah(400'000)},
                           {"IV", Money::FromRupiah(500'000)},
                           {"PPPK", Money::FromRupiah(300'000)}},
                          30,
                          Money::FromRupiah(500'000),
                          22 * 60,
                          {2023, 3, 13}};
  Result<std::optional<CommandResult>> seeded = ledger_->SeedPolicy(defaults, As("system:config"));
  ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  ASSERT_TRUE(seeded->has_value());
  EXPECT_FALSE(ledger_->SeedPolicy(defaults, As("system:config"))->has_value());
  ExpectRefused(
      ledger_->SetMinimumSpend("III", Money::FromRupiah(450'000), "2026-11-01", As("admin:x")),
      "policy_retroactive", "effective_from");
  ASSERT_TRUE(
      ledger_->SetMinimumSpend("III", Money::FromRupiah(450'000), "2026-12-01", As("admin:x"))
          .ok());
  ExpectRefused(ledger_->SetFeeRule(10'001, Money(), "2026-12-01", As("admin:x")),
                "basis_points_out_of_range", "basis_points");
  ExpectRefused(ledger_->SetSettlementCutoff("24:00", "2026-12-01", As("admin:x")),
                "cutoff_invalid", "cutoff");
  PolicyState policy = *ledger_->LoadPolicy();
  EXPECT_EQ(*policy.MinimumSpendOn("III", {2026, 11, 30}), Money::FromRupiah(400'000));
  EXPECT_EQ(*policy.MinimumSpendOn("III", {2026, 12, 1}), Money::FromRupiah(450'000));
  EXPECT_EQ(*policy.MinimumSpendOn("IV", {2026, 12, 1}), Money::FromRupiah(500'000));
  EXPECT_FALSE(policy.MinimumSpendOn("III", {2023, 3, 12}).has_value());
  // A rule for one rank class overrides its group's rule.
  ASSERT_TRUE(
      ledger_->SetMinimumSpend("III/d", Money::FromRupiah(475'000), "2026-11-23", As("admin:x"))
          .ok());
  ExpectRefused(ledger_->SetMinimumSpend("V", Money::FromRupiah(1), "2026-11-23", As("admin:x")),
                "rank_group_unknown", "rank_group");
  policy = *ledger_->LoadPolicy();
  EXPECT_EQ(*policy.MinimumSpendFor("III/d", {2026, 11, 22}), Money::FromRupiah(400'000));
  EXPECT_EQ(*policy.MinimumSpendFor("III/d", {2026, 11, 23}), Money::FromRupiah(475'000));
  EXPECT_EQ(*policy.MinimumSpendFor("III/a", {2026, 11, 23}), Money::FromRupiah(400'000));
  EXPECT_EQ(*policy.MinimumSpendFor("III/a", {2026, 12, 1}), Money::FromRupiah(450'000));
  EXPECT_EQ(*policy.MinimumSpendFor("PPPK", {2026, 12, 1}), Money::FromRupiah(300'000));
  FeeRule fee = *policy.FeeRuleOn({2026, 11, 22});
  EXPECT_EQ(FeeFor(fee, "UMI", Money::FromRupiah(500'000)), Money());
  EXPECT_EQ(FeeFor(fee, "UMI", Money::FromRupiah(500'001)), Money::FromRupiah(1'500));  // 0.3%
  EXPECT_EQ(FeeFor(fee, "UKE", Money::FromRupiah(100'000)), Money::FromRupiah(300));
  EXPECT_EQ(policy.CutoffOn({2026, 11, 22})->minutes_of_day, 22 * 60);
}

TEST_F(LedgerTest, IdempotentRetryReturnsTheOriginalResultEvenAfterStateChanged) {
  Result<CommandResult> first = ledger_->Register(Asn(), As("admin:setup", "reg-1"));
  ASSERT_TRUE(first.ok());
  Result<CommandResult> retry = ledger_->Register(Asn(), As("admin:setup", "reg-1"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_sequence, first->first_sequence);
  EXPECT_EQ(retry->stream_id, first->stream_id);
  EXPECT_EQ(retry->stream_version, 1u);
  RegisterAsn different = Asn();
  different.name = "Someone Else";
  ExpectRefused(ledger_->Register(different, As("admin:setup", "reg-1")), "idempotency_key_reused",
                "Idempotency-Key");
  EXPECT_EQ(log_->Head().sequence, 1u);
}

TEST_F(LedgerTest, IfMatchRefusesAStaleVersionAndWritesNothing) {
  SeedMarket();
  ASSERT_TRUE(ledger_->Place(Order(), As("asn:x")).ok());
  CommandContext stale = As("merchant:x");
  stale.expected_version = 2;
  ExpectRefused(ledger_->AcceptOrder("order-1", stale), "version_mismatch", "If-Match");
  CommandContext current = As("merchant:x");
  current.expected_version = 1;
  Result<CommandResult> accepted = ledger_->AcceptOrder("order-1", current);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->stream_version, 2u);
}

TEST_F(LedgerTest, ExactlyOneOfTwoConflictingOrderCommandsWins) {
  SeedMarket();
  constexpr int kRounds = 30;
  for (int round = 0; round < kRounds; ++round) {
    const std::string order_id = "race-" + std::to_string(round);
    ASSERT_TRUE(ledger_->Place(Order(order_id), As("asn:x")).ok());
    ASSERT_TRUE(ledger_->AcceptOrder(order_id, As("merchant:x")).ok());
    // Delivery needs an undelivered, uncancelled order; cancellation needs an undelivered one.
    std::atomic<int> wins{0};
    std::atomic<int> refusals{0};
    auto count = [&](const Result<CommandResult>& result) {
      if (result.ok())
        wins++;
      else if (result.status().code() == StatusCode::kConflict)
        refusals++;
    };
    std::thread deliver([&] { count(ledger_->DeliverOrder(order_id, As("merchant:x"))); });
    std::thread cancel([&] { count(ledger_->CancelOrder(order_id, "batal", As("asn:x"))); });
    deliver.join();
    cancel.join();
    ASSERT_EQ(wins.load(), 1) << "round " << round;
    ASSERT_EQ(refusals.load(), 1) << "round " << round;
    EXPECT_EQ(ledger_->LoadOrder(order_id)->version, 3u);
  }
}

TEST_F(LedgerTest, AStaleCachedMerchantLosesInTheLogAndTheOrderIsDecidedAgain) {
  SeedMarket();
  ASSERT_TRUE(ledger_->Place(Order("warm-cache"), As("asn:x")).ok());  // caches buyer, merchant
  // Another ledger on the same log suspends the merchant; this ledger's cache cannot know.
  LedgerOptions options;
  options.clock = [this] { return now_.load(); };
  Ledger other(log_.get(), ledger_->geography(), options);
  ASSERT_TRUE(other.SuspendUmkm("warung-bu-sri", "audit", As("operator:rina")).ok());
  const uint64_t head = log_->Head().sequence;
  ExpectRefused(ledger_->Place(Order("after-suspension"), As("asn:x")), "umkm_suspended",
                "umkm_id");
  EXPECT_EQ(log_->Head().sequence, head);
  ASSERT_TRUE(other.VerifyUmkm("warung-bu-sri", As("operator:rina")).ok());
  EXPECT_TRUE(ledger_->Place(Order("after-reinstatement"), As("asn:x")).ok());
}

// Placing without waiting: the same decision and the same log entry as Place, answered
// through a callback; what Place must decide instead is handed back untouched.
class LedgerPlaceAsyncTest : public LedgerTest {
 protected:
  void SetUp() override {
    LedgerTest::SetUp();
    SeedMarket();
  }
  // Runs PlaceAsync; nullopt when it declined (then nothing was written).
  std::optional<std::pair<Result<CommandResult>, PlaceOrder>> PlaceAsync(
      const PlaceOrder& order, const CommandContext& context) {
    std::promise<std::pair<Result<CommandResult>, PlaceOrder>> answer;
    auto future = answer.get_future();
    const bool taken = ledger_->PlaceAsync(
        order, context, [&answer](Result<CommandResult> result, const PlaceOrder& placed) {
          answer.set_value({std::move(result), placed});
        });
    if (!taken) return std::nullopt;
    return future.get();
  }
};

TEST_F(LedgerPlaceAsyncTest, PlacesWhatPlaceWouldWithAnIdMadeWhenNoneIsGiven) {
  auto answered = PlaceAsync(Order(""), As("asn:198507122010011003"));
  ASSERT_TRUE(answered.has_value());
  ASSERT_TRUE(answered->first.ok()) << answered->first.status().ToString();
  const CommandResult& result = *answered->first;
  EXPECT_EQ(answered->second.order_id, "id-1");
  EXPECT_EQ(result.stream_id, "order-id-1");
  EXPECT_EQ(result.stream_version, 1u);
  EXPECT_EQ(result.first_sequence, log_->Head().sequence);
  Result<OrderState> order = ledger_->LoadOrder("id-1");
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->total, Money::FromRupiah(165'000));
  EXPECT_EQ(order->buyer_nip, kBuyer);
  // The same order again loses in the log (nothing written), and Place, deciding again on
  // fresh state, says why.
  const uint64_t head = log_->Head().sequence;
  auto again = PlaceAsync(Order("id-1"), As("asn:198507122010011003"));
  ASSERT_TRUE(again.has_value());
  ASSERT_FALSE(again->first.ok());
  EXPECT_EQ(again->first.status().error_code(), "stream_version_conflict");
  EXPECT_EQ(log_->Head().sequence, head);
  ExpectRefused(ledger_->Place(Order("id-1"), As("asn:198507122010011003")), "order_already_exists",
                "order_id");
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(LedgerPlaceAsyncTest, DeclinesWhatNeedsTheWaitingPath) {
  const uint64_t head = log_->Head().sequence;
  EXPECT_FALSE(PlaceAsync(Order("o-key"), As("asn:x", "key-1")).has_value());  // idempotency key
  CommandContext if_match = As("asn:x");
  if_match.expected_version = 1;
  EXPECT_FALSE(PlaceAsync(Order("o-if"), if_match).has_value());
  EXPECT_FALSE(PlaceAsync(Order("o-actor"), CommandContext{}).has_value());  // Place says why
  PlaceOrder unknown = Order("o-unknown");
  unknown.lines = {{"gula-1kg", 1}};
  EXPECT_FALSE(PlaceAsync(unknown, As("asn:x")).has_value());  // refused on cached state
  EXPECT_EQ(log_->Head().sequence, head);
  // A malformed command is answered at once, and nothing is written.
  PlaceOrder bad = Order("o-bad");
  bad.lines[0].quantity = 0;
  auto answered = PlaceAsync(bad, As("asn:x"));
  ASSERT_TRUE(answered.has_value());
  ExpectRefused(answered->first, "quantity_out_of_range", "lines[0].quantity");
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(LedgerPlaceAsyncTest, AStaleCachedMerchantLosesAndPlaceDecidesAgainWithTheNewPrice) {
  ASSERT_TRUE(ledger_->Place(Order("warm"), As("asn:x")).ok());  // the merchant is now cached
  // Another writer of the same log changes the price behind this ledger's cache.
  LedgerOptions options;
  options.clock = [this] { return now_.load(); };
  Ledger other(log_.get(), *LoadGeography(MALPRO_SOURCE_DIR "/config/kota-malang.toml"), options);
  ASSERT_TRUE(other
                  .Reprice("warung-bu-sri", "beras-5kg", Money::FromRupiah(70'000),
                           As("merchant:warung-bu-sri"))
                  .ok());
  const uint64_t head = log_->Head().sequence;
  auto answered = PlaceAsync(Order("o-stale"), As("asn:x"));
  ASSERT_TRUE(answered.has_value());
  ASSERT_FALSE(answered->first.ok());
  EXPECT_EQ(answered->first.status().error_code(), "stream_version_conflict");
  EXPECT_EQ(log_->Head().sequence, head);  // nothing written
  Result<CommandResult> again = ledger_->Place(answered->second, As("asn:x"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ledger_->LoadOrder("o-stale")->total,
            Money::FromRupiah(169'000));  // 2 x 70.000 + 29.000
}

class LedgerPaymentTest : public LedgerTest {
 protected:
  void SetUp() override {
    LedgerTest::SetUp();
    PolicyDefaults defaults{{{"III", Money::FromRupiah(400'000)}},
                            30,
                            Money::FromRupiah(500'000),
                            22 * 60,
                            {2023, 3, 13}};
    ASSERT_TRUE(ledger_->SeedPolicy(defaults, As("system:config")).ok());
    SeedMarket();
    ASSERT_TRUE(ledger_->Place(Order("cashless-1", "CASHLESS"), As("asn:x")).ok());
  }
  // Rp165.000: two beras at Rp68.000 and one telur at Rp29.000.
  const Money total_ = Money::FromRupiah(165'000);

  // The bank's word for cashless-1 (or `payment_id`) by `channel`.
  static BankSuccess Success(Money amount, int64_t paid_at_us, std::string reference,
                             std::string channel = "QRIS", std::string payment_id = "cashless-1") {
    return testing::BankPaid(std::move(payment_id), std::move(channel), std::move(reference),
                             amount, paid_at_us);
  }
};

TEST_F(LedgerPaymentTest, PaymentSucceedsOnceWithFeeAndBusinessDate) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank")).ok());
  ExpectRefused(ledger_->RequestPayment("cashless-1", "QRIS", "qr-2", As("system:bank")),
                "payment_pending", "order_id");
  ExpectRefused(ledger_->RecordPaymentSucceeded(Success(Money::FromRupiah(165'001), kNow, "qr-1"),
                                                As("bank:bank-jatim")),
                "amount_mismatch", "amount");
  ASSERT_TRUE(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1"), As("bank:bank-jatim")).ok());
  ExpectRefused(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1"), As("bank:bank-jatim")),
      "payment_already_succeeded", "payment_id");
  // Another amount after the success is refused, not acknowledged.
  ExpectRefused(ledger_->RecordPaymentSucceeded(Success(Money::FromRupiah(1), kNow, "qr-1"),
                                                As("bank:bank-jatim")),
                "amount_mismatch", "amount");
  PaymentState payment = *ledger_->LoadPayment("cashless-1");
  EXPECT_EQ(payment.status, PaymentStatus::kSucceeded);
  EXPECT_EQ(payment.fee, Money());  // a UMI merchant under Rp500.000 pays no fee
  EXPECT_EQ(payment.business_date, (CivilDate{2026, 11, 22}));
  ExpectRefused(ledger_->RequestPayment("cashless-1", "VA", "va-1", As("system:bank")),
                "order_already_paid", "order_id");
}

TEST_F(LedgerPaymentTest, WhatThePayerWasShownIsKeptAndChecked) {
  const uint64_t head = log_->Head().sequence;
  ExpectRefused(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank"),
                                        PaymentShown{"000201\n6304ABCD", 0}),
                "qr_content_invalid", "qr_content");
  ExpectRefused(
      ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank"),
                              PaymentShown{std::string(qr_content_chars_max + 1, 'A'), 0}),
      "qr_content_too_long", "qr_content");
  ExpectRefused(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank"),
                                        PaymentShown{"", -1}),
                "expires_at_invalid", "expires_at_us");
  EXPECT_EQ(log_->Head().sequence, head);  // nothing written

  ASSERT_TRUE(ledger_
                  ->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank"),
                                   PaymentShown{"00020101021226", kNow + 60})
                  .ok());
  PaymentState payment = *ledger_->LoadPayment("cashless-1");
  EXPECT_EQ(payment.qr_content, "00020101021226");
  EXPECT_EQ(payment.expires_at_us, kNow + 60);
  // Requested again after expiry, through a VA: nothing of the QRIS is left.
  ASSERT_TRUE(ledger_->ExpirePayment("cashless-1", As("system:poller")).ok());
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "VA", "va-2", As("system:bank")).ok());
  payment = *ledger_->LoadPayment("cashless-1");
  EXPECT_TRUE(payment.qr_content.empty());
  EXPECT_EQ(payment.expires_at_us, 0);
}

TEST_F(LedgerPaymentTest, PaymentsAfterTheCutoffSettleTheNextDay) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "VA", "va-1", As("system:bank")).ok());
  const int64_t at_2230_jakarta =
      kNow + (12 * 3600 + 30 * 60) * int64_t{1'000'000};  // 10:00 + 12:30
  now_ = at_2230_jakarta;
  ASSERT_TRUE(ledger_
                  ->RecordPaymentSucceeded(Success(total_, at_2230_jakarta, "va-1", "VA"),
                                           As("bank:bank-jatim"))
                  .ok());
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->business_date, (CivilDate{2026, 11, 23}));
}

TEST_F(LedgerPaymentTest, FailedOrExpiredPaymentsMayBeRequestedAgain) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank")).ok());
  ASSERT_TRUE(ledger_->ExpirePayment("cashless-1", As("system:poller")).ok());
  ExpectRefused(ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1"), As("bank:x")),
                "payment_not_pending", "payment_id");
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-2", As("system:bank")).ok());
  ASSERT_TRUE(ledger_->RecordPaymentFailed("cashless-1", "saldo tidak cukup", As("bank:x")).ok());
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "VA", "va-3", As("system:bank")).ok());
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->channel, "VA");
}

TEST_F(LedgerPaymentTest, RefundsAreBoundedByWhatWasPaid) {
  ExpectRefused(ledger_->RequestPayment("order-x", "QRIS", "q", As("system:bank")),
                "order_not_found", "order_id");
  ASSERT_TRUE(ledger_->Place(Order("cod-1"), As("asn:x")).ok());
  ExpectRefused(ledger_->RequestPayment("cod-1", "QRIS", "q", As("system:bank")),
                "order_not_cashless", "order_id");
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank")).ok());
  ExpectRefused(ledger_->RefundPayment("cashless-1", Money::FromRupiah(1), As("operator:rina")),
                "payment_not_refundable", "payment_id");
  ASSERT_TRUE(ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1"), As("bank:x")).ok());
  ASSERT_TRUE(
      ledger_->RefundPayment("cashless-1", Money::FromRupiah(65'000), As("operator:rina")).ok());
  ExpectRefused(
      ledger_->RefundPayment("cashless-1", Money::FromRupiah(100'001), As("operator:rina")),
      "amount_too_large", "amount");
  ASSERT_TRUE(
      ledger_->RefundPayment("cashless-1", Money::FromRupiah(100'000), As("operator:rina")).ok());
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->status, PaymentStatus::kRefunded);
}

TEST_F(LedgerPaymentTest, RefusedNotificationsAreKeptForTheOperator) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank")).ok());
  Result<CommandResult> kept = ledger_->RecordRefusedNotification(
      "cashless-1", "amount_mismatch", Money::FromRupiah(1), "bj-7", As("bank:bank-jatim"));
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(log_->Read(kept->first_sequence, 1)->front().type, "payment.notification_refused");
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->status, PaymentStatus::kRequested);
}

TEST_F(LedgerPaymentTest, CancellingVoidsThePendingRequestAndALateSuccessIsARefundDue) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank")).ok());
  Result<CommandResult> cancelled = ledger_->CancelOrder("cashless-1", "salah pesan", As("asn:x"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  // One append: the order's cancellation and the request's void.
  ASSERT_EQ(cancelled->last_sequence, cancelled->first_sequence + 1);
  EXPECT_EQ(log_->Read(cancelled->last_sequence, 1)->front().type, "payment.voided");
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->status, PaymentStatus::kVoided);
  ExpectRefused(ledger_->RequestPayment("cashless-1", "QRIS", "qr-2", As("system:bank")),
                "order_not_payable", "order_id");
  ExpectRefused(ledger_->ResolveException("cashless-1", "refunded", "x", As("operator:rina")),
                "exception_not_open", "payment_id");

  // The payer paid before the void reached the bank: recorded, counts toward nothing.
  Result<CommandResult> late =
      ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1"), As("bank:bank-jatim"));
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(log_->Read(late->first_sequence, 1)->front().type, "payment.refund_due");
  PaymentState payment = *ledger_->LoadPayment("cashless-1");
  EXPECT_EQ(payment.status, PaymentStatus::kRefundDue);
  EXPECT_EQ(payment.refund_due_cause, "payment_voided");
  EXPECT_EQ(payment.refund_due_amount, total_);
  ExpectRefused(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1"), As("bank:bank-jatim")),
      "payment_already_succeeded", "payment_id");
  ExpectRefused(ledger_->RefundPayment("cashless-1", total_, As("operator:rina")),
                "payment_not_refundable", "payment_id");

  ExpectRefused(ledger_->ResolveException("cashless-1", "forgotten", "x", As("operator:rina")),
                "resolution_unknown", "resolution");
  ASSERT_TRUE(
      ledger_->ResolveException("cashless-1", "refunded", "ditransfer kembali", As("operator:rina"))
          .ok());
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->exception_resolution, "refunded");
  ExpectRefused(ledger_->ResolveException("cashless-1", "explained", "x", As("operator:rina")),
                "exception_not_open", "payment_id");
}

TEST_F(LedgerPaymentTest, APaidOrderIsCancelledOnlyAfterAFullRefund) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "VA", "va-1", As("system:bank")).ok());
  ASSERT_TRUE(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow, "va-1", "VA"), As("bank:bank-jatim"))
          .ok());
  ExpectRefused(ledger_->CancelOrder("cashless-1", "batal", As("asn:x")), "order_paid", "order_id");
  ASSERT_TRUE(
      ledger_->RefundPayment("cashless-1", Money::FromRupiah(100'000), As("operator:rina")).ok());
  ExpectRefused(ledger_->CancelOrder("cashless-1", "batal", As("asn:x")), "order_paid", "order_id");
  ASSERT_TRUE(
      ledger_->RefundPayment("cashless-1", Money::FromRupiah(65'000), As("operator:rina")).ok());
  Result<CommandResult> cancelled = ledger_->CancelOrder("cashless-1", "batal", As("asn:x"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->first_sequence, cancelled->last_sequence);  // nothing to void
  EXPECT_EQ(ledger_->LoadOrder("cashless-1")->status, OrderStatus::kCancelled);
}

TEST_F(LedgerPaymentTest, ABankWordMustMatchItsRequestAndARefusalIsKept) {
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "qr-1", As("system:bank")).ok());
  const uint64_t head = log_->Head().sequence;
  const int64_t skew_us = 300 * int64_t{1'000'000};
  ExpectRefused(ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-1", "VA"), As("bank:x")),
                "notification_channel_mismatch", "channel");
  ExpectRefused(ledger_->RecordPaymentSucceeded(Success(total_, kNow, "qr-9"), As("bank:x")),
                "bank_reference_mismatch", "bank_reference");
  ExpectRefused(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow - skew_us - 1, "qr-1"), As("bank:x")),
      "paid_time_out_of_window", "paid_at");
  ExpectRefused(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow + skew_us + 1, "qr-1"), As("bank:x")),
      "paid_time_out_of_window", "paid_at");
  ExpectRefused(ledger_->RecordPaymentSucceeded(Success(total_, 0, "qr-1"), As("bank:x")),
                "paid_time_out_of_window", "paid_at");
  EXPECT_EQ(log_->Head().sequence, head);  // nothing written
  EXPECT_EQ(ledger_->LoadPayment("cashless-1")->status, PaymentStatus::kRequested);

  // Through RecordBankSuccess the refusal is kept, once per idempotency key.
  ExpectRefused(ledger_->RecordBankSuccess(Success(total_, kNow, "qr-9"), As("bank:x", "snap-1")),
                "bank_reference_mismatch", "bank_reference");
  ExpectRefused(ledger_->RecordBankSuccess(Success(total_, kNow, "qr-9"), As("bank:x", "snap-1")),
                "bank_reference_mismatch", "bank_reference");
  EXPECT_EQ(log_->Head().sequence, head + 1);
  EXPECT_EQ(log_->Read(head + 1, 1)->front().type, "payment.notification_refused");
  ASSERT_TRUE(
      ledger_->RecordPaymentSucceeded(Success(total_, kNow + skew_us, "qr-1"), As("bank:x")).ok());
}

TEST_F(LedgerPaymentTest, NoTwoPaymentRequestsHoldOneBankReference) {
  ASSERT_TRUE(ledger_->Place(Order("cashless-2", "CASHLESS"), As("asn:x")).ok());
  ASSERT_TRUE(ledger_->RequestPayment("cashless-1", "QRIS", "ref-1", As("system:bank")).ok());
  ExpectRefused(ledger_->RequestPayment("cashless-2", "QRIS", "ref-1", As("system:bank")),
                "bank_reference_taken", "bank_reference");
  // Even after the first request expired: a reference is never handed to another payment.
  ASSERT_TRUE(ledger_->ExpirePayment("cashless-1", As("system:poller")).ok());
  ExpectRefused(ledger_->RequestPayment("cashless-2", "QRIS", "ref-1", As("system:bank")),
                "bank_reference_taken", "bank_reference");
  ExpectRefused(ledger_->RequestPayment("cashless-1", "QRIS", "ref-1", As("system:bank")),
                "bank_reference_taken", "bank_reference");
  ASSERT_TRUE(ledger_->RequestPayment("cashless-2", "QRIS", "ref-2", As("system:bank")).ok());
  // A retry of the same request under its idempotency key is answered, not refused.
  ASSERT_TRUE(ledger_->Place(Order("cashless-3", "CASHLESS"), As("asn:x")).ok());
  Result<CommandResult> first =
      ledger_->RequestPayment("cashless-3", "VA", "va-3", As("system:bank", "req-3"));
  ASSERT_TRUE(first.ok());
  Result<CommandResult> again =
      ledger_->RequestPayment("cashless-3", "VA", "va-3", As("system:bank", "req-3"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replayed);
}

// Every payment of a closed day is in its batch or moved to the next open day, whatever the
// interleaving of successes and the close.
TEST_F(LedgerPaymentTest, ClosesAndSuccessesForTheSameDayNeverRace) {
  constexpr int kOrders = 60;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = "race-" + std::to_string(i);
    ASSERT_TRUE(ledger_->Place(Order(id, "CASHLESS"), As("asn:x")).ok());
    ASSERT_TRUE(ledger_->RequestPayment(id, "QRIS", "qr-" + id, As("system:bank")).ok());
  }
  const int64_t paid_at = kNow + 3600 * int64_t{1'000'000};  // 11:00 on 2026-11-22
  now_ = kNow + 13 * 3600 * int64_t{1'000'000};              // 23:00: the day is over
  const CivilDate day{2026, 11, 22};
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    while (!closed) {
      Result<SettlementDay> computed = ledger_->ComputeSettlement(day);
      ASSERT_TRUE(computed.ok());
      CloseSettlement command{"2026-11-22",
                              computed->merchants,
                              computed->total_net,
                              computed->merchants.empty() ? "" : "pain001-2026-11-22.xml",
                              computed->merchants.empty() ? "" : std::string(64, 'a'),
                              std::string(64, 'b')};
      Result<CommandResult> result = ledger_->Close(command, As("operator:rina"));
      if (result.ok()) {
        closed = true;
      } else {
        ASSERT_EQ(result.status().error_code(), "settlement_totals_stale")
            << result.status().ToString();
      }
    }
  });
  std::vector<std::thread> payers;
  for (int t = 0; t < 4; ++t) {
    payers.emplace_back([&, t] {
      for (int i = t; i < kOrders; i += 4) {
        const std::string id = "race-" + std::to_string(i);
        Result<CommandResult> paid = ledger_->RecordPaymentSucceeded(
            Success(total_, paid_at, "qr-" + id, "QRIS", id), As("bank:x"));
        EXPECT_TRUE(paid.ok()) << paid.status().ToString();
      }
    });
  }
  for (auto& payer : payers) payer.join();
  closer.join();
  SettlementState batch = *ledger_->LoadSettlement(day);
  int64_t in_batch = 0;
  for (const MerchantSettlement& merchant : batch.merchants) in_batch += merchant.payments;
  int64_t on_the_day = 0, moved = 0;
  for (int i = 0; i < kOrders; ++i) {
    PaymentState payment = *ledger_->LoadPayment("race-" + std::to_string(i));
    ASSERT_EQ(payment.status, PaymentStatus::kSucceeded);
    if (payment.business_date == day) ++on_the_day;
    if (payment.business_date == CivilDate{2026, 11, 23}) ++moved;
  }
  EXPECT_EQ(on_the_day, in_batch);
  EXPECT_EQ(on_the_day + moved, kOrders);
  EXPECT_EQ(batch.total_net, Money::FromRupiah(165'000 * in_batch));
}

// A batch whose lines would not fit one event is refused before anything is decided.
TEST_F(LedgerPaymentTest, ABatchThatDoesNotFitOneEventIsRefused) {
  CloseSettlement command{"2026-11-21",        {}, Money(), "pain.xml", std::string(64, 'a'),
                          std::string(64, 'b')};
  for (size_t i = 0; i < settlement_merchants_max; ++i) {
    MerchantSettlement line;
    line.umkm_id = std::string(50, 'm') + std::to_string(1000 + i);
    line.gross = Money::FromRupiah(49'999'999);
    line.fee = Money::FromRupiah(1);
    line.refunds = Money::FromRupiah(1);
    line.refund_count = 1;
    line.net = Money::FromRupiah(49'999'997);
    line.payments = 1;
    command.merchants.push_back(line);
  }
  const uint64_t head = log_->Head().sequence;
  ExpectRefused(ledger_->Close(command, As("operator:rina")), "settlement_too_many_merchants",
                "merchants");
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(LedgerTest, ConcurrentOrdersForOneMerchantAllSucceed) {
  SeedMarket();
  constexpr int kThreads = 8;
  constexpr int kOrdersPerThread = 20;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOrdersPerThread; ++i) {
        PlaceOrder order = Order("c-" + std::to_string(t) + "-" + std::to_string(i));
        if (!ledger_->Place(order, As("asn:x")).ok()) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(log_->Verify(1, 0)->ok);
}

}  // namespace
}  // namespace malpro
