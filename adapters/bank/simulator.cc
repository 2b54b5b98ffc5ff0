#include "adapters/bank/simulator.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <simdjson.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "adapters/bank/http_client.h"
#include "adapters/bank/notify.h"
#include "adapters/bank/snap_client.h"
#include "adapters/bank/snap_signature.h"
#include "adapters/http/request_body.h"
#include "engine/aggregates.h"
#include "engine/civil_time.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/identifiers.h"
#include "engine/json.h"

namespace malpro {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr size_t kReferenceDigits = 12;
static_assert(bank_simulator_reference_max == 999'999'999'999, "12 digits after the prefix");
// The reference state, in BankSimulatorOptions::state_dir (docs/bank-simulator.md).
constexpr char kReferenceStateFile[] = "references";
constexpr char kReferenceStateTemp[] = "references.tmp";
constexpr char kReferenceStateLock[] = "references.lock";
constexpr std::string_view kReferenceStateKey = "next_reference ";
// "next_reference " + at most 13 digits + "\n", with room to spare: a larger file is not ours.
constexpr size_t kReferenceStateBytesMax = 64;
// A late payment (BankSimulator::PayLate) is dated this long before the void that it beat.
constexpr int64_t kLatePaymentLeadUs = kMicrosPerSecond;

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  MALPRO_ASSERT(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) ==
                1);
  return BytesToHex(raw);
}

// Digits derived from `text`, for the merchant PAN and NMID of a generated QRIS.
std::string DigitsOf(std::string_view text, size_t count) {
  const Hash digest = Sha256(text);
  std::string digits;
  for (size_t i = 0; digits.size() < count; ++i) digits.push_back('0' + digest[i % 32] % 10);
  return digits;
}

std::string AmountJson(Money amount) {
  return JsonWriter()
      .BeginObject()
      .Field("value", FormatSnap(amount))
      .Field("currency", "IDR")
      .EndObject()
      .Take();
}

