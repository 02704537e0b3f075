"""Fixtures for the integration suite: start the real server binary, talk raw HTTP to it.

The binary comes from $GTHREADD_BIN (ctest sets it). GTHREADD_BIN=gunicorn runs the same
suite against Debian's gunicorn 20.1 with `-k gthread`: the happy-path tests must pass
there; tests marked `strict` check rules gunicorn 20.1 is lenient about and are expected to
fail against it (select them away with `-m "not strict"`). Tests that need a flag gunicorn
does not have are skipped there, with the reason.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.abspath(os.path.join(HERE, "..", "apps"))

START_DEADLINE = 30.0   # generous: a sanitizer build on a busy 2-core box boots slowly
STOP_DEADLINE = 10.0
IO_TIMEOUT = 10.0


def _find_binary():
    name = os.environ.get("GTHREADD_BIN") or "gthreadd"
    if os.sep in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name)


BIN = _find_binary()
IS_GUNICORN = BIN is not None and "gunicorn" in os.path.basename(BIN)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "strict: a rule gunicorn 20.1 is lenient about (expected to fail there)")


def pytest_collection_modifyitems(config, items):
    if BIN is None:
        skip = pytest.mark.skip(
            reason="no server binary: set GTHREADD_BIN (ctest does) or put gthreadd on PATH")
        for item in items:
            item.add_marker(skip)


def gthreadd_only(flag):
    """Skip under gunicorn for a test that needs a flag gunicorn 20.1 does not have."""
    return pytest.mark.skipif(IS_GUNICORN, reason="gunicorn 20.1 has no %s option" % flag)


# --------------------------------------------------------------------------------------
# Raw HTTP over a socket
# --------------------------------------------------------------------------------------

class ConnectionClosed(AssertionError):
    """The peer closed before a complete response arrived."""


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head, interim):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers          # [(name, value)] as sent, latin-1 decoded
        self.body = body
        self.raw_head = raw_head
        self.interim = interim          # 1xx responses seen before this one: [(status, head)]

    def header(self, name, default=None):
        values = self.header_values(name)
        return values[0] if values else default

    def header_values(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n.lower() == name]

    def json(self):
        import json
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %s %r body=%d bytes>" % (
            self.status, self.reason, self.headers, len(self.body))


class Conn:
    """One client connection with a read buffer, so pipelined responses can be taken apart."""

    def __init__(self, address, family=socket.AF_INET, timeout=IO_TIMEOUT):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.buf = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_request(self, method="GET", target="/", headers=None, body=b"",
                     version="HTTP/1.1", host="127.0.0.1"):
        self.send(build_request(method, target, headers, body, version, host))

    def _fill(self, timeout=None):
        """Read more bytes into the buffer; False at EOF (a reset after data counts as EOF)."""
        if self.eof:
            return False
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError:
            data = b""
        finally:
            if timeout is not None:
                self.sock.settimeout(IO_TIMEOUT)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _take(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionClosed("closed after %d of %d bytes" % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _take_line(self, limit=1 << 16):
        while b"\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError("line longer than %d bytes: %r" % (limit, self.buf[:200]))
            if not self._fill():
                raise ConnectionClosed("closed inside a line: %r" % self.buf[:200])
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > (1 << 20):
                raise AssertionError("response head over 1 MiB: %r" % self.buf[:200])
            if not self._fill():
                if self.buf:
                    raise ConnectionClosed("closed inside a response head: %r" % self.buf[:300])
                raise ConnectionClosed("closed with no response")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def read_response(self, method="GET", skip_interim=True):
        """Reads one response: status line, headers, then the body framed by chunked,
        Content-Length or close (RFC 9112 section 6.3). 1xx responses are collected in
        .interim unless skip_interim is False, in which case a 1xx is returned itself."""
        interim = []
        while True:
            head = self._take_head()
            lines = head.split(b"\r\n")
            m = re.match(rb"^(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
            if not m:
                raise AssertionError("malformed status line: %r" % lines[0])
            status = int(m.group(2))
            headers = []
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if not sep:
                    raise AssertionError("malformed header line %r in %r" % (line, head))
                headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
            if 100 <= status < 200 and skip_interim and status != 101:
                interim.append((status, head))
                continue
            break
        resp = Response(m.group(1).decode(), status, m.group(3).decode("latin-1"), headers,
                        b"", head, interim)
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return resp
        te = ",".join(resp.header_values("Transfer-Encoding")).lower()
        if te:
            if te.split(",")[-1].strip() != "chunked":
                raise AssertionError("response Transfer-Encoding is not chunked: %r" % te)
            resp.body = self._read_chunked()
        elif resp.header("Content-Length") is not None:
            lengths = set(resp.header_values("Content-Length"))
            if len(lengths) != 1 or not next(iter(lengths)).isdigit():
                raise AssertionError("bad response Content-Length: %r" % lengths)
            resp.body = self._take(int(next(iter(lengths))))
        else:
            resp.body = self.read_until_close()
        return resp

    def _read_chunked(self):
        body = []
        for _ in range(10_000_000):
            size_line = self._take_line()
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while self._take_line() != b"":  # trailers
                    pass
                return b"".join(body)
            body.append(self._take(size))
            if self._take(2) != b"\r\n":
                raise AssertionError("chunk data not followed by CRLF")
        raise AssertionError("endless chunked body")

    def read_until_close(self, timeout=IO_TIMEOUT):
        """Everything until the peer closes; fails if it is still open after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("connection still open after %.1fs; got %r"
                                     % (timeout, self.buf[:300]))
            try:
                if not self._fill(timeout=left):
                    break
            except socket.timeout:
                raise AssertionError("connection still open after %.1fs; got %r"
                                     % (timeout, self.buf[:300]))
        out, self.buf = self.buf, b""
        return out

    def wait_closed(self, timeout):
        """Seconds until the peer closed, or None if still open after `timeout`. Bytes that
        arrive meanwhile stay in the buffer."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                if not self._fill(timeout=left):
                    return time.monotonic() - start
            except socket.timeout:
                return None


def build_request(method="GET", target="/", headers=None, body=b"", version="HTTP/1.1",
                  host="127.0.0.1"):
    """Serialises a request. `headers` is a list of (name, value) str or bytes pairs; Host is
    added first unless host is None or the list has one; Content-Length is added for a
    non-empty body unless the list frames it already."""
    def b(x):
        return x if isinstance(x, bytes) else x.encode("latin-1")
    headers = list(headers or [])
    names = [b(n).lower() for n, _ in headers]
    if host is not None and b"host" not in names:
        headers.insert(0, ("Host", host))
    if body and b"content-length" not in names and b"transfer-encoding" not in names:
        headers.append(("Content-Length", str(len(body))))
    out = b"%s %s %s\r\n" % (b(method), b(target), b(version))
    for name, value in headers:
        out += b(name) + b": " + b(value) + b"\r\n"
    return out + b"\r\n" + b(body)


def exchange(port, data, timeout=IO_TIMEOUT):
    """Sends `data` on a new connection to 127.0.0.1:port and returns every byte the server
    sends until it closes the connection (a request with `Connection: close`, or a
    listener that answers and closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


# --------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------

LISTEN_RE = re.compile(r"Listening at: (\S+) \((\d+)\)")
BOOT_RE = re.compile(r"Booting worker with pid: (\d+)")


class Server:
    """One server process tree started from BIN. Always stop() it (the fixtures do)."""

    def __init__(self, app, args=(), workers=1, threads=1, unix_dir=None, env=None,
                 chdir=APPS):
        self.app = app
        self.args = list(args)
        self.workers = workers
        self.threads = threads
        self.unix_path = os.path.join(unix_dir, "gthreadd.sock") if unix_dir else None
        self.env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {}))
        self.chdir = chdir
        self.proc = None
        self.port = None
        self.master_pid = None
        self._lines = []
        self._cond = threading.Condition()
        self._reader = None
        self._reaped = False

    # --- process ---------------------------------------------------------------------
    def command(self):
        cmd = [BIN]
        if IS_GUNICORN:
            cmd += ["-k", "gthread"]
        bind = "unix:" + self.unix_path if self.unix_path else "127.0.0.1:0"
        cmd += ["-w", str(self.workers), "--threads", str(self.threads), "-b", bind]
        if self.chdir:
            cmd += ["--chdir", self.chdir]
        cmd += self.args
        if self.app is not None:
            cmd.append(self.app)
        return cmd

    def spawn(self):
        """Starts the process without waiting for anything."""
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        _LIVE.add(self)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        return self

    def start(self):
        """Starts and waits until it listens, every worker booted and a request succeeds."""
        self.spawn()
        m = self.wait_for_log(LISTEN_RE, START_DEADLINE)
        self.master_pid = int(m.group(2))
        if not self.unix_path:
            pm = re.match(r"http://127\.0\.0\.1:(\d+)$", m.group(1))
            assert pm, "unexpected listen address %r\n%s" % (m.group(1), self.log)
            self.port = int(pm.group(1))
        self.wait_for_log(BOOT_RE, START_DEADLINE, count=self.workers)
        self._wait_serving()
        return self

    def _wait_serving(self):
        deadline = time.monotonic() + START_DEADLINE
        last = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with self.connect(timeout=5) as c:
                    c.send(build_request("GET", "/__ready__", [("Connection", "close")]))
                    c.read_response()  # any complete response: the server is serving
                    return
            except (OSError, AssertionError) as e:
                last = e
                time.sleep(0.05)
        pytest.fail("server never answered a request (%r)\n--- log ---\n%s" % (last, self.log))

    def _read_log(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self._cond:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def log(self):
        with self._cond:
            return "\n".join(self._lines)

    def _check_alive(self):
        if self.proc.poll() is not None:
            if self._reader:
                self._reader.join(2)
            pytest.fail("server exited with %s\ncommand: %s\n--- log ---\n%s"
                        % (self.proc.returncode, " ".join(self.command()), self.log))

    def wait_for_log(self, regex, timeout, count=1):
        """Waits until `count` log lines match; returns the last match."""
        regex = re.compile(regex) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matches = [m for m in map(regex.search, self._lines) if m]
                if len(matches) >= count:
                    return matches[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    break
                self._cond.wait(min(left, 0.2))
        self._check_alive()
        pytest.fail("no %d log line(s) matching %r within %.0fs\n--- log ---\n%s"
                    % (count, regex.pattern, timeout, self.log))

    def worker_pids(self):
        """Every worker pid the log announced, in boot order (dead ones included)."""
        with self._cond:
            return [int(m.group(1)) for m in map(BOOT_RE.search, self._lines) if m]

    def wait_exit(self, timeout):
        """The exit code, failing if the process is still running after `timeout`."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail("server still running after %.0fs\n--- log ---\n%s" % (timeout, self.log))
        self._reaped = True
        self._reader.join(5)
        return code

    def stop(self, sig=signal.SIGTERM):
        """SIGTERM the master, wait, then SIGKILL its process group. The master is left a
        zombie (not reaped) while the group is killed, so its pid — the group id — cannot
        have been reused by an unrelated process."""
        if self.proc is None:
            return None
        if not self._reaped:
            pid = self.proc.pid
            if not _exited_unreaped(pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + STOP_DEADLINE
                while not _exited_unreaped(pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
            try:
                os.killpg(pid, signal.SIGKILL)  # stragglers: workers, grandchildren
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self._reaped = True
        if self._reader:
            self._reader.join(5)
        _LIVE.discard(self)
        return self.proc.returncode

    # --- clients ---------------------------------------------------------------------
    def connect(self, timeout=IO_TIMEOUT):
        if self.unix_path:
            return Conn(self.unix_path, socket.AF_UNIX, timeout)
        return Conn(("127.0.0.1", self.port), socket.AF_INET, timeout)

    def request(self, method="GET", target="/", headers=None, body=b"", version="HTTP/1.1"):
        """One request on a fresh connection (Connection: close); returns the Response."""
        headers = list(headers or [])
        if not any(n.lower() == "connection" for n, _ in headers):
            headers.append(("Connection", "close"))
        with self.connect() as c:
            c.send(build_request(method, target, headers, body, version))
            return c.read_response(method)

    def get(self, target="/", headers=None):
        return self.request("GET", target, headers)


def _exited_unreaped(pid):
    """True once `pid` exited, without reaping it."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


_LIVE = set()


@pytest.fixture(scope="session", autouse=True)
def _stop_leftover_servers():
    yield
    for server in list(_LIVE):
        server.stop(signal.SIGKILL)


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server("hello:app", args=[...], workers=1, threads=1, unix=False,
    env={...}, start=True). Every server it made is stopped at teardown."""
    made = []

    def factory(app, args=(), workers=1, threads=1, unix=False, env=None, start=True,
                chdir=APPS):
        server = Server(app, args, workers, threads, str(tmp_path) if unix else None, env,
                        chdir)
        made.append(server)
        return server.start() if start else server.spawn()

    yield factory
    for server in made:
        server.stop()


def module_server(app, **kwargs):
    """A module-scoped server fixture, for the many tests that share one configuration."""
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory):
        server = Server(app, **kwargs).start()
        yield server
        server.stop()
    return fixture


# --------------------------------------------------------------------------------------
# The counter app: proves whether the app was called
# --------------------------------------------------------------------------------------

class CallLog:
    """The file the counter app appends "METHOD TARGET" to, once per call."""

    SENTINEL = "/_s"  # short: it must fit the tiny --limit-request-line some tests set

    def __init__(self, path):
        self.path = path

    def clear(self):
        with open(self.path, "w"):
            pass

    def lines(self):
        try:
            with open(self.path, encoding="latin-1") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def settled(self, server):
        """App calls recorded so far, after a sentinel request went through the app: with
        one worker, a call still in flight for an earlier connection would have been
        recorded by then. Ready probes and the sentinel itself are left out."""
        resp = server.get(self.SENTINEL)
        assert resp.status == 200, resp
        out = []
        for line in self.lines():
            if line in ("GET " + self.SENTINEL, "close " + self.SENTINEL) or "/__ready__" in line:
                continue
            out.append(line)
        return out

    def calls(self, server):
        return [l for l in self.settled(server) if not l.startswith("close ")]


def start_counter_server(tmp_path_factory, args=()):
    """`counter:app` with one worker and one thread, recording its calls in a file."""
    path = str(tmp_path_factory.mktemp("calls") / "calls.log")
    server = Server("counter:app", args, workers=1, threads=1,
                    env={"GTHREADD_TEST_CALLS": path})
    server.calls = CallLog(path)
    return server.start()


def counter_module_server(name, args=()):
    """Two fixtures: `<name>_shared`, a module-scoped counter server with extra flags, and
    `<name>`, the same server with an empty call log for each test. Use as
    `limits_shared, limits = counter_module_server("limits", [...])`."""
    @pytest.fixture(scope="module", name=name + "_shared")
    def shared(tmp_path_factory):
        server = start_counter_server(tmp_path_factory, args)
        yield server
        server.stop()

    @pytest.fixture(name=name)
    def fixture(request):
        server = request.getfixturevalue(name + "_shared")
        server._check_alive()
        server.calls.clear()
        return server

    return shared, fixture


@pytest.fixture(scope="module")
def counter_server(tmp_path_factory):
    server = start_counter_server(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture
def counter(counter_server):
    """The shared counter server, with its call log emptied for this test."""
    counter_server._check_alive()
    counter_server.calls.clear()
    return counter_server


def assert_rejected(server, raw, statuses, behind=True):
    """Sends `raw` (then, if `behind`, a valid request in the same write) and checks: one
    response with a status in `statuses`, the connection closed after it, nothing behind
    it served, and the app never called."""
    if isinstance(statuses, int):
        statuses = {statuses}
    server.calls.clear()
    tail = build_request("GET", "/behind") if behind else b""
    with server.connect(timeout=5) as c:
        try:
            c.send(raw + tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may reject and close before the whole write is in
        resp = c.read_response()
        assert resp.status in statuses, "expected %s, got %r for %r" % (statuses, resp, raw)
        rest = c.read_until_close(timeout=5)
        assert rest == b"", "bytes after the error response: %r" % rest[:300]
    assert server.calls.calls(server) == [], "the app was called for %r" % raw
    return resp
