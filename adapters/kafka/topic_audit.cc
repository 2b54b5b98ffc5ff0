#include "adapters/kafka/topic_audit.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "adapters/kafka/kafka_client.h"
#include "engine/base64.h"
#include "engine/envelope.h"
#include "engine/error_codes.h"
#include "engine/json.h"
#include "engine/merkle_tree.h"

namespace malpro {

namespace {

// A consumed message's partition, offset, key, value and headers.
TopicRecord RecordOf(const rd_kafka_message_t& message) {
  TopicRecord record;
  record.partition = message.partition;
  record.offset = message.offset;
  record.key.assign(static_cast<const char*>(message.key), message.key_len);
  record.value.assign(static_cast<const char*>(message.payload), message.len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers[name] = std::string(static_cast<const char*>(value), size);
    }
  }
  return record;
}

}  // namespace

// Every record of `topic`, grouped by partition in offset order. Fails the calling test (via
// the returned status) when the topic cannot be read within timeout_ms.
Result<std::vector<TopicRecord>> ReadWholeTopic(const std::string& brokers,
                                                const KafkaOptions& options,
                                                const std::string& topic, int timeout_ms,
                                                bool what_is_left, bool* trimmed) {
  if (trimmed != nullptr) *trimmed = false;
  Result<rd_kafka_conf_t*> conf = MakeKafkaConf(brokers, options,
                                                {{"group.id", "malpro-audit-reader"},
                                                 {"enable.auto.commit", "false"},
                                                 {"enable.partition.eof", "false"}});
  if (!conf.ok()) return conf.status();
  Result<KafkaHandle> consumer = NewKafkaClient(RD_KAFKA_CONSUMER, *conf);
  if (!consumer.ok()) return consumer.status();
  Result<int> partitions = KafkaPartitionCount(consumer->get(), topic, timeout_ms);
  if (!partitions.ok()) return partitions.status();
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(*partitions);
  std::map<int32_t, int64_t> end;  // partition -> high watermark
  for (int32_t partition = 0; partition < *partitions; ++partition) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        consumer->get(), topic.c_str(), partition, &low, &high, timeout_ms);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return KafkaStatus(error, "watermarks of " + topic);
    }
    if (low > 0 && !what_is_left) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return Status::Unavailable(errc::kKafkaError, topic + " lost records to retention");
    }
    if (low > 0 && trimmed != nullptr) *trimmed = true;
    if (high == low) continue;
    end[partition] = high;
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = low;
  }
  (void)rd_kafka_assign(consumer->get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  std::map<int32_t, std::vector<TopicRecord>> by_partition;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  for (const auto& [partition, high] : end) done += high == 0 ? 1 : 0;
  while (done < end.size() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer->get(), 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      TopicRecord record = RecordOf(*message);
      by_partition[record.partition].push_back(record);
      if (record.offset + 1 == end[record.partition]) ++done;
    }
    rd_kafka_message_destroy(message);
  }
  (void)rd_kafka_assign(consumer->get(), nullptr);
  rd_kafka_consumer_close(consumer->get());
  if (done < end.size()) {
    return Status::Unavailable(errc::kKafkaUnavailable, "timed out reading " + topic);
  }
  std::vector<TopicRecord> records;
  for (auto& [partition, list] : by_partition) {
    records.insert(records.end(), list.begin(), list.end());
  }
  return records;
}

namespace {

std::string Header(const TopicRecord& record, const std::string& name) {
  auto found = record.headers.find(name);
  return found == record.headers.end() ? std::string() : found->second;
}

// The format_version header names the value's version; records published before the header
// existed have none (docs/kafka-records.md).
bool FormatVersionAgrees(const TopicRecord& record, const Event& event) {
  auto found = record.headers.find("format_version");
  return found == record.headers.end() || found->second == std::to_string(event.format_version);
}

}  // namespace

