// http_load: a bounded load generator for the Malpro HTTP API. N keep-alive connections,
// driven asynchronously by a few client threads (one by default), each send one request at a
// time until the duration or the request count is reached; then it prints requests/second and
// latency percentiles. Loopback addresses only.
//
// With --waiting-reads N it also holds N reads with ?after= a sequence the log never reaches
// open for the whole run, each sent again as soon as it is answered (503 read_models_behind
// after the server's wait limit), from source addresses 127.0.0.2 and up (at most
// kWaitingPerAddress each, under the server's per-address connection limit). The latency
// figures are the scenario's requests only; the waiting reads' answers are counted apart.
//
//   http_load --port 8080 --token dev-admin --scenario place-order --setup
//             --connections 64 --duration-s 10
//   http_load --port 8080 --token dev-admin --scenario get --path /v1/umkm/load-umkm
//   http_load --port 8080 --token dev-operator --scenario work-lists --connections 64
//   http_load --port 8080 --token dev-admin --scenario place-order --connections 64
//             --duration-s 10 --waiting-reads 200
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Every loop is bounded by these, whatever the flags say.
constexpr int kDurationSecondsMax = 120;
constexpr long kRequestsMax = 10'000'000;
constexpr int kConnectionsMax = 512;
constexpr int kBuyersMax = 5000;
constexpr int kStallSecondsMax = 10;
constexpr size_t kResponseBytesMax = 16 * 1024 * 1024;
constexpr int kWaitingReadsMax = 2000;
constexpr int kWaitingPerAddress = 100;
// How long the waiting reads have to be sent before the scenario starts.
constexpr int kWaitingWarmupMs = 500;
// A sequence no log of a run reaches (the API takes up to 2^63 - 1).
constexpr uint64_t kFarFutureSequence = uint64_t{1} << 62;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string token = "dev-admin";
  std::string scenario = "place-order";  // place-order | get | work-lists
  std::string path = "/healthz";
  int connections = 64;
  int duration_s = 10;
  long requests = kRequestsMax;
  int buyers = 500;
  int threads = 1;
  bool setup = false;
  int waiting_reads = 0;
  std::string waiting_path = "/v1/stats";
  bool idempotency_keys = false;
};

// With --idempotency-keys every request carries a key of this many characters, unique in the
// run: a run nonce, the connection and its request count, in hex.
constexpr size_t kIdempotencyKeyLength = 28;
constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key: ";

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// A NIP that passes validation: born 1980-01-DD, appointed 2005-01, male, serial.
std::string BuyerNip(int index) {
  const int day = 1 + index / 999 % 28;
  const int serial = 1 + index % 999;
  std::string nip = "198001";
  nip += static_cast<char>('0' + day / 10);
  nip += static_cast<char>('0' + day % 10);
  nip += "2005011";
  nip += std::to_string(1000 + serial).substr(1);
  return nip;
}

http::request<http::string_body> MakeRequest(const Options& options, http::verb method,
                                             const std::string& target, const std::string& body) {
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, options.host);
  request.set(http::field::authorization, "Bearer " + options.token);
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  if (options.idempotency_keys && method == http::verb::post) {
    request.set("Idempotency-Key", std::string(kIdempotencyKeyLength, '0'));
  }
  request.body() = body;
  request.prepare_payload();
  return request;
}

class Connection {
 public:
  explicit Connection(const Options& options) : options_(options), stream_(io_) {
    tcp::resolver resolver(io_);
    stream_.connect(resolver.resolve(options.host, std::to_string(options.port)));
    stream_.socket().set_option(tcp::no_delay(true));
  }

  // Sends one request and returns the status (0 on a transport error).
  int Send(http::verb method, const std::string& target, const std::string& body) {
    http::request<http::string_body> request = MakeRequest(options_, method, target, body);
    beast::error_code error;
    http::write(stream_, request, error);
    if (error) return 0;
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response, error);
    if (error) return 0;
    last_body_ = std::move(response.body());
    return response.result_int();
  }
  const std::string& last_body() const { return last_body_; }

 private:
  const Options& options_;
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string last_body_;
};

