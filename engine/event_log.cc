// The event log's accessors: the durable head, counters and health, idempotency lookups, blobs
// and compaction. The rest of EventLog is split by responsibility (event_log_internal.h).
#include "engine/event_log.h"

#include <algorithm>

#include "engine/error_codes.h"
#include "engine/event_log_internal.h"

namespace malpro {

int64_t EventLog::Now() const { return options_.clock(); }

LogCounters EventLog::Counters() const {
  std::lock_guard lock(head_mutex_);
  return counters_;
}

Status EventLog::Health() const {
  std::lock_guard lock(queue_mutex_);
  return failed_;
}

ChainHead EventLog::Head() const {
  std::lock_guard lock(head_mutex_);
  return head_;
}

bool EventLog::WaitForSequence(uint64_t sequence, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(head_mutex_);
  return head_advanced_.wait_for(lock, timeout, [&] { return head_.sequence >= sequence; });
}

Status EventLog::WaitForDurable(uint64_t sequence) const {
  constexpr auto health_check_every = std::chrono::milliseconds(100);  // a failed sync ends it
  while (!WaitForSequence(sequence, health_check_every)) {
    MALPRO_RETURN_IF_ERROR(Health());
  }
  return Status::Ok();
}

Result<std::optional<IdempotencyEntry>> EventLog::LookupIdempotency(std::string_view key) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), columns_->idempotency, key, &value);
  if (status.IsNotFound()) return std::optional<IdempotencyEntry>();
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read idempotency key"));
  std::optional<IdempotencyRecord> record = DecodeIdempotencyRecord(value);
  if (!record) return Status::Corruption("idempotency record has a bad format");
  // The record may belong to a group written but not yet synced: a retry learns of the
  // original only once it is durable.
  if (!options_.read_only) {
    MALPRO_RETURN_IF_ERROR(WaitForDurable(record->first_sequence + record->event_count - 1));
  }
  return std::optional<IdempotencyEntry>(
      IdempotencyEntry{record->request_digest, record->first_sequence,
                       record->first_sequence + record->event_count - 1});
}

Status EventLog::LookupIdempotencyMany(
    const std::vector<std::string_view>& keys,
    std::vector<std::optional<IdempotencyEntry>>* entries) const {
  entries->assign(keys.size(), std::nullopt);
  if (keys.empty()) return Status::Ok();
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), columns_->idempotency, keys.size(), slices.data(),
                values.data(), statuses.data());
  uint64_t last_sequence = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    MALPRO_RETURN_IF_ERROR(FromRocks(statuses[i], "read idempotency key"));
    std::optional<IdempotencyRecord> record =
        DecodeIdempotencyRecord(std::string_view(values[i].data(), values[i].size()));
    if (!record) return Status::Corruption("idempotency record has a bad format");
    (*entries)[i] = IdempotencyEntry{record->request_digest, record->first_sequence,
                                     record->first_sequence + record->event_count - 1};
    last_sequence = std::max(last_sequence, (*entries)[i]->last_sequence);
  }
  // As LookupIdempotency: a record is shown only once its command is durable.
  if (!options_.read_only && last_sequence > 0) {
    MALPRO_RETURN_IF_ERROR(WaitForDurable(last_sequence));
  }
  return Status::Ok();
}

Result<Hash> EventLog::PutBlob(std::string_view bytes) {
  if (options_.read_only)
    return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  if (bytes.size() > blob_bytes_max) {
    return Status::LimitExceeded(
        errc::kBlobTooLarge, "blob",
        "a stored file is at most " + std::to_string(blob_bytes_max) + " bytes");
  }
  const Hash hash = Sha256(bytes);
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  MALPRO_RETURN_IF_ERROR(
      FromRocks(db_->Put(write_options, columns_->blobs, rocksdb::Slice(HashView(hash)),
                         rocksdb::Slice(bytes.data(), bytes.size())),
                "store blob"));
  return hash;
}

Result<std::string> EventLog::GetBlob(const Hash& hash) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), columns_->blobs, rocksdb::Slice(HashView(hash)), &value);
  if (status.IsNotFound()) {
    return Status::NotFound(errc::kBlobNotFound, "sha256", "no stored file has that SHA-256");
  }
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read blob"));
  return value;
}

Status EventLog::Compact() {
  if (options_.read_only)
    return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  for (rocksdb::ColumnFamilyHandle* handle : columns_->all) {
    MALPRO_RETURN_IF_ERROR(FromRocks(
        db_->CompactRange(rocksdb::CompactRangeOptions(), handle, nullptr, nullptr), "compact"));
  }
  if (index_db_) {
    MALPRO_RETURN_IF_ERROR(FromRocks(
        index_db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr), "compact"));
  }
  return Status::Ok();
}

Result<WriterEpoch> EventLog::Epoch() const {
  std::string value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), columns_->head, writer_epoch_key, &value);
  if (status.IsNotFound()) return WriterEpoch{};
  MALPRO_RETURN_IF_ERROR(FromRocks(status, "read the writer epoch"));
  WriterEpoch epoch;
  if (!DecodeWriterEpochRecord(value, &epoch.epoch, &epoch.first_sequence, &epoch.writer)) {
    return Status::Corruption("the writer epoch record is " + std::to_string(value.size()) +
                              " bytes, fewer than 16");
  }
  return epoch;
}

Status EventLog::SetEpoch(const WriterEpoch& epoch) {
  if (options_.read_only)
    return Status::Unavailable(errc::kLogReadOnly, "the log was opened read-only");
  Result<WriterEpoch> current = Epoch();
  if (!current.ok()) return current.status();
  const uint64_t head = Head().sequence;
  if (epoch.epoch < current->epoch || epoch.first_sequence == 0 ||
      epoch.first_sequence > head + 1) {
    return Status::InvalidArgument(
        errc::kLogEpochInvalid, "epoch",
        "epoch " + std::to_string(epoch.epoch) + " from sequence " +
            std::to_string(epoch.first_sequence) + " cannot follow epoch " +
            std::to_string(current->epoch) + " at head " + std::to_string(head) +
            ": epochs never go back and start at most one past the head");
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  return FromRocks(
      db_->Put(synced, columns_->head, writer_epoch_key,
               EncodeWriterEpochRecord(epoch.epoch, epoch.first_sequence, epoch.writer)),
      "write the writer epoch");
}

}  // namespace malpro
