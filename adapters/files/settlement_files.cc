#include "adapters/files/settlement_files.h"

#include <algorithm>
#include <cstdio>

#include "adapters/files/files_limits.h"
#include "engine/aggregates.h"
#include "engine/assert.h"
#include "engine/civil_time.h"
#include "engine/csv.h"

namespace malpro {
namespace {

std::string CompactDate(CivilDate date) {
  std::string iso = FormatIsoDate(date);
  iso.erase(std::remove(iso.begin(), iso.end(), '-'), iso.end());
  return iso;
}

// Cuts `text` to at most `bytes` without splitting a UTF-8 sequence.
std::string CutUtf8(std::string_view text, size_t bytes) {
  if (text.size() <= bytes) return std::string(text);
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

std::string Name(std::string_view text) { return XmlEscape(CutUtf8(text, iso_name_bytes_max)); }

void Line(std::string* out, int depth, std::string_view text) {
  out->append(static_cast<size_t>(depth) * 2, ' ');
  out->append(text);
  out->push_back('\n');
}

void Element(std::string* out, int depth, std::string_view name, std::string_view escaped) {
  Line(out, depth,
       "<" + std::string(name) + ">" + std::string(escaped) + "</" + std::string(name) + ">");
}

void Account(std::string* out, int depth, std::string_view tag, std::string_view account,
             bool with_currency) {
  Line(out, depth, "<" + std::string(tag) + ">");
  Line(out, depth + 1, "<Id>");
  Line(out, depth + 2, "<Othr>");
  Element(out, depth + 3, "Id", XmlEscape(account));
  Line(out, depth + 2, "</Othr>");
  Line(out, depth + 1, "</Id>");
  if (with_currency) Element(out, depth + 1, "Ccy", "IDR");
  Line(out, depth, "</" + std::string(tag) + ">");
}

void Agent(std::string* out, int depth, std::string_view tag, std::string_view bic) {
  Line(out, depth, "<" + std::string(tag) + ">");
  Line(out, depth + 1, "<FinInstnId>");
  Element(out, depth + 2, "BICFI", XmlEscape(bic));
  Line(out, depth + 1, "</FinInstnId>");
  Line(out, depth, "</" + std::string(tag) + ">");
}

// " refunds R carried C" when the line recovers refunds or a carried debt, else "".
std::string RecoveredText(const MerchantSettlement& merchant) {
  std::string text;
  if (merchant.refunds > Money()) text += " refunds " + FormatSnap(merchant.refunds);
  if (merchant.carried_in > Money()) text += " carried " + FormatSnap(merchant.carried_in);
  return text;
}

void Transfer(std::string* out, const SettlementDay& day, size_t position,
              const MerchantSettlement& merchant, const SettlementPayee& payee,
              const SettlementFileOptions& options) {
  Line(out, 3, "<CdtTrfTxInf>");
  Line(out, 4, "<PmtId>");
  Element(out, 5, "EndToEndId", SettlementEndToEndId(day.business_date, position));
  Line(out, 4, "</PmtId>");
  Line(out, 4, "<Amt>");
  Line(out, 5, "<InstdAmt Ccy=\"IDR\">" + FormatSnap(merchant.net) + "</InstdAmt>");
  Line(out, 4, "</Amt>");
  Agent(out, 4, "CdtrAgt", options.bank_bic);
  Line(out, 4, "<Cdtr>");
  Element(out, 5, "Nm", Name(payee.name));
  Line(out, 4, "</Cdtr>");
  Account(out, 4, "CdtrAcct", payee.settlement_account, false);
  Line(out, 4, "<RmtInf>");
  Element(out, 5, "Ustrd",
          XmlEscape(CutUtf8("Malpro " + FormatIsoDate(day.business_date) + " " + merchant.umkm_id +
                                " gross " + FormatSnap(merchant.gross) + " fee " +
                                FormatSnap(merchant.fee) + RecoveredText(merchant),
                            iso_name_bytes_max)));
  Line(out, 4, "</RmtInf>");
  Line(out, 3, "</CdtTrfTxInf>");
}

}  // namespace

bool SettlementPays(const SettlementDay& day) {
  return std::any_of(day.merchants.begin(), day.merchants.end(),
                     [](const MerchantSettlement& merchant) { return merchant.net > Money(); });
}

std::string SettlementBatchId(CivilDate business_date) {
  return std::string(settlement_batch_prefix) + CompactDate(business_date);
}

std::string SettlementEndToEndId(CivilDate business_date, size_t position) {
  MALPRO_ASSERT(position >= 1 && position <= end_to_end_index_max);
  char number[8];
  std::snprintf(number, sizeof number, "%03zu", position);
  return std::string(settlement_end_to_end_prefix) + CompactDate(business_date) + "-" + number;
}

CivilDate SettlementExecutionDate(CivilDate business_date, int64_t closed_at_us) {
  return std::max(CivilFromDays(DaysFromCivil(business_date) + 1), JakartaDate(closed_at_us));
}

std::string Pain001FileName(CivilDate business_date) {
  return "malpro-settlement-" + FormatIsoDate(business_date) + ".pain001.xml";
}

std::string SettlementCsvFileName(CivilDate business_date) {
  return "malpro-settlement-" + FormatIsoDate(business_date) + ".csv";
}

std::string WritePain001(const SettlementDay& day, const std::vector<SettlementPayee>& payees,
                         const SettlementFileOptions& options, int64_t created_at_us,
                         CivilDate execution_date) {
  MALPRO_ASSERT(SettlementPays(day) && payees.size() == day.merchants.size());
  const std::string batch_id = SettlementBatchId(day.business_date);
  const std::string count = std::to_string(
      std::count_if(day.merchants.begin(), day.merchants.end(),
                    [](const MerchantSettlement& merchant) { return merchant.net > Money(); }));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  Line(&out, 0, "<Document xmlns=\"" + std::string(pain001_namespace) + "\">");
  Line(&out, 1, "<CstmrCdtTrfInitn>");
  Line(&out, 2, "<GrpHdr>");
  Element(&out, 3, "MsgId", batch_id);
  Element(&out, 3, "CreDtTm", JakartaTimestamp(created_at_us));
  Element(&out, 3, "NbOfTxs", count);
  Element(&out, 3, "CtrlSum", FormatSnap(day.total_net));
  Line(&out, 3, "<InitgPty>");
  Element(&out, 4, "Nm", Name(options.initiating_party));
  Line(&out, 3, "</InitgPty>");
  Line(&out, 2, "</GrpHdr>");
  Line(&out, 2, "<PmtInf>");
  Element(&out, 3, "PmtInfId", batch_id);
  Element(&out, 3, "PmtMtd", "TRF");
  Element(&out, 3, "BtchBookg", "false");
  Element(&out, 3, "NbOfTxs", count);
  Element(&out, 3, "CtrlSum", FormatSnap(day.total_net));
  Line(&out, 3, "<ReqdExctnDt>");
  Element(&out, 4, "Dt", FormatIsoDate(execution_date));
  Line(&out, 3, "</ReqdExctnDt>");
  Line(&out, 3, "<Dbtr>");
  Element(&out, 4, "Nm", Name(options.debtor_name));
  Line(&out, 3, "</Dbtr>");
  Account(&out, 3, "DbtrAcct", options.debtor_account, true);
  Agent(&out, 3, "DbtrAgt", options.bank_bic);
  Element(&out, 3, "ChrgBr", "DEBT");
  // A line whose refunds took all it had (net 0) is in the CSV, not paid: a transfer of zero
  // is no transfer. End-to-end ids keep the line's position, so the CSV and the file agree.
  for (size_t i = 0; i < day.merchants.size(); ++i) {
    if (day.merchants[i].net > Money()) {
      Transfer(&out, day, i + 1, day.merchants[i], payees[i], options);
    }
  }
  Line(&out, 2, "</PmtInf>");
  Line(&out, 1, "</CstmrCdtTrfInitn>");
  Line(&out, 0, "</Document>");
  return out;
}

std::string WriteSettlementCsv(const SettlementDay& day,
                               const std::vector<SettlementPayee>& payees) {
  MALPRO_ASSERT(payees.size() == day.merchants.size());
  const std::string date = FormatIsoDate(day.business_date);
  Money carried_in;
  Money carried_out;
  std::string out =
      "business_date,batch_id,end_to_end_id,umkm_id,merchant_name,settlement_account,payments,"
      "gross,fee,refunds,carried_in,net,carried_out\r\n";
  for (size_t i = 0; i < day.merchants.size(); ++i) {
    const MerchantSettlement& merchant = day.merchants[i];
    out += date + "," + SettlementBatchId(day.business_date) + "," +
           SettlementEndToEndId(day.business_date, i + 1) + "," + CsvField(merchant.umkm_id) + "," +
           CsvField(payees[i].name) + "," + CsvField(payees[i].settlement_account) + "," +
           std::to_string(merchant.payments) + "," + FormatSnap(merchant.gross) + "," +
           FormatSnap(merchant.fee) + "," + FormatSnap(merchant.refunds) + "," +
           FormatSnap(merchant.carried_in) + "," + FormatSnap(merchant.net) + "," +
           FormatSnap(merchant.carried_out) + "\r\n";
    carried_in += merchant.carried_in;
    carried_out += merchant.carried_out;
  }
  out += date + "," + SettlementBatchId(day.business_date) + ",TOTAL,,,," +
         std::to_string(day.payments) + "," + FormatSnap(day.total_gross) + "," +
         FormatSnap(day.total_fee) + "," + FormatSnap(day.total_refunds) + "," +
         FormatSnap(carried_in) + "," + FormatSnap(day.total_net) + "," + FormatSnap(carried_out) +
         "\r\n";
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string CsvField(std::string_view text) {
  std::string value(text);
  if (!value.empty() && std::string_view("=+-@").find(value.front()) != std::string_view::npos) {
    value.insert(value.begin(), '\'');
  }
  return CsvQuoted(value);
}

}  // namespace malpro
