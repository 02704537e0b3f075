#pragma once
// pybind11 declares its namespace with hidden visibility; a class holding py::object
// members must be hidden too or GCC warns (-Wattributes). Nothing here is a shared-library
// API, so hiding these classes costs nothing.
#define GTHREADD_PY_HIDDEN __attribute__((visibility("hidden")))
