// Kills a process that appends under load with SIGKILL at random moments, then checks that
// every acknowledged command is present, no command is half-present, and the chain verifies.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "engine/event_log.h"
#include "tests/engine/log_crash_payloads.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace malpro {
namespace {

struct Ack {
  int thread;
  uint64_t command;
  uint64_t first;
  uint64_t last;
};

// Runs the child for `run_for`, kills it with SIGKILL, and returns what it acknowledged.
std::vector<Ack> RunAndKill(const std::string& data_dir, int threads,
                            std::chrono::milliseconds run_for) {
  int pipe_fds[2];
  MALPRO_ASSERT(pipe(pipe_fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string thread_arg = std::to_string(threads);
  std::string path = MALPRO_CRASH_CHILD_PATH;
  char* argv[] = {path.data(), const_cast<char*>(data_dir.c_str()), thread_arg.data(), nullptr};
  pid_t child = 0;
  MALPRO_ASSERT(posix_spawn(&child, path.c_str(), &actions, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  std::this_thread::sleep_for(run_for);
  kill(child, SIGKILL);
  int wait_status = 0;
  waitpid(child, &wait_status, 0);
  EXPECT_TRUE(WIFSIGNALED(wait_status)) << "the child stopped by itself; status " << wait_status;

  std::string output;
  char buffer[65536];
  ssize_t got;
  while ((got = read(pipe_fds[0], buffer, sizeof buffer)) > 0) output.append(buffer, got);
  close(pipe_fds[0]);

  std::vector<Ack> acks;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (lines.eof()) break;  // a line cut short by the kill was never fully acknowledged
    Ack ack{};
    std::istringstream fields(line);
    fields >> ack.thread >> ack.command >> ack.first >> ack.last;
    acks.push_back(ack);
  }
  return acks;
}

using crash::BigPayload;
using crash::kBigCommandEvents;
using crash::kBigThread;
using crash::kSmallCommandEvents;
using crash::SmallPayload;

TEST(EventLogCrashTest, KilledWriterLosesNothingAcknowledgedAndLeavesNoHalfCommand) {
  constexpr int kRounds = 6;
  constexpr int kThreads = 8;
  testing::TempDir dir;
  const std::string data_dir = dir.Sub("log");
  std::mt19937 random(20261122);
  uint64_t total_acks = 0;
  uint64_t big_acks = 0;
  uint64_t removed_total = 0;

  for (int round = 0; round < kRounds; ++round) {
    const auto run_for =
        std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 600)(random));
    std::vector<Ack> acks = RunAndKill(data_dir, kThreads, run_for);
    total_acks += acks.size();

    LogOptions options;
    options.data_dir = data_dir;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    ASSERT_TRUE(log.ok()) << "round " << round << ": " << log.status().ToString();

    removed_total += (*log)->Counters().unfinished_events_removed;
    for (const Ack& ack : acks) {
      if (ack.thread == kBigThread) {
        ++big_acks;
        ASSERT_EQ(ack.last, ack.first + kBigCommandEvents - 1);
        std::vector<Event> events = *(*log)->Read(ack.first, kBigCommandEvents);
        ASSERT_EQ(events.size(), kBigCommandEvents) << "acknowledged large command lost";
        for (uint64_t part = 0; part < kBigCommandEvents; ++part) {
          ASSERT_EQ(events[part].stream_id, "big");
          ASSERT_EQ(events[part].payload, BigPayload(ack.command, part));
        }
        continue;
      }
      ASSERT_EQ(ack.last, ack.first + kSmallCommandEvents - 1);
      std::vector<Event> events = *(*log)->Read(ack.first, kSmallCommandEvents);
      ASSERT_EQ(events.size(), kSmallCommandEvents) << "acknowledged command lost, round " << round;
      for (uint64_t part = 0; part < kSmallCommandEvents; ++part) {
        EXPECT_EQ(events[part].stream_id, "c-" + std::to_string(ack.thread));
        EXPECT_EQ(events[part].payload, SmallPayload(ack.command, part));
      }
    }
    for (int t = 0; t < kThreads; ++t) {
      const std::string stream = "c-" + std::to_string(t);
      const uint64_t version = *(*log)->StreamVersion(stream);
      EXPECT_EQ(version % kSmallCommandEvents, 0u)
          << stream << " holds part of a command, round " << round;
      for (uint64_t from = 1; from <= version; from += 1000) {
        for (const Event& event : *(*log)->ReadStream(stream, from, 1000)) {
          EXPECT_EQ(event.payload, SmallPayload((event.stream_version - 1) / kSmallCommandEvents,
                                                (event.stream_version - 1) % kSmallCommandEvents));
        }
      }
    }
    const uint64_t big_version = *(*log)->StreamVersion("big");
    EXPECT_EQ(big_version % kBigCommandEvents, 0u) << "part of a large command is visible";
    for (uint64_t from = 1; from <= big_version; from += 1000) {
      for (const Event& event : *(*log)->ReadStream("big", from, 1000)) {
        ASSERT_EQ(event.payload, BigPayload((event.stream_version - 1) / kBigCommandEvents,
                                            (event.stream_version - 1) % kBigCommandEvents));
      }
    }
    Result<VerifyReport> report = (*log)->Verify(1, 0);
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(report->ok) << "round " << round << ": " << report->problem;
    EXPECT_EQ(report->unfinished_events, 0u);
  }
  std::cout << "acknowledged commands across " << kRounds << " kills: " << total_acks << " ("
            << big_acks << " large); events of unfinished groups removed on open: " << removed_total
            << "\n";
  EXPECT_GT(big_acks, 0u) << "no large command was acknowledged";
  EXPECT_GT(total_acks, uint64_t{kRounds}) << "the child acknowledged too little to test anything";
}

}  // namespace
}  // namespace malpro
