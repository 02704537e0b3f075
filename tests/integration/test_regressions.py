"""Regression tests for bugs that were fixed, each named for what went wrong."""
import os
import time

import pytest

from conftest import build_request
from proc_util import live_children

# The app echoes what it was asked; on /slow it first drops a marker file (so the test
# knows the request is inside the app, not guessing with a sleep) and then sleeps.
RACE_APP = '''
import json
import os
import time


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/slow":
        with open(os.environ["RACE_STARTED"], "w"):
            pass
        time.sleep(0.3)
    headers = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    out = json.dumps({"method": environ["REQUEST_METHOD"], "path": path,
                      "query": environ.get("QUERY_STRING", ""), "headers": headers}).encode()
    # Echoed in the head as well, so a HEAD request can be checked too.
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(out))),
                              ("X-Echo-Method", environ["REQUEST_METHOD"]),
                              ("X-Echo-Path", path),
                              ("X-Echo-First", environ.get("HTTP_X_FIRST", "-"))])
    return [out]
'''

PADS = 8            # 8 fields of 5000 bytes: ~40 KB of head, within the default field limits
PAD_SIZE = 5000


def _wait_for_file(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < deadline, "the app never started the first request"
        time.sleep(0.005)


def _access_lines(path, count, timeout=10.0):
    """The access log's lines (ready probe excluded), once `count` of them are in: a pool
    thread writes a line after its response went out."""
    deadline = time.monotonic() + timeout
    while True:
        lines = []
        if os.path.exists(path):
            with open(path, encoding="latin-1") as f:
                lines = [l for l in f.read().splitlines() if "/__ready__" not in l]
        if len(lines) >= count or time.monotonic() >= deadline:
            return lines
        time.sleep(0.02)


@pytest.mark.strict  # gunicorn 20.1 sends the app's body after a HEAD response
def test_pipelined_bytes_while_first_request_runs_leave_it_intact(make_server, tmp_path):
    """6f5fd4f: a request complete on the first read after accept was dispatched while its
    fd stayed armed in epoll; a pipelined request arriving while the app ran was read into
    the connection's buffer, and a large one made the buffer grow, so the running request's
    method, target and headers pointed into freed memory: a HEAD answered with a body,
    garbage in its access log line, a heap-use-after-free under ASan. The first request is
    a HEAD so that a method read from freed memory changes what goes on the wire."""
    (tmp_path / "race_app.py").write_text(RACE_APP)
    started = str(tmp_path / "started")
    access = str(tmp_path / "access.log")
    server = make_server(
        "race_app:app", chdir=str(tmp_path), env={"RACE_STARTED": started},
        args=["--access-logfile", access,
              "--access-logformat", "%(r)s|%({x-first}i)s|%(s)s"])

    first_value = "first-" + "f" * 100
    pad = "p" * PAD_SIZE
    second_headers = [("X-Pad-%d" % i, pad) for i in range(PADS)]
    with server.connect() as c:
        c.send(build_request("HEAD", "/slow?q=1", [("X-First", first_value)]))
        _wait_for_file(started)
        # Sent while the app sleeps with the first request, bigger than the read buffer.
        c.send(build_request("POST", "/second", second_headers + [("Connection", "close")],
                             body=b"x"))
        first = c.read_response("HEAD")
        second = c.read_response()
        rest = c.read_until_close()

    assert first.status == 200, first
    assert (first.header("X-Echo-Method"), first.header("X-Echo-Path"),
            first.header("X-Echo-First")) == ("HEAD", "/slow", first_value)
    assert first.body == b""
    assert second.status == 200, second
    got = second.json()
    assert (got["method"], got["path"], got["query"]) == ("POST", "/second", "")
    assert got["headers"]["HTTP_HOST"] == "127.0.0.1"
    for i in range(PADS):
        assert got["headers"]["HTTP_X_PAD_%d" % i] == pad
    assert rest == b"", "bytes after the last response: %r" % rest[:300]

    lines = _access_lines(access, 2)
    assert lines[:2] == ["HEAD /slow?q=1 HTTP/1.1|%s|200" % first_value,
                         "POST /second HTTP/1.1|-|200"], "\n".join(lines) + "\n" + server.log


@pytest.mark.strict  # gunicorn 20.1 has no notion of a worker asking for its successor
def test_max_requests_churn_does_not_pile_up_retiring_workers(make_server):
    """With a low --max-requests under steady load some worker was always booting, and the
    master waited for "every new worker booted" before stopping any retiring one: 20+
    workers piled up with -w 2. Now the retirees go once enough successors are up, and
    never more of them than the target stay alive."""
    server = make_server("hello:app", workers=2, threads=2,
                         args=["--max-requests", "10", "--graceful-timeout", "30"])
    failures = 0
    most = 0
    deadline = time.monotonic() + 6.0
    sent = 0
    while time.monotonic() < deadline and sent < 20000:
        try:
            if server.get("/").status != 200:
                failures += 1
        except OSError:
            failures += 1
        sent += 1
        if sent % 10 == 0:
            most = max(most, len(live_children(server.master_pid)))
    assert failures == 0
    assert len(server.worker_pids()) > 4, "the workers were never recycled"
    # target 2 + successors booting + at most 2 retirees + ones finishing their exit
    assert most <= 8, "up to %d workers alive at once with -w 2" % most
