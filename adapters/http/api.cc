#include "adapters/http/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "adapters/http/http_limits.h"
#include "adapters/http/request_body.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/log_limits.h"
#include "projections/projector.h"

namespace malpro {
namespace {

constexpr char kJson[] = "application/json";
constexpr Role kAsn = Role::kAsn;
constexpr Role kMerchant = Role::kMerchant;
constexpr Role kOperator = Role::kOperator;
constexpr Role kAuditor = Role::kAuditor;
constexpr Role kAdmin = Role::kAdmin;

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
      out.push_back(static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

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

// HEAD is answered by the path's GET route.
http::verb RouteMethod(http::verb method) {
  return method == http::verb::head ? http::verb::get : method;
}

bool IsSubscriptionPath(std::string_view path) {
  return path == "/v1/subscribe/events" || path == "/v1/subscribe/projections";
}

HttpResponse JsonResponse(const HttpRequest& request, http::status status, std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, kJson);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse Ok(const HttpRequest& request, std::string body) {
  return JsonResponse(request, http::status::ok, std::move(body));
}

}  // namespace

HttpResponse ErrorResponse(const HttpRequest& request, const Status& status) {
  JsonWriter writer;
  writer.BeginObject().Key("error").BeginObject().Field("code", status.error_code());
  writer.Field("message", status.message());
  if (!status.field().empty()) writer.Field("field", status.field());
  std::string body = writer.EndObject().EndObject().Take();
  HttpResponse response = JsonResponse(request, static_cast<http::status>(ErrorStatus(status)),
                                       std::move(body));
  if (status.code() == StatusCode::kUnauthenticated) {
    response.set(http::field::www_authenticate, "Bearer");
  }
  return response;
}

namespace {

// ---------------------------------------------------------------------------------------
// Serializers

std::string AsnJson(const AsnState& asn) {
  return JsonWriter()
      .BeginObject()
      .Field("nip", asn.nip)
      .Field("name", asn.name)
      .Field("agency", asn.agency)
      .Field("rank_class", asn.rank_class)
      .Field("kecamatan", asn.kecamatan)
      .Field("kelurahan", asn.kelurahan)
      .Field("active", asn.active)
      .Field("version", static_cast<int64_t>(asn.version))
      .EndObject()
      .Take();
}

// `with_private`: the NIB and the settlement account, which only the city's roles and the
// merchant itself may read.
std::string UmkmJson(const UmkmState& umkm, bool with_private) {
  JsonWriter w;
  w.BeginObject().Field("umkm_id", umkm.umkm_id).Field("name", umkm.name);
  if (with_private && !umkm.nib.empty()) w.Field("nib", umkm.nib);
  w.Field("category", umkm.category)
      .Field("kecamatan", umkm.kecamatan)
      .Field("kelurahan", umkm.kelurahan)
      .Field("sponsor", umkm.sponsor);
  if (with_private) w.Field("settlement_account", umkm.settlement_account);
  w.Field("qris_criteria", umkm.qris_criteria)
      .Field("status", UmkmStatusName(umkm.status))
      .Field("version", static_cast<int64_t>(umkm.version))
      .Key("products")
      .BeginArray();
  for (const auto& [id, product] : umkm.products) {
    if (!product.listed) continue;
    w.BeginObject()
        .Field("product_id", id)
        .Field("name", product.name)
        .Field("unit", product.unit)
        .Field("price", FormatSnap(product.price))
        .EndObject();
  }
  return w.EndArray().EndObject().Take();
}

std::string OrderJson(const OrderState& order) {
  JsonWriter w;
  w.BeginObject()
      .Field("order_id", order.order_id)
      .Field("buyer_nip", order.buyer_nip)
      .Field("umkm_id", order.umkm_id)
      .Field("payment_method", order.payment_method)
      .Field("status", OrderStatusName(order.status))
      .Field("cash_received", order.cash_received)
      .Field("total", FormatSnap(order.total))
      .Field("placed_at_us", order.placed_at_us);
  if (!order.cancel_reason.empty()) w.Field("cancel_reason", order.cancel_reason);
  w.Field("version", static_cast<int64_t>(order.version)).Key("lines").BeginArray();
  for (const OrderLine& line : order.lines) {
    w.BeginObject()
        .Field("product_id", line.product_id)
        .Field("name", line.name)
        .Field("unit", line.unit)
        .Field("quantity", line.quantity)
        .Field("unit_price", FormatSnap(line.unit_price))
        .Field("line_total", FormatSnap(line.line_total))
        .EndObject();
  }
  return w.EndArray().EndObject().Take();
}

std::string ReceiptJson(const ReceiptState& receipt) {
  JsonWriter w;
  w.BeginObject()
      .Field("receipt_id", receipt.receipt_id)
      .Field("nip", receipt.nip)
      .Field("shop_name", receipt.shop_name)
      .Field("kecamatan", receipt.kecamatan)
      .Field("kelurahan", receipt.kelurahan)
      .Field("amount", FormatSnap(receipt.amount))
      .Field("purchase_date", FormatIsoDate(receipt.purchase_date))
      .Field("photo_sha256", receipt.photo_sha256)
      .Field("status", ReceiptStatusName(receipt.status));
  if (!receipt.rejection_reason.empty()) w.Field("rejection_reason", receipt.rejection_reason);
  return w.Field("version", static_cast<int64_t>(receipt.version)).EndObject().Take();
}

std::string PolicyJson(const PolicyState& policy) {
  JsonWriter w;
  w.BeginObject().Field("version", static_cast<int64_t>(policy.version)).Key("minimum_spend");
  w.BeginArray();
  for (const MinimumSpendRule& rule : policy.minimum_spend) {
    w.BeginObject()
        .Field("rank_group", rule.rank_group)
        .Field("amount", FormatSnap(rule.amount))
        .Field("effective_from", FormatIsoDate(rule.effective_from))
        .EndObject();
  }
  w.EndArray().Key("fee_rules").BeginArray();
  for (const FeeRule& rule : policy.fee_rules) {
    w.BeginObject()
        .Field("basis_points", rule.basis_points)
        .Field("umi_zero_fee_max", FormatSnap(rule.umi_zero_fee_max))
        .Field("effective_from", FormatIsoDate(rule.effective_from))
        .EndObject();
  }
  w.EndArray().Key("settlement_cutoffs").BeginArray();
  for (const CutoffRule& rule : policy.cutoffs) {
    w.BeginObject()
        .Field("minutes_of_day", rule.minutes_of_day)
        .Field("effective_from", FormatIsoDate(rule.effective_from))
        .EndObject();
  }
  return w.EndArray().EndObject().Take();
}

// ---------------------------------------------------------------------------------------
// Commands

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
                             std::string_view id_field = {}, std::string_view id = {}) {
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
                        std::string_view id_field = {}) {
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

Status Forbidden(std::string_view what) {
  return Status::PermissionDenied("this token may not act on " + std::string(what));
}

// The asn role acts for its own NIP only; the merchant role for its own UMKM only.
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

// Refuses a body error before running anything.
#define MALPRO_BODY_OR_RETURN(body, call)                                         \
  do {                                                                            \
    if (!(body).status().ok()) return ErrorResponse((call).request, (body).status()); \
  } while (false)

#define MALPRO_CHECK_OR_RETURN(expression, call)                                   \
  do {                                                                             \
    ::malpro::Status malpro_check_ = (expression);                                 \
    if (!malpro_check_.ok()) return ErrorResponse((call).request, malpro_check_);  \
  } while (false)

}  // namespace

namespace {

Result<uint64_t> QueryNumber(const ApiCall& call, const std::string& name, uint64_t fallback,
                             uint64_t maximum) {
  auto found = call.query.find(name);
  if (found == call.query.end()) return fallback;
  const std::string& text = found->second;
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoull(text) > maximum) {
    return Status::InvalidArgument(errc::kQueryInvalid, name,
                                   name + " must be a whole number from 0 to " +
                                       std::to_string(maximum));
  }
  return std::stoull(text);
}

HttpResponse EventsResponse(const HttpRequest& request, const std::vector<Event>& events,
                            uint64_t head) {
  JsonWriter w;
  w.BeginObject().Field("head_sequence", static_cast<int64_t>(head)).Key("events").BeginArray();
  for (const Event& event : events) WriteEventJson(w, event, PayloadForm::kEmbedded);
  return Ok(request, w.EndArray().EndObject().Take());
}

}  // namespace

Api::Api(ApiDependencies dependencies) : deps_(std::move(dependencies)) {
  AddServiceRoutes();
  AddAsnRoutes();
  AddUmkmRoutes();
  AddOrderRoutes();
  AddPaymentRoutes();
  AddReceiptRoutes();
  AddPolicyRoutes();
  AddLogRoutes();
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
  routes_.push_back({method, std::move(pattern), std::move(parts), std::move(roles),
                     std::move(handle)});
}

const Api::Route* Api::Match(http::verb method, std::string_view path,
                             std::map<std::string, std::string>* params, bool* path_known) const {
  const std::vector<std::string> parts = SplitPath(path);
  for (const Route& route : routes_) {
    if (route.parts.size() != parts.size()) continue;
    std::map<std::string, std::string> found;
    bool matches = true;
    for (size_t i = 0; i < parts.size() && matches; ++i) {
      const std::string& want = route.parts[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
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

bool Api::IsSubscription(const HttpRequest& request) const {
  return request.method() == http::verb::get && request.target().starts_with("/v1/subscribe/");
}

Result<Subscription> Api::OpenSubscription(const HttpRequest& request, HttpResponse* refusal) {
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(request.target(), &path, &query);
  auto refuse = [&](const Status& status) -> Result<Subscription> {
    *refusal = ErrorResponse(request, status);
    return status;
  };
  if (path != "/v1/subscribe/events" && path != "/v1/subscribe/projections") {
    return refuse(Status::NotFound(errc::kRouteNotFound, "path", "no such subscription"));
  }
  Result<Principal> principal = deps_.tokens->Authenticate(request[http::field::authorization]);
  if (!principal.ok()) return refuse(principal.status());
  if (principal->role != Role::kAuditor && principal->role != Role::kAdmin &&
      principal->role != Role::kOperator) {
    return refuse(Status::PermissionDenied("the " + std::string(RoleName(principal->role)) +
                                           " role may not follow the log"));
  }
  // Resume after ?after=SEQ, or after the Last-Event-ID a reconnecting client sends.
  ApiCall call{request, *principal, {}, std::move(query)};
  const std::string last_event_id(request["Last-Event-ID"]);
  if (!last_event_id.empty() && !call.query.contains("after")) call.query["after"] = last_event_id;
  if (path == "/v1/subscribe/projections") {
    Result<Subscription> subscription = OpenProjectionSubscription(call);
    if (!subscription.ok()) return refuse(subscription.status());
    return subscription;
  }
  Result<uint64_t> after = QueryNumber(call, "after", deps_.log->Head().sequence, UINT64_MAX >> 1);
  if (!after.ok()) return refuse(after.status());
  auto cursor = std::make_shared<uint64_t>(*after);
  EventLog* log = deps_.log;
  return Subscription{[log, cursor]() -> Result<std::string> {
    if (log->Head().sequence <= *cursor) return std::string();
    Result<std::vector<Event>> events = log->Read(*cursor + 1, http_subscription_batch_events);
    if (!events.ok()) return events.status();
    std::string text;
    for (const Event& event : *events) {
      JsonWriter writer;
      WriteEventJson(writer, event, PayloadForm::kEmbedded);
      text += "id: " + std::to_string(event.sequence) + "\nevent: " + event.type +
              "\ndata: " + writer.Take() + "\n\n";
      *cursor = event.sequence;
    }
    return text;
  }};
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
  return route ? std::string(http::to_string(method)) + " " + route->pattern : "unmatched";
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
  ApiCall call{request, Principal{}, std::move(params), std::move(query), read_deadline};
  if (!route->roles.empty()) {
    Result<Principal> principal = deps_.tokens->Authenticate(request[http::field::authorization]);
    if (!principal.ok()) return ErrorResponse(request, principal.status());
    if (!route->roles.contains(principal->role)) {
      return ErrorResponse(request, Status::PermissionDenied(
                                        "the " + std::string(RoleName(principal->role)) +
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
  for (http::verb method : {http::verb::get, http::verb::post, http::verb::put,
                            http::verb::patch, http::verb::delete_}) {
    std::map<std::string, std::string> ignored_params;
    bool ignored_known = false;
    if (Match(method, path, &ignored_params, &ignored_known) == nullptr) continue;
    add(method);
    if (method == http::verb::get) add(http::verb::head);
  }
  HttpResponse response = ErrorResponse(
      request, Status::InvalidArgument(errc::kMethodNotAllowed, "method",
                                       "this path does not take " +
                                           std::string(request.method_string()) +
                                           "; it takes " + allow));
  response.set(http::field::allow, allow);
  return response;
}

// The answer a GET of the subscription would start with, without its stream.
HttpResponse Api::HeadOfSubscription(const HttpRequest& request) {
  HttpResponse refusal;
  Result<Subscription> subscription = OpenSubscription(request, &refusal);
  if (!subscription.ok()) return refusal;
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/event-stream");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
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
  Result<Principal> principal = deps_.tokens->Authenticate(request[http::field::authorization]);
  if (!principal.ok() || !route->roles.contains(principal->role)) return std::nullopt;
  return ReadWait{sequence, principal->Actor()};
}

uint64_t Api::ReadModelsApplied() const {
  return deps_.projector == nullptr ? 0 : deps_.projector->Applied();
}

Status ReadModelsBehind(uint64_t sequence) {
  return Status::Unavailable(errc::kReadModelsBehind,
                             "the read models have not reached sequence " +
                                 std::to_string(sequence) + " within " +
                                 std::to_string(http_read_wait_ms) + " ms");
}

void StripBodyForHead(HttpResponse& response) {
  if (response.body().empty()) return;
  response.content_length(response.body().size());
  response.body().clear();
}

// Who may place an order: the route's roles, and HandleAsync's.
const std::set<Role> kPlaceOrderRoles = {kAsn, kOperator, kAdmin};

bool Api::HandleAsync(std::shared_ptr<const HttpRequest> request,
                      std::function<void(MakeResponse)> respond,
                      std::function<void(std::function<void()>)> defer) {
  if (request->method() != http::verb::post) return false;
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(request->target(), &path, &query);
  if (path != "/v1/orders" || !query.empty()) return false;
  // Anything to refuse is refused by Handle, with the same words.
  Result<Principal> principal = deps_.tokens->Authenticate((*request)[http::field::authorization]);
  if (!principal.ok() || !kPlaceOrderRoles.contains(principal->role)) {
    return false;
  }
  ApiCall call{*request, *principal, {}, {}};
  RequestBody body(request->body());
  Result<PlaceOrder> order = BindPlaceOrder(body);
  if (!order.ok() || !CheckOwnNip(call, order->buyer_nip).ok()) return false;
  Result<CommandContext> context = ContextOf(call);
  if (!context.ok()) return false;
  Ledger* ledger = deps_.ledger;
  auto answer = [request](const Result<CommandResult>& result) -> HttpResponse {
    if (!result.ok()) return ErrorResponse(*request, result.status());
    const size_t dash = result->stream_id.find('-');
    return CommandResponse(*request, *result, "order_id", result->stream_id.substr(dash + 1));
  };
  return ledger->PlaceAsync(
      *order, *context,
      [ledger, context = *context, respond, defer, answer](Result<CommandResult> result,
                                                           const PlaceOrder& placed) {
        if (!result.ok() && result.status().error_code() == errc::kStreamVersionConflict) {
          // A cached state was stale: decide again on fresh state, where waiting is allowed.
          defer([ledger, context, placed, respond, answer] {
            Result<CommandResult> again = ledger->Place(placed, context);
            respond([answer, again = std::move(again)] { return answer(again); });
          });
          return;
        }
        // Possibly on the log's syncing thread: the response is made where it is written.
        respond([answer, result = std::move(result)] { return answer(result); });
      });
}

// ---------------------------------------------------------------------------------------
// ASN

void Api::AddAsnRoutes() {
  AddRoute(http::verb::post, "/v1/asn", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"nip", "name", "agency", "rank_class", "kelurahan"});
    RegisterAsn command{body.String("nip"), body.String("name"), body.String("agency"),
                        body.String("rank_class"), body.String("kelurahan")};
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) { return deps_.ledger->Register(command, c); });
  });
  AddRoute(http::verb::get, "/v1/asn/{nip}", {kAsn, kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, call.path["nip"]), call);
    Result<AsnState> asn = deps_.ledger->LoadAsn(call.path["nip"]);
    if (!asn.ok()) return ErrorResponse(call.request, asn.status());
    return Ok(call.request, AsnJson(*asn));
  });
  AddRoute(http::verb::post, "/v1/asn/{nip}/rank", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"rank_class"});
    const std::string rank = body.String("rank_class");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->ChangeRank(call.path["nip"], rank, c);
    });
  });
  AddRoute(http::verb::post, "/v1/asn/{nip}/deactivate", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"reason"});
    const std::string reason = body.String("reason");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->Deactivate(call.path["nip"], reason, c);
    });
  });
}

