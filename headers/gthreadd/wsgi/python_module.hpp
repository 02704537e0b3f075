#pragma once
// The internal "_gthreadd" module that holds the Python types the bridge exposes
// (wsgi.input, wsgi.errors, wsgi.file_wrapper, start_response). Created once per process,
// with the GIL held; later calls return the same module.
#include <pybind11/pybind11.h>

namespace gthreadd::wsgi {

pybind11::module_ python_module();

}  // namespace gthreadd::wsgi
