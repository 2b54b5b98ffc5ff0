// Api: the HTTP API as a plain function from request to response, with no sockets, so every
// route can be tested directly and through HttpServer alike. docs/http-api.md lists the routes.
//
// Every route checks the caller's role (Authorization: Bearer token) and, for the asn and
// merchant roles, that the resource is their own. Errors are JSON
// {"error":{"code","message","field"}} with the status given by ErrorStatus().
//
// Api is HttpServer's handler (http_handler.h). api.cc routes; the routes of each resource
// are in api_<resource>.cc, the JSON of each state in json_views.h, and the binding of each
// command's body in command_bodies.h (which the Kafka intake shares).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/auth.h"
#include "adapters/http/error_status.h"
#include "adapters/http/http_handler.h"
#include "adapters/http/metrics.h"
#include "engine/event_log.h"
#include "engine/ledger.h"

namespace malpro {

class Projector;
class TlogStore;
class SessionTable;
class ConsoleFiles;
class CheckpointIssuer;

// What a cashless payment request produced: the command's result and a JSON object with what
// the payer needs (QRIS content or virtual account number), written by the bank adapter.
struct PaymentRequestAnswer {
  CommandResult result;
  std::string payment_json;
};

// A command that also produced details worth answering (files written, matches found).
struct DetailedAnswer {
  CommandResult result;
  std::string details_json;
};

struct ApiDependencies {
  EventLog* log = nullptr;
  Ledger* ledger = nullptr;
  Projector* projector = nullptr;  // read models; their routes answer 503 when absent
  const TokenTable* tokens = nullptr;
  HttpMetrics* metrics = nullptr;
  size_t body_bytes_max = 0;
  size_t photo_body_bytes_max = 0;
  // Extra facts for /healthz, e.g. the Kafka relay's state; may be empty.
  std::function<std::string()> health_details;
  // Routes that authenticate by their own means (the bank's SNAP endpoints): asked first,
  // answers when the request is theirs. May be empty.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> external_routes;
  // The paths external_routes answers (the bank's: adapters/bank/notify.h, BankRoutePaths), so
  // that their POSTs are counted in /metrics under "POST <path>" rather than "unmatched".
  std::vector<std::string> external_route_paths = {};
  // Closing a business day and reconciling a bank statement (adapters/files): they write files
  // and read the whole log, so `malpro serve` provides them. Each answers the command's result
  // and a JSON object of details. Their routes answer 503 when absent.
  std::function<Result<DetailedAnswer>(const std::string& business_date, const CommandContext&)>
      close_settlement = {};
  std::function<Result<DetailedAnswer>(std::string_view statement, const std::string& format,
                                       const CommandContext&)>
      reconcile_statement = {};
  // Asks the bank for a payment of a cashless order and records payment.requested
  // (POST /v1/orders/{order_id}/payment). Empty: no bank configured, the route answers 503.
  std::function<Result<PaymentRequestAnswer>(
      const std::string& order_id, const std::string& channel, const CommandContext& context)>
      request_payment = {};
  // What the payer needs for a pending payment this process requested, as a JSON object; ""
  // when unknown. May be empty.
  std::function<std::string(const std::string& payment_id)> issued_payment = {};
  // Voids at the bank a payment request that a cancel just voided in the ledger (QRIS
  // cancel, VA deletion). May be empty.
  std::function<void(const std::string& payment_id)> void_payment = {};
  // Where closed days' settlement files are (settlement.out_dir), for
  // GET /v1/settlement/{date}/files/{name}. Empty: that route answers 503 settlement_off.
  std::string settlement_out_dir = {};
  // Non-empty: a server that only reads (`malpro audit replay --serve`, the ledger as it stood
  // at a sequence). Every other method is refused 405 server_read_only with this text.
  std::string read_only = {};
  // Non-empty (with read_only): a read replica of the primary at this URL (`malpro replica`).
  // Writes are refused 421 replica_read_only instead, with read_only's text and the header
  // X-Malpro-Primary naming it.
  std::string primary_url = {};
  // Asked before every write: an error refuses it with that error (a primary that a
  // promotion fenced: kafka_relay_fenced, 503). May be empty.
  std::function<Status()> write_gate = {};
  // Extra health for /healthz: an error makes it answer 503 (a replica that stopped). May be
  // empty.
  std::function<Status()> health_check = {};
  // The Merkle tree of the log, for GET /tlog/tile/... (its entry bundles read `log`). Null:
  // those routes answer 503 tlog_off.
  const TlogStore* tlog = nullptr;
  // The signed checkpoints, for GET /tlog/checkpoint(s). Null: 503 checkpoints_off.
  const CheckpointIssuer* checkpoints = nullptr;
  // Browser sessions (POST /v1/session; api_session.cc). Null: no /v1/session routes, and a
  // session cookie authenticates nothing.
  SessionTable* sessions = nullptr;
  // The console's files, answered at GET / and GET /console/<path>. Null: those are 404.
  const ConsoleFiles* console = nullptr;
  // Origins whose pages may read the answers (CORS, http.cors_origins). Empty: none.
  std::vector<std::string> cors_origins = {};
};

// One call being answered: who, which route, which parameters.
struct ApiCall {
  const HttpRequest& request;
  Principal principal;
  std::map<std::string, std::string> path;   // {name} segments of the pattern
  std::map<std::string, std::string> query;  // decoded ?a=b&c=d
  // Until when a read with ?after=SEQ may wait for the read models.
  std::chrono::steady_clock::time_point read_deadline = {};
};

class Api final : public HttpHandler {
 public:
  explicit Api(ApiDependencies dependencies);

