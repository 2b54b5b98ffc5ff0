// Bank statements (adapters/files/statement.h): camt.053, MT940 and the CSV export. Every
// input goes through all three readers and through ParseStatement with the detected format.
//
// Properties of every statement read:
//   - its id is valid (CheckStatementId) and its stream form converts back to it;
//   - entries are numbered upwards from 1, amounts are within the money limits, references
//     are non-empty, trimmed, distinct and at most statement_reference_chars_max long, and an
//     entry's booking date is the Jakarta date of its booking time;
//   - the period does not end before it starts;
//   - written as CSV, it reads back to the same entries (CSV keeps one reference: the first).
// A refusal carries a known code.
#include <cctype>
#include <cstdio>

#include "adapters/files/files_limits.h"
#include "adapters/files/statement.h"
#include "engine/aggregates.h"
#include "engine/identifiers.h"
#include "tests/fuzz/fuzz_check.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;

std::string Quote(std::string_view field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// "YYYY-MM-DDTHH:MM:SSZ" of whole-second UTC microseconds; nullopt outside years 1-9999.
std::optional<std::string> UtcTime(int64_t utc_micros) {
  const int64_t seconds = utc_micros / 1'000'000;
  int64_t days = seconds / 86'400;
  int64_t second_of_day = seconds % 86'400;
  if (second_of_day < 0) {
    second_of_day += 86'400;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  if (date.year < 1 || date.year > 9999) return std::nullopt;
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", date.year, date.month,
                date.day, static_cast<int>(second_of_day / 3600),
                static_cast<int>(second_of_day / 60 % 60), static_cast<int>(second_of_day % 60));
  return text;
}

std::optional<std::string> WriteCsv(const Statement& statement) {
  std::string csv = "statement_id,account,booking_date,credit_debit,amount,reference,description\n";
  for (const StatementEntry& entry : statement.entries) {
    std::optional<std::string> booked = UtcTime(entry.booked_at_us);
    if (!booked) return std::nullopt;
    csv += Quote(statement.id) + "," + Quote(statement.account) + "," + *booked + "," +
           (entry.credit ? "CRDT" : "DBIT") + "," + FormatSnap(entry.amount) + "," +
           Quote(entry.references.empty() ? "" : entry.references.front()) + "," +
           Quote(entry.description) + "\n";
  }
  return csv;
}

bool IsTrimmed(std::string_view text) {
  return !text.empty() && !std::isspace(static_cast<unsigned char>(text.front())) &&
         !std::isspace(static_cast<unsigned char>(text.back()));
}

void CheckEntries(const Statement& statement) {
  size_t previous_position = 0;
  for (const StatementEntry& entry : statement.entries) {
    FUZZ_CHECK(entry.position > previous_position);
    previous_position = entry.position;
    FUZZ_CHECK(entry.amount >= Money() && entry.amount.sen() <= money_sen_max);
    FUZZ_CHECK(
        IsValidDate(entry.booking_date.year, entry.booking_date.month, entry.booking_date.day));
    FUZZ_CHECK_DETAIL(
        JakartaDate(entry.booked_at_us) == entry.booking_date,
        FormatIsoDate(entry.booking_date) + " at " + std::to_string(entry.booked_at_us));
    for (size_t i = 0; i < entry.references.size(); ++i) {
      const std::string& reference = entry.references[i];
      FUZZ_CHECK_DETAIL(IsTrimmed(reference) && reference.size() <= statement_reference_chars_max,
                        "\"" + reference + "\"");
      for (size_t j = 0; j < i; ++j) FUZZ_CHECK(entry.references[j] != reference);
    }
  }
}

void CheckCsvRoundTrip(const Statement& statement) {
  if (statement.entries.empty()) return;  // a CSV statement has at least one entry
  std::optional<std::string> csv = WriteCsv(statement);
  if (!csv) return;
  Result<Statement> again = ParseStatementCsv(*csv);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString() + " for\n" + *csv);
  FUZZ_CHECK(again->id == statement.id && again->account == statement.account);
  FUZZ_CHECK(again->entries.size() == statement.entries.size());
  for (size_t i = 0; i < statement.entries.size(); ++i) {
    const StatementEntry& before = statement.entries[i];
    const StatementEntry& after = again->entries[i];
    FUZZ_CHECK(after.credit == before.credit && after.amount == before.amount);
    FUZZ_CHECK(after.booking_date == before.booking_date);
    FUZZ_CHECK(after.booked_at_us == before.booked_at_us);
    FUZZ_CHECK(after.description == before.description);
    FUZZ_CHECK(after.references.size() == std::min<size_t>(1, before.references.size()));
    if (!after.references.empty()) FUZZ_CHECK(after.references[0] == before.references[0]);
  }
  if (statement.format == "csv")
    FUZZ_CHECK(again->from == statement.from && again->to == statement.to);
}

void CheckStatement(const Result<Statement>& statement, std::string_view format) {
  if (!statement.ok()) {
    CheckRefusal(statement.status());
    return;
  }
  FUZZ_CHECK(statement->format == format);
  FUZZ_CHECK_DETAIL(CheckStatementId(statement->id, "").ok(), statement->id);
  Result<std::string> stream_form = StatementStreamId(statement->id);
  FUZZ_CHECK(stream_form.ok());
  Result<std::string> id = StatementIdFromStreamId(*stream_form);
  FUZZ_CHECK_DETAIL(id.ok() && *id == statement->id, statement->id + " -> " + *stream_form);
  FUZZ_CHECK_DETAIL(!(statement->to < statement->from),
                    FormatIsoDate(statement->from) + " .. " + FormatIsoDate(statement->to));
  CheckEntries(*statement);
  CheckCsvRoundTrip(*statement);
}

// Stream forms from outside (a reconciliation's stream id) convert only when canonical.
void CheckStreamForm(std::string_view text) {
  Result<std::string> id = StatementIdFromStreamId(text);
  if (!id.ok()) {
    CheckRefusal(id.status());
    return;
  }
  Result<std::string> form = StatementStreamId(*id);
  FUZZ_CHECK(form.ok() && *form == text);
}

void CheckStatementReaders(std::string_view text) {
  CheckStatement(ParseCamt053(text), "camt053");
  CheckStatement(ParseMt940(text), "mt940");
  CheckStatement(ParseStatementCsv(text), "csv");
  const std::string format = DetectStatementFormat(text);
  CheckStatement(ParseStatement(text, format), format);
  if (text.size() <= 64) CheckStreamForm(text);
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return malpro::fuzz::CheckText(data, size, malpro::CheckStatementReaders);
}
