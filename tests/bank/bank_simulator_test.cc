// BankSimulator over real sockets on 127.0.0.1, driven by our SnapClient: voiding a QRIS
// (qr-mpm-cancel) or a virtual account (delete-va), the "too late, the payer paid" refusal,
// the late success of a voided request, and bank references that are never handed out twice,
// across restarts and between simulators that share a state directory. Also the demo's
// in-process bank, served again on its log.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "adapters/bank/in_process_bank.h"
#include "adapters/bank/notify.h"
#include "adapters/bank/simulator.h"
#include "adapters/bank/snap_client.h"
#include "adapters/bank/snap_signature.h"
#include "adapters/http/server.h"
#include "engine/domain_events.h"
#include "tests/bank/bank_testing.h"
#include "tests/bank/handler_server.h"
#include "tests/support/beast_client.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

using testing::kBankClientSecret;
using testing::kBankNow;
using testing::kSecond;

using boost::beast::http::verb;

const Money kAmount = Money::FromRupiah(68'000);

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

using testing::ReadTestFile;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

// A string at `path` (keys) of a JSON text; "" when absent.
std::string JsonAt(const std::string& json, std::initializer_list<std::string_view> path) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  if (parser.parse(json).get(element) != simdjson::SUCCESS) return "";
  for (std::string_view key : path) {
    if (element[key].get(element) != simdjson::SUCCESS) return "";
  }
  std::string_view value;
  if (element.get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

uint64_t NumberOf(const std::string& reference) {
  std::optional<uint64_t> number = SimulatedReferenceNumber(reference);
  EXPECT_TRUE(number.has_value()) << reference;
  return number.value_or(0);
}

struct Notification {
  std::string target;
  std::string body;
};

// The partner's notify endpoint: records every notification and acknowledges it.
class Partner {
 public:
  std::string url() const { return server_.url(); }
  std::vector<Notification> notifications() {
    std::lock_guard<std::mutex> lock(mutex_);
    return notifications_;
  }

 private:
  std::optional<HttpResponse> Receive(const HttpRequest& request) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      notifications_.push_back({std::string(request.target()), request.body()});
    }
    HttpResponse response{http::status::ok, request.version()};
    response.set(http::field::content_type, "application/json");
    response.body() = R"({"responseCode":"2005200","responseMessage":"Successful"})";
    response.prepare_payload();
    return response;
  }

  std::mutex mutex_;
  std::vector<Notification> notifications_;
  // Last: stopped before what its handler touches is gone.
  testing::HandlerServer server_{[this](const HttpRequest& request) { return Receive(request); }};
};

class BankSimulatorTest : public ::testing::Test {
 protected:
  BankSimulatorOptions Options() {
    BankSimulatorOptions options;
    options.client_id = "MALPRO";
    options.client_secret = kBankClientSecret;
    options.client_public_key_pem = ReadTestFile("partner_public.pem");
    options.bank_private_key_pem = ReadTestFile("bank_private.pem");
    options.callback_base_url = partner_.url();
    options.state_dir = state_dir_;
    options.clock = [this] { return now_.load(); };
    return options;
  }
  std::unique_ptr<BankSimulator> Start(BankSimulatorOptions options) {
    auto simulator = std::make_unique<BankSimulator>(std::move(options));
    Status started = simulator->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return simulator;
  }
  std::unique_ptr<SnapClient> ClientOf(const BankSimulator& simulator) {
    SnapClientOptions options;
    options.base_url = simulator.base_url();
    options.client_id = "MALPRO";
    options.client_secret = kBankClientSecret;
    options.private_key_pem = ReadTestFile("partner_private.pem");
    options.retry_backoff_ms = 10;
    options.clock = [this] { return now_.load(); };
    return std::move(SnapClient::Create(options)).value();
  }
  testing::Reply Control(const BankSimulator& simulator, const std::string& action,
                         const std::string& body) {
    return testing::BeastClient(simulator.port()).Send(verb::post, "/sim/" + action, body);
  }

  std::atomic<int64_t> now_{kBankNow};
  testing::TempDir dir_;
  const std::string state_dir_ = dir_.Sub("bank-state");
  Partner partner_;
};

