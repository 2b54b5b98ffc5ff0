// Event log benchmarks, each next to its peer measured in the same run:
//   BM_LogAppend/N        durable appends of one command of N events (~200-byte payloads)
//   BM_RawRocksDbBatch/N  a raw RocksDB synced WriteBatch of the same N stored envelopes
//   BM_RawRocksDbBatchWithIndex/N  the same, plus the index entries and head the log writes
//   BM_GroupCommit        T threads each appending single-event commands
//   BM_VerifyChain        full scan of 1,000,000 events recomputing the hash chain
//   BM_LogAppendWithTree/1000  BM_LogAppend/1000 while the Merkle tree's builder follows the
//                         log (its peer: BM_LogAppend/1000 in the same run)
//   BM_TreeCatchUp        the builder alone catching a fresh tree up with 200,000 events
//   BM_InclusionProof     one event's inclusion proof from a stored tree of 1,000,000 leaves
//   BM_OrderProofBundle   an order's bundle (4 events in two clusters, a signed checkpoint)
//                         made as GET /v1/orders/{id}/proof answers it
//   BM_CheckConsistency1M a consistency bundle between trees of 500,000 and 1,000,000 leaves,
//                         parsed and checked (two Ed25519 signatures and the RFC 9162 proof)
// Items per second are events (or commands for BM_GroupCommit, proofs for the tree's). See
// docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "engine/event_log.h"
#include "engine/tlog_checkpoints.h"
#include "engine/tlog_proofs.h"
#include "engine/tlog_store.h"

namespace malpro {
namespace {

// A realistic order payload of about 200 bytes, minified.
const std::string kPayload =
    R"({"buyer_nip":"198507122010011003","merchant":"umkm-0042","lines":[{"product":"beras-5kg",)"
    R"("quantity":2,"unit_price":"68000.00"},{"product":"telur-1kg","quantity":1,"unit_price":)"
    R"("29000.00"}],"total":"165000.00","payment":"COD"})";

std::string FreshDirectory(const std::string& name) {
  const char* base = std::getenv("MALPRO_BENCH_DIR");
  std::string path = std::string(base ? base : "/tmp") + "/malpro-bench-" + name;
  std::filesystem::remove_all(path);
  return path;
}

std::unique_ptr<EventLog> OpenLog(const std::string& path, bool sync = true) {
  LogOptions options;
  options.data_dir = path;
  options.sync = sync;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(options);
  MALPRO_ASSERT(log.ok());
  return std::move(log).value();
}

AppendRequest BatchRequest(size_t events, uint64_t* counter) {
  AppendRequest request;
  request.actor = "bench:append";
  for (size_t i = 0; i < events; ++i) {
    request.events.push_back(
        {"order-" + std::to_string((*counter)++ % 4096), "order.placed", kPayload});
  }
  return request;
}

// The timed loop of the append benchmarks: one Append of `batch` events an iteration, the
// request built outside the timing.
void AppendBatches(benchmark::State& state, EventLog* log, size_t batch) {
  uint64_t counter = 0;
  for (auto _ : state) {
    state.PauseTiming();
    AppendRequest request = BatchRequest(batch, &counter);
    state.ResumeTiming();
    Result<AppendResult> result = log->Append(std::move(request));
    MALPRO_ASSERT(result.ok());
  }
}

void BM_LogAppend(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const std::string path = FreshDirectory("append");
  std::unique_ptr<EventLog> log = OpenLog(path);
  AppendBatches(state, log.get(), batch);
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * kPayload.size());
  log.reset();
  std::filesystem::remove_all(path);
}
BENCHMARK(BM_LogAppend)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// The peers: the same events written by RocksDB alone in one synced WriteBatch. With
// `with_index` false, only the stored envelopes; with it true, every record the log writes
// (envelope, stream index entry, chain head), the index in a second, unsynced batch.
void RawRocksDbBatch(benchmark::State& state, bool with_index) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const std::string path = FreshDirectory("raw");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = LogOptions().write_buffer_bytes;
  rocksdb::DB* raw = nullptr;
  MALPRO_ASSERT(rocksdb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  uint64_t sequence = 0;
  Event event;
  event.type = "order.placed";
  event.actor = "bench:append";
  event.payload = kPayload;
  for (auto _ : state) {
    state.PauseTiming();
    rocksdb::WriteBatch write_batch;
    rocksdb::WriteBatch index_batch;
    for (size_t i = 0; i < batch; ++i) {
      event.sequence = ++sequence;
      event.stream_id = "order-" + std::to_string(sequence % 4096);
      write_batch.Put(SequenceKey(sequence), EncodeEnvelope(event));
      if (with_index) {
        index_batch.Put(event.stream_id + '\0' + SequenceKey(sequence), SequenceKey(sequence));
      }
    }
    if (with_index) write_batch.Put("chain_head", std::string(40, 'h'));
    state.ResumeTiming();
    MALPRO_ASSERT(db->Write(write_options, &write_batch).ok());
    if (with_index) MALPRO_ASSERT(db->Write(rocksdb::WriteOptions(), &index_batch).ok());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * kPayload.size());
  db.reset();
  std::filesystem::remove_all(path);
}
void BM_RawRocksDbBatch(benchmark::State& state) { RawRocksDbBatch(state, false); }
void BM_RawRocksDbBatchWithIndex(benchmark::State& state) { RawRocksDbBatch(state, true); }
BENCHMARK(BM_RawRocksDbBatch)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_RawRocksDbBatchWithIndex)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

