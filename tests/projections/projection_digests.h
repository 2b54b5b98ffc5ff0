// The digests of every read model a projector stores, and their comparison: the read model
// tests' way to say two projectors stored the same bytes.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "projections/projector.h"

namespace malpro {

// The projector's digests; none (and a failure) when it cannot compute them.
inline std::vector<ProjectionDigest> DigestsOf(const Projector& projector) {
  Result<std::vector<ProjectionDigest>> digests = projector.Digests();
  EXPECT_TRUE(digests.ok()) << digests.status().ToString();
  return digests.ok() ? *digests : std::vector<ProjectionDigest>{};
}

// The same read models at the same sequence, with the same rows and bytes.
inline void ExpectSameDigests(const std::vector<ProjectionDigest>& left,
                              const std::vector<ProjectionDigest>& right) {
  ASSERT_EQ(left.size(), right.size());
  for (size_t i = 0; i < left.size(); ++i) {
    EXPECT_EQ(left[i].name, right[i].name);
    EXPECT_EQ(left[i].sequence, right[i].sequence) << left[i].name;
    EXPECT_EQ(left[i].rows, right[i].rows) << left[i].name;
    EXPECT_EQ(left[i].sha256, right[i].sha256) << left[i].name;
  }
}

}  // namespace malpro
