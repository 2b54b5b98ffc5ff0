// SHA-256 digests, as used by the hash chain and content addressing.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace malpro {

inline constexpr size_t hash_bytes = 32;
using Hash = std::array<uint8_t, hash_bytes>;

// The chain's anchor: hash_0, 32 zero bytes.
inline constexpr Hash zero_hash{};

// SHA-256 of `data`.
Hash Sha256(std::string_view data);

// SHA-256 of `first` followed by `second`, without concatenating them.
Hash Sha256(std::string_view first, std::string_view second);

// Lowercase hex, 64 characters.
std::string HashToHex(const Hash& hash);
std::string BytesToHex(std::string_view bytes);

// `bytes` random bytes from OpenSSL's generator (a failure of it stops the process), and the
// same as lowercase hex (2 * bytes characters): session ids, tokens, secrets, names.
std::string RandomBytes(size_t bytes);
std::string RandomHex(size_t bytes);

// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);

// Parses 64 hex characters (either case). Returns false on anything else.
bool HashFromHex(std::string_view hex, Hash* hash);

inline std::string_view HashView(const Hash& hash) {
  return std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size());
}

}  // namespace malpro
