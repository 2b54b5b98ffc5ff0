// `malpro audit verify|export|replay`: the auditor's tools. An existing data directory is
// opened read-only; `verify --kafka` reads the events topic instead.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>

#include "adapters/cli/audit_export.h"
#include "adapters/cli/commands.h"
#include "adapters/kafka/topic_audit.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/identifiers.h"
#include "engine/money.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_store.h"
#include "projections/projector.h"

namespace malpro::cli {
namespace {

// Prints "VERB N/M (P%)" (e.g. "verified 300/1000 (30%)") on one line when stderr is a
// terminal, else a line now and then.
class Progress {
 public:
  Progress(const char* verb, uint64_t total)
      : verb_(verb), total_(total), tty_(isatty(STDERR_FILENO) == 1) {}
  void Report(uint64_t done) {
    const int percent = total_ == 0 ? 100 : static_cast<int>(done * 100 / total_);
    if (tty_) {
      std::fprintf(stderr, "\r%s %llu/%llu (%d%%)", verb_, static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total_), percent);
    } else if (percent >= last_percent_ + 10) {
      std::fprintf(stderr, "%s %llu/%llu (%d%%)\n", verb_, static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total_), percent);
      last_percent_ = percent;
    }
  }
  void Finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  const char* verb_;
  uint64_t total_;
  bool tty_;
  int last_percent_ = 0;
};

// Prints the verdict of a verification; exit status as `audit verify` documents.
int ReportVerification(const VerifyReport& report, const std::string& expected_head,
                       std::string_view source) {
  if (!report.ok) {
    std::cout << "FAILED at sequence " << report.first_bad_sequence << ": " << report.problem
              << "\n"
              << "verified before it: " << report.events_checked << " events, up to sequence "
              << report.verified_head.sequence << "\n";
    return kExitCheckFailed;
  }
  if (!expected_head.empty() && HashToHex(report.verified_head.hash) != expected_head) {
    std::cout << "FAILED: the chain verifies, but its head hash "
              << HashToHex(report.verified_head.hash) << " (sequence "
              << report.verified_head.sequence << ") is not the expected " << expected_head
              << ": history was rewritten or the range differs\n";
    return kExitCheckFailed;
  }
  std::cout << "OK: " << report.events_checked << " events verified" << source << ", head sequence "
            << report.verified_head.sequence << ", head hash "
            << HashToHex(report.verified_head.hash) << "\n";
  if (report.unfinished_events > 0) {
    std::cout << "note: " << report.unfinished_events
              << " events after the head belong to a group cut short by a crash while it was "
                 "written (never acknowledged, not part of the chain); they continue the chain "
                 "and are removed when the log next opens for writing\n";
  }
  return kExitOk;
}

// `audit verify --kafka BROKERS`: the chain from the events topic alone.
// The signed checkpoints kept with the tree, against it (and the configured key, if any).
int CheckCheckpoints(const TlogStore& store, const MalproConfig& config) {
  std::optional<NoteVerifier> verifier;
  if (config.checkpoints_enabled) {
    Result<NoteSigner> signer = NoteSigner::FromPem(
        config.checkpoint_key_name, config.checkpoint_key_pem, "transparency.private_key_file");
    if (!signer.ok()) return Fail(signer.status());
    verifier = signer->verifier();
  }
  Result<CheckpointsReport> report =
      VerifyCheckpoints(store, config.checkpoints.origin, verifier ? &*verifier : nullptr);
  if (!report.ok()) return Fail(report.status());
  if (!report->ok) {
    std::cout << "FAILED: the signed checkpoints: " << report->problem << "\n";
    return kExitCheckFailed;
  }
  if (report->checked + report->beyond_tree == 0) return kExitOk;
  std::cout << "OK: " << report->checked << " signed checkpoints of " << config.checkpoints.origin
            << " (sizes up to " << report->latest_size << ") hold the tree's roots; "
            << (verifier ? "signatures verified with " + verifier->Text()
                         : std::string("signatures not checked: no [transparency] key configured"))
            << "\n";
  if (report->beyond_tree > 0) {
    std::cout << "note: " << report->beyond_tree
              << " checkpoints are of sizes the tree does not hold yet (it is rebuilt after a "
                 "crash): malpro serve catches up, then audit verify checks them\n";
  }
  return kExitOk;
}