std::unique_ptr<EventLog> shared_log;
std::atomic<uint64_t> shared_counter{0};

void BM_GroupCommit(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_log = OpenLog(FreshDirectory("group"));
  }
  for (auto _ : state) {  // every thread waits here until thread 0 has opened the log
    AppendRequest request;
    request.actor = "bench:group";
    request.events.push_back(
        {"order-" + std::to_string(shared_counter++ % 65536), "order.placed", kPayload});
    Result<AppendResult> result = shared_log->Append(std::move(request));
    MALPRO_ASSERT(result.ok());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    shared_log.reset();
    std::filesystem::remove_all(FreshDirectory("group"));
  }
}
BENCHMARK(BM_GroupCommit)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

constexpr uint64_t kVerifyEvents = 1'000'000;

void BM_VerifyChain(benchmark::State& state) {
  const std::string path = FreshDirectory("verify");
  {
    std::unique_ptr<EventLog> writer = OpenLog(path, /*sync=*/false);
    uint64_t counter = 0;
    while (writer->Head().sequence < kVerifyEvents) {
      MALPRO_ASSERT(writer->Append(BatchRequest(1000, &counter)).ok());
    }
  }
  std::unique_ptr<EventLog> log = OpenLog(path);
  for (auto _ : state) {
    Result<VerifyReport> report = log->Verify(1, 0);
    MALPRO_ASSERT(report.ok() && report->ok && report->events_checked == kVerifyEvents);
  }
  state.SetItemsProcessed(state.iterations() * kVerifyEvents);
  log.reset();
  std::filesystem::remove_all(path);
}
BENCHMARK(BM_VerifyChain)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LogAppendWithTree(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const std::string path = FreshDirectory("append-tree");
  std::unique_ptr<EventLog> log = OpenLog(path);
  std::unique_ptr<TlogStore> store =
      std::move(TlogStore::Open(path + "/" + tlog_directory, false)).value();
  TlogBuilder builder(log.get(), store.get());
  builder.Start();
  AppendBatches(state, log.get(), batch);
  // The tree kept up: every event is a leaf a moment later.
  MALPRO_ASSERT(builder.WaitForSize(log->Head().sequence, std::chrono::seconds(30)));
  builder.Stop();
  state.SetItemsProcessed(state.iterations() * batch);
  store.reset();
  log.reset();
  std::filesystem::remove_all(path);
}
BENCHMARK(BM_LogAppendWithTree)->Arg(1000)->UseRealTime();

