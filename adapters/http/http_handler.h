// HttpHandler: what HttpServer asks of whatever answers its requests. The server owns the
// connections, their limits and deadlines (server.h); a handler turns a request into a response
// and says how the server should treat it (its body limit, whether it may be answered on an
// I/O thread, whether it waits for the read models or opens a subscription). Api (api.h) is
// the ledger's handler; the bank simulator (adapters/bank/simulator.h) has its own.
#pragma once

#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/status.h"

namespace malpro {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// A live subscription (Server-Sent Events): Poll returns the next text to send, or "" when
// there is nothing new yet. Called from one I/O thread at a time.
struct Subscription {
  std::function<Result<std::string>()> poll;
};

// A read with ?after=SEQ that has to wait for the read models: until they applied `sequence`,
// counted against `caller` (the token's role and subject) in the server's caps.
struct ReadWait {
  uint64_t sequence = 0;
  std::string caller;
};

// Every method may be called from any of the server's threads at once; none throws. The
// optional capabilities have defaults that decline them, so a handler that needs none of them
// (no waiting reads, no subscriptions) implements Handle, BodyLimitFor and RouteLabel only.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // Answers `request`. A read that waits for the read models waits at most until
  // `read_deadline` (counted by the server from when it read the request). HEAD is answered
  // without a body (StripBodyForHead).
  virtual HttpResponse Handle(const HttpRequest& request,
                              std::chrono::steady_clock::time_point read_deadline) = 0;

  // The largest body the route of `target` accepts; the server refuses more with 413.
  virtual size_t BodyLimitFor(http::verb method, std::string_view target) const = 0;

  // A bounded label of the request's route for metrics, e.g. "POST /v1/orders/{order_id}".
  virtual std::string RouteLabel(http::verb method, std::string_view target) const = 0;
  // Every label RouteLabel answers for the methods the routes take, known in advance, so that
  // the server prepares their counters when it starts (HttpMetrics::PrepareRoutes) instead of
  // on their first request. Default: none (each label is added on first use).
  virtual std::vector<std::string> RouteLabels() const;

  // Answers without blocking the calling (I/O) thread when it can. Returns false, having done
  // nothing, when the request needs Handle. Otherwise `respond` is called exactly once, from
  // any thread, with a maker of the response to run where the response is written; `defer`
  // runs work that may block. Default: always false.
  using MakeResponse = std::function<HttpResponse()>;
  virtual bool HandleAsync(std::shared_ptr<const HttpRequest> request,
                           std::function<void(MakeResponse)> respond,
                           std::function<void(std::function<void()>)> defer);

  // Whether answering never waits, so the server may call Handle on its I/O thread. Default:
  // false.
  virtual bool IsQuick(const HttpRequest& request) const;

  // For a read that must wait for the read models before Handle answers it: what to wait for,
  // so that the server waits without a thread. nullopt: Handle answers at once. Never blocks.
  // Default: nullopt.
  virtual std::optional<ReadWait> ReadWaitOf(const HttpRequest& request) const;
  // The last sequence the read models applied; 0 when there are none (the default).
  virtual uint64_t ReadModelsApplied() const;

  // Headers that let a page from `origin` (the request's Origin) read the answer (CORS), as
  // name and value; the server adds them to every answer, subscriptions' included. Default:
  // none.
  virtual std::vector<std::pair<std::string, std::string>> CorsHeaders(
      std::string_view origin) const;

  // Whether the request asks for a live subscription, which the server streams itself.
  // Default: false.
  virtual bool IsSubscription(const HttpRequest& request) const;
  // Opens the subscription IsSubscription admitted; on error, fills `refusal` with the
  // response to send instead. Default: 404 route_not_found.
  virtual Result<Subscription> OpenSubscription(const HttpRequest& request, HttpResponse* refusal);
};

// A JSON response with Cache-Control: no-store, keeping the request's version and keep-alive.
HttpResponse JsonResponse(const HttpRequest& request, http::status status, std::string body);

// {"error":{"code":...,"message":...,"field":...}} with ErrorStatus(status).
HttpResponse ErrorResponse(const HttpRequest& request, const Status& status);

// The refusal of a read whose ?after=SEQ the read models did not apply in time (503).
Status ReadModelsBehind(uint64_t sequence);

// Makes `response` the answer to a HEAD: the Content-Length of its body, and no body. A
// response without a body is left as it is, so that calling it twice changes nothing.
void StripBodyForHead(HttpResponse& response);

}  // namespace malpro
