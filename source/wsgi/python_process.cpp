#include "gthreadd/wsgi/python_process.hpp"

#include <Python.h>
#include <unistd.h>

namespace gthreadd::wsgi {

pid_t fork_process() {
  if (!Py_IsInitialized()) return ::fork();
  // Without these, a lock held by another Python thread at fork time (the import lock,
  // say) stays locked forever in the child.
  PyOS_BeforeFork();
  pid_t pid = ::fork();
  if (pid == 0) {
    PyOS_AfterFork_Child();
  } else {
    PyOS_AfterFork_Parent();
  }
  return pid;
}

std::vector<std::string> loaded_module_files() {
  std::vector<std::string> files;
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  PyObject* items = PyDict_Values(modules);      // new: the dict may change while we look
  if (!items) {
    PyErr_Clear();
    return files;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); ++i) {
    PyObject* file = PyObject_GetAttrString(PyList_GET_ITEM(items, i), "__file__");
    if (file && PyUnicode_Check(file)) {
      if (const char* text = PyUnicode_AsUTF8(file)) files.emplace_back(text);
    }
    Py_XDECREF(file);
    PyErr_Clear();
  }
  Py_DECREF(items);
  return files;
}

}  // namespace gthreadd::wsgi
