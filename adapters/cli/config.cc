#include "adapters/cli/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>

#include "adapters/bank/http_client.h"
#include "adapters/kafka/kafka_limits.h"
#include "engine/error_codes.h"
#include "engine/log_limits.h"
#include "engine/money.h"

namespace malpro {
namespace {

constexpr int64_t kMebibyte = 1024 * 1024;
// Sizes in MiB above 1 TiB are refused: far beyond any machine, and their bytes fit int64.
constexpr int64_t kMebibytesMax = int64_t{1} << 20;

Status UnknownKeys(const toml::table& table, std::string_view prefix,
                   const std::set<std::string_view>& known) {
  for (const auto& [key, value] : table) {
    if (!known.contains(key.str())) {
      // An empty key (`"" = 1`) is written as TOML writes it, so that the message names it.
      std::string field =
          std::string(prefix) + (key.str().empty() ? std::string("\"\"") : std::string(key.str()));
      return Status::InvalidArgument(errc::kConfigUnknownKey, field, "unknown setting " + field);
    }
  }
  return Status::Ok();
}

template <typename T>
Status Read(const toml::table& table, std::string_view prefix, std::string_view key, T* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  std::optional<T> value = node->value_exact<T>();
  if (!value) {
    std::string field = std::string(prefix) + std::string(key);
    return Status::InvalidArgument(errc::kConfigWrongType, field, field + " has the wrong type");
  }
  *out = *value;
  return Status::Ok();
}

// No integer setting needs more, and every one stays exact when its unit is turned into
// microseconds or bytes (10^9 s is 10^15 us; 10^9 MiB is 2^50 bytes), far inside 64 bits.
constexpr int64_t config_integer_max = 1'000'000'000;

Status ReadPositive(const toml::table& table, std::string_view prefix, std::string_view key,
                    int64_t minimum, int64_t* out) {
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, key, out));
  if (*out < minimum || *out > config_integer_max) {
    std::string field = std::string(prefix) + std::string(key);
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, field,
        field + (*out < minimum ? " must be at least " + std::to_string(minimum)
                                : " must be at most " + std::to_string(config_integer_max)));
  }
  return Status::Ok();
}

Status ReadLog(const toml::table& table, LogOptions* log) {
  constexpr std::string_view prefix = "log.";
  MALPRO_RETURN_IF_ERROR(UnknownKeys(
      table, prefix,
      {"data_dir", "sync", "idempotency_retention_days", "write_buffer_mib", "block_cache_mib"}));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "data_dir", &log->data_dir));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "sync", &log->sync));
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "idempotency_retention_days",
                                      idempotency_retention_days_min,
                                      &log->idempotency_retention_days));
  for (const auto& [key, bytes] :
       {std::pair<std::string_view, size_t*>{"write_buffer_mib", &log->write_buffer_bytes},
        {"block_cache_mib", &log->block_cache_bytes}}) {
    int64_t mib = static_cast<int64_t>(*bytes) / kMebibyte;
    MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, key, 1, &mib));
    if (mib > kMebibytesMax) {
      const std::string field = std::string(prefix) + std::string(key);
      return Status::InvalidArgument(errc::kConfigOutOfRange, field,
                                     field + " must be at most " + std::to_string(kMebibytesMax));
    }
    *bytes = static_cast<size_t>(mib * kMebibyte);
  }
  return Status::Ok();
}

// The trial tokens whose values README.md and config/malpro.toml publish.
constexpr std::array<std::string_view, 5> kPublishedTrialTokens = {
    "dev-admin", "dev-operator", "dev-auditor", "dev-asn", "dev-merchant"};

// Anyone who read the README could use a published trial token, so the server answers them
// only on loopback (127.0.0.0/8, ::1) unless http.allow_trial_tokens_on_network says otherwise.
// An address that is not an IP address is left to the server, which names it.
Status RefuseTrialTokensOnNetwork(const std::string& listen_address, const TokenTable& tokens) {
  boost::system::error_code error;
  const boost::asio::ip::address address = boost::asio::ip::make_address(listen_address, error);
  if (error || address.is_loopback()) return Status::Ok();
  for (std::string_view token : kPublishedTrialTokens) {
    if (!tokens.Authenticate("Bearer " + std::string(token)).ok()) continue;
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "http.listen_address",
        "http.listen_address " + listen_address +
            " is reachable from the network while the "
            "published trial token " +
            std::string(token) +
            " is configured: replace the trial tokens in [[http.tokens]], listen on "
            "127.0.0.1, or set http.allow_trial_tokens_on_network = true");
  }
  return Status::Ok();
}

