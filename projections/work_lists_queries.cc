// Work lists' queries (projections/work_lists.h): each picks the most specific index its
// filters allow, walks it from the cursor and checks the rest of the filters on the way.
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "projections/work_lists.h"

namespace malpro {
namespace {

// "a|b" of the terms given, skipping empty ones.
std::string Term(std::initializer_list<std::string> parts) {
  std::string term;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    if (!term.empty()) term += "|";
    term += part;
  }
  return term;
}

std::string Tagged(std::string_view tag, const std::string& value) {
  return value.empty() ? std::string() : std::string(tag) + value;
}

// Closes the list's array and writes the page's fields and the object's end.
void EndPage(JsonWriter& writer, char list, const std::optional<ListPosition>& next,
             const ListPage& page) {
  writer.EndArray().Key("next");
  if (next) {
    writer.String(CursorText(list, *next));
  } else {
    writer.Null();
  }
  writer.Field("limit", static_cast<int64_t>(page.limit))
      .Field("sort", page.newest_first ? "newest" : "oldest");
}

}  // namespace

std::string WorkListsProjection::Orders(const OrderListQuery& query) const {
  const std::string status = Tagged("s:", query.status);
  // A merchant's index when it is asked for, else the buyer's, else the status's.
  const bool by_merchant = !query.umkm_id.empty();
  const std::string term = by_merchant               ? Term({"m:" + query.umkm_id, status})
                           : query.buyer_nip.empty() ? status
                                                     : Term({"b:" + query.buyer_nip, status});
  ListIndex<OrderListRow>::Range range;
  if (query.from) range.lowest = {JakartaDayStartMicros(*query.from), 0};
  if (query.to) {
    range.highest = {JakartaDayStartMicros(CivilFromDays(DaysFromCivil(*query.to) + 1)) - 1,
                     std::numeric_limits<uint64_t>::max()};
  }
  const bool check_buyer = by_merchant && !query.buyer_nip.empty();
  JsonWriter writer;
  writer.BeginObject().Key("orders").BeginArray();
  const std::optional<ListPosition> next = order_index_.Walk(
      term, range, query.page,
      [&](const ListIndex<OrderListRow>::Item& item) {
        return !check_buyer || item.handle->second.row.buyer_nip == query.buyer_nip;
      },
      [&](const ListIndex<OrderListRow>::Item& item) { writer.Raw(item.handle->second.json); });
  EndPage(writer, list_orders, next, query.page);
  return writer.EndObject().Take();
}

std::string WorkListsProjection::Payments(const PaymentListQuery& query) const {
  const std::string status = Tagged("s:", query.status);
  const std::string channel = Tagged("c:", query.channel);
  std::string term;
  bool channel_in_term = false;
  bool buyer_in_term = false;
  if (!query.umkm_id.empty()) {
    term = Term({"m:" + query.umkm_id, status});
  } else if (!query.buyer_nip.empty()) {
    term = Term({"b:" + query.buyer_nip, status});
    buyer_in_term = true;
  } else {
    term = Term({status, channel});
    channel_in_term = true;
  }
  const int64_t requested_by_us =
      query.older_than_s ? query.now_us - *query.older_than_s * micros_per_second : 0;
  auto matches = [&](const ListIndex<PaymentListRow>::Item& item) {
    const PaymentListRow& row = item.handle->second.row;
    if (!channel_in_term && !query.channel.empty() && row.channel != query.channel) return false;
    if (!buyer_in_term && !query.buyer_nip.empty() && row.buyer_nip != query.buyer_nip) {
      return false;
    }
    return !query.older_than_s || (item.since_us > 0 && item.since_us <= requested_by_us);
  };
  JsonWriter writer;
  writer.BeginObject().Key("payments").BeginArray();
  std::string row_text;
  const std::optional<ListPosition> next = payment_index_.Walk(
      term, {}, query.page, matches, [&](const ListIndex<PaymentListRow>::Item& item) {
        // The row as committed, and its age now (pending ones only): the age is the caller's
        // clock's, never part of the row.
        const std::string& json = item.handle->second.json;
        row_text.assign(json, 0, json.size() - 1);
        row_text += ",\"age_s\":";
        row_text += item.since_us > 0
                        ? std::to_string(std::max<int64_t>(0, query.now_us - item.since_us) /
                                         micros_per_second)
                        : "null";
        row_text += '}';
        writer.Raw(row_text);
      });
  EndPage(writer, list_payments, next, query.page);
  return writer.Field("now_us", query.now_us).EndObject().Take();
}