// ---------------------------------------------------------------------------------------
// UMKM and products

void Api::AddUmkmRoutes() {
  AddRoute(http::verb::post, "/v1/umkm", {kOperator, kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"umkm_id", "name", "nib", "category", "kecamatan", "kelurahan", "sponsor",
                    "settlement_account", "qris_criteria"});
    RegisterUmkm command{body.OptionalString("umkm_id"), body.String("name"),
                         body.OptionalString("nib"), body.String("category"),
                         body.String("kecamatan"), body.String("kelurahan"),
                         body.String("sponsor"), body.String("settlement_account"),
                         body.String("qris_criteria")};
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) { return deps_.ledger->Register(command, c); },
                      "umkm_id");
  });
  AddRoute(http::verb::get, "/v1/umkm/{umkm_id}", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    Result<UmkmState> umkm = deps_.ledger->LoadUmkm(call.path["umkm_id"]);
    if (!umkm.ok()) return ErrorResponse(call.request, umkm.status());
    const Role role = call.principal.role;
    const bool with_private = (role != Role::kAsn && role != Role::kMerchant) ||
                              (role == Role::kMerchant && call.principal.subject == umkm->umkm_id);
    return Ok(call.request, UmkmJson(*umkm, with_private));
  });
  AddRoute(http::verb::post, "/v1/umkm/{umkm_id}/verify", {kOperator, kAdmin}, [this](ApiCall& call) {
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->VerifyUmkm(call.path["umkm_id"], c);
    });
  });
  AddRoute(http::verb::post, "/v1/umkm/{umkm_id}/suspend", {kOperator, kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"reason"});
    const std::string reason = body.String("reason");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SuspendUmkm(call.path["umkm_id"], reason, c);
    });
  });
  AddRoute(http::verb::post, "/v1/umkm/{umkm_id}/products", {kMerchant, kOperator, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
    RequestBody body(call.request.body());
    body.AllowOnly({"product_id", "name", "unit", "price"});
    ListProduct command{call.path["umkm_id"], body.String("product_id"), body.String("name"),
                        body.String("unit"), body.Amount("price")};
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) { return deps_.ledger->List(command, c); });
  });
  AddRoute(http::verb::put, "/v1/umkm/{umkm_id}/products/{product_id}/price",
           {kMerchant, kOperator, kAdmin}, [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
    RequestBody body(call.request.body());
    body.AllowOnly({"price"});
    const Money price = body.Amount("price");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->Reprice(call.path["umkm_id"], call.path["product_id"], price, c);
    });
  });
  AddRoute(http::verb::delete_, "/v1/umkm/{umkm_id}/products/{product_id}",
           {kMerchant, kOperator, kAdmin}, [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->Delist(call.path["umkm_id"], call.path["product_id"], c);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Orders

namespace {

// The order, if the caller may see or act on it: its buyer (asn), its seller (merchant), or
// any operator, auditor or admin.
Result<OrderState> LoadOwnOrder(Ledger& ledger, const ApiCall& call, const std::string& order_id) {
  Result<OrderState> order = ledger.LoadOrder(order_id);
  if (!order.ok()) return order.status();
  MALPRO_RETURN_IF_ERROR(CheckOwnNip(call, order->buyer_nip));
  MALPRO_RETURN_IF_ERROR(CheckOwnUmkm(call, order->umkm_id));
  return order;
}

}  // namespace

void Api::AddOrderRoutes() {
  AddRoute(http::verb::post, "/v1/orders", kPlaceOrderRoles, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    Result<PlaceOrder> order = BindPlaceOrder(body);
    if (!order.ok()) return ErrorResponse(call.request, order.status());
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, order->buyer_nip), call);
    return RunCommand(call, [&](const CommandContext& c) { return deps_.ledger->Place(*order, c); },
                      "order_id");
  });
  AddRoute(http::verb::get, "/v1/orders/{order_id}", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, call.path["order_id"]);
    if (!order.ok()) return ErrorResponse(call.request, order.status());
    return Ok(call.request, OrderJson(*order));
  });
  using Transition = Result<CommandResult> (Ledger::*)(std::string_view, const CommandContext&);
  const std::pair<std::string, Transition> transitions[] = {
      {"accept", &Ledger::AcceptOrder},
      {"deliver", &Ledger::DeliverOrder},
      {"cash-received", &Ledger::ConfirmCashReceived}};
  for (const auto& [name, method] : transitions) {
    AddRoute(http::verb::post, "/v1/orders/{order_id}/" + name, {kMerchant, kOperator, kAdmin},
             [this, method = method](ApiCall& call) {  // clang 14 cannot capture a binding
      const std::string& id = call.path["order_id"];
      Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
      if (!order.ok()) return ErrorResponse(call.request, order.status());
      return RunCommand(call, [&](const CommandContext& c) { return (deps_.ledger->*method)(id, c); });
    });
  }
  AddRoute(http::verb::post, "/v1/orders/{order_id}/cancel", {kAsn, kMerchant, kOperator, kAdmin},
           [this](ApiCall& call) {
    const std::string& id = call.path["order_id"];
    RequestBody body(call.request.body());
    body.AllowOnly({"reason"});
    const std::string reason = body.String("reason");
    MALPRO_BODY_OR_RETURN(body, call);
    Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
    if (!order.ok()) return ErrorResponse(call.request, order.status());
    HttpResponse response = RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->CancelOrder(id, reason, c);
    });
    // The request voided with the order is voided at the bank too (the bank adapter also
    // does it from the log, for cancels that come by other ways).
    if (response.result_int() < 300 && deps_.void_payment) deps_.void_payment(id);
    return response;
  });
}

