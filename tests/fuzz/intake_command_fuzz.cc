// The Kafka intake's commands, decided through RunIntakeCommand against a real ledger
// (tests/fuzz/fuzz_ledger.h): no broker is needed, the record's headers and value are the
// input.
//
// Input: line 1 the header `command`, line 2 the header `idempotency-key`, the rest the
// record's value. Properties:
//   - a refusal carries a known code, and a value that is not a JSON object is refused for
//     its shape (body_invalid_json or body_number_out_of_range, body_not_object) whatever
//     command it is for;
//   - the result record (IntakeResultJson) is a JSON object saying what the result said;
//   - a decided command delivered again is acknowledged as replayed and appends nothing, and
//     its key reused for another value is idempotency_key_reused.
#include <simdjson.h>

#include "adapters/kafka/intake.h"
#include "adapters/kafka/kafka_limits.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_ledger.h"

namespace malpro {
namespace {

constexpr char kActor[] = "kafka:intake";

bool IsKnownCommand(std::string_view command) {
  for (std::string_view known :
       {"place_order", "accept_order", "deliver_order", "confirm_cash_received", "cancel_order",
        "register_asn", "list_product"}) {
    if (command == known) return true;
  }
  return false;
}

// The result record says what the result said.
void CheckResultRecord(const IntakeCommand& command, const Result<CommandResult>& result) {
  const std::string record = IntakeResultJson(command.command, result);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  FUZZ_CHECK_DETAIL(parser.parse(record).get(object) == simdjson::SUCCESS, record);
  if (result.ok()) {
    bool ok = false;
    std::string_view stream_id;
    FUZZ_CHECK(object["ok"].get(ok) == simdjson::SUCCESS && ok);
    FUZZ_CHECK(object["stream_id"].get(stream_id) == simdjson::SUCCESS &&
               stream_id == result->stream_id);
    return;
  }
  std::string_view code;
  int64_t status = 0;
  FUZZ_CHECK_DETAIL(object["error"]["code"].get(code) == simdjson::SUCCESS &&
                        code == result.status().error_code(),
                    record);
  FUZZ_CHECK_DETAIL(
      object["status"].get(status) == simdjson::SUCCESS && status >= 400 && status <= 599, record);
}

// A value that is not a JSON object never reaches the ledger.
void CheckShapeRefusal(const IntakeCommand& command, const Result<CommandResult>& result) {
  if (!IsKnownCommand(command.command) || command.idempotency_key.empty() ||
      command.body.size() > intake_command_bytes_max || command.body.empty()) {
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(command.body).get(root) != simdjson::SUCCESS) {
    // (request_body_fuzz checks when a number out of range is the reason.)
    const std::string code = result.status().error_code();
    FUZZ_CHECK_DETAIL(code == errc::kBodyInvalidJson || code == errc::kBodyNumberOutOfRange,
                      result.status().ToString());
  } else if (root.type() != simdjson::dom::element_type::OBJECT) {
    FUZZ_CHECK_DETAIL(result.status().error_code() == errc::kBodyNotObject,
                      result.status().ToString());
  }
}

void CheckRedelivery(fuzz::FuzzLedger& fixture, const IntakeCommand& command,
                     const Result<CommandResult>& first) {
  Ledger& ledger = fixture.ledger();
  const uint64_t head = fixture.head_sequence();
  Result<CommandResult> again = RunIntakeCommand(ledger, command, kActor);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString());
  FUZZ_CHECK(again->replayed);
  FUZZ_CHECK(fixture.head_sequence() == head);
  FUZZ_CHECK(again->stream_id == first->stream_id);
  FUZZ_CHECK(again->last_sequence == first->last_sequence);
  if (command.body.size() >= intake_command_bytes_max) return;
  IntakeCommand other = command;
  other.body += ' ';  // the same JSON, another record value
  Result<CommandResult> reused = RunIntakeCommand(ledger, other, kActor);
  FUZZ_CHECK_DETAIL(reused.status().error_code() == errc::kIdempotencyKeyReused,
                    reused.status().ToString());
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace malpro;
  std::string_view text = fuzz::AsText(data, size);
  IntakeCommand command;
  command.command = std::string(fuzz::TakeLine(&text));
  command.idempotency_key = std::string(fuzz::TakeLine(&text));
  command.body = std::string(text);
  fuzz::FuzzLedger& fixture = fuzz::FuzzLedger::ForInput();
  Result<CommandResult> result = RunIntakeCommand(fixture.ledger(), command, kActor);
  CheckResultRecord(command, result);
  if (!result.ok()) {
    fuzz::CheckRefusal(result.status());
    CheckShapeRefusal(command, result);
    return 0;
  }
  FUZZ_CHECK(IsKnownCommand(command.command));
  CheckRedelivery(fixture, command, result);
  return 0;
}
