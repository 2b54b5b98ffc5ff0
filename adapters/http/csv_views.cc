#include "adapters/http/csv_views.h"

#include <simdjson.h>

#include <boost/beast/core/string.hpp>
#include <charconv>

#include "engine/assert.h"
#include "engine/csv.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// [+-]digits[.digits]: what the formula guard lets through ("-5000.00" is an amount).
bool IsPlainNumber(std::string_view text) {
  size_t at = 0;
  if (at < text.size() && (text[at] == '+' || text[at] == '-')) ++at;
  const size_t digits_start = at;
  while (at < text.size() && IsAsciiDigit(text[at])) ++at;
  if (at == digits_start) return false;
  if (at < text.size() && text[at] == '.') {
    const size_t fraction_start = ++at;
    while (at < text.size() && IsAsciiDigit(text[at])) ++at;
    if (at == fraction_start) return false;
  }
  return at == text.size();
}

// An HTTP qvalue of zero: "0", "0.", "0.0" ... "0.000" (RFC 9110, section 12.4.2).
bool IsZeroQuality(std::string_view value) {
  if (value.empty() || value.front() != '0') return false;
  value.remove_prefix(1);
  if (value.empty()) return true;
  if (value.front() != '.' || value.size() > 4) return false;
  return value.find_first_not_of('0', 1) == std::string_view::npos;
}

Status ShapeMismatch(std::string_view where, std::string_view what) {
  return Status::Corruption("CSV: " + std::string(where) + " " + std::string(what) +
                            " (the route's CSV table does not match its JSON answer)");
}

// Appends the scalar `value` as a field's text.
Status AppendScalar(simdjson::dom::element value, std::string_view where, std::string* line) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      *line += CsvText(value.get_string().value_unsafe());
      return Status::Ok();
    case simdjson::dom::element_type::INT64:
      *line += std::to_string(value.get_int64().value_unsafe());
      return Status::Ok();
    case simdjson::dom::element_type::UINT64:
      *line += std::to_string(value.get_uint64().value_unsafe());
      return Status::Ok();
    case simdjson::dom::element_type::DOUBLE: {
      char text[32];
      const auto written =
          std::to_chars(text, text + sizeof(text), value.get_double().value_unsafe());
      MALPRO_ASSERT(written.ec == std::errc());
      line->append(text, written.ptr);
      return Status::Ok();
    }
    case simdjson::dom::element_type::BOOL:
      *line += value.get_bool().value_unsafe() ? "true" : "false";
      return Status::Ok();
    case simdjson::dom::element_type::NULL_VALUE:
      return Status::Ok();
    case simdjson::dom::element_type::ARRAY:
    case simdjson::dom::element_type::OBJECT:
      break;
  }
  return ShapeMismatch(where, "is an object or array, not a value");
}

// Appends the value at `column.path` in `object` and a ',' after it.
Status AppendField(simdjson::dom::object object, const CsvColumn& column, std::string_view where,
                   std::string* line) {
  std::string_view rest = column.path;
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view key = rest.substr(0, dot);
    simdjson::dom::element value;
    if (object.at_key(key).get(value) != simdjson::SUCCESS) {
      return ShapeMismatch(std::string(where) + "." + std::string(column.path), "is missing");
    }
    if (dot == std::string_view::npos) {
      MALPRO_RETURN_IF_ERROR(
          AppendScalar(value, std::string(where) + "." + std::string(column.path), line));
      break;
    }
    if (value.is_null()) break;  // e.g. "pain001": null
    if (value.get(object) != simdjson::SUCCESS) {
      return ShapeMismatch(std::string(where) + "." + std::string(key), "is not an object");
    }
    rest.remove_prefix(dot + 1);
  }
  line->push_back(',');
  return Status::Ok();
}

Status AppendFields(simdjson::dom::object object, const std::vector<CsvColumn>& columns,
                    std::string_view where, std::string* line) {
  for (const CsvColumn& column : columns) {
    MALPRO_RETURN_IF_ERROR(AppendField(object, column, where, line));
  }
  return Status::Ok();
}

// Every field was followed by ','; the last one's becomes the line's end.
void EndLine(std::string line, std::string* text) {
  MALPRO_ASSERT(!line.empty() && line.back() == ',');
  line.pop_back();
  *text += line;
  *text += "\r\n";
}

