// What the read-model tests check answers against: a value of a JSON answer by its pointer
// (and a list of them), and the Gini coefficient computed from its definition.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace malpro::testing {

// The value at a JSON pointer, as text (strings unquoted, numbers and booleans as written);
// "<missing>" when there is none, "<not json>" when `json` does not parse.
inline std::string JsonAt(const std::string& json, std::string_view pointer) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return "<not json>";
  simdjson::dom::element value;
  if (root.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "<missing>";
  if (value.is_string()) return std::string(value.get_string().value());
  return simdjson::minify(value);
}

// Each JSON pointer of `expected` has its value in `json` (as JsonAt gives it).
inline void ExpectAt(const std::string& json,
                     const std::vector<std::pair<std::string_view, std::string>>& expected) {
  for (const auto& [pointer, value] : expected) EXPECT_EQ(JsonAt(json, pointer), value) << pointer;
}

// The Gini coefficient of `incomes` (each >= 0) by its definition, sum_i sum_j |x_i - x_j| /
// (2 n^2 mean) = sum_i sum_j |x_i - x_j| / (2 n sum), rounded half up to 4 decimals, in exact
// integers; "0.0000" for fewer than two incomes or when they sum to 0.
inline std::string DefinitionGini(const std::vector<int64_t>& incomes) {
  const auto n = static_cast<__int128>(incomes.size());
  __int128 sum = 0;
  __int128 differences = 0;
  for (int64_t x : incomes) {
    sum += x;
    for (int64_t y : incomes) differences += x > y ? x - y : y - x;
  }
  if (n < 2 || sum == 0) return "0.0000";
  const __int128 denominator = 2 * n * sum;
  const auto ten_thousandths =
      static_cast<int64_t>((differences * 20000 + denominator) / (2 * denominator));
  const std::string digits = std::to_string(ten_thousandths % 10000);
  return std::to_string(ten_thousandths / 10000) + "." + std::string(4 - digits.size(), '0') +
         digits;
}

}  // namespace malpro::testing
