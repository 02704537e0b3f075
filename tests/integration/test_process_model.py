"""The process model operators script against (issue 5): every signal, the heartbeat
timeout, worker recycling, boot failures and the process options, observed from outside as
an operator would — log lines, pids, /proc, the pidfile and requests that keep succeeding.

Every wait has a generous deadline and polls something observable; the only plain sleeps
check that something does NOT happen (a stopped worker left alone with --timeout 0) or let
a server-side time window pass before the stimulus (the last-call window), and no
assertion depends on how long they were.
"""
import os
import re
import signal
import socket
import sys
import threading
import time

import pytest

from conftest import (APPS, BOOT_RE, IS_GUNICORN, LISTEN_RE, ConnectionClosed, Server,
                      build_request, exchange, gthreadd_only)
import proc_util
from proc_util import alive, live_children

PROC_APPS = os.path.join(APPS, "process")
LAUNCHER = os.path.join(PROC_APPS, "socket_launcher.py")
DEADLINE = 30.0
NAME = "gunicorn" if IS_GUNICORN else "gthreadd"


# --------------------------------------------------------------------------------------
# Helpers: processes seen through /proc
# --------------------------------------------------------------------------------------

def wait_until(predicate, what, timeout=DEADLINE, interval=0.05):
    return proc_util.wait_until(predicate, what, timeout, interval)


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().replace(b"\0", b" ").decode().strip()


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except FileNotFoundError:
            continue
        if m:
            out.add(int(m.group(1)))
    return out


def listening_inode(port):
    """The inode of the socket listening on 127.0.0.1:port (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            local, state, inode = cols[1], cols[3], int(cols[9])
            if state == "0A" and int(local.split(":")[1], 16) == port:
                return inode
    return None


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def read_int_file(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return int(text) if text else None
    except (FileNotFoundError, ValueError):
        return None


def get_text(server, target, headers=None):
    resp = server.get(target, headers)
    assert resp.status == 200, resp
    return resp.body.decode()


def worker_pids_alive(server):
    return live_children(server.master_pid)


def wait_file_match(path, regex, timeout=DEADLINE):
    def match():
        try:
            with open(path, errors="replace") as f:
                return re.search(regex, f.read())
        except FileNotFoundError:
            return None
    return wait_until(match, "%r in %s" % (regex, path), timeout)


class Hammer:
    """A client thread sending `Connection: close` GETs back to back, counting failures by
    kind. Used to show a signal loses no request and refuses no connection."""

    def __init__(self, port, target="/"):
        self.port = port
        self.target = target
        self.ok = 0
        self.failures = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        wait_until(lambda: self.ok > 0 or self.failures, "a first request through the hammer")
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(DEADLINE)

    def _run(self):
        request = build_request("GET", self.target, [("Connection", "close")])
        while not self._stop.is_set():
            try:
                data = exchange(self.port, request)
                if data.startswith(b"HTTP/1.1 200 "):
                    self.ok += 1
                else:
                    self.failures.append("bad response %r" % data[:80])
            except OSError as e:
                self.failures.append("%s: %s" % (type(e).__name__, e))


# --------------------------------------------------------------------------------------
# Servers started in ways conftest's factory does not cover
# --------------------------------------------------------------------------------------

class CustomServer(Server):
    """A Server whose command line is rewritten: another --bind, or a launcher in front."""

    def __init__(self, app, bind=None, prefix=(), **kwargs):
        kwargs.setdefault("chdir", PROC_APPS)
        super().__init__(app, **kwargs)
        self.bind = bind
        self.prefix = list(prefix)

    def command(self):
        cmd = super().command()
        if self.bind is not None:
            cmd[cmd.index("-b") + 1] = self.bind
        return self.prefix + cmd


@pytest.fixture
def custom_server():
    made = []

    def factory(app, start=True, **kwargs):
        server = CustomServer(app, **kwargs)
        made.append(server)
        return server.start() if start else server.spawn()

    yield factory
    for server in made:
        server.stop()


@pytest.fixture
def proc_server(make_server):
    """make_server with the process apps' directory as --chdir."""
    def factory(app="procinfo:app", **kwargs):
        kwargs.setdefault("chdir", PROC_APPS)
        return make_server(app, **kwargs)
    return factory


