// The Python source of gthreadd's gunicorn.glogging (see glogging_compat.hpp). Written for
// gthreadd after gunicorn 23's glogging.Logger: the same class attributes, method names,
// arguments and records, so a logger_class written for gunicorn behaves the same.
#include "gthreadd/wsgi/glogging_compat.hpp"

namespace gthreadd::wsgi {

const char* const kGloggingSource = R"PY(
"""gunicorn.glogging as gthreadd provides it (issue 14).

gthreadd builds one Logger (or the logger_class subclass) per process, with a cfg whose
attributes are gunicorn's setting names; it routes its error records through the level
methods (info, error, ...) and calls access(resp, req, environ, request_time) once per
request, as gunicorn's workers do. Only this module of gunicorn exists here.
"""
import base64
import binascii
import copy
import json
import logging
import logging.config
import logging.handlers
import os
import socket
import sys
import threading
import time
import traceback

SYSLOG_FACILITIES = {
    "auth": 4, "authpriv": 10, "cron": 9, "daemon": 3, "ftp": 11, "kern": 0, "lpr": 6,
    "mail": 2, "news": 7, "security": 4, "syslog": 5, "user": 1, "uucp": 8,
    "local0": 16, "local1": 17, "local2": 18, "local3": 19,
    "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

CONFIG_DEFAULTS = {
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


def loggers():
    """Every logger the logging module knows."""
    return [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]


class SafeAtoms(dict):
    """The atoms dict handed to the access logger: '"' escaped in strings, a missing atom
    prints '-', header and environ atoms ({name}i, {name}o, {name}e) match in any case."""

    def __init__(self, atoms):
        dict.__init__(self)
        for key, value in atoms.items():
            self[key] = value.replace('"', '\\"') if isinstance(value, str) else value

    def __getitem__(self, key):
        if key.startswith("{"):
            key = key.lower()
        if key in self:
            return dict.__getitem__(self, key)
        return "-"


def parse_syslog_address(addr):
    """(socket type, address) for --log-syslog-to (udp:// and unix://, as gthreadd takes)."""
    if addr.startswith("unix://"):
        path, _, kind = addr[len("unix://"):].partition("#")
        return (socket.SOCK_STREAM if kind == "stream" else socket.SOCK_DGRAM), path
    if addr.startswith("udp://"):
        rest, socktype = addr[len("udp://"):], socket.SOCK_DGRAM
    elif addr.startswith("tcp://"):
        rest, socktype = addr[len("tcp://"):], socket.SOCK_STREAM
    else:
        raise RuntimeError("invalid syslog address")
    if rest.startswith("["):
        host, _, port = rest[1:].partition("]")
        port = port[1:]
    else:
        host, _, port = rest.partition(":")
    if port and not port.isdigit():
        raise RuntimeError("%r is not a valid port number." % port)
    return socktype, (host.lower() or "localhost", int(port) if port else 514)


class Logger(object):
    LOG_LEVELS = {
        "critical": logging.CRITICAL,
        "error": logging.ERROR,
        "warning": logging.WARNING,
        "info": logging.INFO,
        "debug": logging.DEBUG,
    }
    loglevel = logging.INFO

    error_fmt = r"%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
    datefmt = r"[%Y-%m-%d %H:%M:%S %z]"
    access_fmt = "%(message)s"
    syslog_fmt = "[%(process)d] %(message)s"

    atoms_wrapper_class = SafeAtoms

    def __init__(self, cfg):
        self.error_log = logging.getLogger("gunicorn.error")
        self.error_log.propagate = False
        self.access_log = logging.getLogger("gunicorn.access")
        self.access_log.propagate = False
        self.error_handlers = []
        self.access_handlers = []
        self.logfile = None
        self.lock = threading.Lock()
        self.cfg = cfg
        self.setup(cfg)

    def setup(self, cfg):
        self.loglevel = self.LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO)
        self.error_log.setLevel(self.loglevel)
        self.access_log.setLevel(logging.INFO)
        # capture_output: gthreadd's own error log already points fds 1 and 2 at errorlog.
        self._set_handler(self.error_log, cfg.errorlog,
                          logging.Formatter(self.error_fmt, self.datefmt))
        if cfg.accesslog is not None:
            self._set_handler(self.access_log, cfg.accesslog,
                              logging.Formatter(self.access_fmt), stream=sys.stdout)
        if cfg.syslog:
            self._set_syslog_handler(self.error_log, cfg, self.syslog_fmt, "error")
            if not cfg.disable_redirect_access_to_syslog:
                self._set_syslog_handler(self.access_log, cfg, self.syslog_fmt, "access")
        if cfg.logconfig_dict:
            config = copy.deepcopy(CONFIG_DEFAULTS)
            config.update(cfg.logconfig_dict)
            try:
                logging.config.dictConfig(config)
            except (AttributeError, ImportError, ValueError, TypeError) as exc:
                raise RuntimeError(str(exc))
        elif cfg.logconfig_json:
            config = copy.deepcopy(CONFIG_DEFAULTS)
            try:
                with open(cfg.logconfig_json) as fh:
                    config.update(json.load(fh))
                logging.config.dictConfig(config)
            except (OSError, json.JSONDecodeError, AttributeError, ImportError, ValueError,
                    TypeError) as exc:
                raise RuntimeError(str(exc))
        elif cfg.logconfig:
            if not os.path.exists(cfg.logconfig):
                raise RuntimeError("Error: log config '%s' not found" % cfg.logconfig)
            defaults = {"__file__": cfg.logconfig, "here": os.path.dirname(cfg.logconfig)}
            logging.config.fileConfig(cfg.logconfig, defaults=defaults,
                                      disable_existing_loggers=False)

    def critical(self, msg, *args, **kwargs):
        self.error_log.critical(msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        self.error_log.error(msg, *args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        self.error_log.warning(msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs):
        self.error_log.info(msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self.error_log.debug(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        self.error_log.exception(msg, *args, **kwargs)

    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = self.LOG_LEVELS.get(lvl.lower(), logging.INFO)
        self.error_log.log(lvl, msg, *args, **kwargs)

    def atoms(self, resp, req, environ, request_time):
        """The access log's atoms for one request (gunicorn's names)."""
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        seconds, micros = request_time.seconds, request_time.microseconds
        atoms = {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",
            "t": self.now(),
            "r": "%s %s %s" % (environ["REQUEST_METHOD"], environ["RAW_URI"],
                               environ["SERVER_PROTOCOL"]),
            "s": status,
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "q": environ.get("QUERY_STRING"),
            "H": environ.get("SERVER_PROTOCOL"),
            "b": str(sent) if sent is not None else "-",
            "B": sent,
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
            "T": seconds,
            "D": seconds * 1000000 + micros,
            "M": seconds * 1000 + micros // 1000,
            "L": "%d.%06d" % (seconds, micros),
            "p": "<%s>" % os.getpid(),
        }
        req_headers = req.headers if hasattr(req, "headers") else req
        if hasattr(req_headers, "items"):
            req_headers = req_headers.items()
        atoms.update({"{%s}i" % name.lower(): value for name, value in req_headers})
        resp_headers = resp.headers
        if hasattr(resp_headers, "items"):
            resp_headers = resp_headers.items()
        atoms.update({"{%s}o" % name.lower(): value for name, value in resp_headers})
        atoms.update({"{%s}e" % key.lower(): value for key, value in environ.items()})
        return atoms

    def access(self, resp, req, environ, request_time):
        """One access record: msg is access_log_format, args the atoms dict."""
        cfg = self.cfg
        if not (cfg.accesslog or cfg.logconfig or cfg.logconfig_dict or cfg.logconfig_json
                or (cfg.syslog and not cfg.disable_redirect_access_to_syslog)):
            return
        safe_atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        try:
            self.access_log.info(cfg.access_log_format, safe_atoms)
        except Exception:
            self.error(traceback.format_exc())

    def now(self):
        """The date in Apache's Common Log Format."""
        return time.strftime("[%d/%b/%Y:%H:%M:%S %z]")

    def reopen_files(self):
        """USR1: every FileHandler of every logger opens its file again (logrotate)."""
        for log in loggers():
            for handler in log.handlers:
                if isinstance(handler, logging.FileHandler):
                    handler.acquire()
                    try:
                        if handler.stream:
                            handler.close()
                            handler.stream = handler._open()
                    finally:
                        handler.release()

    def close_on_exec(self):
        for log in loggers():
            for handler in log.handlers:
                if isinstance(handler, logging.FileHandler) and handler.stream:
                    os.set_inheritable(handler.stream.fileno(), False)

    def _get_gunicorn_handler(self, log):
        for handler in log.handlers:
            if getattr(handler, "_gunicorn", False):
                return handler
        return None

    def _set_handler(self, log, output, fmt, stream=None):
        previous = self._get_gunicorn_handler(log)
        if previous:
            log.handlers.remove(previous)
        if output is None:
            return
        if output == "-":
            handler = logging.StreamHandler(stream)
        else:
            handler = logging.FileHandler(output)
            try:
                os.chown(handler.baseFilename, self.cfg.user, self.cfg.group)
            except OSError:
                pass
        handler.setFormatter(fmt)
        handler._gunicorn = True
        log.addHandler(handler)

    def _set_syslog_handler(self, log, cfg, fmt, name):
        prefix = cfg.syslog_prefix or cfg.proc_name.replace(":", ".")
        formatter = logging.Formatter("gunicorn.%s.%s: %s" % (prefix, name, fmt))
        try:
            facility = SYSLOG_FACILITIES[cfg.syslog_facility.lower()]
        except KeyError:
            raise RuntimeError("unknown facility name")
        socktype, address = parse_syslog_address(cfg.syslog_addr)
        handler = logging.handlers.SysLogHandler(address=address, facility=facility,
                                                 socktype=socktype)
        handler.setFormatter(formatter)
        handler._gunicorn = True
        log.addHandler(handler)

    def _get_user(self, environ):
        auth = environ.get("HTTP_AUTHORIZATION")
        if not auth or not auth.lower().startswith("basic"):
            return None
        parts = auth.split(" ", 1)
        if len(parts) != 2:
            return None
        try:
            decoded = base64.b64decode(parts[1].strip().encode("utf-8"))
            return decoded.split(b":", 1)[0].decode("utf-8")
        except (TypeError, binascii.Error, UnicodeDecodeError) as exc:
            self.debug("Couldn't get username: %s", exc)
            return None
)PY";

}  // namespace gthreadd::wsgi
