#include "adapters/http/json_views.h"

#include "engine/domain_types.h"
#include "engine/json.h"
#include "engine/payment_channel.h"

namespace malpro {

std::string AsnJson(const AsnState& asn) {
  JsonWriter w;
  w.BeginObject();
  WriteAsnIdentityFields(w, asn);
  return w.Field("active", asn.active)
      .Field("version", static_cast<int64_t>(asn.version))
      .EndObject()
      .Take();
}

std::string UmkmJson(const UmkmState& umkm, bool with_private) {
  JsonWriter w;
  w.BeginObject().Field("umkm_id", umkm.umkm_id).Field("name", umkm.name);
  if (with_private && !umkm.nib.empty()) w.Field("nib", umkm.nib);
  w.Field("category", umkm.category)
      .Field("kecamatan", umkm.kecamatan)
      .Field("kelurahan", umkm.kelurahan)
      .Field("sponsor", umkm.sponsor);
  if (with_private) w.Field("settlement_account", umkm.settlement_account);
  w.Field("qris_criteria", umkm.qris_criteria)
      .Field("status", UmkmStatusName(umkm.status))
      .Field("version", static_cast<int64_t>(umkm.version))
      .Key("products")
      .BeginArray();
  for (const auto& [id, product] : umkm.products) {
    if (!product.listed) continue;
    w.BeginObject()
        .Field("product_id", id)
        .Field("name", product.name)
        .Field("unit", product.unit)
        .Field("price", FormatSnap(product.price))
        .EndObject();
  }
  return w.EndArray().EndObject().Take();
}

std::string OrderJson(const OrderState& order) {
  JsonWriter w;
  w.BeginObject()
      .Field("order_id", order.order_id)
      .Field("buyer_nip", order.buyer_nip)
      .Field("umkm_id", order.umkm_id)
      .Field("payment_method", order.payment_method)
      .Field("status", OrderStatusName(order.status))
      .Field("cash_received", order.cash_received)
      .Field("total", FormatSnap(order.total))
      .Field("placed_at_us", order.placed_at_us);
  if (!order.cancel_reason.empty()) w.Field("cancel_reason", order.cancel_reason);
  w.Field("version", static_cast<int64_t>(order.version)).Key("lines").BeginArray();
  for (const OrderLine& line : order.lines) {
    w.BeginObject()
        .Field("product_id", line.product_id)
        .Field("name", line.name)
        .Field("unit", line.unit)
        .Field("quantity", line.quantity)
        .Field("unit_price", FormatSnap(line.unit_price))
        .Field("line_total", FormatSnap(line.line_total))
        .EndObject();
  }
  return w.EndArray().EndObject().Take();
}

std::string ReceiptJson(const ReceiptState& receipt) {
  JsonWriter w;
  w.BeginObject();
  WriteReceiptFields(w, receipt);
  w.Field("status", ReceiptStatusName(receipt.status));
  if (!receipt.rejection_reason.empty()) w.Field("rejection_reason", receipt.rejection_reason);
  return w.Field("version", static_cast<int64_t>(receipt.version)).EndObject().Take();
}

namespace {

// `key`: an array of the rules, each an object of the fields `write_fields` writes, then
// its effective_from.
template <typename Rule, typename WriteFields>
void WriteRules(JsonWriter& w, std::string_view key, const std::vector<Rule>& rules,
                WriteFields write_fields) {
  w.ObjectArray(key, rules, [&](const Rule& rule) {
    write_fields(rule);
    w.Field("effective_from", FormatIsoDate(rule.effective_from));
  });
}

}  // namespace

std::string PolicyJson(const PolicyState& policy) {
  JsonWriter w;
  w.BeginObject().Field("version", static_cast<int64_t>(policy.version));
  WriteRules(w, "minimum_spend", policy.minimum_spend, [&w](const MinimumSpendRule& rule) {
    w.Field("rank_group", rule.rank_group).Field("amount", FormatSnap(rule.amount));
  });
  WriteRules(w, "fee_rules", policy.fee_rules, [&w](const FeeRule& rule) {
    w.Field("basis_points", rule.basis_points)
        .Field("umi_zero_fee_max", FormatSnap(rule.umi_zero_fee_max));
  });
  WriteRules(w, "settlement_cutoffs", policy.cutoffs,
             [&w](const CutoffRule& rule) { w.Field("minutes_of_day", rule.minutes_of_day); });
  return w.EndObject().Take();
}

std::string PaymentJson(const PaymentState& payment, const std::string& issued_json) {
  JsonWriter w;
  w.BeginObject()
      .Field("payment_id", payment.payment_id)
      .Field("order_id", payment.order_id)
      .Field("umkm_id", payment.umkm_id)
      .Field("buyer_nip", payment.buyer_nip)
      .Field("amount", FormatSnap(payment.amount))
      .Field("channel", payment.channel)
      .Field("bank_reference", ShownBankReference(payment.bank_reference))
      .Field("status", PaymentStatusName(payment.status))
      .Field("refunded", FormatSnap(payment.refunded));
  if (payment.status == PaymentStatus::kSucceeded || payment.status == PaymentStatus::kRefunded) {
    w.Field("paid_at_us", payment.paid_at_us)
        .Field("business_date", FormatIsoDate(payment.business_date));
  }
  if (!issued_json.empty()) w.Key("issued").Raw(issued_json);
  return w.Field("version", static_cast<int64_t>(payment.version)).EndObject().Take();
}

std::string ReconciliationJson(const ReconciliationState& state) {
  JsonWriter writer;
  writer.BeginObject()
      .Field("statement_id", state.statement_id)
      .Field("version", static_cast<int64_t>(state.version))
      .Field("run", state.runs)
      .Field("matched", state.matched)
      .Key("discrepancies")
      .BeginArray();
  for (const Discrepancy& discrepancy : state.discrepancies) {
    writer.BeginObject();
    WriteDiscrepancyFields(writer, discrepancy);
    const std::string resolution = state.ResolutionOf(discrepancy);
    if (resolution.empty()) {
      writer.Key("resolution").Null();
    } else {
      writer.Field("resolution", resolution);
    }
    writer.EndObject();
  }
  return writer.EndArray().EndObject().Take();
}

}  // namespace malpro
