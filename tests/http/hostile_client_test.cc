// The HTTP server against clients that misbehave, over raw sockets on 127.0.0.1: malformed
// bytes are answered with their status and code before the connection closes (and match
// ParseRequest, the framing unit), slow and silent clients are held no longer than their
// deadlines, connection and waiting-read limits answer 429, reads waiting for the read models
// hold no thread, HEAD answers every GET route without a body, and wrong methods are 405.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/http/framing.h"
#include "engine/aggregates.h"
#include "engine/identifiers.h"
#include "tests/support/api_server.h"

namespace malpro {
namespace {

using boost::beast::http::verb;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::Base64;
using testing::BeastClient;
using testing::kNip;
using testing::kTokens;
using testing::Reply;

int64_t MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

// One response as it came over the wire. status 0: none came whole in time.
struct RawReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// A TCP client on a plain socket, for bytes no HTTP library would send. Optionally bound to
// another loopback source address (127.0.0.2 ...), and with a small receive buffer.
class RawClient {
 public:
  explicit RawClient(uint16_t port, const char* source = "127.0.0.1", int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local));
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&remote), sizeof(remote)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  // Writes all of `bytes`; false once the connection refuses them.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  void ShutdownSending() { ::shutdown(fd_, SHUT_WR); }

  // The next response (a HEAD's without a body), within `timeout`.
  RawReply ReadResponse(milliseconds timeout = milliseconds(3000), bool head = false) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const size_t end = received_.find("\r\n\r\n");
      if (end != std::string::npos) {
        RawReply reply = ParseHead(received_.substr(0, end));
        const size_t length = head || !reply.headers.contains("content-length")
                                  ? 0
                                  : std::stoul(reply.headers["content-length"]);
        if (received_.size() >= end + 4 + length) {
          reply.body = received_.substr(end + 4, length);
          received_.erase(0, end + 4 + length);
          return reply;
        }
      }
      if (!ReadSome(deadline)) return RawReply{};
    }
  }

  // Whether the server closes the connection within `timeout`; what it sends is kept.
  bool ClosedWithin(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (ReadSome(deadline)) {
    }
    return closed_;
  }

  // Bytes received and not yet taken by ReadResponse.
  const std::string& received() const { return received_; }
  size_t received_total() const { return received_total_; }

 private:
  // Appends what arrives before `deadline`; false on timeout or when the connection closed.
  bool ReadSome(Clock::time_point deadline) {
    if (closed_) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd wanted{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&wanted, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[64 * 1024];
    const ssize_t read = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (read <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(buffer, static_cast<size_t>(read));
    received_total_ += static_cast<size_t>(read);
    return true;
  }

  static RawReply ParseHead(const std::string& head) {
    RawReply reply;
    if (head.size() >= 12 && head.starts_with("HTTP/1."))
      reply.status = std::stoi(head.substr(9, 3));
    size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      const size_t next = head.find("\r\n", at + 2);
      const std::string line =
          head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      at = next;
    }
    return reply;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
  size_t received_total_ = 0;
};

std::string ErrorCode(const RawReply& reply) {
  const size_t at = reply.body.find("\"code\":\"");
  if (at == std::string::npos) return "";
  return reply.body.substr(at + 8, reply.body.find('"', at + 8) - at - 8);
}

std::string AsnBody(const std::string& nip) {
  return R"({"nip":")" + nip +
         R"(","name":"Siti","agency":"Diskominfo","rank_class":"III/a","kelurahan":"Kauman"})";
}

std::string OrderBody() {
  return R"({"buyer_nip":")" + std::string(kNip) +
         R"(","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"COD"})";
}

std::string Chunked(const std::string& body) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

class HostileClientTest : public testing::ApiServerTest {
 protected:
  // The server with a header deadline of `header_timeout_ms` and an idle time of
  // `idle_timeout_ms`, the rest as HttpOptions has it.
  void StartWithDeadlines(int header_timeout_ms, int idle_timeout_ms) {
    HttpOptions options;
    options.header_timeout_ms = header_timeout_ms;
    options.idle_timeout_ms = idle_timeout_ms;
    Start(options);
  }

  // An ASN (the asn token's) and a verified merchant with a product.
  void SeedMarket() {
    ASSERT_EQ(Call(verb::post, "/v1/asn", AsnBody(kNip)).status, 201);
    ASSERT_NO_FATAL_FAILURE(SeedMerchant());
  }

