#include "adapters/files/reconcile.h"

#include <simdjson.h>

#include <map>
#include <optional>
#include <set>

#include "adapters/files/settlement_files.h"
#include "engine/domain_events.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/json.h"
#include "engine/log_limits.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

namespace types = event_types;

Status Corrupt(const Event& event) {
  return Status::Corruption("event " + std::to_string(event.sequence) + " (" + event.type +
                            ") lacks a field reconciliation reads");
}

Status FoldPayment(const Event& event, const JsonObject& payload,
                   std::map<std::string, LedgerFacts::Payment>* payments) {
  Result<std::string> payment_id = payload.String("payment_id");
  if (!payment_id.ok()) return Corrupt(event);
  LedgerFacts::Payment& payment = (*payments)[*payment_id];
  payment.payment_id = *payment_id;
  if (event.type == types::payment_requested || event.type == types::payment_succeeded) {
    Result<std::string> reference = payload.String("bank_reference");
    Result<std::string> amount_text = payload.String("amount");
    if (!reference.ok() || !amount_text.ok()) return Corrupt(event);
    Result<Money> amount = ParseAmount(*amount_text, "amount");
    if (!amount.ok()) return Corrupt(event);
    payment.bank_reference = *reference;
    payment.amount = *amount;
    payment.succeeded = event.type == types::payment_succeeded;
    if (payment.succeeded) {
      Result<int64_t> paid_at = payload.Int("paid_at_us");
      if (!paid_at.ok()) return Corrupt(event);
      payment.paid_at_us = *paid_at;
    }
  } else if (event.type == types::payment_refund_due) {
    Result<std::string> amount_text = payload.String("amount");
    Result<int64_t> paid_at = payload.Int("paid_at_us");
    if (!amount_text.ok() || !paid_at.ok()) return Corrupt(event);
    Result<Money> amount = ParseAmount(*amount_text, "amount");
    if (!amount.ok()) return Corrupt(event);
    payment.amount = *amount;
    payment.paid_at_us = *paid_at;
    payment.refund_due = true;
  } else if (event.type == types::payment_failed || event.type == types::payment_expired) {
    payment.succeeded = false;
    payment.bank_reference.clear();  // nothing is expected at the bank for it any more
  }
  return Status::Ok();
}

Status FoldBatch(const Event& event, LedgerFacts* facts) {
  SettlementState state;
  MALPRO_RETURN_IF_ERROR(state.Apply(event));
  const CivilDate execution = SettlementExecutionDate(state.business_date, state.closed_at_us);
  const std::string batch_id = SettlementBatchId(state.business_date);
  if (state.total_net > Money()) facts->batches.push_back({batch_id, state.total_net, execution});
  for (size_t i = 0; i < state.merchants.size(); ++i) {
    // A line that pays nothing (its refunds took all) has no transfer at the bank.
    if (state.merchants[i].net == Money()) continue;
    facts->transfers.push_back({SettlementEndToEndId(state.business_date, i + 1), batch_id,
                                state.merchants[i].umkm_id, state.merchants[i].net, execution});
  }
  return Status::Ok();
}

bool InPeriod(CivilDate date, const Statement& statement) {
  return !(date < statement.from) && !(statement.to < date);
}

// Matches entries to ledger records; the state of one run.
class Matcher {
 public:
  Matcher(const Statement& statement, const LedgerFacts& facts)
      : statement_(statement), facts_(facts) {
    for (size_t i = 0; i < facts.payments.size(); ++i) {
      const LedgerFacts::Payment& payment = facts.payments[i];
      if (!payment.bank_reference.empty()) by_reference_.emplace(payment.bank_reference, i);
      // A virtual account number is space-padded in SNAP (its 8-character prefix), but a
      // statement writes it without the padding.
      const std::string_view shown = ShownBankReference(payment.bank_reference);
      if (!shown.empty() && shown.size() != payment.bank_reference.size()) {
        by_reference_.emplace(shown, i);
      }
      by_reference_.emplace(payment.payment_id, i);
    }
    for (size_t i = 0; i < facts.transfers.size(); ++i) {
      transfers_.emplace(facts.transfers[i].end_to_end_id, i);
    }
    for (size_t i = 0; i < facts.batches.size(); ++i)
      batches_.emplace(facts.batches[i].batch_id, i);
  }

  void Entry(const StatementEntry& entry) {
    Discrepancy detail;
    detail.credit_debit = entry.credit ? "CRDT" : "DBIT";
    detail.reference = entry.references.empty() ? "" : entry.references.front();
    detail.booking_date = FormatIsoDate(entry.booking_date);
    detail.booked_at_us = entry.booked_at_us;
    detail.statement_amount = entry.amount;
    const bool found = entry.credit ? MatchPayment(entry, &detail) : MatchTransfer(entry, &detail);
    if (!found) {
      Add(std::string(discrepancy_missing_in_ledger), std::move(detail));
      return;
    }
    const bool same = detail.ledger_amount == detail.statement_amount;
    if (!same) {
      Add(std::string(discrepancy_amount_mismatch), std::move(detail));
    } else {
      const bool refund_due = entry.credit && refund_due_matched_;
      Add(refund_due ? std::string(discrepancy_refund_due) : "matched", std::move(detail));
    }
  }

