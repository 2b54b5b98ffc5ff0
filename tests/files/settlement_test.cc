#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "adapters/files/files_limits.h"
#include "adapters/files/settlement_run.h"
#include "adapters/http/api.h"
#include "engine/hash.h"
#include "tests/files/files_fixture.h"

namespace malpro {
namespace {

class SettlementTest : public FilesFixture {
 protected:
  // Two payments to the UMI merchant (no fee up to Rp500.000) and one to the UKE merchant
  // (0.30%), all before the day's cut-off, and one to the UKE merchant after it.
  void PayTheDay() {
    Pay("order-1", "warung-bu-sri", 2, "BJ-0001", JakartaTime(kDay, 9, 15));
    Pay("order-2", "warung-bu-sri", 1, "BJ-0002", JakartaTime(kDay, 13, 40));
    Pay("order-3", "toko-pak-min", 3, "BJ-0003", JakartaTime(kDay, 21, 59));
    Pay("order-4", "toko-pak-min", 1, "BJ-0004", JakartaTime(kDay, 22, 0));
  }

  Result<SettleOutcome> SettleDay(CivilDate day) {
    return Settle(*ledger_, *log_, day, out_, SettlementFileOptions{}, As("operator:rina"));
  }

  std::string out_ = dir_.Sub("out");
};

TEST_F(SettlementTest, TotalsPerMerchantUseTheFeeRecordedInEachPayment) {
  PayTheDay();
  // A fee change after the payments must not touch them: the fee is the one recorded.
  now_ = JakartaTime(kNextDay, 8, 0);
  ASSERT_TRUE(ledger_->SetFeeRule(100, Money(), "2026-11-22", As("admin:setup")).ok());
  Result<SettleOutcome> outcome = SettleDay(kDay);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  // (Nothing refunded or carried: those fields stay zero.)
  const auto line = [](std::string umkm_id, Money gross, Money fee, Money net, int64_t payments) {
    MerchantSettlement settlement;
    settlement.umkm_id = std::move(umkm_id);
    settlement.gross = gross;
    settlement.fee = fee;
    settlement.net = net;
    settlement.payments = payments;
    return settlement;
  };
  const std::vector<MerchantSettlement> expected = {
      line("toko-pak-min", Money::FromRupiah(204'000), Money::FromSen(61'200),
           Money::FromSen(20'400'000 - 61'200), 1),
      line("warung-bu-sri", Money::FromRupiah(204'000), Money(), Money::FromRupiah(204'000), 2)};
  EXPECT_EQ(outcome->day.merchants, expected);
  EXPECT_EQ(outcome->day.total_net, Money::FromSen(40'800'000 - 61'200));
  Result<SettlementState> closed = ledger_->LoadSettlement(kDay);
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->merchants, expected);
  EXPECT_EQ(closed->total_net, outcome->day.total_net);
  EXPECT_EQ(closed->file_name, "malpro-settlement-2026-11-21.pain001.xml");
  Result<std::vector<Event>> events = log_->ReadStream("settlement-2026-11-21", 1, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, event_types::settlement_batch_closed);
  EXPECT_EQ(events->front().actor, "operator:rina");
}

TEST_F(SettlementTest, APaymentAtTheCutoffLandsOnTheNextDay) {
  PayTheDay();
  Result<PaymentState> late = ledger_->LoadPayment("order-4");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->business_date, kNextDay);
  now_ = JakartaTime(kNextDay, 22, 0);
  Result<SettlementDay> day = ledger_->ComputeSettlement(kDay);
  Result<SettlementDay> next = ledger_->ComputeSettlement(kNextDay);
  ASSERT_TRUE(day.ok() && next.ok());
  EXPECT_EQ(day->payments, 3);
  ASSERT_EQ(next->merchants.size(), 1u);
  EXPECT_EQ(next->merchants[0].umkm_id, "toko-pak-min");
  EXPECT_EQ(next->merchants[0].gross, Money::FromRupiah(68'000));
  ASSERT_TRUE(SettleDay(kNextDay).ok());
}

TEST_F(SettlementTest, TheSameDayTwiceIsRefusedAndItsFilesAreKept) {
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  Result<SettleOutcome> first = SettleDay(kDay);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string pain001 = ReadFile(first->pain001_path);
  Result<SettleOutcome> second = SettleDay(kDay);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().error_code(), "settlement_already_closed");
  EXPECT_EQ(second.status().field(), "business_date");
  // Each recorded hash stands next to its file's name, to check the files at hand against.
  EXPECT_NE(second.status().message().find("pain.001 malpro-settlement-2026-11-21.pain001.xml "
                                           "sha256 " +
                                           first->pain001_sha256),
            std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("csv malpro-settlement-2026-11-21.csv sha256 " +
                                           first->csv_sha256),
            std::string::npos)
      << second.status().message();
  EXPECT_EQ(ReadFile(first->pain001_path), pain001);
  // The ledger refuses it too, whatever the caller checked (expected version 0 of the stream).
  CloseSettlement again{"2026-11-21", first->day.merchants,  first->day.total_net,
                        "other.xml",  first->pain001_sha256, first->csv_sha256};
  Result<CommandResult> closed = ledger_->Close(again, As("operator:rina"));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().error_code(), "settlement_already_closed");
  EXPECT_EQ(*log_->StreamVersion("settlement-2026-11-21"), 1u);
}

TEST_F(SettlementTest, ADayBeforeItsCutoffIsRefusedAndNothingIsWritten) {
  PayTheDay();
  now_ = JakartaTime(kDay, 21, 59);
  Result<SettleOutcome> early = SettleDay(kDay);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().error_code(), "settlement_day_not_over");
  EXPECT_FALSE(std::filesystem::exists(out_));
  Result<SettlementDay> day = ledger_->ComputeSettlement(kDay);
  ASSERT_TRUE(day.ok());
  CloseSettlement command{"2026-11-21", day->merchants,       day->total_net,
                          "x.xml",      std::string(64, 'a'), std::string(64, 'b')};
  Result<CommandResult> closed = ledger_->Close(command, As("operator:rina"));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().error_code(), "settlement_day_not_over");
  EXPECT_EQ(*log_->StreamVersion("settlement-2026-11-21"), 0u);
}

TEST_F(SettlementTest, TotalsThatDifferFromTheLogAreRefused) {
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  Result<SettlementDay> day = ledger_->ComputeSettlement(kDay);
  ASSERT_TRUE(day.ok());
  std::vector<MerchantSettlement> merchants = day->merchants;
  merchants[0].net += Money::FromSen(1);
  CloseSettlement command{
      "2026-11-21",         merchants,           day->total_net + Money::FromSen(1), "x.xml",
      std::string(64, 'a'), std::string(64, 'b')};
  Result<CommandResult> closed = ledger_->Close(command, As("operator:rina"));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().error_code(), "settlement_totals_stale");
  command.csv_sha256 = "not hex";
  closed = ledger_->Close(command, As("operator:rina"));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().field(), "csv_sha256");
}

