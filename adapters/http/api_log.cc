// The log, for auditors: events, streams, the chain's head.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/http_limits.h"
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

}  // namespace malpro
