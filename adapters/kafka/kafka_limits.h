// Limits and format constants of the Kafka adapter: the relay, the command intake and the
// embedded broker. Every queue, batch, wait and retry loop of adapters/kafka is bounded here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/log_limits.h"

namespace malpro {

// Events handed to the producer and not yet acknowledged by the broker. The relay never has
// more in flight, so on resume every event more than this far below the highest sequence
// found in the topic is known to be there (docs/kafka-records.md, "Resume rule"). Raising it
// in a later version is safe; lowering it is not (a restart would look back too little).
inline constexpr uint64_t relay_window_events = 65'536;
// Synchronous mode (kafka.synchronous): the longest a write may wait for the cluster's
// acknowledgement (kafka.synchronous_timeout_ms is 1 to this).
inline constexpr int synchronous_timeout_ms_max = 600'000;
// How often a relay asks whether a promotion fenced it (the epochs topic's end offset) while
// no synchronous write waits; a synchronous write is answered only after a check that began
// once its events were acknowledged.
inline constexpr int relay_fence_check_ms = 500;
// Resuming after a promotion: how far back a partition is searched for the last record of
// this epoch, past records of a fenced writer (at most its window, and what it sent before it
// saw the fence).
inline constexpr int64_t relay_fenced_records_max = 4 * 65'536;
// `malpro serve` waits at most this long for the relay's first session to read the epochs
// topic before it serves, so that a fenced primary refuses writes from the first one.
inline constexpr int relay_start_wait_ms = 5'000;
// `malpro promote`: how long the cluster may take to acknowledge the epoch and the fences.
inline constexpr int promotion_timeout_ms = 30'000;
// Events read from the log per read call while relaying.
inline constexpr size_t relay_read_batch_events = 4'096;
// How long the relay waits for new events before it looks at delivery reports again.
inline constexpr int relay_idle_wait_ms = 20;
// Poll time while the window is full or the producer queue refuses more.
inline constexpr int relay_poll_wait_ms = 2;
// Backoff between relay sessions after an error (broker unreachable, fatal producer error):
// doubled from the first value up to the second.
inline constexpr int relay_retry_backoff_ms_first = 100;
inline constexpr int relay_retry_backoff_ms_max = 5'000;
// Stop(): how long to wait for in-flight events to be acknowledged before giving up on them
// (they are then published again by the next start, found missing from the topic).
inline constexpr int relay_stop_flush_ms = 10'000;
// Metadata, watermark and tail reads when a relay session starts.
inline constexpr int kafka_request_timeout_ms = 5'000;
// Reading the last record of every partition when a session starts.
inline constexpr int relay_tail_read_timeout_ms = 10'000;
// A topic has at most this many partitions in this program's eyes (config check, tail reads).
inline constexpr int kafka_partitions_max = 1'024;
// Embedded brokers at most (librdkafka's mock cluster; ids 1..N).
inline constexpr int embedded_brokers_max = 9;
// The mock cluster keeps at most this many bytes of record batches a partition and drops the
// oldest batches beyond it (librdkafka 2.0's rdkafka_mock.c; nothing sets it). The embedded
// topics get enough partitions to keep kafka.embedded_retention_events records.
inline constexpr int64_t embedded_partition_bytes = 5 << 20;
// Bytes one record takes there, its batch's overhead included, for that sizing: an event
// record of the demo month takes ~780 on average; the rest is room for partitions that
// fill unevenly (streams are spread by key).
inline constexpr int64_t embedded_record_bytes = 1'024;
// kafka.embedded_retention_events at most: kafka_partitions_max partitions of 5 MiB.
inline constexpr int64_t embedded_retention_events_max = 5'000'000;
// Longest topic prefix; Kafka topic names are at most 249 characters.
inline constexpr size_t kafka_topic_prefix_bytes_max = 200;

// Command intake: messages taken per poll batch, and how long one batch may wait for the
// results to be acknowledged before its offsets are committed.
inline constexpr size_t intake_batch_messages_max = 256;
inline constexpr int intake_poll_wait_ms = 100;
inline constexpr int intake_result_flush_ms = 10'000;
// Largest command value the intake reads; the HTTP body limit plays the same role there.
inline constexpr size_t intake_command_bytes_max = 64 * 1024;

// The headers of a relayed record carry a decimal sequence: at most 20 digits.
inline constexpr size_t sequence_header_bytes_max = 20;

// The replica (replica.h): how long one poll of the events topic waits for a record; events
// appended in one AppendReplicated batch at most (the log's own limit bounds it too); how long
// events ready to append wait for more to fill their batch; the events read ahead of one that
// has not come, beyond which the partitions that are ahead are paused; after how long a
// missing event is reported; and the bytes one fetch may bring.
inline constexpr int replica_poll_wait_ms = 20;
inline constexpr size_t replica_batch_events = 4'096;
inline constexpr int replica_apply_wait_ms = 20;
inline constexpr size_t replica_pending_events_max = 500'000;
inline constexpr int replica_gap_report_s = 10;
inline constexpr int replica_fetch_bytes_max = 16 << 20;
// Batches handed to the log and not yet durable, while the next ones are read.
inline constexpr size_t replica_batches_in_flight_max = 4;

static_assert(relay_read_batch_events <= read_events_max, "a relay read is one log read");
static_assert(relay_read_batch_events <= relay_window_events, "a read batch fits the window");
static_assert(relay_retry_backoff_ms_first <= relay_retry_backoff_ms_max, "backoff grows");
static_assert(relay_idle_wait_ms < 100, "idle waits add to the end-to-end latency");
static_assert(kafka_topic_prefix_bytes_max + sizeof(".command-results") <= 249,
              "every topic name stays within Kafka's 249 characters");

}  // namespace malpro
