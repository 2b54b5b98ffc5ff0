// The configuration file (TOML): what it may contain and how it maps onto the components'
// options. config/malpro.toml shows every setting with its default.
#pragma once

#include <string>

#include "adapters/bank/notify.h"
#include "adapters/bank/payments.h"
#include "adapters/bank/snap_client.h"
#include "adapters/files/settlement_files.h"
#include "adapters/http/auth.h"
#include "adapters/http/server.h"
#include "adapters/http/session.h"
#include "adapters/kafka/kafka_options.h"
#include "engine/event_log.h"
#include "engine/ledger.h"
#include "engine/result.h"
#include "engine/tlog_checkpoints.h"

namespace malpro {

// A witness of the log's checkpoints (docs/transparency.md, section 8).
struct WitnessConfig {
  std::string url;   // where POST <url>/add-checkpoint is answered
  NoteVerifier key;  // its cosigner key (type 4)
};

struct MalproConfig {
  // The file it was read from (LoadConfig); empty for the built-in defaults. `malpro serve`
  // reads its tokens again from it on SIGHUP.
  std::string source_path;
  LogOptions log;
  HttpOptions http;
  TokenTable tokens;
  // What browsers get ([http] console_dir, cors_origins, session_ttl_s, session_cookie_secure):
  // the console's folder (relative: from the working directory; "" serves none), the origins
  // whose pages may read answers (CORS; none by default), and the sign-in sessions.
  std::string console_dir = "console";
  std::vector<std::string> cors_origins;
  SessionOptions sessions;
  PolicyDefaults policy;
  int64_t receipt_window_days = 31;
  // bank.paid_time_skew_s: a bank's paid time is accepted within [request - skew, now + skew].
  int64_t paid_time_skew_s = 300;
  // Bank Jatim's SNAP endpoints; off while no bank public key is configured.
  BankNotifyOptions bank;
  bool bank_enabled = false;
  // Our SNAP client to the bank (payment requests, the poller); off while bank.base_url is
  // empty. The private key is read from bank.private_key_file.
  SnapClientOptions bank_client;
  BankPaymentOptions bank_payments;
  bool bank_client_enabled = false;
  // Kafka: the relay of the log, the optional command intake, the embedded broker.
  KafkaOptions kafka;
  // Settlement files: who pays (the collection account at Bank Jatim) and where they go.
  SettlementFileOptions settlement;
  std::string settlement_out_dir = "settlement";
  // Signed checkpoints of the Merkle tree ([transparency]); off while no private key is set.
  // The key's name is checkpoint_key_name (the origin unless set).
  CheckpointOptions checkpoints;
  std::string checkpoint_key_name;
  std::string checkpoint_key_pem;
  bool checkpoints_enabled = false;
  // Witnesses asked to cosign each new latest checkpoint ([[transparency.witnesses]]), and how
  // many cosignatures of them a checker of this config requires (audit check-proof, audit
  // verify --since-checkpoint).
  std::vector<WitnessConfig> witnesses;
  size_t witnesses_required = 0;
  // The kecamatan and kelurahan list; relative paths are taken from the config file's folder.
  std::string geography_file = "config/kota-malang.toml";
};

// The configuration with every default and no file: what `malpro` uses without --config.
MalproConfig DefaultConfig();

// Reads the file at `path`. Unknown sections or keys, and values of the wrong type or out of
// range, are errors that name the key.
Result<MalproConfig> LoadConfig(const std::string& path);

}  // namespace malpro
