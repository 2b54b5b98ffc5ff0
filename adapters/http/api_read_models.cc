// Reads served from the read models (projections/), which wait for ?after=SEQ, as JSON or,
// where the route has a table for it (csv_views.h), as CSV.
#include <boost/beast/core/string.hpp>

#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/csv_views.h"
#include "adapters/http/http_limits.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "projections/projector.h"

namespace malpro {
namespace {

// A malformed query parameter is a malformed request (400).
Status AsQueryInvalid(const Status& status) {
  if (status.ok()) return status;
  return Status::InvalidArgument(errc::kQueryInvalid, status.field(), status.message());
}

// The format the call asks for (RequestedFormat): format= wins over Accept.
Result<AnswerFormat> FormatOf(const ApiCall& call) {
  const auto format = call.query.find("format");
  return RequestedFormat(format == call.query.end() ? nullptr : &format->second,
                         call.request[http::field::accept]);
}

// A CSV answer: the file, its name, and the paging the JSON would have carried in its body.
HttpResponse CsvResponse(const ApiCall& call, const CsvView& view, CsvAnswer answer) {
  HttpResponse response{http::status::ok, call.request.version()};
  response.set(http::field::content_type, "text/csv; charset=utf-8; header=present");
  response.set(http::field::content_disposition,
               "attachment; filename=\"" + CsvFileName(view, call.path, call.query) + "\"");
  response.set(http::field::cache_control, "no-store");
  if (answer.next_cursor) response.set("X-Next-Cursor", *answer.next_cursor);
  if (answer.total) response.set("X-Total-Count", std::to_string(*answer.total));
  response.keep_alive(call.request.keep_alive());
  response.body() = std::move(answer.text);
  response.prepare_payload();
  return response;
}

// `text` quoted for a message, cut to a place name's length.
std::string QuotedPlace(const std::string& text) {
  if (text.size() <= geography_name_bytes_max) return "\"" + text + "\"";
  return "\"" + text.substr(0, geography_name_bytes_max) + "...\"";
}

}  // namespace

uint64_t PageLimitMax(const ApiCall& call) {
  const Result<AnswerFormat> format = FormatOf(call);
  return !format.ok() || *format == AnswerFormat::kCsv ? http_csv_limit_max : http_page_limit_max;
}

Result<std::string> QueryKecamatan(const Geography& geography, const std::string& text,
                                   std::string_view field) {
  for (const Kecamatan& kecamatan : geography.kecamatan()) {
    if (boost::beast::iequals(kecamatan.name, text)) return kecamatan.name;
  }
  return Status::InvalidArgument(
      errc::kKecamatanUnknown, field,
      std::string(field) + ": " + QuotedPlace(text) + " is not a kecamatan of Kota Malang");
}

Result<std::string> QueryKelurahan(const Geography& geography, const std::string& text,
                                   std::string_view field) {
  for (const Kecamatan& kecamatan : geography.kecamatan()) {
    for (const std::string& kelurahan : kecamatan.kelurahan) {
      if (boost::beast::iequals(kelurahan, text)) return kelurahan;
    }
  }
  return Status::InvalidArgument(
      errc::kKelurahanUnknown, field,
      std::string(field) + ": " + QuotedPlace(text) + " is not a kelurahan of Kota Malang");
}

Status QueryListPage(const ApiCall& call, char list, bool newest_first_by_default, ListPage* page) {
  const uint64_t limit_max = PageLimitMax(call);
  Result<uint64_t> limit = QueryNumber(call, "limit", http_page_limit_default, limit_max);
  if (!limit.ok()) return limit.status();
  if (*limit == 0) {
    return Status::InvalidArgument(
        errc::kQueryInvalid, "limit",
        "limit must be a whole number from 1 to " + std::to_string(limit_max));
  }
  page->limit = *limit;
  const std::string sort = QueryText(call, "sort");
  if (!sort.empty() && sort != "oldest" && sort != "newest") {
    return Status::InvalidArgument(errc::kQueryInvalid, "sort", "sort must be oldest or newest");
  }
  page->newest_first = sort.empty() ? newest_first_by_default : sort == "newest";
  if (call.query.contains("cursor")) {
    Result<ListPosition> after = ParseCursor(QueryText(call, "cursor"), list);
    if (!after.ok()) return after.status();
    page->after = *after;
  }
  return Status::Ok();
}

Status OwnListFilters(const ApiCall& call, std::string_view nip_field, std::string* nip,
                      std::string* umkm_id) {
  if (call.principal.role == kAsn && nip->empty()) *nip = call.principal.subject;
  if (call.principal.role == kMerchant && umkm_id != nullptr && umkm_id->empty()) {
    *umkm_id = call.principal.subject;
  }
  MALPRO_RETURN_IF_ERROR(CheckOwnNip(call, *nip));
  if (umkm_id != nullptr) MALPRO_RETURN_IF_ERROR(CheckOwnUmkm(call, *umkm_id));
  if (!nip->empty()) MALPRO_RETURN_IF_ERROR(AsQueryInvalid(ParseNip(*nip, nip_field).status()));
  if (umkm_id != nullptr && !umkm_id->empty()) {
    MALPRO_RETURN_IF_ERROR(AsQueryInvalid(CheckEntityId(*umkm_id, "umkm_id")));
  }
  return Status::Ok();
}

Status PartyListFilters(const ApiCall& call, std::string* buyer_nip, std::string* umkm_id,
                        std::string* status) {
  *buyer_nip = QueryText(call, "buyer_nip");
  *umkm_id = QueryText(call, "umkm_id");
  *status = QueryText(call, "status");
  return OwnListFilters(call, "buyer_nip", buyer_nip, umkm_id);
}

HttpResponse Api::ReadModel(ApiCall& call, const std::function<Result<std::string>()>& query,
                            const CsvView* csv) {
  Result<AnswerFormat> format = FormatOf(call);
  MALPRO_CHECK_OR_RETURN(format.status(), call);
  // Accept: text/csv is a preference, answered with JSON here; format=csv is a demand.
  if (csv == nullptr && *format == AnswerFormat::kCsv && call.query.contains("format")) {
    return ErrorResponse(call.request,
                         Status::InvalidArgument(errc::kQueryInvalid, "format",
                                                 "this route answers JSON only; leave format "
                                                 "out or give format=json"));
  }
  if (deps_.projector == nullptr) {
    return ErrorResponse(
        call.request, Status::Unavailable(errc::kReadModelsOff, "the read models are not running"));
  }
  Result<uint64_t> after = QueryNumber(call, "after", 0, UINT64_MAX >> 1);
  MALPRO_CHECK_OR_RETURN(after.status(), call);
  // The server has usually waited already (ReadWaitOf) and the wait here returns at once.
  const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      call.read_deadline - std::chrono::steady_clock::now());
  if (*after > 0 &&
      !deps_.projector->WaitForApplied(*after, std::max(remaining, std::chrono::milliseconds(0)))) {
    return ErrorResponse(call.request, ReadModelsBehind(*after));
  }
  const uint64_t applied = deps_.projector->Applied();
  Result<std::string> body = query();
  MALPRO_CHECK_OR_RETURN(body.status(), call);
  HttpResponse response;
  if (csv != nullptr && *format == AnswerFormat::kCsv) {
    Result<CsvAnswer> answer = JsonToCsv(*body, *csv);
    MALPRO_CHECK_OR_RETURN(answer.status(), call);
    response = CsvResponse(call, *csv, std::move(answer).value());
  } else {
    response = Ok(call.request, std::move(body).value());
  }
  response.set("X-Applied-Sequence", std::to_string(applied));
  return response;
}