def write_app(path, body_text):
    """A tiny app module answering `body_text`, written atomically (tmp + rename) so a
    worker importing it never sees half a file."""
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write("import os\n"
                "open(os.path.join(os.path.dirname(__file__), 'imported.%%d' %% os.getpid()), 'w').close()\n"
                "BODY = %r.encode()\n"
                "def app(environ, start_response):\n"
                "    body = BODY + b' ' + str(os.getpid()).encode()\n"
                "    start_response('200 OK', [('Content-Length', str(len(body)))])\n"
                "    return [body]\n" % body_text)
    os.replace(tmp, str(path))


def wait_workers_imported(server, directory):
    """Every live worker has imported the app written by write_app (a worker may answer
    "Booting" long before its import is done)."""
    wait_until(lambda: all(os.path.exists(os.path.join(str(directory), "imported.%d" % p))
                           for p in worker_pids_alive(server)), "every worker to import the app")


def body_and_pid(server):
    text, pid = get_text(server, "/").rsplit(" ", 1)
    return text, int(pid)


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------

def test_hup_starts_new_workers_then_stops_the_old_ones(proc_server):
    server = proc_server(workers=2)
    old = worker_pids_alive(server)
    assert len(old) == 2
    with Hammer(server.port) as hammer:
        os.kill(server.master_pid, signal.SIGHUP)
        server.wait_for_log(r"Handling signal: hup", DEADLINE)
        server.wait_for_log(BOOT_RE, DEADLINE, count=4)
        wait_until(lambda: not any(alive(p) for p in old), "the old workers to exit")
        wait_until(lambda: len(worker_pids_alive(server)) == 2, "two workers after the reload")
    assert hammer.failures == [], hammer.failures
    assert hammer.ok > 0
    assert set(worker_pids_alive(server)).isdisjoint(old)
    assert int(get_text(server, "/pid")) not in old


@gthreadd_only("INI config")
def test_hup_rereads_the_configuration_file(proc_server, tmp_path):
    ini = tmp_path / "site.ini"
    ini.write_text("[gthreadd]\nraw_env = GREETING=one\n")
    server = proc_server(args=["-c", str(ini)])
    assert get_text(server, "/env/GREETING") == "one"
    old = worker_pids_alive(server)
    ini.write_text("[gthreadd]\nraw_env = GREETING=two\n")
    os.kill(server.master_pid, signal.SIGHUP)
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)
    wait_until(lambda: not any(alive(p) for p in old), "the old worker to exit")
    assert get_text(server, "/env/GREETING") == "two"


@gthreadd_only("reload that keeps old workers on a broken app")
def test_hup_with_a_broken_app_keeps_the_old_workers_serving(proc_server, tmp_path):
    app = tmp_path / "site_app.py"
    write_app(app, "v1")
    server = proc_server("site_app:app", workers=2, chdir=str(tmp_path))
    wait_workers_imported(server, tmp_path)
    old = worker_pids_alive(server)
    app.write_text("def app(environ, start_response:\n")  # a SyntaxError on import
    with Hammer(server.port) as hammer:
        os.kill(server.master_pid, signal.SIGHUP)
        server.wait_for_log(r"Reload failed", DEADLINE)
    assert hammer.failures == [], hammer.failures
    assert server.proc.poll() is None, server.log
    assert all(alive(p) for p in old)
    assert body_and_pid(server)[0] == "v1"
    # Once the app is fixed, the next HUP goes through.
    write_app(app, "v2")
    os.kill(server.master_pid, signal.SIGHUP)
    wait_until(lambda: not any(alive(p) for p in old), "the old workers to exit")
    assert body_and_pid(server)[0] == "v2"


def _start_slow_request(server, started_file, ms):
    """Sends GET /sleep/ms on its own connection and waits until the app is running it."""
    conn = server.connect(timeout=60)
    conn.send(build_request("GET", "/sleep/%d" % ms, [("Connection", "close")]))
    wait_until(lambda: os.path.exists(started_file) and os.path.getsize(started_file) > 0,
               "the slow request to reach the app")
    return conn


def test_term_finishes_the_request_in_flight_and_exits_0(proc_server, tmp_path):
    started = str(tmp_path / "started")
    server = proc_server(threads=2, args=["--graceful-timeout", "30"],
                         env={"PROCINFO_STARTED": started})
    workers = worker_pids_alive(server)
    with _start_slow_request(server, started, 1500) as conn:
        os.kill(server.master_pid, signal.SIGTERM)
        resp = conn.read_response()
        assert resp.status == 200 and resp.body == b"slept"
    assert server.wait_exit(DEADLINE) == 0
    assert not any(alive(p) for p in workers)


