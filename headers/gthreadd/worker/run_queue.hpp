#pragma once
// Complete requests waiting for a pool thread, in arrival order. The arena's threads each
// run one long-lived task that takes from here and blocks on the condition variable when
// there is nothing to do. A TBB task per request instead left idle threads in TBB's
// stealing loop, whose hundreds of sched_yield calls per idle spell took a quarter of a
// worker's CPU on a loaded core (perf, issue 4).
#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "gthreadd/worker/connection.hpp"

namespace gthreadd::worker {

class RunQueue {
 public:
  RunQueue() noexcept { current_.store(this, std::memory_order_release); }
  ~RunQueue() {
    RunQueue* self = this;
    current_.compare_exchange_strong(self, nullptr);
  }
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;
  // The worker's queue (its one Pool's, the newest one made), for the abort path that
  // answers what no thread started (queued_answer.hpp); nullptr if none.
  static RunQueue* current() noexcept { return current_.load(std::memory_order_acquire); }

  void push(std::unique_ptr<Connection> conn) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(conn));
      size_.store(items_.size(), std::memory_order_relaxed);
      wake = waiting_ > 0;
    }
    if (wake) ready_.notify_one();
  }

  // The oldest connection; blocks while there is none. nullptr once closed.
  std::unique_ptr<Connection> pop() {
    // A few yields first, but only while the worker has more connections than threads:
    // then the loop pushes the next request within microseconds, and finding it here
    // saves a futex wake and a context switch per request. With a thread per connection
    // the next request is a client round trip away, and yielding only delays the other
    // worker's threads on a shared core. Bounded, unlike TBB's idle loop. (The A/B runs
    // behind both choices are in the commit history: git log -S kYields.)
    const int yields = crowded_.load(std::memory_order_relaxed) ? kYields : 0;
    for (int i = 0; i < yields && size_.load(std::memory_order_relaxed) == 0; ++i) sched_yield();
    std::unique_lock lock(mutex_);
    ++waiting_;
    ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
    --waiting_;
    if (closed_) return nullptr;
    auto conn = std::move(items_.front());
    items_.pop_front();
    size_.store(items_.size(), std::memory_order_relaxed);
    return conn;
  }

  // Set by the loop: more open connections than pool threads (see pop).
  void set_crowded(bool crowded) {
    if (crowded_.load(std::memory_order_relaxed) != crowded)
      crowded_.store(crowded, std::memory_order_relaxed);
  }

  // Without waiting: the oldest connection, or nullptr.
  std::unique_ptr<Connection> try_pop() {
    std::lock_guard lock(mutex_);
    if (closed_ || items_.empty()) return nullptr;
    auto conn = std::move(items_.front());
    items_.pop_front();
    size_.store(items_.size(), std::memory_order_relaxed);
    return conn;
  }

  // Every pop() returns nullptr from now on; what was queued is handed to the caller,
  // which answers it: no pool thread will start it.
  std::deque<std::unique_ptr<Connection>> close_and_take() {
    std::deque<std::unique_ptr<Connection>> taken;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      taken.swap(items_);
      size_.store(0, std::memory_order_relaxed);
    }
    ready_.notify_all();
    return taken;
  }

  // Every pop() returns nullptr from now on; what was queued is dropped (closed).
  void close() {
    std::deque<std::unique_ptr<Connection>> dropped;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      dropped.swap(items_);
    }
    ready_.notify_all();
  }

 private:
  static constexpr int kYields = 4;
  static inline std::atomic<RunQueue*> current_{nullptr};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::unique_ptr<Connection>> items_;
  std::atomic<std::size_t> size_{0};  // items_.size(), read without the lock to spin
  std::atomic<bool> crowded_{false};
  std::size_t waiting_ = 0;
  bool closed_ = false;
};

}  // namespace gthreadd::worker
