// Result<T>: a value or a non-OK Status. [[nodiscard]], so an ignored error warns.
#pragma once

#include <utility>
#include <variant>

#include "engine/assert.h"
#include "engine/status.h"

namespace malpro {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    MALPRO_ASSERT(!std::get<Status>(state_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(state_); }

  // OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(state_); }

  // Requires ok().
  T& value() & {
    MALPRO_ASSERT(ok());
    return std::get<T>(state_);
  }
  const T& value() const& {
    MALPRO_ASSERT(ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    MALPRO_ASSERT(ok());
    return std::get<T>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // By value, so that `for (auto& x : *Function())` does not dangle.
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace malpro

// Returns the status from the enclosing function when it is not OK.
#define MALPRO_RETURN_IF_ERROR(expression)           \
  do {                                               \
    ::malpro::Status malpro_status_ = (expression);  \
    if (!malpro_status_.ok()) return malpro_status_; \
  } while (false)
