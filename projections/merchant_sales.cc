// Merchant sales: a row per merchant per day ("d/{umkm_id}/{date}") and the cashless money
// each merchant is still owed ("o/{umkm_id}"). Cash counts on the Asia/Jakarta day it was
// received; a cashless payment on its business day (the day its settlement covers), with the
// fee recorded in the payment; a refund on the day it was made. Closing a business day
// (settlement.batch_closed) settles every merchant's payments of that day.
#include "projections/read_models.h"

namespace malpro {

void SalesDay::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("umkm_id", umkm_id)
      .Field("date", date)
      .Field("orders", orders)
      .Field("gross", AmountText(gross))
      .Field("fee", AmountText(fee))
      .Field("refunds", AmountText(refunds))
      .Field("net", AmountText(net));
  cod.Write(writer, "cod");
  cashless.Write(writer, "cashless");
  writer.EndObject();
}

Result<SalesDay> SalesDay::Read(const JsonObject& object) {
  RowReader reader(object);
  SalesDay day;
  day.umkm_id = reader.Text("umkm_id");
  day.date = reader.Text("date");
  day.orders = reader.Int("orders");
  day.gross = reader.Amount("gross");
  day.fee = reader.Amount("fee");
  day.refunds = reader.Amount("refunds");
  day.net = reader.Amount("net");
  day.cod = reader.Channel("cod");
  day.cashless = reader.Channel("cashless");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return day;
}

OutstandingDay Outstanding::Total() const {
  OutstandingDay total;
  for (const auto& [date, day] : days) {
    total.payments += day.payments;
    total.gross += day.gross;
    total.fee += day.fee;
    total.net += day.net;
  }
  return total;
}

namespace {

void WriteOutstandingDay(JsonWriter& writer, const OutstandingDay& day) {
  writer.Field("payments", day.payments)
      .Field("gross", AmountText(day.gross))
      .Field("fee", AmountText(day.fee))
      .Field("net", AmountText(day.net));
}

}  // namespace

void Outstanding::Write(JsonWriter& writer) const {
  writer.BeginObject().Field("umkm_id", umkm_id);
  WriteOutstandingDay(writer, Total());
  writer.ObjectArray("days", days, [&writer](const auto& entry) {
    writer.Field("business_date", entry.first);
    WriteOutstandingDay(writer, entry.second);
  });
  writer.EndObject();
}

Result<Outstanding> Outstanding::Read(const JsonObject& object) {
  RowReader reader(object);
  Outstanding outstanding;
  outstanding.umkm_id = reader.Text("umkm_id");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  Result<simdjson::dom::array> days = object.Array("days");
  if (!days.ok()) return days.status();
  for (simdjson::dom::element element : *days) {
    simdjson::dom::object item;
    if (element.get(item) != simdjson::SUCCESS) {
      return Status::Corruption("outstanding row: days must hold objects");
    }
    JsonObject day_object(item, "days[].");
    RowReader day_reader(day_object);
    const std::string date = day_reader.Text("business_date");
    OutstandingDay day{day_reader.Int("payments"), day_reader.Amount("gross"),
                       day_reader.Amount("fee"), day_reader.Amount("net")};
    MALPRO_RETURN_IF_ERROR(day_reader.Finish());
    outstanding.days[date] = day;
  }
  return outstanding;
}

