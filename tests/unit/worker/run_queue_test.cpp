// RunQueue's wake-up policy, with real threads and no Python: a request pushed while every
// thread idles is taken at once; one pushed while a thread computes waits for that thread
// instead of waking another (the context switch that cost -w 10 --threads 5 most of its
// rate), but only up to the hold limit; one pushed while the busy thread is blocked (a
// sleep, I/O) is taken by an idle thread after the grace, as the loop's nudge() sees the
// busy thread is not running.
#include "gthreadd/worker/run_queue.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/http/parse_limits.hpp"

namespace gthreadd::worker {
namespace {

using namespace std::chrono_literals;

const http::ParseLimits kLimits{};

// A connection whose `served` field names the request, and later the thread that took it.
std::unique_ptr<Connection> request(std::uint64_t id) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  ::close(fds[1]);
  auto conn = std::make_unique<Connection>(core::UniqueFd(fds[0]), kLimits, "", nullptr);
  conn->served = id;
  return conn;
}

// Pool threads over a RunQueue: each records which request it took, then does what the
// test says with it (compute or block) until released.
class Threads {
 public:
  enum class Work { Quick, Compute, Block };
  explicit Threads(RunQueue& queue, std::size_t n) : queue_(queue) {
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { run(i); });
  }
  ~Threads() {
    release();
    queue_.close();
    for (auto& t : threads_) t.join();
  }
  void work_for(std::uint64_t id, Work work) {
    std::lock_guard lock(mutex_);
    work_[id] = work;
  }
  // Which thread took request `id` (waits up to `deadline`); -1 if none did.
  int taker(std::uint64_t id, std::chrono::milliseconds deadline = 10s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, deadline, [&] { return taken_.count(id) > 0; });
    return taken_.count(id) ? taken_[id] : -1;
  }
  void release() {
    released_.store(true);
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }

 private:
  void run(std::size_t index) {
    const std::size_t seat = queue_.enter();
    while (auto conn = queue_.pop(seat)) {
      Work work;
      {
        std::lock_guard lock(mutex_);
        taken_[conn->served] = static_cast<int>(index);
        work = work_.count(conn->served) ? work_[conn->served] : Work::Quick;
        changed_.notify_all();
      }
      if (work == Work::Compute) {
        while (!released_.load()) {  // on a CPU (or runnable) the whole time
        }
      } else if (work == Work::Block) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return released_.load(); });
      }
    }
  }

  RunQueue& queue_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Work> work_;
  std::map<std::uint64_t, int> taken_;
  std::atomic<bool> released_{false};
  std::vector<std::thread> threads_;
};

// The loop's part: nudge() whenever nudge_at() says, for `span` or until `stop` is set.
void run_loop_for(RunQueue& queue, std::chrono::milliseconds span,
                  const std::atomic<bool>* stop = nullptr) {
  const auto end = Clock::now() + span;
  while (Clock::now() < end && !(stop && stop->load())) {
    const auto at = std::min({queue.nudge_at(), end, Clock::now() + 10ms});
    std::this_thread::sleep_until(std::max(at, Clock::now() + 100us));
    queue.nudge(Clock::now());
  }
}

// Waits until `n` threads of `queue` are waiting in pop (idle), up to 10 s.
void wait_idle(Threads& threads, RunQueue& queue, std::uint64_t probe) {
  // A quick request taken and finished means a thread went round the loop; the others
  // started at construction. Good enough: every thread reaches pop() within the deadline.
  queue.push(request(probe), Clock::now());
  ASSERT_NE(threads.taker(probe), -1);
  std::this_thread::sleep_for(50ms);
}

TEST(RunQueue, ARequestPushedWhileEveryThreadIdlesIsTakenAtOnce) {
  RunQueue queue(2);
  Threads threads(queue, 2);
  wait_idle(threads, queue, 100);
  queue.push(request(1), Clock::now());
  EXPECT_NE(threads.taker(1), -1);  // no nudge needed
}

// Holds as long as the thread computes: no hold limit within the test's span.
constexpr RunQueue::Timing kNoHoldLimit{500us, 5ms, std::chrono::hours(1)};

