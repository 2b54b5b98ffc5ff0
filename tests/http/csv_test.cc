// CSV answers (docs/http-api.md, "CSV"): the converter on its own (quoting, the formula guard,
// shapes), the negotiation, and the routes over real sockets, each CSV row checked against the
// JSON row field for field with a CSV reader of the test's own; agency and place filters.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/http/csv_views.h"
#include "adapters/http/http_limits.h"
#include "engine/error_codes.h"
#include "tests/support/api_server.h"
#include "tests/support/list_pages.h"

namespace malpro {
namespace {

using boost::beast::http::verb;
using testing::kNip;
using testing::Reply;

// ---------------------------------------------------------------------------------------
// The test's own readers: an RFC 4180 reader and JSON values as the CSV must write them.

using CsvRows = std::vector<std::vector<std::string>>;

// Reads RFC 4180 text strictly: every record ends with CRLF, quotes only around whole fields.
// A malformed text fails the test and reads as no rows.
CsvRows ReadCsv(const std::string& text) {
  CsvRows rows;
  std::vector<std::string> record;
  std::string field;
  size_t at = 0;
  while (at < text.size()) {
    if (text[at] == '"') {
      for (++at; at < text.size(); ++at) {
        if (text[at] != '"') {
          field.push_back(text[at]);
        } else if (at + 1 < text.size() && text[at + 1] == '"') {
          field.push_back('"');
          ++at;
        } else {
          break;
        }
      }
      ++at;  // the closing quote
    } else {
      while (at < text.size() && text[at] != ',' && text[at] != '\r' && text[at] != '\n' &&
             text[at] != '"') {
        field.push_back(text[at++]);
      }
    }
    if (at < text.size() && text[at] == ',') {
      record.push_back(std::move(field));
      field.clear();
      ++at;
    } else if (text.compare(at, 2, "\r\n") == 0) {
      record.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(record));
      record.clear();
      at += 2;
    } else {
      ADD_FAILURE() << "not RFC 4180 at byte " << at << ": " << text;
      return {};
    }
  }
  EXPECT_TRUE(record.empty() && field.empty()) << "the last record lacks its CRLF: " << text;
  return rows;
}

// What the CSV holds for a JSON text value: the value, after the formula guard.
std::string Guarded(std::string_view text) {
  static const std::regex number("[+-]?[0-9]+(\\.[0-9]+)?");
  const bool formula = !text.empty() &&
                       std::string_view("=+-@\t\r").find(text[0]) != std::string::npos &&
                       !std::regex_match(text.begin(), text.end(), number);
  return (formula ? "'" : "") + std::string(text);
}

// The JSON rows of `rows` (a JSON pointer to an array) as the CSV must hold them: each
// `context` pointer of the answer, then each of `columns` (pointers within a row).
CsvRows JsonRows(const std::string& json, const std::string& rows,
                 const std::vector<std::string>& context, const std::vector<std::string>& columns) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  auto text = [](simdjson::dom::element value) -> std::string {
    if (value.is_string()) return Guarded(value.get_string().value());
    if (value.is_null()) return "";
    return simdjson::minify(value);
  };
  std::vector<std::string> prefix;
  for (const std::string& pointer : context) {
    simdjson::dom::element value;
    EXPECT_EQ(root.at_pointer(pointer).get(value), simdjson::SUCCESS) << pointer;
    prefix.push_back(text(value));
  }
  simdjson::dom::array array;
  EXPECT_EQ(root.at_pointer(rows).get(array), simdjson::SUCCESS) << rows << " in " << json;
  CsvRows out;
  for (simdjson::dom::element row : array) {
    std::vector<std::string> fields = prefix;
    for (const std::string& pointer : columns) {
      simdjson::dom::element value;
      EXPECT_EQ(row.at_pointer(pointer).get(value), simdjson::SUCCESS) << pointer;
      fields.push_back(text(value));
    }
    out.push_back(std::move(fields));
  }
  return out;
}

// "a,b,c" as {"/a", "/b", "/c"}.
std::vector<std::string> Pointers(const std::string& header) {
  std::vector<std::string> pointers;
  std::stringstream names(header);
  for (std::string name; std::getline(names, name, ',');) pointers.push_back("/" + name);
  return pointers;
}

// The value at a JSON pointer, as text.
std::string JsonAt(const std::string& json, const std::string& pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  if (parser.parse(json).at_pointer(pointer).get(value) != simdjson::SUCCESS) return "<missing>";
  if (value.is_string()) return std::string(value.get_string().value());
  return simdjson::minify(value);
}

// ---------------------------------------------------------------------------------------
// The converter and the negotiation, without a server.

