#include "gthreadd/wsgi/interpreter.hpp"

#include <Python.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <pybind11/embed.h>

#include "gthreadd/wsgi/thread_state.hpp"
#include "gthreadd/wsgi/virtualenv.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

void check(PyStatus status, const char* what) {
  if (PyStatus_Exception(status)) {
    throw AppLoadError(std::string("cannot start Python (") + what +
                       "): " + (status.err_msg ? status.err_msg : "unknown error"));
  }
}

void initialize_python() {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  // The master/worker own every signal (signalfd/self-pipe); CPython must not install
  // handlers for SIGINT etc. in a process whose signal mask we manage.
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  // Debian's interpreter: the stdlib and dist-packages are found from /usr/bin/python3's
  // prefix, and sys.executable points at a real Python (multiprocessing needs one).
  PyStatus status = PyConfig_SetString(&config, &config.program_name, L"/usr/bin/python3");
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  check(status, "Py_InitializeFromConfig");
}

// gunicorn inserts its chdir (the cwd by default) and then each --pythonpath entry at
// sys.path[0], skipping ones already present.
void prepend_sys_path(const config::Settings& settings) {
  py::list path = py::module_::import("sys").attr("path");
  auto prepend = [&](const std::string& entry) {
    py::str item(std::filesystem::absolute(entry).lexically_normal().string());
    if (!path.contains(item)) path.insert(0, item);
  };
  prepend(std::filesystem::current_path().string());
  for (const auto& entry : settings.pythonpath)
    if (!entry.empty()) prepend(entry);
}

// The venv's site-packages via site.addsitedir (so its .pth files run), moved in front of
// the system's dist-packages so the venv's versions win, as they would under its python.
void add_site_packages(const std::string& site) {
  py::list path = py::module_::import("sys").attr("path");
  const auto before = static_cast<py::ssize_t>(py::len(path));
  py::module_::import("site").attr("addsitedir")(site);
  const auto after = static_cast<py::ssize_t>(py::len(path));
  py::list added = path[py::slice(before, after, 1)];
  path.attr("__delitem__")(py::slice(before, after, 1));
  for (std::size_t i = 0; i < py::len(added); ++i) path.insert(i, added[i]);
}

}  // namespace

void start_bare_interpreter() {
  if (!Py_IsInitialized()) initialize_python();
}

void start_interpreter(const config::Settings& settings) {
  // Configured once per process image: a worker forked from a master that only ran the
  // config file (start_bare_interpreter) still gets its chdir and sys.path here.
  static bool configured = false;
  if (configured) return;
  const auto site_packages = virtualenv_site_packages(settings);
  if (!settings.chdir.empty() && ::chdir(settings.chdir.c_str()) != 0) {
    throw AppLoadError("cannot chdir to '" + settings.chdir + "': " + std::strerror(errno));
  }
  configured = true;
  if (!Py_IsInitialized()) initialize_python();
  try {
    // Python may have started before --env/raw_env was exported (a gunicorn.conf.py runs
    // first) and os.environ is a snapshot: give the app the values gunicorn would.
    py::object os_environ = py::module_::import("os").attr("environ");
    for (const auto& pair : settings.raw_env) {
      const auto eq = pair.find('=');
      if (eq != std::string::npos) os_environ[py::str(pair.substr(0, eq))] = py::str(pair.substr(eq + 1));
    }
    prepend_sys_path(settings);
    if (site_packages) add_site_packages(*site_packages);
  } catch (const py::error_already_set& e) {
    throw AppLoadError(std::string("cannot set up sys.path: ") + e.what());
  }
}

void release_gil_from_main_thread() {
  adopt_main_thread_state(PyEval_SaveThread());
}

}  // namespace gthreadd::wsgi
