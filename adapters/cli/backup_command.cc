// `malpro backup -o DIR` and `malpro restore --from DIR` (docs/RUNBOOK.md, "Backup" and
// "Restore"). A backup is the event log's database, copied from a read-only open (which takes
// no lock, so `malpro serve` may run), with a BACKUP file beside it that records the head the
// copy ends on; both commands verify the whole chain of what they copied against that head.
// The read models and the Merkle tree are not copied: `malpro serve` rebuilds them.
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include "adapters/cli/commands.h"
#include "engine/error_codes.h"
#include "engine/hash.h"

namespace malpro::cli {
namespace {

// The file beside the copied database that records what it holds.
constexpr char kBackupFileName[] = "BACKUP";
constexpr int kBackupFormatVersion = 1;
// A live log's table files may be deleted by its compaction between a read-only open reading
// the list of them and opening them: the copy starts over, this many times in all.
constexpr int kBackupAttemptsMax = 3;

// What a BACKUP file records.
struct BackupRecord {
  ChainHead head;
  std::string created_at;
  std::string version;
};

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

bool IsEmptyOrAbsent(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) return true;
  return std::filesystem::is_directory(dir, error) && std::filesystem::is_empty(dir, error);
}

// Removes what a failed attempt left in `dir` (which was empty before it), keeping `dir`.
void EmptyDirectory(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::filesystem::remove_all(entry.path(), error);
  }
}

Status WriteBackupFile(const std::string& dir, const BackupRecord& record) {
  const std::string path = dir + "/" + kBackupFileName;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# malpro backup: the event log in this directory ends on this head (docs/RUNBOOK.md)\n"
        << "format_version=" << kBackupFormatVersion << "\n"
        << "created_at=" << record.created_at << "\n"
        << "head_sequence=" << record.head.sequence << "\n"
        << "head_hash=" << HashToHex(record.head.hash) << "\n"
        << "malpro_version=" << record.version << "\n";
    out.flush();
    if (!out) return Status::IOError("cannot write " + temporary);
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return Status::IOError("cannot write " + path + ": " + error.message());
  return Status::Ok();
}

Status BackupFileInvalid(const std::string& path, const std::string& why) {
  return Status::InvalidArgument(errc::kBackupInvalid, "--from",
                                 path + " is not a malpro BACKUP file: " + why +
                                     " (is --from the directory `malpro backup -o` wrote?)");
}

// The head a BACKUP file records; backup_invalid naming --from when it is missing or malformed.
Result<BackupRecord> ReadBackupFile(const std::string& dir) {
  const std::string path = dir + "/" + kBackupFileName;
  std::ifstream in(path);
  if (!in) return BackupFileInvalid(path, "it cannot be read");
  BackupRecord record;
  bool has_format = false, has_sequence = false, has_hash = false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t equals = line.find('=');
    if (equals == std::string::npos) return BackupFileInvalid(path, "a line without '='");
    const std::string key = line.substr(0, equals), value = line.substr(equals + 1);
    if (key == "format_version") {
      if (value != std::to_string(kBackupFormatVersion)) {
        return BackupFileInvalid(path, "format_version " + value + " is not 1");
      }
      has_format = true;
    } else if (key == "head_sequence") {
      std::istringstream number(value);
      has_sequence = static_cast<bool>(number >> record.head.sequence) && number.eof();
    } else if (key == "head_hash") {
      has_hash = value.size() == 64 && HashFromHex(value, &record.head.hash);
    } else if (key == "created_at") {
      record.created_at = value;
    } else if (key == "malpro_version") {
      record.version = value;
    }
  }
  if (!has_format) return BackupFileInvalid(path, "no format_version=1");
  if (!has_sequence) return BackupFileInvalid(path, "no head_sequence=N");
  if (!has_hash) return BackupFileInvalid(path, "no head_hash of 64 hex digits");
  return record;
}

// Verifies the whole chain of the log at `dir` and that it ends on `expected`; prints FAILED
// and returns kExitCheckFailed when not. `*events` is how many events verified.
int VerifyCopy(const LogOptions& base, const std::string& dir, const ChainHead& expected,
               const std::string& what, uint64_t* events) {
  LogOptions options = base;
  options.data_dir = dir;
  options.read_only = true;
  options.check_on_open = false;
  options.read_until = 0;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) return Fail(log.status());
  Result<VerifyReport> report = (*log)->Verify(1, 0);
  if (!report.ok()) return Fail(report.status());
  if (!report->ok) {
    std::cout << "FAILED: " << what << " at " << dir << " does not verify at sequence "
              << report->first_bad_sequence << ": " << report->problem << "\n";
    return kExitCheckFailed;
  }
  const ChainHead& head = report->verified_head;
  if (head.sequence != expected.sequence || head.hash != expected.hash) {
    std::cout << "FAILED: " << what << " at " << dir << " verifies to sequence " << head.sequence
              << ", head hash " << HashToHex(head.hash) << ", not the recorded sequence "
              << expected.sequence << ", head hash " << HashToHex(expected.hash) << "\n";
    return kExitCheckFailed;
  }
  *events = report->events_checked;
  return kExitOk;
}

