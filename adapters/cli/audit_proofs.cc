// `malpro audit check-proof FILE` and `malpro audit verify --since-checkpoint FILE`: the
// offline checks of docs/transparency.md, section 6, with nothing but the log's verifier key
// (and, for the second, the data directory).
#include <fstream>
#include <iostream>
#include <sstream>

#include "adapters/cli/commands.h"
#include "adapters/kafka/topic_audit.h"
#include "engine/error_codes.h"
#include "engine/merkle_tree.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_proofs.h"
#include "engine/tlog_store.h"
#include "engine/tlog_witness.h"

namespace malpro::cli {
namespace {

// A proof, checkpoint or key file is small; anything larger is not one.
constexpr std::streamsize proof_file_bytes_max = 256 * 1024;

}  // namespace

Result<std::string> ReadSmallFile(const std::string& path, std::string_view option) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    return Status::InvalidArgument(errc::kFileUnreadable, option, "cannot read " + path);
  }
  std::string text(static_cast<size_t>(proof_file_bytes_max) + 1, '\0');
  stream.read(text.data(), proof_file_bytes_max + 1);
  text.resize(static_cast<size_t>(stream.gcount()));
  if (text.size() > static_cast<size_t>(proof_file_bytes_max)) {
    return Status::InvalidArgument(errc::kProofInvalid, option,
                                   path + " is larger than a proof or checkpoint can be");
  }
  return text;
}

