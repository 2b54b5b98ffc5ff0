#include "adapters/files/statement.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/files/files_limits.h"
#include "engine/aggregates.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

Status Invalid(std::string_view code, std::string_view field, std::string_view message) {
  return Status::InvalidArgument(code, field, message);
}

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

int Number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// "YYYY-MM-DD", or that with "THH:MM[:SS[.fff]]" and an optional "Z" or "+hh:mm"/"-hh:mm".
// Without an offset the time is Asia/Jakarta's. Returns UTC microseconds; sets *date to the
// Jakarta date.
Result<int64_t> ParseDateTime(std::string_view text, std::string_view field, CivilDate* date) {
  Result<CivilDate> day = ParseIsoDate(text.substr(0, std::min<size_t>(text.size(), 10)), field);
  if (!day.ok()) return day.status();
  int64_t seconds_of_day = 0;
  int64_t offset_seconds = jakarta_offset_seconds;
  std::string_view rest = text.substr(std::min<size_t>(text.size(), 10));
  if (!rest.empty()) {
    const bool shape = rest.size() >= 6 && rest[0] == 'T' && AllDigits(rest.substr(1, 2)) &&
                       rest[3] == ':' && AllDigits(rest.substr(4, 2));
    if (!shape) {
      return Invalid(errc::kDatetimeInvalid, field,
                     std::string(field) + " must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS");
    }
    const int hour = Number(rest.substr(1, 2));
    const int minute = Number(rest.substr(4, 2));
    int second = 0;
    rest.remove_prefix(6);
    if (rest.size() >= 3 && rest[0] == ':' && AllDigits(rest.substr(1, 2))) {
      second = Number(rest.substr(1, 2));
      rest.remove_prefix(3);
    }
    // (A leap second, :60, is refused too: the bank writes none, and UTC microseconds have
    // no place for it.)
    if (hour > 23 || minute > 59 || second > 59) {
      return Invalid(errc::kDatetimeInvalid, field, std::string(field) + " has a bad time of day");
    }
    seconds_of_day = hour * 3600 + minute * 60 + second;
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0])))
        rest.remove_prefix(1);
    }
    if (rest == "Z") {
      offset_seconds = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
               AllDigits(rest.substr(1, 2)) && AllDigits(rest.substr(4, 2))) {
      offset_seconds = (rest[0] == '-' ? -1 : 1) *
                       (Number(rest.substr(1, 2)) * 3600 + Number(rest.substr(4, 2)) * 60);
    } else if (!rest.empty()) {
      return Invalid(errc::kDatetimeInvalid, field, std::string(field) + " has a bad time zone");
    }
  }
  const int64_t utc = UtcMicros(*day, seconds_of_day, offset_seconds);
  *date = JakartaDate(utc);
  return utc;
}

void SetPeriodFromEntries(Statement* statement) {
  statement->from = statement->entries.front().booking_date;
  statement->to = statement->entries.front().booking_date;
  for (const StatementEntry& entry : statement->entries) {
    statement->from = std::min(statement->from, entry.booking_date);
    statement->to = std::max(statement->to, entry.booking_date);
  }
}

void AddReference(StatementEntry* entry, std::string_view reference) {
  std::string value = Trim(reference);
  if (value.empty() || value == "NOTPROVIDED" || value == "NONREF") return;
  // Cut to the limit, then trimmed again: the cut may end in whitespace.
  if (value.size() > statement_reference_chars_max) {
    value = Trim(std::string_view(value).substr(0, statement_reference_chars_max));
  }
  if (std::find(entry->references.begin(), entry->references.end(), value) ==
      entry->references.end()) {
    entry->references.push_back(std::move(value));
  }
}

Status CheckEntryCount(const Statement& statement) {
  if (statement.entries.size() >= statement_entries_max) {
    return Status::LimitExceeded(
        errc::kStatementTooLong, "entries",
        "a statement may hold at most " + std::to_string(statement_entries_max) + " entries");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// camt.053

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

bool IsElement(const xmlNode* node, std::string_view name) {
  return node->type == XML_ELEMENT_NODE &&
         std::string_view(reinterpret_cast<const char*>(node->name)) == name;
}

const xmlNode* Child(const xmlNode* node, std::string_view name) {
  if (node == nullptr) return nullptr;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (IsElement(child, name)) return child;
  }
  return nullptr;
}

const xmlNode* Path(const xmlNode* node, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) node = Child(node, name);
  return node;
}

