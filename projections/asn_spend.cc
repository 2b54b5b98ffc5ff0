// ASN spend: a profile per ASN ("a/{nip}") and a row per ASN per month with activity
// ("s/{nip}/{YYYY-MM}"). Months are Asia/Jakarta months (see SpendDate). The minimum of a
// month is the policy's minimum for the ASN's rank class in force on the month's last day,
// so a change of policy or rank during a month applies to the whole month; rows of the months
// it reaches are recomputed when it is folded.
#include <simdjson.h>

#include <algorithm>

#include "engine/domain_events.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "projections/read_models.h"

namespace malpro {
namespace {

std::string SpendKey(std::string_view nip, std::string_view month) {
  std::string key(nip);
  key += '/';
  key += month;
  return key;
}

// Agencies as people type them: "Dinkes", "DINKES" and "dinkes" are one agency (ASCII only;
// the names are ASCII).
bool SameAgency(std::string_view registered, std::string_view asked) {
  if (registered.size() != asked.size()) return false;
  for (size_t i = 0; i < registered.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(registered[i]) != lower(asked[i])) return false;
  }
  return true;
}

}  // namespace

std::string AsnProfile::RankIn(std::string_view month) const {
  std::string rank = ranks.empty() ? rank_class : ranks.front().rank_class;
  for (const RankFrom& from : ranks) {
    if (from.from_month <= month) rank = from.rank_class;
  }
  return rank;
}

bool AsnProfile::CountsIn(std::string_view month) const {
  if (registered_month > month) return false;
  return deactivated_month.empty() || deactivated_month >= month;
}

void AsnProfile::Write(JsonWriter& writer) const {
  writer.BeginObject();
  WriteAsnIdentityFields(writer, *this);
  writer.Field("active", active)
      .Field("registered_month", registered_month)
      .Field("deactivated_month", deactivated_month);
  writer.Key("ranks").BeginArray();
  for (const RankFrom& from : ranks) {
    writer.BeginObject()
        .Field("from_month", from.from_month)
        .Field("rank_class", from.rank_class)
        .EndObject();
  }
  writer.EndArray().EndObject();
}

Result<AsnProfile> AsnProfile::Read(const JsonObject& object) {
  RowReader reader(object);
  AsnProfile profile;
  profile.nip = reader.Text("nip");
  profile.name = reader.Text("name");
  profile.agency = reader.Text("agency");
  profile.rank_class = reader.Text("rank_class");
  profile.kecamatan = reader.Text("kecamatan");
  profile.kelurahan = reader.Text("kelurahan");
  profile.active = reader.Bool("active");
  profile.registered_month = reader.Text("registered_month");
  profile.deactivated_month = reader.Text("deactivated_month");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  Result<simdjson::dom::array> ranks = object.Array("ranks");
  if (!ranks.ok()) return ranks.status();
  for (simdjson::dom::element element : *ranks) {
    simdjson::dom::object item;
    if (element.get(item) != simdjson::SUCCESS) {
      return Status::Corruption("asn profile: ranks must hold objects");
    }
    JsonObject rank_object(item, "ranks[].");
    RowReader rank_reader(rank_object);
    RankFrom from{rank_reader.Text("from_month"), rank_reader.Text("rank_class")};
    MALPRO_RETURN_IF_ERROR(rank_reader.Finish());
    profile.ranks.push_back(std::move(from));
  }
  return profile;
}

void SpendRow::Recompute(const PolicyState& policy) {
  const std::optional<Money> rule = policy.MinimumSpendFor(rank_class, LastDayOfMonth(month));
  has_minimum = rule.has_value();
  minimum = rule.value_or(Money());
  Settle();
}

void SpendRow::Settle() {
  compliant = committed >= minimum;
  shortfall = compliant ? Money() : minimum - committed;
}

void SpendRow::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("nip", nip)
      .Field("month", month)
      .Field("rank_class", rank_class)
      .Field("committed", AmountText(committed))
      .Field("pending", AmountText(pending))
      .Field("pending_orders", pending_orders);
  cod.Write(writer, "cod");
  cashless.Write(writer, "cashless");
  receipts.Write(writer, "receipts");
  writer.Field("refunds", AmountText(refunds))
      .Field("has_minimum", has_minimum)
      .Field("minimum", AmountText(minimum))
      .Field("compliant", compliant)
      .Field("shortfall", AmountText(shortfall));
  // Only rows of closed months carry these, so rows of open months read as before.
  if (closed) {
    writer.Field("closed", true)
        .Field("committed_at_close", AmountText(committed_at_close))
        .Field("compliant_at_close", compliant_at_close)
        .Field("adjustment", AmountText(committed - committed_at_close));
  }
  writer.EndObject();
}

