// HTTP/1.x request framing with our limits (adapters/http/framing.h, ParseRequest): what the
// server's sessions accept as one request, and what they refuse before a route sees it.
//
// Input: the first byte chooses the limits (the server's defaults, or small ones so that each
// limit is met often), the rest are the bytes a client sent. Properties:
//   - a refusal carries one of the framing codes of framing.h, answered with its documented
//     HTTP status;
//   - an accepted request keeps to the limits: HTTP/1.0 or 1.1, its target and body within
//     them, no control byte in a header value, Content-Length once and alone or chunked;
//   - written out again (Beast's serializer) it parses to the same request, also with another
//     request after it, and any part of it short of its last byte is incomplete (408).
#include <boost/beast/http/write.hpp>
#include <sstream>

#include "adapters/http/error_status.h"
#include "adapters/http/framing.h"
#include "tests/fuzz/fuzz_check.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;

constexpr FramingLimits kLimits[] = {
    {16 * 1024, 4 * 1024, 1024 * 1024},  // as HttpOptions' defaults
    {256, 64, 128},
    {64, 16, 16},
    {1024, 1024, 0},
};

// The codes framing.h lists, with their HTTP status.
int DocumentedStatus(std::string_view code) {
  if (code == errc::kRequestMalformed) return 400;
  if (code == errc::kUriTooLong) return 414;
  if (code == errc::kHeadersTooLarge) return 431;
  if (code == errc::kBodyTooLarge) return 413;
  if (code == errc::kHttpVersionUnsupported) return 505;
  if (code == errc::kRequestTimeout) return 408;
  return 0;
}

std::string Write(const HttpRequest& request) {
  std::ostringstream out;
  out << request;
  return out.str();
}

bool SameRequest(const HttpRequest& a, const HttpRequest& b) {
  if (a.method_string() != b.method_string() || a.target() != b.target() ||
      a.version() != b.version() || a.body() != b.body()) {
    return false;
  }
  auto field_a = a.begin();
  auto field_b = b.begin();
  for (; field_a != a.end() && field_b != b.end(); ++field_a, ++field_b) {
    if (field_a->name_string() != field_b->name_string() || field_a->value() != field_b->value()) {
      return false;
    }
  }
  return field_a == a.end() && field_b == b.end();
}

void CheckAccepted(const HttpRequest& request, const FramingLimits& limits) {
  FUZZ_CHECK(request.version() == 10 || request.version() == 11);
  FUZZ_CHECK(request.target().size() <= limits.target_bytes_max);
  FUZZ_CHECK(request.body().size() <= limits.body_bytes_max);
  for (const auto& field : request) {
    for (char c : field.value()) {
      const auto byte = static_cast<unsigned char>(c);
      FUZZ_CHECK((byte >= 0x20 || byte == '\t') && byte != 0x7F);
    }
  }
  const size_t lengths = request.count(http::field::content_length);
  const bool chunked = request.chunked();
  FUZZ_CHECK(lengths <= 1);
  FUZZ_CHECK(!(lengths == 1 && request.count(http::field::transfer_encoding) > 0));
  if (lengths == 1 && !chunked) {  // 1*DIGIT, leading zeros allowed (RFC 9110, 8.6)
    const std::string_view length = request[http::field::content_length];
    FUZZ_CHECK(!length.empty());
    const std::string_view digits =
        length.substr(std::min(length.find_first_not_of('0'), length.size() - 1));
    FUZZ_CHECK_DETAIL(digits == std::to_string(request.body().size()), std::string(length));
  }
  // Written again, it is the same request. Beast writes "Name: value", which may be longer than
  // what was sent: the header limit is widened for the second reading.
  const std::string written = Write(request);
  FramingLimits wider = limits;
  wider.header_bytes_max = limits.header_bytes_max + written.size();
  Result<HttpRequest> again = ParseRequest(written, wider);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString() + " for\n" + written);
  FUZZ_CHECK_DETAIL(SameRequest(*again, request), written);
  Result<HttpRequest> pipelined = ParseRequest(written + "GET /next HTTP/1.1\r\n\r\n", wider);
  FUZZ_CHECK(pipelined.ok() && SameRequest(*pipelined, request));
  // (Beast writes an empty chunked body as a zero-size chunk before the last chunk, which
  // itself ends a message: then a cut copy is still whole.)
  if (chunked && request.body().empty()) return;
  Result<HttpRequest> cut =
      ParseRequest(std::string_view(written).substr(0, written.size() - 1), wider);
  FUZZ_CHECK_DETAIL(cut.status().error_code() == errc::kRequestTimeout,
                    cut.status().ToString() + " for the first " +
                        std::to_string(written.size() - 1) + " bytes of\n" + written);
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace malpro;
  if (size == 0) return 0;
  const FramingLimits& limits = kLimits[data[0] % std::size(kLimits)];
  const std::string_view bytes = fuzz::AsText(data + 1, size - 1);
  Result<HttpRequest> request = ParseRequest(bytes, limits);
  if (!request.ok()) {
    CheckRefusal(request.status());
    const int documented = DocumentedStatus(request.status().error_code());
    FUZZ_CHECK_DETAIL(documented != 0, request.status().ToString());
    FUZZ_CHECK_DETAIL(ErrorStatus(request.status()) == documented, request.status().ToString());
    return 0;
  }
  CheckAccepted(*request, limits);
  return 0;
}
