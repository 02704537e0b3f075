#pragma once
// What a worker says before it dies of WORKER TIMEOUT. gunicorn's master sends SIGABRT to
// a worker silent for --timeout and SIGKILL a moment later; its worker's handle_abort runs
// the worker_abort hook and exits, and says nothing about where it hung (benoitc/gunicorn
// #185, #1243, #3136). Here, on SIGABRT, a thread of its own (it never needs the GIL for
// this part) first runs what the worker asked for (answering the queued requests no thread
// started, so that none starts now), then writes to the error log:
//   1. one line per busy pool thread from the request board: method, target, peer, seconds;
//   2. every thread's Python traceback, printed by CPython's faulthandler, whose C handler
//      reads the frames without the GIL: it works while C code holds the GIL forever;
// then runs the worker_abort hook (which needs the GIL: if C code holds it for good, the
// master's SIGKILL comes first), then exits with status 1 like gunicorn's handle_abort.
//
// Threads: SIGABRT is blocked in every thread (block_abort_signal, before any thread
// exists) and taken with sigwaitinfo by the reporter thread alone. abort() in C code still
// kills the process: glibc's abort unblocks SIGABRT before raising it.
#include <functional>
#include <string_view>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

// In the worker, first thing, while it has one thread.
void block_abort_signal() noexcept;

// After the app is loaded (takes the GIL itself: call it from a thread that can). Opens its
// own descriptor on --error-logfile (fd 2 for "-") for faulthandler, registers faulthandler
// on a real-time signal and starts the reporter thread. `on_abort` runs on that thread
// after the report, before worker_abort (empty: nothing). False, logged, on failure: the
// worker then serves without the report, as before.
bool start_hang_reporter(const config::Settings& settings, std::function<void()> on_abort = {});

// Writes the board and every thread's traceback to the error log now, headed by
// `headline` (logged at CRITICAL). Any thread but a signal handler; never takes the GIL.
void report_threads(std::string_view headline);

}  // namespace gthreadd::wsgi
