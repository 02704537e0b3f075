#pragma once
// Pool tasks hand connections back to the event loop here; the eventfd wakes epoll_wait.
// The mutex is never held while taking the GIL (pool threads push after releasing it).
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/worker/connection.hpp"

namespace gthreadd::worker {

class ReturnQueue {
 public:
  ReturnQueue() : event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  [[nodiscard]] int fd() const noexcept { return event_.get(); }

  void push(std::unique_ptr<Connection> conn) {
    bool was_empty;
    {
      std::lock_guard lock(mutex_);
      was_empty = items_.empty();
      items_.push_back(std::move(conn));
    }
    if (was_empty) {  // one wake-up per batch is enough
      std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(event_.get(), &one, sizeof one);
    }
  }

  // Hands a connection back without waking the loop: its fd is registered for its
  // next request, which wakes the loop anyway, and the loop collects it then (or at its
  // next tick): no eventfd write and read per request.
  void push_quiet(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(conn));
  }

  // Takes everything queued without touching the eventfd.
  void take(std::vector<std::unique_ptr<Connection>>& out) {
    std::lock_guard lock(mutex_);
    out.swap(items_);
  }

  // Takes everything queued and clears the wake-up; `out` is swapped in so its capacity
  // is reused.
  void drain(std::vector<std::unique_ptr<Connection>>& out) {
    std::uint64_t value;
    [[maybe_unused]] auto n = ::read(event_.get(), &value, sizeof value);
    take(out);
  }

 private:
  core::UniqueFd event_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> items_;
};

}  // namespace gthreadd::worker