bool Setup(const Options& options) {
  Connection connection(options);
  auto expect = [&](int status, const char* what) {
    if (status >= 200 && status < 300) return true;
    if (status == 409) return true;  // already there from an earlier run
    std::cerr << "setup: " << what << " answered " << status << ": " << connection.last_body()
              << "\n";
    return false;
  };
  if (!expect(
          connection.Send(http::verb::post, "/v1/umkm",
                          R"({"umkm_id":"load-umkm","name":"Toko Beban","category":"sembako",)"
                          R"("kecamatan":"Klojen","kelurahan":"Kauman","sponsor":"Diskopindag",)"
                          R"("settlement_account":"0012345678","qris_criteria":"UKE"})"),
          "register umkm"))
    return false;
  if (!expect(connection.Send(http::verb::post, "/v1/umkm/load-umkm/verify", ""), "verify") &&
      connection.last_body().find("already_verified") == std::string::npos)
    return false;
  if (!expect(
          connection.Send(
              http::verb::post, "/v1/umkm/load-umkm/products",
              R"({"product_id":"beras-5kg","name":"Beras 5 kg","unit":"pack","price":"68000.00"})"),
          "list product"))
    return false;
  for (int i = 0; i < options.buyers; ++i) {
    const std::string body =
        R"({"nip":")" + BuyerNip(i) +
        R"(","name":"Pegawai Beban","agency":"Diskominfo","rank_class":"III/a","kelurahan":"Sukun"})";
    if (!expect(connection.Send(http::verb::post, "/v1/asn", body), "register asn")) return false;
  }
  return true;
}

struct ConnectionResult {
  std::vector<double> latencies_ms;
  std::map<int, long> statuses;
};

// The whole request, serialized once: the generator should spend its share of the two cores
// on sockets, not on building requests.
std::string RequestText(const Options& options, http::verb method, const std::string& target,
                        const std::string& body) {
  std::ostringstream out;
  out << MakeRequest(options, method, target, body);
  return out.str();
}

// The work-lists scenario's reads: the setup merchant's orders (read model work_lists), its
// new ones, and the payments pending at the bank (docs/http-api.md, "Work lists").
constexpr const char* kWorkListTargets[] = {
    "/v1/orders?umkm_id=load-umkm",
    "/v1/orders?umkm_id=load-umkm&status=placed&sort=newest",
    "/v1/payments?status=requested",
};

// The requests a connection cycles through: one per buyer for place-order, one for get, the
// work lists in turn for work-lists.
std::vector<std::string> ScenarioRequests(const Options& options) {
  std::vector<std::string> requests;
  if (options.scenario == "place-order") {
    for (int buyer = 0; buyer < options.buyers; ++buyer) {
      const std::string body =
          R"({"buyer_nip":")" + BuyerNip(buyer) +
          R"(","umkm_id":"load-umkm","lines":[{"product_id":"beras-5kg","quantity":1}],)"
          R"("payment_method":"COD"})";
      requests.push_back(RequestText(options, http::verb::post, "/v1/orders", body));
    }
  } else if (options.scenario == "work-lists") {
    // The operator's work lists of the setup's merchant, as a desk polls them (first pages).
    for (const char* target : kWorkListTargets) {
      requests.push_back(RequestText(options, http::verb::get, target, ""));
    }
  } else {
    requests.push_back(RequestText(options, http::verb::get, options.path, ""));
  }
  return requests;
}

