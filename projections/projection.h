// A read model: a named, versioned fold of Facts into rows. Each row is a key and a JSON
// object; the projector stores the rows of one projection in its own RocksDB column family,
// together with the checkpoint, so the stored rows are always the fold of events 1..checkpoint.
//
// Rows are held in memory as typed values for folding and as their JSON text as of the last
// commit for queries. Row JSON depends only on the events folded, never on when commits
// happened, so a live projection and a rebuild from sequence 1 store identical bytes.
//
// Threading: Apply and TakeChanges run on the projector's thread under its exclusive lock;
// queries run under its shared lock.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/assert.h"
#include "engine/identifiers.h"
#include "engine/json.h"
#include "engine/money.h"
#include "engine/result.h"
#include "projections/world.h"

namespace malpro {

// One row as written: the projection it belongs to, its key, its JSON.
struct RowChange {
  std::string projection;
  std::string key;
  std::string value;
};

// A row changed since the last commit, as the projection keeps it (valid until the
// projection changes again): its stored key is prefix + key.
struct RowWrite {
  const std::string* prefix = nullptr;
  const std::string* key = nullptr;
  const std::string* json = nullptr;

  std::string StoredKey() const { return *prefix + *key; }
};

class Projection {
 public:
  virtual ~Projection() = default;

  // Persisted in the checkpoint: change it whenever the rows a fold produces change.
  virtual std::string_view name() const = 0;
  virtual int version() const = 0;

  // Folds one event. Corruption only when the fact contradicts the rows (never for a log the
  // ledger wrote).
  virtual Status Apply(const Fact& fact) = 0;
  // Serializes the rows changed since the last call (they become what queries see) and
  // appends them to `out`, in key order.
  virtual void TakeChanges(std::vector<RowWrite>* out) = 0;
  // Restores one stored row on open.
  virtual Status LoadRow(std::string_view key, std::string_view json) = 0;
  // Every row as committed, in key order (snapshots for subscribers).
  virtual void ForEachRow(
      const std::function<void(const std::string& key, const std::string& json)>& visit) const = 0;
};

// What a read model does with any of its tables, whatever their rows: store the changed ones,
// load stored ones, list them. Rows of a table are stored under its key prefix.
class RowTableBase {
 public:
  explicit RowTableBase(std::string prefix) : prefix_(std::move(prefix)) {}
  virtual ~RowTableBase() = default;
  RowTableBase(const RowTableBase&) = delete;
  RowTableBase& operator=(const RowTableBase&) = delete;

  const std::string& prefix() const { return prefix_; }
  // True when `stored_key` belongs to this table.
  bool Owns(std::string_view stored_key) const {
    return stored_key.substr(0, prefix_.size()) == prefix_;
  }
  // Serializes the rows changed since the last call and appends them to `out`, in key order.
  virtual void TakeChanges(std::vector<RowWrite>* out) = 0;
  // Restores one stored row (its key is prefix + key) on open.
  virtual Status Load(std::string_view stored_key, std::string_view json) = 0;
  // Every row as of the last TakeChanges, in key order, with its stored key.
  virtual void ForEach(
      const std::function<void(const std::string&, const std::string&)>& visit) const = 0;

 protected:
  const std::string prefix_;
};

// The rows of one kind within a projection, keyed by a string. `Row` provides
//   void Write(JsonWriter&) const;  static Result<Row> Read(const JsonObject&);
template <typename Row>
class RowTable final : public RowTableBase {
 public:
  struct Entry {
    Row row;
    std::string json;  // as of the last TakeChanges; empty before the first
    bool dirty = false;
    bool ordered = false;  // in the key-ordered index
  };

  explicit RowTable(std::string prefix) : RowTableBase(std::move(prefix)) {}

  // A row that stays where it is for the table's life (rows are never removed): folds that
  // meet the same row again keep its handle instead of its key.
  using Handle = std::pair<const std::string, Entry>*;

