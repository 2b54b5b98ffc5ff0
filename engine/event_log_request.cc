// The checks of an append request (the field rules of docs/event-log-format.md, section 4),
// run on the caller's thread before the writer sees the request, and the default request
// digest of an idempotency key (section 7).
#include <simdjson.h>

#include <cstring>
#include <set>

#include "engine/error_codes.h"
#include "engine/event_log_internal.h"

namespace malpro {
namespace {

// Identifiers are printable ASCII from a small alphabet so that they are safe as keys, in
// file names and in URLs.
bool IsIdentifierChar(char c, bool allow_upper) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == ':' || (allow_upper && c >= 'A' && c <= 'Z');
}

// The codes an identifier's three refusals carry.
struct IdentifierCodes {
  std::string_view missing;
  std::string_view too_long;
  std::string_view invalid;
};
constexpr IdentifierCodes stream_id_codes{errc::kStreamIdMissing, errc::kStreamIdTooLong,
                                          errc::kStreamIdInvalid};
constexpr IdentifierCodes event_type_codes{errc::kEventTypeMissing, errc::kEventTypeTooLong,
                                           errc::kEventTypeInvalid};
constexpr IdentifierCodes actor_codes{errc::kActorMissing, errc::kActorTooLong,
                                      errc::kActorInvalid};
constexpr IdentifierCodes idempotency_key_codes{
    errc::kIdempotencyKeyMissing, errc::kIdempotencyKeyTooLong, errc::kIdempotencyKeyInvalid};

Status CheckIdentifier(std::string_view value, size_t bytes_max, bool allow_upper,
                       std::string_view field, const IdentifierCodes& codes) {
  if (value.empty()) {
    return Status::InvalidArgument(codes.missing, field, std::string(field) + " is required");
  }
  if (value.size() > bytes_max) {
    return Status::LimitExceeded(
        codes.too_long, field,
        std::string(field) + " is longer than " + std::to_string(bytes_max) + " bytes");
  }
  for (char c : value) {
    if (!IsIdentifierChar(c, allow_upper)) {
      return Status::InvalidArgument(codes.invalid, field,
                                     std::string(field) + " may only contain " +
                                         (allow_upper ? "letters" : "lowercase letters") +
                                         ", digits and - _ . :");
    }
  }
  return Status::Ok();
}

Status CheckPayloadSize(std::string_view payload, std::string_view field) {
  if (payload.size() > payload_bytes_max) {
    return Status::LimitExceeded(
        errc::kPayloadTooLarge, field,
        std::string(field) + " is larger than " + std::to_string(payload_bytes_max) + " bytes");
  }
  return Status::Ok();
}

// That the payload is one minified JSON object.
Status CheckPayloadJson(std::string_view payload, std::string_view field) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(payload.data(), payload.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kPayloadNotJson, field,
                                   std::string(field) + " must be valid JSON");
  }
  if (!root.is_object()) {
    return Status::InvalidArgument(errc::kPayloadNotObject, field,
                                   std::string(field) + " must be a JSON object");
  }
  // Valid JSON without a single whitespace byte is minified; only a payload with some needs
  // the full check (its whitespace may all be inside strings).
  if (std::memchr(payload.data(), ' ', payload.size()) == nullptr &&
      std::memchr(payload.data(), '\n', payload.size()) == nullptr &&
      std::memchr(payload.data(), '\t', payload.size()) == nullptr &&
      std::memchr(payload.data(), '\r', payload.size()) == nullptr) {
    return Status::Ok();
  }
  thread_local std::string minified;
  minified.resize(payload.size());
  size_t minified_size = 0;
  if (simdjson::minify(payload.data(), payload.size(), minified.data(), minified_size) !=
          simdjson::SUCCESS ||
      minified_size != payload.size()) {
    return Status::InvalidArgument(errc::kPayloadNotMinified, field,
                                   std::string(field) +
                                       " must be minified JSON (no whitespace "
                                       "outside strings)");
  }
  return Status::Ok();
}

}  // namespace