TEST_F(SettlementTest, APaymentForAClosedDayMovesToTheNextOpenDay) {
  now_ = JakartaTime(kDay, 9, 0);
  RequestPayment("order-5", "warung-bu-sri", 1, "BJ-0005");
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  ASSERT_TRUE(SettleDay(kDay).ok());
  // The bank's notification of a morning payment comes only now, after the day was closed.
  BankSuccess success;
  success.payment_id = "order-5";
  success.channel = "QRIS";
  success.bank_reference = "BJ-0005";
  success.amount = Money::FromRupiah(68'000);
  success.paid_at_us = JakartaTime(kDay, 10, 0);
  ASSERT_TRUE(ledger_->RecordPaymentSucceeded(success, As("system:bank")).ok());
  Result<PaymentState> late = ledger_->LoadPayment("order-5");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->business_date, kNextDay);
}

// A refund is recovered from the merchant in the batch of the day it was recorded, whether or
// not its payment was already settled; what a batch cannot recover is carried into the next.
TEST_F(SettlementTest, RefundsAreRecoveredFromLaterPayoutsAndAShortfallIsCarried) {
  const CivilDate day3 = CivilFromDays(DaysFromCivil(kDay) + 2);
  const CivilDate day4 = CivilFromDays(DaysFromCivil(kDay) + 3);
  Pay("order-1", "warung-bu-sri", 2, "BJ-0001", JakartaTime(kDay, 9, 0));  // Rp136.000, no fee
  now_ = JakartaTime(kNextDay, 8, 0);
  ASSERT_TRUE(SettleDay(kDay).ok());
  // The next day: part of the settled payment goes back to the buyer, and a new sale.
  ASSERT_TRUE(
      ledger_->RefundPayment("order-1", Money::FromRupiah(50'000), As("operator:rina")).ok());
  EXPECT_NE(LastPayload("payment-order-1").find("\"business_date\":\"2026-11-22\""),
            std::string::npos);
  Pay("order-6", "warung-bu-sri", 1, "BJ-0006", JakartaTime(kNextDay, 10, 0));
  now_ = JakartaTime(day3, 8, 0);
  Result<SettleOutcome> second = SettleDay(kNextDay);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->day.merchants.size(), 1u);
  EXPECT_EQ(second->day.merchants[0].gross, Money::FromRupiah(68'000));
  EXPECT_EQ(second->day.merchants[0].refunds, Money::FromRupiah(50'000));
  EXPECT_EQ(second->day.merchants[0].net, Money::FromRupiah(18'000));
  EXPECT_EQ(second->day.merchants[0].carried_out, Money());
  // The third day: the rest of the first payment goes back, and nothing is sold.
  ASSERT_TRUE(
      ledger_->RefundPayment("order-1", Money::FromRupiah(86'000), As("operator:rina")).ok());
  now_ = JakartaTime(day4, 8, 0);
  Result<SettleOutcome> third = SettleDay(day3);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  ASSERT_EQ(third->day.merchants.size(), 1u);
  EXPECT_EQ(third->day.merchants[0].net, Money());
  EXPECT_EQ(third->day.merchants[0].carried_out, Money::FromRupiah(86'000));
  EXPECT_TRUE(third->pain001_path.empty());  // nothing to pay: no transfer file
  const std::string csv = ReadFile(third->csv_path);
  EXPECT_NE(csv.find(",0,0.00,0.00,86000.00,0.00,0.00,86000.00\r\n"), std::string::npos) << csv;
  // The fourth day: a sale pays the debt first.
  Pay("order-7", "warung-bu-sri", 2, "BJ-0007", JakartaTime(day4, 10, 0));
  now_ = JakartaTime(CivilFromDays(DaysFromCivil(day4) + 1), 8, 0);
  Result<SettleOutcome> fourth = SettleDay(day4);
  ASSERT_TRUE(fourth.ok()) << fourth.status().ToString();
  EXPECT_EQ(fourth->day.merchants[0].carried_in, Money::FromRupiah(86'000));
  EXPECT_EQ(fourth->day.merchants[0].net, Money::FromRupiah(50'000));
  EXPECT_EQ(fourth->day.merchants[0].carried_out, Money());
  // Conservation over the four batches: paid out = gross - fee - refunds (no debt left).
  Money paid, gross, fee, refunds;
  for (CivilDate day : {kDay, kNextDay, day3, day4}) {
    Result<SettlementState> batch = ledger_->LoadSettlement(day);
    ASSERT_TRUE(batch.ok());
    for (const MerchantSettlement& line : batch->merchants) {
      paid += line.net;
      gross += line.gross;
      fee += line.fee;
      refunds += line.refunds;
    }
  }
  EXPECT_EQ(paid, gross - fee - refunds);
  EXPECT_EQ(paid, Money::FromRupiah(136'000 + 68'000 + 136'000 - 136'000));
}

TEST_F(SettlementTest, FileHashesEqualThoseInTheEvent) {
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  Result<SettleOutcome> outcome = SettleDay(kDay);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  Result<SettlementState> closed = ledger_->LoadSettlement(kDay);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(HashToHex(Sha256(ReadFile(out_ + "/malpro-settlement-2026-11-21.pain001.xml"))),
            closed->pain001_sha256);
  EXPECT_EQ(HashToHex(Sha256(ReadFile(out_ + "/malpro-settlement-2026-11-21.csv"))),
            closed->csv_sha256);
  const std::string csv = ReadFile(outcome->csv_path);
  EXPECT_NE(
      csv.find("2026-11-21,MALPRO-STL-20261121,STL-20261121-001,toko-pak-min,"
               "Toko Pak Min & Anak,0098765432,1,204000.00,612.00,0.00,0.00,203388.00,0.00\r\n"),
      std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",TOTAL,,,,3,408000.00,612.00,0.00,0.00,407388.00,0.00\r\n"),
            std::string::npos)
      << csv;
}

TEST_F(SettlementTest, ADayWithoutPaymentsClosesWithACsvOnly) {
  now_ = JakartaTime(kNextDay, 8, 0);
  Result<SettleOutcome> outcome = SettleDay(kDay);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->pain001_path.empty());
  EXPECT_TRUE(std::filesystem::exists(outcome->csv_path));
  Result<SettlementState> closed = ledger_->LoadSettlement(kDay);
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->merchants.empty());
  EXPECT_EQ(closed->csv_sha256, HashToHex(Sha256(ReadFile(outcome->csv_path))));
  // Closed again: no pain.001 to name, and the CSV's own hash beside the CSV's name.
  Result<SettleOutcome> again = SettleDay(kDay);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().error_code(), errc::kSettlementAlreadyClosed);
  EXPECT_NE(again.status().message().find("no pain.001"), std::string::npos)
      << again.status().message();
  EXPECT_NE(again.status().message().find("csv malpro-settlement-2026-11-21.csv sha256 " +
                                          closed->csv_sha256),
            std::string::npos)
      << again.status().message();
}

// The fixture's first event is recorded at 08:00 on kDay (Asia/Jakarta): the day before it
// recorded nothing and closing it would close it for good with no payments.
TEST_F(SettlementTest, ADayBeforeTheLedgersFirstDayIsRefusedAndNothingIsWritten) {
  now_ = JakartaTime(kNextDay, 8, 0);
  const uint64_t head = log_->Head().sequence;
  Result<SettleOutcome> early = SettleDay({2026, 11, 20});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().error_code(), "settlement_before_first_day");
  EXPECT_EQ(early.status().field(), "business_date");
  EXPECT_NE(early.status().message().find("business_date (--date) 2026-11-20 is before the "
                                          "ledger's first day 2026-11-21"),
            std::string::npos)
      << early.status().message();
  EXPECT_FALSE(std::filesystem::exists(out_));
  EXPECT_EQ(log_->Head().sequence, head);
  // The first day itself closes.
  ASSERT_TRUE(SettleDay(kDay).ok());
}

// POST /v1/settlement/{date}/close reaches the same check: serve wires the route to Settle.
TEST_F(SettlementTest, TheCloseRouteRefusesADayBeforeTheFirstDayToo) {
  now_ = JakartaTime(kNextDay, 8, 0);
  TokenTable tokens;
  ASSERT_TRUE(tokens.Add(HashToHex(Sha256("token-rina")), {Role::kOperator, "rina"}, "t").ok());
  HttpMetrics metrics;
  ApiDependencies dependencies{log_.get(), ledger_.get(), nullptr, &tokens, &metrics,
                               65536,      65536,         {},      {}};
  dependencies.close_settlement = [this](const std::string& date,
                                         const CommandContext& context) -> Result<DetailedAnswer> {
    Result<CivilDate> day = ParseIsoDate(date, "date");
    if (!day.ok()) return day.status();
    Result<SettleOutcome> outcome =
        Settle(*ledger_, *log_, *day, out_, SettlementFileOptions{}, context);
    if (!outcome.ok()) return outcome.status();
    return DetailedAnswer{outcome->result, SettleOutcomeJson(*outcome)};
  };
  Api api(std::move(dependencies));
  auto close = [&api](const std::string& date) {
    HttpRequest request{http::verb::post, "/v1/settlement/" + date + "/close", 11};
    request.set(http::field::authorization, "Bearer token-rina");
    request.prepare_payload();
    return api.Handle(request);
  };
  const uint64_t head = log_->Head().sequence;
  HttpResponse early = close("2026-11-20");
  EXPECT_EQ(early.result_int(), 422) << early.body();
  EXPECT_NE(early.body().find(R"({"error":{"code":"settlement_before_first_day","message":)"),
            std::string::npos)
      << early.body();
  EXPECT_NE(early.body().find(R"("field":"business_date")"), std::string::npos) << early.body();
  EXPECT_NE(early.body().find("2026-11-21"), std::string::npos) << early.body();
  EXPECT_FALSE(std::filesystem::exists(out_));
  EXPECT_EQ(log_->Head().sequence, head);
  HttpResponse first_day = close("2026-11-21");
  EXPECT_EQ(first_day.result_int(), 201) << first_day.body();
}

// A close killed after it wrote its files but before the event was durable leaves files whose
// hashes nothing records, and maybe temp files. The next run writes them again, and the files
// on disk end up as the ones the event records.
TEST_F(SettlementTest, FilesAnUnfinishedCloseLeftAreReplacedByTheRecordedOnes) {
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  const std::string pain001 = out_ + "/malpro-settlement-2026-11-21.pain001.xml";
  const std::string csv = out_ + "/malpro-settlement-2026-11-21.csv";
  std::filesystem::create_directories(out_);
  for (const std::string& path : {pain001, csv, SettlementTempPath(pain001)}) {
    std::ofstream(path) << "left by a close killed before its event";
  }
  Result<SettleOutcome> outcome = SettleDay(kDay);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  Result<SettlementState> closed = ledger_->LoadSettlement(kDay);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(HashToHex(Sha256(ReadFile(pain001))), closed->pain001_sha256);
  EXPECT_EQ(HashToHex(Sha256(ReadFile(csv))), closed->csv_sha256);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(out_)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"malpro-settlement-2026-11-21.csv",
                                             "malpro-settlement-2026-11-21.pain001.xml"}));
}

// A pain.001 is only ever written for a day with payments; one found for a day without any is
// not the ledger's and goes.
TEST_F(SettlementTest, AStalePain001OfADayWithoutPaymentsIsRemoved) {
  now_ = JakartaTime(kNextDay, 8, 0);
  const std::string pain001 = out_ + "/malpro-settlement-2026-11-21.pain001.xml";
  std::filesystem::create_directories(out_);
  std::ofstream(pain001) << "<Document/>";
  std::ofstream(SettlementTempPath(pain001)) << "<Docu";
  std::ofstream(out_ + "/malpro-settlement-2026-11-21.csv") << "stale";
  Result<SettleOutcome> outcome = SettleDay(kDay);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(pain001));
  EXPECT_FALSE(std::filesystem::exists(SettlementTempPath(pain001)));
  EXPECT_EQ(HashToHex(Sha256(ReadFile(outcome->csv_path))),
            ledger_->LoadSettlement(kDay)->csv_sha256);
}

// No pain.001.001.09 schema ships in a Debian or npm package, so the checks that matter are
// made here: well-formed (xmllint), the namespace, the group header, and the transfers adding
// up to NbOfTxs and CtrlSum, each to the merchant's registered account.
class Pain001Document {
 public:
  explicit Pain001Document(const std::string& xml)
      : doc_(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "pain.xml", nullptr,
                           XML_PARSE_NONET)) {
    if (doc_ == nullptr) return;
    context_ = xmlXPathNewContext(doc_);
    xmlXPathRegisterNs(context_, BAD_CAST "p", BAD_CAST std::string(pain001_namespace).c_str());
  }
  ~Pain001Document() {
    if (context_) xmlXPathFreeContext(context_);
    if (doc_) xmlFreeDoc(doc_);
  }
  bool ok() const { return doc_ != nullptr; }
  std::vector<std::string> All(const std::string& path) {
    std::vector<std::string> values;
    xmlXPathObject* found = xmlXPathEvalExpression(BAD_CAST path.c_str(), context_);
    if (found && found->nodesetval) {
      for (int i = 0; i < found->nodesetval->nodeNr; ++i) {
        xmlChar* text = xmlNodeGetContent(found->nodesetval->nodeTab[i]);
        values.emplace_back(reinterpret_cast<const char*>(text));
        xmlFree(text);
      }
    }
    xmlXPathFreeObject(found);
    return values;
  }
  std::string One(const std::string& path) {
    std::vector<std::string> values = All(path);
    EXPECT_EQ(values.size(), 1u) << path;
    return values.empty() ? "" : values.front();
  }

 private:
  xmlDoc* doc_;
  xmlXPathContext* context_ = nullptr;
};

TEST_F(SettlementTest, Pain001IsWellFormedAndAddsUp) {
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  Result<SettleOutcome> outcome = SettleDay(kDay);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const std::string command = "xmllint --noout '" + outcome->pain001_path + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << "xmllint refused " << outcome->pain001_path;
  Pain001Document doc(ReadFile(outcome->pain001_path));
  ASSERT_TRUE(doc.ok());
  const std::string header = "/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/";
  const std::string batch = "/p:Document/p:CstmrCdtTrfInitn/p:PmtInf/";
  EXPECT_EQ(doc.One(header + "p:MsgId"), "MALPRO-STL-20261121");
  EXPECT_EQ(doc.One(header + "p:CreDtTm"), "2026-11-22T08:00:00+07:00");
  EXPECT_EQ(doc.One(header + "p:InitgPty/p:Nm"), "Pemerintah Kota Malang");
  EXPECT_EQ(doc.One(batch + "p:PmtMtd"), "TRF");
  EXPECT_EQ(doc.One(batch + "p:ReqdExctnDt/p:Dt"), "2026-11-22");
  EXPECT_EQ(doc.One(batch + "p:DbtrAcct/p:Id/p:Othr/p:Id"), "0011000000");
  const std::vector<std::string> amounts = doc.All(batch + "p:CdtTrfTxInf/p:Amt/p:InstdAmt");
  const std::vector<std::string> accounts =
      doc.All(batch + "p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:Othr/p:Id");
  const std::vector<std::string> ids = doc.All(batch + "p:CdtTrfTxInf/p:PmtId/p:EndToEndId");
  ASSERT_EQ(amounts.size(), outcome->day.merchants.size());
  EXPECT_EQ(doc.One(header + "p:NbOfTxs"), std::to_string(amounts.size()));
  EXPECT_EQ(doc.One(batch + "p:NbOfTxs"), std::to_string(amounts.size()));
  Money sum;
  for (size_t i = 0; i < amounts.size(); ++i) {
    Result<Money> amount = ParseSnapAmount(amounts[i], "InstdAmt");
    ASSERT_TRUE(amount.ok()) << amounts[i];
    EXPECT_EQ(*amount, outcome->day.merchants[i].net);
    sum += *amount;
    Result<UmkmState> umkm = ledger_->LoadUmkm(outcome->day.merchants[i].umkm_id);
    ASSERT_TRUE(umkm.ok());
    EXPECT_EQ(accounts.at(i), umkm->settlement_account);
    EXPECT_TRUE(ids.at(i).starts_with("STL-20261121-"));
    EXPECT_LE(ids.at(i).size(), mt940_reference_chars_max);
  }
  EXPECT_EQ(doc.One(header + "p:CtrlSum"), FormatSnap(sum));
  EXPECT_EQ(doc.One(batch + "p:CtrlSum"), FormatSnap(sum));
  // The merchant's name with an ampersand is escaped, not broken.
  EXPECT_EQ(doc.All(batch + "p:CdtTrfTxInf/p:Cdtr/p:Nm").front(), "Toko Pak Min & Anak");
}

}  // namespace
}  // namespace malpro
