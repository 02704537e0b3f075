"""--log-level debug says what gunicorn's says (issue 13): the effective configuration at
boot (Arbiter.setup's "Current configuration:"), each request line from the default
pre_request hook ("%s %s", method and path), gthread's "Closing connection." and the
arbiter's "N workers"; at info none of it."""
import re
import subprocess

import pytest

from conftest import BIN, build_request

DEADLINE = 30.0


def print_config(*args):
    proc = subprocess.run([BIN, *args, "--print-config"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    out = {}
    for line in proc.stdout.splitlines():
        name, _, value = line.partition(" = ")
        out[name.strip()] = value
    return out


def current_configuration(log):
    """{name: value} from the lines after "Current configuration:" (each "  name: value")."""
    lines = log.splitlines()
    start = next(i for i, l in enumerate(lines) if l.endswith("[DEBUG] Current configuration:"))
    out = {}
    for line in lines[start + 1:]:
        m = re.fullmatch(r"  (\w+): (.*)", line)
        if not m:
            break
        out[m.group(1)] = m.group(2)
    return out


def test_debug_logs_the_configuration_requests_and_closes(make_server):
    server = make_server("hello:app", workers=1, threads=2, args=["--log-level", "debug"])
    server.wait_for_log(r"\[DEBUG\] 1 workers$", DEADLINE)
    shown = current_configuration(server.log)
    # Every setting --print-config shows, with the same value, config first.
    expected = print_config(*server.command()[1:])
    expected.pop("Configuration OK: hello:app", None)  # --print-config checks the app too
    for name in ("print_config", "check_config"):  # the two settings that differ, by design
        assert shown.pop(name) == "False" and expected.pop(name) == "True"
    assert len(shown) > 60
    assert shown == expected, set(shown.items()) ^ set(expected.items())
    assert list(shown)[0] == "config"
    assert shown["workers"] == "1" and shown["loglevel"] == "debug"
    # The default pre_request hook's line: method and path (no query string).
    with server.connect() as c:
        c.send(build_request("GET", "/some/path?q=1"))
        assert c.read_response().status == 200
        c.send(build_request("POST", "/other", [("Connection", "close")], body=b"x"))
        assert c.read_response().status == 200
    server.wait_for_log(r"\[DEBUG\] GET /some/path$", DEADLINE)
    server.wait_for_log(r"\[DEBUG\] POST /other$", DEADLINE)
    # Only for the responses that closed their connection: the start-up probe's
    # (Connection: close) and the POST's; not for the kept-alive GET, whose response was
    # read before the POST was sent, so a line for it would come between the two.
    server.wait_for_log(r"\[DEBUG\] Closing connection\.$", DEADLINE, count=2)
    lines = server.log.splitlines()
    get = next(i for i, l in enumerate(lines) if l.endswith("[DEBUG] GET /some/path"))
    post = next(i for i, l in enumerate(lines) if l.endswith("[DEBUG] POST /other"))
    assert not [l for l in lines[get:post] if "Closing connection" in l], server.log


def test_info_logs_none_of_it(make_server):
    server = make_server("hello:app", workers=1)
    with server.connect() as c:
        c.send(build_request("GET", "/some/path", [("Connection", "close")]))
        assert c.read_response().status == 200
    server.stop()
    log = server.log
    for text in ("[DEBUG]", "Current configuration", "Closing connection", "/some/path",
                 " workers\n"):
        assert text not in log + "\n", (text, log)


def test_a_pre_request_hook_replaces_the_default_line(make_server, tmp_path):
    conf = tmp_path / "conf.py"
    conf.write_text("def pre_request(worker, req):\n    worker.log.info('hook %s', req.path)\n")
    server = make_server("hello:app", args=["-c", str(conf), "--log-level", "debug"])
    assert server.get("/hooked").status == 200
    server.wait_for_log(r"hook /hooked$", DEADLINE)
    assert not re.search(r"\[DEBUG\] GET /hooked$", server.log, re.M), server.log
