"""Faults a deployment meets and no happy-path test walks (issue 10): clients that reset
mid-request, requests and downloads longer than --timeout, a GIL held in C code, the fd
limit, and request bodies that outgrow memory or disk.

Every wait polls for an outcome with a generous deadline; the deadlines the server is given
(header/body timeouts of 60 s) are far beyond the polls, so "closed at once" cannot be
mistaken for "closed when a deadline passed"."""
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import IS_GUNICORN, Server, build_request, gthreadd_only
from proc_util import fd_targets, wait_until

pytestmark = gthreadd_only("these settings")

SLOW = ["--header-timeout", "60", "--body-timeout", "60", "--keep-alive", "60"]


def socket_fds(pid):
    """How many sockets the process holds."""
    return sum(1 for target in fd_targets(pid) if target.startswith("socket:"))


def reset(sock):
    """Close with an RST instead of a FIN (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture
def start(make_server):
    def factory(args=(), **kwargs):
        return make_server("faults:app", args=list(args), **kwargs)
    return factory


# --- a reset is noticed at once ----------------------------------------------------------

@pytest.mark.parametrize("where", ["head", "body"])
def test_reset_mid_request_frees_the_connection_at_once(start, where):
    server = start(SLOW + ["--worker-connections", "8"])
    worker = server.worker_pids()[0]
    baseline = socket_fds(worker)
    head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.port))
        if where == "head":
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\n")  # the head, unfinished
        else:
            s.sendall(head + b"a" * 1000)
            # Read by the server before the next bytes: the reset then comes behind data in
            # one wake-up, which is what the peek after EPOLLHUP used to swallow.
            time.sleep(0.02)
            s.sendall(b"b" * 1000)
        reset(s)
    # 20 aborted requests against --worker-connections 8: held, they would lock new
    # clients out for the 60 s body timeout.
    wait_until(lambda: socket_fds(worker) <= baseline, "the worker to close the reset connections", 15)
    assert server.get("/").status == 200


# --- --timeout means the worker is stuck, not busy ---------------------------------------

def test_requests_longer_than_timeout_are_served(start):
    server = start(["--timeout", "2"], threads=2)
    results = []

    def one():
        results.append(server.request("GET", "/sleep?s=5").status)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200, 200], server.log
    assert "WORKER TIMEOUT" not in server.log


def test_download_slower_than_timeout_is_served(start):
    server = start(["--timeout", "2"], threads=1)
    with server.connect() as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.send(build_request("GET", "/download?mb=8", [("Connection", "close")]))
        got = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            data = c.sock.recv(262144)
            if not data:
                break
            got += len(data)
            time.sleep(0.1)  # about 2.5 MiB/s: the 8 MiB take longer than --timeout
    assert got > 8 * 1024 * 1024, "download cut after %d bytes\n%s" % (got, server.log)
    assert "WORKER TIMEOUT" not in server.log


def test_gil_held_in_c_code_is_timed_out(start):
    server = start(["--timeout", "2"], threads=1)
    first = server.worker_pids()[0]
    with server.connect(timeout=60) as c:
        c.send(build_request("GET", "/hold-gil?s=20", [("Connection", "close")]))
        server.wait_for_log(r"could not be entered", 30)
        server.wait_for_log(r"WORKER TIMEOUT \(pid:%d\)" % first, 30)
    wait_until(lambda: len(server.worker_pids()) >= 2, "a replacement worker", 30)
    wait_until(lambda: server.get("/").status == 200, "the replacement to serve", 30)


# --- out of file descriptors ---------------------------------------------------------

def test_fd_limit_pauses_accepting_logs_once_and_resumes(tmp_path):
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) is not installed")
    server = Server("faults:app", SLOW, workers=1, threads=1)
    plain = server.command
    server.command = lambda: ["prlimit", "--nofile=48:48"] + plain()
    try:
        server.start()
        assert re.search(r"--worker-connections 1000 needs about \d+ file descriptors", server.log)
        clients = []
        try:
            for _ in range(60):  # more than the 48 fds the worker may hold
                clients.append(socket.create_connection(("127.0.0.1", server.port)))
            server.wait_for_log(r"not accepting new connections", 15)
            time.sleep(2)  # the exhaustion lasts: a spinning listener would log thousands
            assert len(re.findall(r"not accepting new connections", server.log)) == 1, server.log[-3000:]
        finally:
            for c in clients:
                c.close()
        # Fds freed: the queued connections and new ones are served again.
        wait_until(lambda: server.get("/").status == 200, "serving after the fds freed up", 20)
        server.wait_for_log(r"Accepting new connections again", 15)
    finally:
        server.stop()


# --- request bodies: spill directory, caps, errors ---------------------------------------

def _start_upload(server, length, sent, extra_headers=()):
    c = server.connect(timeout=30)
    headers = [("Content-Length", str(length))] + list(extra_headers)
    c.send(build_request("POST", "/upload", headers) + b"u" * sent)
    return c


def test_bodies_spill_to_the_body_tmp_dir_not_dev_shm(start, tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    server = start(SLOW, env={"TMPDIR": str(spill)})
    worker = server.worker_pids()[0]
    c = _start_upload(server, 3 << 20, 2 << 20)  # past the 1 MiB kept in memory
    try:
        wait_until(lambda: any(t.startswith(str(spill)) for t in fd_targets(worker)),
                   "a spill file in $TMPDIR", 15)
        assert not any(t.startswith("/dev/shm/") and "body" in t for t in fd_targets(worker))
        c.send(b"u" * (1 << 20))
        resp = c.read_response("POST")
        assert resp.status == 200 and resp.body == str(3 << 20).encode()
    finally:
        c.close()


def test_body_tmp_dir_setting_and_a_missing_one_is_refused(start, tmp_path, make_server):
    spill = tmp_path / "bodies"
    spill.mkdir()
    server = start(SLOW + ["--body-tmp-dir", str(spill)])
    worker = server.worker_pids()[0]
    c = _start_upload(server, 3 << 20, 2 << 20)
    try:
        wait_until(lambda: any(t.startswith(str(spill)) for t in fd_targets(worker)),
                   "a spill file in --body-tmp-dir", 15)
    finally:
        c.close()
    bad = make_server("faults:app", args=["--body-tmp-dir", str(tmp_path / "nope")], start=False)
    assert bad.wait_exit(30) != 0
    assert "--body-tmp-dir %s: No such file or directory" % (tmp_path / "nope") in bad.log


def test_disk_cap_413_for_one_body_503_while_others_hold_it(start):
    server = start(SLOW + ["--max-body-disk", "4M", "--access-logfile", "-"], threads=2)
    # Larger than the cap by itself: 413 at once, before any 100 Continue.
    with server.connect() as c:
        c.send(build_request("POST", "/upload", [("Content-Length", str(5 << 20)),
                                                 ("Expect", "100-continue")]))
        resp = c.read_response("POST", skip_interim=False)
        assert resp.status == 413
    holder = _start_upload(server, 3 << 20, 1 << 20)
    try:
        # 3 MiB held by the unfinished upload: another 3 MiB does not fit.
        wait_until(lambda: server.request("POST", "/upload", [("Content-Length", str(3 << 20))],
                                          b"v" * (3 << 20)).status == 503,
                   "a 503 while the budget is held", 15)
        holder.send(b"u" * (2 << 20))
        assert holder.read_response("POST").status == 200
    finally:
        holder.close()
    # Given back once the holder's connection is reset for its next request (just after
    # its response went out): the same upload then succeeds.
    resp = wait_until(lambda: (lambda r: r if r.status == 200 else None)(
        server.request("POST", "/upload", [("Content-Length", str(3 << 20))], b"v" * (3 << 20))),
        "the budget given back", 15)
    assert resp.body == str(3 << 20).encode()
    # Every answer has its access-log line, the refused ones included.
    server.wait_for_log(r'"POST /upload HTTP/1.1" 413 ', 10)
    server.wait_for_log(r'"POST /upload HTTP/1.1" 503 ', 10)


def test_chunked_body_over_the_disk_cap_is_413(start):
    server = start(SLOW + ["--max-body-disk", "2M", "--max-body-memory", "1M"])
    piece = b"c" * 65536
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    with server.connect(timeout=30) as c:
        c.send(build_request("POST", "/upload", [("Transfer-Encoding", "chunked")]))
        try:
            for _ in range(48):  # 3 MiB
                c.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = c.read_response("POST")
    assert resp.status == 413


def test_rejected_requests_get_an_access_log_line(start):
    server = start(["--access-logfile", "-"])
    with server.connect() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        assert c.read_response().status == 400
    server.wait_for_log(r'"GET / HTTP/1.1" 400 ', 10)
    with server.connect() as c:
        c.send(b"GARBAGE\r\n\r\n")
        assert c.read_response().status == 400
    server.wait_for_log(r'"- - -" 400 ', 10)


def test_full_body_tmp_dir_is_a_logged_507(start, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        server = start(SLOW + ["--body-tmp-dir", str(small)])
        resp = server.request("POST", "/upload", [("Content-Length", str(4 << 20))], b"w" * (4 << 20))
        assert resp.status == 507
        server.wait_for_log(r"Cannot store a request body .* in --body-tmp-dir %s: No space left on device"
                            % re.escape(str(small)), 10)
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)


def test_client_that_stops_reading_is_dropped_and_logged_at_info(start):
    # The send timeout is max(--timeout, 30) s without progress: the thread is then freed.
    server = start(["--timeout", "1"], threads=1)
    with server.connect(timeout=90) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send(build_request("GET", "/download?mb=64", [("Connection", "close")]))
        server.wait_for_log(r"\[INFO\] Client 127\.0\.0\.1 read nothing for 30 s: dropped before the end "
                            r"of the response to GET /download\?mb=64", 90)
    # The thread it held serves again.
    assert server.get("/").status == 200
