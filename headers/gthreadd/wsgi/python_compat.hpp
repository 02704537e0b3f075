#pragma once
// The few CPython calls whose name or home changed between 3.9 and 3.13, each behind a
// version check (PY_VERSION_HEX), so the rest of the bridge is written once. gthreadd
// builds against CPython 3.9 to 3.13 (CMakeLists.txt refuses others).
#include <Python.h>

#if PY_VERSION_HEX >= 0x030D0000
// 3.13 moved the allocator's name to the internal headers; the function is still
// exported (nm -D libpython3.13.so: T _PyMem_GetCurrentAllocatorName).
extern "C" PyAPI_FUNC(const char*) _PyMem_GetCurrentAllocatorName(void);
#endif

namespace gthreadd::wsgi::compat {

// getattr(obj, name) without building an AttributeError when there is none: 1 found
// (*result a new reference), 0 not found, -1 error. Public since 3.13.
inline int lookup_optional_attr(PyObject* obj, PyObject* name, PyObject** result) {
#if PY_VERSION_HEX >= 0x030D0000
  return PyObject_GetOptionalAttr(obj, name, result);
#else
  return _PyObject_LookupAttr(obj, name, result);
#endif
}

// The interpreter is shutting down. Public since 3.13.
inline bool is_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// "pymalloc", "malloc", "pymalloc_debug", ... or nullptr: which allocator PyObject_Free
// hands foreign blocks to (wsgi.input's zero-copy pieces rely on it being free()).
inline const char* allocator_name() { return _PyMem_GetCurrentAllocatorName(); }

}  // namespace gthreadd::wsgi::compat