  // Thread-safe. Never throws. HEAD is answered as GET without the body (StripBodyForHead).
  // A read with ?after=SEQ waits for the read models until http_read_wait_ms from now, or
  // until `read_deadline` in the second form (the server's, counted from when it read the
  // request, which has usually waited already).
  HttpResponse Handle(const HttpRequest& request);
  HttpResponse Handle(const HttpRequest& request,
                      std::chrono::steady_clock::time_point read_deadline) override;

  // Placing an order (the hottest command) is decided here and its synced write is waited for
  // by no thread. Declines (returns false) when the request needs Handle: another route, a
  // refusal to explain, an idempotency key, If-Match. `defer` runs a decision again after a
  // lost race.
  bool HandleAsync(std::shared_ptr<const HttpRequest> request,
                   std::function<void(MakeResponse)> respond,
                   std::function<void(std::function<void()>)> defer) override;

  // Reads that take only a lookup of cached rows: one read-model row (or health) without
  // ?after=.
  bool IsQuick(const HttpRequest& request) const override;

  // For a GET or HEAD of a read-model route with ?after=SEQ that the read models have not yet
  // applied, by a token the route admits: what to wait for, so that the server can wait
  // without a thread and call Handle once applied. nullopt: Handle answers at once (a refusal,
  // or a read that need not wait). Never blocks.
  std::optional<ReadWait> ReadWaitOf(const HttpRequest& request) const override;
  // The last sequence the read models applied; 0 when there are none.
  uint64_t ReadModelsApplied() const override;

  // Whether the request asks for a live subscription (GET /v1/subscribe/...).
  bool IsSubscription(const HttpRequest& request) const override;
  // Authenticates and opens a subscription; on error, the response to send instead.
  Result<Subscription> OpenSubscription(const HttpRequest& request, HttpResponse* refusal) override;

  // The largest body the route of `target` accepts (photo uploads have their own limit).
  size_t BodyLimitFor(http::verb method, std::string_view target) const override;

  // The route pattern of a request, e.g. "POST /v1/orders/{order_id}/accept", for metrics.
  std::string RouteLabel(http::verb method, std::string_view target) const override;
  // Every route's label, the subscriptions', the external routes' and "unmatched".
  std::vector<std::string> RouteLabels() const override;

  // The CORS headers for a request from `origin`: none unless it is in cors_origins.
  std::vector<std::pair<std::string, std::string>> CorsHeaders(
      std::string_view origin) const override;

 private:
  struct Route {
    http::verb method;
    std::string pattern;  // e.g. "/v1/orders/{order_id}/accept"
    std::vector<std::string> parts;
    std::set<Role> roles;  // empty: no authentication (health, metrics)
    std::function<HttpResponse(ApiCall&)> handle;
    bool reads_model = false;  // a read-model read: ?after=SEQ waits (ReadWaitOf)
  };

