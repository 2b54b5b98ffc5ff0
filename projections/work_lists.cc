// Work lists (projections/work_lists.h): the rows, their fold, and their filing in the indexes
// as committed. The queries are in work_lists_queries.cc.
#include "projections/work_lists.h"

#include <charconv>

#include "engine/domain_events.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

namespace types = event_types;

std::string Padded(int64_t number, int width) {
  std::string text = std::to_string(number);
  if (static_cast<int>(text.size()) < width) text.insert(0, width - text.size(), '0');
  return text;
}

// "statement_id/000002": the runs of a statement sort together, in run order.
std::string RunKey(std::string_view statement_id, int64_t run) {
  return std::string(statement_id) + "/" + Padded(run, 6);
}

std::string ResolutionKey(std::string_view kind, std::string_view reference) {
  return std::string(kind) + "|" + std::string(reference);
}

Status Corrupt(const Event& event, const Status& status) {
  return Status::Corruption("event " + std::to_string(event.sequence) + " (" + event.type +
                            "): " + status.message());
}

// The id of a stream "order-o-1" -> "o-1".
std::string IdOf(const Event& event) {
  return event.stream_id.substr(event.stream_id.find('-') + 1);
}

// `out` made of `parts` (a filing term; `out` keeps its capacity from row to row).
std::string_view Compose(std::string& out, std::initializer_list<std::string_view> parts) {
  out.clear();
  for (std::string_view part : parts) out.append(part);
  return out;
}

std::string DateText(CivilDate date) { return date.year == 0 ? "" : FormatIsoDate(date); }

// The CSV's name follows the pain.001's (docs/domain-events.md, settlement.batch_closed).
std::string CsvFileName(const std::string& pain001_file, const std::string& business_date) {
  constexpr std::string_view pain001_ending = ".pain001.xml";
  if (pain001_file.ends_with(pain001_ending)) {
    return pain001_file.substr(0, pain001_file.size() - pain001_ending.size()) + ".csv";
  }
  return "malpro-settlement-" + business_date + ".csv";
}

void WriteFile(JsonWriter& writer, std::string_view key, const std::string& business_date,
               const std::string& file, const std::string& sha256) {
  writer.Key(key);
  if (file.empty()) {
    writer.Null();
    return;
  }
  writer.BeginObject()
      .Field("file", file)
      .Field("sha256", sha256)
      .Field("url", "/v1/settlement/" + business_date + "/files/" + file)
      .EndObject();
}

// A file object of a stored batch row, or null.
Status ReadFile(const JsonObject& object, std::string_view key, std::string* file,
                std::string* sha256) {
  simdjson::dom::element element;
  if (object.raw().at_key(key).get(element) != simdjson::SUCCESS) {
    return Status::Corruption("settlement batch: " + std::string(key) + " is missing");
  }
  if (element.is_null()) return Status::Ok();
  simdjson::dom::object inner;
  if (element.get(inner) != simdjson::SUCCESS) {
    return Status::Corruption("settlement batch: " + std::string(key) + " must be an object");
  }
  const JsonObject file_object(inner);
  RowReader reader(file_object);
  *file = reader.Text("file");
  *sha256 = reader.Text("sha256");
  return reader.Finish();
}

// Each object of the array `key` of a stored row, read by `read`.
template <typename Read>
Status ReadEach(const JsonObject& object, std::string_view key, Read read) {
  Result<simdjson::dom::array> array = object.Array(key);
  if (!array.ok()) return array.status();
  for (simdjson::dom::element element : *array) {
    simdjson::dom::object item;
    if (element.get(item) != simdjson::SUCCESS) {
      return Status::Corruption(std::string(key) + " must hold objects");
    }
    MALPRO_RETURN_IF_ERROR(read(JsonObject(item)));
  }
  return Status::Ok();
}

}  // namespace

std::string CursorText(char list, ListPosition position) {
  return std::string(1, list) + "-" + std::to_string(position.at_us) + "-" +
         std::to_string(position.sequence);
}

