#include "gthreadd/wsgi/interpreter_probe.hpp"

#include <Python.h>

namespace gthreadd::wsgi {

InterpreterProbe::InterpreterProbe(std::chrono::milliseconds period)
    : period_(period), last_entered_(Clock::now().time_since_epoch().count()) {
  thread_ = std::thread([this] { run(); });
}

InterpreterProbe::~InterpreterProbe() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void InterpreterProbe::run() {
  // One thread state for the probe's life: PyGILState_Ensure would make and free one per
  // probe. Taking the GIL asks its holder to drop it at the next switch interval (5 ms),
  // so a probe costs the app one forced switch per period.
  PyThreadState* state = PyThreadState_New(PyInterpreterState_Main());
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    PyEval_RestoreThread(state);
    PyEval_SaveThread();
    last_entered_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    lock.lock();
    wake_.wait_for(lock, period_, [&] { return stop_; });
  }
  lock.unlock();
  PyEval_RestoreThread(state);
  PyThreadState_Clear(state);
  PyThreadState_DeleteCurrent();
}

}  // namespace gthreadd::wsgi
