// The JSON writer: what it escapes, what it copies as is, and how it writes integers.
#include "engine/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "engine/envelope.h"
#include "tests/engine/worked_example.h"

namespace malpro {
namespace {

std::string Quoted(std::string_view value) {
  std::string out;
  AppendJsonString(&out, value);
  return out;
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharactersOnly) {
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("Warung Bu Sri"), R"("Warung Bu Sri")");
  EXPECT_EQ(Quoted(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(Quoted(R"(C:\path)"), R"("C:\\path")");
  EXPECT_EQ(Quoted("a\nb\rc\td\be\ff"), R"("a\nb\rc\td\be\ff")");
  EXPECT_EQ(Quoted(std::string("x\x01y\x1fz\x00", 6)), R"("x\u0001y\u001fz\u0000")");
  // Escapes at both ends and next to each other, and bytes from 0x20 up copied as they are.
  EXPECT_EQ(Quoted("\"\\\""), R"("\"\\\"")");
  EXPECT_EQ(Quoted("Kedungkandang \xc3\xa9 ~\x7f"), "\"Kedungkandang \xc3\xa9 ~\x7f\"");
}

// Checks eight bytes at a time: every byte value, at every position within and across the
// words checked together, is escaped exactly as one byte at a time would.
TEST(JsonWriterTest, EscapesEveryByteWhereverItLiesInALongString) {
  auto one_at_a_time = [](std::string_view value) {
    std::string out = "\"";
    for (const char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (byte < 0x20) {
        out += Quoted(std::string(1, c)).substr(1, std::string::npos);
        out.pop_back();
      } else {
        out += c;
      }
    }
    return out + "\"";
  };
  for (int byte = 0; byte < 256; ++byte) {
    for (size_t length : {1, 7, 8, 9, 16, 23, 40}) {
      for (size_t at = 0; at < length; ++at) {
        std::string value(length, 'a');
        value[at] = static_cast<char>(byte);
        ASSERT_EQ(Quoted(value), one_at_a_time(value)) << "byte " << byte << " at " << at;
      }
    }
  }
  EXPECT_EQ(Quoted("0123456\"89abcdef\n"), R"("0123456\"89abcdef\n")");
  EXPECT_EQ(Quoted(std::string(17, '\x1f')).size(), 2 + 17 * 6u);
}

TEST(JsonWriterTest, WritesIntegersOverTheirWholeRange) {
  JsonWriter writer;
  writer.BeginArray()
      .Int(0)
      .Int(-5)
      .Int(1234567890123)
      .Int(std::numeric_limits<int64_t>::max())
      .Int(std::numeric_limits<int64_t>::min())
      .EndArray();
  EXPECT_EQ(writer.Take(), "[0,-5,1234567890123,9223372036854775807,-9223372036854775808]");
}

TEST(JsonWriterTest, ObjectsSeparateFieldsAndNestRaw) {
  JsonWriter writer;
  writer.BeginObject().Field("a", "x").Field("b", int64_t{2}).Key("c").Raw(R"({"d":true})");
  writer.Field("e", false).EndObject();
  EXPECT_EQ(writer.Take(), R"({"a":"x","b":2,"c":{"d":true},"e":false})");
}

// The repeated key found in `json`, or "" when it has none.
std::string RepeatedKey(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json.data(), json.size()).get(root), simdjson::SUCCESS) << json;
  std::optional<std::string_view> repeated = FindDuplicateKey(root);
  return repeated ? std::string(*repeated) : "";
}

TEST(JsonDuplicateKeyTest, FindsAKeyRepeatedInAnyObjectAtAnyDepth) {
  EXPECT_EQ(RepeatedKey(R"({"payment_method":"COD","lines":[],"payment_method":"CASHLESS"})"),
            "payment_method");
  EXPECT_EQ(RepeatedKey(R"({"lines":[{"product_id":"a","quantity":1,"quantity":2}]})"), "quantity");
  EXPECT_EQ(RepeatedKey(R"([1,{"a":{"b":[{"c":1,"c":1}]}}])"), "c");
  // Keys are compared as decoded text: an escaped spelling is the same key.
  EXPECT_EQ(RepeatedKey(R"({"amount":"1.00","\u0061mount":"2.00"})"), "amount");
}

TEST(JsonDuplicateKeyTest, DistinctKeysAndEqualKeysInSeparateObjectsPass) {
  EXPECT_EQ(RepeatedKey("{}"), "");
  EXPECT_EQ(RepeatedKey("[]"), "");
  EXPECT_EQ(RepeatedKey(R"("text")"), "");
  EXPECT_EQ(RepeatedKey(R"({"a":1,"A":2,"a ":3})"), "");
  // Siblings and nested objects may reuse a key: only one object's own keys must differ.
  EXPECT_EQ(RepeatedKey(R"({"lines":[{"product_id":"a"},{"product_id":"b"}],"x":{"lines":1}})"),
            "");
}

// Objects past the pairwise limit are checked through their sorted keys: a repeat at either
// end of a large object is found, and a large object without one passes.
TEST(JsonDuplicateKeyTest, LargeObjectsAreCheckedWhole) {
  for (size_t keys : {json_small_object_keys_max, json_small_object_keys_max + 1, size_t{200}}) {
    std::string distinct = "{";
    for (size_t i = 0; i < keys; ++i) {
      distinct += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":" + std::to_string(i);
    }
    EXPECT_EQ(RepeatedKey(distinct + "}"), "") << keys;
    EXPECT_EQ(RepeatedKey(distinct + ",\"k0\":0}"), "k0") << keys;
    EXPECT_EQ(RepeatedKey(distinct + ",\"k" + std::to_string(keys - 1) + "\":0}"),
              "k" + std::to_string(keys - 1))
        << keys;
    EXPECT_EQ(RepeatedKey("{\"inner\":" + distinct + ",\"k1\":[]}}"), "k1") << keys;
  }
}

// A body whose parse failed on a number names the field that holds it.
TEST(JsonUnreadableNumberTest, NamesTheFieldOfANumberBeyond64Bits) {
  EXPECT_EQ(FindUnreadableNumber(R"({"amount":123456789012345678901234567890})"), "amount");
  EXPECT_EQ(
      FindUnreadableNumber(
          R"({"lines":[{"quantity":1},{"product_id":"a,b]","quantity":99999999999999999999}]})"),
      "lines[1].quantity");
  EXPECT_EQ(FindUnreadableNumber(R"({"a":{"b":[1,2,1e999]}})"), "a.b[2]");
  EXPECT_EQ(FindUnreadableNumber(R"({"a":-9223372036854775808,"b":18446744073709551615})"),
            std::nullopt);
  // The parser refuses exactly these documents with NUMBER_ERROR.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string body = R"({"amount":123456789012345678901234567890})";
  EXPECT_EQ(parser.parse(body).get(root), simdjson::NUMBER_ERROR);
}

