// The inside of BankSimulator (simulator.h), shared by the files that implement it and by
// nothing else:
//   simulator.cc             construction, start and stop, the dispatch of requests, lookups
//   simulator_snap.cc        the bank side: what the partner calls over SNAP (snap_protocol.h)
//   simulator_control.cc     the control side: /sim/*, notifications to the partner, statements
//   simulator_references.cc  the reference numbering kept in state_dir
#pragma once

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/bank/simulator.h"
#include "adapters/bank/snap_protocol.h"
#include "adapters/http/http_handler.h"
#include "adapters/http/server.h"
#include "adapters/http/witness_handler.h"
#include "engine/assert.h"
#include "engine/civil_time.h"
#include "engine/money.h"

namespace malpro {

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

// Also the simulator's HttpHandler: HttpServer serves its routes and nothing else.
class BankSimulator::Impl final : public HttpHandler {
 public:
  explicit Impl(BankSimulatorOptions options) : options_(std::move(options)) {
    MALPRO_ASSERT(options_.first_reference >= 1 &&
                  options_.first_reference <= bank_simulator_reference_max);
    next_reference_ = options_.first_reference;
    // Without a state_dir every number is "reserved" in memory at once.
    reserved_end_ = options_.state_dir.empty() ? bank_simulator_reference_max + 1 : 0;
  }

  int64_t Now() const { return options_.clock ? options_.clock() : WallClockMicros(); }
  // One request, bank or control side (BankSimulator::Handle).
  HttpResponse Handle(const HttpRequest& request);

  // HttpHandler, for the server: Handle, and what an HTTP server adds to it (Allow on a 405,
  // HEAD without a body). Every body is held to bank_simulator_body_bytes_max.
  HttpResponse Handle(const HttpRequest& request,
                      std::chrono::steady_clock::time_point read_deadline) override;
  size_t BodyLimitFor(http::verb method, std::string_view target) const override;
  std::string RouteLabel(http::verb method, std::string_view target) const override;
  Result<NotifyOutcome> Act(std::string_view action, std::string_view reference,
                            std::string_view mode, bool late = false);
  // Checks at start that state_dir can be created and locked and its file read.
  Status CheckReferenceState();
  std::vector<SimulatedStatementEntry> Statement(std::string_view date) const;

  BankSimulatorOptions options_;
  HttpMetrics metrics_;
  std::unique_ptr<HttpServer> server_;

 private:
  // A transaction service: answers a verified request whose body is a JSON object.
  using Service = HttpResponse (Impl::*)(const HttpRequest& request, simdjson::dom::element body);

  // Bank side (simulator_snap.cc).
  // The service of a transaction path; nullptr for any other path.
  static Service ServiceOf(std::string_view target);
  // A request to the bank's paths (the token path, or a transaction path).
  HttpResponse BankSide(const HttpRequest& request);
  // What the bank requires of the partner's requests (snap_protocol.h).
  SnapVerifyOptions VerifyOptions(SnapRequestKind kind, int64_t now_us) const;
  HttpResponse Transaction(const HttpRequest& request, Service service);
  // The answer given earlier to the same X-EXTERNAL-ID of the day (`key`), the refusal of a
  // reuse for another request, or nothing when the id is new.
  std::optional<HttpResponse> Replay(const HttpRequest& request, const std::string& key,
                                     const std::string& digest);
  void Remember(const std::string& key, const std::string& digest, const HttpResponse& answer);
  HttpResponse GenerateQris(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse QueryQris(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse CreateVa(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse VaStatus(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse CancelQris(const HttpRequest& request, simdjson::dom::element body);
  HttpResponse DeleteVa(const HttpRequest& request, simdjson::dom::element body);
  // Opens an answer's "virtualAccountData" object with the fields naming the account
  // (partnerServiceId, customerNo, virtualAccountNo); the caller adds the rest and closes it.
  static JsonWriter& BeginVaData(JsonWriter& w, const Issued& issued);
  // Voids a request that was not paid; the time of the void (now, or of the first void).
  int64_t Void(Issued& issued);

  // References (simulator_references.cc).
  // `prefix` ("BJQR" or "BJVA") and `number` in 12 digits.
  static std::string ReferenceOf(std::string_view prefix, uint64_t number);
  // The next reference number, reserving a block in state_dir first when the reserved ones
  // are used up. Call with mutex_ held.
  Result<uint64_t> NextReference();

  // Witness side (simulator.cc): /witness/*, when options_.witness is set.
  HttpResponse WitnessSide(const HttpRequest& request);

  // Control side (simulator_control.cc).
  HttpResponse Control(const HttpRequest& request);
  // GET /sim/statement?date=YYYY-MM-DD[&format=json|csv|camt053|mt940]
  HttpResponse StatementRoute(const HttpRequest& request);
  // GET /sim/payments
  HttpResponse PaymentsRoute(const HttpRequest& request);
  // Whether /sim/pay, /sim/delay or /sim/fail (`action`) may settle `issued` now.
  static Status CheckSettleable(const Issued& issued, std::string_view action, bool late);
  Result<NotifyOutcome> Send(const std::string& path, const std::string& body,
                             const std::string& external_id, bool break_signature);
  Result<std::string> PartnerToken();
  std::string NoticeBody(const Issued& issued, Money amount) const;

  // The latest payment issued under a payment id, bank reference or virtual account number;
  // nullptr when none. Call with mutex_ held.
  Issued* Find(std::string_view reference);
  // Find, or else the latest virtual account whose number shown (ShownBankReference, without
  // SNAP's space padding) is `reference`: what the control side takes. Call with mutex_ held.
  Issued* FindShown(std::string_view reference);

  mutable std::mutex mutex_;
  SnapIssuedTokens tokens_;  // the bearer tokens issued to the partner
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

}  // namespace malpro
