#include "engine/domain_types.h"

namespace malpro {

Status CheckName(std::string_view value, std::string_view field, size_t chars_max) {
  const std::string name(field);
  if (value.find_first_not_of(" \t") == std::string_view::npos) {
    return Status::InvalidArgument("field_missing", field, name + " is required");
  }
  if (value.size() > chars_max) {
    return Status::LimitExceeded("text_too_long", field,
                                 name + " must be at most " + std::to_string(chars_max) + " bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return Status::InvalidArgument("text_control_character", field,
                                     name + " may not contain control characters");
    }
  }
  return Status::Ok();
}

Status CheckEntityId(std::string_view value, std::string_view field) {
  const std::string name(field);
  if (value.empty()) return Status::InvalidArgument("field_missing", field, name + " is required");
  if (value.size() > entity_id_chars_max) {
    return Status::LimitExceeded("id_too_long", field,
                                 name + " must be at most " + std::to_string(entity_id_chars_max) +
                                     " characters");
  }
  for (char c : value) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) {
      return Status::InvalidArgument("id_invalid", field,
                                     name + " may only contain lowercase letters, digits and -");
    }
  }
  return Status::Ok();
}

std::string_view RankGroupOf(std::string_view rank_class) {
  const size_t slash = rank_class.find('/');
  return slash == std::string_view::npos ? rank_class : rank_class.substr(0, slash);
}

}  // namespace malpro