// ---------------------------------------------------------------------------------------
// Cashless payments (one per order; the payment id is the order id)

namespace {

std::string PaymentJson(const PaymentState& payment, const std::string& issued_json) {
  JsonWriter w;
  w.BeginObject()
      .Field("payment_id", payment.payment_id)
      .Field("order_id", payment.order_id)
      .Field("umkm_id", payment.umkm_id)
      .Field("buyer_nip", payment.buyer_nip)
      .Field("amount", FormatSnap(payment.amount))
      .Field("channel", payment.channel)
      .Field("bank_reference", payment.bank_reference)
      .Field("status", PaymentStatusName(payment.status))
      .Field("refunded", FormatSnap(payment.refunded));
  if (payment.status == PaymentStatus::kSucceeded || payment.status == PaymentStatus::kRefunded) {
    w.Field("paid_at_us", payment.paid_at_us).Field("business_date", FormatIsoDate(payment.business_date));
  }
  if (!issued_json.empty()) w.Key("issued").Raw(issued_json);
  return w.Field("version", static_cast<int64_t>(payment.version)).EndObject().Take();
}

}  // namespace

void Api::AddPaymentRoutes() {
  // A refund of part or all of a succeeded payment (e.g. a damaged delivery). The money goes
  // back through the bank's own refund process; this records it, so that spend and sales
  // follow.
  AddRoute(http::verb::post, "/v1/orders/{order_id}/payment/refund", {kOperator, kAdmin},
           [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"amount"});
    const Money amount = body.Amount("amount");
    MALPRO_BODY_OR_RETURN(body, call);
    const std::string& id = call.path["order_id"];
    return RunCommand(call, [&](const CommandContext& context) {
      return deps_.ledger->RefundPayment(id, amount, context);
    });
  });
  // The operator's resolution of a refund_due exception: refunded (the money went back to
  // the payer at the bank) or explained, with a note.
  AddRoute(http::verb::post, "/v1/exceptions/{payment_id}/resolve", {kOperator, kAdmin},
           [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"resolution", "note"});
    const std::string resolution = body.String("resolution");
    const std::string note = body.String("note");
    MALPRO_BODY_OR_RETURN(body, call);
    const std::string& id = call.path["payment_id"];
    return RunCommand(call, [&](const CommandContext& context) {
      return deps_.ledger->ResolveException(id, resolution, note, context);
    });
  });
  AddRoute(http::verb::post, "/v1/orders/{order_id}/payment", {kAsn, kOperator, kAdmin},
           [this](ApiCall& call) {
    const std::string& id = call.path["order_id"];
    RequestBody body(call.request.body());
    body.AllowOnly({"channel"});
    const std::string channel = body.String("channel");
    MALPRO_BODY_OR_RETURN(body, call);
    if (channel != "QRIS" && channel != "VA") {
      return ErrorResponse(call.request, Status::InvalidArgument(errc::kChannelUnknown, "channel",
                                                                 "channel must be QRIS or VA"));
    }
    Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
    if (!order.ok()) return ErrorResponse(call.request, order.status());
    if (!deps_.request_payment) {
      // What the order itself rules out is said before the missing bank. (With a bank, the
      // payments adapter checks the same after answering a retry under its key.)
      if (order->payment_method != payment_cashless) {
        return ErrorResponse(call.request, Status::Conflict(errc::kOrderNotCashless, "order_id",
                                                            "the order is cash on delivery"));
      }
      if (order->status == OrderStatus::kCancelled) {
        return ErrorResponse(call.request, Status::Conflict(errc::kOrderNotPayable, "order_id",
                                                            "the order is cancelled"));
      }
      return ErrorResponse(call.request,
                           Status::Unavailable(errc::kBankNotConfigured,
                                               "no bank is configured (bank.base_url is empty)"));
    }
    Result<CommandContext> context = ContextOf(call);
    if (!context.ok()) return ErrorResponse(call.request, context.status());
    Result<PaymentRequestAnswer> answer = deps_.request_payment(id, channel, *context);
    if (!answer.ok()) return ErrorResponse(call.request, answer.status());
    HttpResponse response = CommandResponse(call.request, answer->result, "payment_id", id);
    // The command's fields, then what the payer needs.
    std::string& text = response.body();
    text.pop_back();
    text += ",\"payment\":" + answer->payment_json + "}";
    response.prepare_payload();
    return response;
  });
  AddRoute(http::verb::get, "/v1/orders/{order_id}/payment",
           {kAsn, kMerchant, kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    const std::string& id = call.path["order_id"];
    Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
    if (!order.ok()) return ErrorResponse(call.request, order.status());
    Result<PaymentState> payment = deps_.ledger->LoadPayment(id);
    if (!payment.ok()) return ErrorResponse(call.request, payment.status());
    std::string issued;
    if (payment->status == PaymentStatus::kRequested && deps_.issued_payment) {
      issued = deps_.issued_payment(id);
    }
    return Ok(call.request, PaymentJson(*payment, issued));
  });
}

