// Live subscriptions (Server-Sent Events): the log's events and the read models' row changes.
#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

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
  Result<Principal> principal = Authenticate(request);
  if (!principal.ok()) return refuse(principal.status());
  if (principal->role != Role::kAuditor && principal->role != Role::kAdmin &&
      principal->role != Role::kOperator) {
    return refuse(Status::PermissionDenied("the " + std::string(RoleName(principal->role)) +
                                           " role may not follow the log"));
  }
  // Resume after the Last-Event-ID a reconnecting client sends, else after ?after=: an
  // EventSource reconnects to the same URL, so its ?after= is older than its last id.
  ApiCall call{request, *principal, {}, std::move(query)};
  const std::string last_event_id(request["Last-Event-ID"]);
  if (!last_event_id.empty()) call.query["after"] = last_event_id;
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

namespace {

// A row's place in a snapshot: rows are sent in (projection, key) order.
struct RowPlace {
  std::string projection;
  std::string key;
  bool operator<=(const RowPlace& other) const {
    return std::tie(projection, key) <= std::tie(other.projection, other.key);
  }
};

bool RowBefore(const RowChange& a, const RowChange& b) {
  return std::tie(a.projection, a.key) < std::tie(b.projection, b.key);
}

// A key as it goes into an event id: bytes outside printable ASCII, and '%', as %XX.
std::string EncodeIdKey(std::string_view key) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '%') {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> DecodeIdKey(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexDigitValue(text[i + 1]);
    const int low = HexDigitValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// Where a subscriber resumes: after the changes to `position`, or, inside the snapshot as of
// `position`, after the row at `last` (an id "POSITION:PROJECTION:KEY"; "POSITION:" when no
// row of it was delivered yet).
struct ResumePoint {
  uint64_t position = 0;
  bool inside_snapshot = false;
  RowPlace last;
};

Result<ResumePoint> ParseResumePoint(const std::string& text) {
  const Status invalid = Status::InvalidArgument(
      errc::kQueryInvalid, "after",
      "after (or Last-Event-ID) must be an id this subscription sent: a position, or "
      "POSITION:PROJECTION:KEY inside a snapshot");
  ResumePoint point;
  const size_t colon = text.find(':');
  const std::string number = text.substr(0, colon);
  if (number.empty() || number.size() > 18 ||
      number.find_first_not_of("0123456789") != std::string::npos) {
    return invalid;
  }
  point.position = std::stoull(number);
  if (colon == std::string::npos) return point;
  point.inside_snapshot = true;
  const std::string_view rest = std::string_view(text).substr(colon + 1);
  if (rest.empty()) return point;
  const size_t second = rest.find(':');
  if (second == std::string_view::npos) return invalid;
  std::optional<std::string> key = DecodeIdKey(rest.substr(second + 1));
  if (!key) return invalid;
  point.last = RowPlace{std::string(rest.substr(0, second)), std::move(*key)};
  return point;
}

std::string RowEvent(std::string_view id, const RowChange& row) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("projection", row.projection)
      .Field("key", row.key)
      .Key("value")
      .Raw(row.value)
      .EndObject();
  return "id: " + std::string(id) + "\nevent: row\ndata: " + writer.Take() + "\n\n";
}

std::string SnapshotRowId(uint64_t position, const RowChange& row) {
  return std::to_string(position) + ":" + row.projection + ":" + EncodeIdKey(row.key);
}

// The end of a snapshot: from here on, changes after `position`.
std::string PositionEvent(uint64_t position) {
  return "id: " + std::to_string(position) + "\nevent: position\ndata: {}\n\n";
}

// The rows at or before `last` that changed after `from` up to `to`: a subscriber that had
// them as of `from` needs them again. nullopt when those changes are no longer kept.
std::optional<std::set<std::pair<std::string, std::string>>> ChangedUpTo(
    const Projector& projector, const std::string& projection, uint64_t from, uint64_t to,
    const RowPlace& last) {
  std::set<std::pair<std::string, std::string>> changed;
  uint64_t position = from;
  while (position < to) {
    ChangePage page = projector.ChangesAfter(position, projection, 4096);
    if (page.reset) return std::nullopt;
    for (const ChangePage::Change& change : page.changes) {
      if (change.sequence <= to && RowPlace{change.row.projection, change.row.key} <= last) {
        changed.emplace(change.row.projection, change.row.key);
      }
    }
    if (page.position <= position) break;
    position = page.position;
  }
  return changed;
}

// Every row as of now: `event: snapshot` (id "POSITION:"), each row (id
// "POSITION:PROJECTION:KEY") in (projection, key) order, then the position.
std::string FullSnapshot(const Projector& projector, const std::string& projection,
                         uint64_t* position) {
  auto [rows, at] = projector.Snapshot(projection);
  std::sort(rows.begin(), rows.end(), RowBefore);
  std::string text = "id: " + std::to_string(at) +
                     ":\nevent: snapshot\ndata: {\"position\":" + std::to_string(at) +
                     ",\"rows\":" + std::to_string(rows.size()) + "}\n\n";
  for (const RowChange& row : rows) text += RowEvent(SnapshotRowId(at, row), row);
  *position = at;
  return text + PositionEvent(at);
}

// The rest of a snapshot a subscriber had up to `point.last` as of `point.position`: the rows
// it has that changed since (as they are now), then the rows after `point.last`, all as of a
// new snapshot; nullopt when the changes since are no longer kept.
std::optional<std::string> RestOfSnapshot(const Projector& projector, const std::string& projection,
                                          const ResumePoint& point, uint64_t* position) {
  auto [rows, at] = projector.Snapshot(projection);
  std::sort(rows.begin(), rows.end(), RowBefore);
  auto changed = ChangedUpTo(projector, projection, point.position, at, point.last);
  if (!changed) return std::nullopt;
  std::vector<const RowChange*> again;
  std::string rest;
  for (const RowChange& row : rows) {
    if (!(RowPlace{row.projection, row.key} <= point.last)) {
      rest += RowEvent(SnapshotRowId(at, row), row);
    } else if (changed->contains({row.projection, row.key})) {
      again.push_back(&row);
    }
  }
  // Until the last of them is delivered, a subscriber that reconnects still holds the rows
  // as of the old position: they keep its id.
  const std::string last = point.last.projection.empty()
                               ? std::string()
                               : point.last.projection + ":" + EncodeIdKey(point.last.key);
  const std::string old_id = std::to_string(point.position) + ":" + last;
  const std::string new_id = std::to_string(at) + ":" + last;
  std::string text;
  for (size_t i = 0; i < again.size(); ++i) {
    text += RowEvent(i + 1 == again.size() ? new_id : old_id, *again[i]);
  }
  *position = at;
  return text + rest + PositionEvent(at);
}

}  // namespace

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
  // Without a position, a subscriber first gets every row; with one inside a snapshot, the
  // rest of it; with one older than the changes kept, every row again.
  std::optional<ResumePoint> resume;
  if (call.query.contains("after")) {
    Result<ResumePoint> point = ParseResumePoint(call.query["after"]);
    if (!point.ok()) return point.status();
    resume = *point;
  }
  struct Cursor {
    uint64_t position = 0;
    bool snapshot_due = false;
    std::optional<ResumePoint> inside;
  };
  auto cursor = std::make_shared<Cursor>();
  cursor->snapshot_due = !resume.has_value();
  if (resume) cursor->position = resume->position;
  if (resume && resume->inside_snapshot) cursor->inside = resume;
  Projector* projector = deps_.projector;
  return Subscription{[projector, cursor, projection]() -> Result<std::string> {
    if (cursor->inside) {
      std::optional<std::string> rest =
          RestOfSnapshot(*projector, projection, *cursor->inside, &cursor->position);
      cursor->inside.reset();
      if (rest) return std::move(*rest);
      cursor->snapshot_due = true;
    }
    if (!cursor->snapshot_due) {
      ChangePage page =
          projector->ChangesAfter(cursor->position, projection, http_subscription_batch_events);
      if (!page.reset) {
        std::string text;
        for (const ChangePage::Change& change : page.changes) {
          text += RowEvent(std::to_string(change.sequence), change.row);
        }
        if (page.changes.empty() && page.position > cursor->position) {
          text += PositionEvent(page.position);  // nothing of this projection changed
        }
        cursor->position = page.position;
        return text;
      }
    }
    cursor->snapshot_due = false;
    return FullSnapshot(*projector, projection, &cursor->position);
  }};
}

}  // namespace malpro
