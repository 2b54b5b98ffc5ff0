#include "adapters/bank/payments.h"

#include <simdjson.h>

#include <algorithm>
#include <vector>

#include "adapters/bank/payment_channel.h"
#include "adapters/bank/snap_signature.h"
#include "engine/domain_events.h"
#include "engine/domain_types.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/log_limits.h"
#include "engine/payment_channel.h"

namespace malpro {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr char kPollerActor[] = "system:bank-poller";
// The bank's word in the answer to a status query about a payment requested by `channel`.
BankSuccess SuccessFromQuery(const std::string& payment_id, const PaymentChannel& channel,
                             const std::string& requested_reference,
                             const BankPaymentStatus& answer, int64_t now_us) {
  BankSuccess success;
  success.payment_id = payment_id;
  success.channel = std::string(channel.name());
  success.bank_reference = channel.AnsweredReference(answer, requested_reference);
  success.amount = answer.amount;
  success.paid_at_us = now_us;
  if (!answer.paid_time.empty()) {
    Result<int64_t> parsed = ParseSnapTimestamp(answer.paid_time);
    if (parsed.ok()) success.paid_at_us = *parsed;
  }
  success.source = BankSuccess::Source::kStatusQuery;
  return success;
}

// What the payer was shown, as payment.requested recorded it.
PaymentRequested ShownFromState(const PaymentState& payment) {
  PaymentRequested shown;
  shown.payment_id = payment.payment_id;
  shown.channel = payment.channel;
  shown.amount = payment.amount;
  shown.bank_reference = payment.bank_reference;
  shown.qr_content = payment.qr_content;
  shown.expires_at_us = payment.expires_at_us;
  Result<const PaymentChannel*> channel = FindPaymentChannel(payment.channel);
  if (channel.ok()) (*channel)->ShowRecorded(payment, &shown);
  return shown;
}

}  // namespace

std::string PaymentRequestedJson(const PaymentRequested& requested) {
  JsonWriter w;
  w.BeginObject()
      .Field("payment_id", requested.payment_id)
      .Field("channel", requested.channel)
      .Field("amount", FormatSnap(requested.amount))
      .Field("bank_reference", ShownBankReference(requested.bank_reference));
  if (!requested.qr_content.empty()) w.Field("qr_content", requested.qr_content);
  if (!requested.virtual_account_no.empty())
    w.Field("virtual_account_no", ShownBankReference(requested.virtual_account_no));
  if (requested.expires_at_us != 0) w.Field("expires_at", SnapTimestamp(requested.expires_at_us));
  return w.EndObject().Take();
}

BankPayments::BankPayments(Ledger* ledger, const EventLog* log, SnapClient* client,
                           BankPaymentOptions options)
    : ledger_(ledger), log_(log), client_(client), options_(std::move(options)) {}

BankPayments::~BankPayments() { Stop(); }

int64_t BankPayments::Now() const { return options_.clock ? options_.clock() : ledger_->Now(); }

Result<PaymentRequested> BankPayments::Request(std::string_view order_id, std::string_view channel,
                                               const CommandContext& context) {
  if (!context.idempotency_key.empty()) {
    std::optional<PaymentRequested> replayed = Replay(order_id, channel, context);
    if (replayed) return *replayed;
  }
  OrderState order;
  PaymentState previous;
  // The ledger alone decides whether the order can be paid, and by which channels.
  MALPRO_RETURN_IF_ERROR(ledger_->CheckPayable(order_id, channel, &order, &previous));
  Result<const PaymentChannel*> found = FindPaymentChannel(channel);
  if (!found.ok()) return found.status();
  PaymentRequested issued;
  issued.payment_id = std::string(order_id);
  issued.channel = std::string(channel);
  issued.amount = order.total;
  issued.expires_at_us = Now() + options_.expire_after_s * kMicrosPerSecond;
  MALPRO_RETURN_IF_ERROR((*found)->Issue(*client_, *ledger_, order, previous, &issued));
  Result<CommandResult> result =
      ledger_->RequestPayment(order_id, channel, issued.bank_reference, context,
                              PaymentShown{issued.qr_content, issued.expires_at_us});
  if (!result.ok()) return result.status();
  issued.result = *result;
  std::lock_guard<std::mutex> lock(mutex_);
  issued_[issued.payment_id] = issued;
  return issued;
}

