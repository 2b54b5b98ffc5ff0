// HttpServer: HTTP/1.1 with keep-alive over Boost.Beast. I/O runs on a few threads; each
// request is answered by an HttpHandler (http_handler.h; the ledger's is Api) on a worker
// pool, because commands wait for the log's synced group write and many must be in flight at
// once for the group to fill. Reads with ?after=SEQ wait for the read models on the
// connection's own executor, holding no thread, and go to a worker only once the read models
// have applied SEQ.
//
// A connection's phases and their deadlines (HttpOptions):
//   idle      until the first byte of a request: idle_timeout_ms, then closed without a word
//   headers   from that first byte to the end of the headers: header_timeout_ms in all, however
//             slowly the bytes come; then 408 request_timeout
//   body      from the end of the headers: request_timeout_ms; then 408 request_timeout
//   waiting   a read with ?after=SEQ: http_read_wait_ms from when it was read, then 503
//             read_models_behind
//   writing   each response: request_timeout_ms, then closed (a client that does not read)
// Live subscriptions (Server-Sent Events) have no deadline but each write's.
//
// Every malformed or refused request is answered before the connection closes, with the JSON
// error body: 400 request_malformed, 505 http_version_unsupported, 414 uri_too_long,
// 431 headers_too_large, 413 body_too_large, 408 request_timeout (framing.h has the rules);
// then the sending side is shut and what the client still sends is read and dropped for a
// bounded time, so that the answer is not lost to a reset. Connections over connections_max,
// or over connections_per_ip_max from one address, are answered 429 overloaded and closed;
// waiting reads over waiting_reads_max, or over waiting_reads_per_token_max of one token, are
// answered 429 too_many_waiting_reads. HEAD is answered on every GET route without the body.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/http_handler.h"
#include "adapters/http/http_limits.h"
#include "adapters/http/metrics.h"
// Not needed here: kept for the callers that build an Api beside the server and include only
// this header (adapters/bank/in_process_bank.h, adapters/cli/config.h, tests/bank).
#include "adapters/http/api.h"

namespace malpro {

struct HttpOptions {
  std::string listen_address = "127.0.0.1";  // loopback unless configured otherwise
  uint16_t port = 8080;                      // 0: any free port (tests)
  int io_threads = 1;
  int worker_threads = 64;  // requests answered at once; commands block until durable
  size_t body_bytes_max = http_body_bytes_default;
  size_t photo_body_bytes_max = http_photo_body_bytes_default;
  int header_timeout_ms = 10'000;   // from a request's first byte to the end of its headers
  int request_timeout_ms = 10'000;  // to read the body after the headers, and to write a response
  int idle_timeout_ms = 30'000;     // before a request's first byte (new or keep-alive)
  int connections_max = 1024;
  // From one address. Below connections_max so that a few addresses (or one flood of
  // half-open connections) cannot take every slot; behind a proxy, raise it to connections_max.
  int connections_per_ip_max = 128;
  // Reads with ?after=SEQ waiting at once: half the connections, so writes keep room.
  int waiting_reads_max = 512;
  // ... of them by one token (its role and subject), so one caller cannot take them all.
  int waiting_reads_per_token_max = 256;
};

// The connections waiting for an answer that no thread waits for (server.cc).
struct AnswerGate;
// Open connections by remote address, and reads waiting for the read models (server.cc).
class ConnectionTable;
class ReadWaits;

class HttpServer {
 public:
  // `handler` and `metrics` must outlive the server.
  HttpServer(HttpOptions options, HttpHandler* handler, HttpMetrics* metrics);
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
  // Serves `socket`, or answers it 429 when a connection limit is reached.
  void Admit(boost::asio::ip::tcp::socket socket);

  HttpOptions options_;
  HttpHandler* handler_;
  HttpMetrics* metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::thread_pool> workers_;
  std::shared_ptr<AnswerGate> gate_;
  std::shared_ptr<ConnectionTable> connections_;
  std::shared_ptr<ReadWaits> read_waits_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace malpro