TEST_F(BankSimulatorTest, ACancelledQrisCanNoLongerBePaid) {
  std::unique_ptr<BankSimulator> simulator = Start(Options());
  std::unique_ptr<SnapClient> client = ClientOf(*simulator);
  Result<QrisIssued> qris =
      client->GenerateQris("order-1", kAmount, "warung", kBankNow + 1800 * kSecond);
  ASSERT_TRUE(qris.ok()) << qris.status().ToString();
  now_ += 60 * kSecond;
  Status cancelled = client->CancelQris("order-1", qris->reference_no, "warung");
  ASSERT_TRUE(cancelled.ok()) << cancelled.ToString();
  Result<BankPaymentStatus> status = client->QueryQris("order-1", qris->reference_no, "warung");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->latest_status, "05");
  // Voiding again is harmless: the request stays void.
  EXPECT_TRUE(client->CancelQris("order-1", qris->reference_no, "warung").ok());

  Result<NotifyOutcome> paid = simulator->Pay(qris->reference_no);
  EXPECT_EQ(paid.status().error_code(), "payment_not_pending");
  EXPECT_NE(paid.status().message().find("late"), std::string::npos) << paid.status().ToString();
  EXPECT_EQ(simulator->Pay("order-1", /*notify=*/false).status().error_code(),
            "payment_not_pending");
  testing::Reply over_http =
      Control(*simulator, "pay", R"({"reference":")" + qris->reference_no + R"("})");
  EXPECT_EQ(over_http.status, 409) << over_http.body;
  EXPECT_EQ(JsonAt(over_http.body, {"error", "code"}), "payment_not_pending");
  EXPECT_TRUE(partner_.notifications().empty());
  EXPECT_EQ(client->QueryQris("order-1", qris->reference_no, "warung")->latest_status, "05");

  // A cancel must name the request exactly: payment id, reference and merchant.
  EXPECT_EQ(client->CancelQris("order-2", qris->reference_no, "warung").error_code(),
            "bank_payment_not_found");
  EXPECT_EQ(client->CancelQris("order-1", "BJQR999999999999", "warung").error_code(),
            "bank_payment_not_found");
  EXPECT_EQ(client->CancelQris("order-1", "order-1", "warung").error_code(),
            "bank_payment_not_found");
  EXPECT_EQ(client->CancelQris("order-1", qris->reference_no, "toko").error_code(),
            "bank_payment_not_found");
}

TEST_F(BankSimulatorTest, ADeletedVirtualAccountCanNoLongerBePaid) {
  std::unique_ptr<BankSimulator> simulator = Start(Options());
  std::unique_ptr<SnapClient> client = ClientOf(*simulator);
  Result<VirtualAccountIssued> account =
      client->CreateVirtualAccount("order-2", kAmount, "0002", "Siti", kBankNow + 1800 * kSecond);
  ASSERT_TRUE(account.ok()) << account.status().ToString();
  EXPECT_EQ(client->DeleteVirtualAccount("order-9", account->virtual_account_no).error_code(),
            "bank_payment_not_found");
  Status deleted = client->DeleteVirtualAccount("order-2", account->virtual_account_no);
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  Result<BankPaymentStatus> status =
      client->QueryVirtualAccount("order-2", account->virtual_account_no);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->latest_status, "05");
  EXPECT_TRUE(client->DeleteVirtualAccount("order-2", account->virtual_account_no).ok());
  EXPECT_EQ(simulator->Pay(account->virtual_account_no).status().error_code(),
            "payment_not_pending");
  EXPECT_TRUE(partner_.notifications().empty());
}