  // Waits (bounded) until the server holds `count` connections.
  bool ConnectionsOpenBecome(int64_t count, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (metrics_.connections_open() != count) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
  }

  static std::string Get(const std::string& target, Role role, const std::string& method = "GET") {
    return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
           kTokens.at(role) + "\r\n\r\n";
  }
};

struct MalformedCase {
  std::string name;
  std::string bytes;
  int status;
  std::string code;
};

std::vector<MalformedCase> MalformedCases() {
  const std::string post = "POST /v1/asn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-admin\r\n";
  const std::string body = AsnBody("199001012015032001");  // would register if let through
  const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  const std::string tls_hello("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5b\x90\x9d\x9b", 14);
  return {
      {"content length not a number", post + "Content-Length: 12a\r\n\r\n" + body, 400,
       "request_malformed"},
      {"content length twice, equal", post + length + length + "\r\n" + body, 400,
       "request_malformed"},
      {"content length twice, different", post + length + "Content-Length: 3\r\n\r\n" + body, 400,
       "request_malformed"},
      {"content length as a list",
       post + "Content-Length: " + std::to_string(body.size()) + ", " +
           std::to_string(body.size()) + "\r\n\r\n" + body,
       400, "request_malformed"},
      {"content length then chunked",
       post + length + "Transfer-Encoding: chunked\r\n\r\n" + Chunked(body), 400,
       "request_malformed"},
      {"chunked then content length",
       post + "Transfer-Encoding: chunked\r\n" + length + "\r\n" + Chunked(body), 400,
       "request_malformed"},
      {"transfer encoding not chunked", post + "Transfer-Encoding: gzip\r\n\r\n" + body, 400,
       "request_malformed"},
      {"chunk size not hex",
       post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n", 400,
       "request_malformed"},
      {"request line without version", "GET /healthz\r\nHost: x\r\n\r\n", 400, "request_malformed"},
      {"request line with a fourth part", "GET /healthz HTTP/1.1 x\r\nHost: x\r\n\r\n", 400,
       "request_malformed"},
      {"method with a control byte", std::string("G\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
       400, "request_malformed"},
      {"NUL in the path", "GET /heal\0thz HTTP/1.1\r\nHost: x\r\n\r\n"s, 400, "request_malformed"},
      {"NUL in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, 400,
       "request_malformed"},
      {"TLS ClientHello", tls_hello, 400, "request_malformed"},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "request_malformed"},
      {"HTTP/1.2", "GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n", 505, "http_version_unsupported"},
      {"HTTP/2.0 request line", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505,
       "http_version_unsupported"},
      {"target over its limit",
       "GET /healthz?" + std::string(http_target_bytes_max, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       414, "uri_too_long"},
      {"request line over the header limit",
       "GET /" + std::string(http_header_bytes_max + 10, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
       "uri_too_long"},
      {"headers over their limit",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(http_header_bytes_max, 'a') +
           "\r\n\r\n",
       431, "headers_too_large"},
      {"declared body over the limit",
       post + "Content-Length: " + std::to_string(http_body_bytes_default + 1) + "\r\n\r\n" + body,
       413, "body_too_large"},
  };
}

TEST_F(HostileClientTest, MalformedRequestsAreAnsweredWithTheirCodeThenClosedAndWriteNothing) {
  Start(HttpOptions{});
  const uint64_t head = log_->Head().sequence;
  const FramingLimits limits{http_header_bytes_max, http_target_bytes_max, http_body_bytes_default};
  for (const MalformedCase& malformed : MalformedCases()) {
    RawClient client(port());
    ASSERT_TRUE(client.connected());
    client.Send(malformed.bytes);
    RawReply reply = client.ReadResponse();
    EXPECT_EQ(reply.status, malformed.status) << malformed.name << ": " << client.received();
    EXPECT_EQ(ErrorCode(reply), malformed.code) << malformed.name << ": " << reply.body;
    EXPECT_EQ(reply.headers["connection"], "close") << malformed.name;
    EXPECT_NE(reply.body.find("\"message\":"), std::string::npos) << malformed.name;
    EXPECT_TRUE(client.ClosedWithin(milliseconds(3000))) << malformed.name;
    // The framing unit refuses the same bytes with the same status and code.
    Result<HttpRequest> parsed = ParseRequest(malformed.bytes, limits);
    ASSERT_FALSE(parsed.ok()) << malformed.name;
    EXPECT_EQ(ErrorStatus(parsed.status()), malformed.status) << malformed.name;
    EXPECT_EQ(parsed.status().error_code(), malformed.code) << malformed.name;
  }
  EXPECT_EQ(log_->Head().sequence, head);
  // The same framing with a well-formed body goes through, in both.
  const std::string good =
      "POST /v1/asn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-admin\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      Chunked(AsnBody("199001012015032001"));
  Result<HttpRequest> parsed = ParseRequest(good, limits);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->body(), AsnBody("199001012015032001"));
  RawClient client(port());
  client.Send(good);
  EXPECT_EQ(client.ReadResponse().status, 201) << client.received();
  EXPECT_EQ(log_->Head().sequence, head + 1);
}

TEST(FramingTest, ParseRequestTakesOneWholeRequestAndLeavesWhatFollows) {
  const FramingLimits limits{http_header_bytes_max, http_target_bytes_max, 1024};
  Result<HttpRequest> old_version = ParseRequest("GET /healthz HTTP/1.0\r\n\r\n", limits);
  ASSERT_TRUE(old_version.ok()) << old_version.status().ToString();
  EXPECT_EQ(old_version->version(), 10);
  EXPECT_EQ(old_version->target(), "/healthz");
  Result<HttpRequest> pipelined = ParseRequest(
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /b HTTP/1.1\r\n\r\n", limits);
  ASSERT_TRUE(pipelined.ok()) << pipelined.status().ToString();
  EXPECT_EQ(pipelined->target(), "/a");
  EXPECT_EQ(pipelined->body(), "{}");
  Result<HttpRequest> chunked = ParseRequest(
      "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;note=x\r\n{\"a\r\n2\r\n\":\r\n2\r\n1}\r\n0\r\nX-Trailer: y\r\n\r\n",
      limits);
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(chunked->body(), "{\"a\":1}");
  // At the body limit exactly, and one byte over it.
  const std::string at_limit(1024, 'x');
  EXPECT_TRUE(
      ParseRequest("POST /a HTTP/1.1\r\nContent-Length: 1024\r\n\r\n" + at_limit, limits).ok());
  Result<HttpRequest> over =
      ParseRequest("POST /a HTTP/1.1\r\nContent-Length: 1025\r\n\r\n" + at_limit + "x", limits);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(ErrorStatus(over.status()), 413);
}

TEST_F(HostileClientTest, AClientThatShutsItsSideInsideARequestIsToldWhy) {
  Start(HttpOptions{});
  RawClient client(port());
  client.Send("POST /v1/asn HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ni");
  client.ShutdownSending();
  RawReply reply = client.ReadResponse();
  EXPECT_EQ(reply.status, 400) << client.received();
  EXPECT_EQ(ErrorCode(reply), "request_malformed");
  // Incomplete bytes in the framing unit: the server would wait for the rest, then 408.
  Result<HttpRequest> parsed = ParseRequest("GET /healthz HTTP/1.1\r\nHost:",
                                            {http_header_bytes_max, http_target_bytes_max, 1024});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(ErrorStatus(parsed.status()), 408);
}

TEST_F(HostileClientTest, ABodyOverTheLimitIs413WhileTheClientIsStillSending) {
  Start(HttpOptions{});
  SeedMarket();
  const uint64_t head = log_->Head().sequence;
  // Declared over the photo limit (3 MiB), sent in full while the answer is read.
  {
    RawClient client(port());
    const size_t length = 4 * 1024 * 1024;
    client.Send(
        "POST /v1/receipts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-asn\r\n"
        "Content-Length: " +
        std::to_string(length) + "\r\n\r\n");
    std::thread sender([&client, length] {
      const std::string chunk(64 * 1024, 'a');
      for (size_t sent = 0; sent < length && client.Send(chunk); sent += chunk.size()) {
      }
    });
    RawReply reply = client.ReadResponse(milliseconds(5000));
    sender.join();
    EXPECT_EQ(reply.status, 413) << client.received();
    EXPECT_EQ(ErrorCode(reply), "body_too_large");
  }
  // Chunked, so the limit (64 KiB here) is only found in the middle of the body.
  {
    RawClient client(port());
    client.Send(
        "POST /v1/asn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-admin\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
    std::thread sender([&client] {
      const std::string chunk = "4000\r\n" + std::string(0x4000, ' ') + "\r\n";
      for (int i = 0; i < 16 && client.Send(chunk); ++i) {
      }
    });
    RawReply reply = client.ReadResponse(milliseconds(5000));
    sender.join();
    EXPECT_EQ(reply.status, 413) << client.received();
    EXPECT_EQ(ErrorCode(reply), "body_too_large");
  }
  // A client that writes its whole 4 MiB request before reading still reads the 413.
  Reply whole = Call(verb::post, "/v1/receipts", std::string(4 * 1024 * 1024, ' '), Role::kAsn);
  EXPECT_EQ(whole.status, 413) << whole.body;
  EXPECT_NE(whole.body.find("body_too_large"), std::string::npos) << whole.body;
  EXPECT_EQ(log_->Head().sequence, head);
}

TEST_F(HostileClientTest, ALargeBodyIsInvitedWithContinueAndAnOversizedOneIsNot) {
  Start(HttpOptions{});
  const std::string body = AsnBody(kNip);
  RawClient client(port());
  client.Send(
      "POST /v1/asn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-admin\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(client.ReadResponse().status, 100) << client.received();
  client.Send(body);
  EXPECT_EQ(client.ReadResponse().status, 201) << client.received();
  RawClient oversized(port());
  oversized.Send(
      "POST /v1/asn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-admin\r\n"
      "Expect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
  RawReply reply = oversized.ReadResponse();
  EXPECT_EQ(reply.status, 413) << oversized.received();
}

TEST_F(HostileClientTest, TheHeaderPhaseHasOneTotalDeadlineHoweverSlowlyBytesCome) {
  StartWithDeadlines(400, 5000);
  RawClient client(port());
  // One byte every 20 ms: about 3 s of sending, each byte well within 400 ms of the last.
  const std::string slow =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(100, 'a');
  std::atomic<bool> stop{false};
  const auto first_byte = Clock::now();
  std::thread sender([&] {
    for (size_t i = 0; i < slow.size() && !stop && client.Send(slow.substr(i, 1)); ++i) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  RawReply reply = client.ReadResponse(milliseconds(4000));
  const int64_t answered_ms = MillisecondsSince(first_byte);
  stop = true;
  sender.join();
  EXPECT_EQ(reply.status, 408) << client.received();
  EXPECT_EQ(ErrorCode(reply), "request_timeout");
  EXPECT_GE(answered_ms, 350);
  EXPECT_LT(answered_ms, 1500);  // not reset by every byte
}

TEST_F(HostileClientTest, AnIdleConnectionWaitsTheIdleTimeNotTheHeaderDeadline) {
  StartWithDeadlines(300, 1500);
  // Idle longer than the header deadline, then a whole request: served.
  RawClient idle(port());
  std::this_thread::sleep_for(milliseconds(700));
  idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.ReadResponse().status, 200) << idle.received();
  // Silent past the idle time: closed without a word.
  const auto connected = Clock::now();
  RawClient silent(port());
  EXPECT_TRUE(silent.ClosedWithin(milliseconds(4000)));
  EXPECT_GE(MillisecondsSince(connected), 1400);
  EXPECT_EQ(silent.received_total(), 0u) << silent.received();
}

TEST_F(HostileClientTest, AClientThatDoesNotReadLosesItsSlotAtTheWriteDeadline) {
  HttpOptions options;
  options.request_timeout_ms = 300;
  Start(options);
  SeedMarket();
  // A receipt with a 1.5 MiB photo: every GET of the photo answers that much.
  std::string photo = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(1536 * 1024, 'p');
  const std::string today =
      FormatIsoDate(JakartaDate(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()));
  ASSERT_EQ(
      Call(verb::post, "/v1/receipts",
           R"({"receipt_id":"r-big","nip":")" + std::string(kNip) +
               R"(","shop_name":"Toko","kelurahan":"Sukun","amount":"1000.00","purchase_date":")" +
               today + R"(","photo_base64":")" + Base64(photo) + R"("})")
          .status,
      201);
  ASSERT_TRUE(ConnectionsOpenBecome(0, milliseconds(2000)));
  RawClient client(port(), "127.0.0.1", 4096);
  std::string requests;
  for (int i = 0; i < 8; ++i) requests += Get("/v1/receipts/r-big/photo", Role::kAdmin);
  ASSERT_TRUE(client.Send(requests));
  const auto sent = Clock::now();
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(metrics_.connections_open(), 1);  // being written to
  // Nothing is read: the server gives up at the write deadline.
  EXPECT_TRUE(ConnectionsOpenBecome(0, milliseconds(3000)));
  EXPECT_GE(MillisecondsSince(sent), 250);
  EXPECT_TRUE(client.ClosedWithin(milliseconds(3000)));
  EXPECT_LT(client.received_total(), 8 * photo.size());
}

TEST_F(HostileClientTest, OneAddressMeetsItsOwnLimitBeforeOthersMeetTheServers) {
  HttpOptions options;
  options.connections_per_ip_max = 3;
  options.connections_max = 6;
  Start(options);
  // Three kept-alive connections from 127.0.0.1, answered, so surely held.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(port()));
    held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(held.back()->ReadResponse().status, 200);
  }
  // A flood of half-open connections from the same address: each answered 429 and closed.
  std::vector<std::unique_ptr<RawClient>> flood;
  for (int i = 0; i < 40; ++i) flood.push_back(std::make_unique<RawClient>(port()));
  for (auto& client : flood) {
    RawReply reply = client->ReadResponse();
    EXPECT_EQ(reply.status, 429) << client->received();
    EXPECT_EQ(ErrorCode(reply), "overloaded");
    EXPECT_NE(reply.body.find("from 127.0.0.1"), std::string::npos) << reply.body;
    EXPECT_TRUE(client->ClosedWithin(milliseconds(3000)));
  }
  // Another address is served meanwhile.
  RawClient other(port(), "127.0.0.2");
  other.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(other.ReadResponse().status, 200) << other.received();
  // Until the server as a whole is full: 3 + 1 + 2 = 6.
  RawClient third(port(), "127.0.0.3");
  RawClient fourth(port(), "127.0.0.4");
  third.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  fourth.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(third.ReadResponse().status, 200);
  ASSERT_EQ(fourth.ReadResponse().status, 200);
  RawClient fifth(port(), "127.0.0.5");
  RawReply full = fifth.ReadResponse();
  EXPECT_EQ(full.status, 429) << fifth.received();
  EXPECT_NE(full.body.find("too many open connections"), std::string::npos) << full.body;
  // The held connections are still served.
  held[0]->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(held[0]->ReadResponse().status, 200);
}

TEST_F(HostileClientTest, WaitingReadsHoldNoThreadSoOrdersAreNotDelayed) {
  HttpOptions options;
  options.worker_threads = 8;  // far fewer than the reads that wait
  options.connections_per_ip_max = 1024;
  Start(options);
  SeedMarket();
  const std::string target = "/v1/stats?after=" + std::to_string(log_->Head().sequence + 1'000'000);
  constexpr int kWaiting = 120;
  std::vector<std::unique_ptr<RawClient>> waiting;
  std::vector<Clock::time_point> sent_at;
  for (int i = 0; i < kWaiting; ++i) {
    waiting.push_back(std::make_unique<RawClient>(port()));
    sent_at.push_back(Clock::now());
    waiting.back()->Send(Get(target, i % 2 == 0 ? Role::kOperator : Role::kAuditor));
  }
  std::this_thread::sleep_for(milliseconds(200));
  // An order with an Idempotency-Key (answered on a worker), and a read of an aggregate.
  const auto started = Clock::now();
  Reply order =
      Call(verb::post, "/v1/orders", OrderBody(), Role::kAsn, {{"Idempotency-Key", "hostile-1"}});
  const int64_t order_ms = MillisecondsSince(started);
  EXPECT_EQ(order.status, 201) << order.body;
  EXPECT_LT(order_ms, 1000);
  EXPECT_EQ(Call(verb::get, std::string("/v1/asn/") + kNip).status, 200);
  EXPECT_LT(MillisecondsSince(started), 1000);
  // Each waiting read is told at its deadline, 5 s after it was read.
  for (int i = 0; i < kWaiting; ++i) {
    RawReply reply = waiting[i]->ReadResponse(milliseconds(8000));
    const int64_t waited_ms = MillisecondsSince(sent_at[i]);
    EXPECT_EQ(reply.status, 503) << i << ": " << waiting[i]->received();
    EXPECT_EQ(ErrorCode(reply), "read_models_behind") << i;
    EXPECT_GE(waited_ms, http_read_wait_ms - 10) << i;
    EXPECT_LT(waited_ms, http_read_wait_ms + 1000) << i;
  }
}

TEST_F(HostileClientTest, WaitingReadsAreCappedPerTokenAndInAllAndAnsweredOnceApplied) {
  HttpOptions options;
  options.waiting_reads_per_token_max = 4;
  options.waiting_reads_max = 6;
  Start(options);
  SeedMarket();
  ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, milliseconds(5000)));
  const uint64_t next = log_->Head().sequence + 1;  // the next write
  const std::string target = "/v1/stats?after=" + std::to_string(next);
  std::vector<std::unique_ptr<RawClient>> waiting;
  auto wait = [&](Role role) {
    waiting.push_back(std::make_unique<RawClient>(port()));
    waiting.back()->Send(Get(target, role));
    std::this_thread::sleep_for(milliseconds(50));  // read, in this order, before the next
    return waiting.back().get();
  };
  for (int i = 0; i < 4; ++i) wait(Role::kOperator);
  RawClient* fifth_of_operator = wait(Role::kOperator);
  RawReply refused = fifth_of_operator->ReadResponse();
  EXPECT_EQ(refused.status, 429) << fifth_of_operator->received();
  EXPECT_EQ(ErrorCode(refused), "too_many_waiting_reads");
  EXPECT_NE(refused.body.find("this token"), std::string::npos) << refused.body;
  for (int i = 0; i < 2; ++i) wait(Role::kAuditor);
  RawClient* seventh = wait(Role::kAdmin);
  RawReply full = seventh->ReadResponse();
  EXPECT_EQ(full.status, 429) << seventh->received();
  EXPECT_EQ(ErrorCode(full), "too_many_waiting_reads");
  // The refused connections stay usable.
  seventh->Send(Get("/v1/stats", Role::kAdmin));
  EXPECT_EQ(seventh->ReadResponse().status, 200);
  // The six that wait hear nothing until the write they wait for is folded, then 200.
  EXPECT_EQ(waiting[0]->ReadResponse(milliseconds(200)).status, 0);
  ASSERT_EQ(Call(verb::post, "/v1/orders", OrderBody(), Role::kAsn).status, 201);
  int answered = 0;
  for (auto& client : waiting) {
    if (client.get() == fifth_of_operator || client.get() == seventh) continue;
    RawReply reply = client->ReadResponse(milliseconds(2000));
    EXPECT_EQ(reply.status, 200) << client->received();
    ASSERT_TRUE(reply.headers.contains("x-applied-sequence")) << client->received();
    EXPECT_GE(std::stoull(reply.headers["x-applied-sequence"]), next);
    ++answered;
  }
  EXPECT_EQ(answered, 6);
  // Their places are free again.
  ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, milliseconds(5000)));
  fifth_of_operator->Send(
      Get("/v1/stats?after=" + std::to_string(log_->Head().sequence + 1), Role::kOperator));
  EXPECT_EQ(fifth_of_operator->ReadResponse(milliseconds(200)).status, 0);  // waits
  ASSERT_EQ(Call(verb::post, "/v1/orders", OrderBody(), Role::kAsn).status, 201);
  EXPECT_EQ(fifth_of_operator->ReadResponse(milliseconds(2000)).status, 200);
}

