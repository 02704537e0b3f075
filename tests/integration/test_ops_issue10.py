"""Issue 10, config and process model: TLS settings that cannot work and a logger class refused
in every config format, a missing -c file in one line, limits clamped with one warning, workers that stop when
the master is SIGKILLed, -u/-g with unix sockets and log files in root-owned directories, and
--reload picking up modules imported after boot."""
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import APPS, BIN, IS_GUNICORN, Conn, Server, build_request
from ops_util import wait_lines
from proc_util import alive, wait_until

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gthreadd behaviour (issue 10)")

RUN_DEADLINE = 30.0  # a refused start must exit; generous for a busy 2-core box
HELLO = (
    "def app(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])\n"
    "    return [b'ok']\n")


def run_to_exit(args, env=None, cwd=APPS):
    """Runs the binary until it exits (it must: these configurations are refused)."""
    proc = subprocess.run([BIN] + args, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=RUN_DEADLINE,
                          env=dict(os.environ, **(env or {})), start_new_session=True)
    return proc.returncode, proc.stdout + proc.stderr


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# --------------------------------------------------------------------------------------
# TLS and Python logging settings: refused, naming the setting, in every format
# --------------------------------------------------------------------------------------

# TLS is supported since issue 14 (test_tls.py): what is still refused is the ssl_context
# hook and values gthreadd cannot read (exit 2), and a certificate or key that cannot be
# loaded stops the start (exit 1); either way one line names the setting and nothing listens.
@pytest.mark.parametrize("line, name, code, why", [
    ("certfile = '/etc/ssl/certs/site.pem'", "certfile", 1, "No such file"),
    ("keyfile = '/etc/ssl/private/site.key'", "keyfile", 1, "without certfile"),
    ("import ssl\ncert_reqs = 'sometimes'", "cert_reqs", 2, "CERT_REQUIRED"),
    ("ssl_version = 'SSLv2'", "ssl_version", 2, "not a TLS version"),
    ("def ssl_context(conf, default_ssl_context_factory):\n    return default_ssl_context_factory()",
     "ssl_context", 2, "ssl.SSLContext"),
])
def test_tls_in_a_python_config_that_cannot_work_refuses_to_start(tmp_path, line, name, code, why):
    conf = write(tmp_path / "gunicorn.conf.py", "bind = '127.0.0.1:0'\nworkers = 1\n" + line + "\n")
    exit_code, out = run_to_exit(["-c", str(conf), "hello:app"])
    assert exit_code == code, out
    assert name in out and why in out, out
    assert "Listening at" not in out, out


def test_tls_on_the_command_line_is_read_not_an_unexpected_app_uri():
    code, out = run_to_exit(["-b", "127.0.0.1:0", "--certfile", "site.pem", "--keyfile", "site.key",
                             "hello:app"])
    assert code == 1, out
    assert "certfile 'site.pem'" in out and "No such file" in out, out
    assert "not expected" not in out and "APP_URI" not in out, out


def test_tls_in_gunicorn_cmd_args_is_read():
    code, out = run_to_exit(["-b", "127.0.0.1:0", "hello:app"],
                            env={"GUNICORN_CMD_ARGS": "--certfile site.pem"})
    assert code == 1, out
    assert "certfile 'site.pem'" in out, out


# logconfig, logconfig_dict, logconfig_json and logger_class subclasses of gunicorn's Logger
# are supported since issue 14 (test_issue14_logconfig.py); another logger class is refused.
def test_a_logger_class_that_is_not_gunicorns_logger_is_refused_in_a_python_config(tmp_path):
    conf = write(tmp_path / "gunicorn.conf.py",
                 "bind = '127.0.0.1:0'\nfrom logging import Logger as JsonLogger\nlogger_class = JsonLogger\n")
    code, out = run_to_exit(["-c", str(conf), "hello:app"])
    assert code == 1, out
    assert "logger_class 'logging.Logger' is not a subclass of gunicorn.glogging.Logger" in out, out


# A refused setting (exit 2) and a logger class that cannot be imported (exit 1): the error
# is written to the configured error log, once.
@pytest.mark.parametrize("line, code, record", [
    pytest.param("spew = True", 2, r"\[ERROR\] Error: .*spew", id="refused-setting"),
    pytest.param("logger_class = 'myapp.Logger'", 1,
                 r"\[ERROR\] cannot apply the logging configuration: .*logger_class "
                 r"'myapp.Logger' cannot be loaded: No module named 'myapp'",
                 id="logger-class-not-importable"),
])
def test_a_start_error_is_written_once_to_the_configured_error_log(tmp_path, line, code, record):
    error_log = tmp_path / "error.log"
    conf = write(tmp_path / "gunicorn.conf.py", "%s\nerrorlog = %r\n" % (line, str(error_log)))
    exit_code, out = run_to_exit(["-c", str(conf), "hello:app"])
    assert exit_code == code, out
    text = error_log.read_text()
    assert len(re.findall(record, text)) == 1, text


