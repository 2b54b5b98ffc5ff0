#include "engine/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <vector>

#include "engine/assert.h"
#include "engine/envelope.h"
#include "engine/error_codes.h"

namespace malpro {

namespace {

// Whether any of the 8 bytes of `word` needs an escape: below 0x20, a quote or a backslash.
// (Bytes of 0x80 and above, UTF-8, never do.)
bool AnyNeedsEscape(uint64_t word) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  const auto any_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
  const uint64_t below_space = (word - ones * 0x20) & ~word & highs;
  return (below_space | any_zero(word ^ (ones * '"')) | any_zero(word ^ (ones * '\\'))) != 0;
}

// A key of `object` that it holds twice, or nullopt.
std::optional<std::string_view> RepeatedKeyOf(simdjson::dom::object object) {
  std::array<std::string_view, json_small_object_keys_max> small;
  size_t count = 0;
  std::vector<std::string_view> large;  // only for objects past the small limit
  for (simdjson::dom::key_value_pair field : object) {
    if (count < small.size()) {
      for (size_t i = 0; i < count; ++i) {
        if (small[i] == field.key) return field.key;
      }
      small[count++] = field.key;
      continue;
    }
    if (large.empty()) large.assign(small.begin(), small.end());
    large.push_back(field.key);
  }
  if (large.empty()) return std::nullopt;
  std::sort(large.begin(), large.end());
  const auto repeated = std::adjacent_find(large.begin(), large.end());
  if (repeated == large.end()) return std::nullopt;
  return *repeated;
}

}  // namespace

std::optional<std::string_view> FindDuplicateKey(simdjson::dom::element element) {
  // Scalars hold no keys: only objects and arrays are walked.
  const auto nested = [](simdjson::dom::element value) {
    const simdjson::dom::element_type type = value.type();
    return type == simdjson::dom::element_type::OBJECT ||
           type == simdjson::dom::element_type::ARRAY;
  };
  simdjson::dom::object object;
  if (element.get(object) == simdjson::SUCCESS) {
    if (std::optional<std::string_view> repeated = RepeatedKeyOf(object)) return repeated;
    for (simdjson::dom::key_value_pair field : object) {
      if (!nested(field.value)) continue;
      if (std::optional<std::string_view> repeated = FindDuplicateKey(field.value)) {
        return repeated;
      }
    }
    return std::nullopt;
  }
  simdjson::dom::array array;
  if (element.get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : array) {
      if (!nested(item)) continue;
      if (std::optional<std::string_view> repeated = FindDuplicateKey(item)) return repeated;
    }
  }
  return std::nullopt;
}

namespace {

// Whether `text` is a number in RFC 8259's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == text.size();
}

}  // namespace

std::optional<std::string> FindUnreadableNumber(std::string_view json) {
  // One level of the path: an object's member (its last key) or an array's item (its index).
  struct Level {
    bool array = false;
    std::string key;
    size_t index = 0;
  };
  std::vector<Level> path;
  const auto path_text = [&path] {
    std::string text;
    for (const Level& level : path) {
      if (level.array) {
        text.append("[").append(std::to_string(level.index)).append("]");
      } else {
        if (!text.empty()) text += ".";
        text += level.key;
      }
    }
    return text;
  };
  simdjson::dom::parser parser;
  bool expect_key = false;
  size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '{' || c == '[') {
      path.push_back(Level{c == '[', std::string(), 0});
      expect_key = c == '{';
      ++i;
    } else if (c == '}' || c == ']') {
      if (!path.empty()) path.pop_back();
      ++i;
    } else if (c == ',') {
      if (!path.empty() && path.back().array) ++path.back().index;
      expect_key = !path.empty() && !path.back().array;
      ++i;
    } else if (c == '"') {
      size_t end = i + 1;
      while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
      if (expect_key && !path.empty())
        path.back().key = std::string(json.substr(i + 1, end - i - 1));
      expect_key = false;
      i = end + 1;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i;
      while (end < json.size() &&
             std::string_view("+-.0123456789eE").find(json[end]) != std::string_view::npos) {
        ++end;
      }
      simdjson::dom::element number;
      // Only a number written as JSON writes numbers is out of range; "03" or "1." is not JSON.
      if (IsJsonNumber(json.substr(i, end - i)) &&
          parser.parse(json.data() + i, end - i, true).get(number) != simdjson::SUCCESS) {
        return path_text();
      }
      i = end;
    } else {
      ++i;  // ':', whitespace, and the letters of true, false and null
    }
  }
  return std::nullopt;
}

