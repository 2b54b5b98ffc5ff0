// What the read-model tests share: the day they happen on and their two buyers.
#pragma once

#include <cstdint>

namespace malpro::testing {

// 2026-01-31 10:00 in Malang (03:00 UTC).
inline constexpr int64_t kJan31 = 1'769'828'400'000'000;
inline constexpr char kBuyer[] = "198507122010011003";
inline constexpr char kOtherBuyer[] = "199001012015032001";

}  // namespace malpro::testing
