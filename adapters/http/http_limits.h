// Limits of the HTTP adapter. Defaults of the configurable ones live in HttpOptions.
#pragma once

#include <cstddef>

namespace malpro {

// Request line and headers together.
inline constexpr size_t http_header_bytes_max = 16 * 1024;
// Bodies of ordinary JSON requests.
inline constexpr size_t http_body_bytes_default = 64 * 1024;
// Bodies of receipt submissions: a 2 MiB photo in base64 (4/3) plus the other fields.
inline constexpr size_t http_photo_body_bytes_default = 3 * 1024 * 1024;
// Events one GET /v1/events or /v1/streams call returns at most.
inline constexpr size_t http_events_page_max = 1000;
// How long a read with ?after=SEQ waits for the projections at most.
inline constexpr int http_after_wait_ms_max = 10'000;
inline constexpr int http_read_wait_ms = 5'000;
// A month's close computes its figures at the log's head and appends only if the head has not
// moved: tries at most this often under steady writes before answering 409.
inline constexpr int compliance_close_attempts_max = 5;
static_assert(http_read_wait_ms <= http_after_wait_ms_max);
// Pages of read models (catalog, shortfalls).
inline constexpr uint64_t http_page_limit_default = 50;
inline constexpr uint64_t http_page_limit_max = 500;
inline constexpr uint64_t http_page_offset_max = 1'000'000;
// Live subscriptions open at once; one more is answered 429.
inline constexpr int http_subscriptions_max = 256;
// Events one subscription poll sends at most, and how often an idle one looks for more.
inline constexpr size_t http_subscription_batch_events = 256;
inline constexpr int http_subscription_poll_ms = 100;
// A comment line keeps idle subscriptions alive through proxies and detects gone clients.
inline constexpr int http_subscription_heartbeat_ms = 15'000;
// How long Stop() waits for the answers of orders placed without a waiting thread (their
// groups being synced); after it, late answers are dropped with their connections.
inline constexpr int http_stop_answers_wait_ms = 30'000;
// Route labels kept in metrics (one per route pattern, plus "unmatched").
inline constexpr size_t metrics_routes_max = 128;
// Latency histogram bucket bounds, in seconds.
inline constexpr double metrics_latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

static_assert(http_photo_body_bytes_default > http_body_bytes_default, "photos need more room");

}  // namespace malpro
