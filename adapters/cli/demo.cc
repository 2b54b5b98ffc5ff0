#include "adapters/cli/demo.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>
#include <vector>

#include "engine/civil_time.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
// The shape of the month: shares of merchants, orders and receipts.
constexpr double kShareWithNib = 0.7;            // merchants with an NIB
constexpr double kShareDiskopindag = 0.6;        // sponsored by Diskopindag (else Dispangtan)
constexpr double kShareUmi = 0.8;                // micro merchants (QRIS criterion UMI)
constexpr double kShareExtraProduct = 0.7;       // each further product of the category listed
constexpr double kShareCashless = 0.3;           // orders paid by QRIS or VA
constexpr double kShareQris = 0.8;               // of cashless payments, by QRIS (else VA)
constexpr double kShareExpiredQr = 0.05;         // payments whose first QR expired unpaid
constexpr double kShareCancelled = 0.06;         // orders cancelled before acceptance
constexpr double kSharePartlyRefunded = 0.03;    // cashless deliveries refunded in part
constexpr double kSharePaidAfterVoid = 0.3;      // voided requests the payer paid anyway
constexpr double kShareExceptionRefunded = 0.5;  // of those, refunded by the operator that day
constexpr double kShareReceiptsApproved = 0.8;   // manual receipts approved (else rejected)

// The identities behind the trial tokens in config/malpro.toml.
constexpr char kTrialNip[] = "198507122010011003";
constexpr char kTrialUmkm[] = "warung-bu-sri";

constexpr std::array<const char*, 30> kAgencies = {"Diskominfo",
                                                   "Dinkes",
                                                   "Dispendik",
                                                   "Bappeda",
                                                   "BKPSDM",
                                                   "DPUPRPKP",
                                                   "Dishub",
                                                   "Satpol PP",
                                                   "Disnaker",
                                                   "Diskopindag",
                                                   "Dispangtan",
                                                   "DLH",
                                                   "Disporapar",
                                                   "Dinsos",
                                                   "BPKAD",
                                                   "Bapenda",
                                                   "Inspektorat",
                                                   "Setda",
                                                   "DPMPTSP",
                                                   "Dispendukcapil",
                                                   "Disperkim",
                                                   "BPBD",
                                                   "Bakesbangpol",
                                                   "RSUD Kota Malang",
                                                   "Kecamatan Blimbing",
                                                   "Kecamatan Klojen",
                                                   "Kecamatan Kedungkandang",
                                                   "Kecamatan Sukun",
                                                   "Kecamatan Lowokwaru",
                                                   "DP3AP2KB"};
constexpr std::array<const char*, 24> kGivenNames = {
    "Siti",  "Agus",  "Dewi",  "Budi",    "Rina", "Eko",   "Sri",   "Hadi",
    "Nur",   "Joko",  "Wahyu", "Lestari", "Yuli", "Arif",  "Indah", "Bambang",
    "Ratna", "Teguh", "Fitri", "Hendra",  "Ayu",  "Dimas", "Putri", "Rudi"};
constexpr std::array<const char*, 16> kFamilyNames = {
    "Rahayu",    "Santoso",   "Wulandari", "Prasetyo",  "Susanti", "Hidayat",
    "Handayani", "Kurniawan", "Setiawati", "Nugroho",   "Pratiwi", "Saputra",
    "Maharani",  "Wibowo",    "Anggraini", "Firmansyah"};

struct ProductTemplate {
  const char* id;
  const char* name;
  const char* unit;
  int64_t rupiah;
};
struct CategoryTemplate {
  const char* category;
  const char* shop_prefix;
  std::vector<ProductTemplate> products;
};

