// The work lists over real sockets: GET /v1/orders, /v1/payments, /v1/receipts,
// /v1/settlement (and a batch, and its files), /v1/reconciliation: filters, roles, cursors while
// rows arrive, refusals naming the parameter.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "adapters/files/reconcile.h"
#include "adapters/files/settlement_run.h"
#include "engine/hash.h"
#include "tests/support/api_server.h"
#include "tests/support/list_pages.h"
#include "tests/support/test_ledger.h"

namespace malpro {
namespace {

using testing::Ids;
using testing::Next;

using boost::beast::http::verb;
using testing::Base64;
using testing::kNip;
using testing::kOtherNip;
using testing::Reply;
constexpr CivilDate kDay{2026, 11, 21};
constexpr int64_t kMinute = 60'000'000;
constexpr char kCollectionAccount[] = "0011000000";

// Asia/Jakarta wall time in UTC microseconds.
int64_t JakartaTime(CivilDate date, int hour, int minute) {
  return ((DaysFromCivil(date) * 86'400 + hour * 3600 + minute * 60) - 7 * 3600) * 1'000'000;
}

// The value of `"field":"..."` (or a number) after `after` in `text`.
std::string ValueOf(const std::string& text, const std::string& field, size_t after = 0) {
  const std::string key = "\"" + field + "\":";
  const size_t at = text.find(key, after);
  if (at == std::string::npos) return "<missing>";
  size_t start = at + key.size();
  if (text[start] == '"') {
    ++start;
    return text.substr(start, text.find('"', start) - start);
  }
  return text.substr(start, text.find_first_of(",}", start) - start);
}

class WorkListsApiTest : public testing::ApiServerTest {
 protected:
  void SetUp() override {
    now_ = JakartaTime(kDay, 8, 0);
    clock_ = [this] { return now_.load(); };
    add_dependencies_ = [this](ApiDependencies& dependencies) {
      dependencies.settlement_out_dir = dir_.Sub("settlement");
      dependencies.close_settlement =
          [this](const std::string& date, const CommandContext& context) -> Result<DetailedAnswer> {
        Result<SettleOutcome> outcome = Settle(*ledger_, *log_, *ParseIsoDate(date, "date"),
                                               dir_.Sub("settlement"), {}, context);
        if (!outcome.ok()) return outcome.status();
        return DetailedAnswer{outcome->result, SettleOutcomeJson(*outcome)};
      };
      dependencies.reconcile_statement =
          [this](std::string_view statement, const std::string& format,
                 const CommandContext& context) -> Result<DetailedAnswer> {
        Result<ReconcileOutcome> outcome =
            RunReconciliation(*ledger_, *log_, statement, format, kCollectionAccount, context);
        if (!outcome.ok()) return outcome.status();
        return DetailedAnswer{outcome->result, ReconcileOutcomeJson(*outcome)};
      };
    };
    Start(HttpOptions{});
    ASSERT_NO_FATAL_FAILURE(SeedPolicy());
    for (const char* nip : {kNip, kOtherNip}) ASSERT_NO_FATAL_FAILURE(SeedAsn(nip));
    ASSERT_NO_FATAL_FAILURE(SeedMerchant());
    ASSERT_NO_FATAL_FAILURE(SeedListedMerchant(
        "toko-lain",
        R"({"umkm_id":"toko-lain","name":"Toko Lain","category":"sembako","kecamatan":"Sukun","kelurahan":"Sukun","sponsor":"Diskopindag","settlement_account":"0098765432","qris_criteria":"UKE"})",
        R"({"product_id":"beras-5kg","name":"Beras","unit":"pack","price":"68000.00"})"));
  }

  // A GET once the read models have folded everything written so far.
  Reply Get(const std::string& target, Role role = Role::kOperator) {
    const std::string after = "after=" + std::to_string(log_->Head().sequence);
    return Call(verb::get, target + (target.find('?') == std::string::npos ? "?" : "&") + after, "",
                role);
  }

  void PlaceOrder(const std::string& id, const std::string& nip, const std::string& umkm_id,
                  const std::string& method = "COD") {
    now_ += kMinute;
    ASSERT_EQ(
        Call(verb::post, "/v1/orders",
             R"({"order_id":")" + id + R"(","buyer_nip":")" + nip + R"(","umkm_id":")" + umkm_id +
                 R"(","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":")" +
                 method + R"("})")
            .status,
        201);
  }

  void RequestPayment(const std::string& id, const std::string& channel) {
    CommandContext bank;
    bank.actor = "system:bank";
    ASSERT_TRUE(ledger_->RequestPayment(id, channel, "ref-" + id, bank).ok());
  }

  void Pay(const std::string& id, const std::string& channel = "QRIS") {
    CommandContext bank;
    bank.actor = "bank:bank-jatim";
    Result<CommandResult> paid = ledger_->RecordPaymentSucceeded(
        testing::BankPaid(id, channel, "ref-" + id, Money::FromRupiah(68'000), now_.load()), bank);
    ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  }

  // A refusal with its status, code and field.
  static void ExpectRefused(const Reply& reply, int status, const std::string& code,
                            const std::string& field) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(ValueOf(reply.body, "code"), code) << reply.body;
    EXPECT_EQ(ValueOf(reply.body, "field"), field) << reply.body;
  }

  std::atomic<int64_t> now_{0};
};

TEST_F(WorkListsApiTest, OrdersAreListedByMerchantBuyerStatusAndDayForTheirOwnersOnly) {
  PlaceOrder("o-1", kNip, "warung-bu-sri");
  PlaceOrder("o-2", kNip, "warung-bu-sri");
  PlaceOrder("o-3", kNip, "toko-lain");
  now_ += 86'400'000'000LL;  // the next day
  PlaceOrder("o-4", kOtherNip, "warung-bu-sri");
  PlaceOrder("o-5", kOtherNip, "toko-lain");
  ASSERT_EQ(Call(verb::post, "/v1/orders/o-2/accept", "", Role::kMerchant).status, 200);

  Reply fresh = Get("/v1/orders?umkm_id=warung-bu-sri&status=placed");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(Ids(fresh.body, "order_id"), (std::vector<std::string>{"o-1", "o-4"}));
  EXPECT_EQ(ValueOf(fresh.body, "next"), "null");
  EXPECT_NE(fresh.body.find(R"("status":"placed","cash_received":false,"payment_status":"")"),
            std::string::npos)
      << fresh.body;
  EXPECT_EQ(Ids(Get("/v1/orders?buyer_nip=" + std::string(kOtherNip)).body, "order_id"),
            (std::vector<std::string>{"o-4", "o-5"}));
  EXPECT_EQ(Ids(Get("/v1/orders?from=2026-11-22").body, "order_id"),
            (std::vector<std::string>{"o-4", "o-5"}));
  EXPECT_EQ(Ids(Get("/v1/orders?to=2026-11-21&sort=newest").body, "order_id"),
            (std::vector<std::string>{"o-3", "o-2", "o-1"}));
  EXPECT_EQ(Ids(Get("/v1/orders?from=2026-11-23").body, "order_id").size(), 0u);

  // The merchant sees its own orders, the ASN its own; naming another is forbidden.
  EXPECT_EQ(Ids(Get("/v1/orders", Role::kMerchant).body, "order_id"),
            (std::vector<std::string>{"o-1", "o-2", "o-4"}));
  EXPECT_EQ(Ids(Get("/v1/orders?status=accepted", Role::kMerchant).body, "order_id"),
            (std::vector<std::string>{"o-2"}));
  EXPECT_EQ(Ids(Get("/v1/orders", Role::kAsn).body, "order_id"),
            (std::vector<std::string>{"o-1", "o-2", "o-3"}));
  EXPECT_EQ(Get("/v1/orders?umkm_id=toko-lain", Role::kMerchant).status, 403);
  EXPECT_EQ(Get("/v1/orders?buyer_nip=" + std::string(kOtherNip), Role::kAsn).status, 403);
  for (Role role : {Role::kAuditor, Role::kAdmin}) {
    EXPECT_EQ(Ids(Get("/v1/orders", role).body, "order_id").size(), 5u);
  }

  ExpectRefused(Get("/v1/orders?status=shipped"), 400, "query_status_unknown", "status");
  ExpectRefused(Get("/v1/orders?limit=0"), 400, "query_invalid", "limit");
  ExpectRefused(Get("/v1/orders?limit=501"), 400, "query_invalid", "limit");
  ExpectRefused(Get("/v1/orders?cursor=zzz"), 400, "query_cursor_invalid", "cursor");
  ExpectRefused(Get("/v1/orders?cursor=p-1-1"), 400, "query_cursor_invalid", "cursor");
  ExpectRefused(Get("/v1/orders?from=2026-13-01"), 400, "query_invalid", "from");
  ExpectRefused(Get("/v1/orders?from=2026-11-22&to=2026-11-21"), 400, "query_invalid", "to");
  ExpectRefused(Get("/v1/orders?buyer_nip=123"), 400, "query_invalid", "buyer_nip");
  ExpectRefused(Get("/v1/orders?umkm_id=Not%20An%20Id"), 400, "query_invalid", "umkm_id");
  ExpectRefused(Get("/v1/orders?sort=sideways"), 400, "query_invalid", "sort");
}

TEST_F(WorkListsApiTest, ACursorPagesOnWithoutSkippingOrRepeatingWhileOrdersArrive) {
  for (int i = 1; i <= 5; ++i) PlaceOrder("o-" + std::to_string(i), kNip, "warung-bu-sri");
  std::vector<std::string> seen;
  Reply page = Get("/v1/orders?umkm_id=warung-bu-sri&limit=2", Role::kMerchant);
  ASSERT_EQ(page.status, 200) << page.body;
  for (const std::string& id : Ids(page.body, "order_id")) seen.push_back(id);
  int arriving = 6;
  for (int pages = 0; !Next(page.body).empty() && pages < 10; ++pages) {
    // A new order between every two pages.
    if (arriving <= 8) PlaceOrder("o-" + std::to_string(arriving++), kOtherNip, "warung-bu-sri");
    page =
        Get("/v1/orders?umkm_id=warung-bu-sri&limit=2&cursor=" + Next(page.body), Role::kMerchant);
    ASSERT_EQ(page.status, 200) << page.body;
    for (const std::string& id : Ids(page.body, "order_id")) seen.push_back(id);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"o-1", "o-2", "o-3", "o-4", "o-5", "o-6", "o-7", "o-8"}));
  // Newest first, a page at a time while more arrive: each order of the first answer's time,
  // once; none of the later ones.
  page = Get("/v1/orders?sort=newest&limit=3");
  seen = Ids(page.body, "order_id");
  while (!Next(page.body).empty()) {
    PlaceOrder("late-" + std::to_string(seen.size()), kNip, "warung-bu-sri");
    page = Get("/v1/orders?sort=newest&limit=3&cursor=" + Next(page.body));
    for (const std::string& id : Ids(page.body, "order_id")) seen.push_back(id);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"o-8", "o-7", "o-6", "o-5", "o-4", "o-3", "o-2", "o-1"}));
}