Status MerchantSalesProjection::Apply(const Fact& fact) {
  if (fact.kind == FactKind::kSettlementClosed) {
    const std::string date = FormatIsoDate(fact.settled_date);
    for (const auto& [umkm_id, entry] : outstanding_.Ordered()) {
      if (entry->row.days.count(date) == 0) continue;
      outstanding_.Mutable(umkm_id).days.erase(date);
    }
    return Status::Ok();
  }
  if (fact.umkm == nullptr) return Status::Ok();
  if (fact.kind != FactKind::kCashReceived && fact.kind != FactKind::kPaymentSucceeded &&
      fact.kind != FactKind::kPaymentRefunded) {
    return Status::Ok();
  }
  const std::string& umkm_id = fact.umkm->umkm_id;
  UmkmRows& rows = AtSlot(by_slot_, fact.umkm_slot);
  switch (fact.kind) {
    case FactKind::kCashReceived: {
      SalesDay& day = Day(rows, umkm_id, JakartaDate(fact.event->recorded_at_us));
      ++day.orders;
      ++day.cod.count;
      day.cod.amount += fact.amount;
      day.gross += fact.amount;
      day.net += fact.amount;
      return Status::Ok();
    }
    case FactKind::kPaymentSucceeded: {
      const FactPayment& payment = *fact.payment;
      SalesDay& day = Day(rows, umkm_id, payment.business_date);
      ++day.orders;
      ++day.cashless.count;
      day.cashless.amount += payment.amount;
      day.gross += payment.amount;
      day.fee += payment.fee;
      day.net += payment.amount - payment.fee;
      bool created = false;
      if (rows.outstanding == nullptr) rows.outstanding = outstanding_.Get(umkm_id, &created);
      Outstanding& outstanding = outstanding_.Touch(rows.outstanding);
      if (created) outstanding.umkm_id = umkm_id;
      OutstandingDay& owed = outstanding.days[FormatIsoDate(payment.business_date)];
      ++owed.payments;
      owed.gross += payment.amount;
      owed.fee += payment.fee;
      owed.net += payment.amount - payment.fee;
      return Status::Ok();
    }
    case FactKind::kPaymentRefunded: {
      SalesDay& day = Day(rows, umkm_id, JakartaDate(fact.event->recorded_at_us));
      day.refunds += fact.amount;
      day.net -= fact.amount;
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

SalesDay& MerchantSalesProjection::Day(UmkmRows& rows, const std::string& umkm_id, CivilDate date) {
  const int64_t number = DaysFromCivil(date);
  if (rows.days.empty()) {
    rows.first_day = number;
  } else if (number < rows.first_day) {
    rows.days.insert(rows.days.begin(), static_cast<size_t>(rows.first_day - number), nullptr);
    rows.first_day = number;
  }
  const size_t index = static_cast<size_t>(number - rows.first_day);
  if (index >= rows.days.size()) rows.days.resize(index + 1, nullptr);
  RowTable<SalesDay>::Handle& handle = rows.days[index];
  if (handle != nullptr) return days_.Touch(handle);
  const std::string text = FormatIsoDate(date);
  bool created = false;
  handle = days_.Get(umkm_id + "/" + text, &created);
  SalesDay& day = days_.Touch(handle);
  if (created) {
    day.umkm_id = umkm_id;
    day.date = text;
  }
  return day;
}

std::string MerchantSalesProjection::Sales(const std::string& umkm_id, const std::string& from,
                                           const std::string& to) const {
  SalesDay total;
  JsonWriter writer;
  writer.BeginObject().Field("umkm_id", umkm_id).Field("from", from).Field("to", to);
  writer.Key("days").BeginArray();
  const auto& rows = days_.entries();
  for (auto it = rows.lower_bound(umkm_id + "/" + from); it != rows.end(); ++it) {
    const SalesDay& day = it->second->row;
    if (day.umkm_id != umkm_id || day.date > to) break;
    if (it->second->json.empty()) continue;
    writer.Raw(it->second->json);
    total.orders += day.orders;
    total.gross += day.gross;
    total.fee += day.fee;
    total.refunds += day.refunds;
    total.net += day.net;
  }
  writer.EndArray()
      .Key("total")
      .BeginObject()
      .Field("orders", total.orders)
      .Field("gross", AmountText(total.gross))
      .Field("fee", AmountText(total.fee))
      .Field("refunds", AmountText(total.refunds))
      .Field("net", AmountText(total.net))
      .EndObject()
      .EndObject();
  return writer.Take();
}

std::string MerchantSalesProjection::OutstandingJson(const std::string& umkm_id) const {
  if (!umkm_id.empty()) {
    if (const std::string* json = outstanding_.Json(umkm_id)) return *json;
    JsonWriter writer;
    Outstanding empty;
    empty.umkm_id = umkm_id;
    empty.Write(writer);
    return writer.Take();
  }
  OutstandingDay all;
  JsonWriter writer;
  writer.BeginObject().Key("merchants").BeginArray();
  for (const auto& [id, entry] : outstanding_.entries()) {
    const OutstandingDay total = entry->row.Total();
    if (total.payments == 0) continue;
    writer.BeginObject().Field("umkm_id", id);
    WriteOutstandingDay(writer, total);
    writer.EndObject();
    all.payments += total.payments;
    all.gross += total.gross;
    all.fee += total.fee;
    all.net += total.net;
  }
  writer.EndArray().Key("total").BeginObject();
  WriteOutstandingDay(writer, all);
  writer.EndObject().EndObject();
  return writer.Take();
}

}  // namespace malpro
