#include "adapters/http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "adapters/http/framing.h"
#include "engine/assert.h"
#include "engine/error_codes.h"

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

// Open connections, in all and by remote address: a slot is taken before a connection is
// served, and given back when its session ends. Thread-safe.
class ConnectionTable {
 public:
  ConnectionTable(int max, int per_address_max) : max_(max), per_address_max_(per_address_max) {}

  // OK with a slot taken, or 429 overloaded naming the limit that was reached.
  Status Open(const net::ip::address& address) {
    std::lock_guard lock(mutex_);
    if (open_ >= max_) {
      return Status::Unavailable(errc::kOverloaded, "the server has too many open connections");
    }
    int& from_address = by_address_[address];
    if (from_address >= per_address_max_) {
      return Status::Unavailable(errc::kOverloaded,
                                 "too many open connections from " + address.to_string());
    }
    ++from_address;
    ++open_;
    return Status::Ok();
  }

  void Close(const net::ip::address& address) {
    std::lock_guard lock(mutex_);
    auto found = by_address_.find(address);
    MALPRO_ASSERT(found != by_address_.end() && found->second > 0 && open_ > 0);
    --open_;
    if (--found->second == 0) by_address_.erase(found);
  }

  // Connections being turned away (answered 429 and drained) at once are bounded too: beyond
  // http_turn_aways_max, one is closed without an answer.
  bool StartTurnAway() {
    if (turning_away_.fetch_add(1) < http_turn_aways_max) return true;
    EndTurnAway();
    return false;
  }
  void EndTurnAway() { turning_away_.fetch_sub(1); }

 private:
  const int max_;
  const int per_address_max_;
  std::mutex mutex_;
  int open_ = 0;
  std::map<net::ip::address, int> by_address_;
  std::atomic<int> turning_away_{0};
};

// Reads with ?after=SEQ waiting for the read models, held by no thread: while any waits, a
// timer on the I/O context looks at the read models' position every http_read_wait_poll_ms
// and wakes the reads it reached and those whose deadline passed. Thread-safe.
class ReadWaits : public std::enable_shared_from_this<ReadWaits> {
 public:
  // `wake(true)` once the read models applied the sequence, `wake(false)` once the deadline
  // passed first; called once, on the poller's strand.
  using Wake = std::function<void(bool applied)>;

  ReadWaits(net::io_context& io, HttpHandler* handler, int max, int per_caller_max)
      : handler_(handler),
        max_(max),
        per_caller_max_(per_caller_max),
        strand_(net::make_strand(io)),
        timer_(strand_) {}

  // The wait's id when the read waits, or 429 too_many_waiting_reads when a cap is reached.
  Result<uint64_t> Add(const ReadWait& wait, std::chrono::steady_clock::time_point deadline,
                       Wake wake) {
    std::lock_guard lock(mutex_);
    if (static_cast<int>(waiters_.size()) >= max_) {
      return Status::Unavailable(
          errc::kTooManyWaitingReads,
          std::to_string(max_) + " reads already wait for the read models; retry later");
    }
    int& of_caller = by_caller_[wait.caller];
    if (of_caller >= per_caller_max_) {
      return Status::Unavailable(errc::kTooManyWaitingReads,
                                 "this token already has " + std::to_string(per_caller_max_) +
                                     " reads waiting for the read models; retry later");
    }
    ++of_caller;
    const uint64_t id = ++last_id_;
    waiters_.push_back({id, wait.sequence, deadline, wait.caller, std::move(wake)});
    if (!polling_) {
      polling_ = true;
      net::post(strand_, [self = shared_from_this()] { self->Arm(); });
    }
    return id;
  }

  // Forgets a wait whose client left; its wake is not called. Nothing when it was woken.
  void Cancel(uint64_t id) {
    Wake dropped;
    std::lock_guard lock(mutex_);
    auto found = std::find_if(waiters_.begin(), waiters_.end(),
                              [id](const Waiter& waiter) { return waiter.id == id; });
    if (found == waiters_.end()) return;
    dropped = std::move(found->wake);
    if (--by_caller_[found->caller] == 0) by_caller_.erase(found->caller);
    waiters_.erase(found);
  }