Status ReadTokens(const toml::table& table, TokenTable* tokens);

Status ReadHttp(const toml::table& table, HttpOptions* http, TokenTable* tokens) {
  constexpr std::string_view prefix = "http.";
  MALPRO_RETURN_IF_ERROR(UnknownKeys(
      table, prefix,
      {"listen_address", "port", "io_threads", "worker_threads", "body_bytes_max",
       "photo_body_bytes_max", "header_timeout_ms", "request_timeout_ms", "idle_timeout_ms",
       "connections_max", "connections_per_ip_max", "waiting_reads_max",
       "waiting_reads_per_token_max", "tokens", "allow_trial_tokens_on_network", "console_dir",
       "cors_origins", "session_ttl_s", "session_cookie_secure"}));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "listen_address", &http->listen_address));
  int64_t value = http->port;
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "port", 0, &value));
  if (value > 65535) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "http.port",
                                   "http.port must be 0 to 65535");
  }
  http->port = static_cast<uint16_t>(value);
  struct IntSetting {
    std::string_view key;
    int64_t minimum;
    int* target;
  };
  for (const IntSetting& setting :
       {IntSetting{"io_threads", 1, &http->io_threads},
        {"worker_threads", 1, &http->worker_threads},
        {"header_timeout_ms", 100, &http->header_timeout_ms},
        {"request_timeout_ms", 100, &http->request_timeout_ms},
        {"idle_timeout_ms", 100, &http->idle_timeout_ms},
        {"connections_max", 1, &http->connections_max},
        {"connections_per_ip_max", 1, &http->connections_per_ip_max},
        {"waiting_reads_max", 1, &http->waiting_reads_max},
        {"waiting_reads_per_token_max", 1, &http->waiting_reads_per_token_max}}) {
    value = *setting.target;
    MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, setting.key, setting.minimum, &value));
    if (value > std::numeric_limits<int>::max()) {  // would be cut to fit an int
      const std::string field = std::string(prefix) + std::string(setting.key);
      return Status::InvalidArgument(
          errc::kConfigOutOfRange, field,
          field + " must be at most " + std::to_string(std::numeric_limits<int>::max()));
    }
    *setting.target = static_cast<int>(value);
  }
  value = static_cast<int64_t>(http->body_bytes_max);
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "body_bytes_max", 1024, &value));
  http->body_bytes_max = static_cast<size_t>(value);
  value = static_cast<int64_t>(http->photo_body_bytes_max);
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "photo_body_bytes_max", 1024, &value));
  http->photo_body_bytes_max = static_cast<size_t>(value);
  MALPRO_RETURN_IF_ERROR(ReadTokens(table, tokens));
  bool allow_trial_tokens = false;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "allow_trial_tokens_on_network", &allow_trial_tokens));
  if (allow_trial_tokens) return Status::Ok();
  return RefuseTrialTokensOnNetwork(http->listen_address, *tokens);
}

// An origin as browsers send it: scheme://host[:port], no path, no trailing slash.
bool IsOrigin(std::string_view text) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!text.starts_with(scheme)) continue;
    const std::string_view rest = text.substr(scheme.size());
    return !rest.empty() && rest.find_first_of("/?#* ") == std::string_view::npos;
  }
  return false;
}

