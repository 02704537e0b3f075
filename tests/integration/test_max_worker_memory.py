"""--max-worker-memory MiB (a gthreadd extension): the master reads each worker's RSS on its
tick and replaces a worker over the cap gracefully, successor first, as --max-requests
does; the exit is counted with reason "memory" in the --metrics-bind endpoint."""
import re
import subprocess
import threading
import time

import pytest

from conftest import IS_GUNICORN

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gunicorn has no --max-worker-memory")

DEADLINE = 30.0
CAP_MIB = 100
OVER_RE = (r"Worker \(pid:%d\) uses (\d+) MiB of memory \(RSS\), over --max-worker-memory "
           r"%d MiB: replacing it gracefully")


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS for %d" % pid)


def test_a_worker_over_the_cap_is_replaced_successor_first(make_server):
    server = make_server("memory_hog:app", workers=1, threads=2,
                         args=["--max-worker-memory", str(CAP_MIB), "--graceful-timeout", "30"])
    old = int(server.get("/pid").body)
    assert rss_mib(old) < CAP_MIB, "the worker starts over the cap already: raise CAP_MIB"
    # Grows past the cap, then keeps running for 5 s: the graceful replacement lets it finish.
    got = {}

    def grow():
        got["response"] = server.request("GET", "/grow?mib=%d&sleep=5" % (CAP_MIB + 60))

    t = threading.Thread(target=grow)
    t.start()
    m = server.wait_for_log(OVER_RE % (old, CAP_MIB), DEADLINE)
    assert int(m.group(1)) > CAP_MIB
    new = server.wait_for_log(r"Booting worker with pid: (?!%d\b)(\d+)" % old, DEADLINE)
    new_pid = int(new.group(1))
    server.wait_for_log(r"Worker exiting \(pid: %d\)" % old, DEADLINE)
    t.join(DEADLINE)
    # The request the old worker was running was answered, not cut off.
    assert got["response"].status == 200 and int(got["response"].body) == old
    lines = server.log.splitlines()
    booted = next(i for i, l in enumerate(lines) if "Booting worker with pid: %d" % new_pid in l)
    exiting = next(i for i, l in enumerate(lines) if "Worker exiting (pid: %d)" % old in l)
    assert booted < exiting, "the successor must come first\n" + server.log
    # The successor serves; the line was logged once for the old worker.
    assert int(server.get("/pid").body) == new_pid
    assert len(re.findall(OVER_RE % (old, CAP_MIB), server.log)) == 1, server.log


def test_the_exit_is_counted_with_reason_memory(make_server):
    from test_metrics import METRICS_RE, scrape, value, wait_until
    server = make_server("memory_hog:app", workers=1, threads=1,
                         args=["--max-worker-memory", str(CAP_MIB), "--metrics-bind", "127.0.0.1:0"])
    server.metrics_port = int(server.wait_for_log(METRICS_RE, DEADLINE).group(1))
    assert server.get("/grow?mib=%d" % (CAP_MIB + 60)).status == 200
    s = wait_until(lambda: (lambda s: s if value(s, "gthreadd_worker_exits_total", reason="memory") == 1
                            and value(s, "gthreadd_workers") == 1 else None)(scrape(server)),
                   "the worker's exit for its memory")
    assert value(s, "gthreadd_worker_exits_total", reason="crash") == 0
    assert value(s, "gthreadd_worker_starts_total") == 2


def test_off_by_default_and_checked(make_server):
    server = make_server("memory_hog:app", workers=1)
    assert server.get("/grow?mib=%d" % (CAP_MIB + 60)).status == 200
    time.sleep(2.5)  # the master would have checked twice by now
    assert "max-worker-memory" not in server.log
    assert len(server.worker_pids()) == 1
    from conftest import BIN
    proc = subprocess.run([BIN, "--max-worker-memory", "-5", "memory_hog:app"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "max-worker-memory" in proc.stderr, proc.stderr
