#include "adapters/http/http_handler.h"

#include "adapters/http/error_status.h"
#include "adapters/http/http_limits.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {

bool HttpHandler::HandleAsync(std::shared_ptr<const HttpRequest>, std::function<void(MakeResponse)>,
                              std::function<void(std::function<void()>)>) {
  return false;
}

bool HttpHandler::IsQuick(const HttpRequest&) const { return false; }

std::vector<std::string> HttpHandler::RouteLabels() const { return {}; }

std::optional<ReadWait> HttpHandler::ReadWaitOf(const HttpRequest&) const { return std::nullopt; }

uint64_t HttpHandler::ReadModelsApplied() const { return 0; }

std::vector<std::pair<std::string, std::string>> HttpHandler::CorsHeaders(
    std::string_view /*origin*/) const {
  return {};
}

bool HttpHandler::IsSubscription(const HttpRequest&) const { return false; }

Result<Subscription> HttpHandler::OpenSubscription(const HttpRequest& request,
                                                   HttpResponse* refusal) {
  const Status status = Status::NotFound(errc::kRouteNotFound, "path", "no such subscription");
  *refusal = ErrorResponse(request, status);
  return status;
}

HttpResponse JsonResponse(const HttpRequest& request, http::status status, std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse ErrorResponse(const HttpRequest& request, const Status& status) {
  JsonWriter writer;
  writer.BeginObject().Key("error").BeginObject().Field("code", status.error_code());
  writer.Field("message", status.message());
  if (!status.field().empty()) writer.Field("field", status.field());
  std::string body = writer.EndObject().EndObject().Take();
  HttpResponse response =
      JsonResponse(request, static_cast<http::status>(ErrorStatus(status)), std::move(body));
  if (status.code() == StatusCode::kUnauthenticated) {
    response.set(http::field::www_authenticate, "Bearer");
  }
  return response;
}

Status ReadModelsBehind(uint64_t sequence) {
  return Status::Unavailable(errc::kReadModelsBehind, "the read models have not reached sequence " +
                                                          std::to_string(sequence) + " within " +
                                                          std::to_string(http_read_wait_ms) +
                                                          " ms");
}

void StripBodyForHead(HttpResponse& response) {
  if (response.body().empty()) return;
  response.content_length(response.body().size());
  response.body().clear();
}

}  // namespace malpro
