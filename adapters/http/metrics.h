// Counters, gauges and per-route latency histograms for /metrics (Prometheus text format 0.0.4).
//
// Requests are counted by route label (the route pattern such as
// "POST /v1/orders/{order_id}/accept", never the raw path; "unmatched" for what no route takes)
// and status, each with a latency histogram (bounds in http_limits.h). Recording a request
// takes no lock and allocates nothing once its label is known: each label owns a slot of
// atomic counters, found through an index that is never changed, only replaced by a larger
// copy when a label is added (PrepareRoutes at start, or a label's first request). At most
// metrics_routes_max labels; requests of any other count under "other".
//
// Statuses have a counter each for the codes this project answers (metrics.cc lists them); any
// other code counts under its class, e.g. status="5xx".
//
// Threading: every method may be called from any thread. AddGauge and AddGaugeFamily are meant
// for start-up; their callbacks run on the thread that renders (Render), without the metrics'
// lock, and two scrapes at once run them at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/http_limits.h"

namespace malpro {

class HttpMetrics {
 public:
  HttpMetrics();
  ~HttpMetrics();
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;

  // Gives each label its counters now, so that recording never adds one. Labels known already
  // are skipped; those beyond metrics_routes_max are not kept.
  void PrepareRoutes(const std::vector<std::string>& labels);
  // Records one answered request. `route` is the route's label, e.g. "POST /v1/orders".
  void Record(std::string_view route, int status, double seconds);

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

  // One series of a gauge family: its labels as written between the braces (e.g.
  // `state="publishing"`; empty for none) and its value.
  struct Sample {
    std::string labels;
    double value = 0;
  };
  // Values computed when scraped, e.g. the log head (a gauge) or commands appended (a
  // counter: `type` "counter"). A name added again replaces the earlier one.
  void AddGauge(std::string name, std::string help, std::function<double()> read,
                std::string type = "gauge");
  // A family of labelled series computed when scraped, e.g. malpro_build_info{version=...}.
  void AddGaugeFamily(std::string name, std::string help, std::function<std::vector<Sample>()> read,
                      std::string type = "gauge");

  std::string Render() const;

  // The value as Prometheus reads it: whole numbers without a fraction or exponent (sequences
  // exceed the six digits of the default formatting), others in the shortest exact form.
  static std::string FormatValue(double value);
  // `text` as a label value: backslash, double quote and newline escaped.
  static std::string EscapeLabelValue(std::string_view text);

 private:
  struct RouteSlot;   // one label's counters (metrics.cc)
  struct RouteIndex;  // label -> slot, sorted; replaced whole when a label is added
  // The slot of `route`, adding it when there is room; the "other" slot when there is none.
  RouteSlot& SlotOf(std::string_view route);
  RouteSlot& AddSlot(std::string_view route);  // under mutex_
  void RenderRequests(std::string& out) const;

  std::unique_ptr<RouteSlot[]> slots_;  // metrics_routes_max labels, then "other"
  std::atomic<const RouteIndex*> index_;
  mutable std::mutex mutex_;  // adding labels (indices_, used_) and the gauges
  std::vector<std::unique_ptr<const RouteIndex>> indices_;  // every index published, kept
  size_t used_ = 0;                                         // slots given a label
  struct Gauge {
    std::string help;
    std::function<std::vector<Sample>()> read;
    std::string type;
  };
  std::map<std::string, Gauge> gauges_;
  std::atomic<int64_t> connections_open_{0};
  std::atomic<uint64_t> connections_rejected_{0};
  std::atomic<int64_t> subscriptions_open_{0};
};

}  // namespace malpro
