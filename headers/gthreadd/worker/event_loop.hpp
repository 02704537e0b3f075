#pragma once
// A worker's epoll thread: accepts, reads and validates requests without the GIL, hands
// complete ones to the TBB arena, takes connections back for keep-alive and pipelining,
// and enforces every deadline (header, body-idle, keep-alive, lingering close).
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/address_matcher.hpp"
#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/body_budget.hpp"
#include "gthreadd/worker/connection.hpp"
#include "gthreadd/worker/file_watcher.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/worker/return_queue.hpp"
#include "gthreadd/worker/run_queue.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/interpreter_probe.hpp"

namespace gthreadd::worker {

class EventLoop {
 public:
  EventLoop(const config::Settings& settings, std::vector<net::Listener>& listeners,
            wsgi::AppRunner& runner, const Heartbeat& heartbeat, tbb::task_arena& arena,
            int signal_fd, FileWatcher* watcher = nullptr,
            const wsgi::InterpreterProbe* probe = nullptr);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until a stop signal (or --max-requests) and in-flight work is done; returns the
  // process exit code.
  int run();

 private:
  enum class Tag : std::uint8_t { Listener, Signal, Returns, Reload };
  struct EpollTag { Tag tag; std::size_t index; };

  void accept_from(std::size_t listener_index);
  void check_overflow();
  void add_connection(core::UniqueFd fd, std::size_t listener_index);
  void out_of_fds(int error);  // accept failed for want of fds: pause accepting
  void fds_freed();            // a connection closed (or kFdRetry passed): resume
  void on_readable(Connection* conn, std::uint32_t events);
  bool read_available(Connection& conn, bool& eof);
  bool read_body_direct(Connection& conn, bool& eof);
  void process(Connection* conn, bool eof);
  bool take_proxy_header(Connection* conn, bool eof);  // false: not ready, or rejected
  bool start_body(Connection& conn);
  bool charge_known_length(Connection& conn);  // false: rejected
  bool charge_growth(Connection* conn);        // chunked bodies, as they grow; false: rejected
  void body_store_failed(Connection* conn);
  void dispatch(Connection* conn);
  void start_pool_tasks();
  void serve(Connection& conn);  // on a pool thread
  void on_returned(std::unique_ptr<Connection> conn);
  void collect_returns(bool woken);
  bool return_quietly(Connection& conn);  // on a pool thread
  void reset_for_next(Connection& conn);
  void reject(Connection* conn, int status, std::string_view reason);
  void begin_linger(Connection* conn);
  void close_connection(Connection* conn);
  void end_fresh(Connection& conn);
  void arm(Connection* conn);
  void tick();
  void handle_signals();
  void begin_graceful_stop(const char* why);
  void update_listeners();
  [[nodiscard]] bool has_capacity() const;
  [[nodiscard]] std::size_t open_connections() const { return owned_.size() + in_flight_; }

  const config::Settings& settings_;
  std::vector<net::Listener>& listeners_;
  wsgi::AppRunner& runner_;
  const Heartbeat& heartbeat_;
  tbb::task_arena& arena_;
  http::ParseLimits limits_;
  std::string spill_dir_;
  BodyBudget body_budget_;
  http::ProxyMode proxy_mode_;
  core::AddressMatcher proxy_allow_;      // --proxy-allow-from
  core::AddressMatcher forwarded_allow_;  // --forwarded-allow-ips (forwarder_headers)

  core::UniqueFd epoll_;
  int signal_fd_;
  ReturnQueue returns_;
  RunQueue run_queue_;
  std::mutex pool_mutex_;
  std::condition_variable pool_done_;
  int pool_tasks_ = 0;  // pool tasks still looping on run_queue_
  std::vector<EpollTag> listener_tags_;
  EpollTag signal_tag_{Tag::Signal, 0};
  EpollTag returns_tag_{Tag::Returns, 0};
  EpollTag reload_tag_{Tag::Reload, 0};
  FileWatcher* watcher_;
  // --timeout: the heartbeat stops while this says the interpreter cannot be entered.
  const wsgi::InterpreterProbe* probe_;
  bool interpreter_stuck_ = false;  // logged once per episode
  pid_t parent_pid_;                // the master; a change means it died (kill -9)
  std::unordered_map<Connection*, std::unique_ptr<Connection>> owned_;  // loop-owned
  std::vector<std::unique_ptr<Connection>> returned_scratch_;
  // Edges reported for connections a pool task owned at the time: the socket is re-polled
  // when they come back, so the event is not lost.
  std::unordered_set<Connection*> early_events_;

  std::size_t in_flight_ = 0;
  std::size_t fresh_ = 0;  // connections with Connection::fresh set
  std::uint64_t served_ = 0;
  std::uint64_t max_requests_ = 0;  // 0 = unlimited (with jitter applied)
  bool listening_ = false;
  bool fds_exhausted_ = false;       // accept hit EMFILE/ENFILE: not accepting
  Clock::time_point fds_retry_at_{};
  bool fd_episode_ = false;          // the error was logged; ends at the next accept
  bool stopping_ = false;
  // Read by pool threads: while false, a kept-alive connection may go back quietly.
  std::atomic<bool> quiet_returns_{true};
  // Requests dispatched and not yet finished, counted down by the pool tasks (in_flight_
  // is the loop's own count, which lags by the quiet returns it has not collected yet).
  std::atomic<std::size_t> busy_{0};
  bool retiring_ = false;           // --max-requests reached; successor requested
  Clock::time_point retire_deadline_{};
  bool quick_exit_ = false;
  std::size_t large_released_ = 0;  // large buffers freed since the last tick
  bool trim_pending_ = false;       // malloc_trim once the large requests stop
  Clock::time_point stop_deadline_{};
  Clock::time_point next_tick_{};
  Clock::time_point overflow_check_{};  // next look at the unaccepted queue; {} = off
  bool overflow_seen_ = false;          // a connection was waiting at the last look
  std::chrono::milliseconds send_timeout_;
};

}  // namespace gthreadd::worker