Result<SpendRow> SpendRow::Read(const JsonObject& object) {
  RowReader reader(object);
  SpendRow row;
  row.nip = reader.Text("nip");
  row.month = reader.Text("month");
  row.rank_class = reader.Text("rank_class");
  row.committed = reader.Amount("committed");
  row.pending = reader.Amount("pending");
  row.pending_orders = reader.Int("pending_orders");
  row.cod = reader.Channel("cod");
  row.cashless = reader.Channel("cashless");
  row.receipts = reader.Channel("receipts");
  row.refunds = reader.Amount("refunds");
  row.has_minimum = reader.Bool("has_minimum");
  row.minimum = reader.Amount("minimum");
  row.compliant = reader.Bool("compliant");
  row.shortfall = reader.Amount("shortfall");
  if (object.Has("closed")) {
    row.closed = reader.Bool("closed");
    row.committed_at_close = reader.Amount("committed_at_close");
    row.compliant_at_close = reader.Bool("compliant_at_close");
  }
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return row;
}

void MonthClose::Write(JsonWriter& writer) const {
  writer.BeginObject()
      .Field("month", month)
      .Field("sequence", sequence)
      .Field("as_of_sequence", as_of_sequence)
      .Field("asn", asn)
      .Field("compliant", compliant)
      .Field("committed", AmountText(committed))
      .Field("shortfall", AmountText(shortfall))
      .Field("figures_sha256", figures_sha256)
      .Field("recorded_sha256", recorded_sha256)
      .EndObject();
}

Result<MonthClose> MonthClose::Read(const JsonObject& object) {
  RowReader reader(object);
  MonthClose close;
  close.month = reader.Text("month");
  close.sequence = reader.Int("sequence");
  close.as_of_sequence = reader.Int("as_of_sequence");
  close.asn = reader.Int("asn");
  close.compliant = reader.Int("compliant");
  close.committed = reader.Amount("committed");
  close.shortfall = reader.Amount("shortfall");
  close.figures_sha256 = reader.Text("figures_sha256");
  close.recorded_sha256 = reader.Text("recorded_sha256");
  MALPRO_RETURN_IF_ERROR(reader.Finish());
  return close;
}

SpendRow& AsnSpendProjection::Row(AsnRows& rows, const AsnProfile& profile, int month,
                                  const PolicyState& policy) {
  for (const auto& [number, handle] : rows.months) {
    if (number == month) return spend_.Touch(handle);
  }
  const std::string text = MonthText(month);
  bool created = false;
  RowTable<SpendRow>::Handle handle = spend_.Get(SpendKey(profile.nip, text), &created);
  rows.months.emplace_back(month, handle);
  SpendRow& row = spend_.Touch(handle);
  if (created) {
    row.nip = profile.nip;
    row.month = text;
    row.rank_class = profile.RankIn(text);
    row.Recompute(policy);
    if (closes_.Find(text) != nullptr) {  // the close saw this ASN-month with nothing in it
      row.closed = true;
      row.compliant_at_close = row.compliant;
    }
  }
  return row;
}

SpendRow AsnSpendProjection::RowOrEmpty(const AsnProfile& profile, const std::string& month,
                                        const PolicyState& policy) const {
  if (const SpendRow* row = spend_.Find(SpendKey(profile.nip, month))) return *row;
  SpendRow row;
  row.nip = profile.nip;
  row.month = month;
  row.rank_class = profile.RankIn(month);
  row.Recompute(policy);
  return row;
}

void AsnSpendProjection::RecomputeFrom(const std::string& nip, const std::string& month,
                                       const PolicyState& policy) {
  const AsnProfile* profile = profiles_.Find(nip);
  const auto& rows = spend_.Ordered();
  for (auto it = rows.lower_bound(SpendKey(nip, month)); it != rows.end(); ++it) {
    if (it->second->row.nip != nip) break;
    SpendRow& row = spend_.Mutable(it->first);
    if (profile != nullptr) row.rank_class = profile->RankIn(row.month);
    row.Recompute(policy);
  }
}