def test_python_logging_defaults_and_tls_defaults_are_accepted(tmp_path):
    conf = write(tmp_path / "gunicorn.conf.py",
                 "logger_class = 'gunicorn.glogging.Logger'\nlogconfig_dict = {}\nlogconfig = None\n"
                 "certfile = None\nsuppress_ragged_eofs = True\ndo_handshake_on_connect = False\n")
    server = Server("hello:app", args=["-c", str(conf)]).start()
    try:
        assert server.get("/").status == 200
    finally:
        server.stop()


# --------------------------------------------------------------------------------------
# A missing -c file: gunicorn's one line and exit status
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["missing.conf.py", "missing.ini"])
def test_missing_config_file_is_one_line_like_gunicorn(tmp_path, name):
    code, out = run_to_exit(["-c", name, "hello:app"], cwd=str(tmp_path))
    assert code == 1, out
    assert out.strip() == "Error: '%s' doesn't exist" % name, out


# --------------------------------------------------------------------------------------
# Limits above gunicorn's maximum: clamped, one warning in the error log file
# --------------------------------------------------------------------------------------

def test_limit_request_line_above_the_maximum_is_clamped_with_one_warning(tmp_path):
    error_log = str(tmp_path / "error.log")
    server = Server("hello:app", args=["--limit-request-line", "16384", "--limit-request-fields", "40000",
                                       "--error-logfile", error_log])
    server.spawn()
    try:
        wait_until(lambda: os.path.exists(error_log) and "Booting worker" in open(error_log).read(),
                   "the worker to boot", RUN_DEADLINE)
        text = open(error_log).read()
        assert len(re.findall(r"--limit-request-line 16384 is above the maximum; using 8190", text)) == 1, text
        assert len(re.findall(r"--limit-request-fields 40000 is above the maximum; using 32768", text)) == 1, text
        assert "[WARNING]" in text, text
    finally:
        server.stop()


# --------------------------------------------------------------------------------------
# kill -9 of the master: workers stop, the port is free again
# --------------------------------------------------------------------------------------

class BoundServer(Server):
    """A Server listening on a given TCP port instead of an ephemeral one."""

    def __init__(self, app, port, **kwargs):
        super().__init__(app, **kwargs)
        self.fixed_port = port

    def command(self):
        cmd = super().command()
        cmd[cmd.index("127.0.0.1:0")] = "127.0.0.1:%d" % self.fixed_port
        return cmd


def test_workers_stop_when_the_master_is_killed(make_server):
    server = make_server("hello:app", workers=2)
    workers = server.worker_pids()
    assert len(workers) == 2 and all(alive(pid) for pid in workers)
    port = server.port
    os.kill(server.master_pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in workers),
               "the workers of a SIGKILLed master to exit", 10)
    # The port is free: a new server binds it and serves.
    again = BoundServer("hello:app", port).start()
    try:
        assert again.port == port
        assert again.get("/").status == 200
    finally:
        again.stop()


def test_workers_still_importing_the_app_stop_when_the_master_is_killed(tmp_path):
    # The kernel's parent-death signal, set before the app is imported, covers a master that
    # dies while its workers boot (a parent check in the event loop starts only after).
    write(tmp_path / "slowboot.py", "import time\ntime.sleep(3)\n" + HELLO)
    server = Server("slowboot:app", chdir=str(tmp_path), workers=2).spawn()
    try:
        server.wait_for_log(r"Booting worker with pid: (\d+)", RUN_DEADLINE, count=2)
        workers = server.worker_pids()
        os.kill(server.proc.pid, signal.SIGKILL)
        wait_until(lambda: not any(alive(pid) for pid in workers),
                   "the booting workers of a SIGKILLed master to exit", 15)
    finally:
        server.stop()


# --------------------------------------------------------------------------------------
# -u/-g: the unix socket and the log files belong to the worker user
# --------------------------------------------------------------------------------------

def unprivileged_ids():
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


