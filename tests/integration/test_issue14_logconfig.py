"""logconfig, logconfig_dict, logconfig_json and logger_class (issue 14): with one set, the
error records (master's and workers') and the access records go to Python's "gunicorn.error"
and "gunicorn.access" loggers through gunicorn's Logger (gthreadd's gunicorn.glogging or a
logger_class subclass of it), configured as gunicorn's glogging.Logger.setup does
(CONFIG_DEFAULTS, then the user's configuration), so a team's formatters, filters and
handlers work unchanged; an access record is gunicorn's (msg = access_log_format, args = the
atoms dict); HUP re-applies it (gunicorn 26.1) and USR1 reopens Python's file handlers."""
import json
import os
import shutil
import signal
import socket
import time

import pytest

from conftest import APPS, BOOT_RE, Server, build_request, gthreadd_only

DEADLINE = 30.0

APP = (
    "def app(environ, start_response):\n"
    "    if environ['PATH_INFO'] == '/boom':\n"
    "        raise RuntimeError('boom')\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])\n"
    "    return [b'ok']\n")


def wait_file_lines(path, predicate, what):
    deadline = time.monotonic() + DEADLINE
    lines = []
    while time.monotonic() < deadline:
        if os.path.exists(path):
            lines = open(path).read().splitlines()
            if any(predicate(line) for line in lines):
                return lines
        time.sleep(0.05)
    pytest.fail("%s never appeared in %s: %r" % (what, path, lines))


def dict_config(tmp_path, access_name="access.json", error_name="error.json"):
    # update() over gunicorn's CONFIG_DEFAULTS is shallow: a config replacing "handlers"
    # names its own root too (gunicorn refuses it otherwise, as gthreadd does).
    return {
        "version": 1,
        "root": {"level": "INFO", "handlers": []},
        "formatters": {
            "json": {"format": '{"logger": "%(name)s", "level": "%(levelname)s", "msg": "%(message)s"}'},
            "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
                        "datefmt": "[%Y-%m-%d %H:%M:%S %z]"},
        },
        "handlers": {
            "access_file": {"class": "logging.FileHandler", "formatter": "json",
                            "filename": str(tmp_path / access_name)},
            "error_file": {"class": "logging.FileHandler", "formatter": "json",
                           "filename": str(tmp_path / error_name)},
            "stderr": {"class": "logging.StreamHandler", "formatter": "generic",
                       "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "gunicorn.access": {"level": "INFO", "handlers": ["access_file"], "propagate": False},
            # stderr too: the harness waits for "Listening at" and "Booting worker" there.
            "gunicorn.error": {"level": "INFO", "handlers": ["error_file", "stderr"],
                               "propagate": False},
        },
    }


def start(tmp_path, config_text, name="gunicorn.conf.py"):
    (tmp_path / "logapp.py").write_text(APP)
    (tmp_path / name).write_text(config_text)
    return Server("logapp:app", args=["-c", str(tmp_path / name)], chdir=str(tmp_path)).start()


@gthreadd_only("logconfig_dict routed through gthreadd's Python bridge")
def test_logconfig_dict_sends_access_and_error_records_to_python_loggers(tmp_path):
    server = start(tmp_path, "logconfig_dict = %r\n" % dict_config(tmp_path))
    try:
        assert server.get("/hello").status == 200
        assert server.get("/boom").status == 500
        access = wait_file_lines(str(tmp_path / "access.json"), lambda l: "GET /hello" in l, "the access line")
        line = [l for l in access if "GET /hello" in l][0]
        assert line.startswith('{"logger": "gunicorn.access", "level": "INFO", "msg": "127.0.0.1 - - ['), line
        assert '"GET /hello HTTP/1.1" 200 2' in line, line
        errors = wait_file_lines(str(tmp_path / "error.json"), lambda l: "Error handling request /boom" in l,
                                 "the error record")
        line = [l for l in errors if "Error handling request /boom" in l][0]
        assert line.startswith('{"logger": "gunicorn.error", "level": "ERROR", "msg": "Error handling request /boom')
    finally:
        server.stop()