TEST_F(WorkListsApiTest, PaymentsPendingAtTheBankAreListedWithTheirAge) {
  PlaceOrder("c-1", kNip, "warung-bu-sri", "CASHLESS");
  PlaceOrder("c-2", kNip, "warung-bu-sri", "CASHLESS");
  PlaceOrder("c-3", kOtherNip, "toko-lain", "CASHLESS");
  RequestPayment("c-1", "QRIS");
  RequestPayment("c-2", "VA");
  now_ += 10 * kMinute;
  RequestPayment("c-3", "QRIS");
  now_ += 5 * kMinute;
  Pay("c-1");

  Reply pending = Get("/v1/payments?status=requested");
  ASSERT_EQ(pending.status, 200) << pending.body;
  EXPECT_EQ(Ids(pending.body, "payment_id"), (std::vector<std::string>{"c-2", "c-3"}));
  EXPECT_EQ(ValueOf(pending.body, "age_s", pending.body.find("\"c-2\"")), "900");
  EXPECT_EQ(ValueOf(pending.body, "age_s", pending.body.find("\"c-3\"")), "300");
  EXPECT_EQ(ValueOf(pending.body, "now_us"), std::to_string(now_.load()));
  Reply old = Get("/v1/payments?older_than_s=600");
  EXPECT_EQ(Ids(old.body, "payment_id"), (std::vector<std::string>{"c-2"})) << old.body;
  EXPECT_EQ(Ids(Get("/v1/payments?status=requested&channel=QRIS").body, "payment_id"),
            (std::vector<std::string>{"c-3"}));
  Reply paid = Get("/v1/payments?status=succeeded");
  EXPECT_EQ(Ids(paid.body, "payment_id"), (std::vector<std::string>{"c-1"}));
  EXPECT_EQ(ValueOf(paid.body, "age_s"), "null");
  EXPECT_EQ(ValueOf(paid.body, "business_date"), "2026-11-21");
  EXPECT_NE(Get("/v1/orders?umkm_id=warung-bu-sri").body.find(R"("payment_status":"succeeded")"),
            std::string::npos);

  EXPECT_EQ(Ids(Get("/v1/payments", Role::kAsn).body, "payment_id"),
            (std::vector<std::string>{"c-1", "c-2"}));
  EXPECT_EQ(Ids(Get("/v1/payments", Role::kMerchant).body, "payment_id"),
            (std::vector<std::string>{"c-1", "c-2"}));
  EXPECT_EQ(Get("/v1/payments?umkm_id=toko-lain", Role::kMerchant).status, 403);
  EXPECT_EQ(Get("/v1/payments?buyer_nip=" + std::string(kOtherNip), Role::kAsn).status, 403);
  ExpectRefused(Get("/v1/payments?channel=BCA"), 400, "query_channel_unknown", "channel");
  ExpectRefused(Get("/v1/payments?status=lost"), 400, "query_status_unknown", "status");
  ExpectRefused(Get("/v1/payments?older_than_s=60&status=succeeded"), 400, "query_invalid",
                "older_than_s");
  ExpectRefused(Get("/v1/payments?older_than_s=-5"), 400, "query_invalid", "older_than_s");
}

