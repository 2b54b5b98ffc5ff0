// A small outbound HTTP/1.1 client for the bank adapter and the bank simulator: one POST or
// GET per call on a fresh connection, with one deadline for resolve, connect, write and read,
// and a bounded response body. https:// endpoints are reached over TLS (OpenSSL), verifying
// the server's certificate chain and host name against the system's CAs or a given CA file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace malpro {

// The bank's answers are small JSON objects; anything larger is refused, not buffered.
inline constexpr size_t bank_response_bytes_max = 1 << 20;

// "http://host:port/prefix" split into its parts. The prefix is put before every path.
struct HttpEndpoint {
  std::string host;
  std::string port = "80";  // 443 for https when not given
  std::string path_prefix;  // "" or "/something", never ending in '/'
  bool tls = false;         // https://
  // PEM file of the CAs to trust for TLS; empty: the system's (/etc/ssl/certs).
  std::string ca_file;
};

// InvalidArgument naming `field` unless `url` is http[s]://host[:port][/prefix].
Result<HttpEndpoint> ParseHttpUrl(std::string_view url, std::string_view field);

struct HttpReply {
  int status = 0;
  std::string body;
};

// Sends one request and reads the answer. Unavailable ("bank_unreachable" or
// "bank_timeout") when the endpoint cannot be reached or does not answer within timeout_ms.
Result<HttpReply> SendHttp(const HttpEndpoint& endpoint, std::string_view method,
                           std::string_view path, const std::map<std::string, std::string>& headers,
                           std::string_view body, int timeout_ms);

}  // namespace malpro
