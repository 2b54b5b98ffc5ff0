// What log_crash_child writes, shared with the test that checks it after each kill.
#pragma once

#include <cstdint>
#include <string>

namespace malpro::crash {

// Small commands: three events each, one stream per thread ("c-<thread>").
inline constexpr uint64_t kSmallCommandEvents = 3;
// Large commands (about 100 KiB, more than one write part) from one more thread, stream "big".
inline constexpr int kBigThread = 100;
inline constexpr uint64_t kBigCommandEvents = 400;

inline std::string SmallPayload(uint64_t command, uint64_t part) {
  return R"({"command":)" + std::to_string(command) + R"(,"part":)" + std::to_string(part) + "}";
}

inline std::string BigPayload(uint64_t command, uint64_t part) {
  return R"({"command":)" + std::to_string(command) + R"(,"part":)" + std::to_string(part) +
         R"(,"fill":")" + std::string(200, 'f') + "\"}";
}

}  // namespace malpro::crash