// The lines of one row of a view with nested rows: one per nested row, or one with the nested
// fields empty.
Status AppendNestedLines(simdjson::dom::object row, const CsvView& view, const std::string& line,
                         std::string* text) {
  simdjson::dom::array nested;
  if (row.at_key(view.nested_rows).get(nested) != simdjson::SUCCESS) {
    return ShapeMismatch(std::string(view.rows) + "[]." + std::string(view.nested_rows),
                         "is not an array");
  }
  const std::string where = std::string(view.rows) + "[]." + std::string(view.nested_rows) + "[]";
  bool any = false;
  for (simdjson::dom::element element : nested) {
    simdjson::dom::object item;
    if (element.get(item) != simdjson::SUCCESS) return ShapeMismatch(where, "is not an object");
    std::string full = line;
    MALPRO_RETURN_IF_ERROR(AppendFields(item, view.nested_columns, where, &full));
    EndLine(std::move(full), text);
    any = true;
  }
  if (!any) EndLine(line + std::string(view.nested_columns.size(), ','), text);
  return Status::Ok();
}

Status ReadPaging(simdjson::dom::object answer, CsvPaging paging, CsvAnswer* csv) {
  if (paging == CsvPaging::kNone) return Status::Ok();
  simdjson::dom::element value;
  if (paging == CsvPaging::kCursor) {
    if (answer.at_key("next").get(value) != simdjson::SUCCESS) {
      return ShapeMismatch("next", "is missing");
    }
    if (value.is_null()) return Status::Ok();
    std::string_view next;
    if (value.get(next) != simdjson::SUCCESS) return ShapeMismatch("next", "is not a string");
    csv->next_cursor = std::string(next);
    return Status::Ok();
  }
  int64_t total = 0;
  if (answer.at_key("total").get(value) != simdjson::SUCCESS ||
      value.get(total) != simdjson::SUCCESS) {
    return ShapeMismatch("total", "is not a number");
  }
  csv->total = total;
  return Status::Ok();
}

std::string HeaderLine(const CsvView& view) {
  std::string line;
  for (const std::vector<CsvColumn>* columns :
       {&view.context, &view.columns, &view.nested_columns}) {
    for (const CsvColumn& column : *columns) line += CsvText(column.Header()) + ",";
  }
  std::string text;
  EndLine(std::move(line), &text);
  return text;
}

// A parameter's value as part of a file name.
std::string FileNamePart(std::string_view value) {
  std::string part(value);
  for (char& c : part) {
    const bool safe = IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '_' || c == '-';
    if (!safe) c = '_';
  }
  return part;
}

}  // namespace

std::string CsvColumn::Header() const {
  if (!name.empty()) return std::string(name);
  std::string header(path);
  for (char& c : header) {
    if (c == '.') c = '_';
  }
  return header;
}

std::string CsvText(std::string_view value) {
  std::string field;
  const bool formula = !value.empty() &&
                       std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos &&
                       !IsPlainNumber(value);
  if (formula) field.push_back('\'');
  field.append(value);
  return CsvQuoted(field);
}

Result<CsvAnswer> JsonToCsv(std::string_view json, const CsvView& view) {
  MALPRO_ASSERT(!view.columns.empty());
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object answer;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS ||
      root.get(answer) != simdjson::SUCCESS) {
    return ShapeMismatch("the answer", "is not a JSON object");
  }
  CsvAnswer csv;
  csv.text = HeaderLine(view);
  std::string context;
  MALPRO_RETURN_IF_ERROR(AppendFields(answer, view.context, "the answer", &context));
  simdjson::dom::array rows;
  if (answer.at_key(view.rows).get(rows) != simdjson::SUCCESS) {
    return ShapeMismatch(view.rows, "is not an array");
  }
  const std::string where = std::string(view.rows) + "[]";
  for (simdjson::dom::element element : rows) {
    simdjson::dom::object row;
    if (element.get(row) != simdjson::SUCCESS) return ShapeMismatch(where, "is not an object");
    std::string line = context;
    MALPRO_RETURN_IF_ERROR(AppendFields(row, view.columns, where, &line));
    if (view.nested_rows.empty()) {
      EndLine(std::move(line), &csv.text);
    } else {
      MALPRO_RETURN_IF_ERROR(AppendNestedLines(row, view, line, &csv.text));
    }
  }
  MALPRO_RETURN_IF_ERROR(ReadPaging(answer, view.paging, &csv));
  return csv;
}

