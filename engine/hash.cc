#include "engine/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "engine/assert.h"

namespace malpro {
namespace {

// One digest context per thread, reused: creating and freeing contexts costs more than
// hashing a 300-byte event.
class DigestContext {
 public:
  DigestContext() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), context_(EVP_MD_CTX_new()) {
    MALPRO_ASSERT(md_ != nullptr && context_ != nullptr);
  }
  ~DigestContext() {
    EVP_MD_CTX_free(context_);
    EVP_MD_free(md_);
  }
  DigestContext(const DigestContext&) = delete;
  DigestContext& operator=(const DigestContext&) = delete;

  Hash Digest(std::string_view first, std::string_view second) {
    Hash hash;
    unsigned int length = 0;
    MALPRO_ASSERT(EVP_DigestInit_ex2(context_, md_, nullptr) == 1);
    MALPRO_ASSERT(EVP_DigestUpdate(context_, first.data(), first.size()) == 1);
    if (!second.empty()) {
      MALPRO_ASSERT(EVP_DigestUpdate(context_, second.data(), second.size()) == 1);
    }
    MALPRO_ASSERT(EVP_DigestFinal_ex(context_, hash.data(), &length) == 1);
    MALPRO_ASSERT(length == hash_bytes);
    return hash;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* context_;
};

DigestContext& ThreadDigestContext() {
  thread_local DigestContext context;
  return context;
}

}  // namespace

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Hash Sha256(std::string_view data) { return ThreadDigestContext().Digest(data, {}); }

Hash Sha256(std::string_view first, std::string_view second) {
  return ThreadDigestContext().Digest(first, second);
}

std::string BytesToHex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<uint8_t>(bytes[i]);
    hex[2 * i] = digits[byte >> 4];
    hex[2 * i + 1] = digits[byte & 0x0f];
  }
  return hex;
}

std::string HashToHex(const Hash& hash) { return BytesToHex(HashView(hash)); }

bool HashFromHex(std::string_view hex, Hash* hash) {
  if (hex.size() != 2 * hash_bytes) return false;
  for (size_t i = 0; i < hash_bytes; ++i) {
    const int high = HexDigitValue(hex[2 * i]);
    const int low = HexDigitValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    (*hash)[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

std::string RandomBytes(size_t bytes) {
  std::string raw(bytes, '\0');
  MALPRO_ASSERT(
      RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) == 1);
  return raw;
}

std::string RandomHex(size_t bytes) { return BytesToHex(RandomBytes(bytes)); }

}  // namespace malpro
