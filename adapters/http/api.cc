// Api's construction, routing and dispatch, and the helpers every route file shares
// (api_internal.h). The routes themselves are in api_<resource>.cc.
#include "adapters/http/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "adapters/http/api_internal.h"
#include "adapters/http/http_limits.h"
#include "adapters/http/request_body.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/log_limits.h"
#include "projections/projector.h"

namespace malpro {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
               HexDigitValue(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// HEAD is answered by the path's GET route.
http::verb RouteMethod(http::verb method) {
  return method == http::verb::head ? http::verb::get : method;
}

bool IsSubscriptionPath(std::string_view path) {
  return path == "/v1/subscribe/events" || path == "/v1/subscribe/projections";
}

Status Forbidden(std::string_view what) {
  return Status::PermissionDenied("this token may not act on " + std::string(what));
}

// A malformed date or month in the path or query is a malformed request (400).
Status AsQueryError(const Status& status) {
  if (status.ok()) return status;
  return Status::InvalidArgument(errc::kQueryInvalid, status.field(), status.message());
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Shared by the route files (api_internal.h)

void SplitTarget(std::string_view target, std::string_view* path,
                 std::map<std::string, std::string>* query) {
  const size_t mark = target.find('?');
  *path = target.substr(0, mark);
  if (mark == std::string_view::npos) return;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    (*query)[UrlDecode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
}

HttpResponse Ok(const HttpRequest& request, std::string body) {
  return JsonResponse(request, http::status::ok, std::move(body));
}

// Idempotency-Key, If-Match and, with a key, the request digest (method, target and body).
Result<CommandContext> ContextOf(const ApiCall& call) {
  CommandContext context;
  context.actor = call.principal.Actor();
  context.idempotency_key = std::string(call.request["Idempotency-Key"]);
  // A header that is there but empty is a client's mistake, not "no key": refuse it rather
  // than write without the protection the client asked for.
  if (context.idempotency_key.empty() &&
      call.request.find("Idempotency-Key") != call.request.end()) {
    return Status::InvalidArgument(errc::kHeaderIdempotencyKeyEmpty, "Idempotency-Key",
                                   "Idempotency-Key must not be empty; leave the header out "
                                   "for none");
  }
  if (!context.idempotency_key.empty()) {  // a retry is told from a reuse by this digest
    const std::string material = std::string(call.request.method_string()) + " " +
                                 std::string(call.request.target()) + "\n" + call.request.body();
    context.request_digest = Sha256(material);
  }
  std::string_view if_match = call.request[http::field::if_match];
  if (!if_match.empty() || call.request.find(http::field::if_match) != call.request.end()) {
    if (if_match.size() >= 2 && if_match.front() == '"' && if_match.back() == '"') {
      if_match = if_match.substr(1, if_match.size() - 2);
    }
    uint64_t version = 0;
    const bool digits = !if_match.empty() && if_match.size() <= 19 &&
                        if_match.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || (version = std::stoull(std::string(if_match))) == 0) {
      return Status::InvalidArgument(errc::kHeaderIfMatchInvalid, "If-Match",
                                     "If-Match must be a stream version such as \"3\"");
    }
    context.expected_version = version;
  }
  return context;
}

// 201 for a command that created its stream, else 200; ETag is the stream's new version.
HttpResponse CommandResponse(const HttpRequest& request, const CommandResult& result,
                             std::string_view id_field, std::string_view id) {
  JsonWriter w;
  w.BeginObject();
  if (!id_field.empty()) w.Field(id_field, id);
  w.Field("stream_id", result.stream_id)
      .Field("stream_version", static_cast<int64_t>(result.stream_version))
      .Field("first_sequence", static_cast<int64_t>(result.first_sequence))
      .Field("sequence", static_cast<int64_t>(result.last_sequence))
      .Field("replayed", result.replayed)
      .EndObject();
  const bool created = result.stream_version == 1 && request.method() == http::verb::post;
  HttpResponse response =
      JsonResponse(request, created ? http::status::created : http::status::ok, w.Take());
  response.set(http::field::etag, "\"" + std::to_string(result.stream_version) + "\"");
  response.set("Malpro-Sequence", std::to_string(result.last_sequence));
  return response;
}

// Runs a ledger command with the call's context and answers with its result or error.
HttpResponse RunCommand(const ApiCall& call,
                        const std::function<Result<CommandResult>(const CommandContext&)>& run,
                        std::string_view id_field) {
  Result<CommandContext> context = ContextOf(call);
  if (!context.ok()) return ErrorResponse(call.request, context.status());
  Result<CommandResult> result = run(*context);
  if (!result.ok()) return ErrorResponse(call.request, result.status());
  std::string id;
  if (!id_field.empty()) {
    const size_t dash = result->stream_id.find('-');
    id = result->stream_id.substr(dash + 1);
  }
  return CommandResponse(call.request, *result, id_field, id);
}

HttpResponse RunReasonCommand(
    const ApiCall& call,
    const std::function<Result<CommandResult>(const std::string& reason, const CommandContext&)>&
        run) {
  RequestBody body(call.request.body());
  body.AllowOnly({"reason"});
  const std::string reason = body.String("reason");
  MALPRO_BODY_OR_RETURN(body, call);
  return RunCommand(call, [&](const CommandContext& context) { return run(reason, context); });
}

void AppendBodyField(HttpResponse& response, std::string_view key, std::string_view json_value) {
  std::string& text = response.body();
  text.pop_back();
  text += ",\"" + std::string(key) + "\":" + std::string(json_value) + "}";
  response.prepare_payload();
}

Status CheckOwnNip(const ApiCall& call, std::string_view nip) {
  if (call.principal.role == Role::kAsn && call.principal.subject != nip) {
    return Forbidden("another ASN's data");
  }
  return Status::Ok();
}

Status CheckOwnUmkm(const ApiCall& call, std::string_view umkm_id) {
  if (call.principal.role == Role::kMerchant && call.principal.subject != umkm_id) {
    return Forbidden("another UMKM's data");
  }
  return Status::Ok();
}

Result<OrderState> LoadOwnOrder(Ledger& ledger, const ApiCall& call, const std::string& order_id) {
  Result<OrderState> order = ledger.LoadOrder(order_id);
  if (!order.ok()) return order.status();
  MALPRO_RETURN_IF_ERROR(CheckOwnNip(call, order->buyer_nip));
  MALPRO_RETURN_IF_ERROR(CheckOwnUmkm(call, order->umkm_id));
  return order;
}

Result<uint64_t> QueryNumber(const ApiCall& call, const std::string& name, uint64_t fallback,
                             uint64_t maximum) {
  auto found = call.query.find(name);
  if (found == call.query.end()) return fallback;
  const std::string& text = found->second;
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos || std::stoull(text) > maximum) {
    return Status::InvalidArgument(
        errc::kQueryInvalid, name,
        name + " must be a whole number from 0 to " + std::to_string(maximum));
  }
  return std::stoull(text);
}

Result<PageQuery> QueryPage(const ApiCall& call) {
  Result<uint64_t> offset = QueryNumber(call, "offset", 0, http_page_offset_max);
  if (!offset.ok()) return offset.status();
  Result<uint64_t> limit = QueryNumber(call, "limit", http_page_limit_default, PageLimitMax(call));
  if (!limit.ok()) return limit.status();
  return PageQuery{*offset, *limit};
}

std::string QueryText(const ApiCall& call, const std::string& name) {
  auto found = call.query.find(name);
  return found == call.query.end() ? std::string() : found->second;
}

Status CheckDate(const std::string& text, std::string_view field) {
  return AsQueryError(ParseIsoDate(text, field).status());
}

Status CheckMonthParameter(const std::string& text) {
  return AsQueryError(CheckMonth(text, "month"));
}

// ---------------------------------------------------------------------------------------
// Routing

Api::Api(ApiDependencies dependencies) : deps_(std::move(dependencies)) {
  AddServiceRoutes();
  AddSessionRoutes();
  AddAsnRoutes();
  AddUmkmRoutes();
  AddOrderRoutes();
  AddPaymentRoutes();
  AddReceiptRoutes();
  AddPolicyRoutes();
  AddLogRoutes();
  AddTlogRoutes();
  AddProofRoutes();
  // Every GET that AddReadModelRoutes adds is served from the read models (?after=SEQ waits).
  const size_t first_read_model_route = routes_.size();
  AddReadModelRoutes();
  for (size_t i = first_read_model_route; i < routes_.size(); ++i) {
    routes_[i].reads_model = routes_[i].method == http::verb::get;
  }
  AddReconciliationRoutes();
}

void Api::AddRoute(http::verb method, std::string pattern, std::set<Role> roles,
                   std::function<HttpResponse(ApiCall&)> handle) {
  std::vector<std::string> parts = SplitPath(pattern);
  routes_.push_back(
      {method, std::move(pattern), std::move(parts), std::move(roles), std::move(handle)});
}

const Api::Route* Api::Match(http::verb method, std::string_view path,
                             std::map<std::string, std::string>* params, bool* path_known) const {
  const std::vector<std::string> parts = SplitPath(path);
  for (const Route& route : routes_) {
    // A last part "{name*}" takes the rest of the path, one or more segments joined by '/'.
    const bool rest = !route.parts.empty() && route.parts.back().ends_with("*}");
    if (rest ? parts.size() < route.parts.size() : route.parts.size() != parts.size()) continue;
    std::map<std::string, std::string> found;
    bool matches = true;
    for (size_t i = 0; i < route.parts.size() && matches; ++i) {
      const std::string& want = route.parts[i];
      if (rest && i + 1 == route.parts.size()) {
        std::string joined;
        for (size_t j = i; j < parts.size() && matches; ++j) {
          matches = !parts[j].empty();
          if (j > i) joined.push_back('/');
          joined.append(UrlDecode(parts[j]));
        }
        found[want.substr(1, want.size() - 3)] = std::move(joined);
      } else if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        matches = !parts[i].empty();
        found[want.substr(1, want.size() - 2)] = UrlDecode(parts[i]);
      } else {
        matches = want == parts[i];
      }
    }
    if (!matches) continue;
    *path_known = true;
    if (route.method != method) continue;
    *params = std::move(found);
    return &route;
  }
  return nullptr;
}

bool Api::IsQuick(const HttpRequest& request) const {
  if (request.method() != http::verb::get) return false;
  const std::string_view target = request.target();
  if (target.find("after=") != std::string_view::npos) return false;
  if (target == "/healthz") return true;
  if (target.starts_with("/v1/catalog/")) return target.find('?') == std::string_view::npos;
  return target.starts_with("/v1/asn/") && target.find("/spend/") != std::string_view::npos;
}

size_t Api::BodyLimitFor(http::verb method, std::string_view target) const {
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(target, &path, &query);
  // Photos and bank statements are larger than commands.
  const bool photo =
      method == http::verb::post && (path == "/v1/receipts" || path == "/v1/reconciliation");
  return photo ? deps_.photo_body_bytes_max : deps_.body_bytes_max;
}

std::string Api::RouteLabel(http::verb method, std::string_view target) const {
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(target, &path, &query);
  std::map<std::string, std::string> params;
  bool path_known = false;
  const Route* route = Match(RouteMethod(method), path, &params, &path_known);
  if (route != nullptr) return std::string(http::to_string(method)) + " " + route->pattern;
  // Subscriptions and the external routes are answered outside routes_ (Dispatch).
  const bool subscription = IsSubscriptionPath(path) && RouteMethod(method) == http::verb::get;
  const bool external =
      method == http::verb::post &&
      std::find(deps_.external_route_paths.begin(), deps_.external_route_paths.end(), path) !=
          deps_.external_route_paths.end();
  if (!subscription && !external) return "unmatched";
  return std::string(http::to_string(method)) + " " + std::string(path);
}

std::vector<std::string> Api::RouteLabels() const {
  std::vector<std::string> labels;
  for (const Route& route : routes_) {
    labels.push_back(std::string(http::to_string(route.method)) + " " + route.pattern);
  }
  for (const char* path : {"/v1/subscribe/events", "/v1/subscribe/projections"}) {
    labels.push_back(std::string("GET ") + path);
  }
  for (const std::string& path : deps_.external_route_paths) labels.push_back("POST " + path);
  labels.push_back("unmatched");
  return labels;
}

HttpResponse Api::Handle(const HttpRequest& request) {
  return Handle(request,
                std::chrono::steady_clock::now() + std::chrono::milliseconds(http_read_wait_ms));
}

HttpResponse Api::Handle(const HttpRequest& request,
                         std::chrono::steady_clock::time_point read_deadline) {
  HttpResponse response = Dispatch(request, read_deadline);
  if (request.method() == http::verb::head) StripBodyForHead(response);
  return response;
}

HttpResponse Api::Dispatch(const HttpRequest& request,
                           std::chrono::steady_clock::time_point read_deadline) {
  if (deps_.external_routes) {
    if (std::optional<HttpResponse> answered = deps_.external_routes(request)) {
      // The bank's routes refuse another method in their own words; the Allow is ours.
      if (answered->result() == http::status::method_not_allowed &&
          answered->find(http::field::allow) == answered->end()) {
        answered->set(http::field::allow, "POST");
      }
      return *answered;
    }
  }
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(request.target(), &path, &query);
  if (request.method() == http::verb::options && !request[http::field::origin].empty()) {
    return Preflight(request);
  }
  if (std::optional<HttpResponse> console = ConsoleResponse(request, path)) return *console;
  // The server opens subscriptions itself (IsSubscription); what reaches here is the rest.
  if (IsSubscriptionPath(path) && request.method() == http::verb::head) {
    return HeadOfSubscription(request);
  }
  if (IsSubscriptionPath(path) && request.method() != http::verb::get) {
    return MethodNotAllowed(request, path);
  }
  std::map<std::string, std::string> params;
  bool path_known = false;
  const Route* route = Match(RouteMethod(request.method()), path, &params, &path_known);
  if (route == nullptr) {
    if (path_known) return MethodNotAllowed(request, path);
    return ErrorResponse(request, Status::NotFound(errc::kRouteNotFound, "path", "no such route"));
  }
  // Signing in and verifying the chain write nothing to the ledger: a read-only server takes
  // them too.
  if (!deps_.read_only.empty() && request.method() != http::verb::get &&
      request.method() != http::verb::head && path != "/v1/session" && path != "/v1/chain/verify") {
    if (!deps_.primary_url.empty()) {
      HttpResponse refused = ErrorResponse(
          request, Status::InvalidArgument(errc::kReplicaReadOnly, "method", deps_.read_only));
      refused.set("X-Malpro-Primary", deps_.primary_url);
      return refused;
    }
    HttpResponse refused = ErrorResponse(
        request, Status::InvalidArgument(errc::kServerReadOnly, "method", deps_.read_only));
    refused.set(http::field::allow, "GET, HEAD");
    return refused;
  }
  if (deps_.write_gate && request.method() != http::verb::get &&
      request.method() != http::verb::head && path != "/v1/session" && path != "/v1/chain/verify") {
    if (Status gate = deps_.write_gate(); !gate.ok()) return ErrorResponse(request, gate);
  }
  ApiCall call{request, Principal{}, std::move(params), std::move(query), read_deadline};
  if (!route->roles.empty()) {
    Result<Principal> principal = Authenticate(request);
    if (!principal.ok()) return ErrorResponse(request, principal.status());
    if (!route->roles.contains(principal->role)) {
      return ErrorResponse(
          request, Status::PermissionDenied("the " + std::string(RoleName(principal->role)) +
                                            " role may not use " + route->pattern));
    }
    call.principal = std::move(principal).value();
  }
  return route->handle(call);
}

HttpResponse Api::MethodNotAllowed(const HttpRequest& request, std::string_view path) const {
  std::string allow;
  auto add = [&allow](http::verb method) {
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(method));
  };
  if (IsSubscriptionPath(path)) {
    add(http::verb::get);
    add(http::verb::head);
  }
  for (http::verb method : {http::verb::get, http::verb::post, http::verb::put, http::verb::patch,
                            http::verb::delete_}) {
    std::map<std::string, std::string> ignored_params;
    bool ignored_known = false;
    if (Match(method, path, &ignored_params, &ignored_known) == nullptr) continue;
    add(method);
    if (method == http::verb::get) add(http::verb::head);
  }
  HttpResponse response =
      ErrorResponse(request, Status::InvalidArgument(errc::kMethodNotAllowed, "method",
                                                     "this path does not take " +
                                                         std::string(request.method_string()) +
                                                         "; it takes " + allow));
  response.set(http::field::allow, allow);
  return response;
}

