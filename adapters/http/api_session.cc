// What browsers need: sessions (a token exchanged for an HttpOnly cookie, CSRF tokens on
// writes), the console's static files, and CORS for dashboards on other origins.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/console_files.h"
#include "adapters/http/request_body.h"
#include "adapters/http/session.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

bool IsSafeMethod(http::verb method) {
  return method == http::verb::get || method == http::verb::head;
}

// Behind a proxy that terminates TLS, the browser speaks https: the cookie gets Secure.
bool OverTls(const HttpRequest& request) { return request["X-Forwarded-Proto"] == "https"; }

// The session's fields, and what a read-only server (audit replay --serve) shows.
std::string SessionJson(const SessionInfo& session, const std::string& read_only) {
  const int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(session.expires_at.time_since_epoch())
          .count();
  JsonWriter writer;
  writer.BeginObject()
      .Field("role", RoleName(session.principal.role))
      .Field("subject", session.principal.subject)
      .Field("csrf_token", session.csrf_token)
      .Field("expires_at", JakartaTimestamp(micros));
  if (!read_only.empty()) writer.Field("read_only", read_only);
  return writer.EndObject().Take();
}

// The headers every console file is answered with: only our own origin may run script or
// be connected to, and no other site may frame the console.
void SetConsoleHeaders(HttpResponse& response) {
  response.set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' blob: data:; style-src 'self' "
               "'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set(http::field::cache_control, "no-cache");
}

}  // namespace

Result<Principal> Api::Authenticate(const HttpRequest& request) const {
  const std::string_view authorization = request[http::field::authorization];
  if (!authorization.empty() || deps_.sessions == nullptr) {
    return deps_.tokens->Authenticate(authorization);
  }
  const std::string_view cookie = SessionTable::CookieValue(request[http::field::cookie]);
  if (cookie.empty()) return deps_.tokens->Authenticate(authorization);
  std::optional<SessionInfo> session = deps_.sessions->Find(cookie);
  if (!session) {
    return Status::Unauthenticated("the session has expired or was closed; sign in again");
  }
  // A page of another site can make the browser send the cookie, but cannot read the CSRF
  // token: writes must carry it.
  if (!IsSafeMethod(request.method()) && request[csrf_header_name] != session->csrf_token) {
    return Status::PermissionDenied(errc::kCsrfTokenInvalid, csrf_header_name,
                                    "a write made with the session cookie must send the "
                                    "session's csrf_token in X-CSRF-Token");
  }
  return std::move(session->principal);
}

void Api::AddSessionRoutes() {
  if (deps_.sessions == nullptr) return;
  AddRoute(http::verb::post, "/v1/session", {}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"token"});
    const std::string token = body.String("token");
    if (!body.status().ok()) return ErrorResponse(call.request, body.status());
    Result<Principal> principal = deps_.tokens->Authenticate("Bearer " + token);
    if (!principal.ok()) return ErrorResponse(call.request, principal.status());
    auto [id, session] = deps_.sessions->Open(std::move(principal).value(), Sha256(token));
    HttpResponse response =
        JsonResponse(call.request, http::status::created, SessionJson(session, deps_.read_only));
    response.set(http::field::set_cookie, deps_.sessions->SetCookie(id, OverTls(call.request)));
    return response;
  });
  AddRoute(http::verb::get, "/v1/session", {}, [this](ApiCall& call) {
    const std::string_view id = SessionTable::CookieValue(call.request[http::field::cookie]);
    std::optional<SessionInfo> session = deps_.sessions->Find(id);
    if (!session) {
      return ErrorResponse(call.request, Status::Unauthenticated("not signed in"));
    }
    return Ok(call.request, SessionJson(*session, deps_.read_only));
  });
  AddRoute(http::verb::delete_, "/v1/session", {}, [this](ApiCall& call) {
    const std::string_view id = SessionTable::CookieValue(call.request[http::field::cookie]);
    if (std::optional<SessionInfo> session = deps_.sessions->Find(id)) {
      if (call.request[csrf_header_name] != session->csrf_token) {
        return ErrorResponse(call.request,
                             Status::PermissionDenied(errc::kCsrfTokenInvalid, csrf_header_name,
                                                      "signing out needs the session's "
                                                      "csrf_token in X-CSRF-Token"));
      }
      deps_.sessions->Close(id);
    }
    HttpResponse response{http::status::no_content, call.request.version()};
    response.set(http::field::set_cookie, deps_.sessions->SetCookie("", OverTls(call.request)));
    response.set(http::field::cache_control, "no-store");
    response.keep_alive(call.request.keep_alive());
    return response;
  });
}

std::optional<HttpResponse> Api::ConsoleResponse(const HttpRequest& request,
                                                 std::string_view path) const {
  std::string_view file_path;
  if (path == "/") {
    file_path = "index.html";
  } else if (path.starts_with("/console/")) {
    file_path = path.substr(std::string_view("/console/").size());
  } else {
    return std::nullopt;
  }
  if (!IsSafeMethod(request.method())) {
    HttpResponse refused = ErrorResponse(
        request, Status::InvalidArgument(errc::kMethodNotAllowed, "method",
                                         "the console's files take GET and HEAD only"));
    refused.set(http::field::allow, "GET, HEAD");
    return refused;
  }
  const ConsoleFile* file = deps_.console == nullptr ? nullptr : deps_.console->Find(file_path);
  if (file == nullptr) {
    return ErrorResponse(request,
                         Status::NotFound(errc::kRouteNotFound, "path",
                                          deps_.console == nullptr ? "the console is not served "
                                                                     "(http.console_dir)"
                                                                   : "no such console file"));
  }
  const bool unchanged = request[http::field::if_none_match] == file->etag;
  HttpResponse response{unchanged ? http::status::not_modified : http::status::ok,
                        request.version()};
  SetConsoleHeaders(response);
  response.set(http::field::etag, file->etag);
  if (!unchanged) {
    response.set(http::field::content_type, file->content_type);
    response.body() = file->body;
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

std::vector<std::pair<std::string, std::string>> Api::CorsHeaders(std::string_view origin) const {
  if (origin.empty() || std::find(deps_.cors_origins.begin(), deps_.cors_origins.end(), origin) ==
                            deps_.cors_origins.end()) {
    return {};
  }
  return {{"Access-Control-Allow-Origin", std::string(origin)},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers",
           "ETag, Malpro-Sequence, X-Next-Cursor, Content-Disposition"}};
}

HttpResponse Api::Preflight(const HttpRequest& request) const {
  const std::string_view origin = request[http::field::origin];
  if (CorsHeaders(origin).empty()) {
    return ErrorResponse(request, Status::PermissionDenied(errc::kCorsOriginRefused, "Origin",
                                                           "the origin '" + std::string(origin) +
                                                               "' is not in http.cors_origins"));
  }
  HttpResponse response{http::status::no_content, request.version()};
  response.set(http::field::access_control_allow_methods,
               "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  response.set(http::field::access_control_allow_headers,
               "Authorization, Content-Type, Idempotency-Key, If-Match, Last-Event-ID");
  response.set(http::field::access_control_max_age, "600");
  response.keep_alive(request.keep_alive());
  return response;
}

}  // namespace malpro
