// Ledger: settlement of a business day: the open business date of a payment, the day's end,
// its lines computed from the log, and its close.
#include <algorithm>
#include <map>

#include "engine/civil_time.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

using ledger_internal::CheckSha256;
using ledger_internal::MakeEvent;

// Folds one payment.succeeded or payment.refunded into the day's lines when it belongs to
// `date_text` (refunds recorded before they had a business date belong to no day).
Status AddToDay(const Event& event, std::string_view date_text, simdjson::dom::parser& parser,
                std::map<std::string, MerchantSettlement>* merchants) {
  // Most belong to other days: skip them without parsing.
  if (event.payload.find(std::string("\"business_date\":\"") + std::string(date_text) + "\"") ==
      std::string::npos) {
    return Status::Ok();
  }
  const bool refund = event.type == types::payment_refunded;
  Result<JsonObject> payload = ParseJsonObject(parser, event.payload, "payload");
  if (!payload.ok()) return Status::Corruption("event " + std::to_string(event.sequence));
  Result<std::string> date = payload->String("business_date");
  Result<std::string> umkm_id = payload->String("umkm_id");
  Result<std::string> amount_text = payload->String("amount");
  Result<std::string> fee_text =
      refund ? Result<std::string>(std::string("0")) : payload->String("fee");
  if (!date.ok() || !umkm_id.ok() || !amount_text.ok() || !fee_text.ok()) {
    return Status::Corruption("event " + std::to_string(event.sequence) + " lacks a field");
  }
  if (*date != date_text) return Status::Ok();
  Result<Money> amount = ParseAmount(*amount_text, "amount");
  Result<Money> fee = ParseAmount(*fee_text, "fee");
  if (!amount.ok() || !fee.ok()) {
    return Status::Corruption("event " + std::to_string(event.sequence) + ": bad amount");
  }
  MerchantSettlement& merchant = (*merchants)[*umkm_id];
  merchant.umkm_id = *umkm_id;
  if (refund) {
    merchant.refunds += *amount;
    ++merchant.refund_count;
  } else {
    merchant.gross += *amount;
    merchant.fee += *fee;
    ++merchant.payments;
  }
  return Status::Ok();
}

// What each merchant still owes from its line in the latest closed batch (by log order).
Status AddCarried(const Event& event, std::map<std::string, Money>* carried) {
  SettlementState batch;
  MALPRO_RETURN_IF_ERROR(batch.Apply(event));
  for (const MerchantSettlement& merchant : batch.merchants) {
    (*carried)[merchant.umkm_id] = merchant.carried_out;
  }
  return Status::Ok();
}

std::string SettlementPayload(const CloseSettlement& command) {
  JsonWriter writer;
  writer.BeginObject().Field("business_date", command.business_date).Key("merchants").BeginArray();
  for (const MerchantSettlement& merchant : command.merchants) {
    writer.BeginObject()
        .Field("umkm_id", merchant.umkm_id)
        .Field("gross", FormatSnap(merchant.gross))
        .Field("fee", FormatSnap(merchant.fee))
        .Field("net", FormatSnap(merchant.net))
        .Field("payments", merchant.payments);
    // Only lines that recover something carry these (absent means zero), so that a batch of
    // settlement_merchants_max ordinary lines still fits one event.
    if (merchant.refund_count != 0 || merchant.carried_in != Money() ||
        merchant.carried_out != Money()) {
      writer.Field("refunds", FormatSnap(merchant.refunds))
          .Field("refund_count", merchant.refund_count)
          .Field("carried_in", FormatSnap(merchant.carried_in))
          .Field("carried_out", FormatSnap(merchant.carried_out));
    }
    writer.EndObject();
  }
  return writer.EndArray()
      .Field("total_net", FormatSnap(command.total_net))
      .Field("file_name", command.file_name)
      .Field("pain001_sha256", command.pain001_sha256)
      .Field("csv_sha256", command.csv_sha256)
      .EndObject()
      .Take();
}

Status CheckCloseSettlement(const CloseSettlement& command) {
  if (command.merchants.size() > settlement_merchants_max) {
    return Status::LimitExceeded(errc::kSettlementTooManyMerchants, "merchants",
                                 "a settlement batch holds at most " +
                                     std::to_string(settlement_merchants_max) + " merchants");
  }
  MALPRO_RETURN_IF_ERROR(CheckSha256(command.csv_sha256, "csv_sha256"));
  const bool pays =
      std::any_of(command.merchants.begin(), command.merchants.end(),
                  [](const MerchantSettlement& merchant) { return merchant.net > Money(); });
  if (!pays) {
    if (!command.file_name.empty() || !command.pain001_sha256.empty()) {
      return Status::InvalidArgument(errc::kSettlementFileUnexpected, "file_name",
                                     "a day whose lines pay nothing has no pain.001 file");
    }
    return Status::Ok();
  }
  MALPRO_RETURN_IF_ERROR(CheckName(command.file_name, "file_name"));
  return CheckSha256(command.pain001_sha256, "pain001_sha256");
}

}  // namespace

