// QRIS merchant-presented payloads (adapters/bank/qris.h): the TLV reader, its CRC and the
// amount of tag 54, and the writer.
//
// Input: a payload; or, when it starts with "BUILD\n", lines of merchant_pan, merchant_id,
// nmid, criteria, category_code, name, city, postal_code, amount and reference for
// BuildQrisPayload. Properties:
//   - ParseQrisPayload agrees with a plain reference reader of the TLV rules in qris.h;
//   - an accepted payload written again (tags in order, a fresh CRC) reads to the same tags,
//     and with one character of the merchant name changed it is refused for its CRC;
//   - an amount read prints in the QRIS form and reads back to itself;
//   - whatever BuildQrisPayload writes, ParseQrisPayload reads, with the same amount, name,
//     city and reference.
#include <map>
#include <optional>
#include <vector>

#include "adapters/bank/qris.h"
#include "tests/fuzz/fuzz_check.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;
using Tags = std::map<std::string, std::string>;

bool IsDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// The rules of qris.h read plainly: objects of 2-digit id, 2-digit length and value, each id
// once, ending with tag 63 of 4 characters holding the CRC of everything before them; the
// mandatory tags; currency 360.
std::optional<Tags> ReferenceRead(std::string_view payload) {
  Tags tags;
  size_t at = 0;
  bool ended = false;
  while (at < payload.size()) {
    if (ended || payload.size() - at < 4 || !IsDigits(payload.substr(at, 4))) return std::nullopt;
    const std::string id(payload.substr(at, 2));
    const size_t length = (payload[at + 2] - '0') * 10 + (payload[at + 3] - '0');
    if (payload.size() - at - 4 < length || tags.contains(id)) return std::nullopt;
    tags[id] = std::string(payload.substr(at + 4, length));
    if (id == "63") {
      if (length != 4 || QrisCrc(payload.substr(0, at + 4)) != tags[id]) return std::nullopt;
      ended = true;
    }
    at += 4 + length;
  }
  if (!ended) return std::nullopt;
  bool account = false;
  for (int id = 26; id <= 51; ++id) account = account || tags.contains(std::to_string(id));
  for (const char* id : {"00", "01", "52", "53", "58", "59", "60"}) {
    if (!tags.contains(id)) return std::nullopt;
  }
  if (!account || tags["53"] != "360") return std::nullopt;
  return tags;
}

std::string Write(const Tags& tags) {
  std::string payload;
  for (const auto& [id, value] : tags) {
    if (id == "63") continue;
    char length[3] = {static_cast<char>('0' + value.size() / 10),
                      static_cast<char>('0' + value.size() % 10), 0};
    payload += id + length + value;
  }
  payload += "6304";
  return payload + QrisCrc(payload);
}

void CheckAmount(const Tags& tags) {
  Result<Money> amount = QrisAmount(tags);
  if (!amount.ok()) {
    CheckRefusal(amount.status());
    FUZZ_CHECK((amount.status().code() == StatusCode::kNotFound) == !tags.contains("54"));
    return;
  }
  Result<Money> again = ParseQrisAmount(FormatQris(*amount), "amount");
  FUZZ_CHECK(again.ok() && *again == *amount);
}

void CheckParse(std::string_view payload) {
  Result<Tags> tags = ParseQrisPayload(payload);
  std::optional<Tags> reference = ReferenceRead(payload);
  FUZZ_CHECK_DETAIL(tags.ok() == reference.has_value(), tags.status().ToString());
  if (!tags.ok()) {
    CheckRefusal(tags.status());
    return;
  }
  FUZZ_CHECK(*tags == *reference);
  CheckAmount(*tags);
  const std::string written = Write(*tags);
  Result<Tags> again = ParseQrisPayload(written);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString() + " for " + written);
  Tags expected = *tags;
  expected["63"] = written.substr(written.size() - 4);
  FUZZ_CHECK(*again == expected);
  // One character of the name changed: the same layout, another CRC.
  const std::string& name = (*tags).at("59");
  if (name.empty()) return;
  size_t name_at = 0;  // where tag 59 starts in `written`, whose tags are in order
  for (const auto& [id, value] : *tags) {
    if (id == "59") break;
    name_at += 4 + value.size();
  }
  FUZZ_CHECK(written.compare(name_at, 2, "59") == 0);
  std::string tampered = written;
  tampered[name_at + 4] ^= 0x01;
  Result<Tags> refused = ParseQrisPayload(tampered);
  FUZZ_CHECK_DETAIL(refused.status().error_code() == errc::kQrisCrcMismatch,
                    refused.status().ToString());
}

void CheckBuild(std::string_view text) {
  QrisMerchant merchant;
  merchant.merchant_pan = std::string(fuzz::TakeLine(&text));
  merchant.merchant_id = std::string(fuzz::TakeLine(&text));
  merchant.nmid = std::string(fuzz::TakeLine(&text));
  merchant.criteria = std::string(fuzz::TakeLine(&text));
  merchant.category_code = std::string(fuzz::TakeLine(&text));
  merchant.name = std::string(fuzz::TakeLine(&text));
  merchant.city = std::string(fuzz::TakeLine(&text));
  merchant.postal_code = std::string(fuzz::TakeLine(&text));
  Result<Money> amount = ParseQrisAmount(fuzz::TakeLine(&text), "amount");
  const std::string reference(fuzz::TakeLine(&text));
  if (!amount.ok()) return;
  Result<std::string> payload = BuildQrisPayload(merchant, *amount, reference);
  if (!payload.ok()) {
    CheckRefusal(payload.status());
    return;
  }
  Result<Tags> tags = ParseQrisPayload(*payload);
  FUZZ_CHECK_DETAIL(tags.ok(), tags.status().ToString() + " for " + *payload);
  Result<Money> read = QrisAmount(*tags);
  FUZZ_CHECK(read.ok() && *read == *amount);
  FUZZ_CHECK((*tags)["59"] == merchant.name && (*tags)["60"] == merchant.city);
  const std::string reference_object = "05" + std::string(1, '0' + reference.size() / 10) +
                                       std::string(1, '0' + reference.size() % 10) + reference;
  FUZZ_CHECK((*tags)["62"] == reference_object);
  CheckParse(*payload);
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = malpro::fuzz::AsText(data, size);
  if (text.starts_with("BUILD\n")) {
    text.remove_prefix(6);
    malpro::CheckBuild(text);
  } else {
    malpro::CheckParse(text);
  }
  return 0;
}