TEST_F(HostileClientTest, AWaitingReadWhoseClientLeftGivesItsPlaceBackAtOnce) {
  HttpOptions options;
  options.waiting_reads_per_token_max = 1;
  Start(options);
  SeedMarket();
  ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, milliseconds(5000)));
  const std::string wait =
      Get("/v1/stats?after=" + std::to_string(log_->Head().sequence + 1), Role::kOperator);
  ASSERT_TRUE(ConnectionsOpenBecome(0, milliseconds(2000)));
  {
    RawClient leaving(port());
    leaving.Send(wait);
    EXPECT_EQ(leaving.ReadResponse(milliseconds(200)).status, 0);  // waits
    EXPECT_EQ(metrics_.connections_open(), 1);
  }
  // Its connection is closed and its place free well before the 5 s deadline.
  EXPECT_TRUE(ConnectionsOpenBecome(0, milliseconds(1000)));
  RawClient next(port());
  next.Send(wait);
  EXPECT_EQ(next.ReadResponse(milliseconds(200)).status, 0) << next.received();  // not 429
  ASSERT_EQ(Call(verb::post, "/v1/orders", OrderBody(), Role::kAsn).status, 201);
  EXPECT_EQ(next.ReadResponse(milliseconds(2000)).status, 200) << next.received();
}