  // Ledger records due within the period that no entry matched.
  void Leftovers() {
    for (size_t i = 0; i < facts_.payments.size(); ++i) {
      const LedgerFacts::Payment& payment = facts_.payments[i];
      if (!(payment.succeeded || payment.refund_due) || matched_payments_.contains(i) ||
          !InPeriod(JakartaDate(payment.paid_at_us), statement_)) {
        continue;
      }
      Discrepancy detail;
      detail.credit_debit = "CRDT";
      detail.reference = ShownBankReference(payment.bank_reference);  // as the statement would
      detail.payment_id = payment.payment_id;
      detail.booking_date = FormatIsoDate(JakartaDate(payment.paid_at_us));
      detail.booked_at_us = payment.paid_at_us;
      detail.ledger_amount = payment.amount;
      Add(std::string(discrepancy_missing_at_bank), std::move(detail));
    }
    for (size_t i = 0; i < facts_.transfers.size(); ++i) {
      const LedgerFacts::Transfer& transfer = facts_.transfers[i];
      if (matched_transfers_.contains(i) || matched_batches_.contains(transfer.batch_id) ||
          !InPeriod(transfer.execution_date, statement_)) {
        continue;
      }
      Discrepancy detail;
      detail.credit_debit = "DBIT";
      detail.reference = transfer.end_to_end_id;
      detail.booking_date = FormatIsoDate(transfer.execution_date);
      detail.booked_at_us = JakartaDayStartMicros(transfer.execution_date);
      detail.ledger_amount = transfer.net;
      Add(std::string(discrepancy_missing_at_bank), std::move(detail));
    }
  }

  std::vector<ReconciliationLine> Take() { return std::move(lines_); }

 private:
  bool MatchPayment(const StatementEntry& entry, Discrepancy* detail) {
    for (const std::string& reference : entry.references) {
      auto found = by_reference_.find(reference);
      if (found == by_reference_.end()) continue;
      const LedgerFacts::Payment& payment = facts_.payments[found->second];
      detail->reference = reference;
      detail->payment_id = payment.payment_id;
      // A payment the bank booked but the ledger never heard of: keep its id so the operator
      // can record it; it is not a match.
      if (!(payment.succeeded || payment.refund_due) || matched_payments_.contains(found->second)) {
        return false;
      }
      matched_payments_.insert(found->second);
      refund_due_matched_ = payment.refund_due;
      detail->ledger_amount = payment.amount;
      return true;
    }
    return false;
  }

  bool MatchTransfer(const StatementEntry& entry, Discrepancy* detail) {
    for (const std::string& reference : entry.references) {
      if (auto found = transfers_.find(reference);
          found != transfers_.end() && !matched_transfers_.contains(found->second)) {
        matched_transfers_.insert(found->second);
        detail->reference = reference;
        detail->ledger_amount = facts_.transfers[found->second].net;
        return true;
      }
      if (auto found = batches_.find(reference);
          found != batches_.end() && !matched_batches_.contains(reference)) {
        matched_batches_.insert(reference);
        detail->reference = reference;
        detail->ledger_amount = facts_.batches[found->second].total_net;
        return true;
      }
    }
    return false;
  }

  void Add(std::string result, Discrepancy detail) {
    lines_.push_back({std::move(result), std::move(detail)});
  }

  const Statement& statement_;
  const LedgerFacts& facts_;
  std::unordered_multimap<std::string, size_t> by_reference_;
  std::unordered_map<std::string, size_t> transfers_;
  std::unordered_map<std::string, size_t> batches_;
  std::set<size_t> matched_payments_;
  std::set<size_t> matched_transfers_;
  bool refund_due_matched_ = false;  // whether the last MatchPayment found refund_due money
  std::set<std::string> matched_batches_;
  std::vector<ReconciliationLine> lines_;
};

std::string OptionalAmount(const std::optional<Money>& amount) {
  return amount ? FormatSnap(*amount) : "";
}

}  // namespace

Result<LedgerFacts> ScanLedger(const EventLog& log) {
  LedgerFacts facts;
  std::map<std::string, LedgerFacts::Payment> payments;
  simdjson::dom::parser parser;
  for (uint64_t from = 1;;) {
    Result<std::vector<Event>> events = log.Read(from, read_events_max);
    if (!events.ok()) return events.status();
    for (const Event& event : *events) {
      if (event.type == types::settlement_batch_closed) {
        MALPRO_RETURN_IF_ERROR(FoldBatch(event, &facts));
        continue;
      }
      if (!event.type.starts_with("payment.") || event.type == types::payment_refunded ||
          event.type == types::payment_notification_refused) {
        continue;
      }
      Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
      if (!payload.ok()) return Corrupt(event);
      MALPRO_RETURN_IF_ERROR(FoldPayment(event, *payload, &payments));
    }
    if (events->size() < read_events_max) break;
    from = events->back().sequence + 1;
  }
  for (auto& [id, payment] : payments) facts.payments.push_back(std::move(payment));
  return facts;
}

