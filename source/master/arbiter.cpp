#include "gthreadd/master/arbiter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "gthreadd/log/logger.hpp"
#include "gthreadd/log/statsd.hpp"
#include "gthreadd/master/process_setup.hpp"
#include "gthreadd/master/cpu_pinning.hpp"
#include "gthreadd/worker/worker_process.hpp"
#include "gthreadd/wsgi/python_process.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::master {
namespace {

using Clock = std::chrono::steady_clock;
int g_spawned = 0;  // gunicorn's worker.age: how many workers this master has forked
// Set for a master exec'd by USR2: the pid of the master it replaces (GUNICORN_PID too).
constexpr const char* kMasterPidEnv = "GTHREADD_PID";

const char* signal_name(int signo) {
  switch (signo) {
    case SIGHUP: return "hup";
    case SIGTERM: return "term";
    case SIGINT: return "int";
    case SIGQUIT: return "quit";
    case SIGTTIN: return "ttin";
    case SIGTTOU: return "ttou";
    case SIGUSR1: return "usr1";
    case SIGUSR2: return "usr2";
    case SIGWINCH: return "winch";
    case SIGCHLD: return "chld";
    default: return "unknown";
  }
}

sigset_t master_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD})
    sigaddset(&set, sig);
  return set;
}

}  // namespace

Arbiter::Arbiter(config::Settings settings, std::vector<net::Listener> listeners,
                 std::function<config::Settings()> reload_settings, std::vector<std::string> argv,
                 std::unique_ptr<wsgi::AppRunner> preloaded)
    : settings_(std::move(settings)),
      listeners_(std::move(listeners)),
      reload_settings_(std::move(reload_settings)),
      target_workers_(std::max(1, settings_.workers)),
      argv_(std::move(argv)),
      preloaded_(std::move(preloaded)) {
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd)) start_cwd_ = cwd;
  for (const char* name : {kMasterPidEnv, "GUNICORN_PID"}) {
    if (const char* pid = std::getenv(name)) {
      old_master_ = static_cast<pid_t>(std::strtol(pid, nullptr, 10));
      ::unsetenv(name);
      break;
    }
  }
  // Signals are queued to a signalfd and handled in the loop, never in a handler, so the
  // master does nothing async-signal-unsafe (DESIGN "Master loop").
  sigset_t set = master_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
}

int Arbiter::run() {
  const wsgi::ServerView server{&settings_, target_workers_};
  wsgi::call_server_hook(wsgi::Hook::OnStarting, server);
  spdlog::info("Starting gthreadd {}", GTHREADD_VERSION);
  for (const auto& l : listeners_) spdlog::info("Listening at: {} ({})", l.url(), ::getpid());
  spdlog::info("Using worker: {}", settings_.worker_class);  // "gthread": sync runs as gthread
  wsgi::call_server_hook(wsgi::Hook::WhenReady, server);
  if (!settings_.pidfile.empty()) {
    // During an upgrade the new master writes <pidfile>.2 and takes the real name only
    // once the old master is gone (gunicorn's maybe_promote_master).
    pidfile_.create(old_master_ ? settings_.pidfile + ".2" : settings_.pidfile, ::getpid());
  }

  while (!halt_) {
    maybe_promote();
    manage_workers();
    pollfd p{signal_fd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, 1000);
    if (rc > 0) {
      signalfd_siginfo info{};
      while (!halt_ && ::read(signal_fd_.get(), &info, sizeof info) == sizeof info)
        handle_signal(static_cast<int>(info.ssi_signo));
    }
    reap();
    check_heartbeats();
  }
  spdlog::info("Shutting down: Master");
  wsgi::call_server_hook(wsgi::Hook::OnExit, {&settings_, target_workers_});
  return exit_code_;
}

