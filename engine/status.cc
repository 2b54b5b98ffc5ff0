#include "engine/status.h"

namespace malpro {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kLimitExceeded:
      return "limit_exceeded";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kIOError:
      return "io_error";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string text = StatusCodeName(code_);
  text += ": ";
  text += error_code_;
  if (!field_.empty()) {
    text += " (field ";
    text += field_;
    text += ")";
  }
  text += ": ";
  text += message_;
  return text;
}

}  // namespace malpro