Result<ListPosition> ParseCursor(std::string_view text, char list) {
  auto refuse = [&] {
    return Status::InvalidArgument(errc::kQueryCursorInvalid, "cursor",
                                   "cursor must be the `next` of an earlier page of this list");
  };
  if (text.size() < 5 || text.size() > 48 || text[0] != list || text[1] != '-') return refuse();
  const size_t dash = text.find('-', 2);
  if (dash == std::string_view::npos) return refuse();
  ListPosition position;
  const std::string_view at = text.substr(2, dash - 2);
  const std::string_view sequence = text.substr(dash + 1);
  auto [at_end, at_error] = std::from_chars(at.data(), at.data() + at.size(), position.at_us);
  auto [sequence_end, sequence_error] =
      std::from_chars(sequence.data(), sequence.data() + sequence.size(), position.sequence);
  if (at.empty() || sequence.empty() || at_error != std::errc() ||
      at_end != at.data() + at.size() || sequence_error != std::errc() ||
      sequence_end != sequence.data() + sequence.size() || at.front() == '+' ||
      sequence.front() == '+') {
    return refuse();
  }
  return position;
}

// ---- Rows. ----------------------------------------------------------------------------------

void OrderListRow::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("order_id", order_id)
      .Field("buyer_nip", buyer_nip)
      .Field("umkm_id", umkm_id)
      .Field("payment_method", payment_method)
      .Field("total", AmountText(total))
      .Field("status", status)
      .Field("cash_received", cash_received)
      .Field("payment_status", payment_status)
      .Field("placed_at_us", placed_at_us)
      .Field("updated_at_us", updated_at_us)
      .Field("sequence", sequence)
      .EndObject();
}

Result<OrderListRow> OrderListRow::Read(const JsonObject& object) {
  RowReader reader(object);
  OrderListRow row;
  row.order_id = reader.Text("order_id");
  row.buyer_nip = reader.Text("buyer_nip");
  row.umkm_id = reader.Text("umkm_id");
  row.payment_method = reader.Text("payment_method");
  row.total = reader.Amount("total");
  row.status = reader.Text("status");
  row.cash_received = reader.Bool("cash_received");
  row.payment_status = reader.Text("payment_status");
  row.placed_at_us = reader.Int("placed_at_us");
  row.updated_at_us = reader.Int("updated_at_us");
  row.sequence = reader.Int("sequence");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return row;
}

void PaymentListRow::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("payment_id", payment_id)
      .Field("order_id", order_id)
      .Field("buyer_nip", buyer_nip)
      .Field("umkm_id", umkm_id)
      .Field("channel", channel)
      .Field("amount", AmountText(amount))
      .Field("bank_reference", bank_reference)
      .Field("status", status)
      .Field("requests", requests)
      .Field("first_requested_at_us", first_requested_at_us)
      .Field("requested_at_us", requested_at_us)
      .Field("expires_at_us", expires_at_us)
      .Field("paid_at_us", paid_at_us)
      .Field("business_date", business_date)
      .Field("refunded", AmountText(refunded))
      .Field("updated_at_us", updated_at_us)
      .Field("sequence", sequence)
      .EndObject();
}

Result<PaymentListRow> PaymentListRow::Read(const JsonObject& object) {
  RowReader reader(object);
  PaymentListRow row;
  row.payment_id = reader.Text("payment_id");
  row.order_id = reader.Text("order_id");
  row.buyer_nip = reader.Text("buyer_nip");
  row.umkm_id = reader.Text("umkm_id");
  row.channel = reader.Text("channel");
  row.amount = reader.Amount("amount");
  row.bank_reference = reader.Text("bank_reference");
  row.status = reader.Text("status");
  row.requests = reader.Int("requests");
  row.first_requested_at_us = reader.Int("first_requested_at_us");
  row.requested_at_us = reader.Int("requested_at_us");
  row.expires_at_us = reader.Int("expires_at_us");
  row.paid_at_us = reader.Int("paid_at_us");
  row.business_date = reader.Text("business_date");
  row.refunded = reader.Amount("refunded");
  row.updated_at_us = reader.Int("updated_at_us");
  row.sequence = reader.Int("sequence");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return row;
}