// The [http] keys of browsers: the console, CORS and sessions.
Status ReadBrowserKeys(const toml::table& table, const std::string& config_path,
                       MalproConfig* config) {
  constexpr std::string_view prefix = "http.";
  if (table.contains("console_dir")) {
    MALPRO_RETURN_IF_ERROR(Read(table, prefix, "console_dir", &config->console_dir));
    if (!config->console_dir.empty() && config->console_dir.front() != '/') {
      // Set in a file: from the file's folder, wherever malpro is started.
      config->console_dir = (std::filesystem::path(config_path).parent_path() / config->console_dir)
                                .lexically_normal()
                                .string();
    }
  }
  if (const toml::node* origins = table.get("cors_origins")) {
    if (!origins->is_array()) {
      return Status::InvalidArgument(errc::kConfigWrongType, "http.cors_origins",
                                     "http.cors_origins must be a list of origins");
    }
    for (const toml::node& node : *origins->as_array()) {
      const std::string field =
          "http.cors_origins[" + std::to_string(config->cors_origins.size()) + "]";
      std::optional<std::string> origin = node.value_exact<std::string>();
      if (!origin || !IsOrigin(*origin)) {
        return Status::InvalidArgument(
            errc::kConfigInvalid, field,
            field +
                " must be an origin: scheme://host[:port], e.g. https://dasbor.malangkota.go.id");
      }
      config->cors_origins.push_back(*origin);
    }
  }
  int64_t ttl = config->sessions.ttl_seconds;
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "session_ttl_s", 60, &ttl));
  if (ttl > 7 * 24 * 3600) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "http.session_ttl_s",
                                   "http.session_ttl_s must be at most 604800 (7 days)");
  }
  config->sessions.ttl_seconds = static_cast<int>(ttl);
  return Read(table, prefix, "session_cookie_secure", &config->sessions.cookie_secure);
}

Status ReadTokens(const toml::table& table, TokenTable* tokens) {
  const toml::node* list = table.get("tokens");
  if (list == nullptr) return Status::Ok();
  if (!list->is_array_of_tables()) {
    return Status::InvalidArgument(errc::kConfigWrongType, "http.tokens",
                                   "http.tokens must be an array of tables ([[http.tokens]])");
  }
  size_t index = 0;
  for (const toml::node& node : *list->as_array()) {
    const std::string field = "http.tokens[" + std::to_string(index++) + "]";
    const toml::table& token = *node.as_table();
    MALPRO_RETURN_IF_ERROR(UnknownKeys(token, field + ".", {"sha256", "role", "subject"}));
    std::string sha256, role, subject;
    MALPRO_RETURN_IF_ERROR(Read(token, field + ".", "sha256", &sha256));
    MALPRO_RETURN_IF_ERROR(Read(token, field + ".", "role", &role));
    MALPRO_RETURN_IF_ERROR(Read(token, field + ".", "subject", &subject));
    Result<Role> parsed = ParseRole(role, field + ".role");
    if (!parsed.ok()) return parsed.status();
    if (subject.empty()) {
      return Status::InvalidArgument(errc::kConfigMissing, field + ".subject",
                                     field + ".subject is required (a NIP, UMKM id or name)");
    }
    MALPRO_RETURN_IF_ERROR(tokens->Add(sha256, Principal{*parsed, subject}, field + ".sha256"));
  }
  return Status::Ok();
}

Status ReadPolicy(const toml::table& table, PolicyDefaults* policy, int64_t* receipt_window_days) {
  constexpr std::string_view prefix = "policy.";
  MALPRO_RETURN_IF_ERROR(
      UnknownKeys(table, prefix,
                  {"effective_from", "minimum_spend", "fee_basis_points", "umi_zero_fee_max",
                   "settlement_cutoff", "receipt_window_days"}));
  std::string text = FormatIsoDate(policy->effective_from);
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "effective_from", &text));
  Result<CivilDate> from = ParseIsoDate(text, "policy.effective_from");
  if (!from.ok()) return from.status();
  policy->effective_from = *from;
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "fee_basis_points", 0, &policy->fee_basis_points));
  text = FormatSnap(policy->umi_zero_fee_max);
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "umi_zero_fee_max", &text));
  Result<Money> umi_max = ParseAmount(text, "policy.umi_zero_fee_max");
  if (!umi_max.ok()) return umi_max.status();
  policy->umi_zero_fee_max = *umi_max;
  text = "22:00";
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "settlement_cutoff", &text));
  const bool shape = text.size() == 5 && text[2] == ':' && std::isdigit(text[0]) &&
                     std::isdigit(text[1]) && std::isdigit(text[3]) && std::isdigit(text[4]);
  const int minutes = shape ? std::stoi(text.substr(0, 2)) * 60 + std::stoi(text.substr(3)) : -1;
  if (!shape || minutes >= 24 * 60 || std::stoi(text.substr(3)) > 59) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "policy.settlement_cutoff",
                                   "policy.settlement_cutoff must be HH:MM");
  }
  policy->settlement_cutoff_minutes = minutes;
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "receipt_window_days", 1, receipt_window_days));
  if (const toml::node* minimum = table.get("minimum_spend")) {
    if (!minimum->is_table()) {
      return Status::InvalidArgument(errc::kConfigWrongType, "policy.minimum_spend",
                                     "policy.minimum_spend must be a table of rank group = amount");
    }
    policy->minimum_spend.clear();
    for (const auto& [group, amount] : *minimum->as_table()) {
      const std::string field = "policy.minimum_spend." + std::string(group.str());
      std::optional<std::string> amount_text = amount.value_exact<std::string>();
      if (!amount_text) {
        return Status::InvalidArgument(errc::kConfigWrongType, field,
                                       field + " must be an amount string such as \"300000.00\"");
      }
      Result<Money> parsed = ParseAmount(*amount_text, field);
      if (!parsed.ok()) return parsed.status();
      policy->minimum_spend.emplace_back(std::string(group.str()), *parsed);
    }
  }
  return Status::Ok();
}

