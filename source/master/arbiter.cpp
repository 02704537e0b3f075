#include "gthreadd/master/arbiter.hpp"
#include "gthreadd/tls/server_tls.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "gthreadd/core/assert.hpp"
#include "gthreadd/log/logger.hpp"
#include "gthreadd/log/statsd.hpp"
#include "gthreadd/master/cpu_pinning.hpp"
#include "gthreadd/master/process_setup.hpp"
#include "gthreadd/master/worker_boot.hpp"
#include "gthreadd/metrics/exposition.hpp"
#include "gthreadd/worker/worker_process.hpp"
#include "gthreadd/wsgi/python_process.hpp"

namespace gthreadd::master {
namespace {

// The loop's tick when nothing is due sooner: the statsd gauge, promotion after an upgrade,
// and noticing a booted worker or a retirement request.
constexpr std::chrono::milliseconds kTick{1000};

}  // namespace

WorkerTable::Policy table_policy(const config::Settings& settings) {
  WorkerTable::Policy policy;
  policy.timeout = std::chrono::seconds(std::max(0, settings.timeout));
  policy.graceful_timeout = std::chrono::seconds(std::max(0, settings.graceful_timeout));
  return policy;
}

Arbiter::Arbiter(config::Settings settings, std::vector<net::Listener> listeners,
                 std::function<config::Settings()> reload_settings, std::vector<std::string> argv,
                 std::unique_ptr<wsgi::AppRunner> preloaded)
    : settings_(std::move(settings)),
      listeners_(std::move(listeners)),
      reload_settings_(std::move(reload_settings)),
      upgrade_(std::move(argv)),
      table_(std::max(1, settings_.workers), table_policy(settings_)),
      preloaded_(std::move(preloaded)) {
  // Before the first fork: every worker, and every replacement, inherits the block.
  std::string error;
  metrics_ = metrics::MasterMetrics::start(
      settings_.metrics_bind, settings_.workers, metrics::listener_refs(listeners_),
      [](bool failed, const std::string& line) {
        failed ? spdlog::error("{}", line) : spdlog::info("{}", line);
      },
      error);
  if (!metrics_ && settings_.metrics_bind) throw std::runtime_error(error);
}

void Arbiter::announce() {
  wsgi::call_server_hook(wsgi::Hook::OnStarting, view());
  spdlog::info("Starting gthreadd {}", GTHREADD_VERSION);
  const auto* tls = tls::current();
  for (const auto& l : listeners_) {
    // gunicorn's TCPSocket says https:// when is_ssl; unix sockets are TLS too, unnamed.
    std::string url = l.url();
    if (tls && url.starts_with("http://")) url.insert(4, "s");
    spdlog::info("Listening at: {} ({})", url, ::getpid());
  }
  if (tls) spdlog::info("TLS certificate: {}", tls->summary());
  spdlog::info("Using worker: {}", settings_.worker_class);  // "gthread": sync runs as gthread
  wsgi::call_server_hook(wsgi::Hook::WhenReady, view());
  if (!settings_.pidfile.empty()) {
    // During an upgrade the new master writes <pidfile>.2 and takes the real name only
    // once the old master is gone (gunicorn's maybe_promote_master).
    pidfile_.create(upgrade_.old_master() ? settings_.pidfile + ".2" : settings_.pidfile,
                    ::getpid());
  }
}

int Arbiter::run() {
  announce();
  open_control();
  while (!halt_) {
    if (upgrade_.promoted() && !pidfile_.path().empty()) pidfile_.rename(settings_.pidfile);
    manage_workers();
    if (signals_.wait(wait_time(), control_ ? control_->poll_fd() : -1)) {
      while (!halt_) {
        const auto signo = signals_.next();
        if (!signo) break;
        handle_signal(*signo);
      }
    }
    if (control_) control_->serve([this](const auto& words) { return control(words); });
    reap();
    check_workers();
  }
  spdlog::info("Shutting down: Master");
  wsgi::call_server_hook(wsgi::Hook::OnExit, view());
  return exit_code_;
}

std::chrono::milliseconds Arbiter::wait_time() const {
  // Wake when the table has something due (a heartbeat about to go stale), so a timeout
  // fires within milliseconds of --timeout rather than at the next tick; the extra
  // millisecond lands past the deadline, which the table compares strictly.
  const auto now = Clock::now();
  const auto deadline = table_.next_deadline(now);
  if (!deadline) return kTick;
  const auto until =
      std::chrono::ceil<std::chrono::milliseconds>(*deadline - now) + std::chrono::milliseconds(1);
  return std::clamp(until, std::chrono::milliseconds(0), kTick);
}

void Arbiter::manage_workers() {
  if (halt_) return;
  // gunicorn's manage_workers reports the worker count on every pass of the loop.
  if (const auto* metrics = log::statsd())
    metrics->gauge("gunicorn.workers", static_cast<double>(table_.size()));
  if (settings_.enable_backlog_metric) report_backlog();
  for (int n = table_.missing(); n > 0 && !halt_; --n) spawn_worker();
  execute(table_.rebalance(Clock::now()));
  // gunicorn's manage_workers logs "N workers" at debug when the count changed: its
  // workers table, cut to the target (the ones told to stop are still in it until reaped).
  const std::size_t active =
      std::min(table_.size(), static_cast<std::size_t>(std::max(0, table_.target())));
  if (active != logged_workers_) {
    logged_workers_ = active;
    spdlog::debug("{} workers", logged_workers_);
  }
}

void Arbiter::spawn_worker() {
  auto heartbeat = std::make_unique<worker::Heartbeat>(settings_.worker_tmp_dir);
  const int age = table_.next_age();
  const int cpu = pick_cpu(settings_.cpu_affinity, table_.pinned_cpus());
  wsgi::call_server_worker_hook(wsgi::Hook::PreFork, view(), 0, age);
  spdlog::default_logger()->flush();
  const pid_t master = ::getpid();
  const int slot = metrics_ ? metrics_->before_fork() : -1;
  const pid_t pid = wsgi::fork_process();
  if (pid < 0) {
    spdlog::error("fork: {}", std::strerror(errno));
    if (metrics_) metrics_->fork_failed(slot);
    return;
  }
  if (pid == 0) {
    // Child: drop what belongs to the master, then become a worker.
    signals_.close_in_child();
    if (control_) control_->close_in_child();
    if (metrics_) metrics_->in_child(slot);
    for (auto& [other, beat] : heartbeats_) beat.reset();
    boot_worker(
        {settings_, listeners_, *heartbeat, preloaded_.get(), master, age, cpu, table_.target()});
  }
  [[maybe_unused]] const int added = table_.add(pid, cpu);
  GTHREADD_ASSERT(added == age, "the age the hooks saw is the table's");
  heartbeats_.emplace(pid, std::move(heartbeat));
  if (metrics_) metrics_->forked(slot, pid);
}

void Arbiter::forget(pid_t pid) {
  table_.remove(pid);
  heartbeats_.erase(pid);
  memory_replaced_.erase(pid);
}

void Arbiter::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (upgrade_.reaped(pid)) continue;
    const auto gone = table_.remove(pid);
    if (!gone) continue;
    heartbeats_.erase(pid);
    const bool memory = memory_replaced_.erase(pid) > 0;
    if (metrics_) {
      const bool boot_error =
          WIFEXITED(status) && (WEXITSTATUS(status) == worker::kExitAppLoadError ||
                                WEXITSTATUS(status) == worker::kExitBootError);
      metrics_->reaped(pid, metrics::classify_exit(status, {.boot_failed = boot_error,
                                                            .timed_out = gone->aborted,
                                                            .memory = memory,
                                                            .max_requests = gone->retiring,
                                                            .asked_to_stop = gone->stopping}));
    }
    wsgi::call_server_worker_hook(wsgi::Hook::ChildExit, view(), pid, gone->age);
    if (!worker_exited(*gone, status)) return;
  }
}