void ReceiptListRow::Write(JsonWriter& writer) const {
  writer.BeginObject();
  WriteReceiptFields(writer, receipt);
  writer.Field("photo_url", "/v1/receipts/" + receipt.receipt_id + "/photo")
      .Field("status", ReceiptStatusName(receipt.status))
      .Field("rejection_reason", receipt.rejection_reason)
      .Field("submitted_at_us", submitted_at_us)
      .Field("decided_at_us", decided_at_us)
      .Field("sequence", sequence)
      .EndObject();
}

Result<ReceiptListRow> ReceiptListRow::Read(const JsonObject& object) {
  RowReader reader(object);
  ReceiptListRow row;
  ReceiptState& receipt = row.receipt;
  receipt.receipt_id = reader.Text("receipt_id");
  receipt.nip = reader.Text("nip");
  receipt.shop_name = reader.Text("shop_name");
  receipt.kecamatan = reader.Text("kecamatan");
  receipt.kelurahan = reader.Text("kelurahan");
  receipt.amount = reader.Amount("amount");
  receipt.purchase_date = reader.Date("purchase_date");
  receipt.photo_sha256 = reader.Text("photo_sha256");
  const std::string status = reader.Text("status");
  receipt.rejection_reason = reader.Text("rejection_reason");
  row.submitted_at_us = reader.Int("submitted_at_us");
  row.decided_at_us = reader.Int("decided_at_us");
  row.sequence = reader.Int("sequence");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  const std::optional<ReceiptStatus> named = ReceiptStatusNamed(status);
  if (!named) {
    return Status::Corruption("a receipt row's status is not a receipt status: " + status);
  }
  receipt.status = *named;
  return row;
}

void SettlementBatchRow::WriteSummary(JsonWriter& writer) const {
  writer.Field("business_date", business_date)
      .Field("closed_at_us", closed_at_us)
      .Field("sequence", sequence)
      .Field("merchant_count", static_cast<int64_t>(merchants.size()))
      .Field("payments", payments)
      .Field("total_gross", AmountText(total_gross))
      .Field("total_fee", AmountText(total_fee))
      .Field("total_refunds", AmountText(total_refunds))
      .Field("total_net", AmountText(total_net));
  WriteFile(writer, "pain001", business_date, pain001_file, pain001_sha256);
  WriteFile(writer, "csv", business_date, csv_file, csv_sha256);
}

void SettlementBatchRow::Write(JsonWriter& writer) const {
  writer.BeginObject();
  WriteSummary(writer);
  writer.ObjectArray("merchants", merchants, [&writer](const MerchantSettlement& merchant) {
    WriteMerchantSettlementFields(writer, merchant);
  });
  writer.EndObject();
}

Result<SettlementBatchRow> SettlementBatchRow::Read(const JsonObject& object) {
  RowReader reader(object);
  SettlementBatchRow row;
  row.business_date = reader.Text("business_date");
  row.closed_at_us = reader.Int("closed_at_us");
  row.sequence = reader.Int("sequence");
  row.payments = reader.Int("payments");
  row.total_gross = reader.Amount("total_gross");
  row.total_fee = reader.Amount("total_fee");
  row.total_refunds = reader.Amount("total_refunds");
  row.total_net = reader.Amount("total_net");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  MALPRO_RETURN_IF_ERROR(ReadFile(object, "pain001", &row.pain001_file, &row.pain001_sha256));
  MALPRO_RETURN_IF_ERROR(ReadFile(object, "csv", &row.csv_file, &row.csv_sha256));
  MALPRO_RETURN_IF_ERROR(ReadEach(object, "merchants", [&row](const JsonObject& item) {
    RowReader merchant_reader(item);
    MerchantSettlement merchant;
    merchant.umkm_id = merchant_reader.Text("umkm_id");
    merchant.payments = merchant_reader.Int("payments");
    merchant.gross = merchant_reader.Amount("gross");
    merchant.fee = merchant_reader.Amount("fee");
    merchant.refunds = merchant_reader.Amount("refunds");
    merchant.refund_count = merchant_reader.Int("refund_count");
    merchant.carried_in = merchant_reader.Amount("carried_in");
    merchant.net = merchant_reader.Amount("net");
    merchant.carried_out = merchant_reader.Amount("carried_out");
    row.merchants.push_back(std::move(merchant));
    return merchant_reader.Finish();
  }));
  return row;
}