TEST_F(BankSimulatorTest, AVoidAfterThePayerPaidIsBankAlreadyPaid) {
  std::unique_ptr<BankSimulator> simulator = Start(Options());
  std::unique_ptr<SnapClient> client = ClientOf(*simulator);
  Result<QrisIssued> qris = client->GenerateQris("order-1", kAmount, "warung", kBankNow);
  Result<VirtualAccountIssued> account =
      client->CreateVirtualAccount("order-2", kAmount, "0002", "Siti", kBankNow);
  ASSERT_TRUE(qris.ok() && account.ok());
  ASSERT_TRUE(simulator->Pay(qris->reference_no).ok());
  ASSERT_TRUE(simulator->Pay(account->virtual_account_no).ok());
  ASSERT_EQ(partner_.notifications().size(), 2u);

  Status cancelled = client->CancelQris("order-1", qris->reference_no, "warung");
  EXPECT_EQ(cancelled.code(), StatusCode::kConflict) << cancelled.ToString();
  EXPECT_EQ(cancelled.error_code(), "bank_already_paid");
  EXPECT_NE(cancelled.message().find("4047714"), std::string::npos) << cancelled.ToString();
  Status deleted = client->DeleteVirtualAccount("order-2", account->virtual_account_no);
  EXPECT_EQ(deleted.code(), StatusCode::kConflict) << deleted.ToString();
  EXPECT_EQ(deleted.error_code(), "bank_already_paid");
  EXPECT_NE(deleted.message().find("4043114"), std::string::npos) << deleted.ToString();
  // The refusal changed nothing: still paid, nothing more sent.
  EXPECT_EQ(client->QueryQris("order-1", qris->reference_no, "warung")->latest_status, "00");
  EXPECT_EQ(client->QueryVirtualAccount("order-2", account->virtual_account_no)->latest_status,
            "00");
  EXPECT_EQ(partner_.notifications().size(), 2u);
}

TEST_F(BankSimulatorTest, ALateSuccessOfAVoidedQrisIsStillNotified) {
  std::unique_ptr<BankSimulator> simulator = Start(Options());
  std::unique_ptr<SnapClient> client = ClientOf(*simulator);
  Result<QrisIssued> qris = client->GenerateQris("order-1", kAmount, "warung", kBankNow);
  ASSERT_TRUE(qris.ok());
  // Late applies to voided requests only.
  EXPECT_EQ(simulator->PayLate(qris->reference_no).status().error_code(), "payment_not_voided");
  now_ = kBankNow + 60 * kSecond;
  ASSERT_TRUE(client->CancelQris("order-1", qris->reference_no, "warung").ok());
  now_ = kBankNow + 120 * kSecond;

  Result<NotifyOutcome> late = simulator->PayLate(qris->reference_no);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_TRUE(late->sent);
  EXPECT_EQ(late->status, 200);
  std::vector<Notification> sent = partner_.notifications();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target, snap_qris_notify_path);
  EXPECT_EQ(JsonAt(sent[0].body, {"latestTransactionStatus"}), "00");
  EXPECT_EQ(JsonAt(sent[0].body, {"originalReferenceNo"}), qris->reference_no);
  EXPECT_EQ(JsonAt(sent[0].body, {"originalPartnerReferenceNo"}), "order-1");
  EXPECT_EQ(JsonAt(sent[0].body, {"amount", "value"}), "68000.00");
  // Paid just before the void reached the bank.
  EXPECT_EQ(JsonAt(sent[0].body, {"additionalInfo", "paidTime"}),
            SnapTimestamp(kBankNow + 59 * kSecond));
  // The money moved: the bank reports it paid and books it.
  EXPECT_EQ(client->QueryQris("order-1", qris->reference_no, "warung")->latest_status, "00");
  std::vector<SimulatedStatementEntry> statement = simulator->Statement("2026-11-22");
  ASSERT_EQ(statement.size(), 1u);
  EXPECT_EQ(statement[0].bank_reference, qris->reference_no);
  EXPECT_EQ(statement[0].amount, kAmount);
  // Once paid, a void is too late and a second late payment is refused.
  EXPECT_EQ(client->CancelQris("order-1", qris->reference_no, "warung").error_code(),
            "bank_already_paid");
  EXPECT_EQ(simulator->PayLate(qris->reference_no).status().error_code(), "payment_not_voided");
  EXPECT_EQ(partner_.notifications().size(), 1u);
}