std::string IndexedField(std::string_view name, size_t index, std::string_view member) {
  return std::string(name) + "[" + std::to_string(index) + "]." + std::string(member);
}

Status CheckStreamId(std::string_view stream_id) {
  return CheckIdentifier(stream_id, stream_id_bytes_max, false, "stream_id", stream_id_codes);
}

Status CheckPayloads(const AppendRequest& request) {
  for (size_t i = 0; i < request.events.size(); ++i) {
    if (!CheckPayloadJson(request.events[i].payload, "payload").ok()) {
      return CheckPayloadJson(request.events[i].payload, IndexedField("events", i, "payload"));
    }
  }
  return Status::Ok();
}

Status ValidateRequest(const AppendRequest& request, size_t* payload_bytes) {
  if (request.events.empty()) {
    return Status::InvalidArgument(errc::kEventsMissing, "events",
                                   "a command writes at least one event");
  }
  if (request.events.size() > command_events_max) {
    return Status::LimitExceeded(
        errc::kTooManyEvents, "events",
        "a command writes at most " + std::to_string(command_events_max) + " events");
  }
  if (request.expectations.size() > command_streams_max) {
    return Status::LimitExceeded(
        errc::kTooManyExpectations, "expectations",
        "a command checks at most " + std::to_string(command_streams_max) + " streams");
  }
  MALPRO_RETURN_IF_ERROR(
      CheckIdentifier(request.actor, actor_bytes_max, true, "actor", actor_codes));
  if (!request.idempotency_key.empty()) {
    MALPRO_RETURN_IF_ERROR(CheckIdentifier(request.idempotency_key, idempotency_key_bytes_max, true,
                                           "idempotency_key", idempotency_key_codes));
  }
  size_t total = 0;
  for (size_t i = 0; i < request.events.size(); ++i) {
    // Checked with a plain field name first; only an error pays for the indexed one.
    const ProposedEvent& event = request.events[i];
    if (!CheckIdentifier(event.stream_id, stream_id_bytes_max, false, "stream_id", stream_id_codes)
             .ok()) {
      return CheckIdentifier(event.stream_id, stream_id_bytes_max, false,
                             IndexedField("events", i, "stream_id"), stream_id_codes);
    }
    if (!CheckIdentifier(event.type, event_type_bytes_max, false, "type", event_type_codes).ok()) {
      return CheckIdentifier(event.type, event_type_bytes_max, false,
                             IndexedField("events", i, "type"), event_type_codes);
    }
    if (!CheckPayloadSize(event.payload, "payload").ok()) {
      return CheckPayloadSize(event.payload, IndexedField("events", i, "payload"));
    }
    total += event.payload.size();
  }
  if (total > command_payload_bytes_max) {
    return Status::LimitExceeded(errc::kCommandTooLarge, "events",
                                 "a command carries at most " +
                                     std::to_string(command_payload_bytes_max) +
                                     " bytes of payload");
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < request.expectations.size(); ++i) {
    const std::string field = IndexedField("expectations", i, "stream_id");
    MALPRO_RETURN_IF_ERROR(CheckIdentifier(request.expectations[i].stream_id, stream_id_bytes_max,
                                           false, field, stream_id_codes));
    if (!seen.insert(request.expectations[i].stream_id).second) {
      return Status::InvalidArgument(errc::kExpectationDuplicate, field,
                                     "each stream may be expected at one version only");
    }
  }
  *payload_bytes = total;
  return Status::Ok();
}

Hash EventLog::DefaultRequestDigest(const AppendRequest& request) {
  std::string material;
  PutLengthPrefixed64(&material, request.actor);
  PutU64(&material, request.expectations.size());
  for (const StreamExpectation& expectation : request.expectations) {
    PutLengthPrefixed64(&material, expectation.stream_id);
    PutU64(&material, expectation.version);
  }
  PutU64(&material, request.events.size());
  for (const ProposedEvent& event : request.events) {
    PutLengthPrefixed64(&material, event.stream_id);
    PutLengthPrefixed64(&material, event.type);
    PutLengthPrefixed64(&material, event.payload);
  }
  return Sha256(material);
}

}  // namespace malpro
