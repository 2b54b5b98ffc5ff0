#include "adapters/files/reconcile.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "adapters/files/files_limits.h"
#include "adapters/files/settlement_run.h"
#include "adapters/http/api.h"
#include "engine/hash.h"
#include "tests/files/files_fixture.h"
#include "tests/support/reconciliation_counts.h"

namespace malpro {
namespace {

bool IsSeparatorAt(const std::string& id, size_t at) {
  return statement_id_separators.find(id[at]) != std::string_view::npos;
}

// One entry of a statement the test writes in each format.
struct Line {
  bool credit;
  Money amount;
  int64_t booked_at_us;
  std::string reference;
};

std::string IsoDateTime(int64_t utc_micros) {
  const int64_t jakarta = utc_micros / 1'000'000 + 7 * 3600;
  const int64_t of_day = jakarta % 86'400;
  char clock[32];
  std::snprintf(clock, sizeof clock, "T%02d:%02d:%02d+07:00", int(of_day / 3600),
                int(of_day / 60 % 60), int(of_day % 60));
  return FormatIsoDate(JakartaDate(utc_micros)) + clock;
}

std::string Camt053(const std::vector<Line>& lines) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>"
      "<GrpHdr><MsgId>BJTM-20261123-1</MsgId><CreDtTm>2026-11-23T01:00:00+07:00</CreDtTm></GrpHdr>"
      "<Stmt><Id>STMT-20261122</Id><CreDtTm>2026-11-23T01:00:00+07:00</CreDtTm>"
      "<FrToDt><FrDtTm>2026-11-21T00:00:00+07:00</FrDtTm><ToDtTm>2026-11-22T23:59:59+07:00</ToDtTm>"
      "</FrToDt><Acct><Id><Othr><Id>0011000000</Id></Othr></Id><Ccy>IDR</Ccy></Acct>";
  for (const Line& line : lines) {
    xml += "<Ntry><Amt Ccy=\"IDR\">" + FormatSnap(line.amount) + "</Amt><CdtDbtInd>" +
           (line.credit ? "CRDT" : "DBIT") + "</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>" +
           IsoDateTime(line.booked_at_us) + "</DtTm></BookgDt><AcctSvcrRef>BJTM" +
           std::to_string(line.booked_at_us % 100000) +
           "</AcctSvcrRef><NtryDtls><TxDtls><Refs>"
           "<EndToEndId>" +
           line.reference + "</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>";
  }
  // A pending entry is information only: it must not be reconciled.
  xml +=
      "<Ntry><Amt Ccy=\"IDR\">5000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>"
      "<BookgDt><Dt>2026-11-22</Dt></BookgDt><NtryRef>PENDING-1</NtryRef></Ntry>";
  return xml + "</Stmt></BkToCstmrStmt></Document>\n";
}

std::string Mt940Date(int64_t utc_micros) {
  const std::string iso = FormatIsoDate(JakartaDate(utc_micros));
  return iso.substr(2, 2) + iso.substr(5, 2) + iso.substr(8, 2);
}

std::string Mt940(const std::vector<Line>& lines) {
  std::string text =
      "{1:F01PDJTIDJ1AXXX0000000000}{2:O9401200261123PDJTIDJ1AXXX00000000002611230100N}{4:\r\n"
      ":20:STMT-20261122\r\n:25:PDJTIDJ1/0011000000\r\n:28C:1/1\r\n:60F:C261121IDR0,00\r\n";
  for (const Line& line : lines) {
    const std::string date = Mt940Date(line.booked_at_us);
    text += ":61:" + date + date.substr(2) + (line.credit ? "C" : "D") + FormatMt940(line.amount) +
            "NTRF" + line.reference + "//BJTM" + std::to_string(line.booked_at_us % 100000) +
            "\r\n:86:Malpro " + (line.credit ? "QRIS payment" : "settlement") + "\r\n";
  }
  return text + ":62F:C261122IDR0,00\r\n-}\r\n";
}

std::string Csv(const std::vector<Line>& lines) {
  std::string text =
      "statement_id,account,booking_date,credit_debit,amount,reference,description\n";
  for (const Line& line : lines) {
    text += "STMT-20261122,0011000000," + IsoDateTime(line.booked_at_us).substr(0, 19) + "," +
            (line.credit ? "CRDT" : "DBIT") + "," + FormatSnap(line.amount) + "," + line.reference +
            ",\"Malpro, " + (line.credit ? "payment" : "settlement") + "\"\n";
  }
  return text;
}

class ReconcileTest : public FilesFixture {
 protected:
  // settlement.debtor_account: the statements above are of this account.
  static constexpr char kCollectionAccount[] = "0011000000";

