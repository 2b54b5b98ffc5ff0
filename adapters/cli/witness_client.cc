#include "adapters/cli/witness_client.h"

#include <iostream>

#include "adapters/bank/http_client.h"
#include "engine/assert.h"
#include "engine/merkle_tree.h"
#include "engine/tlog_proofs.h"
#include "engine/tlog_witness.h"

namespace malpro {
namespace {

// A 409's body: the size of the latest checkpoint the witness cosigned, and a newline.
std::optional<uint64_t> ParseSizeBody(std::string_view body) {
  if (body.empty() || body.back() != '\n') return std::nullopt;
  return ParseDecimal(body.substr(0, body.size() - 1));
}

}  // namespace

WitnessClient::WitnessClient(std::vector<WitnessConfig> witnesses, const TlogStore* store)
    : store_(store) {
  for (WitnessConfig& config : witnesses) {
    Result<HttpEndpoint> endpoint = ParseHttpUrl(config.url, "url");
    MALPRO_ASSERT(endpoint.ok());  // the configuration checked it
    witnesses_.push_back({std::move(config), std::move(endpoint).value(), 0, false});
  }
}

Result<std::string> WitnessClient::Ask(Peer& peer, const std::string& note, uint64_t size) {
  // A witness that has cosigned another size than we thought says which (409): ask again.
  for (int attempt = 0; attempt < witness_attempts_max; ++attempt) {
    std::vector<Hash> proof;
    if (peer.cosigned_size > 0 && peer.cosigned_size < size) {
      Result<std::vector<Hash>> consistency =
          ConsistencyProof(peer.cosigned_size, size, store_->Reader(size));
      if (!consistency.ok()) return consistency.status();
      proof = std::move(consistency).value();
    }
    const uint64_t old_size = peer.cosigned_size <= size ? peer.cosigned_size : 0;
    Result<HttpReply> reply =
        SendHttp(peer.endpoint, "POST", "/add-checkpoint", {{"Content-Type", "text/plain"}},
                 AddCheckpointBody(old_size, proof, note), witness_request_timeout_ms);
    if (!reply.ok()) return reply.status();
    if (reply->status == 409) {
      std::optional<uint64_t> latest = ParseSizeBody(reply->body);
      if (!latest || *latest > size || *latest == peer.cosigned_size) {
        return Status::Corruption("answered 409: " + reply->body);
      }
      peer.cosigned_size = *latest;
      continue;
    }
    if (reply->status != 200) {
      return Status::IOError("answered " + std::to_string(reply->status) + ": " + reply->body);
    }
    // Only a line by this witness's key that verifies over the checkpoint is kept.
    Result<SignedNote> cosigned = ParseSignedNote(note + reply->body, "cosignature");
    if (!cosigned.ok()) return cosigned.status();
    Result<uint64_t> verified = VerifyNoteSignature(*cosigned, peer.config.key);
    if (!verified.ok()) return verified.status();
    const std::string prefix = std::string(note_signature_prefix) + peer.config.key.name + " ";
    for (size_t at = 0; at < reply->body.size();) {
      const size_t end = reply->body.find('\n', at);
      const std::string line = reply->body.substr(at, end - at + 1);
      if (line.starts_with(prefix)) {
        peer.cosigned_size = size;
        return line;
      }
      if (end == std::string::npos) break;
      at = end + 1;
    }
    return Status::Corruption("its answer holds no cosignature line of its own");
  }
  return Status::IOError("it keeps changing the size it says it cosigned");
}

std::string WitnessClient::Cosign(const std::string& note, uint64_t size) {
  std::string cosigned = note;
  size_t count = 0;
  Result<SignedNote> parsed = ParseSignedNote(note, "checkpoint");
  // The note's text and its own signature only: what a witness is sent.
  const std::string bare = parsed.ok() && !parsed->signatures.empty()
                               ? note.substr(0, note.find('\n', parsed->text.size() + 1) + 1)
                               : note;
  for (Peer& peer : witnesses_) {
    if (parsed.ok() && VerifyNoteSignature(*parsed, peer.config.key).ok()) {
      ++count;  // cosigned already
      continue;
    }
    Result<std::string> line = Ask(peer, bare, size);
    if (line.ok()) {
      cosigned += *line;
      ++count;
      if (peer.failing) {
        std::cerr << "malpro: witness " << peer.config.key.name << " cosigns again (checkpoint "
                  << size << ")" << std::endl;
      }
      peer.failing = false;
      continue;
    }
    if (!peer.failing) {
      std::cerr << "malpro: witness " << peer.config.key.name << " at " << peer.config.url
                << " did not cosign checkpoint " << size << ": " << line.status().ToString()
                << " (kept without its cosignature; said once until it cosigns again)" << std::endl;
    }
    peer.failing = true;
  }
  last_cosignatures_ = count;
  return cosigned;
}

}  // namespace malpro