int64_t ReconciliationRunRow::Discrepancies() const {
  return missing_in_ledger + missing_at_bank + amount_mismatch + refund_due;
}

void ReconciliationRunRow::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("statement_id", statement_id)
      .Field("run", run)
      .Field("format", format)
      .Field("account", account)
      .Field("period_from", period_from)
      .Field("period_to", period_to)
      .Field("statement_sha256", statement_sha256)
      .Field("entries", entries)
      .Field("matched", matched)
      .Field("missing_in_ledger", missing_in_ledger)
      .Field("missing_at_bank", missing_at_bank)
      .Field("amount_mismatch", amount_mismatch)
      .Field("refund_due", refund_due)
      .Field("discrepancies", Discrepancies())
      .Field("discrepancies_truncated", discrepancies_truncated)
      .Field("resolved", resolved)
      .Field("unresolved", Unresolved())
      .Field("latest", latest)
      .Field("completed_at_us", completed_at_us)
      .Field("sequence", sequence);
  writer.Key("open_discrepancies").BeginArray();
  for (const OpenDiscrepancy& discrepancy : open) {
    writer.BeginObject()
        .Field("index", discrepancy.index)
        .Field("kind", discrepancy.kind)
        .Field("reference", discrepancy.reference)
        .Field("payment_id", discrepancy.payment_id)
        .EndObject();
  }
  writer.EndArray().EndObject();
}

Result<ReconciliationRunRow> ReconciliationRunRow::Read(const JsonObject& object) {
  RowReader reader(object);
  ReconciliationRunRow row;
  row.statement_id = reader.Text("statement_id");
  row.run = reader.Int("run");
  row.format = reader.Text("format");
  row.account = reader.Text("account");
  row.period_from = reader.Text("period_from");
  row.period_to = reader.Text("period_to");
  row.statement_sha256 = reader.Text("statement_sha256");
  row.entries = reader.Int("entries");
  row.matched = reader.Int("matched");
  row.missing_in_ledger = reader.Int("missing_in_ledger");
  row.missing_at_bank = reader.Int("missing_at_bank");
  row.amount_mismatch = reader.Int("amount_mismatch");
  row.refund_due = reader.Int("refund_due");
  row.discrepancies_truncated = reader.Bool("discrepancies_truncated");
  row.resolved = reader.Int("resolved");
  row.latest = reader.Bool("latest");
  row.completed_at_us = reader.Int("completed_at_us");
  row.sequence = reader.Int("sequence");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  MALPRO_RETURN_IF_ERROR(ReadEach(object, "open_discrepancies", [&row](const JsonObject& item) {
    RowReader item_reader(item);
    OpenDiscrepancy discrepancy{item_reader.Int("index"), item_reader.Text("kind"),
                                item_reader.Text("reference"), item_reader.Text("payment_id")};
    row.open.push_back(std::move(discrepancy));
    return item_reader.Finish();
  }));
  return row;
}

void StatementResolutions::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("statement_id", statement_id)
      .Field("latest_run", latest_run)
      .Key("resolutions")
      .BeginArray();
  for (const auto& [key, resolution] : resolutions) {
    writer.BeginObject().Field("key", key).Field("resolution", resolution).EndObject();
  }
  writer.EndArray().EndObject();
}