HttpResponse JsonAnswer(const HttpRequest& request, int status, std::string body) {
  HttpResponse response{static_cast<http::status>(status), request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// A SNAP answer: responseCode = HTTP status + service code + case code, then `extra` fields.
HttpResponse Snap(const HttpRequest& request, int status, std::string_view service,
                  std::string_view case_code, std::string_view message,
                  const std::function<void(JsonWriter&)>& extra = {}) {
  JsonWriter w;
  w.BeginObject()
      .Field("responseCode", std::to_string(status) + std::string(service) + std::string(case_code))
      .Field("responseMessage", message);
  if (extra) extra(w);
  return JsonAnswer(request, status, w.EndObject().Take());
}

HttpResponse ControlError(const HttpRequest& request, const Status& status) {
  JsonWriter w;
  w.BeginObject()
      .Key("error")
      .BeginObject()
      .Field("code", status.error_code())
      .Field("message", status.message());
  if (!status.field().empty()) w.Field("field", status.field());
  return JsonAnswer(request, ErrorStatus(status), w.EndObject().EndObject().Take());
}

// The SNAP service code of a transaction path; empty for any other path.
std::string_view TransactionService(std::string_view target) {
  if (target == snap_qris_generate_path) return "47";
  if (target == snap_qris_query_path) return "51";
  if (target == snap_qris_cancel_path) return "77";
  if (target == snap_va_create_path) return "27";
  if (target == snap_va_status_path) return "26";
  if (target == snap_va_delete_path) return "31";
  return "";
}

// A boolean field of a control body; false when absent. `json` was parsed before.
Result<bool> OptionalBool(const std::string& json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::element value;
  if (root[key].get(value) != simdjson::SUCCESS || value.is_null()) return false;
  bool flag = false;
  if (value.get(flag) != simdjson::SUCCESS) {
    return Status::InvalidArgument(errc::kBodyFieldWrongType, key,
                                   std::string(key) + " must be true or false");
  }
  return flag;
}

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

// One payment issued by the simulated bank.
struct BankSimulator::Issued {
  std::string channel;          // QRIS or VA
  std::string payment_id;       // partnerReferenceNo / trxId
  std::string reference_no;     // the bank's reference
  std::string virtual_account;  // VA only
  std::string partner_service_id, customer_no;
  std::string merchant_id;
  Money amount;
  std::string state = "pending";  // pending, paid, failed, cancelled (voided by the partner)
  int64_t issued_at_us = 0;
  int64_t voided_at_us = 0;      // when qr-mpm-cancel / delete-va voided it; 0: never
  bool paid_after_void = false;  // paid by PayLate: money moved for a void request
  int64_t paid_at_us = 0;
  std::string last_external_id;  // of the last notification sent
  std::string last_body;
  std::string last_path;
};

class BankSimulator::Impl {
 public:
  explicit Impl(BankSimulatorOptions options) : options_(std::move(options)) {
    MALPRO_ASSERT(options_.first_reference >= 1 &&
                  options_.first_reference <= bank_simulator_reference_max);
    next_reference_ = options_.first_reference;
    // Without a state_dir every number is "reserved" in memory at once.
    reserved_end_ = options_.state_dir.empty() ? bank_simulator_reference_max + 1 : 0;
  }

  int64_t Now() const { return options_.clock ? options_.clock() : WallClockMicros(); }
  HttpResponse Handle(const HttpRequest& request);
  Result<NotifyOutcome> Act(std::string_view action, std::string_view reference,
                            std::string_view mode, bool late = false);
  // Checks at start that state_dir can be created and locked and its file read.
  Status CheckReferenceState();
  std::vector<SimulatedStatementEntry> Statement(std::string_view date) const;

  BankSimulatorOptions options_;
  TokenTable no_tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;

 private:
  HttpResponse IssueToken(const HttpRequest& request);
  std::optional<HttpResponse> Authenticate(const HttpRequest& request, std::string_view service);
  HttpResponse Transaction(const HttpRequest& request);
  HttpResponse GenerateQris(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse QueryQris(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse CreateVa(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse VaStatus(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse CancelQris(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse DeleteVa(const HttpRequest& request, simdjson::dom::element body);
  // Voids a request that was not paid; the time of the void (now, or of the first void).
  int64_t Void(Issued& issued);
  // The next reference number, reserving a block in state_dir first when the reserved ones
  // are used up. Call with mutex_ held.
  Result<uint64_t> NextReference();
  // Whether /sim/pay, /sim/delay or /sim/fail (`action`) may settle `issued` now.
  static Status CheckSettleable(const Issued& issued, std::string_view action, bool late);
  HttpResponse Control(const HttpRequest& request);
  Issued* Find(std::string_view reference);
  Result<NotifyOutcome> Send(const std::string& path, const std::string& body,
                             const std::string& external_id, bool break_signature);
  Result<std::string> PartnerToken();
  std::string NoticeBody(const Issued& issued, Money amount) const;

  mutable std::mutex mutex_;
  std::map<std::string, int64_t> tokens_;  // issued bearer token -> expiry (UTC us)
  // X-EXTERNAL-ID of the day -> (digest of the body, the answer given), so a retry gets the
  // same answer and a reuse for another request is refused.
  std::map<std::string, std::pair<std::string, HttpResponse>> external_ids_;
  std::vector<Issued> issued_;
  std::map<std::string, size_t> index_;  // payment id, reference, VA number -> latest issued
  uint64_t next_reference_ = 1;          // the next number to hand out, if below reserved_end_
  uint64_t reserved_end_ = 0;            // numbers below it are reserved for this simulator
  uint64_t next_external_id_ = 1;
  std::mutex partner_mutex_;  // guards the partner's token below
  std::string partner_token_;
  int64_t partner_token_expires_us_ = 0;
};

HttpResponse BankSimulator::Impl::Handle(const HttpRequest& request) {
  const std::string_view target = request.target();
  if (target.starts_with("/sim/")) return Control(request);
  if (request.method() != http::verb::post)
    return Snap(request, 405, "00", "00", "Method Not Allowed");
  if (target == snap_access_token_path) return IssueToken(request);
  if (!TransactionService(target).empty()) return Transaction(request);
  return Snap(request, 404, "00", "00", "Not Found");
}

HttpResponse BankSimulator::Impl::IssueToken(const HttpRequest& request) {
  constexpr std::string_view service = "73";
  const std::string_view client = request["X-CLIENT-KEY"];
  const std::string_view timestamp = request["X-TIMESTAMP"];
  if (client.empty() || timestamp.empty() || request["X-SIGNATURE"].empty()) {
    return Snap(request, 400, service, "02",
                "Invalid Mandatory Field X-CLIENT-KEY/X-TIMESTAMP/X-SIGNATURE");
  }
  if (client != options_.client_id)
    return Snap(request, 401, service, "00", "Unauthorized. [Unknown client]");
  Result<int64_t> at = ParseSnapTimestamp(timestamp);
  if (!at.ok()) return Snap(request, 400, service, "01", "Invalid Field Format X-TIMESTAMP");
  if (std::llabs(*at - Now()) > options_.timestamp_window_s * kMicrosPerSecond) {
    return Snap(request, 401, service, "00", "Unauthorized. [Timestamp outside the window]");
  }
  Result<bool> verified =
      SnapRsaVerify(options_.client_public_key_pem, SnapAccessTokenStringToSign(client, timestamp),
                    request["X-SIGNATURE"]);
  if (!verified.ok() || !*verified)
    return Snap(request, 401, service, "00", "Unauthorized. [Signature]");
  const std::string token = RandomHex(24);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t now = Now();
    std::erase_if(tokens_, [now](const auto& entry) { return entry.second <= now; });
    tokens_[token] = now + options_.token_lifetime_s * kMicrosPerSecond;
  }
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Field("accessToken", token)
        .Field("tokenType", "Bearer")
        .Field("expiresIn", std::to_string(options_.token_lifetime_s));
  });
}

std::optional<HttpResponse> BankSimulator::Impl::Authenticate(const HttpRequest& request,
                                                              std::string_view service) {
  for (const char* header : {"Authorization", "X-TIMESTAMP", "X-SIGNATURE", "X-PARTNER-ID",
                             "X-EXTERNAL-ID", "CHANNEL-ID"}) {
    if (request[header].empty()) {
      return Snap(request, 400, service, "02", "Invalid Mandatory Field " + std::string(header));
    }
  }
  const std::string_view authorization = request["Authorization"];
  if (!authorization.starts_with("Bearer "))
    return Snap(request, 401, service, "01", "Invalid Token (B2B)");
  const std::string token(authorization.substr(7));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = tokens_.find(token);
    if (found == tokens_.end() || found->second <= Now()) {
      return Snap(request, 401, service, "01", "Invalid Token (B2B)");
    }
  }
  if (request["X-PARTNER-ID"] != options_.client_id) {
    return Snap(request, 401, service, "00", "Unauthorized. [Unknown partner]");
  }
  Result<int64_t> at = ParseSnapTimestamp(request["X-TIMESTAMP"]);
  if (!at.ok()) return Snap(request, 400, service, "01", "Invalid Field Format X-TIMESTAMP");
  if (std::llabs(*at - Now()) > options_.timestamp_window_s * kMicrosPerSecond) {
    return Snap(request, 401, service, "00", "Unauthorized. [Timestamp outside the window]");
  }
  Result<std::string> text = SnapTransactionStringToSign("POST", request.target(), token,
                                                         request.body(), request["X-TIMESTAMP"]);
  if (!text.ok()) return Snap(request, 400, service, "01", "Invalid Field Format body");
  if (!SnapHmacSignatureMatches(options_.client_secret, *text, request["X-SIGNATURE"])) {
    return Snap(request, 401, service, "00", "Unauthorized. [Signature]");
  }
  return std::nullopt;
}

HttpResponse BankSimulator::Impl::Transaction(const HttpRequest& request) {
  const std::string_view target = request.target();
  const std::string_view service = TransactionService(target);
  if (std::optional<HttpResponse> refusal = Authenticate(request, service)) return *refusal;
  const std::string external_key =
      SnapTimestamp(Now()).substr(0, 10) + "|" + std::string(request["X-EXTERNAL-ID"]);
  const std::string digest = HashToHex(Sha256(std::string(target) + "\n" + request.body()));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto seen = external_ids_.find(external_key);
    if (seen != external_ids_.end()) {
      if (seen->second.first != digest) return Snap(request, 409, service, "00", "Conflict");
      HttpResponse again = seen->second.second;
      again.keep_alive(request.keep_alive());
      return again;
    }
  }
  simdjson::dom::parser parser;
  simdjson::dom::element body;
  if (parser.parse(request.body()).get(body) != simdjson::SUCCESS || !body.is_object()) {
    return Snap(request, 400, service, "01", "Invalid Field Format body");
  }
  HttpResponse answer = target == snap_qris_generate_path ? GenerateQris(request, body)
                        : target == snap_qris_query_path  ? QueryQris(request, body)
                        : target == snap_qris_cancel_path ? CancelQris(request, body)
                        : target == snap_va_create_path   ? CreateVa(request, body)
                        : target == snap_va_status_path   ? VaStatus(request, body)
                                                          : DeleteVa(request, body);
  if (answer.result_int() < 500) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (external_ids_.size() >= bank_simulator_external_ids_max) {
      // Ids are unique per day only: those of earlier days need not be remembered.
      const std::string today = external_key.substr(0, 11);
      std::erase_if(external_ids_,
                    [&](const auto& entry) { return !entry.first.starts_with(today); });
    }
    if (external_ids_.size() < bank_simulator_external_ids_max) {
      external_ids_.emplace(external_key, std::make_pair(digest, answer));
    }
  }
  return answer;
}

namespace {

// A required string of a request body, or the SNAP refusal naming it.
std::optional<std::string> Required(simdjson::dom::element body, std::string_view key) {
  std::string_view value;
  if (body[key].get(value) != simdjson::SUCCESS || value.empty()) return std::nullopt;
  return std::string(value);
}

// SNAP latestTransactionStatus / paymentFlagStatus of a state.
std::string_view LatestStatus(std::string_view state) {
  if (state == "paid") return "00";
  if (state == "cancelled") return "05";
  if (state == "failed") return "06";
  return "03";  // pending
}

Result<Money> RequestAmount(simdjson::dom::element body, std::string_view key) {
  std::string_view value, currency;
  if (body[key]["value"].get(value) != simdjson::SUCCESS ||
      body[key]["currency"].get(currency) != simdjson::SUCCESS || currency != "IDR") {
    return Status::InvalidArgument(errc::kAmountInvalid, key, std::string(key));
  }
  Result<Money> amount = ParseSnapAmount(value, key);
  if (amount.ok() && *amount <= Money()) {
    return Status::InvalidArgument(errc::kAmountInvalid, key, std::string(key));
  }
  return amount;
}

}  // namespace

HttpResponse BankSimulator::Impl::GenerateQris(const HttpRequest& request,
                                               simdjson::dom::element body) {
  constexpr std::string_view service = "47";
  std::optional<std::string> payment_id = Required(body, "partnerReferenceNo");
  std::optional<std::string> merchant_id = Required(body, "merchantId");
  if (!payment_id)
    return Snap(request, 400, service, "02", "Invalid Mandatory Field partnerReferenceNo");
  if (!merchant_id) return Snap(request, 400, service, "02", "Invalid Mandatory Field merchantId");
  Result<Money> amount = RequestAmount(body, "amount");
  if (!amount.ok()) return Snap(request, 400, service, "01", "Invalid Field Format amount");
  std::lock_guard<std::mutex> lock(mutex_);
  if (issued_.size() >= bank_simulator_payments_max) {
    return Snap(request, 503, service, "00", "Service Unavailable. [Simulator full]");
  }
  Result<uint64_t> number = NextReference();
  if (!number.ok()) {
    return Snap(request, 503, service, "00",
                "Service Unavailable. [References: " + number.status().message() + "]");
  }
  Issued issued;
  issued.channel = "QRIS";
  issued.payment_id = *payment_id;
  issued.issued_at_us = Now();
  char reference[32];
  std::snprintf(reference, sizeof reference, "BJQR%012llu",
                static_cast<unsigned long long>(*number));
  issued.reference_no = reference;
  issued.merchant_id = *merchant_id;
  issued.amount = *amount;
  QrisMerchant merchant;
  merchant.merchant_pan = "936001140" + DigitsOf(*merchant_id, 10);
  merchant.merchant_id = merchant_id->substr(0, 15);
  merchant.nmid = "ID10" + DigitsOf("nmid" + *merchant_id, 11);
  std::string name = merchant_id->substr(0, qris_merchant_name_chars_max);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  merchant.name = name;
  Result<std::string> content = BuildQrisPayload(merchant, *amount, issued.reference_no);
  if (!content.ok())
    return Snap(request, 400, service, "01", "Invalid Field Format " + content.status().message());
  index_[issued.payment_id] = index_[issued.reference_no] = issued_.size();
  issued_.push_back(issued);
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Field("referenceNo", issued.reference_no)
        .Field("partnerReferenceNo", issued.payment_id)
        .Field("qrContent", *content)
        .Field("merchantName", merchant.name);
  });
}

