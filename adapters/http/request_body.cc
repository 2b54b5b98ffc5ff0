#include "adapters/http/request_body.h"

#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {

RequestBody::RequestBody(std::string_view json)
    : text_(json.empty() ? std::string_view("{}") : json) {
  simdjson::dom::element root;
  const simdjson::error_code parsed = parser_.parse(text_).get(root);
  if (parsed == simdjson::NUMBER_ERROR) {
    if (std::optional<std::string> field = FindUnreadableNumber(text_)) {
      Fail(errc::kBodyNumberOutOfRange, *field,
           *field + " is a number out of range: integers fit in 64 bits (at most " +
               "9223372036854775807), and no field takes more");
      return;
    }
  }
  if (parsed != simdjson::SUCCESS) {
    Fail(errc::kBodyInvalidJson, "body", "the request body must be valid JSON");
    return;
  }
  if (root.get(object_) != simdjson::SUCCESS) {
    Fail(errc::kBodyNotObject, "body", "the request body must be a JSON object");
    return;
  }
  if (std::optional<std::string_view> repeated = FindDuplicateKey(root)) {
    Fail(errc::kBodyDuplicateKey, *repeated,
         "the key \"" + std::string(*repeated) +
             "\" appears twice in one object; every key may appear once");
    return;
  }
  parsed_ = true;
}

void RequestBody::Fail(std::string_view code, std::string_view key, std::string message) {
  if (status_.ok()) status_ = Status::InvalidArgument(code, key, std::move(message));
}

void RequestBody::AllowOnly(std::initializer_list<std::string_view> known) {
  AllowOnly(std::span<const std::string_view>(known.begin(), known.size()));
}

void RequestBody::AllowOnly(std::span<const std::string_view> known) {
  if (!parsed_) return;
  for (auto [key, value] : object_) {
    bool allowed = false;
    for (std::string_view candidate : known) allowed = allowed || candidate == key;
    if (!allowed) Fail(errc::kBodyFieldUnknown, key, "unknown field " + std::string(key));
  }
}

bool RequestBody::Has(std::string_view key) const {
  simdjson::dom::element element;
  return parsed_ && object_.at_key(key).get(element) == simdjson::SUCCESS && !element.is_null();
}

std::optional<simdjson::dom::element> RequestBody::Element(std::string_view key, bool required) {
  if (!parsed_) return std::nullopt;
  simdjson::dom::element element;
  if (object_.at_key(key).get(element) != simdjson::SUCCESS || element.is_null()) {
    if (required) Fail(errc::kBodyFieldMissing, key, std::string(key) + " is required");
    return std::nullopt;
  }
  return element;
}

std::string RequestBody::String(std::string_view key) {
  std::optional<simdjson::dom::element> element = Element(key, true);
  std::string_view value;
  if (element && element->get(value) != simdjson::SUCCESS) {
    Fail(errc::kBodyFieldWrongType, key, std::string(key) + " must be a string");
  }
  return std::string(value);
}

std::string RequestBody::OptionalString(std::string_view key) {
  std::optional<simdjson::dom::element> element = Element(key, false);
  std::string_view value;
  if (element && element->get(value) != simdjson::SUCCESS) {
    Fail(errc::kBodyFieldWrongType, key, std::string(key) + " must be a string");
  }
  return std::string(value);
}

int64_t RequestBody::Int(std::string_view key) {
  std::optional<simdjson::dom::element> element = Element(key, true);
  int64_t value = 0;
  if (element && element->get(value) != simdjson::SUCCESS) {
    Fail(errc::kBodyFieldWrongType, key, std::string(key) + " must be an integer");
  }
  return value;
}

Money RequestBody::Amount(std::string_view key) {
  std::optional<simdjson::dom::element> element = Element(key, true);
  if (!element) return Money();
  std::string_view text;
  if (element->get(text) != simdjson::SUCCESS) {
    Fail(errc::kBodyFieldWrongType, key,
         std::string(key) + " must be a string amount such as \"10000.00\"");
    return Money();
  }
  Result<Money> amount = ParseAmount(text, key);
  if (!amount.ok()) {
    if (status_.ok()) status_ = amount.status();  // a rule on the value: 422, not 400
    return Money();
  }
  return *amount;
}

simdjson::dom::array RequestBody::Array(std::string_view key) {
  std::optional<simdjson::dom::element> element = Element(key, true);
  simdjson::dom::array value;
  if (element && element->get(value) != simdjson::SUCCESS) {
    Fail(errc::kBodyFieldWrongType, key, std::string(key) + " must be an array");
  }
  return value;
}

}  // namespace malpro
