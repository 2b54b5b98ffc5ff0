// The log, for auditors: events, streams, the chain's head.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/http_limits.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/json.h"

namespace malpro {
namespace {

HttpResponse EventsResponse(const HttpRequest& request, const std::vector<Event>& events,
                            uint64_t head) {
  JsonWriter w;
  w.BeginObject().Field("head_sequence", static_cast<int64_t>(head)).Key("events").BeginArray();
  for (const Event& event : events) WriteEventJson(w, event, PayloadForm::kEmbedded);
  return Ok(request, w.EndArray().EndObject().Take());
}

}  // namespace

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
    Result<std::vector<Event>> events =
        deps_.log->ReadStream(call.path["stream_id"], *from, *limit);
    if (!events.ok()) return ErrorResponse(call.request, events.status());
    return EventsResponse(call.request, *events, deps_.log->Head().sequence);
  });
  AddRoute(http::verb::post, "/v1/chain/verify", {kAuditor, kAdmin},
           [this](ApiCall& call) { return VerifyChain(call); });
  AddRoute(http::verb::get, "/v1/chain/verification", {kAuditor, kAdmin, kOperator},
           [this](ApiCall& call) {
             std::lock_guard lock(verification_mutex_);
             if (last_verification_.empty()) {
               return ErrorResponse(call.request,
                                    Status::NotFound(errc::kChainVerificationNone, "",
                                                     "the chain was not verified since the "
                                                     "server started: POST /v1/chain/verify"));
             }
             return Ok(call.request, last_verification_);
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

HttpResponse Api::VerifyChain(const ApiCall& call) {
  // One at a time: a second caller waits for nothing and is told so.
  std::unique_lock running(verify_running_, std::try_to_lock);
  if (!running.owns_lock()) {
    return ErrorResponse(call.request,
                         Status::Conflict(errc::kChainVerifyRunning, "",
                                          "a verification of the chain is running; GET "
                                          "/v1/chain/verification when it ends"));
  }
  const int64_t started = WallClockMicros();
  const uint64_t head = deps_.log->Head().sequence;
  Result<VerifyReport> report = deps_.log->Verify(1, head);
  if (!report.ok()) return ErrorResponse(call.request, report.status());
  const int64_t finished = WallClockMicros();
  JsonWriter w;
  w.BeginObject()
      .Field("ok", report->ok)
      .Field("from_sequence", int64_t{1})
      .Field("to_sequence", static_cast<int64_t>(head))
      .Field("events_checked", static_cast<int64_t>(report->events_checked))
      .Key("verified_head")
      .BeginObject()
      .Field("sequence", static_cast<int64_t>(report->verified_head.sequence))
      .Field("hash", HashToHex(report->verified_head.hash))
      .EndObject();
  if (!report->ok) {
    w.Field("first_bad_sequence", static_cast<int64_t>(report->first_bad_sequence))
        .Field("problem", report->problem);
  }
  w.Field("by", call.principal.Actor())
      .Field("started_at", JakartaTimestamp(started))
      .Field("duration_ms", (finished - started) / 1000)
      .EndObject();
  std::string json = w.Take();
  {
    std::lock_guard lock(verification_mutex_);
    last_verification_ = json;
  }
  return Ok(call.request, std::move(json));
}

}  // namespace malpro
