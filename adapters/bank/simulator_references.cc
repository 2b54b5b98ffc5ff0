// The simulator's reference numbering (docs/bank-simulator.md, "References never reused"):
// "BJQR" or "BJVA" and 12 digits, one counter for both, reserved in blocks in
// state_dir/references before any of a block is handed out.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "adapters/bank/simulator_impl.h"
#include "engine/error_codes.h"

namespace malpro {
namespace {

constexpr size_t kReferenceDigits = 12;
static_assert(bank_simulator_reference_max == 999'999'999'999, "12 digits after the prefix");
// The reference state, in BankSimulatorOptions::state_dir (docs/bank-simulator.md).
constexpr char kReferenceStateFile[] = "references";
constexpr char kReferenceStateTemp[] = "references.tmp";
constexpr char kReferenceStateLock[] = "references.lock";
constexpr std::string_view kReferenceStateKey = "next_reference ";
// "next_reference " + at most 13 digits + "\n", with room to spare: a larger file is not ours.
constexpr size_t kReferenceStateBytesMax = 64;

std::string Errno() { return std::strerror(errno); }

// An exclusive flock on state_dir/references.lock for as long as it lives, so that simulators
// sharing the directory read and advance the counter one at a time.
class ReferenceStateLock {
 public:
  static Result<std::unique_ptr<ReferenceStateLock>> Acquire(const std::string& dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      return Status::IOError("bank simulator state_dir " + dir +
                             " cannot be created: " + error.message());
    }
    const std::string path = dir + "/" + kReferenceStateLock;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IOError("cannot open " + path + ": " + Errno());
    int locked;
    do {
      locked = ::flock(fd, LOCK_EX);
    } while (locked != 0 && errno == EINTR);
    if (locked != 0) {
      const std::string reason = Errno();
      ::close(fd);
      return Status::IOError("cannot lock " + path + ": " + reason);
    }
    return std::unique_ptr<ReferenceStateLock>(new ReferenceStateLock(fd));
  }
  ~ReferenceStateLock() { ::close(fd_); }  // closing releases the lock
  ReferenceStateLock(const ReferenceStateLock&) = delete;
  ReferenceStateLock& operator=(const ReferenceStateLock&) = delete;

 private:
  explicit ReferenceStateLock(int fd) : fd_(fd) {}
  int fd_;
};

// The first number never handed out, from state_dir/references; 1 when there is no file yet.
// Call with the lock held.
Result<uint64_t> ReadReferenceState(const std::string& dir) {
  const std::string path = dir + "/" + kReferenceStateFile;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return uint64_t{1};
    return Status::IOError("cannot open " + path + ": " + Errno());
  }
  std::string text(kReferenceStateBytesMax + 1, '\0');
  size_t size = 0;
  while (size < text.size()) {
    const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = Errno();
      ::close(fd);
      return Status::IOError("reading " + path + ": " + reason);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(size);
  const Status malformed = Status::Corruption(
      path + " must be one line \"next_reference N\" with N from 1 to " +
      std::to_string(bank_simulator_reference_max + 1) +
      "; it is left as it is (restarting the numbering would hand out references again)");
  if (!text.starts_with(kReferenceStateKey) || !text.ends_with('\n')) return malformed;
  const std::string digits =
      text.substr(kReferenceStateKey.size(), text.size() - kReferenceStateKey.size() - 1);
  if (digits.empty() || digits.size() > kReferenceDigits + 1 || digits[0] == '0' ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return malformed;
  }
  const uint64_t next = std::stoull(digits);
  if (next > bank_simulator_reference_max + 1) return malformed;
  return next;
}

// Replaces state_dir/references with `next`, durably: a temp file, fsync, rename, fsync of the
// directory (so that the rename survives a crash). Call with the lock held.
Status WriteReferenceState(const std::string& dir, uint64_t next) {
  const std::string temp = dir + "/" + kReferenceStateTemp;
  const std::string path = dir + "/" + kReferenceStateFile;
  const std::string text = std::string(kReferenceStateKey) + std::to_string(next) + "\n";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + temp + ": " + Errno());
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = Errno();
      ::close(fd);
      return Status::IOError("writing " + temp + ": " + reason);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string reason = Errno();
    ::close(fd);
    return Status::IOError("syncing " + temp + ": " + reason);
  }
  if (::close(fd) != 0) return Status::IOError("closing " + temp + ": " + Errno());
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Status::IOError("renaming " + temp + " to " + path + ": " + Errno());
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Status::IOError("cannot open " + dir + ": " + Errno());
  const bool synced = ::fsync(dir_fd) == 0;
  const std::string reason = synced ? "" : Errno();
  ::close(dir_fd);
  if (!synced) return Status::IOError("syncing " + dir + ": " + reason);
  return Status::Ok();
}

// Reserves up to bank_simulator_reference_block numbers, none below `floor`, and returns the
// range [first, end): once this returns, state_dir/references durably says `end`.
Result<std::pair<uint64_t, uint64_t>> ReserveReferences(const std::string& dir, uint64_t floor) {
  Result<std::unique_ptr<ReferenceStateLock>> lock = ReferenceStateLock::Acquire(dir);
  if (!lock.ok()) return lock.status();
  Result<uint64_t> next = ReadReferenceState(dir);
  if (!next.ok()) return next.status();
  const uint64_t first = std::max(*next, floor);
  if (first > bank_simulator_reference_max) {
    return Status::Unavailable(errc::kReferencesExhausted,
                               "every bank reference number up to " +
                                   std::to_string(bank_simulator_reference_max) +
                                   " was handed out (" + dir + "/" + kReferenceStateFile + ")");
  }
  const uint64_t end =
      std::min(first + bank_simulator_reference_block, bank_simulator_reference_max + 1);
  MALPRO_RETURN_IF_ERROR(WriteReferenceState(dir, end));
  return std::make_pair(first, end);
}

}  // namespace

std::optional<uint64_t> SimulatedReferenceNumber(std::string_view reference) {
  if (reference.size() != 4 + kReferenceDigits ||
      (!reference.starts_with("BJQR") && !reference.starts_with("BJVA"))) {
    return std::nullopt;
  }
  const std::string_view digits = reference.substr(4);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::stoull(std::string(digits));
}

std::string BankSimulator::Impl::ReferenceOf(std::string_view prefix, uint64_t number) {
  MALPRO_ASSERT(number <= bank_simulator_reference_max);
  char digits[kReferenceDigits + 1];
  std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(number));
  return std::string(prefix) + digits;
}

Result<uint64_t> BankSimulator::Impl::NextReference() {
  if (next_reference_ >= reserved_end_) {
    if (options_.state_dir.empty()) {
      return Status::Unavailable(errc::kReferencesExhausted,
                                 "every bank reference number up to " +
                                     std::to_string(bank_simulator_reference_max) +
                                     " was handed out");
    }
    Result<std::pair<uint64_t, uint64_t>> block =
        ReserveReferences(options_.state_dir, std::max(next_reference_, options_.first_reference));
    if (!block.ok()) return block.status();
    next_reference_ = block->first;
    reserved_end_ = block->second;
  }
  return next_reference_++;
}

Status BankSimulator::Impl::CheckReferenceState() {
  if (options_.state_dir.empty()) return Status::Ok();
  Result<std::unique_ptr<ReferenceStateLock>> lock =
      ReferenceStateLock::Acquire(options_.state_dir);
  if (!lock.ok()) return lock.status();
  return ReadReferenceState(options_.state_dir).status();
}

}  // namespace malpro
