"""Installing (README "Installing"): `cmake --install build [--prefix P]` and the .deb.

Each test installs the build GTHREADD_BIN comes from into a temporary directory (DESTDIR or
--prefix, never the machine's /usr/local) or packs it with cpack into one, checks the files,
that the installed binary resolves its libraries from the system and not the build tree, and
that it serves a request on the hello app. Skipped, with the reason, when GTHREADD_BIN is not
in a CMake build directory or a packaging tool is missing (scripts/install-deps.sh installs
them).
"""
import gzip
import os
import re
import shutil
import subprocess

import pytest

from conftest import APPS, BIN, IS_GUNICORN, Server

BUILD = os.path.dirname(os.path.abspath(BIN)) if BIN else None
CONFIG = os.path.join(APPS, "..", "..", "config")
# Every shipped example (config/: INI, gunicorn.conf.py, systemd units, nginx site, Dockerfiles).
EXAMPLES = [name for name in os.listdir(CONFIG) if not name.startswith(".")]
TOOL_DEADLINE = 300  # cpack strips and compresses a ~50 MB binary on a busy 2-core box

pytestmark = pytest.mark.skipif(
    IS_GUNICORN or BUILD is None or not os.path.exists(os.path.join(BUILD, "cmake_install.cmake")),
    reason="GTHREADD_BIN is not a binary in a CMake build directory (nothing to install)")


@pytest.fixture
def scratch(tmp_path):
    """tmp_path, emptied after the test: each install holds a copy of the ~50 MB binary and
    pytest keeps its last three temporary trees."""
    yield tmp_path
    shutil.rmtree(str(tmp_path), ignore_errors=True)


def need(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip("%s not installed (scripts/install-deps.sh build installs it)" % tool)


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=TOOL_DEADLINE, **kwargs)
    assert proc.returncode == 0, "%s failed (%d):\n%s" % (" ".join(cmd), proc.returncode,
                                                          proc.stdout)
    return proc.stdout


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    return None


def has_man_page():
    return os.path.exists(os.path.join(BUILD, "gthreadd.1.gz"))


def check_installed(root, prefix):
    """The tree `prefix` (as the installed system sees it) staged under `root`."""
    staged = root + prefix
    binary = os.path.join(staged, "bin", "gthreadd")
    assert os.access(binary, os.X_OK), "no executable %s" % binary
    examples = os.path.join(staged, "share", "doc", "gthreadd", "examples")
    assert sorted(os.listdir(examples)) == sorted(EXAMPLES)
    # The example unit starts the binary this install put in place.
    with open(os.path.join(examples, "gthreadd.service")) as f:
        exec_start = re.search(r"^ExecStart=(\S+)", f.read(), re.M).group(1)
    assert exec_start == os.path.join(prefix, "bin", "gthreadd")
    if has_man_page():
        with gzip.open(os.path.join(staged, "share", "man", "man1", "gthreadd.1.gz"), "rt") as f:
            man = f.read()
        assert ".TH GTHREADD" in man and "--bind" in man.replace("\\-", "-")
    return binary


def libpython(binary):
    """The libpython3.X.so `binary` loads, as ldd resolves it (real path)."""
    libs = run(["ldd", binary])
    assert "not found" not in libs, libs
    assert BUILD not in libs, libs
    m = re.search(r"libpython3\.\d+\.so\S* => (\S+)", libs)
    assert m, libs
    return os.path.realpath(m.group(1))


def check_links(binary):
    """No RPATH/RUNPATH into the build tree; every library found; the same libpython as the
    build's binary (Debian's /usr/lib/<triplet>/libpython3.11.so.1.0 for Debian's Python)."""
    if shutil.which("readelf"):
        dynamic = run(["readelf", "-d", binary])
        assert BUILD not in dynamic, "build-tree RPATH left in %s:\n%s" % (binary, dynamic)
    if shutil.which("ldd"):
        assert libpython(binary) == libpython(BIN)


def check_serves(binary):
    """The installed binary serves the hello app on an ephemeral loopback port."""
    class Installed(Server):
        def command(self):
            return [binary] + super().command()[1:]

    server = Installed("hello:app", chdir=APPS).start()
    try:
        response = server.get("/")
        assert response.status == 200 and response.body == b"Hello, World!"
    finally:
        server.stop()


def test_install_default_prefix_is_where_the_unit_looks(scratch):
    """`cmake --install build` puts gthreadd in /usr/local/bin, where config/gthreadd.service's
    ExecStart looks (staged under DESTDIR here, to leave the machine's /usr/local alone)."""
    need("cmake")
    prefix = cache_value("CMAKE_INSTALL_PREFIX")
    if prefix != "/usr/local":
        pytest.skip("the build was configured with CMAKE_INSTALL_PREFIX=%s" % prefix)
    root = str(scratch / "root")
    run(["cmake", "--install", BUILD], env=dict(os.environ, DESTDIR=root))
    binary = check_installed(root, "/usr/local")
    check_links(binary)
    check_serves(binary)


def test_install_into_a_venv_prefix(scratch):
    """`cmake --install build --prefix /srv/venv` puts gthreadd in the venv's bin/."""
    need("cmake")
    venv = str(scratch / "srv" / "venv")
    run(["cmake", "--install", BUILD, "--prefix", venv])
    binary = check_installed("", venv)
    check_links(binary)
    check_serves(binary)


def test_deb_package(scratch):
    """`cpack -G DEB` makes gthreadd_<version>_<arch>.deb: Depends from dpkg-shlibdeps, files
    under /usr, and the binary extracted from it serves a request."""
    need("cpack", "dpkg", "dpkg-deb", "dpkg-shlibdeps", "file")
    if not has_man_page():
        pytest.skip("the build has no man page (a sanitizer build, or help2man was missing "
                    "when it was configured)")
    out = str(scratch / "out")
    run(["cpack", "-G", "DEB", "-B", out], cwd=BUILD)
    version = re.search(r"version ([\w.~+-]+)", run([BIN, "--version"])).group(1)
    arch = run(["dpkg", "--print-architecture"]).strip()
    deb = os.path.join(out, "gthreadd_%s_%s.deb" % (version, arch))
    assert os.path.exists(deb), os.listdir(out)

    info = run(["dpkg-deb", "-I", deb])
    fields = dict(re.findall(r"^ ([A-Za-z-]+): (.*)$", info, re.M))
    depends = fields.get("Depends", "")
    assert re.search(r"\blibpython3\.\d+ \(>=", depends), info
    assert re.search(r"\blibtbb\w*", depends), info
    assert fields.get("Section") == "httpd" and fields.get("Maintainer"), info
    assert fields.get("Package") == "gthreadd" and fields.get("Version") == version, info

    root = str(scratch / "root")
    run(["dpkg-deb", "-x", deb, root])
    binary = check_installed(root, "/usr")
    assert not os.path.exists(os.path.join(root, "usr", "local"))
    check_links(binary)
    check_serves(binary)
