#include "engine/base64.h"

#include <openssl/evp.h>

#include <cstdint>

#include "engine/error_codes.h"

namespace malpro {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(written);
  return out;
}

Result<std::string> DecodeBase64(std::string_view text, std::string_view field) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  const Status bad = Status::InvalidArgument(errc::kBase64Invalid, field,
                                             std::string(field) + " must be base64 (RFC 4648)");
  if (text.size() % 4 != 0) return bad;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int values[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      const bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && j >= 2) {
        values[j] = 0;
        ++padding;
      } else if (padding > 0 || (values[j] = value_of(c)) < 0) {
        return bad;
      }
    }
    const uint32_t group = values[0] << 18 | values[1] << 12 | values[2] << 6 | values[3];
    out.push_back(static_cast<char>(group >> 16));
    if (padding < 2) out.push_back(static_cast<char>(group >> 8));
    if (padding < 1) out.push_back(static_cast<char>(group));
  }
  return out;
}

}  // namespace malpro
