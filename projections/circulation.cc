// Circulation (perputaran uang): committed spend by where it was spent, per month: a row per
// kecamatan and kelurahan ("k/{month}/{kecamatan}/{kelurahan}") and a row per month
// ("m/{month}") with the part spent in the buyer's own kecamatan. Months and amounts follow
// the ASN spend rules; a refund reduces the month and place of the payment it reverses. A
// merchant's place is where it is registered; a manual receipt's is the shop's.
#include "projections/read_models.h"

namespace malpro {

void AreaSpend::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("month", month)
      .Field("kecamatan", kecamatan)
      .Field("kelurahan", kelurahan)
      .Field("spend", AmountText(spend))
      .Field("purchases", purchases)
      .EndObject();
}

Result<AreaSpend> AreaSpend::Read(const JsonObject& object) {
  RowReader reader(object);
  AreaSpend area{reader.Text("month"), reader.Text("kecamatan"), reader.Text("kelurahan"),
                 reader.Amount("spend"), reader.Int("purchases")};
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return area;
}

namespace {

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

}  // namespace

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
  const bool receipt = fact.kind == FactKind::kReceiptApproved;
  const std::string& kecamatan = receipt ? fact.receipt->kecamatan : fact.umkm->kecamatan;
  const std::string& kelurahan = receipt ? fact.receipt->kelurahan : fact.umkm->kelurahan;
  const int month = MonthNumber(SpendDate(fact));

  // A merchant's area rows are kept per merchant; one that moved gets the rows of its new
  // place, so a cached row counts only while it names the merchant's current place.
  RowTable<AreaSpend>::Handle area_row = nullptr;
  std::vector<std::pair<int, RowTable<AreaSpend>::Handle>>* cached = nullptr;
  if (!receipt) {
    cached = &AtSlot(areas_by_slot_, fact.umkm_slot);
    for (const auto& [number, handle] : *cached) {
      const AreaSpend& row = handle->second.row;
      if (number == month && row.kecamatan == kecamatan && row.kelurahan == kelurahan) {
        area_row = handle;
        break;
      }
    }
  }
  if (area_row == nullptr) {
    const std::string text = MonthText(month);
    area_row = areas_.Get(text + "/" + kecamatan + "/" + kelurahan);
    AreaSpend& row = area_row->second.row;
    row.month = text;
    row.kecamatan = kecamatan;
    row.kelurahan = kelurahan;
    if (cached != nullptr) cached->emplace_back(month, area_row);
  }
  AreaSpend& area = areas_.Touch(area_row);
  area.spend += amount;
  area.purchases += purchases;

  auto [found, inserted] = months_by_number_.try_emplace(month, nullptr);
  if (inserted) {
    const std::string text = MonthText(month);
    found->second = months_.Get(text);
    found->second->second.row.month = text;
  }
  MonthCirculation& total = months_.Touch(found->second);
  total.spend += amount;
  total.purchases += purchases;
  if (fact.asn != nullptr && fact.asn->kecamatan == kecamatan) total.local_spend += amount;
  return Status::Ok();
}

std::string CirculationProjection::Month(const std::string& month) const {
  MonthCirculation total;
  total.month = month;
  if (const MonthCirculation* row = months_.Find(month)) total = *row;
  JsonWriter writer;
  writer.BeginObject().Key("total");
  total.Write(writer);
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
    const int64_t share = ShareBasisPoints(spend, total.spend);
    writer.BeginObject()
        .Field("kecamatan", kecamatan)
        .Field("spend", AmountText(spend))
        .Field("purchases", purchases)
        .Field("share_basis_points", share)
        .Field("share_percent", PercentText(share));
    writer.Key("kelurahan").BeginArray();
    for (const AreaSpend* area : kelurahan) {
      writer.BeginObject()
          .Field("kelurahan", area->kelurahan)
          .Field("spend", AmountText(area->spend))
          .Field("purchases", area->purchases)
          .EndObject();
    }
    writer.EndArray().EndObject();
  }
  writer.EndArray().EndObject();
  return writer.Take();
}

}  // namespace malpro
