#pragma once
// Everything that runs on a pool thread, and the two queues between it and the event loop.
// The loop submits a connection with a complete request (RunQueue); one long-lived task
// per arena thread pops it, runs the request through the RequestHandler and hands the
// connection back (ReturnQueue).
//
// The quiet-return protocol, all of it here (docs/architecture.md, "Quiet returns"):
// a kept-alive connection whose fd is registered with epoll, with nothing pipelined
// behind its request, may go back WITHOUT waking the loop: the pool thread resets it for
// the next request and queues it with quiet_return set. Its next request wakes the loop,
// which collects the returns before acting on any connection event (EventLoop::run), so
// it owns the connection by then. An edge that came while the pool owned it is noted
// (note_early_edge) and makes the return loud, and the loop re-polls the socket: the
// bytes it announced are already there and no other edge will say so. Invariants
// (asserted):
//  - a connection is submitted by the loop only while Running, not quietly returned;
//  - a quiet return is registered, kept alive, reset (its buffer empty) and Running;
//  - every return is collected by the loop, which alone changes the state again.
// A return is loud (eventfd) when the loop must act now: a close, pipelined bytes, a stop
// or retirement under way (set_quiet_returns(false)), or when it frees the first thread of
// a full pool (the loop stopped listening then and must start again).
//
// Threads: submit, collect, set_crowded, set_quiet_returns, wake_fd on the loop thread;
// outstanding() and idle() on the loop thread (they read atomics the pool writes).
// running_ is the one count of requests in the pool: incremented by the loop at submit,
// decremented by the pool thread under the return queue's lock as it queues the
// connection, so the loop never sees a connection in neither place.
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gthreadd/worker/connection.hpp"
#include "gthreadd/worker/request_handler.hpp"
#include "gthreadd/worker/request_watch.hpp"
#include "gthreadd/worker/return_queue.hpp"
#include "gthreadd/worker/run_queue.hpp"

namespace gthreadd::worker {

class Pool {
 public:
  // `watch`: --request-timeout / --log-slow-requests (null or disabled: not watched).
  Pool(tbb::task_arena& arena, RequestHandler& handler, int threads,
       std::chrono::milliseconds send_timeout, RequestWatch* watch = nullptr);
  // Closes the run queue (what waits in it is dropped) and waits until the last task is
  // out: the tasks point at this object.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  void submit(std::unique_ptr<Connection> conn);
  // Takes the returned connections; `woken`: the eventfd fired (clear it).
  void collect(std::vector<std::unique_ptr<Connection>>& out, bool woken);
  [[nodiscard]] int wake_fd() const noexcept { return returns_.fd(); }
  // Connections the loop does not hold: submitted and not yet collected (may overcount
  // by one for an instant, never undercount).
  [[nodiscard]] std::size_t outstanding() const noexcept {
    const std::size_t running = running_.load(std::memory_order_acquire);
    return running + returns_.size();
  }
  // The quiet-return protocol's loop side: an edge for a connection the loop does not
  // own. False when it was returned meanwhile (collect, then handle the edge).
  [[nodiscard]] bool note_early_edge(const Connection* conn) {
    return returns_.note_early_edge(conn);
  }
  void forget_edge(const Connection* conn) { returns_.forget(conn); }
  // Nothing running and nothing to collect.
  [[nodiscard]] bool idle();
  // More open connections than pool threads: idle threads spin briefly (RunQueue::pop).
  void set_crowded(bool crowded) { run_queue_.set_crowded(crowded); }
  // The wake-up grace (RunQueue): when the loop must call nudge(), and the call.
  [[nodiscard]] Clock::time_point nudge_at() { return run_queue_.nudge_at(); }
  void nudge(Clock::time_point now) { run_queue_.nudge(now); }
  // False while stopping or under --max-requests: the loop must hear of every return.
  void set_quiet_returns(bool allowed) { quiet_allowed_.store(allowed, std::memory_order_release); }
  // --timeout (30 s at least) as the loop's no-progress limit for parked responses
  // (event_loop_writing.cpp); the pool itself does not use it (its writers never wait).
  [[nodiscard]] std::chrono::milliseconds send_timeout() const noexcept { return send_timeout_; }
  // Loop thread, once every pool thread is past --request-timeout (wedged): the requests
  // waiting for a thread, which none will start before the worker is replaced, are
  // answered `response` (a 503) and handed back for the loop to close, like any return.
  // Returns how many.
  std::size_t answer_queued(const std::string& response);

 private:
  void run_task();                                        // pool thread: the task's loop
  void serve(Connection& conn);                           // pool thread
  void hand_back(std::unique_ptr<Connection> conn);       // pool thread (or answer_queued)
  bool may_return_quietly(const Connection& conn) const;  // pool thread

  RequestHandler& handler_;
  const std::size_t threads_;
  const std::chrono::milliseconds send_timeout_;
  RequestWatch* const watch_;  // null unless a per-request limit is on
  RunQueue run_queue_;
  ReturnQueue returns_;
  std::atomic<std::size_t> running_{0};
  std::atomic<bool> quiet_allowed_{true};
  std::mutex tasks_mutex_;
  std::condition_variable tasks_done_;
  int tasks_ = 0;  // tasks still looping on run_queue_ (tasks_mutex_)
};

}  // namespace gthreadd::worker
