// /metrics: requests counted and timed by route pattern (bank notifications and live
// subscriptions included), bounded labels, exact counts under concurrent recording, and the
// text format of gauges. Through the API on real sockets, and HttpMetrics directly.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/bank/notify.h"
#include "tests/support/api_server.h"

namespace malpro {
namespace {

using boost::beast::http::verb;
using testing::BeastClient;
using testing::kTokens;
using testing::Reply;

// The value of the series `series` (its name and labels exactly), or nullopt when absent.
std::optional<double> Value(const std::string& metrics, const std::string& series) {
  const std::string wanted = "\n" + series + " ";
  const size_t at = ("\n" + metrics).find(wanted);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(metrics.substr(at + wanted.size() - 1));
}

std::string Requests(const std::string& route, const std::string& status) {
  return "malpro_http_requests_total{route=\"" + route + "\",status=\"" + status + "\"}";
}

std::string Bucket(const std::string& route, const std::string& bound) {
  return "malpro_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" + bound +
         "\"}";
}

class HttpMetricsTest : public testing::ApiServerTest {
 protected:
  void SetUp() override {
    add_dependencies_ = [this](ApiDependencies& dependencies) {
      dependencies.external_routes = [this](const HttpRequest& request) {
        return HandleBankRequest(request, *ledger_, notify_);
      };
      dependencies.external_route_paths = BankRoutePaths(notify_);
    };
    Start(HttpOptions{});
  }

  std::string Metrics() {
    Reply reply = Call(verb::get, "/metrics", "", std::nullopt);
    EXPECT_EQ(reply.status, 200);
    return reply.body;
  }

