#include "gthreadd/wsgi/python_logging.hpp"

#include <Python.h>
#include <pybind11/embed.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

#include "gthreadd/log/logger.hpp"
#include "gthreadd/log/request_log.hpp"
#include "gthreadd/wsgi/glogging_compat.hpp"
#include "gthreadd/wsgi/settings_object.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

// The glue's functions, looked up once per apply; leaked with the interpreter.
struct Calls {
  PyObject* error_record = nullptr;
  PyObject* access = nullptr;
  PyObject* reopen = nullptr;
};
Calls g_calls;

// gthreadd's own error log (init_error_log's logger), for threads that must never wait for
// the GIL: the hang reporter writes while C code may hold the GIL for good.
std::shared_ptr<spdlog::logger> g_fallback;
thread_local bool t_off_python = false;

// Index into the glue's METHODS (debug, info, warning, error, critical).
int method_index(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 0;
    case spdlog::level::info: return 1;
    case spdlog::level::warn: return 2;
    case spdlog::level::err: return 3;
    default: return 4;
  }
}

spdlog::level::level_enum spdlog_level(int python_level) {
  return python_level <= 10   ? spdlog::level::debug
         : python_level <= 20 ? spdlog::level::info
         : python_level <= 30 ? spdlog::level::warn
         : python_level <= 40 ? spdlog::level::err
                              : spdlog::level::critical;
}

// Hands each error record to the Logger's level method (a logger_class may override it).
// No sink mutex (null_mutex): a thread holding the GIL may log while another is inside this
// sink waiting for the GIL; Python's handlers take their own locks.
class PythonLoggerSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (t_off_python) {
      for (const auto& sink : g_fallback->sinks())
        if (sink->should_log(msg.level)) sink->log(msg);
      return;
    }
    const PyGILState_STATE gil = PyGILState_Ensure();
    PyObject* text = PyUnicode_DecodeUTF8(msg.payload.data(),
                                          static_cast<Py_ssize_t>(msg.payload.size()), "replace");
    if (text != nullptr) {
      PyObject* result =
          PyObject_CallFunction(g_calls.error_record, "iO", method_index(msg.level), text);
      Py_XDECREF(result);
      Py_DECREF(text);
    }
    if (PyErr_Occurred()) PyErr_Clear();  // logging reports its own handler errors
    PyGILState_Release(gil);
  }
  void flush_() override {
    if (t_off_python) g_fallback->flush();
  }
};

// WSGI strings: bytes as latin-1 (PEP 3333), as the environ holds them.
py::str latin1(std::string_view bytes) {
  return py::reinterpret_steal<py::str>(
      PyUnicode_DecodeLatin1(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), nullptr));
}

py::list header_list(std::span<const log::AccessRecord::Header> headers, bool upper) {
  py::list out;
  std::string name;
  for (const auto& [raw_name, value] : headers) {
    name.assign(raw_name);
    // gunicorn's req.headers carry upper-cased names; response headers stay as the app gave.
    if (upper)
      for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.append(py::make_tuple(latin1(name), latin1(value)));
  }
  return out;
}

// The access forwarder: one GIL acquire per record, on the pool thread, after the response
// went out. Consumes record.python_environ.
void forward_access(const log::AccessRecord& r) {
  const PyGILState_STATE gil = PyGILState_Ensure();
  {
    auto environ = py::reinterpret_steal<py::object>(static_cast<PyObject*>(r.python_environ));
    try {
      py::object sent =
          r.response_length ? py::object(py::int_(*r.response_length)) : py::object(py::none());
      py::reinterpret_borrow<py::object>(g_calls.access)(
          r.status, latin1(r.status_text), sent, header_list(r.response_headers, false),
          header_list(r.request_headers, true), latin1(r.method), latin1(r.raw_uri), latin1(r.path),
          latin1(r.query), latin1(r.protocol), latin1(r.remote_addr),
          environ ? environ : py::none(), r.duration.count());
    } catch (const py::error_already_set&) {
      // The glue reports the Logger's errors itself; what is left is ours to drop.
      PyErr_Clear();
    }
  }
  PyGILState_Release(gil);
}

