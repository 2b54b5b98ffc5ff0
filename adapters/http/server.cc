#include "adapters/http/server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

namespace malpro {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace

// Connections whose command is placed without a waiting thread: held here (not by the log's
// callback) until the answer is handed to the I/O context. Stop() closes the gate and lets
// them go while the context still exists; an answer arriving later (the log's syncer
// finishing a group) is dropped.
struct AnswerGate {
  std::mutex mutex;
  std::condition_variable answered;
  bool accepting = true;  // new commands may take this way; false once Stop() began
  bool open = true;       // answers may still reach the I/O context
  int pending = 0;        // commands taken this way whose answer has not been handed on
  std::set<std::shared_ptr<void>> waiting;
};

namespace {

HttpResponse LimitResponse(const Status& status) {
  HttpRequest request{http::verb::get, "/", 11};
  request.keep_alive(false);
  HttpResponse response = ErrorResponse(request, status);
  response.keep_alive(false);
  return response;
}

// One connection: read a request (headers, then the body within the route's limit), answer
// it on the worker pool, write the response, and read the next one.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpOptions& options, Api* api, HttpMetrics* metrics,
          net::thread_pool* workers, std::shared_ptr<AnswerGate> gate)
      : stream_(std::move(socket)), options_(options), api_(api), metrics_(metrics),
        workers_(workers), gate_(std::move(gate)) {
    metrics_->ConnectionOpened();
  }
  ~Session() {
    if (subscription_) metrics_->SubscriptionClosed();
    metrics_->ConnectionClosed();
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

 private:
  // Reads are timed by the session's own timer, not the stream's expiry: the stream closes
  // the socket when its expiry fires, and a slow client should still be told 408.
  void StartDeadline(int milliseconds) {
    timed_out_ = false;
    stream_.expires_never();
    timer_.expires_after(std::chrono::milliseconds(milliseconds));
    timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (error) return;  // cancelled: the read finished in time
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(http_header_bytes_max);
    parser_->body_limit(options_.photo_body_bytes_max);
    StartDeadline(options_.idle_timeout_ms);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code error, size_t) {
                              self->timer_.cancel();
                              self->OnHeader(error);
                            });
  }

  void OnHeader(beast::error_code error) {
    if (error == http::error::header_limit) {
      return Refuse(Status::LimitExceeded("headers_too_large", "headers",
                                          "request headers are larger than " +
                                              std::to_string(http_header_bytes_max) + " bytes"));
    }
    // An idle keep-alive connection just closes; a half-sent request is told 408.
    if (error && timed_out_ && buffer_.size() > 0) return RefuseTimeout();
    if (error) return Close();
    const size_t limit = api_->BodyLimitFor(parser_->get().method(), parser_->get().target());
    const auto length = parser_->content_length();
    if (length && *length > limit) return RefuseBody(limit);
    parser_->body_limit(limit);
    StartDeadline(options_.request_timeout_ms);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, size_t) {
                       self->timer_.cancel();
                       self->OnBody(error);
                     });
  }

  void OnBody(beast::error_code error) {
    if (error == http::error::body_limit) {
      return RefuseBody(api_->BodyLimitFor(parser_->get().method(), parser_->get().target()));
    }
    if (error && timed_out_) return RefuseTimeout();
    if (error) return Close();
    auto request = std::make_shared<HttpRequest>(parser_->release());
    if (api_->IsSubscription(*request)) return StartSubscription(*request);
    if (api_->IsQuick(*request)) {
      // A read of one cached row: cheaper to answer here than to hand to a worker and back.
      return Write(Answer(*request));
    }
    // A command that need not hold a thread while its write is synced.
    const auto started = std::chrono::steady_clock::now();
    std::shared_ptr<Session> waiting = shared_from_this();
    bool taken = false;
    {
      std::lock_guard lock(gate_->mutex);
      if (gate_->accepting) {
        gate_->waiting.insert(waiting);
        ++gate_->pending;
        taken = true;
      }
    }
    // Called exactly once, on any thread (the log's syncer, a worker).
    auto respond = [gate = gate_, weak = std::weak_ptr<Session>(waiting), request,
                    started](Api::MakeResponse make) {
      std::lock_guard lock(gate->mutex);
      --gate->pending;
      gate->answered.notify_all();
      std::shared_ptr<Session> self = weak.lock();
      if (!gate->open || !self) return;  // the server stopped; the connection is gone
      gate->waiting.erase(self);
      net::post(self->stream_.get_executor(), [self, request, started, make = std::move(make)] {
        HttpResponse response = make();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        self->metrics_->Record(self->api_->RouteLabel(request->method(), request->target()),
                               response.result_int(), seconds);
        self->Write(std::move(response));
      });
    };
    auto defer = [workers = workers_](std::function<void()> work) {
      net::post(*workers, std::move(work));
    };
    if (taken && api_->HandleAsync(request, respond, defer)) return;
    if (taken) {
      std::lock_guard lock(gate_->mutex);
      gate_->waiting.erase(waiting);
      --gate_->pending;
    }
    net::post(*workers_, [self = shared_from_this(), request] {
      HttpResponse response = self->Answer(*request);
      net::post(self->stream_.get_executor(),
                [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    });
  }

  HttpResponse Answer(const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    HttpResponse response = api_->Handle(request);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_->Record(api_->RouteLabel(request.method(), request.target()), response.result_int(),
                     seconds);
    return response;
  }

  void Write(HttpResponse response) {
    auto shared = std::make_shared<HttpResponse>(std::move(response));
    stream_.expires_after(std::chrono::milliseconds(options_.request_timeout_ms));
    http::async_write(stream_, *shared,
                      [self = shared_from_this(), shared](beast::error_code error, size_t) {
                        if (error || !shared->keep_alive()) return self->Close();
                        self->ReadHeader();
                      });
  }

  // Server-Sent Events: the header, then whatever the subscription yields, polled on this
  // connection's strand (no worker thread is held), with a heartbeat when idle.
  void StartSubscription(const HttpRequest& request) {
    if (!metrics_->SubscriptionOpened()) {
      return Refuse(Status::Unavailable("overloaded", "too many live subscriptions are open"));
    }
    HttpResponse refusal;
    Result<Subscription> subscription = api_->OpenSubscription(request, &refusal);
    if (!subscription.ok()) {
      metrics_->SubscriptionClosed();
      refusal.keep_alive(false);
      return Write(std::move(refusal));
    }
    subscription_ = std::move(subscription).value();
    stream_.expires_never();
    last_sent_ = std::chrono::steady_clock::now();
    // A subscriber sends nothing more: any read completing means it went away.
    stream_.socket().async_read_some(
        net::buffer(gone_probe_), [self = shared_from_this()](beast::error_code, size_t) {
          self->timer_.cancel();
          self->Close();
        });
    SendChunk(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\n\r\n: subscribed\n\n");
  }

  void SendChunk(std::string text) {
    chunk_ = std::move(text);
    last_sent_ = std::chrono::steady_clock::now();
    net::async_write(stream_.socket(), net::buffer(chunk_),
                     [self = shared_from_this()](beast::error_code error, size_t) {
                       if (error) return self->Close();
                       self->Poll();
                     });
  }

  void Poll() {
    Result<std::string> text = subscription_->poll();
    if (!text.ok()) return Close();
    if (!text->empty()) return SendChunk(std::move(text).value());
    if (std::chrono::steady_clock::now() - last_sent_ >
        std::chrono::milliseconds(http_subscription_heartbeat_ms)) {
      return SendChunk(": keep-alive\n\n");
    }
    timer_.expires_after(std::chrono::milliseconds(http_subscription_poll_ms));
    timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (!error) self->Poll();
    });
  }

  void RefuseBody(size_t limit) {
    Refuse(Status::LimitExceeded("body_too_large", "body",
                                 "the request body is larger than " + std::to_string(limit) +
                                     " bytes"));
  }

  void RefuseTimeout() {
    HttpResponse response = LimitResponse(Status::Unavailable(
        "request_timeout", "the request was not received within " +
                               std::to_string(options_.request_timeout_ms) + " ms"));
    response.result(http::status::request_timeout);
    Write(std::move(response));
  }

  void Refuse(const Status& status) { Write(LimitResponse(status)); }

  void Close() {
    if (!stream_.socket().is_open()) return;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_{stream_.get_executor()};
  std::optional<Subscription> subscription_;
  bool timed_out_ = false;
  std::string chunk_;
  std::array<char, 1> gone_probe_{};
  std::chrono::steady_clock::time_point last_sent_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpOptions& options_;
  Api* api_;
  HttpMetrics* metrics_;
  net::thread_pool* workers_;
  std::shared_ptr<AnswerGate> gate_;
};

}  // namespace