std::optional<ReadWait> Api::ReadWaitOf(const HttpRequest& request) const {
  if (deps_.projector == nullptr) return std::nullopt;
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return std::nullopt;
  }
  if (request.target().find("after=") == std::string_view::npos) return std::nullopt;
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(request.target(), &path, &query);
  const auto found = query.find("after");
  if (found == query.end()) return std::nullopt;
  // Anything QueryNumber would refuse is refused by Handle, at once.
  const std::string& text = found->second;
  uint64_t sequence = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), sequence);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      sequence > (UINT64_MAX >> 1) || sequence <= deps_.projector->Applied()) {
    return std::nullopt;
  }
  std::map<std::string, std::string> params;
  bool path_known = false;
  const Route* route = Match(http::verb::get, path, &params, &path_known);
  if (route == nullptr || !route->reads_model) return std::nullopt;
  Result<Principal> principal = Authenticate(request);
  if (!principal.ok() || !route->roles.contains(principal->role)) return std::nullopt;
  return ReadWait{sequence, principal->Actor()};
}

uint64_t Api::ReadModelsApplied() const {
  return deps_.projector == nullptr ? 0 : deps_.projector->Applied();
}

// ---------------------------------------------------------------------------------------
// Service

void Api::AddServiceRoutes() {
  AddRoute(http::verb::get, "/healthz", {}, [this](ApiCall& call) {
    const Status health = deps_.log->Health();
    const Status extra = deps_.health_check ? deps_.health_check() : Status::Ok();
    JsonWriter w;
    w.BeginObject()
        .Field("status", health.ok() && extra.ok() ? "ok" : "failing")
        .Field("head_sequence", static_cast<int64_t>(deps_.log->Head().sequence));
    if (!health.ok()) w.Field("log_error", health.message());  // appends are refused
    bool models_ok = true;
    if (deps_.projector != nullptr) {
      const ProjectorStatus models = deps_.projector->Report();
      models_ok = models.health.ok();
      w.Key("read_models")
          .BeginObject()
          .Field("status", models_ok ? "ok" : "failing")
          .Field("applied_sequence", static_cast<int64_t>(models.applied))
          .Field("lag_events",
                 static_cast<int64_t>(models.log_head - std::min(models.log_head, models.applied)));
      if (!models_ok) w.Field("error", models.health.message());
      w.EndObject();
    }
    if (!extra.ok()) w.Field("error", extra.message());
    if (deps_.health_details) w.Key("details").Raw(deps_.health_details());
    return JsonResponse(call.request,
                        health.ok() && models_ok && extra.ok() ? http::status::ok
                                                               : http::status::service_unavailable,
                        w.EndObject().Take());
  });
  AddRoute(http::verb::get, "/metrics", {}, [this](ApiCall& call) {
    HttpResponse response{http::status::ok, call.request.version()};
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.keep_alive(call.request.keep_alive());
    response.body() = deps_.metrics->Render();
    response.prepare_payload();
    return response;
  });
}

}  // namespace malpro
