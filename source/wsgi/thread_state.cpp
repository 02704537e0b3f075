#include "gthreadd/wsgi/thread_state.hpp"

#include "gthreadd/wsgi/python_compat.hpp"

namespace gthreadd::wsgi {
namespace {

// Owns a state this module created; frees it when the OS thread exits (std::thread in tests;
// TBB pool threads live until the worker _exit()s, so their destructor never has to run).
struct ThreadStateSlot {
  PyThreadState* state = nullptr;
  bool owned = false;

  ~ThreadStateSlot() {
    if (!owned || state == nullptr || !Py_IsInitialized() || compat::is_finalizing()) return;
    PyEval_RestoreThread(state);
    PyThreadState_Clear(state);
    PyThreadState_DeleteCurrent();  // also releases the GIL
  }
};

thread_local ThreadStateSlot slot;

}  // namespace

PyThreadState* thread_state_for_this_thread() {
  if (slot.state == nullptr) {
    // PyThreadState_New takes the runtime's own lock, not the GIL, so it is safe here.
    slot.state = PyThreadState_New(PyInterpreterState_Main());
    slot.owned = true;
  }
  return slot.state;
}

void adopt_main_thread_state(PyThreadState* state) {
  slot.state = state;
  slot.owned = false;
}

}  // namespace gthreadd::wsgi
