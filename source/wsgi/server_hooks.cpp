#include "gthreadd/wsgi/server_hooks.hpp"

#include <Python.h>
#include <pybind11/eval.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>

#include "gthreadd/wsgi/settings_object.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

constexpr std::array<std::string_view, kHookCount> kNames{
    "on_starting",      "on_reload",  "when_ready",   "pre_fork",         "post_fork",
    "post_worker_init", "worker_int", "worker_abort", "pre_exec",         "pre_request",
    "post_request",     "child_exit", "worker_exit",  "nworkers_changed", "on_exit",
};

// Strong references that are never released: hooks live as long as the process, and a
// static py::object would be destroyed after (or without) the interpreter.
std::array<PyObject*, kHookCount> g_hooks{};
std::array<bool, kHookCount> g_defined{};

// The Python half: proxies and the logging object hooks see as server.log / worker.log.
constexpr const char* kHelpers = R"PY(
import traceback

class Log:
    """The subset of gunicorn's glogging.Logger hooks use; lines go to the error log."""
    def __init__(self, emit):
        self._emit = emit
    def _log(self, level, msg, args, exc_info=False):
        text = str(msg) % args if args else str(msg)
        if exc_info:
            text += "\n" + traceback.format_exc().rstrip("\n")
        self._emit(level, text)
    def debug(self, msg, *args, **kwargs): self._log(0, msg, args)
    def info(self, msg, *args, **kwargs): self._log(1, msg, args)
    def warning(self, msg, *args, **kwargs): self._log(2, msg, args)
    warn = warning
    def error(self, msg, *args, **kwargs): self._log(3, msg, args)
    def critical(self, msg, *args, **kwargs): self._log(4, msg, args)
    def exception(self, msg, *args, **kwargs): self._log(3, msg, args, True)
    def log(self, lvl, msg, *args, **kwargs):
        self._log(0 if lvl < 20 else 1 if lvl < 30 else 2 if lvl < 40 else 3 if lvl < 50 else 4, msg, args)

def call(log, name, hook, args):
    try:
        hook(*args)
    except Exception:
        log.exception("Exception in %s hook", name)
)PY";

struct Helpers {
  PyObject* log = nullptr;
  PyObject* call = nullptr;
};

Helpers& helpers() {
  static Helpers h = [] {
    py::dict scope;
    scope["__builtins__"] = py::module_::import("builtins");
    py::exec(kHelpers, scope);
    py::cpp_function emit([](int level, const std::string& text) {
      static constexpr spdlog::level::level_enum levels[] = {
          spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err,
          spdlog::level::critical};
      spdlog::log(levels[std::clamp(level, 0, 4)], "{}", text);
    });
    Helpers out;
    out.log = scope["Log"](emit).release().ptr();
    out.call = py::object(scope["call"]).release().ptr();
    return out;
  }();
  return h;
}

py::object log_object() { return py::reinterpret_borrow<py::object>(helpers().log); }

py::object namespace_object() { return py::module_::import("types").attr("SimpleNamespace")(); }

py::object server_object(const ServerView& server) {
  py::object s = namespace_object();
  s.attr("log") = log_object();
  s.attr("cfg") = server.settings ? settings_namespace(*server.settings) : py::none();
  s.attr("num_workers") = server.num_workers;
  s.attr("pid") = ::getpid();
  s.attr("proc_name") = server.settings && !server.settings->proc_name.empty()
                            ? server.settings->proc_name
                        : server.settings ? server.settings->app_uri_text
                                          : std::string("gthreadd");
  return s;
}

py::object worker_object(pid_t pid, int age, const config::Settings* settings) {
  py::object w = namespace_object();
  w.attr("pid") = pid > 0 ? py::object(py::int_(pid)) : py::object(py::none());
  w.attr("ppid") = pid == ::getpid() ? ::getppid() : ::getpid();
  w.attr("age") = age;
  w.attr("log") = log_object();
  w.attr("cfg") = settings ? settings_namespace(*settings) : py::none();
  w.attr("alive") = true;
  w.attr("booted") = pid == ::getpid();
  w.attr("tmp") = py::none();
  return w;
}

// This worker process, built once at boot (set_worker_identity): request hooks reuse it.
PyObject* g_worker = nullptr;
int g_age = 0;
const config::Settings* g_worker_settings = nullptr;

py::object this_worker() {
  if (!g_worker) g_worker = worker_object(::getpid(), g_age, g_worker_settings).release().ptr();
  return py::reinterpret_borrow<py::object>(g_worker);
}

void invoke(Hook hook, const py::tuple& args) {
  const auto index = static_cast<std::size_t>(hook);
  py::reinterpret_borrow<py::object>(helpers().call)(
      log_object(), py::str(std::string(kNames[index])),
      py::reinterpret_borrow<py::object>(g_hooks[index]), args);
}

// Master and worker main threads: the master holds the GIL for good once Python runs; a
// worker's main thread released it to the pool. PyGILState covers both.
template <typename F>
void with_gil(Hook hook, F&& body) {
  if (!hook_defined(hook)) return;
  const PyGILState_STATE gil = PyGILState_Ensure();
  try {
    body();
  } catch (const py::error_already_set& e) {
    spdlog::error("Exception in {} hook: {}", hook_name(hook), e.what());
  } catch (const std::exception& e) {
    spdlog::error("Exception in {} hook: {}", hook_name(hook), e.what());
  }
  PyGILState_Release(gil);
}