Result<StatementResolutions> StatementResolutions::Read(const JsonObject& object) {
  RowReader reader(object);
  StatementResolutions row;
  row.statement_id = reader.Text("statement_id");
  row.latest_run = reader.Int("latest_run");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  MALPRO_RETURN_IF_ERROR(ReadEach(object, "resolutions", [&row](const JsonObject& item) {
    RowReader item_reader(item);
    std::string key = item_reader.Text("key");
    row.resolutions[std::move(key)] = item_reader.Text("resolution");
    return item_reader.Finish();
  }));
  return row;
}

// ---- Folding. -------------------------------------------------------------------------------

Status WorkListsProjection::Apply(const Fact& fact) {
  const std::string_view type = fact.event->type;
  if (type.starts_with("order.")) return ApplyOrder(fact);
  if (type.starts_with("payment.")) return ApplyPayment(fact);
  if (type.starts_with("receipt.")) return ApplyReceipt(fact);
  if (fact.kind == FactKind::kSettlementClosed) return ApplySettlement(fact);
  if (type == types::reconciliation_completed) return ApplyRun(fact);
  if (type == types::reconciliation_discrepancy_resolved) return ApplyResolution(fact);
  return Status::Ok();
}

Status WorkListsProjection::ApplyOrder(const Fact& fact) {
  const Event& event = *fact.event;
  if (!fact.order || fact.asn == nullptr || fact.umkm == nullptr) {
    return Status::Corruption("event " + std::to_string(event.sequence) +
                              ": an order fact "
                              "without its order, buyer or merchant");
  }
  bool created = false;
  OrderListRow& row = orders_.Mutable(IdOf(event), &created);
  if (created) {
    row.order_id = IdOf(event);
    row.buyer_nip = fact.asn->nip;
    row.umkm_id = fact.umkm->umkm_id;
    row.payment_method = fact.order->cashless ? "CASHLESS" : "COD";
    row.total = fact.amount;
    row.placed_at_us = fact.order->placed_at_us;
    row.sequence = static_cast<int64_t>(event.sequence);
  }
  row.status = OrderStatusName(fact.order->status);
  row.cash_received = fact.order->cash_received;
  row.updated_at_us = event.recorded_at_us;
  return Status::Ok();
}

Status WorkListsProjection::ApplyPayment(const Fact& fact) {
  const Event& event = *fact.event;
  if (!fact.payment || fact.asn == nullptr || fact.umkm == nullptr) {
    return Status::Corruption("event " + std::to_string(event.sequence) +
                              ": a payment fact "
                              "without its payment, buyer or merchant");
  }
  const FactPayment& payment = *fact.payment;
  const std::string payment_id = IdOf(event);
  bool created = false;
  PaymentListRow& row = payments_.Mutable(payment_id, &created);
  if (created) {
    row.payment_id = payment_id;
    row.order_id = payment_id;  // one payment an order, under the order's id
    row.buyer_nip = fact.asn->nip;
    row.umkm_id = fact.umkm->umkm_id;
    row.first_requested_at_us = event.recorded_at_us;
    row.sequence = static_cast<int64_t>(event.sequence);
  }
  if (event.type == types::payment_requested) ++row.requests;
  row.channel = payment.channel;
  row.amount = payment.amount;
  row.bank_reference = payment.bank_reference;
  row.status = PaymentStatusName(payment.status);
  row.requested_at_us = payment.requested_at_us;
  row.expires_at_us = payment.expires_at_us;
  row.paid_at_us = payment.paid_at_us;
  row.business_date = payment.paid_at_us == 0 ? "" : DateText(payment.business_date);
  row.refunded = payment.refunded;
  row.updated_at_us = event.recorded_at_us;
  // The order's row shows where its payment stands.
  if (RowTable<OrderListRow>::Handle order = orders_.FindHandle(payment_id)) {
    OrderListRow& order_row = orders_.Touch(order);
    order_row.payment_status = row.status;
    order_row.updated_at_us = event.recorded_at_us;
  }
  return Status::Ok();
}