def test_term_kills_a_request_still_running_after_the_graceful_timeout(proc_server, tmp_path):
    started = str(tmp_path / "started")
    server = proc_server(args=["--graceful-timeout", "1"], env={"PROCINFO_STARTED": started})
    with _start_slow_request(server, started, 60000) as conn:
        t0 = time.monotonic()
        os.kill(server.master_pid, signal.SIGTERM)
        assert server.wait_exit(DEADLINE) == 0
        assert time.monotonic() - t0 < 20, "the graceful timeout (1 s) was not enforced"
        with pytest.raises(ConnectionClosed):
            conn.read_response()


def test_a_request_crossing_a_graceful_stop_on_an_idle_connection_is_answered(proc_server):
    """The client cannot know the worker is stopping: a request it sent on an idle
    keep-alive connection must be answered (then the connection closed), not dropped."""
    server = proc_server(args=["--keep-alive", "30"])
    worker = worker_pids_alive(server)[0]
    with server.connect() as conn:
        conn.send(build_request("GET", "/pid"))
        assert conn.read_response().header("Connection", "").lower() != "close"
        # The stimulus, not a wait: let the worker's 1 s last-call window (kLastCallWindow
        # in event_loop.cpp) pass, so the stop finds a connection idle for a while, not one
        # answered a moment ago. Either way the request must be answered.
        time.sleep(1.5)
        # Freeze the worker so the stop and the request are both waiting when it wakes,
        # the stop first (the order in which it will see them).
        os.kill(worker, signal.SIGSTOP)
        try:
            os.kill(worker, signal.SIGTERM)
            conn.send(build_request("GET", "/pid"))
        finally:
            os.kill(worker, signal.SIGCONT)
        resp = conn.read_response()
        assert resp.status == 200 and resp.body == str(worker).encode()
        assert resp.header("Connection", "").lower() == "close"
        assert conn.wait_closed(DEADLINE) is not None
    wait_until(lambda: not alive(worker), "the stopped worker to exit")


@pytest.mark.strict  # gunicorn 20.1's gthread worker waits for its busy pool thread
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT], ids=["INT", "QUIT"])
def test_int_and_quit_stop_at_once_without_waiting_for_requests(proc_server, tmp_path, sig):
    started = str(tmp_path / "started")
    server = proc_server(args=["--graceful-timeout", "60"], env={"PROCINFO_STARTED": started})
    workers = worker_pids_alive(server)
    with _start_slow_request(server, started, 60000) as conn:
        t0 = time.monotonic()
        os.kill(server.master_pid, sig)
        server.wait_exit(DEADLINE)
        assert time.monotonic() - t0 < 20, "a quick stop waited for the graceful timeout"
        with pytest.raises(ConnectionClosed):
            conn.read_response()
    assert not any(alive(p) for p in workers)


def test_ttin_and_ttou_add_and_remove_one_worker(proc_server):
    server = proc_server(workers=2)
    with Hammer(server.port) as hammer:
        os.kill(server.master_pid, signal.SIGTTIN)
        wait_until(lambda: len(worker_pids_alive(server)) == 3, "a third worker after TTIN")
        os.kill(server.master_pid, signal.SIGTTIN)
        wait_until(lambda: len(worker_pids_alive(server)) == 4, "a fourth worker after TTIN")
        for expected in (3, 2, 1):
            os.kill(server.master_pid, signal.SIGTTOU)
            wait_until(lambda: len(worker_pids_alive(server)) == expected,
                       "%d workers after TTOU" % expected)
        # TTOU never goes below one worker (gunicorn: num_workers - 1 only while > 1).
        os.kill(server.master_pid, signal.SIGTTOU)
        server.wait_for_log(r"Handling signal: ttou", DEADLINE, count=4)
        assert len(worker_pids_alive(server)) == 1
    assert hammer.failures == [], hammer.failures
    assert get_text(server, "/pid") == str(worker_pids_alive(server)[0])