// The Merkle tree kept beside a whole log (docs/transparency.md): rebuilt from the log's events
// and compared tile by tile. A data directory that has none yet passes with a note.
int CheckMerkleTree(const EventLog& log, const MalproConfig& config) {
  const std::string& data_dir = config.log.data_dir;
  const std::string dir = data_dir + "/" + tlog_directory;
  Result<std::unique_ptr<TlogStore>> store = TlogStore::Open(dir, /*read_only=*/true);
  if (!store.ok()) return Fail(store.status());
  if (!(*store)->Exists()) {
    std::cout << "note: no Merkle tree at " << dir << " yet: malpro serve builds it\n";
    return kExitOk;
  }
  Result<TlogReport> tree = VerifyTlog(log, **store);
  if (!tree.ok()) return Fail(tree.status());
  if (!tree->ok) {
    std::cout << "FAILED: the Merkle tree: " << tree->problem << "\n";
    return kExitCheckFailed;
  }
  std::cout << "OK: the Merkle tree of the first " << tree->size
            << " events, rebuilt from the log, matches every stored tile; root "
            << HashToHex(tree->root) << "\n";
  return CheckCheckpoints(**store, config);
}

// Opens the existing log at log_options.data_dir (RequireLedgerDirectory) read only.
Result<std::unique_ptr<EventLog>> OpenLogReadOnly(LogOptions log_options) {
  MALPRO_RETURN_IF_ERROR(RequireLedgerDirectory(log_options));
  log_options.read_only = true;
  return EventLog::Open(log_options);
}

int RunAuditVerify(const CommonOptions& common, uint64_t from, uint64_t to,
                   const std::string& expected_head) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  LogOptions options = config->log;
  options.check_on_open = false;
  Result<std::unique_ptr<EventLog>> log = OpenLogReadOnly(options);
  if (!log.ok()) return Fail(log.status());
  const uint64_t last = to == 0 ? (*log)->Head().sequence : to;
  Progress progress("verified", last);
  Result<VerifyReport> report =
      (*log)->Verify(from, to, [&](uint64_t sequence) { progress.Report(sequence); });
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  const int verdict = ReportVerification(*report, expected_head, "");
  if (verdict != kExitOk || from != 1 || to != 0) return verdict;
  return CheckMerkleTree(**log, *config);
}

// "YYYY-MM-DD" (the end of that day) or "YYYY-MM-DDTHH:MM[:SS]", Asia/Jakarta, in UTC
// microseconds.
Result<int64_t> ParseJakartaTime(const std::string& text) {
  const auto invalid = [&text] {
    return Status::InvalidArgument(errc::kTimeInvalid, "--at",
                                   "--at must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] "
                                   "(Asia/Jakarta), not '" +
                                       text + "'");
  };
  Result<CivilDate> date = ParseIsoDate(text.substr(0, 10), "--at");
  if (!date.ok()) return invalid();
  int64_t seconds = seconds_per_day - 1;
  if (text.size() > 10) {
    const bool with_seconds = text.size() == 19;
    if ((text.size() != 16 && !with_seconds) || text[10] != 'T' || text[13] != ':' ||
        (with_seconds && text[16] != ':')) {
      return invalid();
    }
    auto two_digits = [&](size_t at, int* value) {
      if (!std::isdigit(static_cast<unsigned char>(text[at])) ||
          !std::isdigit(static_cast<unsigned char>(text[at + 1]))) {
        return false;
      }
      *value = (text[at] - '0') * 10 + (text[at + 1] - '0');
      return true;
    };
    int hour = 0, minute = 0, second = 0;
    if (!two_digits(11, &hour) || !two_digits(14, &minute) ||
        (with_seconds && !two_digits(17, &second)) || hour > 23 || minute > 59 || second > 59) {
      return invalid();
    }
    seconds = hour * 3600 + minute * 60 + second;
  }
  return JakartaTimeMicros(*date, seconds) + (micros_per_second - 1);
}