HttpResponse BankSimulator::Impl::QueryQris(const HttpRequest& request,
                                            simdjson::dom::element body) {
  constexpr std::string_view service = "51";
  std::optional<std::string> reference = Required(body, "originalReferenceNo");
  std::optional<std::string> payment_id = Required(body, "originalPartnerReferenceNo");
  if (!reference && !payment_id) {
    return Snap(request, 400, service, "02", "Invalid Mandatory Field originalReferenceNo");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const Issued* issued = Find(reference ? *reference : *payment_id);
  if (issued == nullptr || issued->channel != "QRIS") {
    return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
      w.Field("latestTransactionStatus", "07").Field("transactionStatusDesc", "Not Found");
    });
  }
  const std::string_view status = LatestStatus(issued->state);
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Field("originalReferenceNo", issued->reference_no)
        .Field("originalPartnerReferenceNo", issued->payment_id)
        .Field("serviceCode", "47")
        .Field("latestTransactionStatus", status)
        .Field("transactionStatusDesc", issued->state);
    if (issued->state == "paid") w.Field("paidTime", SnapTimestamp(issued->paid_at_us));
    w.Key("amount").Raw(AmountJson(issued->amount));
  });
}

HttpResponse BankSimulator::Impl::CreateVa(const HttpRequest& request,
                                           simdjson::dom::element body) {
  constexpr std::string_view service = "27";
  for (const char* key : {"partnerServiceId", "customerNo", "virtualAccountNo", "trxId"}) {
    if (!Required(body, key))
      return Snap(request, 400, service, "02", "Invalid Mandatory Field " + std::string(key));
  }
  Result<Money> amount = RequestAmount(body, "totalAmount");
  if (!amount.ok()) return Snap(request, 400, service, "01", "Invalid Field Format totalAmount");
  Issued issued;
  issued.channel = "VA";
  issued.partner_service_id = *Required(body, "partnerServiceId");
  issued.customer_no = *Required(body, "customerNo");
  issued.virtual_account = *Required(body, "virtualAccountNo");
  issued.payment_id = *Required(body, "trxId");
  issued.amount = *amount;
  if (issued.virtual_account != issued.partner_service_id + issued.customer_no ||
      issued.partner_service_id.size() != 8) {
    return Snap(request, 400, service, "01",
                "Invalid Field Format virtualAccountNo (partnerServiceId of 8 + customerNo)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (issued_.size() >= bank_simulator_payments_max) {
    return Snap(request, 503, service, "00", "Service Unavailable. [Simulator full]");
  }
  const Issued* existing = Find(issued.virtual_account);
  if (existing != nullptr && existing->state == "pending") {
    return Snap(request, 409, service, "00", "Conflict. [Virtual account in use]");
  }
  Result<uint64_t> number = NextReference();
  if (!number.ok()) {
    return Snap(request, 503, service, "00",
                "Service Unavailable. [References: " + number.status().message() + "]");
  }
  issued.issued_at_us = Now();
  char reference[32];
  std::snprintf(reference, sizeof reference, "BJVA%012llu",
                static_cast<unsigned long long>(*number));
  issued.reference_no = reference;
  index_[issued.payment_id] = index_[issued.reference_no] = index_[issued.virtual_account] =
      issued_.size();
  issued_.push_back(issued);
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Key("virtualAccountData")
        .BeginObject()
        .Field("partnerServiceId", issued.partner_service_id)
        .Field("customerNo", issued.customer_no)
        .Field("virtualAccountNo", issued.virtual_account)
        .Field("trxId", issued.payment_id)
        .Field("referenceNo", issued.reference_no)
        .Key("totalAmount")
        .Raw(AmountJson(issued.amount))
        .EndObject();
  });
}

