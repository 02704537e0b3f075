#include "gthreadd/wsgi/file_wrapper.hpp"

#include <sys/stat.h>

namespace py = pybind11;

namespace gthreadd::wsgi {

py::object FileWrapper::next() {
  py::object data = filelike_.attr("read")(blksize_);
  if (!PyObject_IsTrue(data.ptr())) throw py::stop_iteration();
  return data;
}

void FileWrapper::close() {
  if (py::hasattr(filelike_, "close")) filelike_.attr("close")();
}

int FileWrapper::regular_file_fd() const {
  if (!py::hasattr(filelike_, "fileno")) return -1;
  int fd = -1;
  try {
    fd = filelike_.attr("fileno")().cast<int>();
  } catch (const py::error_already_set&) {
    return -1;  // io.BytesIO and friends raise UnsupportedOperation: iterate instead
  } catch (const py::cast_error&) {
    return -1;
  }
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  return fd;
}

void FileWrapper::register_type(py::module_& module) {
  py::class_<FileWrapper>(module, "FileWrapper")
      .def(py::init<py::object, std::size_t>(), py::arg("filelike"), py::arg("blksize") = 8192)
      .def_property_readonly("filelike", &FileWrapper::filelike)
      .def_property_readonly("blksize", &FileWrapper::blksize)
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &FileWrapper::next)
      .def("close", &FileWrapper::close);
}

}  // namespace gthreadd::wsgi
