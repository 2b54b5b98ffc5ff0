#include "adapters/bank/simulator.h"

#include "adapters/bank/simulator_impl.h"
#include "engine/json.h"

namespace malpro {

std::string BankSimulator::Impl::AmountJson(Money amount) {
  return JsonWriter()
      .BeginObject()
      .Field("value", FormatSnap(amount))
      .Field("currency", "IDR")
      .EndObject()
      .Take();
}

HttpResponse BankSimulator::Impl::Handle(const HttpRequest& request) {
  if (request.target().starts_with("/sim/")) return Control(request);
  return BankSide(request);
}

BankSimulator::Issued* BankSimulator::Impl::Find(std::string_view reference) {
  auto found = index_.find(std::string(reference));
  return found == index_.end() ? nullptr : &issued_[found->second];
}

BankSimulator::BankSimulator(BankSimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BankSimulator::~BankSimulator() { Stop(); }

Status BankSimulator::Start() {
  // The project's HTTP server with an Api whose only routes are this simulator's: the same
  // limits, timeouts and worker pool as the real API, nothing else reachable.
  Impl* impl = impl_.get();
  impl->api_ = std::make_unique<Api>(
      ApiDependencies{nullptr,
                      nullptr,
                      nullptr,
                      &impl->no_tokens_,
                      &impl->metrics_,
                      65536,
                      65536,
                      {},
                      [impl](const HttpRequest& request) -> std::optional<HttpResponse> {
                        return impl->Handle(request);
                      }});
  HttpOptions http;
  http.listen_address = impl->options_.listen_address;
  http.port = impl->options_.port;
  http.worker_threads = 8;
  MALPRO_RETURN_IF_ERROR(impl->CheckReferenceState());
  impl->server_ = std::make_unique<HttpServer>(http, impl->api_.get(), &impl->metrics_);
  return impl->server_->Start();
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
