#pragma once
// What the server's own C-level callables (start_response, wsgi.early_hints) share: a heap
// type made once per process from a PyType_Spec, callable by vectorcall, that Python code
// can use but never instantiate (only the server binds one to a request's stream). All
// functions are called with the GIL held.
#include <Python.h>
#include <pybind11/pybind11.h>

namespace gthreadd::wsgi {

// The flags such a type's spec carries. 3.9 lacks Py_TPFLAGS_DISALLOW_INSTANTIATION:
// register_server_type clears tp_new instead, so calling the type raises TypeError there too.
inline constexpr unsigned int kServerTypeFlags =
#if PY_VERSION_HEX >= 0x030A0000
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_DISALLOW_INSTANTIATION;
#else
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
#endif

// Creates `type` from `spec` on the first call (never freed, like the module that holds it)
// and publishes it as module.<name>. Throws pybind11::error_already_set when CPython refuses.
void register_server_type(PyTypeObject*& type, PyType_Spec& spec, pybind11::module_& module,
                          const char* name);

// A zero-filled instance of `type` (a new reference; it holds a reference to the type), or
// null with RuntimeError set when the module was never set up, or MemoryError.
PyObject* new_server_object(PyTypeObject* type);

}  // namespace gthreadd::wsgi
