// A whole HTTP API on 127.0.0.1 for socket tests: an event log and read models in a temp dir,
// the Kota Malang geography, one bearer token a role, and a server on an ephemeral port.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "adapters/cli/geography_config.h"
#include "adapters/http/api.h"
#include "adapters/http/server.h"
#include "projections/projector.h"
#include "tests/support/beast_client.h"
#include "tests/support/temp_dir.h"

namespace malpro::testing {

// The NIP the asn token is issued to.
inline constexpr char kNip[] = "198507122010011003";
// Another ASN, not the token's.
inline constexpr char kOtherNip[] = "199001012015032001";
inline const std::map<Role, std::string> kTokens = {{Role::kAsn, "t-asn"},
                                                    {Role::kMerchant, "t-merchant"},
                                                    {Role::kOperator, "t-operator"},
                                                    {Role::kAuditor, "t-auditor"},
                                                    {Role::kAdmin, "t-admin"}};

// Standard base64 with padding, for photo bodies.
inline std::string Base64(const std::string& bytes) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= uint8_t(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= uint8_t(bytes[i + 2]);
    out += table[group >> 18 & 63];
    out += table[group >> 12 & 63];
    out += i + 1 < bytes.size() ? table[group >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? table[group & 63] : '=';
  }
  return out;
}

class ApiServerTest : public ::testing::Test {
 protected:
  // (Re)starts everything with `options` (its port replaced by an ephemeral one).
  void Start(HttpOptions options) {
    server_.reset();  // in reverse order of construction: the log's lock goes last
    api_.reset();
    projector_.reset();
    ledger_.reset();
    log_.reset();
    LogOptions log_options;
    log_options.data_dir = dir_.Sub("log");
    log_options.clock = clock_;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(log_options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    LedgerOptions ledger_options;
    ledger_options.clock = clock_;
    ledger_ = std::make_unique<Ledger>(
        log_.get(), std::move(LoadGeography(MALPRO_SOURCE_DIR "/config/kota-malang.toml")).value(),
        ledger_options);
    tokens_ = TokenTable();
    const std::map<Role, std::string> subjects = {{Role::kAsn, kNip},
                                                  {Role::kMerchant, "warung-bu-sri"},
                                                  {Role::kOperator, "rina"},
                                                  {Role::kAuditor, "bpk"},
                                                  {Role::kAdmin, "setup"}};
    for (const auto& [role, token] : kTokens) {
      ASSERT_TRUE(tokens_.Add(HashToHex(Sha256(token)), {role, subjects.at(role)}, "token").ok());
    }
    ProjectorOptions projector_options;
    projector_options.dir = dir_.Sub("read-models");
    Result<std::unique_ptr<Projector>> projector = Projector::Open(log_.get(), projector_options);
    ASSERT_TRUE(projector.ok()) << projector.status().ToString();
    projector_ = std::move(projector).value();
    ASSERT_TRUE(projector_->CatchUp().ok());
    projector_->Start();
    ApiDependencies dependencies{log_.get(),
                                 ledger_.get(),
                                 projector_.get(),
                                 &tokens_,
                                 &metrics_,
                                 options.body_bytes_max,
                                 options.photo_body_bytes_max,
                                 {},
                                 {}};
    if (add_dependencies_) add_dependencies_(dependencies);
    api_ = std::make_unique<Api>(std::move(dependencies));
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, api_.get(), &metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    server_.reset();
    api_.reset();
    projector_.reset();
  }

  uint16_t port() const { return server_->port(); }

  // One request through a fresh connection, with `role`'s bearer token (none: no token).
  Reply Call(boost::beast::http::verb method, const std::string& target,
             const std::string& body = "", std::optional<Role> role = Role::kAdmin,
             std::map<std::string, std::string> headers = {}) {
    if (role) headers["Authorization"] = "Bearer " + kTokens.at(*role);
    return BeastClient(port()).Send(method, target, body, headers);
  }

  // The city's policy as the work-list and proof tests keep it: 30 basis points, the cutoff at
  // 22:00, in force from 2023-03-13, seeded by "system:config".
  void SeedPolicy() {
    PolicyDefaults policy;
    policy.fee_basis_points = 30;
    policy.settlement_cutoff_minutes = 22 * 60;
    policy.effective_from = {2023, 3, 13};
    CommandContext system;
    system.actor = "system:config";
    ASSERT_TRUE(ledger_->SeedPolicy(policy, system).ok());
  }

  // An ASN "Siti" of Diskominfo, III/a, in Kauman, under `nip`.
  void SeedAsn(const std::string& nip) {
    ASSERT_EQ(
        Call(
            boost::beast::http::verb::post, "/v1/asn",
            R"({"nip":")" + nip +
                R"(","name":"Siti","agency":"Diskominfo","rank_class":"III/a","kelurahan":"Kauman"})")
            .status,
        201);
  }

  // Registers the merchant of `umkm_body` (its id `umkm_id`), verifies it, and lists the
  // product of `product_body`.
  void SeedListedMerchant(const std::string& umkm_id, const std::string& umkm_body,
                          const std::string& product_body) {
    using boost::beast::http::verb;
    ASSERT_EQ(Call(verb::post, "/v1/umkm", umkm_body).status, 201);
    ASSERT_EQ(Call(verb::post, "/v1/umkm/" + umkm_id + "/verify").status, 200);
    ASSERT_EQ(Call(verb::post, "/v1/umkm/" + umkm_id + "/products", product_body).status, 200);
  }

  // A verified merchant "warung-bu-sri" (the merchant token's) listing "beras-5kg".
  void SeedMerchant() {
    SeedListedMerchant(
        "warung-bu-sri",
        R"({"umkm_id":"warung-bu-sri","name":"Warung Bu Sri","category":"sembako","kecamatan":"Klojen","kelurahan":"Kauman","sponsor":"Diskopindag","settlement_account":"0012345678","qris_criteria":"UMI"})",
        R"({"product_id":"beras-5kg","name":"Beras","unit":"pack","price":"68000.00"})");
  }

  // Set before Start: the log's and the ledger's clock (empty: the system clock), and what a
  // test adds to the API's dependencies (settlement, reconciliation, ...).
  std::function<int64_t()> clock_;
  std::function<void(ApiDependencies&)> add_dependencies_;

  TempDir dir_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Projector> projector_;
  TokenTable tokens_;
  HttpMetrics metrics_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace malpro::testing
