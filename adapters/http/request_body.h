// RequestBody: typed access to a JSON request body, where every shape error (not JSON, a key
// repeated within an object, a missing field, a wrong type, an unknown field) is a 400 with the
// field named. The Kafka command intake reads its command values through it too.
#pragma once

#include <simdjson.h>

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/base64.h"  // IWYU pragma: export (DecodeBase64)
#include "engine/ledger.h"
#include "engine/money.h"
#include "engine/result.h"

namespace malpro {

class RequestBody {
 public:
  // Parses `json`; an empty body counts as {}. A key that appears twice in any object of the
  // body is body_duplicate_key naming that key (engine/json.h FindDuplicateKey says why).
  explicit RequestBody(std::string_view json);

  // The first error met so far (parse errors, missing or mistyped fields); OK when none.
  const Status& status() const { return status_; }

  // Records body_field_unknown for the first key not in `known`.
  void AllowOnly(std::initializer_list<std::string_view> known);
  void AllowOnly(std::span<const std::string_view> known);

  std::string String(std::string_view key);          // required
  std::string OptionalString(std::string_view key);  // "" when absent
  int64_t Int(std::string_view key);                 // required
  Money Amount(std::string_view key);                // required, "10000.00" form
  simdjson::dom::array Array(std::string_view key);  // required
  bool Has(std::string_view key) const;

 private:
  void Fail(std::string_view code, std::string_view key, std::string message);
  std::optional<simdjson::dom::element> Element(std::string_view key, bool required);

  simdjson::dom::parser parser_;
  simdjson::padded_string text_;
  simdjson::dom::object object_;
  bool parsed_ = false;
  Status status_;
};

}  // namespace malpro

// The bodies of the commands themselves (BindPlaceOrder and the others) are bound in
// command_bodies.h, which readers of this header used to find BindPlaceOrder in.
#include "adapters/http/command_bodies.h"  // IWYU pragma: export
