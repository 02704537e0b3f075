// The event loop's housekeeping: the periodic tick (heartbeat, deadlines, malloc_trim),
// signals, retirement (--max-requests) and graceful stop.
#include <malloc.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>

#include <spdlog/spdlog.h>

#include "gthreadd/http/error_response.hpp"
#include "gthreadd/log/logger.hpp"
#include "gthreadd/metrics/recorder.hpp"
#include "gthreadd/worker/event_loop.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::worker {

void EventLoop::retire_if_due() {
  if (max_requests_ == 0 || served_ < max_requests_ || retiring_) return;
  // Ask the master for a successor and keep serving until it sends TERM; stop on our
  // own only if no TERM comes (an old master, say) within the graceful timeout.
  spdlog::info("Autorestarting worker after current request.");
  retiring_ = true;
  retire_deadline_ = Clock::now() + std::chrono::seconds(std::max(5, settings_.graceful_timeout));
  heartbeat_.request_retirement();
}

void EventLoop::retire_if_wedged() {
  if (!request_watch_ || wedged_ || !request_watch_->wedged()) return;
  // Every thread runs a request past --request-timeout and none can be interrupted: the
  // worker serves nobody. Replaced as --max-requests replaces: the master boots the
  // successor first, then sends TERM; the old worker then has --graceful-timeout for its
  // views to return before it exits (and the master's SIGKILL after that).
  wedged_ = true;
  spdlog::error("All {} threads of worker {} are past --request-timeout: asking for a successor",
                settings_.threads, ::getpid());
  // Requests already queued here would wait for a thread that does not come back before
  // the worker goes: 503 with Connection: close now (the app never saw them; nginx's
  // proxy_next_upstream http_503 retries them), as on WORKER TIMEOUT (queued_answer.hpp).
  // From now on the loop accepts nothing (load().stopping): new connections wait in the
  // shared backlog for the successor.
  pool_.set_quiet_returns(false);
  pool_.answer_queued(http::make_error_response(503));
  if (retiring_) return;
  retiring_ = true;
  retire_deadline_ = Clock::now() + std::chrono::seconds(std::max(5, settings_.graceful_timeout));
  heartbeat_.request_retirement();
}

void EventLoop::beat_or_stop(Clock::time_point now) {
  // --timeout as gunicorn's gthread worker means it: the worker is timed out when its loop
  // is stuck (then this tick does not run) or its interpreter cannot be entered, the GIL
  // held by C code, for that long. Long requests and slow downloads are progress: timing a
  // worker out because all its threads were busy for --timeout killed every response on it.
  // The beat carries when the interpreter was last known to be enterable (a probe period
  // after the probe last entered it: it would have entered again by then), and the master
  // counts --timeout from there, once. Stopping the beat only after --timeout here made the
  // master's own --timeout come on top: a held GIL was killed after twice --timeout.
  std::chrono::nanoseconds unresponsive{};
  if (settings_.timeout > 0 && probe_ != nullptr)
    unresponsive = std::max(unresponsive, now - probe_->last_entered() - probe_->period());
  const bool stuck = unresponsive >= std::chrono::seconds(1);
  if (stuck && !interpreter_stuck_)
    spdlog::critical(
        "The interpreter could not be entered for over {} ms (the GIL held by C code): "
        "the worker will be timed out {} s after that unless it is released",
        std::chrono::duration_cast<std::chrono::milliseconds>(unresponsive + probe_->period())
            .count(),
        settings_.timeout);
  interpreter_stuck_ = stuck;
  heartbeat_.beat_since(unresponsive);
  // gunicorn's workers compare their parent pid at every notify: a master killed with -9
  // must not leave its workers serving (and holding the port) forever.
  if (!stopping_ && ::getppid() != parent_pid_) {
    spdlog::info("Parent changed, shutting down: pid {}", ::getpid());
    begin_graceful_stop("Worker exiting (pid: {})");
  }
  if (retiring_ && !stopping_ && now >= retire_deadline_)
    begin_graceful_stop("Worker exiting (pid: {})");
}