HttpResponse BankSimulator::Impl::VaStatus(const HttpRequest& request,
                                           simdjson::dom::element body) {
  constexpr std::string_view service = "26";
  std::optional<std::string> number = Required(body, "virtualAccountNo");
  if (!number) return Snap(request, 400, service, "02", "Invalid Mandatory Field virtualAccountNo");
  std::lock_guard<std::mutex> lock(mutex_);
  const Issued* issued = Find(*number);
  if (issued == nullptr || issued->channel != "VA") {
    return Snap(request, 404, service, "12", "Invalid Bill/Virtual Account [Not Found]");
  }
  const std::string_view status = LatestStatus(issued->state);
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Key("virtualAccountData")
        .BeginObject()
        .Field("partnerServiceId", issued->partner_service_id)
        .Field("customerNo", issued->customer_no)
        .Field("virtualAccountNo", issued->virtual_account)
        .Field("inquiryRequestId", issued->payment_id)
        .Field("paymentRequestId", issued->reference_no)
        .Field("paymentFlagStatus", status)
        .Key("paymentFlagReason")
        .BeginObject()
        .Field("english", issued->state)
        .Field("indonesia", issued->state)
        .EndObject();
    if (issued->state == "paid") w.Field("trxDateTime", SnapTimestamp(issued->paid_at_us));
    w.Key("paidAmount").Raw(AmountJson(issued->amount)).EndObject();
  });
}

