#pragma once
// A Python exception as gunicorn logs it: the formatted traceback.
#include <pybind11/pybind11.h>

#include <string>

namespace gthreadd::wsgi {

// "Traceback (most recent call last): ... ValueError: ..." without the trailing newline,
// or e.what() if it cannot be formatted. Imports the traceback module on first use (it
// pulls in linecache, tokenize, re, enum and textwrap: ~1.6 MiB of PSS per worker that an
// app which never fails never needs). The GIL must be held.
std::string format_python_error(const pybind11::error_already_set& e);

}  // namespace gthreadd::wsgi
