// Framing of HTTP/1.x requests: where a request starts and ends, and which byte sequences are
// refused before any route sees them. Beast's parser does the parsing; the rules it leaves to
// its user (a duplicate Content-Length, a Transfer-Encoding that is not chunked, a target over
// its own limit, an HTTP/2 preface or another protocol version) are checked here. The server's
// sessions and ParseRequest (for tests and fuzzing) use the same rules and the same refusals.
//
// Refusals and their HTTP status (ErrorStatus maps the code):
//   400 request_malformed         a broken request line, header or chunk; NUL or other control
//                                 bytes; a TLS ClientHello or HTTP/2 preface; a bad, repeated or
//                                 listed Content-Length; Content-Length with Transfer-Encoding;
//                                 a Transfer-Encoding other than chunked; a request cut short
//                                 by the client shutting its sending side
//   414 uri_too_long              the request target is longer than target_bytes_max
//   431 headers_too_large         request line and headers are longer than header_bytes_max
//   413 body_too_large            the body is longer than body_bytes_max
//   505 http_version_unsupported  a well-formed request line of another version than 1.0, 1.1
//   408 request_timeout           (ParseRequest) the bytes end before the request does: the
//                                 server waits for the rest and answers 408 at its deadline
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <string_view>

#include "adapters/http/http_handler.h"
#include "engine/result.h"

namespace malpro {

struct FramingLimits {
  size_t header_bytes_max;  // request line and headers, with their line ends
  size_t target_bytes_max;  // the request target (path and query)
  size_t body_bytes_max;    // the body, after chunked decoding
};

using RequestParser = http::request_parser<http::string_body>;

// Parses one complete request from `bytes` with our limits. On a framing error returns the
// Status the server answers with (its HTTP status is ErrorStatus(status), the same mapping
// the server uses). Bytes after the request (a pipelined next one) are ignored.
Result<HttpRequest> ParseRequest(std::string_view bytes, const FramingLimits& limits);

// Sets the parser's header and body limits. Call before the first byte.
void ApplyFramingLimits(RequestParser& parser, const FramingLimits& limits);

// The rules Beast leaves to us, checked once the header is parsed (before any body byte is
// read): OK, or the refusal.
Status CheckRequestHeader(const RequestParser& parser, const FramingLimits& limits);

// The refusal for an error of `parser`. `received` is what is buffered and not yet consumed
// by it (a request line it refused is still there), used to tell a well-formed line of another
// HTTP version (505) from garbage (400) and a TLS handshake from other bytes; the parser tells
// whether the request line was complete, to tell a long target (414) from long headers (431).
// Not for end_of_stream before any byte (a client that left), which no one hears an answer to.
Status FramingErrorStatus(boost::beast::error_code error, const RequestParser& parser,
                          std::string_view received, const FramingLimits& limits);

}  // namespace malpro