  BankNotifyOptions notify_;  // no bank key: every notification is refused, by its route
};

TEST_F(HttpMetricsTest, RequestsCountUnderTheirRoutePatternNeverTheirPath) {
  EXPECT_EQ(Call(verb::get, "/v1/orders/o-404").status, 404);
  EXPECT_EQ(Call(verb::get, "/v1/orders/o-405").status, 404);
  EXPECT_EQ(Call(verb::get, "/no/such/path").status, 404);
  const std::string metrics = Metrics();
  EXPECT_EQ(Value(metrics, Requests("GET /v1/orders/{order_id}", "404")), 2) << metrics;
  EXPECT_EQ(Value(metrics, Requests("unmatched", "404")), 1) << metrics;
  EXPECT_EQ(metrics.find("o-404"), std::string::npos);
  EXPECT_EQ(metrics.find("/no/such"), std::string::npos);
  EXPECT_EQ(Value(metrics,
                  "malpro_http_request_duration_seconds_count{route=\"GET "
                  "/v1/orders/{order_id}\"}"),
            2);
  EXPECT_EQ(Value(metrics, Bucket("GET /v1/orders/{order_id}", "+Inf")), 2);
}

TEST_F(HttpMetricsTest, BankNotificationsCountUnderTheirRoutes) {
  for (const char* path : {"/v1.0/qr/qr-mpm-notify", "/v1.0/transfer-va/payment"}) {
    Reply refused = Call(verb::post, path, "{}", std::nullopt);
    EXPECT_EQ(refused.status, 400) << path;
    EXPECT_NE(refused.body.find("responseCode"), std::string::npos) << refused.body;
  }
  const std::string metrics = Metrics();
  EXPECT_EQ(Value(metrics, Requests("POST /v1.0/qr/qr-mpm-notify", "400")), 1) << metrics;
  EXPECT_EQ(Value(metrics, Requests("POST /v1.0/transfer-va/payment", "400")), 1) << metrics;
  EXPECT_EQ(metrics.find("route=\"unmatched\""), std::string::npos) << metrics;
}

TEST_F(HttpMetricsTest, SubscriptionsCountUnderTheirRouteWhenOpenedAndWhenRefused) {
  BeastClient subscriber(port());
  const std::string request =
      "GET /v1/subscribe/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer " +
      kTokens.at(Role::kAuditor) + "\r\n\r\n";
  boost::asio::write(subscriber.socket(), boost::asio::buffer(request));
  std::string received;
  boost::asio::read_until(subscriber.socket(), boost::asio::dynamic_buffer(received),
                          ": subscribed\n\n");
  EXPECT_NE(received.find("text/event-stream"), std::string::npos) << received;
  EXPECT_EQ(Call(verb::get, "/v1/subscribe/events", "", std::nullopt).status, 401);
  const std::string metrics = Metrics();
  EXPECT_EQ(Value(metrics, Requests("GET /v1/subscribe/events", "200")), 1) << metrics;
  EXPECT_EQ(Value(metrics, Requests("GET /v1/subscribe/events", "401")), 1) << metrics;
  EXPECT_EQ(Value(metrics, "malpro_http_subscriptions_open"), 1) << metrics;
  EXPECT_EQ(metrics.find("route=\"unmatched\""), std::string::npos) << metrics;
}

TEST_F(HttpMetricsTest, AReadThatWaitsIsTimedFromWhenItWasRead) {
  // A position the log never reaches: the read waits its whole time (http_read_wait_ms), then
  // 503. Its latency is that wait, in the bucket above the read wait's bound.
  EXPECT_EQ(Call(verb::get, "/v1/stats?after=999999").status, 503);
  const std::string metrics = Metrics();
  EXPECT_EQ(Value(metrics, Requests("GET /v1/stats", "503")), 1) << metrics;
  EXPECT_EQ(Value(metrics, Bucket("GET /v1/stats", "2.5")), 0) << metrics;
  EXPECT_EQ(Value(metrics, Bucket("GET /v1/stats", "5")), 0) << metrics;
  EXPECT_EQ(Value(metrics, Bucket("GET /v1/stats", "10")), 1) << metrics;
  const std::optional<double> sum =
      Value(metrics, "malpro_http_request_duration_seconds_sum{route=\"GET /v1/stats\"}");
  ASSERT_TRUE(sum.has_value()) << metrics;
  EXPECT_GE(*sum, http_read_wait_ms / 1000.0);
}

TEST_F(HttpMetricsTest, EveryRouteHasAPreparedLabelWithinTheLimit) {
  const std::vector<std::string> labels = api_->RouteLabels();
  // Over the limit, a route's requests would count under "other": raise metrics_routes_max
  // with the routes (HEAD of each GET route takes a label too).
  size_t gets = 0;
  for (const std::string& label : labels) gets += label.starts_with("GET ");
  EXPECT_LE(labels.size() + gets, metrics_routes_max);
  for (const char* label : {"POST /v1/orders", "GET /v1/subscribe/events",
                            "GET /v1/subscribe/projections", "POST /v1.0/qr/qr-mpm-notify",
                            "POST /v1.0/transfer-va/payment", "GET /metrics", "unmatched"}) {
    EXPECT_NE(std::find(labels.begin(), labels.end(), label), labels.end()) << label;
  }
  EXPECT_EQ(api_->RouteLabel(verb::post, "/v1.0/qr/qr-mpm-notify"), "POST /v1.0/qr/qr-mpm-notify");
  EXPECT_EQ(api_->RouteLabel(verb::get, "/v1.0/qr/qr-mpm-notify"), "unmatched");
  EXPECT_EQ(api_->RouteLabel(verb::get, "/v1/subscribe/events?after=3"),
            "GET /v1/subscribe/events");
}

TEST(HttpMetrics, LabelsBeyondTheLimitCountAsOther) {
  HttpMetrics metrics;
  metrics.PrepareRoutes({"GET /a", "GET /b", "GET /a"});
  const size_t extra = 40;
  for (size_t i = 0; i < metrics_routes_max + extra; ++i) {
    metrics.Record("GET /label-" + std::to_string(i), 200, 0.001);
  }
  const std::string text = metrics.Render();
  // Two prepared labels, then metrics_routes_max - 2 of the new ones; the rest are "other".
  EXPECT_EQ(Value(text, Requests("other", "200")), extra + 2) << text;
  EXPECT_EQ(Value(text, Requests("GET /label-0", "200")), 1);
  EXPECT_FALSE(
      Value(text, Requests("GET /label-" + std::to_string(metrics_routes_max - 2), "200")));
  EXPECT_FALSE(Value(text, Requests("GET /a", "200")));  // prepared, never requested: not shown
}

TEST(HttpMetrics, ConcurrentRecordsAreAllCountedAndTimed) {
  HttpMetrics metrics;
  metrics.PrepareRoutes({"POST /v1/orders"});
  constexpr int kThreads = 8;
  constexpr int kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kEach; ++i) {
        // Half in the first bucket, half between 5 and 10 ms; a new label now and then.
        metrics.Record(i % 1000 == 0 ? "GET /t" + std::to_string(t) : "POST /v1/orders",
                       i % 2 == 0 ? 201 : 409, i % 2 == 0 ? 0.0001 : 0.007);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = metrics.Render();
  const double orders = kThreads * (kEach - kEach / 1000);
  const double created = kThreads * (kEach / 2 - kEach / 1000);
  EXPECT_EQ(Value(text, Requests("POST /v1/orders", "201")), created);
  EXPECT_EQ(Value(text, Requests("POST /v1/orders", "409")), orders - created);
  EXPECT_EQ(Value(text, Bucket("POST /v1/orders", "0.0005")), created);
  EXPECT_EQ(Value(text, Bucket("POST /v1/orders", "0.005")), created);
  EXPECT_EQ(Value(text, Bucket("POST /v1/orders", "0.01")), orders);
  EXPECT_EQ(Value(text, Requests("GET /t3", "201")), kEach / 1000);
  const std::optional<double> sum =
      Value(text, "malpro_http_request_duration_seconds_sum{route=\"POST /v1/orders\"}");
  ASSERT_TRUE(sum.has_value());
  EXPECT_NEAR(*sum, created * 0.0001 + (orders - created) * 0.007, 1e-3);
}

TEST(HttpMetrics, StatusesOutsideTheListCountUnderTheirClass) {
  HttpMetrics metrics;
  metrics.Record("GET /x", 200, 0.001);
  metrics.Record("GET /x", 418, 0.001);
  metrics.Record("GET /x", 599, 0.001);
  metrics.Record("GET /x", 42, 0.001);
  const std::string text = metrics.Render();
  EXPECT_EQ(Value(text, Requests("GET /x", "200")), 1) << text;
  EXPECT_EQ(Value(text, Requests("GET /x", "4xx")), 1) << text;
  EXPECT_EQ(Value(text, Requests("GET /x", "5xx")), 1) << text;
  EXPECT_EQ(Value(text, Requests("GET /x", "other")), 1) << text;
}

TEST(HttpMetrics, GaugesRenderExactValuesAndEscapedLabels) {
  HttpMetrics metrics;
  metrics.AddGauge("malpro_test_sequence", "A sequence.", [] { return 123456789012.0; });
  metrics.AddGauge("malpro_test_age_seconds", "An age.", [] { return 0.25; });
  metrics.AddGaugeFamily("malpro_test_info", "Labels.", [] {
    return std::vector<HttpMetrics::Sample>{
        {"name=\"" + HttpMetrics::EscapeLabelValue("a \"b\"\\\n") + "\"", 1}};
  });
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("\nmalpro_test_sequence 123456789012\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nmalpro_test_age_seconds 0.25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nmalpro_test_info{name=\"a \\\"b\\\"\\\\\\n\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE malpro_test_info gauge\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace malpro
