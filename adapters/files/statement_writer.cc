#include "adapters/files/statement_writer.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "adapters/files/files_limits.h"
#include "adapters/files/settlement_files.h"
#include "engine/assert.h"
#include "engine/civil_time.h"
#include "engine/csv.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

// "2026-11-22T10:17:03+07:00", or the date alone when the entry has no time.
std::string BookingTime(const StatementEntry& entry) {
  if (entry.booked_at_us == 0) return FormatIsoDate(entry.booking_date);
  MALPRO_ASSERT(JakartaDate(entry.booked_at_us) == entry.booking_date);
  return JakartaTimestamp(entry.booked_at_us);
}

// Σ credits - Σ debits.
Money Movement(const Statement& statement) {
  Money total;
  for (const StatementEntry& entry : statement.entries) {
    total += entry.credit ? entry.amount : Money() - entry.amount;
  }
  return total;
}

// Cuts `text` to at most `bytes` without splitting a UTF-8 sequence.
std::string_view CutUtf8View(std::string_view text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// ---------------------------------------------------------------------------------------
// camt.053

class XmlOut {
 public:
  void Open(std::string_view name) {
    Indent();
    text_ += "<" + std::string(name) + ">\n";
    ++depth_;
  }
  void Close(std::string_view name) {
    --depth_;
    Indent();
    text_ += "</" + std::string(name) + ">\n";
  }
  // <name attributes>escaped value</name>; `attributes` are written as given.
  void Element(std::string_view name, std::string_view value, std::string_view attributes = {}) {
    Indent();
    text_ += "<" + std::string(name) + std::string(attributes) + ">" + XmlEscape(value) + "</" +
             std::string(name) + ">\n";
  }
  std::string Take() { return std::move(text_); }

 private:
  void Indent() { text_.append(static_cast<size_t>(depth_) * 2, ' '); }
  std::string text_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  int depth_ = 0;
};

// Bal: its type (OPBD, CLBD), the amount with its direction, the date.
void CamtBalance(XmlOut& xml, std::string_view type, Money amount, CivilDate date) {
  const bool credit = amount >= Money();
  xml.Open("Bal");
  xml.Open("Tp");
  xml.Open("CdOrPrtry");
  xml.Element("Cd", type);
  xml.Close("CdOrPrtry");
  xml.Close("Tp");
  xml.Element("Amt", FormatSnap(credit ? amount : Money() - amount), " Ccy=\"IDR\"");
  xml.Element("CdtDbtInd", credit ? "CRDT" : "DBIT");
  xml.Open("Dt");
  xml.Element("Dt", FormatIsoDate(date));
  xml.Close("Dt");
  xml.Close("Bal");
}

// TxDtls/Refs in the schema's order; the reader takes EndToEndId, AcctSvcrRef, TxId, PmtInfId.
void CamtReferences(XmlOut& xml, const std::vector<std::string>& references) {
  std::vector<std::string> kept;
  for (const std::string& reference : references) {
    if (kept.size() == camt053_references_max) break;
    if (reference.size() <= statement_reference_chars_max) kept.push_back(reference);
  }
  if (kept.empty()) return;
  kept.resize(camt053_references_max);
  xml.Open("Refs");
  if (!kept[1].empty()) xml.Element("AcctSvcrRef", kept[1]);
  if (!kept[3].empty()) xml.Element("PmtInfId", kept[3]);
  xml.Element("EndToEndId", kept[0]);
  if (!kept[2].empty()) xml.Element("TxId", kept[2]);
  xml.Close("Refs");
}

void CamtEntry(XmlOut& xml, const StatementEntry& entry) {
  xml.Open("Ntry");
  xml.Element("Amt", FormatSnap(entry.amount), " Ccy=\"IDR\"");
  xml.Element("CdtDbtInd", entry.credit ? "CRDT" : "DBIT");
  xml.Open("Sts");
  xml.Element("Cd", "BOOK");
  xml.Close("Sts");
  xml.Open("BookgDt");
  xml.Element(entry.booked_at_us == 0 ? "Dt" : "DtTm", BookingTime(entry));
  xml.Close("BookgDt");
  xml.Open("ValDt");
  xml.Element("Dt", FormatIsoDate(entry.booking_date));
  xml.Close("ValDt");
  xml.Open("BkTxCd");
  xml.Open("Prtry");
  xml.Element("Cd", "NTRF");
  xml.Close("Prtry");
  xml.Close("BkTxCd");
  xml.Open("NtryDtls");
  xml.Open("TxDtls");
  CamtReferences(xml, entry.references);
  if (!entry.description.empty()) {
    xml.Open("RmtInf");
    xml.Element("Ustrd", CutUtf8View(entry.description, camt053_remittance_bytes_max));
    xml.Close("RmtInf");
  }
  xml.Close("TxDtls");
  xml.Close("NtryDtls");
  xml.Close("Ntry");
}

// ---------------------------------------------------------------------------------------
// MT940

std::string Yymmdd(CivilDate date) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d%02d%02d", date.year % 100, date.month, date.day);
  return text;
}

// SWIFT's x character set; anything else is written as '.'.
std::string SwiftText(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') ||
                         std::string_view("/-?:().,'+ ").find(c) != std::string_view::npos;
    out.push_back(allowed ? c : '.');
  }
  return out;
}

// :60F: / :62F: "C261122IDR68000,00".
std::string Mt940Balance(Money amount, CivilDate date) {
  const bool credit = amount >= Money();
  return std::string(credit ? "C" : "D") + Yymmdd(date) + "IDR" +
         FormatMt940(credit ? amount : Money() - amount);
}

