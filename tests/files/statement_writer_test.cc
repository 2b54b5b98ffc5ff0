// Statements written (statement_writer.h) read back by the statement readers (statement.h):
// what each format carries comes back, in the three formats.
#include "adapters/files/statement_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "adapters/files/files_limits.h"
#include "engine/civil_time.h"
#include "tests/files/files_fixture.h"

namespace malpro {
namespace {

constexpr CivilDate kDate{2026, 11, 22};
constexpr int64_t kSecond = 1'000'000;
const int64_t kCreatedAt = JakartaTime({2026, 11, 23}, 1, 0);

StatementEntry Entry(bool credit, int64_t sen, int64_t booked_at_us,
                     std::vector<std::string> references, std::string description) {
  StatementEntry entry;
  entry.credit = credit;
  entry.amount = Money::FromSen(sen);
  entry.booking_date = JakartaDate(booked_at_us);
  entry.booked_at_us = booked_at_us;
  entry.references = std::move(references);
  entry.description = std::move(description);
  return entry;
}

// A day of the collection account as the bank simulator writes it: a QRIS payment, a virtual
// account payment (its number longer than MT940's 16x), a settlement transfer, and a payment
// whose id is longer than any statement reference holds.
Statement ADay() {
  Statement statement;
  statement.id = "BJTM-20261122";
  statement.account = "0011000000";
  statement.from = statement.to = kDate;
  statement.entries = {
      Entry(true, 6'800'000, JakartaTime(kDate, 10, 17) + 3 * kSecond + 250,
            {"order-1", "BJQR000000000001"}, "QRIS order-1 BJQR000000000001"),
      Entry(true, 13'600'000, JakartaTime(kDate, 11, 5), {"order-2", "12345000000001234"},
            "VA order-2 12345000000001234"),
      Entry(false, 6'779'600, JakartaTime(kDate, 8, 0), {"STL-20261121-001"},
            "Malpro 2026-11-21 warung-bu-sri, \"net\" & more"),
      Entry(true, 500'000, JakartaTime(kDate, 23, 59), {std::string(40, 'x'), "BJQR000000000002"},
            "QRIS long id BJQR000000000002"),
  };
  for (size_t i = 0; i < statement.entries.size(); ++i) statement.entries[i].position = i + 1;
  return statement;
}

Result<Statement> ReadBack(const std::string& text) {
  return ParseStatement(text, DetectStatementFormat(text));
}

void ExpectSameEntries(const Statement& written, const Statement& read) {
  ASSERT_EQ(read.entries.size(), written.entries.size()) << read.format;
  for (size_t i = 0; i < written.entries.size(); ++i) {
    const StatementEntry& want = written.entries[i];
    const StatementEntry& got = read.entries[i];
    EXPECT_EQ(got.credit, want.credit) << read.format << " entry " << i;
    EXPECT_EQ(got.amount, want.amount) << read.format << " entry " << i;
    EXPECT_EQ(got.booking_date, want.booking_date) << read.format << " entry " << i;
    // To the second where the format has a time; MT940 has the day only.
    const int64_t booked = read.format == "mt940" ? JakartaDayStartMicros(want.booking_date)
                                                  : want.booked_at_us / kSecond * kSecond;
    EXPECT_EQ(got.booked_at_us, booked) << read.format << " entry " << i;
  }
}

TEST(StatementWriterTest, Camt053CarriesEveryFieldItsReaderTakes) {
  const Statement written = ADay();
  const std::string xml = WriteCamt053(written, kCreatedAt);
  EXPECT_NE(xml.find(camt053_written_namespace), std::string::npos);
  Result<Statement> read = ReadBack(xml);
  ASSERT_TRUE(read.ok()) << read.status().ToString() << "\n" << xml;
  EXPECT_EQ(read->format, "camt053");
  EXPECT_EQ(read->id, written.id);
  EXPECT_EQ(read->account, written.account);
  EXPECT_EQ(read->from, kDate);
  EXPECT_EQ(read->to, kDate);
  ExpectSameEntries(written, *read);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(read->entries[i].references, written.entries[i].references) << xml;
    EXPECT_EQ(read->entries[i].description, written.entries[i].description) << xml;
  }
  // A reference longer than Max35Text is left out rather than cut into another one.
  EXPECT_EQ(read->entries[3].references, std::vector<std::string>{"BJQR000000000002"});
}

TEST(StatementWriterTest, Mt940CarriesWhatDoesNotFitItsReferencesInTheInformation) {
  const Statement written = ADay();
  const std::string text = WriteMt940(written);
  EXPECT_NE(text.find(":61:2611221122C68000,00NTRForder-1//BJQR000000000001\r\n"),
            std::string::npos)
      << text;
  // 17 characters do not fit the bank's reference (16x): :86: carries the number.
  EXPECT_NE(text.find(":61:2611221122C136000,00NTRForder-2\r\n"), std::string::npos) << text;
  Result<Statement> read = ReadBack(text);
  ASSERT_TRUE(read.ok()) << read.status().ToString() << "\n" << text;
  EXPECT_EQ(read->format, "mt940");
  EXPECT_EQ(read->id, written.id);
  EXPECT_EQ(read->account, written.account);
  EXPECT_EQ(read->from, kDate);
  EXPECT_EQ(read->to, kDate);
  ExpectSameEntries(written, *read);
  EXPECT_EQ(read->entries[0].references, written.entries[0].references);
  EXPECT_EQ(read->entries[1].references, written.entries[1].references);
  EXPECT_EQ(read->entries[2].references.front(), "STL-20261121-001");
  EXPECT_EQ(read->entries[0].description, written.entries[0].description);
  // The long id is no :61: reference (NONREF); the bank's reference still is, and the id is
  // kept whole (35 characters) from :86:.
  EXPECT_EQ(read->entries[3].references.front(), "BJQR000000000002");
  EXPECT_NE(std::find(read->entries[3].references.begin(), read->entries[3].references.end(),
                      std::string(statement_reference_chars_max, 'x')),
            read->entries[3].references.end());
}

TEST(StatementWriterTest, CsvCarriesTheFirstReferenceAndTheDescription) {
  const Statement written = ADay();
  const std::string csv = WriteStatementCsv(written);
  Result<Statement> read = ReadBack(csv);
  ASSERT_TRUE(read.ok()) << read.status().ToString() << "\n" << csv;
  EXPECT_EQ(read->format, "csv");
  EXPECT_EQ(read->id, written.id);
  EXPECT_EQ(read->account, written.account);
  EXPECT_EQ(read->from, kDate);
  EXPECT_EQ(read->to, kDate);
  ExpectSameEntries(written, *read);
  for (size_t i = 0; i < written.entries.size(); ++i) {
    EXPECT_EQ(read->entries[i].references.front(),
              written.entries[i].references.front().substr(0, statement_reference_chars_max));
    EXPECT_EQ(read->entries[i].description, written.entries[i].description);
  }
}

// A seeded run of random statements: amounts, directions, days and references of the sizes the
// formats hold come back from every writer.
TEST(StatementWriterTest, RandomStatementsReadBackInEveryFormat) {
  std::mt19937_64 random(20261122);
  auto pick = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(random);
  };
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  auto reference = [&](size_t length) {
    std::string text(1, 'r');
    while (text.size() < length) text += alphabet[pick(0, alphabet.size() - 1)];
    return text;
  };
  for (int round = 0; round < 200; ++round) {
    Statement written;
    written.id = "STMT-" + std::to_string(round);
    written.account = "0011000000";
    written.from = {2026, 11, static_cast<int>(pick(1, 10))};
    written.to = {2026, 11, static_cast<int>(pick(11, 30))};
    const int entries = static_cast<int>(pick(1, 12));
    for (int i = 0; i < entries; ++i) {
      const CivilDate day{2026, 11, static_cast<int>(pick(written.from.day, written.to.day))};
      written.entries.push_back(Entry(pick(0, 1) == 1, pick(1, 9'999'999'999),
                                      JakartaTime(day, 0, 0) + pick(0, 86'399) * kSecond,
                                      {reference(pick(6, 16)), reference(pick(6, 16))}, ""));
      written.entries.back().position = written.entries.size();
    }
    for (const char* format : {"camt053", "mt940", "csv"}) {
      Result<std::string> text = WriteStatement(written, format, kCreatedAt);
      ASSERT_TRUE(text.ok());
      Result<Statement> read = ParseStatement(*text, format);
      ASSERT_TRUE(read.ok()) << read.status().ToString() << "\n" << *text;
      ExpectSameEntries(written, *read);
      for (size_t i = 0; i < written.entries.size(); ++i) {
        const std::vector<std::string>& want = written.entries[i].references;
        const std::vector<std::string> expected =
            std::string(format) == "csv" ? std::vector<std::string>{want.front()} : want;
        ASSERT_EQ(read->entries[i].references, expected) << format << "\n" << *text;
      }
    }
  }
  EXPECT_EQ(WriteStatement(ADay(), "json", kCreatedAt).status().error_code(), errc::kFormatInvalid);
}

// A JSON document is no statement: refused whatever format is asked for, naming the formats
// read, with the simulator's own JSON told how to ask it for a statement file.
TEST(StatementReaderTest, AJsonDocumentIsRefusedNamingTheFormatsRead) {
  const std::string simulator_json =
      "\n  {\"date\":\"2026-11-22\",\"simulated\":true,\"entries\":[]}";
  for (const char* format : {"csv", "camt053", "mt940"}) {
    Result<Statement> refused = ParseStatement(simulator_json, format);
    ASSERT_FALSE(refused.ok()) << format;
    EXPECT_EQ(refused.status().error_code(), errc::kStatementFormatUnsupported);
    EXPECT_EQ(refused.status().field(), "statement");
    EXPECT_NE(refused.status().message().find("camt.053 (XML), MT940 or CSV"), std::string::npos)
        << refused.status().message();
    EXPECT_NE(refused.status().message().find("format=mt940"), std::string::npos)
        << refused.status().message();
  }
  // A SWIFT block opens with "{" too, and is MT940.
  const std::string swift = "{1:F01PDJTIDJ1AXXX0000000000}{4:\r\n" + WriteMt940(ADay()) + "}";
  EXPECT_TRUE(ParseStatement(swift, DetectStatementFormat(swift)).ok());
  EXPECT_EQ(ParseStatement("{ }", "csv").status().error_code(), errc::kStatementFormatUnsupported);
  Result<Statement> array = ParseStatement("[{\"amount\":\"1.00\"}]", "csv");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().error_code(), errc::kStatementFormatUnsupported);
  EXPECT_EQ(array.status().message().find("simulator"), std::string::npos)
      << "only the simulator's JSON gets its hint: " << array.status().message();
}

}  // namespace
}  // namespace malpro
