// Bank statements of Bank Jatim's collection account, read for reconciliation: ISO 20022
// camt.053 (BkToCstmrStmt), SWIFT MT940 and a CSV export. Each reader stands alone (a file in,
// a Statement out) and refuses a malformed file with the line or element and the rule broken;
// docs/settlement-files.md lists the fields read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/aggregates.h"  // JakartaDayStartMicros
#include "engine/identifiers.h"
#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

// One booked entry. References are every identifier the bank gave it, most specific first
// (end-to-end id, then the bank's references); the reconciler matches on any of them.
struct StatementEntry {
  size_t position = 0;  // 1-based in the statement, for messages
  bool credit = false;  // CRDT: money in (a payment); DBIT: money out (a settlement)
  Money amount;         // positive
  CivilDate booking_date;
  int64_t booked_at_us = 0;  // UTC; the start of booking_date (Asia/Jakarta) when no time given
  std::vector<std::string> references;
  std::string description;
};

struct Statement {
  std::string format;  // camt053, mt940 or csv
  std::string id;      // as the bank wrote it
  std::string account;
  CivilDate from;  // the period the statement covers, both days included
  CivilDate to;
  std::vector<StatementEntry> entries;
};

Result<Statement> ParseCamt053(std::string_view xml);
Result<Statement> ParseMt940(std::string_view text);
// Header row: statement_id,account,booking_date,credit_debit,amount,reference[,description]
// with booking_date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (Asia/Jakarta), credit_debit CRDT or
// DBIT, amount as "68000.00". Extra columns after these are ignored.
Result<Statement> ParseStatementCsv(std::string_view text);

// camt053, mt940 or csv from the content: an XML document, a file with :20: and :61: tags, or
// else CSV.
std::string DetectStatementFormat(std::string_view text);
// The statement in `format` (camt053, mt940 or csv). Whatever the format, a JSON document
// (first byte after spaces `[`, or `{` then `"` or `}`: MT940's SWIFT blocks open "{1:") is
// refused first with statement_format_unsupported, naming the formats read (and, for the bank
// simulator's JSON, how to ask it for one).
Result<Statement> ParseStatement(std::string_view text, std::string_view format);

// A statement id as the bank wrote it must be 1 to statement_id_chars_max characters of
// A-Z a-z 0-9 - . / _, start and end with a letter or digit and hold no two of - . / _ in a
// row (files_limits.h). Else statement_id_invalid naming statement_id; `where` (e.g.
// "Stmt/Id", ":20:", "line 2") goes into the message. Ids are case-sensitive and never
// rewritten: BJTM/2026/77 and bjtm-2026-77 are two statements.
Status CheckStatementId(std::string_view statement_id, std::string_view where);

// The stream form of a valid statement id, the `statement_id` the ledger records (stream
// `reconciliation-{form}`), which allows only a-z 0-9 and '-'. A reversible encoding
// (docs/settlement-files.md, "Statement ids"): letters lowercased, digits kept, separators
// written '-'; when the id has a lowercase letter or a separator other than '-', "--" and a
// base-32 signature of each letter's case (1 bit) and each separator (2 bits) follow.
// STMT-20261122 -> stmt-20261122, BJTM/2026/77 -> bjtm-2026-77--18, bjtm/2026/77 ->
// bjtm-2026-77--v8. statement_id_invalid when `statement_id` is not valid.
Result<std::string> StatementStreamId(std::string_view statement_id);
// The inverse: the bank's id from its stream form. statement_id_invalid (naming statement_id)
// for a text that no valid id encodes to.
Result<std::string> StatementIdFromStreamId(std::string_view stream_form);

}  // namespace malpro