const std::vector<CategoryTemplate>& Categories() {
  static const std::vector<CategoryTemplate> categories = {
      {"sembako",
       "Toko",
       {{"beras-5kg", "Beras 5 kg", "pack", 68'000},
        {"gula-1kg", "Gula pasir 1 kg", "kg", 17'500},
        {"minyak-2l", "Minyak goreng 2 L", "botol", 36'000},
        {"telur-1kg", "Telur ayam 1 kg", "kg", 29'000},
        {"mie-instan-dus", "Mie instan 1 dus", "dus", 115'000},
        {"tepung-1kg", "Tepung terigu 1 kg", "kg", 13'000}}},
      {"makanan",
       "Dapur",
       {{"keripik-tempe", "Keripik tempe Sanan", "bungkus", 15'000},
        {"sambal-pecel", "Sambal pecel", "botol", 20'000},
        {"kue-kering", "Kue kering", "toples", 45'000},
        {"bakpia", "Bakpia", "kotak", 30'000}}},
      {"minuman",
       "Kedai",
       {{"kopi-dampit", "Kopi Dampit bubuk", "bungkus", 25'000},
        {"jamu-kunyit", "Jamu kunyit asam", "botol", 12'000},
        {"sari-apel", "Sari apel", "botol", 18'000}}},
      {"kerajinan",
       "Sanggar",
       {{"topeng-malangan", "Topeng Malangan", "pcs", 150'000},
        {"anyaman-bambu", "Anyaman bambu", "pcs", 60'000},
        {"gerabah", "Gerabah hias", "pcs", 45'000}}},
      {"fashion",
       "Butik",
       {{"batik-malangan", "Batik Malangan", "lembar", 250'000},
        {"kaos-malang", "Kaos Malang", "pcs", 85'000}}},
      {"buku", "Pustaka", {{"buku-sejarah-malang", "Buku sejarah Malang", "eksemplar", 75'000}}},
      {"jasa",
       "Jasa",
       {{"jahit-baju", "Jahit baju", "jasa", 50'000},
        {"servis-sepatu", "Servis sepatu", "jasa", 35'000}}},
      {"pertanian",
       "Tani",
       {{"sayur-bayam", "Bayam", "ikat", 3'000},
        {"tomat-1kg", "Tomat 1 kg", "kg", 12'000},
        {"apel-1kg", "Apel 1 kg", "kg", 25'000},
        {"madu-randu", "Madu randu", "botol", 85'000}}},
  };
  return categories;
}

CivilDate MonthOf(const DemoOptions& options) {
  if (options.month.size() == 7 && options.month[4] == '-') {
    Result<CivilDate> date = ParseIsoDate(options.month + "-01", "month");
    if (date.ok()) return *date;
  }
  CivilDate today = JakartaDate(WallClockMicros());
  return today.month == 1 ? CivilDate{today.year - 1, 12, 1}
                          : CivilDate{today.year, today.month - 1, 1};
}

int DaysIn(CivilDate month_start) {
  const CivilDate next = month_start.month == 12
                             ? CivilDate{month_start.year + 1, 1, 1}
                             : CivilDate{month_start.year, month_start.month + 1, 1};
  return static_cast<int>(DaysFromCivil(next) - DaysFromCivil(month_start));
}

// "YYYY-MM-DD" of the last day of `month` ("YYYY-MM"): a date the API takes (2026-11-30, never
// 2026-11-31). Day 28 when `month` is not one.
std::string LastDayOf(const std::string& month) {
  Result<CivilDate> first = ParseIsoDate(month + "-01", "month");
  if (!first.ok()) return month + "-28";
  CivilDate last = *first;
  last.day = DaysIn(*first);
  return FormatIsoDate(last);
}

// The seeding run: one generator, one clock, counters.
class Seeder {
 public:
  Seeder(Ledger& ledger, const DemoOptions& options, std::atomic<int64_t>* now,
         const DemoBank* bank)
      : ledger_(ledger),
        options_(options),
        now_(now),
        bank_(bank),
        random_(options.seed),
        month_(MonthOf(options)),
        start_us_(DemoMonthStartMicros(options)) {}

  Result<DemoSummary> Run();

 private:
  // Moves the clock to `day` (0-based) at hh:mm plus `step_ms`; never backwards.
  void At(int day, int hour, int minute, int64_t step_ms = 0) {
    const int64_t target = start_us_ + day * kMicrosPerDay +
                           (hour * 3600 + minute * 60) * kMicrosPerSecond + step_ms * 1000;
    if (target > now_->load()) now_->store(target);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Uniform(0, items.size() - 1)];
  }
  size_t Uniform(size_t low, size_t high) {
    return std::uniform_int_distribution<size_t>(low, high)(random_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(random_); }
  CommandContext As(std::string actor) {
    CommandContext context;
    context.actor = std::move(actor);
    return context;
  }
  Status Check(const Result<CommandResult>& result, std::string_view what);
  std::string NewNip();
  std::string RankClass();
  Status RegisterMerchants();
  Status RegisterCivilServants();
  Status RunDay(int day);
  Status PlaceOrders(int day);
  // The afternoon: the orders still standing are delivered, paid in cash or refunded in part.
  Status DeliverOrders(int day, const std::vector<std::string>& placed);
  Status PayCashless(const std::string& order_id);
  Status PaidAfterCancel(int day, size_t index, const std::string& order_id);
  const bool progress_on_terminal_ = isatty(STDERR_FILENO) == 1;
  Status SubmitReceipts(int day);
  Status PolicyAndStaffChanges(int day);

  Ledger& ledger_;
  const DemoOptions& options_;
  std::atomic<int64_t>* now_;
  const DemoBank* bank_;  // may be null
  std::mt19937_64 random_;
  CivilDate month_;   // the month being seeded
  int64_t start_us_;  // its first instant
  int month_index_ = 0;
  std::vector<std::string> kelurahan_;
  std::vector<std::string> nips_;
  std::set<std::string> used_nips_;
  struct Merchant {
    std::string id;
    std::vector<ProductTemplate> products;
    bool suspended = false;
  };
  std::vector<Merchant> merchants_;
  DemoSummary summary_;
  uint64_t next_id_ = 1;
};

Status Seeder::Check(const Result<CommandResult>& result, std::string_view what) {
  ++summary_.commands;
  if (result.ok()) return Status::Ok();
  return Status::Corruption("demo: " + std::string(what) +
                            " was refused: " + result.status().ToString());
}

std::string Seeder::NewNip() {
  while (true) {
    const int year = static_cast<int>(Uniform(1965, 2000));
    const int month = static_cast<int>(Uniform(1, 12));
    const int day = static_cast<int>(Uniform(1, 28));
    const int appointed = std::min(year + static_cast<int>(Uniform(20, 30)), month_.year);
    char nip[32];
    std::snprintf(nip, sizeof nip, "%04d%02d%02d%04d%02d%d%03d", year, month, day, appointed,
                  static_cast<int>(Uniform(1, 12)), static_cast<int>(Uniform(1, 2)),
                  static_cast<int>(Uniform(1, 999)));
    if (ParseNip(nip, "nip").ok() && used_nips_.insert(nip).second) return nip;
  }
}

std::string Seeder::RankClass() {
  // Roughly the shape of a city's civil service: most in golongan III.
  const size_t roll = Uniform(0, 99);
  if (roll < 2) return std::string(rank_classes[Uniform(0, 3)]);
  if (roll < 17) return std::string(rank_classes[Uniform(4, 7)]);
  if (roll < 72) return std::string(rank_classes[Uniform(8, 11)]);
  if (roll < 90) return std::string(rank_classes[Uniform(12, 16)]);
  return "PPPK";
}

Status Seeder::RegisterMerchants() {
  const auto& categories = Categories();
  for (int i = 0; i < options_.umkm_count; ++i) {
    At(0, 6, 0, i * 1000);
    const CategoryTemplate& category =
        i == 0 ? categories[0] : categories[Uniform(0, categories.size() - 1)];
    const std::string kelurahan = i == 0 ? "Kauman" : Pick(kelurahan_);
    const std::string kecamatan = *ledger_.geography().KecamatanOf(kelurahan, "kelurahan");
    Merchant merchant{i == 0 ? kTrialUmkm : "umkm-" + std::to_string(1000 + i), {}, false};
    const std::string name = i == 0 ? "Warung Bu Sri"
                                    : std::string(category.shop_prefix) + " " +
                                          kGivenNames[Uniform(0, kGivenNames.size() - 1)] + " " +
                                          kelurahan;
    char nib[16];
    std::snprintf(nib, sizeof nib, "%013llu",
                  static_cast<unsigned long long>(9120000000000ULL + i));
    char account[16];
    std::snprintf(account, sizeof account, "00%08d", 10'000'000 + i);
    RegisterUmkm command{merchant.id,
                         name,
                         Chance(kShareWithNib) ? nib : "",
                         category.category,
                         kecamatan,
                         kelurahan,
                         Chance(kShareDiskopindag) ? "Diskopindag" : "Dispangtan",
                         account,
                         Chance(kShareUmi) ? "UMI" : "UKE"};
    MALPRO_RETURN_IF_ERROR(Check(ledger_.Register(command, As("admin:setup")), "register UMKM"));
    MALPRO_RETURN_IF_ERROR(
        Check(ledger_.VerifyUmkm(merchant.id, As("operator:rina")), "verify UMKM"));
    for (const ProductTemplate& product : category.products) {
      if (merchant.products.size() >= 2 && !Chance(kShareExtraProduct)) continue;
      const int64_t price = product.rupiah / 500 * 500 + static_cast<int64_t>(Uniform(0, 4)) * 500;
      MALPRO_RETURN_IF_ERROR(Check(ledger_.List({merchant.id, product.id, product.name,
                                                 product.unit, Money::FromRupiah(price)},
                                                As("merchant:" + merchant.id)),
                                   "list product"));
      merchant.products.push_back(product);
      ++summary_.products;
    }
    merchants_.push_back(std::move(merchant));
  }
  summary_.umkm = options_.umkm_count;
  return Status::Ok();
}

Status Seeder::RegisterCivilServants() {
  for (int i = 0; i < options_.asn_count; ++i) {
    At(0, 7, 0, i * 500);
    const std::string nip = i == 0 ? std::string(kTrialNip) : NewNip();
    if (i == 0) used_nips_.insert(nip);
    const std::string name = i == 0 ? "Siti Rahayu"
                                    : std::string(kGivenNames[Uniform(0, kGivenNames.size() - 1)]) +
                                          " " + kFamilyNames[Uniform(0, kFamilyNames.size() - 1)];
    RegisterAsn command{nip, name,
                        i == 0 ? "Diskominfo" : kAgencies[Uniform(0, kAgencies.size() - 1)],
                        i == 0 ? "III/a" : RankClass(), i == 0 ? "Kauman" : Pick(kelurahan_)};
    MALPRO_RETURN_IF_ERROR(Check(ledger_.Register(command, As("admin:setup")), "register ASN"));
    nips_.push_back(nip);
    if (i % 1000 == 999) std::cerr << "demo: " << i + 1 << " ASN registered\n";
  }
  summary_.asn = options_.asn_count;
  return Status::Ok();
}

Status Seeder::PlaceOrders(int day) {
  const int days = DaysIn(month_);
  const int per_day = std::max(1, options_.asn_count * 2 / days);
  std::vector<std::string> placed;
  std::vector<bool> cancelling;  // drawn when placed: a cashless one is left unpaid until then
  for (int i = 0; i < per_day; ++i) {
    At(day, 8, 0, i * 5000);
    const std::string& buyer = day == 0 && i == 0 ? nips_[0] : Pick(nips_);
    const Merchant* merchant = day == 0 && i == 0 ? &merchants_[0] : &Pick(merchants_);
    if (merchant->suspended) continue;
    const bool cashless = !(day == 0 && i == 0) && Chance(kShareCashless);
    const bool cancel = day < days - 2 && Chance(kShareCancelled);
    PlaceOrder order{"o-" + std::to_string(next_id_++),
                     buyer,
                     merchant->id,
                     {},
                     std::string(cashless ? payment_cashless : payment_cod)};
    std::set<std::string> chosen;
    for (size_t line = Uniform(1, 3); line > 0; --line) {
      const ProductTemplate& product = Pick(merchant->products);
      if (chosen.insert(product.id).second) {
        order.lines.push_back({product.id, static_cast<int64_t>(Uniform(1, 3))});
      }
    }
    Result<CommandResult> result = ledger_.Place(order, As("asn:" + buyer));
    // A buyer deactivated earlier in the month is refused, as in real life.
    if (!result.ok() && result.status().error_code() == errc::kBuyerInactive) continue;
    MALPRO_RETURN_IF_ERROR(Check(result, "place order"));
    if (cashless && cancel) {
      const std::string_view channel =
          Chance(kShareQris) ? payment_channel_qris : payment_channel_va;
      MALPRO_RETURN_IF_ERROR(
          Check(ledger_.RequestPayment(order.order_id, channel, "bj-" + order.order_id,
                                       As("system:bank-adapter")),
                "request payment"));
    } else if (cashless) {
      MALPRO_RETURN_IF_ERROR(PayCashless(order.order_id));
    }
    placed.push_back(order.order_id);
    cancelling.push_back(cancel);
  }
  if (day >= days - 2) {  // the last orders of the month are still open when it ends
    summary_.orders.open += static_cast<int>(placed.size());
    return Status::Ok();
  }
  for (size_t i = 0; i < placed.size(); ++i) {
    At(day, 13, 0, static_cast<int64_t>(i) * 5000);
    if (cancelling[i]) {
      MALPRO_RETURN_IF_ERROR(Check(
          ledger_.CancelOrder(placed[i], "pembeli membatalkan", As("asn:buyer")), "cancel order"));
      MALPRO_RETURN_IF_ERROR(PaidAfterCancel(day, i, placed[i]));
      placed[i].clear();
      ++summary_.orders.cancelled;
      continue;
    }
    MALPRO_RETURN_IF_ERROR(Check(ledger_.AcceptOrder(placed[i], As("merchant:seller")), "accept"));
  }
  return DeliverOrders(day, placed);
}

Status Seeder::DeliverOrders(int day, const std::vector<std::string>& placed) {
  for (size_t i = 0; i < placed.size(); ++i) {
    if (placed[i].empty()) continue;
    At(day, 16, 0, static_cast<int64_t>(i) * 5000);
    MALPRO_RETURN_IF_ERROR(
        Check(ledger_.DeliverOrder(placed[i], As("merchant:seller")), "deliver"));
    Result<OrderState> order = ledger_.LoadOrder(placed[i]);
    if (!order.ok()) return order.status();
    if (order->payment_method == payment_cod) {
      MALPRO_RETURN_IF_ERROR(
          Check(ledger_.ConfirmCashReceived(placed[i], As("merchant:seller")), "cash"));
    } else if (Chance(kSharePartlyRefunded)) {  // a damaged delivery, refunded in part
      MALPRO_RETURN_IF_ERROR(
          Check(ledger_.RefundPayment(placed[i], std::min(Money::FromRupiah(5'000), order->total),
                                      As("operator:rina")),
                "refund"));
      ++summary_.payments.refunds;
    }
    ++summary_.orders.delivered;
  }
  return Status::Ok();
}

// A cashless order cancelled while its payment was pending: the request was voided with it.
// Now and then the payer had paid anyway (the bank reports it minutes later): the money is a
// refund due, which the operator refunds the same afternoon or leaves open.
Status Seeder::PaidAfterCancel(int day, size_t index, const std::string& order_id) {
  Result<PaymentState> payment = ledger_.LoadPayment(order_id);
  if (!payment.ok() || payment->status != PaymentStatus::kVoided) return Status::Ok();
  ++summary_.payments.voided;
  if (!Chance(kSharePaidAfterVoid)) return Status::Ok();
  At(day, 13, 5, static_cast<int64_t>(index) * 5000);
  BankSuccess success;
  success.payment_id = order_id;
  success.channel = payment->channel;
  success.bank_reference = payment->bank_reference;
  success.amount = payment->amount;
  success.paid_at_us = payment->requested_at_us + 60'000'000;
  MALPRO_RETURN_IF_ERROR(
      Check(ledger_.RecordPaymentSucceeded(success, As("bank:bank-jatim-simulated")),
            "payment after cancel"));
  ++summary_.payments.refunds_due;
  if (Chance(kShareExceptionRefunded)) {
    At(day, 15, 0, static_cast<int64_t>(index) * 5000);
    MALPRO_RETURN_IF_ERROR(
        Check(ledger_.ResolveException(order_id, "refunded", "dikembalikan ke pembeli",
                                       As("operator:rina")),
              "resolve exception"));
  } else {
    ++summary_.exceptions_open;
  }
  return Status::Ok();
}

// The buyer pays by QRIS or VA right after ordering; the bank confirms within minutes. Now and
// then a QR expires unpaid and is issued again.
Status Seeder::PayCashless(const std::string& order_id) {
  const std::string channel(Chance(kShareQris) ? payment_channel_qris : payment_channel_va);
  if (bank_ != nullptr && summary_.payments.through_bank < bank_->payments_max) {
    // The same random draws as below, so a seed gives the same month either way.
    Result<int> commands = bank_->pay(order_id, channel, Chance(kShareExpiredQr));
    if (!commands.ok()) {
      return Status::Corruption("demo: paying " + order_id +
                                " through the bank failed: " + commands.status().ToString());
    }
    summary_.commands += static_cast<uint64_t>(*commands);
    ++summary_.payments.through_bank;
    ++summary_.payments.cashless;
    return Status::Ok();
  }
  const std::string reference = "bj-" + order_id;
  MALPRO_RETURN_IF_ERROR(
      Check(ledger_.RequestPayment(order_id, channel, reference, As("system:bank-adapter")),
            "request payment"));
  if (Chance(kShareExpiredQr)) {
    MALPRO_RETURN_IF_ERROR(
        Check(ledger_.ExpirePayment(order_id, As("system:bank-adapter")), "expire"));
    MALPRO_RETURN_IF_ERROR(Check(
        ledger_.RequestPayment(order_id, channel, reference + "-2", As("system:bank-adapter")),
        "request payment again"));
  }
  Result<PaymentState> payment = ledger_.LoadPayment(order_id);
  if (!payment.ok()) return payment.status();
  BankSuccess success;
  success.payment_id = order_id;
  success.channel = channel;
  success.bank_reference = payment->bank_reference;
  success.amount = payment->amount;
  success.paid_at_us = now_->load();
  MALPRO_RETURN_IF_ERROR(
      Check(ledger_.RecordPaymentSucceeded(success, As("bank:bank-jatim-simulated")),
            "payment succeeded"));
  ++summary_.payments.cashless;
  return Status::Ok();
}

Status Seeder::SubmitReceipts(int day) {
  const int per_day = std::max(1, options_.asn_count / 10 / DaysIn(month_));
  std::vector<std::string> submitted;
  for (int i = 0; i < per_day; ++i) {
    At(day, 19, 0, i * 10'000);
    const std::string receipt_id = "r-" + std::to_string(next_id_++);
    const int back = std::min(day, static_cast<int>(Uniform(0, 3)));
    const CivilDate purchase = CivilFromDays(DaysFromCivil(month_) + day - back);
    SubmitReceipt receipt{
        receipt_id,
        Pick(nips_),
        "Toko kelontong " + std::string(kGivenNames[Uniform(0, kGivenNames.size() - 1)]),
        Pick(kelurahan_),
        Money::FromRupiah(static_cast<int64_t>(Uniform(50, 400)) * 1000),
        FormatIsoDate(purchase),
        std::string("\x89PNG\r\n\x1A\n", 8) + "receipt photo " + receipt_id};
    Result<CommandResult> result = ledger_.Submit(receipt, As("asn:" + receipt.nip));
    if (!result.ok() && result.status().error_code() == errc::kAsnInactive) continue;
    MALPRO_RETURN_IF_ERROR(Check(result, "submit receipt"));
    submitted.push_back(receipt_id);
  }
  for (size_t i = 0; i < submitted.size(); ++i) {
    At(day, 21, 0, static_cast<int64_t>(i) * 10'000);
    if (Chance(kShareReceiptsApproved)) {
      MALPRO_RETURN_IF_ERROR(
          Check(ledger_.ApproveReceipt(submitted[i], As("operator:rina")), "approve"));
      ++summary_.receipts.approved;
    } else {
      MALPRO_RETURN_IF_ERROR(Check(
          ledger_.RejectReceipt(submitted[i], "foto struk tidak terbaca", As("operator:rina")),
          "reject"));
      ++summary_.receipts.rejected;
    }
  }
  return Status::Ok();
}

Status Seeder::PolicyAndStaffChanges(int day) {
  if (day == 14) {  // mid-month: golongan III must spend more from today
    At(day, 7, 0);
    const std::string today = FormatIsoDate(CivilFromDays(DaysFromCivil(month_) + day));
    const Money minimum = Money::FromRupiah(450'000 + 25'000 * month_index_);
    MALPRO_RETURN_IF_ERROR(
        Check(ledger_.SetMinimumSpend("III", minimum, today, As("admin:setup")), "policy change"));
  }
  if (day == 9) {
    for (int i = 0; i < 20; ++i) {
      At(day, 7, 0, i * 1000);
      const std::string& nip = nips_[1 + Uniform(0, nips_.size() - 2)];
      Result<AsnState> asn = ledger_.LoadAsn(nip);
      if (!asn.ok() || asn->rank_class == "PPPK" || asn->rank_class.back() >= 'd') continue;
      std::string next = asn->rank_class;
      next.back() = static_cast<char>(next.back() + 1);
      MALPRO_RETURN_IF_ERROR(
          Check(ledger_.ChangeRank(nip, next, As("admin:bkpsdm")), "rank change"));
    }
  }
  if (day == 19 && merchants_.size() > 2 && month_index_ == 0) {
    At(day, 7, 30);
    merchants_.back().suspended = true;
    MALPRO_RETURN_IF_ERROR(Check(
        ledger_.SuspendUmkm(merchants_.back().id, "laporan harga tidak wajar", As("operator:rina")),
        "suspend"));
  }
  if (day == 20 && month_index_ == 0) {
    for (int i = 0; i < 5 && nips_.size() > 10; ++i) {
      At(day, 7, 0, i * 1000);
      Status status =
          Check(ledger_.Deactivate(nips_[nips_.size() - 1 - i], "pensiun", As("admin:bkpsdm")),
                "deactivate");
      MALPRO_RETURN_IF_ERROR(status);
    }
  }
  return Status::Ok();
}

Result<DemoSummary> Seeder::Run() {
  for (const Kecamatan& kecamatan : ledger_.geography().kecamatan()) {
    kelurahan_.insert(kelurahan_.end(), kecamatan.kelurahan.begin(), kecamatan.kelurahan.end());
  }
  summary_.month = FormatIsoDate(month_).substr(0, 7);
  MALPRO_RETURN_IF_ERROR(RegisterMerchants());
  MALPRO_RETURN_IF_ERROR(RegisterCivilServants());
  for (month_index_ = 0; month_index_ < options_.months; ++month_index_) {
    if (month_index_ > 0) {
      start_us_ += DaysIn(month_) * kMicrosPerDay;
      month_ = CivilFromDays(DaysFromCivil(month_) + DaysIn(month_));
    }
    const int days = DaysIn(month_);
    for (int day = 0; day < days; ++day) {
      if (options_.stop != nullptr && options_.stop->load()) {
        summary_.stopped = true;
        break;
      }
      MALPRO_RETURN_IF_ERROR(PolicyAndStaffChanges(day));
      MALPRO_RETURN_IF_ERROR(PlaceOrders(day));
      MALPRO_RETURN_IF_ERROR(SubmitReceipts(day));
      // On a terminal one line that updates itself; in a log file, a plain line a day.
      std::cerr << "demo: " << FormatIsoDate(month_).substr(0, 7) << " day " << day + 1 << "/"
                << days << " (" << summary_.commands << " commands)"
                << (progress_on_terminal_ ? '\r' : '\n') << std::flush;
      ++summary_.days_seeded;
    }
    if (summary_.stopped) break;
  }
  if (progress_on_terminal_) std::cerr << "\n";
  return summary_;
}

}  // namespace

int64_t DemoMonthStartMicros(const DemoOptions& options) {
  return JakartaDayStartMicros(MonthOf(options));
}

Result<DemoSummary> SeedDemo(Ledger& ledger, const DemoOptions& options,
                             std::atomic<int64_t>* now_us, const DemoBank* bank) {
  if (!options.month.empty()) {
    Result<CivilDate> month = ParseIsoDate(options.month + "-01", "month");
    if (!month.ok() || options.month.size() != 7) {
      return Status::InvalidArgument(errc::kMonthInvalid, "month", "--month must be YYYY-MM");
    }
  }
  return Seeder(ledger, options, now_us, bank).Run();
}

void PrintDemoSummary(const DemoSummary& summary) {
  std::cout << "malpro demo: seeded " << summary.month << " in Kota Malang: " << summary.asn
            << " ASN, " << summary.umkm << " UMKM with " << summary.products << " products, "
            << summary.orders.delivered << " orders delivered (" << summary.payments.cashless
            << " paid cashless by QRIS or VA, " << summary.payments.through_bank
            << " of them through the simulated bank, " << summary.payments.refunds
            << " partly refunded), " << summary.orders.cancelled << " cancelled ("
            << summary.payments.voided << " with their payment request voided; "
            << summary.payments.refunds_due << " paid anyway, refund due), " << summary.orders.open
            << " still open, " << summary.receipts.approved << " manual receipts approved and "
            << summary.receipts.rejected << " rejected, a minimum-spend change on the 15th ("
            << summary.commands << " commands); exceptions open: " << summary.exceptions_open
            << " (GET /v1/exceptions)" << std::endl;
}

void PrintDemoHints(uint16_t port, const std::string& data_dir, const std::string& month,
                    const std::string& kafka, const std::string& bank_sim_url) {
  const std::string api = "http://127.0.0.1:" + std::to_string(port);
  std::cout << "\nTry next (tokens: dev-admin, dev-operator, dev-auditor, dev-asn, dev-merchant):\n"
            << "  curl -s " << api << "/healthz\n"
            << "  curl -s " << api << "/v1/asn/" << kTrialNip << "/spend/" << month
            << " -H 'Authorization: Bearer dev-asn'\n"
            << "  curl -s '" << api << "/v1/compliance/" << month
            << "?by=rank_class' -H 'Authorization: Bearer dev-operator'\n"
            << "  curl -s '" << api
            << "/v1/catalog?category=sembako&q=beras' -H 'Authorization: Bearer dev-asn'\n"
            << "  curl -s '" << api << "/v1/umkm/" << kTrialUmkm << "/sales?from=" << month
            << "-01&to=" << LastDayOf(month) << "' -H 'Authorization: Bearer dev-merchant'\n"
            << "  curl -s " << api << "/v1/circulation/" << month
            << " -H 'Authorization: Bearer dev-operator'\n"
            << "  curl -s '" << api
            << "/v1/events?from=1&limit=5' -H 'Authorization: Bearer dev-auditor'\n"
            << "  curl -sN '" << api
            << "/v1/subscribe/projections?projection=asn_spend' -H 'Authorization: Bearer "
               "dev-auditor'   (live)\n"
            << "  curl -s " << api << "/metrics\n";
  if (!kafka.empty()) {
    std::cout << "  kcat -b " << kafka << " -C -t malpro.events            (the log, live)\n"
              << "  kcat -b " << kafka
              << " -C -t malpro.proj.asn_spend    (a read model's changes)\n"
              << "  ./build/malpro audit verify --kafka " << kafka << "\n";
  }
  if (!bank_sim_url.empty()) {
    std::cout
        << "Cashless, through the demo's simulated bank (docs/http-api.md, Cashless payments):\n"
        << "  curl -s -X POST " << api << "/v1/orders -H 'Authorization: Bearer dev-asn' -d '"
        << R"({"buyer_nip":")" << kTrialNip << R"(","umkm_id":")" << kTrialUmkm
        << R"(","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"CASHLESS"})"
        << "'\n"
        << "  curl -s -X POST " << api
        << "/v1/orders/ORDER_ID/payment -H 'Authorization: Bearer dev-asn' -d "
           "'{\"channel\":\"QRIS\"}'\n"
        << "  curl -s -X POST " << bank_sim_url
        << "/sim/pay -d '{\"reference\":\"BANK_REFERENCE\"}'   (the payer pays)\n";
  }
  std::cout << "After stopping (Ctrl-C):\n"
            << "  ./build/malpro --data " << data_dir << " audit verify\n"
            << "  ./build/malpro --data " << data_dir << " audit replay --at " << month
            << "-15 -o /tmp/malpro-replay   (what the ledger said on the 15th)\n"
            << "Every route: docs/http-api.md\n"
            << std::endl;
}

}  // namespace malpro
