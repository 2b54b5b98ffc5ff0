#include "engine/envelope.h"

#include <gtest/gtest.h>

namespace malpro {
namespace {

Event SampleEvent() {
  Event event;
  event.sequence = 42;
  event.stream_id = "order-01hx";
  event.stream_version = 3;
  event.type = "order.placed";
  event.recorded_at_us = 1763769600123456;
  event.actor = "asn:198507122010011003";
  event.idempotency_key = "key-1";
  event.payload = R"({"total":"150000.00"})";
  event.previous_hash = Sha256("previous");
  event.hash = ComputeEventHash(event.previous_hash, EncodeCanonical(event));
  return event;
}

TEST(EnvelopeTest, RoundTripPreservesEveryField) {
  const Event event = SampleEvent();
  Result<Event> decoded = DecodeEnvelope(EncodeEnvelope(event));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, event);
}

TEST(EnvelopeTest, NegativeTimeAndEmptyOptionalFieldsRoundTrip) {
  Event event = SampleEvent();
  event.recorded_at_us = -5;
  event.idempotency_key.clear();
  Result<Event> decoded = DecodeEnvelope(EncodeEnvelope(event));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->recorded_at_us, -5);
  EXPECT_EQ(decoded->idempotency_key, "");
}

TEST(EnvelopeTest, TruncatedEnvelopeIsCorruption) {
  const std::string bytes = EncodeEnvelope(SampleEvent());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{20}, bytes.size() - 1}) {
    Result<Event> decoded = DecodeEnvelope(std::string_view(bytes).substr(0, cut));
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
}

TEST(EnvelopeTest, TrailingBytesAreCorruption) {
  Result<Event> decoded = DecodeEnvelope(EncodeEnvelope(SampleEvent()) + "x");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
}

TEST(EnvelopeTest, UnknownFormatVersionIsCorruption) {
  std::string bytes = EncodeEnvelope(SampleEvent());
  bytes[0] = 9;
  EXPECT_EQ(DecodeEnvelope(bytes).status().code(), StatusCode::kCorruption);
}

TEST(EnvelopeTest, CanonicalBytesExcludeTheHashes) {
  const Event event = SampleEvent();
  const std::string stored = EncodeEnvelope(event);
  Result<std::string_view> canonical = CanonicalPart(stored);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*canonical, EncodeCanonical(event));
  EXPECT_EQ(stored.size(), canonical->size() + 2 * hash_bytes);
}

TEST(EnvelopeTest, HashCoversEveryCanonicalField) {
  const Event base = SampleEvent();
  const Hash base_hash = ComputeEventHash(base.previous_hash, EncodeCanonical(base));
  auto hash_of = [](const Event& event) {
    return ComputeEventHash(event.previous_hash, EncodeCanonical(event));
  };
  Event changed = base;
  changed.sequence++;
  EXPECT_NE(hash_of(changed), base_hash);
  changed = base;
  changed.stream_version++;
  EXPECT_NE(hash_of(changed), base_hash);
  changed = base;
  changed.recorded_at_us++;
  EXPECT_NE(hash_of(changed), base_hash);
  changed = base;
  changed.actor = "asn:198507122010011004";
  EXPECT_NE(hash_of(changed), base_hash);
  changed = base;
  changed.payload = R"({"total":"150001.00"})";
  EXPECT_NE(hash_of(changed), base_hash);
  changed = base;
  changed.previous_hash[0] ^= 1;
  EXPECT_NE(hash_of(changed), base_hash);
}

TEST(EnvelopeTest, LengthPrefixesKeepFieldBoundariesUnambiguous) {
  Event first = SampleEvent();
  Event second = SampleEvent();
  first.stream_id = "ab";
  first.type = "c";
  second.stream_id = "a";
  second.type = "bc";
  EXPECT_NE(EncodeCanonical(first), EncodeCanonical(second));
}

TEST(EnvelopeTest, SequenceKeyIsBigEndianAndOrdered) {
  EXPECT_EQ(SequenceKey(1), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_LT(SequenceKey(255), SequenceKey(256));
  uint64_t parsed = 0;
  ASSERT_TRUE(ParseSequenceKey(SequenceKey(0x0102030405060708), &parsed));
  EXPECT_EQ(parsed, 0x0102030405060708u);
  EXPECT_FALSE(ParseSequenceKey("short", &parsed));
}

TEST(HashTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(HashToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("ab", "c"), Sha256("abc"));
  Hash parsed;
  ASSERT_TRUE(HashFromHex(HashToHex(Sha256("abc")), &parsed));
  EXPECT_EQ(parsed, Sha256("abc"));
  EXPECT_FALSE(HashFromHex("zz", &parsed));
}

}  // namespace
}  // namespace malpro
