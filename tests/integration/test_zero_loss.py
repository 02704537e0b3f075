"""Zero lost requests, measured (issue 5): a bounded load of keep-alive and
`Connection: close` clients runs on loopback while the master goes through, in turn,
5 x HUP, 3 x TTIN then 3 x TTOU, a USR2 + WINCH + QUIT upgrade, a --max-requests 50
recycle (switched on and off by HUP with a changed config file) and a `kill -9` of a
worker. Every request is counted against the phase it ended in; only the kill -9 phase
may lose requests (those the killed worker had in flight).

A keep-alive client that finds its idle connection closed by the server before any byte of
the response (the request and the close crossed on the wire) retries once on a new
connection, as RFC 9112 section 9.3.1 allows for idempotent requests and as urllib3,
browsers and nginx's upstream keep-alive do. Such retries are counted and reported
separately ("stale"); a request that fails after that is a failure.

Also a script: `python3 test_zero_loss.py` with GTHREADD_BIN set (gunicorn included) runs
the scenario once and prints one line per phase; load-tests/zero-loss.sh runs it for
gthreadd and for `gunicorn -k gthread`.
"""
import collections
import os
import re
import signal
import sys
import threading
import time

from conftest import (APPS, BOOT_RE, IS_GUNICORN, LISTEN_RE, ConnectionClosed, Server,
                      build_request)
import proc_util
from proc_util import alive, live_children

PROC_APPS = os.path.join(APPS, "process")
WORKERS = 2
THREADS = 4
KEEPALIVE_CLIENTS = 3
CLOSE_CLIENTS = 3
TARGET = "/sleep/5"  # short, but long enough that a worker always has requests in flight
DEADLINE = 30.0
PHASES = ["warmup", "hup", "ttin-ttou", "upgrade", "max-requests", "kill-9", "cooldown"]
LOSSY_PHASES = {"kill-9"}
AUTORESTART_RE = re.compile(r"\[(\d+)\] \[INFO\] Autorestarting worker")


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------

def wait_until(predicate, what, timeout=DEADLINE, interval=0.05):
    return proc_util.wait_until(predicate, what, timeout, interval)


# --------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------

class Load:
    """Client threads counting ok / failed / stale-retried requests per phase."""

    def __init__(self, server):
        self.server = server
        self.phase = PHASES[0]
        self.counts = collections.defaultdict(collections.Counter)
        self.errors = collections.defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = ([threading.Thread(target=self._keepalive_client, daemon=True)
                          for _ in range(KEEPALIVE_CLIENTS)] +
                         [threading.Thread(target=self._close_client, daemon=True)
                          for _ in range(CLOSE_CLIENTS)])

    def start(self):
        for t in self._threads:
            t.start()
        wait_until(lambda: self.counts[PHASES[0]]["ok"] >= 20, "the load to get going")

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(DEADLINE)

    def _record(self, kind, error=None):
        # Counted against the phase the request ended in: a request started just before
        # the kill -9 and cut by it belongs to that phase, not to the one before.
        with self._lock:
            phase = self.phase
            self.counts[phase][kind] += 1
            if error is not None and len(self.errors[phase]) < 20:
                self.errors[phase].append(error)

    @staticmethod
    def _ok(resp):
        return resp.status == 200 and resp.body == b"slept"

    def _close_client(self):
        request = build_request("GET", TARGET, [("Connection", "close")])
        while not self._stop.is_set():
            try:
                with self.server.connect(timeout=DEADLINE) as conn:
                    conn.send(request)
                    resp = conn.read_response()
                self._record("ok" if self._ok(resp) else "failed",
                             None if self._ok(resp) else repr(resp))
            except (OSError, AssertionError) as e:
                self._record("failed", "close: %s: %s at %s" % (
                    type(e).__name__, e, time.strftime("%H:%M:%S")))

    def _keepalive_client(self):
        request = build_request("GET", TARGET)
        conn = None
        reused = False
        while not self._stop.is_set():
            for attempt in (1, 2):
                try:
                    if conn is None:
                        conn = self.server.connect(timeout=DEADLINE)
                        reused = False
                    conn.send(request)
                    resp = conn.read_response()
                except (OSError, AssertionError) as e:
                    stale = reused and attempt == 1 and (
                        isinstance(e, (BrokenPipeError, ConnectionResetError)) or
                        (isinstance(e, ConnectionClosed) and not conn.buf))
                    conn.close()
                    conn = None
                    if stale:
                        self._record("stale")
                        continue  # the idempotent retry every keep-alive client makes
                    self._record("failed", "keep-alive: %s: %s" % (type(e).__name__, e))
                    break
                ok = self._ok(resp)
                self._record("ok" if ok else "failed", None if ok else repr(resp))
                if (resp.header("Connection") or "").lower() == "close":
                    conn.close()
                    conn = None
                else:
                    reused = True
                break
        if conn is not None:
            conn.close()


# --------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------