// gunicorn's cfg values a Logger reads, where the --print-config text would not do.
py::dict overrides(const config::Settings& s) {
  auto or_none = [](const std::string& v) {
    return v.empty() ? py::object(py::none()) : py::str(v);
  };
  py::dict o;
  o["loglevel"] = s.loglevel;
  o["errorlog"] = s.errorlog.empty() ? std::string("-") : s.errorlog;
  o["accesslog"] = or_none(s.accesslog);
  o["access_log_format"] = s.access_log_format;
  o["logconfig"] = or_none(s.logconfig);
  o["logconfig_json"] = or_none(s.logconfig_json);
  o["logconfig_dict"] = s.logconfig_dict;  // JSON text; the glue parses it
  o["logger_class"] =
      s.logger_class.empty() ? std::string("gunicorn.glogging.Logger") : s.logger_class;
  o["syslog_addr"] = s.syslog_addr;
  o["syslog_prefix"] = or_none(s.syslog_prefix);
  o["syslog_facility"] = s.syslog_facility;
  o["proc_name"] = s.proc_name.empty() ? s.app_uri_text : s.proc_name;
  o["user"] = s.user;
  o["group"] = s.group;
  return o;
}

void clear_routes() { log::set_access_forwarder(nullptr); }

}  // namespace

void keep_this_thread_off_python() noexcept { t_off_python = true; }

bool python_logging_configured(const config::Settings& settings) noexcept {
  return !settings.logconfig.empty() || !settings.logconfig_dict.empty() ||
         !settings.logconfig_json.empty() || !settings.logger_class.empty();
}

void apply_python_logging(const config::Settings& settings) {
  if (!python_logging_configured(settings)) {
    clear_routes();
    return;
  }
  const PyGILState_STATE gil = PyGILState_Ensure();
  int level = 20;
  try {
    py::object glue = glogging_glue();
    // The logger_class's module may import gunicorn.glogging (now, or later in the app).
    if (!settings.logger_class.empty()) provide_gunicorn_glogging(true);
    glue.attr("install")(settings_namespace(settings), overrides(settings), settings.logger_class);
    level = glue.attr("error_level")().cast<int>();
    if (g_calls.access == nullptr) {  // the glue is built once: its functions stay the same
      g_calls.error_record = py::object(glue.attr("error_record")).release().ptr();
      g_calls.access = py::object(glue.attr("access")).release().ptr();
      g_calls.reopen = py::object(glue.attr("reopen")).release().ptr();
    }
  } catch (const py::error_already_set& e) {
    // One line: the message (gunicorn's setup and the glue raise RuntimeError with the
    // whole story), else the exception's type and message; not pybind11's "At:" frames.
    std::string what = py::str(e.value()).cast<std::string>();
    if (!e.matches(PyExc_RuntimeError))
      what = py::str(e.type().attr("__name__")).cast<std::string>() + ": " + what;
    PyGILState_Release(gil);
    clear_routes();  // what was routed to a half-configured Logger goes back to gthreadd's
    throw std::runtime_error("cannot apply the logging configuration: " + what);
  }
  PyGILState_Release(gil);
  // What init_error_log set up stays the fallback (a second apply without it in between,
  // routed already, keeps the first one).
  if (!g_fallback || spdlog::default_logger()->name() != "gunicorn.error")
    g_fallback = spdlog::default_logger();
  // Python's logger decides what is kept, as in gunicorn (its CONFIG_DEFAULTS set
  // gunicorn.error to INFO whatever --log-level says); spdlog only skips, without taking
  // the GIL, what that logger would drop anyway.
  log::route_error_log(std::make_shared<PythonLoggerSink>(), spdlog_level(level), [] {
    const PyGILState_STATE held = PyGILState_Ensure();
    PyObject* result = PyObject_CallNoArgs(g_calls.reopen);
    Py_XDECREF(result);
    if (PyErr_Occurred()) PyErr_Clear();
    PyGILState_Release(held);
  });
  log::set_access_forwarder(forward_access);
}

}  // namespace gthreadd::wsgi