void AppendJsonString(std::string* out, std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  out->push_back('"');
  // Characters that need no escape are copied in runs; eight at a time are checked at once.
  size_t run = 0;
  size_t i = 0;
  while (i < value.size()) {
    if (i + sizeof(uint64_t) <= value.size()) {
      uint64_t word;
      std::memcpy(&word, value.data() + i, sizeof word);
      if (!AnyNeedsEscape(word)) {
        i += sizeof word;
        continue;
      }
    }
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out->append(value.data() + run, i - run);
    run = i + 1;
    ++i;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(hex[(c >> 4) & 0x0f]);
        out->push_back(hex[c & 0x0f]);
    }
  }
  out->append(value.data() + run, value.size() - run);
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  ++depth_;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  MALPRO_ASSERT(depth_ > 0);
  out_.push_back('}');
  --depth_;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  ++depth_;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  MALPRO_ASSERT(depth_ > 0);
  out_.push_back(']');
  --depth_;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(&out_, key);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(&out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  char digits[24];
  const auto written = std::to_chars(digits, digits + sizeof(digits), value);
  out_.append(digits, written.ptr);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_.append(json);
  return *this;
}

std::string JsonWriter::Take() {
  MALPRO_ASSERT(depth_ == 0);
  need_comma_ = false;
  return std::move(out_);
}

std::string_view JsonWriter::View() const {
  MALPRO_ASSERT(depth_ == 0);
  return out_;
}

void JsonWriter::Clear() {
  out_.clear();
  depth_ = 0;
  need_comma_ = false;
}

Status JsonObject::Missing(std::string_view key) const {
  const std::string field = FieldName(key);
  return Status::InvalidArgument(errc::kFieldMissing, field, field + " is required");
}

Status JsonObject::WrongType(std::string_view key, std::string_view type) const {
  const std::string field = FieldName(key);
  return Status::InvalidArgument(errc::kFieldWrongType, field,
                                 field + " must be " + std::string(type));
}

bool JsonObject::Has(std::string_view key) const {
  simdjson::dom::element element;
  return object_.at_key(key).get(element) == simdjson::SUCCESS && !element.is_null();
}

Result<std::string> JsonObject::String(std::string_view key) const {
  simdjson::dom::element element;
  if (object_.at_key(key).get(element) != simdjson::SUCCESS || element.is_null()) {
    return Missing(key);
  }
  std::string_view value;
  if (element.get(value) != simdjson::SUCCESS) return WrongType(key, "a string");
  return std::string(value);
}

std::optional<std::string> JsonObject::OptionalString(std::string_view key) const {
  Result<std::string> value = String(key);
  if (!value.ok()) return std::nullopt;
  return std::move(value).value();
}

Result<int64_t> JsonObject::Int(std::string_view key) const {
  simdjson::dom::element element;
  if (object_.at_key(key).get(element) != simdjson::SUCCESS || element.is_null()) {
    return Missing(key);
  }
  int64_t value = 0;
  if (element.get(value) != simdjson::SUCCESS) return WrongType(key, "an integer");
  return value;
}

Result<bool> JsonObject::Bool(std::string_view key) const {
  simdjson::dom::element element;
  if (object_.at_key(key).get(element) != simdjson::SUCCESS || element.is_null()) {
    return Missing(key);
  }
  bool value = false;
  if (element.get(value) != simdjson::SUCCESS) return WrongType(key, "true or false");
  return value;
}