Status WorkListsProjection::ApplyReceipt(const Fact& fact) {
  const Event& event = *fact.event;
  if (!fact.receipt || fact.asn == nullptr) {
    return Status::Corruption("event " + std::to_string(event.sequence) +
                              ": a receipt fact without its receipt or owner");
  }
  bool created = false;
  ReceiptListRow& row = receipts_.Mutable(IdOf(event), &created);
  row.receipt = *fact.receipt;
  if (created) {
    row.submitted_at_us = event.recorded_at_us;
    row.sequence = static_cast<int64_t>(event.sequence);
  }
  if (row.receipt.status != ReceiptStatus::kSubmitted) row.decided_at_us = event.recorded_at_us;
  return Status::Ok();
}

Status WorkListsProjection::ApplySettlement(const Fact& fact) {
  const Event& event = *fact.event;
  SettlementState state;
  Status applied = state.Apply(event);
  if (!applied.ok()) return Corrupt(event, applied);
  SettlementBatchRow& row = batches_.Mutable(FormatIsoDate(state.business_date));
  row = SettlementBatchRow{};
  row.business_date = FormatIsoDate(state.business_date);
  row.closed_at_us = event.recorded_at_us;
  row.sequence = static_cast<int64_t>(event.sequence);
  for (const MerchantSettlement& line : state.merchants) {
    row.merchants.push_back(line);
    row.payments += line.payments;
    row.total_gross += line.gross;
    row.total_fee += line.fee;
    row.total_refunds += line.refunds;
  }
  row.total_net = state.total_net;
  row.pain001_file = state.file_name;
  row.pain001_sha256 = state.file_name.empty() ? "" : state.pain001_sha256;
  row.csv_file = CsvFileName(state.file_name, row.business_date);
  row.csv_sha256 = state.csv_sha256;
  return Status::Ok();
}

Status WorkListsProjection::ApplyRun(const Fact& fact) {
  const Event& event = *fact.event;
  ReconciliationState state;
  Status applied = state.Apply(event);
  if (!applied.ok()) return Corrupt(event, applied);
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
  if (!payload.ok()) return Corrupt(event, payload.status());
  RowReader reader(*payload);
  ReconciliationRunRow run;
  run.statement_id = state.statement_id;
  run.run = state.runs;
  run.format = reader.Text("format");
  run.account = reader.Text("account");
  run.period_from = reader.Text("period_from");
  run.period_to = reader.Text("period_to");
  run.statement_sha256 = reader.Text("statement_sha256");
  run.entries = reader.Int("entries");
  run.matched = state.matched;
  run.missing_in_ledger = reader.Int("missing_in_ledger");
  run.missing_at_bank = reader.Int("missing_at_bank");
  run.amount_mismatch = reader.Int("amount_mismatch");
  run.discrepancies_truncated = reader.Bool("discrepancies_truncated");
  if (!reader.Finish().ok()) return Corrupt(event, reader.Finish());
  Result<int64_t> refund_due = payload->Int("refund_due");  // absent in older runs
  run.refund_due = refund_due.ok() ? *refund_due : 0;
  run.completed_at_us = event.recorded_at_us;
  run.sequence = static_cast<int64_t>(event.sequence);

  StatementResolutions& statement = statements_.Mutable(state.statement_id);
  statement.statement_id = state.statement_id;
  if (statement.latest_run > 0) {
    if (auto previous = runs_.FindHandle(RunKey(state.statement_id, statement.latest_run))) {
      runs_.Touch(previous).latest = false;
    }
  }
  statement.latest_run = run.run;
  for (const Discrepancy& discrepancy : state.discrepancies) {
    if (statement.resolutions.contains(ResolutionKey(discrepancy.kind, discrepancy.reference))) {
      ++run.resolved;
    } else if (run.open.size() < list_run_discrepancies_max) {
      run.open.push_back(
          {discrepancy.index, discrepancy.kind, discrepancy.reference, discrepancy.payment_id});
    }
  }
  runs_.Mutable(RunKey(state.statement_id, run.run)) = std::move(run);
  return Status::Ok();
}

