#include "gthreadd/worker/worker_process.hpp"

#include <Python.h>

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/metrics/recorder.hpp"
#include "gthreadd/worker/event_loop.hpp"
#include "gthreadd/worker/queued_answer.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/hang_report.hpp"
#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/interpreter_probe.hpp"
#include "gthreadd/wsgi/python_process.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::worker {
namespace {

// Leaves the process without running destructors: pool threads may still hold Python
// objects, and finalising CPython or joining TBB with requests in flight can hang.
[[noreturn]] void finish(int code) {
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
  ::_exit(code);
}

// Pool threads created later inherit this thread's mask, so TERM/INT/QUIT/USR1 reach only
// the signalfd the event loop reads. Returns that signalfd (invalid if it failed).
core::UniqueFd block_worker_signals() {
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP, SIGWINCH, SIGTTIN, SIGTTOU, SIGUSR2})
    sigaddset(&handled, sig);
  ::pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  wsgi::block_abort_signal();  // the master's SIGABRT (WORKER TIMEOUT) goes to the hang reporter
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, SIGCHLD);  // the app's subprocess calls must see their children
  ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // sendfile(2) has no MSG_NOSIGNAL
  return core::UniqueFd(::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC));
}

// --reload: watches the modules loaded at boot and --reload-extra-file's patterns.
std::unique_ptr<FileWatcher> make_reload_watcher(const config::Settings& settings) {
  auto files = wsgi::loaded_module_files();
  files.insert(files.end(), settings.reload_extra_files.begin(), settings.reload_extra_files.end());
  auto watcher = std::make_unique<FileWatcher>(
      files, settings.reload_engine == "poll" ? WatchEngine::Poll : WatchEngine::Inotify);
  // Modules imported after boot (a view imported by the first request) are watched too:
  // once a second, only when sys.modules changed size, the list is read again under the
  // GIL. --reload is a development setting; the event loop is untouched.
  watcher->rescan_every(std::chrono::seconds(1), [seen = Py_ssize_t{-1}]() mutable {
    std::vector<std::string> found;
    const PyGILState_STATE gil = PyGILState_Ensure();
    const Py_ssize_t count = PyDict_Size(PyImport_GetModuleDict());
    if (count != seen) {
      seen = count;
      found = wsgi::loaded_module_files();
    }
    PyGILState_Release(gil);
    return found;
  });
  return watcher;
}

}  // namespace

int run_worker(const config::Settings& settings, std::vector<net::Listener>& listeners,
               const Heartbeat& heartbeat, wsgi::AppRunner* preloaded) {
  // Signals first, while this process has one thread (see block_worker_signals).
  core::UniqueFd signal_fd = block_worker_signals();
  if (!signal_fd) {
    spdlog::error("signalfd: {}", std::strerror(errno));
    return kExitBootError;
  }

  std::unique_ptr<wsgi::AppRunner> owned_runner;
  wsgi::AppRunner* runner = preloaded;
  std::unique_ptr<FileWatcher> watcher;
  try {
    if (!runner) {
      wsgi::start_interpreter(settings);
      owned_runner = std::make_unique<wsgi::AppRunner>(settings);
      runner = owned_runner.get();
    }
    if (settings.reload) watcher = make_reload_watcher(settings);
  } catch (const wsgi::AppLoadError& e) {
    spdlog::error("Exception in worker process:\n{}", e.what());
    return kExitAppLoadError;
  } catch (const std::exception& e) {
    spdlog::error("Exception in worker process: {}", e.what());
    return kExitBootError;
  }
  wsgi::call_worker_hook(wsgi::Hook::PostWorkerInit);
  wsgi::start_hang_reporter(settings, [] { answer_queued_requests(); });
  wsgi::release_gil_from_main_thread();

  // TBB caps its pool at the core count by default; --threads is the number of concurrent
  // app calls (gunicorn gthread), which may be far more on a 2-core box when apps block.
  const int threads = std::max(1, settings.threads);
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                  static_cast<std::size_t>(threads) + 1);
  tbb::task_arena arena(threads, 0);
  arena.initialize();

  try {
    // Only where a timeout is enforced: the probe costs the app one GIL switch per period.
    std::unique_ptr<wsgi::InterpreterProbe> probe;
    if (settings.timeout > 0) probe = std::make_unique<wsgi::InterpreterProbe>();
    // --request-timeout / --log-slow-requests: a watcher thread, only when one is set.
    RequestWatch request_watch(settings, threads);
    EventLoop loop(settings, listeners, *runner, heartbeat, arena, signal_fd.get(), watcher.get(),
                   probe.get(), &request_watch);
    metrics::recorder().set_threads(threads);  // --metrics-bind: idle = threads - busy
    heartbeat.beat();                          // booted: from now on the master may time us out
    const int code = loop.run();
    // gunicorn calls worker_exit in the worker process, as it leaves.
    wsgi::call_server_worker_hook(wsgi::Hook::WorkerExit, {&settings, settings.workers}, ::getpid(),
                                  0);
    finish(code);
  } catch (const std::exception& e) {
    spdlog::error("Worker failed: {}", e.what());
    finish(kExitBootError);
  }
}

}  // namespace gthreadd::worker
