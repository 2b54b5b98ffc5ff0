// What the files of Api (api.cc and api_<resource>.cc) share, and nothing else includes: the
// roles' short names, parsing of targets, the context and answer of a command, ownership
// checks, and query parameters. Defined in api.cc.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "adapters/http/api.h"

namespace malpro {

struct ListPage;

inline constexpr Role kAsn = Role::kAsn;
inline constexpr Role kMerchant = Role::kMerchant;
inline constexpr Role kOperator = Role::kOperator;
inline constexpr Role kAuditor = Role::kAuditor;
inline constexpr Role kAdmin = Role::kAdmin;

// Splits a request target into its path and its decoded ?a=b&c=d parameters.
void SplitTarget(std::string_view target, std::string_view* path,
                 std::map<std::string, std::string>* query);

// 200 with a JSON body.
HttpResponse Ok(const HttpRequest& request, std::string body);

// Idempotency-Key, If-Match and, with a key, the request digest (method, target and body).
Result<CommandContext> ContextOf(const ApiCall& call);

// 201 for a command that created its stream, else 200; ETag is the stream's new version.
// `id_field`, when given, is answered first with `id`.
HttpResponse CommandResponse(const HttpRequest& request, const CommandResult& result,
                             std::string_view id_field = {}, std::string_view id = {});

// Runs a ledger command with the call's context and answers with its result or error; with an
// `id_field`, the id is the stream id after its kind ("order-o-1" -> "o-1").
HttpResponse RunCommand(const ApiCall& call,
                        const std::function<Result<CommandResult>(const CommandContext&)>& run,
                        std::string_view id_field = {});

// Runs a ledger command that takes a body of only {"reason": ...}: a body error is answered
// before anything runs, else as RunCommand.
HttpResponse RunReasonCommand(
    const ApiCall& call,
    const std::function<Result<CommandResult>(const std::string& reason, const CommandContext&)>&
        run);

// Adds "key":value at the end of a JSON object answered in `response` (a command's fields,
// then its details).
void AppendBodyField(HttpResponse& response, std::string_view key, std::string_view json_value);

// The asn role acts for its own NIP only; the merchant role for its own UMKM only.
Status CheckOwnNip(const ApiCall& call, std::string_view nip);
Status CheckOwnUmkm(const ApiCall& call, std::string_view umkm_id);

// The order, if the caller may see or act on it: its buyer (asn), its seller (merchant), or
// any operator, auditor or admin.
Result<OrderState> LoadOwnOrder(Ledger& ledger, const ApiCall& call, const std::string& order_id);

// A query parameter: absent is `fallback`; else a whole number up to `maximum`, or
// query_invalid naming it.
Result<uint64_t> QueryNumber(const ApiCall& call, const std::string& name, uint64_t fallback,
                             uint64_t maximum);
// A page of a listing: ?offset= (0 to http_page_offset_max, default 0) and ?limit= (up to
// PageLimitMax, default http_page_limit_default); query_invalid naming the bad one.
struct PageQuery {
  uint64_t offset = 0;
  uint64_t limit = 0;
};
Result<PageQuery> QueryPage(const ApiCall& call);
// A query parameter's text; "" when absent.
std::string QueryText(const ApiCall& call, const std::string& name);
// A page of a work list (projections/work_lists.h), defined in api_read_models.cc:
// ?cursor= (the `next` of an earlier page of `list`: query_cursor_invalid otherwise),
// ?limit= (1 to PageLimitMax, default http_page_limit_default) and ?sort= (`oldest` or
// `newest`; `newest_first_by_default` says which when absent); query_invalid naming the bad one.
Status QueryListPage(const ApiCall& call, char list, bool newest_first_by_default, ListPage* page);
// The largest ?limit= of a page (api_read_models.cc): http_page_limit_max for a JSON answer,
// http_csv_limit_max when the request asks for CSV (format=csv, or Accept: text/csv without a
// format=) or names a format ReadModel will refuse.
uint64_t PageLimitMax(const ApiCall& call);
// A ?kecamatan= or ?kelurahan= filter of a read (api_read_models.cc): the place's name as the
// city's geography writes it, whatever the letter case of `text`; kecamatan_unknown or
// kelurahan_unknown naming `field` and the value when the city has no such place.
Result<std::string> QueryKecamatan(const Geography& geography, const std::string& text,
                                   std::string_view field);
Result<std::string> QueryKelurahan(const Geography& geography, const std::string& text,
                                   std::string_view field);
// The owner filters of a work list: an asn token lists its own NIP (`*nip`, the parameter
// `nip_field`), a merchant token its own UMKM (`*umkm_id`, may be nullptr when the list has no
// such filter); one that names another is forbidden. Malformed ones are query_invalid.
Status OwnListFilters(const ApiCall& call, std::string_view nip_field, std::string* nip,
                      std::string* umkm_id);
// The party filters of the orders and payments work lists: ?buyer_nip=, ?umkm_id= and ?status=
// read into the three, the first two checked as OwnListFilters does (status is the caller's to
// check against its list's statuses).
Status PartyListFilters(const ApiCall& call, std::string* buyer_nip, std::string* umkm_id,
                        std::string* status);
// A malformed date or month in the path or query is a malformed request: query_invalid (400).
Status CheckDate(const std::string& text, std::string_view field);
Status CheckMonthParameter(const std::string& text);
// Two dates already checked by CheckDate: date_range_invalid (422) naming `from` when it is
// after `to` (api_merchants.cc).
Status CheckDateRange(const std::string& from, const std::string& to);

}  // namespace malpro

// Refuses a body error before running anything.
#define MALPRO_BODY_OR_RETURN(body, call)                                             \
  do {                                                                                \
    if (!(body).status().ok()) return ErrorResponse((call).request, (body).status()); \
  } while (false)

#define MALPRO_CHECK_OR_RETURN(expression, call)                                  \
  do {                                                                            \
    ::malpro::Status malpro_check_ = (expression);                                \
    if (!malpro_check_.ok()) return ErrorResponse((call).request, malpro_check_); \
  } while (false)