TEST_F(WorkListsApiTest, TheReceiptQueueIsByStatusAndKelurahanWithThePhotosLink) {
  const std::string today = FormatIsoDate(JakartaDate(now_.load()));
  auto submit = [&](const std::string& id, const std::string& nip, const std::string& kelurahan) {
    const std::string photo = std::string("\x89PNG\r\n\x1A\n", 8) + "photo-" + id;
    return Call(verb::post, "/v1/receipts",
                R"({"receipt_id":")" + id + R"(","nip":")" + nip +
                    R"(","shop_name":"Toko Pak Min","kelurahan":")" + kelurahan +
                    R"(","amount":"125000.00","purchase_date":")" + today +
                    R"(","photo_base64":")" + Base64(photo) + R"("})")
        .status;
  };
  ASSERT_EQ(submit("r-1", kNip, "Sukun"), 201);
  ASSERT_EQ(submit("r-2", kNip, "Kauman"), 201);
  ASSERT_EQ(submit("r-3", kOtherNip, "Sukun"), 201);
  ASSERT_EQ(submit("r-4", kOtherNip, "Sukun"), 201);
  ASSERT_EQ(Call(verb::post, "/v1/receipts/r-1/approve", "", Role::kOperator).status, 200);
  ASSERT_EQ(
      Call(verb::post, "/v1/receipts/r-4/reject", R"({"reason":"buram"})", Role::kOperator).status,
      200);

  Reply queue = Get("/v1/receipts?status=submitted&kelurahan=Sukun");
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_EQ(Ids(queue.body, "receipt_id"), (std::vector<std::string>{"r-3"}));
  const std::string link = ValueOf(queue.body, "photo_url");
  EXPECT_EQ(link, "/v1/receipts/r-3/photo");
  Reply photo = Call(verb::get, link, "", Role::kOperator);
  EXPECT_EQ(photo.status, 200);
  EXPECT_EQ(photo.body, std::string("\x89PNG\r\n\x1A\n", 8) + "photo-r-3");
  Reply rejected = Get("/v1/receipts?status=rejected");
  EXPECT_EQ(Ids(rejected.body, "receipt_id"), (std::vector<std::string>{"r-4"}));
  EXPECT_EQ(ValueOf(rejected.body, "rejection_reason"), "buram");
  EXPECT_EQ(Ids(Get("/v1/receipts?kelurahan=Sukun").body, "receipt_id"),
            (std::vector<std::string>{"r-1", "r-3", "r-4"}));

  EXPECT_EQ(Ids(Get("/v1/receipts", Role::kAsn).body, "receipt_id"),
            (std::vector<std::string>{"r-1", "r-2"}));
  EXPECT_EQ(Ids(Get("/v1/receipts?kelurahan=Sukun", Role::kAsn).body, "receipt_id"),
            (std::vector<std::string>{"r-1"}));
  EXPECT_EQ(Get("/v1/receipts?nip=" + std::string(kOtherNip), Role::kAsn).status, 403);
  EXPECT_EQ(Get("/v1/receipts", Role::kMerchant).status, 403);
  ExpectRefused(Get("/v1/receipts?kelurahan=Atlantis"), 422, "kelurahan_unknown", "kelurahan");
  ExpectRefused(Get("/v1/receipts?status=pending"), 400, "query_status_unknown", "status");
  ExpectRefused(Get("/v1/receipts?nip=19850712"), 400, "query_invalid", "nip");
}

