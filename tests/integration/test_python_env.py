"""The app sees what its venv's own python would show (issue 11): sys.executable, sys.prefix,
the venv's pyvenv.cfg (include-system-site-packages) applied by CPython's own path
configuration, a venv of another Python version refused with a message, and the binary
installed in a venv's bin/ using that venv without a flag."""
import glob
import os
import re
import shutil
import subprocess

import pytest

from conftest import APPS, BIN, IS_GUNICORN, Server

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gthreadd's embedding only")


def embedded(make_server):
    """(version, base_prefix) of the interpreter the binary embeds, asked of a server."""
    server = make_server("venv_info:app")
    info = server.get("/").json()
    server.stop()
    return info["version"], info["base_prefix"]


def make_venv(python, path, system_site=False):
    cmd = [python, "-m", "venv", "--without-pip"]
    if system_site:
        cmd.append("--system-site-packages")
    result = subprocess.run(cmd + [str(path)], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.skip("cannot make a venv with %s (python3-venv missing?): %s" % (python, result.stderr[-300:]))
    return str(path)


def base_python(version, base_prefix):
    for candidate in ("%s/bin/python%s" % (base_prefix, version), "%s/bin/python3" % base_prefix):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("no python%s under %s to make a venv with" % (version, base_prefix))


@pytest.fixture
def interp(make_server):
    version, base_prefix = embedded(make_server)
    return version, base_python(version, base_prefix)


def test_venv_without_system_site_packages_is_isolated(make_server, tmp_path, interp):
    venv = make_venv(interp[1], tmp_path / "venv")
    server = make_server("venv_info:app", env={"VIRTUAL_ENV": venv})
    info = server.get("/subprocess").json()
    assert info["executable"] == venv + "/bin/python"
    assert info["prefix"] == venv
    assert info["child_prefix"] == venv, "sys.executable did not run in the venv"
    # Debian's (or the base python's) packages are not visible, as under the venv's python.
    assert info["flask"] is False
    with_flask = Server("flask_app:app", [], env={"VIRTUAL_ENV": venv}).spawn()
    try:
        assert with_flask.wait_exit(60) != 0
        assert "No module named 'flask'" in with_flask.log
    finally:
        with_flask.stop()


def test_venv_with_system_site_packages_sees_them(make_server, tmp_path, interp):
    if subprocess.run([interp[1], "-c", "import flask"], capture_output=True).returncode != 0:
        pytest.skip("flask is not installed for %s" % interp[1])
    venv = make_venv(interp[1], tmp_path / "venv", system_site=True)
    server = make_server("venv_info:app", args=["--virtualenv", venv])
    info = server.get("/").json()
    assert info["prefix"] == venv and info["flask"] is True


def test_binary_installed_in_a_venv_uses_it(tmp_path, interp):
    venv = make_venv(interp[1], tmp_path / "venv")
    installed = os.path.join(venv, "bin", "gthreadd")
    shutil.copy2(BIN, installed)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    server = Server("venv_info:app", [], chdir=APPS)
    server.env = dict(env, PYTHONDONTWRITEBYTECODE="1")
    plain = server.command
    server.command = lambda: [installed] + plain()[1:]
    try:
        server.start()
        info = server.get("/").json()
        assert info["prefix"] == venv and info["executable"] == venv + "/bin/python"
    finally:
        server.stop()


def other_python(version):
    """A CPython of another minor version than the embedded one (pyenv), or None."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for python in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3"))):
        m = re.search(r"versions/(3\.\d+)", python)
        if m and m.group(1) != version and m.group(1) >= "3.3":
            return python
    return None


def test_venv_of_another_python_version_is_refused_with_a_message(tmp_path, interp):
    python = other_python(interp[0])
    if python is None:
        pytest.skip("no other CPython (pyenv) on this machine to make a foreign venv with")
    venv = make_venv(python, tmp_path / "venv")
    server = Server("venv_info:app", [], env={"VIRTUAL_ENV": venv}).spawn()
    try:
        assert server.wait_exit(60) != 0
        assert re.search(r"virtualenv '%s' is Python 3\.\d+, but this gthreadd embeds Python %s: build one for it "
                         r"with cmake -DPython_EXECUTABLE=%s/bin/python" % (re.escape(venv), re.escape(interp[0]),
                                                                            re.escape(venv)), server.log), server.log
    finally:
        server.stop()