bool FitsMt940Reference(std::string_view reference) {
  return !reference.empty() && reference.size() <= mt940_reference_chars_max &&
         SwiftText(reference) == reference && reference.find("//") == std::string_view::npos &&
         reference.find(' ') == std::string_view::npos;
}

// The words of :86:, wrapped to lines of 65 (a word is cut only when longer than a line), at
// most 6 lines. A line that would start like a tag or a block mark starts with a space.
std::string Mt940Information(std::string_view text) {
  std::vector<std::string> lines(1);
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find(' ', start), text.size());
    if (end - start > mt940_information_line_chars_max) {
      end = start + mt940_information_line_chars_max - 1;
    }
    const std::string_view word = text.substr(start, end - start);
    start = end < text.size() && text[end] == ' ' ? end + 1 : end;
    if (word.empty()) continue;
    const size_t needed = lines.back().size() + (lines.back().empty() ? 0 : 1) + word.size();
    if (needed > mt940_information_line_chars_max) lines.emplace_back();
    if (lines.size() > mt940_information_lines_max) {
      lines.pop_back();
      break;
    }
    if (!lines.back().empty()) lines.back() += ' ';
    const bool looks_like_a_mark = lines.back().empty() && lines.size() > 1 &&
                                   std::string_view(":-{}").find(word[0]) != std::string_view::npos;
    if (looks_like_a_mark) lines.back() += ' ';
    lines.back() += word;
  }
  std::string joined;
  for (const std::string& line : lines) joined += (joined.empty() ? "" : "\r\n") + line;
  return joined;
}

std::string Mt940Entry(const StatementEntry& entry) {
  const std::vector<std::string>& references = entry.references;
  const bool first = !references.empty() && FitsMt940Reference(references[0]);
  const bool second = references.size() > 1 && FitsMt940Reference(references[1]);
  std::string line = ":61:" + Yymmdd(entry.booking_date) + Yymmdd(entry.booking_date).substr(2) +
                     (entry.credit ? "C" : "D") + FormatMt940(entry.amount) + "NTRF" +
                     (first ? references[0] : "NONREF") + (second ? "//" + references[1] : "") +
                     "\r\n";
  // What :61: could not hold goes to :86:, after the description (unless already in it).
  std::string information = SwiftText(entry.description);
  for (size_t i = 0; i < references.size(); ++i) {
    if ((i == 0 && first) || (i == 1 && second)) continue;
    const std::string reference = SwiftText(references[i]);
    if (information.find(reference) != std::string::npos) continue;
    information += (information.empty() ? "" : " ") + reference;
  }
  if (!information.empty()) line += ":86:" + Mt940Information(information) + "\r\n";
  return line;
}

}  // namespace

std::string WriteCamt053(const Statement& statement, int64_t created_at_us) {
  XmlOut xml;
  xml.Open("Document xmlns=\"" + std::string(camt053_written_namespace) + "\"");
  xml.Open("BkToCstmrStmt");
  xml.Open("GrpHdr");
  xml.Element("MsgId", statement.id);
  xml.Element("CreDtTm", JakartaTimestamp(created_at_us));
  xml.Close("GrpHdr");
  xml.Open("Stmt");
  xml.Element("Id", statement.id);
  xml.Element("CreDtTm", JakartaTimestamp(created_at_us));
  xml.Open("FrToDt");
  xml.Element("FrDtTm", FormatIsoDate(statement.from) + "T00:00:00+07:00");
  xml.Element("ToDtTm", FormatIsoDate(statement.to) + "T23:59:59+07:00");
  xml.Close("FrToDt");
  xml.Open("Acct");
  xml.Open("Id");
  xml.Open("Othr");
  xml.Element("Id", statement.account);
  xml.Close("Othr");
  xml.Close("Id");
  xml.Element("Ccy", "IDR");
  xml.Close("Acct");
  CamtBalance(xml, "OPBD", Money(), statement.from);
  CamtBalance(xml, "CLBD", Movement(statement), statement.to);
  for (const StatementEntry& entry : statement.entries) CamtEntry(xml, entry);
  xml.Close("Stmt");
  xml.Close("BkToCstmrStmt");
  xml.Close("Document");
  return xml.Take();
}

std::string WriteMt940(const Statement& statement) {
  std::string text = ":20:" + statement.id + "\r\n:25:" + statement.account + "\r\n:28C:1/1\r\n" +
                     ":60F:" + Mt940Balance(Money(), statement.from) + "\r\n";
  for (const StatementEntry& entry : statement.entries) text += Mt940Entry(entry);
  text += ":62F:" + Mt940Balance(Movement(statement), statement.to) + "\r\n-\r\n";
  return text;
}

std::string WriteStatementCsv(const Statement& statement) {
  std::string csv =
      "statement_id,account,booking_date,credit_debit,amount,reference,description\r\n";
  for (const StatementEntry& entry : statement.entries) {
    csv += CsvQuoted(statement.id) + "," + CsvQuoted(statement.account) + "," + BookingTime(entry) +
           "," + (entry.credit ? "CRDT" : "DBIT") + "," + FormatSnap(entry.amount) + "," +
           CsvQuoted(entry.references.empty() ? "" : entry.references.front()) + "," +
           CsvQuoted(entry.description) + "\r\n";
  }
  return csv;
}

Result<std::string> WriteStatement(const Statement& statement, std::string_view format,
                                   int64_t created_at_us) {
  if (format == "camt053") return WriteCamt053(statement, created_at_us);
  if (format == "mt940") return WriteMt940(statement);
  if (format == "csv") return WriteStatementCsv(statement);
  return Status::InvalidArgument(errc::kFormatInvalid, "format",
                                 "format must be camt053, mt940 or csv");
}

}  // namespace malpro
