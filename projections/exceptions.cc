// Exceptions for the payment operator ("x/{payment_id}"): money the bank moved that counts
// toward nothing (payment.refund_due: a voided request or a cancelled order was paid
// anyway), open until the operator resolves it (payment.exception_resolved).
#include <simdjson.h>

#include <algorithm>

#include "engine/domain_events.h"
#include "engine/payment_channel.h"
#include "projections/read_models.h"

namespace malpro {

void PaymentException::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("payment_id", payment_id)
      .Field("order_id", order_id)
      .Field("umkm_id", umkm_id)
      .Field("buyer_nip", buyer_nip)
      .Field("kind", kind)
      .Field("cause", cause)
      .Field("amount", AmountText(amount))
      .Field("paid_at_us", paid_at_us)
      .Field("bank_reference", bank_reference)
      .Field("recorded_at_us", recorded_at_us)
      .Field("recorded_sequence", recorded_sequence)
      .Field("status", resolution.empty() ? "open" : "resolved")
      .Field("action", resolution.empty() ? "refund the payer at the bank, then resolve it as "
                                            "refunded (or explained)"
                                          : "none")
      .Field("resolution", resolution)
      .Field("note", note)
      .EndObject();
}

Result<PaymentException> PaymentException::Read(const JsonObject& object) {
  RowReader reader(object);
  PaymentException row;
  row.payment_id = reader.Text("payment_id");
  row.order_id = reader.Text("order_id");
  row.umkm_id = reader.Text("umkm_id");
  row.buyer_nip = reader.Text("buyer_nip");
  row.kind = reader.Text("kind");
  row.cause = reader.Text("cause");
  row.amount = reader.Amount("amount");
  row.paid_at_us = reader.Int("paid_at_us");
  row.bank_reference = reader.Text("bank_reference");
  row.recorded_at_us = reader.Int("recorded_at_us");
  row.recorded_sequence = reader.Int("recorded_sequence");
  row.resolution = reader.Text("resolution");
  row.note = reader.Text("note");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return row;
}

namespace {

Result<JsonObject> PayloadOf(const Event& event, simdjson::dom::parser& parser) {
  Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
  if (!payload.ok()) {
    return Status::Corruption("event " + std::to_string(event.sequence) + ": " +
                              payload.status().message());
  }
  return payload;
}

std::string TextOr(const JsonObject& object, std::string_view key) {
  Result<std::string> text = object.String(key);
  return text.ok() ? std::move(text).value() : std::string();
}

}  // namespace

Status ExceptionsProjection::Apply(const Fact& fact) {
  if (fact.kind != FactKind::kPaymentRefundDue && fact.kind != FactKind::kExceptionResolved) {
    return Status::Ok();
  }
  const Event& event = *fact.event;
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> payload = PayloadOf(event, parser);
  if (!payload.ok()) return payload.status();
  const std::string payment_id = TextOr(*payload, "payment_id");
  bool created = false;
  PaymentException& row = exceptions_.Mutable(payment_id, &created);
  if (fact.kind == FactKind::kPaymentRefundDue) {
    row = PaymentException{};
    row.payment_id = payment_id;
    row.order_id = TextOr(*payload, "order_id");
    row.umkm_id = TextOr(*payload, "umkm_id");
    row.buyer_nip = TextOr(*payload, "buyer_nip");
    row.kind = "refund_due";
    row.cause = TextOr(*payload, "cause");
    row.amount = fact.amount;
    row.bank_reference = std::string(ShownBankReference(TextOr(*payload, "bank_reference")));
    Result<int64_t> paid_at = payload->Int("paid_at_us");
    row.paid_at_us = paid_at.ok() ? *paid_at : 0;
    row.recorded_at_us = event.recorded_at_us;
    row.recorded_sequence = static_cast<int64_t>(event.sequence);
    return Status::Ok();
  }
  if (created) {
    return Status::Corruption("event " + std::to_string(event.sequence) +
                              " resolves an exception the log never raised");
  }
  row.resolution = TextOr(*payload, "resolution");
  row.note = TextOr(*payload, "note");
  return Status::Ok();
}

std::string ExceptionsProjection::List(std::string_view status, const ListPage& page) const {
  using Placed = std::pair<ListPosition, const std::string*>;
  std::vector<Placed> rows;
  int64_t open = 0;
  Money open_amount;
  for (const auto& [key, entry] : exceptions_.entries()) {
    const PaymentException& row = entry->row;
    const bool is_open = row.resolution.empty();
    if (is_open) {
      ++open;
      open_amount += row.amount;
    }
    if ((status == "open" && !is_open) || (status == "resolved" && is_open)) continue;
    rows.push_back(
        {{row.recorded_at_us, static_cast<uint64_t>(row.recorded_sequence)}, &entry->json});
  }
  auto earlier = [](const Placed& left, const Placed& right) { return left.first < right.first; };
  std::sort(rows.begin(), rows.end(), earlier);
  if (page.newest_first) std::reverse(rows.begin(), rows.end());
  auto first = rows.begin();
  if (page.after) {
    first = std::partition_point(rows.begin(), rows.end(), [&](const Placed& placed) {
      return page.newest_first ? placed.first >= *page.after : placed.first <= *page.after;
    });
  }
  const size_t count = std::min<size_t>(page.limit, rows.end() - first);
  JsonWriter writer;
  writer.BeginObject().Key("exceptions").BeginArray();
  for (auto it = first; it != first + count; ++it) writer.Raw(*it->second);
  writer.EndArray().Key("next");
  if (first + count != rows.end() && count > 0) {
    writer.String(CursorText(list_exceptions, (first + count - 1)->first));
  } else {
    writer.Null();
  }
  writer.Field("limit", static_cast<int64_t>(page.limit))
      .Field("sort", page.newest_first ? "newest" : "oldest")
      .Field("total", static_cast<int64_t>(rows.size()))
      .Field("open", open)
      .Field("open_amount", AmountText(open_amount))
      .EndObject();
  return writer.Take();
}

int64_t ExceptionsProjection::OpenCount() const {
  int64_t open = 0;
  for (const auto& [key, entry] : exceptions_.entries()) {
    if (entry->row.resolution.empty()) ++open;
  }
  return open;
}

}  // namespace malpro