// The last sequence recorded at or before `at_us` (times never go backwards in the log).
Result<uint64_t> LastSequenceAt(const EventLog& log, int64_t at_us) {
  uint64_t low = 0;                         // recorded at or before
  uint64_t high = log.Head().sequence + 1;  // after
  while (high - low > 1) {
    const uint64_t middle = low + (high - low) / 2;
    Result<std::vector<Event>> event = log.Read(middle, 1);
    if (!event.ok()) return event.status();
    if (event->empty()) {
      return Status::Corruption("event " + std::to_string(middle) + " is missing");
    }
    if (event->front().recorded_at_us <= at_us) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return low;
}

// The last sequence recorded at or before `at` (`--at`); an error naming --at when nothing
// was recorded by then.
Result<uint64_t> ReplayUntilTime(const EventLog& log, const std::string& at) {
  Result<int64_t> at_us = ParseJakartaTime(at);
  if (!at_us.ok()) return at_us.status();
  Result<uint64_t> sequence = LastSequenceAt(log, *at_us);
  if (!sequence.ok()) return sequence.status();
  if (*sequence == 0) {
    std::string first = "the log is empty";
    Result<std::vector<Event>> event = log.Read(1, 1);
    if (event.ok() && !event->empty()) {
      first = "its first event was recorded on " +
              FormatIsoDate(JakartaDate(event->front().recorded_at_us)) + " (Asia/Jakarta)";
    }
    return Status::InvalidArgument(errc::kSequenceInvalid, "--at",
                                   "nothing to replay at --at " + at + ": " + first);
  }
  return sequence;
}

// The last sequence to replay: `until` (`--until`), or the last one recorded at `at` (`--at`)
// when given; an error naming the option given when the log does not hold it.
Result<uint64_t> ReplayUntil(const EventLog& log, uint64_t until, const std::string& at) {
  if (!at.empty()) return ReplayUntilTime(log, at);
  if (until == 0 || until > log.Head().sequence) {
    return Status::InvalidArgument(errc::kSequenceInvalid, "--until",
                                   "nothing to replay at --until " + std::to_string(until) +
                                       ": the log holds sequences 1.." +
                                       std::to_string(log.Head().sequence));
  }
  return until;
}

// Prints where the replay ended, each read model's digest, and the compliance of the month
// of its last event.
void PrintReplay(const EventLog& log, Projector& projector, uint64_t until,
                 const std::string& out_dir, const std::vector<ProjectionDigest>& digests) {
  const Event last = log.Read(until, 1)->front();
  const std::string month = FormatIsoDate(JakartaDate(last.recorded_at_us)).substr(0, 7);
  std::cout << "replayed to sequence " << until << " (recorded "
            << FormatIsoDate(JakartaDate(last.recorded_at_us)) << ", Asia/Jakarta), hash "
            << HashToHex(last.hash) << "\nread models in " << out_dir << "\n";
  for (const ProjectionDigest& digest : digests) {
    std::cout << "  " << digest.name << " v" << digest.version << ": " << digest.rows
              << " rows, sha256 " << digest.sha256 << "\n";
  }
  const AsnSpendProjection::Compliance compliance = projector.MonthCompliance(month);
  std::cout << "month " << month << " so far: " << compliance.compliant << " of " << compliance.asn
            << " ASN compliant, committed spend " << FormatDisplay(compliance.committed) << "\n";
}

int RunAuditReplay(const CommonOptions& common, uint64_t until, const std::string& at,
                   std::string out_dir, bool serve) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  if (serve) BlockStopSignals();  // before any thread starts
  Result<std::unique_ptr<EventLog>> log = OpenLogReadOnly(config->log);
  if (!log.ok()) return Fail(log.status());
  Result<uint64_t> last = ReplayUntil(**log, until, at);
  if (!last.ok()) return Fail(last.status());
  until = *last;
  if (serve) {
    // Served, the log itself stops there too: nothing later is shown by any read.
    LogOptions as_of = config->log;
    as_of.read_until = until;
    log->reset();
    log = OpenLogReadOnly(as_of);
    if (!log.ok()) return Fail(log.status());
  }
  if (out_dir.empty()) out_dir = "replay-" + std::to_string(until);
  std::error_code error;
  if (std::filesystem::exists(out_dir, error) && !std::filesystem::is_empty(out_dir, error)) {
    return Fail(Status::InvalidArgument(errc::kOutNotEmpty, "out",
                                        out_dir + " is not empty; replay into a new directory"));
  }
  ProjectorOptions projector_options;
  projector_options.dir = out_dir;
  projector_options.until_sequence = until;
  projector_options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  Result<std::unique_ptr<Projector>> projector = Projector::Open(log->get(), projector_options);
  if (!projector.ok()) return Fail(projector.status());
  Status caught_up = (*projector)->CatchUp();
  if (!caught_up.ok()) return Fail(caught_up);
  Result<std::vector<ProjectionDigest>> digests = (*projector)->Digests();
  if (!digests.ok()) return Fail(digests.status());
  PrintReplay(**log, **projector, until, out_dir, *digests);
  if (serve) return ServeReplay(*config, **log, **projector);
  return kExitOk;
}