TEST_F(WorkListsApiTest, SettlementBatchesAndTheirFilesAreServedAsRecorded) {
  PlaceOrder("c-1", kNip, "warung-bu-sri", "CASHLESS");
  RequestPayment("c-1", "QRIS");
  Pay("c-1");
  now_ = JakartaTime({2026, 11, 22}, 8, 0);
  Reply closed = Call(verb::post, "/v1/settlement/2026-11-21/close", "", Role::kOperator);
  ASSERT_EQ(closed.status, 201) << closed.body;

  Reply batches = Get("/v1/settlement");
  ASSERT_EQ(batches.status, 200) << batches.body;
  EXPECT_EQ(Ids(batches.body, "business_date"), (std::vector<std::string>{"2026-11-21"}));
  EXPECT_EQ(ValueOf(batches.body, "total_gross"), "68000.00");
  EXPECT_EQ(ValueOf(batches.body, "merchant_count"), "1");
  EXPECT_EQ(batches.body.find("\"merchants\""), std::string::npos) << batches.body;
  Reply batch = Get("/v1/settlement/2026-11-21");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(ValueOf(batch.body, "umkm_id"), "warung-bu-sri");
  EXPECT_EQ(ValueOf(batch.body, "total_fee"), "204.00");  // 30 basis points
  for (const std::string kind : {"pain001", "csv"}) {
    const size_t at = batch.body.find("\"" + kind + "\":{");
    ASSERT_NE(at, std::string::npos) << batch.body;
    const std::string url = ValueOf(batch.body, "url", at);
    Reply file = Call(verb::get, url, "", Role::kAuditor);
    ASSERT_EQ(file.status, 200) << url << ": " << file.body;
    EXPECT_EQ(HashToHex(Sha256(file.body)), ValueOf(batch.body, "sha256", at)) << url;
    EXPECT_EQ(file.headers["Content-Type"],
              kind == "csv" ? "text/csv; charset=utf-8" : "application/xml");
    EXPECT_NE(closed.body.find(ValueOf(batch.body, "sha256", at)), std::string::npos);
  }
  ExpectRefused(Get("/v1/settlement/2026-11-21/files/other.xml"), 404, "settlement_file_not_found",
                "name");
  ExpectRefused(Get("/v1/settlement/2026-11-21/files/..%2F..%2Fetc%2Fpasswd"), 404,
                "settlement_file_not_found", "name");
  ExpectRefused(Get("/v1/settlement/2026-11-25"), 404, "settlement_not_found", "date");
  ExpectRefused(Get("/v1/settlement/2026-11-25/files/x.csv"), 404, "settlement_not_found", "date");
  ExpectRefused(Get("/v1/settlement/2026-13-01"), 400, "query_invalid", "date");
  EXPECT_EQ(Get("/v1/settlement/outstanding").status, 200);
  for (Role role : {Role::kAsn, Role::kMerchant}) {
    EXPECT_EQ(Get("/v1/settlement", role).status, 403);
    EXPECT_EQ(Get("/v1/settlement/2026-11-21", role).status, 403);
  }
  // After a restart the batch is read back from its stored row, files and all.
  Start(HttpOptions{});
  Reply reloaded = Get("/v1/settlement/2026-11-21");
  EXPECT_EQ(reloaded.body, batch.body);
  EXPECT_EQ(Ids(Get("/v1/settlement?sort=oldest").body, "business_date"),
            (std::vector<std::string>{"2026-11-21"}));
  // A file changed on disk is not served as the one the log recorded.
  const std::string csv = ValueOf(batch.body, "file", batch.body.find("\"csv\":{"));
  std::ofstream(dir_.Sub("settlement") + "/" + csv, std::ios::app) << "tampered\n";
  ExpectRefused(Get("/v1/settlement/2026-11-21/files/" + csv), 500, "corruption", "<missing>");
}