Result<simdjson::dom::array> JsonObject::Array(std::string_view key) const {
  simdjson::dom::element element;
  if (object_.at_key(key).get(element) != simdjson::SUCCESS || element.is_null()) {
    return Missing(key);
  }
  simdjson::dom::array value;
  if (element.get(value) != simdjson::SUCCESS) return WrongType(key, "an array");
  return value;
}

Result<JsonObject> JsonObject::Object(std::string_view key) const {
  simdjson::dom::element element;
  if (object_.at_key(key).get(element) != simdjson::SUCCESS || element.is_null()) {
    return Missing(key);
  }
  simdjson::dom::object value;
  if (element.get(value) != simdjson::SUCCESS) return WrongType(key, "an object");
  return JsonObject(value, FieldName(key) + ".");
}

void WriteEventJson(JsonWriter& w, const Event& event, PayloadForm form) {
  w.BeginObject();
  if (form == PayloadForm::kString) w.Field("format_version", int{event.format_version});
  w.Field("sequence", static_cast<int64_t>(event.sequence))
      .Field("stream_id", event.stream_id)
      .Field("stream_version", static_cast<int64_t>(event.stream_version))
      .Field("type", event.type)
      .Field("recorded_at_us", event.recorded_at_us)
      .Field("actor", event.actor);
  if (form == PayloadForm::kString || !event.idempotency_key.empty()) {
    w.Field("idempotency_key", event.idempotency_key);
  }
  if (form == PayloadForm::kString) {
    w.Field("payload", event.payload);
  } else {
    w.Key("payload").Raw(event.payload);
  }
  w.Field("previous_hash", HashToHex(event.previous_hash)).Field("hash", HashToHex(event.hash));
  w.EndObject();
}

Result<Event> ParseEventJson(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> object = ParseJsonObject(parser, json, "event");
  if (!object.ok()) return object.status();
  Event event;
  Status status;
  auto text = [&](std::string_view key, std::string* out) {
    if (!status.ok()) return;
    Result<std::string> value = object->String(key);
    if (value.ok())
      *out = std::move(value).value();
    else
      status = value.status();
  };
  auto number = [&](std::string_view key) -> int64_t {
    if (!status.ok()) return 0;
    Result<int64_t> value = object->Int(key);
    if (!value.ok() || *value < 0) {
      status = value.ok() ? Status::InvalidArgument(errc::kFieldInvalid, key,
                                                    std::string(key) + " may not be negative")
                          : value.status();
      return 0;
    }
    return *value;
  };
  auto hash = [&](std::string_view key, Hash* out) {
    std::string hex;
    text(key, &hex);
    if (status.ok() && !HashFromHex(hex, out)) {
      status = Status::InvalidArgument(errc::kFieldInvalid, key,
                                       std::string(key) + " must be 64 hex digits");
    }
  };
  // Lines and records written before the field existed hold version 1 envelopes.
  if (object->Has("format_version")) {
    const int64_t version = number("format_version");
    if (status.ok() && (version > UINT8_MAX || !IsKnownEnvelopeVersion(uint8_t(version)))) {
      status = Status::InvalidArgument(
          errc::kFieldInvalid, "format_version",
          "format_version " + std::to_string(version) + " is not a known envelope format version");
    }
    event.format_version = static_cast<uint8_t>(version);
  } else {
    event.format_version = envelope_format_version_1;
  }
  event.sequence = static_cast<uint64_t>(number("sequence"));
  text("stream_id", &event.stream_id);
  event.stream_version = static_cast<uint64_t>(number("stream_version"));
  text("type", &event.type);
  event.recorded_at_us = number("recorded_at_us");
  text("actor", &event.actor);
  text("idempotency_key", &event.idempotency_key);
  text("payload", &event.payload);
  hash("previous_hash", &event.previous_hash);
  hash("hash", &event.hash);
  if (!status.ok()) return status;
  return event;
}

Result<JsonObject> ParseJsonObject(simdjson::dom::parser& parser, std::string_view json,
                                   std::string_view what) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kJsonInvalid, what,
                                   std::string(what) + " is not valid JSON");
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kJsonNotObject, what,
                                   std::string(what) + " must be a JSON object");
  }
  return JsonObject(object);
}

}  // namespace malpro
