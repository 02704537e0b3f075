#include "gthreadd/worker/request_watch.hpp"

#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/wsgi/request_board.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"
#include "gthreadd/wsgi/thread_traceback.hpp"

namespace gthreadd::worker {
namespace {

std::uint64_t next_id() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

std::int64_t to_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

// "GET /path from 127.0.0.1:5555", from the request board (the pool thread's own entry).
std::string describe(unsigned long thread_id) {
  const auto& board = wsgi::request_board();
  wsgi::BoardEntry e;
  for (std::size_t i = 0; i < board.used(); ++i) {
    if (!board.read(i, e) || e.thread_id != thread_id || e.started_ns == 0) continue;
    return std::string(e.method) + " " + e.target + " from " + e.peer;
  }
  return "a request (not on the request board yet)";
}

const std::string& response_504() {
  static const std::string answer = http::make_error_response(504);
  return answer;
}

}  // namespace

void RequestSlot::begin(Transport& io) noexcept {
  const std::lock_guard lock(mutex_);
  if (thread_id_ == 0) thread_id_ = static_cast<unsigned long>(::pthread_self());
  io_ = &io;
  started_ns_ = wsgi::RequestBoard::now_ns();
  sent_ = expired_ = slow_logged_ = false;
  answered_status_ = 0;
  answered_bytes_ = 0;
}

bool RequestSlot::end() noexcept {
  const std::lock_guard lock(mutex_);
  io_ = nullptr;
  started_ns_ = 0;
  return expired_;
}

int RequestSlot::server_answer(std::uint64_t* body_bytes) noexcept {
  const std::lock_guard lock(mutex_);
  if (body_bytes) *body_bytes = answered_bytes_;
  return answered_status_;
}

bool RequestSlot::may_send() noexcept {
  const std::lock_guard lock(mutex_);
  if (expired_) return false;
  sent_ = true;
  return true;
}

RequestWatch::RequestWatch(const config::Settings& settings, int threads)
    : timeout_ns_(to_ns(settings.request_timeout)),
      slow_ns_(to_ns(settings.log_slow_requests)),
      timeout_s_(settings.request_timeout),
      slow_s_(settings.log_slow_requests),
      threads_(static_cast<std::size_t>(std::max(1, threads))),
      id_(next_id()) {
  if (!enabled()) return;
  slots_ = std::make_unique<RequestSlot[]>(threads_);
  watcher_ = std::thread([this] { watch(); });
  if (limits_requests()) hooks_ = std::thread([control = control_] { run_abort_hooks(control); });
}

RequestWatch::~RequestWatch() {
  bool hook_running = false;
  {
    const std::lock_guard lock(control_->mutex);
    control_->stop = true;
    hook_running = control_->in_hook;
  }
  control_->wake.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (!hooks_.joinable()) return;
  // Waiting for work, it sees `stop` and returns at once. A worker_abort hook waiting for a
  // GIL that C code holds would never return: that thread is left to the process's exit,
  // with its own reference to the control block.
  if (hook_running) hooks_.detach();
  else hooks_.join();
}

RequestSlot* RequestWatch::own_slot() noexcept {
  if (!slots_) return nullptr;
  // By id, not address: a later watch may live where a destroyed one did (unit tests).
  thread_local std::uint64_t owner = 0;
  thread_local RequestSlot* slot = nullptr;
  if (owner != id_) {
    const std::size_t index = claimed_.fetch_add(1, std::memory_order_relaxed);
    owner = id_;
    slot = index < threads_ ? &slots_[index] : nullptr;
  }
  return slot;
}

void RequestWatch::watch() {
  // A tenth of the shortest limit, between 10 and 250 ms: a limit fires within that of
  // its time, and an idle worker wakes 4 times a second at most.
  std::int64_t shortest = INT64_MAX;
  for (std::int64_t limit : {timeout_ns_, slow_ns_})
    if (limit > 0) shortest = std::min(shortest, limit);
  const auto period =
      std::chrono::nanoseconds(std::clamp<std::int64_t>(shortest / 10, 10'000'000, 250'000'000));
  std::unique_lock lock(control_->mutex);
  while (!control_->wake.wait_for(lock, period, [&] { return control_->stop; })) {
    lock.unlock();
    const std::int64_t now = wsgi::RequestBoard::now_ns();
    const std::size_t used = std::min(claimed_.load(std::memory_order_acquire), threads_);
    std::size_t stuck = 0;
    for (std::size_t i = 0; i < used; ++i) check(slots_[i], now, stuck);
    wedged_.store(limits_requests() && stuck >= threads_, std::memory_order_release);
    lock.lock();
  }
}

void RequestWatch::check(RequestSlot& slot, std::int64_t now, std::size_t& stuck) {
  std::unique_lock lock(slot.mutex_);
  if (slot.started_ns_ == 0) return;
  const std::int64_t running = now - slot.started_ns_;
  if (slot.expired_) {
    ++stuck;
    return;
  }
  const bool expire = timeout_ns_ > 0 && running >= timeout_ns_;
  const bool slow = !expire && !slot.slow_logged_ && slow_ns_ > 0 && running >= slow_ns_;
  if (!expire && !slow) return;
  const std::string what = describe(slot.thread_id_);
  const double seconds = static_cast<double>(running) / 1e9;
  if (slow) {
    slot.slow_logged_ = true;
    // Read while the slot is locked: the thread cannot finish this request meanwhile, so
    // the traceback is this request's.
    const std::string traceback = wsgi::thread_traceback(slot.thread_id_);
    lock.unlock();
    spdlog::warn("Slow request: {} still running after {:.1f} s (--log-slow-requests {})\n{}", what,
                 seconds, slow_s_, traceback);
    return;
  }
  slot.expired_ = true;
  ++stuck;
  const bool answered = !slot.sent_;
  if (answered) {
    // The 504 fits any send buffer (nothing of this response was written); a client that
    // reads nothing gets at most 200 ms of the watcher's time.
    send_final_answer(*slot.io_, response_504(), 2);
    slot.answered_status_ = 504;
    const std::size_t head = response_504().find("\r\n\r\n");
    slot.answered_bytes_ = response_504().size() - head - 4;
  } else {
    slot.io_->shutdown_write();
  }
  const std::string traceback = wsgi::thread_traceback(slot.thread_id_);
  lock.unlock();
  spdlog::error(
      "Request timeout: {} still running after {:.1f} s (--request-timeout {}): {}; the view "
      "keeps running until it returns, then the connection is closed\n{}",
      what, seconds, timeout_s_,
      answered ? "answered 504 Gateway Timeout with Connection: close"
               : "part of the response was sent: cut short (socket shut for writing)",
      traceback);
  spdlog::default_logger()->flush();
  {
    const std::lock_guard hooks(control_->mutex);
    ++control_->aborts_pending;
  }
  control_->wake.notify_all();
}

void RequestWatch::run_abort_hooks(const std::shared_ptr<Control>& control) {
  std::unique_lock lock(control->mutex);
  for (;;) {
    control->wake.wait(lock, [&] { return control->stop || control->aborts_pending > 0; });
    if (control->stop) return;
    --control->aborts_pending;
    control->in_hook = true;
    lock.unlock();
    // gunicorn's worker_abort(worker); takes the GIL (a view spinning in Python lets it in
    // within the switch interval).
    wsgi::call_worker_hook(wsgi::Hook::WorkerAbort);
    spdlog::default_logger()->flush();
    lock.lock();
    control->in_hook = false;
  }
}

}  // namespace gthreadd::worker
