#pragma once
// gunicorn's `cfg` as Python code sees it: server.cfg and worker.cfg in server hooks
// (server_hooks.cpp) and the cfg a logger_class is built with (glogging_compat.cpp). One
// attribute per setting gthreadd accepts, under gunicorn's name; the value is the one
// --print-config shows, read back with ast.literal_eval so numbers, booleans, None and lists
// are Python values, and a value that is no Python literal (a path, an address, a log
// level) stays the shown string. gunicorn's own cfg is its Config object, read the same way
// by attribute (cfg.timeout, cfg.workers, ...).
//
// Threads: needs the GIL.
#include <pybind11/pybind11.h>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::wsgi {

// A new types.SimpleNamespace on each call. Raises py::error_already_set only for what
// literal_eval raises besides ValueError and SyntaxError (a value that is not a literal).
pybind11::object settings_namespace(const config::Settings& settings);

}  // namespace gthreadd::wsgi
