// A stand-in for the far side of a bank connection: an HTTP server on 127.0.0.1 (ephemeral
// port) that answers every request with one function, through the API's external routes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "adapters/bank/notify.h"
#include "adapters/http/api.h"
#include "adapters/http/server.h"
#include "engine/assert.h"

namespace malpro::testing {

// The API of a ledger that takes the bank's notifications with `notify` (read when each
// request comes, so later changes count), without read models.
inline ApiDependencies BankNotifyDependencies(EventLog* log, Ledger* ledger,
                                              const TokenTable* tokens, HttpMetrics* metrics,
                                              const BankNotifyOptions* notify) {
  return ApiDependencies{log,
                         ledger,
                         nullptr,
                         tokens,
                         metrics,
                         65536,
                         65536,
                         {},
                         [ledger, notify](const HttpRequest& request) {
                           return HandleBankRequest(request, *ledger, *notify);
                         }};
}

class HandlerServer {
 public:
  using Handler = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

  // Serves from construction to destruction; `handle` runs on the server's threads.
  explicit HandlerServer(Handler handle) {
    api_ = std::make_unique<Api>(ApiDependencies{
        nullptr, nullptr, nullptr, &tokens_, &metrics_, 65536, 65536, {}, std::move(handle)});
    HttpOptions http;
    http.port = 0;
    server_ = std::make_unique<HttpServer>(http, api_.get(), &metrics_);
    MALPRO_ASSERT(server_->Start().ok());
  }
  ~HandlerServer() { server_->Stop(); }
  HandlerServer(const HandlerServer&) = delete;
  HandlerServer& operator=(const HandlerServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  TokenTable tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace malpro::testing
