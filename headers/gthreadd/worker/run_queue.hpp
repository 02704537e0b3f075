#pragma once
// Complete requests waiting for a pool thread, in arrival order. The arena's threads each
// run one long-lived task that takes from here and blocks on the condition variable when
// there is nothing to do. A TBB task per request instead left idle threads in TBB's
// stealing loop, whose hundreds of sched_yield calls per idle spell took a quarter of a
// worker's CPU on a loaded core (perf, issue 4).
//
// Wake-ups (docs/architecture.md, "Waking pool threads"). Waking an idle thread costs a
// context switch, and on an oversubscribed machine (`-w 10 --threads 5` on two cores) that
// switch was most of a small request's cost. So a push wakes an idle thread only when no
// pool thread is awake; otherwise the request waits for an awake thread, which takes the
// next request before it sleeps. A request must not wait behind a long one while a thread
// idles, so when the awake threads started nothing for a grace the loop's nudge() looks
// at them: if none is on a CPU or runnable (all wait on I/O, a sleep, a lock), idle threads
// are woken for what waits; if one is computing, a woken thread would only wait for the
// CPU and the GIL behind it, so what waits is held, for at most Timing::hold_limit of that
// request (docs/architecture.md, "Waking pool threads").
//
// Threads: push, nudge_at, nudge and set_crowded on the loop thread; enter and pop on pool
// threads; try_pop, close_and_take and close on the loop thread (or the abort path).
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/worker/connection.hpp"

namespace gthreadd::worker {

class RunQueue {
 public:
  // The wake-up policy's times (see above); tests shorten or stretch them.
  struct Timing {
    // How long awake threads may start nothing before idle ones are considered for what
    // waits: longer than most CPU-bound requests (a Flask page is ~0.1 ms of CPU), short
    // next to what an I/O-bound request waits for.
    std::chrono::microseconds grace{500};
    // The latest the loop checks again while a thread computes or a woken one has not run.
    std::chrono::microseconds recheck{5000};
    // How much CPU time a computing request may keep what waits behind it from an idle
    // thread: CPython's own switch interval (sys.getswitchinterval(), 5 ms), after which the GIL
    // would pass to a waiting thread anyway, so a long computation slows the others as
    // much as under gunicorn and no more.
    std::chrono::microseconds hold_limit{5000};
  };

  // `threads`: how many pool threads pop (each calls enter() once).
  explicit RunQueue(std::size_t threads);
  RunQueue(std::size_t threads, Timing timing);
  ~RunQueue();
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;
  // The worker's queue (its one Pool's, the newest one made), for the abort path that
  // answers what no thread started (queued_answer.hpp); nullptr if none.
  static RunQueue* current() noexcept { return current_.load(std::memory_order_acquire); }

  // Pool thread, once before its first pop: its seat (an index for pop).
  std::size_t enter();
  // Queues `conn`; wakes an idle thread only if no pool thread is awake.
  void push(std::unique_ptr<Connection> conn, Clock::time_point now);
  // When nudge() must run: a request waits while a thread idles; max() when none does.
  [[nodiscard]] Clock::time_point nudge_at() const noexcept {
    return deferred_.load(std::memory_order_acquire)
               ? Clock::time_point(Clock::duration(wake_at_.load(std::memory_order_relaxed)))
               : Clock::time_point::max();
  }
  // Wakes idle threads for what waits if the awake ones are all blocked (see above).
  void nudge(Clock::time_point now);
  // The oldest connection; blocks while there is none. nullptr once closed. `seat`: enter().
  std::unique_ptr<Connection> pop(std::size_t seat);
  // Set by the loop: more open connections than pool threads (see pop).
  void set_crowded(bool crowded) {
    if (crowded_.load(std::memory_order_relaxed) != crowded)
      crowded_.store(crowded, std::memory_order_relaxed);
  }
  // Without waiting: the oldest connection, or nullptr.
  std::unique_ptr<Connection> try_pop();
  // Every pop() returns nullptr from now on; what was queued is handed to the caller,
  // which answers it: no pool thread will start it.
  std::deque<std::unique_ptr<Connection>> close_and_take();
  // Every pop() returns nullptr from now on; what was queued is dropped (closed).
  void close() { static_cast<void>(close_and_take()); }

 private:
  struct Seat {
    core::UniqueFd stat;                  // /proc/thread-self/stat of the thread: is it blocked?
    clockid_t clock{};                    // the thread's CPU-time clock
    bool busy = false;                    // between a pop and the next wait (mutex_)
    bool measured = false;                // cpu_base is set for the current request (mutex_)
    std::chrono::nanoseconds cpu_base{};  // its CPU time at the first look (mutex_)
  };
  static constexpr int kYields = 4;
  static inline std::atomic<RunQueue*> current_{nullptr};

  void defer(Clock::time_point check_at, Clock::time_point wake_at);  // mutex_ held
  // Until when a busy thread that computes holds back waking idle ones: min() if none.
  [[nodiscard]] Clock::time_point held_until(Clock::time_point now);  // mutex_ held
  [[nodiscard]] static bool runnable(const Seat& seat);
  [[nodiscard]] std::size_t spare() const noexcept { return waiting_ - notified_; }

  const std::size_t threads_;
  const Timing timing_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::unique_ptr<Connection>> items_;
  std::vector<Seat> seats_;
  std::atomic<std::size_t> size_{0};  // items_.size(), read without the lock to spin
  std::atomic<bool> crowded_{false};
  std::size_t waiting_ = 0;   // threads in pop() waiting for an item
  std::size_t notified_ = 0;  // of those, woken and not yet running
  Clock::time_point last_pop_{};
  // A request waits behind awake threads while a thread idles; nudge() is due at check_at_
  // (nanoseconds of Clock, for the loop to read without the lock).
  std::atomic<bool> deferred_{false};
  std::atomic<Clock::rep> wake_at_{0};
  std::atomic<Clock::rep> check_at_{0};
  bool closed_ = false;
  bool blind_ = false;  // a thread could not open its /proc stat: wake for every push
};

}  // namespace gthreadd::worker