Status ReadGeography(const toml::table& table, const std::string& config_path, std::string* file) {
  MALPRO_RETURN_IF_ERROR(UnknownKeys(table, "geography.", {"file"}));
  MALPRO_RETURN_IF_ERROR(Read(table, "geography.", "file", file));
  if (!file->empty() && file->front() != '/') {
    const size_t slash = config_path.rfind('/');
    const std::string folder = slash == std::string::npos ? "." : config_path.substr(0, slash);
    // The file sits beside the config file unless the path names a folder of its own.
    if (file->find('/') == std::string::npos) *file = folder + "/" + *file;
  }
  return Status::Ok();
}

// A file named in the config: a bare name is looked up beside the config file.
// A relative path with a folder is taken from the working directory, or else (when nothing is
// there) from the config file's folder.
std::string BesideConfig(const std::string& file, const std::string& config_path) {
  const size_t slash = config_path.rfind('/');
  const std::string beside =
      (slash == std::string::npos ? "." : config_path.substr(0, slash)) + "/" + file;
  if (file.front() == '/') return file;
  if (file.find('/') != std::string::npos) {
    return std::filesystem::exists(file) || !std::filesystem::exists(beside) ? file : beside;
  }
  return beside;
}

Status ReadPem(const std::string& file, const std::string& config_path, std::string_view marker,
               std::string_view field, std::string* pem) {
  const std::string path = BesideConfig(file, config_path);
  std::ifstream stream(path);
  if (!stream) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, field,
        std::string(field) + ": cannot read " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << stream.rdbuf();
  if (!stream || text.str().find(marker) == std::string::npos) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, field,
        std::string(field) + " must name a PEM file with " + std::string(marker) + ": " + path);
  }
  *pem = text.str();
  return Status::Ok();
}

