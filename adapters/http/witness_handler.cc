#include "adapters/http/witness_handler.h"

namespace malpro {
namespace {

HttpResponse WitnessText(const HttpRequest& request, http::status status, std::string body,
                         std::string_view content_type = "text/plain; charset=utf-8") {
  HttpResponse response(status, request.version());
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::status StatusOf(WitnessVerdict verdict) {
  switch (verdict) {
    case WitnessVerdict::kCosigned:
      return http::status::ok;
    case WitnessVerdict::kMalformed:
      return http::status::bad_request;
    case WitnessVerdict::kUnknownOrigin:
      return http::status::not_found;
    case WitnessVerdict::kUntrusted:
      return http::status::forbidden;
    case WitnessVerdict::kSizeConflict:
    case WitnessVerdict::kRootConflict:
      return http::status::conflict;
    case WitnessVerdict::kProofInvalid:
      return http::status::unprocessable_entity;
    case WitnessVerdict::kFailed:
      break;
  }
  return http::status::internal_server_error;
}

}  // namespace

HttpResponse AnswerAddCheckpoint(Witness& witness, const HttpRequest& request, uint64_t now_s) {
  if (request.method() != http::verb::post) {
    HttpResponse refused =
        WitnessText(request, http::status::method_not_allowed, "add-checkpoint takes POST\n");
    refused.set(http::field::allow, "POST");
    return refused;
  }
  WitnessAnswer answer = witness.AddCheckpoint(request.body(), now_s);
  const http::status status = StatusOf(answer.verdict);
  if (answer.verdict == WitnessVerdict::kCosigned) {
    return WitnessText(request, status, std::move(answer.cosignatures));
  }
  if (answer.verdict == WitnessVerdict::kSizeConflict) {
    return WitnessText(request, status, std::to_string(answer.latest_size) + "\n",
                       "text/x.tlog.size");
  }
  return WitnessText(request, status, answer.message + "\n");
}

WitnessHandler::WitnessHandler(Witness* witness, std::vector<std::string> origins,
                               std::function<uint64_t()> clock_s)
    : witness_(witness), origins_(std::move(origins)), clock_s_(std::move(clock_s)) {}

HttpResponse WitnessHandler::Handle(const HttpRequest& request,
                                    std::chrono::steady_clock::time_point) {
  const std::string_view target = request.target();
  HttpResponse response;
  if (target == "/add-checkpoint") {
    response = AnswerAddCheckpoint(*witness_, request, clock_s_());
  } else if (target == "/" &&
             (request.method() == http::verb::get || request.method() == http::verb::head)) {
    std::string body = "witness " + witness_->verifier().Text() + "\n";
    for (const std::string& origin : origins_) body += "log " + origin + "\n";
    response = WitnessText(request, http::status::ok, std::move(body));
  } else if (target == "/") {
    response = WitnessText(request, http::status::method_not_allowed, "/ takes GET\n");
    response.set(http::field::allow, "GET, HEAD");
  } else {
    response = WitnessText(request, http::status::not_found,
                           "a witness serves POST /add-checkpoint and GET /\n");
  }
  if (request.method() == http::verb::head) StripBodyForHead(response);
  return response;
}

size_t WitnessHandler::BodyLimitFor(http::verb, std::string_view) const {
  return witness_request_bytes_max;
}

std::string WitnessHandler::RouteLabel(http::verb method, std::string_view target) const {
  if (target == "/add-checkpoint") return std::string(http::to_string(method)) + " /add-checkpoint";
  if (target == "/") return std::string(http::to_string(method)) + " /";
  return "unmatched";
}

std::vector<std::string> WitnessHandler::RouteLabels() const {
  return {"POST /add-checkpoint", "GET /", "unmatched"};
}

}  // namespace malpro
