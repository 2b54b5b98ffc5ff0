// The configuration file (adapters/cli/config.h), read by LoadConfig from a file in a
// temporary directory that also holds the bank's test keys under the names bank_public.pem
// and bank_private.pem, so that settings naming them can load.
//
// Input: the TOML text. Inputs where a setting named *_file holds a '/' are skipped: LoadConfig
// reads the key files named, and a path of the input's own would have the harness read any
// file of the machine (a FIFO, /dev/zero), which only an operator can do. Properties:
//   - a refusal carries a known code and names the setting;
//   - an accepted integer setting is the value the file gives (nothing cut to fit an int);
//   - the accepted table, written back out as TOML, loads to the same configuration.
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/cli/config.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

using fuzz::CheckRefusal;

class ConfigDirectory {
 public:
  ConfigDirectory() {
    for (const char* name : {"bank_public.pem", "bank_private.pem"}) {
      std::filesystem::copy_file(MALPRO_SOURCE_DIR "/tests/bank/testdata/" + std::string(name),
                                 directory_.Sub(name));
    }
  }
  // Writes `text` as the config file and returns its path.
  std::string Write(std::string_view text) {
    const std::string path = directory_.Sub("malpro.toml");
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    FUZZ_CHECK(file.good());
    return path;
  }

 private:
  testing::TempDir directory_;
};

ConfigDirectory& Directory() {
  static ConfigDirectory directory;
  return directory;
}

// Whether a setting named *_file anywhere in `node` names a file outside the config's folder.
bool NamesOtherFolder(const toml::node& node) {
  if (const toml::table* table = node.as_table()) {
    for (const auto& [key, value] : *table) {
      std::optional<std::string> text = value.value_exact<std::string>();
      if (key.str().ends_with("_file") && text && text->find('/') != std::string::npos) {
        return true;
      }
      if (NamesOtherFolder(value)) return true;
    }
  } else if (const toml::array* array = node.as_array()) {
    for (const toml::node& value : *array) {
      if (NamesOtherFolder(value)) return true;
    }
  }
  return false;
}

// What a configuration means, for comparing two loads.
std::string Describe(const MalproConfig& config) {
  std::ostringstream out;
  const LogOptions& log = config.log;
  out << log.data_dir << '|' << log.sync << '|' << log.idempotency_retention_days << '|'
      << log.write_buffer_bytes << '|' << log.block_cache_bytes << '\n';
  const HttpOptions& http = config.http;
  out << http.listen_address << '|' << http.port << '|' << http.io_threads << '|'
      << http.worker_threads << '|' << http.body_bytes_max << '|' << http.photo_body_bytes_max
      << '|' << http.request_timeout_ms << '|' << http.idle_timeout_ms << '|'
      << http.connections_max << '|' << config.tokens.size() << '\n';
  const PolicyDefaults& policy = config.policy;
  for (const auto& [group, amount] : policy.minimum_spend)
    out << group << '=' << amount.sen() << ',';
  out << '|' << policy.fee_basis_points << '|' << policy.umi_zero_fee_max.sen() << '|'
      << policy.settlement_cutoff_minutes << '|' << FormatIsoDate(policy.effective_from) << '|'
      << config.receipt_window_days << '|' << config.paid_time_skew_s << '\n';
  const BankNotifyOptions& bank = config.bank;
  out << bank.partner_id << '|' << bank.bank_public_key_pem.size() << '|' << bank.timestamp_window_s
      << '|' << bank.authentication << '|' << bank.client_secret << '|' << bank.token_lifetime_s
      << '|' << config.bank_enabled << '\n';
  const SnapClientOptions& client = config.bank_client;
  out << client.base_url << '|' << client.ca_file << '|' << client.client_id << '|'
      << client.client_secret << '|' << client.private_key_pem.size() << '|' << client.channel_id
      << '|' << client.partner_service_id << '|' << client.request_timeout_ms << '|'
      << client.attempts_max << '|' << client.retry_backoff_ms << '|'
      << config.bank_payments.poll_after_s << '|' << config.bank_payments.poll_interval_s << '|'
      << config.bank_payments.expire_after_s << '|' << config.bank_client_enabled << '\n';
  const KafkaOptions& kafka = config.kafka;
  out << kafka.enabled << '|' << kafka.brokers << '|' << kafka.topic_prefix << '|'
      << kafka.partitions << '|' << kafka.replication_factor << '|' << kafka.embedded_brokers << '|'
      << kafka.intake << '|' << kafka.intake_group << '|';
  for (const auto& [name, value] : kafka.properties) out << name << '=' << value << ',';
  out << '\n';
  const SettlementFileOptions& settlement = config.settlement;
  out << config.settlement_out_dir << '|' << settlement.initiating_party << '|'
      << settlement.debtor_name << '|' << settlement.debtor_account << '|' << settlement.bank_bic
      << '|' << config.geography_file << '\n';
  return out.str();
}

// The integer settings that are narrowed to an int, with where they land.
void CheckIntegers(const toml::table& root, const MalproConfig& config) {
  const std::pair<const char*, int64_t> settings[] = {
      {"http.io_threads", config.http.io_threads},
      {"http.worker_threads", config.http.worker_threads},
      {"http.request_timeout_ms", config.http.request_timeout_ms},
      {"http.idle_timeout_ms", config.http.idle_timeout_ms},
      {"http.connections_max", config.http.connections_max},
      {"http.port", config.http.port},
      {"kafka.partitions", config.kafka.partitions},
      {"kafka.replication_factor", config.kafka.replication_factor},
      {"kafka.embedded_brokers", config.kafka.embedded_brokers},
      {"log.write_buffer_mib", static_cast<int64_t>(config.log.write_buffer_bytes >> 20)},
      {"log.block_cache_mib", static_cast<int64_t>(config.log.block_cache_bytes >> 20)},
  };
  for (const auto& [path, value] : settings) {
    std::optional<int64_t> given = root.at_path(path).value_exact<int64_t>();
    if (given)
      FUZZ_CHECK_DETAIL(*given == value, std::string(path) + " = " + std::to_string(*given) +
                                             " loaded as " + std::to_string(value));
  }
}

}  // namespace
}  // namespace malpro

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace malpro;
  const std::string_view text = fuzz::AsText(data, size);
  toml::table root;
  bool parses = true;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error&) {
    parses = false;
  }
  if (parses && NamesOtherFolder(root)) return 0;
  const std::string path = Directory().Write(text);
  Result<MalproConfig> config = LoadConfig(path);
  if (!parses) FUZZ_CHECK(!config.ok());
  if (!config.ok()) {
    CheckRefusal(config.status());
    FUZZ_CHECK_DETAIL(!config.status().field().empty(), config.status().ToString());
    return 0;
  }
  CheckIntegers(root, *config);
  std::ostringstream written;
  written << root;
  const std::string again_path = Directory().Write(written.str());
  Result<MalproConfig> again = LoadConfig(again_path);
  FUZZ_CHECK_DETAIL(again.ok(), again.status().ToString() + " for\n" + written.str());
  FUZZ_CHECK_DETAIL(Describe(*again) == Describe(*config), written.str());
  return 0;
}