// ---------------------------------------------------------------------------------------
// Manual receipts

void Api::AddReceiptRoutes() {
  AddRoute(http::verb::post, "/v1/receipts", {kAsn, kOperator, kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"receipt_id", "nip", "shop_name", "kelurahan", "amount", "purchase_date",
                    "photo_base64"});
    SubmitReceipt command{body.OptionalString("receipt_id"), body.String("nip"),
                          body.String("shop_name"), body.String("kelurahan"),
                          body.Amount("amount"), body.String("purchase_date"), ""};
    const std::string photo = body.String("photo_base64");
    MALPRO_BODY_OR_RETURN(body, call);
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, command.nip), call);
    Result<std::string> bytes = DecodeBase64(photo, "photo_base64");
    if (!bytes.ok()) return ErrorResponse(call.request, bytes.status());
    command.photo = std::move(bytes).value();
    return RunCommand(
        call,
        [&](const CommandContext& c) -> Result<CommandResult> {
          Result<CommandResult> submitted = deps_.ledger->Submit(command, c);
          // The ledger names the photo; the client sent it as photo_base64.
          if (!submitted.ok() && submitted.status().field() == "photo") {
            return submitted.status().WithField("photo_base64");
          }
          return submitted;
        },
        "receipt_id");
  });
  auto load_own = [this](ApiCall& call) -> Result<ReceiptState> {
    Result<ReceiptState> receipt = deps_.ledger->LoadReceipt(call.path["receipt_id"]);
    if (!receipt.ok()) return receipt.status();
    MALPRO_RETURN_IF_ERROR(CheckOwnNip(call, receipt->nip));
    return receipt;
  };
  AddRoute(http::verb::get, "/v1/receipts/{receipt_id}", {kAsn, kOperator, kAuditor, kAdmin},
           [load_own](ApiCall& call) {
    Result<ReceiptState> receipt = load_own(call);
    if (!receipt.ok()) return ErrorResponse(call.request, receipt.status());
    return Ok(call.request, ReceiptJson(*receipt));
  });
  AddRoute(http::verb::get, "/v1/receipts/{receipt_id}/photo", {kAsn, kOperator, kAuditor, kAdmin},
           [this, load_own](ApiCall& call) {
    Result<ReceiptState> receipt = load_own(call);
    if (!receipt.ok()) return ErrorResponse(call.request, receipt.status());
    Result<std::string> photo = deps_.ledger->Photo(receipt->photo_sha256);
    if (!photo.ok()) return ErrorResponse(call.request, photo.status());
    HttpResponse response{http::status::ok, call.request.version()};
    response.set(http::field::content_type,
                 photo->starts_with("\x89PNG") ? "image/png" : "image/jpeg");
    response.set(http::field::etag, "\"" + receipt->photo_sha256 + "\"");
    response.keep_alive(call.request.keep_alive());
    response.body() = std::move(photo).value();
    response.prepare_payload();
    return response;
  });
  AddRoute(http::verb::post, "/v1/receipts/{receipt_id}/approve", {kOperator, kAdmin},
           [this](ApiCall& call) {
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->ApproveReceipt(call.path["receipt_id"], c);
    });
  });
  AddRoute(http::verb::post, "/v1/receipts/{receipt_id}/reject", {kOperator, kAdmin},
           [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"reason"});
    const std::string reason = body.String("reason");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->RejectReceipt(call.path["receipt_id"], reason, c);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Policy

