// Reconciliation of bank statements: runs (recorded by `malpro reconcile` or
// POST /v1/reconciliation, api_settlement.cc) and the resolution of their discrepancies.
#include "adapters/http/api.h"
#include "adapters/http/api_internal.h"
#include "adapters/http/csv_views.h"
#include "adapters/http/json_views.h"
#include "adapters/http/request_body.h"
#include "engine/error_codes.h"
#include "projections/projector.h"

namespace malpro {
namespace {

// Records the payment a missing-in-ledger discrepancy names, with the statement's amount and
// time: the bank's notification never came, the statement is the bank's word instead.
Status RecordMissingPayment(Ledger& ledger, const ReconciliationState& state, int64_t index,
                            const CommandContext& context) {
  if (index < 1 || index > static_cast<int64_t>(state.discrepancies.size())) {
    return Status::NotFound(errc::kDiscrepancyNotFound, "index",
                            "the latest run has " + std::to_string(state.discrepancies.size()) +
                                " discrepancies; index must be 1 to that");
  }
  const Discrepancy& discrepancy = state.discrepancies[index - 1];
  if (discrepancy.kind != discrepancy_missing_in_ledger || discrepancy.payment_id.empty() ||
      !discrepancy.statement_amount || discrepancy.credit_debit != "CRDT") {
    return Status::InvalidArgument(
        errc::kResolutionNotApplicable, "action",
        "record_payment applies to a credit missing in the ledger whose pending payment is known");
  }
  CommandContext payment_context;
  payment_context.actor = context.actor;
  if (!context.idempotency_key.empty()) {
    payment_context.idempotency_key = context.idempotency_key + "/payment";
  }
  Result<PaymentState> payment = ledger.LoadPayment(discrepancy.payment_id);
  if (!payment.ok()) return payment.status();
  BankSuccess success;
  success.payment_id = discrepancy.payment_id;
  success.channel = payment->channel;
  success.bank_reference = discrepancy.reference;
  success.amount = *discrepancy.statement_amount;
  success.paid_at_us = discrepancy.booked_at_us;
  success.source = BankSuccess::Source::kStatement;
  Result<CommandResult> recorded = ledger.RecordPaymentSucceeded(success, payment_context);
  // Succeeded already (a retry, or the notification came meanwhile): the resolution stands.
  if (!recorded.ok() && recorded.status().error_code() != errc::kPaymentAlreadySucceeded) {
    return recorded.status();
  }
  return Status::Ok();
}

}  // namespace

void Api::AddReconciliationRoutes() {
  AddRoute(http::verb::get, "/v1/reconciliation/{statement_id}", {kOperator, kAuditor, kAdmin},
           [this](ApiCall& call) {
             Result<ReconciliationState> state =
                 deps_.ledger->LoadReconciliation(call.path["statement_id"]);
             if (!state.ok()) return ErrorResponse(call.request, state.status());
             return Ok(call.request, ReconciliationJson(*state));
           });
  AddRoute(http::verb::post, "/v1/reconciliation/{statement_id}/resolve", {kOperator, kAdmin},
           [this](ApiCall& call) {
             RequestBody body(call.request.body());
             body.AllowOnly({"index", "action", "note"});
             const int64_t index = body.Int("index");
             const std::string action = body.String("action");
             const std::string note = body.OptionalString("note");
             MALPRO_BODY_OR_RETURN(body, call);
             if (action != "record_payment" && action != "explain") {
               return ErrorResponse(call.request, Status::InvalidArgument(
                                                      errc::kActionInvalid, "action",
                                                      "action must be record_payment or explain"));
             }
             const std::string statement_id = call.path["statement_id"];
             return RunCommand(call, [&](const CommandContext& c) -> Result<CommandResult> {
               if (action == "explain") {
                 return deps_.ledger->ResolveDiscrepancy(statement_id, index, resolution_explained,
                                                         note, c);
               }
               Result<ReconciliationState> state = deps_.ledger->LoadReconciliation(statement_id);
               if (!state.ok()) return state.status();
               MALPRO_RETURN_IF_ERROR(RecordMissingPayment(*deps_.ledger, *state, index, c));
               return deps_.ledger->ResolveDiscrepancy(statement_id, index,
                                                       resolution_payment_recorded, note, c);
             });
           });
}

// Reconciliation runs, newest or oldest first; ?open=true: those with discrepancies to resolve
// (read model work_lists).
void Api::AddReconciliationListRoutes() {
  AddRoute(
      http::verb::get, "/v1/reconciliation", {kOperator, kAuditor, kAdmin}, [this](ApiCall& call) {
        ReconciliationListQuery query;
        query.statement_id = QueryText(call, "statement_id");
        const std::string open = QueryText(call, "open");
        if (!open.empty() && open != "true" && open != "false") {
          return ErrorResponse(call.request, Status::InvalidArgument(errc::kQueryInvalid, "open",
                                                                     "open must be true or false"));
        }
        query.open_only = open == "true";
        MALPRO_CHECK_OR_RETURN(QueryListPage(call, list_reconciliation, true, &query.page), call);
        return ReadModel(
            call,
            [&]() -> Result<std::string> { return deps_.projector->ReconciliationRuns(query); },
            &csv_reconciliation_runs);
      });
}

}  // namespace malpro
