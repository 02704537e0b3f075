#pragma once
// The master: single-threaded, reacts to signals (through a signalfd, never in a handler)
// and to a once-a-second tick; keeps the worker count at its target, reaps and respawns,
// kills workers whose heartbeat went stale, and stops or reloads as gunicorn's arbiter.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/master/pidfile.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/worker/heartbeat.hpp"
#include "gthreadd/wsgi/app_runner.hpp"

namespace gthreadd::master {

class Arbiter {
 public:
  // `reload_settings` re-reads every configuration source (HUP).
  // `argv` is the command line to re-exec on USR2 (binary upgrade).
  Arbiter(config::Settings settings, std::vector<net::Listener> listeners,
          std::function<config::Settings()> reload_settings, std::vector<std::string> argv,
          std::unique_ptr<wsgi::AppRunner> preloaded = nullptr);
  int run();

 private:
  struct Worker {
    std::unique_ptr<worker::Heartbeat> heartbeat;
    unsigned generation = 0;
    bool aborted = false;      // SIGABRT sent for a stale heartbeat
    bool terminating = false;  // SIGTERM sent (reload, TTOU, stop)
    bool retiring = false;     // asked to be replaced (--max-requests); not counted
    int cpu = -1;              // --cpu-affinity: the CPU it runs on; -1 = not pinned
    std::chrono::steady_clock::time_point kill_at{};  // SIGKILL after graceful timeout
  };

  void spawn_worker();
  void reap();
  void manage_workers();
  void check_heartbeats();
  // Workers of the current generation that have booted and are not stopping.
  [[nodiscard]] std::size_t booted_workers(bool count_retiring) const;
  void handle_signal(int signo);
  void reload();
  void stop(bool graceful);
  void reexec();
  void maybe_promote();
  void signal_workers(int signo);
  [[nodiscard]] std::size_t current_workers() const;

  config::Settings settings_;
  std::vector<net::Listener> listeners_;
  std::function<config::Settings()> reload_settings_;
  core::UniqueFd signal_fd_;
  Pidfile pidfile_;
  std::map<pid_t, Worker> workers_;
  unsigned generation_ = 0;
  int target_workers_ = 1;
  bool halt_ = false;
  int exit_code_ = 0;
  bool reloading_ = false;
  std::vector<std::string> argv_;
  std::string start_cwd_;
  std::unique_ptr<wsgi::AppRunner> preloaded_;  // --preload: loaded here, inherited by fork
  pid_t reexec_pid_ = 0;   // the new master we forked on USR2, while it lives
  pid_t old_master_ = 0;   // when we are the new master of an upgrade, the one we replace
};

}  // namespace gthreadd::master