// What the ASN browse: verified merchants and their listed products.
void Api::AddCatalogRoutes() {
  const std::set<Role> everyone = {kAsn, kMerchant, kOperator, kAuditor, kAdmin};
  AddRoute(http::verb::get, "/v1/catalog", everyone, [this](ApiCall& call) {
    CatalogQuery query;
    query.category = QueryText(call, "category");
    if (!QueryText(call, "kecamatan").empty()) {  // in any letter case, as the city writes it
      Result<std::string> kecamatan =
          QueryKecamatan(deps_.ledger->geography(), QueryText(call, "kecamatan"), "kecamatan");
      MALPRO_CHECK_OR_RETURN(kecamatan.status(), call);
      query.kecamatan = std::move(kecamatan).value();
    }
    query.search = QueryText(call, "q");
    Result<PageQuery> page = QueryPage(call);
    MALPRO_CHECK_OR_RETURN(page.status(), call);
    query.offset = page->offset;
    query.limit = page->limit;
    return ReadModel(
        call, [&]() -> Result<std::string> { return deps_.projector->Catalog(query); },
        &csv_catalog);
  });
  AddRoute(http::verb::get, "/v1/catalog/{umkm_id}", everyone, [this](ApiCall& call) {
    return ReadModel(call, [&] { return deps_.projector->Merchant(call.path["umkm_id"]); });
  });
}

