// Helpers shared by the event log tests.
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/event_log.h"
#include "tests/support/temp_dir.h"

namespace malpro::testing {

inline ProposedEvent MakeEvent(std::string stream_id, std::string type = "thing.happened",
                               std::string payload = R"({"n":1})") {
  return ProposedEvent{std::move(stream_id), std::move(type), std::move(payload)};
}

inline AppendRequest MakeRequest(std::vector<ProposedEvent> events,
                                 std::string actor = "test:unit") {
  AppendRequest request;
  request.events = std::move(events);
  request.actor = std::move(actor);
  return request;
}

// Opens the log's RocksDB directly, for tests that tamper with stored bytes.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : EventLog::ColumnFamilyNames()) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* db = nullptr;
    rocksdb::Status status =
        rocksdb::DB::Open(rocksdb::Options(), path, descriptors, &handles_, &db);
    MALPRO_ASSERT(status.ok());
    db_.reset(db);
  }
  ~RawDatabase() {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* events() { return handles_[1]; }

  std::string GetEvent(uint64_t sequence) {
    std::string value;
    MALPRO_ASSERT(db_->Get(rocksdb::ReadOptions(), events(), SequenceKey(sequence), &value).ok());
    return value;
  }
  void PutEvent(uint64_t sequence, const std::string& value) {
    MALPRO_ASSERT(db_->Put(rocksdb::WriteOptions(), events(), SequenceKey(sequence), value).ok());
  }
  void PutHead(uint64_t sequence, const Hash& hash) {
    std::string value = SequenceKey(sequence);
    value.append(HashView(hash));
    MALPRO_ASSERT(db_->Put(rocksdb::WriteOptions(), handles_[0], "chain_head", value).ok());
  }
  // The record a group written in parts leaves until its last part (event-log-format.md, 6).
  void PutUnfinishedGroup(uint64_t first_sequence) {
    MALPRO_ASSERT(db_->Put(rocksdb::WriteOptions(), handles_[0], "unfinished_group",
                           SequenceKey(first_sequence))
                      .ok());
  }
  // Appends events after `sequence` that continue its chain, as a group cut short leaves them.
  void PutChainedEvents(uint64_t sequence, int count) {
    Event event = *DecodeEnvelope(GetEvent(sequence));
    for (int i = 0; i < count; ++i) {
      event.previous_hash = event.hash;
      event.sequence++;
      event.stream_version++;
      event.hash = ComputeEventHash(event.previous_hash, EncodeCanonical(event));
      PutEvent(event.sequence, EncodeEnvelope(event));
    }
  }
  void DeleteHead() {
    MALPRO_ASSERT(db_->Delete(rocksdb::WriteOptions(), handles_[0], "chain_head").ok());
  }
  void DeleteEvent(uint64_t sequence) {
    MALPRO_ASSERT(db_->Delete(rocksdb::WriteOptions(), events(), SequenceKey(sequence)).ok());
  }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace malpro::testing
