#include "engine/civil_time.h"

#include <chrono>
#include <climits>
#include <cstdio>

namespace malpro {
namespace {

// Seconds since 1970 in Asia/Jakarta's wall time, split into a day and a second of that day.
struct LocalTime {
  int64_t days = 0;
  int64_t second_of_day = 0;
};

LocalTime ToLocal(int64_t utc_micros) {
  const int64_t local_seconds = utc_micros / micros_per_second + jakarta_offset_seconds;
  LocalTime local{local_seconds / seconds_per_day, local_seconds % seconds_per_day};
  if (local.second_of_day < 0) {
    local.second_of_day += seconds_per_day;
    --local.days;
  }
  return local;
}

}  // namespace

int64_t WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CivilDate JakartaDate(int64_t utc_micros) {
  const int64_t days = ToLocal(utc_micros).days;
  // Events are folded in time order: most calls ask for the day the call before asked for.
  thread_local int64_t last_days = INT64_MIN;
  thread_local CivilDate last_date;
  if (days != last_days) {
    last_date = CivilFromDays(days);
    last_days = days;
  }
  return last_date;
}

int64_t JakartaDayStartMicros(CivilDate date) { return JakartaTimeMicros(date, 0); }

int64_t UtcMicros(CivilDate date, int64_t seconds_of_day, int64_t offset_seconds) {
  return (DaysFromCivil(date) * seconds_per_day + seconds_of_day - offset_seconds) *
         micros_per_second;
}

int64_t JakartaTimeMicros(CivilDate date, int64_t seconds_of_day) {
  return UtcMicros(date, seconds_of_day, jakarta_offset_seconds);
}

int JakartaMinuteOfDay(int64_t utc_micros) {
  return static_cast<int>(ToLocal(utc_micros).second_of_day / 60);
}

std::string JakartaTimestamp(int64_t utc_micros) {
  const LocalTime local = ToLocal(utc_micros);
  const CivilDate date = CivilFromDays(local.days);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", date.year, date.month,
                date.day, static_cast<int>(local.second_of_day / 3600),
                static_cast<int>(local.second_of_day / 60 % 60),
                static_cast<int>(local.second_of_day % 60));
  return text;
}

}  // namespace malpro