void Api::AddPolicyRoutes() {
  AddRoute(http::verb::get, "/v1/policy", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    Result<PolicyState> policy = deps_.ledger->LoadPolicy();
    if (!policy.ok()) return ErrorResponse(call.request, policy.status());
    return Ok(call.request, PolicyJson(*policy));
  });
  AddRoute(http::verb::post, "/v1/policy/minimum-spend", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"rank_group", "amount", "effective_from"});
    const std::string group = body.String("rank_group");
    const Money amount = body.Amount("amount");
    const std::string from = body.String("effective_from");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SetMinimumSpend(group, amount, from, c);
    });
  });
  AddRoute(http::verb::post, "/v1/policy/fee-rule", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"basis_points", "umi_zero_fee_max", "effective_from"});
    const int64_t basis_points = body.Int("basis_points");
    const Money umi_max = body.Amount("umi_zero_fee_max");
    const std::string from = body.String("effective_from");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SetFeeRule(basis_points, umi_max, from, c);
    });
  });
  AddRoute(http::verb::post, "/v1/policy/settlement-cutoff", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"cutoff", "effective_from"});
    const std::string cutoff = body.String("cutoff");
    const std::string from = body.String("effective_from");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SetSettlementCutoff(cutoff, from, c);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Reconciliation of bank statements (runs are recorded by `malpro reconcile`)

namespace {

std::string ReconciliationJson(const ReconciliationState& state) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("statement_id", state.statement_id)
      .Field("version", static_cast<int64_t>(state.version))
      .Field("run", state.runs)
      .Field("matched", state.matched)
      .Key("discrepancies")
      .BeginArray();
  for (const Discrepancy& discrepancy : state.discrepancies) {
    writer.BeginObject();
    WriteDiscrepancyFields(writer, discrepancy);
    const std::string resolution = state.ResolutionOf(discrepancy);
    if (resolution.empty()) {
      writer.Key("resolution").Null();
    } else {
      writer.Field("resolution", resolution);
    }
    writer.EndObject();
  }
  return writer.EndArray().EndObject().Take();
}