py::str latin1(std::string_view text) {
  return py::reinterpret_steal<py::str>(
      PyUnicode_DecodeLatin1(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr));
}

py::list header_list(const http::Request& request) {
  py::list headers;
  for (const auto& field : request.headers) {
    std::string name(field.name);
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    headers.append(py::make_tuple(latin1(name), latin1(field.value)));
  }
  return headers;
}

py::object request_object(const http::Request& request) {
  py::object req = namespace_object();
  req.attr("method") = latin1(request.method);
  req.attr("uri") = latin1(request.target);
  req.attr("path") = latin1(request.path);
  req.attr("query") = latin1(request.query);
  req.attr("version") = py::make_tuple(1, request.version_minor);
  req.attr("headers") = header_list(request);
  req.attr("body") = py::none();
  return req;
}

}  // namespace

std::string_view hook_name(Hook hook) noexcept { return kNames[static_cast<std::size_t>(hook)]; }

std::optional<Hook> hook_by_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Hook>(i);
  return std::nullopt;
}

bool hook_defined(Hook hook) noexcept { return g_defined[static_cast<std::size_t>(hook)]; }

void set_hook(Hook hook, py::object callable) {
  const auto index = static_cast<std::size_t>(hook);
  Py_XDECREF(g_hooks[index]);
  g_defined[index] = callable && !callable.is_none();
  g_hooks[index] = g_defined[index] ? callable.release().ptr() : nullptr;
}

void clear_hooks() {
  for (int i = 0; i < kHookCount; ++i) set_hook(static_cast<Hook>(i), py::object());
}

void call_server_hook(Hook hook, const ServerView& server) {
  with_gil(hook, [&] { invoke(hook, py::make_tuple(server_object(server))); });
}

void call_server_worker_hook(Hook hook, const ServerView& server, pid_t worker_pid, int age) {
  with_gil(hook, [&] {
    py::object worker =
        worker_pid == ::getpid() ? this_worker() : worker_object(worker_pid, age, server.settings);
    invoke(hook, py::make_tuple(server_object(server), worker));
  });
}

void call_worker_hook(Hook hook) {
  with_gil(hook, [&] { invoke(hook, py::make_tuple(this_worker())); });
}

void call_nworkers_changed(const ServerView& server, int new_value, int old_value) {
  with_gil(Hook::NworkersChanged, [&] {
    invoke(Hook::NworkersChanged, py::make_tuple(server_object(server), new_value, old_value));
  });
}

void set_worker_identity(const config::Settings& settings, int age) {
  g_age = age;
  g_worker_settings = &settings;
  if (g_worker) {  // inherited from the master's proxy cache: not ours
    const PyGILState_STATE gil = PyGILState_Ensure();
    Py_CLEAR(g_worker);
    PyGILState_Release(gil);
  }
}

py::object call_pre_request(const http::Request& request) {
  py::object req = request_object(request);
  if (hook_defined(Hook::PreRequest)) invoke(Hook::PreRequest, py::make_tuple(this_worker(), req));
  return req;
}

void apply_added_headers(const py::object& req, std::size_t original_count, py::dict& environ) {
  py::object headers = req.attr("headers");
  const std::size_t count = py::len(headers);
  for (std::size_t i = original_count; i < count; ++i) {
    try {
      auto [name, value] = headers[py::int_(i)].cast<std::pair<std::string, std::string>>();
      for (auto& c : name)
        c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // gunicorn's environ: CONTENT_TYPE/LENGTH without the HTTP_ prefix; repeats joined by ','.
      const std::string key =
          name == "CONTENT_TYPE" || name == "CONTENT_LENGTH" ? name : "HTTP_" + name;
      if (environ.contains(key)) {
        environ[py::str(key)] =
            py::str(py::str(environ[py::str(key)]).cast<std::string>() + "," + value);
      } else {
        environ[py::str(key)] = py::str(value);
      }
    } catch (const py::error_already_set& e) {
      spdlog::error("pre_request hook: ignoring req.headers[{}]: {}", i, e.what());
    } catch (const py::cast_error&) {
      spdlog::error("pre_request hook: ignoring req.headers[{}]: not a (name, value) pair of str",
                    i);
    }
  }
}

void call_post_request(py::object req, const http::Request& request, const py::object& environ,
                       const ResponseHead& head, std::uint64_t sent) {
  if (!req || req.is_none()) req = request_object(request);
  py::object resp = namespace_object();
  resp.attr("status") = latin1(head.status);
  resp.attr("status_code") = head.code;
  py::list headers;
  std::string_view rest = head.fields;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.append(py::make_tuple(latin1(line.substr(0, colon)), latin1(value)));
  }
  resp.attr("headers") = headers;
  resp.attr("sent") = sent;
  invoke(Hook::PostRequest,
         py::make_tuple(this_worker(), req, environ ? environ : py::none(), resp));
}

}  // namespace gthreadd::wsgi