// Says what the export wrote and whether the chain through it verifies; exit status as
// `audit export` documents. Standard error: standard output may be the export itself.
int ReportExport(const ExportReport& report, const std::string& out_path) {
  std::cerr << "exported " << report.written << " events (" << report.first_sequence << ".."
            << report.last_sequence << ") to " << (out_path.empty() ? "standard output" : out_path)
            << "\n";
  const VerifyReport& chain = report.chain;
  if (!chain.ok) {
    std::cerr << "FAILED at sequence " << chain.first_bad_sequence << ": " << chain.problem
              << "\nthe chain does not verify from sequence 1 through the export; every event "
                 "read was written\n";
    return kExitCheckFailed;
  }
  std::cerr << "OK: the chain verifies from sequence 1 to " << chain.verified_head.sequence
            << ", head hash " << HashToHex(chain.verified_head.hash) << "\n";
  return kExitOk;
}

int RunAuditExport(const CommonOptions& common, uint64_t from, uint64_t to,
                   const std::string& out_path) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  Result<std::unique_ptr<EventLog>> log = OpenLogReadOnly(config->log);
  if (!log.ok()) return Fail(log.status());
  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(Status::IOError("cannot write " + out_path));
  }
  std::ostream& out = out_path.empty() ? std::cout : file;
  const uint64_t head = (*log)->Head().sequence;
  Progress progress("exported", to == 0 ? head : std::min(to, head));
  Result<ExportReport> report =
      ExportEvents(**log, from, to, out, [&](uint64_t sequence) { progress.Report(sequence); });
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  out.flush();
  if (!out) return Fail(Status::IOError("writing the export failed"));
  return ReportExport(*report, out_path);
}

// A head hash as `audit verify` prints it: 64 hex digits, taken in either case and turned into
// lower case (what the comparison sees). Anything else is a usage error naming the option.
CLI::Validator HeadHashValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        Hash hash;
        if (!HashFromHex(text, &hash)) {
          return "must be 64 hex digits (a head hash as `audit verify` prints it), not '" + text +
                 "' (" + std::to_string(text.size()) + " characters)";
        }
        text = HashToHex(hash);
        return "";
      },
      "HEX");
}

struct VerifyFlags {
  uint64_t from = 1;
  uint64_t to = 0;
  std::string head_hash;
  std::string kafka;              // bootstrap address; empty: verify the data directory
  std::string since_checkpoint;   // a signed checkpoint file; empty: from --from
  std::string key;                // the verifier key for --since-checkpoint
  CosignatureFlags cosignatures;  // the witnesses --since-checkpoint requires
};

void AddVerifyCommand(CLI::App& audit, std::vector<Command>& commands) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* verify = audit.add_subcommand(
      "verify",
      "recompute the hash chain, and for the whole log rebuild the Merkle tree and compare its "
      "tiles; prints OK and the head hash, or the first bad sequence and what is wrong. Exit 0 "
      "when it verifies, 1 when it does not, 2 on other errors");
  verify->add_option("--from", flags->from, "first sequence to check")->capture_default_str();
  verify->add_option("--to", flags->to, "last sequence to check (default: the head)");
  verify
      ->add_option("--head-hash", flags->head_hash,
                   "the head hash recorded earlier (e.g. by the auditor), 64 hex digits in either "
                   "case; fail unless the verified chain ends on it (default: none, not checked)")
      ->transform(HeadHashValidator());
  verify->add_option("--kafka", flags->kafka,
                     "verify from the Kafka events topic instead of the data directory: the "
                     "bootstrap address (e.g. the embedded broker `serve` printed) (default: "
                     "none, the data directory)");
  verify->add_option("--since-checkpoint", flags->since_checkpoint,
                     "a signed checkpoint of this log (as GET /tlog/checkpoint gives it, kept "
                     "from an earlier audit): check its signature, that this log's event of "
                     "its size is its last leaf, and the chain from there to the head only, "
                     "so that the log is shown to extend it without replaying what came before "
                     "(default: none)");
  verify->add_option("--key", flags->key,
                     "with --since-checkpoint or --kafka: the log's verifier key, "
                     "NAME+KEYID+BASE64, or a file holding it (default: the key of "
                     "[transparency] in the configuration)");
  AddCosignatureOptions(verify, &flags->cosignatures);
  // The witnesses required are of a checkpoint: only --since-checkpoint has one to check.
  for (const char* option : {"--witness", "--witnesses-required"}) {
    verify->get_option(option)->needs(verify->get_option("--since-checkpoint"));
  }
  commands.push_back({verify, [flags](const CommonOptions& common) {
                        if (!flags->since_checkpoint.empty()) {
                          return RunAuditSinceCheckpoint(common, flags->since_checkpoint,
                                                         flags->key, flags->cosignatures);
                        }
                        if (!flags->kafka.empty()) {
                          return RunAuditVerifyKafka(common, flags->kafka, flags->key,
                                                     flags->head_hash);
                        }
                        return RunAuditVerify(common, flags->from, flags->to, flags->head_hash);
                      }});
}

