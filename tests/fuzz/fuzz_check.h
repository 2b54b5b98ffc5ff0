// What the fuzz targets share: checks that abort on a broken property (so libFuzzer keeps the
// input as a crash and the corpus test fails on it), and small helpers to cut an input into
// parts.
//
// Every target is a file tests/fuzz/<name>_fuzz.cc defining LLVMFuzzerTestOneInput. The fuzz
// build (-DMALPRO_FUZZ=ON, clang) links each with libFuzzer; the ordinary build compiles them
// all into fuzz_corpus_tests, which runs every file of tests/fuzz/corpus/<name>/ and
// tests/fuzz/regressions/<name>/ through them (docs/RUNBOOK.md, "Fuzzing").
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/error_codes.h"
#include "engine/status.h"

// A property of the code under test that failed for this input: not an assert of the target's
// own logic, so it is kept on in every build and says what broke.
#define FUZZ_CHECK(condition)                                                                    \
  do {                                                                                           \
    if (!(condition)) {                                                                          \
      std::fprintf(stderr, "%s:%d: fuzz property broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (false)

// The same with a detail (e.g. the status or the values compared) printed first.
#define FUZZ_CHECK_DETAIL(condition, detail)                                              \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      std::fprintf(stderr, "%s:%d: fuzz property broken: %s\n  %s\n", __FILE__, __LINE__, \
                   #condition, std::string(detail).c_str());                              \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)

namespace malpro::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// The whole of a target whose properties read the input as text: `check` on it. The value
// LLVMFuzzerTestOneInput returns (0: keep the input in the corpus if it is new).
inline int CheckText(const uint8_t* data, size_t size, void (*check)(std::string_view text)) {
  check(AsText(data, size));
  return 0;
}

inline bool IsKnownErrorCode(std::string_view code) {
  for (std::string_view known : all_error_codes) {
    if (code == known) return true;
  }
  return false;
}

// A refusal must say what went wrong to a machine, with a code of the published list
// (engine/error_codes.h), and to a person.
inline void CheckRefusal(const Status& status) {
  FUZZ_CHECK(!status.ok());
  FUZZ_CHECK_DETAIL(IsKnownErrorCode(status.error_code()), status.ToString());
  FUZZ_CHECK_DETAIL(!status.message().empty(), status.ToString());
}

// Takes the text up to the next '\n' (the whole rest when there is none) off `text`, without
// a trailing '\r': inputs made of header lines and a body are written as text files.
inline std::string_view TakeLine(std::string_view* text) {
  const size_t end = text->find('\n');
  std::string_view line = text->substr(0, end);
  text->remove_prefix(end == std::string_view::npos ? text->size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace malpro::fuzz