namespace {

// The epoch of a record's `epoch` header: 1 without one, 0 when it is not a number.
uint64_t EpochOf(const TopicRecord& record) {
  auto found = record.headers.find("epoch");
  std::optional<std::string_view> header;
  if (found != record.headers.end()) header = found->second;
  return RecordEpoch(header).value_or(0);
}

// The records that hold the history after promotions (docs/replication.md, "Promotion and
// fencing"): no fence records; in a partition, no record of an epoch below a fence before it
// (a fenced writer's); of one sequence, only the records of the highest epoch (a repeat of
// one epoch stays, for the check to name); and no record whose epoch is below that of an
// earlier sequence's record (a fenced writer's, past a gap).
std::vector<TopicRecord> WithoutFencedRecords(const std::vector<TopicRecord>& records) {
  std::map<int32_t, uint64_t> fence_in_partition;
  std::vector<bool> after_fence(records.size(), false);
  std::map<uint64_t, uint64_t> epoch_of_sequence;  // the highest epoch relayed for each
  for (size_t i = 0; i < records.size(); ++i) {
    const TopicRecord& record = records[i];
    const uint64_t epoch = EpochOf(record);
    if (record.headers.contains("fence")) {
      uint64_t& fence = fence_in_partition[record.partition];
      fence = std::max(fence, epoch);
      after_fence[i] = true;  // not an event: left out
      continue;
    }
    if (epoch < fence_in_partition[record.partition]) {
      after_fence[i] = true;
      continue;
    }
    if (const std::optional<uint64_t> sequence = ParseSequenceText(Header(record, "sequence"))) {
      uint64_t& highest = epoch_of_sequence[*sequence];
      highest = std::max(highest, epoch);
    }
  }
  // A sequence whose epoch is below an earlier sequence's belongs to no history.
  uint64_t running = 0;
  for (auto& [sequence, epoch] : epoch_of_sequence) {
    if (epoch < running) epoch = 0;
    running = std::max(running, epoch);
  }
  std::vector<TopicRecord> kept;
  kept.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (after_fence[i]) continue;
    const std::optional<uint64_t> sequence = ParseSequenceText(Header(records[i], "sequence"));
    // Records without a sequence stay, for CheckRecords to refuse.
    if (sequence && EpochOf(records[i]) != epoch_of_sequence[*sequence]) continue;
    kept.push_back(records[i]);
  }
  return kept;
}

// Each record checked on its own and within its partition (VerifyTopicRecords' first part);
// the events, unsorted, in `*events`. Fenced records are left out first.
VerifyReport CheckRecords(const std::vector<TopicRecord>& all_records, std::vector<Event>* out) {
  const std::vector<TopicRecord> records = WithoutFencedRecords(all_records);
  VerifyReport report;
  std::vector<Event>& events = *out;
  events.reserve(records.size());
  std::map<std::pair<int32_t, std::string>, uint64_t> last_in_partition;  // per stream
  for (const TopicRecord& record : records) {
    const std::string where = "partition " + std::to_string(record.partition) + " offset " +
                              std::to_string(record.offset);
    Result<Event> event = ParseEventJson(record.value);
    if (!event.ok()) {
      return VerifyFailure(report, 0,
                           where + ": the value is not an event: " + event.status().message());
    }
    const uint64_t sequence = event->sequence;
    if (Header(record, "sequence") != std::to_string(sequence) ||
        Header(record, "type") != event->type || Header(record, "hash") != HashToHex(event->hash) ||
        Header(record, "previous_hash") != HashToHex(event->previous_hash) ||
        !FormatVersionAgrees(record, *event) || record.key != event->stream_id) {
      return VerifyFailure(report, sequence, where + ": headers or key disagree with the value");
    }
    const std::string canonical = EncodeCanonical(*event);
    if (!IsWellFormedCanonical(canonical) ||
        ComputeEventHash(event->previous_hash, canonical) != event->hash) {
      return VerifyFailure(report, sequence, "content does not match its hash");
    }
    uint64_t& last = last_in_partition[{record.partition, event->stream_id}];
    if (sequence <= last) {
      return VerifyFailure(report, sequence,
                           "stream " + event->stream_id + " out of order in partition " +
                               std::to_string(record.partition));
    }
    last = sequence;
    events.push_back(std::move(event).value());
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.sequence < b.sequence; });
  return report;
}

// The chain of `events` (sorted) from `first` with `previous` before it.
void CheckChain(const std::vector<Event>& events, uint64_t first, Hash previous,
                VerifyReport& report) {
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    const uint64_t expected = first + i;
    if (event.sequence < expected) {
      report = VerifyFailure(report, event.sequence, "published more than once");
      return;
    }
    if (event.sequence > expected) {
      report = VerifyFailure(report, expected, "missing");
      return;
    }
    if (event.previous_hash != previous) {
      report =
          VerifyFailure(report, event.sequence, "previous hash does not link to the event before");
      return;
    }
    previous = event.hash;
    ++report.events_checked;
    report.verified_head = ChainHead{event.sequence, event.hash};
  }
}

}  // namespace

VerifyReport VerifyTopicRecords(const std::vector<TopicRecord>& records) {
  std::vector<Event> events;
  VerifyReport report = CheckRecords(records, &events);
  if (report.ok) CheckChain(events, 1, zero_hash, report);
  return report;
}

