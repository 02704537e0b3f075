// What each master signal does (gunicorn's handle_* methods): HUP reloads, TERM stops
// gracefully, INT and QUIT quickly, TTIN/TTOU change the target, USR1 reopens the logs,
// USR2 upgrades the binary, WINCH stops the workers and keeps the master.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "gthreadd/log/logger.hpp"
#include "gthreadd/master/arbiter.hpp"
#include "gthreadd/master/process_setup.hpp"
#include "gthreadd/tls/server_tls.hpp"
#include "gthreadd/wsgi/python_logging.hpp"

namespace gthreadd::master {

void Arbiter::handle_signal(int signo) {
  if (signo != SIGCHLD) spdlog::info("Handling signal: {}", MasterSignals::name(signo));
  const int target = table_.target();
  switch (signo) {
    case SIGCHLD: reap(); break;
    case SIGHUP: reload(); break;
    case SIGTERM: stop(true); break;
    case SIGINT:
    case SIGQUIT: stop(false); break;
    case SIGTTIN: change_target(target + 1); break;
    case SIGTTOU: change_target(target - 1); break;
    case SIGUSR1:
      log::reopen_logs();
      prepare_log_files(settings_);  // a file the master re-created belongs to the workers too
      signal_workers(SIGUSR1);
      break;
    case SIGUSR2:
      if (metrics_) metrics_->pause_endpoint();  // fork only while single-threaded
      upgrade_.reexec(listeners_, [this] { wsgi::call_server_hook(wsgi::Hook::PreExec, view()); });
      if (metrics_) metrics_->resume_endpoint();
      break;
    case SIGWINCH:
      // Part of the upgrade dance: stop the workers, keep the master and its sockets.
      spdlog::info("graceful stop of workers");
      execute(table_.stop_all(Clock::now()));
      break;
    default: break;
  }
}

void Arbiter::change_target(int target) {
  // gunicorn's num_workers setter: never below one, and nworkers_changed(new, old) on a change.
  const int old_target = table_.target();
  target = std::max(1, target);
  if (target == old_target) return;
  table_.set_target(target);
  wsgi::call_nworkers_changed(view(), target, old_target);
}

void Arbiter::reload() {
  spdlog::info("Hang up: Master");
  try {
    config::Settings fresh = reload_settings_();
    // Listening sockets stay: workers inherit the ones bound at start.
    fresh.bind = settings_.bind;
    settings_ = std::move(fresh);
    log::init_error_log(settings_);
    // gunicorn 26.1: HUP builds the Logger again from the new logconfig*/loglevel (before,
    // only reopen_files ran). New workers inherit it.
    wsgi::apply_python_logging_in_master(settings_);
    log_current_configuration(settings_);  // gunicorn's reload runs setup() again
    for (const auto& warning : settings_.config_warnings) spdlog::warn("{}", warning);
    prepare_log_files(settings_);
    // gunicorn's reload exports cfg.env again, so new workers see a changed raw_env.
    apply_raw_env(settings_);
  } catch (const std::exception& e) {
    spdlog::error("Reload: configuration is invalid, keeping the current one: {}", e.what());
  }
  // The certificate and key are read again, so a renewed certificate is served by the new
  // workers without a restart (gunicorn #2536). A bad one keeps the current context.
  if (auto error = tls::install(settings_); !error.empty())
    spdlog::error("Reload: TLS: {}; keeping the certificate in use", error);
  else if (const auto* context = tls::current())
    spdlog::info("Reload: serving TLS with {}", context->summary());
  const int old_workers = table_.target();
  table_.set_target(std::max(1, settings_.workers));
  table_.set_policy(table_policy(settings_));
  wsgi::call_server_hook(wsgi::Hook::OnReload, view());
  if (table_.target() != old_workers)
    wsgi::call_nworkers_changed(view(), table_.target(), old_workers);
  // New workers first; the table stops the old ones once the new ones have booted.
  table_.begin_reload();
}

void Arbiter::stop(bool graceful) {
  halt_ = true;
  control_.reset();  // clients get "not running" at once, not a wait for the workers
  signal_workers(graceful ? SIGTERM : SIGQUIT);
  const auto deadline = Clock::now() + (graceful ? std::chrono::seconds(settings_.graceful_timeout)
                                                 : std::chrono::seconds(2));
  while (!table_.empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;)
      if (!upgrade_.reaped(pid)) forget(pid);
  }
  signal_workers(SIGKILL);
  while (!table_.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) break;
    if (!upgrade_.reaped(pid)) forget(pid);
  }
  // Unix socket files we created go with us, as gunicorn does — unless a new master
  // (upgrade) or an old one still uses them.
  if (upgrade_.sockets_shared()) return;
  for (const auto& l : listeners_)
    if (l.is_unix && !l.inherited && l.address.kind == config::BindAddress::Kind::Unix)
      ::unlink(l.address.path.c_str());
}

}  // namespace gthreadd::master
