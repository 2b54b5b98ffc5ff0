#include "projections/projection.h"

#include <cstdio>

#include "engine/domain_events.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"

namespace malpro {

std::string AmountText(Money amount) {
  if (amount.sen() >= 0) return FormatSnap(amount);
  std::string text(1, '-');
  text += FormatSnap(Money::FromSen(-amount.sen()));
  return text;
}

Result<Money> ReadAmount(const JsonObject& object, std::string_view key) {
  Result<std::string> text = object.String(key);
  if (!text.ok()) return text.status();
  std::string_view digits = *text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  Result<Money> amount = ParseAmount(digits, object.FieldName(key));
  if (!amount.ok()) return amount.status();
  return negative ? Money::FromSen(-amount->sen()) : *amount;
}

std::string MonthOf(CivilDate date) { return FormatIsoDate(date).substr(0, 7); }

Status CheckMonth(std::string_view text, std::string_view field) {
  if (text.size() == 7 && text[4] == '-') {
    Result<CivilDate> date = ParseIsoDate(std::string(text) + "-01", field);
    if (date.ok()) return Status::Ok();
  }
  return Status::InvalidArgument(errc::kMonthInvalid, field,
                                 std::string(field) + " must be a month written YYYY-MM");
}

CivilDate LastDayOfMonth(std::string_view month) {
  const int year = std::stoi(std::string(month.substr(0, 4)));
  const int number = std::stoi(std::string(month.substr(5, 2)));
  const CivilDate first_of_next =
      number == 12 ? CivilDate{year + 1, 1, 1} : CivilDate{year, number + 1, 1};
  return CivilFromDays(DaysFromCivil(first_of_next) - 1);
}

int MonthNumber(CivilDate date) { return date.year * 12 + date.month - 1; }

std::string MonthText(int month_number) {
  return MonthOf(CivilDate{month_number / 12, month_number % 12 + 1, 1});
}

CivilDate SpendDate(const Fact& fact) {
  switch (fact.kind) {
    case FactKind::kPaymentSucceeded:
    case FactKind::kPaymentRefunded:
      return JakartaDate(fact.payment->paid_at_us);
    case FactKind::kReceiptApproved:
      return fact.receipt->purchase_date;
    default:  // cash on the day it was received
      return JakartaDate(fact.event->recorded_at_us);
  }
}

void ChannelTotals::Write(JsonWriter& writer, std::string_view key) const {
  writer.Key(key)
      .BeginObject()
      .Field("count", count)
      .Field("amount", AmountText(amount))
      .EndObject();
}

Result<ChannelTotals> ChannelTotals::Read(const JsonObject& object, std::string_view key) {
  Result<JsonObject> inner = object.Object(key);
  if (!inner.ok()) return inner.status();
  ChannelTotals totals;
  Result<int64_t> count = inner->Int("count");
  if (!count.ok()) return count.status();
  Result<Money> amount = ReadAmount(*inner, "amount");
  if (!amount.ok()) return amount.status();
  totals.count = *count;
  totals.amount = *amount;
  return totals;
}

namespace {
template <typename T>
T Take(Result<T> result, Status* status) {
  if (!result.ok()) {
    if (status->ok()) *status = result.status();
    return T{};
  }
  return std::move(result).value();
}
}  // namespace

std::string RowReader::Text(std::string_view key) { return Take(object_.String(key), &status_); }
int64_t RowReader::Int(std::string_view key) { return Take(object_.Int(key), &status_); }
bool RowReader::Bool(std::string_view key) { return Take(object_.Bool(key), &status_); }
Money RowReader::Amount(std::string_view key) { return Take(ReadAmount(object_, key), &status_); }
CivilDate RowReader::Date(std::string_view key) {
  const std::string text = Text(key);
  if (!status_.ok()) return CivilDate{};
  return Take(ParseIsoDate(text, key), &status_);
}
ChannelTotals RowReader::Channel(std::string_view key) {
  return Take(ChannelTotals::Read(object_, key), &status_);
}

}  // namespace malpro