// Records the payment a missing-in-ledger discrepancy names, with the statement's amount and
// time: the bank's notification never came, the statement is the bank's word instead.
Status RecordMissingPayment(Ledger& ledger, const ReconciliationState& state, int64_t index,
                            const CommandContext& context) {
  if (index < 1 || index > static_cast<int64_t>(state.discrepancies.size())) {
    return Status::NotFound(errc::kDiscrepancyNotFound, "index",
                            "the latest run has " + std::to_string(state.discrepancies.size()) +
                                " discrepancies; index must be 1 to that");
  }
  const Discrepancy& discrepancy = state.discrepancies[index - 1];
  if (discrepancy.kind != discrepancy_missing_in_ledger || discrepancy.payment_id.empty() ||
      !discrepancy.statement_amount || discrepancy.credit_debit != "CRDT") {
    return Status::InvalidArgument(
        errc::kResolutionNotApplicable, "action",
        "record_payment applies to a credit missing in the ledger whose pending payment is known");
  }
  CommandContext payment_context;
  payment_context.actor = context.actor;
  if (!context.idempotency_key.empty()) {
    payment_context.idempotency_key = context.idempotency_key + "/payment";
  }
  Result<PaymentState> payment = ledger.LoadPayment(discrepancy.payment_id);
  if (!payment.ok()) return payment.status();
  BankSuccess success;
  success.payment_id = discrepancy.payment_id;
  success.channel = payment->channel;
  success.bank_reference = discrepancy.reference;
  success.amount = *discrepancy.statement_amount;
  success.paid_at_us = discrepancy.booked_at_us;
  success.source = BankSuccess::Source::kStatement;
  Result<CommandResult> recorded = ledger.RecordPaymentSucceeded(success, payment_context);
  // Succeeded already (a retry, or the notification came meanwhile): the resolution stands.
  if (!recorded.ok() && recorded.status().error_code() != errc::kPaymentAlreadySucceeded) {
    return recorded.status();
  }
  return Status::Ok();
}

}  // namespace

void Api::AddReconciliationRoutes() {
  AddRoute(http::verb::get, "/v1/reconciliation/{statement_id}", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    Result<ReconciliationState> state = deps_.ledger->LoadReconciliation(call.path["statement_id"]);
    if (!state.ok()) return ErrorResponse(call.request, state.status());
    return Ok(call.request, ReconciliationJson(*state));
  });
  AddRoute(http::verb::post, "/v1/reconciliation/{statement_id}/resolve", {kOperator, kAdmin},
           [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"index", "action", "note"});
    const int64_t index = body.Int("index");
    const std::string action = body.String("action");
    const std::string note = body.OptionalString("note");
    MALPRO_BODY_OR_RETURN(body, call);
    if (action != "record_payment" && action != "explain") {
      return ErrorResponse(call.request,
                           Status::InvalidArgument(errc::kActionInvalid, "action",
                                                   "action must be record_payment or explain"));
    }
    const std::string statement_id = call.path["statement_id"];
    return RunCommand(call, [&](const CommandContext& c) -> Result<CommandResult> {
      if (action == "explain") {
        return deps_.ledger->ResolveDiscrepancy(statement_id, index, resolution_explained, note, c);
      }
      Result<ReconciliationState> state = deps_.ledger->LoadReconciliation(statement_id);
      if (!state.ok()) return state.status();
      MALPRO_RETURN_IF_ERROR(RecordMissingPayment(*deps_.ledger, *state, index, c));
      return deps_.ledger->ResolveDiscrepancy(statement_id, index, resolution_payment_recorded,
                                              note, c);
    });
  });
}

// ---------------------------------------------------------------------------------------
// The log, for auditors


void Api::AddLogRoutes() {
  AddRoute(http::verb::get, "/v1/events", {kAuditor, kAdmin}, [this](ApiCall& call) {
    Result<uint64_t> from = QueryNumber(call, "from", 1, UINT64_MAX >> 1);
    Result<uint64_t> limit = QueryNumber(call, "limit", 100, http_events_page_max);
    if (!from.ok()) return ErrorResponse(call.request, from.status());
    if (!limit.ok()) return ErrorResponse(call.request, limit.status());
    Result<std::vector<Event>> events = deps_.log->Read(*from, *limit);
    if (!events.ok()) return ErrorResponse(call.request, events.status());
    return EventsResponse(call.request, *events, deps_.log->Head().sequence);
  });
  AddRoute(http::verb::get, "/v1/streams/{stream_id}", {kAuditor, kAdmin}, [this](ApiCall& call) {
    Result<uint64_t> from = QueryNumber(call, "from", 1, UINT64_MAX >> 1);
    Result<uint64_t> limit = QueryNumber(call, "limit", 100, http_events_page_max);
    if (!from.ok()) return ErrorResponse(call.request, from.status());
    if (!limit.ok()) return ErrorResponse(call.request, limit.status());
    Result<std::vector<Event>> events = deps_.log->ReadStream(call.path["stream_id"], *from, *limit);
    if (!events.ok()) return ErrorResponse(call.request, events.status());
    return EventsResponse(call.request, *events, deps_.log->Head().sequence);
  });
  AddRoute(http::verb::get, "/v1/chain/head", {kAuditor, kAdmin, kOperator}, [this](ApiCall& call) {
    const ChainHead head = deps_.log->Head();
    return Ok(call.request, JsonWriter()
                                .BeginObject()
                                .Field("sequence", static_cast<int64_t>(head.sequence))
                                .Field("hash", HashToHex(head.hash))
                                .EndObject()
                                .Take());
  });
}

// ---------------------------------------------------------------------------------------
// Service

