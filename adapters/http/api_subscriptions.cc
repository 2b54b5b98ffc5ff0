// Live subscriptions (Server-Sent Events): the log's events and the read models' row changes.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/http_limits.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "projections/projector.h"

namespace malpro {

bool Api::IsSubscription(const HttpRequest& request) const {
  return request.method() == http::verb::get && request.target().starts_with("/v1/subscribe/");
}

Result<Subscription> Api::OpenSubscription(const HttpRequest& request, HttpResponse* refusal) {
  std::string_view path;
  std::map<std::string, std::string> query;
  SplitTarget(request.target(), &path, &query);
  auto refuse = [&](const Status& status) -> Result<Subscription> {
    *refusal = ErrorResponse(request, status);
    return status;
  };
  if (path != "/v1/subscribe/events" && path != "/v1/subscribe/projections") {
    return refuse(Status::NotFound(errc::kRouteNotFound, "path", "no such subscription"));
  }
  Result<Principal> principal = deps_.tokens->Authenticate(request[http::field::authorization]);
  if (!principal.ok()) return refuse(principal.status());
  if (principal->role != Role::kAuditor && principal->role != Role::kAdmin &&
      principal->role != Role::kOperator) {
    return refuse(Status::PermissionDenied("the " + std::string(RoleName(principal->role)) +
                                           " role may not follow the log"));
  }
  // Resume after ?after=SEQ, or after the Last-Event-ID a reconnecting client sends.
  ApiCall call{request, *principal, {}, std::move(query)};
  const std::string last_event_id(request["Last-Event-ID"]);
  if (!last_event_id.empty() && !call.query.contains("after")) call.query["after"] = last_event_id;
  if (path == "/v1/subscribe/projections") {
    Result<Subscription> subscription = OpenProjectionSubscription(call);
    if (!subscription.ok()) return refuse(subscription.status());
    return subscription;
  }
  Result<uint64_t> after = QueryNumber(call, "after", deps_.log->Head().sequence, UINT64_MAX >> 1);
  if (!after.ok()) return refuse(after.status());
  auto cursor = std::make_shared<uint64_t>(*after);
  EventLog* log = deps_.log;
  return Subscription{[log, cursor]() -> Result<std::string> {
    if (log->Head().sequence <= *cursor) return std::string();
    Result<std::vector<Event>> events = log->Read(*cursor + 1, http_subscription_batch_events);
    if (!events.ok()) return events.status();
    std::string text;
    for (const Event& event : *events) {
      JsonWriter writer;
      WriteEventJson(writer, event, PayloadForm::kEmbedded);
      text += "id: " + std::to_string(event.sequence) + "\nevent: " + event.type +
              "\ndata: " + writer.Take() + "\n\n";
      *cursor = event.sequence;
    }
    return text;
  }};
}

// The answer a GET of the subscription would start with, without its stream.
HttpResponse Api::HeadOfSubscription(const HttpRequest& request) {
  HttpResponse refusal;
  Result<Subscription> subscription = OpenSubscription(request, &refusal);
  if (!subscription.ok()) return refusal;
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/event-stream");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  return response;
}

Result<Subscription> Api::OpenProjectionSubscription(ApiCall& call) {
  if (deps_.projector == nullptr) {
    return Status::Unavailable(errc::kReadModelsOff, "the read models are not running");
  }
  const std::string projection = QueryText(call, "projection");
  if (!projection.empty()) {
    const std::vector<std::string> names = deps_.projector->Names();
    if (std::find(names.begin(), names.end(), projection) == names.end()) {
      return Status::InvalidArgument(errc::kQueryInvalid, "projection",
                                     "projection must be one of catalog, asn_spend, "
                                     "merchant_sales, circulation, log_stats, exceptions, "
                                     "work_lists");
    }
  }
  const bool resume = call.query.contains("after");
  Result<uint64_t> after = QueryNumber(call, "after", 0, UINT64_MAX >> 1);
  if (!after.ok()) return after.status();
  // A subscriber without a position, or one older than the changes kept, first gets every
  // row (event "row") as of a position, then the changes after it.
  struct Cursor {
    uint64_t position = 0;
    bool snapshot_due = false;
  };
  auto cursor = std::make_shared<Cursor>(Cursor{*after, !resume});
  Projector* projector = deps_.projector;
  auto row_event = [](uint64_t id, const RowChange& row) {
    JsonWriter writer;
    writer.BeginObject()
        .Field("projection", row.projection)
        .Field("key", row.key)
        .Key("value")
        .Raw(row.value)
        .EndObject();
    return "id: " + std::to_string(id) + "\nevent: row\ndata: " + writer.Take() + "\n\n";
  };
  return Subscription{[projector, cursor, projection, row_event]() -> Result<std::string> {
    std::string text;
    if (!cursor->snapshot_due) {
      ChangePage page =
          projector->ChangesAfter(cursor->position, projection, http_subscription_batch_events);
      if (page.reset) {
        cursor->snapshot_due = true;
      } else {
        for (const ChangePage::Change& change : page.changes) {
          text += row_event(change.sequence, change.row);
        }
        if (page.changes.empty() && page.position > cursor->position) {
          // Nothing of this projection changed: move the position on without a row.
          text += "id: " + std::to_string(page.position) + "\nevent: position\ndata: {}\n\n";
        }
        cursor->position = page.position;
        return text;
      }
    }
    auto [rows, position] = projector->Snapshot(projection);
    text += "event: snapshot\ndata: {\"position\":" + std::to_string(position) +
            ",\"rows\":" + std::to_string(rows.size()) + "}\n\n";
    for (const RowChange& row : rows) text += row_event(position, row);
    cursor->position = position;
    cursor->snapshot_due = false;
    return text;
  }};
}

}  // namespace malpro
