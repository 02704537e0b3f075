#include "gthreadd/wsgi/python_error.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

std::string format_python_error(const py::error_already_set& e) {
  try {
    const py::object format = py::module_::import("traceback").attr("format_exception");
    // An error raised by the C API itself (a module that is not there, an object that is
    // not iterable) has no traceback.
    const py::object trace = e.trace() ? py::reinterpret_borrow<py::object>(e.trace()) : py::none();
    auto text = py::str("").attr("join")(format(e.type(), e.value(), trace)).cast<std::string>();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  } catch (const py::error_already_set&) {
    return e.what();
  }
}

}  // namespace gthreadd::wsgi