// The outbound side of [bank]: our SNAP client and the payment lifecycle.
Status ReadBankClient(const toml::table& table, const std::string& config_path,
                      MalproConfig* config) {
  constexpr std::string_view prefix = "bank.";
  SnapClientOptions& client = config->bank_client;
  BankPaymentOptions& payments = config->bank_payments;
  std::string key_file;
  for (const auto& [key, target] :
       {std::pair<std::string_view, std::string*>{"base_url", &client.base_url},
        {"client_id", &client.client_id},
        {"client_secret", &client.client_secret},
        {"private_key_file", &key_file},
        {"channel_id", &client.channel_id},
        {"partner_service_id", &client.partner_service_id},
        {"ca_file", &client.ca_file}}) {
    MALPRO_RETURN_IF_ERROR(Read(table, prefix, key, target));
  }
  int64_t value = 0;
  for (const auto& [key, minimum, target] :
       {std::tuple<std::string_view, int64_t, int*>{"request_timeout_ms", 100,
                                                    &client.request_timeout_ms},
        {"attempts_max", 1, &client.attempts_max},
        {"retry_backoff_ms", 0, &client.retry_backoff_ms}}) {
    value = *target;
    MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, key, minimum, &value));
    *target = static_cast<int>(std::min<int64_t>(value, 600'000));
  }
  if (client.attempts_max > snap_attempts_limit) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "bank.attempts_max",
        "bank.attempts_max must be 1 to " + std::to_string(snap_attempts_limit));
  }
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "poll_after_seconds", 1, &payments.poll_after_s));
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "poll_interval_seconds", 1, &payments.poll_interval_s));
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "expire_after_seconds", 60, &payments.expire_after_s));
  if (client.partner_service_id.size() != 8) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "bank.partner_service_id",
                                   "bank.partner_service_id must be 8 characters (SNAP pads it "
                                   "with leading spaces)");
  }
  if (client.base_url.empty()) return Status::Ok();
  if (!client.ca_file.empty()) client.ca_file = BesideConfig(client.ca_file, config_path);
  Result<HttpEndpoint> endpoint = ParseHttpUrl(client.base_url, "bank.base_url");
  if (!endpoint.ok()) return endpoint.status();
  for (const auto& [key, text] :
       {std::pair<std::string_view, const std::string*>{"client_id", &client.client_id},
        {"client_secret", &client.client_secret},
        {"private_key_file", &key_file}}) {
    if (text->empty()) {
      const std::string field = "bank." + std::string(key);
      return Status::InvalidArgument(errc::kConfigOutOfRange, field,
                                     field + " is required when bank.base_url is set");
    }
  }
  MALPRO_RETURN_IF_ERROR(ReadPem(key_file, config_path, "PRIVATE KEY", "bank.private_key_file",
                                 &client.private_key_pem));
  config->bank_client_enabled = true;
  return Status::Ok();
}

Status ReadBank(const toml::table& table, const std::string& config_path, MalproConfig* config) {
  constexpr std::string_view prefix = "bank.";
  MALPRO_RETURN_IF_ERROR(UnknownKeys(table, prefix,
                                     {"partner_id",
                                      "bank_public_key_file",
                                      "bank_public_key_next_file",
                                      "timestamp_window_s",
                                      "notify_authentication",
                                      "notify_client_secret",
                                      "issued_token_lifetime_s",
                                      "base_url",
                                      "client_id",
                                      "client_secret",
                                      "private_key_file",
                                      "channel_id",
                                      "partner_service_id",
                                      "request_timeout_ms",
                                      "attempts_max",
                                      "retry_backoff_ms",
                                      "poll_after_seconds",
                                      "poll_interval_seconds",
                                      "expire_after_seconds",
                                      "ca_file",
                                      "paid_time_skew_s"}));
  std::string key_file;
  std::string next_key_file;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "partner_id", &config->bank.partner_id));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "bank_public_key_file", &key_file));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "bank_public_key_next_file", &next_key_file));
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "timestamp_window_s", 1, &config->bank.timestamp_window_s));
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "paid_time_skew_s", 1, &config->paid_time_skew_s));
  MALPRO_RETURN_IF_ERROR(
      Read(table, prefix, "notify_authentication", &config->bank.authentication));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "notify_client_secret", &config->bank.client_secret));
  MALPRO_RETURN_IF_ERROR(
      ReadPositive(table, prefix, "issued_token_lifetime_s", 60, &config->bank.token_lifetime_s));
  if (config->bank.authentication != "rsa" && config->bank.authentication != "hmac") {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "bank.notify_authentication",
                                   "bank.notify_authentication must be rsa or hmac");
  }
  MALPRO_RETURN_IF_ERROR(ReadBankClient(table, config_path, config));
  if (key_file.empty()) return Status::Ok();
  if (config->bank.partner_id.empty() ||
      config->bank.partner_id.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "bank.partner_id",
                                   "bank.partner_id must be letters, digits and -");
  }
  if (config->bank.authentication == "hmac" && config->bank.client_secret.empty()) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "bank.notify_client_secret",
                                   "bank.notify_client_secret is required when "
                                   "bank.notify_authentication is hmac");
  }
  MALPRO_RETURN_IF_ERROR(ReadPem(key_file, config_path, "BEGIN PUBLIC KEY",
                                 "bank.bank_public_key_file", &config->bank.bank_public_key_pem));
  if (!next_key_file.empty()) {
    MALPRO_RETURN_IF_ERROR(ReadPem(next_key_file, config_path, "BEGIN PUBLIC KEY",
                                   "bank.bank_public_key_next_file",
                                   &config->bank.bank_public_key_next_pem));
  }
  config->bank_enabled = true;
  return Status::Ok();
}