Status WorkListsProjection::ApplyResolution(const Fact& fact) {
  const Event& event = *fact.event;
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
  if (!payload.ok()) return Corrupt(event, payload.status());
  RowReader reader(*payload);
  const std::string statement_id = reader.Text("statement_id");
  const std::string kind = reader.Text("kind");
  const std::string reference = reader.Text("reference");
  const std::string resolution = reader.Text("resolution");
  if (!reader.Finish().ok()) return Corrupt(event, reader.Finish());
  auto statement_handle = statements_.FindHandle(statement_id);
  if (statement_handle == nullptr) {
    return Status::Corruption("event " + std::to_string(event.sequence) +
                              " resolves a discrepancy of a statement never reconciled");
  }
  StatementResolutions& statement = statements_.Touch(statement_handle);
  statement.resolutions[ResolutionKey(kind, reference)] = resolution;
  // Resolutions are kept by kind and reference: every run of the statement that lists the
  // discrepancy has it resolved.
  for (int64_t number = 1; number <= statement.latest_run; ++number) {
    auto handle = runs_.FindHandle(RunKey(statement_id, number));
    if (handle == nullptr) continue;
    const std::vector<OpenDiscrepancy>& open = handle->second.row.open;
    auto found = std::find_if(open.begin(), open.end(), [&](const OpenDiscrepancy& item) {
      return item.kind == kind && item.reference == reference;
    });
    if (found == open.end()) continue;
    ReconciliationRunRow& run = runs_.Touch(handle);
    std::erase_if(run.open, [&](const OpenDiscrepancy& item) {
      if (item.kind != kind || item.reference != reference) return false;
      ++run.resolved;
      return true;
    });
  }
  return Status::Ok();
}

// ---- Storing and filing. --------------------------------------------------------------------

void WorkListsProjection::TakeChanges(std::vector<RowWrite>* out) {
  // Tables in prefix order, so that the rows go out in key order; each changed row is filed
  // again as it now stands committed.
  auto take = [out](RowTableBase& table, auto refile) {
    const size_t first = out->size();
    table.TakeChanges(out);
    for (size_t i = first; i < out->size(); ++i) refile(*(*out)[i].key);
  };
  take(runs_, [this](const std::string& key) { RefileRun(key); });
  take(orders_, [this](const std::string& key) { RefileOrder(key); });
  take(payments_, [this](const std::string& key) { RefilePayment(key); });
  take(receipts_, [this](const std::string& key) { RefileReceipt(key); });
  take(batches_, [this](const std::string& key) { RefileBatch(key); });
  take(statements_, [](const std::string&) {});
}

Status WorkListsProjection::LoadRow(std::string_view key, std::string_view json) {
  auto load = [&](RowTableBase& table, auto refile) -> std::optional<Status> {
    if (!table.Owns(key)) return std::nullopt;
    Status loaded = table.Load(key, json);
    if (loaded.ok()) refile(std::string(key.substr(table.prefix().size())));
    return loaded;
  };
  for (std::optional<Status> loaded :
       {load(runs_, [this](const std::string& k) { RefileRun(k); }),
        load(orders_, [this](const std::string& k) { RefileOrder(k); }),
        load(payments_, [this](const std::string& k) { RefilePayment(k); }),
        load(receipts_, [this](const std::string& k) { RefileReceipt(k); }),
        load(batches_, [this](const std::string& k) { RefileBatch(k); }),
        load(statements_, [](const std::string&) {})}) {
    if (loaded) return *loaded;
  }
  return Status::Corruption("work_lists: unknown row '" + std::string(key) + "'");
}

