#pragma once
// What the access log needs from Python objects, copied while the GIL is held so the line
// is formatted and written after it is released. Reused per thread: no allocation per
// request once warm.
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gthreadd/log/access_record.hpp"
#include "gthreadd/wsgi/py_visibility.hpp"

namespace gthreadd::wsgi {

struct GTHREADD_PY_HIDDEN AccessCapture {
  std::string response_fields;  // "Name: value\r\n"... as validated
  std::string status_text;      // the app's status line, for a Python access logger
  std::vector<std::pair<std::string, std::string>> environ;  // key as looked up → value
  std::vector<log::AccessRecord::Header> request_headers;
  std::vector<log::AccessRecord::Header> response_headers;
  std::string path;  // PATH_INFO: %-decoded, as gunicorn's %(U)s prints it

  void decode_path(std::string_view raw);
  // GIL held: the environ values the log format names (%({key}e)s).
  void capture_environ(const pybind11::object& environ, const std::vector<std::string>& names);
  // response_fields into response_headers.
  void split_fields();
};

}  // namespace gthreadd::wsgi
