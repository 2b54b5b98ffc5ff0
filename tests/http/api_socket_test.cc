// The HTTP API through real sockets on 127.0.0.1: every route with every role, ownership,
// idempotency, If-Match, error shapes, and each limit.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "tests/support/api_server.h"
#include "tests/support/test_ledger.h"

namespace malpro {
namespace {

using boost::beast::http::verb;
using testing::Base64;
using testing::BeastClient;
using testing::kNip;
using testing::kOtherNip;
using testing::kTokens;
using testing::Reply;

class ApiSocketTest : public testing::ApiServerTest {
 protected:
  void SetUp() override { Start(HttpOptions{}); }

  // An ASN (the asn token's), a verified merchant (the merchant token's) with a product, an
  // order between them, and a receipt of the ASN.
  void SeedMarket() {
    ASSERT_NO_FATAL_FAILURE(SeedAsn(kNip));
    ASSERT_NO_FATAL_FAILURE(SeedMerchant());
    ASSERT_EQ(Call(verb::post, "/v1/orders", OrderBody("o-1")).status, 201);
    ASSERT_EQ(Call(verb::post, "/v1/receipts", ReceiptBody("r-1", "one")).status, 201);
  }

  static std::string OrderBody(const std::string& id, const std::string& nip = kNip) {
    return R"({"order_id":")" + id + R"(","buyer_nip":")" + nip +
           R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"COD"})";
  }
  static std::string ReceiptBody(const std::string& id, const std::string& unique) {
    // base64 of the PNG magic bytes followed by a unique tail
    const std::string photo = std::string("\x89PNG\r\n\x1A\n", 8) + "photo-" + unique;
    return R"({"receipt_id":")" + id + R"(","nip":")" + kNip +
           R"(","shop_name":"Toko Pak Min","kelurahan":"Sukun","amount":"125000.00","purchase_date":")" +
           FormatIsoDate(JakartaDate(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count())) +
           R"(","photo_base64":")" + Base64(photo) + R"("})";
  }
};

struct RouteCase {
  verb method;
  std::string target;
  std::string body;
  std::set<Role> allowed;  // empty: no token needed
};

