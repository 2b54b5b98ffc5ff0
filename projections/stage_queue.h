// A bounded queue between two stages of a pipeline (the projector's catch-up: reading the
// log, the world, the read models), each stage on its own thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace malpro {

// Hands items from one stage of a catch-up to the next, at most `max` waiting.
template <typename T>
class StageQueue {
 public:
  explicit StageQueue(size_t max) : max_(max) {}

  // Waits for room unless `wait` is false; false when there is none without waiting, or
  // when the next stage has stopped (Close).
  bool Push(T item, bool wait = true) {
    {
      std::unique_lock lock(mutex_);
      if (wait) changed_.wait(lock, [&] { return items_.size() < max_ || closed_; });
      if (items_.size() >= max_ || closed_) return false;
      items_.push_back(std::move(item));
    }
    changed_.notify_all();
    return true;
  }
  // The next item, waiting for one unless `wait` is false; nullopt when there is none
  // without waiting, once the stage before has finished and all are taken, or when closed.
  std::optional<T> Pop(bool wait = true) {
    std::optional<T> item;
    {
      std::unique_lock lock(mutex_);
      if (wait) changed_.wait(lock, [&] { return !items_.empty() || finished_ || closed_; });
      if (items_.empty() || closed_) return item;
      item.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    changed_.notify_all();
    return item;
  }
  // The stage before: nothing follows what was pushed.
  void Finish() { Set(finished_); }
  // The next stage: take nothing more (it failed or is done).
  void Close() { Set(closed_); }

 private:
  void Set(bool& flag) {
    {
      std::lock_guard lock(mutex_);
      flag = true;
    }
    changed_.notify_all();
  }

  const size_t max_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> items_;
  bool finished_ = false;
  bool closed_ = false;
};

}  // namespace malpro