// Copies the log at source.data_dir, opened read-only, into `target_dir` (empty or absent);
// the head of what was copied. Starts over when the live log changed its files under it.
Result<ChainHead> CopyLog(const LogOptions& source, const std::string& target_dir) {
  LogOptions options = source;
  options.read_only = true;
  options.read_until = 0;
  options.check_on_open = false;  // a live tail may hold a group being written; verified later
  Status last = Status::Ok();
  for (int attempt = 1; attempt <= kBackupAttemptsMax; ++attempt) {
    if (attempt > 1) EmptyDirectory(target_dir);
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    if (!log.ok()) {
      last = log.status();
      continue;
    }
    std::error_code error;
    std::filesystem::create_directories(target_dir, error);
    if (error) return Status::IOError("cannot create " + target_dir + ": " + error.message());
    last = (*log)->CopyTo(target_dir);
    if (last.ok()) return (*log)->Head();
  }
  EmptyDirectory(target_dir);
  return last;
}

int RunBackup(const CommonOptions& common, const std::string& out) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  const LogOptions& log = config->log;
  Status found = RequireLedgerDirectory(log);
  if (!found.ok()) return Fail(found);
  if (!IsEmptyOrAbsent(out)) {
    return Fail(Status::InvalidArgument(errc::kOutNotEmpty, "-o",
                                        "-o " + out +
                                            " exists and is not empty; back up into a new "
                                            "directory (or an empty one)"));
  }
  Result<ChainHead> head = CopyLog(log, out);
  if (!head.ok()) return Fail(head.status());
  const BackupRecord record{*head, UtcNow(), kVersion};
  Status written = WriteBackupFile(out, record);
  if (!written.ok()) return Fail(written);
  uint64_t events = 0;
  const int verdict = VerifyCopy(log, out, record.head, "the backup", &events);
  if (verdict != kExitOk) return verdict;
  std::cout << "malpro: backed up " << log.data_dir << " to " << out << ": " << events
            << " events verified, head sequence " << head->sequence << ", head hash "
            << HashToHex(head->hash) << " (in " << out << "/" << kBackupFileName
            << "); read models and Merkle tree not copied, serve rebuilds them\n";
  return kExitOk;
}

int RunRestore(const CommonOptions& common, const std::string& from) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  const LogOptions& log = config->log;
  Result<BackupRecord> record = ReadBackupFile(from);
  if (!record.ok()) return Fail(record.status());
  if (!IsEmptyOrAbsent(log.data_dir)) {
    return Fail(Status::InvalidArgument(
        errc::kDataDirNotEmpty, "log.data_dir",
        log.data_dir + " (--data or log.data_dir) exists and is not empty; restore into a new "
                       "or empty directory (never over a log)"));
  }
  uint64_t events = 0;
  int verdict = VerifyCopy(log, from, record->head, "the backup", &events);
  if (verdict != kExitOk) return verdict;
  LogOptions source = log;
  source.data_dir = from;
  Result<ChainHead> copied = CopyLog(source, log.data_dir);
  if (!copied.ok()) return Fail(copied.status());
  verdict = VerifyCopy(log, log.data_dir, record->head, "the restored log", &events);
  if (verdict != kExitOk) return verdict;
  std::cout << "malpro: restored " << from << " (backed up " << record->created_at << ") to "
            << log.data_dir << ": " << events << " events verified, head sequence "
            << record->head.sequence << ", head hash " << HashToHex(record->head.hash)
            << "; malpro serve rebuilds the read models and Merkle tree\n";
  return kExitOk;
}

}  // namespace

void AddBackupCommands(CLI::App& app, std::vector<Command>& commands) {
  auto out = std::make_shared<std::string>();
  CLI::App* backup = app.add_subcommand(
      "backup",
      "copy the event log (-d/log.data_dir) into a new directory and verify the copy; safe "
      "while malpro serve runs on it. Read models and the Merkle tree are not copied (serve "
      "rebuilds them)");
  backup
      ->add_option("-o,--out", *out,
                   "the directory to write the backup into: new, or empty (default: none, "
                   "required)")
      ->required();
  commands.push_back(
      {backup, [out](const CommonOptions& common) { return RunBackup(common, *out); }});

  auto from = std::make_shared<std::string>();
  CLI::App* restore = app.add_subcommand(
      "restore",
      "verify a backup against the head its BACKUP file records, copy it into the data "
      "directory (-d/log.data_dir, which must be new or empty) and verify it again");
  restore
      ->add_option("--from", *from,
                   "the directory malpro backup -o wrote (default: none, required)")
      ->required();
  commands.push_back(
      {restore, [from](const CommonOptions& common) { return RunRestore(common, *from); }});
}

}  // namespace malpro::cli