@gthreadd_only("logconfig (fileConfig) routed through gthreadd's Python bridge")
def test_logconfig_ini_file_is_applied_with_fileconfig(tmp_path):
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root,access\n\n"
        "[handlers]\nkeys=access_file\n\n"
        "[formatters]\nkeys=tagged\n\n"
        "[logger_root]\nlevel=INFO\nhandlers=\n\n"
        "[logger_access]\nlevel=INFO\nhandlers=access_file\npropagate=0\nqualname=gunicorn.access\n\n"
        "[handler_access_file]\nclass=FileHandler\nformatter=tagged\nargs=('%s',)\n\n"
        "[formatter_tagged]\nformat=ACCESS %%(message)s\n" % (tmp_path / "access.log"))
    server = start(tmp_path, "[gunicorn]\nlogconfig = %s\n" % ini, name="site.ini")
    try:
        assert server.get("/ini").status == 200
        lines = wait_file_lines(str(tmp_path / "access.log"), lambda l: "GET /ini" in l, "the access line")
        assert any(l.startswith("ACCESS 127.0.0.1 - - [") for l in lines), lines
    finally:
        server.stop()


@gthreadd_only("logconfig_json routed through gthreadd's Python bridge")
def test_logconfig_json_file_is_applied_with_dictconfig(tmp_path):
    (tmp_path / "logging.json").write_text(json.dumps(dict_config(tmp_path)))
    server = start(tmp_path, "logconfig_json = %r\n" % str(tmp_path / "logging.json"))
    try:
        assert server.get("/json").status == 200
        wait_file_lines(str(tmp_path / "access.json"), lambda l: "GET /json" in l, "the access line")
    finally:
        server.stop()


@gthreadd_only("a refused logging configuration")
def test_a_logging_configuration_python_refuses_stops_the_start_with_its_error(tmp_path):
    (tmp_path / "logapp.py").write_text(APP)
    bad = {"version": 1, "handlers": {"h": {"class": "no.such.Handler"}},
           "loggers": {"gunicorn.error": {"handlers": ["h"]}}}
    (tmp_path / "gunicorn.conf.py").write_text("logconfig_dict = %r\n" % bad)
    server = Server("logapp:app", args=["-c", str(tmp_path / "gunicorn.conf.py")], chdir=str(tmp_path)).spawn()
    try:
        code = server.wait_exit(DEADLINE)
        assert code != 0
        assert "cannot apply the logging configuration" in server.log, server.log
        assert "Unable to configure handler 'h'" in server.log, server.log
    finally:
        server.stop()


@gthreadd_only("HUP re-applies the logging configuration (gunicorn 26.1)")
def test_hup_reapplies_the_logging_configuration(tmp_path):
    server = start(tmp_path, "logconfig_dict = %r\n" % dict_config(tmp_path, "first.json"))
    try:
        assert server.get("/one").status == 200
        wait_file_lines(str(tmp_path / "first.json"), lambda l: "GET /one" in l, "the first access line")
        (tmp_path / "gunicorn.conf.py").write_text(
            "logconfig_dict = %r\n" % dict_config(tmp_path, "second.json", "error2.json"))
        os.kill(server.master_pid, signal.SIGHUP)
        server.wait_for_log(BOOT_RE, DEADLINE, count=2)
        # The master built its Logger again: its own records and the new worker's follow.
        wait_file_lines(str(tmp_path / "error2.json"), lambda l: "Booting worker" in l,
                        "the new worker's boot record")
        os.kill(server.master_pid, signal.SIGTTIN)
        wait_file_lines(str(tmp_path / "error2.json"), lambda l: "Handling signal: ttin" in l,
                        "the master's record after HUP")
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            server.get("/two")
            if os.path.exists(tmp_path / "second.json") and "GET /two" in open(tmp_path / "second.json").read():
                break
            time.sleep(0.1)
        assert "GET /two" in open(tmp_path / "second.json").read()
    finally:
        server.stop()


def json_lines(path):
    return [json.loads(line) for line in open(path).read().splitlines() if line.startswith("{")]


