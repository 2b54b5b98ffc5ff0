// Civil time, in one place: the wall clock, and Asia/Jakarta dates, day bounds and timestamps.
// Asia/Jakarta (WIB) is UTC+7 all year, with no daylight saving, so its arithmetic is a fixed
// offset. Everything the ledger dates (business days, months, receipts' windows, SNAP
// X-TIMESTAMP, pain.001 CreDtTm) goes through these functions.
#pragma once

#include <cstdint>
#include <string>

#include "engine/identifiers.h"

namespace malpro {

inline constexpr int64_t jakarta_offset_seconds = 7 * 3600;
inline constexpr int64_t micros_per_second = 1'000'000;
inline constexpr int64_t seconds_per_day = 86'400;

// Now, in UTC microseconds since 1970 (the system clock: it may step; the event log keeps its
// recorded times from going back).
int64_t WallClockMicros();

// The Asia/Jakarta date of a UTC instant.
CivilDate JakartaDate(int64_t utc_micros);
// 00:00 Asia/Jakarta of `date`, in UTC microseconds.
int64_t JakartaDayStartMicros(CivilDate date);
// `seconds_of_day` seconds after 00:00 of `date` in a zone `offset_seconds` east of UTC (may
// pass midnight), in UTC microseconds.
int64_t UtcMicros(CivilDate date, int64_t seconds_of_day, int64_t offset_seconds);
// `seconds_of_day` seconds after 00:00 Asia/Jakarta of `date` (may pass midnight), in UTC
// microseconds.
int64_t JakartaTimeMicros(CivilDate date, int64_t seconds_of_day);
// The minute of the Asia/Jakarta day, 0-1439.
int JakartaMinuteOfDay(int64_t utc_micros);
// "2026-11-22T10:15:00+07:00": ISO 8601 to the second in Asia/Jakarta with its offset (SNAP's
// X-TIMESTAMP, pain.001's CreDtTm).
std::string JakartaTimestamp(int64_t utc_micros);

}  // namespace malpro