std::vector<const xmlNode*> Children(const xmlNode* node, std::string_view name) {
  std::vector<const xmlNode*> found;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (IsElement(child, name)) found.push_back(child);
  }
  return found;
}

std::string Text(const xmlNode* node) {
  if (node == nullptr) return {};
  xmlChar* content = xmlNodeGetContent(node);
  std::string text = content ? Trim(reinterpret_cast<const char*>(content)) : std::string();
  xmlFree(content);
  return text;
}

std::string Attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  std::string text = value ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return text;
}

Result<int64_t> CamtDate(const xmlNode* holder, std::string_view field, CivilDate* date) {
  if (const xmlNode* dt = Child(holder, "Dt")) return ParseDateTime(Text(dt), field, date);
  if (const xmlNode* dt = Child(holder, "DtTm")) return ParseDateTime(Text(dt), field, date);
  return Invalid(errc::kFieldMissing, field, std::string(field) + " needs Dt or DtTm");
}

// v02 writes <Sts>BOOK</Sts>, v08 and later <Sts><Cd>BOOK</Cd></Sts>.
std::string CamtStatus(const xmlNode* entry) {
  const xmlNode* status = Child(entry, "Sts");
  if (status == nullptr) return {};
  if (const xmlNode* code = Child(status, "Cd")) return Text(code);
  return Text(status);
}

Result<std::optional<StatementEntry>> CamtEntry(const xmlNode* node, size_t position) {
  const std::string field = "Ntry[" + std::to_string(position) + "]";
  const std::string status = CamtStatus(node);
  if (status != "BOOK") return std::optional<StatementEntry>();  // pending or information
  StatementEntry entry;
  entry.position = position;
  const xmlNode* amount = Child(node, "Amt");
  if (amount == nullptr) return Invalid(errc::kFieldMissing, field + ".Amt", field + " lacks Amt");
  if (Attribute(amount, "Ccy") != "IDR") {
    return Invalid(errc::kCurrencyInvalid, field + ".Amt",
                   field + ".Amt must be in IDR (Ccy=\"IDR\")");
  }
  Result<Money> money = ParseAmount(Text(amount), field + ".Amt");
  if (!money.ok()) return money.status();
  entry.amount = *money;
  const std::string indicator = Text(Child(node, "CdtDbtInd"));
  if (indicator != "CRDT" && indicator != "DBIT") {
    return Invalid(errc::kCreditDebitInvalid, field + ".CdtDbtInd",
                   field + ".CdtDbtInd must be CRDT or DBIT");
  }
  entry.credit = indicator == "CRDT";
  const xmlNode* booking = Child(node, "BookgDt");
  if (booking == nullptr) booking = Child(node, "ValDt");
  Result<int64_t> booked = CamtDate(booking, field + ".BookgDt", &entry.booking_date);
  if (!booked.ok()) return booked.status();
  entry.booked_at_us = *booked;
  for (const xmlNode* details : Children(node, "NtryDtls")) {
    for (const xmlNode* transaction : Children(details, "TxDtls")) {
      const xmlNode* refs = Child(transaction, "Refs");
      AddReference(&entry, Text(Child(refs, "EndToEndId")));
      AddReference(&entry, Text(Child(refs, "AcctSvcrRef")));
      AddReference(&entry, Text(Child(refs, "TxId")));
      AddReference(&entry, Text(Child(refs, "PmtInfId")));
      if (entry.description.empty())
        entry.description = Text(Path(transaction, {"RmtInf", "Ustrd"}));
    }
  }
  AddReference(&entry, Text(Child(node, "AcctSvcrRef")));
  AddReference(&entry, Text(Child(node, "NtryRef")));
  if (entry.description.empty()) entry.description = Text(Child(node, "AddtlNtryInf"));
  return std::optional<StatementEntry>(std::move(entry));
}

