"""The control socket (gunicorn 25.1's gunicornc) against the real binary: `gthreadd ctl`
and gunicorn's own wire protocol (a 4-byte big-endian length, then JSON), each command's
observable effect, the socket's mode and lifetime, the switch that turns it off, two
servers side by side, and clients that send garbage or nothing."""
import json
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import time

import pytest

from conftest import APPS, BIN, BOOT_RE, IS_GUNICORN
from proc_util import alive, live_children, wait_until

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gunicorn 20.1 has no control socket")

DEADLINE = 30.0


def ctl(path, *words, json_out=True, **kwargs):
    """Runs `gthreadd ctl -s PATH [-j] WORDS...`; returns (code, stdout, stderr)."""
    cmd = [BIN, "ctl", "-s", str(path)] + (["-j"] if json_out else []) + list(words)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=DEADLINE, **kwargs)
    return p.returncode, p.stdout, p.stderr


def ctl_json(path, *words):
    code, out, err = ctl(path, *words)
    assert code == 0, "ctl %s failed (%d): %s" % (" ".join(words), code, err)
    return json.loads(out)


def workers(path):
    return ctl_json(path, "show", "workers")["workers"]


def booted_pids(path):
    return sorted(w["pid"] for w in workers(path) if w["booted"] and not w["stopping"])