struct ExportFlags {
  uint64_t from = 1;
  uint64_t to = 0;
  std::string out;  // empty: standard output
};

void AddExportCommand(CLI::App& audit, std::vector<Command>& commands) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* export_command = audit.add_subcommand(
      "export",
      "write events as JSON Lines (one event per line with its envelope format version, hashes "
      "in hex, the payload as the exact stored string), checking the hash chain from sequence 1 "
      "as it writes; scripts/verify_export.py checks the chain from such a file alone. Exit 0 "
      "when the chain verifies, 1 when it does not (every event is still written), 2 on other "
      "errors");
  export_command->add_option("--from", flags->from, "first sequence")->capture_default_str();
  export_command->add_option("--to", flags->to, "last sequence (default: the head)");
  export_command->add_option("-o,--out", flags->out, "file to write (default: standard output)");
  commands.push_back({export_command, [flags](const CommonOptions& common) {
                        return RunAuditExport(common, flags->from, flags->to, flags->out);
                      }});
}

struct ReplayFlags {
  uint64_t until = 0;
  std::string at;
  std::string out;  // empty: replay-SEQ
  bool serve = false;
};

void AddReplayCommand(CLI::App& audit, std::vector<Command>& commands) {
  auto flags = std::make_shared<ReplayFlags>();
  CLI::App* replay = audit.add_subcommand(
      "replay",
      "rebuild every read model as of a point of the log into a new directory (live state is "
      "never touched) and print each model's digest and the month's compliance figures");
  CLI::Option* until_option = replay->add_option(
      "--until", flags->until, "the last sequence to fold (give --until or --at)");
  replay
      ->add_option("--at", flags->at,
                   "a time instead (give --until or --at): YYYY-MM-DD (end of that day) or "
                   "YYYY-MM-DDTHH:MM[:SS], Asia/Jakarta")
      ->excludes(until_option);
  replay->add_option("-o,--out", flags->out, "directory to build in (default: replay-SEQ)");
  replay->add_flag("--serve", flags->serve,
                   "then serve the HTTP API read-only as the ledger stood there, on the "
                   "configured address and port (--port), until SIGINT/SIGTERM; writes are "
                   "refused 405 server_read_only (default: off, only the digests are printed)");
  commands.push_back({replay, [flags](const CommonOptions& common) {
                        if (flags->until == 0 && flags->at.empty()) {
                          return Fail(Status::InvalidArgument(
                              errc::kOptionMissing, "--until",
                              "give --until SEQ or --at TIME; run 'malpro audit replay --help'"));
                        }
                        return RunAuditReplay(common, flags->until, flags->at, flags->out,
                                              flags->serve);
                      }});
}

}  // namespace

void AddAuditCommands(CLI::App& app, std::vector<Command>& commands) {
  CLI::App* audit =
      app.add_subcommand("audit", "auditor tools; an existing data directory is opened read-only");
  audit->require_subcommand(1);
  AddVerifyCommand(*audit, commands);
  AddExportCommand(*audit, commands);
  AddReplayCommand(*audit, commands);
  AddCheckProofCommand(*audit, commands);
}

}  // namespace malpro::cli