std::optional<PaymentRequested> BankPayments::Replay(std::string_view order_id,
                                                     std::string_view channel,
                                                     const CommandContext& context) {
  // Only when the payment cannot be requested anew: then the ledger either replays the
  // original request under this key or refuses, and can never append.
  Result<PaymentState> payment = ledger_->LoadPayment(order_id);
  if (!payment.ok() || (payment->status != PaymentStatus::kRequested &&
                        payment->status != PaymentStatus::kSucceeded)) {
    return std::nullopt;
  }
  Result<CommandResult> result =
      ledger_->RequestPayment(order_id, channel, payment->bank_reference, context);
  if (!result.ok() || !result->replayed) return std::nullopt;
  std::optional<PaymentRequested> issued = Issued(order_id);
  PaymentRequested requested = issued ? *issued : ShownFromState(*payment);
  requested.result = *result;
  return requested;
}

std::optional<PaymentRequested> BankPayments::Issued(std::string_view payment_id) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = issued_.find(std::string(payment_id));
    if (found != issued_.end()) return found->second;
  }
  // Issued before this process started: what the payer was shown is in payment.requested.
  Result<PaymentState> payment = ledger_->LoadPayment(payment_id);
  if (!payment.ok() || payment->status != PaymentStatus::kRequested) return std::nullopt;
  return ShownFromState(*payment);
}

Status BankPayments::FollowLog() {
  const uint64_t head = log_->Head().sequence;
  uint64_t next = followed_sequence_ + 1;
  const uint64_t last = std::min(head, followed_sequence_ + bank_poll_events_per_pass_max);
  simdjson::dom::parser parser;
  while (next <= last) {
    Result<std::vector<Event>> events = log_->Read(next, read_events_max);
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Event& event : *events) {
      if (event.sequence > last) break;
      next = event.sequence + 1;
      if (!event.type.starts_with("payment.")) continue;
      const std::string payment_id = event.stream_id.substr(event.stream_id.find('-') + 1);
      if (event.type == event_types::payment_requested) {
        simdjson::dom::element payload;
        std::string_view channel, reference;
        if (parser.parse(event.payload).get(payload) != simdjson::SUCCESS ||
            payload["channel"].get(channel) != simdjson::SUCCESS ||
            payload["bank_reference"].get(reference) != simdjson::SUCCESS) {
          return Status::Corruption("payment.requested at sequence " +
                                    std::to_string(event.sequence) + " lacks channel or reference");
        }
        pending_[payment_id] = {std::string(channel), std::string(reference), event.recorded_at_us};
      } else if (event.type == event_types::payment_voided) {
        // A request past the validity given to the bank can no longer be paid: nothing to void
        // (so a restart does not void the whole history again).
        auto found = pending_.find(payment_id);
        if (found != pending_.end() &&
            found->second.requested_at_us + options_.expire_after_s * kMicrosPerSecond > Now()) {
          voids_[payment_id] = found->second;
        }
        pending_.erase(payment_id);
        issued_.erase(payment_id);
      } else if (event.type != event_types::payment_notification_refused) {
        pending_.erase(payment_id);
        issued_.erase(payment_id);
      }
    }
    followed_sequence_ = next - 1;
  }
  return Status::Ok();
}