void Arbiter::spawn_worker() {
  auto heartbeat = std::make_unique<worker::Heartbeat>(settings_.worker_tmp_dir);
  const int age = ++g_spawned;
  std::vector<int> pinned;
  for (const auto& [other, w] : workers_)
    if (w.cpu >= 0) pinned.push_back(w.cpu);
  const int cpu = pick_cpu(settings_.cpu_affinity, pinned);
  wsgi::call_server_worker_hook(wsgi::Hook::PreFork, {&settings_, target_workers_}, 0, age);
  spdlog::default_logger()->flush();
  const pid_t master = ::getpid();
  pid_t pid = wsgi::fork_process();
  if (pid < 0) {
    spdlog::error("fork: {}", std::strerror(errno));
    return;
  }
  if (pid == 0) {
    // Child: drop what belongs to the master, then become a worker. The master is
    // single-threaded, so fork is safe here (no TBB, no async logger, no Python).
    signal_fd_.reset();
    for (auto& [other, w] : workers_) w.heartbeat.reset();
    spdlog::info("Booting worker with pid: {}", ::getpid());
    ProcessTitle::set("gthreadd: worker [" + process_label(settings_) + "]");
    if (cpu >= 0) {
      // Before the worker starts any thread: the pool and loop threads inherit it.
      if (auto error = pin_to_cpu(cpu); error.empty()) spdlog::info("Worker {} pinned to CPU {}", ::getpid(), cpu);
      else spdlog::warn("{}; the worker runs unpinned", error);
    }
    wsgi::set_worker_identity(settings_, age);
    wsgi::call_server_worker_hook(wsgi::Hook::PostFork, {&settings_, target_workers_}, ::getpid(), age);
    try {
      // The heartbeat file is unlinked, so only this process can reach it; making it
      // writable lets the worker touch it after dropping to --user.
      ::fchmod(heartbeat->fd(), 0666);
      drop_privileges(settings_);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      spdlog::default_logger()->flush();
      ::_exit(worker::kExitBootError);
    }
    // A master killed with SIGKILL must not leave workers serving (and holding the port)
    // forever: the kernel sends TERM, a graceful stop, when the master dies. After the
    // privilege drop, which clears the setting; TERM stays blocked until the worker's
    // signalfd reads it. The master may have died before prctl: then nothing would come.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != master) {
      spdlog::warn("Worker {}: the master (pid {}) is gone; exiting", ::getpid(), master);
      spdlog::default_logger()->flush();
      ::_exit(0);
    }
    // With --preload the child holds the GIL it inherited; run_worker releases it once the
    // app is ready (releasing it here too aborted every preloaded worker at boot).
    int code = worker::run_worker(settings_, listeners_, *heartbeat, preloaded_.get());
    spdlog::default_logger()->flush();
    ::_exit(code);
  }
  Worker w;
  w.heartbeat = std::move(heartbeat);
  w.generation = generation_;
  w.cpu = cpu;
  workers_.emplace(pid, std::move(w));
}

std::size_t Arbiter::current_workers() const {
  std::size_t n = 0;
  for (const auto& [pid, w] : workers_)
    if (w.generation == generation_ && !w.terminating && !w.retiring) ++n;
  return n;
}

std::size_t Arbiter::booted_workers(bool count_retiring) const {
  std::size_t booted = 0;
  for (const auto& [pid, w] : workers_)
    if (w.generation == generation_ && !w.terminating && (count_retiring || !w.retiring) &&
        !w.heartbeat->booting())
      ++booted;
  return booted;
}

void Arbiter::manage_workers() {
  if (halt_) return;
  // gunicorn's manage_workers reports the worker count on every pass of the loop.
  if (const auto* metrics = log::statsd()) metrics->gauge("gunicorn.workers", static_cast<double>(workers_.size()));
  while (current_workers() < static_cast<std::size_t>(target_workers_)) spawn_worker();
  if (current_workers() > static_cast<std::size_t>(target_workers_)) {
    // TTOU or a smaller reload: retire the oldest (lowest pid is not age; map order is
    // by pid, so pick the one spawned first in this generation by pid order as gunicorn does).
    for (auto& [pid, w] : workers_) {
      if (w.generation == generation_ && !w.terminating && !w.retiring &&
          current_workers() > static_cast<std::size_t>(target_workers_)) {
        w.terminating = true;
        w.kill_at = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
        ::kill(pid, SIGTERM);
      }
    }
  }
  // Workers that reached --max-requests go once enough successors are up. Counting the
  // booted ones (not "every new worker booted") matters under churn: with a low
  // --max-requests some worker is always booting, and retirees would pile up. Never more
  // retirees than the target stay alive either.
  const bool successors_up = booted_workers(false) >= static_cast<std::size_t>(target_workers_);
  std::size_t retirees = 0;
  for (const auto& [pid, w] : workers_)
    if (w.retiring && !w.terminating) ++retirees;
  for (auto& [pid, w] : workers_) {
    if (!w.retiring || w.terminating) continue;
    if (successors_up ||
        retirees > static_cast<std::size_t>(std::max(1, target_workers_))) {
      --retirees;
      w.terminating = true;
      w.kill_at = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
      ::kill(pid, SIGTERM);
    }
  }
  if (reloading_) {
    // New workers first, old ones retired only once enough new ones have booted, so
    // capacity never drops and a broken app on HUP leaves the old workers serving. A new
    // worker already asking for its successor (--max-requests) is serving too: under churn
    // some are always retiring, and not counting them stalled the reload for good.
    if (booted_workers(true) >= static_cast<std::size_t>(target_workers_)) {
      for (auto& [pid, w] : workers_) {
        if (w.generation != generation_ && !w.terminating) {
          w.terminating = true;
          w.kill_at = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
          ::kill(pid, SIGTERM);
        }
      }
      reloading_ = false;
    }
  }
}

