// The one serialization of a reconciliation discrepancy (WriteDiscrepancyFields): the form the
// reconciliation.completed payload persists, and the form of the views.
#include "engine/aggregates.h"

#include <gtest/gtest.h>

#include "engine/json.h"

namespace malpro {
namespace {

Discrepancy MissingInLedger() {
  Discrepancy discrepancy;
  discrepancy.index = 1;
  discrepancy.kind = std::string(discrepancy_missing_in_ledger);
  discrepancy.credit_debit = "CRDT";
  discrepancy.reference = "bj-unknown-1";
  discrepancy.booking_date = "2026-10-20";
  discrepancy.booked_at_us = 1792465200000000;
  discrepancy.statement_amount = Money::FromRupiah(50'000);
  return discrepancy;
}

std::string Written(const Discrepancy& discrepancy, MissingAmount missing) {
  JsonWriter writer;
  writer.BeginObject();
  WriteDiscrepancyFields(writer, discrepancy, missing);
  return writer.EndObject().Take();
}

// Byte for byte what reconciliation.completed holds (tests/fuzz/corpus/event): a change here
// changes the log's hashes.
TEST(DiscrepancyFieldsTest, TheEventOmitsTheAmountOfTheSideThatHasNone) {
  EXPECT_EQ(Written(MissingInLedger(), MissingAmount::kOmitted),
            R"({"index":1,"kind":"missing_in_ledger","credit_debit":"CRDT",)"
            R"("reference":"bj-unknown-1","payment_id":"","booking_date":"2026-10-20",)"
            R"("booked_at_us":1792465200000000,"statement_amount":"50000.00"})");
  Discrepancy at_bank = MissingInLedger();
  at_bank.kind = std::string(discrepancy_missing_at_bank);
  at_bank.payment_id = "o-31";
  at_bank.statement_amount.reset();
  at_bank.ledger_amount = Money::FromRupiah(261'000);
  EXPECT_EQ(Written(at_bank, MissingAmount::kOmitted),
            R"({"index":1,"kind":"missing_at_bank","credit_debit":"CRDT",)"
            R"("reference":"bj-unknown-1","payment_id":"o-31","booking_date":"2026-10-20",)"
            R"("booked_at_us":1792465200000000,"ledger_amount":"261000.00"})");
}

TEST(DiscrepancyFieldsTest, TheViewWritesTheSameFieldsWithNullForAMissingAmount) {
  EXPECT_EQ(Written(MissingInLedger(), MissingAmount::kNull),
            R"({"index":1,"kind":"missing_in_ledger","credit_debit":"CRDT",)"
            R"("reference":"bj-unknown-1","payment_id":"","booking_date":"2026-10-20",)"
            R"("booked_at_us":1792465200000000,"statement_amount":"50000.00",)"
            R"("ledger_amount":null})");
  Discrepancy both = MissingInLedger();
  both.kind = std::string(discrepancy_amount_mismatch);
  both.ledger_amount = Money::FromRupiah(49'000);
  const std::string both_amounts = R"("statement_amount":"50000.00","ledger_amount":"49000.00"})";
  EXPECT_TRUE(Written(both, MissingAmount::kNull).ends_with(both_amounts));
  EXPECT_EQ(Written(both, MissingAmount::kNull), Written(both, MissingAmount::kOmitted));
}

}  // namespace
}  // namespace malpro
