// The settlement files of one business day for Bank Jatim: an ISO 20022 pain.001.001.09 credit
// transfer initiation (one transfer per merchant of its net, to its settlement account) and a
// CSV of the same figures for people. docs/settlement-files.md specifies both field by field.
//
// Writing is a pure function of its inputs, so the same day gives the same bytes and the
// SHA-256 recorded in settlement.batch_closed identifies the files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/identifiers.h"
#include "engine/ledger.h"

namespace malpro {

// Who pays: the city's collection account at Bank Jatim, where cashless payments arrive.
struct SettlementFileOptions {
  std::string initiating_party = "Pemerintah Kota Malang";  // GrpHdr/InitgPty/Nm
  std::string debtor_name = "Pemerintah Kota Malang - Malpro";
  std::string debtor_account = "0011000000";  // Bank Jatim account number (10..16 digits)
  std::string bank_bic = "PDJTIDJ1";          // Bank Jatim (BPD Jawa Timur)
};

// The payee of one merchant's transfer, from its umkm.registered event.
struct SettlementPayee {
  std::string umkm_id;
  std::string name;
  std::string settlement_account;
};

// "MALPRO-STL-YYYYMMDD": MsgId and PmtInfId of the day's batch.
std::string SettlementBatchId(CivilDate business_date);
// "STL-YYYYMMDD-NNN": the transfer to the `position`-th merchant (1-based, in umkm_id
// order as in the settlement event).
std::string SettlementEndToEndId(CivilDate business_date, size_t position);
// The day the bank is asked to execute the batch: the day after the business day, or the day
// the batch was closed when that is later.
CivilDate SettlementExecutionDate(CivilDate business_date, int64_t closed_at_us);
// "malpro-settlement-YYYY-MM-DD.pain001.xml" and "...csv".
std::string Pain001FileName(CivilDate business_date);
std::string SettlementCsvFileName(CivilDate business_date);

// Whether any line of the day pays its merchant something (net > 0): only then is there a
// pain.001 file.
bool SettlementPays(const SettlementDay& day);

// `payees` holds one entry per merchant of `day`, in the same order. Requires SettlementPays
// (a day whose lines pay nothing has no pain.001); lines with net 0 get no transfer.
std::string WritePain001(const SettlementDay& day, const std::vector<SettlementPayee>& payees,
                         const SettlementFileOptions& options, int64_t created_at_us,
                         CivilDate execution_date);
std::string WriteSettlementCsv(const SettlementDay& day,
                               const std::vector<SettlementPayee>& payees);

// XML 1.0 text or attribute content with &, <, >, " and ' escaped; control characters that
// XML 1.0 forbids are dropped.
std::string XmlEscape(std::string_view text);
// One CSV field per RFC 4180: quoted when it holds a comma, quote or line break. A leading
// =, +, - or @ is prefixed with ' so that a spreadsheet does not run it as a formula.
std::string CsvField(std::string_view text);

}  // namespace malpro
