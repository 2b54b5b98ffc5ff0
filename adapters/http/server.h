// HttpServer: HTTP/1.1 with keep-alive over Boost.Beast. I/O runs on a few threads; each
// request is answered by Api::Handle on a worker pool, because commands wait for the log's
// synced group write and many must be in flight at once for the group to fill.
//
// Limits (each answered, then the connection closed): headers over http_header_bytes_max and
// bodies over the route's limit -> 413; a request not read within request_timeout_ms -> 408;
// more than connections_max connections -> 429. An idle keep-alive connection is closed after
// idle_timeout_ms.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/api.h"
#include "adapters/http/http_limits.h"

namespace malpro {

struct HttpOptions {
  std::string listen_address = "127.0.0.1";  // loopback unless configured otherwise
  uint16_t port = 8080;                      // 0: any free port (tests)
  int io_threads = 1;
  int worker_threads = 64;  // requests answered at once; commands block until durable
  size_t body_bytes_max = http_body_bytes_default;
  size_t photo_body_bytes_max = http_photo_body_bytes_default;
  int request_timeout_ms = 10'000;  // to read one whole request, and to write its response
  int idle_timeout_ms = 30'000;     // between requests on a keep-alive connection
  int connections_max = 1024;
};

// The connections waiting for an answer that no thread waits for (server.cc).
struct AnswerGate;

class HttpServer {
 public:
  // `api` and `metrics` must outlive the server.
  HttpServer(HttpOptions options, Api* api, HttpMetrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. InvalidArgument for a bad address, IOError when it cannot bind.
  Status Start();
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void Stop();
  // The bound port (useful with port 0).
  uint16_t port() const { return port_; }

 private:
  void Accept();

  HttpOptions options_;
  Api* api_;
  HttpMetrics* metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::thread_pool> workers_;
  std::shared_ptr<AnswerGate> gate_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace malpro
