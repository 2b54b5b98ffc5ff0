// A real log and ledger in a temp dir with a clock the test moves, a seeded policy (fee 30
// basis points, UMI payments up to Rp500.000 free, cut-off 22:00), a buyer and two verified
// merchants: warung-bu-sri (UMI) and toko-pak-min (UKE).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "adapters/cli/geography_config.h"
#include "engine/domain_events.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "tests/support/ledger_fixture.h"

namespace malpro {

// Asia/Jakarta wall time in UTC microseconds.
inline int64_t JakartaTime(CivilDate date, int hour, int minute) {
  return ((DaysFromCivil(date) * 86'400 + hour * 3600 + minute * 60) - 7 * 3600) * 1'000'000;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

class FilesFixture : public LedgerFixture {
 protected:
  static constexpr CivilDate kDay{2026, 11, 21};
  static constexpr CivilDate kNextDay{2026, 11, 22};
  static constexpr char kBuyer[] = "198507122010011003";

  void SetUp() override {
    now_ = JakartaTime(kDay, 8, 0);
    ASSERT_NO_FATAL_FAILURE(OpenLedger({}, /*counting_ids=*/false));
    PolicyDefaults policy;
    policy.minimum_spend = {{"III", Money::FromRupiah(400'000)}};
    policy.fee_basis_points = 30;
    policy.umi_zero_fee_max = Money::FromRupiah(500'000);
    policy.settlement_cutoff_minutes = 22 * 60;
    policy.effective_from = {2023, 3, 13};
    ASSERT_TRUE(ledger_->SeedPolicy(policy, As("system:config")).ok());
    ASSERT_TRUE(ledger_
                    ->Register(RegisterAsn{kBuyer, "Siti Rahayu", "Diskominfo", "III/a", "Kauman"},
                               As("admin:setup"))
                    .ok());
    AddMerchant("warung-bu-sri", "Warung Bu Sri", "0012345678", "UMI");
    AddMerchant("toko-pak-min", "Toko Pak Min & Anak", "0098765432", "UKE");
  }

  void AddMerchant(const std::string& id, const std::string& name, const std::string& account,
                   const std::string& criteria) {
    ASSERT_TRUE(ledger_
                    ->Register(RegisterUmkm{id, name, "", "sembako", "Klojen", "Kauman",
                                            "Diskopindag", account, criteria},
                               As("admin:setup"))
                    .ok());
    ASSERT_TRUE(ledger_->VerifyUmkm(id, As("operator:rina")).ok());
    ASSERT_TRUE(ledger_
                    ->List({id, "beras-5kg", "Beras 5 kg", "pack", Money::FromRupiah(68'000)},
                           As("operator:rina"))
                    .ok());
  }

  // A cashless order of `packs` x Rp68.000 at `umkm_id`, requested with `bank_reference`.
  void RequestPayment(const std::string& order_id, const std::string& umkm_id, int64_t packs,
                      const std::string& bank_reference) {
    PlaceOrder order{order_id, kBuyer, umkm_id, {{"beras-5kg", packs}}, "CASHLESS"};
    ASSERT_TRUE(ledger_->Place(order, As("asn:" + std::string(kBuyer))).ok());
    ASSERT_TRUE(ledger_->RequestPayment(order_id, "QRIS", bank_reference, As("system:bank")).ok());
  }

  // ...and its success, paid at `paid_at_us`.
  void Pay(const std::string& order_id, const std::string& umkm_id, int64_t packs,
           const std::string& bank_reference, int64_t paid_at_us) {
    // Requested a minute before it is paid (the bank's paid time must follow the request),
    // recorded when paid; the clock then stays where it was if that was later.
    const int64_t before = now_.load();
    now_ = paid_at_us - 60'000'000;
    RequestPayment(order_id, umkm_id, packs, bank_reference);
    now_ = paid_at_us;
    Result<CommandResult> paid = ledger_->RecordPaymentSucceeded(
        testing::BankPaid(order_id, "QRIS", bank_reference, Money::FromRupiah(68'000 * packs),
                          paid_at_us),
        As("system:bank"));
    now_ = std::max(before, paid_at_us);
    ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  }

  // The payload of the last event of `stream`, parsed.
  std::string LastPayload(const std::string& stream) {
    Result<uint64_t> version = log_->StreamVersion(stream);
    EXPECT_TRUE(version.ok());
    Result<std::vector<Event>> events = log_->ReadStream(stream, *version, 1);
    EXPECT_TRUE(events.ok() && events->size() == 1);
    return events->front().payload;
  }
};

}  // namespace malpro