  // The row under `key`, created empty when missing (then `*created` is set); not marked.
  Handle Get(const std::string& key, bool* created = nullptr) {
    auto [it, inserted] = rows_.try_emplace(key);
    if (inserted) unordered_.push_back(&*it);
    if (created != nullptr) *created = inserted;
    return &*it;
  }
  // The row of `handle`, marked changed.
  Row& Touch(Handle handle) {
    Entry& entry = handle->second;
    if (!entry.dirty) {
      entry.dirty = true;
      dirty_.push_back(handle);
    }
    return entry.row;
  }
  // The row under `key`, created empty when missing (then `*created` is set), marked changed.
  Row& Mutable(const std::string& key, bool* created = nullptr) { return Touch(Get(key, created)); }
  // The row under `key`, or nullptr; not marked.
  Handle FindHandle(const std::string& key) {
    auto found = rows_.find(key);
    return found == rows_.end() ? nullptr : &*found;
  }
  const Row* Find(const std::string& key) const {
    auto found = rows_.find(key);
    return found == rows_.end() ? nullptr : &found->second.row;
  }
  const std::string* Json(const std::string& key) const {
    auto found = rows_.find(key);
    if (found == rows_.end() || found->second.json.empty()) return nullptr;
    return &found->second.json;
  }
  // Every row as of the last TakeChanges, in key order (for queries; entries are owned by
  // the table and stay where they are).
  const std::map<std::string, Entry*>& entries() const { return ordered_; }
  // Every row, including those created since the last TakeChanges, in key order (for folds).
  const std::map<std::string, Entry*>& Ordered() {
    Order();
    return ordered_;
  }
  void MarkChanged(const std::string& key) { Mutable(key); }

  void TakeChanges(std::vector<RowWrite>* out) override {
    std::sort(dirty_.begin(), dirty_.end(),
              [](const auto* left, const auto* right) { return left->first < right->first; });
    // New rows are nearly always changed rows too: in the order just sorted they go into the
    // index without a second sort.
    if (!unordered_.empty() && !dirty_.empty()) {
      auto hint = ordered_.lower_bound(dirty_.front()->first);
      for (Handle row : dirty_) {
        if (row->second.ordered) continue;
        hint = std::next(ordered_.emplace_hint(hint, row->first, &row->second));
        row->second.ordered = true;
      }
      std::erase_if(unordered_, [](Handle row) { return row->second.ordered; });
    }
    Order();
    JsonWriter writer;
    for (auto* dirty : dirty_) {
      Entry& entry = dirty->second;
      writer.Clear();
      entry.row.Write(writer);
      entry.json.assign(writer.View());
      entry.dirty = false;
      out->push_back(RowWrite{&prefix_, &dirty->first, &entry.json});
    }
    dirty_.clear();
  }

  Status Load(std::string_view stored_key, std::string_view json) override {
    thread_local simdjson::dom::parser parser;
    Result<JsonObject> object = ParseJsonObject(parser, json, "row");
    if (!object.ok()) return object.status();
    Result<Row> row = Row::Read(*object);
    if (!row.ok()) {
      return Status::Corruption("stored row '" + std::string(stored_key) +
                                "': " + row.status().message());
    }
    const std::string key(stored_key.substr(prefix_.size()));
    auto [it, inserted] = rows_.try_emplace(key);
    if (inserted) ordered_.emplace_hint(ordered_.end(), key, &it->second);  // loaded in key order
    Entry& entry = it->second;
    entry.row = std::move(row).value();
    entry.json = std::string(json);
    entry.ordered = true;
    return Status::Ok();
  }
  void ForEach(
      const std::function<void(const std::string&, const std::string&)>& visit) const override {
    for (const auto& [key, entry] : ordered_) {
      if (!entry->json.empty()) visit(prefix_ + key, entry->json);
    }
  }

 private:
  // Rows by key for folding (hashed), and the same rows in key order for range queries.
  std::unordered_map<std::string, Entry> rows_;
  std::map<std::string, Entry*> ordered_;
  // Rows created but not yet in ordered_. Inserting each at once cost more than all the
  // rest of a fold (a rebuild creates hundreds of thousands of rows at random places);
  // sorted and inserted together they mostly go in next to each other.
  std::vector<Handle> unordered_;
  std::vector<Handle> dirty_;

