#include "engine/envelope.h"

#include <gtest/gtest.h>

#include "tests/engine/worked_example.h"

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

TEST(EnvelopeTest, UnknownFormatVersionIsCorruptionNamingTheVersionAndSequence) {
  std::string bytes = EncodeEnvelope(SampleEvent());
  bytes[0] = 9;
  const Status status = DecodeEnvelope(bytes).status();
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("format version 9"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("sequence 42"), std::string::npos) << status.ToString();
  EXPECT_FALSE(IsKnownEnvelopeVersion(9));
  EXPECT_FALSE(IsWellFormedCanonical(*CanonicalPart(bytes)));
}

TEST(EnvelopeTest, ADecodedEventCarriesItsFormatVersion) {
  Event event = SampleEvent();
  event.format_version = 0;  // overwritten by decoding
  Result<Event> decoded = DecodeEnvelope(EncodeEnvelope(SampleEvent()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->format_version, envelope_format_version_1);
  ASSERT_TRUE(DecodeEnvelopeInto(EncodeEnvelope(SampleEvent()), &event).ok());
  EXPECT_EQ(event.format_version, envelope_format_version_1);
}

TEST(EnvelopeTest, TheLogWritesTheCurrentVersionInByteZero) {
  std::string canonical;
  AppendCanonical(ViewOf(SampleEvent()), &canonical);
  EXPECT_EQ(uint8_t(canonical[0]), envelope_format_version_current);
  EXPECT_EQ(canonical, EncodeCanonical(SampleEvent()));
  EXPECT_TRUE(IsKnownEnvelopeVersion(envelope_format_version_current));
}

// docs/event-log-format.md, section 3, is a test vector: the example's event encodes to the
// bytes its table and block print, and hashes to the hash it prints.
TEST(EnvelopeTest, TheDocumentedWorkedExampleEncodesToTheBytesAndHashTheDocumentPrints) {
  if (testing::source_dir.empty()) GTEST_SKIP() << "built without MALPRO_SOURCE_DIR";
  const testing::WorkedExample example = testing::ReadWorkedExample();
  Event event = testing::WorkedExampleEvent();
  const std::string canonical = EncodeCanonical(event);
  ASSERT_EQ(example.fields.size(), 9u) << "the example's table of offsets and bytes";
  for (const testing::WorkedExample::Field& field : example.fields) {
    EXPECT_EQ(BytesToHex(std::string_view(canonical).substr(field.offset, field.hex.size() / 2)),
              field.hex)
        << field.name << " at offset " << field.offset;
  }
  const testing::WorkedExample::Field& last = example.fields.back();
  EXPECT_EQ(last.offset + last.hex.size() / 2, canonical.size()) << "the table covers every byte";
  EXPECT_EQ(example.canonical_bytes, canonical.size());
  EXPECT_EQ(example.canonical_hex, BytesToHex(canonical));
  event.previous_hash = zero_hash;
  event.hash = ComputeEventHash(zero_hash, canonical);
  EXPECT_EQ(example.hash_hex, HashToHex(event.hash));
  const std::string stored = EncodeEnvelope(event);
  EXPECT_EQ(example.stored_bytes, stored.size());
  EXPECT_EQ(BytesToHex(stored), example.canonical_hex + std::string(64, '0') + example.hash_hex);
  EXPECT_EQ(example.stored_key_hex, BytesToHex(SequenceKey(1)));
  EXPECT_EQ(example.chain_head_prefix_hex + example.hash_hex,
            BytesToHex(EncodeChainHeadRecord(1, event.hash)));
  EXPECT_EQ(example.index_key_hex, BytesToHex(StreamIndexKey(event.stream_id, 1)));
  EXPECT_EQ(example.index_value_hex, BytesToHex(SequenceKey(1)));
  Result<Event> decoded = DecodeEnvelope(stored);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, event);
}

TEST(LogFormatTest, RecordsHaveTheDocumentedSizesAndRoundTrip) {
  uint64_t sequence = 0;
  Hash hash{};
  const std::string head = EncodeChainHeadRecord(7, Sha256("seven"));
  EXPECT_EQ(head.size(), 40u);
  ASSERT_TRUE(DecodeChainHeadRecord(head, &sequence, &hash));
  EXPECT_EQ(sequence, 7u);
  EXPECT_EQ(hash, Sha256("seven"));
  EXPECT_FALSE(DecodeChainHeadRecord(head + "x", &sequence, &hash));

  const IdempotencyRecord record{Sha256("request"), 12, 3, -4};
  const std::string encoded = EncodeIdempotencyRecord(record);
  EXPECT_EQ(encoded.size(), 53u);
  EXPECT_EQ(uint8_t(encoded[0]), 1);
  std::optional<IdempotencyRecord> decoded = DecodeIdempotencyRecord(encoded);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->request_digest, record.request_digest);
  EXPECT_EQ(decoded->first_sequence, 12u);
  EXPECT_EQ(decoded->event_count, 3u);
  EXPECT_EQ(decoded->recorded_at_us, -4);
  std::string other_version = encoded;
  other_version[0] = 2;
  EXPECT_FALSE(DecodeIdempotencyRecord(other_version).has_value());

  uint64_t version = 0;
  const std::string key = StreamIndexKey("order-1", 5);
  EXPECT_EQ(key, std::string("order-1\0\0\0\0\0\0\0\0\5", 16));
  ASSERT_TRUE(DecodeStreamIndexEntry(key, SequenceKey(9), StreamIndexPrefix("order-1").size(),
                                     &version, &sequence));
  EXPECT_EQ(version, 5u);
  EXPECT_EQ(sequence, 9u);
  EXPECT_FALSE(DecodeStreamIndexEntry(key, "short", 8, &version, &sequence));
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