void Arbiter::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == reexec_pid_) {
      spdlog::error("Upgraded master (pid:{}) exited; this master carries on", pid);
      reexec_pid_ = 0;
      continue;
    }
    auto it = workers_.find(pid);
    if (it == workers_.end()) continue;
    const Worker w = std::move(it->second);
    workers_.erase(it);
    wsgi::call_server_worker_hook(wsgi::Hook::ChildExit, {&settings_, target_workers_}, pid, 0);
    if (WIFEXITED(status)) {
      int code = WEXITSTATUS(status);
      if (code != 0) spdlog::error("Worker (pid:{}) exited with code {}", pid, code);
      if (code == worker::kExitAppLoadError || code == worker::kExitBootError) {
        const char* reason = code == worker::kExitAppLoadError ? "App failed to load." : "Worker failed to boot.";
        // A worker already told to stop (the rest of a failed generation) says nothing
        // about the reload in progress, whose generation may reuse its number.
        if (reloading_ && w.generation == generation_ && !w.terminating) {
          // HUP with a broken app: keep the old workers; retire the new generation.
          spdlog::error("Reload failed ({}): keeping the previous workers", reason);
          reloading_ = false;
          --generation_;
          for (auto& [other, ow] : workers_) {
            if (ow.generation > generation_ && !ow.terminating) {
              ow.terminating = true;
              ow.kill_at = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
              ::kill(other, SIGTERM);
            }
          }
          continue;
        }
        if (!w.terminating) {
          spdlog::error("Reason: {}", reason);
          exit_code_ = code;
          stop(false);
          return;
        }
      }
    } else if (WIFSIGNALED(status) && !w.terminating) {
      int sig = WTERMSIG(status);
      if (sig == SIGKILL)
        spdlog::error("Worker (pid:{}) was sent SIGKILL! Perhaps out of memory?", pid);
      else
        spdlog::error("Worker (pid:{}) was sent code {}!", pid, sig);
    }
  }
}

void Arbiter::check_heartbeats() {
  const auto now = Clock::now();
  for (auto& [pid, w] : workers_) {
    if (!w.retiring && !w.terminating && w.heartbeat->retirement_requested()) w.retiring = true;
    if (w.terminating && now >= w.kill_at) {
      ::kill(pid, SIGKILL);
      continue;
    }
    if (settings_.timeout <= 0 || w.heartbeat->booting()) continue;
    if (w.heartbeat->seconds_since_beat() <= settings_.timeout) continue;
    if (!w.aborted) {
      // gunicorn: SIGABRT first (the worker_abort hook may dump stacks), SIGKILL next time.
      spdlog::critical("WORKER TIMEOUT (pid:{})", pid);
      w.aborted = true;
      ::kill(pid, SIGABRT);
    } else {
      ::kill(pid, SIGKILL);
    }
  }
}

void Arbiter::signal_workers(int signo) {
  for (const auto& [pid, w] : workers_) ::kill(pid, signo);
}

void Arbiter::handle_signal(int signo) {
  if (signo != SIGCHLD) spdlog::info("Handling signal: {}", signal_name(signo));
  switch (signo) {
    case SIGCHLD:
      reap();
      break;
    case SIGHUP:
      reload();
      break;
    case SIGTERM:
      stop(true);
      break;
    case SIGINT:
    case SIGQUIT:
      stop(false);
      break;
    case SIGTTIN:
      ++target_workers_;
      wsgi::call_nworkers_changed({&settings_, target_workers_}, target_workers_, target_workers_ - 1);
      break;
    case SIGTTOU:
      if (target_workers_ > 1) {
        --target_workers_;
        wsgi::call_nworkers_changed({&settings_, target_workers_}, target_workers_, target_workers_ + 1);
      }
      break;
    case SIGUSR1:
      log::reopen_logs();
      prepare_log_files(settings_);  // a file the master re-created belongs to the workers too
      signal_workers(SIGUSR1);
      break;
    case SIGUSR2:
      reexec();
      break;
    case SIGWINCH:
      // Part of the upgrade dance: stop the workers, keep the master and its sockets.
      spdlog::info("graceful stop of workers");
      target_workers_ = 0;
      for (auto& [pid, w] : workers_) {
        w.terminating = true;
        w.kill_at = Clock::now() + std::chrono::seconds(settings_.graceful_timeout);
        ::kill(pid, SIGTERM);
      }
      break;
    default:
      break;
  }
}

