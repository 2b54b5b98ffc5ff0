// Ledger: the commands of an ASN (civil servant): register, change rank, deactivate.
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckReason;
using ledger_internal::MakeEvent;

}  // namespace

Result<CommandResult> Ledger::Register(const RegisterAsn& command, const CommandContext& context) {
  Result<Nip> nip = ParseNip(command.nip, "nip");
  if (!nip.ok()) return nip.status();
  MALPRO_RETURN_IF_ERROR(CheckName(command.name, "name"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.agency, "agency"));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(command.rank_class, "rank_class", errc::kRankClassUnknown, rank_classes));
  Result<std::string> kecamatan = geography_.KecamatanOf(command.kelurahan, "kelurahan");
  if (!kecamatan.ok()) return kecamatan.status();
  const std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("nip", command.nip)
                                  .Field("name", command.name)
                                  .Field("agency", command.agency)
                                  .Field("rank_class", command.rank_class)
                                  .Field("kecamatan", *kecamatan)
                                  .Field("kelurahan", command.kelurahan)
                                  .EndObject()
                                  .Take();
  const std::string stream = AsnStream(command.nip);
  return Execute(context, "asn.register" + payload, [&](Freshness freshness) -> Result<Decision> {
    // First try: the expectation that the stream does not exist decides. After losing, read.
    Result<AsnState> state =
        freshness == Freshness::kFreshState ? Load<AsnState>(stream) : Result<AsnState>(AsnState{});
    if (!state.ok()) return state.status();
    if (state->version != 0) {
      return Status::Conflict(errc::kAsnAlreadyRegistered, "nip",
                              "an ASN with NIP " + command.nip + " is already registered");
    }
    return Decision{{MakeEvent(stream, types::asn_registered, payload)}, {{stream, 0}}};
  });
}

Result<CommandResult> Ledger::ChangeRank(std::string_view nip, std::string_view rank_class,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(rank_class, "rank_class", errc::kRankClassUnknown, rank_classes));
  const std::string stream = AsnStream(nip);
  return Execute(
      context, stream + "|rank|" + std::string(rank_class), [&](Freshness) -> Result<Decision> {
        Result<AsnState> state = LoadTarget<AsnState>(stream, "asn", "nip", context);
        if (!state.ok()) return state.status();
        if (!state->active)
          return Status::Conflict(errc::kAsnInactive, "nip", "the ASN is deactivated");
        if (state->rank_class == rank_class) {
          return Status::InvalidArgument(errc::kRankUnchanged, "rank_class",
                                         "the ASN already has rank class " + state->rank_class);
        }
        std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("nip", nip)
                                  .Field("rank_class", rank_class)
                                  .Field("previous_rank_class", state->rank_class)
                                  .EndObject()
                                  .Take();
        return Decision{{MakeEvent(stream, types::asn_rank_changed, std::move(payload))},
                        {{stream, state->version}}};
      });
}

Result<CommandResult> Ledger::Deactivate(std::string_view nip, std::string_view reason,
                                         const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = AsnStream(nip);
  return Execute(
      context, stream + "|deactivate|" + std::string(reason), [&](Freshness) -> Result<Decision> {
        Result<AsnState> state = LoadTarget<AsnState>(stream, "asn", "nip", context);
        if (!state.ok()) return state.status();
        if (!state->active) {
          return Status::Conflict(errc::kAsnInactive, "nip", "the ASN is already deactivated");
        }
        std::string payload =
            JsonWriter().BeginObject().Field("nip", nip).Field("reason", reason).EndObject().Take();
        return Decision{{MakeEvent(stream, types::asn_deactivated, std::move(payload))},
                        {{stream, state->version}}};
      });
}

}  // namespace malpro