int64_t BankSimulator::Impl::Void(Issued& issued) {
  // A failed request stays failed: it cannot be paid either way.
  if (issued.state == "pending") {
    issued.state = "cancelled";
    issued.voided_at_us = Now();
  }
  return issued.voided_at_us != 0 ? issued.voided_at_us : Now();
}

HttpResponse BankSimulator::Impl::CancelQris(const HttpRequest& request,
                                             simdjson::dom::element body) {
  constexpr std::string_view service = "77";
  std::optional<std::string> reference = Required(body, "originalReferenceNo");
  if (!reference) {
    return Snap(request, 400, service, "02", "Invalid Mandatory Field originalReferenceNo");
  }
  if (!Required(body, "reason"))
    return Snap(request, 400, service, "02", "Invalid Mandatory Field reason");
  // Optional in SNAP; when given they must name the same payment.
  std::optional<std::string> payment_id = Required(body, "originalPartnerReferenceNo");
  std::optional<std::string> merchant_id = Required(body, "merchantId");
  std::lock_guard<std::mutex> lock(mutex_);
  Issued* issued = Find(*reference);
  if (issued == nullptr || issued->channel != "QRIS" || issued->reference_no != *reference ||
      (payment_id && *payment_id != issued->payment_id) ||
      (merchant_id && *merchant_id != issued->merchant_id)) {
    return Snap(request, 404, service, "01", "Transaction Not Found");
  }
  if (issued->state == "paid") {
    return Snap(request, 404, service, snap_case_paid_bill,
                "Paid Bill. [Transaction already paid]");
  }
  const int64_t cancelled_at = Void(*issued);
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Field("originalReferenceNo", issued->reference_no)
        .Field("originalPartnerReferenceNo", issued->payment_id)
        .Field("cancelTime", SnapTimestamp(cancelled_at))
        .Field("transactionDate", SnapTimestamp(issued->issued_at_us));
  });
}

