#pragma once
// One pool thread's Python traceback, read WITHOUT the GIL (issue 13: --request-timeout and
// --log-slow-requests), so it works while the thread spins in Python, sleeps with the GIL
// released, or holds the GIL in C code.
//
// It reads the thread's frames the way faulthandler's dump does (CPython's
// _Py_DumpTraceback, which faulthandler's signal handlers call): without the GIL, racing
// the thread itself. A frame may be half-pushed or just popped while it is read; CPython
// accepts that risk for faulthandler, and so do we, for a thread that has been stuck past a
// limit the operator set. The target thread is never signalled or paused (a signal would cut
// short a sleep() in C code).
//
// Threads: any thread, without the GIL; one call at a time (a process-wide lock).
#include <string>

namespace gthreadd::wsgi {

// The traceback of the Python thread whose thread id (pthread_self, what faulthandler
// prints as "Thread 0x...") is `thread_id`, as Python prints one: a "Traceback (most
// recent call last):" line, then one `  File "...", line N in function` per frame,
// innermost frame LAST (faulthandler prints it first; reversed here to read like every
// other Python traceback in the log). A one-line explanation when it cannot be read.
std::string thread_traceback(unsigned long thread_id);

}  // namespace gthreadd::wsgi