  void Order() {
    if (unordered_.empty()) return;
    std::sort(unordered_.begin(), unordered_.end(),
              [](Handle left, Handle right) { return left->first < right->first; });
    auto hint = ordered_.lower_bound(unordered_.front()->first);
    for (Handle row : unordered_) {
      hint = std::next(ordered_.emplace_hint(hint, row->first, &row->second));
      row->second.ordered = true;
    }
    unordered_.clear();
  }
};

// A read model whose rows all live in RowTables it owns: the tables are registered once, in
// the constructor, and the base stores, loads and lists them (docs/projections.md, "Adding a
// read model"). A derived read model writes Apply and its queries only.
class TableProjection : public Projection {
 public:
  // Every table's changed rows, tables in prefix order: together, in key order.
  void TakeChanges(std::vector<RowWrite>* out) final {
    for (RowTableBase* table : tables_) table->TakeChanges(out);
  }
  // Corruption for a key no table owns.
  Status LoadRow(std::string_view key, std::string_view json) final {
    for (RowTableBase* table : tables_) {
      if (table->Owns(key)) return table->Load(key, json);
    }
    return Status::Corruption(std::string(name()) + ": unknown row '" + std::string(key) + "'");
  }
  void ForEachRow(const std::function<void(const std::string& key, const std::string& json)>& visit)
      const final {
    for (const RowTableBase* table : tables_) table->ForEach(visit);
  }

 protected:
  // Registers the read model's tables (members of the derived class, which outlive nothing
  // here). Prefixes must be distinct and none a prefix of another, so that every stored key
  // has one owner and the tables' rows sort table by table.
  template <typename... Tables>
  void OwnTables(Tables&... tables) {
    (tables_.push_back(&tables), ...);
    std::sort(tables_.begin(), tables_.end(),
              [](const RowTableBase* left, const RowTableBase* right) {
                return left->prefix() < right->prefix();
              });
    for (size_t i = 1; i < tables_.size(); ++i) {
      MALPRO_ASSERT(!tables_[i]->prefix().starts_with(tables_[i - 1]->prefix()));
    }
  }

 private:
  std::vector<RowTableBase*> tables_;  // by prefix
};

// Amounts in rows may be negative (a refund on a day without sales): "-5000.00".
std::string AmountText(Money amount);
Result<Money> ReadAmount(const JsonObject& object, std::string_view key);
// "YYYY-MM" of a date, and the last day of a "YYYY-MM" month.
std::string MonthOf(CivilDate date);
CivilDate LastDayOfMonth(std::string_view month);
// A month as a number (year * 12 + month - 1), for folds that meet it often, and its text.
int MonthNumber(CivilDate date);
std::string MonthText(int month_number);
// Whether `text` is a "YYYY-MM" month; InvalidArgument naming `field` otherwise.
Status CheckMonth(std::string_view text, std::string_view field);

// The Asia/Jakarta date a money fact counts on (its month is the month it counts in): cash on
// the day it was received, cashless on the day the bank says it was paid (refunds too, so
// they reverse the month they reduce), a manual receipt on its purchase date.
CivilDate SpendDate(const Fact& fact);

// The rows a read model keeps for one ASN or merchant, by the world's slot (Fact::asn_slot,
// Fact::umkm_slot), grown as slots appear.
template <typename Rows>
Rows& AtSlot(std::vector<Rows>& by_slot, uint32_t slot) {
  MALPRO_ASSERT(slot != no_slot);
  if (slot >= by_slot.size()) by_slot.resize(slot + 1);
  return by_slot[slot];
}

// Counter and amount of one channel (COD, cashless, receipts).
struct ChannelTotals {
  int64_t count = 0;
  Money amount;
  void Write(JsonWriter& writer, std::string_view key) const;
  static Result<ChannelTotals> Read(const JsonObject& object, std::string_view key);
};

// Reads the fields of one stored row, remembering the first failure (like the aggregates'
// payload reader): call the getters, then Finish().
class RowReader {
 public:
  explicit RowReader(const JsonObject& object) : object_(object) {}
  std::string Text(std::string_view key);
  int64_t Int(std::string_view key);
  bool Bool(std::string_view key);
  Money Amount(std::string_view key);
  CivilDate Date(std::string_view key);  // "YYYY-MM-DD"
  ChannelTotals Channel(std::string_view key);
  Status Finish() const { return status_; }

 private:
  const JsonObject& object_;
  Status status_;
};

}  // namespace malpro
