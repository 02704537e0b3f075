"""Starting a server, knowing when it is ready, and stopping it and all it forked, by pid."""
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from . import procstat

SERVER_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": os.environ.get("HOME", "/root"),
    "PYTHONDONTWRITEBYTECODE": "1",  # keep the apps' directory clean
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def honours_close(port: int, path: str = "/") -> bool:
    """Whether a request with `Connection: close` ends its connection (RFC 9112 §9.6):
    the server closes, or announces `Connection: close` so the client (wrk) does."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except socket.timeout:
            head = data.partition(b"\r\n\r\n")[0].lower()
            return b"\r\nconnection: close" in head
    return True


def check_response(port: int, scenario) -> str | None:
    """Send the scenario's check request; returns what is wrong with the answer, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = b"x" * scenario.check_body_size if scenario.check_body_size else None
        headers = {"Content-Type": "application/octet-stream"} if body else {}
        conn.request(scenario.check_method, "/", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as err:
        return f"check request failed: {err or type(err).__name__}"
    finally:
        conn.close()
    if resp.status != 200:
        return f"check request got HTTP {resp.status}"
    if scenario.expect is not None and data != scenario.expect:
        return f"check request got body {data[:40]!r}, expected {scenario.expect[:40]!r}"
    if scenario.expect_size is not None and len(data) != scenario.expect_size:
        return f"check request got {len(data)} body bytes, expected {scenario.expect_size}"
    return None


class ServerProcess:
    """One server instance. Use as a context manager so it is stopped whatever happens."""

    def __init__(self, argv: list[str], log_path: Path, cpu: int | None):
        self.argv = (["taskset", "-c", str(cpu)] + argv) if cpu is not None else argv
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.known_pids: set[int] = set()

    def __enter__(self):
        log = open(self.log_path, "wb")
        try:
            # taskset execs the server, so proc.pid is the server's master.
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=SERVER_ENV,
                                         start_new_session=True)
        finally:
            log.close()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tree(self) -> list[int]:
        """Master and its live descendants; remembered so stop() can reach them all."""
        pids = [self.pid] + procstat.descendants(self.pid)
        self.known_pids.update(pids)
        return pids

    def workers(self) -> list[int]:
        pids = procstat.descendants(self.pid)
        self.known_pids.update(pids)
        return pids

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").rstrip().splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def wait_ready(self, port: int, path: str, timeout: float) -> str | None:
        """Poll until the app answers 200 on path; returns why not, or None when ready.

        A bound port is not enough: gunicorn's master binds before its workers have
        imported the app, so readiness is a real request answered by the app."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with status {self.proc.returncode} before it was ready"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    self.tree()
                    return None
                last = f"HTTP {resp.status}"
            except (OSError, http.client.HTTPException) as err:
                last = str(err) or type(err).__name__
            time.sleep(0.1)
        return f"not ready after {timeout:g}s ({last})"

    def stop(self, grace: float = 5.0) -> None:
        """SIGINT = quick stop for gunicorn, gthreadd, uWSGI and nginx alike; then SIGKILL
        every pid of the tree still alive after the grace period."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.tree()
            try:
                os.kill(self.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.tree()
        for pid in sorted(self.known_pids):
            if _is_ours(pid, self.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc.poll() is None:
            self.proc.wait(grace)
        self.proc = None


def _is_ours(pid: int, master: int) -> bool:
    """A remembered pid is still ours if it is alive, not a zombie, and still in the
    master's session (start_new_session made master the session leader), so a recycled
    pid belonging to someone else is never signalled."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = text[text.rindex(")") + 2:].split()
    return fields[0] != "Z" and int(fields[3]) == master
