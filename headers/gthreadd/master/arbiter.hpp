#pragma once
// The master, gunicorn's arbiter: a single-threaded loop that reacts to signals and to a
// tick, keeps the worker count at its target, reaps and respawns, times out workers whose
// heartbeat went stale, and stops, reloads or upgrades as gunicorn does. It ties the parts
// together and does the I/O; the decisions are the WorkerTable's, the signals the
// MasterSignals', the upgrade the BinaryUpgrade's, and a forked child's boot boot_worker's.
//
// Thread: the master's main thread. Its only other thread is the metrics endpoint's
// (--metrics-bind), which holds no lock a forked worker needs (metrics/endpoint.hpp).
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/master/binary_upgrade.hpp"
#include "gthreadd/master/control_server.hpp"
#include "gthreadd/master/master_signals.hpp"
#include "gthreadd/master/pidfile.hpp"
#include "gthreadd/master/worker_table.hpp"
#include "gthreadd/metrics/master_metrics.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::master {

// The table's policy as the settings give it (--timeout, --graceful-timeout).
WorkerTable::Policy table_policy(const config::Settings& settings);

class Arbiter {
 public:
  // `reload_settings` re-reads every configuration source (HUP).
  // `argv` is the command line to re-exec on USR2 (binary upgrade).
  Arbiter(config::Settings settings, std::vector<net::Listener> listeners,
          std::function<config::Settings()> reload_settings, std::vector<std::string> argv,
          std::unique_ptr<wsgi::AppRunner> preloaded = nullptr);
  int run();

 private:
  using Clock = WorkerTable::Clock;

  void announce();
  void manage_workers();
  void spawn_worker();
  void reap();
  // A reaped worker's exit status; false when it halted the master.
  bool worker_exited(const WorkerTable::Worker& gone, int status);
  bool boot_failed(const WorkerTable::Worker& gone, int code);
  // Tells the table what the heartbeats say, then carries out its timeouts.
  void check_workers();
  void execute(const std::vector<WorkerTable::Order>& orders);
  [[nodiscard]] std::chrono::milliseconds wait_time() const;
  void handle_signal(int signo);
  void reload();
  void stop(bool graceful);
  void forget(pid_t pid);
  void signal_workers(int signo);
  void report_backlog() const;  // --enable-backlog-metric
  // --max-worker-memory: at most once a second, a booted worker over the cap is retired
  // successor first (arbiter_memory.cpp).
  void check_memory(Clock::time_point now);
  [[nodiscard]] wsgi::ServerView view() const { return {&settings_, table_.target()}; }
  // TTIN/TTOU and `worker add|remove`: the new target, with the nworkers_changed hook.
  void change_target(int target);

  // The control socket (arbiter_control.cpp): its commands take the signals' paths.
  void open_control();
  ControlReply control(const std::vector<std::string>& words);
  ControlReply worker_command(const std::vector<std::string>& words);
  [[nodiscard]] Json show_workers() const;
  [[nodiscard]] Json show_stats() const;
  [[nodiscard]] Json show_config() const;
  [[nodiscard]] Json show_listeners() const;

  config::Settings settings_;
  std::vector<net::Listener> listeners_;
  std::function<config::Settings()> reload_settings_;
  MasterSignals signals_;
  BinaryUpgrade upgrade_;
  Pidfile pidfile_;
  WorkerTable table_;
  // Each worker's heartbeat file (opened before its fork), by pid: the same pids as table_.
  std::map<pid_t, std::unique_ptr<worker::Heartbeat>> heartbeats_;
  std::unique_ptr<wsgi::AppRunner> preloaded_;       // --preload: loaded here, inherited by fork
  std::unique_ptr<metrics::MasterMetrics> metrics_;  // --metrics-bind; null when off
  std::unique_ptr<ControlServer> control_;           // --control-socket; null when off
  Clock::time_point next_memory_check_{};
  std::set<pid_t> memory_replaced_;  // retired for --max-worker-memory, until reaped
  std::size_t logged_workers_ = 0;   // the count last logged at debug ("N workers")
  bool halt_ = false;
  int exit_code_ = 0;
};

}  // namespace gthreadd::master