Result<ReconciliationReport> Reconcile(const Statement& statement,
                                       std::string_view statement_sha256,
                                       const LedgerFacts& facts) {
  Result<std::string> stream_form = StatementStreamId(statement.id);
  if (!stream_form.ok()) return stream_form.status();
  Matcher matcher(statement, facts);
  for (const StatementEntry& entry : statement.entries) matcher.Entry(entry);
  matcher.Leftovers();
  ReconciliationReport report;
  report.lines = matcher.Take();
  RecordReconciliation& command = report.command;
  command.statement_id = std::move(stream_form).value();
  command.format = statement.format;
  command.account = statement.account;
  command.period_from = FormatIsoDate(statement.from);
  command.period_to = FormatIsoDate(statement.to);
  command.statement_sha256 = std::string(statement_sha256);
  command.entries = static_cast<int64_t>(statement.entries.size());
  for (ReconciliationLine& line : report.lines) {
    if (line.result == "matched") {
      ++command.matched;
      continue;
    }
    if (line.result == discrepancy_missing_in_ledger) ++command.missing_in_ledger;
    if (line.result == discrepancy_missing_at_bank) ++command.missing_at_bank;
    if (line.result == discrepancy_amount_mismatch) ++command.amount_mismatch;
    if (line.result == discrepancy_refund_due) ++command.refund_due;
    line.detail.kind = line.result;
    if (command.discrepancies.size() < reconciliation_discrepancies_max) {
      line.detail.index = static_cast<int64_t>(command.discrepancies.size()) + 1;
      command.discrepancies.push_back(line.detail);
    }
  }
  return report;
}

std::string ReconciliationCsv(const ReconciliationReport& report,
                              const ReconciliationState* state) {
  std::string out =
      "result,discrepancy,credit_debit,reference,payment_id,booking_date,statement_amount,"
      "ledger_amount,resolution\r\n";
  for (const ReconciliationLine& line : report.lines) {
    Discrepancy keyed = line.detail;
    keyed.kind = line.result;
    const std::string resolution =
        state != nullptr && line.result != "matched" ? state->ResolutionOf(keyed) : "";
    out += line.result + "," + (line.detail.index > 0 ? std::to_string(line.detail.index) : "") +
           "," + line.detail.credit_debit + "," + CsvField(line.detail.reference) + "," +
           CsvField(line.detail.payment_id) + "," + line.detail.booking_date + "," +
           OptionalAmount(line.detail.statement_amount) + "," +
           OptionalAmount(line.detail.ledger_amount) + "," + resolution + "\r\n";
  }
  return out;
}

bool IsCollectionAccount(std::string_view statement_account, std::string_view collection_account) {
  if (collection_account.empty()) return false;
  if (statement_account == collection_account) return true;
  const size_t slash = statement_account.rfind('/');
  return slash != std::string_view::npos && slash > 0 &&
         statement_account.substr(slash + 1) == collection_account;
}

Result<ReconcileOutcome> RunReconciliation(Ledger& ledger, const EventLog& log,
                                           std::string_view statement_text, std::string_view format,
                                           std::string_view collection_account,
                                           const CommandContext& context) {
  const std::string chosen =
      format.empty() ? DetectStatementFormat(statement_text) : std::string(format);
  Result<Statement> statement = ParseStatement(statement_text, chosen);
  if (!statement.ok()) return statement.status();
  if (!IsCollectionAccount(statement->account, collection_account)) {
    return Status::InvalidArgument(
        errc::kStatementAccountMismatch, "account",
        "account: the statement is of account " + statement->account +
            ", not of the collection account " + std::string(collection_account) +
            " (settlement.debtor_account); only that account's statement is reconciled");
  }
  Result<LedgerFacts> facts = ScanLedger(log);
  if (!facts.ok()) return facts.status();
  ReconcileOutcome outcome;
  Result<ReconciliationReport> report =
      Reconcile(*statement, HashToHex(Sha256(statement_text)), *facts);
  if (!report.ok()) return report.status();
  outcome.report = std::move(report).value();
  Result<CommandResult> recorded = ledger.Record(outcome.report.command, context);
  if (!recorded.ok()) return recorded.status();
  outcome.result = *recorded;
  return outcome;
}

std::string ReconcileOutcomeJson(const ReconcileOutcome& outcome) {
  const RecordReconciliation& run = outcome.report.command;
  JsonWriter writer;
  writer.BeginObject().Field("statement_id", run.statement_id);
  Result<std::string> bank_id = StatementIdFromStreamId(run.statement_id);
  if (bank_id.ok()) writer.Field("bank_statement_id", *bank_id);
  writer.Field("format", run.format)
      .Field("account", run.account)
      .Field("period_from", run.period_from)
      .Field("period_to", run.period_to);
  WriteReconciliationCounts(writer, run);
  writer.Key("discrepancies").BeginArray();
  for (const Discrepancy& discrepancy : run.discrepancies) {
    writer.BeginObject();
    WriteDiscrepancyFields(writer, discrepancy);
    writer.EndObject();
  }
  return writer.EndArray().EndObject().Take();
}

}  // namespace malpro
