// Limits of the HTTP adapter. Defaults of the configurable ones live in HttpOptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace malpro {

// Request line and headers together; more is answered 431 headers_too_large.
inline constexpr size_t http_header_bytes_max = 16 * 1024;
// The request target (path and query); longer is answered 414 uri_too_long. The longest of our
// own is a read-model query with a few short parameters; 8 KiB is what common proxies pass.
inline constexpr size_t http_target_bytes_max = 8 * 1024;
static_assert(http_target_bytes_max < http_header_bytes_max, "a long target is told apart");
// Bodies of ordinary JSON requests.
inline constexpr size_t http_body_bytes_default = 64 * 1024;
// Bodies of receipt submissions: a 2 MiB photo in base64 (4/3) plus the other fields.
inline constexpr size_t http_photo_body_bytes_default = 3 * 1024 * 1024;
// Events one GET /v1/events or /v1/streams call returns at most.
inline constexpr size_t http_events_page_max = 1000;
// How long a read with ?after=SEQ waits for the projections at most (docs/http-api.md says
// 5 s), measured from when the request was read; then 503 read_models_behind. Waiting reads
// hold no thread: a timer on the I/O context looks at the read models' position every
// http_read_wait_poll_ms while any read waits, so a read answers at most that late.
inline constexpr int http_after_wait_ms_max = 10'000;
inline constexpr int http_read_wait_ms = 5'000;
inline constexpr int http_read_wait_poll_ms = 1;
static_assert(http_read_wait_poll_ms * 100 <= http_read_wait_ms, "polls are fine-grained");
// A refused request (413, 431, 408, ...) is answered, the sending side shut, and what the
// client still sends read and dropped for at most this long and this much before the socket
// closes: closing with unread bytes resets the connection, and a reset can destroy the answer
// before the client reads it. Enough for a refused photo sent in full before reading.
inline constexpr int http_refusal_drain_ms = 2'000;
inline constexpr size_t http_refusal_drain_bytes_max = 8 * 1024 * 1024;
// Connections over a connection limit being answered 429 (and drained) at once; beyond, one
// is closed without an answer, so a flood costs at most this many descriptors.
inline constexpr int http_turn_aways_max = 256;
// A month's close computes its figures at the log's head and appends only if the head has not
// moved: tries at most this often under steady writes before answering 409.
inline constexpr int compliance_close_attempts_max = 5;
static_assert(http_read_wait_ms <= http_after_wait_ms_max);
// Pages of read models (catalog, shortfalls).
inline constexpr uint64_t http_page_limit_default = 50;
inline constexpr uint64_t http_page_limit_max = 500;
inline constexpr uint64_t http_page_offset_max = 1'000'000;
// Rows a page in a CSV answer (docs/http-api.md, "CSV"): a file for people, so that a whole
// office's shortfall list (an OPD has a few thousand ASN) comes in one download. A row is at
// most a few hundred bytes, so a page stays a few MiB.
inline constexpr uint64_t http_csv_limit_max = 10'000;
static_assert(http_csv_limit_max >= http_page_limit_max, "a CSV page holds a JSON page");
// GET /v1/payments?older_than_s=: at most ten years.
inline constexpr uint64_t http_older_than_s_max = 10ull * 366 * 86'400;
// A settlement file served whole (GET /v1/settlement/{date}/files/{name}); the files of one
// day are far smaller (settlement_too_many_merchants bounds their lines).
inline constexpr uint64_t http_settlement_file_bytes_max = 64ull << 20;
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
// Route labels kept in metrics: one per route pattern (HEAD of a GET route apart), plus
// "unmatched"; requests of any label beyond count under "other". Each label holds a fixed set
// of counters, so this bounds both the memory and the series /metrics shows.
inline constexpr size_t metrics_routes_max = 256;
// Latency histogram bucket bounds, in seconds, per route. Latency runs from when the request
// was read to when its answer is ready, so it includes the wait for a worker and a read's
// wait for the read models: the bounds go past http_read_wait_ms (answered at most a poll
// later, or 503) to the longest a request waits (http_after_wait_ms_max), and 0.01 is one of
// them, so that "p99 of POST /v1/orders over 10 ms" is read off a bound, not interpolated.
inline constexpr double metrics_latency_buckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

constexpr bool MetricsLatencyBucketsValid() {
  bool has_10_ms = false;
  bool has_read_wait = false;
  for (size_t i = 0; i < std::size(metrics_latency_buckets); ++i) {
    if (i > 0 && metrics_latency_buckets[i] <= metrics_latency_buckets[i - 1]) return false;
    has_10_ms = has_10_ms || metrics_latency_buckets[i] == 0.01;
    has_read_wait = has_read_wait || metrics_latency_buckets[i] * 1000 == http_read_wait_ms;
  }
  return has_10_ms && has_read_wait;
}
static_assert(MetricsLatencyBucketsValid(), "ascending, with 10 ms and the read wait as bounds");
static_assert(std::size(metrics_latency_buckets) > 0 &&
                  metrics_latency_buckets[std::size(metrics_latency_buckets) - 1] * 1000 >=
                      http_after_wait_ms_max,
              "the histogram tells a read that waited its whole time from a quick one");
static_assert(http_photo_body_bytes_default > http_body_bytes_default, "photos need more room");
static_assert(http_refusal_drain_bytes_max > http_photo_body_bytes_default + http_header_bytes_max,
              "a refused default-size photo is drained whole, so its client reads the 413");

}  // namespace malpro