TEST_F(HostileClientTest, HeadAnswersEveryGetRouteWithoutABodyAndKeepAliveStaysInStep) {
  Start(HttpOptions{});
  SeedMarket();
  // Folded before the first HEAD, so that /v1/stats reads the same for the HEAD and its GET.
  ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, milliseconds(5000)));
  const std::vector<std::pair<std::string, Role>> routes = {
      {"/healthz", Role::kAdmin},
      {"/v1/catalog", Role::kAsn},
      {"/v1/catalog/warung-bu-sri", Role::kAsn},
      {std::string("/v1/asn/") + kNip, Role::kAsn},
      {"/v1/umkm/warung-bu-sri", Role::kMerchant},
      {"/v1/stats", Role::kAuditor},
      {"/v1/events?from=1&limit=3", Role::kAuditor},
      {"/v1/stats?after=1", Role::kAuditor},
      {"/v1/orders/nope", Role::kAdmin},  // 404: the error's length, no body
      {"/v1/nowhere", Role::kAdmin},
  };
  RawClient client(port());
  for (const auto& [target, role] : routes) {
    client.Send(Get(target, role, "HEAD"));
    RawReply head = client.ReadResponse(milliseconds(3000), /*head=*/true);
    client.Send(Get(target, role));
    RawReply get = client.ReadResponse();
    ASSERT_NE(get.status, 0) << target << " out of step: " << client.received();
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.headers["content-type"], get.headers["content-type"]) << target;
    EXPECT_EQ(head.headers["content-length"], std::to_string(get.body.size())) << target;
    EXPECT_FALSE(get.body.empty()) << target;
  }
  // Pipelined: a HEAD and a GET in one write come back as two answers, the first bodiless.
  client.Send(Get("/v1/stats", Role::kAuditor, "HEAD") + Get("/healthz", Role::kAdmin));
  EXPECT_EQ(client.ReadResponse(milliseconds(3000), true).status, 200);
  RawReply after = client.ReadResponse();
  EXPECT_EQ(after.status, 200) << client.received();
  EXPECT_NE(after.body.find("\"status\":\"ok\""), std::string::npos) << after.body;
  // A subscription's HEAD: its headers, no stream, and the connection goes on.
  client.Send(Get("/v1/subscribe/events", Role::kAuditor, "HEAD"));
  RawReply subscription = client.ReadResponse(milliseconds(3000), true);
  EXPECT_EQ(subscription.status, 200);
  EXPECT_EQ(subscription.headers["content-type"], "text/event-stream");
  client.Send(Get("/healthz", Role::kAdmin));
  EXPECT_EQ(client.ReadResponse().status, 200) << client.received();
}

TEST_F(HostileClientTest, AWrongMethodIs405WithAllowAndTheErrorBody) {
  Start(HttpOptions{});
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"POST", "/v1/catalog", "GET, HEAD"},
      {"OPTIONS", "/v1/orders", "GET, HEAD, POST"},  // GET: the orders work list
      {"PUT", "/healthz", "GET, HEAD"},
      {"DELETE", "/v1/subscribe/events", "GET, HEAD"},
      {"BREW", "/v1/stats", "GET, HEAD"},
      {"PATCH", "/v1/umkm/warung-bu-sri/products/kopi", "DELETE"},
  };
  RawClient client(port());
  for (const auto& [method, target, allow] : cases) {
    client.Send(
        method + " " + target +
        " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-admin\r\nContent-Length: 0\r\n\r\n");
    RawReply reply = client.ReadResponse();
    EXPECT_EQ(reply.status, 405) << method << " " << target << ": " << client.received();
    EXPECT_EQ(reply.headers["allow"], allow) << method << " " << target;
    EXPECT_EQ(ErrorCode(reply), "method_not_allowed") << method << " " << target;
  }
  EXPECT_EQ(Call(verb::get, "/healthz").status, 200);
}

}  // namespace
}  // namespace malpro
