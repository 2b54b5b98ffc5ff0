// The error codes are one contract in three places: the constants (engine/error_codes.h), the
// HTTP table (adapters/http/error_status.cc) and docs/error-codes.md. These tests hold them
// together, and keep codes out of string literals in the sources.
#include "engine/error_codes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/http/error_status.h"

namespace malpro {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> SplitCells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < row.size(); ++i) {  // row starts with '|'
    if (row[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return cells;
}

// What docs/error-codes.md says of each code: an HTTP status ("409"), or where it is answered
// when not over HTTP ("exit 2", "Kafka"). Only the first column of its `| code | status |`
// tables names codes; a cell of statuses holds one for all its codes or one per code.
struct DocEntry {
  std::string status;
  int line = 0;
};

std::map<std::string, DocEntry> DocumentedCodes(std::vector<std::string>* problems) {
  std::istringstream doc(
      ReadFile(std::filesystem::path(MALPRO_SOURCE_DIR) / "docs/error-codes.md"));
  std::map<std::string, DocEntry> codes;
  const std::regex code_pattern("`([a-z0-9_]+)`");
  bool in_table = false;
  int number = 0;
  for (std::string line; std::getline(doc, line);) {
    ++number;
    if (line.starts_with("| code | status |")) {
      in_table = true;
      continue;
    }
    if (!line.starts_with("|")) in_table = false;
    if (!in_table || line.starts_with("|---")) continue;
    const std::vector<std::string> cells = SplitCells(line);
    if (cells.size() < 3) {
      problems->push_back("line " + std::to_string(number) + ": a row needs code, status, meaning");
      continue;
    }
    std::vector<std::string> names;
    for (std::sregex_iterator it(cells[0].begin(), cells[0].end(), code_pattern), end; it != end;
         ++it) {
      names.push_back((*it)[1]);
    }
    std::vector<std::string> statuses;
    std::stringstream status_cell(cells[1]);
    for (std::string status; std::getline(status_cell, status, ',');) {
      status = std::regex_replace(status, std::regex("^ +| +$"), "");
      statuses.push_back(status);
    }
    if (names.empty() || (statuses.size() != 1 && statuses.size() != names.size())) {
      problems->push_back("line " + std::to_string(number) +
                          ": give one status, or one per code: " + line);
      continue;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& status = statuses.size() == 1 ? statuses[0] : statuses[i];
      if (!codes.emplace(names[i], DocEntry{status, number}).second) {
        problems->push_back("line " + std::to_string(number) + ": " + names[i] +
                            " is listed twice");
      }
    }
  }
  return codes;
}

TEST(ErrorCodes, TheDocsListEveryCodeAndOnlyThose) {
  std::vector<std::string> problems;
  const std::map<std::string, DocEntry> documented = DocumentedCodes(&problems);
  for (const std::string& problem : problems) ADD_FAILURE() << "docs/error-codes.md " << problem;
  std::set<std::string> known;
  for (std::string_view code : all_error_codes) {
    known.emplace(code);
    EXPECT_TRUE(documented.contains(std::string(code)))
        << code << " is in engine/error_codes.h but not in a table of docs/error-codes.md";
  }
  for (const auto& [code, entry] : documented) {
    EXPECT_TRUE(known.contains(code)) << "docs/error-codes.md line " << entry.line << ": " << code
                                      << " is no code of engine/error_codes.h";
  }
  EXPECT_GT(documented.size(), 250u);
}

TEST(ErrorCodes, TheDocsGiveTheStatusTheServerAnswersWith) {
  std::vector<std::string> problems;
  for (const auto& [code, entry] : DocumentedCodes(&problems)) {
    const int served = HttpStatusOfCode(code);
    const bool numeric = std::regex_match(entry.status, std::regex("[1-5][0-9][0-9]"));
    if (numeric) {
      EXPECT_EQ(served, std::stoi(entry.status))
          << "docs/error-codes.md line " << entry.line << ": " << code << " is answered with "
          << served << " (adapters/http/error_status.cc), the docs say " << entry.status;
    } else {
      EXPECT_TRUE(entry.status == "exit 2" || entry.status == "Kafka")
          << "docs/error-codes.md line " << entry.line << ": status of " << code
          << " must be an HTTP status, `exit 2` or `Kafka`, not '" << entry.status << "'";
      EXPECT_EQ(served, 0) << code << " is documented as not sent over HTTP (" << entry.status
                           << ") but the HTTP table has it";
    }
  }
}

TEST(ErrorCodes, TheHttpTableKnowsOnlyCodesOfTheRegistry) {
  std::set<std::string_view> known(std::begin(all_error_codes), std::end(all_error_codes));
  EXPECT_EQ(known.size(), std::size(all_error_codes)) << "a code is listed twice";
  const std::string table =
      ReadFile(std::filesystem::path(MALPRO_SOURCE_DIR) / "adapters/http/error_status.cc");
  EXPECT_EQ(table.find("{\""), std::string::npos) << "the HTTP table names codes by constant";
}

TEST(ErrorCodes, ARefusalIsAnsweredWithItsCodesStatus) {
  EXPECT_EQ(ErrorStatus(Status::Conflict(errc::kOrderPaid, "order_id", "paid")), 409);
  EXPECT_EQ(ErrorStatus(Status::InvalidArgument(errc::kBodyFieldMissing, "nip", "x")), 400);
  EXPECT_EQ(ErrorStatus(Status::LimitExceeded(errc::kBodyTooLarge, "body", "x")), 413);
  EXPECT_EQ(ErrorStatus(Status::Unavailable(errc::kOverloaded, "x")), 429);
  EXPECT_EQ(ErrorStatus(Status::IOError("disk")), 500);
  EXPECT_EQ(ErrorStatus(Status::Ok()), 200);
}

// Status factories and error-code comparisons take constants of engine/error_codes.h, so that
// the registry above is every code there is.
TEST(ErrorCodes, NoSourceNamesACodeByLiteral) {
  const std::regex literal_code(
      "Status::(InvalidArgument|NotFound|Conflict|LimitExceeded|Unavailable)\\(\\s*\"|"
      "error_code\\(\\)\\s*[!=]=\\s*\"");
  int files = 0;
  for (const char* folder : {"engine", "adapters", "projections"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(
             std::filesystem::path(MALPRO_SOURCE_DIR) / folder)) {
      const std::string extension = entry.path().extension().string();
      if (extension != ".cc" && extension != ".h") continue;
      ++files;
      const std::string text = ReadFile(entry.path());
      std::smatch found;
      if (std::regex_search(text, found, literal_code)) {
        const size_t line = std::count(text.begin(), text.begin() + found.position(0), '\n') + 1;
        ADD_FAILURE() << entry.path().string() << ":" << line
                      << ": name the code with a constant of engine/error_codes.h";
      }
    }
  }
  EXPECT_GT(files, 50);
}

}  // namespace
}  // namespace malpro
