#include "adapters/bank/in_process_bank.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <simdjson.h>

#include "adapters/bank/snap_signature.h"
#include "engine/domain_events.h"
#include "engine/error_codes.h"
#include "engine/hash.h"
#include "engine/log_limits.h"

namespace malpro {
namespace {

std::string DrainBio(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace

Result<uint64_t> HighestSimulatedReference(const EventLog& log) {
  uint64_t highest = 0;
  if (log.Head().sequence == 0) return highest;
  std::unique_ptr<EventLog::Scanner> scanner = log.Scan(1);
  std::vector<Event> events;
  simdjson::dom::parser parser;
  // Bounded by the log's head: each batch is read_events_max events and the scan ends there.
  for (;;) {
    MALPRO_RETURN_IF_ERROR(scanner->ReadInto(read_events_max, &events));
    if (events.empty()) return highest;
    for (const Event& event : events) {
      if (event.type != event_types::payment_requested) continue;
      simdjson::dom::element payload;
      std::string_view reference;
      if (parser.parse(event.payload).get(payload) != simdjson::SUCCESS ||
          payload["bank_reference"].get(reference) != simdjson::SUCCESS) {
        return Status::Corruption("payment.requested at sequence " +
                                  std::to_string(event.sequence) + " lacks bank_reference");
      }
      highest = std::max(highest, SimulatedReferenceNumber(reference).value_or(0));
    }
  }
}

Result<std::pair<std::string, std::string>> GenerateRsaKeyPair(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (key == nullptr) return Status::IOError("RSA key generation failed");
  BIO* private_bio = BIO_new(BIO_s_mem());
  BIO* public_bio = BIO_new(BIO_s_mem());
  const bool written =
      private_bio != nullptr && public_bio != nullptr &&
      PEM_write_bio_PrivateKey(private_bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
      PEM_write_bio_PUBKEY(public_bio, key) == 1;
  std::pair<std::string, std::string> pair;
  if (written) pair = {DrainBio(private_bio), DrainBio(public_bio)};
  BIO_free(private_bio);
  BIO_free(public_bio);
  EVP_PKEY_free(key);
  if (!written) return Status::IOError("writing the RSA key pair failed");
  return pair;
}

Result<std::unique_ptr<InProcessBank>> InProcessBank::Start(Ledger* ledger, EventLog* log,
                                                            std::function<int64_t()> clock) {
  Result<std::pair<std::string, std::string>> partner_keys = GenerateRsaKeyPair(2048);
  if (!partner_keys.ok()) return partner_keys.status();
  Result<std::pair<std::string, std::string>> bank_keys = GenerateRsaKeyPair(2048);
  if (!bank_keys.ok()) return bank_keys.status();
  std::unique_ptr<InProcessBank> bank(new InProcessBank());
  bank->ledger_ = ledger;
  // The session's client secret: random, since nothing outside this process needs it.
  const std::string secret = Base64Encode(RandomBytes(32));

  bank->notify_.partner_id = "BJTM";
  bank->notify_.bank_public_key_pem = bank_keys->second;
  bank->notify_.clock = clock;
  InProcessBank* self = bank.get();
  bank->api_ = std::make_unique<Api>(
      ApiDependencies{log,
                      ledger,
                      nullptr,
                      &bank->no_tokens_,
                      &bank->metrics_,
                      65536,
                      65536,
                      {},
                      [self, ledger](const HttpRequest& request) -> std::optional<HttpResponse> {
                        return HandleBankRequest(request, *ledger, self->notify_);
                      },
                      BankRoutePaths(bank->notify_)});
  HttpOptions http;
  http.port = 0;
  http.worker_threads = 4;
  bank->server_ = std::make_unique<HttpServer>(http, bank->api_.get(), &bank->metrics_);
  MALPRO_RETURN_IF_ERROR(bank->server_->Start());

  // No numbers of the log's references again (see the header); the log is this bank's memory.
  Result<uint64_t> highest_reference = HighestSimulatedReference(*log);
  if (!highest_reference.ok()) return highest_reference.status();
  if (*highest_reference >= bank_simulator_reference_max) {
    return Status::Unavailable(errc::kReferencesExhausted,
                               "the log holds the highest simulated bank reference already");
  }
  BankSimulatorOptions simulator;
  simulator.state_dir.clear();
  simulator.first_reference = *highest_reference + 1;
  simulator.client_secret = secret;
  simulator.client_public_key_pem = partner_keys->second;
  simulator.bank_private_key_pem = bank_keys->first;
  simulator.callback_base_url = "http://127.0.0.1:" + std::to_string(bank->server_->port());
  simulator.clock = clock;
  bank->simulator_ = std::make_unique<BankSimulator>(simulator);
  MALPRO_RETURN_IF_ERROR(bank->simulator_->Start());

  SnapClientOptions client;
  client.base_url = bank->simulator_->base_url();
  client.client_id = simulator.client_id;
  client.client_secret = secret;
  client.private_key_pem = partner_keys->first;
  client.clock = clock;
  Result<std::unique_ptr<SnapClient>> created = SnapClient::Create(client);
  if (!created.ok()) return created.status();
  bank->client_ = std::move(created).value();
  BankPaymentOptions payments;
  payments.clock = clock;
  bank->payments_ = std::make_unique<BankPayments>(ledger, log, bank->client_.get(), payments);
  return bank;
}

InProcessBank::~InProcessBank() {
  if (simulator_) simulator_->Stop();
  if (server_) server_->Stop();
}

Result<int> InProcessBank::Pay(const std::string& order_id, const std::string& channel,
                               bool expire_first, const CommandContext& context) {
  int commands = 0;
  if (expire_first) {
    Result<PaymentRequested> unpaid = payments_->Request(order_id, channel, context);
    if (!unpaid.ok()) return unpaid.status();
    CommandContext poller;
    poller.actor = "system:bank-poller";
    Result<CommandResult> expired = ledger_->ExpirePayment(order_id, poller);
    if (!expired.ok()) return expired.status();
    commands += 2;
  }
  Result<PaymentRequested> requested = payments_->Request(order_id, channel, context);
  if (!requested.ok()) return requested.status();
  Result<NotifyOutcome> paid = simulator_->Pay(requested->bank_reference);
  if (!paid.ok()) return paid.status();
  if (!paid->sent || paid->status != 200) {
    return Status::Unavailable(errc::kBankNotificationRefused,
                               "the simulated bank's notification for " + order_id +
                                   " was answered " + std::to_string(paid->status) + ": " +
                                   paid->body);
  }
  return commands + 2;
}

}  // namespace malpro
