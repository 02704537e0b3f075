#pragma once
// The start_response callable and the write() callable it returns (PEP 3333 "The
// start_response() Callable"). A C-level type with vectorcall: the app calls it on every
// request, and pybind11's dispatcher (argument vectors, a type-map lookup for `self`,
// keyword matching) cost more than the call's own work. Bound to one request's stream,
// detached when the request ends so a reference kept by the app cannot reach a finished
// response. All functions are called with the GIL held.
#include <Python.h>
#include <pybind11/pybind11.h>

#include "gthreadd/wsgi/response_stream.hpp"

namespace gthreadd::wsgi {

class StartResponse {
 public:
  // Adds the type to `module` (once per process; python_module() does it).
  static void register_type(pybind11::module_& module);

  // A new start_response bound to `stream` (a new reference; null with a Python error set).
  static PyObject* create(ResponseStream* stream);
  // Binds an object that nothing but the caller references any more (reusable()) to the
  // next request's stream.
  static void rebind(PyObject* self, ResponseStream* stream) noexcept;
  // From now on it raises ValueError: the request it belonged to has ended.
  static void detach(PyObject* self) noexcept;
  // True when the caller's reference is the only way to reach `self` (no other reference,
  // no weak reference): binding it to another request cannot be observed by anyone.
  [[nodiscard]] static bool reusable(PyObject* self) noexcept;
  // Sets environ["wsgi.early_hints"] to the early-hints callable that goes with `self`
  // (made with it, bound to the same stream, reused with it unless the app kept it).
  // -1 with a Python error set on failure.
  static int add_early_hints(PyObject* environ, PyObject* self) noexcept;
};

}  // namespace gthreadd::wsgi