class Scenario:
    def __init__(self, config_dir):
        self.config = os.path.join(config_dir, "gunicorn.conf.py" if IS_GUNICORN else "site.ini")
        self.write_config(max_requests=0)
        self.server = Server("procinfo:app", ["-c", self.config, "--graceful-timeout", "20"],
                             workers=WORKERS, threads=THREADS, chdir=PROC_APPS)
        self.master = None
        self.load = None

    def write_config(self, max_requests):
        if IS_GUNICORN:
            text = "max_requests = %d\n" % max_requests
        else:
            text = "[gthreadd]\nmax_requests = %d\n" % max_requests
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config)

    def workers(self):
        return live_children(self.master)

    def boots(self):
        return len(self.server.worker_pids())

    def wait_workers(self, n, what):
        wait_until(lambda: len(self.workers()) == n, "%d workers (%s)" % (n, what))

    # --- phases -----------------------------------------------------------------------
    def hup(self, settles=True):
        """`settles`: the new configuration reaches a steady worker count. With a low
        --max-requests under load it never does: workers retire within a second and there
        are nearly always successors booting or retirees finishing beside the target."""
        old = self.workers()
        boots = self.boots()
        os.kill(self.master, signal.SIGHUP)
        self.server.wait_for_log(BOOT_RE, DEADLINE, count=boots + WORKERS)
        wait_until(lambda: not any(alive(p) for p in old), "the pre-HUP workers to exit")
        if settles:
            self.wait_workers(WORKERS, "after HUP")

    def phase_hup(self):
        for _ in range(5):
            self.hup()

    def phase_ttin_ttou(self):
        for n in range(WORKERS + 1, WORKERS + 4):
            os.kill(self.master, signal.SIGTTIN)
            self.wait_workers(n, "after TTIN")
        for n in range(WORKERS + 2, WORKERS - 1, -1):
            os.kill(self.master, signal.SIGTTOU)
            self.wait_workers(n, "after TTOU")

    def phase_upgrade(self):
        old_master, old_workers = self.master, self.workers()
        listens = len(re.findall(LISTEN_RE, self.server.log))
        boots = self.boots()
        os.kill(old_master, signal.SIGUSR2)
        new_master = int(self.server.wait_for_log(LISTEN_RE, DEADLINE, count=listens + 1).group(2))
        self.server.wait_for_log(BOOT_RE, DEADLINE, count=boots + WORKERS)
        wait_until(lambda: len(live_children(new_master)) == WORKERS, "the new master's workers")
        os.kill(old_master, signal.SIGWINCH)
        if not IS_GUNICORN:  # gunicorn ignores WINCH unless daemonised
            wait_until(lambda: not any(alive(p) for p in old_workers), "WINCH to stop old workers")
        os.kill(old_master, signal.SIGQUIT)
        self.server.wait_exit(DEADLINE)
        self.master = new_master
        if not IS_GUNICORN:
            self.server.wait_for_log(r"Master has been promoted", DEADLINE)

    def phase_max_requests(self):
        restarts = len(AUTORESTART_RE.findall(self.server.log))
        self.write_config(max_requests=50)
        self.hup(settles=False)
        retiring = set(wait_until(
            lambda: [int(p) for p in AUTORESTART_RE.findall(self.server.log)[restarts:]][:WORKERS]
            if len(AUTORESTART_RE.findall(self.server.log)) >= restarts + WORKERS else None,
            "every worker to reach --max-requests"))
        wait_until(lambda: not any(alive(p) for p in retiring), "the recycled workers to exit")
        self.write_config(max_requests=0)
        self.hup()

    def phase_kill_9(self):
        boots = self.boots()
        os.kill(self.workers()[0], signal.SIGKILL)
        self.server.wait_for_log(BOOT_RE, DEADLINE, count=boots + 1)
        self.wait_workers(WORKERS, "after kill -9")

    def steady(self):
        seen = self.load.counts[self.load.phase]["ok"]
        wait_until(lambda: self.load.counts[self.load.phase]["ok"] >= seen + 50,
                   "50 requests of steady load")

    # --- the whole run ----------------------------------------------------------------
    def run(self):
        self.server.start()
        self.master = self.server.master_pid
        self.load = Load(self.server)
        try:
            self.load.start()
            for phase in PHASES[1:]:
                self.load.phase = phase
                action = getattr(self, "phase_" + phase.replace("-", "_"), None)
                if action:
                    action()
                self.steady()
        finally:
            if self.load:
                self.load.stop()
            self.stop()
        return self.load

    def stop(self):
        if self.master and self.master != self.server.proc.pid and alive(self.master):
            workers = live_children(self.master)
            os.kill(self.master, signal.SIGTERM)
            try:
                wait_until(lambda: not alive(self.master), "the upgraded master to stop")
            finally:
                for pid in [self.master] + workers:
                    if alive(pid):
                        os.kill(pid, signal.SIGKILL)
        self.server.stop()


def report(load, name):
    lines = ["%-10s %-14s %8s %8s %8s" % ("server", "phase", "ok", "failed", "stale")]
    for phase in PHASES:
        c = load.counts[phase]
        lines.append("%-10s %-14s %8d %8d %8d" % (name, phase, c["ok"], c["failed"], c["stale"]))
    return "\n".join(lines)


def test_no_request_is_lost_to_reloads_scaling_upgrade_or_recycling(tmp_path):
    load = Scenario(str(tmp_path)).run()
    table = report(load, "gunicorn" if IS_GUNICORN else "gthreadd")
    print("\n" + table)
    for phase in PHASES:
        assert load.counts[phase]["ok"] > 0, "no request succeeded during %s\n%s" % (phase, table)
        if phase not in LOSSY_PHASES:
            assert load.counts[phase]["failed"] == 0, "%s lost requests: %s\n%s" % (
                phase, load.errors[phase], table)


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="zero-loss-") as d:
        scenario = Scenario(d)
        result = scenario.run()
        if os.environ.get("ZERO_LOSS_LOG"):
            with open(os.environ["ZERO_LOSS_LOG"], "w") as f:
                f.write(scenario.server.log)
    print(report(result, sys.argv[1] if len(sys.argv) > 1 else
                 ("gunicorn" if IS_GUNICORN else "gthreadd")))
    for phase in PHASES:
        for error in result.errors[phase][:5]:
            print("  %s: %s" % (phase, error))
