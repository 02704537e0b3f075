#include "gthreadd/wsgi/start_response.hpp"

#include <structmember.h>

#include <exception>
#include <string>

#include "gthreadd/wsgi/early_hints.hpp"
#include "gthreadd/wsgi/server_type.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

struct StartResponseObject {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* weakrefs;
  ResponseStream* stream;
  PyObject* hints;  // the request's wsgi.early_hints (owned), made with this object
};

PyTypeObject* type = nullptr;  // created once by register_type, never freed (as the module)

StartResponseObject* as_object(PyObject* self) {
  return reinterpret_cast<StartResponseObject*>(self);
}

ResponseStream* stream_of(PyObject* self) {
  ResponseStream* stream = as_object(self)->stream;
  if (stream == nullptr)
    PyErr_SetString(PyExc_ValueError, "the request this start_response belongs to has ended");
  return stream;
}

// The bridge runs C++ that may throw (allocation): never let it cross into the interpreter.
template <typename F>
PyObject* guarded(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

PyObject* write(PyObject* self, PyObject* data) {
  return guarded([&]() -> PyObject* {
    ResponseStream* out = stream_of(self);
    if (out == nullptr) return nullptr;
    if (!out->has_head()) {
      PyErr_SetString(PyExc_AssertionError, "write() called before start_response");
      return nullptr;
    }
    if (!PyBytes_Check(data))
      return PyErr_Format(PyExc_TypeError, "write() argument must be bytes, not %s",
                          Py_TYPE(data)->tp_name);
    // PEP 3333: write() output is on its way before write() returns.
    out->queue(data);
    if ((out->has_pending() || (!out->head_sent() && PyBytes_GET_SIZE(data) > 0)) &&
        !out->flush(false)) {
      PyErr_SetString(PyExc_ConnectionError, "client disconnected");
      return nullptr;
    }
    Py_RETURN_NONE;
  });
}

PyMethodDef methods[] = {
    {"write", write, METH_O, "write(data): send body bytes now (PEP 3333)"},
    {nullptr, nullptr, 0, nullptr},
};

// start_response(status, headers, exc_info=None), positional or by keyword.
bool parse_arguments(PyObject* const* args, std::size_t nargsf, PyObject* kwnames,
                     PyObject* (&out)[3]) {
  static constexpr const char* kNames[] = {"status", "headers", "exc_info"};
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs > 3) {
    PyErr_Format(PyExc_TypeError,
                 "start_response() takes from 2 to 3 positional arguments but %zd were given",
                 nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    int slot = -1;
    for (int i = 0; i < 3 && slot < 0; ++i)
      if (PyUnicode_CompareWithASCIIString(name, kNames[i]) == 0) slot = i;
    if (slot < 0) {
      PyErr_Format(PyExc_TypeError, "start_response() got an unexpected keyword argument '%U'",
                   name);
      return false;
    }
    if (out[slot] != nullptr) {
      PyErr_Format(PyExc_TypeError, "start_response() got multiple values for argument '%s'",
                   kNames[slot]);
      return false;
    }
    out[slot] = args[nargs + k];
  }
  for (int i = 0; i < 2; ++i) {
    if (out[i] == nullptr) {
      PyErr_Format(PyExc_TypeError, "start_response() missing required argument '%s'", kNames[i]);
      return false;
    }
  }
  return true;
}

// PEP 3333: after the head went out the app's error cannot change it; re-raise it.
PyObject* reraise(PyObject* exc_info) {
  PyObject* info = PySequence_Tuple(exc_info);
  if (info == nullptr) return nullptr;
  if (PyTuple_GET_SIZE(info) < 3) {
    Py_DECREF(info);
    PyErr_SetString(PyExc_IndexError, "exc_info must be a (type, value, traceback) tuple");
    return nullptr;
  }
  PyObject* parts[3];
  for (int i = 0; i < 3; ++i) {
    parts[i] = PyTuple_GET_ITEM(info, i);
    Py_INCREF(parts[i]);
  }
  Py_DECREF(info);
  PyErr_Restore(parts[0], parts[1], parts[2]);
  return nullptr;
}

PyObject* call(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  return guarded([&]() -> PyObject* {
    PyObject* arg[3] = {nullptr, nullptr, nullptr};
    if (!parse_arguments(args, nargsf, kwnames, arg)) return nullptr;
    ResponseStream* out = stream_of(self);
    if (out == nullptr) return nullptr;
    PyObject* exc_info = arg[2];
    int has_exc_info = 0;
    if (exc_info != nullptr && exc_info != Py_None) {
      has_exc_info = PyObject_IsTrue(exc_info);
      if (has_exc_info < 0) return nullptr;
    }
    if (has_exc_info) {
      if (out->head_sent()) return reraise(exc_info);
    } else if (out->has_head()) {
      PyErr_SetString(PyExc_AssertionError, "start_response called a second time without exc_info");
      return nullptr;
    }
    ResponseHead head;
    if (auto why = validate_response_head(arg[0], arg[1], head); !why.empty()) {
      // Raised into the app: it ends as a logged 500 unless the app corrects itself.
      PyErr_Format(PyExc_ValueError, "invalid response from the application: %s", why.c_str());
      return nullptr;
    }
    out->set_head(std::move(head));
    return PyCFunction_NewEx(&methods[0], self, nullptr);
  });
}

void dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  if (as_object(self)->weakrefs != nullptr) PyObject_ClearWeakRefs(self);
  Py_XDECREF(as_object(self)->hints);
  tp->tp_free(self);
  Py_DECREF(tp);  // instances of a heap type own a reference to it
}