HttpServer::HttpServer(HttpOptions options, Api* api, HttpMetrics* metrics)
    : options_(std::move(options)), api_(api), metrics_(metrics), acceptor_(net::make_strand(io_)),
      gate_(std::make_shared<AnswerGate>()) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  beast::error_code error;
  const net::ip::address address = net::ip::make_address(options_.listen_address, error);
  if (error) {
    return Status::InvalidArgument("listen_address_invalid", "http.listen_address",
                                   "http.listen_address is not an IP address: " + error.message());
  }
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(net::socket_base::max_listen_connections, error);
  if (error) {
    return Status::IOError("cannot listen on " + options_.listen_address + ":" +
                           std::to_string(options_.port) + ": " + error.message());
  }
  port_ = acceptor_.local_endpoint().port();
  workers_ = std::make_unique<net::thread_pool>(options_.worker_threads);
  running_ = true;
  Accept();
  for (int i = 0; i < options_.io_threads; ++i) io_threads_.emplace_back([this] { io_.run(); });
  return Status::Ok();
}

void HttpServer::Accept() {
  // A connection's handlers run one at a time: on a strand when several threads run the
  // I/O context, and on the context itself when one does (a strand would only add locking).
  const net::any_io_executor executor =
      options_.io_threads == 1 ? net::any_io_executor(io_.get_executor())
                               : net::any_io_executor(net::make_strand(io_));
  acceptor_.async_accept(executor, [this](beast::error_code error, tcp::socket socket) {
    if (error == net::error::operation_aborted) return;
    if (!error) {
      if (metrics_->connections_open() >= options_.connections_max) {
        metrics_->ConnectionRejected();
        HttpResponse response = LimitResponse(
            Status::Unavailable("overloaded", "the server has too many open connections"));
        beast::error_code ignored;
        http::write(socket, response, ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
      } else {
        std::make_shared<Session>(std::move(socket), options_, api_, metrics_, workers_.get(),
                                  gate_)
            ->Start();
      }
    }
    Accept();
  });
}

void HttpServer::Stop() {
  if (!running_) return;
  running_ = false;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  // Commands placed without a waiting thread are answered first: their answers come from
  // the log's syncer (or a worker, after a lost race) and need the workers and the I/O
  // context; nothing placed this way may outlive the server. New ones take the worker path.
  std::set<std::shared_ptr<void>> abandoned;
  {
    std::unique_lock lock(gate_->mutex);
    gate_->accepting = false;
    gate_->answered.wait_for(lock, std::chrono::milliseconds(http_stop_answers_wait_ms),
                             [this] { return gate_->pending == 0; });
  }
  workers_->join();
  {
    std::lock_guard lock(gate_->mutex);
    gate_->open = false;
    abandoned.swap(gate_->waiting);
  }
  abandoned.clear();  // their connections close here, while the I/O context exists
  io_.stop();
  for (std::thread& thread : io_threads_) thread.join();
  io_threads_.clear();
}

}  // namespace malpro
