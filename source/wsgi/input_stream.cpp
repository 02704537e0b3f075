#include "gthreadd/wsgi/input_stream.hpp"

#include "gthreadd/wsgi/python_compat.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

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

namespace {

// Bytes objects whose memory came from the body buffer are freed by PyObject_Free, which
// gives memory pymalloc does not own to PyMem_RawFree: std::free under the "pymalloc"
// and "malloc" allocators. Debug hooks (a header around every block) or an allocator an
// extension installed (tracemalloc) would not take a malloc'd block: copy then.
bool raw_free_is_free() noexcept {
  const char* name = compat::allocator_name();
  return name != nullptr &&
         (std::strcmp(name, "pymalloc") == 0 || std::strcmp(name, "malloc") == 0);
}

// The bytes object header goes into the room the body keeps in front of its bytes.
static_assert(offsetof(PyBytesObject, ob_sval) == http::RequestBody::kHeadRoom);
static_assert(offsetof(PyBytesObject, ob_sval) == sizeof(PyVarObject) + sizeof(Py_hash_t));
static_assert(http::RequestBody::kTailRoom >= 1);  // bytes end with a NUL

// Below this a copy costs less than a fresh allocation for the next body.
constexpr std::uint64_t kAdoptMin = 16 * 1024;

}  // namespace

// A read of exactly one whole piece of the body (read(65536) at a piece boundary, or the
// whole of a body that is one piece): the bytes object is the piece the loop received
// into, so those bytes are copied once (by the kernel) instead of twice.
PyObject* InputStream::adopt_piece(std::uint64_t n) {
  if (n < kAdoptMin || !raw_free_is_free()) return nullptr;
  char* block = body_->release_piece(pos_, static_cast<std::size_t>(n));
  if (block == nullptr) return nullptr;
  auto* object = reinterpret_cast<PyVarObject*>(block);
  PyObject_InitVar(object, &PyBytes_Type, static_cast<Py_ssize_t>(n));
  const Py_hash_t not_hashed = -1;  // ob_shash, deprecated by name in 3.11
  std::memcpy(block + sizeof(PyVarObject), &not_hashed, sizeof not_hashed);
  block[http::RequestBody::kHeadRoom + n] = '\0';
  pos_ += n;
  return reinterpret_cast<PyObject*>(object);
}

py::bytes InputStream::take(std::uint64_t n) {
  if (n == 0) return py::bytes("", 0);
  if (PyObject* piece = adopt_piece(n)) return py::reinterpret_steal<py::bytes>(piece);
  if (body_->in_memory()) {
    // Straight from the body's memory: the only copy is into the bytes object itself.
    const std::string_view run = body_->contiguous(pos_);
    if (run.size() >= n) {
      py::bytes out(run.data(), static_cast<py::ssize_t>(n));
      pos_ += n;
      return out;
    }
  }
  PyObject* raw = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
  if (raw == nullptr) throw py::error_already_set();
  auto out = py::reinterpret_steal<py::bytes>(raw);
  std::size_t got = 0;
  if (body_->in_memory()) {
    got = body_->read(pos_, PyBytes_AS_STRING(raw), n);  // spans pieces: memcpy only
  } else {
    // Spilled bodies are read with pread: disk I/O, so let other requests run meanwhile.
    GilReleaser unlocked;
    got = body_->read(pos_, PyBytes_AS_STRING(raw), n);
  }
  if (got != n) throw py::value_error("request body is shorter than its size");
  pos_ += n;
  return out;
}

std::uint64_t InputStream::line_length(std::uint64_t limit) const {
  std::uint64_t scanned = 0;
  if (body_->in_memory()) {
    while (scanned < limit) {
      const std::string_view run = body_->contiguous(pos_ + scanned);
      if (run.empty()) break;
      const std::size_t want = std::min<std::uint64_t>(run.size(), limit - scanned);
      if (const void* nl = std::memchr(run.data(), '\n', want))
        return scanned + (static_cast<const char*>(nl) - run.data()) + 1;
      scanned += want;
    }
    return std::min(scanned, limit);
  }
  char block[4096];
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
