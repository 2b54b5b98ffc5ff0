// Limits and format constants of the settlement files and bank statements
// (docs/settlement-files.md).
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/domain_types.h"

namespace malpro {

// pain.001 version written (ISO 20022 customer credit transfer initiation, 2019 edition).
inline constexpr std::string_view pain001_namespace =
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
// Prefix of the batch id (MsgId, PmtInfId): "MALPRO-STL-YYYYMMDD".
inline constexpr std::string_view settlement_batch_prefix = "MALPRO-STL-";
// Prefix of each transfer's end-to-end id: "STL-YYYYMMDD-NNN", 16 characters, so that it fits
// whole in an MT940 :61: reference (16x) and the bank's statement can be matched on it.
inline constexpr std::string_view settlement_end_to_end_prefix = "STL-";
inline constexpr size_t mt940_reference_chars_max = 16;
// ISO 20022 Max35Text: MsgId, PmtInfId and EndToEndId are at most this long.
inline constexpr size_t iso_id_chars_max = 35;
// "STL-YYYYMMDD-NNN": the end-to-end id numbers merchants with three digits.
inline constexpr size_t end_to_end_index_max = 999;
static_assert(4 + 8 + 1 + 3 <= mt940_reference_chars_max, "the end-to-end id must fit 16x");
static_assert(mt940_reference_chars_max <= iso_id_chars_max, "16x fits Max35Text");
// ISO 20022 Max140Text: names are cut to this many bytes (at a UTF-8 boundary).
inline constexpr size_t iso_name_bytes_max = 140;

// A statement file is read whole; a day of Bank Jatim's collection account is far smaller.
inline constexpr size_t statement_bytes_max = 64 * 1024 * 1024;
// Booked entries one statement may hold.
inline constexpr size_t statement_entries_max = 200'000;
// Characters of one statement reference kept (MT940 16x, ISO 20022 Max35Text).
inline constexpr size_t statement_reference_chars_max = 35;

// Statements written (statement_writer.h): the camt.053 version, the references an entry's
// TxDtls/Refs carries (EndToEndId, AcctSvcrRef, TxId, PmtInfId, the four the reader takes), the
// remittance text (Ustrd, Max140Text), and MT940's :86: of 6 lines of 65 characters (6*65x).
inline constexpr std::string_view camt053_written_namespace =
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";
inline constexpr size_t camt053_references_max = 4;
inline constexpr size_t camt053_remittance_bytes_max = 140;
inline constexpr size_t mt940_information_line_chars_max = 65;
inline constexpr size_t mt940_information_lines_max = 6;
static_assert(statement_reference_chars_max <= mt940_information_line_chars_max,
              "a reference that does not fit :61: fits a line of :86:");

// A statement id (camt.053 Stmt/Id is Max35Text, MT940 :20: is 16x) is 1 to this many
// characters of A-Z a-z 0-9 and the separators below, starting and ending with a letter or
// digit, no two separators in a row. Anything else is refused, never rewritten.
inline constexpr size_t statement_id_chars_max = 35;
// The separators, in the order of their 2-bit code in the stream form (StatementStreamId).
inline constexpr std::string_view statement_id_separators = "-./_";
// The stream form: at most the id's length, "--", and 5 bits per base-32 digit of at most 2
// bits per character; the ledger takes it as an entity id (engine/domain_types.h).
inline constexpr size_t statement_stream_id_chars_max =
    statement_id_chars_max + 2 + (2 * statement_id_chars_max + 4) / 5;
static_assert(statement_stream_id_chars_max <= entity_id_chars_max,
              "the stream form must pass as an entity id");
static_assert(statement_id_separators.size() == 4, "a separator's code takes 2 bits");

}  // namespace malpro
