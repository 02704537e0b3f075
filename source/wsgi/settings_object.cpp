#include "gthreadd/wsgi/settings_object.hpp"

#include <Python.h>

#include <string>

#include "gthreadd/config/setting_table.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

py::object settings_namespace(const config::Settings& settings) {
  py::object literal_eval = py::module_::import("ast").attr("literal_eval");
  py::object cfg = py::module_::import("types").attr("SimpleNamespace")();
  for (const auto& spec : config::setting_table()) {
    if (spec.refused || !spec.show) continue;  // refused: gthreadd never holds a value
    py::str shown(spec.show(settings));
    py::object value;
    try {
      value = literal_eval(shown);
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_ValueError) && !e.matches(PyExc_SyntaxError)) throw;
      value = shown;
    }
    py::setattr(cfg, py::str(std::string(spec.name)), value);
  }
  return cfg;
}

}  // namespace gthreadd::wsgi
