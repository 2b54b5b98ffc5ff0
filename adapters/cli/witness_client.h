// The log's side of C2SP tlog-witness (docs/transparency.md, section 8): asks each configured
// witness to cosign a new checkpoint, with a consistency proof from the latest checkpoint that
// witness cosigned, and keeps the cosignatures that verify with the witness's key.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/bank/http_client.h"
#include "adapters/cli/config.h"
#include "engine/tlog_store.h"

namespace malpro {

// One witness answers within this, or the checkpoint is kept without its cosignature.
inline constexpr int witness_request_timeout_ms = 2000;
// Requests to one witness per checkpoint at most: the first, and one more with the proof from
// the size its 409 named.
inline constexpr int witness_attempts_max = 2;

class WitnessClient {
 public:
  // `store` (the tree the checkpoints are of) must outlive the client.
  WitnessClient(std::vector<WitnessConfig> witnesses, const TlogStore* store);

  // `note` (a signed checkpoint of `size` leaves) with the cosignature lines of the witnesses
  // that cosigned it appended. A witness that refuses or does not answer is reported on
  // standard error (once until it answers again) and left out. Called from one thread.
  std::string Cosign(const std::string& note, uint64_t size);

  // Cosignatures gathered on the last checkpoint asked about, and the witnesses that answered.
  size_t last_cosignatures() const { return last_cosignatures_.load(); }
  size_t witnesses() const { return witnesses_.size(); }

 private:
  struct Peer {
    WitnessConfig config;
    HttpEndpoint endpoint;       // config.url, parsed
    uint64_t cosigned_size = 0;  // the latest size it cosigned, as it told us (0: unknown)
    bool failing = false;        // reported on standard error already
  };
  // The witness's cosignature line, or why not.
  Result<std::string> Ask(Peer& peer, const std::string& note, uint64_t size);

  std::vector<Peer> witnesses_;
  const TlogStore* store_;
  std::atomic<size_t> last_cosignatures_{0};
};

}  // namespace malpro