std::string CsvFileName(const CsvView& view, const std::map<std::string, std::string>& path,
                        const std::map<std::string, std::string>& query) {
  std::string name;
  std::string_view rest = view.file_name;
  while (!rest.empty()) {
    const size_t open = rest.find('{');
    name.append(rest.substr(0, open));
    if (open == std::string_view::npos) break;
    const size_t close = rest.find('}', open);
    MALPRO_ASSERT(close != std::string_view::npos);
    const std::string parameter(rest.substr(open + 1, close - open - 1));
    rest.remove_prefix(close + 1);
    const auto in_path = path.find(parameter);
    const auto in_query = query.find(parameter);
    const std::string* value = in_path != path.end()     ? &in_path->second
                               : in_query != query.end() ? &in_query->second
                                                         : nullptr;
    if (value != nullptr && !value->empty()) {
      name += FileNamePart(*value);
    } else if (!name.empty() && name.back() == '-') {
      name.pop_back();
    }
  }
  return name + ".csv";
}

bool AcceptsCsv(std::string_view accept) {
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    const std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    size_t semicolon = range.find(';');
    if (!boost::beast::iequals(TrimSpaces(range.substr(0, semicolon)), "text/csv")) continue;
    bool refused = false;
    while (semicolon != std::string_view::npos) {
      const size_t next = range.find(';', semicolon + 1);
      const std::string_view parameter = range.substr(semicolon + 1, next - semicolon - 1);
      const size_t equals = parameter.find('=');
      if (equals != std::string_view::npos &&
          boost::beast::iequals(TrimSpaces(parameter.substr(0, equals)), "q") &&
          IsZeroQuality(TrimSpaces(parameter.substr(equals + 1)))) {
        refused = true;
      }
      semicolon = next;
    }
    if (!refused) return true;
  }
  return false;
}

Result<AnswerFormat> RequestedFormat(const std::string* format, std::string_view accept) {
  if (format == nullptr) return AcceptsCsv(accept) ? AnswerFormat::kCsv : AnswerFormat::kJson;
  if (*format == "csv") return AnswerFormat::kCsv;
  if (*format == "json") return AnswerFormat::kJson;
  return Status::InvalidArgument(errc::kQueryInvalid, "format",
                                 "format must be csv or json (or leave it out and send "
                                 "Accept: text/csv for CSV)");
}

// ---------------------------------------------------------------------------------------
// The tables. Columns are the JSON rows' members in the JSON's order (docs/http-api.md, "CSV").

const CsvView csv_orders{"orders",
                         {},
                         "orders",
                         {{"order_id"},
                          {"buyer_nip"},
                          {"umkm_id"},
                          {"payment_method"},
                          {"total"},
                          {"status"},
                          {"cash_received"},
                          {"payment_status"},
                          {"placed_at_us"},
                          {"updated_at_us"},
                          {"sequence"}},
                         {},
                         {},
                         CsvPaging::kCursor};

const CsvView csv_payments{"payments",
                           {},
                           "payments",
                           {{"payment_id"},
                            {"order_id"},
                            {"buyer_nip"},
                            {"umkm_id"},
                            {"channel"},
                            {"amount"},
                            {"bank_reference"},
                            {"status"},
                            {"requests"},
                            {"first_requested_at_us"},
                            {"requested_at_us"},
                            {"expires_at_us"},
                            {"paid_at_us"},
                            {"business_date"},
                            {"refunded"},
                            {"updated_at_us"},
                            {"sequence"},
                            {"age_s"}},
                           {},
                           {},
                           CsvPaging::kCursor};

const CsvView csv_receipts{"receipts",
                           {},
                           "receipts",
                           {{"receipt_id"},
                            {"nip"},
                            {"shop_name"},
                            {"kecamatan"},
                            {"kelurahan"},
                            {"amount"},
                            {"purchase_date"},
                            {"photo_sha256"},
                            {"photo_url"},
                            {"status"},
                            {"rejection_reason"},
                            {"submitted_at_us"},
                            {"decided_at_us"},
                            {"sequence"}},
                           {},
                           {},
                           CsvPaging::kCursor};

