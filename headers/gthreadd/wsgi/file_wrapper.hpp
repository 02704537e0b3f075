#pragma once
// wsgi.file_wrapper (PEP 3333 "Optional Platform-Specific File Handling"). The runner
// recognises an instance of this type as the app's result and uses sendfile(2) when the
// wrapped object has a real fd of a regular file; otherwise it is a plain iterable.
#include <pybind11/pybind11.h>

#include <cstddef>

#include "gthreadd/wsgi/py_visibility.hpp"

namespace gthreadd::wsgi {

class GTHREADD_PY_HIDDEN FileWrapper {
 public:
  FileWrapper(pybind11::object filelike, std::size_t blksize)
      : filelike_(std::move(filelike)), blksize_(blksize == 0 ? 8192 : blksize) {}

  pybind11::object next();  // filelike.read(blksize), StopIteration when empty
  void close();             // filelike.close() if it has one (PEP 3333)

  [[nodiscard]] const pybind11::object& filelike() const noexcept { return filelike_; }
  [[nodiscard]] std::size_t blksize() const noexcept { return blksize_; }

  // The fd to sendfile from, or -1 (no fileno(), not a regular file, or fileno() raised).
  int regular_file_fd() const;

  static void register_type(pybind11::module_& module);

 private:
  pybind11::object filelike_;
  std::size_t blksize_;
};

}  // namespace gthreadd::wsgi
