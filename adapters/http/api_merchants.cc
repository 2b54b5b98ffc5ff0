// UMKM (merchants) and their products.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/command_bodies.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_body.h"
#include "engine/assert.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"

namespace malpro {

Status CheckDateRange(const std::string& from, const std::string& to) {
  Result<CivilDate> first = ParseIsoDate(from, "from");
  Result<CivilDate> last = ParseIsoDate(to, "to");
  MALPRO_ASSERT(first.ok() && last.ok());  // CheckDate passed both
  if (*last < *first) {
    return Status::InvalidArgument(errc::kDateRangeInvalid, "from",
                                   "from (" + from + ") must not be after to (" + to + ")");
  }
  return Status::Ok();
}

void Api::AddUmkmRoutes() {
  AddRoute(http::verb::post, "/v1/umkm", {kOperator, kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    Result<RegisterUmkm> command = BindRegisterUmkm(body);
    MALPRO_CHECK_OR_RETURN(command.status(), call);
    return RunCommand(
        call, [&](const CommandContext& c) { return deps_.ledger->Register(*command, c); },
        "umkm_id");
  });
  AddRoute(http::verb::get, "/v1/umkm/{umkm_id}", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             Result<UmkmState> umkm = deps_.ledger->LoadUmkm(call.path["umkm_id"]);
             if (!umkm.ok()) return ErrorResponse(call.request, umkm.status());
             const Role role = call.principal.role;
             const bool with_private =
                 (role != Role::kAsn && role != Role::kMerchant) ||
                 (role == Role::kMerchant && call.principal.subject == umkm->umkm_id);
             return Ok(call.request, UmkmJson(*umkm, with_private));
           });
  AddRoute(http::verb::post, "/v1/umkm/{umkm_id}/verify", {kOperator, kAdmin},
           [this](ApiCall& call) {
             return RunCommand(call, [&](const CommandContext& c) {
               return deps_.ledger->VerifyUmkm(call.path["umkm_id"], c);
             });
           });
  AddRoute(http::verb::post, "/v1/umkm/{umkm_id}/suspend", {kOperator, kAdmin},
           [this](ApiCall& call) {
             return RunReasonCommand(call, [&](const std::string& reason, const CommandContext& c) {
               return deps_.ledger->SuspendUmkm(call.path["umkm_id"], reason, c);
             });
           });
  AddRoute(http::verb::post, "/v1/umkm/{umkm_id}/products", {kMerchant, kOperator, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
             RequestBody body(call.request.body());
             Result<ListProduct> command = BindListProduct(body, call.path["umkm_id"]);
             MALPRO_CHECK_OR_RETURN(command.status(), call);
             return RunCommand(
                 call, [&](const CommandContext& c) { return deps_.ledger->List(*command, c); });
           });
  AddRoute(http::verb::put, "/v1/umkm/{umkm_id}/products/{product_id}/price",
           {kMerchant, kOperator, kAdmin}, [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
             RequestBody body(call.request.body());
             body.AllowOnly({"price"});
             const Money price = body.Amount("price");
             MALPRO_BODY_OR_RETURN(body, call);
             return RunCommand(call, [&](const CommandContext& c) {
               return deps_.ledger->Reprice(call.path["umkm_id"], call.path["product_id"], price,
                                            c);
             });
           });
  AddRoute(http::verb::delete_, "/v1/umkm/{umkm_id}/products/{product_id}",
           {kMerchant, kOperator, kAdmin}, [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnUmkm(call, call.path["umkm_id"]), call);
             return RunCommand(call, [&](const CommandContext& c) {
               return deps_.ledger->Delist(call.path["umkm_id"], call.path["product_id"], c);
             });
           });
}

}  // namespace malpro
