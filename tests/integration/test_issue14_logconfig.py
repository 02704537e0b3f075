"""logconfig, logconfig_dict, logconfig_json (issue 14): with one set, the workers' error
records and the access lines go to Python's "gunicorn.error" and "gunicorn.access" loggers,
configured as gunicorn's glogging.Logger.setup does (CONFIG_DEFAULTS, then the user's
configuration), so a team's formatters and handlers work unchanged; HUP re-applies it."""
import json
import os
import signal
import time

import pytest

from conftest import BOOT_RE, Server, gthreadd_only

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


def dict_config(tmp_path, access_name="access.json"):
    # update() over gunicorn's CONFIG_DEFAULTS is shallow: a config replacing "handlers"
    # names its own root too (gunicorn refuses it otherwise, as gthreadd does).
    return {
        "version": 1,
        "root": {"level": "INFO", "handlers": []},
        "formatters": {
            "json": {"format": '{"logger": "%(name)s", "level": "%(levelname)s", "msg": "%(message)s"}'},
        },
        "handlers": {
            "access_file": {"class": "logging.FileHandler", "formatter": "json",
                            "filename": str(tmp_path / access_name)},
            "error_file": {"class": "logging.FileHandler", "formatter": "json",
                           "filename": str(tmp_path / "error.json")},
        },
        "loggers": {
            "gunicorn.access": {"level": "INFO", "handlers": ["access_file"], "propagate": False},
            "gunicorn.error": {"level": "INFO", "handlers": ["error_file"], "propagate": False},
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
        (tmp_path / "gunicorn.conf.py").write_text("logconfig_dict = %r\n" % dict_config(tmp_path, "second.json"))
        os.kill(server.master_pid, signal.SIGHUP)
        server.wait_for_log(BOOT_RE, DEADLINE, count=2)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            server.get("/two")
            if os.path.exists(tmp_path / "second.json") and "GET /two" in open(tmp_path / "second.json").read():
                break
            time.sleep(0.1)
        assert "GET /two" in open(tmp_path / "second.json").read()
    finally:
        server.stop()
