// Ledger: the runs of a bank statement against the ledger, and the resolution of their
// discrepancies.
#include <array>

#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckSha256;
using ledger_internal::MakeEvent;

constexpr std::array<std::string_view, 3> kStatementFormats = {"camt053", "mt940", "csv"};
constexpr std::array<std::string_view, 4> kDiscrepancyKinds = {
    discrepancy_missing_in_ledger, discrepancy_missing_at_bank, discrepancy_amount_mismatch,
    discrepancy_refund_due};
constexpr std::array<std::string_view, 2> kCreditDebit = {"CRDT", "DBIT"};
constexpr std::array<std::string_view, 2> kResolutions = {resolution_payment_recorded,
                                                          resolution_explained};

Status CheckDiscrepancies(const RecordReconciliation& command) {
  const int64_t counted = command.missing_in_ledger + command.missing_at_bank +
                          command.amount_mismatch + command.refund_due;
  const int64_t listed = static_cast<int64_t>(command.discrepancies.size());
  if (listed > static_cast<int64_t>(reconciliation_discrepancies_max)) {
    return Status::LimitExceeded(errc::kTooManyDiscrepancies, "discrepancies",
                                 "a run lists at most " +
                                     std::to_string(reconciliation_discrepancies_max) +
                                     " discrepancies");
  }
  const bool whole = listed == counted;
  const bool truncated =
      listed == static_cast<int64_t>(reconciliation_discrepancies_max) && counted > listed;
  if (!whole && !truncated) {
    return Status::InvalidArgument(errc::kDiscrepancyCountMismatch, "discrepancies",
                                   "the discrepancies listed must match their counts");
  }
  for (int64_t i = 0; i < listed; ++i) {
    const Discrepancy& discrepancy = command.discrepancies[i];
    const std::string field = "discrepancies[" + std::to_string(i) + "]";
    if (discrepancy.index != i + 1) {
      return Status::InvalidArgument(errc::kDiscrepancyIndexInvalid, field + ".index",
                                     "discrepancies are numbered 1, 2, 3... in order");
    }
    MALPRO_RETURN_IF_ERROR(
        CheckOneOf(discrepancy.kind, field + ".kind", errc::kKindUnknown, kDiscrepancyKinds));
    MALPRO_RETURN_IF_ERROR(CheckOneOf(discrepancy.credit_debit, field + ".credit_debit",
                                      errc::kCreditDebitUnknown, kCreditDebit));
  }
  return Status::Ok();
}

}  // namespace

void WriteReconciliationCounts(JsonWriter& writer, const RecordReconciliation& run) {
  writer.Field("entries", run.entries)
      .Field("matched", run.matched)
      .Field("missing_in_ledger", run.missing_in_ledger)
      .Field("missing_at_bank", run.missing_at_bank)
      .Field("amount_mismatch", run.amount_mismatch)
      .Field("refund_due", run.refund_due);
}

namespace {

std::string ReconciliationPayload(const RecordReconciliation& command, int64_t run) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("statement_id", command.statement_id)
      .Field("run", run)
      .Field("format", command.format)
      .Field("account", command.account)
      .Field("period_from", command.period_from)
      .Field("period_to", command.period_to)
      .Field("statement_sha256", command.statement_sha256);
  WriteReconciliationCounts(writer, command);
  writer
      .Field("discrepancies_truncated",
             static_cast<int64_t>(command.discrepancies.size()) <
                 command.missing_in_ledger + command.missing_at_bank + command.amount_mismatch)
      .Key("discrepancies")
      .BeginArray();
  for (const Discrepancy& discrepancy : command.discrepancies) {
    writer.BeginObject();
    WriteDiscrepancyFields(writer, discrepancy, MissingAmount::kOmitted);
    writer.EndObject();
  }
  return writer.EndArray().EndObject().Take();
}

}  // namespace

