#pragma once
// Pool threads hand connections back to the event loop here; the eventfd wakes epoll_wait.
// The mutex is never held while taking the GIL (pool threads push after releasing it).
//
// Threads: push() on pool threads; take(), drain(), note_early_edge(), forget() and fd()
// on the loop thread; size() on any. A loud push writes the eventfd only when no wake-up is
// pending, so one eventfd write and read serve a batch; a quiet push never writes it (Pool: the
// quiet-return protocol).
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/worker/connection.hpp"

namespace gthreadd::worker {

class ReturnQueue {
 public:
  ReturnQueue() : event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!event_) throw std::runtime_error("eventfd failed");
  }
  [[nodiscard]] int fd() const noexcept { return event_.get(); }

  // Queues `conn`. `under_lock` runs with the queue's lock held, just before the push, and
  // says whether the push is quiet (true) or must wake the loop: what it decides (and any
  // counter it changes) is then seen by the loop together with the connection.
  template <typename Decide>
  void push(std::unique_ptr<Connection> conn, Decide&& under_lock) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      // An edge the loop saw while the pool had this connection was spent: the loop must
      // take it back now and re-poll the socket, not when the next edge (which may never
      // come: the bytes are already there) or its next tick wakes it.
      conn->early_edge = early_.erase(conn.get()) > 0;
      const bool quiet = under_lock(*conn) && !conn->early_edge;
      conn->quiet_return = quiet;
      items_.push_back(std::move(conn));
      size_.store(items_.size(), std::memory_order_relaxed);
      if (!quiet && !wake_pending_) wake = wake_pending_ = true;
    }
    if (wake) {
      std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(event_.get(), &one, sizeof one);
    }
  }

  // Takes everything queued without touching the eventfd; `out` is swapped in so its
  // capacity is reused.
  void take(std::vector<std::unique_ptr<Connection>>& out) {
    std::lock_guard lock(mutex_);
    out.swap(items_);
    size_.store(0, std::memory_order_relaxed);
  }

  // Takes everything queued and clears the wake-up.
  void drain(std::vector<std::unique_ptr<Connection>>& out) {
    std::uint64_t value;
    [[maybe_unused]] auto n = ::read(event_.get(), &value, sizeof value);
    std::lock_guard lock(mutex_);
    wake_pending_ = false;
    out.swap(items_);
    size_.store(0, std::memory_order_relaxed);
  }

  // The loop saw an edge for `conn`, which it does not own. False when `conn` was queued
  // meanwhile (the caller takes the queue and handles the edge itself); else the edge is
  // remembered, and the push that returns `conn` will wake the loop. `conn` is never
  // dereferenced: it may name a connection closed earlier in the same batch of events.
  [[nodiscard]] bool note_early_edge(const Connection* conn) {
    std::lock_guard lock(mutex_);
    for (const auto& item : items_)
      if (item.get() == conn) return false;
    early_.insert(conn);
    return true;
  }

  // A new connection took an address an edge was noted for: forget that edge.
  void forget(const Connection* conn) {
    std::lock_guard lock(mutex_);
    early_.erase(conn);
  }

  // Connections queued and not yet taken (a snapshot).
  [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool empty() {
    std::lock_guard lock(mutex_);
    return items_.empty();
  }

 private:
  core::UniqueFd event_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> items_;
  std::atomic<std::size_t> size_{0};
  bool wake_pending_ = false;                    // the eventfd was written and not yet drained
  std::unordered_set<const Connection*> early_;  // edges seen while the pool had these
};

}  // namespace gthreadd::worker
