#include "gthreadd/wsgi/error_stream.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace py = pybind11;

namespace gthreadd::wsgi {

void ErrorStream::write(const py::object& data) {
  std::string text;
  if (py::isinstance<py::str>(data)) {
    text = data.cast<std::string>();
  } else if (py::isinstance<py::bytes>(data)) {
    text = data.cast<std::string>();
  } else {
    throw py::type_error("wsgi.errors.write() argument must be str");
  }
  // print() writes the text and its "\n" separately: one log record per line of text,
  // not an empty record for the bare newline.
  std::string_view view = text;
  while (!view.empty() && (view.back() == '\n' || view.back() == '\r')) view.remove_suffix(1);
  if (!view.empty()) spdlog::error("{}", view);
}

void ErrorStream::writelines(const py::iterable& lines) {
  for (py::handle line : lines) write(py::reinterpret_borrow<py::object>(line));
}

void ErrorStream::register_type(py::module_& module) {
  py::class_<ErrorStream>(module, "ErrorStream")
      .def(py::init<>())
      .def("write", &ErrorStream::write)
      .def("writelines", &ErrorStream::writelines)
      .def("flush", &ErrorStream::flush);
}

}  // namespace gthreadd::wsgi
