// Events as they come back from outside the writer: stored envelopes (engine/envelope.h), the
// JSON form of `malpro audit export` and the replication topic (ParseEventJson), and the
// payloads the aggregates fold (engine/aggregates.h).
//
// Input: the first byte chooses what the rest is (its value modulo 3):
//   0 ('0')  the bytes of a stored envelope;
//   1 ('1')  an event in its JSON form (PayloadForm::kString);
//   2 ('2')  one stream's history: lines of "type payload", folded by every aggregate.
// Properties:
//   - an envelope decodes exactly when it is well formed (IsWellFormedCanonical of its
//     canonical part), and encodes back to the same bytes;
//   - an event parsed from JSON writes back to JSON that parses to the same event, and
//     encodes to an envelope that decodes to it;
//   - a fold refuses with a known code (corruption) and never crashes; an order folded with
//     and without its lines agrees on everything but the lines.
#include <optional>
#include <vector>

#include "engine/aggregates.h"
#include "engine/envelope.h"
#include "engine/json.h"
#include "tests/fuzz/fuzz_check.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;

void CheckEnvelope(std::string_view bytes) {
  Result<Event> event = DecodeEnvelope(bytes);
  Result<std::string_view> canonical = CanonicalPart(bytes);
  if (!event.ok()) {
    CheckRefusal(event.status());
    FUZZ_CHECK(event.status().code() == StatusCode::kCorruption);
    FUZZ_CHECK(!canonical.ok() || !IsWellFormedCanonical(*canonical));
    return;
  }
  FUZZ_CHECK(canonical.ok() && IsWellFormedCanonical(*canonical));
  FUZZ_CHECK(*canonical == EncodeCanonical(*event));
  FUZZ_CHECK(EncodeEnvelope(*event) == bytes);
  // Decoding into an event that already holds other strings gives the same event.
  Event reused;
  reused.stream_id = "stream-left-over-from-an-earlier-decode";
  reused.payload = std::string(300, 'x');
  FUZZ_CHECK(DecodeEnvelopeInto(bytes, &reused).ok());
  FUZZ_CHECK(reused == *event);
}

bool FitsEnvelope(const Event& event) {
  for (const std::string* text :
       {&event.stream_id, &event.type, &event.actor, &event.idempotency_key}) {
    if (text->size() > UINT16_MAX) return false;
  }
  return event.payload.size() <= UINT32_MAX;
}

std::string EventJson(const Event& event) {
  JsonWriter writer;
  WriteEventJson(writer, event, PayloadForm::kString);
  return writer.Take();
}

void CheckEventJson(std::string_view json) {
  Result<Event> event = ParseEventJson(json);
  if (!event.ok()) {
    CheckRefusal(event.status());
    return;
  }
  const std::string written = EventJson(*event);
  Result<Event> again = ParseEventJson(written);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString() + " for " + written);
  FUZZ_CHECK_DETAIL(*again == *event, written);
  FUZZ_CHECK(EventJson(*again) == written);
  if (FitsEnvelope(*event)) {
    const std::string stored = EncodeEnvelope(*event);
    Result<Event> decoded = DecodeEnvelope(stored);
    FUZZ_CHECK_DETAIL(decoded.ok(), decoded.status().ToString());
    FUZZ_CHECK(*decoded == *event);
  }
}

// Folds `events` into a fresh `State` until the first refusal; returns the state after the
// last event it took (a refused event may have changed part of a copy) and how many it took.
template <typename State, typename... Options>
std::pair<State, size_t> Fold(const std::vector<Event>& events, Options... options) {
  State state;
  size_t applied = 0;
  for (const Event& event : events) {
    State next = state;
    Status status = next.Apply(event, options...);
    if (!status.ok()) {
      CheckRefusal(status);
      break;
    }
    FUZZ_CHECK(next.version == event.stream_version);
    state = std::move(next);
    ++applied;
  }
  return {std::move(state), applied};
}

void CheckFold(std::string_view history) {
  std::vector<Event> events;
  while (!history.empty() && events.size() < 64) {
    std::string_view line = fuzz::TakeLine(&history);
    const size_t space = line.find(' ');
    Event event;
    event.sequence = events.size() + 1;
    event.stream_version = events.size() + 1;
    event.stream_id = "fuzz-stream";
    event.recorded_at_us = 1'795'317'300'000'000 + static_cast<int64_t>(events.size());
    event.actor = "fuzz";
    event.type = std::string(line.substr(0, space));
    event.payload = space == std::string_view::npos ? "{}" : std::string(line.substr(space + 1));
    events.push_back(std::move(event));
  }
  (void)Fold<AsnState>(events);
  (void)Fold<UmkmState>(events);
  (void)Fold<ReceiptState>(events);
  (void)Fold<PaymentState>(events);
  (void)Fold<SettlementState>(events);
  (void)Fold<ReconciliationState>(events);
  (void)Fold<PolicyState>(events);
  auto [order, order_applied] = Fold<OrderState>(events, true);
  auto [summary, summary_applied] = Fold<OrderState>(events, false);
  // Without its lines an order reads less, so it may take more events, never fewer.
  FUZZ_CHECK(summary_applied >= order_applied);
  if (summary_applied == order_applied) {
    FUZZ_CHECK(summary.version == order.version && summary.total == order.total &&
               summary.status == order.status && summary.order_id == order.order_id &&
               summary.payment_method == order.payment_method &&
               summary.cash_received == order.cash_received);
  }
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = malpro::fuzz::AsText(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      malpro::CheckEnvelope(rest);
      break;
    case 1:
      malpro::CheckEventJson(rest);
      break;
    default:
      malpro::CheckFold(rest);
      break;
  }
  return 0;
}
