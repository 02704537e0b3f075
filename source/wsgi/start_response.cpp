#include "gthreadd/wsgi/start_response.hpp"

#include <string>

namespace py = pybind11;

namespace gthreadd::wsgi {

ResponseStream& StartResponse::stream() {
  if (stream_ == nullptr) throw py::value_error("the request this start_response belongs to has ended");
  return *stream_;
}

py::object StartResponse::call(const py::object& status, const py::object& headers,
                               const py::object& exc_info) {
  ResponseStream& out = stream();
  if (!exc_info.is_none() && PyObject_IsTrue(exc_info.ptr())) {
    // PEP 3333: after the head went out the app's error cannot change it; re-raise it.
    if (out.head_sent()) {
      py::tuple info = exc_info;
      PyErr_Restore(py::object(info[0]).release().ptr(), py::object(info[1]).release().ptr(),
                    py::object(info[2]).release().ptr());
      throw py::error_already_set();
    }
  } else if (out.has_head()) {
    PyErr_SetString(PyExc_AssertionError, "start_response called a second time without exc_info");
    throw py::error_already_set();
  }
  ResponseHead head;
  if (auto why = validate_response_head(status.ptr(), headers.ptr(), head); !why.empty()) {
    // Raised into the app: it ends as a logged 500 unless the app corrects itself.
    throw py::value_error("invalid response from the application: " + why);
  }
  out.set_head(std::move(head));
  return py::cast(this, py::return_value_policy::reference).attr("write");
}

void StartResponse::write(const py::object& data) {
  ResponseStream& out = stream();
  if (!out.has_head()) {
    PyErr_SetString(PyExc_AssertionError, "write() called before start_response");
    throw py::error_already_set();
  }
  if (!PyBytes_Check(data.ptr())) {
    throw py::type_error(std::string("write() argument must be bytes, not ") +
                         Py_TYPE(data.ptr())->tp_name);
  }
  // PEP 3333: write() output is on its way before write() returns.
  out.queue(data.ptr());
  if ((out.has_pending() || (out.head_sent() == false && PyBytes_GET_SIZE(data.ptr()) > 0)) &&
      !out.flush(false)) {
    PyErr_SetString(PyExc_ConnectionError, "client disconnected");
    throw py::error_already_set();
  }
}

void StartResponse::register_type(py::module_& module) {
  py::class_<StartResponse>(module, "StartResponse")
      .def("__call__", &StartResponse::call, py::arg("status"), py::arg("headers"),
           py::arg("exc_info") = py::none())
      .def("write", &StartResponse::write);
}

}  // namespace gthreadd::wsgi