Status CamtPeriod(const xmlNode* stmt, Statement* statement) {
  if (const xmlNode* period = Child(stmt, "FrToDt")) {
    Result<int64_t> from =
        ParseDateTime(Text(Child(period, "FrDtTm")), "FrToDt.FrDtTm", &statement->from);
    if (!from.ok()) return from.status();
    Result<int64_t> to =
        ParseDateTime(Text(Child(period, "ToDtTm")), "FrToDt.ToDtTm", &statement->to);
    if (!to.ok()) return to.status();
    if (statement->to < statement->from) {  // as MT940's :62F: before :60F:
      return Invalid(errc::kPeriodInvalid, "FrToDt.ToDtTm",
                     "FrToDt.ToDtTm is before FrToDt.FrDtTm");
    }
    return Status::Ok();
  }
  if (!statement->entries.empty()) {
    SetPeriodFromEntries(statement);
    return Status::Ok();
  }
  Result<int64_t> created =
      ParseDateTime(Text(Child(stmt, "CreDtTm")), "Stmt.CreDtTm", &statement->from);
  if (!created.ok()) return created.status();
  statement->to = statement->from;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// MT940

struct Mt940Field {
  std::string tag;
  std::string value;  // continuation lines joined with '\n'
  size_t line = 0;
};

std::vector<Mt940Field> Mt940Fields(std::string_view text) {
  std::vector<Mt940Field> fields;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string line(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // A tag is ":NN:" or ":NNa:"; "-}" ends a SWIFT block, "{...}" are block headers.
    const size_t close = line.size() > 1 && line[0] == ':' ? line.find(':', 1) : std::string::npos;
    if (close != std::string::npos && close >= 3 && close <= 4 &&
        AllDigits(std::string_view(line).substr(1, 2))) {
      fields.push_back({line.substr(1, close - 1), line.substr(close + 1), line_number});
    } else if (line.empty() || line[0] == '{' || line[0] == '-' || line[0] == '}') {
      continue;
    } else if (!fields.empty()) {
      fields.back().value += "\n" + line;
    }
  }
  return fields;
}

std::string LineField(const Mt940Field& field) {
  return "line " + std::to_string(field.line) + " (:" + field.tag + ":)";
}

Result<CivilDate> Mt940Date(std::string_view yymmdd, std::string_view where) {
  if (yymmdd.size() != 6 || !AllDigits(yymmdd)) {
    return Invalid(errc::kDateInvalid, where, std::string(where) + " needs a date YYMMDD");
  }
  const std::string iso = "20" + std::string(yymmdd.substr(0, 2)) + "-" +
                          std::string(yymmdd.substr(2, 2)) + "-" + std::string(yymmdd.substr(4, 2));
  return ParseIsoDate(iso, where);
}

// :60F: / :62F: "C261015IDR1000000,00": the date of the balance.
Result<CivilDate> Mt940BalanceDate(const Mt940Field& field) {
  const std::string& value = field.value;
  if (value.size() < 11 || (value[0] != 'C' && value[0] != 'D') || value.substr(7, 3) != "IDR") {
    return Invalid(errc::kBalanceInvalid, LineField(field),
                   LineField(field) + " must be C or D, YYMMDD, IDR and an amount");
  }
  Result<Money> amount = ParseMt940Amount(value.substr(10), LineField(field));
  if (!amount.ok()) return amount.status();
  return Mt940Date(std::string_view(value).substr(1, 6), LineField(field));
}

// :61: 6!n[4!n]2a[1!a]15d1!a3!c16x[//16x] then an optional line of 34x.
Result<StatementEntry> Mt940Entry(const Mt940Field& field, size_t position) {
  const std::string where = LineField(field);
  const std::string first_line = field.value.substr(0, field.value.find('\n'));
  std::string_view rest = first_line;
  StatementEntry entry;
  entry.position = position;
  Result<CivilDate> value_date = Mt940Date(rest.substr(0, std::min<size_t>(6, rest.size())), where);
  if (!value_date.ok()) return value_date.status();
  entry.booking_date = *value_date;
  rest.remove_prefix(6);
  if (rest.size() >= 4 && AllDigits(rest.substr(0, 4))) {
    // The entry (booking) date: same year as the value date, or the next/previous one when
    // they straddle a new year.
    CivilDate booking{value_date->year, Number(rest.substr(0, 2)), Number(rest.substr(2, 2))};
    if (booking.month == 1 && value_date->month == 12) ++booking.year;
    if (booking.month == 12 && value_date->month == 1) --booking.year;
    Result<CivilDate> checked = ParseIsoDate(FormatIsoDate(booking), where);
    if (!checked.ok()) return checked.status();
    entry.booking_date = *checked;
    rest.remove_prefix(4);
  }
  if (rest.starts_with("RC") || rest.starts_with("RD")) {
    return Invalid(errc::kReversalUnsupported, where, where + ": reversals (RC/RD) are not read");
  }
  if (rest.empty() || (rest[0] != 'C' && rest[0] != 'D')) {
    return Invalid(errc::kCreditDebitInvalid, where, where + " needs C or D after the date");
  }
  entry.credit = rest[0] == 'C';
  rest.remove_prefix(1);
  if (!rest.empty() && std::isalpha(static_cast<unsigned char>(rest[0]))) rest.remove_prefix(1);
  const size_t amount_end = rest.find_first_not_of("0123456789,");
  if (amount_end == std::string_view::npos || amount_end == 0) {
    return Invalid(errc::kAmountInvalid, where, where + " needs an amount and a type code");
  }
  Result<Money> amount = ParseMt940Amount(rest.substr(0, amount_end), where);
  if (!amount.ok()) return amount.status();
  entry.amount = *amount;
  rest.remove_prefix(amount_end);
  if (rest.size() < 4)
    return Invalid(errc::kTypeInvalid, where, where + " needs a type code like NTRF");
  rest.remove_prefix(4);  // N/F/S and the 3-character type code
  const size_t bank_reference = rest.find("//");
  AddReference(&entry, rest.substr(0, bank_reference));
  if (bank_reference != std::string_view::npos)
    AddReference(&entry, rest.substr(bank_reference + 2));
  entry.booked_at_us = JakartaDayStartMicros(entry.booking_date);
  return entry;
}

// :61: keeps 16 characters of a reference; banks repeat longer ones (an end-to-end id, a batch
// id) in :86:. Its words of 6 or more characters are kept as further references, after those
// of :61:.
void AddInformationReferences(StatementEntry* entry, std::string_view information) {
  constexpr size_t word_chars_min = 6;
  constexpr std::string_view separators = " /?+:;,\r\n\t";
  size_t start = 0;
  while (start < information.size()) {
    const size_t end = std::min(information.find_first_of(separators, start), information.size());
    if (end - start >= word_chars_min) AddReference(entry, information.substr(start, end - start));
    start = end + 1;
  }
}

// ---------------------------------------------------------------------------------------
// CSV

// Splits one record per RFC 4180; `text` advances past it.
Result<std::vector<std::string>> CsvRecord(std::string_view* text, size_t line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  size_t i = 0;
  for (; i < text->size(); ++i) {
    const char c = (*text)[i];
    if (quoted) {
      if (c == '"' && i + 1 < text->size() && (*text)[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
  }
  if (quoted) {
    return Invalid(errc::kCsvInvalid, "line " + std::to_string(line),
                   "line " + std::to_string(line) + " has an unclosed quote");
  }
  text->remove_prefix(std::min(text->size(), i + 1));
  return fields;
}

Result<StatementEntry> CsvEntry(const std::vector<std::string>& row, size_t line, size_t position) {
  const std::string where = "line " + std::to_string(line);
  StatementEntry entry;
  entry.position = position;
  Result<int64_t> booked = ParseDateTime(row[2], where + " booking_date", &entry.booking_date);
  if (!booked.ok()) return booked.status();
  entry.booked_at_us = *booked;
  if (row[3] != "CRDT" && row[3] != "DBIT") {
    return Invalid(errc::kCreditDebitInvalid, where + " credit_debit",
                   where + ": credit_debit must be CRDT or DBIT");
  }
  entry.credit = row[3] == "CRDT";
  Result<Money> amount = ParseAmount(row[4], where + " amount");
  if (!amount.ok()) return amount.status();
  entry.amount = *amount;
  AddReference(&entry, row[5]);
  if (row.size() > 6) entry.description = row[6];
  return entry;
}

}  // namespace

namespace {

constexpr std::string_view kSignatureDigits = "0123456789abcdefghijklmnopqrstuv";  // base 32
constexpr int kSignatureDigitBits = 5;
// Between the folded id and its signature; a valid id never folds to two '-' in a row.
constexpr std::string_view kSignatureMark = "--";

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSeparator(char c) { return statement_id_separators.find(c) != std::string_view::npos; }

Status StatementIdInvalid(std::string message) {
  return Status::InvalidArgument(errc::kStatementIdInvalid, "statement_id", std::move(message));
}

}  // namespace

Status CheckStatementId(std::string_view statement_id, std::string_view where) {
  const std::string rule =
      "statement_id " + (where.empty() ? std::string() : "(" + std::string(where) + ") ") +
      "must be 1 to " + std::to_string(statement_id_chars_max) +
      " characters of A-Z a-z 0-9 - . / _, starting and ending with a letter or digit, with no "
      "two of - . / _ in a row";
  if (statement_id.empty() || statement_id.size() > statement_id_chars_max) {
    return StatementIdInvalid(rule + "; it has " + std::to_string(statement_id.size()));
  }
  for (size_t i = 0; i < statement_id.size(); ++i) {
    const char c = statement_id[i];
    const bool edge = i == 0 || i + 1 == statement_id.size();
    const bool after_separator = i > 0 && IsSeparator(statement_id[i - 1]);
    if (IsAsciiLetter(c) || IsAsciiDigit(c)) continue;
    if (IsSeparator(c) && !edge && !after_separator) continue;
    return StatementIdInvalid(rule + "; \"" + std::string(statement_id) + "\" breaks it at " +
                              "character " + std::to_string(i + 1));
  }
  return Status::Ok();
}

Result<std::string> StatementStreamId(std::string_view statement_id) {
  MALPRO_RETURN_IF_ERROR(CheckStatementId(statement_id, ""));
  std::string form;
  std::vector<bool> bits;  // each letter's case, each separator's code, in order
  for (char c : statement_id) {
    if (IsAsciiLetter(c)) {
      const bool lower = c >= 'a';
      form.push_back(lower ? c : static_cast<char>(c - 'A' + 'a'));
      bits.push_back(lower);
    } else if (IsSeparator(c)) {
      const size_t code = statement_id_separators.find(c);
      form.push_back('-');
      bits.push_back((code & 2) != 0);
      bits.push_back((code & 1) != 0);
    } else {
      form.push_back(c);
    }
  }
  if (std::find(bits.begin(), bits.end(), true) == bits.end()) return form;
  form.append(kSignatureMark);
  for (size_t at = 0; at < bits.size(); at += kSignatureDigitBits) {
    int digit = 0;
    for (int bit = 0; bit < kSignatureDigitBits; ++bit) {
      digit = digit << 1 | (at + bit < bits.size() && bits[at + bit] ? 1 : 0);
    }
    form.push_back(kSignatureDigits[digit]);
  }
  return form;
}

Result<std::string> StatementIdFromStreamId(std::string_view stream_form) {
  const Status not_a_form = StatementIdInvalid(
      "\"" + std::string(stream_form) +
      "\" is not the stream form of a statement id (docs/settlement-files.md, Statement ids)");
  const size_t mark = stream_form.find(kSignatureMark);
  const std::string_view folded = stream_form.substr(0, mark);
  const std::string_view signature =
      mark == std::string_view::npos ? std::string_view() : stream_form.substr(mark + 2);
  if (mark != std::string_view::npos && signature.empty()) return not_a_form;
  // The signature's bits, most significant first within each digit.
  std::vector<bool> bits;
  for (char c : signature) {
    const size_t digit = kSignatureDigits.find(c);
    if (digit == std::string_view::npos) return not_a_form;
    for (int bit = kSignatureDigitBits - 1; bit >= 0; --bit) bits.push_back((digit >> bit) & 1);
  }
  std::string id;  // missing bits read as 0; the round trip below refuses such a form
  size_t next = 0;
  auto take = [&] { return next < bits.size() && bits[next++]; };
  for (char c : folded) {
    if (c >= 'a' && c <= 'z') {
      id.push_back(take() ? c : static_cast<char>(c - 'a' + 'A'));
    } else if (c == '-') {
      const int high = take() ? 2 : 0;
      id.push_back(statement_id_separators[high | (take() ? 1 : 0)]);
    } else {
      id.push_back(c);
    }
  }
  // Canonical forms only (the signature's length, its zero padding, lowercase letters): the
  // id must encode back to exactly this text, so each id has one form and each form one id.
  Result<std::string> again = StatementStreamId(id);
  if (!again.ok() || *again != stream_form) return not_a_form;
  return id;
}

Result<Statement> ParseCamt053(std::string_view xml) {
  if (xml.size() > statement_bytes_max) {
    return Status::LimitExceeded(errc::kStatementTooLarge, "statement",
                                 "the statement is too large");
  }
  // No network, no entity expansion from outside: a statement is data, never a fetch.
  std::unique_ptr<xmlDoc, XmlDocFree> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "statement.xml", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* error = xmlGetLastError();
    return Invalid(errc::kXmlInvalid, "statement",
                   "the camt.053 file is not well-formed XML" +
                       (error ? ": line " + std::to_string(error->line) + ": " +
                                    Trim(error->message ? error->message : "")
                              : std::string()));
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  const std::string ns =
      root && root->ns && root->ns->href ? reinterpret_cast<const char*>(root->ns->href) : "";
  if (root == nullptr || !IsElement(root, "Document") ||
      !ns.starts_with("urn:iso:std:iso:20022:tech:xsd:camt.053.001.")) {
    return Invalid(errc::kStatementNotCamt053, "Document",
                   "the root must be Document in a camt.053.001.* namespace");
  }
  const xmlNode* report = Child(root, "BkToCstmrStmt");
  std::vector<const xmlNode*> statements =
      report ? Children(report, "Stmt") : std::vector<const xmlNode*>{};
  if (statements.size() != 1) {
    return Invalid(errc::kStatementCountInvalid, "BkToCstmrStmt.Stmt",
                   "the file must hold exactly one Stmt (one account, one period)");
  }
  const xmlNode* stmt = statements.front();
  Statement statement;
  statement.format = "camt053";
  statement.id = Text(Child(stmt, "Id"));
  if (statement.id.empty()) return Invalid(errc::kFieldMissing, "Stmt.Id", "Stmt.Id is required");
  MALPRO_RETURN_IF_ERROR(CheckStatementId(statement.id, "Stmt/Id"));
  statement.account = Text(Path(stmt, {"Acct", "Id", "Othr", "Id"}));
  if (statement.account.empty()) statement.account = Text(Path(stmt, {"Acct", "Id", "IBAN"}));
  if (statement.account.empty()) {
    return Invalid(errc::kFieldMissing, "Stmt.Acct.Id",
                   "Stmt.Acct.Id (Othr/Id or IBAN) is required");
  }
  size_t position = 0;
  for (const xmlNode* node : Children(stmt, "Ntry")) {
    MALPRO_RETURN_IF_ERROR(CheckEntryCount(statement));
    Result<std::optional<StatementEntry>> entry = CamtEntry(node, ++position);
    if (!entry.ok()) return entry.status();
    if (entry->has_value()) statement.entries.push_back(std::move(**entry));
  }
  MALPRO_RETURN_IF_ERROR(CamtPeriod(stmt, &statement));
  return statement;
}

Result<Statement> ParseMt940(std::string_view text) {
  if (text.size() > statement_bytes_max) {
    return Status::LimitExceeded(errc::kStatementTooLarge, "statement",
                                 "the statement is too large");
  }
  Statement statement;
  statement.format = "mt940";
  std::optional<CivilDate> opening;
  std::optional<CivilDate> closing;
  for (const Mt940Field& field : Mt940Fields(text)) {
    if (field.tag == "20") {
      if (!statement.id.empty()) {
        return Invalid(
            errc::kStatementCountInvalid, LineField(field),
            "the file must hold one statement (a second :20: at " + LineField(field) + ")");
      }
      statement.id = Trim(field.value);
    } else if (field.tag == "25") {
      statement.account = Trim(field.value);
    } else if (field.tag == "60F" || field.tag == "60M") {
      Result<CivilDate> date = Mt940BalanceDate(field);
      if (!date.ok()) return date.status();
      if (!opening) opening = *date;
    } else if (field.tag == "62F" || field.tag == "62M") {
      Result<CivilDate> date = Mt940BalanceDate(field);
      if (!date.ok()) return date.status();
      closing = *date;
    } else if (field.tag == "61") {
      MALPRO_RETURN_IF_ERROR(CheckEntryCount(statement));
      Result<StatementEntry> entry = Mt940Entry(field, statement.entries.size() + 1);
      if (!entry.ok()) return entry.status();
      statement.entries.push_back(std::move(entry).value());
    } else if (field.tag == "86" && !statement.entries.empty() &&
               statement.entries.back().description.empty()) {
      statement.entries.back().description = field.value;
      AddInformationReferences(&statement.entries.back(), field.value);
    }
  }
  if (statement.id.empty()) return Invalid(errc::kFieldMissing, ":20:", "the statement lacks :20:");
  MALPRO_RETURN_IF_ERROR(CheckStatementId(statement.id, ":20:"));
  if (statement.account.empty())
    return Invalid(errc::kFieldMissing, ":25:", "the statement lacks :25:");
  if (!opening || !closing) {
    return Invalid(errc::kFieldMissing, ":60F:", "the statement needs :60F: and :62F: balances");
  }
  statement.from = *opening;
  statement.to = *closing;
  if (statement.to < statement.from) {
    return Invalid(errc::kPeriodInvalid, ":62F:", ":62F: is dated before :60F:");
  }
  return statement;
}

Result<Statement> ParseStatementCsv(std::string_view text) {
  if (text.size() > statement_bytes_max) {
    return Status::LimitExceeded(errc::kStatementTooLarge, "statement",
                                 "the statement is too large");
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a spreadsheet's BOM
  Result<std::vector<std::string>> header = CsvRecord(&text, 1);
  if (!header.ok()) return header.status();
  const std::vector<std::string> expected = {"statement_id", "account", "booking_date",
                                             "credit_debit", "amount",  "reference"};
  if (header->size() < expected.size() ||
      !std::equal(expected.begin(), expected.end(), header->begin())) {
    return Invalid(errc::kCsvHeaderInvalid, "line 1",
                   "the header must start statement_id,account,booking_date,credit_debit,amount,"
                   "reference");
  }
  Statement statement;
  statement.format = "csv";
  for (size_t line = 2; !text.empty(); ++line) {
    Result<std::vector<std::string>> row = CsvRecord(&text, line);
    if (!row.ok()) return row.status();
    if (row->size() == 1 && Trim((*row)[0]).empty()) continue;
    if (row->size() < expected.size()) {
      return Invalid(errc::kCsvInvalid, "line " + std::to_string(line),
                     "line " + std::to_string(line) + " has fewer than 6 fields");
    }
    if (statement.id.empty()) {
      statement.id = (*row)[0];
      statement.account = (*row)[1];
      MALPRO_RETURN_IF_ERROR(CheckStatementId(statement.id, "line " + std::to_string(line)));
    } else if ((*row)[0] != statement.id || (*row)[1] != statement.account) {
      return Invalid(errc::kStatementCountInvalid, "line " + std::to_string(line),
                     "every row must have the same statement_id and account");
    }
    MALPRO_RETURN_IF_ERROR(CheckEntryCount(statement));
    Result<StatementEntry> entry = CsvEntry(*row, line, statement.entries.size() + 1);
    if (!entry.ok()) return entry.status();
    statement.entries.push_back(std::move(entry).value());
  }
  if (statement.entries.empty()) {
    return Invalid(errc::kStatementEmpty, "line 2", "the CSV statement has no entries");
  }
  SetPeriodFromEntries(&statement);
  return statement;
}

std::string DetectStatementFormat(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (start != std::string_view::npos && text[start] == '<') return "camt053";
  if (text.find(":20:") != std::string_view::npos && text.find(":61:") != std::string_view::npos) {
    return "mt940";
  }
  return "csv";
}

namespace {

// A JSON document is no statement format; the bank simulator's own statement is JSON unless
// asked for another format, which is how one usually arrives here.
Status RefuseJson(std::string_view text) {
  constexpr std::string_view spaces = " \t\r\n\xEF\xBB\xBF";
  const size_t start = text.find_first_not_of(spaces);
  if (start == std::string_view::npos) return Status::Ok();
  // An object opens with a key or closes at once; MT940's SWIFT blocks open "{1:".
  const size_t next = text.find_first_not_of(spaces, start + 1);
  const bool object = text[start] == '{' && next != std::string_view::npos &&
                      (text[next] == '"' || text[next] == '}');
  if (!object && text[start] != '[') return Status::Ok();
  std::string message =
      "the statement is a JSON document; malpro reads bank statements as camt.053 (XML), MT940 "
      "or CSV (docs/settlement-files.md)";
  if (text.find("\"simulated\"") != std::string_view::npos) {
    message +=
        ". This is the bank simulator's JSON statement: ask the simulator for a statement file "
        "instead, GET /sim/statement?date=YYYY-MM-DD&format=mt940 (or format=camt053, "
        "format=csv)";
  }
  return Invalid(errc::kStatementFormatUnsupported, "statement", message);
}

}  // namespace

Result<Statement> ParseStatement(std::string_view text, std::string_view format) {
  MALPRO_RETURN_IF_ERROR(RefuseJson(text));
  if (format == "camt053") return ParseCamt053(text);
  if (format == "mt940") return ParseMt940(text);
  if (format == "csv") return ParseStatementCsv(text);
  return Invalid(errc::kFormatInvalid, "format", "format must be camt053, mt940 or csv");
}

}  // namespace malpro
