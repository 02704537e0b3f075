#include "gthreadd/wsgi/python_logging.hpp"

#include <Python.h>
#include <pybind11/embed.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <stdexcept>
#include <string>

#include "gthreadd/log/request_log.hpp"

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

// gunicorn's glogging: CONFIG_DEFAULTS, the error and access formats, and setup()'s order:
// level and gunicorn's own handlers first, then the user's configuration over the defaults.
constexpr const char* kSetup = R"PY(
def setup(errorlog, accesslog, loglevel, logconfig, logconfig_dict, logconfig_json):
    import copy, json, logging, logging.config, os, sys
    defaults = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"],
                               "propagate": True, "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"],
                                "propagate": True, "qualname": "gunicorn.access"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "generic",
                        "stream": "ext://sys.stdout"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "generic",
                              "stream": "ext://sys.stderr"},
        },
        "formatters": {
            "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
                        "datefmt": "[%Y-%m-%d %H:%M:%S %z]", "class": "logging.Formatter"},
        },
    }
    error_log = logging.getLogger("gunicorn.error")
    error_log.propagate = False
    access_log = logging.getLogger("gunicorn.access")
    access_log.propagate = False
    error_log.setLevel(getattr(logging, loglevel.upper(), logging.INFO))
    access_log.setLevel(logging.INFO)

    def set_handler(log, output, fmt):
        for h in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
            log.removeHandler(h)
        h = logging.StreamHandler() if output == "-" else logging.FileHandler(output)
        h.setFormatter(fmt)
        h._gunicorn = True
        log.addHandler(h)

    set_handler(error_log, errorlog, logging.Formatter(
        "%(asctime)s [%(process)d] [%(levelname)s] %(message)s", "[%Y-%m-%d %H:%M:%S %z]"))
    if accesslog:
        set_handler(access_log, accesslog, logging.Formatter("%(message)s"))
        if accesslog == "-":
            access_log.handlers[-1].setStream(sys.stdout)
    if logconfig_dict:
        config = copy.deepcopy(defaults)
        config.update(json.loads(logconfig_dict))
        logging.config.dictConfig(config)
    elif logconfig_json:
        config = copy.deepcopy(defaults)
        with open(logconfig_json) as fh:
            config.update(json.load(fh))
        logging.config.dictConfig(config)
    elif logconfig:
        if not os.path.exists(logconfig):
            raise RuntimeError("Error: log config '%s' not found" % logconfig)
        file_defaults = {"__file__": logconfig, "here": os.path.dirname(logconfig)}
        logging.config.fileConfig(logconfig, defaults=file_defaults, disable_existing_loggers=False)
    return error_log, access_log
)PY";

// Python's levels for spdlog's.
int python_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 10;
    case spdlog::level::info: return 20;
    case spdlog::level::warn: return 30;
    case spdlog::level::err: return 40;
    default: return 50;
  }
}

// Hands each record to a Python logger. No sink mutex (null_mutex): a thread holding the
// GIL may log while another is inside this sink waiting for the GIL; Python's handlers
// take their own locks.
class PythonLoggerSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit PythonLoggerSink(py::object logger)
      : logger_(logger.release().ptr()) {}  // leaked with the interpreter

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const PyGILState_STATE gil = PyGILState_Ensure();
    PyObject* text = PyUnicode_DecodeUTF8(msg.payload.data(),
                                          static_cast<Py_ssize_t>(msg.payload.size()), "replace");
    if (text != nullptr) {
      PyObject* result = PyObject_CallMethod(logger_, "log", "iO", python_level(msg.level), text);
      Py_XDECREF(result);
      Py_DECREF(text);
    }
    if (PyErr_Occurred()) PyErr_Clear();  // logging reports its own handler errors
    PyGILState_Release(gil);
  }
  void flush_() override {}

 private:
  PyObject* logger_;
};

}  // namespace

bool python_logging_configured(const config::Settings& settings) noexcept {
  return !settings.logconfig.empty() || !settings.logconfig_dict.empty() ||
         !settings.logconfig_json.empty();
}

void apply_python_logging(const config::Settings& settings) {
  if (!python_logging_configured(settings)) return;
  py::object loggers;
  try {
    py::dict scope;
    scope["__builtins__"] = py::module_::import("builtins");
    py::exec(kSetup, scope);
    loggers = scope["setup"](settings.errorlog, settings.accesslog, settings.loglevel,
                             settings.logconfig, settings.logconfig_dict, settings.logconfig_json);
  } catch (const py::error_already_set& e) {
    throw std::runtime_error(std::string("cannot apply the logging configuration: ") + e.what());
  }
  py::tuple pair = loggers.cast<py::tuple>();
  // spdlog filters nothing more: Python's logger levels decide, as in gunicorn.
  // Python's logger decides what is kept, as in gunicorn (its CONFIG_DEFAULTS set
  // gunicorn.error to INFO whatever --log-level says); spdlog only skips, without taking
  // the GIL, what that logger would drop anyway.
  const int effective = pair[0].attr("getEffectiveLevel")().cast<int>();
  auto error_logger = std::make_shared<spdlog::logger>("gunicorn.error",
                                                       std::make_shared<PythonLoggerSink>(pair[0]));
  error_logger->set_level(effective <= 10   ? spdlog::level::debug
                          : effective <= 20 ? spdlog::level::info
                          : effective <= 30 ? spdlog::level::warn
                          : effective <= 40 ? spdlog::level::err
                                            : spdlog::level::critical);
  spdlog::set_default_logger(error_logger);
  PyObject* access = py::object(pair[1]).release().ptr();  // leaked with the interpreter
  log::set_access_forwarder([access](std::string_view line) {
    const PyGILState_STATE gil = PyGILState_Ensure();
    PyObject* text =
        PyUnicode_DecodeUTF8(line.data(), static_cast<Py_ssize_t>(line.size()), "replace");
    if (text != nullptr) {
      PyObject* result = PyObject_CallMethod(access, "info", "O", text);
      Py_XDECREF(result);
      Py_DECREF(text);
    }
    if (PyErr_Occurred()) PyErr_Clear();
    PyGILState_Release(gil);
  });
}

}  // namespace gthreadd::wsgi
