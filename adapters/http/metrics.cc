#include "adapters/http/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <sstream>
#include <utility>

namespace malpro {
namespace {

// Status codes with a counter of their own: those HttpServer, Api and the bank's endpoints
// answer (engine/error_codes.h, adapters/http/error_status.cc), and a few a proxy-facing server
// may. Any other counts under its class.
constexpr int kStatuses[] = {200, 201, 202, 204, 206, 304, 400, 401, 403, 404, 405,
                             406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 422,
                             425, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505};
constexpr size_t kExactStatuses = std::size(kStatuses);
// Then one slot per class 1xx..5xx, and one for a code outside 100..599.
constexpr size_t kStatusSlots = kExactStatuses + 5 + 1;
constexpr size_t kBuckets = std::size(metrics_latency_buckets);
constexpr int kStatusMin = 100;
constexpr int kStatusMax = 599;

constexpr std::array<uint8_t, kStatusMax + 1> MakeStatusSlots() {
  std::array<uint8_t, kStatusMax + 1> slots{};
  for (int code = 0; code <= kStatusMax; ++code) {
    slots[code] =
        code < kStatusMin ? uint8_t(kStatusSlots - 1) : uint8_t(kExactStatuses + code / 100 - 1);
  }
  for (size_t i = 0; i < kExactStatuses; ++i) slots[kStatuses[i]] = uint8_t(i);
  return slots;
}
constexpr std::array<uint8_t, kStatusMax + 1> kStatusSlotOf = MakeStatusSlots();
static_assert(kStatusSlots < 256, "a slot number fits a byte");

size_t StatusSlot(int status) {
  return status < 0 || status > kStatusMax ? kStatusSlots - 1 : kStatusSlotOf[status];
}

std::string StatusLabel(size_t slot) {
  if (slot < kExactStatuses) return std::to_string(kStatuses[slot]);
  if (slot == kStatusSlots - 1) return "other";
  return std::to_string(slot - kExactStatuses + 1) + "xx";
}

std::string BoundLabel(double bound) {
  std::ostringstream text;
  text << bound;
  return text.str();
}

}  // namespace

// One label's counters, on cache lines of their own: the routes answered most often are
// counted from many threads at once.
struct alignas(64) HttpMetrics::RouteSlot {
  std::string label;  // written before the slot is published in an index
  std::array<std::atomic<uint64_t>, kStatusSlots> requests{};
  std::array<std::atomic<uint64_t>, kBuckets + 1> latency{};  // last: over every bound
  std::atomic<uint64_t> latency_sum_ns{0};
};

struct HttpMetrics::RouteIndex {
  std::vector<std::pair<std::string_view, RouteSlot*>> by_label;  // sorted by label

  RouteSlot* Find(std::string_view label) const {
    auto found = std::lower_bound(by_label.begin(), by_label.end(), label,
                                  [](const std::pair<std::string_view, RouteSlot*>& entry,
                                     std::string_view wanted) { return entry.first < wanted; });
    return found != by_label.end() && found->first == label ? found->second : nullptr;
  }
};

HttpMetrics::HttpMetrics() : slots_(new RouteSlot[metrics_routes_max + 1]) {
  slots_[metrics_routes_max].label = "other";
  indices_.push_back(std::make_unique<const RouteIndex>());
  index_.store(indices_.back().get(), std::memory_order_release);
}

HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::PrepareRoutes(const std::vector<std::string>& labels) {
  std::lock_guard lock(mutex_);
  auto index = std::make_unique<RouteIndex>(*index_.load(std::memory_order_acquire));
  for (const std::string& label : labels) {
    if (used_ == metrics_routes_max) break;
    if (index->Find(label) != nullptr) continue;
    RouteSlot& slot = slots_[used_++];
    slot.label = label;
    index->by_label.emplace_back(slot.label, &slot);
    std::sort(index->by_label.begin(), index->by_label.end());  // Find needs the order
  }
  indices_.push_back(std::move(index));
  index_.store(indices_.back().get(), std::memory_order_release);
}

HttpMetrics::RouteSlot& HttpMetrics::SlotOf(std::string_view route) {
  if (RouteSlot* slot = index_.load(std::memory_order_acquire)->Find(route)) return *slot;
  std::lock_guard lock(mutex_);
  return AddSlot(route);
}

HttpMetrics::RouteSlot& HttpMetrics::AddSlot(std::string_view route) {
  const RouteIndex& current = *index_.load(std::memory_order_acquire);
  if (RouteSlot* slot = current.Find(route)) return *slot;  // added meanwhile
  if (used_ == metrics_routes_max) return slots_[metrics_routes_max];
  RouteSlot& slot = slots_[used_++];
  slot.label = std::string(route);
  auto index = std::make_unique<RouteIndex>(current);
  index->by_label.emplace_back(slot.label, &slot);
  std::sort(index->by_label.begin(), index->by_label.end());
  indices_.push_back(std::move(index));
  index_.store(indices_.back().get(), std::memory_order_release);
  return slot;
}

void HttpMetrics::Record(std::string_view route, int status, double seconds) {
  RouteSlot& slot = SlotOf(route);
  slot.requests[StatusSlot(status)].fetch_add(1, std::memory_order_relaxed);
  size_t bucket = 0;
  while (bucket < kBuckets && seconds > metrics_latency_buckets[bucket]) ++bucket;
  slot.latency[bucket].fetch_add(1, std::memory_order_relaxed);
  const double nanoseconds = std::max(0.0, seconds) * 1e9;
  slot.latency_sum_ns.fetch_add(static_cast<uint64_t>(nanoseconds), std::memory_order_relaxed);
}

void HttpMetrics::AddGauge(std::string name, std::string help, std::function<double()> read,
                           std::string type) {
  AddGaugeFamily(
      std::move(name), std::move(help),
      [read = std::move(read)] {
        return std::vector<Sample>{{"", read()}};
      },
      std::move(type));
}

void HttpMetrics::AddGaugeFamily(std::string name, std::string help,
                                 std::function<std::vector<Sample>()> read, std::string type) {
  std::lock_guard lock(mutex_);
  gauges_[std::move(name)] = {std::move(help), std::move(read), std::move(type)};
}

std::string HttpMetrics::FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9.007e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  std::array<char, 32> text{};
  const auto [end, error] = std::to_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() ? std::string(text.data(), end) : std::to_string(value);
}

