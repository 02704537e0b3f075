#pragma once
// wsgi.input (PEP 3333 "Input and Error Streams") over the body the event loop already read.
// Never reads past the body; after the request ends it is detached and reads return b"",
// so an app that keeps a reference cannot touch a recycled buffer.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "gthreadd/http/request_body.hpp"

namespace gthreadd::wsgi {

class InputStream {
 public:
  // The runner passes the body as const, but it belongs to the connection whose request
  // this stream serves, and reading a whole piece of it hands that piece to Python
  // (adopt_piece): that is the one change made through this pointer.
  explicit InputStream(http::RequestBody* body) : body_(body), size_(body->size()) {}

  pybind11::bytes read(const pybind11::object& size);
  pybind11::bytes readline(const pybind11::object& size);
  pybind11::list readlines(const pybind11::object& hint);
  pybind11::bytes next();  // iteration: one line, StopIteration at the end

  void detach() noexcept { body_ = nullptr; }

  static void register_type(pybind11::module_& module);

 private:
  [[nodiscard]] std::uint64_t remaining() const noexcept {
    return body_ == nullptr ? 0 : size_ - pos_;
  }
  std::uint64_t limit_from(const pybind11::object& size) const;
  pybind11::bytes take(std::uint64_t n);
  PyObject* adopt_piece(std::uint64_t n);
  std::uint64_t line_length(std::uint64_t limit) const;

  http::RequestBody* body_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
};

}  // namespace gthreadd::wsgi