@gthreadd_only("the master's records routed through gthreadd's Python bridge")
def test_the_masters_records_reach_gunicorn_error_too(tmp_path):
    server = start(tmp_path, "logconfig_dict = %r\n" % dict_config(tmp_path))
    try:
        lines = wait_file_lines(str(tmp_path / "error.json"), lambda l: "Booting worker" in l,
                                "the worker's boot record")
        # "Listening at" is the master's (gunicorn's Arbiter logs it through its Logger).
        assert any(l.startswith('{"logger": "gunicorn.error", "level": "INFO", "msg": "Listening at: ')
                   for l in lines), lines
        os.kill(server.master_pid, signal.SIGHUP)
        wait_file_lines(str(tmp_path / "error.json"), lambda l: "Handling signal: hup" in l,
                        "the master's HUP record")
    finally:
        server.stop()


# What formatters and filters written for gunicorn read from an access record.
CAPTURE_FILTER = r'''
import json
class Capture:
    def __init__(self, path):
        self.path = path
    def filter(self, record):
        a = record.args
        seen = {"name": record.name, "levelname": record.levelname, "msg": record.msg,
                "args_type": type(a).__name__, "h": a["h"], "s": a["s"], "r": a["r"],
                "ua": a["{User-Agent}i"], "ctype": a["{content-type}o"], "none": a["{x-none}i"],
                "D_is_int": isinstance(a["D"], int), "B": a["B"], "path_e": a["{path_info}e"],
                "message": record.getMessage()}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(seen) + "\n")
        return True
'''


def test_an_access_record_is_gunicorns_format_and_atoms_dict(tmp_path):
    (tmp_path / "logfilters.py").write_text(CAPTURE_FILTER)
    config = dict_config(tmp_path)
    config["filters"] = {"capture": {"()": "logfilters.Capture", "path": str(tmp_path / "seen.json")}}
    config["loggers"]["gunicorn.access"]["filters"] = ["capture"]
    server = start(tmp_path, "logconfig_dict = %r\n" % config)
    try:
        assert server.get("/atoms?x=1", headers=[("User-Agent", 'say "hi"')]).status == 200
        wait_file_lines(str(tmp_path / "seen.json"), lambda l: "/atoms" in l, "the access record")
        seen = [r for r in json_lines(str(tmp_path / "seen.json")) if "/atoms" in r["r"]][0]
        assert seen["name"] == "gunicorn.access" and seen["levelname"] == "INFO", seen
        assert seen["msg"] == '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"', seen
        assert seen["args_type"] == "SafeAtoms", seen
        assert (seen["h"], seen["s"], seen["r"]) == ("127.0.0.1", "200", "GET /atoms?x=1 HTTP/1.1"), seen
        assert seen["ua"] == 'say \\"hi\\"' and seen["ctype"] == "text/plain", seen
        assert seen["none"] == "-" and seen["D_is_int"] and seen["B"] == 2, seen
        assert seen["path_e"] == "/atoms", seen
        assert seen["message"].startswith("127.0.0.1 - - ["), seen
        assert seen["message"].endswith('] "GET /atoms?x=1 HTTP/1.1" 200 2 "-" "say \\"hi\\""'), seen
    finally:
        server.stop()


@gthreadd_only("USR1 reopens Python's FileHandlers in gthreadd's master and workers")
def test_usr1_reopens_the_python_file_handlers(tmp_path):
    server = start(tmp_path, "logconfig_dict = %r\n" % dict_config(tmp_path))
    try:
        assert server.get("/before").status == 200
        wait_file_lines(str(tmp_path / "access.json"), lambda l: "GET /before" in l, "the first line")
        os.rename(tmp_path / "access.json", tmp_path / "access.json.1")
        os.rename(tmp_path / "error.json", tmp_path / "error.json.1")
        os.kill(server.master_pid, signal.SIGUSR1)
        # Requests until the worker has reopened (USR1 reaches it through the master).
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            assert server.get("/probe").status == 200
            if os.path.exists(tmp_path / "access.json") and "GET /probe" in open(tmp_path / "access.json").read():
                break
            time.sleep(0.2)
        assert server.get("/after").status == 200
        wait_file_lines(str(tmp_path / "access.json"), lambda l: "GET /after" in l, "the line after USR1")
        assert "GET /after" not in open(tmp_path / "access.json.1").read()
        # The master reopened its own: its next record lands in the new error log.
        os.kill(server.master_pid, signal.SIGTTIN)
        wait_file_lines(str(tmp_path / "error.json"), lambda l: "Handling signal: ttin" in l,
                        "the master's record in the reopened error log")
    finally:
        server.stop()


