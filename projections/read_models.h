// The read models (docs/projections.md): catalog, ASN spend and compliance, merchant sales,
// circulation of money, log statistics, exceptions, work lists (projections/work_lists.h).
// Each is a Projection; its queries answer JSON text.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/aggregates.h"
#include "projections/projection.h"
#include "projections/work_lists.h"

namespace malpro {

// ---- Catalog: verified merchants and their listed products, with current prices. -------

struct CatalogProduct {
  std::string product_id;
  std::string name;
  std::string unit;
  Money price;
};

struct CatalogMerchant {
  std::string umkm_id;
  std::string name;
  std::string category;
  std::string kecamatan;
  std::string kelurahan;
  std::string status;  // registered, verified, suspended
  std::string qris_criteria;
  std::vector<CatalogProduct> products;  // listed ones, by product id

  void Write(JsonWriter& writer) const;
  static Result<CatalogMerchant> Read(const JsonObject& object);
};

struct CatalogQuery {
  std::string category;   // empty: any
  std::string kecamatan;  // empty: any
  std::string search;     // case-insensitive part of a merchant's or product's name
  size_t offset = 0;
  size_t limit = 50;
};

class CatalogProjection : public TableProjection {
 public:
  CatalogProjection() { OwnTables(merchants_); }
  std::string_view name() const override { return "catalog"; }
  int version() const override { return 1; }
  Status Apply(const Fact& fact) override;

  // {"merchants":[...],"total":N,"offset":..,"limit":..}: verified merchants only; with a
  // search, only the products that match unless the merchant's own name matches.
  std::string Query(const CatalogQuery& query) const;
  // One merchant whatever its status; NotFound when unknown.
  Result<std::string> Merchant(const std::string& umkm_id) const;
  // One merchant's row as folded whatever its status, or nullptr.
  const CatalogMerchant* Find(const std::string& umkm_id) const { return merchants_.Find(umkm_id); }

 private:
  RowTable<CatalogMerchant> merchants_{"m/"};
};

// ---- ASN spend: per NIP per month, compliance with the minimum, roll-ups. ---------------

struct RankFrom {
  std::string from_month;
  std::string rank_class;
};

struct AsnProfile : AsnIdentity {
  bool active = true;
  std::string registered_month;
  std::string deactivated_month;  // empty while active
  std::vector<RankFrom> ranks;    // the class held from each month on

  // The class held at the end of `month` (or now, for a month not yet over).
  std::string RankIn(std::string_view month) const;
  // Whether the ASN was registered and active during some of `month`.
  bool CountsIn(std::string_view month) const;
  void Write(JsonWriter& writer) const;
  static Result<AsnProfile> Read(const JsonObject& object);
};

struct SpendRow {
  std::string nip;
  std::string month;
  std::string rank_class;
  Money committed;  // cod + cashless - refunds + receipts
  Money pending;    // orders placed this month, not yet paid or cancelled
  int64_t pending_orders = 0;
  ChannelTotals cod;
  ChannelTotals cashless;
  ChannelTotals receipts;
  Money refunds;
  bool has_minimum = false;
  Money minimum;
  bool compliant = false;
  Money shortfall;
  // Once the month's compliance is closed: what the row said at the close; committed now
  // minus committed_at_close is the adjustment that came later.
  bool closed = false;
  Money committed_at_close;
  bool compliant_at_close = false;

  // The minimum under `policy` for the row's rank class and month, then Settle. Rows are
  // recomputed when they are created and when a policy or rank change reaches their month;
  // money that comes in or goes out only settles them again.
  void Recompute(const PolicyState& policy);
  // Compliance and shortfall from committed spend and the minimum.
  void Settle();
  void Write(JsonWriter& writer) const;
  static Result<SpendRow> Read(const JsonObject& object);
};

enum class RollupBy { kAgency, kRankClass };
// A month's compliance figures over every ASN counted in it, and their digest
// (docs/projections.md, "Closing a month").
struct MonthFigures {
  std::string month;
  int64_t asn = 0;
  int64_t compliant = 0;
  Money committed;
  Money shortfall;
  std::string sha256;
};
// A closed month ("c/{YYYY-MM}"): the figures at the close, as folded.
struct MonthClose {
  std::string month;
  int64_t sequence = 0;        // of compliance.month_closed
  int64_t as_of_sequence = 0;  // the head the closing figures were computed at
  int64_t asn = 0;
  int64_t compliant = 0;
  Money committed;
  Money shortfall;
  std::string figures_sha256;   // computed by this read model when it folded the close
  std::string recorded_sha256;  // as the event recorded it
  void Write(JsonWriter& writer) const;
  static Result<MonthClose> Read(const JsonObject& object);
};

class AsnSpendProjection : public TableProjection {
 public:
  AsnSpendProjection() { OwnTables(profiles_, spend_, closes_); }
  std::string_view name() const override { return "asn_spend"; }
  int version() const override { return 1; }
  Status Apply(const Fact& fact) override;