void Api::AddServiceRoutes() {
  AddRoute(http::verb::get, "/healthz", {}, [this](ApiCall& call) {
    const Status health = deps_.log->Health();
    JsonWriter w;
    w.BeginObject()
        .Field("status", health.ok() ? "ok" : "failing")
        .Field("head_sequence", static_cast<int64_t>(deps_.log->Head().sequence));
    if (!health.ok()) w.Field("log_error", health.message());  // appends are refused
    bool models_ok = true;
    if (deps_.projector != nullptr) {
      const ProjectorStatus models = deps_.projector->Report();
      models_ok = models.health.ok();
      w.Key("read_models").BeginObject()
          .Field("status", models_ok ? "ok" : "failing")
          .Field("applied_sequence", static_cast<int64_t>(models.applied))
          .Field("lag_events", static_cast<int64_t>(models.log_head - std::min(models.log_head, models.applied)));
      if (!models_ok) w.Field("error", models.health.message());
      w.EndObject();
    }
    if (deps_.health_details) w.Key("details").Raw(deps_.health_details());
    return JsonResponse(call.request,
                        health.ok() && models_ok ? http::status::ok
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

HttpResponse Api::ReadModel(ApiCall& call, const std::function<Result<std::string>()>& query) {
  if (deps_.projector == nullptr) {
    return ErrorResponse(call.request,
                         Status::Unavailable(errc::kReadModelsOff, "the read models are not running"));
  }
  Result<uint64_t> after = QueryNumber(call, "after", 0, UINT64_MAX >> 1);
  MALPRO_CHECK_OR_RETURN(after.status(), call);
  // The server has usually waited already (ReadWaitOf) and the wait here returns at once.
  const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      call.read_deadline - std::chrono::steady_clock::now());
  if (*after > 0 && !deps_.projector->WaitForApplied(
                        *after, std::max(remaining, std::chrono::milliseconds(0)))) {
    return ErrorResponse(call.request, ReadModelsBehind(*after));
  }
  const uint64_t applied = deps_.projector->Applied();
  Result<std::string> body = query();
  MALPRO_CHECK_OR_RETURN(body.status(), call);
  HttpResponse response = Ok(call.request, std::move(body).value());
  response.set("X-Applied-Sequence", std::to_string(applied));
  return response;
}

namespace {

// A malformed date or month in the path or query is a malformed request (400).
Status AsQueryError(const Status& status) {
  if (status.ok()) return status;
  return Status::InvalidArgument(errc::kQueryInvalid, status.field(), status.message());
}

Status CheckDate(const std::string& text, std::string_view field) {
  return AsQueryError(ParseIsoDate(text, field).status());
}

Status CheckMonthParameter(const std::string& text) {
  return AsQueryError(CheckMonth(text, "month"));
}

std::string QueryText(const ApiCall& call, const std::string& name) {
  auto found = call.query.find(name);
  return found == call.query.end() ? std::string() : found->second;
}

}  // namespace

void Api::AddReadModelRoutes() {
  const std::set<Role> everyone = {kAsn, kMerchant, kOperator, kAuditor, kAdmin};
  AddRoute(http::verb::get, "/v1/catalog", everyone, [this](ApiCall& call) {
    CatalogQuery query;
    query.category = QueryText(call, "category");
    query.kecamatan = QueryText(call, "kecamatan");
    query.search = QueryText(call, "q");
    Result<uint64_t> offset = QueryNumber(call, "offset", 0, http_page_offset_max);
    MALPRO_CHECK_OR_RETURN(offset.status(), call);
    Result<uint64_t> limit = QueryNumber(call, "limit", http_page_limit_default, http_page_limit_max);
    MALPRO_CHECK_OR_RETURN(limit.status(), call);
    query.offset = *offset;
    query.limit = *limit;
    return ReadModel(call, [&]() -> Result<std::string> { return deps_.projector->Catalog(query); });
  });
  AddRoute(http::verb::get, "/v1/catalog/{umkm_id}", everyone, [this](ApiCall& call) {
    return ReadModel(call, [&] { return deps_.projector->Merchant(call.path["umkm_id"]); });
  });
  AddRoute(http::verb::get, "/v1/umkm/{umkm_id}/sales", {kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
    const std::string from = QueryText(call, "from");
    const std::string to = QueryText(call, "to");
    MALPRO_CHECK_OR_RETURN(CheckDate(from, "from"), call);
    MALPRO_CHECK_OR_RETURN(CheckDate(to, "to"), call);
    return ReadModel(call, [&]() -> Result<std::string> {
      return deps_.projector->MerchantSales(call.path["umkm_id"], from, to);
    });
  });
  AddRoute(http::verb::get, "/v1/umkm/{umkm_id}/outstanding",
           {kMerchant, kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
    return ReadModel(call, [&]() -> Result<std::string> {
      return deps_.projector->Outstanding(call.path["umkm_id"]);
    });
  });
  AddRoute(http::verb::get, "/v1/settlement/outstanding", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    return ReadModel(call, [&]() -> Result<std::string> { return deps_.projector->Outstanding(""); });
  });
  AddRoute(http::verb::get, "/v1/circulation/{month}", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
    return ReadModel(call, [&]() -> Result<std::string> {
      return deps_.projector->Circulation(call.path["month"]);
    });
  });
  AddRoute(http::verb::get, "/v1/stats", {kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    return ReadModel(call, [&]() -> Result<std::string> { return deps_.projector->LogStats(); });
  });
  // Money the bank moved that counts toward nothing, and what the operator does with it.
  AddRoute(http::verb::get, "/v1/exceptions", {kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    std::string status = QueryText(call, "status");
    if (status.empty()) status = "open";
    MALPRO_CHECK_OR_RETURN(CheckOneOf(status, "status", errc::kQueryStatusUnknown,
                                      std::array<std::string_view, 3>{"open", "resolved", "all"}),
                           call);
    Result<uint64_t> offset = QueryNumber(call, "offset", 0, http_page_offset_max);
    MALPRO_CHECK_OR_RETURN(offset.status(), call);
    Result<uint64_t> limit = QueryNumber(call, "limit", http_page_limit_default, http_page_limit_max);
    MALPRO_CHECK_OR_RETURN(limit.status(), call);
    return ReadModel(call, [&]() -> Result<std::string> {
      return deps_.projector->Exceptions(status, *offset, *limit);
    });
  });
  AddSpendRoutes();
  AddDayCloseRoutes();
}

void Api::AddDayCloseRoutes() {
  // Answers the command's fields and, under `key`, the details.
  auto detailed = [](ApiCall& call, std::string_view key, const Result<DetailedAnswer>& answer) {
    if (!answer.ok()) return ErrorResponse(call.request, answer.status());
    HttpResponse response = CommandResponse(call.request, answer->result);
    std::string& text = response.body();
    text.pop_back();
    text += ",\"" + std::string(key) + "\":" + answer->details_json + "}";
    response.prepare_payload();
    return response;
  };
  AddRoute(http::verb::post, "/v1/settlement/{date}/close", {kOperator, kAdmin},
           [this, detailed](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckDate(call.path["date"], "date"), call);
    if (!deps_.close_settlement) {
      return ErrorResponse(call.request, Status::Unavailable(errc::kSettlementOff,
                                                             "settlement is not available here"));
    }
    Result<CommandContext> context = ContextOf(call);
    MALPRO_CHECK_OR_RETURN(context.status(), call);
    return detailed(call, "settlement", deps_.close_settlement(call.path["date"], *context));
  });
  AddRoute(http::verb::post, "/v1/reconciliation", {kOperator, kAdmin},
           [this, detailed](ApiCall& call) {
    const std::string format = QueryText(call, "format");
    if (!format.empty() && format != "camt053" && format != "mt940" && format != "csv") {
      return ErrorResponse(call.request,
                           Status::InvalidArgument(errc::kQueryInvalid, "format",
                                                   "format must be camt053, mt940 or csv"));
    }
    if (!deps_.reconcile_statement) {
      return ErrorResponse(call.request, Status::Unavailable(
                                             errc::kReconciliationOff,
                                             "reconciliation is not available here"));
    }
    Result<CommandContext> context = ContextOf(call);
    MALPRO_CHECK_OR_RETURN(context.status(), call);
    return detailed(call, "reconciliation",
                    deps_.reconcile_statement(call.request.body(), format, *context));
  });
}

