#include "gthreadd/worker/run_queue.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "gthreadd/core/assert.hpp"

namespace gthreadd::worker {

RunQueue::RunQueue(std::size_t threads) : RunQueue(threads, Timing{}) {}

RunQueue::RunQueue(std::size_t threads, Timing timing)
    : threads_(std::max<std::size_t>(1, threads)), timing_(timing) {
  seats_.reserve(threads_);
  current_.store(this, std::memory_order_release);
}

RunQueue::~RunQueue() {
  RunQueue* self = this;
  current_.compare_exchange_strong(self, nullptr);
}

std::size_t RunQueue::enter() {
  // Opened by the thread itself: the fd names this thread for good, and reading it from the
  // loop says the thread's state (proc(5), field 3). Without it, whether a busy thread is
  // computing cannot be told, and every push wakes an idle thread, as before this policy.
  core::UniqueFd stat(::open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC));
  clockid_t clock{};
  const bool has_clock = ::pthread_getcpuclockid(::pthread_self(), &clock) == 0;
  std::lock_guard lock(mutex_);
  if (!stat || !has_clock) blind_ = true;
  GTHREADD_ASSERT(seats_.size() < threads_, "more pool threads than the queue was made for");
  seats_.push_back(Seat{std::move(stat), clock});
  return seats_.size() - 1;
}

void RunQueue::push(std::unique_ptr<Connection> conn, Clock::time_point now) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(conn));
    size_.store(items_.size(), std::memory_order_relaxed);
    if (spare() > 0) {
      // Nobody awake: a thread must be woken. Else an awake thread takes it when it is
      // done, unless it is past the grace already: then nudge() looks at once. A crowded
      // worker (more connections than threads, `-w 2 --threads 4` under wrk -c50) wakes as
      // before: its threads already find the next request by yielding before they sleep
      // (pop), and holding requests back there measured no better.
      wake = blind_ || spare() == threads_ || crowded_.load(std::memory_order_relaxed);
      if (wake) {
        ++notified_;
        last_pop_ = now;  // the woken thread counts as starting now
      } else {
        const auto check_at = std::max(now, last_pop_ + timing_.grace);
        defer(check_at, check_at);
      }
    }
  }
  if (wake) ready_.notify_one();
}

void RunQueue::defer(Clock::time_point check_at, Clock::time_point wake_at) {
  if (deferred_.load(std::memory_order_relaxed)) return;  // the earlier check stands
  // Never wake the loop before nudge() will look: it would spin on zero timeouts until then.
  wake_at = std::max(wake_at, check_at);
  check_at_.store(check_at.time_since_epoch().count(), std::memory_order_relaxed);
  wake_at_.store(wake_at.time_since_epoch().count(), std::memory_order_relaxed);
  deferred_.store(true, std::memory_order_release);
}

bool RunQueue::runnable(const Seat& seat) {
  // "tid (comm) S ...": the state follows the last ')'. R: on a CPU or runnable.
  char text[512];
  const ssize_t n = ::pread(seat.stat.get(), text, sizeof text - 1, 0);
  if (n <= 0) return false;
  const std::string_view line(text, static_cast<std::size_t>(n));
  const auto close = line.rfind(')');
  return close != std::string_view::npos && close + 2 < line.size() && line[close + 2] == 'R';
}

Clock::time_point RunQueue::held_until(Clock::time_point now) {
  // Only a thread known to run holds back a wake-up, and only for hold_limit of CPU time
  // (counted from the first look: wall time says nothing on a busy machine, where a
  // runnable thread may wait for a CPU). An unreadable state or clock wakes, as before
  // this policy.
  auto until = Clock::time_point::min();
  for (Seat& seat : seats_) {
    if (!seat.busy || !runnable(seat)) continue;
    timespec ts{};
    if (::clock_gettime(seat.clock, &ts) != 0) continue;
    const auto cpu = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    if (!seat.measured) {
      seat.measured = true;
      seat.cpu_base = cpu;
    }
    const auto used = cpu - seat.cpu_base;
    if (used < timing_.hold_limit)
      until = std::max(until, now + std::chrono::ceil<Clock::duration>(timing_.hold_limit - used));
  }
  return until;
}

void RunQueue::nudge(Clock::time_point now) {
  if (!deferred_.load(std::memory_order_acquire)) return;
  if (now.time_since_epoch().count() < check_at_.load(std::memory_order_relaxed)) return;
  std::size_t wake = 0;
  {
    std::lock_guard lock(mutex_);
    deferred_.store(false, std::memory_order_relaxed);
    if (items_.empty() || spare() == 0) return;
    if (now - last_pop_ < timing_.grace) {  // a thread started one meanwhile
      defer(last_pop_ + timing_.grace, last_pop_ + timing_.recheck);
      return;
    }
    // A thread that computes, or one woken that has not run yet: a thread woken now would
    // wait behind it for the CPU and the GIL. Checked again at the loop's next wake-up
    // after a grace, or when the hold ends if sooner, and by a timer then.
    auto hold = held_until(now);
    if (notified_ > 0) hold = std::max(hold, now + timing_.recheck);
    if (hold > now) {
      defer(std::min(now + timing_.grace, hold), hold);
      return;
    }
    wake = std::min(items_.size(), spare());
    notified_ += wake;
    last_pop_ = now;
  }
  for (std::size_t i = 0; i < wake; ++i) ready_.notify_one();
}

std::unique_ptr<Connection> RunQueue::pop(std::size_t seat) {
  // A few yields first, but only while the worker has more connections than threads:
  // then the loop pushes the next request within microseconds, and finding it here
  // saves a futex wake and a context switch per request. With a thread per connection
  // the next request is a client round trip away, and yielding only delays the other
  // worker's threads on a shared core. Bounded, unlike TBB's idle loop. (The A/B runs
  // behind both choices are in the commit history: git log -S kYields.)
  const int yields = crowded_.load(std::memory_order_relaxed) ? kYields : 0;
  for (int i = 0; i < yields && size_.load(std::memory_order_relaxed) == 0; ++i) sched_yield();
  std::unique_lock lock(mutex_);
  seats_[seat].busy = false;
  ++waiting_;
  while (!closed_ && items_.empty()) {
    ready_.wait(lock);
    // Woken: no longer one to count on. A spurious wake-up may take a notified thread's
    // count, which only makes a later push wake a thread it might not have needed.
    if (notified_ > 0) --notified_;
  }
  --waiting_;
  notified_ = std::min(notified_, waiting_);
  if (closed_) return nullptr;
  auto conn = std::move(items_.front());
  items_.pop_front();
  size_.store(items_.size(), std::memory_order_relaxed);
  last_pop_ = Clock::now();
  seats_[seat].busy = true;
  seats_[seat].measured = false;
  return conn;
}

std::unique_ptr<Connection> RunQueue::try_pop() {
  std::lock_guard lock(mutex_);
  if (closed_ || items_.empty()) return nullptr;
  auto conn = std::move(items_.front());
  items_.pop_front();
  size_.store(items_.size(), std::memory_order_relaxed);
  return conn;
}

std::deque<std::unique_ptr<Connection>> RunQueue::close_and_take() {
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

}  // namespace gthreadd::worker
