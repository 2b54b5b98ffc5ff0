// The counts a reconciliation run reports, checked in one call (tests/files, tests/bank).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>

#include "engine/ledger.h"

namespace malpro::testing {

// Expects the counts of `run` (the statement's booked entries, then each outcome), and the
// number of discrepancies it lists, which is fatal (callers go on to read them): call through
// ASSERT_NO_FATAL_FAILURE.
inline void ExpectReconciliationCounts(const RecordReconciliation& run, int64_t entries,
                                       int64_t matched, int64_t missing_in_ledger,
                                       int64_t missing_at_bank, int64_t amount_mismatch,
                                       size_t discrepancies) {
  EXPECT_EQ(run.entries, entries);
  EXPECT_EQ(run.matched, matched);
  EXPECT_EQ(run.missing_in_ledger, missing_in_ledger);
  EXPECT_EQ(run.missing_at_bank, missing_at_bank);
  EXPECT_EQ(run.amount_mismatch, amount_mismatch);
  ASSERT_EQ(run.discrepancies.size(), discrepancies);
}

}  // namespace malpro::testing