void Api::AddSpendRoutes() {
  AddRoute(http::verb::get, "/v1/asn/{nip}/spend", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, call.path["nip"]), call);
    return ReadModel(call, [&] { return deps_.projector->AsnHistory(call.path["nip"]); });
  });
  AddRoute(http::verb::get, "/v1/asn/{nip}/spend/{month}", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, call.path["nip"]), call);
    MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
    return ReadModel(call, [&] {
      return deps_.projector->AsnSpend(call.path["nip"], call.path["month"]);
    });
  });
  AddRoute(http::verb::get, "/v1/compliance/{month}", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
    const std::string by = QueryText(call, "by").empty() ? "agency" : QueryText(call, "by");
    if (by != "agency" && by != "rank_class") {
      return ErrorResponse(call.request, Status::InvalidArgument(errc::kQueryInvalid, "by",
                                                                 "by must be agency or rank_class"));
    }
    return ReadModel(call, [&]() -> Result<std::string> {
      return deps_.projector->Rollup(call.path["month"],
                                     by == "agency" ? RollupBy::kAgency : RollupBy::kRankClass);
    });
  });
  // Closes a month's compliance with the figures the read models give at the log's head.
  AddRoute(http::verb::post, "/v1/compliance/{month}/close", {kOperator, kAdmin},
           [this](ApiCall& call) {
    const std::string& month = call.path["month"];
    MALPRO_CHECK_OR_RETURN(CheckMonthParameter(month), call);
    if (deps_.projector == nullptr) {
      return ErrorResponse(call.request, Status::Unavailable(errc::kReadModelsOff,
                                                             "the read models are not running"));
    }
    Result<CommandContext> context = ContextOf(call);
    if (!context.ok()) return ErrorResponse(call.request, context.status());
    Result<CommandResult> result = Status::Unavailable(errc::kComplianceFiguresStale, "not tried");
    MonthFigures figures;
    // The log may move on between reading the figures and appending: try again a few times.
    for (int attempt = 0; attempt < compliance_close_attempts_max; ++attempt) {
      const uint64_t head = deps_.log->Head().sequence;
      if (!deps_.projector->WaitForApplied(head, std::chrono::milliseconds(http_read_wait_ms))) {
        return ErrorResponse(call.request,
                             Status::Unavailable(errc::kReadModelsBehind,
                                                 "the read models did not reach the log's head"));
      }
      auto [computed, applied] = deps_.projector->ComplianceFigures(month);
      figures = std::move(computed);
      CloseComplianceMonth command{month,          applied,           figures.asn,
                                   figures.compliant, figures.committed, figures.shortfall,
                                   figures.sha256};
      result = deps_.ledger->CloseMonth(command, *context);
      if (result.ok() || result.status().error_code() != errc::kComplianceFiguresStale) break;
    }
    if (!result.ok()) return ErrorResponse(call.request, result.status());
    HttpResponse response = CommandResponse(call.request, *result);
    std::string& text = response.body();
    text.pop_back();
    text += JsonWriter()
                .BeginObject()
                .Field("month", month)
                .Field("asn", figures.asn)
                .Field("compliant", figures.compliant)
                .Field("committed", AmountText(figures.committed))
                .Field("shortfall", AmountText(figures.shortfall))
                .Field("figures_sha256", figures.sha256)
                .EndObject()
                .Take()
                .replace(0, 1, ",");
    response.prepare_payload();
    return response;
  });
  AddRoute(http::verb::get, "/v1/compliance/{month}/shortfalls", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
    MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
    Result<uint64_t> offset = QueryNumber(call, "offset", 0, http_page_offset_max);
    MALPRO_CHECK_OR_RETURN(offset.status(), call);
    Result<uint64_t> limit = QueryNumber(call, "limit", http_page_limit_default, http_page_limit_max);
    MALPRO_CHECK_OR_RETURN(limit.status(), call);
    return ReadModel(call, [&]() -> Result<std::string> {
      return deps_.projector->Shortfalls(call.path["month"], QueryText(call, "agency"), *offset,
                                         *limit);
    });
  });
}

Result<Subscription> Api::OpenProjectionSubscription(ApiCall& call) {
  if (deps_.projector == nullptr) {
    return Status::Unavailable(errc::kReadModelsOff, "the read models are not running");
  }
  const std::string projection = QueryText(call, "projection");
  if (!projection.empty()) {
    const std::vector<std::string> names = deps_.projector->Names();
    if (std::find(names.begin(), names.end(), projection) == names.end()) {
      return Status::InvalidArgument(errc::kQueryInvalid, "projection",
                                     "projection must be one of catalog, asn_spend, "
                                     "merchant_sales, circulation, log_stats");
    }
  }
  const bool resume = call.query.contains("after");
  Result<uint64_t> after = QueryNumber(call, "after", 0, UINT64_MAX >> 1);
  if (!after.ok()) return after.status();
  // A subscriber without a position, or one older than the changes kept, first gets every
  // row (event "row") as of a position, then the changes after it.
  struct Cursor {
    uint64_t position = 0;
    bool snapshot_due = false;
  };
  auto cursor = std::make_shared<Cursor>(Cursor{*after, !resume});
  Projector* projector = deps_.projector;
  auto row_event = [](uint64_t id, const RowChange& row) {
    JsonWriter writer;
    writer.BeginObject()
        .Field("projection", row.projection)
        .Field("key", row.key)
        .Key("value")
        .Raw(row.value)
        .EndObject();
    return "id: " + std::to_string(id) + "\nevent: row\ndata: " + writer.Take() + "\n\n";
  };
  return Subscription{[projector, cursor, projection, row_event]() -> Result<std::string> {
    std::string text;
    if (!cursor->snapshot_due) {
      ChangePage page =
          projector->ChangesAfter(cursor->position, projection, http_subscription_batch_events);
      if (page.reset) {
        cursor->snapshot_due = true;
      } else {
        for (const ChangePage::Change& change : page.changes) {
          text += row_event(change.sequence, change.row);
        }
        if (page.changes.empty() && page.position > cursor->position) {
          // Nothing of this projection changed: move the position on without a row.
          text += "id: " + std::to_string(page.position) + "\nevent: position\ndata: {}\n\n";
        }
        cursor->position = page.position;
        return text;
      }
    }
    auto [rows, position] = projector->Snapshot(projection);
    text += "event: snapshot\ndata: {\"position\":" + std::to_string(position) +
            ",\"rows\":" + std::to_string(rows.size()) + "}\n\n";
    for (const RowChange& row : rows) text += row_event(position, row);
    cursor->position = position;
    cursor->snapshot_due = false;
    return text;
  }};
}

}  // namespace malpro