def _log_file_server(factory, tmp_path, extra_args, **kwargs):
    """A server logging to files instead of stdout: started without conftest's wait, then
    found through its error log."""
    error_log = tmp_path / "error.log"
    server = factory(args=["--error-logfile", str(error_log)] + extra_args, start=False, **kwargs)
    m = wait_file_match(str(error_log), LISTEN_RE.pattern)
    server.master_pid = int(m.group(2))
    server.port = int(m.group(1).rsplit(":", 1)[1])
    wait_until(lambda: len(re.findall(BOOT_RE.pattern, error_log.read_text()))
               >= server.workers, "every worker to boot")
    server._wait_serving()
    return server, error_log


def test_usr1_reopens_the_log_files_in_the_master_and_every_worker(proc_server, tmp_path):
    access_log = tmp_path / "access.log"
    server, error_log = _log_file_server(
        proc_server, tmp_path,
        ["--access-logfile", str(access_log), "--access-logformat", "%(p)s %(r)s"],
        workers=2)
    workers = worker_pids_alive(server)
    server.get("/")
    wait_file_match(str(access_log), r"GET / ")
    # logrotate: move the files away, then USR1.
    os.rename(error_log, str(error_log) + ".1")
    os.rename(access_log, str(access_log) + ".1")
    os.kill(server.master_pid, signal.SIGUSR1)
    wait_until(error_log.exists, "a new error log after USR1")
    # The master writes its next lines to the new file...
    os.kill(server.master_pid, signal.SIGTTIN)
    wait_file_match(str(error_log), BOOT_RE.pattern)
    # ...and so does every worker that had the old access log open. One thread per worker
    # and two requests at a time that both hold their thread: they cannot share a worker.
    def both_logged():
        threads = [threading.Thread(target=server.get, args=("/sleep/200",)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        logged = access_log.read_text() if access_log.exists() else ""
        return all("<%d>" % p in logged for p in workers)
    wait_until(both_logged, "both old workers logging to the new access log")


@gthreadd_only("WINCH without --daemon")
def test_winch_stops_the_workers_and_keeps_the_master(proc_server):
    server = proc_server(workers=2)
    workers = worker_pids_alive(server)
    os.kill(server.master_pid, signal.SIGWINCH)
    wait_until(lambda: not any(alive(p) for p in workers), "the workers to exit after WINCH")
    assert worker_pids_alive(server) == []
    assert server.proc.poll() is None
    assert listening_inode(server.port) in socket_inodes(server.master_pid)
    os.kill(server.master_pid, signal.SIGTERM)
    assert server.wait_exit(DEADLINE) == 0


def test_chld_reaps_a_dead_worker_and_replaces_it(proc_server):
    server = proc_server(workers=2)
    victim = worker_pids_alive(server)[0]
    os.kill(victim, signal.SIGKILL)
    server.wait_for_log(BOOT_RE, DEADLINE, count=3)
    # Reaped, not left a zombie: /proc no longer knows the pid at all.
    wait_until(lambda: not os.path.exists("/proc/%d" % victim), "the dead worker to be reaped")
    wait_until(lambda: len(worker_pids_alive(server)) == 2, "two workers again")


@gthreadd_only("pidfile promotion checks")
def test_usr2_upgrade_keeps_the_listening_socket_and_refuses_nothing(proc_server, tmp_path):
    pidfile = str(tmp_path / "master.pid")
    server = proc_server(workers=2, args=["-p", pidfile])
    old_master = server.master_pid
    old_workers = worker_pids_alive(server)
    inode = listening_inode(server.port)
    assert inode in socket_inodes(old_master)
    assert read_int_file(pidfile) == old_master
    new_master = None
    try:
        with Hammer(server.port) as hammer:
            os.kill(old_master, signal.SIGUSR2)
            new_master = int(server.wait_for_log(LISTEN_RE, DEADLINE, count=2).group(2))
            assert new_master != old_master
            wait_until(lambda: read_int_file(pidfile + ".2") == new_master, "<pidfile>.2")
            assert read_int_file(pidfile) == old_master
            server.wait_for_log(BOOT_RE, DEADLINE, count=4)  # the new master's two workers
            # The same socket (same inode), not a new bind of the same port.
            assert inode in socket_inodes(new_master)
            os.kill(old_master, signal.SIGWINCH)
            wait_until(lambda: not any(alive(p) for p in old_workers), "old workers to exit")
            os.kill(old_master, signal.SIGQUIT)
            server.wait_exit(DEADLINE)
            server.wait_for_log(r"Master has been promoted", DEADLINE)
            wait_until(lambda: read_int_file(pidfile) == new_master, "the promoted pidfile")
            assert not os.path.exists(pidfile + ".2")
            served_by = int(get_text(server, "/pid"))
            assert served_by in live_children(new_master)
        assert hammer.failures == [], hammer.failures
        assert hammer.ok > 0
        assert listening_inode(server.port) == inode
    finally:
        if new_master and alive(new_master):
            workers = live_children(new_master)
            os.kill(new_master, signal.SIGTERM)
            wait_until(lambda: not alive(new_master), "the new master to stop")
            for pid in workers:
                kill_quietly(pid)
    assert not os.path.exists(pidfile), "the pidfile outlived the last master"


# --------------------------------------------------------------------------------------
# Heartbeat
# --------------------------------------------------------------------------------------

def test_a_stopped_worker_is_killed_after_timeout_and_replaced(proc_server):
    server = proc_server(args=["--timeout", "2"])
    victim = worker_pids_alive(server)[0]
    os.kill(victim, signal.SIGSTOP)
    try:
        server.wait_for_log(r"WORKER TIMEOUT \(pid:%d\)" % victim, DEADLINE)
        server.wait_for_log(BOOT_RE, DEADLINE, count=2)
        wait_until(lambda: not alive(victim), "the stopped worker to be killed")
    finally:
        kill_quietly(victim, signal.SIGCONT)
    assert get_text(server, "/pid") != str(victim)


@gthreadd_only("--timeout 0 (gunicorn 20.1 treats it as 'no timeout' too, but checks differ)")
def test_timeout_0_never_kills_a_silent_worker(proc_server):
    server = proc_server(args=["--timeout", "0"])
    victim = worker_pids_alive(server)[0]
    os.kill(victim, signal.SIGSTOP)
    try:
        time.sleep(4)  # checking an absence: four master ticks, each would have fired
        assert "WORKER TIMEOUT" not in server.log
        assert alive(victim)
    finally:
        os.kill(victim, signal.SIGCONT)
    assert get_text(server, "/pid") == str(victim)


@gthreadd_only("booting workers exempt from --timeout")
def test_a_worker_still_importing_the_app_is_not_timed_out(proc_server):
    server = proc_server(args=["--timeout", "1"], env={"PROCINFO_IMPORT_DELAY": "4"})
    assert "WORKER TIMEOUT" not in server.log
    assert len(server.worker_pids()) == 1, server.log
    assert get_text(server, "/pid") == str(server.worker_pids()[0])


def test_heartbeat_file_lives_unlinked_in_worker_tmp_dir(proc_server, tmp_path):
    tmp = tmp_path / "beat"
    tmp.mkdir()
    server = proc_server(args=["--worker-tmp-dir", str(tmp)])
    worker = worker_pids_alive(server)[0]

    def beats():
        links = proc_util.fd_targets(worker)
        return [l for l in links if l.startswith(str(tmp) + "/") and l.endswith(" (deleted)")]

    proc_util.wait_until(beats, "an unlinked heartbeat file in %s among the worker's fds" % tmp, 10)
    assert os.listdir(str(tmp)) == []


# --------------------------------------------------------------------------------------
# Recycling and boot failures
# --------------------------------------------------------------------------------------

def _keepalive_batch(server, n):
    """n GETs on one keep-alive connection, reconnecting whenever the server answers with
    Connection: close. Returns the failures."""
    failures = []
    conn = None
    for _ in range(n):
        try:
            if conn is None:
                conn = server.connect()
            conn.send(build_request("GET", "/pid"))
            resp = conn.read_response()
            if resp.status != 200:
                failures.append(repr(resp))
            if (resp.header("Connection") or "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, AssertionError) as e:
            failures.append("%s: %s" % (type(e).__name__, e))
            if conn:
                conn.close()
            conn = None
    if conn:
        conn.close()
    return failures


def test_max_requests_recycles_workers_without_failing_a_request(proc_server):
    # One worker: its successor must be up before it stops accepting, or requests would
    # wait with nobody to take them. A retiring worker keeps serving while the successor
    # boots, so the load runs until two recycles happened rather than for a fixed count.
    server = proc_server(workers=1, threads=2, args=["--max-requests", "50"])
    first = worker_pids_alive(server)[0]
    failures = []
    deadline = time.monotonic() + 2 * DEADLINE
    restarts = re.compile(r"Autorestarting worker after current request")
    while len(restarts.findall(server.log)) < 2 and time.monotonic() < deadline:
        failures += _keepalive_batch(server, 10)
        for _ in range(10):
            try:
                if server.get("/pid").status != 200:
                    failures.append("non-200")
            except (OSError, AssertionError) as e:
                failures.append("%s: %s" % (type(e).__name__, e))
    assert failures == []
    server.wait_for_log(restarts, 1, count=2)
    wait_until(lambda: not alive(first), "the first worker to go")
    wait_until(lambda: len(worker_pids_alive(server)) == 1, "one worker again")


@pytest.mark.strict  # gunicorn 20.1 exits 3 for an ImportError
def test_an_app_that_cannot_load_halts_the_master_with_4_and_no_respawn_loop(proc_server):
    server = proc_server("no_such_module_for_proc:app", workers=3, start=False)
    assert server.wait_exit(DEADLINE) == 4, server.log
    assert len(server.worker_pids()) <= 3, "respawned a worker that cannot load:\n" + server.log
    assert "App failed to load" in server.log


@gthreadd_only("exit 3 for a worker boot error")
def test_a_worker_that_cannot_boot_halts_the_master_with_3(proc_server):
    server = proc_server(workers=2, args=["-u", "no_such_user_for_proc"], start=False)
    assert server.wait_exit(DEADLINE) == 3, server.log
    assert "no_such_user_for_proc" in server.log
    assert "Worker failed to boot" in server.log
    assert len(server.worker_pids()) <= 2, server.log


# --------------------------------------------------------------------------------------
# Process options
# --------------------------------------------------------------------------------------

def test_preload_imports_the_app_once_in_the_master(proc_server):
    server = proc_server(workers=2, args=["--preload"])
    assert get_text(server, "/import-pid") == str(server.master_pid)
    assert int(get_text(server, "/pid")) in worker_pids_alive(server)


def test_without_preload_each_worker_imports_the_app(proc_server):
    server = proc_server()
    assert get_text(server, "/import-pid") == str(worker_pids_alive(server)[0])


def test_reload_restarts_the_worker_when_the_app_source_changes(proc_server, tmp_path):
    app = tmp_path / "site_app.py"
    write_app(app, "v1")
    server = proc_server("site_app:app", args=["--reload"], chdir=str(tmp_path))
    text, first_pid = body_and_pid(server)
    assert text == "v1"
    write_app(app, "v2")
    wait_until(lambda: body_and_pid(server)[0] == "v2", "the reloaded app to answer v2")
    assert body_and_pid(server)[1] != first_pid
    assert not alive(first_pid)


@gthreadd_only("--reload-extra-file with the inotify reloader")
def test_reload_extra_file_restarts_the_worker(proc_server, tmp_path):
    extra = tmp_path / "settings.txt"
    extra.write_text("one")
    server = proc_server(args=["--reload", "--reload-extra-file", str(extra)])
    first = worker_pids_alive(server)[0]
    extra.write_text("two")
    server.wait_for_log(BOOT_RE, DEADLINE, count=2)
    wait_until(lambda: not alive(first), "the first worker to exit")
    assert get_text(server, "/pid") != str(first)


def test_daemon_is_stopped_through_its_pidfile(proc_server, tmp_path):
    pidfile = tmp_path / "daemon.pid"
    error_log = tmp_path / "error.log"
    server = proc_server(args=["-D", "-p", str(pidfile), "--error-logfile", str(error_log)],
                         start=False)
    assert server.wait_exit(DEADLINE) == 0  # the launching process returns at once
    master = wait_until(lambda: read_int_file(str(pidfile)), "the daemon's pidfile")
    workers = []
    try:
        assert alive(master) and master != server.proc.pid
        assert os.getsid(master) != os.getsid(0), "a daemon leaves our session"
        m = wait_file_match(str(error_log), LISTEN_RE.pattern)
        assert int(m.group(2)) == master
        server.port = int(m.group(1).rsplit(":", 1)[1])
        wait_until(lambda: len(live_children(master)) == 1, "the daemon's worker")
        workers = live_children(master)
        # Not server._wait_serving(): that checks the launching process, which is gone.
        def served_pid():
            try:
                return int(get_text(server, "/pid"))
            except (OSError, AssertionError):
                return None
        assert wait_until(served_pid, "the daemon to serve") in workers
        os.kill(read_int_file(str(pidfile)), signal.SIGTERM)  # kill $(cat pidfile)
        wait_until(lambda: not alive(master), "the daemon to exit")
        wait_until(lambda: not pidfile.exists(), "the pidfile to be removed")
        assert not any(alive(p) for p in workers)
    finally:
        for pid in [master] + workers:
            if alive(pid):
                kill_quietly(pid)


def test_pidfile_is_written_and_removed(proc_server, tmp_path):
    pidfile = tmp_path / "master.pid"
    server = proc_server(args=["-p", str(pidfile)])
    assert read_int_file(str(pidfile)) == server.master_pid
    os.kill(server.master_pid, signal.SIGTERM)
    assert server.wait_exit(DEADLINE) == 0
    assert not pidfile.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
def test_user_and_group_apply_to_the_workers(proc_server):
    server = proc_server(args=["-u", "nobody", "-g", "nogroup"])
    assert get_text(server, "/uid") == "65534 65534"
    with open("/proc/%d/status" % server.master_pid) as f:
        assert re.search(r"^Uid:\s+0\s", f.read(), re.M), "the master keeps its user"


def test_umask_applies_to_the_unix_socket(proc_server):
    server = proc_server(args=["-m", "0o077"], unix=True)
    assert os.stat(server.unix_path).st_mode & 0o777 == 0o700
    assert get_text(server, "/") == "ok"


@gthreadd_only("process titles without setproctitle")
def test_process_titles_name_master_and_workers(proc_server):
    server = proc_server(args=["-n", "shop"])
    assert cmdline(server.master_pid).startswith("gthreadd: master [shop]")
    assert cmdline(worker_pids_alive(server)[0]).startswith("gthreadd: worker [shop]")
    assert get_text(server, "/title").startswith("gthreadd: worker [shop]")


@gthreadd_only("process titles without setproctitle")
def test_process_title_defaults_to_the_app(proc_server):
    server = proc_server()
    assert cmdline(server.master_pid).startswith("gthreadd: master [procinfo:app]")


def test_env_flag_is_visible_to_the_app(proc_server):
    server = proc_server(args=["-e", "GREETING=hello", "-e", "PAIR=a=b"])
    assert get_text(server, "/env/GREETING") == "hello"
    assert get_text(server, "/env/PAIR") == "a=b"


# The server binds port 0 and the test binds the port it got: a port picked free beforehand
# could be taken by a test running beside this one (ctest -j2) before the server binds it.
def test_reuse_port_lets_another_socket_share_the_port(proc_server):
    server = proc_server(args=["--reuse-port"])
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", server.port))  # EADDRINUSE unless both set SO_REUSEPORT


def test_without_reuse_port_the_port_is_exclusive(proc_server):
    server = proc_server()
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        with pytest.raises(OSError):
            other.bind(("127.0.0.1", server.port))


def _launched(custom_server, tmp_path, mode, bind=None):
    port_file = str(tmp_path / "port")
    server = custom_server("procinfo:app", bind=bind,
                           prefix=[sys.executable, LAUNCHER, mode, port_file])
    port = read_int_file(port_file)
    assert server.port == port, "listening at %s, launcher bound %s" % (server.port, port)
    assert server.master_pid == server.proc.pid  # the launcher exec'd the server
    return server


@gthreadd_only("fd:// binds")
def test_bind_fd_serves_an_inherited_socket(custom_server, tmp_path):
    server = _launched(custom_server, tmp_path, "fd", bind="fd://{fd}")
    assert listening_inode(server.port) in socket_inodes(server.master_pid)
    assert get_text(server, "/") == "ok"


def test_systemd_socket_activation(custom_server, tmp_path):
    server = _launched(custom_server, tmp_path, "systemd")
    assert get_text(server, "/") == "ok"
    # The variables are consumed, not leaked to the app (sd_listen_fds unset_environment).
    assert server.get("/env/LISTEN_FDS").status == 404


@pytest.mark.skipif(IS_GUNICORN, reason="about gthreadd taking over from a gunicorn master")
def test_gunicorn_fd_hands_over_a_socket_as_a_gunicorn_master_would(custom_server, tmp_path):
    server = _launched(custom_server, tmp_path, "gunicorn-fd")
    assert listening_inode(server.port) in socket_inodes(server.master_pid)
    assert get_text(server, "/") == "ok"
    assert server.get("/env/GUNICORN_FD").status == 404
