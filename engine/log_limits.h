// Limits of the event log. Every queue, batch and field is bounded here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace malpro {

// The envelope's format version and layout, and every other byte of the log's format, are in
// engine/log_format.h, which also checks that these limits fit the envelope's length fields.

// Stream ids name aggregates, e.g. "asn-198507122010011003"; short enough to be a key prefix.
inline constexpr size_t stream_id_bytes_max = 128;
// Event types are short identifiers, e.g. "order.placed".
inline constexpr size_t event_type_bytes_max = 64;
// Actor: who caused the event, e.g. "operator:rina" or "bank:bank-jatim".
inline constexpr size_t actor_bytes_max = 128;
// Clients choose idempotency keys; UUIDs and ULIDs fit with room to spare.
inline constexpr size_t idempotency_key_bytes_max = 128;
// Payloads are facts, not files: photos and statements are stored content-addressed outside.
inline constexpr size_t payload_bytes_max = 64 * 1024;
// Blobs (receipt photos) stored beside the log.
inline constexpr size_t blob_bytes_max = 8 * 1024 * 1024;
// One command writes at most this many events (a settlement batch is the largest command).
inline constexpr size_t command_events_max = 1000;
// ...and at most this many streams it checks or writes.
inline constexpr size_t command_streams_max = 1000;
// Bytes of payload one command may carry in total.
inline constexpr size_t command_payload_bytes_max = 8 * 1024 * 1024;
// Events in one replicated batch (EventLog::AppendReplicated); its payloads are bounded by
// command_payload_bytes_max like a command's.
inline constexpr size_t replicated_events_max = 4096;

// Commands waiting for the writer. Callers block when it is full (backpressure).
inline constexpr size_t append_queue_commands_max = 8192;
// Commands combined into one synced write (group commit).
inline constexpr size_t group_commands_max = 2048;
// Payload bytes combined into one synced write; one full command always fits.
inline constexpr size_t group_payload_bytes_max = 32 * 1024 * 1024;
// A group larger than this is written in parts of about this size, each written by the
// putter while the writer stages the next (see event_log.h); smaller groups are one write.
inline constexpr size_t write_part_bytes = 64 * 1024;
// Commands of at least this many events have their payloads' JSON checked by the caller
// while the writer already stages them; smaller ones are checked before they are queued.
inline constexpr size_t overlapped_check_events_min = 64;
// Parts waiting for the putter; the writer blocks beyond this.
inline constexpr size_t put_queue_parts_max = 64;
// Groups written and waiting for their sync; the writer blocks beyond this.
inline constexpr size_t sync_queue_groups_max = 64;
// Stream index entries (one per event) waiting for the indexer; the syncer blocks beyond
// this (a single group larger than this still goes in when the queue is empty).
inline constexpr size_t index_queue_entries_max = 256 * 1024;
// How much lower the indexer's CPU priority is than the rest of the process (nice levels).
inline constexpr int indexer_nice_increment = 10;
// Events per write batch when the indexer catches up on open.
inline constexpr size_t index_catch_up_batch_events = 10000;
// Stream versions the writer caches in memory before it starts over.
inline constexpr size_t stream_cache_entries_max = 1 << 20;

// Stream index entries the indexer keeps in memory before the ingester writes them, sorted,
// into a table file of the index (~16 MiB of file). Two such sets can be in memory at once
// (one being filled, one being ingested), each ~25-100 bytes per entry depending on how many
// streams it spans. An unclean stop re-indexes at most about twice this many events on open.
inline constexpr size_t stream_index_pending_entries_max = 256 * 1024;
// Memtable size of the stream index, which takes only what the index catches up on open.
// Each memtable also keeps an insert hint per stream id it holds.
inline constexpr size_t stream_index_write_buffer_bytes = 16 * 1024 * 1024;
// Level-0 files of the stream index that start a compaction into level 1.
inline constexpr int stream_index_level0_files = 8;
// Memtable size of the idempotency keys: small enough that its skiplists stay in the CPU
// cache under random inserts.
inline constexpr size_t idempotency_write_buffer_bytes = 4 * 1024 * 1024;

// Write-ahead log kept before the column families that hold its oldest file are flushed.
// The head and blobs families are written rarely; without a bound they would keep every WAL
// file alive (up to four times all memtables, ~1.6 GiB) and a restart would replay them all.
inline constexpr uint64_t wal_bytes_max = 256 * 1024 * 1024;
// Hash buckets of an idempotency memtable (one pointer each).
inline constexpr size_t index_memtable_buckets = 64 * 1024;

// Events one read call returns at most.
inline constexpr size_t read_events_max = 10000;
// A Read of at least this many events is a scan: it reads ahead scan_readahead_bytes and
// keeps its blocks out of the block cache.
inline constexpr size_t scan_events_min = 1024;
inline constexpr size_t scan_readahead_bytes = 2 << 20;
// Events whose chain is re-verified when the log opens (the tail check).
inline constexpr size_t open_verify_tail_events = 1000;

// Idempotency keys are kept at least this long (the design asks for at least 7 days)...
inline constexpr int64_t idempotency_retention_days_min = 7;
// ...and at most this long (a century; keeps the retention in microseconds far from overflow).
inline constexpr int64_t idempotency_retention_days_max = 36'500;

static_assert(command_payload_bytes_max >= payload_bytes_max, "one event must fit a command");
static_assert(group_payload_bytes_max >= command_payload_bytes_max, "a command must fit a group");
static_assert(group_commands_max <= append_queue_commands_max, "a group is drawn from the queue");
static_assert(command_streams_max >= command_events_max, "each event may name its own stream");

}  // namespace malpro
