// Intake: commands from the topic <topic_prefix>.commands, decided by the same Ledger calls as
// the HTTP API with the same parsing rules and error codes, answered on
// <topic_prefix>.command-results (docs/kafka-records.md, "Command intake").
//
// A command record carries the header `command` (e.g. place_order) and the header
// `idempotency-key` (required), and its value is the JSON body the matching HTTP route takes,
// with the route's path parameters (order_id, umkm_id) as fields. Offsets are committed only
// after the command's append is durable and its result acknowledged; a command delivered
// again (after a restart or a rebalance) finds its idempotency key and appends nothing.
//
// Threading: Start() runs the intake on its own thread; Status() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "adapters/kafka/kafka_options.h"
#include "engine/ledger.h"

namespace malpro {

// One command as read from the topic.
struct IntakeCommand {
  std::string command;          // header `command`
  std::string idempotency_key;  // header `idempotency-key`
  std::string body;             // the record's value, a JSON object
};

// Decides one command through `ledger` as `actor`. The errors are those of the HTTP route
// (body_* codes for the shape of the body, bound by the route's own binder, command_bodies.h:
// a key repeated within an object is body_duplicate_key), plus command_unknown and
// header_idempotency_key_missing.
Result<CommandResult> RunIntakeCommand(Ledger& ledger, const IntakeCommand& command,
                                       const std::string& actor);

// The result record's value: {"ok":true,"command":...,"stream_id":...,"stream_version":...,
// "first_sequence":...,"sequence":...,"replayed":...} or
// {"error":{"code":...,"message":...,"field":...},"status":HTTP-equivalent status}.
std::string IntakeResultJson(std::string_view command, const Result<CommandResult>& result);

struct IntakeStatus {
  bool running = false;
  uint64_t commands_decided = 0;  // results written since Start(), refusals included
  uint64_t commands_refused = 0;
  uint64_t sessions_started = 0;
  std::string last_error;
};

struct IntakeOptions {
  std::string brokers;
  KafkaOptions kafka;
  // The actor recorded on every event the intake appends. Whoever may write to the commands
  // topic acts with it; guard that topic with the cluster's ACLs.
  std::string actor = "kafka:intake";
  // Synchronous mode (kafka.synchronous): called with a decided command's last sequence before
  // its result is written; an error leaves the command uncommitted, to be taken again and
  // answered then (as a replay). Empty: results are written at once.
  std::function<Status(uint64_t sequence)> confirm = {};
};

class Intake {
 public:
  // `ledger` must outlive the intake.
  Intake(Ledger* ledger, IntakeOptions options);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  void Start();
  // Finishes the batch in hand (its results and commits), then joins the thread.
  void Stop();
  IntakeStatus Status() const;

 private:
  class Session;
  void Run();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  Ledger* const ledger_;
  const IntakeOptions options_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  IntakeStatus status_;
};

}  // namespace malpro
