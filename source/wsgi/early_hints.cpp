#include "gthreadd/wsgi/early_hints.hpp"

#include <structmember.h>

#include <exception>
#include <string>

#include "gthreadd/wsgi/response_head.hpp"
#include "gthreadd/wsgi/server_type.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

struct EarlyHintsObject {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* weakrefs;
  ResponseStream* stream;
};

PyTypeObject* type = nullptr;  // created once by register_type, never freed (as the module)

EarlyHintsObject* as_object(PyObject* self) { return reinterpret_cast<EarlyHintsObject*>(self); }

// early_hints(headers): the headers are checked as start_response checks its own (a name
// or value that could split the head raises ValueError into the app, and hop-by-hop fields
// are dropped), then sent at once.
PyObject* call(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  try {
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) != 0)) {
      PyErr_SetString(PyExc_TypeError,
                      "wsgi.early_hints() takes one argument: a list of (name, value) headers");
      return nullptr;
    }
    ResponseStream* stream = as_object(self)->stream;
    if (stream == nullptr) {
      PyErr_SetString(PyExc_ValueError, "the request this wsgi.early_hints belongs to has ended");
      return nullptr;
    }
    static PyObject* status = PyUnicode_InternFromString("103 Early Hints");
    ResponseHead head;
    if (auto why = validate_response_head(status, args[0], head); !why.empty()) {
      PyErr_Format(PyExc_ValueError, "invalid early hints: %s", why.c_str());
      return nullptr;
    }
    // A client that went away is found by the final response's write, as in gunicorn,
    // where a failed send here is swallowed.
    stream->send_early_hints(head.fields);
    Py_RETURN_NONE;
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

void dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  if (as_object(self)->weakrefs != nullptr) PyObject_ClearWeakRefs(self);
  tp->tp_free(self);
  Py_DECREF(tp);  // instances of a heap type own a reference to it
}

PyMemberDef members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(EarlyHintsObject, vectorcall), READONLY, nullptr},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EarlyHintsObject, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_members, members},
    {Py_tp_doc,
     const_cast<char*>(
         "early_hints(headers): send 103 Early Hints before the response (gunicorn 25)")},
    {0, nullptr},
};

PyType_Spec spec = {
    "_gthreadd.EarlyHints", sizeof(EarlyHintsObject), 0, kServerTypeFlags, slots,
};

}  // namespace

void EarlyHints::register_type(py::module_& module) {
  register_server_type(type, spec, module, "EarlyHints");
}

PyObject* EarlyHints::create(ResponseStream* stream) {
  PyObject* self = new_server_object(type);
  if (self == nullptr) return nullptr;
  as_object(self)->vectorcall = call;
  as_object(self)->stream = stream;
  return self;
}

void EarlyHints::rebind(PyObject* self, ResponseStream* stream) noexcept {
  as_object(self)->stream = stream;
}

void EarlyHints::detach(PyObject* self) noexcept { as_object(self)->stream = nullptr; }

bool EarlyHints::reusable(PyObject* self) noexcept {
  return Py_REFCNT(self) == 1 && as_object(self)->weakrefs == nullptr;
}

}  // namespace gthreadd::wsgi
