#include "adapters/bank/simulator.h"

#include "adapters/bank/simulator_impl.h"
#include "engine/json.h"
#include "engine/payment_channel.h"

namespace malpro {

HttpResponse BankSimulator::Impl::Handle(const HttpRequest& request) {
  if (request.target().starts_with("/sim/")) return Control(request);
  if (options_.witness != nullptr && request.target().starts_with("/witness")) {
    return WitnessSide(request);
  }
  return BankSide(request);
}

// The bank as a witness of the city's log (witness_handler.h): the same protocol as
// `malpro witness`, under /witness.
HttpResponse BankSimulator::Impl::WitnessSide(const HttpRequest& request) {
  if (request.target() == "/witness/add-checkpoint") {
    return AnswerAddCheckpoint(*options_.witness, request,
                               static_cast<uint64_t>(Now() / 1'000'000));
  }
  HttpResponse response(request.target() == "/witness" ? http::status::ok : http::status::not_found,
                        request.version());
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = request.target() == "/witness"
                        ? "witness " + options_.witness->verifier().Text() + "\n"
                        : "the witness serves POST /witness/add-checkpoint and GET /witness\n";
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

HttpResponse BankSimulator::Impl::Handle(const HttpRequest& request,
                                         std::chrono::steady_clock::time_point) {
  HttpResponse response = Handle(request);
  // The bank's paths refuse another method in their own words; the Allow is the server's.
  if (response.result() == http::status::method_not_allowed &&
      response.find(http::field::allow) == response.end()) {
    response.set(http::field::allow, "POST");
  }
  if (request.method() == http::verb::head) StripBodyForHead(response);
  return response;
}

size_t BankSimulator::Impl::BodyLimitFor(http::verb, std::string_view target) const {
  if (options_.witness != nullptr && target == "/witness/add-checkpoint") {
    return witness_request_bytes_max;
  }
  return bank_simulator_body_bytes_max;
}

// One label for all: the paths a client may try are unbounded, and the simulator's own
// metrics are rendered nowhere.
std::string BankSimulator::Impl::RouteLabel(http::verb, std::string_view) const {
  return "unmatched";
}

BankSimulator::Issued* BankSimulator::Impl::Find(std::string_view reference) {
  auto found = index_.find(std::string(reference));
  return found == index_.end() ? nullptr : &issued_[found->second];
}

BankSimulator::Issued* BankSimulator::Impl::FindShown(std::string_view reference) {
  if (Issued* issued = Find(reference)) return issued;
  // A virtual account number as shown (without SNAP's padding); the latest account wins.
  for (auto it = issued_.rbegin(); it != issued_.rend(); ++it) {
    if (!it->virtual_account.empty() && ShownBankReference(it->virtual_account) == reference) {
      return &*it;
    }
  }
  return nullptr;
}

BankSimulator::BankSimulator(BankSimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BankSimulator::~BankSimulator() { Stop(); }

Status BankSimulator::Start() {
  // The project's HTTP server with this simulator as its handler: the same limits, timeouts
  // and worker pool as the real API, and nothing but the simulator's routes reachable.
  HttpOptions http;
  http.listen_address = impl_->options_.listen_address;
  http.port = impl_->options_.port;
  http.worker_threads = 8;
  MALPRO_RETURN_IF_ERROR(impl_->CheckReferenceState());
  impl_->server_ = std::make_unique<HttpServer>(http, impl_.get(), &impl_->metrics_);
  return impl_->server_->Start();
}

void BankSimulator::Stop() {
  if (impl_ && impl_->server_) impl_->server_->Stop();
}

uint16_t BankSimulator::port() const { return impl_->server_ ? impl_->server_->port() : 0; }

std::string BankSimulator::base_url() const {
  return "http://" + impl_->options_.listen_address + ":" + std::to_string(port());
}

HttpResponse BankSimulator::Handle(const HttpRequest& request) { return impl_->Handle(request); }

Result<NotifyOutcome> BankSimulator::Pay(std::string_view reference, bool notify) {
  return impl_->Act(notify ? "pay" : "delay", reference, "");
}
Result<NotifyOutcome> BankSimulator::PayLate(std::string_view reference, bool notify) {
  return impl_->Act(notify ? "pay" : "delay", reference, "", /*late=*/true);
}
Result<NotifyOutcome> BankSimulator::Fail(std::string_view reference) {
  return impl_->Act("fail", reference, "");
}
Result<NotifyOutcome> BankSimulator::Duplicate(std::string_view reference) {
  return impl_->Act("duplicate", reference, "");
}
Result<NotifyOutcome> BankSimulator::Corrupt(std::string_view reference, std::string_view mode) {
  return impl_->Act("corrupt", reference, mode);
}
std::vector<SimulatedStatementEntry> BankSimulator::Statement(std::string_view date) const {
  return impl_->Statement(date);
}

void BankSimulator::SetCallbackBaseUrl(std::string url) {
  impl_->options_.callback_base_url = std::move(url);
}

}  // namespace malpro