void WorkListsProjection::ForEachRow(
    const std::function<void(const std::string& key, const std::string& json)>& visit) const {
  for (const RowTableBase* table : std::initializer_list<const RowTableBase*>{
           &runs_, &orders_, &payments_, &receipts_, &batches_, &statements_}) {
    table->ForEach(visit);
  }
}

void WorkListsProjection::RefileOrder(const std::string& key) {
  auto handle = orders_.FindHandle(key);
  MALPRO_ASSERT(handle != nullptr);
  const OrderListRow& row = handle->second.row;
  std::array<std::string, list_terms_max>& text = term_texts_;
  const std::string_view merchant = Compose(text[0], {"m:", row.umkm_id});
  const std::string_view buyer = Compose(text[1], {"b:", row.buyer_nip});
  const std::string_view status = Compose(text[2], {"s:", row.status});
  order_index_.File({row.placed_at_us, static_cast<uint64_t>(row.sequence)}, handle,
                    {merchant, Compose(text[3], {merchant, "|", status}), buyer,
                     Compose(text[4], {buyer, "|", status}), status});
}

void WorkListsProjection::RefilePayment(const std::string& key) {
  auto handle = payments_.FindHandle(key);
  MALPRO_ASSERT(handle != nullptr);
  const PaymentListRow& row = handle->second.row;
  std::array<std::string, list_terms_max>& text = term_texts_;
  const std::string_view merchant = Compose(text[0], {"m:", row.umkm_id});
  const std::string_view buyer = Compose(text[1], {"b:", row.buyer_nip});
  const std::string_view status = Compose(text[2], {"s:", row.status});
  const std::string_view channel = Compose(text[3], {"c:", row.channel});
  const bool pending = row.status == PaymentStatusName(PaymentStatus::kRequested);
  payment_index_.File({row.first_requested_at_us, static_cast<uint64_t>(row.sequence)}, handle,
                      {merchant, Compose(text[4], {merchant, "|", status}), buyer,
                       Compose(text[5], {buyer, "|", status}), status,
                       Compose(text[6], {status, "|", channel}), channel},
                      pending ? row.requested_at_us : 0);
}

void WorkListsProjection::RefileReceipt(const std::string& key) {
  auto handle = receipts_.FindHandle(key);
  MALPRO_ASSERT(handle != nullptr);
  const ReceiptListRow& row = handle->second.row;
  std::array<std::string, list_terms_max>& text = term_texts_;
  const std::string_view owner = Compose(text[0], {"n:", row.receipt.nip});
  const std::string_view status = Compose(text[1], {"s:", ReceiptStatusName(row.receipt.status)});
  const std::string_view kelurahan = Compose(text[2], {"k:", row.receipt.kelurahan});
  receipt_index_.File({row.submitted_at_us, static_cast<uint64_t>(row.sequence)}, handle,
                      {owner, Compose(text[3], {owner, "|", status}), status,
                       Compose(text[4], {status, "|", kelurahan}), kelurahan});
}

void WorkListsProjection::RefileBatch(const std::string& key) {
  auto handle = batches_.FindHandle(key);
  MALPRO_ASSERT(handle != nullptr);
  Result<CivilDate> date = ParseIsoDate(key, "business_date");
  MALPRO_ASSERT(date.ok());
  batch_index_.File({DaysFromCivil(*date), 0}, handle, {});
}

void WorkListsProjection::RefileRun(const std::string& key) {
  auto handle = runs_.FindHandle(key);
  MALPRO_ASSERT(handle != nullptr);
  const ReconciliationRunRow& row = handle->second.row;
  const ListPosition position{row.completed_at_us, static_cast<uint64_t>(row.sequence)};
  const std::string_view statement = Compose(term_texts_[0], {"t:", row.statement_id});
  if (row.latest && row.Unresolved() > 0) {
    run_index_.File(position, handle,
                    {statement, "open", Compose(term_texts_[1], {statement, "|open"})});
  } else {
    run_index_.File(position, handle, {statement});
  }
}

}  // namespace malpro
