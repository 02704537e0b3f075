#include "gthreadd/wsgi/server_type.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {

void register_server_type(PyTypeObject*& type, PyType_Spec& spec, py::module_& module,
                          const char* name) {
  if (type == nullptr) {
    type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
    if (type == nullptr) throw py::error_already_set();
#if PY_VERSION_HEX < 0x030A0000
    type->tp_new = nullptr;
#endif
  }
  module.attr(name) = py::handle(reinterpret_cast<PyObject*>(type));
}

PyObject* new_server_object(PyTypeObject* type) {
  if (type == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "the _gthreadd module was not set up");
    return nullptr;
  }
  return type->tp_alloc(type, 0);
}

}  // namespace gthreadd::wsgi