Status AsnSpendProjection::ApplyAsn(const Fact& fact) {
  const AsnState& asn = *fact.asn;
  const std::string month = MonthOf(JakartaDate(fact.event->recorded_at_us));
  AsnRows& rows = AtSlot(by_slot_, fact.asn_slot);
  if (rows.profile == nullptr) rows.profile = profiles_.Get(asn.nip);
  AsnProfile& profile = profiles_.Touch(rows.profile);
  static_cast<AsnIdentity&>(profile) = asn;
  profile.active = asn.active;
  if (fact.event->type == event_types::asn_registered) {
    profile.registered_month = month;
    profile.ranks = {RankFrom{month, asn.rank_class}};
  } else if (fact.event->type == event_types::asn_rank_changed) {
    if (!profile.ranks.empty() && profile.ranks.back().from_month == month) {
      profile.ranks.back().rank_class = asn.rank_class;
    } else {
      profile.ranks.push_back(RankFrom{month, asn.rank_class});
    }
    RecomputeFrom(asn.nip, month, *fact.policy);
  } else if (fact.event->type == event_types::asn_deactivated) {
    profile.deactivated_month = month;
  }
  return Status::Ok();
}

MonthFigures AsnSpendProjection::Figures(const std::string& month,
                                         const PolicyState& policy) const {
  return FiguresOver(profiles_.entries(), month, policy);
}

MonthFigures AsnSpendProjection::FiguresOver(const ProfileIndex& profiles, const std::string& month,
                                             const PolicyState& policy) const {
  MonthFigures figures;
  figures.month = month;
  std::string lines;
  for (const auto& [nip, entry] : profiles) {
    if (!entry->row.CountsIn(month)) continue;
    const SpendRow row = RowOrEmpty(entry->row, month, policy);
    ++figures.asn;
    if (row.compliant) ++figures.compliant;
    figures.committed += row.committed;
    figures.shortfall += row.shortfall;
    lines += nip + "," + row.rank_class + "," + AmountText(row.committed) + "," +
             (row.has_minimum ? AmountText(row.minimum) : std::string()) + "," +
             (row.compliant ? "true" : "false") + "\n";
  }
  figures.sha256 = HashToHex(Sha256(lines));
  return figures;
}

Status AsnSpendProjection::ApplyMonthClosed(const Fact& fact) {
  const std::string& month = fact.closed_month;
  thread_local simdjson::dom::parser parser;
  Result<JsonObject> payload = ParseJsonObject(parser, fact.event->payload, "payload");
  if (!payload.ok()) return Status::Corruption("asn_spend: " + payload.status().message());
  Result<std::string> recorded = payload->String("figures_sha256");
  Result<int64_t> as_of = payload->Int("as_of_sequence");
  if (!recorded.ok() || !as_of.ok()) {
    return Status::Corruption("asn_spend: compliance.month_closed at " +
                              std::to_string(fact.event->sequence) + " lacks its figures");
  }
  // Every profile folded so far, including those created since the last commit (entries()
  // holds only committed ones, for queries).
  const ProfileIndex& profiles = profiles_.Ordered();
  const MonthFigures figures = FiguresOver(profiles, month, *fact.policy);
  MonthClose& close = closes_.Mutable(month);
  close = MonthClose{month,
                     static_cast<int64_t>(fact.event->sequence),
                     *as_of,
                     figures.asn,
                     figures.compliant,
                     figures.committed,
                     figures.shortfall,
                     figures.sha256,
                     *recorded};
  for (const auto& [nip, entry] : profiles) {
    RowTable<SpendRow>::Handle handle = spend_.FindHandle(SpendKey(nip, month));
    if (handle == nullptr) continue;
    SpendRow& row = spend_.Touch(handle);
    row.closed = true;
    row.committed_at_close = row.committed;
    row.compliant_at_close = row.compliant;
  }
  return Status::Ok();
}

