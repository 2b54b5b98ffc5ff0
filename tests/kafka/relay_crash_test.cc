// Kills a process that appends and relays with SIGKILL at random moments, several rounds in a
// row, against one embedded broker that outlives it. Then a relay in this process catches up,
// and the whole topic must hold every sequence exactly once, in order per partition and per
// stream: the resume rule trusts only the topic.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/relay.h"
#include "tests/kafka/relay_checks.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace malpro {
namespace {

// Starts the child and kills it `run_for` after it says it is appending (its start, slow on a
// loaded machine, does not count), or after 30 s if it never says so.
void RunAndKill(const std::string& data_dir, const std::string& brokers, uint64_t head_max,
                std::chrono::milliseconds run_for) {
  std::string path = MALPRO_RELAY_CRASH_CHILD_PATH;
  std::string head_arg = std::to_string(head_max);
  char* argv[] = {path.data(), const_cast<char*>(data_dir.c_str()),
                  const_cast<char*>(brokers.c_str()), head_arg.data(), nullptr};
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ready[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, ready[0]);
  pid_t child = 0;
  const int spawned = posix_spawn(&child, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(ready[1]);
  ASSERT_EQ(spawned, 0);
  pollfd said{ready[0], POLLIN, 0};
  char byte = 0;
  EXPECT_TRUE(poll(&said, 1, 30'000) == 1 && read(ready[0], &byte, 1) == 1)
      << "the child never said it was appending";
  close(ready[0]);
  std::this_thread::sleep_for(run_for);
  kill(child, SIGKILL);
  int wait_status = 0;
  waitpid(child, &wait_status, 0);
  EXPECT_TRUE(WIFSIGNALED(wait_status)) << "the child stopped by itself; status " << wait_status;
}

TEST(RelayCrashTest, KilledRelayResumesWithoutLossOrDuplicates) {
  constexpr int kRounds = 6;
  constexpr int kPartitions = 3;
  constexpr uint64_t kEventsPerRound = 1'500;
  testing::TempDir dir;
  const std::string data_dir = dir.Sub("log");
  std::unique_ptr<EmbeddedBroker> broker = *EmbeddedBroker::Start(3);
  ASSERT_TRUE(broker->CreateTopic("malpro.events", kPartitions, 3).ok());
  // A delay on every response keeps records in flight when the kill comes.
  ASSERT_TRUE(broker->SetBrokerRoundTrip(-1, 15).ok());
  std::mt19937 random(20260217);
  int killed_behind = 0;  // rounds killed while the topic lagged behind the log
  KafkaOptions kafka;
  for (int round = 0; round < kRounds; ++round) {
    const auto run_for =
        std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 700)(random));
    RunAndKill(data_dir, broker->bootstrap(), kEventsPerRound * (round + 1), run_for);
    LogOptions read_only;
    read_only.data_dir = data_dir;
    read_only.read_only = true;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(read_only);
    if (!log.ok()) continue;  // killed before the log was created
    Result<std::vector<PartitionTail>> tails =
        ReadPartitionTails(broker->bootstrap(), kafka, "malpro.events", kPartitions, 10'000);
    ASSERT_TRUE(tails.ok()) << tails.status().ToString();
    uint64_t highest = 0;
    for (const PartitionTail& tail : *tails) highest = std::max(highest, tail.sequence);
    ASSERT_LE(highest, (*log)->Head().sequence);
    if (highest < (*log)->Head().sequence) ++killed_behind;
  }
  std::cout << "rounds killed while the relay was behind: " << killed_behind << "\n";
  EXPECT_GE(killed_behind, 2) << "the kills should land while records are in flight";
  LogOptions options;
  options.data_dir = data_dir;
  std::unique_ptr<EventLog> log = *EventLog::Open(options);
  const uint64_t head = log->Head().sequence;
  ASSERT_GT(head, kEventsPerRound) << "the child appended too little to test anything";
  RelayOptions relay_options;
  relay_options.brokers = broker->bootstrap();
  Relay relay(log.get(), relay_options);
  relay.Start();
  ASSERT_TRUE(relay.WaitForPublished(head, std::chrono::seconds(30)));
  const uint64_t caught_up = relay.Status().events_published;
  relay.Stop();
  std::cout << "head " << head << ", published by the last relay " << caught_up << "\n";
  Result<std::vector<testing::TopicRecord>> records =
      testing::ReadWholeTopic(broker->bootstrap(), "malpro.events");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  testing::ExpectTopicMatchesLog(*records, *log, kPartitions);
}

}  // namespace
}  // namespace malpro