PyMemberDef members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(StartResponseObject, vectorcall), READONLY,
     nullptr},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(StartResponseObject, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_methods, methods},
    {Py_tp_members, members},
    {Py_tp_doc, const_cast<char*>("start_response(status, headers, exc_info=None) (PEP 3333)")},
    {0, nullptr},
};

PyType_Spec spec = {
    "_gthreadd.StartResponse", sizeof(StartResponseObject), 0, kServerTypeFlags, slots,
};

}  // namespace

void StartResponse::register_type(py::module_& module) {
  register_server_type(type, spec, module, "StartResponse");
}

PyObject* StartResponse::create(ResponseStream* stream) {
  PyObject* self = new_server_object(type);
  if (self == nullptr) return nullptr;
  as_object(self)->vectorcall = call;
  as_object(self)->stream = stream;
  as_object(self)->hints = EarlyHints::create(stream);
  if (as_object(self)->hints == nullptr) {
    Py_DECREF(self);
    return nullptr;
  }
  return self;
}

void StartResponse::rebind(PyObject* self, ResponseStream* stream) noexcept {
  as_object(self)->stream = stream;
  PyObject*& hints = as_object(self)->hints;
  if (hints != nullptr && EarlyHints::reusable(hints)) {
    EarlyHints::rebind(hints, stream);
    return;
  }
  // The app kept the last request's callable (detached): this request gets its own.
  Py_XDECREF(hints);
  hints = EarlyHints::create(stream);
  if (hints == nullptr) PyErr_Clear();  // add_early_hints reports the lack
}

void StartResponse::detach(PyObject* self) noexcept {
  as_object(self)->stream = nullptr;
  if (as_object(self)->hints != nullptr) EarlyHints::detach(as_object(self)->hints);
}

int StartResponse::add_early_hints(PyObject* environ, PyObject* self) noexcept {
  static PyObject* key = PyUnicode_InternFromString("wsgi.early_hints");
  PyObject* hints = as_object(self)->hints;
  if (key == nullptr || hints == nullptr) {
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return -1;
  }
  return PyDict_SetItem(environ, key, hints);
}

bool StartResponse::reusable(PyObject* self) noexcept {
  return Py_REFCNT(self) == 1 && as_object(self)->weakrefs == nullptr;
}

}  // namespace gthreadd::wsgi
