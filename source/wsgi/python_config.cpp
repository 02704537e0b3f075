#include "gthreadd/wsgi/python_config.hpp"

#include <Python.h>
#include <pybind11/embed.h>

#include <iostream>

#include "gthreadd/config/command_line.hpp"
#include "gthreadd/config/setting_table.hpp"
#include "gthreadd/wsgi/glogging_compat.hpp"
#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/server_hooks.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

// gunicorn's util.load_config_from_filename: a fresh module named __config__, so the file
// may import its neighbours and define helpers.
constexpr const char* kLoader = R"PY(
def load(path):
    import importlib.machinery, importlib.util, sys
    loader = importlib.machinery.SourceFileLoader("__config__", path)
    spec = importlib.util.spec_from_file_location("__config__", path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["__config__"] = mod
    spec.loader.exec_module(mod)
    return vars(mod)

def describe_error():
    import traceback
    return traceback.format_exc().rstrip("\n")
)PY";

// One Python value as the settings table's text form (the same text an INI file holds).
std::string as_text(const py::handle& value) {
  if (PyBool_Check(value.ptr())) return value.ptr() == Py_True ? "true" : "false";
  // A class (logger_class = JsonLogger) by the name it is imported again with.
  if (PyType_Check(value.ptr()))
    return py::str(value.attr("__module__")).cast<std::string>() + "." +
           py::str(value.attr("__qualname__")).cast<std::string>();
  if (py::isinstance<py::dict>(value)) {
    std::string out;
    for (auto item : py::reinterpret_borrow<py::dict>(value)) {
      if (!out.empty()) out += ", ";
      out +=
          py::str(item.first).cast<std::string>() + "=" + py::str(item.second).cast<std::string>();
    }
    return out;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    std::string out;
    for (auto item : value) {
      if (!out.empty()) out += ",";
      out += as_text(item);
    }
    return out;
  }
  return py::str(value).cast<std::string>();
}

bool is_sequence(const py::handle& value) {
  return py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value);
}

// Runs the file as gunicorn does and returns its module's names.
py::dict load_names(const std::string& path) {
  py::dict scope;
  scope["__builtins__"] = py::module_::import("builtins");
  py::exec(kLoader, scope);
  // `from gunicorn.glogging import Logger` for a logger_class defined in the file; taken
  // away again so the app does not find a gunicorn package unless logger_class is set.
  provide_gunicorn_glogging(true);
  py::dict names;
  try {
    names = scope["load"](path);
  } catch (...) {
    provide_gunicorn_glogging(false);
    throw;
  }
  provide_gunicorn_glogging(false);
  return names;
}

// One setting's value as assignments in the table's text form; None (gunicorn's "unset")
// and an empty list (which clears what an earlier value set: bind = [] is the default)
// add none.
void add_value(const config::SettingSpec* spec, const py::handle& value, const std::string& origin,
               std::vector<config::Assignment>& out) {
  if (value.is_none()) return;
  if (spec->kind == config::SettingSpec::Kind::Repeatable && is_sequence(value)) {
    for (auto element : value) out.push_back({spec, as_text(element), origin});
  } else if (spec->name == "logconfig_dict" && py::isinstance<py::dict>(value)) {
    // Nested dicts and lists survive only as JSON (dictConfig's input, gunicorn 19.8+).
    out.push_back(
        {spec, py::module_::import("json").attr("dumps")(value).cast<std::string>(), origin});
  } else {
    out.push_back({spec, as_text(value), origin});
  }
}

std::vector<config::Assignment> read(const std::string& path) {
  py::dict names = load_names(path);
  clear_hooks();
  std::vector<config::Assignment> out;
  std::string unknown;
  for (auto item : names) {
    const std::string name = py::str(item.first).cast<std::string>();
    const py::handle value = item.second;
    if (name.starts_with("_")) continue;
    // Imports (modules, classes) are not settings, unless named like one: `logger_class =
    // MyLogger` must reach the table (and be refused), not vanish as an import.
    if ((PyModule_Check(value.ptr()) || PyType_Check(value.ptr())) && !config::find_setting(name))
      continue;
    const std::string origin = path + ": " + name;
    if (auto hook = hook_by_name(name)) {
      if (!PyCallable_Check(value.ptr()))
        throw config::ConfigError(origin + ": a server hook must be callable, not " +
                                  Py_TYPE(value.ptr())->tp_name);
      set_hook(*hook, py::reinterpret_borrow<py::object>(value));
      continue;
    }
    const config::SettingSpec* spec = config::find_setting(name);
    if (!spec) {
      unknown += (unknown.empty() ? "" : ", ") + name;
      continue;
    }
    add_value(spec, value, origin, out);
  }
  if (!unknown.empty()) {
    // Settings are not applied yet and the error log not open: stderr is where the operator
    // running a config check looks.
    std::cerr << "[WARNING] " << path << ": unknown setting(s) ignored: " << unknown << '\n';
  }
  return out;
}

}  // namespace

std::vector<config::Assignment> read_python_config(const std::string& path) {
  try {
    start_bare_interpreter();
  } catch (const std::exception& e) {
    throw config::ConfigError(path + ": " + e.what());
  }
  const PyGILState_STATE gil = PyGILState_Ensure();
  try {
    auto out = read(path);
    PyGILState_Release(gil);
    return out;
  } catch (const py::error_already_set& e) {
    PyGILState_Release(gil);
    throw config::ConfigError("failed to read config file '" + path + "': " + e.what());
  } catch (...) {
    PyGILState_Release(gil);
    throw;
  }
}

void install_python_config_reader() { config::set_python_config_reader(read_python_config); }

}  // namespace gthreadd::wsgi
