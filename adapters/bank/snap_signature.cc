#include "adapters/bank/snap_signature.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <memory>

#include "adapters/http/request_body.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/identifiers.h"

namespace malpro {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using KeyPointer = std::unique_ptr<EVP_PKEY, KeyDeleter>;
struct ContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using ContextPointer = std::unique_ptr<EVP_MD_CTX, ContextDeleter>;

KeyPointer ReadKey(std::string_view pem, bool is_private) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  EVP_PKEY* key = is_private ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return KeyPointer(key);
}

Result<std::string> BodyDigest(std::string_view body) {
  if (body.empty()) return BytesToHex(HashView(Sha256("")));
  std::string minified(body.size(), '\0');
  size_t length = 0;
  if (simdjson::minify(body.data(), body.size(), minified.data(), length) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kBodyInvalidJson, "body", "the request body must be JSON");
  }
  minified.resize(length);
  return HashToHex(Sha256(minified));
}

}  // namespace

std::string SnapAccessTokenStringToSign(std::string_view client_id, std::string_view timestamp) {
  return std::string(client_id) + "|" + std::string(timestamp);
}

Result<std::string> SnapTransactionStringToSign(std::string_view method, std::string_view path,
                                                std::string_view access_token,
                                                std::string_view body, std::string_view timestamp) {
  Result<std::string> digest = BodyDigest(body);
  if (!digest.ok()) return digest.status();
  return std::string(method) + ":" + std::string(path) + ":" + std::string(access_token) + ":" +
         *digest + ":" + std::string(timestamp);
}

Result<std::string> SnapNotificationStringToSign(std::string_view method, std::string_view path,
                                                 std::string_view body,
                                                 std::string_view timestamp) {
  Result<std::string> digest = BodyDigest(body);
  if (!digest.ok()) return digest.status();
  return std::string(method) + ":" + std::string(path) + ":" + *digest + ":" +
         std::string(timestamp);
}

std::string SnapHmacSignature(std::string_view client_secret, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha512(), client_secret.data(), static_cast<int>(client_secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &length);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), length));
}

bool SnapHmacSignatureMatches(std::string_view client_secret, std::string_view text,
                              std::string_view presented_base64) {
  const std::string expected = SnapHmacSignature(client_secret, text);
  return expected.size() == presented_base64.size() &&
         CRYPTO_memcmp(expected.data(), presented_base64.data(), expected.size()) == 0;
}

Result<std::string> SnapRsaSign(std::string_view private_key_pem, std::string_view text) {
  KeyPointer key = ReadKey(private_key_pem, true);
  if (!key)
    return Status::InvalidArgument(errc::kKeyInvalid, "private_key", "not a PEM private key");
  ContextPointer context(EVP_MD_CTX_new());
  size_t length = 0;
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1) {
    return Status::InvalidArgument(errc::kKeyInvalid, "private_key",
                                   "the key cannot sign with SHA256withRSA");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1) {
    return Status::InvalidArgument(errc::kKeyInvalid, "private_key", "signing failed");
  }
  signature.resize(length);
  return Base64Encode(signature);
}

Result<bool> SnapRsaVerify(std::string_view public_key_pem, std::string_view text,
                           std::string_view signature_base64) {
  KeyPointer key = ReadKey(public_key_pem, false);
  if (!key) return Status::InvalidArgument(errc::kKeyInvalid, "public_key", "not a PEM public key");
  Result<std::string> signature = DecodeBase64(signature_base64, "X-SIGNATURE");
  if (!signature.ok()) return false;
  ContextPointer context(EVP_MD_CTX_new());
  if (!context ||
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return Status::InvalidArgument(errc::kKeyInvalid, "public_key",
                                   "the key cannot verify SHA256withRSA");
  }
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                          signature->size(), reinterpret_cast<const unsigned char*>(text.data()),
                          text.size()) == 1;
}

std::string SnapTimestamp(int64_t utc_micros) { return JakartaTimestamp(utc_micros); }

Result<int64_t> ParseSnapTimestamp(std::string_view text) {
  const Status bad =
      Status::InvalidArgument(errc::kTimestampInvalid, "X-TIMESTAMP",
                              "X-TIMESTAMP must be ISO 8601 such as 2026-11-22T10:15:00+07:00");
  if (text.size() < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':') return bad;
  Result<CivilDate> date = ParseIsoDate(text.substr(0, 10), "X-TIMESTAMP");
  if (!date.ok()) return bad;
  auto two = [&](size_t at) -> int {
    if (!std::isdigit(static_cast<unsigned char>(text[at])) ||
        !std::isdigit(static_cast<unsigned char>(text[at + 1])))
      return -1;
    return (text[at] - '0') * 10 + (text[at + 1] - '0');
  };
  const int hour = two(11), minute = two(14), second = two(17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return bad;
  std::string_view zone = text.substr(19);
  if (!zone.empty() && zone.front() == '.') {  // fractional seconds: ignored
    size_t end = 1;
    while (end < zone.size() && std::isdigit(static_cast<unsigned char>(zone[end]))) ++end;
    zone.remove_prefix(end);
  }
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  int offset_seconds = 0;
  if (zone == "Z") {
    offset_seconds = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digit(zone[1]) &&
             digit(zone[2]) && zone[3] == ':' && digit(zone[4]) && digit(zone[5])) {
    const std::string_view digits = zone;
    const int hours = (digits[1] - '0') * 10 + (digits[2] - '0');
    const int minutes = (digits[4] - '0') * 10 + (digits[5] - '0');
    offset_seconds = (zone[0] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
  } else {
    return bad;
  }
  return UtcMicros(*date, hour * 3600 + minute * 60 + second, offset_seconds);
}

}  // namespace malpro