  // Drops every wait (Stop, once the I/O threads are gone): their connections close.
  void Clear() {
    std::vector<Waiter> dropped;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(waiters_);
      by_caller_.clear();
      polling_ = false;
    }
    timer_.cancel();
  }

 private:
  struct Waiter {
    uint64_t id;
    uint64_t sequence;
    std::chrono::steady_clock::time_point deadline;
    std::string caller;
    Wake wake;
  };

  void Arm() {
    timer_.expires_after(std::chrono::milliseconds(http_read_wait_poll_ms));
    timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (!error) self->Poll();
    });
  }

  void Poll() {
    const uint64_t applied = handler_->ReadModelsApplied();
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<Wake, bool>> woken;
    bool more = false;
    {
      std::lock_guard lock(mutex_);
      auto done = std::partition(waiters_.begin(), waiters_.end(), [&](const Waiter& waiter) {
        return waiter.sequence > applied && waiter.deadline > now;
      });
      for (auto it = done; it != waiters_.end(); ++it) {
        woken.emplace_back(std::move(it->wake), it->sequence <= applied);
        if (--by_caller_[it->caller] == 0) by_caller_.erase(it->caller);
      }
      waiters_.erase(done, waiters_.end());
      more = polling_ = !waiters_.empty();
    }
    for (auto& [wake, reached] : woken) wake(reached);
    if (more) Arm();
  }

  HttpHandler* handler_;
  const int max_;
  const int per_caller_max_;
  net::strand<net::io_context::executor_type> strand_;
  net::steady_timer timer_;  // used on strand_ only
  std::mutex mutex_;
  std::vector<Waiter> waiters_;
  std::map<std::string, int> by_caller_;
  bool polling_ = false;  // a poll is armed or running
  uint64_t last_id_ = 0;
};

namespace {

using Clock = std::chrono::steady_clock;

HttpResponse LimitResponse(const Status& status) {
  HttpRequest request{http::verb::get, "/", 11};
  request.keep_alive(false);
  HttpResponse response = ErrorResponse(request, status);
  response.keep_alive(false);
  return response;
}

bool IsFramingError(beast::error_code error) {
  return error.category() == http::make_error_code(http::error::need_more).category();
}

// A connection's slot in the ConnectionTable, given back when the connection ends.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<ConnectionTable> table, net::ip::address address)
      : table_(std::move(table)), address_(std::move(address)) {}
  ~ConnectionSlot() { table_->Close(address_); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<ConnectionTable> table_;
  net::ip::address address_;
};

// A connection over a limit: answered 429 at once, its sending side shut, what the client
// sends read and dropped until it closes or http_refusal_drain_ms pass (so the answer is not
// lost to a reset), then closed. Holds no slot.
class TurnAway : public std::enable_shared_from_this<TurnAway> {
 public:
  TurnAway(tcp::socket socket, const Status& status, std::shared_ptr<ConnectionTable> table)
      : socket_(std::move(socket)), table_(std::move(table)) {
    std::ostringstream text;
    text << LimitResponse(status);
    text_ = text.str();
  }
  ~TurnAway() { table_->EndTurnAway(); }

  void Start() {
    timer_.expires_after(std::chrono::milliseconds(http_refusal_drain_ms));
    timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (error) return;
      beast::error_code ignored;
      self->socket_.close(ignored);
    });
    net::async_write(socket_, net::buffer(text_),
                     [self = shared_from_this()](beast::error_code error, size_t) {
                       if (error) {
                         self->timer_.cancel();
                         return;
                       }
                       beast::error_code ignored;
                       self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                       self->Drain();
                     });
  }

 private:
  void Drain() {
    socket_.async_read_some(net::buffer(buffer_),
                            [self = shared_from_this()](beast::error_code error, size_t read) {
                              self->drained_ += read;
                              if (error || self->drained_ >= http_header_bytes_max) {
                                self->timer_.cancel();
                                beast::error_code ignored;
                                self->socket_.close(ignored);
                                return;
                              }
                              self->Drain();
                            });
  }

  tcp::socket socket_;
  net::steady_timer timer_{socket_.get_executor()};
  std::shared_ptr<ConnectionTable> table_;
  std::string text_;
  std::array<char, 1024> buffer_{};
  size_t drained_ = 0;
};

