// CSV answers of the read-model routes (docs/http-api.md, "CSV"): the JSON a read model
// answers, turned into RFC 4180 text by a table per route (CsvView), and the choice between
// the two formats a request makes (format= or Accept).
//
// The CSV holds the same values as the JSON, field for field: strings as they are (amounts are
// already "123456.00", as in the settlement CSV), numbers as written, true and false, null as
// an empty field. The header row comes from the table, so an empty list still has it.
//
// Pure functions of their arguments: thread-safe, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace malpro {

// One column: where its value is in a row, and its name in the header.
struct CsvColumn {
  // A member of the row, or a member of an object in it: "total", "cod.count". A value on the
  // way that is null (a settlement day without a pain.001) makes the field empty.
  std::string_view path;
  // The header; empty: the path with '.' as '_' ("cod_count").
  std::string_view name = {};

  std::string Header() const;
};

// Which paging a route's answer carries, and so which response header repeats it.
enum class CsvPaging {
  kNone,
  kCursor,  // the answer's "next" (a string, or null on the last page): X-Next-Cursor
  kOffset,  // the answer's "total" (rows matching, all pages): X-Total-Count
};

// How one route's JSON answer becomes CSV. Each line is: the context, the row's columns, and
// (with nested_rows) the nested row's columns.
struct CsvView {
  // The download's name without ".csv". "{x}" stands for the path or query parameter x; a
  // "-{x}" whose parameter is absent or empty is left out: "shortfalls-{month}-{agency}".
  std::string_view file_name;
  // Scalars of the answer's top level repeated in front of each row, e.g. the month.
  std::vector<CsvColumn> context;
  // The array member of the answer that holds the rows, and their columns.
  std::string_view rows;
  std::vector<CsvColumn> columns;
  // An array member of each row whose elements become a line each (the catalog's products),
  // with `nested_columns` after the row's; a row whose array is empty is one line with those
  // fields empty, so that no row of the JSON goes missing.
  std::string_view nested_rows = {};
  std::vector<CsvColumn> nested_columns = {};
  CsvPaging paging = CsvPaging::kNone;
};

// A converted answer and the paging its response headers carry.
struct CsvAnswer {
  std::string text;                        // header row and rows, each ended by CRLF
  std::optional<std::string> next_cursor;  // kCursor: the answer's "next" unless null
  std::optional<int64_t> total;            // kOffset: the answer's "total"
};

// Converts `json`, an answer of the route `view` is for. Corruption naming the member when the
// answer does not have the shape the view names (no such member, an object or array where a
// value belongs): a mismatch of table and read model, answered as 500 rather than a file that
// silently lacks a column.
Result<CsvAnswer> JsonToCsv(std::string_view json, const CsvView& view);

// One text value as a CSV field. The formula guard first: a value that starts with '=', '+',
// '-', '@', TAB or CR and is not a number ([+-]digits[.digits]) is written with a leading
// "'", so that a spreadsheet shows it rather than running it. Then RFC 4180: a value holding
// ',', '"', CR or LF is enclosed in '"' with each '"' doubled.
std::string CsvText(std::string_view value);

// The download's name, "<file_name with its parameters>.csv": characters of the parameters
// other than A-Z a-z 0-9 . _ - become '_', so that the name is safe inside a quoted
// Content-Disposition filename.
std::string CsvFileName(const CsvView& view, const std::map<std::string, std::string>& path,
                        const std::map<std::string, std::string>& query);

enum class AnswerFormat { kJson, kCsv };

// The format a read asks for: its format= parameter when given (`format` not null): "csv" or
// "json", anything else InvalidArgument query_invalid naming `format`; else CSV when
// `accept` (the Accept header) names text/csv, JSON otherwise.
Result<AnswerFormat> RequestedFormat(const std::string* format, std::string_view accept);

// Whether an Accept header names text/csv (letter case ignored) with a q other than 0. Other
// parameters, and q values above 0, are ignored; text/* and */* do not ask for CSV.
bool AcceptsCsv(std::string_view accept);

// The tables of the routes that answer CSV (docs/http-api.md, "CSV", lists their columns).
extern const CsvView csv_orders;                    // GET /v1/orders
extern const CsvView csv_payments;                  // GET /v1/payments
extern const CsvView csv_receipts;                  // GET /v1/receipts
extern const CsvView csv_settlement_batches;        // GET /v1/settlement
extern const CsvView csv_settlement_batch;          // GET /v1/settlement/{date}
extern const CsvView csv_reconciliation_runs;       // GET /v1/reconciliation
extern const CsvView csv_exceptions;                // GET /v1/exceptions
extern const CsvView csv_catalog;                   // GET /v1/catalog
extern const CsvView csv_compliance_by_agency;      // GET /v1/compliance/{month}
extern const CsvView csv_compliance_by_rank_class;  // GET /v1/compliance/{month}?by=rank_class
extern const CsvView csv_shortfalls;                // GET /v1/compliance/{month}/shortfalls
extern const CsvView csv_sales;                     // GET /v1/umkm/{umkm_id}/sales
extern const CsvView csv_merchant_outstanding;      // GET /v1/umkm/{umkm_id}/outstanding
extern const CsvView csv_outstanding;               // GET /v1/settlement/outstanding

}  // namespace malpro
