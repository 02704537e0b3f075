#pragma once
// The embedded CPython of one worker process (or of the master with --preload).
#include <stdexcept>
#include <string>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

struct AppLoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Starts CPython without its signal handlers (the master/worker own signals), honours
// --chdir, VIRTUAL_ENV/--virtualenv (site-packages of the venv) and --pythonpath (prepended
// to sys.path, as is the current directory, as gunicorn does). On return the calling thread
// holds the GIL. Idempotent: the second call does nothing.
void start_interpreter(const config::Settings& settings);

// Starts CPython only, without --chdir/--pythonpath/virtualenv (the master runs a
// gunicorn.conf.py before the settings that shape sys.path are known). A later
// start_interpreter() still applies them, once. The calling thread holds the GIL.
void start_bare_interpreter();

// Releases the GIL from the calling (main) thread so pool threads can take it; returns the
// saved state for end_interpreter. Python is never finalised in a worker: it _exit()s, as
// finalising with pool threads around can hang.
void release_gil_from_main_thread();

}  // namespace gthreadd::wsgi
