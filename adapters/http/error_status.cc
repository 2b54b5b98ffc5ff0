#include "adapters/http/error_status.h"

#include <unordered_map>

#include "engine/error_codes.h"

namespace malpro {
namespace {

struct CodeStatus {
  std::string_view code;
  int status;
};

// Every code and the HTTP status it is answered with (docs/error-codes.md), by status.
constexpr CodeStatus code_statuses[] = {
    // 400: the request is malformed.
    {errc::kBodyDuplicateKey, 400},
    {errc::kBodyFieldMissing, 400},
    {errc::kBodyFieldUnknown, 400},
    {errc::kBodyFieldWrongType, 400},
    {errc::kBodyInvalidJson, 400},
    {errc::kBodyNotObject, 400},
    {errc::kBodyNumberOutOfRange, 400},
    {errc::kHeaderIdempotencyKeyEmpty, 400},
    {errc::kHeaderIfMatchInvalid, 400},
    {errc::kQueryChannelUnknown, 400},
    {errc::kQueryCursorInvalid, 400},
    {errc::kQueryInvalid, 400},
    {errc::kQueryStatusUnknown, 400},
    {errc::kRequestMalformed, 400},
    {errc::kTilePathInvalid, 400},
    // 401: no or unknown token.
    {errc::kUnauthenticated, 401},
    // 403: the token may not do this.
    {errc::kCorsOriginRefused, 403},  // a preflight from an origin not in http.cors_origins
    {errc::kCsrfTokenInvalid, 403},   // a write with the session cookie but no X-CSRF-Token
    {errc::kForbidden, 403},
    // 404: no such thing.
    {errc::kAsnNotFound, 404},
    {errc::kBankPaymentNotFound, 404},
    {errc::kBlobNotFound, 404},
    {errc::kChainVerificationNone, 404},
    {errc::kDiscrepancyNotFound, 404},
    {errc::kLogNotFound, 404},
    {errc::kOrderNotFound, 404},
    {errc::kPaymentNotFound, 404},
    {errc::kProductNotFound, 404},
    {errc::kQrisNoAmount, 404},
    {errc::kReceiptNotFound, 404},
    {errc::kReconciliationNotFound, 404},
    {errc::kReferenceUnknown, 404},
    {errc::kRouteNotFound, 404},
    {errc::kSettlementFileNotFound, 404},
    {errc::kSettlementNotFound, 404},
    {errc::kTileNotFound, 404},
    {errc::kEventNotFound, 404},
    {errc::kCheckpointNone, 404},
    {errc::kUmkmNotFound, 404},
    // 405: the path does not take this method.
    {errc::kMethodNotAllowed, 405},
    {errc::kServerReadOnly, 405},  // a replay served read-only takes no writes
    // 421: this server does not take the request: a replica, whose primary takes writes.
    {errc::kReplicaReadOnly, 421},
    // 408: the request did not arrive in time.
    {errc::kRequestTimeout, 408},
    // 409: the state forbids it now, or a concurrent change won.
    {errc::kAsnAlreadyRegistered, 409},
    {errc::kAsnInactive, 409},
    {errc::kProofPending, 409},
    {errc::kBankAlreadyPaid, 409},
    {errc::kBankReferenceMismatch, 409},
    {errc::kBankReferenceTaken, 409},
    {errc::kBuyerInactive, 409},
    {errc::kCashAlreadyReceived, 409},
    {errc::kChainVerifyRunning, 409},
    {errc::kComplianceFiguresStale, 409},
    {errc::kDiscrepancyAlreadyResolved, 409},
    {errc::kExceptionNotOpen, 409},
    {errc::kIdempotencyKeyReused, 409},
    {errc::kMonthAlreadyClosed, 409},
    {errc::kMonthNotOver, 409},
    {errc::kNothingToRepeat, 409},
    {errc::kNotificationChannelMismatch, 409},
    {errc::kOrderAlreadyExists, 409},
    {errc::kOrderAlreadyPaid, 409},
    {errc::kOrderNotAccepted, 409},
    {errc::kOrderNotCancellable, 409},
    {errc::kOrderNotCashless, 409},
    {errc::kOrderNotCod, 409},
    {errc::kOrderNotDelivered, 409},
    {errc::kOrderNotPayable, 409},
    {errc::kOrderNotPlaced, 409},
    {errc::kOrderPaid, 409},
    {errc::kPaymentAlreadySucceeded, 409},
    {errc::kPaymentNotPending, 409},
    {errc::kPaymentNotRefundable, 409},
    {errc::kPaymentNotSucceeded, 409},
    {errc::kPaymentNotVoided, 409},
    {errc::kPaymentPending, 409},
    {errc::kProductAlreadyListed, 409},
    {errc::kProductNotListed, 409},
    {errc::kReceiptAlreadyDecided, 409},
    {errc::kReceiptAlreadyExists, 409},
    {errc::kReceiptPhotoDuplicate, 409},
    {errc::kSettlementAlreadyClosed, 409},
    {errc::kSettlementDayNotOver, 409},
    {errc::kSettlementDaysClosed, 409},
    {errc::kSettlementTotalsStale, 409},
    {errc::kStreamVersionConflict, 409},
    {errc::kUmkmAlreadyRegistered, 409},
    {errc::kUmkmAlreadySuspended, 409},
    {errc::kUmkmAlreadyVerified, 409},
    {errc::kUmkmNotVerified, 409},
    {errc::kUmkmSuspended, 409},
    {errc::kVaCannotFail, 409},
    {errc::kVersionMismatch, 409},
    // 413: the body is over its limit.
    {errc::kBodyTooLarge, 413},
    // 414: the request target is over its limit.
    {errc::kUriTooLong, 414},
    // 422: a field breaks a rule.
    {errc::kActionInvalid, 422},
    {errc::kActorInvalid, 422},
    {errc::kActorMissing, 422},
    {errc::kActorTooLong, 422},
    {errc::kAgencyUnknown, 422},
    {errc::kAmountInvalid, 422},
    {errc::kAmountMismatch, 422},
    {errc::kAmountNotPositive, 422},
    {errc::kAmountOutOfRange, 422},
    {errc::kAmountTooLarge, 422},
    {errc::kAmountTooPrecise, 422},
    {errc::kAsnUnknown, 422},
    {errc::kBalanceInvalid, 422},
    {errc::kBase64Invalid, 422},
    {errc::kBasisPointsOutOfRange, 422},
    {errc::kBlobTooLarge, 422},
    {errc::kBuyerUnknown, 422},
    {errc::kCategoryUnknown, 422},
    {errc::kChannelUnknown, 422},
    {errc::kCommandTooLarge, 422},
    {errc::kComplianceFiguresInvalid, 422},
    {errc::kCountNegative, 422},
    {errc::kCreditDebitInvalid, 422},
    {errc::kCreditDebitUnknown, 422},
    {errc::kCsvHeaderInvalid, 422},
    {errc::kCsvInvalid, 422},
    {errc::kCurrencyInvalid, 422},
    {errc::kCutoffInvalid, 422},
    {errc::kDateInvalid, 422},
    {errc::kDateRangeInvalid, 422},
    {errc::kDatetimeInvalid, 422},
    {errc::kDiscrepancyCountMismatch, 422},
    {errc::kDiscrepancyIndexInvalid, 422},
    {errc::kEventTypeInvalid, 422},
    {errc::kEventTypeMissing, 422},
    {errc::kEventTypeTooLong, 422},
    {errc::kEventsMissing, 422},
    {errc::kExpectationDuplicate, 422},
    {errc::kExpiresAtInvalid, 422},
    {errc::kFieldInvalid, 422},
    {errc::kFieldMissing, 422},
    {errc::kFieldWrongType, 422},
    {errc::kFormatInvalid, 422},
    {errc::kFormatUnknown, 422},
    {errc::kIdInvalid, 422},
    {errc::kIdTooLong, 422},
    {errc::kIdempotencyKeyInvalid, 422},
    {errc::kIdempotencyKeyMissing, 422},
    {errc::kIdempotencyKeyTooLong, 422},
    {errc::kJsonInvalid, 422},
    {errc::kJsonNotObject, 422},
    {errc::kKecamatanUnknown, 422},
    {errc::kKelurahanNotInKecamatan, 422},
    {errc::kKelurahanUnknown, 422},
    {errc::kKindUnknown, 422},
    {errc::kLateNotApplicable, 422},
    {errc::kModeInvalid, 422},
    {errc::kMonthInvalid, 422},
    {errc::kNibLength, 422},
    {errc::kNibNotDigits, 422},
    {errc::kNikBirthDate, 422},
    {errc::kNikLength, 422},
    {errc::kNikNotDigits, 422},
    {errc::kNipAppointmentBeforeAdulthood, 422},
    {errc::kNipAppointmentMonth, 422},
    {errc::kNipBirthDate, 422},
    {errc::kNipLength, 422},
    {errc::kNipNotDigits, 422},
    {errc::kNipSerial, 422},
    {errc::kNipSexDigit, 422},
    {errc::kOrderDuplicateLine, 422},
    {errc::kOrderEmpty, 422},
    {errc::kOrderTooLarge, 422},
    {errc::kOrderTooManyLines, 422},
    {errc::kPaidTimeOutOfWindow, 422},
    {errc::kPayloadNotJson, 422},
    {errc::kPayloadNotMinified, 422},
    {errc::kPayloadNotObject, 422},
    {errc::kPayloadTooLarge, 422},
    {errc::kPaymentMethodUnknown, 422},
    {errc::kPeriodInvalid, 422},
    {errc::kPhotoMissing, 422},
    {errc::kPhotoTooLarge, 422},
    {errc::kPhotoTypeUnsupported, 422},
    {errc::kPolicyRetroactive, 422},
    {errc::kPriceUnchanged, 422},
    {errc::kProofRangeInvalid, 422},
    {errc::kProofInvalid, 422},
    {errc::kCheckpointInvalid, 422},
    {errc::kCheckpointOriginInvalid, 422},
    {errc::kNoteInvalid, 422},
    {errc::kNoteKeyInvalid, 422},
    {errc::kWitnessLogInvalid, 422},
    {errc::kQrContentInvalid, 422},
    {errc::kQrContentTooLong, 422},
    {errc::kQrisCrcMismatch, 422},
    {errc::kQrisCriteriaUnknown, 422},
    {errc::kQrisCurrency, 422},
    {errc::kQrisFieldInvalid, 422},
    {errc::kQrisMalformed, 422},
    {errc::kQrisTagMissing, 422},
    {errc::kQrisValueTooLong, 422},
    {errc::kQuantityOutOfRange, 422},
    {errc::kRankClassUnknown, 422},
    {errc::kRankGroupUnknown, 422},
    {errc::kRankUnchanged, 422},
    {errc::kReceiptDateInFuture, 422},
    {errc::kReceiptDateTooOld, 422},
    {errc::kResolutionNotApplicable, 422},
    {errc::kResolutionUnknown, 422},
    {errc::kReversalUnsupported, 422},
    {errc::kSettlementAccountInvalid, 422},
    {errc::kSettlementBeforeFirstDay, 422},
    {errc::kSettlementFileUnexpected, 422},
    {errc::kSettlementTooManyMerchants, 422},
    {errc::kSha256Invalid, 422},
    {errc::kStatementAccountMismatch, 422},
    {errc::kStatementCountInvalid, 422},
    {errc::kStatementEmpty, 422},
    {errc::kStatementFormatUnsupported, 422},
    {errc::kStatementIdInvalid, 422},
    {errc::kStatementNotCamt053, 422},
    {errc::kStatementTooLarge, 422},
    {errc::kStatementTooLong, 422},
    {errc::kStreamIdInvalid, 422},
    {errc::kStreamIdMissing, 422},
    {errc::kStreamIdTooLong, 422},
    {errc::kTextControlCharacter, 422},
    {errc::kTextTooLong, 422},
    {errc::kTimestampInvalid, 422},
    {errc::kTooManyDiscrepancies, 422},
    {errc::kTooManyEvents, 422},
    {errc::kTooManyExpectations, 422},
    {errc::kTypeInvalid, 422},
    {errc::kUmkmUnknown, 422},
    {errc::kVirtualAccountInvalid, 422},
    {errc::kXmlInvalid, 422},
    // 429: too much at once from this client or in all.
    {errc::kOverloaded, 429},
    {errc::kTooManyWaitingReads, 429},
    // 431: the request line and headers are over their limit.
    {errc::kHeadersTooLarge, 431},
    // 500: the storage failed.
    {errc::kCorruption, 500},
    {errc::kIoError, 500},
    // 503: temporarily unable.
    {errc::kBankAnswerInvalid, 503},
    {errc::kKafkaNotAcknowledged, 503},
    {errc::kKafkaRelayFenced, 503},
    {errc::kBankNotConfigured, 503},
    {errc::kBankNotificationRefused, 503},
    {errc::kBankPollUndecided, 503},
    {errc::kBankRefused, 503},
    {errc::kBankServerError, 503},
    {errc::kBankTimeout, 503},
    {errc::kBankUnreachable, 503},
    {errc::kLogClosed, 503},
    {errc::kLogReadOnly, 503},
    {errc::kReadModelsBehind, 503},
    {errc::kReadModelsOff, 503},
    {errc::kReconciliationOff, 503},
    {errc::kReferencesExhausted, 503},
    {errc::kSettlementOff, 503},
    {errc::kTlogOff, 503},
    {errc::kCheckpointsOff, 503},
    // 505: another HTTP version than 1.0 or 1.1.
    {errc::kHttpVersionUnsupported, 505},
};

// For a code without an entry (none the server sends; tests check that): by category.
int CategoryStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 422;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kLimitExceeded:
      return 422;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
      return 500;
  }
  return 500;
}

}  // namespace

int HttpStatusOfCode(std::string_view code) {
  static const std::unordered_map<std::string_view, int> by_code = [] {
    std::unordered_map<std::string_view, int> map;
    for (const CodeStatus& entry : code_statuses) map.emplace(entry.code, entry.status);
    return map;
  }();
  const auto found = by_code.find(code);
  return found == by_code.end() ? 0 : found->second;
}

int ErrorStatus(const Status& status) {
  if (status.ok()) return 200;
  const int listed = HttpStatusOfCode(status.error_code());
  return listed != 0 ? listed : CategoryStatus(status.code());
}

}  // namespace malpro