# The usual logger_class: an extra atom, gunicorn's now() changed, a tag on info().
SUBCLASS_CONFIG = r'''
from gunicorn.glogging import Logger
class TeamLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["X"] = "team:%s:%s" % (resp.status_code, dict(req.headers).get("X-TEAM", "-"))
        return atoms
    def now(self):
        return "[NOW]"
    def info(self, msg, *args, **kwargs):
        super().info("[team] " + msg, *args, **kwargs)
logger_class = TeamLogger
accesslog = ACCESS
access_log_format = '%(X)s %(t)s "%(r)s" %(s)s %(b)s'
'''


@gthreadd_only("gthreadd's gunicorn.glogging (gunicorn 20.1's Logger has no resp.status_code)")
def test_a_logger_class_subclass_formats_the_access_and_error_records(tmp_path):
    access = tmp_path / "access.log"
    server = start(tmp_path, SUBCLASS_CONFIG.replace("ACCESS", repr(str(access))))
    try:
        assert server.get("/sub", headers=[("X-Team", "blue")]).status == 200
        lines = wait_file_lines(str(access), lambda l: "/sub" in l, "the access line")
        assert 'team:200:blue [NOW] "GET /sub HTTP/1.1" 200 2' in lines, lines
        assert server.get("/boom").status == 500
        server.wait_for_log(r"\[INFO\] \[team\] Booting worker with pid: \d+", DEADLINE)
        server.wait_for_log(r"\[INFO\] \[team\] Listening at: ", DEADLINE)
        server.wait_for_log(r"\[ERROR\] Error handling request /boom", DEADLINE)
    finally:
        server.stop()


CUSTOM_ACCESS = r'''
import json
from gunicorn import glogging
class JsonAccess(glogging.Logger):
    def access(self, resp, req, environ, request_time):
        self.access_log.info(json.dumps({
            "status": resp.status, "path": environ["PATH_INFO"], "method": req.method,
            "sent": resp.sent, "us": request_time.microseconds + request_time.seconds * 10**6}))
'''


def test_a_logger_class_named_on_the_command_line_overrides_access(tmp_path):
    (tmp_path / "teamlog.py").write_text(CUSTOM_ACCESS)
    (tmp_path / "logapp.py").write_text(APP)
    access = tmp_path / "access.log"
    server = Server("logapp:app", args=["--logger-class", "teamlog.JsonAccess", "--access-logfile", str(access)],
                    chdir=str(tmp_path)).start()
    try:
        assert server.get("/json-access").status == 200
        lines = wait_file_lines(str(access), lambda l: "/json-access" in l, "the access line")
        record = json.loads([l for l in lines if "/json-access" in l][0])
        assert record["status"] == "200 OK" and record["method"] == "GET" and record["sent"] == 2, record
        assert record["us"] >= 0, record
    finally:
        server.stop()


@gthreadd_only("gthreadd's refusal of a logger class it cannot run")
def test_a_logger_class_that_does_not_extend_gunicorns_logger_is_refused(tmp_path):
    (tmp_path / "logapp.py").write_text(APP)
    (tmp_path / "otherlog.py").write_text("class Logger:\n    def __init__(self, cfg):\n        pass\n")
    (tmp_path / "gunicorn.conf.py").write_text("logger_class = 'otherlog.Logger'\n")
    server = Server("logapp:app", args=["-c", str(tmp_path / "gunicorn.conf.py")], chdir=str(tmp_path)).spawn()
    try:
        assert server.wait_exit(DEADLINE) == 1
        assert "logger_class 'otherlog.Logger' is not a subclass of gunicorn.glogging.Logger" in server.log
        assert "use logconfig, logconfig_dict or logconfig_json" in server.log
    finally:
        server.stop()


