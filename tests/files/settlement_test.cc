#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <cstdlib>
#include <filesystem>

#include "adapters/files/files_limits.h"
#include "adapters/files/settlement_run.h"
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
    return Settle(*ledger_, day, out_, SettlementFileOptions{}, As("operator:rina"));
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
  const std::vector<MerchantSettlement> expected = {
      {"toko-pak-min", Money::FromRupiah(204'000), Money::FromSen(61'200),
       Money::FromSen(20'400'000 - 61'200), 1},
      {"warung-bu-sri", Money::FromRupiah(204'000), Money(), Money::FromRupiah(204'000), 2}};
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
  PayTheDay();
  now_ = JakartaTime(kNextDay, 8, 0);
  ASSERT_TRUE(SettleDay(kDay).ok());
  // The bank's notification of a morning payment comes only now, after the day was closed.
  Pay("order-5", "warung-bu-sri", 1, "BJ-0005", JakartaTime(kDay, 10, 0));
  Result<PaymentState> late = ledger_->LoadPayment("order-5");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->business_date, kNextDay);
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
  EXPECT_NE(csv.find("2026-11-21,MALPRO-STL-20261121,STL-20261121-001,toko-pak-min,"
                     "Toko Pak Min & Anak,0098765432,1,204000.00,612.00,203388.00\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",TOTAL,,,,3,408000.00,612.00,407388.00\r\n"), std::string::npos) << csv;
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