Result<bool> BankPayments::Settle(const std::string& payment_id, const Pending& pending,
                                  PollReport* report) {
  Result<PaymentState> payment = ledger_->LoadPayment(payment_id);
  if (!payment.ok()) return payment.status();
  if (payment->status != PaymentStatus::kRequested) return true;
  Result<const PaymentChannel*> channel = FindPaymentChannel(pending.channel);
  if (!channel.ok()) return channel.status();
  ++report->asked;
  Result<BankPaymentStatus> answer =
      (*channel)->Query(*client_, {payment_id, pending.bank_reference, payment->umkm_id});
  if (!answer.ok()) return answer.status();
  CommandContext context;
  context.actor = kPollerActor;
  // One answer per payment version: a pass repeated after a crash writes nothing twice.
  context.idempotency_key = "bank-poll-" + payment_id + "-" + std::to_string(payment->version) +
                            "-" + answer->latest_status;
  if (answer->latest_status != "00" && answer->latest_status != "05" &&
      answer->latest_status != "06" &&
      pending.requested_at_us + options_.expire_after_s * kMicrosPerSecond > Now()) {
    return false;  // initiated, paying or pending at the bank: ask again next pass
  }
  // Whichever of success, failure or expiry the answer decides; set by each branch below.
  Result<CommandResult> recorded = Status::Unavailable(errc::kBankPollUndecided, "no decision");
  if (answer->latest_status == "00") {
    recorded = ledger_->RecordBankSuccess(
        SuccessFromQuery(payment_id, **channel, pending.bank_reference, *answer, Now()), context);
    if (!recorded.ok() && Ledger::IsNotificationMismatch(recorded.status())) {
      return false;  // kept as a refused notification; still pending: the operator decides
    }
    if (recorded.ok()) ++report->succeeded;
  } else if (answer->latest_status == "05" || answer->latest_status == "06") {
    recorded = ledger_->RecordPaymentFailed(
        payment_id,
        answer->description.empty() ? "bank status " + answer->latest_status : answer->description,
        context);
    if (recorded.ok()) ++report->failed;
  } else {
    recorded = ledger_->ExpirePayment(payment_id, context);
    if (recorded.ok()) ++report->expired;
  }
  if (!recorded.ok()) {
    // A notification may have settled it meanwhile: then it is simply no longer pending.
    Result<PaymentState> now = ledger_->LoadPayment(payment_id);
    if (now.ok() && now->status != PaymentStatus::kRequested) return true;
    return recorded.status();
  }
  return true;
}

Status BankPayments::RecordPaidAfterVoid(const std::string& payment_id, const Pending& voided) {
  Result<PaymentState> payment = ledger_->LoadPayment(payment_id);
  if (!payment.ok()) return payment.status();
  Result<const PaymentChannel*> channel = FindPaymentChannel(voided.channel);
  if (!channel.ok()) return channel.status();
  Result<BankPaymentStatus> answer =
      (*channel)->Query(*client_, {payment_id, voided.bank_reference, payment->umkm_id});
  if (!answer.ok()) return answer.status();
  if (answer->latest_status != "00") return Status::Ok();  // the notification will tell
  const BankSuccess success =
      SuccessFromQuery(payment_id, **channel, voided.bank_reference, *answer, Now());
  CommandContext context;
  context.actor = kPollerActor;
  context.idempotency_key = "bank-void-paid-" + payment_id + "-" + std::to_string(payment->version);
  Result<CommandResult> recorded = ledger_->RecordBankSuccess(success, context);
  if (!recorded.ok() && recorded.status().error_code() != errc::kPaymentAlreadySucceeded &&
      !Ledger::IsNotificationMismatch(recorded.status())) {
    return recorded.status();
  }
  return Status::Ok();
}

Status BankPayments::VoidAtBank(const std::string& payment_id) {
  std::lock_guard<std::mutex> pass(poll_mutex_);
  MALPRO_RETURN_IF_ERROR(FollowLog());
  return VoidOne(payment_id);
}

Status BankPayments::VoidOne(const std::string& payment_id) {
  Pending voided;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = voids_.find(payment_id);
    if (found == voids_.end()) return Status::Ok();  // voided already, or never pending here
    voided = found->second;
  }
  Result<const PaymentChannel*> channel = FindPaymentChannel(voided.channel);
  if (!channel.ok()) return channel.status();
  Result<PaymentState> payment = ledger_->LoadPayment(payment_id);
  if (!payment.ok()) return payment.status();
  Status status = (*channel)->Void(*client_, {payment_id, voided.bank_reference, payment->umkm_id});
  if (!status.ok() && status.error_code() == errc::kBankAlreadyPaid) {
    status = RecordPaidAfterVoid(payment_id, voided);
  }
  // The bank does not know the request (never reached it, or already gone): nothing to void.
  if (!status.ok() && status.error_code() == errc::kBankPaymentNotFound) status = Status::Ok();
  if (!status.ok()) return status;  // kept in voids_: tried again next pass
  std::lock_guard<std::mutex> lock(mutex_);
  voids_.erase(payment_id);
  return Status::Ok();
}