Status ReadSettlement(const toml::table& table, MalproConfig* config) {
  constexpr std::string_view prefix = "settlement.";
  MALPRO_RETURN_IF_ERROR(UnknownKeys(
      table, prefix, {"out_dir", "initiating_party", "debtor_name", "debtor_account", "bank_bic"}));
  SettlementFileOptions& options = config->settlement;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "out_dir", &config->settlement_out_dir));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "initiating_party", &options.initiating_party));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "debtor_name", &options.debtor_name));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "debtor_account", &options.debtor_account));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "bank_bic", &options.bank_bic));
  const std::string& account = options.debtor_account;
  if (account.size() < 10 || account.size() > 16 ||
      account.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "settlement.debtor_account",
                                   "settlement.debtor_account must be 10 to 16 digits");
  }
  const std::string& bic = options.bank_bic;
  if ((bic.size() != 8 && bic.size() != 11) ||
      bic.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != std::string::npos) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "settlement.bank_bic",
        "settlement.bank_bic must be a BIC of 8 or 11 capitals and digits");
  }
  if (config->settlement_out_dir.empty() || options.initiating_party.empty() ||
      options.debtor_name.empty()) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "settlement",
                                   "settlement.out_dir, initiating_party and debtor_name may not "
                                   "be empty");
  }
  return Status::Ok();
}

// [[transparency.witnesses]] (url, key) and transparency.witnesses_required.
Status ReadWitnesses(const toml::table& table, MalproConfig* config) {
  if (const toml::node* list = table.get("witnesses")) {
    if (!list->is_array_of_tables()) {
      return Status::InvalidArgument(
          errc::kConfigWrongType, "transparency.witnesses",
          "transparency.witnesses must be an array of tables ([[transparency.witnesses]])");
    }
    size_t index = 0;
    for (const toml::node& node : *list->as_array()) {
      const std::string field = "transparency.witnesses[" + std::to_string(index++) + "]";
      const toml::table& entry = *node.as_table();
      MALPRO_RETURN_IF_ERROR(UnknownKeys(entry, field + ".", {"url", "key"}));
      std::string url, key;
      MALPRO_RETURN_IF_ERROR(Read(entry, field + ".", "url", &url));
      MALPRO_RETURN_IF_ERROR(Read(entry, field + ".", "key", &key));
      Result<HttpEndpoint> endpoint = ParseHttpUrl(url, field + ".url");
      if (!endpoint.ok()) return endpoint.status();
      Result<NoteVerifier> verifier = ParseVerifierKey(key, field + ".key");
      if (!verifier.ok()) return verifier.status();
      if (verifier->type != note_type_cosignature_v1) {
        return Status::InvalidArgument(errc::kWitnessLogInvalid, field + ".key",
                                       field + ".key must be a witness's (cosigner, type 4) key");
      }
      config->witnesses.push_back({url, *verifier});
    }
  }
  int64_t required = 0;
  MALPRO_RETURN_IF_ERROR(Read(table, "transparency.", "witnesses_required", &required));
  if (required < 0 || static_cast<size_t>(required) > config->witnesses.size()) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "transparency.witnesses_required",
        "transparency.witnesses_required must be 0 to the number of [[transparency.witnesses]] (" +
            std::to_string(config->witnesses.size()) + ")");
  }
  config->witnesses_required = static_cast<size_t>(required);
  return Status::Ok();
}