TEST(RunQueue, ARequestBehindAComputingThreadWaitsForItInsteadOfWakingAnother) {
  RunQueue queue(2, kNoHoldLimit);
  Threads threads(queue, 2);
  wait_idle(threads, queue, 100);
  threads.work_for(1, Threads::Work::Compute);
  queue.push(request(1), Clock::now());
  const int computing = threads.taker(1);
  ASSERT_NE(computing, -1);
  queue.push(request(2), Clock::now());
  // Many graces pass; the computing thread is runnable at every check, so nobody is woken.
  run_loop_for(queue, 300ms);
  EXPECT_EQ(threads.taker(2, 0ms), -1) << "an idle thread was woken behind a computing one";
  threads.release();
  EXPECT_EQ(threads.taker(2), computing) << "the busy thread takes the next request";
}

// Request 1 does `work` on one thread of two; request 2 is pushed behind it while the loop
// runs. The threads that took them (-1: request 2 was not taken within 10 s).
std::pair<int, int> takers_behind(RunQueue& queue, Threads::Work work) {
  Threads threads(queue, 2);
  wait_idle(threads, queue, 100);
  threads.work_for(1, work);
  queue.push(request(1), Clock::now());
  const int first = threads.taker(1);
  EXPECT_NE(first, -1);
  queue.push(request(2), Clock::now());
  std::atomic<bool> taken{false};
  std::thread loop([&] { run_loop_for(queue, 10s, &taken); });
  const int second = threads.taker(2);
  taken.store(true);
  threads.release();
  loop.join();
  return {first, second};
}

TEST(RunQueue, ARequestBehindABlockedThreadIsTakenByAnIdleOneAfterTheGrace) {
  RunQueue queue(2);
  const auto [blocked, second] = takers_behind(queue, Threads::Work::Block);
  EXPECT_NE(second, -1) << "a request waited behind a blocked thread while one idled";
  EXPECT_NE(second, blocked);
}

TEST(RunQueue, ALongComputationHoldsWhatWaitsBehindItOnlyForTheHoldLimit) {
  RunQueue queue(2, RunQueue::Timing{500us, 5ms, 50ms});
  const auto [computing, second] = takers_behind(queue, Threads::Work::Compute);  // "forever"
  EXPECT_NE(second, -1) << "a request waited for a computation that does not end";
  EXPECT_NE(second, computing);
}

TEST(RunQueue, ACrowdedWorkerWakesAnIdleThreadAtOnceAsBefore) {
  RunQueue queue(2, kNoHoldLimit);
  queue.set_crowded(true);  // more connections than threads: its threads yield for work
  Threads threads(queue, 2);
  wait_idle(threads, queue, 100);
  threads.work_for(1, Threads::Work::Compute);
  queue.push(request(1), Clock::now());
  const int computing = threads.taker(1);
  ASSERT_NE(computing, -1);
  queue.push(request(2), Clock::now());  // no loop, no nudge: the push itself wakes
  const int second = threads.taker(2);
  threads.release();
  EXPECT_NE(second, -1);
  EXPECT_NE(second, computing);
}

// A computing thread with less of its hold left than a grace: the loop looks again when the
// hold ends, neither a grace later nor before its next look (it would spin on zero timeouts).
TEST(RunQueue, TheLoopLooksAgainWhenTheHoldEnds) {
  RunQueue queue(2, RunQueue::Timing{50ms, 50ms, 1ms});
  Threads threads(queue, 2);
  wait_idle(threads, queue, 100);
  threads.work_for(1, Threads::Work::Compute);
  queue.push(request(1), Clock::now());
  ASSERT_NE(threads.taker(1), -1);
  queue.push(request(2), Clock::now());
  // Past the grace: nudge() looks; the thread runs, and its hold (1 ms of CPU, counted from
  // this first look) ends 1 ms from now.
  const auto look = Clock::now() + 60ms;
  queue.nudge(look);
  EXPECT_EQ(threads.taker(2, 0ms), -1);  // held: the thread computes
  EXPECT_EQ(queue.nudge_at(), look + 1ms);
  threads.release();
}

TEST(RunQueue, NothingIsDeferredWhileEveryThreadIsBusy) {
  RunQueue queue(1);
  Threads threads(queue, 1);
  wait_idle(threads, queue, 100);
  threads.work_for(1, Threads::Work::Block);
  queue.push(request(1), Clock::now());
  ASSERT_NE(threads.taker(1), -1);
  queue.push(request(2), Clock::now());
  // No idle thread to wake: the loop has nothing to check (no timer).
  EXPECT_EQ(queue.nudge_at(), Clock::time_point::max());
  threads.release();
  EXPECT_NE(threads.taker(2), -1);
}

}  // namespace
}  // namespace gthreadd::worker