Result<CommandResult> Ledger::Record(const RecordReconciliation& command,
                                     const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(command.statement_id, "statement_id"));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(command.format, "format", errc::kFormatUnknown, kStatementFormats));
  MALPRO_RETURN_IF_ERROR(CheckName(command.account, "account"));
  Result<CivilDate> from = ParseIsoDate(command.period_from, "period_from");
  if (!from.ok()) return from.status();
  Result<CivilDate> to = ParseIsoDate(command.period_to, "period_to");
  if (!to.ok()) return to.status();
  if (*to < *from) {
    return Status::InvalidArgument(errc::kPeriodInvalid, "period_to",
                                   "period_to may not be before period_from");
  }
  MALPRO_RETURN_IF_ERROR(CheckSha256(command.statement_sha256, "statement_sha256"));
  for (int64_t count : {command.entries, command.matched, command.missing_in_ledger,
                        command.missing_at_bank, command.amount_mismatch}) {
    if (count < 0) {
      return Status::InvalidArgument(errc::kCountNegative, "entries", "counts may not be negative");
    }
  }
  MALPRO_RETURN_IF_ERROR(CheckDiscrepancies(command));
  const std::string stream = ReconciliationStream(command.statement_id);
  return Execute(context, "reconciliation.record" + ReconciliationPayload(command, 0),
                 [&](Freshness) -> Result<Decision> {
                   Result<ReconciliationState> state = Load<ReconciliationState>(stream);
                   if (!state.ok()) return state.status();
                   if (context.expected_version && *context.expected_version != state->version) {
                     return Status::Conflict(
                         errc::kVersionMismatch, "If-Match",
                         stream + " is at version " + std::to_string(state->version));
                   }
                   return Decision{{MakeEvent(stream, types::reconciliation_completed,
                                              ReconciliationPayload(command, state->runs + 1))},
                                   {{stream, state->version}}};
                 });
}

Result<CommandResult> Ledger::ResolveDiscrepancy(std::string_view statement_id, int64_t index,
                                                 std::string_view resolution, std::string_view note,
                                                 const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(statement_id, "statement_id"));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(resolution, "resolution", errc::kResolutionUnknown, kResolutions));
  if (resolution == resolution_explained || !note.empty()) {
    MALPRO_RETURN_IF_ERROR(CheckName(note, "note", reason_chars_max));
  }
  const std::string stream = ReconciliationStream(statement_id);
  return Execute(
      context,
      stream + "|resolve|" + std::to_string(index) + "|" + std::string(resolution) + "|" +
          std::string(note),
      [&](Freshness) -> Result<Decision> {
        Result<ReconciliationState> state =
            LoadTarget<ReconciliationState>(stream, "reconciliation", "statement_id", context);
        if (!state.ok()) return state.status();
        if (index < 1 || index > static_cast<int64_t>(state->discrepancies.size())) {
          return Status::NotFound(errc::kDiscrepancyNotFound, "index",
                                  "the latest run of " + std::string(statement_id) + " has " +
                                      std::to_string(state->discrepancies.size()) +
                                      " discrepancies; index must be 1 to that");
        }
        const Discrepancy& discrepancy = state->discrepancies[index - 1];
        if (!state->ResolutionOf(discrepancy).empty()) {
          return Status::Conflict(errc::kDiscrepancyAlreadyResolved, "index",
                                  "discrepancy " + std::to_string(index) + " is already " +
                                      state->ResolutionOf(discrepancy));
        }
        std::vector<StreamExpectation> expectations = {{stream, state->version}};
        if (resolution == resolution_payment_recorded) {
          if (discrepancy.kind != discrepancy_missing_in_ledger || discrepancy.payment_id.empty()) {
            return Status::InvalidArgument(
                errc::kResolutionNotApplicable, "resolution",
                "payment_recorded applies to a payment missing in the ledger whose pending payment "
                "is known");
          }
          Result<PaymentState> payment = Load<PaymentState>(PaymentStream(discrepancy.payment_id));
          if (!payment.ok()) return payment.status();
          if (payment->status != PaymentStatus::kSucceeded) {
            return Status::Conflict(errc::kPaymentNotSucceeded, "payment_id",
                                    "payment " + discrepancy.payment_id + " is " +
                                        std::string(PaymentStatusName(payment->status)));
          }
          expectations.push_back({PaymentStream(discrepancy.payment_id), payment->version});
        }
        std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("statement_id", statement_id)
                                  .Field("run", state->runs)
                                  .Field("index", index)
                                  .Field("kind", discrepancy.kind)
                                  .Field("reference", discrepancy.reference)
                                  .Field("resolution", resolution)
                                  .Field("note", note)
                                  .Field("payment_id", discrepancy.payment_id)
                                  .EndObject()
                                  .Take();
        return Decision{
            {MakeEvent(stream, types::reconciliation_discrepancy_resolved, std::move(payload))},
            std::move(expectations)};
      });
}

}  // namespace malpro