// One keep-alive connection driven by completion handlers: write a request, read the response,
// record it, and send the next until the deadline or the shared budget ends. A connection has
// one operation outstanding at a time, so it needs no strand even with several I/O threads.
class AsyncConnection {
 public:
  // `executor`: the I/O context itself with one client thread, a strand with several.
  // `done` is called once, when this connection stops sending.
  // `key_prefix`: non-empty to give each request a fresh Idempotency-Key starting with it.
  AsyncConnection(net::any_io_executor executor, const tcp::resolver::results_type& endpoints,
                  const std::vector<std::string>& requests, size_t first,
                  Clock::time_point deadline, std::atomic<long>* budget, std::function<void()> done,
                  std::string key_prefix = "")
      : socket_(executor),
        endpoints_(endpoints),
        requests_(requests),
        next_(first),
        deadline_(deadline),
        budget_(budget),
        done_(std::move(done)),
        key_prefix_(std::move(key_prefix)) {}

  void Start() {
    net::async_connect(socket_, endpoints_, [this](beast::error_code error, const tcp::endpoint&) {
      if (error) return Fail();
      socket_.set_option(tcp::no_delay(true));
      SendNext();
    });
  }
  const ConnectionResult& result() const { return result_; }

 private:
  void SendNext() {
    if (Clock::now() >= deadline_ || budget_->fetch_sub(1) <= 0) return done_();
    started_ = Clock::now();
    const std::string* request = &requests_[next_++ % requests_.size()];
    if (!key_prefix_.empty()) request = WithFreshKey(*request);
    net::async_write(socket_, net::buffer(*request), [this](beast::error_code error, size_t) {
      if (error) return Fail();
      parser_.emplace();
      parser_->body_limit(kResponseBytesMax);
      http::async_read(socket_, buffer_, *parser_, [this](beast::error_code error, size_t) {
        if (error) return Fail();
        result_.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - started_).count());
        result_.statuses[parser_->get().result_int()]++;
        SendNext();
      });
    });
  }
  // A copy of `request` whose key placeholder holds the prefix and this connection's count.
  const std::string* WithFreshKey(const std::string& request) {
    keyed_ = request;
    const size_t at = keyed_.find(kIdempotencyKeyHeader);
    if (at == std::string::npos) return &keyed_;
    char key[kIdempotencyKeyLength + 1];
    std::snprintf(key, sizeof(key), "%s%0*llx", key_prefix_.c_str(),
                  static_cast<int>(kIdempotencyKeyLength - key_prefix_.size()),
                  static_cast<unsigned long long>(++keys_used_));
    keyed_.replace(at + kIdempotencyKeyHeader.size(), kIdempotencyKeyLength, key);
    return &keyed_;
  }
  void Fail() {  // the connection broke; this connection stops
    result_.statuses[0]++;
    done_();
  }

 public:
  // Ends whatever is outstanding (a stalled server): the pending handler sees an error. Runs
  // on the connection's executor, so never beside one of its handlers.
  void Abort() {
    net::post(socket_.get_executor(), [this] {
      beast::error_code ignored;
      socket_.close(ignored);
    });
  }

 private:
  tcp::socket socket_;
  tcp::resolver::results_type endpoints_;
  const std::vector<std::string>& requests_;
  size_t next_;
  Clock::time_point deadline_;
  std::atomic<long>* budget_;
  std::function<void()> done_;
  std::string key_prefix_;
  std::string keyed_;
  uint64_t keys_used_ = 0;
  Clock::time_point started_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  ConnectionResult result_;
};

// A read that waits for the read models (?after= far ahead): sent, answered at the server's
// wait limit, sent again, until Stop. Keeps one connection from its own source address.
class WaitingRead {
 public:
  WaitingRead(net::any_io_executor executor, tcp::endpoint server,
              std::optional<net::ip::address> source, const std::string& request)
      : socket_(executor), server_(server), source_(source), request_(request) {}

  void Start() {
    beast::error_code error;
    socket_.open(server_.protocol(), error);
    if (!error && source_) socket_.bind(tcp::endpoint(*source_, 0), error);
    if (error) return Fail();
    socket_.async_connect(server_, [this](beast::error_code error) {
      if (error) return Fail();
      Send();
    });
  }
  void Stop() {
    net::post(socket_.get_executor(), [this] {
      stopped_ = true;
      beast::error_code ignored;
      socket_.close(ignored);
    });
  }
  const std::map<int, long>& statuses() const { return statuses_; }

