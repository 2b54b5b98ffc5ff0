// JSON request bodies as the HTTP API and the Kafka intake read them (RequestBody,
// BindPlaceOrder), and the amounts inside them (engine/money.h).
//
// Input: a request body. Properties:
//   - a refusal carries a known code; a body that is not JSON is body_invalid_json, or
//     body_number_out_of_range when it holds a number in JSON's grammar that is beyond 64 bits;
//   - RequestBody refuses a repeated key exactly when a plain reference (a set of keys per
//     object, after unescaping) finds one, and names a key that is repeated;
//   - a bound PlaceOrder, written back as JSON, binds to the same order;
//   - every string that is an amount prints in each channel's form and parses back to itself,
//     and the stricter forms (SNAP, QRIS) accept nothing the JSON form refuses;
//   - DecodeBase64 of any string inverts Base64Encode.
#include <simdjson.h>

#include <set>

#include "adapters/bank/snap_signature.h"
#include "adapters/http/request_body.h"
#include "engine/json.h"
#include "engine/money.h"
#include "tests/fuzz/fuzz_check.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;

// The reference for FindDuplicateKey: every object's keys in a set. Collects each repeated key.
void RepeatedKeys(simdjson::dom::element element, std::set<std::string>* repeated) {
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (element.get(object) == simdjson::SUCCESS) {
    std::set<std::string_view> seen;
    for (auto [key, value] : object) {
      if (!seen.insert(key).second) repeated->insert(std::string(key));
      RepeatedKeys(value, repeated);
    }
  } else if (element.get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : array) RepeatedKeys(item, repeated);
  }
}

// Whether `text` is a number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// An oracle independent of engine/json.cc's scanner: that grammar as a deterministic automaton,
// one row per state and one column per class of character.
enum NumberClass { kMinus, kPlus, kZero, kOneToNine, kPoint, kExponent, kOther, kClassCount };

NumberClass ClassOf(char c) {
  if (c == '-') return kMinus;
  if (c == '+') return kPlus;
  if (c == '0') return kZero;
  if (c >= '1' && c <= '9') return kOneToNine;
  if (c == '.') return kPoint;
  if (c == 'e' || c == 'E') return kExponent;
  return kOther;
}

bool IsJsonNumber(std::string_view text) {
  constexpr int kReject = -1;
  // States: 0 start, 1 sign, 2 a lone zero, 3 integer digits, 4 point, 5 fraction digits,
  // 6 exponent mark, 7 exponent sign, 8 exponent digits.
  constexpr int kNext[9][kClassCount] = {
      // -       +        0        1-9      .        e/E      other
      {1, kReject, 2, 3, kReject, kReject, kReject},
      {kReject, kReject, 2, 3, kReject, kReject, kReject},
      {kReject, kReject, kReject, kReject, 4, 6, kReject},
      {kReject, kReject, 3, 3, 4, 6, kReject},
      {kReject, kReject, 5, 5, kReject, kReject, kReject},
      {kReject, kReject, 5, 5, kReject, 6, kReject},
      {7, 7, 8, 8, kReject, kReject, kReject},
      {kReject, kReject, 8, 8, kReject, kReject, kReject},
      {kReject, kReject, 8, 8, kReject, kReject, kReject},
  };
  constexpr bool kAccepting[9] = {false, false, true, true, false, true, false, false, true};
  int state = 0;
  for (const char c : text) {
    state = kNext[state][ClassOf(c)];
    if (state == kReject) return false;
  }
  return kAccepting[state];
}

// The reference for body_number_out_of_range: outside strings, a number in JSON's grammar
// that simdjson cannot read on its own (beyond 64-bit integers, or beyond a double).
bool HasUnreadableNumber(std::string_view text) {
  simdjson::dom::parser parser;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; i += text[i] == '\\' ? 2 : 1) {
      }
      ++i;
    } else if (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
      size_t end = i;
      while (end < text.size() &&
             std::string_view("+-.0123456789eE").find(text[end]) != std::string_view::npos) {
        ++end;
      }
      const std::string_view number = text.substr(i, end - i);
      simdjson::dom::element element;
      if (IsJsonNumber(number) &&
          parser.parse(number.data(), number.size()).get(element) != simdjson::SUCCESS) {
        return true;
      }
      i = end;
    } else {
      ++i;
    }
  }
  return false;
}

void CheckShape(std::string_view text) {
  RequestBody body(text);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string_view effective = text.empty() ? std::string_view("{}") : text;
  if (parser.parse(effective.data(), effective.size()).get(root) != simdjson::SUCCESS) {
    // Not JSON; a number out of range is named as such, and only a well-written number is.
    const std::string& code = body.status().error_code();
    FUZZ_CHECK_DETAIL(code == errc::kBodyInvalidJson || code == errc::kBodyNumberOutOfRange,
                      body.status().ToString());
    if (code == errc::kBodyNumberOutOfRange) {
      FUZZ_CHECK_DETAIL(HasUnreadableNumber(effective), body.status().ToString());
    }
    return;
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    FUZZ_CHECK_DETAIL(body.status().error_code() == errc::kBodyNotObject, body.status().ToString());
    return;
  }
  std::set<std::string> repeated;
  RepeatedKeys(root, &repeated);
  if (repeated.empty()) {
    FUZZ_CHECK_DETAIL(body.status().ok(), body.status().ToString());
  } else {
    FUZZ_CHECK_DETAIL(body.status().error_code() == errc::kBodyDuplicateKey,
                      body.status().ToString());
    FUZZ_CHECK_DETAIL(repeated.contains(body.status().field()), body.status().field());
  }
}