Status AsnSpendProjection::Apply(const Fact& fact) {
  if (fact.kind == FactKind::kAsnChanged) return ApplyAsn(fact);
  if (fact.kind == FactKind::kMonthClosed) return ApplyMonthClosed(fact);
  if (fact.kind == FactKind::kPolicyChanged) {
    if (fact.event->type != event_types::policy_minimum_spend_set) return Status::Ok();
    const std::string from = MonthOf(fact.effective_from);
    for (const auto& [key, entry] : spend_.Ordered()) {
      if (entry->row.month < from) continue;
      spend_.Mutable(key).Recompute(*fact.policy);
    }
    return Status::Ok();
  }
  if (fact.asn == nullptr) return Status::Ok();
  AsnRows& rows = AtSlot(by_slot_, fact.asn_slot);
  if (rows.profile == nullptr) rows.profile = profiles_.FindHandle(fact.asn->nip);
  if (rows.profile == nullptr) {
    return Status::Corruption("asn_spend: event " + std::to_string(fact.event->sequence) +
                              " concerns an ASN without a profile");
  }
  const AsnProfile* profile = &rows.profile->second.row;
  const PolicyState& policy = *fact.policy;
  const int placed_month =
      fact.order.has_value() ? MonthNumber(JakartaDate(fact.order->placed_at_us)) : 0;
  auto release_pending = [&] {
    SpendRow& placed = Row(rows, *profile, placed_month, policy);
    placed.pending -= fact.amount;
    --placed.pending_orders;
  };
  switch (fact.kind) {
    case FactKind::kOrderPlaced: {
      SpendRow& row = Row(rows, *profile, placed_month, policy);
      row.pending += fact.amount;
      ++row.pending_orders;
      return Status::Ok();
    }
    case FactKind::kOrderCancelled:
      release_pending();
      return Status::Ok();
    case FactKind::kCashReceived:
    case FactKind::kPaymentSucceeded: {
      if (fact.was_pending) release_pending();
      SpendRow& row = Row(rows, *profile, MonthNumber(SpendDate(fact)), policy);
      ChannelTotals& channel = fact.kind == FactKind::kCashReceived ? row.cod : row.cashless;
      ++channel.count;
      channel.amount += fact.amount;
      row.committed += fact.amount;
      row.Settle();
      return Status::Ok();
    }
    case FactKind::kPaymentRefunded: {
      SpendRow& row = Row(rows, *profile, MonthNumber(SpendDate(fact)), policy);
      row.refunds += fact.amount;
      row.committed -= fact.amount;
      row.Settle();
      return Status::Ok();
    }
    case FactKind::kReceiptApproved: {
      SpendRow& row = Row(rows, *profile, MonthNumber(SpendDate(fact)), policy);
      ++row.receipts.count;
      row.receipts.amount += fact.amount;
      row.committed += fact.amount;
      row.Settle();
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

void AsnSpendProjection::WriteClosed(JsonWriter& writer, const std::string& month) const {
  const MonthClose* close = closes_.Find(month);
  if (close == nullptr) {
    writer.Key("closed").Null();
    return;
  }
  int64_t adjusted = 0;
  int64_t compliance_changed = 0;
  Money adjustment;
  for (const auto& [key, entry] : spend_.entries()) {
    const SpendRow& row = entry->row;
    if (row.month != month || !row.closed) continue;
    if (row.committed != row.committed_at_close) {
      ++adjusted;
      adjustment += row.committed - row.committed_at_close;
    }
    if (row.compliant != row.compliant_at_close) ++compliance_changed;
  }
  writer.Key("closed")
      .BeginObject()
      .Field("sequence", close->sequence)
      .Field("as_of_sequence", close->as_of_sequence)
      .Field("asn", close->asn)
      .Field("compliant", close->compliant)
      .Field("committed", AmountText(close->committed))
      .Field("shortfall", AmountText(close->shortfall))
      .Field("figures_sha256", close->figures_sha256)
      .Field("recorded_sha256", close->recorded_sha256)
      .Key("adjustments")
      .BeginObject()
      .Field("asn", adjusted)
      .Field("committed", AmountText(adjustment))
      .Field("compliance_changed", compliance_changed)
      .EndObject()
      .EndObject();
}

Result<std::string> AsnSpendProjection::Spend(const std::string& nip, const std::string& month,
                                              const PolicyState& policy) const {
  const AsnProfile* profile = profiles_.Find(nip);
  if (profile == nullptr)
    return Status::NotFound(errc::kAsnNotFound, "nip", "no ASN '" + nip + "'");
  if (const std::string* json = spend_.Json(SpendKey(nip, month))) return *json;
  JsonWriter writer;
  RowOrEmpty(*profile, month, policy).Write(writer);
  return writer.Take();
}

Result<std::string> AsnSpendProjection::History(const std::string& nip) const {
  const AsnProfile* profile = profiles_.Find(nip);
  if (profile == nullptr)
    return Status::NotFound(errc::kAsnNotFound, "nip", "no ASN '" + nip + "'");
  JsonWriter writer;
  writer.BeginObject().Key("asn").Raw(*profiles_.Json(nip)).Key("months").BeginArray();
  const auto& rows = spend_.entries();
  for (auto it = rows.lower_bound(nip + "/"); it != rows.end(); ++it) {
    if (it->second->row.nip != nip) break;
    if (!it->second->json.empty()) writer.Raw(it->second->json);
  }
  writer.EndArray().EndObject();
  return writer.Take();
}

AsnSpendProjection::Compliance AsnSpendProjection::MonthCompliance(
    const std::string& month, const PolicyState& policy) const {
  Compliance compliance;
  for (const auto& [nip, entry] : profiles_.entries()) {
    if (!entry->row.CountsIn(month)) continue;
    const SpendRow row = RowOrEmpty(entry->row, month, policy);
    ++compliance.asn;
    if (row.compliant) ++compliance.compliant;
    compliance.committed += row.committed;
  }
  return compliance;
}

std::string AsnSpendProjection::Rollup(const std::string& month, RollupBy by,
                                       const PolicyState& policy) const {
  struct Group {
    int64_t asn = 0;
    int64_t compliant = 0;
    Money committed;
    Money shortfall;
  };
  std::map<std::string, Group> groups;
  Group all;
  for (const auto& [nip, entry] : profiles_.entries()) {
    if (!entry->row.CountsIn(month)) continue;
    const SpendRow row = RowOrEmpty(entry->row, month, policy);
    for (Group* group :
         {&groups[by == RollupBy::kAgency ? entry->row.agency : row.rank_class], &all}) {
      ++group->asn;
      if (row.compliant) ++group->compliant;
      group->committed += row.committed;
      group->shortfall += row.shortfall;
    }
  }
  auto write_group = [](JsonWriter& writer, const Group& group) {
    writer.Field("asn", group.asn)
        .Field("compliant", group.compliant)
        .Field("not_compliant", group.asn - group.compliant)
        .Field("committed", AmountText(group.committed))
        .Field("shortfall", AmountText(group.shortfall));
  };
  const std::string_view key = by == RollupBy::kAgency ? "agency" : "rank_class";
  JsonWriter writer;
  writer.BeginObject().Field("month", month).Field("by", key).Key("total").BeginObject();
  write_group(writer, all);
  writer.EndObject().Key("groups").BeginArray();
  for (const auto& [name, group] : groups) {
    writer.BeginObject().Field(key, name);
    write_group(writer, group);
    writer.EndObject();
  }
  writer.EndArray();
  WriteClosed(writer, month);
  writer.EndObject();
  return writer.Take();
}

Result<std::string> AsnSpendProjection::Shortfalls(const std::string& month,
                                                   const std::string& agency,
                                                   const PolicyState& policy, size_t offset,
                                                   size_t limit) const {
  JsonWriter writer;
  writer.BeginObject().Field("month", month).Key("asn").BeginArray();
  size_t total = 0;
  bool agency_known = agency.empty();
  for (const auto& [nip, entry] : profiles_.entries()) {
    if (!agency.empty() && !SameAgency(entry->row.agency, agency)) continue;
    agency_known = true;  // whether or not the ASN counts in this month
    if (!entry->row.CountsIn(month)) continue;
    const SpendRow row = RowOrEmpty(entry->row, month, policy);
    if (row.compliant) continue;
    ++total;
    if (total <= offset || total > offset + limit) continue;
    writer.BeginObject()
        .Field("nip", nip)
        .Field("name", entry->row.name)
        .Field("agency", entry->row.agency)
        .Field("rank_class", row.rank_class)
        .Field("committed", AmountText(row.committed))
        .Field("minimum", AmountText(row.minimum))
        .Field("shortfall", AmountText(row.shortfall))
        .EndObject();
  }
  if (!agency_known) {
    return Status::InvalidArgument(
        errc::kAgencyUnknown, "agency",
        "agency: \"" + agency.substr(0, 120) + "\" is the agency of no registered ASN");
  }
  writer.EndArray()
      .Field("total", static_cast<int64_t>(total))
      .Field("offset", static_cast<int64_t>(offset))
      .Field("limit", static_cast<int64_t>(limit))
      .EndObject();
  return writer.Take();
}

}  // namespace malpro
