"""Deadlines enforced by the event loop: the header deadline, the body-idle deadline,
keep-alive idle close, and slow clients that must not starve normal ones.

Each deadline is checked by polling for the close with a bound well above the deadline set
(and below the default, where the test would not tell them apart)."""
import threading
import time

import pytest

from conftest import build_request, gthreadd_only
from proc_util import accepted_and_read, wait_until

PARTIAL_HEAD = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def assert_closed_with(conn, statuses, within):
    """The server closes `conn` within `within` seconds, after at most one response whose
    status is in `statuses`."""
    elapsed = conn.wait_closed(within)
    assert elapsed is not None, "connection still open after %.1fs" % within
    if conn.buf:
        assert conn.buf.split(b"\r\n", 1)[0][9:12] in [b"%d" % s for s in statuses], conn.buf
    return elapsed


@gthreadd_only("--header-timeout")
def test_stalled_head_gets_408_or_close_within_the_header_deadline(make_server):
    server = make_server("hello:app", args=["--header-timeout", "1"])
    with server.connect() as c:
        start = time.monotonic()
        c.send(PARTIAL_HEAD)
        assert_closed_with(c, [408], within=8)  # the default header deadline is 10 s
        # Not before the deadline: the server waited for the rest of the head.
        assert time.monotonic() - start >= 0.8
    assert server.get("/").status == 200


@gthreadd_only("--body-timeout")
def test_stalled_body_is_closed_within_the_body_deadline(make_server):
    server = make_server("echo:app", args=["--body-timeout", "1"])
    with server.connect() as c:
        c.send(build_request("POST", "/read", [("Content-Length", "100")]) + b"only some")
        assert_closed_with(c, [400, 408, 500], within=15)  # the default is 30 s
    assert server.get("/").status == 200


def test_idle_keep_alive_connection_is_closed_after_keep_alive_seconds(make_server):
    server = make_server("hello:app", args=["--keep-alive", "1"])
    with server.connect() as c:
        c.send(build_request("GET", "/"))
        assert c.read_response().status == 200
        elapsed = c.wait_closed(15)
        assert elapsed is not None, "idle keep-alive connection still open after 15 s"
        assert c.buf == b""


@pytest.mark.strict  # gunicorn 20.1 gthread parses heads on its pool threads
def test_forty_dribbling_clients_do_not_delay_a_normal_request(make_server):
    # A server that read heads on its one pool thread would hold the normal request until a
    # slow head completed (200 bytes at 5 a second: 40 s) or hit the header deadline (10 s
    # by default); `prompt` is generous for a loaded box and still below both.
    prompt = 8.0
    server = make_server("hello:app", threads=1)
    slow = [server.connect() for _ in range(40)]
    client_ports = {c.sock.getsockname()[1] for c in slow}
    stop = threading.Event()
    first_round = threading.Event()
    head = PARTIAL_HEAD + b"a" * 200

    def dribble():
        for i in range(len(head)):  # bounded; the stimulus, not a wait
            for c in slow:
                try:
                    c.send(head[i:i + 1])
                except OSError:
                    pass
            first_round.set()
            if stop.wait(0.2):
                return

    driver = threading.Thread(target=dribble, daemon=True)
    driver.start()
    try:
        # Every slow client has a partial head in the server: accepted, and its bytes read.
        assert first_round.wait(30)
        seen = set()
        wait_until(lambda: seen.update(accepted_and_read(server.port, client_ports))
                   or seen == client_ports, "the server to accept and read all 40 slow clients",
                   30)
        for _ in range(3):
            start = time.monotonic()
            with server.connect(timeout=5) as c:
                c.send(build_request("GET", "/", [("Connection", "close")]))
                resp = c.read_response()
            elapsed = time.monotonic() - start
            assert resp.status == 200 and resp.body == b"Hello, World!"
            assert elapsed < prompt, "a normal request took %.2fs behind slow clients" % elapsed
    finally:
        stop.set()
        driver.join(5)
        for c in slow:
            c.close()