TopicChain VerifyTopicSuffix(const std::vector<TopicRecord>& records) {
  TopicChain chain;
  std::vector<Event> events;
  chain.report = CheckRecords(records, &events);
  if (!chain.report.ok) return chain;
  // A trimmed partition's records (its first offset is not 0) are a suffix of what was
  // published to it: from the largest of those partitions' first sequences on, every event is
  // still there. A partition read from offset 0 lost nothing.
  std::map<int32_t, uint64_t> first_in_partition;
  for (const TopicRecord& record : records) {
    auto sequence = ParseSequenceText(Header(record, "sequence"));
    if (sequence && record.offset > 0 && !first_in_partition.contains(record.partition)) {
      first_in_partition[record.partition] = *sequence;
    }
    first_in_partition.try_emplace(record.partition, 1);
  }
  for (const auto& [partition, first] : first_in_partition)
    chain.first = std::max(chain.first, first);
  std::erase_if(events, [&](const Event& event) { return event.sequence < chain.first; });
  if (events.empty()) return chain;
  CheckChain(events, chain.first, events.front().previous_hash, chain.report);
  if (chain.report.ok) {
    for (const Event& event : events) chain.hashes.push_back(event.hash);
  }
  for (const TopicRecord& record : records) {
    if (!record.headers.contains("fence")) chain.epoch = std::max(chain.epoch, EpochOf(record));
  }
  return chain;
}

namespace {

// The `frontier` header of a checkpoint record: base64 of the tree's frontier hashes.
std::optional<std::vector<Hash>> FrontierOf(const TopicRecord& record) {
  Result<std::string> bytes = DecodeBase64(Header(record, "frontier"), "frontier");
  if (!bytes.ok() || bytes->size() % hash_bytes != 0) return std::nullopt;
  std::vector<Hash> frontier;
  for (size_t at = 0; at < bytes->size(); at += hash_bytes) {
    Hash& hash = frontier.emplace_back();
    std::copy_n(bytes->data() + at, hash_bytes, reinterpret_cast<char*>(hash.data()));
  }
  return frontier;
}

}  // namespace

TopicCheckpointReport CheckTopicAgainstCheckpoints(
    const TopicChain& chain, const std::vector<TopicRecord>& checkpoint_records,
    const NoteVerifier& verifier, std::string_view origin) {
  TopicCheckpointReport report;
  auto fail = [&report](std::string problem) {
    report.ok = false;
    report.problem = std::move(problem);
    return report;
  };
  struct Signed {
    Checkpoint checkpoint;
    std::vector<Hash> frontier;
    uint64_t epoch = 1;
  };
  std::map<uint64_t, Signed> by_size;
  for (const TopicRecord& record : checkpoint_records) {
    const std::string where = "checkpoint record at offset " + std::to_string(record.offset);
    Result<SignedNote> note = ParseSignedNote(record.value, where);
    if (!note.ok()) return fail(where + ": " + note.status().message());
    Result<Checkpoint> checkpoint = ParseCheckpoint(note->text, where);
    if (!checkpoint.ok()) return fail(where + ": " + checkpoint.status().message());
    if (Status signature = VerifyNote(*note, verifier); !signature.ok()) {
      return fail(where + ": " + signature.message());
    }
    if (checkpoint->origin != origin) return fail(where + ": of origin " + checkpoint->origin);
    if (record.key != std::to_string(checkpoint->size)) {
      return fail(where + ": its key is not its size");
    }
    std::optional<std::vector<Hash>> frontier = FrontierOf(record);
    if (!frontier) return fail(where + ": no frontier");
    Signed entry{*checkpoint, std::move(*frontier), EpochOf(record)};
    ++report.checkpoints;
    auto [held, fresh] = by_size.try_emplace(checkpoint->size, entry);
    if (!fresh && held->second.epoch <= entry.epoch) held->second = std::move(entry);
  }
  if (chain.hashes.empty()) return report;
  const uint64_t last = chain.first + chain.hashes.size() - 1;
  // The tree to grow: the empty one when the chain starts at 1, else a checkpoint's frontier
  // at or after the event before the chain's first (its leaves after it are in the chain).
  FrontierTree tree;
  if (chain.first > 1) {
    auto from = by_size.lower_bound(chain.first - 1);
    if (from == by_size.end() || from->first >= last) return report;  // none to grow from
    Result<FrontierTree> resumed = FrontierTree::Resume(from->first, from->second.frontier);
    if (!resumed.ok() || resumed->Root() != from->second.checkpoint.root) {
      return fail("the frontier published with checkpoint " + std::to_string(from->first) +
                  " does not give its signed root");
    }
    tree = std::move(resumed).value();
    report.from_size = from->first;
  }
  const uint64_t grown_from = report.from_size;
  for (auto it = by_size.upper_bound(tree.size()); it != by_size.end() && it->first <= last; ++it) {
    for (uint64_t sequence = tree.size() + 1; sequence <= it->first; ++sequence) {
      tree.Append(MerkleLeafHash(HashView(chain.hashes[sequence - chain.first])));
    }
    if (tree.Root() == it->second.checkpoint.root) {
      report.to_size = it->first;
    } else if (it->second.epoch < chain.epoch) {
      ++report.fenced;  // signed by a writer a promotion fenced, over what never was history
    } else {
      return fail("events " + std::to_string(grown_from + 1) + ".." + std::to_string(it->first) +
                  " of the topic do not give the root the checkpoint of " +
                  std::to_string(it->first) + " signs: they are not the log's");
    }
  }
  return report;
}

}  // namespace malpro
