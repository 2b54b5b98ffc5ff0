// Read models built live, resumed, rebuilt and crashed all store the same bytes, on a
// seeded, randomized history of more than 100,000 events written through the ledger (about a
// quarter of that under the sanitizers, tests/support/sanitizers.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "adapters/cli/demo.h"
#include "projections/projector.h"
#include "tests/projections/projection_digests.h"
#include "tests/support/demo_history.h"
#include "tests/support/sanitizers.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

constexpr uint64_t kEventsMin = testing::kSanitized ? 25'000 : 100'000;

// One history for every test here: two months of the demo market, with a projector following
// it live while it is written.
class DeterminismTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    DemoOptions demo;
    demo.seed = 7;
    demo.asn_count = testing::kSanitized ? 1200 : 4500;
    demo.umkm_count = 120;
    demo.month = "2026-03";
    demo.months = 3;
    uint64_t next_id = 0;
    testing::TestLedger history =
        testing::OpenDemoLedger(dir_->Sub("log"), demo, &now_, [&next_id] {
          char id[32];
          std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(++next_id));
          return std::string(id);
        });

    ProjectorOptions live_options;
    live_options.dir = dir_->Sub("live");
    std::unique_ptr<Projector> live =
        std::move(Projector::Open(history.log.get(), live_options)).value();
    live->Start();
    Result<DemoSummary> seeded = SeedDemo(*history.ledger, demo, &now_);
    ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
    head_ = history.log->Head().sequence;
    ASSERT_TRUE(live->WaitForApplied(head_, std::chrono::seconds(120)));
    live->Stop();
    live_digests_ = new std::vector<ProjectionDigest>(DigestsOf(*live));
    compliant_ = live->MonthCompliance("2026-04").compliant;
  }
  static void TearDownTestSuite() {
    delete live_digests_;
    delete dir_;
  }

  std::unique_ptr<EventLog> OpenLog() {
    LogOptions options;
    options.data_dir = dir_->Sub("log");
    options.read_only = true;
    return std::move(EventLog::Open(options)).value();
  }

  static testing::TempDir* dir_;
  static std::atomic<int64_t> now_;
  static uint64_t head_;
  static std::vector<ProjectionDigest>* live_digests_;
  static int64_t compliant_;
};

testing::TempDir* DeterminismTest::dir_ = nullptr;
std::atomic<int64_t> DeterminismTest::now_{0};
uint64_t DeterminismTest::head_ = 0;
std::vector<ProjectionDigest>* DeterminismTest::live_digests_ = nullptr;
int64_t DeterminismTest::compliant_ = 0;

TEST_F(DeterminismTest, AFullRebuildStoresWhatTheLiveProjectorStored) {
  ASSERT_GE(head_, kEventsMin);
  std::unique_ptr<EventLog> log = OpenLog();
  ProjectorOptions options;
  options.dir = dir_->Sub("rebuild");
  options.bulk_commit_events = kEventsMin;  // the rebuild commits as table files, as a real one
  std::unique_ptr<Projector> rebuilt = std::move(Projector::Open(log.get(), options)).value();
  ASSERT_TRUE(rebuilt->CatchUp().ok());
  EXPECT_TRUE(rebuilt->Report().rebuilt_on_open);
  ExpectSameDigests(DigestsOf(*rebuilt), *live_digests_);
  EXPECT_EQ((*live_digests_)[0].sequence, head_);
  // The history is not trivial: some ASN met the minimum in April and some did not.
  const AsnSpendProjection::Compliance april = rebuilt->MonthCompliance("2026-04");
  EXPECT_EQ(april.compliant, compliant_);
  EXPECT_GT(april.compliant, 0);
  EXPECT_LT(april.compliant, april.asn);
}

// Some parts commit as table files (bulk) and some through the write-ahead log.
TEST_F(DeterminismTest, StoppingAnywhereAndResumingStoresTheSame) {
  std::unique_ptr<EventLog> log = OpenLog();
  std::mt19937_64 random(11);
  ProjectorOptions options;
  options.dir = dir_->Sub("resumed");
  options.catch_up_commit_events = 9000;
  for (uint64_t stop : {head_ / 7, head_ / 3, head_ / 2 + 17, head_ - 1}) {
    options.until_sequence = stop + random() % 100;
    options.bulk_commit_events = random() % 2 == 0 ? 1 : UINT64_MAX;
    std::unique_ptr<Projector> part = std::move(Projector::Open(log.get(), options)).value();
    ASSERT_TRUE(part->CatchUp().ok());
    EXPECT_EQ(part->Applied(), std::min(options.until_sequence, head_));
  }
  options.until_sequence = 0;
  std::unique_ptr<Projector> resumed = std::move(Projector::Open(log.get(), options)).value();
  ASSERT_TRUE(resumed->CatchUp().ok());
  EXPECT_FALSE(resumed->Report().rebuilt_on_open);
  ExpectSameDigests(DigestsOf(*resumed), *live_digests_);
}

// Commits go alternately through the write-ahead log and as ingested table files, so kills
// land in both kinds.
TEST_F(DeterminismTest, KillingTheProjectorNeitherRepeatsNorSkipsAnEvent) {
  const std::string models = dir_->Sub("crashed");
  std::mt19937_64 random(2026);
  int killed = 0;
  for (int round = 0; round < 10; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const char* bulk = round % 2 == 0 ? "bulk" : nullptr;  // nullptr ends the list early
      execl(MALPRO_PROJECTOR_CRASH_CHILD_PATH, "projector_crash_child", dir_->Sub("log").c_str(),
            models.c_str(), bulk, static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 150));
    kill(child, SIGKILL);
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    if (WIFSIGNALED(wait_status))
      ++killed;
    else
      ASSERT_EQ(WEXITSTATUS(wait_status), 0) << "round " << round;
  }
  EXPECT_GT(killed, 0);
  std::unique_ptr<EventLog> log = OpenLog();
  ProjectorOptions options;
  options.dir = models;
  std::unique_ptr<Projector> finished = std::move(Projector::Open(log.get(), options)).value();
  ASSERT_TRUE(finished->CatchUp().ok());
  ExpectSameDigests(DigestsOf(*finished), *live_digests_);
}

}  // namespace
}  // namespace malpro
