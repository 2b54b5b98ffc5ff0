// The Merkle tree of the log as C2SP tlog-tiles serves it (docs/transparency.md, "Tiles"):
// public, since a tile holds hashes only, and immutable, so any cache may keep it. And its
// signed checkpoints: the latest (C2SP tlog-checkpoint), and the list kept.
#include <algorithm>
#include <charconv>

#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "engine/aggregates.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_proofs.h"
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
      return ErrorResponse(call.request, Status::NotFound(errc::kCheckpointNone, "checkpoint",
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

namespace {

// The kept checkpoint named by the query parameter `name`, or the latest when it is absent.
Result<StoredCheckpoint> QueriedCheckpoint(const ApiCall& call, const TlogStore& store,
                                           const CheckpointIssuer& issuer,
                                           const std::string& name) {
  if (QueryText(call, name).empty()) {
    std::optional<StoredCheckpoint> latest = issuer.Latest();
    if (!latest) {
      return Status::Conflict(errc::kProofPending, name,
                              "no checkpoint has been signed yet: ask again in a few seconds");
    }
    return *latest;
  }
  Result<uint64_t> size = QueryNumber(call, name, 0, UINT64_MAX - 1);
  if (!size.ok()) return size.status();
  Result<std::optional<StoredCheckpoint>> kept = store.CheckpointAt(*size);
  if (!kept.ok()) return kept.status();
  if (!kept->has_value()) {
    return Status::NotFound(errc::kCheckpointNone, name,
                            "no checkpoint of size " + std::to_string(*size) +
                                " is kept (GET /tlog/checkpoints lists them)");
  }
  return std::move(**kept);
}

// A bundle against a checkpoint named by size never changes; one against "the latest" does.
HttpResponse ProofFile(const HttpRequest& request, std::string bundle, const std::string& file_name,
                       bool fixed) {
  HttpResponse response =
      TextAnswer(request, std::move(bundle), "text/plain; charset=utf-8",
                 fixed ? "private, max-age=31536000, immutable" : "private, no-cache");
  response.set(http::field::content_disposition,
               "attachment; filename=\"" + file_name + ".tlog-proof\"");
  return response;
}

}  // namespace

HttpResponse Api::InclusionProofAnswer(const ApiCall& call, std::vector<uint64_t> sequences,
                                       const std::string& file_name) const {
  if (deps_.checkpoints == nullptr || deps_.tlog == nullptr) {
    return ErrorResponse(call.request, CheckpointsOff());
  }
  std::sort(sequences.begin(), sequences.end());
  sequences.erase(std::unique(sequences.begin(), sequences.end()), sequences.end());
  Result<StoredCheckpoint> checkpoint =
      QueriedCheckpoint(call, *deps_.tlog, *deps_.checkpoints, "checkpoint_size");
  if (!checkpoint.ok()) return ErrorResponse(call.request, checkpoint.status());
  if (!sequences.empty() && sequences.back() > checkpoint->size) {
    return ErrorResponse(
        call.request,
        Status::Conflict(errc::kProofPending, "checkpoint_size",
                         "event " + std::to_string(sequences.back()) +
                             " is not in a signed checkpoint yet (it covers " +
                             std::to_string(checkpoint->size) +
                             " events): ask again after the next one, in a few seconds"));
  }
  Result<InclusionBundle> bundle =
      MakeInclusionBundle(*deps_.log, *deps_.tlog, sequences, *checkpoint);
  if (!bundle.ok()) return ErrorResponse(call.request, bundle.status());
  return ProofFile(call.request, InclusionBundleText(*bundle), file_name,
                   !QueryText(call, "checkpoint_size").empty());
}

void Api::AddProofRoutes() {
  AddRoute(
      http::verb::get, "/v1/events/{sequence}/proof", {kAuditor, kAdmin}, [this](ApiCall& call) {
        const std::string& text = call.path["sequence"];
        uint64_t sequence = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), sequence);
        if (error != std::errc() || end != text.data() + text.size() || sequence == 0 ||
            sequence > deps_.log->Head().sequence) {
          return ErrorResponse(
              call.request, Status::NotFound(errc::kEventNotFound, "sequence",
                                             "no event " + call.path["sequence"] + " in the log"));
        }
        return InclusionProofAnswer(call, {sequence}, "event-" + text);
      });
  AddRoute(http::verb::get, "/v1/orders/{order_id}/proof",
           {kAsn, kMerchant, kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
             const std::string& id = call.path["order_id"];
             Result<OrderState> order = LoadOwnOrder(*deps_.ledger, call, id);
             if (!order.ok()) return ErrorResponse(call.request, order.status());
             std::vector<uint64_t> sequences;
             for (const std::string& stream : {OrderStream(id), PaymentStream(id)}) {
               Result<std::vector<Event>> events =
                   deps_.log->ReadStream(stream, 1, proof_events_max);
               if (!events.ok()) return ErrorResponse(call.request, events.status());
               for (const Event& event : *events) sequences.push_back(event.sequence);
             }
             return InclusionProofAnswer(call, std::move(sequences), "order-" + id);
           });
  AddRoute(http::verb::get, "/v1/receipts/{receipt_id}/proof", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             const std::string& id = call.path["receipt_id"];
             Result<ReceiptState> receipt = deps_.ledger->LoadReceipt(id);
             if (!receipt.ok()) return ErrorResponse(call.request, receipt.status());
             MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, receipt->nip), call);
             Result<std::vector<Event>> events =
                 deps_.log->ReadStream(ReceiptStream(id), 1, proof_events_max);
             if (!events.ok()) return ErrorResponse(call.request, events.status());
             std::vector<uint64_t> sequences;
             for (const Event& event : *events) sequences.push_back(event.sequence);
             return InclusionProofAnswer(call, std::move(sequences), "receipt-" + id);
           });
  AddRoute(http::verb::get, "/tlog/proof/consistency", {}, [this](ApiCall& call) {
    if (deps_.checkpoints == nullptr || deps_.tlog == nullptr) {
      return ErrorResponse(call.request, CheckpointsOff());
    }
    if (QueryText(call, "old_size").empty()) {
      return ErrorResponse(call.request, Status::InvalidArgument(errc::kQueryInvalid, "old_size",
                                                                 "old_size is required"));
    }
    Result<StoredCheckpoint> older =
        QueriedCheckpoint(call, *deps_.tlog, *deps_.checkpoints, "old_size");
    if (!older.ok()) return ErrorResponse(call.request, older.status());
    Result<StoredCheckpoint> newer =
        QueriedCheckpoint(call, *deps_.tlog, *deps_.checkpoints, "new_size");
    if (!newer.ok()) return ErrorResponse(call.request, newer.status());
    Result<ConsistencyBundle> bundle = MakeConsistencyBundle(*deps_.tlog, *older, *newer);
    if (!bundle.ok()) return ErrorResponse(call.request, bundle.status());
    return ProofFile(
        call.request, ConsistencyBundleText(*bundle),
        "consistency-" + std::to_string(older->size) + "-" + std::to_string(newer->size),
        !QueryText(call, "new_size").empty());
  });
}

}  // namespace malpro
