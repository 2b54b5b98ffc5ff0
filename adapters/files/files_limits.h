// Limits and format constants of the settlement files and bank statements
// (docs/settlement-files.md).
#pragma once

#include <cstddef>
#include <string_view>

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

}  // namespace malpro