Result<CivilDate> Ledger::OpenBusinessDate(CivilDate date) const {
  for (int64_t skipped = 0; skipped <= closed_days_skipped_max; ++skipped) {
    Result<uint64_t> version = log_->StreamVersion(SettlementStream(date));
    if (!version.ok()) return version.status();
    if (*version == 0) return date;
    date = CivilFromDays(DaysFromCivil(date) + 1);
  }
  return Status::Conflict(errc::kSettlementDaysClosed, "paid_at",
                          "every business day for a year after the payment is closed");
}

Result<int64_t> Ledger::BusinessDayEnd(CivilDate business_date) const {
  Result<PolicyState> policy = LoadPolicy();
  if (!policy.ok()) return policy.status();
  std::optional<CutoffRule> cutoff = policy->CutoffOn(business_date);
  return JakartaTimeMicros(business_date,
                           cutoff ? int64_t{cutoff->minutes_of_day} * 60 : seconds_per_day);
}

Result<SettlementDay> Ledger::ComputeSettlement(CivilDate business_date) const {
  const std::string date_text = FormatIsoDate(business_date);
  std::map<std::string, MerchantSettlement> merchants;
  std::map<std::string, Money> carried;
  simdjson::dom::parser parser;
  for (uint64_t from = 1;;) {
    Result<std::vector<Event>> events = log_->Read(from, read_events_max);
    if (!events.ok()) return events.status();
    for (const Event& event : *events) {
      if (event.type == types::payment_succeeded || event.type == types::payment_refunded) {
        MALPRO_RETURN_IF_ERROR(AddToDay(event, date_text, parser, &merchants));
      } else if (event.type == types::settlement_batch_closed) {
        MALPRO_RETURN_IF_ERROR(AddCarried(event, &carried));
      }
    }
    if (events->size() < read_events_max) break;
    from = events->back().sequence + 1;
  }
  SettlementDay day;
  day.business_date = business_date;
  for (auto& [umkm_id, merchant] : merchants) {
    if (auto found = carried.find(umkm_id); found != carried.end()) {
      merchant.carried_in = found->second;
    }
    const Money due = merchant.gross - merchant.fee - merchant.refunds - merchant.carried_in;
    merchant.net = due > Money() ? due : Money();
    merchant.carried_out = due < Money() ? Money() - due : Money();
    day.total_gross += merchant.gross;
    day.total_fee += merchant.fee;
    day.total_net += merchant.net;
    day.total_refunds += merchant.refunds;
    day.payments += merchant.payments;
    day.merchants.push_back(std::move(merchant));
  }
  return day;
}

Result<CommandResult> Ledger::Close(const CloseSettlement& command, const CommandContext& context) {
  Result<CivilDate> date = ParseIsoDate(command.business_date, "business_date");
  if (!date.ok()) return date.status();
  MALPRO_RETURN_IF_ERROR(CheckCloseSettlement(command));
  const std::string stream = SettlementStream(*date);
  const std::string payload = SettlementPayload(command);
  if (payload.size() > payload_bytes_max) {
    return Status::LimitExceeded(errc::kSettlementTooManyMerchants, "merchants",
                                 "the day's lines do not fit one settlement.batch_closed (" +
                                     std::to_string(payload.size()) + " bytes, at most " +
                                     std::to_string(payload_bytes_max) + ")");
  }
  std::unique_lock<std::shared_mutex> no_success(settlement_mutex_);
  return Execute(context, "settlement.close" + payload, [&](Freshness) -> Result<Decision> {
    Result<uint64_t> version = log_->StreamVersion(stream);
    if (!version.ok()) return version.status();
    if (*version != 0) {
      return Status::Conflict(errc::kSettlementAlreadyClosed, "business_date",
                              "business day " + command.business_date + " is already closed");
    }
    Result<int64_t> end = BusinessDayEnd(*date);
    if (!end.ok()) return end.status();
    if (Now() < *end) {
      return Status::Conflict(errc::kSettlementDayNotOver, "business_date",
                              "business day " + command.business_date +
                                  " is not over: it ends at its cut-off (Asia/Jakarta)");
    }
    Result<SettlementDay> day = ComputeSettlement(*date);
    if (!day.ok()) return day.status();
    if (day->merchants != command.merchants || day->total_net != command.total_net) {
      return Status::Conflict(errc::kSettlementTotalsStale, "merchants",
                              "the totals differ from the payments in the log; compute them and "
                              "write the files again");
    }
    return Decision{{MakeEvent(stream, types::settlement_batch_closed, payload)}, {{stream, 0}}};
  });
}

}  // namespace malpro