  // Three payments on the day and one the bank took but never notified; the day settled.
  void SetUp() override {
    FilesFixture::SetUp();
    Pay("order-1", "warung-bu-sri", 2, "BJ-0001", JakartaTime(kDay, 9, 15));
    Pay("order-2", "warung-bu-sri", 1, "BJ-0002", JakartaTime(kDay, 13, 40));
    Pay("order-3", "toko-pak-min", 3, "BJ-0003", JakartaTime(kDay, 15, 0));
    RequestPayment("order-6", "toko-pak-min", 1, "BJ-0006");
    now_ = JakartaTime(kNextDay, 8, 0);
    Result<SettleOutcome> settled = Settle(*ledger_, *log_, kDay, dir_.Sub("out"),
                                           SettlementFileOptions{}, As("operator:rina"));
    ASSERT_TRUE(settled.ok()) << settled.status().ToString();
    now_ = JakartaTime({2026, 11, 23}, 9, 0);
  }

  // What the bank saw: order-1 as it is, order-2 for Rp500 more, order-6 (never notified),
  // not order-3, and both settlement transfers.
  std::vector<Line> BankLines() {
    return {{true, Money::FromRupiah(136'000), JakartaTime(kDay, 9, 15), "BJ-0001"},
            {true, Money::FromRupiah(68'500), JakartaTime(kDay, 13, 40), "BJ-0002"},
            {true, Money::FromRupiah(68'000), JakartaTime(kDay, 10, 5), "BJ-0006"},
            {false, Money::FromRupiah(203'388), JakartaTime(kNextDay, 9, 0), "STL-20261121-001"},
            {false, Money::FromRupiah(204'000), JakartaTime(kNextDay, 9, 0), "STL-20261121-002"}};
  }

  Result<ReconcileOutcome> Run(const std::string& text, const std::string& format) {
    return RunReconciliation(*ledger_, *log_, text, format, kCollectionAccount,
                             As("operator:rina"));
  }

  // Exactly the three injected discrepancies, each with its reference.
  void ExpectInjectedDiscrepancies(const ReconcileOutcome& outcome, const std::string& format) {
    const RecordReconciliation& run = outcome.report.command;
    EXPECT_EQ(run.statement_id, "stmt-20261122");
    EXPECT_EQ(run.format, format);
    EXPECT_EQ(run.period_from, "2026-11-21");
    EXPECT_EQ(run.period_to, "2026-11-22");
    ASSERT_NO_FATAL_FAILURE(testing::ExpectReconciliationCounts(
        run, /*entries=*/5, /*matched=*/3, /*missing_in_ledger=*/1, /*missing_at_bank=*/1,
        /*amount_mismatch=*/1, /*discrepancies=*/3));
    std::map<std::string, Discrepancy> by_kind;
    for (const Discrepancy& discrepancy : run.discrepancies)
      by_kind[discrepancy.kind] = discrepancy;
    EXPECT_EQ(by_kind["amount_mismatch"].reference, "BJ-0002");
    EXPECT_EQ(by_kind["amount_mismatch"].statement_amount, Money::FromRupiah(68'500));
    EXPECT_EQ(by_kind["amount_mismatch"].ledger_amount, Money::FromRupiah(68'000));
    EXPECT_EQ(by_kind["missing_in_ledger"].reference, "BJ-0006");
    EXPECT_EQ(by_kind["missing_in_ledger"].payment_id, "order-6");
    EXPECT_EQ(by_kind["missing_at_bank"].reference, "BJ-0003");
    EXPECT_EQ(by_kind["missing_at_bank"].payment_id, "order-3");
    EXPECT_EQ(by_kind["missing_at_bank"].ledger_amount, Money::FromRupiah(204'000));
    // The run is an event with the same counts.
    Result<ReconciliationState> state = ledger_->LoadReconciliation("stmt-20261122");
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->discrepancies, run.discrepancies);
    EXPECT_EQ(state->matched, 3);
  }

  int64_t IndexOf(const RecordReconciliation& run, std::string_view kind) {
    for (const Discrepancy& discrepancy : run.discrepancies) {
      if (discrepancy.kind == kind) return discrepancy.index;
    }
    ADD_FAILURE() << "no " << kind;
    return 0;
  }
};

TEST_F(ReconcileTest, Camt053ReportsExactlyTheInjectedDiscrepancies) {
  const std::string text = Camt053(BankLines());
  EXPECT_EQ(DetectStatementFormat(text), "camt053");
  Result<ReconcileOutcome> outcome = Run(text, "");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ExpectInjectedDiscrepancies(*outcome, "camt053");
  EXPECT_EQ(outcome->report.command.statement_sha256, HashToHex(Sha256(text)));
}

TEST_F(ReconcileTest, Mt940ReportsExactlyTheInjectedDiscrepancies) {
  const std::string text = Mt940(BankLines());
  EXPECT_EQ(DetectStatementFormat(text), "mt940");
  Result<ReconcileOutcome> outcome = Run(text, "mt940");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ExpectInjectedDiscrepancies(*outcome, "mt940");
}

TEST_F(ReconcileTest, CsvReportsExactlyTheInjectedDiscrepancies) {
  const std::string text = Csv(BankLines());
  EXPECT_EQ(DetectStatementFormat(text), "csv");
  Result<ReconcileOutcome> outcome = Run(text, "csv");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ExpectInjectedDiscrepancies(*outcome, "csv");
  const std::string report = ReconciliationCsv(outcome->report, nullptr);
  EXPECT_NE(report.find("amount_mismatch,"), std::string::npos);
  EXPECT_NE(report.find(",CRDT,BJ-0006,order-6,2026-11-21,68000.00,,\r\n"), std::string::npos)
      << report;
}

// order-6 is cancelled while its payment is pending, and the bank reports the payer paid all
// the same: the statement's credit is classified as refund due, not as missing in the ledger.
TEST_F(ReconcileTest, ACreditForMoneyThatCountsTowardNothingIsARefundDue) {
  ASSERT_TRUE(ledger_->CancelOrder("order-6", "batal", As("asn:x")).ok());
  BankSuccess late;
  late.payment_id = "order-6";
  late.channel = "QRIS";
  late.bank_reference = "BJ-0006";
  late.amount = Money::FromRupiah(68'000);
  late.paid_at_us = now_.load();
  ASSERT_TRUE(ledger_->RecordPaymentSucceeded(late, As("bank:bank-jatim")).ok());
  ASSERT_EQ(ledger_->LoadPayment("order-6")->status, PaymentStatus::kRefundDue);
  Result<ReconcileOutcome> outcome = Run(Csv(BankLines()), "csv");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const RecordReconciliation& run = outcome->report.command;
  EXPECT_EQ(run.matched, 3);
  EXPECT_EQ(run.missing_in_ledger, 0);
  EXPECT_EQ(run.refund_due, 1);
  EXPECT_EQ(IndexOf(run, "refund_due"), run.discrepancies[IndexOf(run, "refund_due") - 1].index);
  const Discrepancy& due = run.discrepancies[IndexOf(run, "refund_due") - 1];
  EXPECT_EQ(due.payment_id, "order-6");
  EXPECT_EQ(due.reference, "BJ-0006");
  EXPECT_EQ(due.ledger_amount, Money::FromRupiah(68'000));
  EXPECT_NE(LastPayload("reconciliation-stmt-20261122").find("\"refund_due\":1"),
            std::string::npos);
}

TEST_F(ReconcileTest, AWholeBatchBookedAsOneDebitMatchesByTheBatchIdInItsInformation) {
  std::vector<Line> lines = {
      {true, Money::FromRupiah(136'000), JakartaTime(kDay, 9, 15), "BJ-0001"},
      {true, Money::FromRupiah(68'000), JakartaTime(kDay, 13, 40), "BJ-0002"},
      {true, Money::FromRupiah(204'000), JakartaTime(kDay, 15, 0), "BJ-0003"}};
  std::string text = Mt940(lines);
  // The bank booked the batch as one debit: no reference in :61:, the batch id in :86:.
  text.insert(text.find(":62F:"),
              ":61:2611221122D407388,00NTRFNONREF//BJTM99\r\n:86:SETTLEMENT/MALPRO-STL-20261121"
              "/2 TRANSFERS\r\n");
  Result<ReconcileOutcome> outcome = Run(text, "mt940");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->report.command.entries, 4);
  EXPECT_EQ(outcome->report.command.matched, 4);
  EXPECT_TRUE(outcome->report.command.discrepancies.empty());
  // A batch debit for another amount is a mismatch against the batch's total net.
  text.replace(text.find("D407388,00"), 10, "D407389,00");
  Result<ReconcileOutcome> changed = Run(text, "mt940");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  ASSERT_EQ(changed->report.command.discrepancies.size(), 1u);
  EXPECT_EQ(changed->report.command.discrepancies[0].kind, "amount_mismatch");
  EXPECT_EQ(changed->report.command.discrepancies[0].reference, "MALPRO-STL-20261121");
  EXPECT_EQ(changed->report.command.discrepancies[0].ledger_amount, Money::FromSen(40'738'800));
}

TEST_F(ReconcileTest, MalformedStatementsAreRefusedWithTheirPlaceAndNothingIsRecorded) {
  std::string camt = Camt053(BankLines());
  camt.replace(camt.find("<CdtDbtInd>CRDT"), 15, "<CdtDbtInd>CRED");
  Result<ReconcileOutcome> bad = Run(camt, "camt053");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "Ntry[1].CdtDbtInd");
  Result<ReconcileOutcome> broken = Run("<Document><Unclosed></Document>", "camt053");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().error_code(), "xml_invalid");
  std::string mt940 = Mt940(BankLines());
  mt940.replace(mt940.find("C136000,00"), 10, "X136000,00");
  Result<ReconcileOutcome> bad_mt940 = Run(mt940, "mt940");
  ASSERT_FALSE(bad_mt940.ok());
  EXPECT_NE(bad_mt940.status().field().find("(:61:)"), std::string::npos)
      << bad_mt940.status().ToString();
  std::string csv = Csv(BankLines());
  csv.replace(csv.find("136000.00"), 9, "136000.0x");
  Result<ReconcileOutcome> bad_csv = Run(csv, "csv");
  ASSERT_FALSE(bad_csv.ok());
  EXPECT_EQ(bad_csv.status().field(), "line 2 amount");
  for (const char* time : {"T10:99:00", "T10:00:60", "T24:00:00"}) {
    std::string bad_time = Csv(BankLines());
    const size_t date = bad_time.find(",2026-11-2") + 11;
    bad_time.replace(date, 9, time);
    Result<ReconcileOutcome> refused = Run(bad_time, "csv");
    ASSERT_FALSE(refused.ok()) << time;
    EXPECT_EQ(refused.status().error_code(), errc::kDatetimeInvalid) << time;
    EXPECT_EQ(refused.status().field(), "line 2 booking_date") << refused.status().ToString();
  }
  EXPECT_EQ(*log_->StreamVersion("reconciliation-stmt-20261122"), 0u);
}

// ---------------------------------------------------------------------------------------
// Which statements are reconciled: the collection account's, with ids from the documented
// alphabet, each id its own stream.

// A ledger with no payments: every credit of these statements is missing in the ledger.
class StatementAdmissionTest : public FilesFixture {
 protected:
  static constexpr char kCollectionAccount[] = "0011000000";

  static std::string CsvOf(const std::string& statement_id, const std::string& account) {
    return "statement_id,account,booking_date,credit_debit,amount,reference\n" +
           CsvField(statement_id) + "," + account + ",2026-11-21T10:00:00,CRDT,68000.00,BJ-9\n";
  }

  Result<ReconcileOutcome> Run(const std::string& text) {
    return RunReconciliation(*ledger_, *log_, text, "", kCollectionAccount, As("operator:rina"));
  }
};

TEST(CollectionAccountTest, TheNumberAloneOrAfterTheBanksCodeIsTheCollectionAccount) {
  EXPECT_TRUE(IsCollectionAccount("0011000000", "0011000000"));
  EXPECT_TRUE(IsCollectionAccount("PDJTIDJ1/0011000000", "0011000000"));
  EXPECT_FALSE(IsCollectionAccount("0011000001", "0011000000"));
  EXPECT_FALSE(IsCollectionAccount("10011000000", "0011000000"));
  EXPECT_FALSE(IsCollectionAccount("PDJTIDJ1/00110000001", "0011000000"));
  EXPECT_FALSE(IsCollectionAccount("/0011000000", "0011000000"));
  EXPECT_FALSE(IsCollectionAccount("0011000000/", "0011000000"));
  EXPECT_FALSE(IsCollectionAccount("", ""));
}

// Another account's credits are not payments to the city: matching them would report every
// payment missing at the bank. Refused in every format, nothing recorded.
TEST_F(StatementAdmissionTest, AStatementOfAnotherAccountIsRefusedAndNothingIsRecorded) {
  const uint64_t head = log_->Head().sequence;
  const std::string camt =
      "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">"
      "<BkToCstmrStmt><Stmt><Id>STMT-1</Id><CreDtTm>2026-11-23T01:00:00+07:00</CreDtTm>"
      "<Acct><Id><Othr><Id>0099999999</Id></Othr></Id></Acct></Stmt></BkToCstmrStmt></Document>";
  const std::string mt940 =
      ":20:STMT-1\r\n:25:PDJTIDJ1/0099999999\r\n:60F:C261121IDR0,00\r\n"
      ":61:2611211121C68000,00NTRFBJ-9//B1\r\n:62F:C261121IDR0,00\r\n";
  for (const std::string& text : {CsvOf("STMT-1", "0099999999"), camt, mt940}) {
    Result<ReconcileOutcome> refused = Run(text);
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_EQ(refused.status().error_code(), "statement_account_mismatch");
    EXPECT_EQ(refused.status().field(), "account");
    EXPECT_NE(refused.status().message().find("0099999999"), std::string::npos)
        << refused.status().message();
    EXPECT_NE(refused.status().message().find("collection account 0011000000"), std::string::npos)
        << refused.status().message();
  }
  EXPECT_EQ(log_->Head().sequence, head);
  EXPECT_EQ(*log_->StreamVersion("reconciliation-stmt-1"), 0u);
  // The collection account's statement goes through.
  EXPECT_TRUE(Run(CsvOf("STMT-1", kCollectionAccount)).ok());
}

// Ids outside the alphabet are refused, never rewritten into another id's stream.
TEST_F(StatementAdmissionTest, StatementIdsOutsideTheAlphabetAreRefused) {
  const uint64_t head = log_->Head().sequence;
  for (const std::string& id :
       {std::string("bjtm 2026 77"), std::string("BJTM#77"), std::string("BJTM//77"),
        std::string("BJTM-/77"), std::string("/BJTM77"), std::string("BJTM77."),
        std::string("STMT\xc3\xa9"), std::string(36, 'A'), std::string()}) {
    Result<ReconcileOutcome> refused = Run(CsvOf(id, kCollectionAccount));
    ASSERT_FALSE(refused.ok()) << id;
    EXPECT_EQ(refused.status().error_code(), "statement_id_invalid") << id;
    EXPECT_EQ(refused.status().field(), "statement_id") << id;
    EXPECT_NE(refused.status().message().find("A-Z a-z 0-9 - . / _"), std::string::npos)
        << refused.status().message();
  }
  EXPECT_EQ(log_->Head().sequence, head);
  Result<Statement> mt940 = ParseMt940(
      ":20:BJTM 77\n:25:0011000000\n:60F:C261121IDR0,00\n"
      ":62F:C261121IDR0,00\n");
  ASSERT_FALSE(mt940.ok());
  EXPECT_EQ(mt940.status().error_code(), "statement_id_invalid");
  EXPECT_NE(mt940.status().message().find("(:20:)"), std::string::npos);
  // The longest id passes.
  EXPECT_TRUE(Run(CsvOf(std::string(statement_id_chars_max, 'A'), kCollectionAccount)).ok());
}

// Ids that differ only in case or separators were once folded into one stream and overwrote
// each other's runs; each is its own statement now, and its id comes back from the stream.
TEST_F(StatementAdmissionTest, IdsDifferingInCaseOrSeparatorsAreSeparateStatements) {
  const std::vector<std::string> ids = {"BJTM/2026/77", "bjtm/2026/77", "BJTM-2026-77",
                                        "BJTM.2026.77", "BJTM_2026_77", "Bjtm/2026/77"};
  std::set<std::string> streams;
  for (const std::string& id : ids) {
    Result<ReconcileOutcome> outcome = Run(CsvOf(id, kCollectionAccount));
    ASSERT_TRUE(outcome.ok()) << id << ": " << outcome.status().ToString();
    const std::string& form = outcome->report.command.statement_id;
    streams.insert(form);
    EXPECT_EQ(*StatementIdFromStreamId(form), id);
    Result<ReconciliationState> state = ledger_->LoadReconciliation(form);
    ASSERT_TRUE(state.ok()) << form;
    EXPECT_EQ(state->runs, 1) << id << " shares stream " << form;
    EXPECT_NE(ReconcileOutcomeJson(*outcome).find(R"("bank_statement_id":")" + id + "\""),
              std::string::npos);
  }
  EXPECT_EQ(streams.size(), ids.size());
}

TEST(StatementStreamIdTest, TheStreamFormIsReversibleAndDistinctForEveryId) {
  EXPECT_EQ(*StatementStreamId("STMT-20261122"), "stmt-20261122");
  EXPECT_EQ(*StatementStreamId("BJTM/2026/77"), "bjtm-2026-77--18");
  EXPECT_EQ(*StatementStreamId("bjtm/2026/77"), "bjtm-2026-77--v8");
  EXPECT_EQ(*StatementStreamId("20261122"), "20261122");
  // Seeded random ids over the whole alphabet: each form decodes to its id, no two ids share
  // a form, and every form passes as the ledger's entity id.
  std::mt19937 random(20261122);
  const std::string alphanumerics =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::map<std::string, std::string> id_of_form;
  for (int i = 0; i < 20'000; ++i) {
    const size_t length = 1 + random() % statement_id_chars_max;
    std::string id;
    for (size_t at = 0; at < length; ++at) {
      const bool separator =
          at > 0 && at + 1 < length && !IsSeparatorAt(id, at - 1) && random() % 3 == 0;
      id.push_back(separator ? statement_id_separators[random() % 4]
                             : alphanumerics[random() % alphanumerics.size()]);
    }
    Result<std::string> form = StatementStreamId(id);
    ASSERT_TRUE(form.ok()) << id << ": " << form.status().ToString();
    ASSERT_TRUE(CheckEntityId(*form, "statement_id").ok()) << id << " -> " << *form;
    ASSERT_LE(form->size(), statement_stream_id_chars_max);
    Result<std::string> back = StatementIdFromStreamId(*form);
    ASSERT_TRUE(back.ok()) << *form;
    ASSERT_EQ(*back, id);
    auto [found, added] = id_of_form.emplace(*form, id);
    ASSERT_TRUE(added || found->second == id) << id << " and " << found->second << " -> " << *form;
  }
  // Texts no id encodes to are refused, not guessed at.
  for (const std::string form : {"bjtm-2026-77--19", "bjtm-2026-77--00", "bjtm-2026-77--",
                                 "bjtm-2026-77--18x", "BJTM", "--18", "bjtm--2026", "-bjtm", ""}) {
    Result<std::string> id = StatementIdFromStreamId(form);
    ASSERT_FALSE(id.ok()) << form << " -> " << *id;
    EXPECT_EQ(id.status().error_code(), "statement_id_invalid");
  }
}

class ReconcileApiTest : public ReconcileTest {
 protected:
  void SetUp() override {
    ReconcileTest::SetUp();
    for (const auto& [role, subject] : std::vector<std::pair<Role, std::string>>{
             {Role::kOperator, "rina"}, {Role::kAuditor, "bpk"}, {Role::kAsn, kBuyer}}) {
      ASSERT_TRUE(tokens_.Add(HashToHex(Sha256("token-" + subject)), {role, subject}, "t").ok());
    }
    api_ = std::make_unique<Api>(ApiDependencies{
        log_.get(), ledger_.get(), nullptr, &tokens_, &metrics_, 65536, 65536, {}, {}});
  }

  HttpResponse Call(http::verb method, const std::string& target, const std::string& subject,
                    const std::string& body = "") {
    HttpRequest request{method, target, 11};
    request.set(http::field::authorization, "Bearer token-" + subject);
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    return api_->Handle(request);
  }

  TokenTable tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<Api> api_;
};

TEST_F(ReconcileApiTest, RecordingAMissingPaymentMakesTheNextRunMatchIt) {
  Result<ReconcileOutcome> first = Run(Camt053(BankLines()), "camt053");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int64_t missing = IndexOf(first->report.command, "missing_in_ledger");
  const std::string body =
      R"({"index":)" + std::to_string(missing) + R"(,"action":"record_payment"})";
  EXPECT_EQ(
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", kBuyer, body).result_int(),
      403);
  EXPECT_EQ(
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", "bpk", body).result_int(),
      403);
  const uint64_t head = log_->Head().sequence;
  HttpResponse resolved =
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", "rina", body);
  ASSERT_EQ(resolved.result_int(), 200) << resolved.body();
  // Two events: the payment's success (through the ledger, by the operator) and the resolution.
  Result<std::vector<Event>> written = log_->Read(head + 1, 10);
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(written->size(), 2u);
  EXPECT_EQ(written->at(0).type, event_types::payment_succeeded);
  EXPECT_EQ(written->at(0).stream_id, "payment-order-6");
  EXPECT_EQ(written->at(0).actor, "operator:rina");
  EXPECT_EQ(written->at(1).type, event_types::reconciliation_discrepancy_resolved);
  Result<PaymentState> payment = ledger_->LoadPayment("order-6");
  ASSERT_TRUE(payment.ok());
  EXPECT_EQ(payment->status, PaymentStatus::kSucceeded);
  EXPECT_EQ(payment->paid_at_us, JakartaTime(kDay, 10, 5));
  // Its day was already settled, so it settles with the next open day.
  EXPECT_EQ(payment->business_date, kNextDay);
  // Resolving it twice is refused.
  EXPECT_EQ(
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", "rina", body).result_int(),
      409);

  Result<ReconcileOutcome> second = Run(Camt053(BankLines()), "camt053");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->report.command.matched, 4);
  EXPECT_EQ(second->report.command.missing_in_ledger, 0);
  EXPECT_EQ(second->report.command.missing_at_bank, 1);
  EXPECT_EQ(second->report.command.amount_mismatch, 1);
}

TEST_F(ReconcileApiTest, AnExplainedDiscrepancyStaysExplainedInLaterRuns) {
  Result<ReconcileOutcome> first = Run(Mt940(BankLines()), "mt940");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int64_t mismatch = IndexOf(first->report.command, "amount_mismatch");
  HttpResponse no_note =
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", "rina",
           R"({"index":)" + std::to_string(mismatch) + R"(,"action":"explain"})");
  EXPECT_EQ(no_note.result_int(), 422) << no_note.body();
  HttpResponse wrong =
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", "rina",
           R"({"index":)" + std::to_string(mismatch) + R"(,"action":"record_payment"})");
  EXPECT_EQ(wrong.result_int(), 422) << wrong.body();
  HttpResponse explained =
      Call(http::verb::post, "/v1/reconciliation/stmt-20261122/resolve", "rina",
           R"({"index":)" + std::to_string(mismatch) +
               R"(,"action":"explain","note":"bank charged the buyer a Rp500 QRIS fee"})");
  ASSERT_EQ(explained.result_int(), 200) << explained.body();
  Result<ReconcileOutcome> second = Run(Mt940(BankLines()), "mt940");
  ASSERT_TRUE(second.ok());
  Result<ReconciliationState> state = ledger_->LoadReconciliation("stmt-20261122");
  ASSERT_TRUE(state.ok());
  const std::string report = ReconciliationCsv(second->report, &*state);
  EXPECT_NE(report.find("amount_mismatch,"), std::string::npos);
  EXPECT_NE(report.find(",68500.00,68000.00,explained\r\n"), std::string::npos) << report;
  HttpResponse shown = Call(http::verb::get, "/v1/reconciliation/stmt-20261122", "bpk");
  ASSERT_EQ(shown.result_int(), 200) << shown.body();
  EXPECT_NE(shown.body().find(R"("resolution":"explained")"), std::string::npos) << shown.body();
  EXPECT_NE(shown.body().find(R"("run":2)"), std::string::npos) << shown.body();
  // Every discrepancy carries both amounts; the side that has none is null.
  EXPECT_NE(shown.body().find(R"("kind":"missing_in_ledger")"), std::string::npos);
  EXPECT_NE(shown.body().find(R"("ledger_amount":null)"), std::string::npos) << shown.body();
  EXPECT_NE(shown.body().find(R"("statement_amount":null)"), std::string::npos) << shown.body();
  EXPECT_NE(shown.body().find(R"("statement_amount":"68500.00","ledger_amount":"68000.00")"),
            std::string::npos)
      << shown.body();
}

}  // namespace
}  // namespace malpro
