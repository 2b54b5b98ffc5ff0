#include "adapters/http/metrics.h"

#include <sstream>

namespace malpro {

void HttpMetrics::Record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  const std::string& label =
      requests_.size() < metrics_routes_max || requests_.contains({route, status})
          ? route
          : std::string("other");
  requests_[{label, status}]++;
  size_t bucket = 0;
  while (bucket < kBuckets && seconds > metrics_latency_buckets[bucket]) ++bucket;
  latency_buckets_[bucket]++;
  latency_sum_ += seconds;
  latency_count_++;
}

void HttpMetrics::AddGauge(std::string name, std::string help, std::function<double()> read,
                           std::string type) {
  std::lock_guard lock(mutex_);
  gauges_[std::move(name)] = {std::move(help), std::move(read), std::move(type)};
}

std::string HttpMetrics::Render() const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP malpro_http_requests_total HTTP requests answered, by route and status.\n"
      << "# TYPE malpro_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out << "malpro_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
        << "\"} " << count << "\n";
  }
  out << "# HELP malpro_http_request_duration_seconds Time from request read to response ready.\n"
      << "# TYPE malpro_http_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    cumulative += latency_buckets_[i];
    out << "malpro_http_request_duration_seconds_bucket{le=\"" << metrics_latency_buckets[i]
        << "\"} " << cumulative << "\n";
  }
  cumulative += latency_buckets_[kBuckets];
  out << "malpro_http_request_duration_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n"
      << "malpro_http_request_duration_seconds_sum " << latency_sum_ << "\n"
      << "malpro_http_request_duration_seconds_count " << latency_count_ << "\n";
  out << "# HELP malpro_http_connections_open Open HTTP connections.\n"
      << "# TYPE malpro_http_connections_open gauge\n"
      << "malpro_http_connections_open " << connections_open_.load() << "\n"
      << "# HELP malpro_http_connections_rejected_total Connections refused over the limit.\n"
      << "# TYPE malpro_http_connections_rejected_total counter\n"
      << "malpro_http_connections_rejected_total " << connections_rejected_.load() << "\n"
      << "# HELP malpro_http_subscriptions_open Live subscriptions (Server-Sent Events) open.\n"
      << "# TYPE malpro_http_subscriptions_open gauge\n"
      << "malpro_http_subscriptions_open " << subscriptions_open_.load() << "\n";
  for (const auto& [name, gauge] : gauges_) {
    out << "# HELP " << name << " " << gauge.help << "\n# TYPE " << name << " " << gauge.type
        << "\n"
        << name << " " << static_cast<uint64_t>(gauge.read()) << "\n";
  }
  return out.str();
}

}  // namespace malpro
