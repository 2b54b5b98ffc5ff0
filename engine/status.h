// Status: the outcome of an operation that can fail for operating reasons (bad input, a
// conflict, a full disk). Programmer errors are asserted instead (engine/assert.h).
//
// A non-OK status carries
//   - a category (StatusCode), which adapters map to HTTP statuses and exit codes;
//   - a stable machine-readable error code, e.g. "stream_version_conflict" (docs/error-codes.md);
//   - the field the error is about, when there is one, e.g. "events[2].stream_id";
//   - a message for people, naming the rule that was broken.
#pragma once

#include <string>
#include <string_view>

#include "engine/error_codes.h"

namespace malpro {

// Persisted in nothing; the numeric values may change. Append new categories at the end.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // input breaks a rule (HTTP 400/422)
  kNotFound,          // the thing asked for does not exist (404)
  kConflict,          // a concurrent change or a state that forbids it (409)
  kLimitExceeded,     // input is over a named limit (413/422)
  kCorruption,        // stored data fails its checks
  kIOError,           // the storage failed
  kUnavailable,       // temporarily unable, e.g. shutting down or queue full (503/429)
  kUnauthenticated,   // no or bad credentials (401)
  kPermissionDenied,  // credentials lack the right (403)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;

  static Status Ok() { return Status(); }
  // A status of `category` with its error code, field and message: the factories below of the
  // categories whose errors name a field, e.g. Status::Conflict(code, field, message).
  template <StatusCode category>
  static Status Of(std::string_view error_code, std::string_view field, std::string_view message) {
    return Status(category, error_code, field, message);
  }
  static constexpr auto InvalidArgument = &Of<StatusCode::kInvalidArgument>;
  static constexpr auto NotFound = &Of<StatusCode::kNotFound>;
  static constexpr auto Conflict = &Of<StatusCode::kConflict>;
  static constexpr auto LimitExceeded = &Of<StatusCode::kLimitExceeded>;
  static Status Corruption(std::string_view message) {
    return Status(StatusCode::kCorruption, errc::kCorruption, "", message);
  }
  static Status IOError(std::string_view message) {
    return Status(StatusCode::kIOError, errc::kIoError, "", message);
  }
  static Status Unavailable(std::string_view error_code, std::string_view message) {
    return Status(StatusCode::kUnavailable, error_code, "", message);
  }
  static Status Unauthenticated(std::string_view message) {
    return Status(StatusCode::kUnauthenticated, errc::kUnauthenticated, "", message);
  }
  static Status PermissionDenied(std::string_view message) {
    return Status(StatusCode::kPermissionDenied, errc::kForbidden, "", message);
  }
  static Status PermissionDenied(std::string_view error_code, std::string_view field,
                                 std::string_view message) {
    return Status(StatusCode::kPermissionDenied, error_code, field, message);
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Stable, machine-readable; empty when ok().
  const std::string& error_code() const { return error_code_; }
  // The input field the error is about; may be empty.
  const std::string& field() const { return field_; }
  // The same status about another field (an adapter naming the field as its client sent it).
  Status WithField(std::string_view field) const {
    Status renamed = *this;
    renamed.field_ = std::string(field);
    return renamed;
  }
  const std::string& message() const { return message_; }

  // "conflict: stream_version_conflict (field events[0].stream_id): ..." or "OK".
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string_view error_code, std::string_view field,
         std::string_view message)
      : code_(code), error_code_(error_code), field_(field), message_(message) {}

  StatusCode code_ = StatusCode::kOk;
  std::string error_code_;
  std::string field_;
  std::string message_;
};

}  // namespace malpro