class Raw:
    """A client speaking the protocol by hand, as gunicorn's ControlClient does."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))

    def close(self):
        self.sock.close()

    def send_message(self, obj):
        payload = json.dumps(obj).encode()
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def read_message(self):
        head = self._exactly(4)
        assert head is not None, "the server closed without an answer"
        return json.loads(self._exactly(struct.unpack(">I", head)[0]))

    def at_eof(self):
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


@pytest.fixture
def ctl_server(make_server, tmp_path):
    def factory(workers=1, args=(), path=None, **kwargs):
        path = path or tmp_path / "gthreadd.ctl"
        server = make_server("hello:app", args=["--control-socket", str(path)] + list(args),
                             workers=workers, **kwargs)
        server.ctl_path = path
        return server
    return factory


def test_the_socket_is_mode_0600_and_show_workers_lists_the_live_workers(ctl_server):
    server = ctl_server(workers=2)
    st = os.lstat(server.ctl_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    shown = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(booted_pids(server.ctl_path)),
                       "two booted workers", DEADLINE)
    assert shown == live_children(server.master_pid)
    assert "Control socket listening at %s" % server.ctl_path in server.log


def test_control_socket_mode_is_configurable(ctl_server):
    server = ctl_server(args=["--control-socket-mode", "0660"])
    assert stat.S_IMODE(os.lstat(server.ctl_path).st_mode) == 0o660


def test_worker_add_then_remove(ctl_server):
    server = ctl_server(workers=1)
    before = wait_until(lambda: booted_pids(server.ctl_path), "the first worker", DEADLINE)
    added = ctl_json(server.ctl_path, "worker", "add")
    assert added == {"added": 1, "previous": 1, "total": 2}
    after = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(booted_pids(server.ctl_path)),
                       "one more booted worker", DEADLINE)
    assert set(before) < set(after)
    assert sorted(after) == live_children(server.master_pid)
    # remove: the oldest goes, as TTOU; never below one worker.
    removed = ctl_json(server.ctl_path, "worker", "remove", "5")
    assert removed == {"removed": 1, "previous": 2, "total": 1}
    wait_until(lambda: not alive(before[0]), "the oldest worker to stop", DEADLINE)
    assert booted_pids(server.ctl_path) == sorted(set(after) - set(before))
    assert ctl_json(server.ctl_path, "show", "stats")["workers_target"] == 1


def test_reload_replaces_the_workers(ctl_server):
    server = ctl_server(workers=2)
    old = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(booted_pids(server.ctl_path)),
                     "two booted workers", DEADLINE)
    assert ctl_json(server.ctl_path, "reload") == {"status": "reloading"}

    def replaced():
        pids = booted_pids(server.ctl_path)
        return pids if len(pids) == 2 and not set(pids) & set(old) else None
    wait_until(replaced, "two new workers after reload", DEADLINE)
    wait_until(lambda: not any(alive(p) for p in old), "the old workers to exit", DEADLINE)
    assert ctl_json(server.ctl_path, "show", "stats")["pid"] == server.master_pid
    assert server.get("/").status == 200


def test_reopen_reopens_the_error_log_after_a_rename(ctl_server, tmp_path):
    error_log = tmp_path / "error.log"
    server = ctl_server(args=["--error-logfile", str(error_log)], start=False)
    wait_until(lambda: error_log.exists() and BOOT_RE.search(error_log.read_text()),
               "the worker to boot", DEADLINE)
    wait_until(lambda: os.path.exists(server.ctl_path), "the control socket", DEADLINE)
    os.rename(error_log, str(error_log) + ".1")
    assert ctl_json(server.ctl_path, "reopen") == {"status": "reopening"}
    wait_until(error_log.exists, "a new error log after reopen", DEADLINE)
    # The master writes its next lines to the new file.
    ctl_json(server.ctl_path, "worker", "add")
    wait_until(lambda: BOOT_RE.search(error_log.read_text()), "a boot line in the new log",
               DEADLINE)


def test_shutdown_stops_the_master_with_exit_0_and_removes_the_socket(ctl_server):
    server = ctl_server(workers=2)
    children = live_children(server.master_pid)
    assert ctl_json(server.ctl_path, "shutdown") == {"status": "shutting_down",
                                                     "mode": "graceful"}
    assert server.wait_exit(DEADLINE) == 0
    assert "Handling signal: term" in server.log
    assert not os.path.exists(server.ctl_path)
    assert not any(alive(p) for p in children)


def test_no_control_socket_turns_it_off(ctl_server):
    server = ctl_server(args=["--no-control-socket"])
    assert server.get("/").status == 200
    assert not os.path.exists(server.ctl_path)
    code, out, err = ctl(server.ctl_path, "show", "workers")
    assert code == 1 and "no control socket at %s" % server.ctl_path in err


def test_no_socket_without_a_path(make_server, tmp_path):
    server = make_server("hello:app", args=["--pythonpath", APPS], chdir=str(tmp_path))
    assert "Control socket" not in server.log
    assert os.listdir(tmp_path) == []


def test_two_servers_with_their_own_sockets(ctl_server, tmp_path):
    a = ctl_server(path=tmp_path / "a.ctl")
    b = ctl_server(path=tmp_path / "b.ctl")
    assert ctl_json(a.ctl_path, "show", "stats")["pid"] == a.master_pid
    assert ctl_json(b.ctl_path, "show", "stats")["pid"] == b.master_pid
    # A third given a's path does not take a's control away (gunicorn would unlink it).
    c = ctl_server(path=tmp_path / "a.ctl")
    c.wait_for_log(r"Control server error: .*in use by another running server", DEADLINE)
    assert ctl_json(a.ctl_path, "show", "stats")["pid"] == a.master_pid
    assert c.get("/").status == 200


def test_a_stale_socket_file_is_replaced(ctl_server, tmp_path):
    path = tmp_path / "stale.ctl"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(path))  # bound, never listening: what a killed server leaves
    leftover.close()
    server = ctl_server(path=path)
    assert ctl_json(path, "show", "stats")["pid"] == server.master_pid


def test_a_file_that_is_not_a_socket_is_never_replaced(ctl_server, tmp_path):
    path = tmp_path / "precious.txt"
    path.write_text("keep me")
    server = ctl_server(path=path)
    server.wait_for_log(r"Control server error: .*is not a socket", DEADLINE)
    assert path.read_text() == "keep me"
    assert server.get("/").status == 200


def test_gunicorns_request_form_is_understood(ctl_server):
    server = ctl_server(workers=2)
    raw = Raw(server.ctl_path)
    raw.send_message({"id": 41, "command": "show", "args": ["workers"]})
    answer = raw.read_message()
    assert answer["id"] == 41 and answer["status"] == "ok"
    assert answer["data"]["count"] == len(answer["data"]["workers"]) == 2
    # One connection, several commands (gunicornc's interactive mode).
    raw.send_message({"id": 42, "command": "show stats", "args": []})
    answer = raw.read_message()
    assert answer["id"] == 42 and answer["data"]["workers_current"] == 2
    raw.close()


def test_garbage_gets_an_error_and_the_master_keeps_serving(ctl_server):
    server = ctl_server()
    # A length prefix with bad JSON behind it: an error, and the connection goes on.
    raw = Raw(server.ctl_path)
    payload = b"{not json"
    raw.sock.sendall(struct.pack(">I", len(payload)) + payload)
    answer = raw.read_message()
    assert answer["status"] == "error" and "invalid JSON" in answer["error"]
    raw.send_message({"id": 2, "command": "frobnicate"})
    answer = raw.read_message()
    assert answer["status"] == "error" and answer["error"].startswith("Unknown command: frobnicate")
    raw.send_message({"id": 3, "command": "show stats"})
    assert raw.read_message()["status"] == "ok"
    raw.close()
    # Text with no length prefix cannot be framed: an error, then the connection closes.
    raw = Raw(server.ctl_path)
    raw.sock.sendall(b"show workers\n")
    answer = raw.read_message()
    assert answer["status"] == "error" and "4-byte big-endian length" in answer["error"]
    assert raw.at_eof()
    raw.close()
    assert server.get("/").status == 200
    assert ctl_json(server.ctl_path, "show", "stats")["pid"] == server.master_pid


def test_a_silent_or_slow_client_never_blocks_the_master(ctl_server):
    server = ctl_server()
    silent = Raw(server.ctl_path)          # connects and says nothing
    slow = Raw(server.ctl_path, timeout=20)
    slow.sock.sendall(struct.pack(">I", 100) + b'{"id": 1')  # a request begun, never finished
    # The master serves HTTP, signals and other control clients meanwhile.
    assert server.get("/").status == 200
    assert ctl_json(server.ctl_path, "show", "stats")["pid"] == server.master_pid
    os.kill(server.master_pid, signal.SIGTTIN)
    wait_until(lambda: len(booted_pids(server.ctl_path)) == 2, "TTIN's worker", DEADLINE)
    # The unfinished request is dropped after its 5 s; the silent one may stay (idle).
    started = time.monotonic()
    assert slow.at_eof()
    assert time.monotonic() - started < 15
    silent.close()
    slow.close()


def test_client_errors_are_clear(ctl_server, tmp_path):
    code, out, err = ctl(tmp_path / "nothing.ctl", "show", "workers")
    assert code == 1 and "no control socket at" in err
    server = ctl_server()
    code, out, err = ctl(server.ctl_path, "frobnicate", json_out=False)
    assert code == 1
    assert "Unknown command: frobnicate" in err and "show workers" in err and "worker add" in err
    code, out, err = ctl(server.ctl_path, "worker", "add", "zero")
    assert code == 1 and "not a count of workers" in err
    p = subprocess.run([BIN, "ctl", "show", "workers"], capture_output=True, text=True,
                       timeout=DEADLINE)
    assert p.returncode == 2 and "-s PATH" in p.stderr
    # Permission denied: a user other than the socket's owner (mode 0600).
    if os.geteuid() == 0:
        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
        code, out, err = ctl(server.ctl_path, "show", "workers", preexec_fn=as_nobody)
    else:
        os.chmod(server.ctl_path, 0)
        code, out, err = ctl(server.ctl_path, "show", "workers")
        os.chmod(server.ctl_path, 0o600)
    assert code == 1 and "permission denied on %s" % server.ctl_path in err


def test_human_output_follows_gunicornc(ctl_server):
    server = ctl_server(workers=2)
    wait_until(lambda: len(booted_pids(server.ctl_path)) == 2, "two booted workers", DEADLINE)
    code, out, err = ctl(server.ctl_path, "show", "workers", json_out=False)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["PID", "AGE", "BOOTED", "LAST_BEAT"]
    assert "Total: 2 workers" in out
    code, out, err = ctl(server.ctl_path, "-c", "show stats", json_out=False)
    assert code == 0 and re.search(r"^Workers current:\s+2$", out, re.M)
    code, out, err = ctl(server.ctl_path, "show", "config", json_out=False)
    assert code == 0 and "control_socket: %s\n" % server.ctl_path in out
    assert re.search(r"^workers: 2$", out, re.M)


def test_worker_kill_replaces_that_worker(ctl_server):
    server = ctl_server(workers=2)
    pids = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(booted_pids(server.ctl_path)),
                      "two booted workers", DEADLINE)
    assert ctl_json(server.ctl_path, "worker", "kill", str(pids[0])) == {"success": True,
                                                                         "killed": pids[0]}
    wait_until(lambda: not alive(pids[0]), "the killed worker to exit", DEADLINE)
    wait_until(lambda: (lambda p: p if len(p) == 2 and pids[0] not in p else None)(
        booted_pids(server.ctl_path)), "its replacement", DEADLINE)
    answer = ctl_json(server.ctl_path, "worker", "kill", "1")
    assert answer["success"] is False and "not found" in answer["error"]


def test_after_usr2_the_new_master_owns_the_socket(ctl_server):
    from conftest import LISTEN_RE
    server = ctl_server()
    old_master = server.master_pid
    old_workers = live_children(old_master)
    new_master = None
    try:
        os.kill(old_master, signal.SIGUSR2)
        new_master = int(server.wait_for_log(LISTEN_RE, DEADLINE, count=2).group(2))
        server.wait_for_log(r"Control socket listening at", DEADLINE, count=2)
        assert ctl_json(server.ctl_path, "show", "stats")["pid"] == new_master
        os.kill(old_master, signal.SIGWINCH)
        wait_until(lambda: not any(alive(p) for p in old_workers), "old workers to exit",
                   DEADLINE)
        os.kill(old_master, signal.SIGQUIT)
        server.wait_exit(DEADLINE)
        # The old master left the new master's socket in place.
        assert ctl_json(server.ctl_path, "show", "stats")["pid"] == new_master
    finally:
        if new_master and alive(new_master):
            children = live_children(new_master)
            os.kill(new_master, signal.SIGTERM)
            wait_until(lambda: not alive(new_master), "the new master to stop", DEADLINE)
            for pid in children:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
    assert not os.path.exists(server.ctl_path)


def test_gunicorn_config_file_names(make_server, tmp_path):
    path = tmp_path / "from_conf.ctl"
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("control_socket = %r\ncontrol_socket_mode = 0o640\n" % str(path))
    server = make_server("hello:app", args=["-c", str(conf)])
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o640
    assert ctl_json(path, "show", "stats")["pid"] == server.master_pid
    server.stop()
    assert not os.path.exists(path)
    conf.write_text("control_socket = %r\ncontrol_socket_disable = True\n" % str(path))
    server = make_server("hello:app", args=["-c", str(conf)])
    assert server.get("/").status == 200
    assert not os.path.exists(path)


def test_a_bad_mode_is_refused_at_start(tmp_path):
    p = subprocess.run([BIN, "--control-socket", str(tmp_path / "x.ctl"),
                        "--control-socket-mode", "600", "--check-config", "hello:app"],
                       capture_output=True, text=True, timeout=DEADLINE, cwd=APPS)
    assert p.returncode != 0
    assert "'600' is not a file mode from 0 to 0777" in p.stderr