// A field of a CSV answer and how CsvText writes it.
struct CsvTextCase {
  std::string_view field;
  std::string_view written;
};

void ExpectCsvTexts(std::initializer_list<CsvTextCase> cases) {
  for (const CsvTextCase& c : cases) EXPECT_EQ(CsvText(c.field), c.written) << c.field;
}

TEST(CsvText, QuotesCommasQuotesAndLineBreaksAsRfc4180Says) {
  ExpectCsvTexts({{"Warung Bu Sri", "Warung Bu Sri"},
                  {"", ""},
                  {"Toko \"Murah\", Sukun", "\"Toko \"\"Murah\"\", Sukun\""},
                  {"two\r\nlines", "\"two\r\nlines\""},
                  {"line\nfeed", "\"line\nfeed\""},
                  {"\"", "\"\"\"\""},
                  {"Kopi Dampit ☕", "Kopi Dampit ☕"}});  // UTF-8 as it is
}

TEST(CsvText, GuardsFormulasButNotNumbers) {
  ExpectCsvTexts({{"=SUM(A1:A9)", "'=SUM(A1:A9)"},
                  {"+cmd", "'+cmd"},
                  {"-cmd", "'-cmd"},
                  {"@SUM(A1)", "'@SUM(A1)"},
                  {"\tx", "'\tx"},
                  {"\rx", "\"'\rx\""},  // guarded, then quoted for its CR
                  {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
                  {"-", "'-"},
                  {"-5.", "'-5."}});
  // Numbers stay numbers: a negative adjustment, a signed count.
  ExpectCsvTexts({{"-5000.00", "-5000.00"}, {"+62", "+62"}, {"-7", "-7"}});
  // Only the first character counts.
  ExpectCsvTexts({{"a=b", "a=b"}});
}

const CsvView kTestView{"test-{month}-{agency}",
                        {{"month"}},
                        "rows",
                        {{"id"}, {"cod.count"}, {"cod.amount", "cash"}, {"file.url"}, {"flag"}},
                        {},
                        {},
                        CsvPaging::kCursor};

TEST(JsonToCsv, WritesTheHeaderContextNestedValuesAndPaging) {
  const std::string json =
      R"({"month":"2026-11","rows":[)"
      R"({"id":"a,1","cod":{"count":3,"amount":"-5.00"},"file":{"url":"=x"},"flag":true},)"
      R"({"id":"b","cod":{"count":-2,"amount":"0.00"},"file":null,"flag":null},)"
      R"({"id":"c","cod":{"count":18446744073709551615,"amount":"1.00"},"file":{"url":""},"flag":false}],)"
      R"("next":"o-1-2"})";
  Result<CsvAnswer> csv = JsonToCsv(json, kTestView);
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->text,
            "month,id,cod_count,cash,file_url,flag\r\n"
            "2026-11,\"a,1\",3,-5.00,'=x,true\r\n"
            "2026-11,b,-2,0.00,,\r\n"
            "2026-11,c,18446744073709551615,1.00,,false\r\n");
  EXPECT_EQ(csv->next_cursor, "o-1-2");
  EXPECT_FALSE(csv->total.has_value());
  Result<CsvAnswer> last = JsonToCsv(R"({"month":"2026-11","rows":[],"next":null})", kTestView);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->text, "month,id,cod_count,cash,file_url,flag\r\n");  // the header alone
  EXPECT_FALSE(last->next_cursor.has_value());
}

TEST(JsonToCsv, ExpandsNestedRowsAndKeepsARowWithoutAny) {
  const CsvView view{"nested",          {},
                     "merchants",       {{"umkm_id"}, {"name"}},
                     "products",        {{"name", "product_name"}, {"price"}},
                     CsvPaging::kOffset};
  Result<CsvAnswer> csv = JsonToCsv(
      R"({"merchants":[{"umkm_id":"m-1","name":"A","products":[{"name":"x","price":"1.00"},)"
      R"({"name":"y","price":"2.00"}]},{"umkm_id":"m-2","name":"B","products":[]}],"total":7})",
      view);
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->text,
            "umkm_id,name,product_name,price\r\nm-1,A,x,1.00\r\nm-1,A,y,2.00\r\nm-2,B,,\r\n");
  EXPECT_EQ(csv->total, 7);
}

