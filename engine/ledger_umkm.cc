// Ledger: the commands of a UMKM (merchant) and its products.
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckPositiveAmount;
using ledger_internal::CheckReason;
using ledger_internal::MakeEvent;

// NotFound product_not_found unless the UMKM lists `product_id` now.
Status CheckListed(const UmkmState& state, std::string_view umkm_id, std::string_view product_id) {
  auto product = state.products.find(std::string(product_id));
  if (product == state.products.end() || !product->second.listed) {
    return Status::NotFound(
        errc::kProductNotFound, "product_id",
        "UMKM " + std::string(umkm_id) + " lists no product " + std::string(product_id));
  }
  return Status::Ok();
}

Status CheckSettlementAccount(std::string_view account) {
  const bool digits_only =
      !account.empty() && account.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only || account.size() < settlement_account_digits_min ||
      account.size() > settlement_account_digits_max) {
    return Status::InvalidArgument(errc::kSettlementAccountInvalid, "settlement_account",
                                   "settlement_account must be a Bank Jatim account number of " +
                                       std::to_string(settlement_account_digits_min) + " to " +
                                       std::to_string(settlement_account_digits_max) + " digits");
  }
  return Status::Ok();
}

}  // namespace

Result<CommandResult> Ledger::Register(const RegisterUmkm& command, const CommandContext& context) {
  const std::string umkm_id = command.umkm_id.empty() ? options_.new_id() : command.umkm_id;
  MALPRO_RETURN_IF_ERROR(CheckEntityId(umkm_id, "umkm_id"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.name, "name"));
  if (!command.nib.empty()) MALPRO_RETURN_IF_ERROR(ValidateNib(command.nib, "nib"));
  MALPRO_RETURN_IF_ERROR(
      CheckOneOf(command.category, "category", errc::kCategoryUnknown, umkm_categories));
  MALPRO_RETURN_IF_ERROR(
      geography_.CheckPair(command.kecamatan, command.kelurahan, "kecamatan", "kelurahan"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.sponsor, "sponsor"));
  MALPRO_RETURN_IF_ERROR(CheckSettlementAccount(command.settlement_account));
  MALPRO_RETURN_IF_ERROR(CheckOneOf(command.qris_criteria, "qris_criteria",
                                    errc::kQrisCriteriaUnknown, qris_criteria));
  JsonWriter writer;
  writer.BeginObject().Field("umkm_id", umkm_id).Field("name", command.name);
  if (!command.nib.empty()) writer.Field("nib", command.nib);
  const std::string payload = writer.Field("category", command.category)
                                  .Field("kecamatan", command.kecamatan)
                                  .Field("kelurahan", command.kelurahan)
                                  .Field("sponsor", command.sponsor)
                                  .Field("settlement_account", command.settlement_account)
                                  .Field("qris_criteria", command.qris_criteria)
                                  .EndObject()
                                  .Take();
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, "umkm.register" + payload, [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = Load<UmkmState>(stream);
    if (!state.ok()) return state.status();
    if (state->version != 0) {
      return Status::Conflict(errc::kUmkmAlreadyRegistered, "umkm_id",
                              "UMKM " + umkm_id + " is already registered");
    }
    return Decision{{MakeEvent(stream, types::umkm_registered, payload)}, {{stream, 0}}};
  });
}

Result<CommandResult> Ledger::VerifyUmkm(std::string_view umkm_id, const CommandContext& context) {
  const std::string stream = UmkmStream(umkm_id);
  return Execute(context, stream + "|verify", [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    if (state->status == UmkmStatus::kVerified) {
      return Status::Conflict(errc::kUmkmAlreadyVerified, "umkm_id",
                              "the UMKM is already verified");
    }
    std::string payload = JsonWriter().BeginObject().Field("umkm_id", umkm_id).EndObject().Take();
    return Decision{{MakeEvent(stream, types::umkm_verified, std::move(payload))},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::SuspendUmkm(std::string_view umkm_id, std::string_view reason,
                                          const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  const std::string stream = UmkmStream(umkm_id);
  return Execute(
      context, stream + "|suspend|" + std::string(reason), [&](Freshness) -> Result<Decision> {
        Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
        if (!state.ok()) return state.status();
        if (state->status == UmkmStatus::kSuspended) {
          return Status::Conflict(errc::kUmkmAlreadySuspended, "umkm_id",
                                  "the UMKM is already suspended");
        }
        std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("umkm_id", umkm_id)
                                  .Field("reason", reason)
                                  .EndObject()
                                  .Take();
        return Decision{{MakeEvent(stream, types::umkm_suspended, std::move(payload))},
                        {{stream, state->version}}};
      });
}

Result<CommandResult> Ledger::List(const ListProduct& command, const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckEntityId(command.product_id, "product_id"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.name, "name"));
  MALPRO_RETURN_IF_ERROR(CheckName(command.unit, "unit", unit_chars_max));
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(command.price, product_price_max, "price"));
  const std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("product_id", command.product_id)
                                  .Field("name", command.name)
                                  .Field("unit", command.unit)
                                  .Field("price", FormatSnap(command.price))
                                  .EndObject()
                                  .Take();
  const std::string stream = UmkmStream(command.umkm_id);
  return Execute(context, stream + "|list" + payload, [&](Freshness) -> Result<Decision> {
    Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
    if (!state.ok()) return state.status();
    auto product = state->products.find(command.product_id);
    if (product != state->products.end() && product->second.listed) {
      return Status::Conflict(errc::kProductAlreadyListed, "product_id",
                              "product " + command.product_id + " is already listed");
    }
    return Decision{{MakeEvent(stream, types::product_listed, payload)},
                    {{stream, state->version}}};
  });
}

Result<CommandResult> Ledger::Reprice(std::string_view umkm_id, std::string_view product_id,
                                      Money price, const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(price, product_price_max, "price"));
  const std::string stream = UmkmStream(umkm_id);
  return Execute(
      context, stream + "|reprice|" + std::string(product_id) + "|" + FormatSnap(price),
      [&](Freshness) -> Result<Decision> {
        Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
        if (!state.ok()) return state.status();
        MALPRO_RETURN_IF_ERROR(CheckListed(*state, umkm_id, product_id));
        auto product = state->products.find(std::string(product_id));
        if (product->second.price == price) {
          return Status::InvalidArgument(errc::kPriceUnchanged, "price",
                                         "the product already has that price");
        }
        std::string payload = JsonWriter()
                                  .BeginObject()
                                  .Field("product_id", product_id)
                                  .Field("price", FormatSnap(price))
                                  .Field("previous_price", FormatSnap(product->second.price))
                                  .EndObject()
                                  .Take();
        return Decision{{MakeEvent(stream, types::product_repriced, std::move(payload))},
                        {{stream, state->version}}};
      });
}

Result<CommandResult> Ledger::Delist(std::string_view umkm_id, std::string_view product_id,
                                     const CommandContext& context) {
  const std::string stream = UmkmStream(umkm_id);
  return Execute(
      context, stream + "|delist|" + std::string(product_id), [&](Freshness) -> Result<Decision> {
        Result<UmkmState> state = LoadTarget<UmkmState>(stream, "umkm", "umkm_id", context);
        if (!state.ok()) return state.status();
        MALPRO_RETURN_IF_ERROR(CheckListed(*state, umkm_id, product_id));
        std::string payload =
            JsonWriter().BeginObject().Field("product_id", product_id).EndObject().Take();
        return Decision{{MakeEvent(stream, types::product_delisted, std::move(payload))},
                        {{stream, state->version}}};
      });
}

}  // namespace malpro
