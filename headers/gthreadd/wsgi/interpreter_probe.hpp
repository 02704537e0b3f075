#pragma once
// Tells the worker's event loop whether its interpreter can still be entered. gunicorn's
// gthread worker notifies the arbiter from its main loop, which runs Python: a worker is
// timed out when that loop cannot run for --timeout, because the loop is stuck or the GIL
// is held by C code that never releases it. gthreadd's loop never takes the GIL, so a
// long request or a slow download never looks stuck to it (they are progress), but a held
// GIL would go unnoticed without this probe: a thread of its own that takes and drops the
// GIL once per period and records when it last got it.
//
// Threads: the probe thread alone takes the GIL; last_entered() is read by the loop.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gthreadd::wsgi {

class InterpreterProbe {
 public:
  using Clock = std::chrono::steady_clock;
  // Starts the probe thread; the interpreter must be initialised and the calling thread
  // must not hold the GIL.
  explicit InterpreterProbe(std::chrono::milliseconds period = std::chrono::milliseconds(500));
  // Stops the thread. Blocks while the probe waits for a GIL that is never released;
  // workers leave with _exit and never run this in that state.
  ~InterpreterProbe();
  InterpreterProbe(const InterpreterProbe&) = delete;
  InterpreterProbe& operator=(const InterpreterProbe&) = delete;

  [[nodiscard]] std::chrono::milliseconds period() const noexcept { return period_; }

  // The last moment the probe held the GIL (its start counts as one).
  [[nodiscard]] Clock::time_point last_entered() const noexcept {
    return Clock::time_point(Clock::duration(last_entered_.load(std::memory_order_relaxed)));
  }

 private:
  void run();

  std::chrono::milliseconds period_;
  std::atomic<Clock::rep> last_entered_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gthreadd::wsgi
