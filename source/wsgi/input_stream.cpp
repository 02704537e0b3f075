#include "gthreadd/wsgi/input_stream.hpp"

#include <algorithm>
#include <cstring>

#include "gthreadd/wsgi/thread_state.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

// None or a negative size means "the rest" (io.RawIOBase semantics, PEP 3333 allows both).
std::uint64_t InputStream::limit_from(const py::object& size) const {
  const std::uint64_t rest = remaining();
  if (size.is_none()) return rest;
  const long long n = size.cast<long long>();
  if (n < 0) return rest;
  return std::min<std::uint64_t>(rest, static_cast<std::uint64_t>(n));
}

py::bytes InputStream::take(std::uint64_t n) {
  if (n == 0) return py::bytes("", 0);
  if (body_->in_memory()) {
    // A view of the loop's buffer: the only copy is into the bytes object itself.
    const auto mem = body_->memory();
    py::bytes out(mem.data() + pos_, n);
    pos_ += n;
    return out;
  }
  PyObject* raw = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
  if (raw == nullptr) throw py::error_already_set();
  auto out = py::reinterpret_steal<py::bytes>(raw);
  std::size_t got = 0;
  {
    // Spilled bodies are read with pread: disk I/O, so let other requests run meanwhile.
    GilReleaser unlocked;
    got = body_->read(pos_, PyBytes_AS_STRING(raw), n);
  }
  if (got != n) throw py::value_error("request body spill file is shorter than the body");
  pos_ += n;
  return out;
}

std::uint64_t InputStream::line_length(std::uint64_t limit) const {
  if (body_->in_memory()) {
    const char* start = body_->memory().data() + pos_;
    const void* nl = std::memchr(start, '\n', limit);
    return nl == nullptr ? limit : static_cast<const char*>(nl) - start + 1;
  }
  char block[4096];
  std::uint64_t scanned = 0;
  while (scanned < limit) {
    const std::size_t want = std::min<std::uint64_t>(sizeof block, limit - scanned);
    const std::size_t got = body_->read(pos_ + scanned, block, want);
    if (got == 0) break;
    if (const void* nl = std::memchr(block, '\n', got))
      return scanned + (static_cast<const char*>(nl) - block) + 1;
    scanned += got;
  }
  return std::min(scanned, limit);
}

py::bytes InputStream::read(const py::object& size) { return take(limit_from(size)); }

py::bytes InputStream::readline(const py::object& size) {
  const std::uint64_t limit = limit_from(size);
  if (limit == 0) return py::bytes("", 0);
  return take(line_length(limit));
}

py::list InputStream::readlines(const py::object& hint) {
  py::list lines;
  const long long h = hint.is_none() ? 0 : hint.cast<long long>();
  std::uint64_t total = 0;
  while (remaining() > 0) {
    py::bytes line = take(line_length(remaining()));
    total += PyBytes_GET_SIZE(line.ptr());
    lines.append(std::move(line));
    if (h > 0 && total >= static_cast<std::uint64_t>(h)) break;
  }
  return lines;
}

py::bytes InputStream::next() {
  if (remaining() == 0) throw py::stop_iteration();
  return take(line_length(remaining()));
}

void InputStream::register_type(py::module_& module) {
  py::class_<InputStream>(module, "InputStream")
      .def("read", &InputStream::read, py::arg("size") = py::none())
      .def("readline", &InputStream::readline, py::arg("size") = py::none())
      .def("readlines", &InputStream::readlines, py::arg("hint") = py::none())
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &InputStream::next);
}

}  // namespace gthreadd::wsgi
