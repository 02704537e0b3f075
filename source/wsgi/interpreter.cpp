#include "gthreadd/wsgi/interpreter.hpp"

#include <Python.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <pybind11/embed.h>

#include "gthreadd/wsgi/thread_state.hpp"

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
void add_virtualenv(const config::Settings& settings) {
  std::string venv = settings.virtualenv;
  if (venv.empty()) {
    const char* env = std::getenv("VIRTUAL_ENV");
    if (env == nullptr || *env == '\0') return;
    venv = env;
  }
  std::filesystem::path site =
      std::filesystem::path(venv) / "lib" / ("python" + std::to_string(PY_MAJOR_VERSION) + "." +
                                             std::to_string(PY_MINOR_VERSION)) /
      "site-packages";
  std::error_code ec;
  if (!std::filesystem::is_directory(site, ec)) {
    throw AppLoadError("virtualenv '" + venv + "' has no " + site.string() +
                       " (is it a Python " + std::to_string(PY_MAJOR_VERSION) + "." +
                       std::to_string(PY_MINOR_VERSION) + " virtualenv?)");
  }
  py::list path = py::module_::import("sys").attr("path");
  const auto before = py::len(path);
  py::module_::import("site").attr("addsitedir")(site.string());
  py::list added = path[py::slice(static_cast<py::ssize_t>(before), py::len(path), 1)];
  path.attr("__delitem__")(py::slice(static_cast<py::ssize_t>(before), py::len(path), 1));
  for (std::size_t i = 0; i < py::len(added); ++i) path.insert(i, added[i]);
}

}  // namespace

void start_interpreter(const config::Settings& settings) {
  if (Py_IsInitialized()) return;
  if (!settings.chdir.empty() && ::chdir(settings.chdir.c_str()) != 0) {
    throw AppLoadError("cannot chdir to '" + settings.chdir + "': " + std::strerror(errno));
  }
  initialize_python();
  try {
    prepend_sys_path(settings);
    add_virtualenv(settings);
  } catch (const py::error_already_set& e) {
    throw AppLoadError(std::string("cannot set up sys.path: ") + e.what());
  }
}

void release_gil_from_main_thread() {
  adopt_main_thread_state(PyEval_SaveThread());
}

}  // namespace gthreadd::wsgi
