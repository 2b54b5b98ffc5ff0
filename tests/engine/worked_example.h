// The worked example of docs/event-log-format.md (section 3), read from the document itself so
// that the tests compare the code with what the document prints: the two cannot drift apart.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/envelope.h"

namespace malpro::testing {

// Where the sources are, from the build (tests/engine/CMakeLists.txt); empty in a test binary
// built without it (the thread sanitizer's event_log_tests), whose tests of the document skip.
#ifdef MALPRO_SOURCE_DIR
inline constexpr std::string_view source_dir = MALPRO_SOURCE_DIR;
#else
inline constexpr std::string_view source_dir;
#endif

// The event the example describes in prose (a test states it; the document's bytes check it).
inline Event WorkedExampleEvent() {
  Event event;
  event.sequence = 1;
  event.stream_id = "asn-198507122010011003";
  event.stream_version = 1;
  event.type = "asn.registered";
  event.recorded_at_us = 1763769600000000;  // 2025-11-22T00:00:00Z
  event.actor = "admin:setup";
  event.payload = R"({"nip":"198507122010011003"})";
  return event;
}

// What the document prints for the example, in lowercase hex.
struct WorkedExample {
  struct Field {
    size_t offset = 0;
    std::string hex;  // the row's bytes, its backticked parts joined
    std::string name;
  };
  std::vector<Field> fields;          // the table of offsets and bytes
  std::string canonical_hex;          // the block of canonical bytes
  size_t canonical_bytes = 0;         // as its heading says
  std::string hash_hex;               // hash_1
  size_t stored_bytes = 0;            // the stored value's size, as the text says
  std::string stored_key_hex;         // its key in `events`
  std::string chain_head_prefix_hex;  // the chain_head value before hash_1
  std::string index_key_hex;          // the stream index entry's key, its parts joined
  std::string index_value_hex;
};

// The bytes that lowercase or uppercase `hex` spells (an even number of hex digits).
inline std::string HexToBytes(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(HexDigitValue(hex[i]) * 16 + HexDigitValue(hex[i + 1])));
  }
  return bytes;
}

inline std::string ReadDocument(const std::string& relative_path) {
  std::ifstream file(std::filesystem::path(source_dir) / relative_path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The example line of the JSON form (docs/event-log-format.md, section 9), the worked example's
// event as `malpro audit export` writes it.
inline std::string ReadJsonFormExample() {
  const std::string doc = ReadDocument("docs/event-log-format.md");
  const size_t section = doc.find("## 9. JSON form");
  const size_t begin = doc.find("```json\n", section);
  const size_t end = doc.find("\n```", begin + 8);
  EXPECT_NE(section, std::string::npos) << "the document has no section on the JSON form";
  EXPECT_NE(begin, std::string::npos);
  if (section == std::string::npos || begin == std::string::npos || end == std::string::npos) {
    return {};
  }
  return doc.substr(begin + 8, end - begin - 8);
}

inline std::string JoinBacktickedHex(const std::string& text) {
  static const std::regex part("`([0-9a-f]+)`");
  std::string joined;
  for (std::sregex_iterator it(text.begin(), text.end(), part), end; it != end; ++it) {
    joined += (*it)[1].str();
  }
  return joined;
}

// Parses the example out of docs/event-log-format.md; a part it cannot find fails the test.
inline WorkedExample ReadWorkedExample() {
  const std::string doc = ReadDocument("docs/event-log-format.md");
  const size_t begin = doc.find("**Worked example.**");
  const size_t end = doc.find("\n## 4.", begin);
  EXPECT_NE(begin, std::string::npos) << "the document has no worked example";
  EXPECT_NE(end, std::string::npos);
  const std::string text = doc.substr(begin, end - begin);
  WorkedExample example;
  std::istringstream lines(text);
  static const std::regex row(R"(^\| (\d+) \| (`[0-9a-f`+ ]+) \| (.+) \|$)");
  // The block of canonical bytes: the fenced lines after the line that announces it.
  enum class Block { kBefore, kAnnounced, kInside, kAfter } block = Block::kBefore;
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, match, row)) {
      example.fields.push_back(
          {std::stoul(match[1].str()), JoinBacktickedHex(match[2].str()), match[3].str()});
    }
    if (block == Block::kBefore &&
        std::regex_search(line, match, std::regex(R"(^Canonical bytes \((\d+) bytes)"))) {
      example.canonical_bytes = std::stoul(match[1].str());
      block = Block::kAnnounced;
    } else if (line.starts_with("```") && block == Block::kAnnounced) {
      block = Block::kInside;
    } else if (line.starts_with("```") && block == Block::kInside) {
      block = Block::kAfter;
    } else if (block == Block::kInside) {
      example.canonical_hex += line;
    }
    if (std::regex_search(line, match, std::regex(R"(^\s+= ([0-9a-f]{64})$)"))) {
      example.hash_hex = match[1].str();
    }
  }
  std::string prose = std::regex_replace(text, std::regex("\n"), " ");
  std::smatch match;
  if (std::regex_search(prose, match,
                        std::regex(R"(then `hash_1` \((\d+) bytes\), under key `([0-9a-f]+)`)"))) {
    example.stored_bytes = std::stoul(match[1].str());
    example.stored_key_hex = match[2].str();
  }
  if (std::regex_search(
          prose, match,
          std::regex(R"(`chain_head` value is `([0-9a-f]+)` followed by `hash_1`)"))) {
    example.chain_head_prefix_hex = match[1].str();
  }
  if (std::regex_search(
          prose, match,
          std::regex(R"(entry has key ((?:`[0-9a-f]+` ?)+) and value `([0-9a-f]+)`)"))) {
    example.index_key_hex = JoinBacktickedHex(match[1].str());
    example.index_value_hex = match[2].str();
  }
  return example;
}

}  // namespace malpro::testing
