// Ledger: the close of a compliance month.
#include "engine/civil_time.h"
#include "engine/domain_events.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckSha256;
using ledger_internal::MakeEvent;

Status CheckCloseMonth(const CloseComplianceMonth& command) {
  Result<CivilDate> first = ParseIsoDate(command.month + "-01", "month");
  if (command.month.size() != 7 || !first.ok()) {
    return Status::InvalidArgument(errc::kMonthInvalid, "month", "month must be YYYY-MM");
  }
  if (command.asn < 0 || command.compliant < 0 || command.compliant > command.asn ||
      command.committed < Money() || command.shortfall < Money()) {
    return Status::InvalidArgument(errc::kComplianceFiguresInvalid, "asn",
                                   "counts and amounts must not be negative, and compliant "
                                   "at most asn");
  }
  return CheckSha256(command.figures_sha256, "figures_sha256");
}

}  // namespace

Result<CommandResult> Ledger::CloseMonth(const CloseComplianceMonth& command,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckCloseMonth(command));
  const CivilDate first = *ParseIsoDate(command.month + "-01", "month");
  const CivilDate next = first.month == 12 ? CivilDate{first.year + 1, 1, 1}
                                           : CivilDate{first.year, first.month + 1, 1};
  const int64_t month_end_us = JakartaDayStartMicros(next);
  const std::string stream = ComplianceStream(command.month);
  const std::string payload =
      JsonWriter()
          .BeginObject()
          .Field("month", command.month)
          .Field("as_of_sequence", static_cast<int64_t>(command.as_of_sequence))
          .Field("asn", command.asn)
          .Field("compliant", command.compliant)
          .Field("not_compliant", command.asn - command.compliant)
          .Field("committed", FormatSnap(command.committed))
          .Field("shortfall", FormatSnap(command.shortfall))
          .Field("figures_sha256", command.figures_sha256)
          .EndObject()
          .Take();
  return Execute(context, "compliance.close" + payload, [&](Freshness) -> Result<Decision> {
    if (Now() < month_end_us) {
      return Status::Conflict(errc::kMonthNotOver, "month",
                              "month " + command.month + " is not over (Asia/Jakarta)");
    }
    Result<uint64_t> version = log_->StreamVersion(stream);
    if (!version.ok()) return version.status();
    if (*version != 0) {
      return Status::Conflict(errc::kMonthAlreadyClosed, "month",
                              "month " + command.month + " is already closed");
    }
    if (log_->Head().sequence != command.as_of_sequence) {
      return Status::Conflict(errc::kComplianceFiguresStale, "as_of_sequence",
                              "the log moved on since the figures were computed; compute them "
                              "again");
    }
    return Decision{{MakeEvent(stream, types::compliance_month_closed, payload)}, {{stream, 0}}};
  });
}

}  // namespace malpro