TEST_F(WorkListsApiTest, ReconciliationRunsWithUnresolvedDiscrepanciesAreOpenUntilResolved) {
  auto statement = [](const std::string& id, const std::string& reference) {
    return "statement_id,account,booking_date,credit_debit,amount,reference\n" + id + "," +
           kCollectionAccount + ",2026-11-21T10:00:00,CRDT,68000.00," + reference + "\n" + id +
           "," + kCollectionAccount + ",2026-11-21T11:00:00,CRDT,15000.00,BJ-UNKNOWN\n";
  };
  Reply first = Call(verb::post, "/v1/reconciliation?format=csv",
                     statement("STMT-20261121", "BJ-9"), Role::kOperator);
  ASSERT_EQ(first.status, 201) << first.body;
  Reply second = Call(verb::post, "/v1/reconciliation?format=csv",
                      statement("STMT-20261122", "BJ-10"), Role::kOperator);
  ASSERT_EQ(second.status, 201) << second.body;

  Reply open = Get("/v1/reconciliation?open=true");
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_EQ(Ids(open.body, "statement_id"),
            (std::vector<std::string>{"stmt-20261122", "stmt-20261121"}));  // newest first
  EXPECT_EQ(ValueOf(open.body, "unresolved"), "2");
  EXPECT_EQ(ValueOf(open.body, "missing_in_ledger"), "2");
  for (int index : {1, 2}) {
    Reply resolved = Call(verb::post, "/v1/reconciliation/stmt-20261121/resolve",
                          R"({"index":)" + std::to_string(index) +
                              R"(,"action":"explain","note":"bukan pembayaran Malpro"})",
                          Role::kOperator);
    ASSERT_EQ(resolved.status, 200) << resolved.body;
  }
  open = Get("/v1/reconciliation?open=true");
  EXPECT_EQ(Ids(open.body, "statement_id"), (std::vector<std::string>{"stmt-20261122"}));
  Reply all = Get("/v1/reconciliation?statement_id=stmt-20261121&sort=oldest");
  EXPECT_EQ(ValueOf(all.body, "resolved"), "2");
  EXPECT_EQ(ValueOf(all.body, "unresolved"), "0");
  EXPECT_NE(all.body.find(R"("open_discrepancies":[])"), std::string::npos) << all.body;

  // Reconciled again: the new run is the latest, its differences resolved already.
  ASSERT_EQ(Call(verb::post, "/v1/reconciliation?format=csv", statement("STMT-20261121", "BJ-9"),
                 Role::kOperator)
                .status,
            200);
  all = Get("/v1/reconciliation?statement_id=stmt-20261121&sort=oldest");
  EXPECT_EQ(Ids(all.body, "statement_id").size(), 2u);
  EXPECT_EQ(ValueOf(all.body, "latest"), "false");
  EXPECT_EQ(ValueOf(all.body, "latest", all.body.find("\"run\":2")), "true");
  EXPECT_EQ(ValueOf(all.body, "unresolved", all.body.find("\"run\":2")), "0");
  EXPECT_EQ(Ids(Get("/v1/reconciliation?open=true").body, "statement_id"),
            (std::vector<std::string>{"stmt-20261122"}));
  ExpectRefused(Get("/v1/reconciliation?open=yes"), 400, "query_invalid", "open");
  for (Role role : {Role::kAsn, Role::kMerchant}) {
    EXPECT_EQ(Get("/v1/reconciliation", role).status, 403);
  }
}

}  // namespace
}  // namespace malpro
