// Base64 (RFC 4648, the standard alphabet, with padding), for photos in JSON bodies, SNAP
// signatures and signed notes.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"

namespace malpro {

std::string Base64Encode(std::string_view bytes);

// Strict base64 (RFC 4648, with padding). InvalidArgument base64_invalid naming `field` on
// anything else.
Result<std::string> DecodeBase64(std::string_view text, std::string_view field);

}  // namespace malpro
