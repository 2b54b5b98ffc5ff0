// Ledger: the policy commands (minimum spend, fee rule, settlement cut-off) and its seeding.
#include <cctype>

#include "engine/civil_time.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckPositiveAmount;
using ledger_internal::MakeEvent;

Result<int> ParseCutoff(std::string_view hh_mm) {
  const bool shape = hh_mm.size() == 5 && hh_mm[2] == ':' &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[0])) &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[1])) &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[3])) &&
                     std::isdigit(static_cast<unsigned char>(hh_mm[4]));
  const int hours = shape ? (hh_mm[0] - '0') * 10 + (hh_mm[1] - '0') : -1;
  const int minutes = shape ? (hh_mm[3] - '0') * 10 + (hh_mm[4] - '0') : -1;
  if (!shape || hours > 23 || minutes > 59) {
    return Status::InvalidArgument(errc::kCutoffInvalid, "cutoff",
                                   "cutoff must be a time of day HH:MM (00:00 to 23:59)");
  }
  return hours * 60 + minutes;
}

std::string FormatCutoff(int minutes_of_day) {
  const int hours = minutes_of_day / 60;
  const int minutes = minutes_of_day % 60;
  return std::string{char('0' + hours / 10), char('0' + hours % 10), ':', char('0' + minutes / 10),
                     char('0' + minutes % 10)};
}

std::string MinimumSpendPayload(std::string_view group, Money amount, CivilDate from) {
  return JsonWriter()
      .BeginObject()
      .Field("rank_group", group)
      .Field("amount", FormatSnap(amount))
      .Field("effective_from", FormatIsoDate(from))
      .EndObject()
      .Take();
}

std::string FeeRulePayload(int64_t basis_points, Money umi_zero_fee_max, CivilDate from) {
  return JsonWriter()
      .BeginObject()
      .Field("basis_points", basis_points)
      .Field("umi_zero_fee_max", FormatSnap(umi_zero_fee_max))
      .Field("effective_from", FormatIsoDate(from))
      .EndObject()
      .Take();
}

std::string CutoffPayload(int minutes_of_day, CivilDate from) {
  return JsonWriter()
      .BeginObject()
      .Field("cutoff", FormatCutoff(minutes_of_day))
      .Field("minutes_of_day", minutes_of_day)
      .Field("effective_from", FormatIsoDate(from))
      .EndObject()
      .Take();
}

// A minimum-spend rule names a golongan group (I..IV, PPPK) or a single rank class (III/d).
Status CheckRankGroupOrClass(std::string_view value, std::string_view field) {
  if (CheckOneOf(value, field, errc::kRankGroupUnknown, rank_groups).ok()) return Status::Ok();
  if (CheckOneOf(value, field, errc::kRankGroupUnknown, rank_classes).ok()) return Status::Ok();
  return Status::InvalidArgument(errc::kRankGroupUnknown, field,
                                 std::string(field) +
                                     " must be a rank group (I, II, III, IV, PPPK) or a rank class "
                                     "such as III/d");
}

Status CheckFeeRule(int64_t basis_points, Money umi_zero_fee_max) {
  if (basis_points < 0 || basis_points > basis_points_max) {
    return Status::InvalidArgument(errc::kBasisPointsOutOfRange, "basis_points",
                                   "basis_points must be 0 to " + std::to_string(basis_points_max));
  }
  if (umi_zero_fee_max < Money() || umi_zero_fee_max > order_total_max) {
    return Status::InvalidArgument(errc::kAmountOutOfRange, "umi_zero_fee_max",
                                   "umi_zero_fee_max must be 0 to " + FormatSnap(order_total_max));
  }
  return Status::Ok();
}

}  // namespace

Result<CommandResult> Ledger::SetMinimumSpend(std::string_view rank_group, Money amount,
                                              std::string_view effective_from,
                                              const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckRankGroupOrClass(rank_group, "rank_group"));
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(amount, order_total_max, "amount"));
  CivilDate from;
  MALPRO_RETURN_IF_ERROR(CheckEffectiveFrom(effective_from, &from));
  std::string payload = MinimumSpendPayload(rank_group, amount, from);
  return Execute(context, "policy.minimum" + payload, [&](Freshness) -> Result<Decision> {
    return Decision{
        {MakeEvent(std::string(policy_stream), types::policy_minimum_spend_set, payload)}, {}};
  });
}

Result<CommandResult> Ledger::SetFeeRule(int64_t basis_points, Money umi_zero_fee_max,
                                         std::string_view effective_from,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckFeeRule(basis_points, umi_zero_fee_max));
  CivilDate from;
  MALPRO_RETURN_IF_ERROR(CheckEffectiveFrom(effective_from, &from));
  std::string payload = FeeRulePayload(basis_points, umi_zero_fee_max, from);
  return Execute(context, "policy.fee" + payload, [&](Freshness) -> Result<Decision> {
    return Decision{{MakeEvent(std::string(policy_stream), types::policy_fee_rule_set, payload)},
                    {}};
  });
}

Result<CommandResult> Ledger::SetSettlementCutoff(std::string_view hh_mm,
                                                  std::string_view effective_from,
                                                  const CommandContext& context) {
  Result<int> minutes = ParseCutoff(hh_mm);
  if (!minutes.ok()) return minutes.status();
  CivilDate from;
  MALPRO_RETURN_IF_ERROR(CheckEffectiveFrom(effective_from, &from));
  std::string payload = CutoffPayload(*minutes, from);
  return Execute(context, "policy.cutoff" + payload, [&](Freshness) -> Result<Decision> {
    return Decision{
        {MakeEvent(std::string(policy_stream), types::policy_settlement_cutoff_set, payload)}, {}};
  });
}

Result<std::optional<CommandResult>> Ledger::SeedPolicy(const PolicyDefaults& defaults,
                                                        const CommandContext& context) {
  for (const auto& [group, amount] : defaults.minimum_spend) {
    MALPRO_RETURN_IF_ERROR(CheckRankGroupOrClass(group, "policy.minimum_spend"));
    MALPRO_RETURN_IF_ERROR(
        CheckPositiveAmount(amount, order_total_max, "policy.minimum_spend." + group));
  }
  MALPRO_RETURN_IF_ERROR(CheckFeeRule(defaults.fee_basis_points, defaults.umi_zero_fee_max));
  Result<uint64_t> version = log_->StreamVersion(policy_stream);
  if (!version.ok()) return version.status();
  if (*version != 0) return std::optional<CommandResult>();
  const std::string stream(policy_stream);
  Decision decision;
  for (const auto& [group, amount] : defaults.minimum_spend) {
    decision.events.push_back(
        MakeEvent(stream, types::policy_minimum_spend_set,
                  MinimumSpendPayload(group, amount, defaults.effective_from)));
  }
  decision.events.push_back(
      MakeEvent(stream, types::policy_fee_rule_set,
                FeeRulePayload(defaults.fee_basis_points, defaults.umi_zero_fee_max,
                               defaults.effective_from)));
  decision.events.push_back(
      MakeEvent(stream, types::policy_settlement_cutoff_set,
                CutoffPayload(defaults.settlement_cutoff_minutes, defaults.effective_from)));
  decision.expectations = {{stream, 0}};
  Result<CommandResult> result =
      Execute(context, "policy.seed", [&](Freshness) -> Result<Decision> { return decision; });
  if (!result.ok()) {
    // Another process seeded it first: that is the outcome asked for.
    if (result.status().error_code() == errc::kStreamVersionConflict)
      return std::optional<CommandResult>();
    return result.status();
  }
  return std::optional<CommandResult>(*result);
}

}  // namespace malpro
