// SynchronousHandler: another handler's answers to writes, held back until what they wrote is
// confirmed elsewhere: kafka.synchronous, where the Kafka cluster must have acknowledged every
// event up to the write's (docs/replication.md, "Synchronous mode"). A write answered 2xx, or
// one whose answer names its last event (Malpro-Sequence), waits for that sequence, or for the
// log's head when it names none (the bank's notifications). When the confirmation fails or
// does not come in time, the answer is that error instead (503 kafka_not_acknowledged or
// kafka_relay_fenced): the events are in the local log, and a retry with the same
// Idempotency-Key answers the same result once confirmed. Reads and quick requests pass as
// they are.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "adapters/http/http_handler.h"
#include "engine/event_log.h"

namespace malpro {

class SynchronousHandler final : public HttpHandler {
 public:
  // Calls `done` exactly once, from any thread, when `sequence` is confirmed (OK), or with why
  // not once `deadline` passed or it never will be.
  using Confirm =
      std::function<void(uint64_t sequence, std::chrono::steady_clock::time_point deadline,
                         std::function<void(Status)> done)>;

  // `inner` and `log` must outlive this handler.
  SynchronousHandler(HttpHandler* inner, const EventLog* log, Confirm confirm,
                     std::chrono::milliseconds timeout);

  HttpResponse Handle(const HttpRequest& request,
                      std::chrono::steady_clock::time_point read_deadline) override;
  bool HandleAsync(std::shared_ptr<const HttpRequest> request,
                   std::function<void(MakeResponse)> respond,
                   std::function<void(std::function<void()>)> defer) override;

  size_t BodyLimitFor(http::verb method, std::string_view target) const override;
  std::string RouteLabel(http::verb method, std::string_view target) const override;
  std::vector<std::string> RouteLabels() const override;
  bool IsQuick(const HttpRequest& request) const override;
  std::optional<ReadWait> ReadWaitOf(const HttpRequest& request) const override;
  uint64_t ReadModelsApplied() const override;
  std::vector<std::pair<std::string, std::string>> CorsHeaders(
      std::string_view origin) const override;
  bool IsSubscription(const HttpRequest& request) const override;
  Result<Subscription> OpenSubscription(const HttpRequest& request, HttpResponse* refusal) override;

 private:
  // The sequence `response` must wait for; 0 when it waits for nothing.
  uint64_t SequenceToConfirm(const HttpRequest& request, const HttpResponse& response) const;

  HttpHandler* const inner_;
  const EventLog* const log_;
  const Confirm confirm_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace malpro