bool Arbiter::worker_exited(const WorkerTable::Worker& gone, int status) {
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code != 0) spdlog::error("Worker (pid:{}) exited with code {}", gone.pid, code);
    if (code == worker::kExitAppLoadError || code == worker::kExitBootError)
      return boot_failed(gone, code);
  } else if (WIFSIGNALED(status) && !gone.stopping) {
    const int sig = WTERMSIG(status);
    if (sig == SIGKILL)
      spdlog::error("Worker (pid:{}) was sent SIGKILL! Perhaps out of memory?", gone.pid);
    else spdlog::error("Worker (pid:{}) was sent code {}!", gone.pid, sig);
  }
  return true;
}

bool Arbiter::boot_failed(const WorkerTable::Worker& gone, int code) {
  const char* reason =
      code == worker::kExitAppLoadError ? "App failed to load." : "Worker failed to boot.";
  std::vector<WorkerTable::Order> orders;
  switch (table_.boot_failed(gone, Clock::now(), orders)) {
    case WorkerTable::BootFailure::Ignored: return true;
    case WorkerTable::BootFailure::RolledBack:
      // HUP with a broken app: the previous workers keep serving.
      spdlog::error("Reload failed ({}): keeping the previous workers", reason);
      execute(orders);
      return true;
    case WorkerTable::BootFailure::Halt: break;
  }
  // gunicorn's HaltServer: respawning a worker that cannot boot would only loop.
  spdlog::error("Reason: {}", reason);
  exit_code_ = code;
  stop(false);
  return false;
}

void Arbiter::check_workers() {
  const auto now = Clock::now();
  GTHREADD_ASSERT(heartbeats_.size() == table_.size(), "one heartbeat per worker");
  for (const auto& [pid, beat] : heartbeats_) {
    // A booting worker's file keeps mtime 0 until its loop beats once.
    if (!beat->booting()) {
      const std::chrono::duration<double> silent(beat->seconds_since_beat());
      table_.beat(pid, now - std::chrono::duration_cast<Clock::duration>(silent));
    }
    if (beat->retirement_requested()) table_.request_retirement(pid);
  }
  check_memory(now);
  execute(table_.check(now));
}

void Arbiter::execute(const std::vector<WorkerTable::Order>& orders) {
  for (const auto& order : orders) {
    switch (order.action) {
      case WorkerTable::Action::Stop: ::kill(order.pid, SIGTERM); break;
      case WorkerTable::Action::Abort:
        spdlog::critical("WORKER TIMEOUT (pid:{})", order.pid);
        ::kill(order.pid, SIGABRT);
        break;
      case WorkerTable::Action::Kill: ::kill(order.pid, SIGKILL); break;
    }
  }
}

// gunicorn 24.1's manage_workers: the accept-queue length summed over the listeners, as a
// StatsD histogram (gunicorn.backlog) and a debug line, on every pass of the loop.
void Arbiter::report_backlog() const {
  const auto backlog = metrics::total_backlog(metrics::listener_refs(listeners_));
  spdlog::debug("socket backlog: {}", backlog);
  if (const auto* statsd = log::statsd())
    statsd->histogram("gunicorn.backlog", static_cast<double>(backlog));
}

void Arbiter::signal_workers(int signo) {
  for (const auto& [pid, w] : table_.workers()) ::kill(pid, signo);
}

}  // namespace gthreadd::master
