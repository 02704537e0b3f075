#pragma once
// Per-request time limits (issue 13): --request-timeout and --log-slow-requests. gunicorn's
// gthread worker has neither (benoitc/gunicorn #2086); its --timeout, which gthreadd keeps,
// never limits a request.
//
// Each pool thread has a RequestSlot; a watcher thread of its own looks at the slots a few
// times a second and never needs the GIL to notice or to report, so it works while a view
// spins in Python, sleeps, or holds the GIL in C code. Past --log-slow-requests a request
// is logged once at WARNING with its traceback. Past --request-timeout:
//   1. the request (method, target, peer, seconds) and its thread's Python traceback go to
//      the error log, once (ERROR);
//   2. if no byte of the response went out, the watcher answers "504 Gateway Timeout" with
//      "Connection: close" and shuts the socket for writing; everything the app produces
//      after that is discarded (SocketWriter asks may_send() before every write). If part
//      of the response went out, the socket is shut for writing at once: what the kernel
//      already holds is delivered, then FIN, so the client sees a response cut short
//      (short of its Content-Length, or a chunked body without its last chunk);
//   3. worker_abort(worker) runs, on a thread of its own (it needs the GIL);
//   4. once every pool thread is past its limit, wedged() turns true and the event loop
//      asks the master for a successor (as --max-requests does: successor first).
// The view itself keeps running until it returns: CPython cannot stop a thread safely
// (PyThreadState_SetAsyncExc raises only between bytecodes, never in C code or a blocking
// call, and an exception at an arbitrary bytecode can leave locks held and state half
// changed), so the connection is closed when the view returns.
//
// Threads: a slot's begin/end/may_send run on its pool thread; the watcher thread reads
// and changes slots under each slot's mutex, so it writes to a connection's transport
// only while the pool thread cannot (before the response's first byte, which may_send
// would have recorded, and before end(), after which the loop may close the fd).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/worker/transport.hpp"

namespace gthreadd::worker {

class RequestSlot {
 public:
  // The pool thread starts a request on `io`, and ends it before the connection goes back
  // to the loop. end() returns true if the request was past --request-timeout: the
  // connection must then be closed.
  void begin(Transport& io) noexcept;
  bool end() noexcept;
  // Before each write of the response: false once the request timed out (the write must
  // not happen); otherwise records that the response started.
  bool may_send() noexcept;
  // 504 (and its body bytes) once the watcher answered this request; 0 otherwise.
  int server_answer(std::uint64_t* body_bytes) noexcept;

 private:
  friend class RequestWatch;
  std::mutex mutex_;
  Transport* io_ = nullptr;      // while a request runs
  std::int64_t started_ns_ = 0;  // CLOCK_MONOTONIC; 0: idle
  bool sent_ = false;            // a byte of the response was handed to the transport
  bool expired_ = false;         // past --request-timeout (acted on)
  bool slow_logged_ = false;
  int answered_status_ = 0;  // the watcher's 504
  std::uint64_t answered_bytes_ = 0;
  unsigned long thread_id_ = 0;  // pthread_self(), as the request board and faulthandler say
};

class RequestWatch {
 public:
  // Starts the watcher thread. Both limits off: enabled() is false and nothing starts.
  RequestWatch(const config::Settings& settings, int threads);
  ~RequestWatch();
  RequestWatch(const RequestWatch&) = delete;
  RequestWatch& operator=(const RequestWatch&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return timeout_ns_ > 0 || slow_ns_ > 0; }
  [[nodiscard]] bool limits_requests() const noexcept { return timeout_ns_ > 0; }
  // The calling pool thread's slot (claimed on first use). Null beyond `threads`.
  RequestSlot* own_slot() noexcept;
  // Every pool thread is running a request past --request-timeout: the worker can serve
  // nobody. Any thread.
  [[nodiscard]] bool wedged() const noexcept { return wedged_.load(std::memory_order_acquire); }

 private:
  void watch();  // the watcher thread
  void check(RequestSlot& slot, std::int64_t now, std::size_t& stuck);

  const std::int64_t timeout_ns_;
  const std::int64_t slow_ns_;
  const double timeout_s_;
  const double slow_s_;
  const std::size_t threads_;
  const std::uint64_t id_;  // which watch a pool thread's cached slot belongs to
  std::unique_ptr<RequestSlot[]> slots_;
  std::atomic<std::size_t> claimed_{0};
  std::atomic<bool> wedged_{false};

  // Shared with the hooks thread, which may outlive this object: a worker_abort hook stuck
  // waiting for a GIL that C code holds is detached at destruction, and must then not touch
  // a destroyed watch (it holds its own reference to this).
  struct Control {
    std::mutex mutex;  // the rest
    std::condition_variable wake;
    bool stop = false;
    int aborts_pending = 0;  // worker_abort calls owed
    bool in_hook = false;    // the hooks thread is running one (it may never return)
  };
  const std::shared_ptr<Control> control_ = std::make_shared<Control>();
  static void run_abort_hooks(const std::shared_ptr<Control>& control);  // the hooks thread
  std::thread watcher_;
  std::thread hooks_;
};

}  // namespace gthreadd::worker