@gthreadd_only("gthreadd's default path runs no Python logging")
def test_without_a_logging_configuration_python_logging_is_untouched(tmp_path):
    (tmp_path / "probe.py").write_text(
        "import logging, sys\n"
        "def app(environ, start_response):\n"
        "    seen = repr((logging.getLogger('gunicorn.error').handlers,\n"
        "                 logging.getLogger('gunicorn.access').handlers,\n"
        "                 'gunicorn.glogging' in sys.modules, 'logging.config' in sys.modules)).encode()\n"
        "    start_response('200 OK', [('Content-Length', str(len(seen)))])\n"
        "    return [seen]\n")
    # A .py config too: reading it leaves nothing of gthreadd's gunicorn.glogging behind.
    (tmp_path / "gunicorn.conf.py").write_text("accesslog = '-'\n")
    server = Server("probe:app", args=["-c", str(tmp_path / "gunicorn.conf.py")], chdir=str(tmp_path)).start()
    try:
        assert server.get("/").body == b"([], [], False, False)"
        server.wait_for_log(r'"GET / HTTP/1.1" 200', DEADLINE)
    finally:
        server.stop()


@gthreadd_only("--preload with a logging configuration: the master applies it once")
def test_preload_with_a_logging_configuration(tmp_path):
    (tmp_path / "logapp.py").write_text(APP)
    (tmp_path / "gunicorn.conf.py").write_text("logconfig_dict = %r\n" % dict_config(tmp_path))
    server = Server("logapp:app", args=["--preload", "-c", str(tmp_path / "gunicorn.conf.py")],
                    chdir=str(tmp_path)).start()
    try:
        assert server.get("/preloaded").status == 200
        wait_file_lines(str(tmp_path / "access.json"), lambda l: "GET /preloaded" in l, "the access line")
        wait_file_lines(str(tmp_path / "error.json"), lambda l: "Booting worker" in l, "the boot record")
    finally:
        server.stop()


@gthreadd_only("an answer given without the app goes to gunicorn's Logger.access too")
def test_a_request_the_server_refuses_is_an_access_record_with_atoms(tmp_path):
    (tmp_path / "logfilters.py").write_text(CAPTURE_FILTER)
    config = dict_config(tmp_path)
    config["filters"] = {"capture": {"()": "logfilters.Capture", "path": str(tmp_path / "seen.json")}}
    config["loggers"]["gunicorn.access"]["filters"] = ["capture"]
    server = start(tmp_path, "logconfig_dict = %r\n" % config)
    try:
        with server.connect() as c:
            c.send(b"GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
            assert c.read_response().status == 400
        wait_file_lines(str(tmp_path / "seen.json"), lambda l: "/bad" in l, "the access record")
        seen = [r for r in json_lines(str(tmp_path / "seen.json")) if "/bad" in r["r"]][0]
        assert (seen["s"], seen["r"], seen["args_type"]) == ("400", "GET /bad HTTP/1.1", "SafeAtoms"), seen
        assert seen["path_e"] == "/bad" and seen["h"] == "127.0.0.1", seen
    finally:
        server.stop()


@gthreadd_only("WORKER TIMEOUT with a logging configuration: the master's record and the hang report")
def test_worker_timeout_reaches_gunicorn_error_and_the_hang_report_never_waits_for_the_gil(tmp_path):
    shutil.copy(os.path.join(APPS, "hangs.py"), tmp_path / "hangs.py")
    (tmp_path / "gunicorn.conf.py").write_text("logconfig_dict = %r\n" % dict_config(tmp_path))
    error_log = tmp_path / "error.log"
    server = Server("hangs:app", args=["-c", str(tmp_path / "gunicorn.conf.py"), "--timeout", "2",
                                       "--error-logfile", str(error_log)],
                    threads=2, chdir=str(tmp_path)).start()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    try:
        worker = server.worker_pids()[0]
        sock.sendall(build_request("GET", "/hold-gil?s=120", [("Connection", "close")]))
        # The master's record goes through Python, as gunicorn's Arbiter logs it.
        wait_file_lines(str(tmp_path / "error.json"), lambda l: "WORKER TIMEOUT (pid:%d)" % worker in l,
                        "the master's WORKER TIMEOUT record")
        # C code holds the worker's GIL: its report goes to gthreadd's error log, not to Python.
        lines = wait_file_lines(str(error_log), lambda l: "GET /hold-gil?s=120" in l, "the hang report")
        assert any("WORKER TIMEOUT: the master sent SIGABRT" in l for l in lines), lines
    finally:
        sock.close()
        server.stop()
