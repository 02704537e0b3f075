#include "gthreadd/wsgi/python_module.hpp"

#include "gthreadd/wsgi/early_hints.hpp"
#include "gthreadd/wsgi/error_stream.hpp"
#include "gthreadd/wsgi/file_wrapper.hpp"
#include "gthreadd/wsgi/input_stream.hpp"
#include "gthreadd/wsgi/start_response.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

py::module_ python_module() {
  // Leaked on purpose: the interpreter is never finalised in a worker, and the types must
  // outlive every AppRunner (tests create several).
  static PyObject* module = [] {
    py::module_ m = py::reinterpret_steal<py::module_>(PyModule_New("_gthreadd"));
    InputStream::register_type(m);
    ErrorStream::register_type(m);
    FileWrapper::register_type(m);
    StartResponse::register_type(m);
    EarlyHints::register_type(m);
    py::module_::import("sys").attr("modules")["_gthreadd"] = m;
    return m.release().ptr();
  }();
  return py::reinterpret_borrow<py::module_>(module);
}

}  // namespace gthreadd::wsgi