std::string WorkListsProjection::Receipts(const ReceiptListQuery& query) const {
  const std::string status = Tagged("s:", query.status);
  const std::string kelurahan = Tagged("k:", query.kelurahan);
  const bool by_owner = !query.nip.empty();
  const std::string term = by_owner ? Term({"n:" + query.nip, status}) : Term({status, kelurahan});
  const bool check_kelurahan = by_owner && !query.kelurahan.empty();
  JsonWriter writer;
  writer.BeginObject().Key("receipts").BeginArray();
  const std::optional<ListPosition> next = receipt_index_.Walk(
      term, {}, query.page,
      [&](const ListIndex<ReceiptListRow>::Item& item) {
        return !check_kelurahan || item.handle->second.row.receipt.kelurahan == query.kelurahan;
      },
      [&](const ListIndex<ReceiptListRow>::Item& item) { writer.Raw(item.handle->second.json); });
  EndPage(writer, list_receipts, next, query.page);
  return writer.EndObject().Take();
}

std::string WorkListsProjection::SettlementBatches(const ListPage& page) const {
  JsonWriter writer;
  writer.BeginObject().Key("batches").BeginArray();
  const std::optional<ListPosition> next = batch_index_.Walk(
      "", {}, page, [](const ListIndex<SettlementBatchRow>::Item&) { return true; },
      [&](const ListIndex<SettlementBatchRow>::Item& item) {
        // A batch never changes once closed: its row is as committed.
        writer.BeginObject();
        item.handle->second.row.WriteSummary(writer);
        writer.EndObject();
      });
  EndPage(writer, list_settlement, next, page);
  return writer.EndObject().Take();
}

Result<std::string> WorkListsProjection::SettlementBatch(CivilDate date) const {
  const std::string* json = batches_.Json(FormatIsoDate(date));
  if (json == nullptr) {
    return Status::NotFound(errc::kSettlementNotFound, "date",
                            "business day " + FormatIsoDate(date) + " has no closed batch");
  }
  return *json;
}

Result<SettlementBatchFiles> WorkListsProjection::SettlementFiles(CivilDate date) const {
  const std::string key = FormatIsoDate(date);
  const SettlementBatchRow* row = batches_.Find(key);
  if (row == nullptr || batches_.Json(key) == nullptr) {
    return Status::NotFound(errc::kSettlementNotFound, "date",
                            "business day " + key + " has no closed batch");
  }
  return SettlementBatchFiles{row->pain001_file, row->pain001_sha256, row->csv_file,
                              row->csv_sha256};
}

std::string WorkListsProjection::ReconciliationRuns(const ReconciliationListQuery& query) const {
  const std::string term = Term({Tagged("t:", query.statement_id), query.open_only ? "open" : ""});
  JsonWriter writer;
  writer.BeginObject().Key("runs").BeginArray();
  const std::optional<ListPosition> next = run_index_.Walk(
      term, {}, query.page, [](const ListIndex<ReconciliationRunRow>::Item&) { return true; },
      [&](const ListIndex<ReconciliationRunRow>::Item& item) {
        writer.Raw(item.handle->second.json);
      });
  EndPage(writer, list_reconciliation, next, query.page);
  return writer.EndObject().Take();
}

}  // namespace malpro
