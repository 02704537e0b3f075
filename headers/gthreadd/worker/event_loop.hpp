#pragma once
// A worker's epoll thread. It ties the parts together and decides nothing they decide:
// the Poller waits, the AcceptPolicy says when to accept, HttpConnection reads and
// validates requests without the GIL, the Pool runs them, and the loop owns every
// connection between requests and enforces every deadline (header, body-idle, keep-alive,
// lingering close, a parked response's write timeout), graceful stop and retirement
// (--max-requests). It writes parked responses as their clients read them, so a slow
// client holds no pool thread (docs/architecture.md, "Parked responses").
//
// Threads: every member is the loop thread's, except what Pool documents (the pool's
// queues and its count) and the RequestHandler, which pool threads call.
#include <tbb/task_arena.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/address_matcher.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/accept_policy.hpp"
#include "gthreadd/worker/body_budget.hpp"
#include "gthreadd/worker/connection.hpp"
#include "gthreadd/worker/file_watcher.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/worker/http_connection.hpp"
#include "gthreadd/worker/poller.hpp"
#include "gthreadd/worker/pool.hpp"
#include "gthreadd/worker/request_handler.hpp"
#include "gthreadd/worker/request_watch.hpp"
#include "gthreadd/wsgi/interpreter_probe.hpp"

namespace gthreadd::worker {

class EventLoop final : private AcceptHost {
 public:
  EventLoop(const config::Settings& settings, std::vector<net::Listener>& listeners,
            RequestHandler& handler, const Heartbeat& heartbeat, tbb::task_arena& arena,
            int signal_fd, FileWatcher* watcher = nullptr,
            const wsgi::InterpreterProbe* probe = nullptr, RequestWatch* request_watch = nullptr);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until a stop signal (or --max-requests) and in-flight work is done; returns the
  // process exit code.
  int run();
  // Adopts a connected, non-blocking socket as if accepted from listener `listener_index`
  // (tests drive the loop over socketpairs this way). Loop thread (or before run()).
  void adopt(core::UniqueFd fd, std::size_t listener_index) {
    add_connection(std::move(fd), listener_index);
  }

 private:
  // While stopping, how long a connection whose last response said keep-alive stays open
  // for the request its client may already have sent (keepalive_deadline).
  static constexpr std::chrono::milliseconds kLastCallWindow{1000};
  // How long an accepted connection without a request yet counts as load for the balanced
  // accept: long enough for a request sent right after the handshake, short enough that
  // clients connecting and sending nothing cannot keep a worker from accepting.
  static constexpr std::chrono::milliseconds kFreshWindow{100};
  static constexpr std::chrono::milliseconds kTick{200};  // housekeeping period

  // AcceptHost
  [[nodiscard]] Load load() const override;
  void add_connection(core::UniqueFd fd, std::size_t listener_index) override;

  void handle_event(const epoll_event& event);
  void on_readable(Connection* conn, std::uint32_t events);
  void apply(Connection* conn, Step step);
  void dispatch(Connection* conn);
  void collect_returns(bool woken);
  void on_returned(std::unique_ptr<Connection> conn);
  void after_response(Connection* conn);  // the response is complete: keep alive or close
  // Parked responses (event_loop_writing.cpp, docs/architecture.md "Parked responses").
  void begin_writing(Connection* conn);
  void write_parked(Connection* conn);
  void end_writing(Connection* conn, bool gone);  // written all, or the client is gone
  void writing_timed_out(Connection* conn);
  void restart_write_deadline(Connection* conn);
  void note_client_progress(Connection* conn);  // at each tick, for a parked response
  void retire_if_due();
  void retire_if_wedged();  // --request-timeout: every thread is past its limit
  void reject(Connection* conn, int status, std::string_view reason);
  void close_connection(Connection* conn);
  void end_fresh(Connection& conn);
  bool arm(Connection* conn);  // false: the fd could not be registered
  void run_posted();
  void tick();
  void beat_or_stop(Clock::time_point now);
  void handle_signals();
  void begin_graceful_stop(const char* why);
  void close_idle_for_stop();
  [[nodiscard]] std::size_t open_connections() const { return owned_.size() + pool_.outstanding(); }
  [[nodiscard]] Clock::time_point keepalive_deadline() const;

  const config::Settings& settings_;
  const Heartbeat& heartbeat_;
  http::ParseLimits limits_;
  std::string spill_dir_;
  BodyBudget body_budget_;
  http::ProxyMode proxy_mode_;
  core::AddressMatcher proxy_allow_;      // --proxy-allow-from
  core::AddressMatcher forwarded_allow_;  // --forwarded-allow-ips (forwarder_headers)
  std::vector<net::Listener>& listeners_;

  Poller poller_;
  int signal_fd_;
  char signal_tag_ = 0;  // epoll tags: only their addresses matter
  char returns_tag_ = 0;
  char reload_tag_ = 0;
  FileWatcher* watcher_;
  // --timeout: the heartbeat stops while this says the interpreter cannot be entered.
  const wsgi::InterpreterProbe* probe_;
  bool interpreter_stuck_ = false;  // logged once per episode
  RequestWatch* request_watch_;     // --request-timeout (null: off)
  bool wedged_ = false;             // every pool thread past --request-timeout: retiring
  pid_t parent_pid_;                // the master; a change means it died (kill -9)
  HttpConnection http_;
  AcceptPolicy accept_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> owned_;  // loop-owned
  std::vector<std::unique_ptr<Connection>> returned_scratch_;
  // Connections whose TLS transport holds bytes no epoll edge will announce: read again
  // after this round's events, without waiting (arm).
  std::vector<Connection*> posted_;
  std::vector<Connection*> posted_scratch_;
  // Declared after everything a connection points at (the body budget), so the
  // connections it still holds go first; its destructor waits for the pool's tasks.
  Pool pool_;

  std::size_t fresh_ = 0;  // connections with Connection::fresh set
  std::uint64_t served_ = 0;
  std::uint64_t max_requests_ = 0;  // 0 = unlimited (with jitter applied)
  bool stopping_ = false;
  bool retiring_ = false;  // --max-requests reached; successor requested
  Clock::time_point retire_deadline_{};
  bool quick_exit_ = false;
  std::size_t large_released_ = 0;  // large buffers freed since the last tick
  bool trim_pending_ = false;       // malloc_trim once the large requests stop
  Clock::time_point stop_deadline_{};
  Clock::time_point next_tick_{};
};

}  // namespace gthreadd::worker
