#pragma once
// Process-level bits of the embedded interpreter that the master and worker need:
// forking with CPython's fork hooks (--preload) and the list of loaded module files (--reload).
#include <sys/types.h>

#include <string>
#include <vector>

namespace gthreadd::wsgi {

// fork(2) wrapped in PyOS_BeforeFork / PyOS_AfterFork_{Parent,Child} when the interpreter
// is running in this process (the master with --preload; the caller holds the GIL), plain
// fork otherwise.
pid_t fork_process();

// Every file of every module in sys.modules (needs the GIL; the worker calls it at boot).
std::vector<std::string> loaded_module_files();

}  // namespace gthreadd::wsgi
