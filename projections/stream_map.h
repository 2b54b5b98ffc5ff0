// StreamMap: the world's entries of one kind by stream id.
//
// A rebuild looks up a stream for nearly every event, in tables of hundreds of thousands of
// orders. A node-based hash map costs several cache misses per lookup (bucket, the node
// before, the node, the key); here a lookup reads one slot of a flat table (a hash tag and
// an index) and then the entry, which holds its key. Entries are kept in a deque, in the
// order they were created, so they stay where they are (links between entries are pointers)
// and streams met close together in time sit close together in memory.
//
// Entries are never removed. Threading: none (one thread at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/assert.h"

namespace malpro {

template <typename Entry>
class StreamMap {
 public:
  // The entry under `key`, or nullptr.
  Entry* Find(std::string_view key) {
    if (slots_.empty()) return nullptr;
    const uint64_t hash = Hash(key);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot slot = slots_[i];
      if (slot.index == 0) return nullptr;
      if (slot.tag == Tag(hash)) {
        std::pair<std::string, Entry>& found = entries_[slot.index - 1];
        if (found.first == key) return &found.second;
      }
    }
  }
  const Entry* Find(std::string_view key) const { return const_cast<StreamMap*>(this)->Find(key); }

  // Adds `entry` under `key`, which must not be there yet; returns where it now lives.
  Entry& Insert(std::string_view key, Entry entry) {
    MALPRO_ASSERT(entries_.size() < UINT32_MAX - 1);
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    const uint64_t hash = Hash(key);
    entries_.emplace_back(std::string(key), std::move(entry));
    hashes_.push_back(hash);
    Place(hash, static_cast<uint32_t>(entries_.size()));
    return entries_.back().second;
  }

  size_t size() const { return entries_.size(); }

 private:
  // index: the entry's position in entries_ plus one; 0 marks an empty slot.
  struct Slot {
    uint32_t tag = 0;
    uint32_t index = 0;
  };
  static constexpr size_t initial_slots = 1024;

  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>()(key); }
  // The high half of the hash: the low bits already chose the slot.
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  void Place(uint64_t hash, uint32_t index) {
    size_t i = hash & mask_;
    while (slots_[i].index != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{Tag(hash), index};
  }

  // Doubles the table (at most half full) and places every entry again.
  void Grow() {
    slots_.assign(slots_.empty() ? initial_slots : slots_.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (size_t i = 0; i < hashes_.size(); ++i) Place(hashes_[i], static_cast<uint32_t>(i + 1));
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::deque<std::pair<std::string, Entry>> entries_;
  std::vector<uint64_t> hashes_;  // of entries_' keys, for growing without reading them
};

}  // namespace malpro