  // Who calls: the Authorization: Bearer token, or else the session cookie, which needs
  // X-CSRF-Token on anything but GET and HEAD (api_session.cc).
  Result<Principal> Authenticate(const HttpRequest& request) const;
  // POST, GET and DELETE /v1/session (api_session.cc).
  void AddSessionRoutes();
  // GET / and GET /console/<path>; nullopt for any other path.
  std::optional<HttpResponse> ConsoleResponse(const HttpRequest& request,
                                              std::string_view path) const;
  // The answer to a CORS preflight (OPTIONS with Origin).
  HttpResponse Preflight(const HttpRequest& request) const;

  // Routing (api.cc).
  void AddRoute(http::verb method, std::string pattern, std::set<Role> roles,
                std::function<HttpResponse(ApiCall&)> handle);
  const Route* Match(http::verb method, std::string_view path,
                     std::map<std::string, std::string>* params, bool* path_known) const;
  HttpResponse Dispatch(const HttpRequest& request,
                        std::chrono::steady_clock::time_point read_deadline);
  // 405 with an Allow header naming the methods `path` takes.
  HttpResponse MethodNotAllowed(const HttpRequest& request, std::string_view path) const;
  void AddServiceRoutes();

  // One file per resource: api_<resource>.cc.
  void AddAsnRoutes();
  void AddUmkmRoutes();
  void AddOrderRoutes();
  void AddPaymentRoutes();
  // POST /v1/orders/{order_id}/payment (api_payments.cc).
  HttpResponse RequestPayment(ApiCall& call);
  // GET /tlog/... : the Merkle tree's tiles (api_tlog.cc, docs/transparency.md).
  void AddTlogRoutes();
  // The proofs of events, orders and receipts, and between checkpoints (api_tlog.cc).
  void AddProofRoutes();
  HttpResponse InclusionProofAnswer(const ApiCall& call, std::vector<uint64_t> sequences,
                                    const std::string& file_name) const;
  void AddReceiptRoutes();
  void AddPolicyRoutes();
  void AddReconciliationRoutes();
  void AddLogRoutes();
  void AddDayCloseRoutes();

  // Read models (api_read_models.cc, api_spend.cc).
  void AddReadModelRoutes();
  // GET /v1/read-models/digests.
  void AddDigestRoute();
  void AddCatalogRoutes();
  void AddSpendRoutes();
  // POST /v1/compliance/{month}/close (api_spend.cc).
  HttpResponse CloseCompliance(ApiCall& call);
  // Work lists from the read model work_lists, each in its resource's file; registered by
  // AddReadModelRoutes (after GET /v1/settlement/outstanding, which {date} must not catch).
  void AddOrderListRoutes();
  void AddPaymentListRoutes();
  void AddReceiptListRoutes();
  void AddSettlementListRoutes();
  void AddReconciliationListRoutes();
  // GET /v1/settlement/{date}/files/{name} (api_settlement.cc).
  HttpResponse SettlementFile(ApiCall& call);
  // Runs a read-model query after waiting for ?after=SEQ to be applied (read your own writes).
  // With a `csv` table (csv_views.h) the answer is CSV when the request asks for it.
  HttpResponse ReadModel(ApiCall& call, const std::function<Result<std::string>()>& query,
                         const struct CsvView* csv = nullptr);

  // Subscriptions (api_subscriptions.cc).
  HttpResponse HeadOfSubscription(const HttpRequest& request);
  Result<Subscription> OpenProjectionSubscription(ApiCall& call);

  // POST /v1/chain/verify (api_log.cc): the whole chain, one verification at a time; the
  // last one's JSON is kept for GET /v1/chain/verification.
  HttpResponse VerifyChain(const ApiCall& call);

  ApiDependencies deps_;
  std::vector<Route> routes_;
  std::mutex verify_running_;
  std::mutex verification_mutex_;
  std::string last_verification_;  // guarded by verification_mutex_; "" until one ran
};

}  // namespace malpro
