// Reconciliation of a bank statement with the ledger (docs/settlement-files.md, "Matching").
//
// Credits are payments into the collection account: each is matched to a payment.succeeded by
// the bank reference or the payment id. Debits are settlement transfers: each is matched by its
// end-to-end id (one merchant's transfer) or the batch id (the whole batch booked as one).
// A matched pair with different amounts is an amount mismatch; an entry that matches nothing
// is missing in the ledger; a payment paid, or a transfer due, within the statement's period
// that no entry matched is missing at the bank.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "adapters/files/statement.h"
#include "engine/event_log.h"
#include "engine/ledger.h"

namespace malpro {

// What the ledger expects to see on the bank's statement, folded from the log.
struct LedgerFacts {
  struct Payment {
    std::string payment_id;
    std::string bank_reference;
    Money amount;
    int64_t paid_at_us = 0;
    bool succeeded = false;   // else requested and waiting for the bank
    bool refund_due = false;  // payment.refund_due: at the bank, counting toward nothing
  };
  struct Transfer {
    std::string end_to_end_id;
    std::string batch_id;
    std::string umkm_id;
    Money net;
    CivilDate execution_date;
  };
  struct Batch {
    std::string batch_id;
    Money total_net;
    CivilDate execution_date;
  };
  std::vector<Payment> payments;  // the latest state of each payment stream
  std::vector<Transfer> transfers;
  std::vector<Batch> batches;
};

// Reads every event of the log.
Result<LedgerFacts> ScanLedger(const EventLog& log);

// One line of the report: an entry and what it matched, or a ledger record the bank lacks.
struct ReconciliationLine {
  std::string result;  // matched, missing_in_ledger, missing_at_bank, amount_mismatch
  Discrepancy detail;  // index 0 for matched lines
};

struct ReconciliationReport {
  RecordReconciliation command;  // what the ledger records
  std::vector<ReconciliationLine> lines;
};

// statement_id_invalid when the statement's id has no stream form (StatementStreamId).
Result<ReconciliationReport> Reconcile(const Statement& statement,
                                       std::string_view statement_sha256, const LedgerFacts& facts);

// The report as CSV: result,discrepancy,credit_debit,reference,payment_id,booking_date,
// statement_amount,ledger_amount,resolution
std::string ReconciliationCsv(const ReconciliationReport& report, const ReconciliationState* state);

// `malpro reconcile`: reads the statement, matches it, records the run. `format` may be empty
// (detected from the content).
struct ReconcileOutcome {
  ReconciliationReport report;
  CommandResult result;
};
// The run as JSON for the API: statement_id (the stream form, the key of the reconciliation
// routes), bank_statement_id (as the bank wrote it), format, account, period_from, period_to,
// entries, matched, missing_in_ledger, missing_at_bank, amount_mismatch, discrepancies (index,
// kind, credit_debit, reference, payment_id, booking_date, statement_amount, ledger_amount).
std::string ReconcileOutcomeJson(const ReconcileOutcome& outcome);

// Whether a statement's account, as written, is `collection_account`: the same digits, or
// MT940's "BANK/ACCOUNT" form (e.g. PDJTIDJ1/0011000000) ending with them.
bool IsCollectionAccount(std::string_view statement_account, std::string_view collection_account);

// Refuses, before reading the log and recording anything, a statement that does not parse, an
// id outside the statement id alphabet (statement_id_invalid) and a statement of any account
// but `collection_account` (settlement.debtor_account): statement_account_mismatch naming
// `account` and both numbers, since its credits are not payments to the city and matching
// them would report every payment missing at the bank.
Result<ReconcileOutcome> RunReconciliation(Ledger& ledger, const EventLog& log,
                                           std::string_view statement_text, std::string_view format,
                                           std::string_view collection_account,
                                           const CommandContext& context);
}  // namespace malpro
