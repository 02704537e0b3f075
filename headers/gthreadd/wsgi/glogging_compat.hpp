#pragma once
// gunicorn.glogging as gthreadd provides it, for logger_class (issue 14). gunicorn is not
// installed in a gthreadd deployment, yet the common logger_class is a subclass of
// gunicorn.glogging.Logger overriding atoms(), access(), now() or setup(). gthreadd carries
// its own module with that Logger (gunicorn 23's API and records) and really calls it: one
// Logger object per process built from the settings, its level methods for every error
// record, access(resp, req, environ, request_time) for every request.
//
// The module is importable as "gunicorn.glogging" only while a .py config file runs and in
// processes whose logger_class is set: a meta path finder placed first serves it (also when
// a gunicorn is installed, so the Logger a subclass extends is always the one gthreadd
// calls) and serves an empty "gunicorn" package only when no gunicorn is installed.
//
// Threads: everything here needs the GIL.
#include <pybind11/pybind11.h>

namespace gthreadd::wsgi {

// The Python text of the module (glogging_source.cpp).
extern const char* const kGloggingSource;

// gthreadd's side of it: install(settings_namespace(settings), overrides, class_path),
// error_record(level, text), access(...), reopen(), error_level(). Created once per process, never
// released.
pybind11::object glogging_glue();

// Puts the finder first in sys.meta_path (on = true) or takes it out.
void provide_gunicorn_glogging(bool on);

}  // namespace gthreadd::wsgi