// [transparency]: the origin and key of the signed checkpoints (docs/transparency.md).
Status ReadTransparency(const toml::table& table, const std::string& config_path,
                        MalproConfig* config) {
  constexpr std::string_view prefix = "transparency.";
  MALPRO_RETURN_IF_ERROR(UnknownKeys(table, prefix,
                                     {"origin", "key_name", "private_key_file", "interval_seconds",
                                      "witnesses", "witnesses_required"}));
  MALPRO_RETURN_IF_ERROR(ReadWitnesses(table, config));
  CheckpointOptions& options = config->checkpoints;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "origin", &options.origin));
  MALPRO_RETURN_IF_ERROR(CheckCheckpointOrigin(options.origin, "transparency.origin"));
  config->checkpoint_key_name = options.origin;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "key_name", &config->checkpoint_key_name));
  int64_t interval_s = options.interval.count() / 1000;
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "interval_seconds", 1, &interval_s));
  options.interval = std::chrono::seconds(interval_s);
  std::string key_file;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "private_key_file", &key_file));
  if (key_file.empty()) return Status::Ok();
  MALPRO_RETURN_IF_ERROR(ReadPem(key_file, config_path, "BEGIN PRIVATE KEY",
                                 "transparency.private_key_file", &config->checkpoint_key_pem));
  // The key is checked here, so that a wrong one stops the start with the setting's name.
  Result<NoteSigner> signer = NoteSigner::FromPem(
      config->checkpoint_key_name, config->checkpoint_key_pem, "transparency.private_key_file");
  if (!signer.ok()) return signer.status();
  config->checkpoints_enabled = true;
  return Status::Ok();
}

// kafka.embedded_port and kafka.embedded_retention_events (after kafka.embedded_brokers).
Status ReadEmbeddedCluster(const toml::table& table, std::string_view prefix, KafkaOptions* kafka) {
  int64_t embedded_port = kafka->embedded_port;
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "embedded_port", &embedded_port));
  if (embedded_port < 0 || embedded_port + kafka->embedded_brokers - 1 > 65'535) {
    return Status::InvalidArgument(
        errc::kConfigOutOfRange, "kafka.embedded_port",
        "kafka.embedded_port must be 0 (a free port) or 1 to 65535, with room for every broker");
  }
  kafka->embedded_port = static_cast<int>(embedded_port);
  MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, "embedded_retention_events", 1'000,
                                      &kafka->embedded_retention_events));
  if (kafka->embedded_retention_events > embedded_retention_events_max) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "kafka.embedded_retention_events",
                                   "kafka.embedded_retention_events must be at most " +
                                       std::to_string(embedded_retention_events_max));
  }
  return Status::Ok();
}

Status ReadKafka(const toml::table& table, KafkaOptions* kafka) {
  constexpr std::string_view prefix = "kafka.";
  MALPRO_RETURN_IF_ERROR(
      UnknownKeys(table, prefix,
                  {"enabled", "brokers", "topic_prefix", "partitions", "replication_factor",
                   "embedded_brokers", "embedded_port", "embedded_retention_events", "intake",
                   "intake_group", "properties", "synchronous", "synchronous_timeout_ms"}));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "enabled", &kafka->enabled));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "brokers", &kafka->brokers));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "topic_prefix", &kafka->topic_prefix));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "intake", &kafka->intake));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "synchronous", &kafka->synchronous));
  MALPRO_RETURN_IF_ERROR(Read(table, prefix, "intake_group", &kafka->intake_group));
  const std::string& topic_prefix = kafka->topic_prefix;
  if (topic_prefix.empty() || topic_prefix.size() > kafka_topic_prefix_bytes_max ||
      topic_prefix.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789._-") != std::string::npos) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "kafka.topic_prefix",
                                   "kafka.topic_prefix must be 1 to " +
                                       std::to_string(kafka_topic_prefix_bytes_max) +
                                       " letters, digits, '.', '_' or '-'");
  }
  if (kafka->intake_group.empty()) {
    return Status::InvalidArgument(errc::kConfigOutOfRange, "kafka.intake_group",
                                   "kafka.intake_group must not be empty");
  }
  struct IntSetting {
    std::string_view key;
    int64_t maximum;
    int* target;
  };
  for (const IntSetting& setting :
       {IntSetting{"partitions", kafka_partitions_max, &kafka->partitions},
        {"replication_factor", 32, &kafka->replication_factor},
        {"embedded_brokers", embedded_brokers_max, &kafka->embedded_brokers},
        {"synchronous_timeout_ms", synchronous_timeout_ms_max, &kafka->synchronous_timeout_ms}}) {
    int64_t value = *setting.target;
    MALPRO_RETURN_IF_ERROR(ReadPositive(table, prefix, setting.key, 1, &value));
    if (value > setting.maximum) {
      const std::string field = std::string(prefix) + std::string(setting.key);
      return Status::InvalidArgument(errc::kConfigOutOfRange, field,
                                     field + " must be at most " + std::to_string(setting.maximum));
    }
    *setting.target = static_cast<int>(value);
  }
  MALPRO_RETURN_IF_ERROR(ReadEmbeddedCluster(table, prefix, kafka));
  if (const toml::node* properties = table.get("properties")) {
    if (!properties->is_table()) {
      return Status::InvalidArgument(errc::kConfigWrongType, "kafka.properties",
                                     "kafka.properties must be a table of librdkafka settings");
    }
    for (const auto& [name, value] : *properties->as_table()) {
      const std::string field = "kafka.properties." + std::string(name.str());
      std::optional<std::string> text = value.value_exact<std::string>();
      if (!text) {
        return Status::InvalidArgument(errc::kConfigWrongType, field,
                                       field + " must be a string, as librdkafka takes it");
      }
      kafka->properties[std::string(name.str())] = *text;
    }
  }
  return Status::Ok();
}

