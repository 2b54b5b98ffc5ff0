// A small synchronous HTTP/1.1 client for tests: one keep-alive connection to 127.0.0.1.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <string>

namespace malpro::testing {

struct Reply {
  int status = 0;  // 0: the connection failed or closed
  std::string body;
  std::map<std::string, std::string> headers;
};

class BeastClient {
 public:
  explicit BeastClient(uint16_t port) : stream_(io_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    stream_.connect(endpoint);
  }

  Reply Send(boost::beast::http::verb method, const std::string& target,
             const std::string& body = "", const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    boost::beast::error_code error;
    http::write(stream_, request, error);
    Reply reply;
    if (error) return reply;
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response, error);
    if (error) return reply;
    reply.status = response.result_int();
    reply.body = response.body();
    for (const auto& field : response)
      reply.headers[std::string(field.name_string())] = std::string(field.value());
    return reply;
  }

  boost::asio::ip::tcp::socket& socket() { return stream_.socket(); }

 private:
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace malpro::testing