  // One ASN's month (a row of zeros when nothing happened); NotFound for an unknown NIP.
  Result<std::string> Spend(const std::string& nip, const std::string& month,
                            const PolicyState& policy) const;
  // Every month with activity, oldest first.
  Result<std::string> History(const std::string& nip) const;
  // Per agency or rank class: ASN counted, compliant, committed and shortfall totals.
  std::string Rollup(const std::string& month, RollupBy by, const PolicyState& policy) const;
  // The ASN of one month that are not compliant (optionally of one agency, compared ignoring
  // ASCII letter case), by NIP. InvalidArgument agency_unknown naming `agency` when no
  // registered ASN (of any month) has that agency.
  Result<std::string> Shortfalls(const std::string& month, const std::string& agency,
                                 const PolicyState& policy, size_t offset, size_t limit) const;

  struct Compliance {
    int64_t asn = 0;
    int64_t compliant = 0;
    Money committed;
  };
  Compliance MonthCompliance(const std::string& month, const PolicyState& policy) const;
  MonthFigures Figures(const std::string& month, const PolicyState& policy) const;

 private:
  using ProfileIndex = std::map<std::string, RowTable<AsnProfile>::Entry*>;
  MonthFigures FiguresOver(const ProfileIndex& profiles, const std::string& month,
                           const PolicyState& policy) const;
  Status ApplyMonthClosed(const Fact& fact);
  // The "closed" object of a closed month's answers: the close and the adjustments since.
  void WriteClosed(JsonWriter& writer, const std::string& month) const;
  // The rows of one ASN met while folding, by the world's slot.
  struct AsnRows {
    RowTable<AsnProfile>::Handle profile = nullptr;
    std::vector<std::pair<int, RowTable<SpendRow>::Handle>> months;  // by MonthNumber
  };
  SpendRow& Row(AsnRows& rows, const AsnProfile& profile, int month, const PolicyState& policy);
  SpendRow RowOrEmpty(const AsnProfile& profile, const std::string& month,
                      const PolicyState& policy) const;
  void RecomputeFrom(const std::string& nip, const std::string& month, const PolicyState& policy);
  Status ApplyAsn(const Fact& fact);

  RowTable<AsnProfile> profiles_{"a/"};
  RowTable<SpendRow> spend_{"s/"};     // key: nip/YYYY-MM
  RowTable<MonthClose> closes_{"c/"};  // key: YYYY-MM
  std::vector<AsnRows> by_slot_;
};

// ---- Merchant sales: per merchant per day, and cashless money not yet settled. ----------

struct SalesDay {
  std::string umkm_id;
  std::string date;
  int64_t orders = 0;
  Money gross;
  Money fee;
  Money refunds;
  Money net;  // gross - fee - refunds
  ChannelTotals cod;
  ChannelTotals cashless;

  void Write(JsonWriter& writer) const;
  static Result<SalesDay> Read(const JsonObject& object);
};

struct OutstandingDay {
  int64_t payments = 0;
  Money gross;
  Money fee;
  Money net;
};

struct Outstanding {
  std::string umkm_id;
  std::map<std::string, OutstandingDay> days;  // by business date

  OutstandingDay Total() const;
  void Write(JsonWriter& writer) const;
  static Result<Outstanding> Read(const JsonObject& object);
};

class MerchantSalesProjection : public TableProjection {
 public:
  MerchantSalesProjection() { OwnTables(days_, outstanding_); }
  std::string_view name() const override { return "merchant_sales"; }
  int version() const override { return 1; }
  Status Apply(const Fact& fact) override;

  // Days from `from` to `to` (YYYY-MM-DD, inclusive) with their totals.
  std::string Sales(const std::string& umkm_id, const std::string& from,
                    const std::string& to) const;
  // One merchant's unsettled cashless money by business day, or every merchant's total
  // when `umkm_id` is empty.
  std::string OutstandingJson(const std::string& umkm_id) const;

