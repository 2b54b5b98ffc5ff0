// `malpro audit export` writes what the log holds and checks the hash chain from event 1 as
// it goes: a real log in a temp dir, tampered with through RocksDB directly.
#include "adapters/cli/audit_export.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/log_fixture.h"

namespace malpro {
namespace {

using testing::MakeEvent;
using testing::MakeRequest;
using testing::RawDatabase;
using testing::TempDir;

constexpr int kEvents = 6;

class AuditExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 1; i <= kEvents; ++i) {
      Result<AppendResult> appended =
          (*log)->Append(MakeRequest({MakeEvent("thing-" + std::to_string(i % 2), "thing.happened",
                                                R"({"n":)" + std::to_string(100 + i) + "}")}));
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    }
    head_ = (*log)->Head();
  }

  // Changes the payload of the stored event `sequence` ("n":10S becomes "n":90S), leaving its
  // hashes as they were.
  void AlterPayload(uint64_t sequence) {
    RawDatabase raw(dir_.Sub("log"));
    std::string value = raw.GetEvent(sequence);
    const std::string was = R"("n":10)" + std::to_string(sequence);
    const size_t at = value.find(was);
    ASSERT_NE(at, std::string::npos);
    value.replace(at, was.size(), R"("n":90)" + std::to_string(sequence));
    raw.PutEvent(sequence, value);
  }

  // Exports `from`..`to` from the log opened read-only, as `malpro audit export` does.
  ExportReport Export(uint64_t from, uint64_t to) {
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    options.read_only = true;
    options.check_on_open = false;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return {};
    std::ostringstream out;
    Result<ExportReport> report = ExportEvents(**log, from, to, out);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    lines_.clear();
    std::istringstream written(out.str());
    for (std::string line; std::getline(written, line);) lines_.push_back(line);
    return report.ok() ? *report : ExportReport{};
  }

  TempDir dir_;
  ChainHead head_;
  std::vector<std::string> lines_;
};

TEST_F(AuditExportTest, TheWholeLogIsWrittenAndVerifiesToItsHead) {
  const ExportReport report = Export(1, 0);
  EXPECT_EQ(report.written, uint64_t{kEvents});
  ASSERT_EQ(lines_.size(), size_t{kEvents});
  EXPECT_NE(lines_[0].find(R"("sequence":1,)"), std::string::npos) << lines_[0];
  EXPECT_TRUE(report.chain.ok) << report.chain.problem;
  EXPECT_EQ(report.chain.events_checked, uint64_t{kEvents});
  EXPECT_EQ(report.chain.verified_head.sequence, head_.sequence);
  EXPECT_EQ(report.chain.verified_head.hash, head_.hash);
}

TEST_F(AuditExportTest, APartOfTheLogVerifiesFromEventOne) {
  const ExportReport report = Export(3, 4);
  EXPECT_EQ(report.first_sequence, 3u);
  EXPECT_EQ(report.last_sequence, 4u);
  EXPECT_EQ(report.written, 2u);
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_NE(lines_[0].find(R"("sequence":3,)"), std::string::npos) << lines_[0];
  EXPECT_TRUE(report.chain.ok) << report.chain.problem;
  EXPECT_EQ(report.chain.events_checked, 4u);  // 1-2 before the range, 3-4 written
  EXPECT_EQ(report.chain.verified_head.sequence, 4u);
}

TEST_F(AuditExportTest, ARangeBeyondTheHeadEndsAtTheHead) {
  const ExportReport report = Export(5, 1000);
  EXPECT_EQ(report.last_sequence, head_.sequence);
  EXPECT_EQ(report.written, 2u);
  EXPECT_TRUE(report.chain.ok) << report.chain.problem;
  EXPECT_EQ(report.chain.verified_head.hash, head_.hash);
}

TEST_F(AuditExportTest, AnAlteredEventFailsWhereItIsAndEveryEventIsStillWritten) {
  AlterPayload(3);
  const ExportReport report = Export(1, 0);
  EXPECT_FALSE(report.chain.ok);
  EXPECT_EQ(report.chain.first_bad_sequence, 3u) << report.chain.problem;
  EXPECT_NE(report.chain.problem.find("content does not match its hash"), std::string::npos)
      << report.chain.problem;
  EXPECT_EQ(report.chain.verified_head.sequence, 2u);
  EXPECT_EQ(report.written, uint64_t{kEvents});
  EXPECT_EQ(lines_.size(), size_t{kEvents});
}

TEST_F(AuditExportTest, AnAlteredEventBeforeTheRangeFailsTheExport) {
  AlterPayload(2);
  const ExportReport report = Export(4, 0);
  EXPECT_FALSE(report.chain.ok);
  EXPECT_EQ(report.chain.first_bad_sequence, 2u) << report.chain.problem;
  EXPECT_EQ(report.written, 3u);
}

TEST_F(AuditExportTest, AForgedEventWithItsHashRecomputedBreaksTheLinkAfterIt) {
  {
    RawDatabase raw(dir_.Sub("log"));
    Event forged = *DecodeEnvelope(raw.GetEvent(3));
    forged.actor = "test:forger";
    forged.hash = ComputeEventHash(forged.previous_hash, EncodeCanonical(forged));
    raw.PutEvent(3, EncodeEnvelope(forged));
  }
  const ExportReport report = Export(1, 0);
  EXPECT_FALSE(report.chain.ok);
  EXPECT_EQ(report.chain.first_bad_sequence, 4u) << report.chain.problem;
  EXPECT_NE(report.chain.problem.find("previous hash"), std::string::npos) << report.chain.problem;
}

TEST_F(AuditExportTest, AMissingEventIsReportedWhereTheGapIs) {
  {
    RawDatabase raw(dir_.Sub("log"));
    raw.DeleteEvent(4);
  }
  const ExportReport report = Export(1, 0);
  EXPECT_FALSE(report.chain.ok);
  EXPECT_EQ(report.chain.first_bad_sequence, 4u) << report.chain.problem;
  EXPECT_NE(report.chain.problem.find("event 4 is missing"), std::string::npos)
      << report.chain.problem;
  EXPECT_EQ(report.written, uint64_t{kEvents - 1});
}

}  // namespace
}  // namespace malpro