TEST_F(BankSimulatorTest, ALateSuccessIsTriggeredOverTheControlApi) {
  std::unique_ptr<BankSimulator> simulator = Start(Options());
  std::unique_ptr<SnapClient> client = ClientOf(*simulator);
  Result<VirtualAccountIssued> account =
      client->CreateVirtualAccount("order-2", kAmount, "0002", "Siti", kBankNow);
  ASSERT_TRUE(account.ok());
  ASSERT_TRUE(client->DeleteVirtualAccount("order-2", account->virtual_account_no).ok());
  const std::string reference = R"({"reference":")" + account->virtual_account_no + R"(")";

  testing::Reply wrong_type = Control(*simulator, "pay", reference + R"(,"late":"yes"})");
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
  EXPECT_EQ(JsonAt(wrong_type.body, {"error", "code"}), "body_field_wrong_type");
  testing::Reply fail = Control(*simulator, "fail", reference + R"(,"late":true})");
  EXPECT_EQ(fail.status, 422) << fail.body;
  EXPECT_EQ(JsonAt(fail.body, {"error", "code"}), "late_not_applicable");
  EXPECT_TRUE(partner_.notifications().empty());

  testing::Reply paid = Control(*simulator, "pay", reference + R"(,"late":true})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_NE(paid.body.find(R"("notified":true)"), std::string::npos) << paid.body;
  std::vector<Notification> sent = partner_.notifications();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target, snap_va_payment_path);
  EXPECT_EQ(JsonAt(sent[0].body, {"virtualAccountNo"}), account->virtual_account_no);
  EXPECT_EQ(JsonAt(sent[0].body, {"paidAmount", "value"}), "68000.00");
  testing::Reply listed =
      testing::BeastClient(simulator->port()).Send(verb::get, "/sim/payments", "");
  EXPECT_NE(listed.body.find(R"("state":"paid","voided":true,"paid_after_void":true)"),
            std::string::npos)
      << listed.body;
}

TEST_F(BankSimulatorTest, ReferencesAreNeverHandedOutAgainAfterARestart) {
  std::set<uint64_t> handed_out;
  auto issue = [&](SnapClient& client, const std::string& payment_id) {
    Result<QrisIssued> qris = client.GenerateQris(payment_id, kAmount, "warung", kBankNow);
    EXPECT_TRUE(qris.ok()) << qris.status().ToString();
    Result<VirtualAccountIssued> account = client.CreateVirtualAccount(
        payment_id + "-va", kAmount, payment_id.substr(payment_id.size() - 4), "Siti", kBankNow);
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    if (!qris.ok() || !account.ok()) return std::vector<uint64_t>{};
    return std::vector<uint64_t>{NumberOf(qris->reference_no), NumberOf(account->reference_no)};
  };
  uint64_t first_run_max = 0;
  {
    std::unique_ptr<BankSimulator> simulator = Start(Options());
    std::unique_ptr<SnapClient> client = ClientOf(*simulator);
    for (const char* payment : {"order-1001", "order-1002", "order-1003"}) {
      for (uint64_t number : issue(*client, payment)) {
        EXPECT_TRUE(handed_out.insert(number).second) << number;
        first_run_max = std::max(first_run_max, number);
      }
      // Durable before it was handed out: the state already covers it while the bank runs
      // (a crash now would lose nothing).
      const std::string state = ReadFile(state_dir_ + "/references");
      EXPECT_EQ(state,
                "next_reference " + std::to_string(1 + bank_simulator_reference_block) + "\n");
    }
  }
  ASSERT_EQ(handed_out.size(), 6u);
  // Restarted on the same directory, with another running beside it.
  std::unique_ptr<BankSimulator> second = Start(Options());
  std::unique_ptr<BankSimulator> third = Start(Options());
  std::unique_ptr<SnapClient> second_client = ClientOf(*second);
  std::unique_ptr<SnapClient> third_client = ClientOf(*third);
  for (const char* payment : {"order-2001", "order-2002"}) {
    for (SnapClient* client : {second_client.get(), third_client.get()}) {
      for (uint64_t number : issue(*client, payment)) {
        EXPECT_GT(number, first_run_max);
        EXPECT_TRUE(handed_out.insert(number).second) << "handed out again: " << number;
      }
    }
  }
  EXPECT_EQ(handed_out.size(), 14u);
  EXPECT_EQ(ReadFile(state_dir_ + "/references"),
            "next_reference " + std::to_string(1 + 3 * bank_simulator_reference_block) + "\n");
}

