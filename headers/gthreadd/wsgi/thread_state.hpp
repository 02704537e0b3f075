#pragma once
// One Python thread state per OS thread for the thread's whole life (docs/architecture.md,
// "Who owns what": Django keeps DB connections in threading.local, which lives in the thread
// state's dict). Creating and destroying a state per request would drop them.
#include <Python.h>

namespace gthreadd::wsgi {

// The calling thread's Python thread state, created on first use on the main interpreter.
// On the thread that called release_gil_from_main_thread() it is the main thread's state.
PyThreadState* thread_state_for_this_thread();

// Records the main thread's own state (saved by PyEval_SaveThread) so that a request run on
// the main thread reuses it instead of creating a second state for the same OS thread.
void adopt_main_thread_state(PyThreadState* state);

// Holds the GIL for a scope on any thread, with that thread's long-lived state.
class GilHolder {
 public:
  GilHolder() { PyEval_RestoreThread(thread_state_for_this_thread()); }
  ~GilHolder() { PyEval_SaveThread(); }
  GilHolder(const GilHolder&) = delete;
  GilHolder& operator=(const GilHolder&) = delete;
};

// Releases the GIL for a scope (a socket write) and takes it back on exit.
class GilReleaser {
 public:
  GilReleaser() : state_(PyEval_SaveThread()) {}
  ~GilReleaser() { PyEval_RestoreThread(state_); }
  GilReleaser(const GilReleaser&) = delete;
  GilReleaser& operator=(const GilReleaser&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace gthreadd::wsgi
