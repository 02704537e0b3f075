"""The files in config/ work as shipped and agree with each other (issue 11).

Each example config is loaded by the real binary with --check-config against a test app;
the socket paths, the health-check port, the user and the binary path are parsed from the
systemd units, the nginx site, the INI and gunicorn.conf.py and compared; the nginx site
passes `nginx -t`; the socket unit's listeners serve under socket activation
(systemd-socket-activate, as systemd passes them); .dockerignore keeps build trees out of
the Docker context. The configs name /srv/... paths: only those are overridden (--chdir
and the app on the command line win over the file), everything else is loaded as shipped.
"""
import configparser
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import APPS, BIN, IS_GUNICORN, Conn, Server, build_request, START_DEADLINE
from ops_util import nginx_conf

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG = os.path.join(ROOT, "config")
INI = os.path.join(CONFIG, "gthreadd.ini")
PYCONF = os.path.join(CONFIG, "gunicorn.conf.py")
SERVICE = os.path.join(CONFIG, "gthreadd.service")
SOCKET_UNIT = os.path.join(CONFIG, "gthreadd.socket")
NGINX_SITE = os.path.join(CONFIG, "nginx-site.conf")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")

# `cmake --install build` with the default CMAKE_INSTALL_PREFIX (/usr/local) and bin/.
DEFAULT_INSTALLED_BINARY = "/usr/local/bin/gthreadd"

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gthreadd's own shipped files")


# --------------------------------------------------------------------------------------
# Parsers for the shipped files
# --------------------------------------------------------------------------------------

def systemd_unit(path):
    """{section: {key: [values...]}} of a unit file (keys may repeat, e.g. ListenStream)."""
    sections, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def ini_settings():
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    parser.read(INI)
    return parser["gthreadd"]


