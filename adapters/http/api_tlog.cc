// The Merkle tree of the log as C2SP tlog-tiles serves it (docs/transparency.md, "Tiles"):
// public, since a tile holds hashes only, and immutable, so any cache may keep it. And its
// signed checkpoints: the latest (C2SP tlog-checkpoint), and the list kept.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_store.h"

namespace malpro {

namespace {

// Checkpoints in one page of GET /tlog/checkpoints at most, and by default.
constexpr uint64_t checkpoints_page_max = 1000;
constexpr uint64_t checkpoints_page_default = 100;

HttpResponse TextAnswer(const HttpRequest& request, std::string body, std::string_view type,
                        std::string_view cache) {
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, cache);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Status CheckpointsOff() {
  return Status::Unavailable(errc::kCheckpointsOff,
                             "this process signs no checkpoints ([transparency] private_key_file)");
}

}  // namespace

void Api::AddTlogRoutes() {
  AddRoute(http::verb::get, "/tlog/checkpoint", {}, [this](ApiCall& call) {
    if (deps_.checkpoints == nullptr) return ErrorResponse(call.request, CheckpointsOff());
    std::optional<StoredCheckpoint> latest = deps_.checkpoints->Latest();
    if (!latest) {
      return ErrorResponse(call.request,
                           Status::NotFound(errc::kCheckpointNone, "checkpoint",
                                            "no checkpoint has been signed yet"));
    }
    return TextAnswer(call.request, std::move(latest->note), "text/plain; charset=utf-8",
                      "no-cache");
  });
  AddRoute(http::verb::get, "/tlog/checkpoints", {}, [this](ApiCall& call) {
    if (deps_.checkpoints == nullptr || deps_.tlog == nullptr) {
      return ErrorResponse(call.request, CheckpointsOff());
    }
    Result<uint64_t> after = QueryNumber(call, "after_size", 0, UINT64_MAX - 1);
    if (!after.ok()) return ErrorResponse(call.request, after.status());
    Result<uint64_t> limit =
        QueryNumber(call, "limit", checkpoints_page_default, checkpoints_page_max);
    if (!limit.ok()) return ErrorResponse(call.request, limit.status());
    const std::string kind = QueryText(call, "kind");
    if (!kind.empty() && kind != checkpoint_reason_settlement &&
        kind != checkpoint_reason_month_end) {
      return ErrorResponse(call.request,
                           Status::InvalidArgument(errc::kQueryInvalid, "kind",
                                                   "kind must be settlement or month-end"));
    }
    Result<std::vector<StoredCheckpoint>> page =
        deps_.tlog->Checkpoints(*after, std::max<uint64_t>(*limit, 1), kind);
    if (!page.ok()) return ErrorResponse(call.request, page.status());
    JsonWriter writer;
    writer.BeginObject().Key("checkpoints").BeginArray();
    for (const StoredCheckpoint& checkpoint : *page) {
      writer.BeginObject()
          .Field("size", static_cast<int64_t>(checkpoint.size))
          .Field("issued_at_us", checkpoint.issued_at_us)
          .Key("reasons")
          .BeginArray();
      for (const std::string& reason : checkpoint.reasons) writer.String(reason);
      writer.EndArray().Field("note", checkpoint.note).EndObject();
    }
    writer.EndArray();
    if (page->size() == std::max<uint64_t>(*limit, 1)) {
      writer.Field("next_after_size", static_cast<int64_t>(page->back().size));
    } else {
      writer.Key("next_after_size").Null();
    }
    writer.Field("key", deps_.checkpoints->verifier().Text());
    return Ok(call.request, writer.EndObject().Take());
  });

  AddRoute(http::verb::get, "/tlog/tile/{path*}", {}, [this](ApiCall& call) {
    if (deps_.tlog == nullptr) {
      return ErrorResponse(
          call.request,
          Status::Unavailable(errc::kTlogOff, "this process keeps no Merkle tree of the log"));
    }
    Result<TileId> tile = ParseTilePath("tile/" + call.path["path"]);
    if (!tile.ok()) return ErrorResponse(call.request, tile.status());
    Result<std::string> bytes = tile->level == tile_level_entries
                                    ? EntryBundle(*deps_.log, *deps_.tlog, *tile)
                                    : deps_.tlog->Tile(*tile);
    if (!bytes.ok()) return ErrorResponse(call.request, bytes.status());
    return TextAnswer(call.request, std::move(bytes).value(), "application/octet-stream",
                      "public, max-age=31536000, immutable");
  });
}

}  // namespace malpro