 private:
  // The rows of one merchant met while folding, by the world's slot.
  struct UmkmRows {
    RowTable<Outstanding>::Handle outstanding = nullptr;
    // The day rows met so far by day number (DaysFromCivil) from first_day on, nullptr for a
    // day without one: a merchant's days are close together, so a vector indexed by day
    // costs no hashing.
    int64_t first_day = 0;
    std::vector<RowTable<SalesDay>::Handle> days;
  };
  SalesDay& Day(UmkmRows& rows, const std::string& umkm_id, CivilDate date);

  RowTable<SalesDay> days_{"d/"};  // key: umkm_id/YYYY-MM-DD
  RowTable<Outstanding> outstanding_{"o/"};
  std::vector<UmkmRows> by_slot_;
};

// ---- Circulation (perputaran uang): where the money was spent. --------------------------

struct AreaSpend {
  std::string month;
  std::string kecamatan;
  std::string kelurahan;
  Money spend;
  int64_t purchases = 0;

  void Write(JsonWriter& writer) const;
  static Result<AreaSpend> Read(const JsonObject& object);
};

struct MonthCirculation {
  std::string month;
  Money spend;
  int64_t purchases = 0;
  Money local_spend;  // at merchants in the buyer's own kecamatan

  void Write(JsonWriter& writer) const;
  static Result<MonthCirculation> Read(const JsonObject& object);
};

// One Asia/Jakarta day's committed spend, over every place and channel.
struct DaySpend {
  std::string date;  // YYYY-MM-DD
  Money spend;
  int64_t purchases = 0;

  void Write(JsonWriter& writer) const;
  static Result<DaySpend> Read(const JsonObject& object);
};

// How the money of a purchase was paid, as circulation counts it. The names are persisted in
// row keys ("c/{month}/{name}"): append-only.
enum class SpendChannel { kCod, kQris, kVa, kReceipt };
inline constexpr std::array<std::string_view, 4> spend_channel_names = {"cod", "qris", "va",
                                                                        "receipt"};

// One month's committed spend through one channel.
struct ChannelSpend {
  std::string month;
  std::string channel;  // a spend_channel_names entry
  Money spend;
  int64_t purchases = 0;

  void Write(JsonWriter& writer) const;
  static Result<ChannelSpend> Read(const JsonObject& object);
};

// One month's committed spend at one registered merchant (manual receipts have none).
struct MerchantSpend {
  std::string month;
  std::string umkm_id;
  Money spend;
  int64_t purchases = 0;

  void Write(JsonWriter& writer) const;
  static Result<MerchantSpend> Read(const JsonObject& object);
};

// The Gini coefficient of `incomes` (each >= 0) as a decimal with 4 digits ("0.4123"):
// G = sum_i (2i - n - 1) x_i / (n sum x) over the incomes sorted ascending (i from 1), which
// equals sum_i sum_j |x_i - x_j| / (2 n^2 mean); exact in integers, rounded half up.
// "0.0000" for fewer than two incomes or when they sum to 0 (docs/projections.md).
std::string GiniText(std::vector<int64_t> incomes);

class CirculationProjection : public TableProjection {
 public:
  CirculationProjection() { OwnTables(areas_, months_, days_, channels_, merchants_); }
  std::string_view name() const override { return "circulation"; }
  // 2: rows per day, per channel and per merchant.
  int version() const override { return 2; }
  Status Apply(const Fact& fact) override;

  // The month's totals, the share that stayed local, spend per kecamatan and kelurahan, per
  // day, per channel, and the merchants' figures (their names from `catalog`).
  std::string Month(const std::string& month, const CatalogProjection& catalog) const;

 private:
  static constexpr int month_days_max = 31;  // the longest month
  // The rows of one month met while folding: its total, its channels and its days.
  struct MonthRows {
    RowTable<MonthCirculation>::Handle total = nullptr;
    std::array<RowTable<ChannelSpend>::Handle, spend_channel_names.size()> channels{};
    std::array<RowTable<DaySpend>::Handle, month_days_max> days{};  // by day - 1
  };
  template <typename Row>
  using MonthHandles = std::vector<std::pair<int, typename RowTable<Row>::Handle>>;

  RowTable<AreaSpend>::Handle AreaRow(const Fact& fact, int month, const std::string& kecamatan,
                                      const std::string& kelurahan);
  MonthRows& RowsOf(int month);
  RowTable<DaySpend>::Handle DayRow(MonthRows& rows, CivilDate date);
  RowTable<ChannelSpend>::Handle ChannelRow(MonthRows& rows, int month, SpendChannel channel);
  RowTable<MerchantSpend>::Handle MerchantRow(const Fact& fact, int month);
  void WriteKecamatan(JsonWriter& writer, const std::string& month, Money month_spend) const;
  void WriteDays(JsonWriter& writer, const std::string& month) const;
  void WriteChannels(JsonWriter& writer, const std::string& month) const;
  void WriteMerchants(JsonWriter& writer, const std::string& month,
                      const CatalogProjection& catalog) const;

