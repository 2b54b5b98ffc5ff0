// Assertions for programmer errors. They stay on in release builds: a broken invariant in a
// ledger must stop the process rather than write something wrong.
#pragma once

#include <cstdio>
#include <cstdlib>

#define MALPRO_ASSERT(condition)                                                             \
  do {                                                                                       \
    if (!(condition)) [[unlikely]] {                                                         \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)
