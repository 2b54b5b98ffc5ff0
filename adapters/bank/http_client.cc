#include "adapters/bank/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

namespace malpro {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::asio::ip::tcp;

Result<HttpEndpoint> ParseHttpUrl(std::string_view url, std::string_view field) {
  const Status bad = Status::InvalidArgument(
      "url_invalid", field,
      std::string(field) + " must be http://host[:port][/prefix], e.g. http://127.0.0.1:9090");
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return bad;
  url.remove_prefix(scheme.size());
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  HttpEndpoint endpoint;
  if (slash != std::string_view::npos) {
    std::string_view prefix = url.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    endpoint.path_prefix = std::string(prefix);
  }
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) > 65535) {
      return bad;
    }
    endpoint.port = std::string(port);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return bad;
  endpoint.host = std::string(authority);
  return endpoint;
}

Result<HttpReply> SendHttp(const HttpEndpoint& endpoint, std::string_view method,
                           std::string_view path, const std::map<std::string, std::string>& headers,
                           std::string_view body, int timeout_ms) {
  const std::string where = std::string(method) + " http://" + endpoint.host + ":" + endpoint.port +
                            endpoint.path_prefix + std::string(path);
  boost::asio::io_context io;
  beast::error_code error;
  tcp::resolver resolver(io);
  const tcp::resolver::results_type addresses =
      resolver.resolve(endpoint.host, endpoint.port, error);
  if (error) return Status::Unavailable("bank_unreachable", where + ": " + error.message());

  http::request<http::string_body> request{http::string_to_verb(method),
                                           endpoint.path_prefix + std::string(path), 11};
  request.set(http::field::host, endpoint.host);
  request.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();

  // One deadline for the whole exchange: the stream's timer covers every async step below.
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(bank_response_bytes_max);
  std::optional<beast::error_code> outcome;
  stream.async_connect(addresses, [&](beast::error_code connected, const tcp::endpoint&) {
    if (connected) return void(outcome = connected);
    http::async_write(stream, request, [&](beast::error_code written, size_t) {
      if (written) return void(outcome = written);
      http::async_read(stream, buffer, parser,
                       [&](beast::error_code read, size_t) { outcome = read; });
    });
  });
  // The stream's own timer ends the exchange; the margin only guards against a lost wakeup.
  io.run_for(std::chrono::milliseconds(timeout_ms + 1000));
  if (!outcome) return Status::Unavailable("bank_timeout", where + ": no answer in time");
  if (*outcome == beast::error::timeout) {
    return Status::Unavailable("bank_timeout",
                               where + ": no answer within " + std::to_string(timeout_ms) + " ms");
  }
  if (*outcome) return Status::Unavailable("bank_unreachable", where + ": " + outcome->message());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  HttpReply reply;
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  return reply;
}

}  // namespace malpro