def ini_list(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def pyconf_settings():
    namespace = {"__file__": PYCONF, "__name__": "gunicorn_conf"}
    with open(PYCONF) as f:
        exec(compile(f.read(), PYCONF, "exec"), namespace)
    return namespace


def as_list(value):
    return [value] if isinstance(value, str) else list(value)


def nginx_upstream_sockets():
    with open(NGINX_SITE) as f:
        text = f.read()
    return re.findall(r"^\s*server\s+unix:([^\s;]+)", text, re.M)


def listen_stream_as_bind(value):
    """A ListenStream= value written the way `bind` writes it."""
    return "unix:" + value if value.startswith("/") else value


# --------------------------------------------------------------------------------------
# --check-config on each example
# --------------------------------------------------------------------------------------

def check_config(config_path):
    # --chdir and the app replace /srv/mysite and mysite.wsgi (absent here); the rest of
    # the file (workers, limits, logging, hooks, body spill directory...) is as shipped.
    return subprocess.run([BIN, "-c", config_path, "--check-config", "--chdir", APPS, "hello:app"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("config_path", [INI, PYCONF], ids=["gthreadd.ini", "gunicorn.conf.py"])
def test_example_config_passes_check_config(config_path):
    done = check_config(config_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration OK: hello:app" in done.stdout


# --------------------------------------------------------------------------------------
# The files agree with each other
# --------------------------------------------------------------------------------------

def test_socket_paths_and_health_port_agree_across_the_files():
    listens = [listen_stream_as_bind(v) for v in systemd_unit(SOCKET_UNIT)["Socket"]["ListenStream"]]
    ini_bind = ini_list(ini_settings()["bind"])
    py_bind = as_list(pyconf_settings()["bind"])
    # Under socket activation the unit's listeners replace `bind`: the same addresses, so
    # nothing (nginx, a health check) depends on which way gthreadd was started.
    assert sorted(listens) == sorted(ini_bind), (listens, ini_bind)
    assert sorted(py_bind) == sorted(ini_bind), (py_bind, ini_bind)
    unix_paths = [b[len("unix:"):] for b in ini_bind if b.startswith("unix:")]
    assert unix_paths, "the INI binds no unix socket for nginx"
    assert nginx_upstream_sockets() == unix_paths


def test_users_directories_and_binary_agree():
    service = systemd_unit(SERVICE)["Service"]
    socket_unit = systemd_unit(SOCKET_UNIT)["Socket"]
    # nginx and gthreadd run as one user, which owns the socket systemd creates.
    assert service["User"] == socket_unit["SocketUser"]
    assert service["Group"] == socket_unit["SocketGroup"]
    with open(INI) as f:
        commented = dict(re.findall(r"^;\s*(user|group)\s*=\s*(\S+)", f.read(), re.M))
    assert commented == {"user": service["User"][0], "group": service["Group"][0]}
    # The unix socket lives in the service's RuntimeDirectory, which must outlive a stop
    # of the service (else the socket unit's socket file is deleted under it).
    runtime_dir = "/run/" + service["RuntimeDirectory"][0]
    for path in nginx_upstream_sockets():
        assert os.path.dirname(path) == runtime_dir
    assert service.get("RuntimeDirectoryPreserve") == ["yes"]
    # The app directory.
    assert service["WorkingDirectory"] == [ini_settings()["chdir"]] == [pyconf_settings()["chdir"]]
    # ExecStart runs the binary where `cmake --install build` puts it, with the INI the
    # INI's own header names.
    exec_start = service["ExecStart"][0].split()
    assert exec_start[0] == DEFAULT_INSTALLED_BINARY
    config_arg = exec_start[exec_start.index("-c") + 1]
    with open(INI) as f:
        assert "gthreadd -c %s" % config_arg in f.read()


# --------------------------------------------------------------------------------------
# nginx -t on the site
# --------------------------------------------------------------------------------------


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_site_passes_nginx_t(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, "    include %s;" % NGINX_SITE))
    done = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                           "-c", str(conf)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


# --------------------------------------------------------------------------------------
# Socket activation: every ListenStream of the unit serves (the health-check port too)
# --------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ActivatedServer(Server):
    """gthreadd started by systemd-socket-activate with the given listeners, as systemd
    starts gthreadd.service from gthreadd.socket (LISTEN_FDS, fds 3..)."""

    def __init__(self, listens, config_path):
        super().__init__("hello:app")
        self.listens = listens
        self.config_path = config_path

    def command(self):
        cmd = [SOCKET_ACTIVATE]
        for address in self.listens:
            cmd += ["-l", address]
        return cmd + [BIN, "-c", self.config_path, "--chdir", APPS, self.app]


def get_hello(address, family):
    # The first connection makes systemd-socket-activate exec gthreadd; the kernel queues
    # it on the listening socket until a worker accepts it, so no probe loop is needed.
    with Conn(address, family=family, timeout=START_DEADLINE) as c:
        c.send(build_request("GET", "/", [("Connection", "close")]))
        return c.read_response()


@pytest.mark.skipif(SOCKET_ACTIVATE is None, reason="systemd-socket-activate is not installed")
def test_socket_unit_listeners_serve_under_socket_activation(tmp_path):
    # The unit's ListenStream lines with the unix path moved into tmp_path and the TCP
    # port replaced by a free one; the INI as shipped (its own bind is then not used).
    listens, targets = [], []
    for value in systemd_unit(SOCKET_UNIT)["Socket"]["ListenStream"]:
        if value.startswith("/"):
            path = str(tmp_path / os.path.basename(value))
            listens.append(path)
            targets.append((path, socket.AF_UNIX))
        else:
            host, _, _ = value.rpartition(":")
            port = free_port()
            listens.append("%s:%d" % (host, port))
            targets.append(((host, port), socket.AF_INET))
    server = ActivatedServer(listens, INI)
    try:
        server.spawn()
        deadline = time.monotonic() + START_DEADLINE
        while not all(os.path.exists(p) for p, fam in targets if fam == socket.AF_UNIX):
            server._check_alive()
            assert time.monotonic() < deadline, server.log
            time.sleep(0.05)
        for address, family in targets:
            response = get_hello(address, family)
            assert response.status == 200 and response.body == b"Hello, World!", (address, server.log)
    finally:
        server.stop()


# --------------------------------------------------------------------------------------
# Docker
# --------------------------------------------------------------------------------------

def dockerignore_patterns():
    with open(os.path.join(ROOT, ".dockerignore")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def docker_excluded(path, patterns):
    """Docker's rule: a pattern (Go filepath.Match, plus **) excludes a path it matches and
    everything under a directory it matches. (No `!` exceptions are used.)"""
    def regex(pattern):
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + r"\Z")
    compiled = [regex(p.strip("/")) for p in patterns]
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(r.match(p) for r in compiled for p in prefixes)


def test_dockerignore_keeps_build_trees_and_git_out_of_the_context():
    patterns = dockerignore_patterns()
    for path in ["build/CMakeCache.txt", "build/gthreadd", "build-h6/CMakeFiles/x.o", ".git/HEAD",
                 "tests/integration/__pycache__/conftest.cpython-311.pyc", "sub/CMakeCache.txt"]:
        assert docker_excluded(path, patterns), path
    # ... and what the image build needs stays in.
    for path in ["CMakeLists.txt", "source/master/main_entry.cpp", "headers/gthreadd/net/listener.hpp",
                 "scripts/build.sh", "scripts/install-deps.sh", "tests/CMakeLists.txt", "config/Dockerfile"]:
        assert not docker_excluded(path, patterns), path


def dockerfile(name):
    with open(os.path.join(CONFIG, name)) as f:
        return f.read()


def test_dockerfiles_honour_the_build_type_and_name_the_interpreter():
    debian = dockerfile("Dockerfile")
    assert re.search(r"^ARG BUILD_TYPE=\w+", debian, re.M)
    assert 'BUILD_TYPE="$BUILD_TYPE"' in debian
    # The build directory is not inside the copied tree, and the tests (GoogleTest is not
    # among the build dependencies) are not configured.
    assert "BUILD_DIR=/build " in debian and "-DGTHREADD_TESTS=OFF" in debian
    python = dockerfile("Dockerfile.python")
    assert re.search(r"^ARG BUILD_TYPE=\w+", python, re.M)
    assert '-DCMAKE_BUILD_TYPE="$BUILD_TYPE"' in python
    assert "-DPython_EXECUTABLE=/usr/local/bin/python3" in python
    # Both stages on the same image: the binary embeds the libpython it was built against.
    froms = re.findall(r"^FROM (\S+)", python, re.M)
    assert froms == ["python:${PYTHON_VERSION}-slim-bookworm"] * 2


def test_debian_dockerfile_installs_the_libraries_the_binary_links():
    """The runtime stage of config/Dockerfile lists the Debian package of every shared
    library gthreadd needs beyond the base image's C/C++ runtime."""
    if not shutil.which("ldd") or not shutil.which("dpkg"):
        pytest.skip("needs ldd and dpkg")
    runtime = dockerfile("Dockerfile").split("\nFROM debian:12\n", 1)[1]
    packages = set(re.findall(r"install -y --no-install-recommends ([^&]*)", runtime)[0]
                   .replace("\\", " ").split())
    base = {"libc6", "libstdc++6", "libgcc-s1"}
    ldd = subprocess.run(["ldd", BIN], capture_output=True, text=True, check=True).stdout
    needed = subprocess.run(["objdump", "-p", BIN], capture_output=True, text=True).stdout \
        if shutil.which("objdump") else ""
    direct = set(re.findall(r"NEEDED\s+(\S+)", needed))
    missing = []
    for name, path in re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M):
        if direct and name not in direct:
            continue  # a dependency of a dependency: apt installs it
        owners = set()
        for candidate in {path, os.path.realpath(path), path.replace("/usr/lib/", "/lib/", 1),
                          os.path.realpath(path).replace("/usr/lib/", "/lib/", 1)}:
            done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if done.returncode == 0:
                for line in done.stdout.splitlines():  # "pkg:arch, pkg2:arch: /path"
                    owners |= {o.split(":")[0] for o in line.rsplit(": ", 1)[0].split(", ")}
        if not owners:
            if "python" in name:
                pytest.skip("%s embeds a non-Debian Python (%s): config/Dockerfile.python's case"
                            % (BIN, path))
            continue
        if not owners & (packages | base):
            missing.append((name, sorted(owners)))
    assert not missing, "runtime stage lacks: %s" % missing