std::string HttpMetrics::EscapeLabelValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Every slot with a request, by label, and "other" last.
void HttpMetrics::RenderRequests(std::string& out) const {
  std::vector<const RouteSlot*> slots;
  for (const auto& [label, slot] : index_.load(std::memory_order_acquire)->by_label) {
    slots.push_back(slot);
  }
  slots.push_back(&slots_[metrics_routes_max]);
  out +=
      "# HELP malpro_http_requests_total HTTP requests answered, by route pattern and status.\n"
      "# TYPE malpro_http_requests_total counter\n";
  for (const RouteSlot* slot : slots) {
    const std::string route = EscapeLabelValue(slot->label);
    for (size_t status = 0; status < kStatusSlots; ++status) {
      const uint64_t count = slot->requests[status].load(std::memory_order_relaxed);
      if (count == 0) continue;
      out += "malpro_http_requests_total{route=\"" + route + "\",status=\"" + StatusLabel(status) +
             "\"} " + std::to_string(count) + "\n";
    }
  }
  out +=
      "# HELP malpro_http_request_duration_seconds Time from request read to response ready "
      "(including waits for a worker and for the read models), by route pattern.\n"
      "# TYPE malpro_http_request_duration_seconds histogram\n";
  for (const RouteSlot* slot : slots) {
    std::array<uint64_t, kBuckets + 1> counts{};
    for (size_t i = 0; i <= kBuckets; ++i) {
      counts[i] = slot->latency[i].load(std::memory_order_relaxed);
    }
    uint64_t cumulative = 0;
    for (uint64_t count : counts) cumulative += count;
    if (cumulative == 0) continue;
    const std::string route = "route=\"" + EscapeLabelValue(slot->label) + "\"";
    cumulative = 0;
    for (size_t i = 0; i <= kBuckets; ++i) {
      cumulative += counts[i];
      const std::string bound = i < kBuckets ? BoundLabel(metrics_latency_buckets[i]) : "+Inf";
      out += "malpro_http_request_duration_seconds_bucket{" + route + ",le=\"" + bound + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    const double sum = slot->latency_sum_ns.load(std::memory_order_relaxed) / 1e9;
    out += "malpro_http_request_duration_seconds_sum{" + route + "} " + FormatValue(sum) + "\n" +
           "malpro_http_request_duration_seconds_count{" + route + "} " +
           std::to_string(cumulative) + "\n";
  }
}

std::string HttpMetrics::Render() const {
  std::string out;
  RenderRequests(out);
  out +=
      "# HELP malpro_http_connections_open Open HTTP connections.\n"
      "# TYPE malpro_http_connections_open gauge\n"
      "malpro_http_connections_open " +
      std::to_string(connections_open_.load()) +
      "\n"
      "# HELP malpro_http_connections_rejected_total Connections refused over the limit.\n"
      "# TYPE malpro_http_connections_rejected_total counter\n"
      "malpro_http_connections_rejected_total " +
      std::to_string(connections_rejected_.load()) +
      "\n"
      "# HELP malpro_http_subscriptions_open Live subscriptions (Server-Sent Events) open.\n"
      "# TYPE malpro_http_subscriptions_open gauge\n"
      "malpro_http_subscriptions_open " +
      std::to_string(subscriptions_open_.load()) + "\n";
  std::map<std::string, Gauge> gauges;
  {
    std::lock_guard lock(mutex_);  // the callbacks run without it: some read the disk
    gauges = gauges_;
  }
  for (const auto& [name, gauge] : gauges) {
    out += "# HELP " + name + " " + gauge.help + "\n# TYPE " + name + " " + gauge.type + "\n";
    for (const Sample& sample : gauge.read()) {
      out += name + (sample.labels.empty() ? "" : "{" + sample.labels + "}") + " " +
             FormatValue(sample.value) + "\n";
    }
  }
  return out;
}

}  // namespace malpro