std::string WritePlaceOrder(const PlaceOrder& order) {
  JsonWriter writer;
  writer.BeginObject();
  if (!order.order_id.empty()) writer.Field("order_id", order.order_id);
  writer.Field("buyer_nip", order.buyer_nip).Field("umkm_id", order.umkm_id);
  writer.Key("lines").BeginArray();
  for (const PlaceOrder::Line& line : order.lines) {
    writer.BeginObject().Field("product_id", line.product_id).Field("quantity", line.quantity);
    writer.EndObject();
  }
  writer.EndArray().Field("payment_method", order.payment_method).EndObject();
  return writer.Take();
}

void CheckPlaceOrder(std::string_view text) {
  RequestBody body(text);
  Result<PlaceOrder> order = BindPlaceOrder(body);
  if (!order.ok()) {
    CheckRefusal(order.status());
    return;
  }
  const std::string again_text = WritePlaceOrder(*order);
  RequestBody again_body(again_text);
  Result<PlaceOrder> again = BindPlaceOrder(again_body);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString() + " for " + again_text);
  FUZZ_CHECK(again->order_id == order->order_id && again->buyer_nip == order->buyer_nip &&
             again->umkm_id == order->umkm_id && again->payment_method == order->payment_method);
  FUZZ_CHECK(again->lines.size() == order->lines.size());
  for (size_t i = 0; i < order->lines.size(); ++i) {
    FUZZ_CHECK(again->lines[i].product_id == order->lines[i].product_id);
    FUZZ_CHECK(again->lines[i].quantity == order->lines[i].quantity);
  }
}

void CheckAmount(std::string_view text) {
  Result<Money> amount = ParseAmount(text, "amount");
  Result<Money> snap = ParseSnapAmount(text, "amount");
  Result<Money> qris = ParseQrisAmount(text, "amount");
  Result<Money> mt940 = ParseMt940Amount(text, "amount");
  for (const Result<Money>* result : {&amount, &snap, &qris, &mt940}) {
    if (!result->ok()) {
      CheckRefusal(result->status());
      FUZZ_CHECK_DETAIL(result->status().field() == "amount", result->status().ToString());
    } else {
      FUZZ_CHECK(**result >= Money() && (*result)->sen() <= money_sen_max);
    }
  }
  // The stricter forms are spellings the JSON form also reads, as the same amount.
  if (snap.ok()) FUZZ_CHECK(amount.ok() && *amount == *snap);
  if (qris.ok()) FUZZ_CHECK(amount.ok() && *amount == *qris);
  for (const Result<Money>* result : {&amount, &mt940}) {
    if (!result->ok()) continue;
    const Money money = **result;
    FUZZ_CHECK_DETAIL(
        ParseAmount(FormatSnap(money), "a").ok() && *ParseAmount(FormatSnap(money), "a") == money,
        FormatSnap(money));
    FUZZ_CHECK(*ParseSnapAmount(FormatSnap(money), "a") == money);
    FUZZ_CHECK(*ParseQrisAmount(FormatQris(money), "a") == money);
    FUZZ_CHECK(*ParseMt940Amount(FormatMt940(money), "a") == money);
  }
}

void CheckBase64(std::string_view text) {
  Result<std::string> decoded = DecodeBase64(text, "value");
  if (!decoded.ok()) {
    CheckRefusal(decoded.status());
    return;
  }
  FUZZ_CHECK(decoded->size() == text.size() / 4 * 3 - (text.ends_with("==")  ? 2
                                                       : text.ends_with("=") ? 1
                                                                             : 0));
  Result<std::string> again = DecodeBase64(Base64Encode(*decoded), "value");
  FUZZ_CHECK(again.ok() && *again == *decoded);
}

// Every string in the body's top-level object, as amounts and as base64.
void CheckStrings(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(text.data(), text.size()).get(object) != simdjson::SUCCESS) return;
  for (auto [key, value] : object) {
    std::string_view string;
    if (value.get(string) != simdjson::SUCCESS) continue;
    CheckAmount(string);
    CheckBase64(string);
    // The typed accessor agrees with the parse (first copy of the key, as at_key answers).
    RequestBody body(text);
    if (!body.status().ok()) continue;
    Money money = body.Amount(key);
    if (body.status().ok())
      FUZZ_CHECK(ParseAmount(FormatSnap(money), "a").ok());
    else
      CheckRefusal(body.status());
  }
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = malpro::fuzz::AsText(data, size);
  malpro::CheckShape(text);
  malpro::CheckPlaceOrder(text);
  malpro::CheckStrings(text);
  // The raw input as one amount and one base64 value, for inputs that are no JSON at all.
  if (size <= 64) {
    malpro::CheckAmount(text);
    malpro::CheckBase64(text);
  }
  return 0;
}
