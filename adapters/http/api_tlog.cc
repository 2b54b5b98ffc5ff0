// The Merkle tree of the log as C2SP tlog-tiles serves it (docs/transparency.md, "Tiles"):
// public, since a tile holds hashes only, and immutable, so any cache may keep it.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "engine/error_codes.h"
#include "engine/tlog_store.h"

namespace malpro {

void Api::AddTlogRoutes() {
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
    HttpResponse response{http::status::ok, call.request.version()};
    response.set(http::field::content_type, "application/octet-stream");
    response.set(http::field::cache_control, "public, max-age=31536000, immutable");
    response.keep_alive(call.request.keep_alive());
    response.body() = std::move(bytes).value();
    response.prepare_payload();
    return response;
  });
}

}  // namespace malpro