const toml::table* SubTable(const toml::table& root, std::string_view key, Status* status) {
  const toml::node* node = root.get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    *status =
        Status::InvalidArgument(errc::kConfigWrongType, key, std::string(key) + " must be a table");
    return nullptr;
  }
  return node->as_table();
}

}  // namespace

MalproConfig DefaultConfig() {
  MalproConfig config;
  config.policy.minimum_spend = {{"I", Money::FromRupiah(300'000)},
                                 {"II", Money::FromRupiah(300'000)},
                                 {"III", Money::FromRupiah(400'000)},
                                 {"IV", Money::FromRupiah(500'000)},
                                 {"PPPK", Money::FromRupiah(300'000)}};
  config.policy.fee_basis_points = 30;
  config.policy.umi_zero_fee_max = Money::FromRupiah(500'000);
  config.policy.settlement_cutoff_minutes = 22 * 60;
  config.policy.effective_from = {2023, 3, 13};
  config.bank.partner_id = "BJTM";
  config.bank_client.client_id = "MALPRO";
  config.checkpoints.origin = "malangkota.go.id/malpro";
  config.checkpoint_key_name = config.checkpoints.origin;
  return config;
}

Result<MalproConfig> LoadConfig(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);  // the library reports syntax errors by exception only
  } catch (const toml::parse_error& error) {
    return Status::InvalidArgument(errc::kConfigSyntax, path,
                                   path + ":" + std::to_string(error.source().begin.line) + ": " +
                                       std::string(error.description()));
  }
  MALPRO_RETURN_IF_ERROR(UnknownKeys(
      root, "",
      {"log", "http", "policy", "geography", "bank", "kafka", "settlement", "transparency"}));
  MalproConfig config = DefaultConfig();
  Status status;
  if (const toml::table* log = SubTable(root, "log", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadLog(*log, &config.log));
  }
  if (const toml::table* http = SubTable(root, "http", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadHttp(*http, &config.http, &config.tokens));
    MALPRO_RETURN_IF_ERROR(ReadBrowserKeys(*http, path, &config));
  }
  if (const toml::table* policy = SubTable(root, "policy", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadPolicy(*policy, &config.policy, &config.receipt_window_days));
  }
  if (const toml::table* bank = SubTable(root, "bank", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadBank(*bank, path, &config));
  }
  if (const toml::table* kafka = SubTable(root, "kafka", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadKafka(*kafka, &config.kafka));
  }
  if (const toml::table* settlement = SubTable(root, "settlement", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadSettlement(*settlement, &config));
  }
  if (const toml::table* transparency = SubTable(root, "transparency", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadTransparency(*transparency, path, &config));
  }
  if (const toml::table* geography = SubTable(root, "geography", &status)) {
    MALPRO_RETURN_IF_ERROR(ReadGeography(*geography, path, &config.geography_file));
  }
  MALPRO_RETURN_IF_ERROR(status);
  config.source_path = path;
  return config;
}

}  // namespace malpro
