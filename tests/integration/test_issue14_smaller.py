"""Issue 14, the smaller things gunicorn 21-26 configs rely on: retrying an address in use
(gunicorn's sock.create_sockets), reload_engine and glob patterns in reload_extra_files
(gunicorn 26.1), a config file that cannot be read, and wsgi.early_hints (gunicorn 25)."""
import http.client
import io
import os
import re
import socket
import time

import pytest

from conftest import BOOT_RE, START_DEADLINE, Conn, Server, build_request, gthreadd_only

DEADLINE = 30.0


def occupy_port():
    """A listening socket on a free loopback port: binding it again fails with EADDRINUSE."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


# --------------------------------------------------------------------------------------
# An address in use: five attempts a second apart, as gunicorn's create_sockets
# --------------------------------------------------------------------------------------

def test_an_address_freed_during_the_retries_is_served(make_server):
    holder, port = occupy_port()
    try:
        server = make_server("hello:app", args=["-b", "127.0.0.1:%d" % port], start=False)
        server.wait_for_log(r"Connection in use: \('127\.0\.0\.1', %d\)$" % port, DEADLINE)
        server.wait_for_log(r"\[ERROR\] Retrying in 1 second\.$", DEADLINE)
        time.sleep(1.5)  # a supervisor's old process, still exiting
    finally:
        holder.close()
    server.wait_for_log(r"Listening at: .*http://127\.0\.0\.1:%d[ ,]" % port, DEADLINE)
    server.wait_for_log(BOOT_RE, START_DEADLINE)
    with Conn(("127.0.0.1", port)) as c:
        c.send(build_request("GET", "/", [("Connection", "close")]))
        assert c.read_response().status == 200


def test_an_address_never_freed_gives_up_after_five_attempts(make_server):
    holder, port = occupy_port()
    try:
        server = make_server("hello:app", args=["-b", "127.0.0.1:%d" % port], start=False)
        assert server.wait_exit(DEADLINE) == 1
    finally:
        holder.close()
    log = server.log
    name = re.escape("('127.0.0.1', %d)" % port)
    assert len(re.findall(r"\[ERROR\] Connection in use: %s$" % name, log, re.M)) == 5, log
    assert len(re.findall(r"\[ERROR\] Retrying in 1 second\.$", log, re.M)) == 5, log
    assert re.search(r"\[ERROR\] Can't connect to %s$" % name, log, re.M), log
    assert "Booting worker" not in log


# --------------------------------------------------------------------------------------
# reload_engine, reload_extra_files patterns
# --------------------------------------------------------------------------------------

def test_reload_engine_poll_sees_a_changed_modification_time(make_server, tmp_path):
    # Only a modification time changes (what a file synced onto a network mount may show):
    # inotify reports no write for it, gunicorn's polling Reloader - and gthreadd's - does.
    extra = tmp_path / "settings.txt"
    extra.write_text("one")
    server = make_server("hello:app", args=["--reload", "--reload-engine", "poll",
                                             "--reload-extra-file", str(extra)])
    later = os.stat(extra).st_mtime + 10
    os.utime(extra, (later, later))
    server.wait_for_log(r"Worker reloading: .*settings\.txt modified", DEADLINE)
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)


@pytest.mark.parametrize("engine", ["auto", "inotify", "poll"])
def test_reload_engine_auto_and_inotify_reload(make_server, tmp_path, engine):
    extra = tmp_path / "settings.txt"
    extra.write_text("one")
    server = make_server("hello:app", args=["--reload", "--reload-engine", engine,
                                             "--reload-extra-file", str(extra)])
    extra.write_text("two")
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)


@gthreadd_only("glob patterns in --reload-extra-file (gunicorn 26.1)")
def test_reload_extra_file_patterns_match_recursively_and_files_created_later(make_server, tmp_path):
    deep = tmp_path / "templates" / "shop" / "cart"
    deep.mkdir(parents=True)
    (deep / "cart.html").write_text("one")
    (tmp_path / "templates" / "notes.txt").write_text("not matched")
    pattern = str(tmp_path / "templates" / "**" / "*.html")
    server = make_server("hello:app", args=["--reload", "--reload-extra-file", pattern])
    # A file the pattern does not match changes nothing...
    (tmp_path / "templates" / "notes.txt").write_text("still not matched")
    # ...one it matches, three directories down, restarts the worker.
    (deep / "cart.html").write_text("two")
    server.wait_for_log(r"Worker reloading: .*cart\.html modified", DEADLINE)
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)
    assert "notes.txt modified" not in server.log
    # A file created after the start is matched by the next expansion: written until the
    # worker restarts (an edit made before the expansion is not an edit of a watched file).
    later = tmp_path / "templates" / "later.html"
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and "later.html modified" not in server.log:
        later.write_text("x%f" % time.monotonic())
        time.sleep(0.3)
    server.wait_for_log(r"Worker reloading: .*later\.html modified", 5)


@gthreadd_only("glob patterns in --reload-extra-file (gunicorn 26.1)")
def test_a_pattern_matching_nothing_warns_and_the_server_starts(make_server, tmp_path):
    pattern = str(tmp_path / "nothing" / "*.json")
    server = make_server("hello:app", args=["--reload", "--reload-extra-file", pattern])
    server.wait_for_log(r"\[WARNING\] .*%s.* matches no file" % re.escape(pattern), DEADLINE)
    assert server.get("/").status == 200


# --------------------------------------------------------------------------------------
# A config file that cannot be read: one line, no traceback
# --------------------------------------------------------------------------------------

@gthreadd_only("the message for a config path that is a directory")
@pytest.mark.parametrize("name", ["conf.py", "conf.ini"])
def test_a_config_path_that_is_a_directory_is_one_clear_line(make_server, tmp_path, name):
    (tmp_path / name).mkdir()
    server = make_server("hello:app", args=["-c", str(tmp_path / name)], start=False)
    assert server.wait_exit(DEADLINE) == 1
    assert server.log.strip() == "Error: '%s' is not a regular file" % (tmp_path / name), server.log


# --------------------------------------------------------------------------------------
# wsgi.early_hints (gunicorn 25)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hints_server():
    server = Server("early_hints:app").start()
    yield server
    server.stop()


def read_raw_until(conn, marker, timeout=10.0):
    deadline = time.monotonic() + timeout
    while marker not in conn.buf and time.monotonic() < deadline:
        if not conn._fill():
            break
    return conn.buf


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_early_hints_precede_the_response_on_http11(hints_server):
    with hints_server.connect() as c:
        c.send(build_request("GET", "/", [("Connection", "close")]))
        raw = read_raw_until(c, b"preloaded")
    assert raw.startswith(
        b"HTTP/1.1 103 Early Hints\r\n"
        b"Link: </style.css>; rel=preload; as=style\r\n"
        b"Link: </app.js>; rel=preload; as=script\r\n\r\n"
        b"HTTP/1.1 200 OK\r\n"), raw
    assert raw.endswith(b"preloaded"), raw


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_early_hints_are_not_sent_on_http10(hints_server):
    with hints_server.connect() as c:
        c.send(build_request("GET", "/", version="HTTP/1.0"))
        raw = read_raw_until(c, b"preloaded")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n"), raw  # the server's version, RFC 9110 §2.5
    assert b"103" not in raw


class _Recorded:
    """A socket stand-in whose makefile() replays bytes already received."""

    def __init__(self, data):
        self.file = io.BytesIO(data)

    def makefile(self, mode):
        return self.file


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_http_client_parses_the_103_and_then_the_response(hints_server):
    # http.client skips only 100 Continue (CPython reads any other 1xx as the response and
    # then closes it), so its parser is given the 103 and what follows one after the other,
    # as a client that knows 103 reads them.
    with hints_server.connect() as c:
        c.send(build_request("GET", "/", [("Connection", "close")]))
        raw = c.read_until_close()
    end_of_interim = raw.index(b"\r\n\r\n") + 4
    interim = http.client.HTTPResponse(_Recorded(raw[:end_of_interim]))
    interim.begin()
    assert (interim.status, interim.reason) == (103, "Early Hints")
    assert interim.headers.get_all("Link") == ["</style.css>; rel=preload; as=style",
                                               "</app.js>; rel=preload; as=script"]
    assert interim.read() == b""
    final = http.client.HTTPResponse(_Recorded(raw[end_of_interim:]))
    final.begin()
    assert final.status == 200 and final.read() == b"preloaded"


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_every_request_on_a_keep_alive_connection_gets_its_own_hints(hints_server):
    with hints_server.connect() as c:
        for _ in range(3):
            c.send(build_request("GET", "/"))
            r = c.read_response()
            assert r.status == 200 and r.body == b"preloaded"
            assert [status for status, _ in r.interim] == [103], r.interim


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_early_hints_with_a_bad_header_raise_into_the_app(hints_server):
    with hints_server.connect() as c:
        c.send(build_request("GET", "/bad", [("Connection", "close")]))
        r = c.read_response(skip_interim=False)
    assert r.status == 200 and r.body == b"ValueError" and not r.interim, r


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_early_hints_after_the_head_went_out_send_nothing(hints_server):
    with hints_server.connect() as c:
        c.send(build_request("GET", "/late", [("Connection", "close")]))
        raw = c.read_until_close()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and b"103" not in raw, raw


@gthreadd_only("wsgi.early_hints (gunicorn 25)")
def test_an_early_hints_callable_kept_past_its_request_raises(hints_server):
    with hints_server.connect() as c:
        c.send(build_request("GET", "/keep"))
        c.read_response()
        c.send(build_request("GET", "/kept", [("Connection", "close")]))
        r = c.read_response()
    assert r.body == b"ValueError", r


# --------------------------------------------------------------------------------------
# Access-log atoms as gunicorn writes them (lines produced by gunicorn 20.1 for the same
# requests; the atoms are unchanged up to 26)
# --------------------------------------------------------------------------------------

ATOMS = '%(h)s|%(l)s|%(u)s|%(r)s|%(s)s|%(U)s|%(a)s|%({x-out}o)s|%(U).4s'


def access_lines(server, log, raw_requests):
    for raw in raw_requests:
        with server.connect() as c:
            c.send(raw)
            c.read_until_close()
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        lines = [l for l in open(log, "rb").read().split(b"\n") if l and b"__ready__" not in l]
        if len(lines) >= len(raw_requests):
            return lines
        time.sleep(0.05)
    pytest.fail("access log lines missing:\n%s" % open(log, "rb").read())


@pytest.mark.parametrize("unix", [False, True])
def test_access_atoms_byte_for_byte_with_gunicorn(make_server, tmp_path, unix):
    log = str(tmp_path / "access.log")
    server = make_server("access_atoms:app", unix=unix,
                         args=["--access-logfile", log, "--access-logformat", ATOMS])
    lines = access_lines(server, log, [
        b"GET /caf%C3%A9 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\xc3\xa9 \xe9\r\n"
        b"Authorization: Basic w6k6eA==\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic 6Tp4\r\nConnection: close\r\n\r\n",
    ])
    host = b"" if unix else b"127.0.0.1"  # gunicorn's REMOTE_ADDR for a unix-socket peer is ''
    assert lines == [
        host + b"|-|-|GET /caf%C3%A9 HTTP/1.1|200|/caf\xc3\x83\xc2\xa9|-|v\\\"1|/caf",
        host + b"|-|\xc3\xa9|GET / HTTP/1.1|200|/|caf\xc3\x83\xc2\xa9 \xc3\xa9|v\\\"1|/",
        host + b"|-|-|GET / HTTP/1.1|200|/|-|v\\\"1|/",
    ], lines
