// ASN (civil servants): registration, reading, rank changes, deactivation.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/command_bodies.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_body.h"

namespace malpro {

void Api::AddAsnRoutes() {
  AddRoute(http::verb::post, "/v1/asn", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    Result<RegisterAsn> command = BindRegisterAsn(body);
    MALPRO_CHECK_OR_RETURN(command.status(), call);
    return RunCommand(call,
                      [&](const CommandContext& c) { return deps_.ledger->Register(*command, c); });
  });
  AddRoute(http::verb::get, "/v1/asn/{nip}", {kAsn, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             MALPRO_CHECK_OR_RETURN(CheckOwnNip(call, call.path["nip"]), call);
             Result<AsnState> asn = deps_.ledger->LoadAsn(call.path["nip"]);
             if (!asn.ok()) return ErrorResponse(call.request, asn.status());
             return Ok(call.request, AsnJson(*asn));
           });
  AddRoute(http::verb::post, "/v1/asn/{nip}/rank", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"rank_class"});
    const std::string rank = body.String("rank_class");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->ChangeRank(call.path["nip"], rank, c);
    });
  });
  AddRoute(http::verb::post, "/v1/asn/{nip}/deactivate", {kAdmin}, [this](ApiCall& call) {
    return RunReasonCommand(call, [&](const std::string& reason, const CommandContext& c) {
      return deps_.ledger->Deactivate(call.path["nip"], reason, c);
    });
  });
}

}  // namespace malpro
