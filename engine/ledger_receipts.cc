// Ledger: the commands of a manual receipt: submit (with its photo), approve, reject; and the
// stored photos.
#include "engine/civil_time.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/ledger.h"
#include "engine/ledger_internal.h"

namespace malpro {
namespace {

using ledger_internal::CheckPositiveAmount;
using ledger_internal::CheckReason;
using ledger_internal::MakeEvent;

bool IsJpeg(std::string_view bytes) { return bytes.starts_with("\xFF\xD8\xFF"); }
bool IsPng(std::string_view bytes) { return bytes.starts_with("\x89PNG\r\n\x1A\n"); }

Status CheckPhoto(std::string_view photo) {
  if (photo.empty())
    return Status::InvalidArgument(errc::kPhotoMissing, "photo", "photo is required");
  if (photo.size() > receipt_photo_bytes_max) {
    return Status::LimitExceeded(
        errc::kPhotoTooLarge, "photo",
        "photo must be at most " + std::to_string(receipt_photo_bytes_max) + " bytes");
  }
  if (!IsJpeg(photo) && !IsPng(photo)) {
    return Status::InvalidArgument(errc::kPhotoTypeUnsupported, "photo",
                                   "photo must be a JPEG or PNG image");
  }
  return Status::Ok();
}

// A purchase date (YYYY-MM-DD, Asia/Jakarta) from `window_days` before `today` to today.
Status CheckPurchaseDate(std::string_view text, CivilDate today, int64_t window_days) {
  Result<CivilDate> purchase_date = ParseIsoDate(text, "purchase_date");
  if (!purchase_date.ok()) return purchase_date.status();
  const int64_t today_day = DaysFromCivil(today);
  const int64_t purchase_day = DaysFromCivil(*purchase_date);
  if (purchase_day > today_day) {
    return Status::InvalidArgument(errc::kReceiptDateInFuture, "purchase_date",
                                   "purchase_date may not be after today (Asia/Jakarta)");
  }
  if (purchase_day < today_day - window_days) {
    return Status::InvalidArgument(
        errc::kReceiptDateTooOld, "purchase_date",
        "purchase_date may be at most " + std::to_string(window_days) + " days before today");
  }
  return Status::Ok();
}

// The receipt.submitted payload of a checked command.
std::string SubmittedPayload(const SubmitReceipt& command, std::string_view receipt_id,
                             std::string_view kecamatan, std::string_view photo_sha256,
                             int64_t window_days) {
  return JsonWriter()
      .BeginObject()
      .Field("receipt_id", receipt_id)
      .Field("nip", command.nip)
      .Field("shop_name", command.shop_name)
      .Field("kecamatan", kecamatan)
      .Field("kelurahan", command.kelurahan)
      .Field("amount", FormatSnap(command.amount))
      .Field("purchase_date", command.purchase_date)
      .Field("photo_sha256", photo_sha256)
      .Field("photo_type", IsJpeg(command.photo) ? "image/jpeg" : "image/png")
      .Field("photo_bytes", static_cast<int64_t>(command.photo.size()))
      // The rule the date was checked by, so that an auditor can check it from the log alone.
      .Field("receipt_window_days", window_days)
      .EndObject()
      .Take();
}

}  // namespace

Result<CommandResult> Ledger::Submit(const SubmitReceipt& command, const CommandContext& context) {
  const std::string receipt_id =
      command.receipt_id.empty() ? options_.new_id() : command.receipt_id;
  MALPRO_RETURN_IF_ERROR(CheckEntityId(receipt_id, "receipt_id"));
  Result<Nip> nip = ParseNip(command.nip, "nip");
  if (!nip.ok()) return nip.status();
  MALPRO_RETURN_IF_ERROR(CheckName(command.shop_name, "shop_name"));
  Result<std::string> kecamatan = geography_.KecamatanOf(command.kelurahan, "kelurahan");
  if (!kecamatan.ok()) return kecamatan.status();
  MALPRO_RETURN_IF_ERROR(CheckPositiveAmount(command.amount, receipt_amount_max, "amount"));
  MALPRO_RETURN_IF_ERROR(
      CheckPurchaseDate(command.purchase_date, JakartaDate(Now()), options_.receipt_window_days));
  MALPRO_RETURN_IF_ERROR(CheckPhoto(command.photo));
  const std::string photo_sha256 = HashToHex(Sha256(command.photo));
  const std::string payload =
      SubmittedPayload(command, receipt_id, *kecamatan, photo_sha256, options_.receipt_window_days);
  const std::string stream = ReceiptStream(receipt_id);
  const std::string asn_stream = AsnStream(command.nip);
  const std::string photo_stream = PhotoStream(photo_sha256);
  bool photo_stored = false;
  return Execute(context, "receipt.submit" + payload, [&](Freshness freshness) -> Result<Decision> {
    MALPRO_RETURN_IF_ERROR(RequireNewStream(stream, errc::kReceiptAlreadyExists, "receipt_id",
                                            "receipt " + receipt_id + " exists"));
    Result<AsnState> asn = LoadCached(asn_stream, asn_cache_, freshness);
    if (!asn.ok()) return asn.status();
    if (asn->version == 0) {
      return Status::InvalidArgument(errc::kAsnUnknown, "nip",
                                     "no ASN with NIP " + command.nip + " is registered");
    }
    if (!asn->active) return Status::Conflict(errc::kAsnInactive, "nip", "the ASN is deactivated");
    Result<uint64_t> claimed = log_->StreamVersion(photo_stream);
    if (!claimed.ok()) return claimed.status();
    if (*claimed != 0) {
      return Status::Conflict(errc::kReceiptPhotoDuplicate, "photo",
                              "this photo was already submitted with another receipt");
    }
    if (!photo_stored) {  // content-addressed: stored before the events that refer to it
      Result<Hash> stored = log_->PutBlob(command.photo);
      if (!stored.ok()) return stored.status();
      photo_stored = true;
    }
    std::string claim =
        JsonWriter().BeginObject().Field("receipt_id", receipt_id).EndObject().Take();
    return Decision{{MakeEvent(stream, types::receipt_submitted, payload),
                     MakeEvent(photo_stream, types::photo_claimed, std::move(claim))},
                    {{stream, 0}, {photo_stream, 0}, {asn_stream, asn->version}}};
  });
}

Result<CommandResult> Ledger::DecideReceipt(std::string_view receipt_id,
                                            std::string_view event_type, std::string_view reason,
                                            const CommandContext& context) {
  const std::string stream = ReceiptStream(receipt_id);
  return Execute(context, stream + "|" + std::string(event_type) + "|" + std::string(reason),
                 [&](Freshness) -> Result<Decision> {
                   Result<ReceiptState> state =
                       LoadTarget<ReceiptState>(stream, "receipt", "receipt_id", context);
                   if (!state.ok()) return state.status();
                   if (state->status != ReceiptStatus::kSubmitted) {
                     return Status::Conflict(errc::kReceiptAlreadyDecided, "receipt_id",
                                             "the receipt was already " +
                                                 std::string(ReceiptStatusName(state->status)));
                   }
                   JsonWriter payload;
                   payload.BeginObject().Field("receipt_id", receipt_id);
                   if (!reason.empty()) payload.Field("reason", reason);
                   return Decision{{MakeEvent(stream, event_type, payload.EndObject().Take())},
                                   {{stream, state->version}}};
                 });
}

Result<CommandResult> Ledger::ApproveReceipt(std::string_view receipt_id,
                                             const CommandContext& context) {
  return DecideReceipt(receipt_id, types::receipt_approved, "", context);
}

Result<CommandResult> Ledger::RejectReceipt(std::string_view receipt_id, std::string_view reason,
                                            const CommandContext& context) {
  MALPRO_RETURN_IF_ERROR(CheckReason(reason));
  return DecideReceipt(receipt_id, types::receipt_rejected, reason, context);
}

Result<std::string> Ledger::Photo(std::string_view sha256_hex) const {
  Hash hash;
  if (!HashFromHex(sha256_hex, &hash)) {
    return Status::InvalidArgument(errc::kSha256Invalid, "sha256", "sha256 must be 64 hex digits");
  }
  return log_->GetBlob(hash);
}

}  // namespace malpro
