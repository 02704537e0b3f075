#include "gthreadd/wsgi/access_capture.hpp"

#include <cctype>

namespace py = pybind11;

namespace gthreadd::wsgi {

void AccessCapture::decode_path(std::string_view raw) {
  path.clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
      path += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
      i += 2;
    } else {
      path += raw[i];
    }
  }
}

void AccessCapture::capture_environ(const py::object& environ,
                                    const std::vector<std::string>& names) {
  this->environ.clear();
  if (!environ || names.empty()) return;
  for (const auto& name : names) {
    std::string upper = name;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::string* keys[] = {&upper, &name};
    for (const std::string* key : keys) {
      PyObject* value = PyDict_GetItemString(environ.ptr(), key->c_str());  // borrowed
      if (!value) continue;
      try {
        this->environ.emplace_back(*key, py::str(value).cast<std::string>());
      } catch (const py::error_already_set&) {
        // an unprintable value prints "-", as a missing one
      }
    }
  }
}

void AccessCapture::split_fields() {
  response_headers.clear();
  std::string_view rest = response_fields;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response_headers.emplace_back(line.substr(0, colon), value);
  }
}

}  // namespace gthreadd::wsgi
