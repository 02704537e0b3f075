"""The servers under test and how each is started with the same app and the same
process/thread budget (gunicorn's `-w 2 --threads 4` and each peer's equivalent)."""
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .scenarios import APPS_DIR, Scenario


@dataclass(frozen=True)
class Budget:
    workers: int = 2
    threads: int = 4
    # Load the app before forking the workers, so they share its pages: uWSGI's default
    # (without --lazy-apps); gthreadd and gunicorn do it with --preload.
    preload: bool = False


def budget_for(scenario: Scenario, workers: int, threads: int, preload: bool) -> Budget:
    """The budget a scenario runs with: its own (workers, threads) when it names one (the
    design card's `-w 10 --threads 5`), else the command line's."""
    w, t = scenario.budget or (workers, threads)
    return Budget(w, t, preload)


@dataclass(frozen=True)
class Tls:
    """A certificate and its key: the server terminates TLS with them (tls_bench.py)."""
    cert: Path
    key: Path


class Server:
    name = ""

    def __init__(self, tls: Tls | None = None):
        self.tls = tls  # None: plain HTTP, as run.sh/bench.py measure

    def unavailable(self) -> str | None:
        """Why this server cannot run at all, or None."""
        return None

    def supports(self, scenario: Scenario) -> bool:
        return True

    def command(self, scenario: Scenario, port: int, budget: Budget, rundir: Path) -> list[str]:
        raise NotImplementedError


def _missing(path: str) -> str | None:
    return None if os.access(path, os.X_OK) else f"{path} not found or not executable"


def _tls_flags(tls: Tls | None) -> list[str]:
    """gunicorn's TLS flags (gthreadd's CLI is gunicorn's)."""
    return ["--certfile", str(tls.cert), "--keyfile", str(tls.key)] if tls else []


class Gthreadd(Server):
    name = "gthreadd"

    def __init__(self, binary: Path, reason: str | None = None, tls: Tls | None = None):
        super().__init__(tls)
        self.binary = binary
        self.reason = reason  # set by run.sh when the Release build failed

    def unavailable(self):
        return self.reason or _missing(str(self.binary))

    def command(self, scenario, port, budget, rundir):
        # gthreadd's CLI is gunicorn's.
        return [str(self.binary), "-w", str(budget.workers), "--threads", str(budget.threads),
                "-b", f"127.0.0.1:{port}", "--chdir", str(APPS_DIR), *_tls_flags(self.tls),
                scenario.app] + (["--preload"] if budget.preload else [])


class Gunicorn(Server):
    name = "gunicorn"
    binary = "/usr/bin/gunicorn"  # Debian's, on Debian's python3 (not a pyenv shim)

    def unavailable(self):
        return _missing(self.binary)

    def command(self, scenario, port, budget, rundir):
        # No access log: gunicorn's default, and what gthreadd and uWSGI are run with.
        return [self.binary, "-k", "gthread", "-w", str(budget.workers),
                "--threads", str(budget.threads), "-b", f"127.0.0.1:{port}",
                "--chdir", str(APPS_DIR), *_tls_flags(self.tls), scenario.app] + (
                    ["--preload"] if budget.preload else [])


class Uwsgi(Server):
    name = "uwsgi"
    binary = "/usr/bin/uwsgi"

    def unavailable(self):
        if self.tls:
            return "uwsgi is not run with TLS by this harness"
        if not Path("/usr/lib/uwsgi/plugins/python3_plugin.so").exists():
            return "uwsgi-plugin-python3 is not installed"
        return _missing(self.binary)

    def command(self, scenario, port, budget, rundir):
        module, _, callable_ = scenario.app.partition(":")
        # --master: a parent that forks the workers, as gunicorn's arbiter does.
        # --die-on-term: SIGTERM stops (uWSGI 2.0 otherwise reloads on it).
        # --disable-logging: no per-request log line, like gunicorn without an access log.
        return [self.binary, "--plugin", "python3", "--master", "--die-on-term",
                "--http11-socket", f"127.0.0.1:{port}",
                "--processes", str(budget.workers), "--threads", str(budget.threads),
                "--chdir", str(APPS_DIR), "--pythonpath", str(APPS_DIR),
                "--module", module, "--callable", callable_ or "application",
                "--disable-logging", "--buffer-size", "8192"] + self._close_workaround(scenario)

    @staticmethod
    def _close_workaround(scenario):
        """uWSGI 2.0's --http11-socket ignores a request's `Connection: close` and keeps the
        connection (RFC 9112 §9.6 says the server must close), so wrk would measure
        keep-alive. Announcing close in every response makes the client close instead."""
        if "Connection: close" in scenario.wrk_headers:
            return ["--add-header", "Connection: close"]
        return []


class Nginx(Server):
    """nginx answering with a fixed response: the HTTP ceiling of this machine."""
    name = "nginx"
    binary = "/usr/sbin/nginx"

    def unavailable(self):
        return _missing(self.binary)

    def supports(self, scenario):
        return scenario.nginx is not None

    def command(self, scenario, port, budget, rundir):
        for name, size in scenario.nginx_files.items():
            with open(rundir / name, "wb") as out:
                out.truncate(size)  # sparse zeros: the content does not matter
        # Workers drop to "nobody" and must read the served files.
        os.chmod(rundir, 0o755)
        conf = write_nginx_conf(rundir, port, budget.workers, scenario.nginx, self.tls)
        return [self.binary, "-p", str(rundir), "-c", str(conf)]


def write_nginx_conf(rundir: Path, port: int, workers: int, location: str,
                     tls: Tls | None = None) -> Path:
    """rundir/nginx.conf: `workers` worker processes in the foreground, every path under
    rundir, listening on 127.0.0.1:port (with TLS 1.2/1.3 when `tls` is given), `location`
    the body of `location / { }`. Returns its path."""
    listen = f"127.0.0.1:{port} ssl" if tls else f"127.0.0.1:{port}"
    ssl = (f"""
        ssl_certificate {tls.cert};
        ssl_certificate_key {tls.key};
        ssl_protocols TLSv1.2 TLSv1.3;""" if tls else "")
    conf = rundir / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process on;
worker_processes {workers};
pid {rundir}/nginx.pid;
error_log {rundir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_max_body_size 4m;
    client_body_temp_path {rundir}/body;
    proxy_temp_path {rundir}/proxy;
    fastcgi_temp_path {rundir}/fastcgi;
    uwsgi_temp_path {rundir}/uwsgi;
    scgi_temp_path {rundir}/scgi;
    server {{
        listen {listen};{ssl}
        root {rundir};
        location / {{ {location} }}
    }}
}}
""")
    return conf


def all_servers(gthreadd_binary: Path, gthreadd_reason: str | None) -> list[Server]:
    return [Gthreadd(gthreadd_binary, gthreadd_reason), Uwsgi(), Gunicorn(), Nginx()]


def wrk_available() -> bool:
    return shutil.which("wrk") is not None