// One connection: wait for a request's first byte, read its header and then its body within
// their deadlines and limits, answer it (on the worker pool, on this connection's executor,
// or once the read models reached ?after=SEQ), write the response, and read the next one.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpOptions& options, HttpHandler* handler,
          HttpMetrics* metrics, net::thread_pool* workers, std::shared_ptr<AnswerGate> gate,
          std::shared_ptr<ReadWaits> read_waits, std::unique_ptr<ConnectionSlot> slot)
      : stream_(std::move(socket)),
        options_(options),
        handler_(handler),
        metrics_(metrics),
        workers_(workers),
        gate_(std::move(gate)),
        read_waits_(std::move(read_waits)),
        slot_(std::move(slot)) {
    metrics_->ConnectionOpened();
  }
  ~Session() {
    if (subscription_) metrics_->SubscriptionClosed();
    metrics_->ConnectionClosed();
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

 private:
  // Phases are timed by the session's own timer, not the stream's expiry: the stream closes
  // the socket when its expiry fires, and a slow client should still be told 408. A deadline
  // belongs to one phase: ending the phase (StopDeadline) disarms it even if it already fired.
  void StartDeadline(int milliseconds) {
    timed_out_ = false;
    stream_.expires_never();
    const uint64_t phase = ++phase_;
    timer_.expires_after(std::chrono::milliseconds(milliseconds));
    timer_.async_wait([self = shared_from_this(), phase](beast::error_code error) {
      if (error || phase != self->phase_) return;  // the phase ended in time
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void StopDeadline() {
    ++phase_;
    timer_.cancel();
  }

  FramingLimits Limits(size_t body_bytes_max) const {
    return {http_header_bytes_max, http_target_bytes_max, body_bytes_max};
  }

  std::string_view Received() const {
    return {static_cast<const char*>(buffer_.data().data()), buffer_.size()};
  }

  // Idle until a request's first byte (at once when a pipelined one is buffered already).
  void ReadRequest() {
    head_ = false;
    parser_.emplace();
    ApplyFramingLimits(*parser_, Limits(options_.photo_body_bytes_max));
    if (buffer_.size() > 0) return ReadHeader();
    StartDeadline(options_.idle_timeout_ms);
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](beast::error_code error) {
                                  self->StopDeadline();
                                  if (error) return self->Close();  // idle too long, or gone
                                  self->ReadHeader();
                                });
  }

  // From the first byte, the request line and headers have header_timeout_ms in all.
  void ReadHeader() {
    StartDeadline(options_.header_timeout_ms);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code error, size_t) {
                              const bool timed_out = self->timed_out_;
                              self->StopDeadline();
                              self->OnHeader(error, timed_out);
                            });
  }

  void OnHeader(beast::error_code error, bool timed_out) {
    if (error && timed_out) {
      return Refuse(Status::Unavailable(errc::kRequestTimeout,
                                        "the request line and headers were not received within " +
                                            std::to_string(options_.header_timeout_ms) + " ms"));
    }
    // A client that left before sending anything hears nothing; one that sent half a request
    // and shut its sending side is told why (it may still read).
    if (error == http::error::end_of_stream && buffer_.size() == 0) return Close();
    if (error && IsFramingError(error)) {
      return Refuse(
          FramingErrorStatus(error, *parser_, Received(), Limits(options_.photo_body_bytes_max)));
    }
    if (error) return Close();
    head_ = parser_->get().method() == http::verb::head;
    const size_t limit = handler_->BodyLimitFor(parser_->get().method(), parser_->get().target());
    Status rule = CheckRequestHeader(*parser_, Limits(limit));
    const auto length = parser_->content_length();
    if (rule.ok() && length && *length > limit) {
      rule = FramingErrorStatus(http::error::body_limit, *parser_, Received(), Limits(limit));
    }
    if (!rule.ok()) return Refuse(rule);
    if (parser_->is_done()) return OnRequest();
    parser_->body_limit(limit);
    ReadBody(limit);
  }

  // After the headers, the body has request_timeout_ms. A client that asked to be told first
  // (Expect: 100-continue, as curl does for large bodies) is told to go on.
  void ReadBody(size_t limit) {
    StartDeadline(options_.request_timeout_ms);
    auto read = [self = shared_from_this(), limit] {
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self, limit](beast::error_code error, size_t) {
                         const bool timed_out = self->timed_out_;
                         self->StopDeadline();
                         self->OnBody(error, timed_out, limit);
                       });
    };
    if (!beast::iequals(parser_->get()[http::field::expect], "100-continue")) return read();
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_.socket(), net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this(), read, limit](beast::error_code error, size_t) {
                       if (error) return self->OnBody(error, self->timed_out_, limit);
                       read();
                     });
  }

  void OnBody(beast::error_code error, bool timed_out, size_t limit) {
    if (error && timed_out) {
      return Refuse(Status::Unavailable(errc::kRequestTimeout,
                                        "the request body was not received within " +
                                            std::to_string(options_.request_timeout_ms) + " ms"));
    }
    if (error && IsFramingError(error)) {
      return Refuse(FramingErrorStatus(error, *parser_, Received(), Limits(limit)));
    }
    if (error) return Close();
    OnRequest();
  }

  void OnRequest() {
    const Clock::time_point read_at = Clock::now();
    auto request = std::make_shared<HttpRequest>(parser_->release());
    origin_ = (*request)[http::field::origin];
    if (handler_->IsSubscription(*request)) return StartSubscription(*request, read_at);
    // Answered once the read models applied ?after=SEQ, or 503 at the deadline; no thread waits.
    if (std::optional<ReadWait> wait = handler_->ReadWaitOf(*request)) {
      return WaitForReadModels(request, *wait, read_at);
    }
    if (handler_->IsQuick(*request)) {
      // A read of one cached row: cheaper to answer here than to hand to a worker and back.
      return Write(Answer(*request, read_at));
    }
    if (PlaceWithoutThread(request, read_at)) return;
    AnswerOnWorker(request, read_at);
  }

  void WaitForReadModels(std::shared_ptr<HttpRequest> request, const ReadWait& wait,
                         Clock::time_point read_at) {
    const uint64_t sequence = wait.sequence;
    Result<uint64_t> waiting = read_waits_->Add(
        wait, ReadDeadline(read_at),
        [self = shared_from_this(), request, sequence, read_at](bool applied) {
          net::post(self->stream_.get_executor(), [self, request, sequence, read_at, applied] {
            if (self->waiting_read_ == 0) return;  // the client left meanwhile
            self->waiting_read_ = 0;
            beast::error_code ignored;
            self->stream_.socket().cancel(ignored);  // the probe below
            if (applied) return self->AnswerOnWorker(request, read_at);
            self->Record(*request, ErrorResponse(*request, ReadModelsBehind(sequence)), read_at);
          });
        });
    if (!waiting.ok()) return Record(*request, ErrorResponse(*request, waiting.status()), read_at);
    waiting_read_ = *waiting;
    // A client that hangs up while its read waits gives its place (and connection) back now,
    // not at the deadline. Bytes instead (a pipelined request) are left for after the answer.
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                         id = *waiting](beast::error_code error) {
      if (error || self->waiting_read_ != id) return;
      beast::error_code available_error;
      if (self->stream_.socket().available(available_error) > 0 && !available_error) return;
      self->read_waits_->Cancel(id);
      self->waiting_read_ = 0;
      self->Close();
    });
  }

  // A read with ?after=SEQ waits for the read models until this.
  static Clock::time_point ReadDeadline(Clock::time_point read_at) {
    return read_at + std::chrono::milliseconds(http_read_wait_ms);
  }

  // Counts an answer of `request` in the metrics: under its route's label, with the time since
  // the request was read (`read_at`).
  void Count(const HttpRequest& request, int status, Clock::time_point read_at) {
    const double seconds = std::chrono::duration<double>(Clock::now() - read_at).count();
    metrics_->Record(handler_->RouteLabel(request.method(), request.target()), status, seconds);
  }

  // Writes a response made here, counted in the metrics like the others.
  void Record(const HttpRequest& request, HttpResponse response, Clock::time_point read_at) {
    Count(request, response.result_int(), read_at);
    Write(std::move(response));
  }

  // A command that need not hold a thread while its write is synced; false when it must.
  bool PlaceWithoutThread(const std::shared_ptr<HttpRequest>& request, Clock::time_point read_at) {
    std::shared_ptr<Session> waiting = shared_from_this();
    {
      std::lock_guard lock(gate_->mutex);
      if (!gate_->accepting) return false;
      gate_->waiting.insert(waiting);
      ++gate_->pending;
    }
    // Called exactly once, on any thread (the log's syncer, a worker).
    auto respond = [gate = gate_, weak = std::weak_ptr<Session>(waiting), request,
                    read_at](HttpHandler::MakeResponse make) {
      std::lock_guard lock(gate->mutex);
      --gate->pending;
      gate->answered.notify_all();
      std::shared_ptr<Session> self = weak.lock();
      if (!gate->open || !self) return;  // the server stopped; the connection is gone
      gate->waiting.erase(self);
      net::post(self->stream_.get_executor(), [self, request, read_at, make = std::move(make)] {
        self->Record(*request, make(), read_at);
      });
    };
    auto defer = [workers = workers_](std::function<void()> work) {
      net::post(*workers, std::move(work));
    };
    if (handler_->HandleAsync(request, respond, defer)) return true;
    std::lock_guard lock(gate_->mutex);
    gate_->waiting.erase(waiting);
    --gate_->pending;
    return false;
  }

  void AnswerOnWorker(std::shared_ptr<HttpRequest> request, Clock::time_point read_at) {
    net::post(*workers_, [self = shared_from_this(), request, read_at] {
      HttpResponse response = self->Answer(*request, read_at);
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Write(std::move(response));
      });
    });
  }

  // Counted from when the request was read: the wait for a worker and for the read models is
  // part of what the client waits.
  HttpResponse Answer(const HttpRequest& request, Clock::time_point read_at) {
    HttpResponse response = handler_->Handle(request, ReadDeadline(read_at));
    Count(request, response.result_int(), read_at);
    return response;
  }

  // Each write has request_timeout_ms: a client that does not read is closed then.
  void Write(HttpResponse response, bool refusal = false) {
    if (head_) StripBodyForHead(response);
    for (auto& [name, value] : handler_->CorsHeaders(origin_)) response.set(name, value);
    auto shared = std::make_shared<HttpResponse>(std::move(response));
    stream_.expires_after(std::chrono::milliseconds(options_.request_timeout_ms));
    http::async_write(
        stream_, *shared,
        [self = shared_from_this(), shared, refusal](beast::error_code error, size_t) {
          self->stream_.expires_never();
          if (error) return self->Close();
          if (refusal) return self->Linger();
          if (!shared->keep_alive()) return self->Close();
          self->ReadRequest();
        });
  }

  // Server-Sent Events: the header, then whatever the subscription yields, polled on this
  // connection's strand (no worker thread is held), with a heartbeat when idle.
  // Counted under its route when opened (or refused), with the time it took to open.
  void StartSubscription(const HttpRequest& request, Clock::time_point read_at) {
    if (!metrics_->SubscriptionOpened()) {
      HttpResponse refusal = LimitResponse(
          Status::Unavailable(errc::kOverloaded, "too many live subscriptions are open"));
      Count(request, refusal.result_int(), read_at);
      return Write(std::move(refusal), /*refusal=*/true);
    }
    HttpResponse refusal;
    Result<Subscription> subscription = handler_->OpenSubscription(request, &refusal);
    if (!subscription.ok()) {
      metrics_->SubscriptionClosed();
      refusal.keep_alive(false);
      return Record(request, std::move(refusal), read_at);
    }
    Count(request, static_cast<int>(http::status::ok), read_at);
    subscription_ = std::move(subscription).value();
    stream_.expires_never();
    last_sent_ = Clock::now();
    // A subscriber sends nothing more: any read completing means it went away.
    stream_.socket().async_read_some(net::buffer(gone_probe_),
                                     [self = shared_from_this()](beast::error_code, size_t) {
                                       self->timer_.cancel();
                                       self->Close();
                                     });
    std::string header = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n";
    for (auto& [name, value] : handler_->CorsHeaders(origin_))
      header += name + ": " + value + "\r\n";
    SendChunk(header + "Cache-Control: no-store\r\nConnection: close\r\n\r\n: subscribed\n\n");
  }

  // Each chunk has request_timeout_ms to be written: a subscriber that stopped reading is
  // closed then, like any other client.
  void SendChunk(std::string text) {
    chunk_ = std::move(text);
    last_sent_ = Clock::now();
    stream_.expires_after(std::chrono::milliseconds(options_.request_timeout_ms));
    net::async_write(stream_, net::buffer(chunk_),
                     [self = shared_from_this()](beast::error_code error, size_t) {
                       self->stream_.expires_never();
                       if (error) return self->Close();
                       self->Poll();
                     });
  }

  void Poll() {
    Result<std::string> text = subscription_->poll();
    if (!text.ok()) return Close();
    if (!text->empty()) return SendChunk(std::move(text).value());
    if (Clock::now() - last_sent_ > std::chrono::milliseconds(http_subscription_heartbeat_ms)) {
      return SendChunk(": keep-alive\n\n");
    }
    timer_.expires_after(std::chrono::milliseconds(http_subscription_poll_ms));
    timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (!error) self->Poll();
    });
  }

  // Answers a request that is refused before any route sees it, then lingers and closes.
  void Refuse(const Status& status) { Write(LimitResponse(status), /*refusal=*/true); }

  // The answer is written: shut the sending side, read and drop what the client still sends
  // (it may be writing a body it will never finish) for a bounded time, then close. Closing
  // with unread bytes would reset the connection and could destroy the answer unread.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    drain_buffer_ = std::make_unique<std::array<char, 16 * 1024>>();
    StartDeadline(http_refusal_drain_ms);
    Drain();
  }

  void Drain() {
    stream_.socket().async_read_some(
        net::buffer(*drain_buffer_),
        [self = shared_from_this()](beast::error_code error, size_t read) {
          self->drained_ += read;
          if (error || self->drained_ >= http_refusal_drain_bytes_max) {
            self->StopDeadline();
            return self->Close();
          }
          self->Drain();
        });
  }

  void Close() {
    if (!stream_.socket().is_open()) return;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_{stream_.get_executor()};
  uint64_t phase_ = 0;  // which deadline timer_ is armed for
  bool timed_out_ = false;
  bool head_ = false;          // the request being answered is a HEAD
  uint64_t waiting_read_ = 0;  // the id of this connection's read waiting in ReadWaits, or 0
  std::optional<Subscription> subscription_;
  std::string chunk_;
  std::string origin_;  // the request being answered's Origin header (CORS)
  std::array<char, 1> gone_probe_{};
  Clock::time_point last_sent_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::unique_ptr<std::array<char, 16 * 1024>> drain_buffer_;  // only while lingering
  size_t drained_ = 0;
  const HttpOptions& options_;
  HttpHandler* handler_;
  HttpMetrics* metrics_;
  net::thread_pool* workers_;
  std::shared_ptr<AnswerGate> gate_;
  std::shared_ptr<ReadWaits> read_waits_;
  std::unique_ptr<ConnectionSlot> slot_;
};

}  // namespace