Result<PollReport> BankPayments::PollOnce() {
  std::lock_guard<std::mutex> pass(poll_mutex_);
  MALPRO_RETURN_IF_ERROR(FollowLog());
  std::vector<std::string> voiding;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [payment_id, voided] : voids_) {
      if (voiding.size() >= bank_poll_payments_per_pass_max) break;
      voiding.push_back(payment_id);
    }
  }
  const int64_t due = Now() - options_.poll_after_s * kMicrosPerSecond;
  std::vector<std::pair<std::string, Pending>> asking;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [payment_id, pending] : pending_) {
      if (asking.size() >= bank_poll_payments_per_pass_max) break;
      if (pending.requested_at_us <= due) asking.emplace_back(payment_id, pending);
    }
  }
  PollReport report;
  for (const std::string& payment_id : voiding) {
    if (VoidOne(payment_id).ok()) {
      ++report.voided;
    } else {
      ++report.errors;
    }
  }
  for (const auto& [payment_id, pending] : asking) {
    Result<bool> settled = Settle(payment_id, pending, &report);
    if (!settled.ok()) {
      ++report.errors;
      continue;
    }
    if (*settled) {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.erase(payment_id);
      issued_.erase(payment_id);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  totals_.voided += report.voided;
  totals_.asked += report.asked;
  totals_.succeeded += report.succeeded;
  totals_.failed += report.failed;
  totals_.expired += report.expired;
  totals_.errors += report.errors;
  return report;
}

PollReport BankPayments::Totals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return totals_;
}

size_t BankPayments::PendingCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_.size();
}

double BankPayments::OldestPendingAgeSeconds() const {
  std::vector<std::pair<int64_t, std::string>> candidates;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    candidates.reserve(pending_.size());
    for (const auto& [payment_id, pending] : pending_) {
      candidates.emplace_back(pending.requested_at_us, payment_id);
    }
  }
  const size_t checked = std::min(candidates.size(), bank_oldest_pending_checks_max + 1);
  std::partial_sort(candidates.begin(), candidates.begin() + checked, candidates.end());
  for (size_t i = 0; i < checked; ++i) {
    const auto& [requested_at_us, payment_id] = candidates[i];
    Result<PaymentState> payment = ledger_->LoadPayment(payment_id);
    const bool pending = payment.ok() && payment->status == PaymentStatus::kRequested &&
                         payment->requested_at_us == requested_at_us;
    if (pending || i == bank_oldest_pending_checks_max) {
      return std::max<int64_t>(0, Now() - requested_at_us) / double(kMicrosPerSecond);
    }
  }
  return 0;
}

void BankPayments::Start() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (poller_.joinable()) return;
  stopping_ = false;
  poller_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    while (!stopping_) {
      lock.unlock();
      (void)PollOnce();  // errors are counted per payment and retried on the next pass
      lock.lock();
      stop_signal_.wait_for(lock, std::chrono::seconds(options_.poll_interval_s),
                            [this] { return stopping_; });
    }
  });
}

void BankPayments::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void ConnectPayments(BankPayments* payments, ApiDependencies* dependencies) {
  dependencies->request_payment =
      [payments](const std::string& order_id, const std::string& channel,
                 const CommandContext& context) -> Result<PaymentRequestAnswer> {
    Result<PaymentRequested> requested = payments->Request(order_id, channel, context);
    if (!requested.ok()) return requested.status();
    return PaymentRequestAnswer{requested->result, PaymentRequestedJson(*requested)};
  };
  dependencies->void_payment = [payments](const std::string& payment_id) {
    (void)payments->VoidAtBank(payment_id);  // a failure is tried again by the poller
  };
  dependencies->issued_payment = [payments](const std::string& payment_id) -> std::string {
    std::optional<PaymentRequested> issued = payments->Issued(payment_id);
    return issued ? PaymentRequestedJson(*issued) : std::string();
  };
}

}  // namespace malpro