def request_as(uid, gid, sock_path):
    """A request over the unix socket from a process running as uid:gid (nginx's position)."""
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.settimeout(10)\n"
        "s.connect(sys.argv[1])\n"
        "s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "data = b''\n"
        "while True:\n"
        "    chunk = s.recv(65536)\n"
        "    if not chunk: break\n"
        "    data += chunk\n"
        "print(data.split(b'\\r\\n', 1)[0].decode())\n")
    proc = subprocess.run([sys.executable, "-c", script, sock_path], user=uid, group=gid,
                          capture_output=True, text=True, timeout=30, cwd="/")
    return proc.stdout.strip() + proc.stderr.strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="-u/-g needs root to switch users")
@pytest.mark.skipif(unprivileged_ids() is None, reason="no 'nobody' user on this host")
def test_user_and_group_own_the_unix_socket_and_the_log_files():
    uid, gid = unprivileged_ids()
    base = tempfile.mkdtemp(prefix="gthreadd-issue10-", dir="/tmp")
    try:
        os.chmod(base, 0o755)  # root-owned: the worker user may read and traverse, not write
        write(os.path.join(base, "h3app.py"), HELLO)
        logs = os.path.join(base, "logs")
        os.mkdir(logs, 0o755)
        error_log = os.path.join(logs, "error.log")
        access_log = os.path.join(logs, "access.log")
        server = Server("h3app:app", unix_dir=base, chdir=base, args=[
            "-u", str(uid), "-g", str(gid), "-m", "0117",
            "--error-logfile", error_log, "--access-logfile", access_log])
        server.spawn()
        try:
            sock = server.unix_path
            wait_until(lambda: os.path.exists(error_log) and "Booting worker" in open(error_log).read(),
                       "the worker to boot", RUN_DEADLINE)

            def served():
                if server.proc.poll() is not None:
                    raise AssertionError("server exited %s:\n%s" % (server.proc.returncode, open(error_log).read()))
                try:
                    with Conn(sock, socket.AF_UNIX, timeout=5) as c:
                        c.send(build_request("GET", "/", [("Connection", "close")]))
                        return c.read_response().status == 200
                except OSError:
                    return False
            wait_until(served, "a response over the unix socket", RUN_DEADLINE)

            st = os.stat(sock)
            assert (st.st_uid, st.st_gid) == (uid, gid), "socket owned by %d:%d" % (st.st_uid, st.st_gid)
            assert request_as(uid, gid, sock) == "HTTP/1.1 200 OK"
            for path in (error_log, access_log):
                st = os.stat(path)
                assert (st.st_uid, st.st_gid) == (uid, gid), "%s owned by %d:%d" % (path, st.st_uid, st.st_gid)
            wait_lines(access_log, 1)

            # logrotate without copytruncate: move the files away, USR1, and the worker (running
            # as nobody, in a directory it cannot write) logs to fresh files.
            os.rename(access_log, access_log + ".1")
            os.rename(error_log, error_log + ".1")
            os.kill(server.proc.pid, signal.SIGUSR1)

            def logged_to_the_new_file():
                served()
                if not os.path.exists(access_log):
                    return False
                with open(access_log) as f:
                    return "GET / " in f.read()
            wait_until(logged_to_the_new_file, "an access line in the re-opened access log", 15, interval=0.2)
            st = os.stat(access_log)
            assert (st.st_uid, st.st_gid) == (uid, gid)
            assert os.path.exists(error_log)
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------------------
# --reload: a module imported at the first request is watched too
# --------------------------------------------------------------------------------------

LAZY_APP = (
    "def app(environ, start_response):\n"
    "    import lazyview  # imported at the first request, as a Django view is\n"
    "    body = lazyview.text().encode()\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain'),\n"
    "                              ('Content-Length', str(len(body)))])\n"
    "    return [body]\n")


def test_reload_watches_modules_imported_after_boot(tmp_path):
    write(tmp_path / "lazyapp.py", LAZY_APP)
    view = str(tmp_path / "lazyview.py")
    write(view, "def text():\n    return 'one'\n")
    server = Server("lazyapp:app", args=["--reload"], chdir=str(tmp_path)).start()
    try:
        assert server.get("/").body == b"one"
        deadline = time.monotonic() + 30
        body = b"one"
        while body != b"two" and time.monotonic() < deadline:
            # Written again each round: the watcher adds the module within a second of its
            # import, and an edit made before that is not an edit of a watched file.
            write(view, "def text():\n    return 'two'\n")
            time.sleep(0.3)
            try:
                body = server.get("/").body
            except (OSError, AssertionError):
                pass  # the worker is restarting
        assert body == b"two", server.log
        server.wait_for_log(r"Worker reloading: .*lazyview\.py modified", 5)
    finally:
        server.stop()