 private:
  void Send() {
    net::async_write(socket_, net::buffer(request_), [this](beast::error_code error, size_t) {
      if (error) return Fail();
      parser_.emplace();
      http::async_read(socket_, buffer_, *parser_, [this](beast::error_code error, size_t) {
        if (error) return Fail();
        statuses_[parser_->get().result_int()]++;
        if (!parser_->get().keep_alive()) return Fail();
        Send();
      });
    });
  }
  void Fail() {
    if (!stopped_) statuses_[0]++;
  }

  tcp::socket socket_;
  tcp::endpoint server_;
  std::optional<net::ip::address> source_;
  const std::string& request_;
  bool stopped_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::map<int, long> statuses_;
};

double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(fraction * sorted.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"http_load: bounded HTTP load against a local malpro serve"};
  app.add_option("--host", options.host, "loopback address only");
  app.add_option("--port", options.port);
  app.add_option("--token", options.token, "bearer token (admin or operator for place-order)");
  app.add_option("--scenario", options.scenario, "place-order, get or work-lists")
      ->check(CLI::IsMember({"place-order", "get", "work-lists"}));
  app.add_option("--path", options.path, "target of the get scenario");
  app.add_option("--connections", options.connections)->check(CLI::Range(1, kConnectionsMax));
  app.add_option("--threads", options.threads,
                 "client I/O threads driving the connections (default 1: the generator leaves the "
                 "cores to the server)")
      ->check(CLI::Range(1, 64));
  app.add_option("--duration-s", options.duration_s)->check(CLI::Range(1, kDurationSecondsMax));
  app.add_option("--requests", options.requests, "stop after this many requests")
      ->check(CLI::Range(1L, kRequestsMax));
  app.add_option("--buyers", options.buyers, "ASN to register and rotate through")
      ->check(CLI::Range(1, kBuyersMax));
  app.add_flag("--setup", options.setup, "register the merchant, product and buyers first");
  app.add_option("--waiting-reads", options.waiting_reads,
                 "reads with ?after= far ahead to hold open during the run (re-sent as answered)")
      ->check(CLI::Range(0, kWaitingReadsMax));
  app.add_flag("--idempotency-keys", options.idempotency_keys,
               "give every POST a fresh Idempotency-Key (such orders are answered on a worker "
               "thread, not on the I/O thread)");
  app.add_option("--waiting-path", options.waiting_path,
                 "read-model route the waiting reads GET (the token must be allowed on it)");
  CLI11_PARSE(app, argc, argv);
  if (!IsLoopback(options.host)) {
    std::cerr << "http_load: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed\n";
    return 2;
  }
  if (options.setup && !Setup(options)) return 1;

  const std::vector<std::string> requests = ScenarioRequests(options);
  net::io_context io;
  tcp::resolver resolver(io);
  const tcp::resolver::results_type endpoints =
      resolver.resolve(options.host, std::to_string(options.port));
  std::atomic<long> budget{options.requests};
  // The waiting reads go first; the scenario starts once they had time to be sent.
  const std::string waiting_request = RequestText(
      options, http::verb::get,
      options.waiting_path + (options.waiting_path.find('?') == std::string::npos ? "?" : "&") +
          "after=" + std::to_string(kFarFutureSequence),
      "");
  std::vector<std::unique_ptr<WaitingRead>> waiting;
  const tcp::endpoint server = *endpoints.begin();
  for (int i = 0; i < options.waiting_reads; ++i) {
    std::optional<net::ip::address> source;
    if (server.address().is_v4() && server.address().is_loopback()) {
      // 127.0.0.2, 127.0.0.3, ...: each under the server's per-address limit.
      source = net::ip::address_v4(0x7F000002u + static_cast<uint32_t>(i / kWaitingPerAddress));
    }
    waiting.push_back(
        std::make_unique<WaitingRead>(net::make_strand(io), server, source, waiting_request));
    waiting.back()->Start();
  }
  const auto warmup = std::chrono::milliseconds(options.waiting_reads > 0 ? kWaitingWarmupMs : 0);
  const auto started = Clock::now() + warmup;
  const auto deadline = started + std::chrono::seconds(options.duration_s);
  // No request started before the deadline may hold the run past it by more than
  // kStallSecondsMax: a stalled server gets its connections closed (transport errors). The
  // watchdog is cancelled when the last connection is done, so that run() returns.
  net::steady_timer watchdog(io, deadline + std::chrono::seconds(kStallSecondsMax));
  std::atomic<int> active{options.connections};
  auto connection_done = [&] {
    if (--active > 0) return;
    net::post(io, [&watchdog] { watchdog.cancel(); });
    for (auto& read : waiting) read->Stop();
  };
  const uint64_t run_nonce = static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch() / std::chrono::microseconds(1));
  std::vector<std::unique_ptr<AsyncConnection>> connections;
  for (int i = 0; i < options.connections; ++i) {
    // Spread the connections over the buyers so that concurrent orders rarely share a buyer.
    const size_t first = static_cast<size_t>(i) * 7919 % requests.size();
    const net::any_io_executor executor = options.threads == 1
                                              ? net::any_io_executor(io.get_executor())
                                              : net::any_io_executor(net::make_strand(io));
    // Keys: 8 hex digits of the run's start, 4 of the connection, then its count.
    char key_prefix[16] = "";
    if (options.idempotency_keys) {
      std::snprintf(key_prefix, sizeof(key_prefix), "%08llx%04x",
                    static_cast<unsigned long long>(run_nonce & 0xFFFFFFFFull), i & 0xFFFF);
    }
    connections.push_back(std::make_unique<AsyncConnection>(
        executor, endpoints, requests, first, deadline, &budget, connection_done, key_prefix));
  }
  watchdog.async_wait([&connections](beast::error_code error) {
    if (error) return;
    for (auto& connection : connections) connection->Abort();
  });
  net::steady_timer start_scenario(io, started);
  start_scenario.async_wait([&connections](beast::error_code) {
    for (auto& connection : connections) connection->Start();
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  std::vector<double> latencies;
  std::map<int, long> statuses;
  for (const auto& connection : connections) {
    const ConnectionResult& result = connection->result();
    latencies.insert(latencies.end(), result.latencies_ms.begin(), result.latencies_ms.end());
    for (const auto& [status, count] : result.statuses) statuses[status] += count;
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "scenario=%s connections=%d threads=%d requests=%zu seconds=%.2f requests_per_second=%.0f\n",
      options.scenario.c_str(), options.connections, options.threads, latencies.size(), seconds,
      latencies.size() / seconds);
  std::printf("latency_ms p50=%.2f p99=%.2f p999=%.2f max=%.2f\n", Percentile(latencies, 0.50),
              Percentile(latencies, 0.99), Percentile(latencies, 0.999),
              latencies.empty() ? 0.0 : latencies.back());
  for (const auto& [status, count] : statuses) std::printf("status %d: %ld\n", status, count);
  if (!waiting.empty()) {
    std::map<int, long> waiting_statuses;
    for (const auto& read : waiting) {
      for (const auto& [status, count] : read->statuses()) waiting_statuses[status] += count;
    }
    std::printf("waiting_reads=%d path=%s answered:", options.waiting_reads,
                options.waiting_path.c_str());
    for (const auto& [status, count] : waiting_statuses) std::printf(" %d=%ld", status, count);
    std::printf("\n");
  }
  const bool all_ok = statuses.size() == 1 && statuses.begin()->first / 100 == 2;
  return all_ok ? 0 : 1;
}