TEST(JsonToCsv, RefusesAnAnswerOfAnotherShapeNamingTheMember) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"month":"2026-11","rows":[{"id":"a","cod":{"count":1,"amount":"1.00"},"flag":true}],"next":null})",
       "rows[].file.url"},
      {R"({"month":"2026-11","rows":[{"id":{"x":1},"cod":{"count":1,"amount":"1.00"},"file":null,"flag":true}],"next":null})",
       "rows[].id"},
      {R"({"month":"2026-11","rows":{},"next":null})", "rows"},
      {R"({"rows":[],"next":null})", "month"},
      {R"({"month":"2026-11","rows":[],"next":3})", "next"},
      {R"([1,2])", "the answer"},
  };
  for (const auto& [json, member] : cases) {
    Result<CsvAnswer> csv = JsonToCsv(json, kTestView);
    ASSERT_FALSE(csv.ok()) << json;
    EXPECT_EQ(csv.status().error_code(), errc::kCorruption) << json;
    EXPECT_NE(csv.status().message().find(member), std::string::npos)
        << member << ": " << csv.status().message();
  }
}

TEST(CsvFileName, FillsParametersAndDropsAbsentOnes) {
  EXPECT_EQ(CsvFileName(kTestView, {{"month", "2026-11"}}, {}), "test-2026-11.csv");
  EXPECT_EQ(CsvFileName(kTestView, {{"month", "2026-11"}}, {{"agency", "Dinas \"Kominfo\"/x"}}),
            "test-2026-11-Dinas__Kominfo__x.csv");
  EXPECT_EQ(CsvFileName(kTestView, {{"month", "2026-11"}}, {{"agency", ""}}), "test-2026-11.csv");
  EXPECT_EQ(CsvFileName(csv_orders, {}, {{"status", "placed"}}), "orders.csv");
  EXPECT_EQ(CsvFileName(csv_shortfalls, {{"month", "2026-11"}}, {}), "shortfalls-2026-11.csv");
}

TEST(CsvNegotiation, FormatWinsAndAcceptNamesTextCsvWithAQuality) {
  EXPECT_TRUE(AcceptsCsv("text/csv"));
  EXPECT_TRUE(AcceptsCsv("TEXT/CSV; charset=utf-8; header=present"));
  EXPECT_TRUE(AcceptsCsv("application/json;q=0.9, text/csv;q=0.1"));
  EXPECT_TRUE(AcceptsCsv("text/csv ; q=1"));
  EXPECT_FALSE(AcceptsCsv(""));
  EXPECT_FALSE(AcceptsCsv("application/json"));
  EXPECT_FALSE(AcceptsCsv("text/*, */*"));
  EXPECT_FALSE(AcceptsCsv("text/csv;q=0"));
  EXPECT_FALSE(AcceptsCsv("text/csv; Q=0.000, application/json"));
  EXPECT_FALSE(AcceptsCsv("text/csvx"));
  const std::string csv = "csv";
  const std::string json = "json";
  const std::string xml = "xml";
  EXPECT_EQ(*RequestedFormat(nullptr, "text/csv"), AnswerFormat::kCsv);
  EXPECT_EQ(*RequestedFormat(nullptr, "application/json"), AnswerFormat::kJson);
  EXPECT_EQ(*RequestedFormat(&json, "text/csv"), AnswerFormat::kJson);
  EXPECT_EQ(*RequestedFormat(&csv, "application/json"), AnswerFormat::kCsv);
  Result<AnswerFormat> refused = RequestedFormat(&xml, "text/csv");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().error_code(), errc::kQueryInvalid);
  EXPECT_EQ(refused.status().field(), "format");
  EXPECT_NE(refused.status().message().find("csv or json"), std::string::npos);
}

// The header line of every route's table is in docs/http-api.md ("CSV"), byte for byte.
TEST(CsvViews, TheDocsListEveryRoutesHeaderLine) {
  std::ifstream file(MALPRO_SOURCE_DIR "/docs/http-api.md");
  std::stringstream docs;
  docs << file.rdbuf();
  ASSERT_NE(docs.str().find("### CSV"), std::string::npos);
  const CsvView* views[] = {&csv_orders,
                            &csv_payments,
                            &csv_receipts,
                            &csv_settlement_batches,
                            &csv_settlement_batch,
                            &csv_reconciliation_runs,
                            &csv_exceptions,
                            &csv_catalog,
                            &csv_compliance_by_agency,
                            &csv_compliance_by_rank_class,
                            &csv_shortfalls,
                            &csv_sales,
                            &csv_merchant_outstanding,
                            &csv_outstanding};
  for (const CsvView* view : views) {
    std::string header;
    for (const auto* columns : {&view->context, &view->columns, &view->nested_columns}) {
      for (const CsvColumn& column : *columns)
        header += (header.empty() ? "" : ",") + column.Header();
    }
    EXPECT_NE(docs.str().find("`" + header + "`"), std::string::npos)
        << view->file_name << ": docs/http-api.md lacks `" << header << "`";
    const std::string file_name = "`" + std::string(view->file_name) + ".csv`";
    EXPECT_NE(docs.str().find(file_name), std::string::npos) << file_name;
  }
}

