// AwaitStatus: a blocking call over an API that answers through a callback.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include "engine/status.h"

namespace malpro {

// Calls `start` with a callback, waits until that callback has been called (exactly once, from
// any thread, before or after `start` returns), and returns the status it was given.
inline Status AwaitStatus(const std::function<void(std::function<void(Status)>)>& start) {
  std::mutex mutex;
  std::condition_variable answered;
  std::optional<Status> outcome;
  start([&](Status status) {
    // Notified under the lock: the waiter's locals live until it can take the lock again.
    std::lock_guard lock(mutex);
    outcome = std::move(status);
    answered.notify_all();
  });
  std::unique_lock lock(mutex);
  answered.wait(lock, [&] { return outcome.has_value(); });
  return *std::move(outcome);
}

}  // namespace malpro