std::vector<RouteCase> EveryRoute() {
  const std::set<Role> all = {Role::kAsn, Role::kMerchant, Role::kOperator, Role::kAuditor,
                              Role::kAdmin};
  const std::string asn = std::string("/v1/asn/") + kNip;
  const std::string umkm = "/v1/umkm/warung-bu-sri";
  return {
      {verb::get, "/healthz", "", {}},
      {verb::get, "/metrics", "", {}},
      {verb::get, asn, "", {Role::kAsn, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, umkm, "", all},
      {verb::get,
       "/v1/orders/o-1",
       "",
       {Role::kAsn, Role::kMerchant, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       "/v1/receipts/r-1",
       "",
       {Role::kAsn, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       "/v1/receipts/r-1/photo",
       "",
       {Role::kAsn, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/policy", "", all},
      {verb::get, "/v1/events?from=1&limit=5", "", {Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/streams/order-o-1", "", {Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/chain/head", "", {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::post,
       "/v1/orders",
       R"({"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"COD"})",
       {Role::kAsn, Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/orders/o-1/accept", "", {Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/orders/o-1/deliver", "", {Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::post,
       "/v1/orders/o-1/cash-received",
       "",
       {Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::post,
       "/v1/orders/o-1/cancel",
       R"({"reason":"batal"})",
       {Role::kAsn, Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/receipts", "", {Role::kAsn, Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/receipts/r-1/approve", "", {Role::kOperator, Role::kAdmin}},
      {verb::post,
       "/v1/receipts/r-1/reject",
       R"({"reason":"buram"})",
       {Role::kOperator, Role::kAdmin}},
      {verb::post,
       umkm + "/products",
       R"({"product_id":"gula","name":"Gula","unit":"kg","price":"17500.00"})",
       {Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::put,
       umkm + "/products/beras-5kg/price",
       R"({"price":"70000.00"})",
       {Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::delete_,
       umkm + "/products/gula",
       "",
       {Role::kMerchant, Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/umkm", "{}", {Role::kOperator, Role::kAdmin}},
      {verb::post, umkm + "/verify", "", {Role::kOperator, Role::kAdmin}},
      {verb::post, umkm + "/suspend", R"({"reason":"audit"})", {Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/asn", "{}", {Role::kAdmin}},
      {verb::post, asn + "/rank", R"({"rank_class":"III/b"})", {Role::kAdmin}},
      {verb::post,
       "/v1/policy/minimum-spend",
       R"({"rank_group":"III","amount":"450000.00","effective_from":"2099-01-01"})",
       {Role::kAdmin}},
      {verb::post,
       "/v1/policy/fee-rule",
       R"({"basis_points":30,"umi_zero_fee_max":"500000.00","effective_from":"2099-01-01"})",
       {Role::kAdmin}},
      {verb::post,
       "/v1/policy/settlement-cutoff",
       R"({"cutoff":"21:00","effective_from":"2099-01-01"})",
       {Role::kAdmin}},
      {verb::get, "/v1/reconciliation/stmt-1", "", {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::post,
       "/v1/reconciliation/stmt-1/resolve",
       R"({"index":1,"action":"explain","note":"n"})",
       {Role::kOperator, Role::kAdmin}},
      {verb::post, asn + "/deactivate", R"({"reason":"pensiun"})", {Role::kAdmin}},
      {verb::get, "/v1/catalog?q=beras", "", all},
      {verb::get, "/v1/catalog/warung-bu-sri", "", all},
      {verb::get, asn + "/spend", "", {Role::kAsn, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       asn + "/spend/2026-10",
       "",
       {Role::kAsn, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       "/v1/compliance/2026-10?by=rank_class",
       "",
       {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       "/v1/compliance/2026-10/shortfalls",
       "",
       {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       umkm + "/sales?from=2026-10-01&to=2026-10-31",
       "",
       {Role::kMerchant, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       umkm + "/outstanding",
       "",
       {Role::kMerchant, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       "/v1/settlement/outstanding",
       "",
       {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/circulation/2026-10", "", {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/stats", "", {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/orders?status=placed", "", all},
      {verb::get, "/v1/payments?status=requested", "", all},
      {verb::get,
       "/v1/receipts?status=submitted",
       "",
       {Role::kAsn, Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/settlement", "", {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get, "/v1/settlement/2026-10-01", "", {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::get,
       "/v1/reconciliation?open=true",
       "",
       {Role::kOperator, Role::kAuditor, Role::kAdmin}},
      {verb::post,
       "/v1/orders/o-1/payment/refund",
       R"({"amount":"1.00"})",
       {Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/settlement/2026-10-01/close", "", {Role::kOperator, Role::kAdmin}},
      {verb::post, "/v1/reconciliation", "statement_id,account", {Role::kOperator, Role::kAdmin}},
  };
}

TEST_F(ApiSocketTest, EveryRouteChecksTheRoleOfEveryToken) {
  SeedMarket();
  for (const RouteCase& route : EveryRoute()) {
    const std::string name =
        std::string(boost::beast::http::to_string(route.method)) + " " + route.target;
    if (!route.allowed.empty()) {
      EXPECT_EQ(Call(route.method, route.target, route.body, std::nullopt).status, 401) << name;
      Reply bad_token =
          BeastClient(server_->port())
              .Send(route.method, route.target, route.body, {{"Authorization", "Bearer wrong"}});
      EXPECT_EQ(bad_token.status, 401) << name;
    }
    // Refused roles first: they change nothing, so the allowed ones still find the data.
    for (const auto& [role, token] : kTokens) {
      if (route.allowed.empty() || route.allowed.contains(role)) continue;
      Reply reply = Call(route.method, route.target, route.body, role);
      EXPECT_EQ(reply.status, 403) << name << " as " << RoleName(role);
      EXPECT_NE(reply.body.find("\"code\":\"forbidden\""), std::string::npos) << name;
    }
    for (const auto& [role, token] : kTokens) {
      if (!route.allowed.empty() && !route.allowed.contains(role)) continue;
      Reply reply = Call(route.method, route.target, route.body,
                         route.allowed.empty() ? std::nullopt : std::optional(role));
      EXPECT_NE(reply.status, 401) << name << " as " << RoleName(role);
      EXPECT_NE(reply.status, 403) << name << " as " << RoleName(role) << ": " << reply.body;
      EXPECT_NE(reply.status, 0) << name;
    }
  }
}

TEST_F(ApiSocketTest, ReadModelsAnswerAfterTheWriteTheyAreAskedToWaitFor) {
  SeedMarket();
  Reply placed = Call(verb::post, "/v1/orders", OrderBody("o-2"), Role::kAsn);
  ASSERT_EQ(placed.status, 201);
  const size_t at = placed.body.find("\"first_sequence\":");
  ASSERT_NE(at, std::string::npos) << placed.body;
  const std::string sequence = std::to_string(std::stoull(placed.body.substr(at + 17)));
  const std::string month =
      FormatIsoDate(JakartaDate(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()))
          .substr(0, 7);
  Reply spend =
      Call(verb::get, std::string("/v1/asn/") + kNip + "/spend/" + month + "?after=" + sequence, "",
           Role::kAsn);
  ASSERT_EQ(spend.status, 200) << spend.body;
  EXPECT_NE(spend.body.find("\"pending\":\"136000.00\",\"pending_orders\":2"), std::string::npos)
      << spend.body;
  EXPECT_GE(std::stoull(spend.headers["X-Applied-Sequence"]), std::stoull(sequence));
  Reply catalog =
      Call(verb::get, "/v1/catalog?category=sembako&kecamatan=Klojen&q=BERAS", "", Role::kAsn);
  EXPECT_NE(catalog.body.find("\"total\":1"), std::string::npos) << catalog.body;
  EXPECT_NE(catalog.body.find("\"price\":\"68000.00\""), std::string::npos) << catalog.body;
  EXPECT_EQ(Call(verb::get, std::string("/v1/asn/") + kOtherNip + "/spend/" + month, "", Role::kAsn)
                .status,
            403);
  EXPECT_EQ(Call(verb::get, std::string("/v1/asn/") + kOtherNip + "/spend/" + month).status, 404);
  EXPECT_EQ(Call(verb::get, "/v1/umkm/someone-else/sales?from=2026-10-01&to=2026-10-31", "",
                 Role::kMerchant)
                .status,
            403);
  Reply bad_month = Call(verb::get, "/v1/circulation/2026-1");
  EXPECT_EQ(bad_month.status, 400);
  EXPECT_NE(bad_month.body.find("\"field\":\"month\""), std::string::npos) << bad_month.body;
  EXPECT_EQ(Call(verb::get, "/v1/umkm/warung-bu-sri/sales?from=2026-10-01").status, 400);
  EXPECT_EQ(Call(verb::get, "/v1/compliance/2026-10?by=opd").status, 400);
  // A position the log never reaches: the read waits its bounded time, then says so.
  Reply behind = Call(verb::get, "/v1/stats?after=999999");
  EXPECT_EQ(behind.status, 503);
  EXPECT_NE(behind.body.find("read_models_behind"), std::string::npos) << behind.body;
}

// A sales range whose from is after its to is a mistake, not an empty answer: 422 naming from
// and the rule. A one-day range (from = to) is fine.
TEST_F(ApiSocketTest, ASalesRangeWhoseFromIsAfterItsToIsRefusedNamingFrom) {
  SeedMarket();
  const std::string today =
      FormatIsoDate(JakartaDate(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()));
  const std::string head = std::to_string(log_->Head().sequence);
  Reply one_day = Call(
      verb::get, "/v1/umkm/warung-bu-sri/sales?from=" + today + "&to=" + today + "&after=" + head,
      "", Role::kMerchant);
  ASSERT_EQ(one_day.status, 200) << one_day.body;
  EXPECT_NE(one_day.body.find("\"from\":\"" + today + "\",\"to\":\"" + today + "\""),
            std::string::npos)
      << one_day.body;
  Reply reversed = Call(verb::get, "/v1/umkm/warung-bu-sri/sales?from=2026-12-01&to=2026-11-01", "",
                        Role::kMerchant);
  EXPECT_EQ(reversed.status, 422) << reversed.body;
  EXPECT_NE(reversed.body.find("\"code\":\"date_range_invalid\""), std::string::npos)
      << reversed.body;
  EXPECT_NE(reversed.body.find("\"field\":\"from\""), std::string::npos) << reversed.body;
  EXPECT_NE(reversed.body.find("from (2026-12-01) must not be after to (2026-11-01)"),
            std::string::npos)
      << reversed.body;
  // The dates themselves are checked first: a malformed one is still 400 query_invalid.
  EXPECT_EQ(Call(verb::get, "/v1/umkm/warung-bu-sri/sales?from=2026-13-01&to=2026-11-01").status,
            400);
}

TEST_F(ApiSocketTest, AsnAndMerchantTokensActOnTheirOwnDataOnly) {
  SeedMarket();
  EXPECT_EQ(Call(verb::get, std::string("/v1/asn/") + kOtherNip, "", Role::kAsn).status, 403);
  EXPECT_EQ(Call(verb::post, "/v1/orders", OrderBody("o-2", kOtherNip), Role::kAsn).status, 403);
  EXPECT_EQ(Call(verb::post, "/v1/umkm/toko-lain/products",
                 R"({"product_id":"x","name":"X","unit":"kg","price":"1.00"})", Role::kMerchant)
                .status,
            403);
  ASSERT_NO_FATAL_FAILURE(SeedListedMerchant(
      "toko-lain",
      R"({"umkm_id":"toko-lain","name":"Toko Lain","category":"sembako","kecamatan":"Sukun","kelurahan":"Bandulan","sponsor":"Dispangtan","settlement_account":"0099999999","qris_criteria":"UKE"})",
      R"({"product_id":"x","name":"X","unit":"kg","price":"1000.00"})"));
  ASSERT_EQ(
      Call(
          verb::post, "/v1/orders",
          R"({"order_id":"o-lain","buyer_nip":"198507122010011003","umkm_id":"toko-lain","lines":[{"product_id":"x","quantity":1}],"payment_method":"COD"})")
          .status,
      201);
  EXPECT_EQ(Call(verb::post, "/v1/orders/o-lain/accept", "", Role::kMerchant).status, 403);
  EXPECT_EQ(Call(verb::get, "/v1/orders/o-lain", "", Role::kMerchant).status, 403);
  EXPECT_EQ(Call(verb::get, "/v1/orders/o-lain", "", Role::kAsn).status, 200);
}

TEST_F(ApiSocketTest, IdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherBody) {
  SeedMarket();
  const std::map<std::string, std::string> key = {{"Idempotency-Key", "order-abc"}};
  Reply first = Call(verb::post, "/v1/orders", OrderBody("o-9"), Role::kAsn, key);
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t head = log_->Head().sequence;
  Reply again = Call(verb::post, "/v1/orders", OrderBody("o-9"), Role::kAsn, key);
  EXPECT_EQ(again.headers["Malpro-Sequence"], first.headers["Malpro-Sequence"]);
  EXPECT_NE(again.body.find("\"replayed\":true"), std::string::npos) << again.body;
  EXPECT_EQ(log_->Head().sequence, head);
  Reply other = Call(verb::post, "/v1/orders", OrderBody("o-10"), Role::kAsn, key);
  EXPECT_EQ(other.status, 409);
  EXPECT_NE(other.body.find("idempotency_key_reused"), std::string::npos);
}

TEST_F(ApiSocketTest, IfMatchGuardsTheStreamVersion) {
  SeedMarket();
  Reply stale =
      Call(verb::post, "/v1/orders/o-1/accept", "", Role::kMerchant, {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status, 409);
  EXPECT_NE(stale.body.find("version_mismatch"), std::string::npos);
  EXPECT_EQ(
      Call(verb::post, "/v1/orders/o-1/accept", "", Role::kMerchant, {{"If-Match", "soon"}}).status,
      400);
  Reply current =
      Call(verb::post, "/v1/orders/o-1/accept", "", Role::kMerchant, {{"If-Match", "\"1\""}});
  EXPECT_EQ(current.status, 200) << current.body;
  EXPECT_EQ(current.headers["ETag"], "\"2\"");
}

TEST_F(ApiSocketTest, ErrorsNameTheirCodeFieldAndStatus) {
  SeedMarket();
  struct Case {
    verb method;
    std::string target;
    std::string body;
    int status;
    std::string code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {verb::post, "/v1/asn", "{nope", 400, "body_invalid_json", "body"},
      {verb::post, "/v1/asn", "[1]", 400, "body_not_object", "body"},
      {verb::post, "/v1/asn/198507122010011003/rank", R"({"rank_class":"III/b","x":1})", 400,
       "body_field_unknown", "x"},
      {verb::post, "/v1/asn/198507122010011003/rank", R"({"rank_class":3})", 400,
       "body_field_wrong_type", "rank_class"},
      {verb::post, "/v1/orders",
       R"({"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri","lines":[{"product_id":"gula","quantity":99999999999999999999999}]})",
       400, "body_number_out_of_range", "lines[0].quantity"},
      {verb::post, "/v1/asn",
       R"({"nip":"198502302010011003","name":"A","agency":"B","rank_class":"III/a","kelurahan":"Kauman"})",
       422, "nip_birth_date", "nip"},
      {verb::post, "/v1/asn",
       R"({"nip":"198507122010011003","name":"A","agency":"B","rank_class":"III/a","kelurahan":"Kauman"})",
       409, "asn_already_registered", "nip"},
      {verb::post, "/v1/orders/o-404/accept", "", 404, "order_not_found", "order_id"},
      {verb::get, "/v1/events?limit=abc", "", 400, "query_invalid", "limit"},
      {verb::get, "/v1/nothing", "", 404, "route_not_found", "path"},
      {verb::delete_, "/v1/catalog", "", 405, "method_not_allowed", "method"},
      {verb::post, "/v1/umkm/warung-bu-sri/products",
       R"({"product_id":"gula","name":"Gula","unit":"kg","price":"1.001"})", 422,
       "amount_too_precise", "price"},
  };
  for (const Case& c : cases) {
    Reply reply = Call(c.method, c.target, c.body);
    EXPECT_EQ(reply.status, c.status) << c.target << " " << reply.body;
    EXPECT_NE(reply.body.find("\"code\":\"" + c.code + "\""), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find("\"field\":\"" + c.field + "\""), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find("\"message\":"), std::string::npos) << reply.body;
  }
}

// {"payment_method":"COD",...,"payment_method":"CASHLESS"} would be read as COD here and may
// be read as CASHLESS by anything else that sees the same bytes: refused, whatever the depth.
TEST_F(ApiSocketTest, ABodyWithARepeatedKeyIsRefusedAndWritesNothing) {
  SeedMarket();
  const uint64_t head = log_->Head().sequence;
  const std::string order = OrderBody("o-dup");
  const std::string twice_paid =
      order.substr(0, order.size() - 1) + R"(,"payment_method":"CASHLESS"})";
  std::string twice_counted = OrderBody("o-dup");
  twice_counted.replace(twice_counted.find(R"("quantity":1)"), 12, R"("quantity":1,"quantity":9)");
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"/v1/orders", twice_paid, "payment_method"},
      {"/v1/orders", twice_counted, "quantity"},
      {"/v1/asn/198507122010011003/rank", R"({"rank_class":"III/b","rank_class":"IV/e"})",
       "rank_class"},
  };
  for (const auto& [target, body, key] : cases) {
    Reply reply = Call(verb::post, target, body, Role::kAdmin, {{"Idempotency-Key", "dup-" + key}});
    EXPECT_EQ(reply.status, 400) << body << " " << reply.body;
    EXPECT_NE(reply.body.find(R"({"error":{"code":"body_duplicate_key","message":")"),
              std::string::npos)
        << reply.body;
    EXPECT_NE(reply.body.find(R"("field":")" + key + R"("}})"), std::string::npos) << reply.body;
  }
  EXPECT_EQ(log_->Head().sequence, head) << "a refused body wrote an event";
  EXPECT_EQ(Call(verb::get, "/v1/orders/o-dup").status, 404);
  // The same body without the repeat goes through.
  EXPECT_EQ(Call(verb::post, "/v1/orders", order).status, 201);
}

TEST_F(ApiSocketTest, AWrongMethodIs405WithTheMethodsThePathTakes) {
  Reply catalog = Call(verb::delete_, "/v1/catalog", "");
  EXPECT_EQ(catalog.status, 405) << catalog.body;
  EXPECT_EQ(catalog.headers["Allow"], "GET, HEAD");
  Reply orders = Call(verb::put, "/v1/orders", "{}");
  EXPECT_EQ(orders.status, 405) << orders.body;
  EXPECT_EQ(orders.headers["Allow"], "GET, HEAD, POST");  // GET: the orders work list
  Reply asn = Call(verb::get, "/v1/asn", "");
  EXPECT_EQ(asn.status, 405) << asn.body;
  EXPECT_NE(asn.body.find("it takes POST"), std::string::npos) << asn.body;
}

TEST_F(ApiSocketTest, WithoutABankTheOrderIsStillCheckedBeforeTheBankIsMissed) {
  SeedMarket();  // o-1 is cash on delivery
  const uint64_t head = log_->Head().sequence;
  Reply cod = Call(verb::post, "/v1/orders/o-1/payment", R"({"channel":"QRIS"})");
  EXPECT_EQ(cod.status, 409) << cod.body;
  EXPECT_NE(cod.body.find("order_not_cashless"), std::string::npos) << cod.body;
  std::string cashless = OrderBody("o-2");
  cashless.replace(cashless.find("\"COD\""), 5, "\"CASHLESS\"");
  ASSERT_EQ(Call(verb::post, "/v1/orders", cashless).status, 201);
  ASSERT_EQ(Call(verb::post, "/v1/orders/o-2/cancel", R"({"reason":"salah pesan"})").status, 200);
  Reply cancelled = Call(verb::post, "/v1/orders/o-2/payment", R"({"channel":"QRIS"})");
  EXPECT_EQ(cancelled.status, 409) << cancelled.body;
  EXPECT_NE(cancelled.body.find("order_not_payable"), std::string::npos) << cancelled.body;
  cashless = OrderBody("o-3");
  cashless.replace(cashless.find("\"COD\""), 5, "\"CASHLESS\"");
  ASSERT_EQ(Call(verb::post, "/v1/orders", cashless).status, 201);
  Reply no_bank = Call(verb::post, "/v1/orders/o-3/payment", R"({"channel":"VA"})");
  EXPECT_EQ(no_bank.status, 503) << no_bank.body;
  EXPECT_NE(no_bank.body.find("bank_not_configured"), std::string::npos) << no_bank.body;
  EXPECT_EQ(log_->Head().sequence, head + 3);  // the two orders and the cancellation only
}

// The channel is judged first, so a refused channel tells nothing of the order: not whether
// it exists, nor whose it is.
TEST_F(ApiSocketTest, AnUnknownChannelIsRefusedBeforeTheOrderIsLookedAt) {
  SeedMarket();
  const uint64_t head = log_->Head().sequence;
  for (const std::string order_id : {"o-1", "no-such-order"}) {
    Reply reply = Call(verb::post, "/v1/orders/" + order_id + "/payment", R"({"channel":"BTC"})");
    EXPECT_EQ(reply.status, 422) << reply.body;
    EXPECT_NE(reply.body.find(R"("code":"channel_unknown")"), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find(R"("field":"channel")"), std::string::npos) << reply.body;
  }
  // Another ASN's order: the channel first, then the ownership, before the payment method.
  ASSERT_EQ(
      Call(verb::post, "/v1/asn",
           R"({"nip":")" + std::string(kOtherNip) +
               R"(","name":"Budi","agency":"Bappeda","rank_class":"II/c","kelurahan":"Sukun"})")
          .status,
      201);
  ASSERT_EQ(Call(verb::post, "/v1/orders", OrderBody("o-other", kOtherNip)).status, 201);
  EXPECT_EQ(
      Call(verb::post, "/v1/orders/o-other/payment", R"({"channel":"BTC"})", Role::kAsn).status,
      422);
  Reply foreign =
      Call(verb::post, "/v1/orders/o-other/payment", R"({"channel":"QRIS"})", Role::kAsn);
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  Reply missing = Call(verb::post, "/v1/orders/no-such-order/payment", R"({"channel":"VA"})");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(log_->Head().sequence, head + 2);  // the ASN and the order only
}

// Without a bank the ledger's whole rule still answers first: a pending payment is said as
// such, not hidden behind the missing bank.
TEST_F(ApiSocketTest, WithoutABankAPendingPaymentIsSaidBeforeTheBankIsMissed) {
  SeedMarket();
  std::string cashless = OrderBody("o-2");
  cashless.replace(cashless.find("\"COD\""), 5, "\"CASHLESS\"");
  ASSERT_EQ(Call(verb::post, "/v1/orders", cashless).status, 201);
  CommandContext bank;
  bank.actor = "system:bank";
  ASSERT_TRUE(ledger_->RequestPayment("o-2", "QRIS", "BJQR-2", bank).ok());
  const uint64_t head = log_->Head().sequence;
  Reply pending = Call(verb::post, "/v1/orders/o-2/payment", R"({"channel":"VA"})");
  EXPECT_EQ(pending.status, 409) << pending.body;
  EXPECT_NE(pending.body.find(R"("code":"payment_pending")"), std::string::npos) << pending.body;
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(ApiSocketTest, PlacingOrdersWithoutAWaitingThreadAnswersAsBefore) {
  SeedMarket();  // o-1 exists
  const uint64_t head = log_->Head().sequence;
  // A duplicate loses in the log and is decided again on a worker: the domain's answer.
  Reply duplicate = Call(verb::post, "/v1/orders", OrderBody("o-1"), Role::kAsn);
  EXPECT_EQ(duplicate.status, 409) << duplicate.body;
  EXPECT_NE(duplicate.body.find("order_already_exists"), std::string::npos) << duplicate.body;
  // Another ASN's order, a malformed body and an unknown product keep their refusals.
  EXPECT_EQ(
      Call(verb::post, "/v1/orders", OrderBody("o-x", "198001012005011001"), Role::kAsn).status,
      403);
  EXPECT_EQ(Call(verb::post, "/v1/orders", "{nope", Role::kAsn).status, 400);
  std::string unknown = OrderBody("o-y");
  unknown.replace(unknown.find("beras-5kg"), 9, "gula-1kg");
  Reply refused = Call(verb::post, "/v1/orders", unknown, Role::kAsn);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(log_->Head().sequence, head);
  // Many at once, each answered with its own order and sequence.
  std::vector<std::thread> clients;
  std::vector<Reply> replies(16);
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      replies[i] = Call(verb::post, "/v1/orders", OrderBody("c-" + std::to_string(i)), Role::kAsn);
    });
  }
  for (std::thread& client : clients) client.join();
  std::set<std::string> sequences;
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(replies[i].status, 201) << replies[i].body;
    EXPECT_NE(replies[i].body.find("\"order_id\":\"c-" + std::to_string(i) + "\""),
              std::string::npos)
        << replies[i].body;
    const size_t at = replies[i].body.find("\"sequence\":");
    sequences.insert(replies[i].body.substr(at, replies[i].body.find_first_of(",}", at) - at));
  }
  EXPECT_EQ(sequences.size(), 16u);
  EXPECT_EQ(log_->Head().sequence, head + 16);
}

TEST_F(ApiSocketTest, AnOrderIsPlacedWithoutAWaitingThreadAndAnsweredAsHandleWould) {
  SeedMarket();
  auto request_for = [](const std::string& body, const std::string& token,
                        std::map<std::string, std::string> headers = {}) {
    auto request = std::make_shared<HttpRequest>(verb::post, "/v1/orders", 11);
    request->set(http::field::authorization, "Bearer " + token);
    for (const auto& [name, value] : headers) request->set(name, value);
    request->body() = body;
    request->prepare_payload();
    return request;
  };
  auto run_inline = [](std::function<void()> work) { work(); };
  std::promise<Api::MakeResponse> answer;
  std::atomic<int> calls{0};
  auto respond = [&](Api::MakeResponse make) {
    if (++calls == 1) answer.set_value(std::move(make));
  };
  ASSERT_TRUE(api_->HandleAsync(request_for(OrderBody("o-async"), "t-asn"), respond, run_inline));
  std::future<Api::MakeResponse> made = answer.get_future();
  ASSERT_EQ(made.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  HttpResponse response = made.get()();
  EXPECT_EQ(response.result_int(), 201) << response.body();
  EXPECT_NE(response.body().find("\"order_id\":\"o-async\""), std::string::npos) << response.body();
  EXPECT_EQ(response["ETag"], "\"1\"");
  EXPECT_EQ(response["Malpro-Sequence"], std::to_string(log_->Head().sequence));
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(calls.load(), 1);
  Result<OrderState> placed = ledger_->LoadOrder("o-async");
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(placed->total, Money::FromRupiah(68'000));

  // What needs the waiting path is left to Handle, untouched.
  const uint64_t head = log_->Head().sequence;
  auto never = [](Api::MakeResponse) { FAIL() << "answered a request it declined"; };
  EXPECT_FALSE(api_->HandleAsync(
      request_for(OrderBody("o-key"), "t-asn", {{"Idempotency-Key", "k-1"}}), never, run_inline));
  EXPECT_FALSE(api_->HandleAsync(request_for(OrderBody("o-if"), "t-asn", {{"If-Match", "\"1\""}}),
                                 never, run_inline));
  EXPECT_FALSE(api_->HandleAsync(request_for(OrderBody("o-role"), "t-auditor"), never, run_inline));
  EXPECT_FALSE(
      api_->HandleAsync(request_for(OrderBody("o-other", kOtherNip), "t-asn"), never, run_inline));
  EXPECT_FALSE(api_->HandleAsync(request_for("{nope", "t-asn"), never, run_inline));
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(ApiSocketTest, StoppingWhileOrdersAreInFlightLosesNoAnsweredOrder) {
  SeedMarket();
  const uint16_t port = server_->port();  // the server goes away under the clients
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> answered;  // order ids answered 201
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 2000 && !stop; ++i) {  // bounded
        const std::string id = "s-" + std::to_string(c) + "-" + std::to_string(i);
        Reply reply;
        try {
          reply = BeastClient(port).Send(verb::post, "/v1/orders", OrderBody(id),
                                         {{"Authorization", "Bearer " + kTokens.at(Role::kAsn)}});
        } catch (const std::exception&) {
          break;  // the server went away (connection refused or reset)
        }
        if (reply.status == 201) {
          std::lock_guard lock(mutex);
          answered.push_back(id);
        } else if (reply.status == 0) {
          break;  // the server went away
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_.reset();  // stops with orders queued in the log and being synced, then closes all
  stop = true;
  for (std::thread& client : clients) client.join();
  ASSERT_FALSE(answered.empty());
  for (const std::string& id : answered) {
    EXPECT_TRUE(ledger_->LoadOrder(id).ok()) << id << " was answered 201 but is not in the log";
  }
  EXPECT_TRUE(log_->Verify(1, 0)->ok);
}

TEST_F(ApiSocketTest, ReceiptPhotoComesBackByteForByte) {
  SeedMarket();
  Reply photo = Call(verb::get, "/v1/receipts/r-1/photo", "", Role::kAsn);
  ASSERT_EQ(photo.status, 200);
  EXPECT_EQ(photo.headers["Content-Type"], "image/png");
  EXPECT_EQ(photo.body, std::string("\x89PNG\r\n\x1A\n", 8) + "photo-one");
}

TEST_F(ApiSocketTest, PathsFromRequestsNeverReachTheFilesystem) {
  SeedMarket();
  for (const char* target :
       {"/v1/receipts/..%2F..%2F..%2Fetc%2Fpasswd/photo", "/v1/receipts/../../etc/passwd",
        "/v1/streams/..%2F..%2Fetc%2Fpasswd", "/v1/umkm/%2Fetc%2Fpasswd"}) {
    Reply reply = Call(verb::get, target, "", Role::kAdmin);
    EXPECT_NE(reply.status, 200) << target;
    EXPECT_EQ(reply.body.find("root:"), std::string::npos) << target;
  }
}

TEST_F(ApiSocketTest, OversizedBodiesAre413AndHeaders431) {
  HttpOptions options;
  options.body_bytes_max = 2048;
  Start(options);
  Reply body = Call(verb::post, "/v1/asn", std::string(4096, ' '));
  EXPECT_EQ(body.status, 413);
  EXPECT_NE(body.body.find("body_too_large"), std::string::npos);
  Reply headers =
      Call(verb::get, "/healthz", "", std::nullopt, {{"X-Filler", std::string(20'000, 'a')}});
  EXPECT_EQ(headers.status, 431);
  EXPECT_NE(headers.body.find("headers_too_large"), std::string::npos);
}

TEST_F(ApiSocketTest, ASlowClientIsAnswered408) {
  HttpOptions options;
  options.request_timeout_ms = 300;
  Start(options);
  BeastClient client(server_->port());
  const std::string partial =
      "POST /v1/asn HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ni";
  boost::asio::write(client.socket(), boost::asio::buffer(partial));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  char buffer[64] = {};
  boost::system::error_code error;
  const size_t read = client.socket().read_some(boost::asio::buffer(buffer), error);
  EXPECT_TRUE(std::string(buffer, read).starts_with("HTTP/1.1 408")) << std::string(buffer, read);
}

TEST_F(ApiSocketTest, ConnectionsOverTheLimitAre429) {
  HttpOptions options;
  options.connections_max = 2;
  Start(options);
  BeastClient first(server_->port());
  BeastClient second(server_->port());
  ASSERT_EQ(first.Send(verb::get, "/healthz").status, 200);
  ASSERT_EQ(second.Send(verb::get, "/healthz").status, 200);
  BeastClient third(server_->port());
  char buffer[64] = {};
  boost::system::error_code error;
  const size_t read = third.socket().read_some(boost::asio::buffer(buffer), error);
  EXPECT_TRUE(std::string(buffer, read).starts_with("HTTP/1.1 429")) << std::string(buffer, read);
  EXPECT_EQ(first.Send(verb::get, "/healthz").status, 200);  // keep-alive still served
}

// The operator's exception list and its resolution, and a month's close, over real sockets.
TEST_F(ApiSocketTest, ExceptionsAreListedAndResolvedAndAMonthClosesOnceOver) {
  SeedMarket();
  ASSERT_EQ(
      Call(
          verb::post, "/v1/orders",
          R"({"order_id":"o-cashless","buyer_nip":")" + std::string(kNip) +
              R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"CASHLESS"})")
          .status,
      201);
  CommandContext bank;
  bank.actor = "system:bank";
  ASSERT_TRUE(ledger_->RequestPayment("o-cashless", "QRIS", "BJQR-1", bank).ok());
  ASSERT_EQ(
      Call(verb::post, "/v1/orders/o-cashless/cancel", R"({"reason":"salah pesan"})", Role::kAsn)
          .status,
      200);
  Result<CommandResult> recorded = ledger_->RecordPaymentSucceeded(
      testing::BankPaid("o-cashless", "QRIS", "BJQR-1", Money::FromRupiah(68'000), ledger_->Now()),
      bank);
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  const std::string after = "after=" + std::to_string(recorded->last_sequence);

  EXPECT_EQ(Call(verb::get, "/v1/exceptions?" + after, "", Role::kAsn).status, 403);
  Reply open = Call(verb::get, "/v1/exceptions?" + after, "", Role::kOperator);
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_NE(open.body.find(R"("payment_id":"o-cashless")"), std::string::npos) << open.body;
  EXPECT_NE(open.body.find(R"("open":1,"open_amount":"68000.00")"), std::string::npos) << open.body;
  EXPECT_EQ(Call(verb::get, "/v1/exceptions?status=closed", "", Role::kOperator).status, 400);
  Reply unknown = Call(verb::post, "/v1/exceptions/o-cashless/resolve",
                       R"({"resolution":"lost","note":"x"})", Role::kOperator);
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  Reply resolved = Call(verb::post, "/v1/exceptions/o-cashless/resolve",
                        R"({"resolution":"refunded","note":"dikembalikan"})", Role::kOperator);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  Reply again = Call(verb::post, "/v1/exceptions/o-cashless/resolve",
                     R"({"resolution":"refunded","note":"dikembalikan"})", Role::kOperator);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("exception_not_open"), std::string::npos) << again.body;
  Reply after_resolve = Call(
      verb::get, "/v1/exceptions?status=resolved&after=" + std::to_string(log_->Head().sequence),
      "", Role::kAuditor);
  EXPECT_NE(after_resolve.body.find(R"("resolution":"refunded")"), std::string::npos)
      << after_resolve.body;
  EXPECT_NE(after_resolve.body.find(R"("open":0)"), std::string::npos) << after_resolve.body;

  // This month is not over; last month is, and closes once.
  const CivilDate today = JakartaDate(ledger_->Now());
  const CivilDate last_month_day =
      CivilFromDays(DaysFromCivil(CivilDate{today.year, today.month, 1}) - 1);
  const std::string this_month = FormatIsoDate(today).substr(0, 7);
  const std::string last_month = FormatIsoDate(last_month_day).substr(0, 7);
  Reply early = Call(verb::post, "/v1/compliance/" + this_month + "/close", "", Role::kOperator);
  EXPECT_EQ(early.status, 409) << early.body;
  EXPECT_NE(early.body.find("month_not_over"), std::string::npos) << early.body;
  EXPECT_EQ(Call(verb::post, "/v1/compliance/" + last_month + "/close", "", Role::kAuditor).status,
            403);
  Reply closed = Call(verb::post, "/v1/compliance/" + last_month + "/close", "", Role::kOperator);
  ASSERT_EQ(closed.status, 201) << closed.body;
  EXPECT_NE(closed.body.find(R"("figures_sha256":")"), std::string::npos) << closed.body;
  Reply twice = Call(verb::post, "/v1/compliance/" + last_month + "/close", "", Role::kOperator);
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("month_already_closed"), std::string::npos) << twice.body;
  Reply rollup = Call(
      verb::get, "/v1/compliance/" + last_month + "?after=" + std::to_string(log_->Head().sequence),
      "", Role::kOperator);
  EXPECT_NE(rollup.body.find(R"("closed":{"sequence":)"), std::string::npos) << rollup.body;
}

// A merchant's NIB and settlement account are the city's and the merchant's own business.
TEST_F(ApiSocketTest, SettlementAccountAndNibAreShownOnlyToTheCityAndTheMerchantItself) {
  SeedMarket();
  ASSERT_EQ(
      Call(
          verb::post, "/v1/umkm",
          R"({"umkm_id":"toko-lain","name":"Toko Lain","nib":"1234567890123","category":"sembako","kecamatan":"Sukun","kelurahan":"Sukun","sponsor":"Diskopindag","settlement_account":"0098765432","qris_criteria":"UKE"})")
          .status,
      201);
  for (Role role : {Role::kOperator, Role::kAuditor, Role::kAdmin}) {
    Reply reply = Call(verb::get, "/v1/umkm/toko-lain", "", role);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_NE(reply.body.find(R"("settlement_account":"0098765432")"), std::string::npos);
    EXPECT_NE(reply.body.find(R"("nib":"1234567890123")"), std::string::npos);
  }
  for (Role role : {Role::kAsn, Role::kMerchant}) {  // the merchant token is warung-bu-sri's
    Reply reply = Call(verb::get, "/v1/umkm/toko-lain", "", role);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.body.find("settlement_account"), std::string::npos) << reply.body;
    EXPECT_EQ(reply.body.find("1234567890123"), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find(R"("name":"Toko Lain")"), std::string::npos) << reply.body;
  }
  Reply own = Call(verb::get, "/v1/umkm/warung-bu-sri", "", Role::kMerchant);
  EXPECT_NE(own.body.find(R"("settlement_account":"0012345678")"), std::string::npos) << own.body;
}

// Field-level mistakes are refused with their own code and field, and nothing is written.
TEST_F(ApiSocketTest, EmptyHeadersEmptyIdsAndControlCharactersAreRefused) {
  SeedMarket();
  const uint64_t head = log_->Head().sequence;
  Reply empty_key =
      Call(verb::post, "/v1/orders", OrderBody("o-key"), Role::kAdmin, {{"Idempotency-Key", ""}});
  EXPECT_EQ(empty_key.status, 400) << empty_key.body;
  EXPECT_NE(empty_key.body.find("header_idempotency_key_empty"), std::string::npos)
      << empty_key.body;
  Reply empty_match =
      Call(verb::post, "/v1/orders/o-1/accept", "", Role::kAdmin, {{"If-Match", ""}});
  EXPECT_EQ(empty_match.status, 400) << empty_match.body;
  EXPECT_NE(empty_match.body.find("header_if_match_invalid"), std::string::npos)
      << empty_match.body;
  std::string empty_id = OrderBody("");
  Reply no_id = Call(verb::post, "/v1/orders", empty_id);
  EXPECT_EQ(no_id.status, 422) << no_id.body;
  EXPECT_NE(no_id.body.find(R"("code":"id_invalid")"), std::string::npos) << no_id.body;
  EXPECT_NE(no_id.body.find(R"("field":"order_id")"), std::string::npos) << no_id.body;
  for (const std::string& name : {std::string("Toko\u007fLain"), std::string("Toko\u0085Lain")}) {
    Reply reply = Call(
        verb::post, "/v1/umkm",
        R"({"umkm_id":"toko-ctl","name":")" + name +
            R"(","category":"sembako","kecamatan":"Sukun","kelurahan":"Sukun","sponsor":"Diskopindag","settlement_account":"0098765432","qris_criteria":"UKE"})");
    EXPECT_EQ(reply.status, 422) << name << " " << reply.body;
    EXPECT_NE(reply.body.find("text_control_character"), std::string::npos) << reply.body;
  }
  EXPECT_EQ(log_->Head().sequence, head);
  // Non-ASCII names that are not controls stay welcome.
  EXPECT_EQ(
      Call(
          verb::post, "/v1/umkm",
          R"({"umkm_id":"toko-ok","name":"Toko Bu S\u00e9ri","category":"sembako","kecamatan":"Sukun","kelurahan":"Sukun","sponsor":"Diskopindag","settlement_account":"0098765432","qris_criteria":"UKE"})")
          .status,
      201);
}

TEST_F(ApiSocketTest, AWrongTypeIsNotAMissingFieldAndAPhotoErrorNamesTheBodysField) {
  SeedMarket();
  const std::string wrong_quantity =
      R"({"order_id":"o-t","buyer_nip":")" + std::string(kNip) +
      R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":"2"}],"payment_method":"COD"})";
  Reply wrong = Call(verb::post, "/v1/orders", wrong_quantity);
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_NE(wrong.body.find(R"("code":"body_field_wrong_type")"), std::string::npos) << wrong.body;
  EXPECT_NE(wrong.body.find(R"("field":"lines[0].quantity")"), std::string::npos) << wrong.body;
  const std::string no_quantity =
      R"({"order_id":"o-t","buyer_nip":")" + std::string(kNip) +
      R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg"}],"payment_method":"COD"})";
  Reply missing = Call(verb::post, "/v1/orders", no_quantity);
  EXPECT_NE(missing.body.find(R"("code":"body_field_missing")"), std::string::npos) << missing.body;
  // Not an image: the error names photo_base64, the field the client sent.
  const std::string receipt = ReceiptBody("r-bad", "x");
  std::string not_image = receipt;
  const size_t at = not_image.find(R"("photo_base64":")") + 16;
  not_image.replace(at, not_image.find('"', at) - at, Base64("plain text, not a photo"));
  Reply photo = Call(verb::post, "/v1/receipts", not_image, Role::kAsn);
  EXPECT_EQ(photo.status, 422) << photo.body;
  EXPECT_NE(photo.body.find(R"("field":"photo_base64")"), std::string::npos) << photo.body;
}

}  // namespace
}  // namespace malpro
