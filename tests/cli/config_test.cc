#include "adapters/cli/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.Sub("malpro.toml");
    std::ofstream(path) << text;
    return path;
  }
  void ExpectRefused(const std::string& text, std::string_view code, std::string_view field) {
    Result<MalproConfig> config = LoadConfig(Write(text));
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().error_code(), code) << config.status().ToString();
    EXPECT_EQ(config.status().field(), field) << config.status().ToString();
  }
  testing::TempDir dir_;
};

// Expects each of `members` of `loaded` to be as `defaults` has it; a failure names `section`
// and the member's place in the list (1: the first).
template <typename Section, typename... Types>
void ExpectDefaults(std::string_view section, const Section& loaded, const Section& defaults,
                    Types Section::*... members) {
  int place = 0;
  const auto expect = [&](auto member) {
    ++place;
    EXPECT_EQ(loaded.*member, defaults.*member) << section << ", member " << place;
  };
  (expect(members), ...);
}

TEST_F(ConfigTest, ShippedFileWritesEveryDefault) {
  Result<MalproConfig> loaded = LoadConfig(MALPRO_SOURCE_DIR "/config/malpro.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const MalproConfig defaults = DefaultConfig();
  ExpectDefaults("log", loaded->log, defaults.log, &LogOptions::data_dir, &LogOptions::sync,
                 &LogOptions::idempotency_retention_days, &LogOptions::write_buffer_bytes,
                 &LogOptions::block_cache_bytes);
  ExpectDefaults("http", loaded->http, defaults.http, &HttpOptions::listen_address,
                 &HttpOptions::port, &HttpOptions::io_threads, &HttpOptions::worker_threads,
                 &HttpOptions::body_bytes_max, &HttpOptions::photo_body_bytes_max,
                 &HttpOptions::request_timeout_ms, &HttpOptions::idle_timeout_ms,
                 &HttpOptions::connections_max);
  ExpectDefaults("policy", loaded->policy, defaults.policy, &PolicyDefaults::minimum_spend,
                 &PolicyDefaults::fee_basis_points, &PolicyDefaults::umi_zero_fee_max,
                 &PolicyDefaults::settlement_cutoff_minutes, &PolicyDefaults::effective_from);
  ExpectDefaults("MalproConfig", *loaded, defaults, &MalproConfig::receipt_window_days,
                 &MalproConfig::paid_time_skew_s, &MalproConfig::settlement_out_dir,
                 &MalproConfig::checkpoint_key_name);
  ExpectDefaults("bank", loaded->bank, defaults.bank, &BankNotifyOptions::partner_id,
                 &BankNotifyOptions::timestamp_window_s, &BankNotifyOptions::authentication,
                 &BankNotifyOptions::client_secret, &BankNotifyOptions::token_lifetime_s);
  ExpectDefaults("bank_client", loaded->bank_client, defaults.bank_client,
                 &SnapClientOptions::base_url, &SnapClientOptions::client_id,
                 &SnapClientOptions::client_secret, &SnapClientOptions::channel_id,
                 &SnapClientOptions::partner_service_id, &SnapClientOptions::request_timeout_ms,
                 &SnapClientOptions::attempts_max, &SnapClientOptions::retry_backoff_ms);
  ExpectDefaults("bank_payments", loaded->bank_payments, defaults.bank_payments,
                 &BankPaymentOptions::poll_after_s, &BankPaymentOptions::poll_interval_s,
                 &BankPaymentOptions::expire_after_s);
  ExpectDefaults("kafka", loaded->kafka, defaults.kafka, &KafkaOptions::enabled,
                 &KafkaOptions::brokers, &KafkaOptions::topic_prefix, &KafkaOptions::partitions,
                 &KafkaOptions::replication_factor, &KafkaOptions::embedded_brokers,
                 &KafkaOptions::embedded_port, &KafkaOptions::embedded_retention_events,
                 &KafkaOptions::intake, &KafkaOptions::intake_group, &KafkaOptions::properties,
                 &KafkaOptions::synchronous, &KafkaOptions::synchronous_timeout_ms);
  ExpectDefaults("settlement", loaded->settlement, defaults.settlement,
                 &SettlementFileOptions::initiating_party, &SettlementFileOptions::debtor_name,
                 &SettlementFileOptions::debtor_account, &SettlementFileOptions::bank_bic);
  ExpectDefaults("checkpoints", loaded->checkpoints, defaults.checkpoints,
                 &CheckpointOptions::origin, &CheckpointOptions::interval);
  EXPECT_FALSE(loaded->bank_enabled);
  EXPECT_FALSE(loaded->bank_client_enabled);
  // The one setting away from its default: the trial key, found beside the file, so that the
  // demo signs checkpoints (the default, no key, signs none).
  EXPECT_FALSE(defaults.checkpoints_enabled);
  EXPECT_TRUE(loaded->checkpoints_enabled);
  EXPECT_NE(loaded->checkpoint_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(loaded->tokens.size(), 5u);
  EXPECT_EQ(loaded->geography_file, MALPRO_SOURCE_DIR "/config/kota-malang.toml");
  // The console beside the config folder, wherever malpro starts; the rest as by default.
  EXPECT_EQ(defaults.console_dir, "console");
  EXPECT_EQ(loaded->console_dir, MALPRO_SOURCE_DIR "/console");
  EXPECT_EQ(loaded->cors_origins, defaults.cors_origins);
  EXPECT_EQ(loaded->sessions.ttl_seconds, defaults.sessions.ttl_seconds);
  EXPECT_EQ(loaded->sessions.cookie_secure, defaults.sessions.cookie_secure);
}

TEST_F(ConfigTest, BankTrialFileEnablesBothSidesOfTheBank) {
  // Its key paths are relative to the repository root, where the trial is run from.
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(MALPRO_SOURCE_DIR);
  Result<MalproConfig> loaded = LoadConfig("config/bank-trial.toml");
  std::filesystem::current_path(before);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->bank_enabled);
  EXPECT_TRUE(loaded->bank_client_enabled);
  EXPECT_EQ(loaded->bank_client.base_url, "http://127.0.0.1:9090");
  EXPECT_NE(loaded->bank_client.private_key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(loaded->bank.bank_public_key_pem.find("PUBLIC KEY"), std::string::npos);
  EXPECT_EQ(loaded->tokens.size(), 5u);
}

TEST_F(ConfigTest, OmittedSettingsKeepTheirDefaults) {
  Result<MalproConfig> config = LoadConfig(Write("[log]\ndata_dir = \"elsewhere\"\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->log.data_dir, "elsewhere");
  EXPECT_EQ(config->http.port, DefaultConfig().http.port);
  EXPECT_EQ(config->policy.minimum_spend, DefaultConfig().policy.minimum_spend);
}

// The shipped file, with its five published trial tokens, made to listen on every interface.
TEST_F(ConfigTest, PublishedTrialTokensAreRefusedOffLoopbackUnlessAllowed) {
  std::ifstream shipped(MALPRO_SOURCE_DIR "/config/malpro.toml");
  std::string text((std::istreambuf_iterator<char>(shipped)), std::istreambuf_iterator<char>());
  std::filesystem::copy_file(MALPRO_SOURCE_DIR "/config/kota-malang.toml",
                             dir_.Sub("kota-malang.toml"));
  std::filesystem::create_directories(dir_.Sub("trial-keys"));
  std::filesystem::copy_file(MALPRO_SOURCE_DIR "/config/trial-keys/checkpoint_private.pem",
                             dir_.Sub("trial-keys/checkpoint_private.pem"));
  const std::string loopback = "listen_address = \"127.0.0.1\"";
  const size_t at = text.find(loopback);
  ASSERT_NE(at, std::string::npos);
  ASSERT_TRUE(LoadConfig(Write(text)).ok());
  for (const char* address : {"0.0.0.0", "192.168.1.20", "::"}) {
    std::string open = text;
    open.replace(at, loopback.size(), "listen_address = \"" + std::string(address) + "\"");
    Result<MalproConfig> refused = LoadConfig(Write(open));
    ASSERT_FALSE(refused.ok()) << address;
    EXPECT_EQ(refused.status().error_code(), "config_out_of_range");
    EXPECT_EQ(refused.status().field(), "http.listen_address");
    EXPECT_NE(refused.status().message().find("dev-admin"), std::string::npos)
        << refused.status().ToString();
    // Allowed by name, it starts.
    std::string allowed = open;
    allowed.insert(allowed.find("listen_address"), "allow_trial_tokens_on_network = true\n");
    EXPECT_TRUE(LoadConfig(Write(allowed)).ok()) << address;
  }
  // 127.0.0.0/8 and ::1 are loopback; tokens of one's own are fine anywhere.
  std::string other_loopback = text;
  other_loopback.replace(at, loopback.size(), "listen_address = \"127.0.0.2\"");
  EXPECT_TRUE(LoadConfig(Write(other_loopback)).ok());
  EXPECT_TRUE(LoadConfig(Write("[http]\nlisten_address = \"0.0.0.0\"\n[[http.tokens]]\n"
                               "role = \"admin\"\nsubject = \"x\"\nsha256 = \"" +
                               std::string(64, 'a') + "\"\n"))
                  .ok());
}

TEST_F(ConfigTest, EveryMistakeNamesItsSetting) {
  // An RSA key where a note (Ed25519) key is wanted.
  std::ofstream(dir_.Sub("rsa.pem")) << "-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBg\n-----END "
                                        "PRIVATE KEY-----\n";
  // A setting's text, the error it is refused with, and the setting that error names.
  struct Mistake {
    std::string text;
    std::string_view code;
    std::string field;
  };
  const std::vector<Mistake> mistakes = {
      {"[http]\ncors_origins = \"https://a.example\"\n", "config_wrong_type", "http.cors_origins"},
      {"[http]\ncors_origins = [\"https://a.example\", \"https://b.example/\"]\n", "config_invalid",
       "http.cors_origins[1]"},
      {"[http]\ncors_origins = [\"*\"]\n", "config_invalid", "http.cors_origins[0]"},
      {"[http]\nsession_ttl_s = 59\n", "config_out_of_range", "http.session_ttl_s"},
      {"[http]\nsession_ttl_s = 604801\n", "config_out_of_range", "http.session_ttl_s"},
      {"[http]\nsession_cookie_secure = 1\n", "config_wrong_type", "http.session_cookie_secure"},
      {"[http]\nconsole_dir = 1\n", "config_wrong_type", "http.console_dir"},
      {"[log]\ndata_dri = \"x\"\n", "config_unknown_key", "log.data_dri"},
      {"[logs]\n", "config_unknown_key", "logs"},
      {"[log]\nsync = \"yes\"\n", "config_wrong_type", "log.sync"},
      {"[log]\nidempotency_retention_days = 6\n", "config_out_of_range",
       "log.idempotency_retention_days"},
      {"[http]\nport = 70000\n", "config_out_of_range", "http.port"},
      {"[kafka]\nbroker = \"x\"\n", "config_unknown_key", "kafka.broker"},
      {"[kafka]\ntopic_prefix = \"a b\"\n", "config_out_of_range", "kafka.topic_prefix"},
      {"[kafka]\npartitions = 0\n", "config_out_of_range", "kafka.partitions"},
      {"[kafka]\nembedded_brokers = 10\n", "config_out_of_range", "kafka.embedded_brokers"},
      {"[kafka]\nembedded_port = 65536\n", "config_out_of_range", "kafka.embedded_port"},
      {"[kafka]\nembedded_port = -1\n", "config_out_of_range", "kafka.embedded_port"},
      {"[kafka]\nsynchronous = 1\n", "config_wrong_type", "kafka.synchronous"},
      {"[kafka]\nsynchronous_timeout_ms = 0\n", "config_out_of_range",
       "kafka.synchronous_timeout_ms"},
      {"[kafka]\nsynchronous_timeout_ms = 600001\n", "config_out_of_range",
       "kafka.synchronous_timeout_ms"},
      {"[kafka]\nembedded_retention_events = 999\n", "config_out_of_range",
       "kafka.embedded_retention_events"},
      {"[kafka]\nembedded_retention_events = 5000001\n", "config_out_of_range",
       "kafka.embedded_retention_events"},
      {"[kafka.properties]\n\"linger.ms\" = 5\n", "config_wrong_type",
       "kafka.properties.linger.ms"},
      {"[http]\nworker_threads = 0\n", "config_out_of_range", "http.worker_threads"},
      {"[[http.tokens]]\nrole = \"admin\"\nsubject = \"x\"\nsha256 = \"abc\"\n",
       "token_hash_invalid", "http.tokens[0].sha256"},
      {"[[http.tokens]]\nrole = \"root\"\nsubject = \"x\"\nsha256 = \"" + std::string(64, 'a') +
           "\"\n",
       "role_unknown", "http.tokens[0].role"},
      {"[policy]\nsettlement_cutoff = \"24:00\"\n", "config_out_of_range",
       "policy.settlement_cutoff"},
      {"[policy]\numi_zero_fee_max = \"500000.001\"\n", "amount_too_precise",
       "policy.umi_zero_fee_max"},
      {"[policy.minimum_spend]\nIII = 400000\n", "config_wrong_type", "policy.minimum_spend.III"},
      {"[bank]\nbank_public_key_file = \"missing.pem\"\n", "config_out_of_range",
       "bank.bank_public_key_file"},
      {"[settlement]\ndebtor_account = \"12-34\"\n", "config_out_of_range",
       "settlement.debtor_account"},
      {"[settlement]\nbank_bic = \"pdjtidj1\"\n", "config_out_of_range", "settlement.bank_bic"},
      {"[settlement]\nout = \"x\"\n", "config_unknown_key", "settlement.out"},
      {"[bank]\nnotify_authentication = \"none\"\n", "config_out_of_range",
       "bank.notify_authentication"},
      {"[bank]\nbase_url = \"ftp://x\"\n", "url_invalid", "bank.base_url"},
      {"[bank]\nbase_url = \"http://127.0.0.1:9090\"\nclient_secret = \"s\"\n",
       "config_out_of_range", "bank.private_key_file"},
      {"[bank]\nattempts_max = 9\n", "config_out_of_range", "bank.attempts_max"},
      {"[bank]\npartner_service_id = \"123\"\n", "config_out_of_range", "bank.partner_service_id"},
      {"[bank]\npoll_after_seconds = 0\n", "config_out_of_range", "bank.poll_after_seconds"},
      // Beyond 10^9 a setting in seconds would overflow once counted in microseconds.
      {"[bank]\ntimestamp_window_s = 9223372036854775807\n", "config_out_of_range",
       "bank.timestamp_window_s"},
      {"[bank]\nissued_token_lifetime_s = 1000000001\n", "config_out_of_range",
       "bank.issued_token_lifetime_s"},
      {"[transparency]\norigin = \"a b\"\n", "checkpoint_origin_invalid", "transparency.origin"},
      {"[transparency]\ninterval_seconds = 0\n", "config_out_of_range",
       "transparency.interval_seconds"},
      {"[transparency]\nprivate_key_file = \"none.pem\"\n", "config_out_of_range",
       "transparency.private_key_file"},
      {"[transparency]\nkey = \"x\"\n", "config_unknown_key", "transparency.key"},
      {"[transparency]\nprivate_key_file = \"rsa.pem\"\n", "note_key_invalid",
       "transparency.private_key_file"},
      {"[log\n", "config_syntax", dir_.Sub("malpro.toml")},
  };
  for (const auto& [text, code, field] : mistakes) {
    SCOPED_TRACE(text);
    ExpectRefused(text, code, field);
  }
  {
    Result<MalproConfig> missing = LoadConfig(Write("[bank]\nbank_public_key_file = \"m.pem\"\n"));
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.status().message().find("cannot read " + dir_.Sub("m.pem") +
                                              ": No such file or directory"),
              std::string::npos)
        << missing.status().ToString();
  }
}

TEST_F(ConfigTest, WitnessesAreCosignerKeysWithUrlsAndAtMostAllAreRequired) {
  const std::string witness =
      "malangkota.go.id/witness-trial+1ddd503c+BAsR3LCUa79mWFkceL4hXpuCdkpqVt9vTaqHNBC8cbM4";
  const std::string entry =
      "[[transparency.witnesses]]\nurl = \"http://127.0.0.1:8090\"\nkey = \"" + witness + "\"\n";
  Result<MalproConfig> loaded =
      LoadConfig(Write("[transparency]\nwitnesses_required = 1\n" + entry));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->witnesses.size(), 1u);
  EXPECT_EQ(loaded->witnesses[0].url, "http://127.0.0.1:8090");
  EXPECT_EQ(loaded->witnesses[0].key.Text(), witness);
  EXPECT_EQ(loaded->witnesses_required, 1u);
  ExpectRefused("[transparency]\nwitnesses_required = 2\n" + entry, "config_out_of_range",
                "transparency.witnesses_required");
  ExpectRefused("[transparency]\nwitnesses_required = -1\n", "config_out_of_range",
                "transparency.witnesses_required");
  // The log's own key (type 1) is no witness's.
  ExpectRefused(
      "[[transparency.witnesses]]\nurl = \"http://127.0.0.1:1\"\nkey = "
      "\"malangkota.go.id/malpro+2a340229+AR/cd5XWzlU6Cs3udDrty9lMHS6Gp49wiMT5x7hRA0w1\"\n",
      "witness_log_invalid", "transparency.witnesses[0].key");
  ExpectRefused("[[transparency.witnesses]]\nurl = \"ftp://x\"\nkey = \"" + witness + "\"\n",
                "url_invalid", "transparency.witnesses[0].url");
  ExpectRefused("[[transparency.witnesses]]\nurl = \"http://x\"\nkey = \"nope\"\n",
                "note_key_invalid", "transparency.witnesses[0].key");
  ExpectRefused("[[transparency.witnesses]]\nurl = \"http://x\"\nname = \"w\"\n",
                "config_unknown_key", "transparency.witnesses[0].name");
  ExpectRefused("[transparency]\nwitnesses = \"x\"\n", "config_wrong_type",
                "transparency.witnesses");
}

}  // namespace
}  // namespace malpro