// The builder's own cost per leaf, without appends competing: a fresh tree caught up with a log
// of 200,000 events (read the stored hashes, hash the leaves and nodes, write the tiles).
void BM_TreeCatchUp(benchmark::State& state) {
  constexpr uint64_t events = 200'000;
  const std::string path = FreshDirectory("tree-catch-up");
  std::unique_ptr<EventLog> log = OpenLog(path, /*sync=*/false);
  uint64_t counter = 0;
  while (log->Head().sequence < events) {
    MALPRO_ASSERT(log->Append(BatchRequest(1000, &counter)).ok());
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(path + "/" + tlog_directory);
    std::unique_ptr<TlogStore> store =
        std::move(TlogStore::Open(path + "/" + tlog_directory, false)).value();
    TlogBuilder builder(log.get(), store.get());
    state.ResumeTiming();
    MALPRO_ASSERT(builder.CatchUp().ok());
    MALPRO_ASSERT(store->Size() == events);
  }
  state.SetItemsProcessed(state.iterations() * events);
  log.reset();
  std::filesystem::remove_all(path);
}
BENCHMARK(BM_TreeCatchUp)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime();

constexpr uint64_t kTreeLeaves = 1'000'000;

// A stored tree of kTreeLeaves synthetic leaves, and the trial key's signer; made once.
struct BenchTree {
  std::string path = FreshDirectory("tree");
  std::unique_ptr<TlogStore> store;
  std::optional<NoteSigner> signer;
  BenchTree() {
    store = std::move(TlogStore::Open(path, false)).value();
    std::vector<Hash> leaves;
    for (uint64_t n = 0; n < kTreeLeaves; ++n) {
      leaves.push_back(Sha256(std::to_string(n)));
      if (leaves.size() == tlog_batch_leaves_max || n + 1 == kTreeLeaves) {
        MALPRO_ASSERT(store->Append(leaves).ok());
        leaves.clear();
      }
    }
    std::ifstream pem(MALPRO_SOURCE_DIR "/config/trial-keys/checkpoint_private.pem");
    std::stringstream text;
    text << pem.rdbuf();
    signer = std::move(NoteSigner::FromPem("malangkota.go.id/malpro", text.str(), "key")).value();
  }
  std::string Note(uint64_t size) const {
    return *signer->Sign(CheckpointText({"malangkota.go.id/malpro", size, *store->Root(size), {}}));
  }
};

BenchTree& Tree() {
  static BenchTree tree;
  return tree;
}

void BM_InclusionProof(benchmark::State& state) {
  const BenchTree& tree = Tree();
  uint64_t index = 12345;
  for (auto _ : state) {
    index = (index * 2862933555777941757ULL + 3037000493ULL) % kTreeLeaves;
    Result<std::vector<Hash>> proof =
        InclusionProof(index, kTreeLeaves, tree.store->Reader(kTreeLeaves));
    MALPRO_ASSERT(proof.ok() && proof->size() >= 15);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProof)->UseRealTime();

void BM_OrderProofBundle(benchmark::State& state) {
  const BenchTree& tree = Tree();
  const std::string note = tree.Note(kTreeLeaves);
  const NoteVerifier key = tree.signer->verifier();
  uint64_t first = 777;
  for (auto _ : state) {
    first = (first * 2862933555777941757ULL + 3037000493ULL) % (kTreeLeaves - 100'000);
    const std::vector<uint64_t> indices = {first, first + 2, first + 7, first + 90'000};
    std::vector<Hash> hashes;
    for (uint64_t index : indices) hashes.push_back(Sha256(std::to_string(index)));
    Result<std::vector<Hash>> proof =
        MultiInclusionProof(indices, kTreeLeaves, tree.store->Reader(kTreeLeaves));
    MALPRO_ASSERT(proof.ok());
    const std::string text = InclusionBundleText({indices, hashes, *proof, note});
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OrderProofBundle)->UseRealTime();

void BM_CheckConsistency1M(benchmark::State& state) {
  const BenchTree& tree = Tree();
  const uint64_t old_size = kTreeLeaves / 2 + 12345;
  StoredCheckpoint older{old_size, 0, {}, tree.Note(old_size)};
  StoredCheckpoint newer{kTreeLeaves, 0, {}, tree.Note(kTreeLeaves)};
  const std::string text = ConsistencyBundleText(*MakeConsistencyBundle(*tree.store, older, newer));
  const NoteVerifier key = tree.signer->verifier();
  for (auto _ : state) {
    Result<ParsedProof> parsed = ParseProofBundle(text, "bench");
    MALPRO_ASSERT(parsed.ok());
    Result<ProofVerdict> verdict = CheckProof(*parsed, key, "malangkota.go.id/malpro");
    MALPRO_ASSERT(verdict.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckConsistency1M)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace malpro

BENCHMARK_MAIN();