void Api::AddReadModelRoutes() {
  AddCatalogRoutes();
  AddRoute(http::verb::get, "/v1/umkm/{umkm_id}/sales", {kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
             const std::string from = QueryText(call, "from");
             const std::string to = QueryText(call, "to");
             MALPRO_CHECK_OR_RETURN(CheckDate(from, "from"), call);
             MALPRO_CHECK_OR_RETURN(CheckDate(to, "to"), call);
             MALPRO_CHECK_OR_RETURN(CheckDateRange(from, to), call);
             return ReadModel(
                 call,
                 [&]() -> Result<std::string> {
                   return deps_.projector->MerchantSales(call.path["umkm_id"], from, to);
                 },
                 &csv_sales);
           });
  AddRoute(http::verb::get, "/v1/umkm/{umkm_id}/outstanding",
           {kMerchant, kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
             return ReadModel(
                 call,
                 [&]() -> Result<std::string> {
                   return deps_.projector->Outstanding(call.path["umkm_id"]);
                 },
                 &csv_merchant_outstanding);
           });
  AddRoute(http::verb::get, "/v1/settlement/outstanding", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             return ReadModel(
                 call, [&]() -> Result<std::string> { return deps_.projector->Outstanding(""); },
                 &csv_outstanding);
           });
  AddRoute(http::verb::get, "/v1/circulation/{month}", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckMonthParameter(call.path["month"]), call);
             return ReadModel(call, [&]() -> Result<std::string> {
               return deps_.projector->Circulation(call.path["month"]);
             });
           });
  AddDigestRoute();
  AddRoute(http::verb::get, "/v1/stats", {kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    return ReadModel(call, [&]() -> Result<std::string> { return deps_.projector->LogStats(); });
  });
  // Money the bank moved that counts toward nothing, and what the operator does with it.
  AddRoute(http::verb::get, "/v1/exceptions", {kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
    std::string status = QueryText(call, "status");
    if (status.empty()) status = "open";
    MALPRO_CHECK_OR_RETURN(CheckOneOf(status, "status", errc::kQueryStatusUnknown,
                                      std::array<std::string_view, 3>{"open", "resolved", "all"}),
                           call);
    ListPage page;
    MALPRO_CHECK_OR_RETURN(QueryListPage(call, list_exceptions, false, &page), call);
    return ReadModel(
        call, [&]() -> Result<std::string> { return deps_.projector->Exceptions(status, page); },
        &csv_exceptions);
  });
  AddSpendRoutes();
  AddDayCloseRoutes();
  // After GET /v1/settlement/outstanding, which GET /v1/settlement/{date} must not catch.
  AddOrderListRoutes();
  AddPaymentListRoutes();
  AddReceiptListRoutes();
  AddSettlementListRoutes();
  AddReconciliationListRoutes();
}

void Api::AddDigestRoute() {
  // What each read model stores, as a digest: equal on a primary and its replicas at the
  // same sequence (docs/replication.md).
  AddRoute(http::verb::get, "/v1/read-models/digests", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             return ReadModel(call, [&]() -> Result<std::string> {
               Result<std::vector<ProjectionDigest>> digests = deps_.projector->Digests();
               if (!digests.ok()) return digests.status();
               JsonWriter w;
               w.BeginObject().Key("read_models").BeginArray();
               for (const ProjectionDigest& digest : *digests) {
                 w.BeginObject()
                     .Field("name", digest.name)
                     .Field("version", static_cast<int64_t>(digest.version))
                     .Field("sequence", static_cast<int64_t>(digest.sequence))
                     .Field("rows", static_cast<int64_t>(digest.rows))
                     .Field("sha256", digest.sha256)
                     .EndObject();
               }
               return w.EndArray().EndObject().Take();
             });
           });
}

}  // namespace malpro
