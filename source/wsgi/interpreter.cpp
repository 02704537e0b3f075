#include "gthreadd/wsgi/interpreter.hpp"

#include <Python.h>
#include <unistd.h>

#include <pybind11/embed.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "gthreadd/wsgi/python_logging.hpp"
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

// The interpreter starts as `program` would: CPython's path configuration finds the stdlib
// from it, and for a venv's bin/python its pyvenv.cfg (prefix, home,
// include-system-site-packages, .pth files through site), so sys.prefix, sys.executable
// and sys.path are what that python shows.
void initialize_python(const std::string& program) {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  // The master/worker own every signal (signalfd/self-pipe); CPython must not install
  // handlers for SIGINT etc. in a process whose signal mask we manage.
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, program.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  check(status, "Py_InitializeFromConfig");
}

std::string program_for(const std::optional<std::string>& venv) {
  return venv ? *venv + "/bin/python" : std::string(GTHREADD_PYTHON_EXECUTABLE);
}

// The venv the running interpreter was started for (none: the configured python).
std::optional<std::string> started_for;

// start_interpreter ran in this process image (or in the master this worker forked from).
bool g_configured = false;

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
  if (Py_IsInitialized()) return;
  // Before the settings: the venv of $VIRTUAL_ENV or of the binary's own directory.
  started_for = virtualenv_root(nullptr);
  initialize_python(program_for(started_for));
}

void start_interpreter(const config::Settings& settings) {
  // Configured once per process image: a worker forked from a master that only ran the
  // config file (start_bare_interpreter) still gets its chdir and sys.path here.
  if (g_configured) return;
  const auto venv = virtualenv_root(&settings);
  if (!settings.chdir.empty() && ::chdir(settings.chdir.c_str()) != 0) {
    throw AppLoadError("cannot chdir to '" + settings.chdir + "': " + std::strerror(errno));
  }
  g_configured = true;
  // Normally the interpreter starts here, already for the venv. It started earlier when a
  // gunicorn.conf.py ran in the master; a venv named only by that file (--virtualenv in it)
  // then has its site-packages added the old way.
  std::optional<std::string> late_site_packages;
  if (!Py_IsInitialized()) {
    started_for = venv;
    initialize_python(program_for(venv));
  } else if (venv != started_for) {
    late_site_packages = virtualenv_site_packages(settings);
  }
  try {
    // Python may have started before --env/raw_env was exported (a gunicorn.conf.py runs
    // first) and os.environ is a snapshot: give the app the values gunicorn would.
    py::object os_environ = py::module_::import("os").attr("environ");
    for (const auto& pair : settings.raw_env) {
      const auto eq = pair.find('=');
      if (eq != std::string::npos)
        os_environ[py::str(pair.substr(0, eq))] = py::str(pair.substr(eq + 1));
    }
    prepend_sys_path(settings);
    if (late_site_packages) add_site_packages(*late_site_packages);
  } catch (const py::error_already_set& e) {
    throw AppLoadError(std::string("cannot set up sys.path: ") + e.what());
  }
  // After chdir, as gunicorn resolves a relative logconfig; a refused configuration stops
  // the start, like an app that cannot be loaded.
  try {
    apply_python_logging(settings);
  } catch (const std::runtime_error& e) {
    throw AppLoadError(e.what());
  }
}

void apply_python_logging_in_master(const config::Settings& settings) {
  if (!python_logging_configured(settings)) {
    if (g_configured) apply_python_logging(settings);  // HUP removed it: route nothing to Python
    return;
  }
  // The first time, start_interpreter applies it after --chdir (a relative logconfig is
  // found where gunicorn, which chdirs in its master, finds it); on HUP, apply it again.
  const bool fresh = !g_configured;
  start_interpreter(settings);
  if (fresh) return;
  try {
    apply_python_logging(settings);
  } catch (const std::runtime_error& e) {
    throw AppLoadError(e.what());
  }
}

void release_gil_from_main_thread() { adopt_main_thread_state(PyEval_SaveThread()); }

}  // namespace gthreadd::wsgi