HttpResponse BankSimulator::Impl::DeleteVa(const HttpRequest& request,
                                           simdjson::dom::element body) {
  constexpr std::string_view service = "31";
  for (const char* key : {"partnerServiceId", "customerNo", "virtualAccountNo", "trxId"}) {
    if (!Required(body, key))
      return Snap(request, 400, service, "02", "Invalid Mandatory Field " + std::string(key));
  }
  const std::string number = *Required(body, "virtualAccountNo");
  if (number != *Required(body, "partnerServiceId") + *Required(body, "customerNo")) {
    return Snap(request, 400, service, "01",
                "Invalid Field Format virtualAccountNo (partnerServiceId + customerNo)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Issued* issued = Find(number);
  if (issued == nullptr || issued->channel != "VA" || issued->virtual_account != number ||
      issued->payment_id != *Required(body, "trxId")) {
    return Snap(request, 404, service, "12", "Invalid Bill/Virtual Account [Not Found]");
  }
  if (issued->state == "paid") {
    return Snap(request, 404, service, snap_case_paid_bill,
                "Paid Bill. [Virtual account already paid]");
  }
  Void(*issued);
  return Snap(request, 200, service, "00", "Successful", [&](JsonWriter& w) {
    w.Key("virtualAccountData")
        .BeginObject()
        .Field("partnerServiceId", issued->partner_service_id)
        .Field("customerNo", issued->customer_no)
        .Field("virtualAccountNo", issued->virtual_account)
        .Field("trxId", issued->payment_id)
        .EndObject();
  });
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

BankSimulator::Issued* BankSimulator::Impl::Find(std::string_view reference) {
  auto found = index_.find(std::string(reference));
  return found == index_.end() ? nullptr : &issued_[found->second];
}

std::string BankSimulator::Impl::NoticeBody(const Issued& issued, Money amount) const {
  JsonWriter w;
  w.BeginObject();
  if (issued.channel == "QRIS") {
    const std::string status = issued.state == "paid" ? "00" : "06";
    w.Field("originalReferenceNo", issued.reference_no)
        .Field("originalPartnerReferenceNo", issued.payment_id)
        .Field("latestTransactionStatus", status)
        .Field("transactionStatusDesc", issued.state == "paid" ? "success" : "failed at the bank")
        .Key("amount")
        .Raw(AmountJson(amount));
    if (issued.state == "paid") {
      w.Key("additionalInfo")
          .BeginObject()
          .Field("paidTime", SnapTimestamp(issued.paid_at_us))
          .EndObject();
    }
  } else {
    w.Field("partnerServiceId", issued.partner_service_id)
        .Field("customerNo", issued.customer_no)
        .Field("virtualAccountNo", issued.virtual_account)
        .Field("trxId", issued.payment_id)
        .Field("paymentRequestId", issued.reference_no)
        .Key("paidAmount")
        .Raw(AmountJson(amount))
        .Field("trxDateTime", SnapTimestamp(issued.paid_at_us));
  }
  return w.EndObject().Take();
}

Result<std::string> BankSimulator::Impl::PartnerToken() {
  std::lock_guard<std::mutex> lock(partner_mutex_);
  if (!partner_token_.empty() && Now() < partner_token_expires_us_) return partner_token_;
  Result<HttpEndpoint> endpoint = ParseHttpUrl(options_.callback_base_url, "callback_base_url");
  if (!endpoint.ok()) return endpoint.status();
  const std::string timestamp = SnapTimestamp(Now());
  Result<std::string> signature =
      SnapRsaSign(options_.bank_private_key_pem,
                  SnapAccessTokenStringToSign(options_.notify_partner_id, timestamp));
  if (!signature.ok()) return signature.status();
  Result<HttpReply> reply =
      SendHttp(*endpoint, "POST", snap_access_token_path,
               {{"X-TIMESTAMP", timestamp},
                {"X-CLIENT-KEY", options_.notify_partner_id},
                {"X-SIGNATURE", *signature}},
               R"({"grantType":"client_credentials"})", options_.callback_timeout_ms);
  if (!reply.ok()) return reply.status();
  MALPRO_RETURN_IF_ERROR(CheckSnapAnswer(*reply, "partner access token", "73"));
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(reply->body).value_unsafe();
  std::string_view token, expires_in;
  if (root["accessToken"].get(token) != simdjson::SUCCESS ||
      root["expiresIn"].get(expires_in) != simdjson::SUCCESS ||
      expires_in.find_first_not_of("0123456789") != std::string_view::npos || expires_in.empty()) {
    return Status::Unavailable(errc::kBankAnswerInvalid,
                               "the partner's token answer lacks accessToken or expiresIn");
  }
  partner_token_ = std::string(token);
  partner_token_expires_us_ =
      Now() + (std::stoll(std::string(expires_in)) - snap_token_renew_margin_s) * kMicrosPerSecond;
  return partner_token_;
}

Result<NotifyOutcome> BankSimulator::Impl::Send(const std::string& path, const std::string& body,
                                                const std::string& external_id,
                                                bool break_signature) {
  NotifyOutcome outcome;
  if (options_.callback_base_url.empty()) return outcome;
  Result<HttpEndpoint> endpoint = ParseHttpUrl(options_.callback_base_url, "callback_base_url");
  if (!endpoint.ok()) return endpoint.status();
  const std::string timestamp = SnapTimestamp(Now());
  std::map<std::string, std::string> headers = {{"X-TIMESTAMP", timestamp},
                                                {"X-PARTNER-ID", options_.notify_partner_id},
                                                {"X-EXTERNAL-ID", external_id},
                                                {"CHANNEL-ID", options_.channel_id}};
  std::string signature;
  if (options_.notify_authentication == "hmac") {
    Result<std::string> token = PartnerToken();
    if (!token.ok()) return token.status();
    Result<std::string> text = SnapTransactionStringToSign("POST", path, *token, body, timestamp);
    if (!text.ok()) return text.status();
    signature = SnapHmacSignature(options_.notify_client_secret, *text);
    headers["Authorization"] = "Bearer " + *token;
  } else {
    Result<std::string> text = SnapNotificationStringToSign("POST", path, body, timestamp);
    if (!text.ok()) return text.status();
    Result<std::string> signed_text = SnapRsaSign(options_.bank_private_key_pem, *text);
    if (!signed_text.ok()) return signed_text.status();
    signature = *signed_text;
  }
  // A broken signature: the right length and alphabet, the wrong bytes.
  if (break_signature)
    signature[signature.size() / 2] = signature[signature.size() / 2] == 'A' ? 'B' : 'A';
  headers["X-SIGNATURE"] = signature;
  Result<HttpReply> reply =
      SendHttp(*endpoint, "POST", path, headers, body, options_.callback_timeout_ms);
  if (!reply.ok()) return reply.status();
  outcome.sent = true;
  outcome.status = reply->status;
  outcome.body = reply->body;
  return outcome;
}

Status BankSimulator::Impl::CheckSettleable(const Issued& issued, std::string_view action,
                                            bool late) {
  const bool voided = issued.state == "cancelled";
  if (late && !voided) {
    return Status::Conflict(errc::kPaymentNotVoided, "late",
                            "late pays a request voided at the bank (qr-mpm-cancel, delete-va); "
                            "this one is " +
                                issued.state);
  }
  if (issued.state != "pending" && !late) {
    return Status::Conflict(
        errc::kPaymentNotPending, "reference",
        "the payment is " + issued.state +
            (voided ? " (voided at the bank); \"late\":true pays it anyway, as a payer who paid "
                      "just before the void arrived"
                    : ""));
  }
  if (action == "fail" && issued.channel == "VA") {
    return Status::Conflict(errc::kVaCannotFail, "reference",
                            "a virtual account has no failed notification; it just stays unpaid");
  }
  return Status::Ok();
}

Result<NotifyOutcome> BankSimulator::Impl::Act(std::string_view action, std::string_view reference,
                                               std::string_view mode, bool late) {
  std::string path, body, external_id;
  bool break_signature = false;
  if (late && action != "pay" && action != "delay") {
    return Status::InvalidArgument(errc::kLateNotApplicable, "late",
                                   "late applies to /sim/pay and /sim/delay only");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Issued* issued = Find(reference);
    if (issued == nullptr) {
      return Status::NotFound(errc::kReferenceUnknown, "reference",
                              "no payment with reference " + std::string(reference));
    }
    path = issued->channel == "QRIS" ? snap_qris_notify_path : snap_va_payment_path;
    if (action == "pay" || action == "delay" || action == "fail") {
      MALPRO_RETURN_IF_ERROR(CheckSettleable(*issued, action, late));
      issued->state = action == "fail" ? "failed" : "paid";
      // A late payment beat the void: dated just before it, never before the request.
      issued->paid_at_us =
          late ? std::max(issued->issued_at_us, issued->voided_at_us - kLatePaymentLeadUs) : Now();
      issued->paid_after_void = late;
      if (action == "delay") return NotifyOutcome{};  // only a query tells
      body = NoticeBody(*issued, issued->amount);
      external_id = std::to_string(Now()) + std::to_string(next_external_id_++);
      issued->last_external_id = external_id;
      issued->last_body = body;
      issued->last_path = path;
    } else if (action == "duplicate") {
      if (issued->last_body.empty()) {
        return Status::Conflict(errc::kNothingToRepeat, "reference",
                                "no notification was sent for it yet");
      }
      body = issued->last_body;
      external_id = issued->last_external_id;
    } else if (action == "corrupt") {
      if (mode != "signature" && mode != "amount") {
        return Status::InvalidArgument(errc::kModeInvalid, "mode", "mode must be signature or amount");
      }
      Issued copy = *issued;
      if (copy.state == "pending") {
        copy.state = "paid";
        copy.paid_at_us = Now();
      }
      body =
          NoticeBody(copy, mode == "amount" ? copy.amount + Money::FromRupiah(1'000) : copy.amount);
      external_id = std::to_string(Now()) + std::to_string(next_external_id_++);
      break_signature = mode == "signature";
    } else {
      return Status::NotFound(errc::kRouteNotFound, "path", "no such control operation");
    }
  }
  return Send(path, body, external_id, break_signature);
}

std::vector<SimulatedStatementEntry> BankSimulator::Impl::Statement(std::string_view date) const {
  std::vector<SimulatedStatementEntry> entries;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Issued& issued : issued_) {
    if (issued.state != "paid") continue;
    const std::string booked = FormatIsoDate(JakartaDate(issued.paid_at_us));
    if (booked != date) continue;
    const std::string bank_reference =
        issued.channel == "VA" ? issued.virtual_account : issued.reference_no;
    entries.push_back({booked, issued.payment_id, bank_reference, issued.amount, "C",
                       issued.channel + " " + issued.payment_id + " " + bank_reference,
                       issued.paid_at_us});
  }
  return entries;
}

HttpResponse BankSimulator::Impl::Control(const HttpRequest& request) {
  const std::string_view target = request.target();
  if (request.method() == http::verb::get && target.starts_with("/sim/statement")) {
    // ?date=YYYY-MM-DD[&format=json|csv]
    std::string date;
    std::string format = "json";
    const size_t query = target.find('?');
    for (size_t at = query; at != std::string_view::npos && at + 1 < target.size();) {
      const size_t next = target.find('&', at + 1);
      const std::string_view pair = target.substr(at + 1, next == std::string_view::npos
                                                              ? std::string_view::npos
                                                              : next - at - 1);
      if (pair.starts_with("date=")) date = std::string(pair.substr(5));
      if (pair.starts_with("format=")) format = std::string(pair.substr(7));
      at = next;
    }
    if (!ParseIsoDate(date, "date").ok() || date.size() != 10) {
      return ControlError(
          request, Status::InvalidArgument(errc::kQueryInvalid, "date", "date must be YYYY-MM-DD"));
    }
    if (format != "json" && format != "csv") {
      return ControlError(
          request, Status::InvalidArgument(errc::kQueryInvalid, "format", "format must be json or csv"));
    }
    if (format == "csv") {
      std::string statement_id = "BJTM-" + date;
      statement_id.erase(std::remove(statement_id.begin() + 5, statement_id.end(), '-'),
                         statement_id.end());
      HttpResponse response{http::status::ok, request.version()};
      response.set(http::field::content_type, "text/csv");
      response.keep_alive(request.keep_alive());
      response.body() =
          SimulatedStatementCsv(statement_id, options_.collection_account, Statement(date));
      response.prepare_payload();
      return response;
    }
    JsonWriter w;
    w.BeginObject().Field("date", date).Field("simulated", true).Key("entries").BeginArray();
    for (const SimulatedStatementEntry& entry : Statement(date)) {
      w.BeginObject()
          .Field("date", entry.date)
          .Field("reference", entry.reference)
          .Field("bank_reference", entry.bank_reference)
          .Field("amount", FormatSnap(entry.amount))
          .Field("currency", "IDR")
          .Field("credit_debit", entry.credit_debit)
          .Field("description", entry.description)
          .Field("booked_at", SnapTimestamp(entry.booked_at_us))
          .EndObject();
    }
    return JsonAnswer(request, 200, w.EndArray().EndObject().Take());
  }
  if (request.method() == http::verb::get && target == "/sim/payments") {
    JsonWriter w;
    w.BeginObject().Field("simulated", true).Key("payments").BeginArray();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Issued& issued : issued_) {
      w.BeginObject()
          .Field("payment_id", issued.payment_id)
          .Field("channel", issued.channel)
          .Field("reference_no", issued.reference_no)
          .Field("virtual_account_no", issued.virtual_account)
          .Field("amount", FormatSnap(issued.amount))
          .Field("state", issued.state)
          .Field("voided", issued.voided_at_us != 0)
          .Field("paid_after_void", issued.paid_after_void)
          .EndObject();
    }
    return JsonAnswer(request, 200, w.EndArray().EndObject().Take());
  }
  if (request.method() != http::verb::post) {
    return ControlError(request,
                        Status::NotFound(errc::kRouteNotFound, "path", "no such control route"));
  }
  RequestBody body(request.body());
  body.AllowOnly({"reference", "mode", "late"});
  const std::string reference = body.String("reference");
  const std::string mode = body.OptionalString("mode");
  if (!body.status().ok()) return ControlError(request, body.status());
  Result<bool> late = OptionalBool(request.body(), "late");
  if (!late.ok()) return ControlError(request, late.status());
  Result<NotifyOutcome> outcome = Act(target.substr(5), reference, mode, *late);
  if (!outcome.ok()) return ControlError(request, outcome.status());
  JsonWriter w;
  w.BeginObject().Field("reference", reference).Field("notified", outcome->sent);
  if (outcome->sent) {
    w.Field("partner_status", static_cast<int64_t>(outcome->status));
    w.Key("partner_answer").Raw(outcome->body.empty() ? "null" : outcome->body);
  }
  return JsonAnswer(request, 200, w.EndObject().Take());
}

BankSimulator::BankSimulator(BankSimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BankSimulator::~BankSimulator() { Stop(); }

Status BankSimulator::Start() {
  // The project's HTTP server with an Api whose only routes are this simulator's: the same
  // limits, timeouts and worker pool as the real API, nothing else reachable.
  Impl* impl = impl_.get();
  impl->api_ = std::make_unique<Api>(
      ApiDependencies{nullptr,
                      nullptr,
                      nullptr,
                      &impl->no_tokens_,
                      &impl->metrics_,
                      65536,
                      65536,
                      {},
                      [impl](const HttpRequest& request) -> std::optional<HttpResponse> {
                        return impl->Handle(request);
                      }});
  HttpOptions http;
  http.listen_address = impl->options_.listen_address;
  http.port = impl->options_.port;
  http.worker_threads = 8;
  MALPRO_RETURN_IF_ERROR(impl->CheckReferenceState());
  impl->server_ = std::make_unique<HttpServer>(http, impl->api_.get(), &impl->metrics_);
  return impl->server_->Start();
}

void BankSimulator::Stop() {
  if (impl_ && impl_->server_) impl_->server_->Stop();
}

uint16_t BankSimulator::port() const { return impl_->server_ ? impl_->server_->port() : 0; }

std::string BankSimulator::base_url() const {
  return "http://" + impl_->options_.listen_address + ":" + std::to_string(port());
}

HttpResponse BankSimulator::Handle(const HttpRequest& request) { return impl_->Handle(request); }

Result<NotifyOutcome> BankSimulator::Pay(std::string_view reference, bool notify) {
  return impl_->Act(notify ? "pay" : "delay", reference, "");
}
Result<NotifyOutcome> BankSimulator::PayLate(std::string_view reference, bool notify) {
  return impl_->Act(notify ? "pay" : "delay", reference, "", /*late=*/true);
}
Result<NotifyOutcome> BankSimulator::Fail(std::string_view reference) {
  return impl_->Act("fail", reference, "");
}
Result<NotifyOutcome> BankSimulator::Duplicate(std::string_view reference) {
  return impl_->Act("duplicate", reference, "");
}
Result<NotifyOutcome> BankSimulator::Corrupt(std::string_view reference, std::string_view mode) {
  return impl_->Act("corrupt", reference, mode);
}
std::vector<SimulatedStatementEntry> BankSimulator::Statement(std::string_view date) const {
  return impl_->Statement(date);
}

void BankSimulator::SetCallbackBaseUrl(std::string url) {
  impl_->options_.callback_base_url = std::move(url);
}

std::string SimulatedStatementCsv(std::string_view statement_id, std::string_view account,
                                  const std::vector<SimulatedStatementEntry>& entries) {
  std::string csv = "statement_id,account,booking_date,credit_debit,amount,reference,description\r\n";
  for (const SimulatedStatementEntry& entry : entries) {
    csv += std::string(statement_id) + "," + std::string(account) + "," + entry.date + "," +
           (entry.credit_debit == "C" ? "CRDT" : "DBIT") + "," + FormatSnap(entry.amount) + "," +
           entry.reference + ",";
    // Descriptions are the simulator's own words: quote them, doubling any quote.
    csv += '"';
    for (char c : entry.description) csv += c == '"' ? std::string("\"\"") : std::string(1, c);
    csv += "\"\r\n";
  }
  return csv;
}

}  // namespace malpro
