#pragma once
// Finds the WSGI callable named by APP_URI, as gunicorn's util.import_app does: import the
// module, walk a dotted attribute path, call a factory with literal arguments.
#include <pybind11/pybind11.h>

#include "gthreadd/config/app_uri.hpp"

namespace gthreadd::wsgi {

// With the GIL held. Throws AppLoadError naming the module/attribute, with the Python error.
pybind11::object load_app(const config::AppUri& uri);

}  // namespace gthreadd::wsgi
