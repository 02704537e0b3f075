#pragma once
// environ["wsgi.early_hints"] (gunicorn 25): a callable taking a list of (name, value)
// header pairs that sends "HTTP/1.1 103 Early Hints" (RFC 8297) with them before the final
// response, from the pool thread, through the response's own writer. A no-op on HTTP/1.0
// (1xx responses do not exist there, RFC 9110 §15.2) and once the final head went out.
// A C-level type bound to one request's stream, like start_response, and detached when the
// request ends. All functions are called with the GIL held.
#include <Python.h>
#include <pybind11/pybind11.h>

#include "gthreadd/wsgi/response_stream.hpp"

namespace gthreadd::wsgi {

class EarlyHints {
 public:
  // Adds the type to `module` (once per process; python_module() does it).
  static void register_type(pybind11::module_& module);

  // A new callable bound to `stream` (a new reference; null with a Python error set).
  static PyObject* create(ResponseStream* stream);
  static void rebind(PyObject* self, ResponseStream* stream) noexcept;
  // From now on a call raises ValueError: the request it belonged to has ended.
  static void detach(PyObject* self) noexcept;
  // True when the caller's reference is the only one (the app kept none).
  [[nodiscard]] static bool reusable(PyObject* self) noexcept;
};

}  // namespace gthreadd::wsgi
