"""What a client does on a kept-alive connection while the server is not looking at it:
the next request sent while the previous one runs, and the end of its side (FIN) sent
with or after its last request. The event loop registers each connection with epoll once,
edge-triggered; these are the cases where an edge arrives while a pool thread owns the
connection, or together with the bytes a read takes, and must not be lost.

The server keeps idle connections for 30 s here, so "closed at once" and "closed when the
keep-alive deadline passed" cannot be mistaken for each other. A test that needs a request
to be inside the app waits for the app to say so (a marker file), not for a guessed time."""
import os
import socket
import time

import pytest

from conftest import APPS, Server, build_request, module_server
from proc_util import wait_until

KEEPALIVE = 30
PROMPT = 10.0  # well below KEEPALIVE: generous for a loaded box, still unmistakable
APP_SLEEP_MS = 1000  # how long a request stays in the app once it said it started

hello_server = module_server("hello:app", args=["--keep-alive", str(KEEPALIVE)], threads=1)


@pytest.fixture(scope="module")
def sleepy_server(tmp_path_factory):
    """procinfo's /sleep/MS appends a line to $PROCINFO_STARTED as it starts sleeping."""
    started = str(tmp_path_factory.mktemp("started") / "started")
    server = Server("procinfo:app", args=["--keep-alive", str(KEEPALIVE)], threads=1,
                    chdir=os.path.join(APPS, "process"), env={"PROCINFO_STARTED": started})
    server.started = started
    server.start()
    yield server
    server.stop()


def _started(server):
    try:
        with open(server.started) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def send_into_app(conn, server):
    """Sends GET /sleep/APP_SLEEP_MS on `conn` and returns once the app is running it."""
    before = _started(server)
    conn.send(build_request("GET", "/sleep/%d" % APP_SLEEP_MS))
    wait_until(lambda: _started(server) > before, "the request to reach the app", PROMPT, 0.005)


@pytest.mark.strict  # gunicorn 20.1 gthread drops what is pipelined behind the first request
def test_half_close_behind_pipelined_requests_answers_all_then_closes(hello_server):
    with hello_server.connect() as c:
        c.send(build_request("GET", "/zero"))  # now an idle kept-alive connection
        zero = c.read_response()
        # Two requests and the FIN in one segment (corked): one edge reports both, the
        # read that takes the requests does not see the end, and no later edge will.
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        c.send(build_request("GET", "/one") + build_request("GET", "/two"))
        c.sock.shutdown(socket.SHUT_WR)
        first, second = c.read_response(), c.read_response()
        waited = c.wait_closed(PROMPT)
    assert [zero.status, first.status, second.status] == [200, 200, 200]
    assert waited is not None, "connection kept open after the client ended its side"


def test_half_close_while_the_request_runs_closes_after_the_answer(sleepy_server):
    with sleepy_server.connect() as c:
        send_into_app(c, sleepy_server)
        c.sock.shutdown(socket.SHUT_WR)  # the FIN arrives while the app runs
        response = c.read_response()
        waited = c.wait_closed(PROMPT)
    assert response.status == 200
    assert waited is not None, "connection kept open after the client ended its side"


def test_next_request_sent_while_one_runs_is_answered(sleepy_server):
    with sleepy_server.connect() as c:
        started = time.monotonic()
        send_into_app(c, sleepy_server)
        # Mid-request: the loop hears of it while a pool thread owns the connection.
        c.send(build_request("GET", "/second"))
        first = c.read_response()
        second = c.read_response()
        both = time.monotonic() - started
        # And the connection still hears its next request after going idle: the one pool
        # thread answering another connection shows it let go of this one.
        assert sleepy_server.get("/").status == 200
        c.send(build_request("GET", "/third"))
        third = c.read_response()
    assert [first.status, second.status, third.status] == [200, 200, 200]
    assert both < PROMPT, "the second request waited %.1f s" % both