// The JSON form of an event (docs/event-log-format.md, section 9), as `malpro audit export`
// writes a line and the relay a Kafka record.

std::string ExportLine(const Event& event) {
  JsonWriter writer;
  WriteEventJson(writer, event, PayloadForm::kString);
  return writer.Take();
}

Event WorkedExampleWithHashes() {
  Event event = testing::WorkedExampleEvent();
  event.previous_hash = zero_hash;
  event.hash = ComputeEventHash(zero_hash, EncodeCanonical(event));
  return event;
}

TEST(EventJsonTest, TheDocumentedLineIsWhatTheExportWritesForTheWorkedExample) {
  if (testing::source_dir.empty()) GTEST_SKIP() << "built without MALPRO_SOURCE_DIR";
  const std::string documented = testing::ReadJsonFormExample();
  ASSERT_FALSE(documented.empty());
  EXPECT_EQ(ExportLine(WorkedExampleWithHashes()), documented);
  Result<Event> parsed = ParseEventJson(documented);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, WorkedExampleWithHashes());
}

TEST(EventJsonTest, TheFormatVersionTravelsInTheExportButNotInTheEmbeddedForm) {
  const Event event = WorkedExampleWithHashes();
  EXPECT_TRUE(ExportLine(event).starts_with(R"({"format_version":1,"sequence":1,)"));
  JsonWriter embedded;
  WriteEventJson(embedded, event, PayloadForm::kEmbedded);
  EXPECT_EQ(embedded.Take().find("format_version"), std::string::npos);
}

TEST(EventJsonTest, ALineWithoutTheFormatVersionIsVersionOne) {
  std::string line = ExportLine(WorkedExampleWithHashes());
  const std::string member = R"("format_version":1,)";
  ASSERT_EQ(line.find(member), 1u);
  line.erase(1, member.size());
  Result<Event> parsed = ParseEventJson(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format_version, envelope_format_version_1);
  EXPECT_EQ(*parsed, WorkedExampleWithHashes());
}

TEST(EventJsonTest, AnUnknownFormatVersionIsRefusedNamingTheField) {
  std::string line = ExportLine(WorkedExampleWithHashes());
  for (const std::string version : {"9", "256", "-1"}) {
    std::string changed = line;
    changed.replace(changed.find(":1,"), 3, ":" + version + ",");
    Result<Event> parsed = ParseEventJson(changed);
    ASSERT_FALSE(parsed.ok()) << version;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << version;
    EXPECT_EQ(parsed.status().field(), "format_version") << version;
  }
}

}  // namespace
}  // namespace malpro
