// The vocabulary of the marketplace domain: rank classes, categories, merchant criteria,
// payment methods, and the limits of commands. Values are persisted as text in event
// payloads; lists here may grow, never rename or drop a value.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/error_codes.h"
#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

// PNS golongan/ruang I/a..IV/e, and PPPK (government employees with a work agreement).
inline constexpr std::array<std::string_view, 18> rank_classes = {
    "I/a",   "I/b",   "I/c",   "I/d",  "II/a", "II/b", "II/c", "II/d", "III/a",
    "III/b", "III/c", "III/d", "IV/a", "IV/b", "IV/c", "IV/d", "IV/e", "PPPK"};
// Minimum-spend policy is set per group: the golongan (I, II, III, IV) or PPPK.
inline constexpr std::array<std::string_view, 5> rank_groups = {"I", "II", "III", "IV", "PPPK"};

inline constexpr std::array<std::string_view, 9> umkm_categories = {
    "sembako", "makanan", "minuman",   "kerajinan", "fashion",
    "buku",    "jasa",    "pertanian", "lainnya"};

// QRIS merchant criteria (Bank Indonesia): usaha mikro, kecil, menengah, besar.
inline constexpr std::array<std::string_view, 4> qris_criteria = {"UMI", "UKE", "UME", "UBE"};

inline constexpr std::string_view payment_cod = "COD";
inline constexpr std::string_view payment_cashless = "CASHLESS";

// Limits of domain commands (each enforced with an error naming the field).
inline constexpr size_t name_chars_max = 120;        // people, shops, products, agencies
inline constexpr size_t reason_chars_max = 500;      // cancellation and rejection reasons
inline constexpr size_t unit_chars_max = 20;         // "kg", "pack", "ikat"
inline constexpr size_t entity_id_chars_max = 64;    // umkm, product, order, receipt ids
inline constexpr size_t order_lines_max = 50;        // distinct products in one order
inline constexpr int64_t order_quantity_max = 1000;  // units of one product in one order
inline constexpr Money order_total_max = Money::FromRupiah(50'000'000);
inline constexpr Money product_price_max = Money::FromRupiah(100'000'000);
inline constexpr Money receipt_amount_max = Money::FromRupiah(10'000'000);
inline constexpr size_t receipt_photo_bytes_max = 2 * 1024 * 1024;
inline constexpr size_t settlement_account_digits_min = 10;
inline constexpr size_t settlement_account_digits_max = 16;
inline constexpr size_t qr_content_chars_max = 512;        // an EMVCo QRIS payload
inline constexpr int64_t basis_points_max = 10'000;        // 100%
inline constexpr int conflict_retries_max = 5;             // re-decisions after a lost race
inline constexpr size_t ledger_cache_entries_max = 65536;  // cached buyer and merchant states

static_assert(order_total_max <= Money::FromSen(money_sen_max), "order totals fit Money");
static_assert(receipt_amount_max <= order_total_max, "a receipt is no larger than an order");

// Text checks shared by the commands; each names `field` in its error.
Status CheckName(std::string_view value, std::string_view field, size_t chars_max = name_chars_max);
Status CheckEntityId(std::string_view value, std::string_view field);
// Refuses with `code` (e.g. errc::kChannelUnknown) a value not in `allowed`, listing them.
Status CheckOneOf(std::string_view value, std::string_view field, std::string_view code,
                  const auto& allowed) {
  for (std::string_view candidate : allowed) {
    if (candidate == value) return Status::Ok();
  }
  std::string list;
  for (std::string_view candidate : allowed) {
    if (!list.empty()) list += ", ";
    list += candidate;
  }
  return Status::InvalidArgument(code, field, std::string(field) + " must be one of: " + list);
}

// "III/b" -> "III"; "PPPK" -> "PPPK". Requires a valid rank class.
std::string_view RankGroupOf(std::string_view rank_class);

}  // namespace malpro