  // Rows met while folding: the area and merchant rows of each merchant (by the world's
  // slot) and the rows of each month, each by MonthNumber.
  std::vector<MonthHandles<AreaSpend>> areas_by_slot_;
  std::vector<MonthHandles<MerchantSpend>> merchants_by_slot_;
  std::unordered_map<int, MonthRows> months_by_number_;

  RowTable<AreaSpend> areas_{"k/"};  // key: YYYY-MM/kecamatan/kelurahan
  RowTable<MonthCirculation> months_{"m/"};
  RowTable<DaySpend> days_{"d/"};            // key: YYYY-MM-DD
  RowTable<ChannelSpend> channels_{"c/"};    // key: YYYY-MM/channel
  RowTable<MerchantSpend> merchants_{"u/"};  // key: YYYY-MM/umkm_id
};

// ---- Log statistics for auditors. -------------------------------------------------------

struct TypeCount {
  std::string type;
  int64_t events = 0;
  void Write(JsonWriter& writer) const;
  static Result<TypeCount> Read(const JsonObject& object);
};

struct LogHead {
  int64_t events = 0;
  int64_t last_sequence = 0;
  Hash head_hash{};
  int64_t first_recorded_at_us = 0;
  int64_t last_recorded_at_us = 0;
  void Write(JsonWriter& writer) const;
  static Result<LogHead> Read(const JsonObject& object);
};

class LogStatsProjection : public TableProjection {
 public:
  LogStatsProjection() { OwnTables(types_, head_); }
  std::string_view name() const override { return "log_stats"; }
  int version() const override { return 1; }
  Status Apply(const Fact& fact) override;

  std::string Stats() const;
  int64_t Events() const;

 private:
  RowTable<TypeCount> types_{"t/"};
  RowTable<LogHead> head_{"h/"};
  RowTable<LogHead>::Handle head_row_ = nullptr;  // "head", once met
};

// ---- Exceptions: money that counts toward nothing, for the payment operator. ------------
struct PaymentException {
  std::string payment_id;
  std::string order_id;
  std::string umkm_id;
  std::string buyer_nip;
  std::string kind;   // refund_due
  std::string cause;  // payment_voided or order_cancelled
  Money amount;
  int64_t paid_at_us = 0;
  std::string bank_reference;     // as shown (ShownBankReference: a VA without its padding)
  int64_t recorded_at_us = 0;     // of the payment.refund_due: with the sequence, its place
  int64_t recorded_sequence = 0;  // of the payment.refund_due
  std::string resolution;         // empty while open; refunded or explained
  std::string note;
  void Write(JsonWriter& writer) const;
  static Result<PaymentException> Read(const JsonObject& object);
};
class ExceptionsProjection : public TableProjection {
 public:
  ExceptionsProjection() { OwnTables(exceptions_); }
  std::string_view name() const override { return "exceptions"; }
  // 2: rows carry recorded_at_us, and the bank reference as shown.
  int version() const override { return 2; }
  Status Apply(const Fact& fact) override;
  // {"exceptions":[...],"next":"x-…"|null,"limit","sort","total":N,"open":N,"open_amount"}: rows
  // whose status is `status` (open, resolved or all), in the order they were raised (their
  // place: recorded time and sequence; a cursor of list_exceptions), `total` of them in all.
  // Exceptions are few (each is money to refund by hand): a page sorts the matching rows.
  std::string List(std::string_view status, const ListPage& page) const;
  int64_t OpenCount() const;

 private:
  RowTable<PaymentException> exceptions_{"x/"};
};

// ---- The registration: every read model, once. --------------------------------------------

// The read models the projector folds, stores (one column family each, named by name()),
// checkpoints, digests and streams to subscribers, in the order of All(). Adding one is a
// member here and an entry in All() (docs/projections.md, "Adding a read model").
struct ReadModels {
  CatalogProjection catalog;
  AsnSpendProjection asn_spend;
  MerchantSalesProjection merchant_sales;
  CirculationProjection circulation;
  LogStatsProjection log_stats;
  ExceptionsProjection exceptions;
  WorkListsProjection work_lists;

  std::vector<Projection*> All() {
    return {&catalog,   &asn_spend,  &merchant_sales, &circulation,
            &log_stats, &exceptions, &work_lists};
  }
};

}  // namespace malpro
