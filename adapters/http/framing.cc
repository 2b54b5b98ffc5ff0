#include "adapters/http/framing.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

#include "engine/error_codes.h"

namespace malpro {
namespace {

namespace beast = boost::beast;

Status Malformed(std::string_view field, const std::string& message) {
  return Status::InvalidArgument(errc::kRequestMalformed, field, message);
}

// The first line of what was received, without its line end ("" when none ended yet).
std::string_view FirstLine(std::string_view received) {
  const size_t end = received.find("\r\n");
  return end == std::string_view::npos ? std::string_view() : received.substr(0, end);
}

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Whether `line` is `method SP target SP HTTP/d.d`, whatever the digits.
bool IsWellFormedRequestLine(std::string_view line) {
  const size_t first_space = line.find(' ');
  if (first_space == 0 || first_space == std::string_view::npos) return false;
  if (!std::all_of(line.begin(), line.begin() + first_space, IsTokenChar)) return false;
  const size_t second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos || second_space == first_space + 1) return false;
  const std::string_view version = line.substr(second_space + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return version.size() == 8 && version.starts_with("HTTP/") && digit(version[5]) &&
         version[6] == '.' && digit(version[7]);
}

Status VersionRefusal(std::string_view received) {
  const std::string_view line = FirstLine(received);
  if (line == "PRI * HTTP/2.0") {
    return Malformed("request line",
                     "an HTTP/2 connection preface; this server speaks HTTP/1.1 (and 1.0) only");
  }
  if (IsWellFormedRequestLine(line)) {
    return Status::InvalidArgument(errc::kHttpVersionUnsupported, "request line",
                                   "HTTP version " + std::string(line.substr(line.size() - 3)) +
                                       " is not supported; use HTTP/1.1 or HTTP/1.0");
  }
  return Malformed("request line", "the request line does not end in HTTP/1.1 or HTTP/1.0");
}

std::string_view FieldOfError(beast::error_code error) {
  using e = http::error;
  if (error == e::bad_method || error == e::bad_target || error == e::bad_version) {
    return "request line";
  }
  if (error == e::bad_content_length) return "Content-Length";
  if (error == e::bad_transfer_encoding) return "Transfer-Encoding";
  if (error == e::bad_chunk || error == e::bad_chunk_extension) return "body";
  return "headers";
}

// Control bytes in a header value (HTAB aside): Beast passes some through, and no client of
// ours sends them; a NUL is how header smuggling starts.
bool HasControlCharacter(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7F;
  });
}

}  // namespace

void ApplyFramingLimits(RequestParser& parser, const FramingLimits& limits) {
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<size_t>(limits.header_bytes_max, UINT32_MAX)));
  parser.body_limit(limits.body_bytes_max);
}

Status CheckRequestHeader(const RequestParser& parser, const FramingLimits& limits) {
  const HttpRequest& request = parser.get();
  if (request.target().size() > limits.target_bytes_max) {
    return Status::LimitExceeded(
        errc::kUriTooLong, "target",
        "the request target is longer than " + std::to_string(limits.target_bytes_max) + " bytes");
  }
  // Beast takes a repeated Content-Length, or a list of one value, when the values agree;
  // a proxy in front may have read another one.
  if (request.count(http::field::content_length) > 1) {
    return Malformed("Content-Length", "Content-Length appears more than once");
  }
  if (request[http::field::content_length].find(',') != std::string_view::npos) {
    return Malformed("Content-Length", "Content-Length must be a single number");
  }
  // A request body is framed by Content-Length or by chunked; anything else cannot be told
  // apart from the next request. One field, "chunked" alone: a coding before it ("gzip,
  // chunked", or another Transfer-Encoding line) would have a body we cannot decode read as plain.
  const size_t encodings = request.count(http::field::transfer_encoding);
  if (encodings > 0 &&
      (encodings > 1 || !parser.chunked() ||
       !boost::beast::iequals(request[http::field::transfer_encoding], "chunked"))) {
    return Malformed("Transfer-Encoding", "Transfer-Encoding must be chunked, once");
  }
  for (const auto& field : request) {
    if (HasControlCharacter(field.value())) {
      return Malformed(std::string(field.name_string()),
                       "header " + std::string(field.name_string()) + " holds a control character");
    }
  }
  return Status::Ok();
}

Status FramingErrorStatus(beast::error_code error, const RequestParser& parser,
                          std::string_view received, const FramingLimits& limits) {
  using e = http::error;
  if (error == e::header_limit) {
    // The request line alone does not fit (the parser has no target yet): its target is long.
    if (parser.get().target().empty()) {
      return Status::LimitExceeded(
          errc::kUriTooLong, "target",
          "the request line is longer than " + std::to_string(limits.header_bytes_max) + " bytes");
    }
    return Status::LimitExceeded(errc::kHeadersTooLarge, "headers",
                                 "request line and headers are larger than " +
                                     std::to_string(limits.header_bytes_max) + " bytes");
  }
  if (error == e::body_limit) {
    return Status::LimitExceeded(
        errc::kBodyTooLarge, "body",
        "the request body is larger than " + std::to_string(limits.body_bytes_max) + " bytes");
  }
  if (error == e::need_more) {
    return Status::Unavailable(errc::kRequestTimeout,
                               "the request is incomplete; the server waits for the rest until "
                               "its deadline");
  }
  // The client shut its sending side inside a request (it may still read the answer).
  if (error == e::partial_message || error == e::end_of_stream) {
    return Malformed("request", "the connection ended inside the request");
  }
  if (error == e::bad_version) return VersionRefusal(received);
  if (error == e::bad_method && !received.empty() && received.front() == '\x16') {
    return Malformed(
        "request line",
        "a TLS handshake; this server speaks plain HTTP/1.1 (TLS ends in front of it)");
  }
  return Malformed(FieldOfError(error), "malformed request: " + error.message());
}

Result<HttpRequest> ParseRequest(std::string_view bytes, const FramingLimits& limits) {
  RequestParser parser;
  ApplyFramingLimits(parser, limits);
  parser.eager(false);  // stop after the header, to check it before any body byte
  std::string_view rest = bytes;
  beast::error_code error;
  bool header_checked = false;
  // Every round consumes bytes or ends: at most one round per byte, and one more.
  for (size_t round = 0; round <= bytes.size() && !parser.is_done(); ++round) {
    if (rest.empty()) {
      error = http::error::need_more;
      break;
    }
    const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), error);
    rest.remove_prefix(used);
    if (error) break;
    if (parser.is_header_done() && !header_checked) {
      header_checked = true;
      MALPRO_RETURN_IF_ERROR(CheckRequestHeader(parser, limits));
      parser.eager(true);
    }
    if (used == 0 && !parser.is_done()) error = http::error::need_more;
    if (error) break;
  }
  if (error || !parser.is_done()) {
    if (!error) error = http::error::need_more;
    return FramingErrorStatus(error, parser, rest, limits);
  }
  return parser.release();
}

}  // namespace malpro
