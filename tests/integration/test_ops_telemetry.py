"""--capture-output, --log-syslog (to loopback UDP and TCP sockets) and StatsD metrics with
gunicorn's names, --statsd-prefix and --dogstatsd-tags."""
import os
import re
import socket
import time

import pytest

from conftest import IS_GUNICORN
from ops_util import UdpListener

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gthreadd's own wire formats are checked")


def wait_for_text(path, needles, deadline=10.0):
    end = time.monotonic() + deadline
    text = ""
    while time.monotonic() < end:
        text = open(path).read() if os.path.exists(path) else ""
        if all(n in text for n in needles):
            break
        time.sleep(0.02)
    return text


@pytest.fixture
def udp():
    listener = UdpListener()
    yield listener
    listener.close()


def test_capture_output_sends_app_prints_to_the_error_log(make_server, tmp_path):
    error_log = str(tmp_path / "error.log")
    # The error log is a file, so the fixture's wait on stdout cannot work: wait on the file.
    server = make_server("ops.printer:app", args=["--error-logfile", error_log, "--capture-output"],
                         unix=True, start=False)
    assert "Booting worker" in wait_for_text(error_log, ["Booting worker"])
    assert server.request("GET", "/captured").status == 200
    text = wait_for_text(error_log, ["app stdout line for /captured", "app stderr line"])
    assert "app stdout line for /captured" in text, text
    assert "app stderr line" in text, text
    assert re.search(r"\[\d+\] \[INFO\] Booting worker with pid", text), text


def test_statsd_metrics_use_gunicorns_names(make_server, udp):
    server = make_server("ops.printer:app", args=["--statsd-host", "127.0.0.1:%d" % udp.port,
                                                  "--statsd-prefix", "site",
                                                  "--dogstatsd-tags", "env:test,team:ops"])
    assert server.request("GET", "/status/404").status == 404
    got = udp.collect_until(lambda r: any("status.404" in m for m in r)
                            and any(m.startswith("site.gunicorn.workers:1|") for m in r))
    assert "site.gunicorn.request.status.404:1|c|@1.0|#env:test,team:ops" in got, got
    assert "site.gunicorn.requests:1|c|@1.0|#env:test,team:ops" in got, got
    assert any(re.fullmatch(r"site\.gunicorn\.request\.duration:[\d.e+-]+\|ms\|#env:test,team:ops", m)
               for m in got), got
    assert any(re.fullmatch(r"site\.gunicorn\.workers:1\|g\|#env:test,team:ops", m) for m in got), got


def test_syslog_gets_error_and_access_lines_in_gunicorns_format(make_server, udp):
    server = make_server("ops.printer:app", args=[
        "--log-syslog", "--log-syslog-to", "udp://127.0.0.1:%d" % udp.port,
        "--log-syslog-prefix", "shop", "--log-syslog-facility", "local3",
        "--access-logformat", "%(m)s %(U)s %(s)s"])
    assert server.request("GET", "/to-syslog").status == 200
    got = udp.collect_until(lambda r: any("GET /to-syslog 200" in m for m in r)
                            and any("Booting worker" in m for m in r))
    # PRI = local3 (19) * 8 + severity (6 info); Python's SysLogHandler ends with a NUL.
    assert any(re.fullmatch(r"<158>gunicorn\.shop\.error: \[\d+\] Booting worker with pid: \d+\x00", m)
               for m in got), got
    assert any(re.fullmatch(r"<158>gunicorn\.shop\.access: \[\d+\] GET /to-syslog 200\x00", m)
               for m in got), got


def test_syslog_over_tcp_sends_nul_terminated_lines_and_survives_a_collector_restart(
        make_server):
    # gunicorn's tcp:// syslog (Python's SysLogHandler with SOCK_STREAM): each line whole,
    # NUL-terminated, on one connection per process. A collector that goes away costs the
    # lines logged meanwhile, never a request; the next line after it is back reconnects.
    collector = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    collector.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    collector.bind(("127.0.0.1", 0))
    collector.listen(16)
    port = collector.getsockname()[1]
    try:
        server = make_server("ops.printer:app", args=[
            "--log-syslog", "--log-syslog-to", "tcp://127.0.0.1:%d" % port,
            "--log-syslog-prefix", "shop", "--access-logformat", "%(m)s %(U)s %(s)s"])
        assert server.request("GET", "/over-tcp").status == 200
        lines = read_syslog_stream(collector, "GET /over-tcp 200")
        assert any(re.fullmatch(r"<14>gunicorn\.shop\.access: \[\d+\] GET /over-tcp 200", m)
                   for m in lines), lines
        assert any(re.fullmatch(r"<14>gunicorn\.shop\.error: \[\d+\] Booting worker with pid: \d+",
                                m) for m in lines), lines
        # Every connection the server opened is closed by the collector: requests go on.
        collector.close()
        for _ in range(3):
            assert server.request("GET", "/collector-gone").status == 200
        collector = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        collector.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        collector.bind(("127.0.0.1", port))
        collector.listen(16)
        end = time.monotonic() + 20
        lines = []
        while not any("GET /back 200" in m for m in lines):
            assert time.monotonic() < end, lines
            assert server.request("GET", "/back").status == 200
            lines += read_syslog_stream(collector, "GET /back 200", deadline=1.5, required=False)
    finally:
        collector.close()


def read_syslog_stream(listener, needle, deadline=10.0, required=True):
    """NUL-separated lines from the connections the server opens to `listener`, until one holds
    `needle` (or the deadline passes: an AssertionError if `required`)."""
    end = time.monotonic() + deadline
    conns, data, lines = [], {}, []
    listener.settimeout(0.05)
    try:
        while time.monotonic() < end and not any(needle in m for m in lines):
            try:
                conn, _ = listener.accept()
                conn.settimeout(0.05)
                conns.append(conn)
                data[conn] = b""
            except socket.timeout:
                pass
            for conn in conns:
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                data[conn] += chunk
                *done, data[conn] = data[conn].split(b"\x00")
                lines += [d.decode("utf-8", "replace") for d in done]
    finally:
        for conn in conns:
            conn.close()
    if required and not any(needle in m for m in lines):
        raise AssertionError("no %r in %r" % (needle, lines))
    return lines
