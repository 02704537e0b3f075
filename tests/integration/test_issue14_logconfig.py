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

from conftest import APPS, BOOT_RE, build_request, gthreadd_only

DEADLINE = 30.0

APP = (
    "def app(environ, start_response):\n"
    "    if environ['PATH_INFO'] == '/boom':\n"
    "        raise RuntimeError('boom')\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])\n"
    "    return [b'ok']\n")


def wait_file_lines(path, text, what):
    """The lines of `path` once one of them holds `text`; fails naming `what` after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    lines = []
    while time.monotonic() < deadline:
        if os.path.exists(path):
            lines = open(path).read().splitlines()
            if any(text in line for line in lines):
                return lines
        time.sleep(0.05)
    pytest.fail("%s never appeared in %s: %r" % (what, path, lines))


def wait_file_line(path, text, what):
    """The first line of `path` holding `text`, once one does."""
    return [line for line in wait_file_lines(path, text, what) if text in line][0]


def read_text(path):
    return open(path).read() if os.path.exists(path) else ""


def get_until_logged(server, target, path, interval):
    """GETs `target` until its access line is in `path` (a handler being reopened or
    replaced logs a later request, not necessarily the first); the statuses answered."""
    statuses = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        statuses.append(server.get(target).status)
        if "GET %s" % target in read_text(path):
            break
        time.sleep(interval)
    return statuses


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


@pytest.fixture
def log_server(tmp_path, make_server):
    """log_server(config_text, name="gunicorn.conf.py", app="logapp:app", args=(), **kwargs):
    writes the log app and the config file `name` in tmp_path and runs the server on them
    with `-c` (make_server's keywords: start=False only spawns it, for a start that must
    fail). Stopped at teardown."""
    def factory(config_text, name="gunicorn.conf.py", app="logapp:app", args=(), **kwargs):
        (tmp_path / "logapp.py").write_text(APP)
        (tmp_path / name).write_text(config_text)
        return make_server(app, ["-c", str(tmp_path / name), *args], chdir=str(tmp_path),
                           **kwargs)
    return factory


def dict_line(config):
    return "logconfig_dict = %r\n" % config


@gthreadd_only("logconfig_dict routed through gthreadd's Python bridge")
def test_logconfig_dict_sends_access_and_error_records_to_python_loggers(tmp_path, log_server):
    server = log_server(dict_line(dict_config(tmp_path)))
    assert server.get("/hello").status == 200
    assert server.get("/boom").status == 500
    line = wait_file_line(tmp_path / "access.json", "GET /hello", "the access line")
    assert line.startswith('{"logger": "gunicorn.access", "level": "INFO", "msg": "127.0.0.1 - - ['), line
    assert '"GET /hello HTTP/1.1" 200 2' in line, line
    line = wait_file_line(tmp_path / "error.json", "Error handling request /boom", "the error record")
    assert line.startswith('{"logger": "gunicorn.error", "level": "ERROR", "msg": "Error handling request /boom')


@gthreadd_only("logconfig (fileConfig) routed through gthreadd's Python bridge")
def test_logconfig_ini_file_is_applied_with_fileconfig(tmp_path, log_server):
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root,access\n\n"
        "[handlers]\nkeys=access_file\n\n"
        "[formatters]\nkeys=tagged\n\n"
        "[logger_root]\nlevel=INFO\nhandlers=\n\n"
        "[logger_access]\nlevel=INFO\nhandlers=access_file\npropagate=0\nqualname=gunicorn.access\n\n"
        "[handler_access_file]\nclass=FileHandler\nformatter=tagged\nargs=('%s',)\n\n"
        "[formatter_tagged]\nformat=ACCESS %%(message)s\n" % (tmp_path / "access.log"))
    server = log_server("[gunicorn]\nlogconfig = %s\n" % ini, name="site.ini")
    assert server.get("/ini").status == 200
    lines = wait_file_lines(tmp_path / "access.log", "GET /ini", "the access line")
    assert any(l.startswith("ACCESS 127.0.0.1 - - [") for l in lines), lines


@gthreadd_only("logconfig_json routed through gthreadd's Python bridge")
def test_logconfig_json_file_is_applied_with_dictconfig(tmp_path, log_server):
    (tmp_path / "logging.json").write_text(json.dumps(dict_config(tmp_path)))
    server = log_server("logconfig_json = %r\n" % str(tmp_path / "logging.json"))
    assert server.get("/json").status == 200
    wait_file_lines(tmp_path / "access.json", "GET /json", "the access line")


@gthreadd_only("a refused logging configuration")
def test_a_logging_configuration_python_refuses_stops_the_start_with_its_error(log_server):
    bad = {"version": 1, "handlers": {"h": {"class": "no.such.Handler"}},
           "loggers": {"gunicorn.error": {"handlers": ["h"]}}}
    server = log_server(dict_line(bad), start=False)
    code = server.wait_exit(DEADLINE)
    assert code != 0
    assert "cannot apply the logging configuration" in server.log, server.log
    assert "Unable to configure handler 'h'" in server.log, server.log


@gthreadd_only("HUP re-applies the logging configuration (gunicorn 26.1)")
def test_hup_reapplies_the_logging_configuration(tmp_path, log_server):
    server = log_server(dict_line(dict_config(tmp_path, "first.json")))
    assert server.get("/one").status == 200
    wait_file_lines(tmp_path / "first.json", "GET /one", "the first access line")
    (tmp_path / "gunicorn.conf.py").write_text(dict_line(dict_config(tmp_path, "second.json", "error2.json")))
    os.kill(server.master_pid, signal.SIGHUP)
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)
    # The master built its Logger again: its own records and the new worker's follow.
    wait_file_lines(tmp_path / "error2.json", "Booting worker", "the new worker's boot record")
    os.kill(server.master_pid, signal.SIGTTIN)
    wait_file_lines(tmp_path / "error2.json", "Handling signal: ttin", "the master's record after HUP")
    get_until_logged(server, "/two", tmp_path / "second.json", interval=0.1)
    assert "GET /two" in open(tmp_path / "second.json").read()


def json_lines(path):
    return [json.loads(line) for line in open(path).read().splitlines() if line.startswith("{")]


@gthreadd_only("the master's records routed through gthreadd's Python bridge")
def test_the_masters_records_reach_gunicorn_error_too(tmp_path, log_server):
    server = log_server(dict_line(dict_config(tmp_path)))
    lines = wait_file_lines(tmp_path / "error.json", "Booting worker", "the worker's boot record")
    # "Listening at" is the master's (gunicorn's Arbiter logs it through its Logger).
    assert any(l.startswith('{"logger": "gunicorn.error", "level": "INFO", "msg": "Listening at: ')
               for l in lines), lines
    os.kill(server.master_pid, signal.SIGHUP)
    wait_file_lines(tmp_path / "error.json", "Handling signal: hup", "the master's HUP record")


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


def capture_config(tmp_path):
    """dict_config with CAPTURE_FILTER on gunicorn.access, writing what it reads to seen.json."""
    (tmp_path / "logfilters.py").write_text(CAPTURE_FILTER)
    config = dict_config(tmp_path)
    config["filters"] = {"capture": {"()": "logfilters.Capture", "path": str(tmp_path / "seen.json")}}
    config["loggers"]["gunicorn.access"]["filters"] = ["capture"]
    return config


def captured_record(tmp_path, target):
    """What the capture filter read from the access record of `target`, once it is there."""
    wait_file_lines(tmp_path / "seen.json", target, "the access record")
    return [r for r in json_lines(tmp_path / "seen.json") if target in r["r"]][0]


def test_an_access_record_is_gunicorns_format_and_atoms_dict(tmp_path, log_server):
    server = log_server(dict_line(capture_config(tmp_path)))
    assert server.get("/atoms?x=1", headers=[("User-Agent", 'say "hi"')]).status == 200
    seen = captured_record(tmp_path, "/atoms")
    assert seen["name"] == "gunicorn.access" and seen["levelname"] == "INFO", seen
    assert seen["msg"] == '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"', seen
    assert seen["args_type"] == "SafeAtoms", seen
    assert (seen["h"], seen["s"], seen["r"]) == ("127.0.0.1", "200", "GET /atoms?x=1 HTTP/1.1"), seen
    assert seen["ua"] == 'say \\"hi\\"' and seen["ctype"] == "text/plain", seen
    assert seen["none"] == "-" and seen["D_is_int"] and seen["B"] == 2, seen
    assert seen["path_e"] == "/atoms", seen
    assert seen["message"].startswith("127.0.0.1 - - ["), seen
    assert seen["message"].endswith('] "GET /atoms?x=1 HTTP/1.1" 200 2 "-" "say \\"hi\\""'), seen


@gthreadd_only("USR1 reopens Python's FileHandlers in gthreadd's master and workers")
def test_usr1_reopens_the_python_file_handlers(tmp_path, log_server):
    server = log_server(dict_line(dict_config(tmp_path)))
    assert server.get("/before").status == 200
    wait_file_lines(tmp_path / "access.json", "GET /before", "the first line")
    os.rename(tmp_path / "access.json", tmp_path / "access.json.1")
    os.rename(tmp_path / "error.json", tmp_path / "error.json.1")
    os.kill(server.master_pid, signal.SIGUSR1)
    # Requests until the worker has reopened (USR1 reaches it through the master).
    statuses = get_until_logged(server, "/probe", tmp_path / "access.json", interval=0.2)
    assert set(statuses) == {200}, statuses
    assert server.get("/after").status == 200
    wait_file_lines(tmp_path / "access.json", "GET /after", "the line after USR1")
    assert "GET /after" not in open(tmp_path / "access.json.1").read()
    # The master reopened its own: its next record lands in the new error log.
    os.kill(server.master_pid, signal.SIGTTIN)
    wait_file_lines(tmp_path / "error.json", "Handling signal: ttin",
                    "the master's record in the reopened error log")


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
def test_a_logger_class_subclass_formats_the_access_and_error_records(tmp_path, log_server):
    access = tmp_path / "access.log"
    server = log_server(SUBCLASS_CONFIG.replace("ACCESS", repr(str(access))))
    assert server.get("/sub", headers=[("X-Team", "blue")]).status == 200
    lines = wait_file_lines(access, "/sub", "the access line")
    assert 'team:200:blue [NOW] "GET /sub HTTP/1.1" 200 2' in lines, lines
    assert server.get("/boom").status == 500
    server.wait_for_log(r"\[INFO\] \[team\] Booting worker with pid: \d+", DEADLINE)
    server.wait_for_log(r"\[INFO\] \[team\] Listening at: ", DEADLINE)
    server.wait_for_log(r"\[ERROR\] Error handling request /boom", DEADLINE)


CUSTOM_ACCESS = r'''
import json
from gunicorn import glogging
class JsonAccess(glogging.Logger):
    def access(self, resp, req, environ, request_time):
        self.access_log.info(json.dumps({
            "status": resp.status, "path": environ["PATH_INFO"], "method": req.method,
            "sent": resp.sent, "us": request_time.microseconds + request_time.seconds * 10**6}))
'''


def test_a_logger_class_named_on_the_command_line_overrides_access(tmp_path, make_server):
    (tmp_path / "teamlog.py").write_text(CUSTOM_ACCESS)
    (tmp_path / "logapp.py").write_text(APP)
    access = tmp_path / "access.log"
    server = make_server("logapp:app", ["--logger-class", "teamlog.JsonAccess", "--access-logfile", str(access)],
                         chdir=str(tmp_path))
    assert server.get("/json-access").status == 200
    record = json.loads(wait_file_line(access, "/json-access", "the access line"))
    assert record["status"] == "200 OK" and record["method"] == "GET" and record["sent"] == 2, record
    assert record["us"] >= 0, record


@gthreadd_only("gthreadd's refusal of a logger class it cannot run")
def test_a_logger_class_that_does_not_extend_gunicorns_logger_is_refused(tmp_path, log_server):
    (tmp_path / "otherlog.py").write_text("class Logger:\n    def __init__(self, cfg):\n        pass\n")
    server = log_server("logger_class = 'otherlog.Logger'\n", start=False)
    assert server.wait_exit(DEADLINE) == 1
    assert "logger_class 'otherlog.Logger' is not a subclass of gunicorn.glogging.Logger" in server.log
    assert "use logconfig, logconfig_dict or logconfig_json" in server.log


@gthreadd_only("gthreadd's default path runs no Python logging")
def test_without_a_logging_configuration_python_logging_is_untouched(tmp_path, log_server):
    (tmp_path / "probe.py").write_text(
        "import logging, sys\n"
        "def app(environ, start_response):\n"
        "    seen = repr((logging.getLogger('gunicorn.error').handlers,\n"
        "                 logging.getLogger('gunicorn.access').handlers,\n"
        "                 'gunicorn.glogging' in sys.modules, 'logging.config' in sys.modules)).encode()\n"
        "    start_response('200 OK', [('Content-Length', str(len(seen)))])\n"
        "    return [seen]\n")
    # A .py config too: reading it leaves nothing of gthreadd's gunicorn.glogging behind.
    server = log_server("accesslog = '-'\n", app="probe:app")
    assert server.get("/").body == b"([], [], False, False)"
    server.wait_for_log(r'"GET / HTTP/1.1" 200', DEADLINE)


@gthreadd_only("--preload with a logging configuration: the master applies it once")
def test_preload_with_a_logging_configuration(tmp_path, log_server):
    server = log_server(dict_line(dict_config(tmp_path)), args=["--preload"])
    assert server.get("/preloaded").status == 200
    wait_file_lines(tmp_path / "access.json", "GET /preloaded", "the access line")
    wait_file_lines(tmp_path / "error.json", "Booting worker", "the boot record")


@gthreadd_only("an answer given without the app goes to gunicorn's Logger.access too")
def test_a_request_the_server_refuses_is_an_access_record_with_atoms(tmp_path, log_server):
    server = log_server(dict_line(capture_config(tmp_path)))
    with server.connect() as c:
        c.send(b"GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
        assert c.read_response().status == 400
    seen = captured_record(tmp_path, "/bad")
    assert (seen["s"], seen["r"], seen["args_type"]) == ("400", "GET /bad HTTP/1.1", "SafeAtoms"), seen
    assert seen["path_e"] == "/bad" and seen["h"] == "127.0.0.1", seen


@gthreadd_only("WORKER TIMEOUT with a logging configuration: the master's record and the hang report")
def test_worker_timeout_reaches_gunicorn_error_and_the_hang_report_never_waits_for_the_gil(tmp_path, log_server):
    shutil.copy(os.path.join(APPS, "hangs.py"), tmp_path / "hangs.py")
    error_log = tmp_path / "error.log"
    server = log_server(dict_line(dict_config(tmp_path)), app="hangs:app",
                        args=["--timeout", "2", "--error-logfile", str(error_log)], threads=2)
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        worker = server.worker_pids()[0]
        sock.sendall(build_request("GET", "/hold-gil?s=120", [("Connection", "close")]))
        # The master's record goes through Python, as gunicorn's Arbiter logs it.
        wait_file_lines(tmp_path / "error.json", "WORKER TIMEOUT (pid:%d)" % worker,
                        "the master's WORKER TIMEOUT record")
        # C code holds the worker's GIL: its report goes to gthreadd's error log, not to Python.
        lines = wait_file_lines(error_log, "GET /hold-gil?s=120", "the hang report")
        assert any("WORKER TIMEOUT: the master sent SIGABRT" in l for l in lines), lines
