// `malpro demo`: seeds a month into an empty log (adapters/cli/demo.h), then serves it like
// `malpro serve`.
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "adapters/bank/in_process_bank.h"
#include "adapters/cli/commands.h"
#include "adapters/cli/demo.h"
#include "engine/civil_time.h"
#include "engine/identifiers.h"

namespace malpro::cli {
namespace {

// While seeding, time is the demo month's (`*simulated`); afterwards, once it is 0, the wall
// clock (always later).
std::function<int64_t()> DemoClock(std::shared_ptr<std::atomic<int64_t>> simulated) {
  return [simulated] {
    const int64_t now = simulated->load();
    return now != 0 ? now
                    : std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  };
}

// The month must lie before the first event, so seed only into an empty log. True (and says
// so) when the log already holds events.
bool LogHoldsEvents(const LogOptions& log_options) {
  LogOptions probe = log_options;
  probe.read_only = true;
  Result<std::unique_ptr<EventLog>> existing = EventLog::Open(probe);
  if (existing.ok() && (*existing)->Head().sequence > 0) {
    std::cout << "malpro demo: " << log_options.data_dir
              << " already holds events; serving them without seeding" << std::endl;
    return true;
  }
  return false;
}

// Seeds the month, then hands time back to the wall clock. `bank` is the simulated bank
// (started when demo.bank_payments > 0). A SIGINT or SIGTERM meanwhile stops the seeder once
// the day it is writing is whole (what it wrote stays): the signal's number is returned then,
// else 0.
Result<int> SeedMonth(Ledger& ledger, DemoOptions demo, std::atomic<int64_t>* simulated,
                      InProcessBank* bank) {
  // The first cashless payments go through the simulated bank; the rest straight to the
  // ledger (the bank path is slower).
  DemoBank demo_bank;
  if (demo.bank_payments > 0) {
    InProcessBank* link = bank;
    demo_bank.payments_max = demo.bank_payments;
    demo_bank.pay = [link](const std::string& order_id, const std::string& channel,
                           bool expire_first) {
      CommandContext context;
      context.actor = "system:bank-adapter";
      return link->Pay(order_id, channel, expire_first, context);
    };
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> seeded{false};
  int stop_signal = 0;
  std::thread watcher([&] {
    stop_signal = WaitForStopSignalUntil(seeded);
    stop = stop_signal != 0;
  });
  demo.stop = &stop;
  Result<DemoSummary> summary =
      SeedDemo(ledger, demo, simulated, demo.bank_payments > 0 ? &demo_bank : nullptr);
  seeded = true;
  watcher.join();
  if (!summary.ok()) return summary.status();
  simulated->store(0);
  if (summary->stopped) {
    std::cout << "malpro demo: signal " << stop_signal << " while seeding: stopped after "
              << summary->days_seeded << " whole days of " << summary->month << " ("
              << summary->commands
              << " commands); the log keeps them, and `malpro demo` on this directory serves "
                 "them as they are (seed into an empty directory for a whole month)"
              << std::endl;
  } else {
    PrintDemoSummary(*summary);
  }
  return stop_signal;
}

// The demo's month is the month of its first event (Asia/Jakarta); empty when there is none.
std::string FirstEventMonth(const EventLog& log) {
  Result<std::vector<Event>> first = log.Read(1, 1);
  if (first.ok() && !first->empty()) {
    return FormatIsoDate(JakartaDate(first->front().recorded_at_us)).substr(0, 7);
  }
  return "";
}

// Serves the seeded (or found) month; payment requests go to `bank` unless a bank is
// configured.
int ServeDemo(const MalproConfig& config, Opened& opened, InProcessBank* bank,
              const std::string& month) {
  BankPayments* demo_payments =
      config.bank_client_enabled || bank == nullptr ? nullptr : bank->payments();
  const std::string bank_sim_url = demo_payments != nullptr ? bank->simulator_url() : "";
  if (demo_payments != nullptr) {
    std::cout << "malpro: cashless payments go to the demo's simulated bank at " << bank_sim_url
              << " (it pays with POST " << bank_sim_url << "/sim/pay)" << std::endl;
  }
  return ServeUntilSignal(
      config, *opened.log, *opened.ledger,
      [&](uint16_t port, const std::string& kafka) {
        PrintDemoHints(port, config.log.data_dir, month, kafka, bank_sim_url);
      },
      demo_payments);
}

int RunDemo(const CommonOptions& common, const DemoOptions& demo) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  BlockStopSignals();
  auto simulated = std::make_shared<std::atomic<int64_t>>(0);
  const std::function<int64_t()> clock = DemoClock(simulated);
  const bool seed = !LogHoldsEvents(config->log);
  simulated->store(seed ? DemoMonthStartMicros(demo) : 0);
  Result<Opened> opened = OpenLedger(*config, config->log, clock);
  if (!opened.ok()) return Fail(WhenLocked(opened.status(), config->log.data_dir));
  Status primary = CheckWriterIsPrimary(*config, *opened->log);
  if (!primary.ok()) return Fail(primary);
  // A simulated bank over real sockets: the seeded cashless payments go through it as real
  // payments would, and while serving it takes the API's payment requests unless a bank is
  // configured.
  std::unique_ptr<InProcessBank> bank;
  if ((seed && demo.bank_payments > 0) || !config->bank_client_enabled) {
    Result<std::unique_ptr<InProcessBank>> started =
        InProcessBank::Start(opened->ledger.get(), opened->log.get(), clock);
    if (!started.ok()) return Fail(started.status());
    bank = std::move(started).value();
  }
  if (seed) {
    Result<int> stopped = SeedMonth(*opened->ledger, demo, simulated.get(), bank.get());
    if (!stopped.ok()) return Fail(stopped.status());
    if (*stopped != 0) {  // a signal while seeding: no serving
      std::cout << "malpro: signal " << *stopped << ", stopping" << std::endl;
      bank.reset();
      return CloseLedger(*opened, config->log);
    }
  }
  PrintHead(*opened->log, config->log.data_dir);
  const int stopped = ServeDemo(*config, *opened, bank.get(), FirstEventMonth(*opened->log));
  if (stopped != kExitOk) return stopped;
  bank.reset();  // it writes to the ledger: stopped before the log closes
  return CloseLedger(*opened, config->log);
}

}  // namespace

void AddDemoCommand(CLI::App& app, std::vector<Command>& commands) {
  auto demo_options = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "seed a realistic month in Kota Malang (ASN, UMKM, products, orders, receipts, a policy "
      "change) into an empty log through the ordinary commands, then serve it like `serve`; "
      "with a log that already holds events, just serve it");
  demo->add_option("--seed", demo_options->seed, "random seed; the same seed gives the same month")
      ->capture_default_str();
  demo->add_option("--asn", demo_options->asn_count, "civil servants to register")
      ->check(CLI::Range(1, demo_asn_max))
      ->capture_default_str();
  demo->add_option("--umkm", demo_options->umkm_count, "merchants to register")
      ->check(CLI::Range(1, demo_umkm_max))
      ->capture_default_str();
  demo->add_option("--bank-payments", demo_options->bank_payments,
                   "cashless payments to make through an in-process simulated bank over "
                   "127.0.0.1 (the rest go to the ledger directly); the default is more than a "
                   "month holds: all of them; 0: none")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
  demo->add_option("--month", demo_options->month,
                   "the month to seed, YYYY-MM (default: the month before this one)");
  commands.push_back({demo, [demo_options](const CommonOptions& common) {
                        return RunDemo(common, *demo_options);
                      }});
}

}  // namespace malpro::cli
