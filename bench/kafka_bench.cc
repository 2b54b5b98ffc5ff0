// Kafka relay figures against the embedded broker (docs/PERFORMANCE-kafka.md):
//   throughput: a log prefilled with --events events, relayed from scratch; events/s until
//               the last one is acknowledged;
//   replica:    the same log relayed whole (not timed), then a read replica from an empty
//               log: events/s until its log holds the last one, next to a bare consumer
//               reading every record of the topic (the peer, same run);
//   latency:    --rate events/s appended (synced) for --seconds, one event per command, while a
//               consumer follows the topic; the time from Append returning to the consumer
//               receiving the record, p50/p99/max.
// Each is run --runs times; the median run is reported. Bounded: every wait has a deadline.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "adapters/kafka/embedded_broker.h"
#include "adapters/kafka/relay.h"
#include "adapters/kafka/replica.h"
#include "adapters/kafka/topic_audit.h"

namespace malpro {
namespace {

using Clock = std::chrono::steady_clock;

std::string FreshDir(const std::string& base, const std::string& name) {
  const std::string path = base + "/" + name;
  std::filesystem::remove_all(path);
  return path;
}

// A log of `events` events, `per_command` a command over 1,000 streams; with `keyed`, each
// command carries an idempotency key (its first event then carries a request_digest header).
std::unique_ptr<EventLog> Prefill(const std::string& dir, uint64_t events, bool keyed,
                                  uint64_t per_command = 100) {
  LogOptions options;
  options.data_dir = dir;
  options.sync = false;  // the prefill is not what is measured
  std::unique_ptr<EventLog> log = *EventLog::Open(options);
  const uint64_t kPerCommand = per_command;
  for (uint64_t i = 0; i < events / kPerCommand; ++i) {
    AppendRequest request;
    request.actor = "bench:kafka";
    if (keyed) request.idempotency_key = "bench-" + std::to_string(i);
    for (uint64_t j = 0; j < kPerCommand; ++j) {
      const uint64_t n = i * kPerCommand + j;
      request.events.push_back({"order-" + std::to_string(n % 1000), "order.noted",
                                R"({"n":)" + std::to_string(n) + R"(,"note":"bench"})"});
    }
    MALPRO_ASSERT(log->Append(std::move(request)).ok());
  }
  return log;
}

double Throughput(const std::string& dir, uint64_t events, bool keyed, uint64_t per_command) {
  std::unique_ptr<EventLog> log = Prefill(dir, events, keyed, per_command);
  std::unique_ptr<EmbeddedBroker> broker = *EmbeddedBroker::Start(1);
  MALPRO_ASSERT(broker->CreateTopic("malpro.events", 3, 1).ok());
  Relay relay(log.get(), RelayOptions{broker->bootstrap(), KafkaOptions{}});
  const Clock::time_point start = Clock::now();
  relay.Start();
  const bool done = relay.WaitForPublished(log->Head().sequence, std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  relay.Stop();
  MALPRO_ASSERT(done);
  return static_cast<double>(log->Head().sequence) / seconds;
}

struct CatchUp {
  double replica = 0;  // events/s into the replica's log (synced)
  double consume = 0;  // events/s read by a bare consumer of the same topic
};

CatchUp ReplicaCatchUp(const std::string& dir, uint64_t events, int partitions) {
  std::unique_ptr<EventLog> primary = Prefill(dir + "/primary", events, /*keyed=*/true);
  std::unique_ptr<EmbeddedBroker> broker = *EmbeddedBroker::Start(1);
  MALPRO_ASSERT(broker->CreateTopic("malpro.events", partitions, 1).ok());
  {
    Relay relay(primary.get(), RelayOptions{broker->bootstrap(), KafkaOptions{}});
    relay.Start();
    MALPRO_ASSERT(relay.WaitForPublished(events, std::chrono::seconds(120)));
  }
  CatchUp result;
  Clock::time_point start = Clock::now();
  Result<std::vector<TopicRecord>> records =
      ReadWholeTopic(broker->bootstrap(), KafkaOptions{}, "malpro.events", 120'000);
  MALPRO_ASSERT(records.ok() && records->size() == events);
  result.consume =
      static_cast<double>(events) / std::chrono::duration<double>(Clock::now() - start).count();
  LogOptions options;
  options.data_dir = dir + "/replica";  // synced, as `malpro replica` runs it
  std::unique_ptr<EventLog> copy = *EventLog::Open(options);
  ReplicaOptions replica_options;
  replica_options.brokers = broker->bootstrap();
  Replica replica(copy.get(), replica_options);
  start = Clock::now();
  replica.Start();
  const bool done = replica.WaitForApplied(events, std::chrono::seconds(120));
  result.replica =
      static_cast<double>(events) / std::chrono::duration<double>(Clock::now() - start).count();
  replica.Stop();
  MALPRO_ASSERT(done && copy->Head().hash == primary->Head().hash);
  return result;
}

struct Latency {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  size_t samples = 0;
};

Latency EndToEnd(const std::string& dir, int rate, int seconds) {
  LogOptions options;
  options.data_dir = dir;
  std::unique_ptr<EventLog> log = *EventLog::Open(options);
  std::unique_ptr<EmbeddedBroker> broker = *EmbeddedBroker::Start(1);
  MALPRO_ASSERT(broker->CreateTopic("malpro.events", 3, 1).ok());
  Relay relay(log.get(), RelayOptions{broker->bootstrap(), KafkaOptions{}});
  relay.Start();
  const size_t total = static_cast<size_t>(rate) * static_cast<size_t>(seconds);
  std::vector<Clock::time_point> appended(total + 1), received(total + 1);
  std::atomic<size_t> received_count{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    KafkaHandle handle = *NewKafkaClient(
        RD_KAFKA_CONSUMER,
        *MakeKafkaConf(
            broker->bootstrap(), KafkaOptions{},
            {{"group.id", "bench"}, {"fetch.wait.max.ms", "5"}, {"fetch.error.backoff.ms", "5"}}));
    rd_kafka_topic_partition_list_t* all = rd_kafka_topic_partition_list_new(3);
    for (int p = 0; p < 3; ++p) {
      rd_kafka_topic_partition_list_add(all, "malpro.events", p)->offset = 0;
    }
    (void)rd_kafka_assign(handle.get(), all);
    rd_kafka_topic_partition_list_destroy(all);
    while (!stop.load()) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(handle.get(), 50);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const std::optional<std::string_view> header = KafkaHeader(message, "sequence");
        const uint64_t sequence = header ? ParseSequenceText(*header).value_or(0) : 0;
        if (sequence > 0 && sequence <= total) {
          received[sequence] = Clock::now();
          received_count.fetch_add(1);
        }
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(handle.get());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // consumer assigned
  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(1'000'000 * i / rate));
    AppendRequest request;
    request.actor = "bench:kafka";
    request.events.push_back(
        {"order-" + std::to_string(i % 1000), "order.noted", R"({"n":)" + std::to_string(i) + "}"});
    Result<AppendResult> result = log->Append(std::move(request));
    MALPRO_ASSERT(result.ok());
    appended[result->first_sequence] = Clock::now();
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  while (received_count.load() < total && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.store(true);
  consumer.join();
  relay.Stop();
  std::vector<double> ms;
  for (size_t s = 1; s <= total; ++s) {
    if (received[s] == Clock::time_point{}) continue;
    ms.push_back(std::chrono::duration<double, std::milli>(received[s] - appended[s]).count());
  }
  std::sort(ms.begin(), ms.end());
  Latency latency;
  latency.samples = ms.size();
  if (ms.empty()) return latency;
  latency.p50_ms = ms[ms.size() / 2];
  latency.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  latency.max_ms = ms.back();
  return latency;
}

}  // namespace
}  // namespace malpro

int main(int argc, char** argv) {
  using namespace malpro;
  CLI::App app{"kafka_bench: relay throughput and end-to-end latency on the embedded broker"};
  uint64_t events = 200'000;
  int rate = 5'000;
  int seconds = 10;
  int runs = 3;
  std::string dir = "/tmp/malpro-kafka-bench";
  app.add_option("--events", events, "events relayed in the throughput run")
      ->check(CLI::Range(1'000, 5'000'000));
  app.add_option("--rate", rate, "events/s appended in the latency run")
      ->check(CLI::Range(1, 50'000));
  app.add_option("--seconds", seconds, "length of the latency run")->check(CLI::Range(1, 120));
  app.add_option("--runs", runs, "runs of each; the median is reported")->check(CLI::Range(1, 9));
  app.add_option("--dir", dir, "scratch directory (emptied)");
  bool relay_keyed = false;
  app.add_flag("--relay-keyed", relay_keyed,
               "the throughput run's commands carry idempotency keys (default: none)");
  uint64_t relay_per_command = 100;
  app.add_option("--relay-per-command", relay_per_command,
                 "events a command in the throughput run's log")
      ->check(CLI::Range(1, 1000));
  bool relay_only = false;
  app.add_flag("--relay-only", relay_only, "only the throughput run (default: every figure)");
  bool replica_only = false;
  app.add_flag("--replica-only", replica_only, "only the replica run (default: every figure)");
  int replica_partitions = 0;
  app.add_option("--replica-partitions", replica_partitions,
                 "partitions of the topic in the replica run; default: as the embedded broker "
                 "sizes them to keep --events records")
      ->check(CLI::Range(0, 1024));
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);
  if (replica_partitions == 0) {
    KafkaOptions sized;
    sized.embedded_retention_events = static_cast<int64_t>(events);
    replica_partitions = sized.EmbeddedPartitions();
  }
  std::vector<double> throughputs;
  std::vector<Latency> latencies;
  std::vector<CatchUp> catch_ups;
  for (int run = 0; run < runs; ++run) {
    if (!relay_only) {
      catch_ups.push_back(ReplicaCatchUp(FreshDir(dir, "replica"), events, replica_partitions));
      std::printf("run %d: replica catch-up %.0f events/s (a bare consumer of the topic: %.0f)\n",
                  run + 1, catch_ups.back().replica, catch_ups.back().consume);
    }
    if (replica_only) continue;
    throughputs.push_back(
        Throughput(FreshDir(dir, "throughput"), events, relay_keyed, relay_per_command));
    std::printf("run %d: throughput %.0f events/s\n", run + 1, throughputs.back());
    if (relay_only) continue;
    latencies.push_back(EndToEnd(FreshDir(dir, "latency"), rate, seconds));
    const Latency& l = latencies.back();
    std::printf(
        "run %d: latency at %d events/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu of %d)\n",
        run + 1, rate, l.p50_ms, l.p99_ms, l.max_ms, l.samples, rate * seconds);
  }
  if (!throughputs.empty()) {
    std::sort(throughputs.begin(), throughputs.end());
    std::printf("median: throughput %.0f events/s\n", throughputs[throughputs.size() / 2]);
  }
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end(),
              [](const Latency& a, const Latency& b) { return a.p99_ms < b.p99_ms; });
    const Latency& median = latencies[latencies.size() / 2];
    std::printf("median: latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", median.p50_ms,
                median.p99_ms, median.max_ms);
  }
  if (!catch_ups.empty()) {
    std::sort(catch_ups.begin(), catch_ups.end(),
              [](const CatchUp& a, const CatchUp& b) { return a.replica < b.replica; });
    const CatchUp& median = catch_ups[catch_ups.size() / 2];
    std::printf("median: replica catch-up %.0f events/s (its run's bare consumer: %.0f)\n",
                median.replica, median.consume);
  }
  std::filesystem::remove_all(dir);
}
