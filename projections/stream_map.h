// StreamMap: the world's entries of one kind by stream id.
//
// A rebuild looks up a stream for nearly every event, in tables of hundreds of thousands of
// orders. A node-based hash map costs several cache misses per lookup (bucket, the node
// before, the node, the key); here a lookup reads one slot of a flat table (the key's hash
// and the entry's address) and then the entry, which holds its key. Entries are kept in a deque, in
// the order they were created, so they stay where they are (links between entries are pointers) and
// streams met close together in time sit close together in memory.
//
// Entries are never removed. Threading: none (one thread at a time).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace malpro {

template <typename Entry>
class StreamMap {
 public:
  // The entry under `key`, or nullptr.
  Entry* Find(std::string_view key) {
    if (slots_.empty()) return nullptr;
    const uint64_t hash = Hash(key);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.node == nullptr) return nullptr;
      if (slot.hash == hash && slot.node->first == key) return &slot.node->second;
    }
  }
  const Entry* Find(std::string_view key) const { return const_cast<StreamMap*>(this)->Find(key); }

  // Adds `entry` under `key`, which must not be there yet; returns where it now lives.
  Entry& Insert(std::string_view key, Entry entry) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    Node& node = entries_.emplace_back(std::string(key), std::move(entry));
    Place(Slot{Hash(key), &node});
    return node.second;
  }

  size_t size() const { return entries_.size(); }

 private:
  using Node = std::pair<std::string, Entry>;
  // The whole hash (compared before the key) and the entry; node nullptr: an empty slot.
  struct Slot {
    uint64_t hash = 0;
    Node* node = nullptr;
  };
  static constexpr size_t initial_slots = 1024;

  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>()(key); }

  void Place(const Slot& slot) {
    size_t i = slot.hash & mask_;
    while (slots_[i].node != nullptr) i = (i + 1) & mask_;
    slots_[i] = slot;
  }

  // Doubles the table (at most half full) and places every entry again.
  void Grow() {
    std::vector<Slot> old = std::exchange(
        slots_, std::vector<Slot>(slots_.empty() ? initial_slots : slots_.size() * 2));
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.node != nullptr) Place(slot);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::deque<Node> entries_;
};

}  // namespace malpro
