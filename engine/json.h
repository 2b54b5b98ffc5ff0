// Minified JSON out (JsonWriter) and typed access to parsed JSON in (JsonObject, over
// simdjson's DOM). Event payloads are written with JsonWriter and folded with JsonObject.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace malpro {

// Builds minified JSON. Keys and values are written in call order; the caller keeps the
// structure balanced (asserted when the text is taken).
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Writes pre-formed JSON as a value, e.g. a nested payload.
  JsonWriter& Raw(std::string_view json);

  // Shorthands for "key":value.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const std::string& value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

  // "key":[{...},...]: an object for each of `items`, holding what `write_fields(item)` writes
  // into it.
  template <typename Items, typename WriteFields>
  JsonWriter& ObjectArray(std::string_view key, const Items& items, WriteFields write_fields) {
    Key(key).BeginArray();
    for (const auto& item : items) {
      BeginObject();
      write_fields(item);
      EndObject();
    }
    return EndArray();
  }

  // The text; requires every object and array to be closed.
  std::string Take();
  // The text without taking it, and a fresh start that keeps the buffer: for writing many
  // small documents with one writer.
  std::string_view View() const;
  void Clear();

 private:
  void BeforeValue();

  std::string out_;
  int depth_ = 0;
  bool need_comma_ = false;
};

// Appends `value` as a JSON string literal (with quotes), escaping as RFC 8259 requires.
void AppendJsonString(std::string* out, std::string_view value);

// Read access to a parsed JSON object with errors that name the field. `prefix` is prepended
// to field names in errors, e.g. "lines[2].".
class JsonObject {
 public:
  JsonObject(simdjson::dom::object object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  bool Has(std::string_view key) const;
  Result<std::string> String(std::string_view key) const;
  std::optional<std::string> OptionalString(std::string_view key) const;
  Result<int64_t> Int(std::string_view key) const;
  Result<bool> Bool(std::string_view key) const;
  Result<simdjson::dom::array> Array(std::string_view key) const;
  Result<JsonObject> Object(std::string_view key) const;
  std::string FieldName(std::string_view key) const { return prefix_ + std::string(key); }
  simdjson::dom::object raw() const { return object_; }

 private:
  Status Missing(std::string_view key) const;
  Status WrongType(std::string_view key, std::string_view type) const;

  simdjson::dom::object object_;
  std::string prefix_;
};

struct Event;

// How an event's payload appears in its JSON form.
enum class PayloadForm {
  kEmbedded,  // as a JSON value, for people and dashboards
  kString,    // as a JSON string of the exact stored bytes, for independent verification
};

// Writes `event` as a JSON object: format_version (kString only: it says how to rebuild the
// canonical bytes), sequence, stream_id, stream_version, type, recorded_at_us, actor,
// idempotency_key (omitted when empty with kEmbedded), payload, previous_hash, hash. The
// kString form is specified in docs/event-log-format.md, section 9.
void WriteEventJson(JsonWriter& writer, const Event& event, PayloadForm form);

// The inverse of WriteEventJson with PayloadForm::kString: an event exactly as it was stored
// (the hashes are read, not computed). Without format_version, version 1 (the form before the
// field existed). InvalidArgument naming the field on anything else, an unknown version too.
Result<Event> ParseEventJson(std::string_view json);

// A key that appears twice within one object anywhere in `element` (keys compared
// after unescaping, so "a" and "\u0061" are the same key), or nullopt when every object's keys
// are distinct. RFC 8259 leaves the meaning of a repeated key open and simdjson's DOM keeps
// every copy while at_key answers the first, so a body such as
// {"payment_method":"COD",...,"payment_method":"CASHLESS"} means different things to
// different readers: the edges (HTTP bodies, Kafka commands) refuse it. The view points into
// the parser's document and is valid until the parser parses again. Cost: one pass over the
// document; objects of up to json_small_object_keys_max keys are checked pairwise, larger
// ones through a sorted copy of their keys.
std::optional<std::string_view> FindDuplicateKey(simdjson::dom::element element);
// The path of the first number in `json` that simdjson cannot read (an integer beyond 64 bits,
// a double beyond its range), such as "lines[0].quantity" or "amount"; nullopt when there is
// none. For naming the field after a parse failed with NUMBER_ERROR: the rest of the text is
// expected to be JSON, and a text that is not gives nullopt or a best guess.
std::optional<std::string> FindUnreadableNumber(std::string_view json);
// Objects this small are checked for repeated keys pairwise (no allocation): request bodies
// and their nested objects have a handful of keys.
inline constexpr size_t json_small_object_keys_max = 16;

// Parses `json` as an object with a parser owned by the caller (one per thread).
Result<JsonObject> ParseJsonObject(simdjson::dom::parser& parser, std::string_view json,
                                   std::string_view what);

}  // namespace malpro