Result<NoteVerifier> VerifierKeyArgument(const std::string& given, std::string_view option) {
  std::string text = given;
  if (given.find('+') == std::string::npos) {
    Result<std::string> file = ReadSmallFile(given, option);
    if (!file.ok()) return file.status();
    text = std::move(file).value();
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return ParseVerifierKey(text, option);
}

Result<NoteVerifier> ResolveVerifier(const MalproConfig& config, const std::string& key) {
  if (!key.empty()) return VerifierKeyArgument(key, "--key");
  if (!config.checkpoints_enabled) {
    return Status::InvalidArgument(errc::kOptionMissing, "--key",
                                   "give the log's verifier key with --key NAME+KEYID+BASE64 (or "
                                   "a file holding it), as the log's operator published it");
  }
  Result<NoteSigner> signer = NoteSigner::FromPem(
      config.checkpoint_key_name, config.checkpoint_key_pem, "transparency.private_key_file");
  if (!signer.ok()) return signer.status();
  return signer->verifier();
}

namespace {

std::string Short(const Hash& hash) { return HashToHex(hash); }

struct Quorum {
  std::vector<NoteVerifier> witnesses;
  size_t required = 0;
};

Result<Quorum> ResolveQuorum(const MalproConfig& config, const CosignatureFlags& flags) {
  Quorum quorum;
  if (flags.witnesses.empty()) {
    for (const WitnessConfig& witness : config.witnesses) quorum.witnesses.push_back(witness.key);
    quorum.required = config.witnesses_required;
  } else {
    for (const std::string& given : flags.witnesses) {
      Result<NoteVerifier> key = VerifierKeyArgument(given, "--witness");
      if (!key.ok()) return key.status();
      if (key->type != note_type_cosignature_v1) {
        return Status::InvalidArgument(
            errc::kNoteKeyInvalid, "--witness",
            "--witness " + key->name + " is a log's key (type 1), not a witness's (type 4)");
      }
      quorum.witnesses.push_back(*key);
    }
    quorum.required = quorum.witnesses.size();
  }
  if (flags.required >= 0) quorum.required = static_cast<size_t>(flags.required);
  if (quorum.required > quorum.witnesses.size()) {
    return Status::InvalidArgument(
        errc::kOptionOutOfRange, "--witnesses-required",
        "--witnesses-required " + std::to_string(quorum.required) + " is more than the " +
            std::to_string(quorum.witnesses.size()) + " witness keys given or configured");
  }
  return quorum;
}

// Prints whether `note` carries the quorum's cosignatures; kExitOk, or kExitCheckFailed.
int CheckQuorum(const std::string& note, const Quorum& quorum) {
  if (quorum.required == 0 && quorum.witnesses.empty()) return kExitOk;
  Result<SignedNote> parsed = ParseSignedNote(note, "checkpoint");
  if (!parsed.ok()) {
    std::cout << "FAILED: " << parsed.status().message() << "\n";
    return kExitCheckFailed;
  }
  const CosignatureCount count = CountCosignatures(*parsed, quorum.witnesses);
  std::string names;
  for (const std::string& name : count.names) names += (names.empty() ? "" : ", ") + name;
  const bool met = count.verified >= quorum.required;
  std::cout << (met ? "OK: " : "FAILED: ") << "the checkpoint is cosigned by " << count.verified
            << " of the " << quorum.witnesses.size() << " witnesses trusted"
            << (names.empty() ? "" : " (" + names + ")") << "; " << quorum.required << " required";
  if (!count.problem.empty()) std::cout << "; " << count.problem;
  std::cout << "\n";
  return met ? kExitOk : kExitCheckFailed;
}

// What a check of a checkpoint needs: the configuration, the log's verifier key (--key or
// the configured one) and the witnesses it requires.
struct CheckKeys {
  MalproConfig config;
  NoteVerifier verifier;
  Quorum quorum;
};

Result<CheckKeys> ResolveCheckKeys(const CommonOptions& common, const std::string& key,
                                   const CosignatureFlags& cosignatures) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return config.status();
  Result<NoteVerifier> verifier = ResolveVerifier(*config, key);
  if (!verifier.ok()) return verifier.status();
  Result<Quorum> quorum = ResolveQuorum(*config, cosignatures);
  if (!quorum.ok()) return quorum.status();
  return CheckKeys{std::move(config).value(), std::move(verifier).value(),
                   std::move(quorum).value()};
}

int RunCheckProof(const CommonOptions& common, const std::string& file, const std::string& key,
                  const CosignatureFlags& cosignatures) {
  Result<CheckKeys> keys = ResolveCheckKeys(common, key, cosignatures);
  if (!keys.ok()) return Fail(keys.status());
  const NoteVerifier* verifier = &keys->verifier;
  const Quorum* quorum = &keys->quorum;
  Result<std::string> text = ReadSmallFile(file, "FILE");
  if (!text.ok()) return Fail(text.status());
  Result<ParsedProof> parsed = ParseProofBundle(*text, file);
  if (!parsed.ok()) {
    std::cout << "FAILED: " << parsed.status().message() << "\n";
    return kExitCheckFailed;
  }
  Result<ProofVerdict> verdict = CheckProof(*parsed, *verifier, "");
  if (!verdict.ok()) {
    std::cout << "FAILED: " << verdict.status().message() << "\n";
    return kExitCheckFailed;
  }
  const Checkpoint& checkpoint = verdict->checkpoint;
  if (const int cosigned =
          CheckQuorum(parsed->consistency ? parsed->consistency_bundle.new_checkpoint
                                          : parsed->inclusion.checkpoint,
                      *quorum);
      cosigned != kExitOk) {
    return cosigned;
  }
  if (parsed->consistency) {
    std::cout << "OK: the log " << checkpoint.origin << " of " << checkpoint.size
              << " events (root " << Short(checkpoint.root) << ") extends its log of "
              << verdict->old_checkpoint.size << " events (root "
              << Short(verdict->old_checkpoint.root) << "); both checkpoints signed by "
              << verifier->Text() << "\n";
    return kExitOk;
  }
  for (size_t i = 0; i < verdict->sequences.size(); ++i) {
    std::cout << "OK: event " << verdict->sequences[i] << " (hash "
              << HashToHex(verdict->event_hashes[i]) << ") is in the log\n";
  }
  std::cout << "OK: the log " << checkpoint.origin << " of " << checkpoint.size << " events (root "
            << Short(checkpoint.root) << ") holds them, as its checkpoint "
            << "signed by " << verifier->Text() << " says\n";
  return kExitOk;
}

// Event `size` is the checkpoint's last leaf: its stored hash, through the stored tiles, must
// give the signed root. That hash commits to every event before it (the chain).
int CheckLastLeaf(const EventLog& log, const TlogStore& store, const Checkpoint& checkpoint) {
  const uint64_t size = checkpoint.size;
  Result<std::vector<Event>> last = log.Read(size, 1);
  if (!last.ok()) return Fail(last.status());
  Result<std::vector<Hash>> path = InclusionProof(size - 1, size, store.Reader(size));
  if (!path.ok()) return Fail(path.status());
  if (Status included =
          VerifyInclusion(size - 1, size, TlogLeafHash(last->front()), *path, checkpoint.root);
      !included.ok()) {
    std::cout << "FAILED: event " << size << " of this log is not the checkpoint's last event ("
              << included.message() << "): history up to the checkpoint was rewritten\n";
    return kExitCheckFailed;
  }
  std::cout << "OK: event " << size << " (hash " << HashToHex(last->front().hash)
            << ") is the checkpoint's last leaf\n";
  return kExitOk;
}

// What the checkpoints topic showed of the chain of the events topic.
int ReportCheckpointTie(const TopicChain& chain, const TopicCheckpointReport& tied,
                        const std::string& checkpoints_topic, const NoteVerifier& verifier) {
  const uint64_t last = chain.report.verified_head.sequence;
  if (tied.to_size == 0) {
    std::cout << (chain.first == 1 ? "note: " : "FAILED: ") << "no two of the " << tied.checkpoints
              << " signed checkpoints on " << checkpoints_topic << " span events " << chain.first
              << " to " << last << ": not compared with a signed checkpoint\n";
    return chain.first == 1 ? kExitOk : kExitCheckFailed;
  }
  std::cout << "OK: events " << tied.from_size + 1 << " to " << tied.to_size
            << " give the root that the checkpoint of " << tied.to_size << " on "
            << checkpoints_topic << " signs ("
            << (tied.from_size == 0 ? std::string("from the empty tree")
                                    : "grown from the frontier of the checkpoint of " +
                                          std::to_string(tied.from_size))
            << "; key " << verifier.Text() << ")\n";
  std::cout << "checked: events " << chain.first << " to " << tied.to_size
            << " are the log's (the chain ties those before " << tied.from_size + 1 << " to them)";
  if (last > tied.to_size) {
    std::cout << "; events " << tied.to_size + 1 << " to " << last
              << " only by the chain: no checkpoint on the topic covers them yet";
  }
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

int RunAuditSinceCheckpoint(const CommonOptions& common, const std::string& file,
                            const std::string& key, const CosignatureFlags& cosignatures) {
  Result<CheckKeys> keys = ResolveCheckKeys(common, key, cosignatures);
  if (!keys.ok()) return Fail(keys.status());
  const MalproConfig* config = &keys->config;
  const NoteVerifier* verifier = &keys->verifier;
  const Quorum* quorum = &keys->quorum;
  Result<std::string> note_text = ReadSmallFile(file, "--since-checkpoint");
  if (!note_text.ok()) return Fail(note_text.status());
  Result<SignedNote> note = ParseSignedNote(*note_text, "--since-checkpoint");
  if (!note.ok()) return Fail(note.status());
  Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, "--since-checkpoint");
  if (!checkpoint.ok()) return Fail(checkpoint.status());
  if (Status signed_by = VerifyNote(*note, *verifier); !signed_by.ok()) {
    std::cout << "FAILED: the checkpoint in " << file << ": " << signed_by.message() << "\n";
    return kExitCheckFailed;
  }
  std::cout << "OK: the checkpoint of " << checkpoint->size << " events of " << checkpoint->origin
            << " (root " << HashToHex(checkpoint->root) << ") is signed by " << verifier->Text()
            << "\n";
  if (const int cosigned = CheckQuorum(*note_text, *quorum); cosigned != kExitOk) return cosigned;
  if (checkpoint->size == 0) {
    return Fail(Status::InvalidArgument(errc::kProofInvalid, "--since-checkpoint",
                                        "the checkpoint is of 0 events"));
  }

  LogOptions options = config->log;
  options.check_on_open = false;
  if (Status found = RequireLedgerDirectory(options); !found.ok()) return Fail(found);
  options.read_only = true;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  if (!log.ok()) return Fail(log.status());
  const std::string dir = options.data_dir + "/" + tlog_directory;
  Result<std::unique_ptr<TlogStore>> store = TlogStore::Open(dir, /*read_only=*/true);
  if (!store.ok()) return Fail(store.status());
  const uint64_t size = checkpoint->size;
  if ((*log)->Head().sequence < size) {
    std::cout << "FAILED: the log holds " << (*log)->Head().sequence
              << " events, fewer than the checkpoint's " << size << ": it was cut back\n";
    return kExitCheckFailed;
  }
  if ((*store)->Size() < size) {
    return Fail(Status::Unavailable(
        errc::kTlogOff, "the Merkle tree in " + dir + " holds " + std::to_string((*store)->Size()) +
                            " leaves, fewer than the checkpoint's " + std::to_string(size) +
                            ": run malpro serve on this directory until it has caught up"));
  }
  if (const int leaf = CheckLastLeaf(**log, **store, *checkpoint); leaf != kExitOk) return leaf;
  Result<VerifyReport> report = (*log)->Verify(size, 0, {});
  if (!report.ok()) return Fail(report.status());
  if (!report->ok) {
    std::cout << "FAILED at sequence " << report->first_bad_sequence << ": " << report->problem
              << "\n";
    return kExitCheckFailed;
  }
  std::cout << "OK: " << report->events_checked << " events verified from sequence " << size
            << " to the head " << report->verified_head.sequence << ", head hash "
            << HashToHex(report->verified_head.hash)
            << ": this log extends the one the checkpoint signs\n";
  return kExitOk;
}

int RunAuditVerifyKafka(const CommonOptions& common, const std::string& brokers,
                        const std::string& key, const std::string& expected_head) {
  Result<MalproConfig> config = ResolveConfig(common);
  if (!config.ok()) return Fail(config.status());
  const std::string topic = config->kafka.EventsTopic();
  std::cerr << "reading " << topic << " from " << brokers << "\n";
  bool trimmed = false;
  Result<std::vector<TopicRecord>> records = ReadWholeTopic(
      brokers, config->kafka, topic, /*timeout_ms=*/60'000, /*what_is_left=*/true, &trimmed);
  if (!records.ok()) return Fail(records.status());
  const TopicChain chain = VerifyTopicSuffix(*records);
  const VerifyReport& report = chain.report;
  if (!report.ok) {
    std::cout << "FAILED at sequence " << report.first_bad_sequence << ": " << report.problem
              << " (Kafka topic " << topic << ")\n";
    return kExitCheckFailed;
  }
  const std::string head = HashToHex(report.verified_head.hash);
  if (chain.first == 1) {
    std::cout << "OK: " << report.events_checked << " events verified from Kafka topic " << topic
              << ", head sequence " << report.verified_head.sequence << ", head hash " << head
              << "\n";
  } else {
    std::cout << "OK: events " << chain.first << " to " << report.verified_head.sequence
              << " verified from Kafka topic " << topic << " (retention dropped the "
              << chain.first - 1 << " before them; the chain is checked from event " << chain.first
              << "), head hash " << head << "\n";
  }
  if (!expected_head.empty() && head != expected_head) {
    std::cout << "FAILED: the chain verifies, but its head hash " << head << " is not the expected "
              << expected_head << "\n";
    return kExitCheckFailed;
  }
  if (key.empty() && !config->checkpoints_enabled) {
    if (chain.first == 1) {
      std::cout << "note: not compared with a signed checkpoint (give the log's verifier key "
                   "with --key)\n";
      return kExitOk;
    }
    std::cout << "FAILED: the topic lost events 1 to " << chain.first - 1
              << ": what is left can only be tied to the log by a signed checkpoint; give the "
                 "log's verifier key with --key\n";
    return kExitCheckFailed;
  }
  Result<NoteVerifier> verifier = ResolveVerifier(*config, key);
  if (!verifier.ok()) return Fail(verifier.status());
  const std::string checkpoints_topic = config->kafka.topic_prefix + ".checkpoints";
  Result<std::vector<TopicRecord>> checkpoint_records =
      ReadWholeTopic(brokers, config->kafka, checkpoints_topic, 60'000, true, nullptr);
  if (!checkpoint_records.ok()) return Fail(checkpoint_records.status());
  const TopicCheckpointReport tied = CheckTopicAgainstCheckpoints(
      chain, *checkpoint_records, *verifier, config->checkpoints.origin);
  if (!tied.ok) {
    std::cout << "FAILED: " << tied.problem << "\n";
    return kExitCheckFailed;
  }
  return ReportCheckpointTie(chain, tied, checkpoints_topic, *verifier);
}

void AddCosignatureOptions(CLI::App* command, CosignatureFlags* flags) {
  command->add_option("--witness", flags->witnesses,
                      "a witness's verifier key (type 4), NAME+KEYID+BASE64 or a file holding it; "
                      "repeatable (default: [[transparency.witnesses]] of the configuration)");
  command
      ->add_option("--witnesses-required", flags->required,
                   "cosignatures of those witnesses the checkpoint must carry (default: every "
                   "--witness given, else [transparency] witnesses_required, 0 when unset)")
      ->check(CLI::NonNegativeNumber);
}

void AddCheckProofCommand(CLI::App& audit, std::vector<Command>& commands) {
  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto cosignatures = std::make_shared<CosignatureFlags>();
  CLI::App* check = audit.add_subcommand(
      "check-proof",
      "check a proof bundle offline (docs/transparency.md, section 6): that events are in the "
      "log a signed checkpoint signs (GET /v1/orders/{id}/proof and the like), or that a newer "
      "checkpoint's log extends an older one's (GET /tlog/proof/consistency). Needs no data "
      "directory. Exit 0 when it verifies, 1 when it does not, 2 on other errors");
  check->add_option("FILE", *file, "the .tlog-proof file")->required();
  check->add_option("--key", *key,
                    "the log's verifier key, NAME+KEYID+BASE64, or a file holding it (default: "
                    "the key of [transparency] private_key_file in the configuration)");
  AddCosignatureOptions(check, cosignatures.get());
  commands.push_back({check, [file, key, cosignatures](const CommonOptions& common) {
                        return RunCheckProof(common, *file, *key, *cosignatures);
                      }});
}

}  // namespace malpro::cli
