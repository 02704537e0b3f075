#pragma once
// wsgi.errors: what the app writes goes to the error log (spdlog), one record per write,
// like gunicorn's WSGIErrorsWrapper writing into the error log's stream.
#include <pybind11/pybind11.h>

namespace gthreadd::wsgi {

class ErrorStream {
 public:
  void write(const pybind11::object& data);
  void writelines(const pybind11::iterable& lines);
  void flush() {}

  static void register_type(pybind11::module_& module);
};

}  // namespace gthreadd::wsgi