void EventLoop::tick() {
  const auto now = Clock::now();
  next_tick_ = now + kTick;
  retire_if_wedged();
  beat_or_stop(now);
  // Large buffers freed go back to malloc, not to the kernel (glibc keeps them in its
  // arenas; its mmap threshold rises after the first large free). Once a burst of large
  // requests is over (a tick without one), hand the free pages back: PSS per worker after
  // an upload run was 48 MiB (issue 4). Not during the burst, where the next request
  // would fault the same pages in again.
  if (large_released_ == 0 && trim_pending_) {
    ::malloc_trim(0);
    trim_pending_ = false;
  }
  if (large_released_ > 0) trim_pending_ = true;
  large_released_ = 0;
  accept_.tick(now);
  std::vector<Connection*> expired;
  std::int64_t idle_keepalive = 0;  // served a request, waiting for the next one
  for (auto& [raw, conn] : owned_) {
    if (conn->state == ConnState::Idle && conn->served > 0) ++idle_keepalive;
    if (conn->fresh && now - conn->accepted_at >= kFreshWindow) end_fresh(*conn);
    if (conn->state == ConnState::Writing) note_client_progress(raw);
    if (conn->state == ConnState::Running || now < conn->deadline) continue;
    expired.push_back(raw);
  }
  for (Connection* conn : expired) {
    if (conn->state == ConnState::ReadingHead || conn->state == ConnState::ReadingBody)
      reject(conn, 408, "request deadline passed");
    else if (conn->state == ConnState::Writing) writing_timed_out(conn);
    else close_connection(conn);
  }
  // --metrics-bind: sampled here, once per tick, rather than counted at every state change.
  metrics::recorder().set_connections(static_cast<std::int64_t>(open_connections()),
                                      idle_keepalive);
}

void EventLoop::handle_signals() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
    switch (info.ssi_signo) {
      case SIGTERM: begin_graceful_stop("Worker exiting (pid: {})"); break;
      case SIGINT:
      case SIGQUIT:
        wsgi::call_worker_hook(wsgi::Hook::WorkerInt);
        quick_exit_ = true;
        break;
      case SIGUSR1: log::reopen_logs(); break;
      default: break;
    }
  }
}

void EventLoop::begin_graceful_stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  pool_.set_quiet_returns(false);
  collect_returns(false);  // returned quietly a moment ago: treat as returned now
  stop_deadline_ = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
  spdlog::info(fmt::runtime(why), ::getpid());
  accept_.close_listeners();
  close_idle_for_stop();
}

void EventLoop::close_idle_for_stop() {
  // Idle keep-alive connections carry no request: close them now instead of waiting out
  // their timeout (a slow graceful stop otherwise). Requests already arriving finish, and
  // so do two kinds of "idle" connection that do carry one: bytes already in the socket
  // are a request sent before the client could know we stop, and a connection accepted
  // but not yet read from was opened for a request on its way. Closing either loses a
  // request the client cannot tell was never seen (gunicorn gthread drops both).
  // A connection answered less than kLastCallWindow ago gets the rest of that window, as
  // in keepalive_deadline: its client is likely between two requests, not done.
  const auto now = Clock::now();
  const auto keepalive = std::chrono::seconds(settings_.keepalive);
  std::vector<Connection*> idle;
  for (auto& [raw, conn] : owned_)
    if (conn->state == ConnState::Idle || conn->state == ConnState::Lingering) idle.push_back(raw);
  for (Connection* c : idle) {
    if (c->state == ConnState::Idle) {
      bool eof = false;
      if (!http_.read_available(*c, eof)) {
        close_connection(c);
        continue;
      }
      if (!c->buf.empty() || (c->served == 0 && !eof)) {
        apply(c, http_.process(*c, eof, stopping_));
        continue;
      }
      const auto answered_at = c->deadline - keepalive;  // keepalive_deadline set it ahead
      if (!eof && now - answered_at < kLastCallWindow) {
        c->deadline = answered_at + kLastCallWindow;
        continue;  // still registered for its next request
      }
    }
    close_connection(c);
  }
}

}  // namespace gthreadd::worker