TEST_F(BankSimulatorTest, AStateItCannotTrustOrWriteStopsTheStart) {
  std::filesystem::create_directories(state_dir_);
  for (const std::string& text :
       {std::string("next_reference 12x\n"), std::string("next_reference 0\n"),
        std::string("next_reference 17"), std::string("next 17\n"), std::string(""),
        std::string("next_reference 9999999999999\n")}) {
    WriteFile(state_dir_ + "/references", text);
    BankSimulator simulator(Options());
    Status started = simulator.Start();
    EXPECT_EQ(started.code(), StatusCode::kCorruption) << text << ": " << started.ToString();
    EXPECT_NE(started.message().find("next_reference N"), std::string::npos);
    EXPECT_EQ(ReadFile(state_dir_ + "/references"), text);  // left as it was
  }
  WriteFile(dir_.Sub("a-file"), "not a directory");
  BankSimulatorOptions options = Options();
  options.state_dir = dir_.Sub("a-file") + "/state";
  BankSimulator simulator(options);
  EXPECT_EQ(simulator.Start().code(), StatusCode::kIOError);
}

TEST_F(BankSimulatorTest, WithoutAStateDirNumberingStartsAtTheFirstReference) {
  BankSimulatorOptions options = Options();
  options.state_dir.clear();
  options.first_reference = 43;
  std::unique_ptr<BankSimulator> simulator = Start(options);
  std::unique_ptr<SnapClient> client = ClientOf(*simulator);
  Result<QrisIssued> qris = client->GenerateQris("order-1", kAmount, "warung", kBankNow);
  ASSERT_TRUE(qris.ok()) << qris.status().ToString();
  EXPECT_EQ(qris->reference_no, "BJQR000000000043");
  EXPECT_FALSE(std::filesystem::exists(state_dir_));
}

TEST(SimulatedReferenceNumberTest, OnlySimulatorReferencesHaveANumber) {
  EXPECT_EQ(SimulatedReferenceNumber("BJQR000000000042").value_or(0), 42u);
  EXPECT_EQ(SimulatedReferenceNumber("BJVA999999999999").value_or(0), 999'999'999'999u);
  for (const char* other : {"BJQR42", "BJQR0000000000042", "XXQR000000000042", "BJQR00000000004a",
                            "   123450001", ""}) {
    EXPECT_FALSE(SimulatedReferenceNumber(other).has_value()) << other;
  }
}

// The demo's bank keeps no state of its own: served again on its log, it numbers above the
// references the log holds.
TEST(InProcessBankTest, ServedAgainOnItsLogItNeverReusesAReferenceOfTheLog) {
  testing::TempDir dir;
  LogOptions log_options;
  log_options.data_dir = dir.Sub("log");
  std::unique_ptr<EventLog> log = std::move(EventLog::Open(log_options)).value();
  std::unique_ptr<Ledger> owned_ledger = testing::MalangLedger(log.get());
  Ledger& ledger = *owned_ledger;
  CommandContext admin;
  admin.actor = "admin:setup";
  const Status seeded = testing::SeedMarket(ledger, admin);  // lists beras at kAmount
  ASSERT_TRUE(seeded.ok()) << seeded.ToString();
  constexpr const char* kBuyer = testing::kBankBuyer;
  for (const char* id : {"order-1", "order-2"}) {
    ASSERT_TRUE(ledger.Place({id, kBuyer, "warung", {{"beras", 1}}, "CASHLESS"}, admin).ok());
  }
  std::function<int64_t()> clock = [&ledger] { return ledger.Now(); };
  CommandContext adapter;
  adapter.actor = "system:bank-adapter";

  std::string first_reference;
  {
    Result<std::unique_ptr<InProcessBank>> bank = InProcessBank::Start(&ledger, log.get(), clock);
    ASSERT_TRUE(bank.ok()) << bank.status().ToString();
    Result<PaymentRequested> requested = (*bank)->payments()->Request("order-1", "QRIS", adapter);
    ASSERT_TRUE(requested.ok()) << requested.status().ToString();
    first_reference = requested->bank_reference;
  }
  Result<uint64_t> highest = HighestSimulatedReference(*log);
  ASSERT_TRUE(highest.ok()) << highest.status().ToString();
  EXPECT_EQ(*highest, NumberOf(first_reference));

  Result<std::unique_ptr<InProcessBank>> again = InProcessBank::Start(&ledger, log.get(), clock);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  Result<PaymentRequested> second = (*again)->payments()->Request("order-2", "QRIS", adapter);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->bank_reference, first_reference);
  EXPECT_EQ(NumberOf(second->bank_reference), NumberOf(first_reference) + 1);
}

}  // namespace
}  // namespace malpro
