#include "gthreadd/wsgi/hang_report.hpp"

#include <Python.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "gthreadd/wsgi/python_logging.hpp"
#include "gthreadd/wsgi/request_board.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace gthreadd::wsgi {
namespace {

// faulthandler.register() refuses the fatal signals (SIGABRT among them: that one is
// faulthandler.enable's, which re-raises and kills before worker_abort could run), so the
// dump is triggered with a real-time signal of its own, sent by the reporter thread to
// itself: the handler has run when pthread_kill returns.
int dump_signal() noexcept { return SIGRTMAX - 2; }

struct Reporter {
  std::string path;  // error log file; empty for stderr
  int fd = -1;       // the descriptor faulthandler writes to
  std::function<void()> on_abort;
  std::mutex mutex;  // one report at a time (the abort and a request timeout may meet)
};
Reporter* g_reporter = nullptr;

// logrotate may have moved the file since boot (USR1 re-opens spdlog's sink): point the
// registered descriptor number at the current file before each dump.
void refresh_fd(Reporter& r) {
  if (r.path.empty()) return;
  const int fresh = ::open(r.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fresh < 0) return;
  ::dup3(fresh, r.fd, O_CLOEXEC);
  ::close(fresh);
}

std::string board_lines(std::size_t& busy, std::size_t& threads) {
  std::string out;
  const auto& board = request_board();
  const std::int64_t now = RequestBoard::now_ns();
  busy = 0;
  threads = board.used();
  BoardEntry e;
  for (std::size_t i = 0; i < threads; ++i) {
    if (!board.read(i, e) || e.started_ns == 0) continue;
    ++busy;
    char line[512];
    std::snprintf(line, sizeof line, "\n  Thread 0x%016lx busy %.1f s: %s %s from %s", e.thread_id,
                  static_cast<double>(now - e.started_ns) / 1e9, e.method, e.target, e.peer);
    out += line;
  }
  return out;
}

void run_abort_thread(Reporter& r) {
  // With a Python logging configuration too, the report never waits for the GIL.
  keep_this_thread_off_python();
  sigset_t abort_set;
  sigemptyset(&abort_set);
  sigaddset(&abort_set, SIGABRT);
  siginfo_t info{};
  while (::sigwaitinfo(&abort_set, &info) < 0) {
    if (errno != EINTR) return;
  }
  const bool from_master = info.si_pid == ::getppid();
  if (r.on_abort) r.on_abort();
  report_threads(from_master
                     ? "WORKER TIMEOUT: the master sent SIGABRT; what this worker was doing:"
                     : "Worker got SIGABRT; what it was doing:");
  spdlog::default_logger()->flush();
  // gunicorn's handle_abort: worker_abort(worker), then sys.exit(1). Needs the GIL.
  call_worker_hook(Hook::WorkerAbort);
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
  ::_exit(1);
}

}  // namespace

void block_abort_signal() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGABRT);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool start_hang_reporter(const config::Settings& settings, std::function<void()> on_abort) {
  auto* r = new Reporter();  // lives until _exit
  r->on_abort = std::move(on_abort);
  if (!settings.errorlog.empty() && settings.errorlog != "-") r->path = settings.errorlog;
  r->fd = r->path.empty()
              ? ::fcntl(2, F_DUPFD_CLOEXEC, 3)
              : ::open(r->path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (r->fd < 0) {
    spdlog::error("hang report disabled: cannot open the error log: {}", std::strerror(errno));
    delete r;
    return false;
  }
  bool registered = false;
  const PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* module = PyImport_ImportModule("faulthandler");
  PyObject* result =
      module ? PyObject_CallMethod(module, "register", "iiii", dump_signal(), r->fd, 1, 0)
             : nullptr;
  if (result) {
    registered = true;
  } else {
    PyErr_Print();
  }
  Py_XDECREF(result);
  Py_XDECREF(module);
  PyGILState_Release(gil);
  if (!registered) {
    spdlog::error("hang report: faulthandler.register failed; tracebacks will be missing");
  }
  g_reporter = r;
  std::thread([r] { run_abort_thread(*r); }).detach();
  return true;
}

void report_threads(std::string_view headline) {
  Reporter* r = g_reporter;
  if (!r) return;
  std::lock_guard lock(r->mutex);
  std::size_t busy = 0;
  std::size_t threads = 0;
  const std::string lines = board_lines(busy, threads);
  spdlog::critical(
      "{} {} of {} pool threads busy{}\n  Python tracebacks (faulthandler, most recent call "
      "first):",
      headline, busy, threads, lines);
  spdlog::default_logger()->flush();
  refresh_fd(*r);
  ::pthread_kill(::pthread_self(), dump_signal());
}

}  // namespace gthreadd::wsgi
