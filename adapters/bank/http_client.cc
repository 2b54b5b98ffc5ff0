#include "adapters/bank/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

#include "engine/error_codes.h"

namespace malpro {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using boost::asio::ip::tcp;

Result<HttpEndpoint> ParseHttpUrl(std::string_view url, std::string_view field) {
  const Status bad = Status::InvalidArgument(
      errc::kUrlInvalid, field,
      std::string(field) + " must be http[s]://host[:port][/prefix], e.g. http://127.0.0.1:9090");
  HttpEndpoint endpoint;
  if (url.starts_with("https://")) {
    endpoint.tls = true;
    endpoint.port = "443";
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return bad;
  }
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
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

namespace {

http::request<http::string_body> MakeRequest(const HttpEndpoint& endpoint, std::string_view method,
                                             std::string_view path,
                                             const std::map<std::string, std::string>& headers,
                                             std::string_view body) {
  http::request<http::string_body> request{http::string_to_verb(method),
                                           endpoint.path_prefix + std::string(path), 11};
  request.set(http::field::host, endpoint.host);
  request.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();
  return request;
}

// Writes `request` on `stream`, then reads the answer into `parser`; `outcome` is the error of
// the step that failed, or the read's.
template <typename Stream>
void WriteThenRead(Stream& stream, http::request<http::string_body>& request,
                   beast::flat_buffer& buffer, http::response_parser<http::string_body>& parser,
                   std::optional<beast::error_code>& outcome) {
  http::async_write(
      stream, request, [&stream, &buffer, &parser, &outcome](beast::error_code written, size_t) {
        if (written) return void(outcome = written);
        http::async_read(stream, buffer, parser,
                         [&outcome](beast::error_code read, size_t) { outcome = read; });
      });
}

// Runs `io` until the exchange ends, shuts `socket` down, and turns the exchange's outcome into
// a reply or a Status.
Result<HttpReply> Finish(boost::asio::io_context& io, tcp::socket& socket,
                         const std::optional<beast::error_code>& outcome,
                         http::response_parser<http::string_body>& parser, int timeout_ms,
                         const std::string& where) {
  // The stream's own timer ends the exchange; the margin only guards against a lost wakeup.
  io.run_for(std::chrono::milliseconds(timeout_ms + 1000));
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  if (!outcome) return Status::Unavailable(errc::kBankTimeout, where + ": no answer in time");
  if (*outcome == beast::error::timeout) {
    return Status::Unavailable(errc::kBankTimeout,
                               where + ": no answer within " + std::to_string(timeout_ms) + " ms");
  }
  if (*outcome)
    return Status::Unavailable(errc::kBankUnreachable, where + ": " + outcome->message());
  HttpReply reply;
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  return reply;
}

// The peer must show a certificate for endpoint.host from the system's CAs or ca_file.
Status TrustTheBank(const HttpEndpoint& endpoint, const std::string& where, ssl::context& tls) {
  beast::error_code error;
  tls.set_verify_mode(ssl::verify_peer);
  if (endpoint.ca_file.empty()) {
    tls.set_default_verify_paths(error);
  } else {
    tls.load_verify_file(endpoint.ca_file, error);
  }
  if (error) {
    return Status::Unavailable(errc::kBankUnreachable,
                               where + ": cannot load the CAs to trust: " + error.message());
  }
  tls.set_verify_callback(ssl::host_name_verification(endpoint.host));
  return Status::Ok();
}

}  // namespace

Result<HttpReply> SendHttp(const HttpEndpoint& endpoint, std::string_view method,
                           std::string_view path, const std::map<std::string, std::string>& headers,
                           std::string_view body, int timeout_ms) {
  const std::string where = std::string(method) + (endpoint.tls ? " https://" : " http://") +
                            endpoint.host + ":" + endpoint.port + endpoint.path_prefix +
                            std::string(path);
  boost::asio::io_context io;
  beast::error_code error;
  tcp::resolver resolver(io);
  const tcp::resolver::results_type addresses =
      resolver.resolve(endpoint.host, endpoint.port, error);
  if (error) return Status::Unavailable(errc::kBankUnreachable, where + ": " + error.message());
  http::request<http::string_body> request = MakeRequest(endpoint, method, path, headers, body);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(bank_response_bytes_max);
  std::optional<beast::error_code> outcome;

  if (!endpoint.tls) {
    // One deadline for the whole exchange: the stream's timer covers every async step below.
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    stream.async_connect(addresses, [&](beast::error_code connected, const tcp::endpoint&) {
      if (connected) return void(outcome = connected);
      WriteThenRead(stream, request, buffer, parser, outcome);
    });
    return Finish(io, stream.socket(), outcome, parser, timeout_ms, where);
  }

  ssl::context tls(ssl::context::tls_client);
  MALPRO_RETURN_IF_ERROR(TrustTheBank(endpoint, where, tls));
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  // Server Name Indication, so that a host serving several names shows the right certificate.
  if (!SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str())) {
    return Status::Unavailable(errc::kBankUnreachable, where + ": cannot set the TLS server name");
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(timeout_ms));
  beast::get_lowest_layer(stream).async_connect(
      addresses, [&](beast::error_code connected, const tcp::endpoint&) {
        if (connected) return void(outcome = connected);
        stream.async_handshake(ssl::stream_base::client, [&](beast::error_code shaken) {
          if (shaken) return void(outcome = shaken);
          WriteThenRead(stream, request, buffer, parser, outcome);
        });
      });
  return Finish(io, beast::get_lowest_layer(stream).socket(), outcome, parser, timeout_ms, where);
}

}  // namespace malpro
