// Policy: minimum spend per rank group, the fee rule, the settlement cut-off.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_body.h"

namespace malpro {

void Api::AddPolicyRoutes() {
  AddRoute(http::verb::get, "/v1/policy", {kAsn, kMerchant, kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             Result<PolicyState> policy = deps_.ledger->LoadPolicy();
             if (!policy.ok()) return ErrorResponse(call.request, policy.status());
             return Ok(call.request, PolicyJson(*policy));
           });
  AddRoute(http::verb::post, "/v1/policy/minimum-spend", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"rank_group", "amount", "effective_from"});
    const std::string group = body.String("rank_group");
    const Money amount = body.Amount("amount");
    const std::string from = body.String("effective_from");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SetMinimumSpend(group, amount, from, c);
    });
  });
  AddRoute(http::verb::post, "/v1/policy/fee-rule", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"basis_points", "umi_zero_fee_max", "effective_from"});
    const int64_t basis_points = body.Int("basis_points");
    const Money umi_max = body.Amount("umi_zero_fee_max");
    const std::string from = body.String("effective_from");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SetFeeRule(basis_points, umi_max, from, c);
    });
  });
  AddRoute(http::verb::post, "/v1/policy/settlement-cutoff", {kAdmin}, [this](ApiCall& call) {
    RequestBody body(call.request.body());
    body.AllowOnly({"cutoff", "effective_from"});
    const std::string cutoff = body.String("cutoff");
    const std::string from = body.String("effective_from");
    MALPRO_BODY_OR_RETURN(body, call);
    return RunCommand(call, [&](const CommandContext& c) {
      return deps_.ledger->SetSettlementCutoff(cutoff, from, c);
    });
  });
}

}  // namespace malpro
