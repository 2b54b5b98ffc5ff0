// The world's table of streams: every entry found under its own key and no other, entries
// staying where they are while the table grows.
#include "projections/stream_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace malpro {
namespace {

TEST(StreamMapTest, FindsEveryEntryUnderItsKeyAcrossGrowthAndEntriesStayPut) {
  StreamMap<int> map;
  EXPECT_EQ(map.Find("order-1"), nullptr);  // empty: no table yet
  std::vector<int*> where;
  constexpr int count = 50'000;  // several doublings of the table
  for (int i = 0; i < count; ++i) {
    // Keys of the lengths stream ids have, short and long (not kept inline by std::string).
    const std::string key = (i % 2 == 0 ? "order-" : "asn-19850712201001") + std::to_string(i);
    ASSERT_EQ(map.Find(key), nullptr) << key;
    where.push_back(&map.Insert(key, i));
  }
  EXPECT_EQ(map.size(), static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string key = (i % 2 == 0 ? "order-" : "asn-19850712201001") + std::to_string(i);
    int* found = map.Find(key);
    ASSERT_EQ(found, where[i]) << key;  // the same place it was inserted at
    EXPECT_EQ(*found, i);
  }
  EXPECT_EQ(map.Find("order-"), nullptr);
  EXPECT_EQ(map.Find("order-2 "), nullptr);
  EXPECT_EQ(map.Find(std::string("order-2\0", 8)), nullptr);
  EXPECT_EQ(map.Find("order-1"), nullptr);              // 1 is under the other prefix
  EXPECT_EQ(map.Find("asn-198507122010010"), nullptr);  // and 0 under this one
  const StreamMap<int>& constant = map;
  ASSERT_NE(constant.Find("order-2"), nullptr);
  EXPECT_EQ(*constant.Find("order-2"), 2);
}

}  // namespace
}  // namespace malpro
