// Bank statements written, in the three formats statement.h reads: camt.053, MT940 and the CSV
// statement. The bank simulator writes its end-of-day statement with them, so that what it
// gives is what `malpro reconcile` takes; docs/settlement-files.md ("Statements written") lists
// what each format carries back.
//
// What a reader gets back from a writer's file (tests/files/statement_writer_test.cc):
//   every format: the id, the account, and each entry's direction, amount and booking date;
//   camt.053: the period (FrToDt), the booking time to the second, the first
//     camt053_references_max references (those within statement_reference_chars_max) and the
//     description cut to camt053_remittance_bytes_max bytes;
//   MT940: the period (:60F: and :62F: dates), the booking day (no time), the first reference
//     that fits 16x in :61: (else NONREF) and the second after "//", the others and the
//     description in :86: (6 lines of 65; the reader takes its words of 6 or more characters as
//     further references);
//   CSV: the booking time to the second, the first reference and the description; the period
//     is the first to the last booking date, and a statement without entries is not a CSV
//     statement (the reader refuses it).
#pragma once

#include <string>
#include <string_view>

#include "adapters/files/statement.h"
#include "engine/result.h"

namespace malpro {

// `created_at_us`: GrpHdr/CreDtTm and Stmt/CreDtTm. The balances are the statement's own: an
// opening of 0.00 and a closing of its credits less its debits (a writer knows no account).
std::string WriteCamt053(const Statement& statement, int64_t created_at_us);
// Lines end in CRLF, as SWIFT writes them; no block wrappers.
std::string WriteMt940(const Statement& statement);
// RFC 4180, CRLF, the header statement_id,account,booking_date,credit_debit,amount,reference,
// description.
std::string WriteStatementCsv(const Statement& statement);

// The writer of `format` (camt053, mt940 or csv); format_invalid for any other.
Result<std::string> WriteStatement(const Statement& statement, std::string_view format,
                                   int64_t created_at_us);

}  // namespace malpro
