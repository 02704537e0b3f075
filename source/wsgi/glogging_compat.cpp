#include "gthreadd/wsgi/glogging_compat.hpp"

#include <Python.h>
#include <pybind11/eval.h>

namespace py = pybind11;

namespace gthreadd::wsgi {
namespace {

// The process's Logger and the calls gthreadd makes into it. Errors raised by the logger
// itself (a subclass's access() or atoms()) are written to gunicorn.error with their
// traceback, as gunicorn's worker reports an exception while handling a request.
constexpr const char* kGlue = R"PY(
import datetime, grp, http, importlib, json, logging, pwd, traceback, types

glogging = types.ModuleType("gunicorn.glogging")
exec(compile(SOURCE, "gunicorn/glogging.py (gthreadd)", "exec"), glogging.__dict__)
logger = None


class Config:
    """gunicorn's cfg as a logger sees it: the settings by their gunicorn names."""
    def __init__(self, settings, overrides):
        # settings: settings_namespace() (settings_object.hpp), as server hooks see cfg.
        vars(self).update(vars(settings))
        for name, value in overrides.items():
            setattr(self, name, value)
        self.logconfig_dict = json.loads(self.logconfig_dict) if self.logconfig_dict else {}
        self.user = self._id(self.user, os_id="geteuid", db=pwd.getpwnam, field="pw_uid")
        self.group = self._id(self.group, os_id="getegid", db=grp.getgrnam, field="gr_gid")

    @staticmethod
    def _id(value, os_id, db, field):
        import os
        if value in (None, ""):
            return getattr(os, os_id)()
        if isinstance(value, int) or str(value).isdigit():
            return int(value)
        try:
            return getattr(db(value), field)
        except KeyError:
            return -1


def load_class(path):
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise RuntimeError("logger_class %r: expected module.Class" % path)
    try:
        found = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise RuntimeError("logger_class %r cannot be loaded: %s" % (path, exc)) from None
    return found


def install(settings, overrides, class_path):
    global logger
    cls = load_class(class_path) if class_path else glogging.Logger
    if not (isinstance(cls, type) and issubclass(cls, glogging.Logger)):
        raise RuntimeError(
            "logger_class %r is not a subclass of gunicorn.glogging.Logger: gthreadd runs "
            "only subclasses of the gunicorn.glogging.Logger it provides (override atoms(), "
            "access(), now(), setup() or the formats); for anything else use logconfig, "
            "logconfig_dict or logconfig_json with your own formatters and handlers" % class_path)
    logger = cls(Config(settings, overrides))
    return logger


METHODS = ("debug", "info", "warning", "error", "critical")


def error_record(level, text):
    getattr(logger, METHODS[level])(text)


def error_level():
    return logger.error_log.getEffectiveLevel()


class Response:
    __slots__ = ("status", "status_code", "sent", "response_length", "headers")


class Request:
    __slots__ = ("method", "uri", "path", "query", "version", "headers", "remote_addr")


def _status(code, text):
    if text:
        return text
    try:
        return "%d %s" % (code, http.HTTPStatus(code).phrase)
    except ValueError:
        return str(code)


def access(code, status, sent, resp_headers, req_headers, method, uri, path, query, protocol,
           remote, environ, micros):
    resp = Response()
    resp.status, resp.status_code, resp.sent = _status(code, status), code, sent
    resp.headers = resp_headers
    resp.response_length = next((int(v) for n, v in resp_headers
                                 if n.lower() == "content-length" and v.isdigit()), None)
    req = Request()
    req.method, req.uri, req.path, req.query, req.headers = method, uri, path, query, req_headers
    req.version = (1, 0) if protocol == "HTTP/1.0" else (1, 1)
    req.remote_addr = remote
    if environ is None:
        # The server answered without calling the app (400, 408, 503): the environ it would
        # have built, as far as the request got (a head refused whole has only its line).
        target, _, target_query = uri.partition("?")
        environ = {"REQUEST_METHOD": method, "RAW_URI": uri, "PATH_INFO": path or target,
                   "QUERY_STRING": query or target_query, "SERVER_PROTOCOL": protocol,
                   "REMOTE_ADDR": remote}
        for name, value in req_headers:
            environ.setdefault("HTTP_" + name.replace("-", "_"), value)
    try:
        logger.access(resp, req, environ, datetime.timedelta(microseconds=micros))
    except Exception:
        logging.getLogger("gunicorn.error").error(
            "Error in the access log (logger_class %s.%s):\n%s", type(logger).__module__,
            type(logger).__qualname__, traceback.format_exc().rstrip("\n"))


def reopen():
    logger.reopen_files()
)PY";

// The finder: light (nothing but importlib), so a .py config that never imports
// gunicorn.glogging costs nothing; the module is built when it is first imported.
constexpr const char* kFinder = R"PY(
import importlib.machinery, importlib.util, sys, types

package = types.ModuleType("gunicorn", "gthreadd's stand-in: only gunicorn.glogging exists.")
package.__path__ = []


class _Served:
    def __init__(self, make):
        self.make = make
    def create_module(self, spec):
        return self.make()
    def exec_module(self, module):
        pass


class Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "gunicorn.glogging":
            return importlib.util.spec_from_loader(name, _Served(build_glogging))
        if name == "gunicorn" and importlib.machinery.PathFinder.find_spec(name) is None:
            return importlib.util.spec_from_loader(name, _Served(lambda: package),
                                                   is_package=True)
        return None


def provide(on):
    sys.meta_path[:] = [f for f in sys.meta_path if f is not Finder]
    if on:
        sys.meta_path.insert(0, Finder)
)PY";

}  // namespace

py::object glogging_glue() {
  // Leaked on purpose: the interpreter is never finalised in a worker.
  static PyObject* glue = [] {
    py::module_ m = py::reinterpret_steal<py::module_>(PyModule_New("_gthreadd_glogging"));
    py::dict scope = m.attr("__dict__");
    scope["__builtins__"] = py::module_::import("builtins");
    scope["SOURCE"] = py::str(kGloggingSource);
    py::exec(kGlue, scope);
    return m.release().ptr();
  }();
  return py::reinterpret_borrow<py::object>(glue);
}

void provide_gunicorn_glogging(bool on) {
  static PyObject* provide = [] {  // leaked with the interpreter, as the glue
    py::dict scope;
    scope["__builtins__"] = py::module_::import("builtins");
    scope["build_glogging"] = py::cpp_function([] { return glogging_glue().attr("glogging"); });
    py::exec(kFinder, scope);
    return py::object(scope["provide"]).release().ptr();
  }();
  py::reinterpret_borrow<py::object>(provide)(on);
}

}  // namespace gthreadd::wsgi
