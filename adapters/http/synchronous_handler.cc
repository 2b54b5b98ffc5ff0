#include "adapters/http/synchronous_handler.h"

#include <charconv>
#include <optional>

#include "engine/await.h"

namespace malpro {

SynchronousHandler::SynchronousHandler(HttpHandler* inner, const EventLog* log, Confirm confirm,
                                       std::chrono::milliseconds timeout)
    : inner_(inner), log_(log), confirm_(std::move(confirm)), timeout_(timeout) {}

uint64_t SynchronousHandler::SequenceToConfirm(const HttpRequest& request,
                                               const HttpResponse& response) const {
  if (request.method() == http::verb::get || request.method() == http::verb::head ||
      request.method() == http::verb::options) {
    return 0;
  }
  // Signing in and verifying the chain write nothing to the log.
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/session" || path == "/v1/chain/verify") return 0;
  const auto named = response.find("Malpro-Sequence");
  if (named != response.end()) {
    const std::string_view text = named->value();
    uint64_t sequence = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), sequence);
    if (error == std::errc() && end == text.data() + text.size()) return sequence;
  }
  const unsigned status = response.result_int();
  if (status < 200 || status > 299) return 0;
  return log_->Head().sequence;  // everything this write appended is at or below it
}

HttpResponse SynchronousHandler::Handle(const HttpRequest& request,
                                        std::chrono::steady_clock::time_point read_deadline) {
  HttpResponse response = inner_->Handle(request, read_deadline);
  if (inner_->IsQuick(request)) return response;  // answered on an I/O thread: writes nothing
  const uint64_t sequence = SequenceToConfirm(request, response);
  if (sequence == 0) return response;
  const Status outcome = AwaitStatus([&](std::function<void(Status)> done) {
    confirm_(sequence, std::chrono::steady_clock::now() + timeout_, std::move(done));
  });
  if (!outcome.ok()) return ErrorResponse(request, outcome);
  return response;
}

bool SynchronousHandler::HandleAsync(std::shared_ptr<const HttpRequest> request,
                                     std::function<void(MakeResponse)> respond,
                                     std::function<void(std::function<void()>)> defer) {
  auto held = [this, request, respond](MakeResponse make) {
    auto response = std::make_shared<HttpResponse>(make());
    const uint64_t sequence = SequenceToConfirm(*request, *response);
    if (sequence == 0) {
      respond([response] { return std::move(*response); });
      return;
    }
    confirm_(sequence, std::chrono::steady_clock::now() + timeout_,
             [request, respond, response](Status status) {
               if (status.ok()) {
                 respond([response] { return std::move(*response); });
               } else {
                 respond([request, status] { return ErrorResponse(*request, status); });
               }
             });
  };
  return inner_->HandleAsync(std::move(request), std::move(held), std::move(defer));
}

size_t SynchronousHandler::BodyLimitFor(http::verb method, std::string_view target) const {
  return inner_->BodyLimitFor(method, target);
}

std::string SynchronousHandler::RouteLabel(http::verb method, std::string_view target) const {
  return inner_->RouteLabel(method, target);
}

std::vector<std::string> SynchronousHandler::RouteLabels() const { return inner_->RouteLabels(); }

bool SynchronousHandler::IsQuick(const HttpRequest& request) const {
  return inner_->IsQuick(request);
}

std::optional<ReadWait> SynchronousHandler::ReadWaitOf(const HttpRequest& request) const {
  return inner_->ReadWaitOf(request);
}

uint64_t SynchronousHandler::ReadModelsApplied() const { return inner_->ReadModelsApplied(); }

std::vector<std::pair<std::string, std::string>> SynchronousHandler::CorsHeaders(
    std::string_view origin) const {
  return inner_->CorsHeaders(origin);
}

bool SynchronousHandler::IsSubscription(const HttpRequest& request) const {
  return inner_->IsSubscription(request);
}

Result<Subscription> SynchronousHandler::OpenSubscription(const HttpRequest& request,
                                                          HttpResponse* refusal) {
  return inner_->OpenSubscription(request, refusal);
}

}  // namespace malpro
