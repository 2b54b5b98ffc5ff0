// SNAP BI signatures (adapters/bank/snap_signature.h): the X-TIMESTAMP reader, the body
// digest inside the strings to sign, HMAC-SHA512 and SHA256withRSA checks, base64.
//
// The whole input is used as each of: an X-TIMESTAMP, a request body, a presented signature,
// a PEM public key. Properties:
//   - an accepted X-TIMESTAMP is of the documented form (YYYY-MM-DDTHH:MM:SS, optional
//     fraction, Z or a +HH:MM/-HH:MM offset, digits where digits belong), and SnapTimestamp
//     of its time reads back to the same time;
//   - a body signs the same as its minified form, and a body that is JSON always signs;
//   - an HMAC signature matches its text and nothing else presented for it;
//   - a presented RSA signature that is not the bank's never verifies, and a PEM that is not
//     a key is refused with a known code;
//   - Base64Encode inverts DecodeBase64.
#include <simdjson.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "adapters/bank/snap_signature.h"
#include "adapters/http/request_body.h"
#include "tests/fuzz/fuzz_check.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;

const std::string& BankPublicKey() {
  static const std::string pem = [] {
    std::ifstream file(MALPRO_SOURCE_DIR "/tests/bank/testdata/bank_public.pem");
    std::stringstream text;
    text << file.rdbuf();
    FUZZ_CHECK(text.str().find("PUBLIC KEY") != std::string::npos);
    return text.str();
  }();
  return pem;
}

bool Digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return false;
  for (size_t i = at; i < at + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// The documented X-TIMESTAMP form, checked character by character.
bool IsTimestampForm(std::string_view text) {
  if (text.size() < 20 || !Digits(text, 0, 4) || text[4] != '-' || !Digits(text, 5, 2) ||
      text[7] != '-' || !Digits(text, 8, 2) || text[10] != 'T' || !Digits(text, 11, 2) ||
      text[13] != ':' || !Digits(text, 14, 2) || text[16] != ':' || !Digits(text, 17, 2)) {
    return false;
  }
  std::string_view zone = text.substr(19);
  if (zone.starts_with('.')) {
    size_t end = 1;
    while (end < zone.size() && std::isdigit(static_cast<unsigned char>(zone[end]))) ++end;
    zone.remove_prefix(end);
  }
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && Digits(zone, 1, 2) &&
         zone[3] == ':' && Digits(zone, 4, 2);
}

void CheckTimestamp(std::string_view text) {
  Result<int64_t> time = ParseSnapTimestamp(text);
  if (!time.ok()) {
    CheckRefusal(time.status());
    return;
  }
  FUZZ_CHECK_DETAIL(IsTimestampForm(text), std::string(text));
  FUZZ_CHECK(*time % 1'000'000 == 0);
  const std::string written = SnapTimestamp(*time);
  // A year before 1 or past 9999 in Jakarta: not a SNAP time.
  if (written.size() != 25 || written[0] == '-') return;
  Result<int64_t> again = ParseSnapTimestamp(written);
  FUZZ_CHECK_DETAIL(again.ok() && *again == *time, std::string(text) + " -> " + written);
}

void CheckBodyDigest(std::string_view body) {
  Result<std::string> text = SnapNotificationStringToSign("POST", "/v1.0/qr/qr-mpm-notify", body,
                                                          "2026-11-22T10:15:00+07:00");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const bool is_json = parser.parse(body.data(), body.size()).get(root) == simdjson::SUCCESS;
  if (is_json || body.empty()) FUZZ_CHECK_DETAIL(text.ok(), text.status().ToString());
  if (!text.ok()) {
    CheckRefusal(text.status());
    return;
  }
  std::string minified(body.size(), '\0');
  size_t length = 0;
  FUZZ_CHECK(simdjson::minify(body.data(), body.size(), minified.data(), length) ==
             simdjson::SUCCESS);
  minified.resize(length);
  Result<std::string> again = SnapNotificationStringToSign("POST", "/v1.0/qr/qr-mpm-notify",
                                                           minified, "2026-11-22T10:15:00+07:00");
  if (!minified.empty()) FUZZ_CHECK(again.ok() && *again == *text);
  Result<std::string> transaction = SnapTransactionStringToSign(
      "POST", "/v1.0/qr/qr-mpm-notify", "token", body, "2026-11-22T10:15:00+07:00");
  FUZZ_CHECK(transaction.ok());
}

void CheckHmac(std::string_view text) {
  constexpr std::string_view secret = "fuzz-client-secret";
  const std::string signature = SnapHmacSignature(secret, text);
  FUZZ_CHECK(SnapHmacSignatureMatches(secret, text, signature));
  FUZZ_CHECK(DecodeBase64(signature, "signature").ok());
  // The input presented as the signature of a fixed text: it matches only if it is the one.
  const std::string expected = SnapHmacSignature(secret, "fixed text");
  FUZZ_CHECK(SnapHmacSignatureMatches(secret, "fixed text", text) == (text == expected));
  std::string tampered = signature;
  tampered[text.size() % tampered.size()] ^= 0x01;
  FUZZ_CHECK(!SnapHmacSignatureMatches(secret, text, tampered));
}

void CheckRsa(std::string_view text) {
  Result<bool> verified = SnapRsaVerify(BankPublicKey(), "POST:/v1.0/qr/qr-mpm-notify:x:y", text);
  FUZZ_CHECK_DETAIL(verified.ok(), verified.status().ToString());
  FUZZ_CHECK(!*verified);
  // The input as the key.
  Result<bool> with_input_key = SnapRsaVerify(text, "text", "c2lnbmF0dXJl");
  if (!with_input_key.ok()) CheckRefusal(with_input_key.status());
}

void CheckBase64(std::string_view bytes) {
  const std::string encoded = Base64Encode(bytes);
  FUZZ_CHECK(encoded.size() % 4 == 0);
  Result<std::string> decoded = DecodeBase64(encoded, "value");
  FUZZ_CHECK(decoded.ok() && *decoded == bytes);
}

void CheckSnapSignatures(std::string_view text) {
  CheckTimestamp(text);
  CheckBodyDigest(text);
  CheckHmac(text);
  CheckRsa(text);
  CheckBase64(text);
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return malpro::fuzz::CheckText(data, size, malpro::CheckSnapSignatures);
}
