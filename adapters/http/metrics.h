// Counters and a latency histogram for /metrics (Prometheus text format 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "adapters/http/http_limits.h"

namespace malpro {

class HttpMetrics {
 public:
  // Records one answered request. `route` is the route pattern, e.g. "POST /v1/orders".
  void Record(const std::string& route, int status, double seconds);
  void ConnectionRejected() { connections_rejected_++; }
  void ConnectionOpened() { connections_open_++; }
  void ConnectionClosed() { connections_open_--; }
  int64_t connections_open() const { return connections_open_.load(); }
  // Reserves a place for a live subscription; false when http_subscriptions_max are open.
  bool SubscriptionOpened() {
    if (subscriptions_open_.fetch_add(1) < http_subscriptions_max) return true;
    subscriptions_open_--;
    return false;
  }
  void SubscriptionClosed() { subscriptions_open_--; }

  // Values computed when scraped, e.g. the log head (a gauge) or commands appended (a
  // counter: `type` "counter").
  void AddGauge(std::string name, std::string help, std::function<double()> read,
                std::string type = "gauge");

  std::string Render() const;

 private:
  static constexpr size_t kBuckets = std::size(metrics_latency_buckets);

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
  std::array<uint64_t, kBuckets + 1> latency_buckets_{};      // last: +Inf
  double latency_sum_ = 0;
  uint64_t latency_count_ = 0;
  struct Gauge {
    std::string help;
    std::function<double()> read;
    std::string type;
  };
  std::map<std::string, Gauge> gauges_;
  std::atomic<int64_t> connections_open_{0};
  std::atomic<uint64_t> connections_rejected_{0};
  std::atomic<int64_t> subscriptions_open_{0};
};

}  // namespace malpro