// ---------------------------------------------------------------------------------------
// The routes, over real sockets.

constexpr char kSecondNip[] = "199001012015032001";
constexpr char kThirdNip[] = "198001012005011001";
constexpr char kOrdersHeader[] =
    "order_id,buyer_nip,umkm_id,payment_method,total,status,cash_received,payment_status,"
    "placed_at_us,updated_at_us,sequence";
constexpr char kShortfallsColumns[] = "nip,name,agency,rank_class,committed,minimum,shortfall";
constexpr char kComplianceColumns[] = "asn,compliant,not_compliant,committed,shortfall";
constexpr char kSalesHeader[] =
    "umkm_id,date,orders,gross,fee,refunds,net,cod_count,cod_amount,cashless_count,"
    "cashless_amount";
constexpr char kCatalogHeader[] =
    "umkm_id,name,category,kecamatan,kelurahan,status,qris_criteria,product_id,product_name,unit,"
    "price";
constexpr char kContentType[] = "text/csv; charset=utf-8; header=present";

// Asia/Jakarta wall time in UTC microseconds.
int64_t JakartaMicros(CivilDate date, int hour) {
  return ((DaysFromCivil(date) * 86'400 + hour * 3600) - 7 * 3600) * 1'000'000;
}

class CsvApiTest : public testing::ApiServerTest {
 protected:
  void SetUp() override {
    now_ = JakartaMicros({2026, 11, 21}, 8);
    clock_ = [this] { return now_.load(); };
    Start(HttpOptions{});
    PolicyDefaults policy;
    policy.minimum_spend = {{"II", Money::FromRupiah(300'000)},
                            {"III", Money::FromRupiah(400'000)},
                            {"IV", Money::FromRupiah(500'000)}};
    policy.settlement_cutoff_minutes = 22 * 60;
    policy.effective_from = {2023, 3, 13};
    CommandContext system;
    system.actor = "system:config";
    ASSERT_TRUE(ledger_->SeedPolicy(policy, system).ok());
    ASSERT_NO_FATAL_FAILURE(RegisterAsn(kNip, R"(Siti \"Ani\", S.Pd)", "Diskominfo", "III/a"));
    ASSERT_NO_FATAL_FAILURE(RegisterAsn(kSecondNip, "Budi", "Dinkes", "IV/a"));
    ASSERT_NO_FATAL_FAILURE(RegisterAsn(kThirdNip, "=Rina", "Diskominfo", "II/c"));
    ASSERT_NO_FATAL_FAILURE(SeedMerchant());
    ASSERT_EQ(
        Call(
            verb::post, "/v1/umkm",
            R"({"umkm_id":"toko-murah","name":"Toko \"Murah\", Sukun","category":"sembako","kecamatan":"Sukun","kelurahan":"Sukun","sponsor":"Diskopindag","settlement_account":"0098765432","qris_criteria":"UKE"})")
            .status,
        201);
    ASSERT_EQ(Call(verb::post, "/v1/umkm/toko-murah/verify").status, 200);
  }

  void RegisterAsn(const std::string& nip, const std::string& name, const std::string& agency,
                   const std::string& rank_class) {
    ASSERT_EQ(Call(verb::post, "/v1/asn",
                   R"({"nip":")" + nip + R"(","name":")" + name + R"(","agency":")" + agency +
                       R"(","rank_class":")" + rank_class + R"(","kelurahan":"Kauman"})")
                  .status,
              201);
  }

  // A GET once the read models have folded everything written so far.
  Reply Get(const std::string& target, std::map<std::string, std::string> headers = {}) {
    const std::string after = "after=" + std::to_string(log_->Head().sequence);
    return Call(verb::get, target + (target.find('?') == std::string::npos ? "?" : "&") + after, "",
                Role::kOperator, std::move(headers));
  }

  // The same target as JSON and as CSV; the CSV's rows (header first) checked well formed.
  std::pair<Reply, CsvRows> GetBoth(const std::string& target, Reply* csv_reply = nullptr) {
    Reply json = Get(target);
    EXPECT_EQ(json.status, 200) << target << ": " << json.body;
    Reply csv = Get(target + (target.find('?') == std::string::npos ? "?" : "&") + "format=csv");
    EXPECT_EQ(csv.status, 200) << target << ": " << csv.body;
    EXPECT_EQ(csv.headers["Content-Type"], kContentType);
    if (csv_reply != nullptr) *csv_reply = csv;
    return {json, ReadCsv(csv.body)};
  }

  // A delivered COD order of beras-5kg, its cash received.
  void PaidCodOrder(const std::string& id, const std::string& nip) {
    now_ += 60'000'000;
    ASSERT_EQ(
        Call(
            verb::post, "/v1/orders",
            R"({"order_id":")" + id + R"(","buyer_nip":")" + nip +
                R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":2}],"payment_method":"COD"})")
            .status,
        201);
    for (const char* step : {"accept", "deliver", "cash-received"}) {
      ASSERT_EQ(Call(verb::post, "/v1/orders/" + id + "/" + step).status, 200) << step;
    }
  }

  static void ExpectRefused(const Reply& reply, int status, std::string_view code,
                            const std::string& field, const std::string& named) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.headers.at("Content-Type"), "application/json") << reply.body;
    EXPECT_EQ(JsonAt(reply.body, "/error/code"), code) << reply.body;
    EXPECT_EQ(JsonAt(reply.body, "/error/field"), field) << reply.body;
    EXPECT_NE(JsonAt(reply.body, "/error/message").find(named), std::string::npos)
        << named << ": " << reply.body;
  }

  std::atomic<int64_t> now_{0};
};

TEST_F(CsvApiTest, OrdersInCsvAreTheJsonRowsFieldForField) {
  PaidCodOrder("o-1", kNip);
  PaidCodOrder("o-2", kSecondNip);
  Reply csv_reply;
  const auto [json, csv] = GetBoth("/v1/orders", &csv_reply);
  ASSERT_EQ(csv.size(), 3u) << csv_reply.body;
  EXPECT_EQ(csv_reply.body.substr(0, csv_reply.body.find("\r\n")), kOrdersHeader);
  const CsvRows expected = JsonRows(json.body, "/orders", {}, Pointers(kOrdersHeader));
  EXPECT_EQ(CsvRows(csv.begin() + 1, csv.end()), expected);
  EXPECT_EQ(csv[1][0], "o-1");
  EXPECT_EQ(csv[1][4], "136000.00");  // the amount as the JSON writes it
  EXPECT_EQ(csv[1][6], "true");
  EXPECT_EQ(csv_reply.headers["Content-Disposition"], "attachment; filename=\"orders.csv\"");
  EXPECT_EQ(csv_reply.headers["X-Applied-Sequence"], json.headers.at("X-Applied-Sequence"));
  EXPECT_FALSE(csv_reply.headers.contains("X-Next-Cursor"));  // the last page
}

TEST_F(CsvApiTest, ShortfallsComplianceAndSalesInCsvAreTheJsonRows) {
  PaidCodOrder("o-1", kNip);
  PaidCodOrder("o-2", kNip);
  Reply csv_reply;
  auto [shortfalls, shortfall_rows] = GetBoth("/v1/compliance/2026-11/shortfalls", &csv_reply);
  ASSERT_EQ(shortfall_rows.size(), 4u) << csv_reply.body;
  EXPECT_EQ(csv_reply.body.substr(0, csv_reply.body.find("\r\n")),
            std::string("month,") + kShortfallsColumns);
  EXPECT_EQ(CsvRows(shortfall_rows.begin() + 1, shortfall_rows.end()),
            JsonRows(shortfalls.body, "/asn", {"/month"}, Pointers(kShortfallsColumns)));
  EXPECT_EQ(csv_reply.headers["X-Total-Count"], "3");
  EXPECT_EQ(csv_reply.headers["Content-Disposition"],
            "attachment; filename=\"shortfalls-2026-11.csv\"");
  // A name with a comma and quotes, and one that a spreadsheet would run, as written here.
  EXPECT_NE(csv_reply.body.find(R"(,"Siti ""Ani"", S.Pd",)"), std::string::npos) << csv_reply.body;
  EXPECT_NE(csv_reply.body.find(",'=Rina,"), std::string::npos) << csv_reply.body;
  // By NIP: 1980..., 1985... (the asn token's), 1990...
  EXPECT_EQ(shortfall_rows[1][1], kThirdNip);
  EXPECT_EQ(shortfall_rows[1][2], "'=Rina");
  EXPECT_EQ(shortfall_rows[2][2], "Siti \"Ani\", S.Pd");

  // Two agencies; three rank classes.
  for (const auto& [by, groups] : {std::pair<std::string, size_t>{"agency", 2},
                                   std::pair<std::string, size_t>{"rank_class", 3}}) {
    auto [compliance, compliance_rows] = GetBoth("/v1/compliance/2026-11?by=" + by, &csv_reply);
    ASSERT_EQ(compliance_rows.size(), groups + 1) << csv_reply.body;
    const std::string header = "month," + by + "," + kComplianceColumns;
    EXPECT_EQ(csv_reply.body.substr(0, csv_reply.body.find("\r\n")), header);
    EXPECT_EQ(
        CsvRows(compliance_rows.begin() + 1, compliance_rows.end()),
        JsonRows(compliance.body, "/groups", {"/month"}, Pointers(by + "," + kComplianceColumns)));
    EXPECT_EQ(csv_reply.headers["Content-Disposition"],
              "attachment; filename=\"compliance-2026-11-" + by + ".csv\"");
  }

  auto [sales, sales_rows] =
      GetBoth("/v1/umkm/warung-bu-sri/sales?from=2026-11-01&to=2026-11-30", &csv_reply);
  ASSERT_EQ(sales_rows.size(), 2u) << csv_reply.body;
  EXPECT_EQ(csv_reply.body.substr(0, csv_reply.body.find("\r\n")), kSalesHeader);
  EXPECT_EQ(CsvRows(sales_rows.begin() + 1, sales_rows.end()),
            JsonRows(sales.body, "/days", {},
                     {"/umkm_id", "/date", "/orders", "/gross", "/fee", "/refunds", "/net",
                      "/cod/count", "/cod/amount", "/cashless/count", "/cashless/amount"}));
  EXPECT_EQ(sales_rows[1][7], "2");  // cod_count
  EXPECT_EQ(csv_reply.headers["Content-Disposition"],
            "attachment; filename=\"sales-warung-bu-sri-2026-11-01-2026-11-30.csv\"");
}

TEST_F(CsvApiTest, TheCatalogIsARowPerProductWithItsMerchant) {
  Reply csv_reply;
  auto [catalog, rows] = GetBoth("/v1/catalog", &csv_reply);
  // A merchant listing nothing is a line too, its product fields empty.
  EXPECT_EQ(csv_reply.body,
            std::string(kCatalogHeader) +
                "\r\n"
                "toko-murah,\"Toko \"\"Murah\"\", Sukun\",sembako,Sukun,Sukun,verified,UKE,,,,\r\n"
                "warung-bu-sri,Warung Bu Sri,sembako,Klojen,Kauman,verified,UMI,beras-5kg,Beras,"
                "pack,68000.00\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][1], JsonAt(catalog.body, "/merchants/0/name"));
  EXPECT_EQ(rows[2][8], JsonAt(catalog.body, "/merchants/1/products/0/name"));
  EXPECT_EQ(csv_reply.headers["X-Total-Count"], JsonAt(catalog.body, "/total"));
  EXPECT_EQ(csv_reply.headers["X-Total-Count"], "2");
  // The JSON's paging carries over: a page of one merchant, with the total of all.
  Reply second = Get("/v1/catalog?format=csv&offset=1&limit=1");
  EXPECT_EQ(ReadCsv(second.body).size(), 2u);
  EXPECT_EQ(ReadCsv(second.body).back()[0], "warung-bu-sri");
  EXPECT_EQ(second.headers["X-Total-Count"], "2");
}

TEST_F(CsvApiTest, AnEmptyListHasItsHeaderRow) {
  Reply orders = Get("/v1/orders?format=csv");
  ASSERT_EQ(orders.status, 200) << orders.body;
  EXPECT_EQ(orders.body, std::string(kOrdersHeader) + "\r\n");
  Reply exceptions = Get("/v1/exceptions?format=csv");
  ASSERT_EQ(exceptions.status, 200) << exceptions.body;
  EXPECT_EQ(exceptions.body,
            "payment_id,order_id,umkm_id,buyer_nip,kind,cause,amount,paid_at_us,bank_reference,"
            "recorded_at_us,recorded_sequence,status,action,resolution,note\r\n");
  EXPECT_EQ(exceptions.headers.count("X-Next-Cursor"), 0u);
  Reply outstanding = Get("/v1/umkm/warung-bu-sri/outstanding?format=csv");
  EXPECT_EQ(outstanding.body, "umkm_id,business_date,payments,gross,fee,net\r\n");
  EXPECT_EQ(outstanding.headers["Content-Disposition"],
            "attachment; filename=\"outstanding-warung-bu-sri.csv\"");
  // A HEAD says how long the file is and sends none of it (asked of the Api directly).
  HttpRequest head{verb::head, "/v1/orders?format=csv", 11};
  head.set(boost::beast::http::field::authorization, "Bearer t-operator");
  const HttpResponse answer = api_->Handle(head);
  EXPECT_EQ(answer.result_int(), 200);
  EXPECT_TRUE(answer.body().empty());
  EXPECT_EQ(answer[boost::beast::http::field::content_length], std::to_string(orders.body.size()));
  EXPECT_EQ(answer[boost::beast::http::field::content_type], kContentType);
}

TEST_F(CsvApiTest, FormatWinsOverAcceptAndAcceptAsksForCsv) {
  PaidCodOrder("o-1", kNip);
  const std::map<std::string, std::string> wants_csv = {{"Accept", "text/csv"}};
  Reply accepted = Get("/v1/orders", wants_csv);
  EXPECT_EQ(accepted.headers["Content-Type"], kContentType);
  EXPECT_EQ(accepted.body.substr(0, accepted.body.find("\r\n")), kOrdersHeader);
  Reply json_wins = Get("/v1/orders?format=json", wants_csv);
  EXPECT_EQ(json_wins.headers["Content-Type"], "application/json");
  EXPECT_EQ(JsonAt(json_wins.body, "/orders/0/order_id"), "o-1");
  Reply csv_wins = Get("/v1/orders?format=csv", {{"Accept", "application/json"}});
  EXPECT_EQ(csv_wins.headers["Content-Type"], kContentType);
  EXPECT_EQ(csv_wins.body, accepted.body);
  EXPECT_EQ(
      Get("/v1/orders", {{"Accept", "text/csv;q=0, application/json"}}).headers["Content-Type"],
      "application/json");
  EXPECT_EQ(Get("/v1/orders", {{"Accept", "*/*"}}).headers["Content-Type"], "application/json");
  // A route without CSV answers JSON to a client that merely prefers CSV.
  Reply stats = Get("/v1/stats", wants_csv);
  EXPECT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(stats.headers["Content-Type"], "application/json");
}

TEST_F(CsvApiTest, AnotherFormatOrCsvOfAJsonOnlyRouteIsRefusedNamingFormat) {
  ExpectRefused(Get("/v1/orders?format=xml"), 400, errc::kQueryInvalid, "format", "csv or json");
  ExpectRefused(Get("/v1/compliance/2026-11?format=CSV"), 400, errc::kQueryInvalid, "format",
                "csv or json");
  ExpectRefused(Get("/v1/stats?format=csv"), 400, errc::kQueryInvalid, "format", "JSON only");
  ExpectRefused(Get("/v1/circulation/2026-11?format=csv"), 400, errc::kQueryInvalid, "format",
                "JSON only");
  EXPECT_EQ(Get("/v1/stats?format=json").status, 200);
  // Errors stay JSON when CSV was asked for.
  ExpectRefused(Get("/v1/orders?format=csv&status=lost"), 400, errc::kQueryStatusUnknown, "status",
                "status");
  ExpectRefused(Get("/v1/orders?limit=0", {{"Accept", "text/csv"}}), 400, errc::kQueryInvalid,
                "limit", "10000");
}

TEST_F(CsvApiTest, CsvPagesFollowTheCursorAndTheTotalInHeaders) {
  std::vector<std::string> placed;
  for (int i = 1; i <= 7; ++i) {
    placed.push_back("o-" + std::to_string(i));
    PaidCodOrder(placed.back(), kNip);
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  while (pages++ < 10) {
    const std::string query = "limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor);
    Reply page = Get("/v1/orders?format=csv&" + query);
    ASSERT_EQ(page.status, 200) << page.body;
    const CsvRows rows = ReadCsv(page.body);
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(page.body.substr(0, page.body.find("\r\n")), kOrdersHeader) << "page " << pages;
    for (size_t i = 1; i < rows.size(); ++i) seen.push_back(rows[i][0]);
    // The header is the JSON page's next, absent where that is null.
    const std::string next = testing::Next(Get("/v1/orders?" + query).body);
    if (!page.headers.contains("X-Next-Cursor")) {
      EXPECT_EQ(next, "");
      break;
    }
    cursor = page.headers["X-Next-Cursor"];
    EXPECT_EQ(cursor, next);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, placed);

  // Offset lists: a CSV page may be larger than a JSON one, up to http_csv_limit_max.
  Reply whole = Get("/v1/compliance/2026-11/shortfalls?format=csv&limit=" +
                    std::to_string(http_csv_limit_max));
  EXPECT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.headers["X-Total-Count"], "2");  // the seven orders made kNip compliant
  EXPECT_EQ(ReadCsv(whole.body).size(), 3u);
  Reply one = Get("/v1/compliance/2026-11/shortfalls?format=csv&limit=1&offset=1");
  EXPECT_EQ(ReadCsv(one.body).size(), 2u);
  EXPECT_EQ(one.headers["X-Total-Count"], "2");
  EXPECT_EQ(ReadCsv(one.body).back()[1], kSecondNip);
  ExpectRefused(Get("/v1/compliance/2026-11/shortfalls?limit=501"), 400, errc::kQueryInvalid,
                "limit", "500");
  ExpectRefused(Get("/v1/compliance/2026-11/shortfalls?format=csv&limit=10001"), 400,
                errc::kQueryInvalid, "limit", "10000");
  EXPECT_EQ(Get("/v1/orders?limit=501", {{"Accept", "text/csv"}}).status, 200);
  ExpectRefused(Get("/v1/orders?limit=501&format=json", {{"Accept", "text/csv"}}), 400,
                errc::kQueryInvalid, "limit", "500");
}

TEST_F(CsvApiTest, AnAgencyInAnotherCaseGivesTheSameRowsAndAnUnknownOneIsNamed) {
  Reply exact = Get("/v1/compliance/2026-11/shortfalls?agency=Diskominfo");
  ASSERT_EQ(exact.status, 200) << exact.body;
  EXPECT_EQ(JsonAt(exact.body, "/total"), "2");
  for (const char* spelling : {"diskominfo", "DISKOMINFO", "DiskomInfo"}) {
    Reply other = Get(std::string("/v1/compliance/2026-11/shortfalls?agency=") + spelling);
    EXPECT_EQ(other.body, exact.body) << spelling;
    Reply csv = Get(std::string("/v1/compliance/2026-11/shortfalls?format=csv&agency=") + spelling);
    const CsvRows rows = ReadCsv(csv.body);
    ASSERT_EQ(rows.size(), 3u) << csv.body;
    EXPECT_EQ(CsvRows(rows.begin() + 1, rows.end()),
              JsonRows(exact.body, "/asn", {"/month"}, Pointers(kShortfallsColumns)))
        << spelling;
    EXPECT_EQ(csv.headers["Content-Disposition"],
              "attachment; filename=\"shortfalls-2026-11-" + std::string(spelling) + ".csv\"");
  }
  ExpectRefused(Get("/v1/compliance/2026-11/shortfalls?agency=Dishub"), 422, errc::kAgencyUnknown,
                "agency", "\"Dishub\"");
  ExpectRefused(Get("/v1/compliance/2026-11/shortfalls?agency=Dishub&format=csv"), 422,
                errc::kAgencyUnknown, "agency", "\"Dishub\"");
}

TEST_F(CsvApiTest, AnUnknownKecamatanOrKelurahanIsNamedAndAKnownOneIsInAnyCase) {
  Reply klojen = Get("/v1/catalog?kecamatan=Klojen");
  ASSERT_EQ(klojen.status, 200) << klojen.body;
  EXPECT_EQ(JsonAt(klojen.body, "/merchants/0/umkm_id"), "warung-bu-sri");
  EXPECT_EQ(JsonAt(klojen.body, "/total"), "1");
  EXPECT_EQ(Get("/v1/catalog?kecamatan=KLOJEN").body, klojen.body);
  EXPECT_EQ(Get("/v1/catalog?kecamatan=klojen").body, klojen.body);
  ExpectRefused(Get("/v1/catalog?kecamatan=Atlantis"), 422, errc::kKecamatanUnknown, "kecamatan",
                "\"Atlantis\"");
  ExpectRefused(Get("/v1/catalog?kecamatan=Atlantis&format=csv"), 422, errc::kKecamatanUnknown,
                "kecamatan", "\"Atlantis\"");
  EXPECT_EQ(JsonAt(Get("/v1/catalog?kecamatan=").body, "/total"), "2");  // empty: no filter

  const std::string today = FormatIsoDate(JakartaDate(now_.load()));
  const std::string photo = std::string("\x89PNG\r\n\x1A\n", 8) + "photo";
  const std::string receipt =
      R"json({"receipt_id":"r-1","nip":")json" + std::string(kNip) +
      R"json(","shop_name":"=SUM(A1:A9)","kelurahan":"Sukun","amount":"125000.00","purchase_date":")json" +
      today + R"json(","photo_base64":")json" + testing::Base64(photo) + R"json("})json";
  ASSERT_EQ(Call(verb::post, "/v1/receipts", receipt).status, 201);
  Reply sukun = Get("/v1/receipts?kelurahan=Sukun");
  ASSERT_EQ(sukun.status, 200) << sukun.body;
  EXPECT_EQ(JsonAt(sukun.body, "/receipts/0/receipt_id"), "r-1");
  EXPECT_EQ(Get("/v1/receipts?kelurahan=sukun").body, sukun.body);
  Reply csv = Get("/v1/receipts?kelurahan=SUKUN&format=csv");
  EXPECT_NE(csv.body.find(",'=SUM(A1:A9),"), std::string::npos) << csv.body;
  ExpectRefused(Get("/v1/receipts?kelurahan=Atlantis"), 422, errc::kKelurahanUnknown, "kelurahan",
                "\"Atlantis\"");
}

}  // namespace
}  // namespace malpro
