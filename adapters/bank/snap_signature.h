// SNAP BI (Standar Nasional Open API Pembayaran) request signatures.
//
// Access token (asymmetric):   stringToSign = clientId + "|" + X-TIMESTAMP
//                              X-SIGNATURE  = base64(SHA256withRSA(private key, stringToSign))
// Transactions (symmetric):    stringToSign = METHOD + ":" + path + ":" + accessToken + ":" +
//                                             lowercase hex(SHA-256(minified body)) + ":" +
//                                             X-TIMESTAMP
//                              X-SIGNATURE  = base64(HMAC-SHA512(clientSecret, stringToSign))
// Notifications signed by the bank with its key (asymmetric, no token):
//                              stringToSign = METHOD + ":" + path + ":" +
//                                             lowercase hex(SHA-256(minified body)) + ":" +
//                                             X-TIMESTAMP, SHA256withRSA
// X-TIMESTAMP is ISO 8601 with the offset, e.g. "2026-11-22T10:15:00+07:00".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base64.h"  // IWYU pragma: export (Base64Encode)
#include "engine/result.h"

namespace malpro {

std::string SnapAccessTokenStringToSign(std::string_view client_id, std::string_view timestamp);
// `body` is minified first (whitespace outside strings removed); an empty body hashes "".
Result<std::string> SnapTransactionStringToSign(std::string_view method, std::string_view path,
                                                std::string_view access_token,
                                                std::string_view body, std::string_view timestamp);
Result<std::string> SnapNotificationStringToSign(std::string_view method, std::string_view path,
                                                 std::string_view body, std::string_view timestamp);

// base64(HMAC-SHA512(secret, text)).
std::string SnapHmacSignature(std::string_view client_secret, std::string_view text);
// Constant-time comparison of a presented HMAC signature with the expected one.
bool SnapHmacSignatureMatches(std::string_view client_secret, std::string_view text,
                              std::string_view presented_base64);

// base64(SHA256withRSA(PKCS#1 v1.5)) with a PEM private key. InvalidArgument for a bad key.
Result<std::string> SnapRsaSign(std::string_view private_key_pem, std::string_view text);
// Whether `signature_base64` is a valid SHA256withRSA signature of `text` by the PEM public key.
Result<bool> SnapRsaVerify(std::string_view public_key_pem, std::string_view text,
                           std::string_view signature_base64);

// "2026-11-22T10:15:00+07:00" for UTC microseconds, in Asia/Jakarta.
std::string SnapTimestamp(int64_t utc_micros);
// Parses an X-TIMESTAMP with any +HH:MM/-HH:MM offset or Z, to UTC microseconds.
Result<int64_t> ParseSnapTimestamp(std::string_view text);

}  // namespace malpro
