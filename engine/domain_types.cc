#include "engine/domain_types.h"

#include "engine/error_codes.h"

namespace malpro {

Status CheckName(std::string_view value, std::string_view field, size_t chars_max) {
  const std::string name(field);
  if (value.find_first_not_of(" \t") == std::string_view::npos) {
    return Status::InvalidArgument(errc::kFieldMissing, field, name + " is required");
  }
  if (value.size() > chars_max) {
    return Status::LimitExceeded(errc::kTextTooLong, field,
                                 name + " must be at most " + std::to_string(chars_max) + " bytes");
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    // C0 controls, DEL, and the C1 controls U+0080-U+009F (UTF-8: C2 80 to C2 9F).
    const bool c1 = byte == 0xC2 && i + 1 < value.size() &&
                    static_cast<unsigned char>(value[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(value[i + 1]) <= 0x9F;
    if (byte < 0x20 || byte == 0x7F || c1) {
      return Status::InvalidArgument(errc::kTextControlCharacter, field,
                                     name + " may not contain control characters");
    }
  }
  return Status::Ok();
}

Status CheckEntityId(std::string_view value, std::string_view field) {
  const std::string name(field);
  if (value.empty())
    return Status::InvalidArgument(errc::kFieldMissing, field, name + " is required");
  if (value.size() > entity_id_chars_max) {
    return Status::LimitExceeded(
        errc::kIdTooLong, field,
        name + " must be at most " + std::to_string(entity_id_chars_max) + " characters");
  }
  for (char c : value) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) {
      return Status::InvalidArgument(errc::kIdInvalid, field,
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