void Arbiter::reload() {
  spdlog::info("Hang up: Master");
  try {
    config::Settings fresh = reload_settings_();
    // Listening sockets stay: workers inherit the ones bound at start.
    fresh.bind = settings_.bind;
    settings_ = std::move(fresh);
    log::init_error_log(settings_);
    for (const auto& warning : settings_.config_warnings) spdlog::warn("{}", warning);
    prepare_log_files(settings_);
    // gunicorn's reload exports cfg.env again, so new workers see a changed raw_env.
    apply_raw_env(settings_);
  } catch (const std::exception& e) {
    spdlog::error("Reload: configuration is invalid, keeping the current one: {}", e.what());
  }
  const int old_workers = target_workers_;
  target_workers_ = std::max(1, settings_.workers);
  wsgi::call_server_hook(wsgi::Hook::OnReload, {&settings_, target_workers_});
  if (target_workers_ != old_workers)
    wsgi::call_nworkers_changed({&settings_, target_workers_}, target_workers_, old_workers);
  ++generation_;
  reloading_ = true;
}

void Arbiter::reexec() {
  if (reexec_pid_ != 0) {
    spdlog::warn("USR2 ignored: an upgraded master (pid:{}) is already running", reexec_pid_);
    return;
  }
  if (old_master_ != 0) {
    spdlog::warn("USR2 ignored: this master has not been promoted yet");
    return;
  }
  const pid_t master = ::getpid();
  spdlog::default_logger()->flush();
  pid_t pid = ::fork();
  if (pid < 0) {
    spdlog::error("USR2: fork: {}", std::strerror(errno));
    return;
  }
  if (pid > 0) {
    reexec_pid_ = pid;
    return;
  }
  // Child: becomes the new master by exec, inheriting the listening sockets.
  std::string fds;
  for (const auto& l : listeners_) {
    ::fcntl(l.fd.get(), F_SETFD, 0);
    if (!fds.empty()) fds += ',';
    fds += std::to_string(l.fd.get());
  }
  ::setenv(net::kInheritedFdsEnv, fds.c_str(), 1);
  ::setenv(kMasterPidEnv, std::to_string(master).c_str(), 1);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!start_cwd_.empty() && ::chdir(start_cwd_.c_str()) != 0) ::_exit(1);
  wsgi::call_server_hook(wsgi::Hook::PreExec, {&settings_, target_workers_});
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  spdlog::error("USR2: cannot exec {}: {}", argv_.empty() ? "" : argv_[0], std::strerror(errno));
  ::_exit(1);
}

void Arbiter::maybe_promote() {
  if (old_master_ == 0 || ::getppid() == old_master_) return;
  // The old master exited: we are the master now.
  spdlog::info("Master has been promoted.");
  old_master_ = 0;
  if (!pidfile_.path().empty()) pidfile_.rename(settings_.pidfile);
}

void Arbiter::stop(bool graceful) {
  halt_ = true;
  const int sig = graceful ? SIGTERM : SIGQUIT;
  signal_workers(sig);
  const auto deadline =
      Clock::now() + (graceful ? std::chrono::seconds(settings_.graceful_timeout) : std::chrono::seconds(2));
  while (!workers_.empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) workers_.erase(pid);
  }
  signal_workers(SIGKILL);
  while (!workers_.empty()) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) break;
    workers_.erase(pid);
  }
  // Unix socket files we created go with us, as gunicorn does — unless a new master
  // (upgrade) or an old one still uses them.
  if (reexec_pid_ != 0 || old_master_ != 0) return;
  for (const auto& l : listeners_)
    if (l.is_unix && !l.inherited && l.address.kind == config::BindAddress::Kind::Unix) ::unlink(l.address.path.c_str());
}

}  // namespace gthreadd::master