const CsvView csv_settlement_batches{"settlement",
                                     {},
                                     "batches",
                                     {{"business_date"},
                                      {"closed_at_us"},
                                      {"sequence"},
                                      {"merchant_count"},
                                      {"payments"},
                                      {"total_gross"},
                                      {"total_fee"},
                                      {"total_refunds"},
                                      {"total_net"},
                                      {"pain001.file"},
                                      {"pain001.sha256"},
                                      {"pain001.url"},
                                      {"csv.file"},
                                      {"csv.sha256"},
                                      {"csv.url"}},
                                     {},
                                     {},
                                     CsvPaging::kCursor};

const CsvView csv_settlement_batch{"settlement-{date}",
                                   {{"business_date"}},
                                   "merchants",
                                   {{"umkm_id"},
                                    {"payments"},
                                    {"gross"},
                                    {"fee"},
                                    {"refunds"},
                                    {"refund_count"},
                                    {"carried_in"},
                                    {"net"},
                                    {"carried_out"}}};

const CsvView csv_reconciliation_runs{"reconciliation",
                                      {},
                                      "runs",
                                      {{"statement_id"},
                                       {"run"},
                                       {"format"},
                                       {"account"},
                                       {"period_from"},
                                       {"period_to"},
                                       {"statement_sha256"},
                                       {"entries"},
                                       {"matched"},
                                       {"missing_in_ledger"},
                                       {"missing_at_bank"},
                                       {"amount_mismatch"},
                                       {"refund_due"},
                                       {"discrepancies"},
                                       {"discrepancies_truncated"},
                                       {"resolved"},
                                       {"unresolved"},
                                       {"latest"},
                                       {"completed_at_us"},
                                       {"sequence"}},
                                      {},
                                      {},
                                      CsvPaging::kCursor};

const CsvView csv_exceptions{"exceptions-{status}",
                             {},
                             "exceptions",
                             {{"payment_id"},
                              {"order_id"},
                              {"umkm_id"},
                              {"buyer_nip"},
                              {"kind"},
                              {"cause"},
                              {"amount"},
                              {"paid_at_us"},
                              {"bank_reference"},
                              {"recorded_at_us"},
                              {"recorded_sequence"},
                              {"status"},
                              {"action"},
                              {"resolution"},
                              {"note"}},
                             {},
                             {},
                             CsvPaging::kCursor};

const CsvView csv_catalog{"catalog",
                          {},
                          "merchants",
                          {{"umkm_id"},
                           {"name"},
                           {"category"},
                           {"kecamatan"},
                           {"kelurahan"},
                           {"status"},
                           {"qris_criteria"}},
                          "products",
                          {{"product_id"}, {"name", "product_name"}, {"unit"}, {"price"}},
                          CsvPaging::kOffset};

const CsvView csv_compliance_by_agency{
    "compliance-{month}-agency",
    {{"month"}},
    "groups",
    {{"agency"}, {"asn"}, {"compliant"}, {"not_compliant"}, {"committed"}, {"shortfall"}}};

const CsvView csv_compliance_by_rank_class{
    "compliance-{month}-rank_class",
    {{"month"}},
    "groups",
    {{"rank_class"}, {"asn"}, {"compliant"}, {"not_compliant"}, {"committed"}, {"shortfall"}}};

const CsvView csv_shortfalls{
    "shortfalls-{month}-{agency}",
    {{"month"}},
    "asn",
    {{"nip"}, {"name"}, {"agency"}, {"rank_class"}, {"committed"}, {"minimum"}, {"shortfall"}},
    {},
    {},
    CsvPaging::kOffset};

const CsvView csv_sales{"sales-{umkm_id}-{from}-{to}",
                        {},
                        "days",
                        {{"umkm_id"},
                         {"date"},
                         {"orders"},
                         {"gross"},
                         {"fee"},
                         {"refunds"},
                         {"net"},
                         {"cod.count"},
                         {"cod.amount"},
                         {"cashless.count"},
                         {"cashless.amount"}}};

const CsvView csv_merchant_outstanding{
    "outstanding-{umkm_id}",
    {{"umkm_id"}},
    "days",
    {{"business_date"}, {"payments"}, {"gross"}, {"fee"}, {"net"}}};

const CsvView csv_outstanding{
    "outstanding", {}, "merchants", {{"umkm_id"}, {"payments"}, {"gross"}, {"fee"}, {"net"}}};

}  // namespace malpro