HttpServer::HttpServer(HttpOptions options, HttpHandler* handler, HttpMetrics* metrics)
    : options_(std::move(options)),
      handler_(handler),
      metrics_(metrics),
      acceptor_(net::make_strand(io_)),
      gate_(std::make_shared<AnswerGate>()),
      connections_(std::make_shared<ConnectionTable>(options_.connections_max,
                                                     options_.connections_per_ip_max)),
      read_waits_(std::make_shared<ReadWaits>(io_, handler_, options_.waiting_reads_max,
                                              options_.waiting_reads_per_token_max)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  beast::error_code error;
  const net::ip::address address = net::ip::make_address(options_.listen_address, error);
  if (error) {
    return Status::InvalidArgument(errc::kListenAddressInvalid, "http.listen_address",
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
  metrics_->PrepareRoutes(handler_->RouteLabels());
  workers_ = std::make_unique<net::thread_pool>(options_.worker_threads);
  running_ = true;
  Accept();
  for (int i = 0; i < options_.io_threads; ++i) io_threads_.emplace_back([this] { io_.run(); });
  return Status::Ok();
}

void HttpServer::Accept() {
  if (!acceptor_.is_open()) return;
  // A connection's handlers run one at a time: on a strand when several threads run the
  // I/O context, and on the context itself when one does (a strand would only add locking).
  const net::any_io_executor executor = options_.io_threads == 1
                                            ? net::any_io_executor(io_.get_executor())
                                            : net::any_io_executor(net::make_strand(io_));
  acceptor_.async_accept(executor, [this](beast::error_code error, tcp::socket socket) {
    if (error == net::error::operation_aborted) return;
    if (error) {
      // Out of descriptors, say: try again shortly rather than spin.
      auto pause = std::make_shared<net::steady_timer>(acceptor_.get_executor(),
                                                       std::chrono::milliseconds(10));
      pause->async_wait([this, pause](beast::error_code) { Accept(); });
      return;
    }
    Admit(std::move(socket));
    Accept();
  });
}

void HttpServer::Admit(tcp::socket socket) {
  beast::error_code error;
  const tcp::endpoint remote = socket.remote_endpoint(error);
  if (error) return;  // gone already
  const Status slot = connections_->Open(remote.address());
  if (slot.ok()) {
    std::make_shared<Session>(std::move(socket), options_, handler_, metrics_, workers_.get(),
                              gate_, read_waits_,
                              std::make_unique<ConnectionSlot>(connections_, remote.address()))
        ->Start();
    return;
  }
  metrics_->ConnectionRejected();
  if (!connections_->StartTurnAway()) return;  // too many at once: closed without a word
  std::make_shared<TurnAway>(std::move(socket), slot, connections_)->Start();
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
  read_waits_->Clear();  // reads still waiting: their connections close, the context still exists
}

}  // namespace malpro
