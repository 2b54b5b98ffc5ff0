// Circulation (perputaran uang): committed spend by where it was spent, per month: a row per
// kecamatan and kelurahan ("k/{month}/{kecamatan}/{kelurahan}"), a row per month ("m/{month}")
// with the part spent in the buyer's own kecamatan, a row per day ("d/{date}"), per channel
// ("c/{month}/{channel}") and per registered merchant ("u/{month}/{umkm_id}"). Months, days
// and amounts follow the ASN spend rules; a refund reduces the month, day, place, channel and
// merchant of the payment it reverses. A merchant's place is where it is registered; a manual
// receipt's is the shop's.
#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "engine/payment_channel.h"
#include "projections/read_models.h"

namespace malpro {

namespace {

// The largest merchants a month's answer lists, and the fraction of merchants (1 / this)
// whose share of the merchants' spend it gives.
constexpr size_t circulation_top_merchants = 10;
constexpr int64_t circulation_decile_divisor = 10;

// Basis points of `part` in `whole`, rounded half up; 0 when nothing was spent.
int64_t ShareBasisPoints(Money part, Money whole) {
  if (whole.sen() <= 0) return 0;
  return (part.sen() * 10000 * 2 + whole.sen()) / (whole.sen() * 2);
}

std::string PercentText(int64_t basis_points) {
  std::string text = std::to_string(basis_points / 100) + ".";
  const int64_t cents = basis_points % 100;
  if (cents < 10) text += '0';
  return text + std::to_string(cents);
}

// The channel a money fact moved through; Corruption for a payment channel this read model
// does not know (payment_channels grew without it).
Result<SpendChannel> SpendChannelOf(const Fact& fact) {
  static_assert(payment_channels.size() == 2, "a new payment channel needs a SpendChannel");
  if (fact.kind == FactKind::kCashReceived) return SpendChannel::kCod;
  if (fact.kind == FactKind::kReceiptApproved) return SpendChannel::kReceipt;
  const std::string& channel = fact.payment->channel;
  if (channel == payment_channel_qris) return SpendChannel::kQris;
  if (channel == payment_channel_va) return SpendChannel::kVa;
  return Status::Corruption("circulation: event " + std::to_string(fact.event->sequence) +
                            ": payment channel '" + channel + "' unknown");
}

// The merchants with spend of a month, largest first, ties by umkm_id.
std::vector<const MerchantSpend*> RankedMerchants(const RowTable<MerchantSpend>& merchants,
                                                  const std::string& month) {
  std::vector<const MerchantSpend*> ranked;
  const std::string prefix = month + "/";
  const auto& rows = merchants.entries();
  for (auto it = rows.lower_bound(prefix); it != rows.end() && it->first.starts_with(prefix);
       ++it) {
    if (it->second->row.spend > Money()) ranked.push_back(&it->second->row);
  }
  std::sort(ranked.begin(), ranked.end(), [](const MerchantSpend* a, const MerchantSpend* b) {
    return a->spend != b->spend ? a->spend > b->spend : a->umkm_id < b->umkm_id;
  });
  return ranked;
}

// Writes a row as an object: its text fields in order, then "spend" and "purchases".
void WriteSpendRow(JsonWriter& writer,
                   std::initializer_list<std::pair<std::string_view, std::string_view>> texts,
                   Money spend, int64_t purchases) {
  writer.BeginObject();
  for (const auto& [key, value] : texts) writer.Field(key, value);
  writer.Field("spend", AmountText(spend)).Field("purchases", purchases).EndObject();
}

// Reads a row that is its text fields named `keys` (in the order of Row's members), then its
// spend and purchases.
template <typename Row, typename... Keys>
Result<Row> ReadSpendRow(const JsonObject& object, Keys... keys) {
  RowReader reader(object);
  Row row{reader.Text(keys)..., reader.Amount("spend"), reader.Int("purchases")};
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return row;
}

// Counts `amount` and `purchases` into a row.
template <typename Row>
void AddSpend(Row& row, Money amount, int64_t purchases) {
  row.spend += amount;
  row.purchases += purchases;
}

}  // namespace

std::string GiniText(std::vector<int64_t> incomes) {
  const auto n = static_cast<unsigned __int128>(incomes.size());
  std::sort(incomes.begin(), incomes.end());
  unsigned __int128 sum = 0;
  __int128 weighted = 0;  // sum_i (2i - n - 1) x_i, i from 1: never negative once summed
  for (size_t i = 0; i < incomes.size(); ++i) {
    MALPRO_ASSERT(incomes[i] >= 0);
    sum += static_cast<unsigned __int128>(incomes[i]);
    const auto weight = static_cast<__int128>(2 * (i + 1)) - static_cast<__int128>(n) - 1;
    weighted += weight * incomes[i];
  }
  int64_t ten_thousandths = 0;
  if (n >= 2 && sum > 0) {
    const unsigned __int128 denominator = n * sum;
    const auto numerator = static_cast<unsigned __int128>(weighted);
    ten_thousandths =
        static_cast<int64_t>((numerator * 10000 * 2 + denominator) / (denominator * 2));
  }
  std::string digits = std::to_string(ten_thousandths % 10000);
  return std::to_string(ten_thousandths / 10000) + "." + std::string(4 - digits.size(), '0') +
         digits;
}

void AreaSpend::Write(JsonWriter& writer) const {
  WriteSpendRow(writer, {{"month", month}, {"kecamatan", kecamatan}, {"kelurahan", kelurahan}},
                spend, purchases);
}

Result<AreaSpend> AreaSpend::Read(const JsonObject& object) {
  return ReadSpendRow<AreaSpend>(object, "month", "kecamatan", "kelurahan");
}

void MonthCirculation::Write(JsonWriter& writer) const {
  const int64_t share = ShareBasisPoints(local_spend, spend);
  writer.BeginObject()
      .Field("month", month)
      .Field("spend", AmountText(spend))
      .Field("purchases", purchases)
      .Field("local_spend", AmountText(local_spend))
      .Field("local_share_basis_points", share)
      .Field("local_share_percent", PercentText(share))
      .EndObject();
}

Result<MonthCirculation> MonthCirculation::Read(const JsonObject& object) {
  RowReader reader(object);
  MonthCirculation month{reader.Text("month"), reader.Amount("spend"), reader.Int("purchases"),
                         reader.Amount("local_spend")};
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return month;
}

void DaySpend::Write(JsonWriter& writer) const {
  WriteSpendRow(writer, {{"date", date}}, spend, purchases);
}

Result<DaySpend> DaySpend::Read(const JsonObject& object) {
  return ReadSpendRow<DaySpend>(object, "date");
}

void ChannelSpend::Write(JsonWriter& writer) const {
  WriteSpendRow(writer, {{"month", month}, {"channel", channel}}, spend, purchases);
}

Result<ChannelSpend> ChannelSpend::Read(const JsonObject& object) {
  return ReadSpendRow<ChannelSpend>(object, "month", "channel");
}

void MerchantSpend::Write(JsonWriter& writer) const {
  WriteSpendRow(writer, {{"month", month}, {"umkm_id", umkm_id}}, spend, purchases);
}

Result<MerchantSpend> MerchantSpend::Read(const JsonObject& object) {
  return ReadSpendRow<MerchantSpend>(object, "month", "umkm_id");
}

Status CirculationProjection::Apply(const Fact& fact) {
  Money amount = fact.amount;
  int64_t purchases = 1;
  switch (fact.kind) {
    case FactKind::kCashReceived:
    case FactKind::kPaymentSucceeded:
    case FactKind::kReceiptApproved:
      break;
    case FactKind::kPaymentRefunded:
      amount = Money() - amount;
      purchases = 0;
      break;
    default:
      return Status::Ok();
  }
  Result<SpendChannel> channel = SpendChannelOf(fact);
  if (!channel.ok()) return channel.status();
  const bool receipt = fact.kind == FactKind::kReceiptApproved;
  const std::string& kecamatan = receipt ? fact.receipt->kecamatan : fact.umkm->kecamatan;
  const std::string& kelurahan = receipt ? fact.receipt->kelurahan : fact.umkm->kelurahan;
  const CivilDate date = SpendDate(fact);
  const int month = MonthNumber(date);

  AddSpend(areas_.Touch(AreaRow(fact, month, kecamatan, kelurahan)), amount, purchases);
  MonthRows& rows = RowsOf(month);
  MonthCirculation& total = months_.Touch(rows.total);
  AddSpend(total, amount, purchases);
  if (fact.asn != nullptr && fact.asn->kecamatan == kecamatan) total.local_spend += amount;
  AddSpend(days_.Touch(DayRow(rows, date)), amount, purchases);
  AddSpend(channels_.Touch(ChannelRow(rows, month, *channel)), amount, purchases);
  if (!receipt) {  // a manual receipt's shop is no registered merchant
    AddSpend(merchants_.Touch(MerchantRow(fact, month)), amount, purchases);
  }
  return Status::Ok();
}

RowTable<AreaSpend>::Handle CirculationProjection::AreaRow(const Fact& fact, int month,
                                                           const std::string& kecamatan,
                                                           const std::string& kelurahan) {
  // A merchant's area rows are kept per merchant; one that moved gets the rows of its new
  // place, so a cached row counts only while it names the merchant's current place.
  MonthHandles<AreaSpend>* cached = nullptr;
  if (fact.kind != FactKind::kReceiptApproved) {
    cached = &AtSlot(areas_by_slot_, fact.umkm_slot);
    for (const auto& [number, handle] : *cached) {
      const AreaSpend& row = handle->second.row;
      if (number == month && row.kecamatan == kecamatan && row.kelurahan == kelurahan) {
        return handle;
      }
    }
  }
  const std::string text = MonthText(month);
  RowTable<AreaSpend>::Handle handle = areas_.Get(text + "/" + kecamatan + "/" + kelurahan);
  AreaSpend& row = handle->second.row;
  row.month = text;
  row.kecamatan = kecamatan;
  row.kelurahan = kelurahan;
  if (cached != nullptr) cached->emplace_back(month, handle);
  return handle;
}

CirculationProjection::MonthRows& CirculationProjection::RowsOf(int month) {
  auto [found, inserted] = months_by_number_.try_emplace(month);
  if (inserted) {
    const std::string text = MonthText(month);
    found->second.total = months_.Get(text);
    found->second.total->second.row.month = text;
  }
  return found->second;
}

RowTable<DaySpend>::Handle CirculationProjection::DayRow(MonthRows& rows, CivilDate date) {
  MALPRO_ASSERT(date.day >= 1 && date.day <= month_days_max);
  RowTable<DaySpend>::Handle& handle = rows.days[date.day - 1];
  if (handle == nullptr) {
    std::string text = FormatIsoDate(date);
    handle = days_.Get(text);
    handle->second.row.date = std::move(text);
  }
  return handle;
}

RowTable<ChannelSpend>::Handle CirculationProjection::ChannelRow(MonthRows& rows, int month,
                                                                 SpendChannel channel) {
  const auto index = static_cast<size_t>(channel);
  RowTable<ChannelSpend>::Handle& handle = rows.channels[index];
  if (handle == nullptr) {
    const std::string text = MonthText(month);
    const std::string name(spend_channel_names[index]);
    handle = channels_.Get(text + "/" + name);
    handle->second.row.month = text;
    handle->second.row.channel = name;
  }
  return handle;
}

RowTable<MerchantSpend>::Handle CirculationProjection::MerchantRow(const Fact& fact, int month) {
  MonthHandles<MerchantSpend>& cached = AtSlot(merchants_by_slot_, fact.umkm_slot);
  // Money mostly arrives in the merchant's latest month: look from the end.
  for (auto it = cached.rbegin(); it != cached.rend(); ++it) {
    if (it->first == month) return it->second;
  }
  const std::string text = MonthText(month);
  RowTable<MerchantSpend>::Handle handle = merchants_.Get(text + "/" + fact.umkm->umkm_id);
  handle->second.row.month = text;
  handle->second.row.umkm_id = fact.umkm->umkm_id;
  cached.emplace_back(month, handle);
  return handle;
}

std::string CirculationProjection::Month(const std::string& month,
                                         const CatalogProjection& catalog) const {
  MonthCirculation total;
  total.month = month;
  if (const MonthCirculation* row = months_.Find(month)) total = *row;
  JsonWriter writer;
  writer.BeginObject().Key("total");
  total.Write(writer);
  WriteKecamatan(writer, month, total.spend);
  WriteDays(writer, month);
  WriteChannels(writer, month);
  WriteMerchants(writer, month, catalog);
  writer.EndObject();
  return writer.Take();
}

void CirculationProjection::WriteKecamatan(JsonWriter& writer, const std::string& month,
                                           Money month_spend) const {
  writer.Key("kecamatan").BeginArray();
  const auto& rows = areas_.entries();
  auto it = rows.lower_bound(month + "/");
  while (it != rows.end() && it->second->row.month == month) {
    const std::string kecamatan = it->second->row.kecamatan;
    Money spend;
    int64_t purchases = 0;
    std::vector<const AreaSpend*> kelurahan;
    for (; it != rows.end() && it->second->row.month == month &&
           it->second->row.kecamatan == kecamatan;
         ++it) {
      spend += it->second->row.spend;
      purchases += it->second->row.purchases;
      kelurahan.push_back(&it->second->row);
    }
    const int64_t share = ShareBasisPoints(spend, month_spend);
    writer.BeginObject()
        .Field("kecamatan", kecamatan)
        .Field("spend", AmountText(spend))
        .Field("purchases", purchases)
        .Field("share_basis_points", share)
        .Field("share_percent", PercentText(share));
    writer.Key("kelurahan").BeginArray();
    for (const AreaSpend* area : kelurahan) {
      WriteSpendRow(writer, {{"kelurahan", area->kelurahan}}, area->spend, area->purchases);
    }
    writer.EndArray().EndObject();
  }
  writer.EndArray();
}

void CirculationProjection::WriteDays(JsonWriter& writer, const std::string& month) const {
  writer.Key("days").BeginArray();
  const std::string prefix = month + "-";
  const auto& rows = days_.entries();
  for (auto it = rows.lower_bound(prefix); it != rows.end() && it->first.starts_with(prefix);
       ++it) {
    it->second->row.Write(writer);  // the row as stored: date, spend, purchases
  }
  writer.EndArray();
}

void CirculationProjection::WriteChannels(JsonWriter& writer, const std::string& month) const {
  writer.Key("channels").BeginObject();
  for (std::string_view name : spend_channel_names) {
    const std::string key = month + "/" + std::string(name);
    const ChannelSpend* row = channels_.Find(key);
    writer.Key(name);
    WriteSpendRow(writer, {}, row != nullptr ? row->spend : Money(),
                  row != nullptr ? row->purchases : 0);
  }
  writer.EndObject();
}

void CirculationProjection::WriteMerchants(JsonWriter& writer, const std::string& month,
                                           const CatalogProjection& catalog) const {
  const std::vector<const MerchantSpend*> ranked = RankedMerchants(merchants_, month);
  const size_t count = ranked.size();
  const size_t decile = (count + circulation_decile_divisor - 1) / circulation_decile_divisor;
  Money spend;
  Money decile_spend;
  std::vector<int64_t> incomes;
  incomes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    spend += ranked[i]->spend;
    if (i < decile) decile_spend += ranked[i]->spend;
    incomes.push_back(ranked[i]->spend.sen());
  }
  const int64_t share = ShareBasisPoints(decile_spend, spend);
  writer.Key("merchants")
      .BeginObject()
      .Field("count", static_cast<int64_t>(count))
      .Field("spend", AmountText(spend));
  writer.Key("top").BeginArray();
  for (size_t i = 0; i < count && i < circulation_top_merchants; ++i) {
    const MerchantSpend& row = *ranked[i];
    const CatalogMerchant* known = catalog.Find(row.umkm_id);
    WriteSpendRow(writer,
                  {{"umkm_id", row.umkm_id},
                   {"name", known != nullptr ? std::string_view(known->name) : std::string_view()}},
                  row.spend, row.purchases);
  }
  writer.EndArray()
      .Field("top_decile_merchants", static_cast<int64_t>(decile))
      .Field("top_decile_share_basis_points", share)
      .Field("top_decile_share_percent", PercentText(share))
      .Field("gini", GiniText(std::move(incomes)))
      .EndObject();
}

}  // namespace malpro
