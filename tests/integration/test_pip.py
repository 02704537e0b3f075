"""`pip wheel .` and `pip install .` from the checkout (README "Installing with pip", issue 11).

setup.py builds gthreadd with CMake against the Python running pip. To keep this test from
compiling the project a second time, it points GTHREADD_CMAKE_BUILD_DIR at the CMake build
directory GTHREADD_BIN comes from, which setup.py accepts only when that directory was
configured for the same interpreter (the venvs here are made from it). The wheel is then
installed into a venv without system site packages, where its gthreadd must run the app in that
venv with no flag. Skipped, with the reason, when GTHREADD_BIN is not in a CMake build
directory or that interpreter has no venv module, setuptools or wheel.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import APPS, BIN, IS_GUNICORN, Server

ROOT = os.path.abspath(os.path.join(APPS, "..", ".."))
BUILD = os.path.dirname(os.path.abspath(BIN)) if BIN else None
DEADLINE = 900  # pip runs `cmake --install`, which copies (and may relink) a ~50 MB binary


sys.path.insert(0, os.path.join(ROOT, "scripts"))
from cmake_cache import cache_value  # noqa: E402

PYTHON = cache_value(BUILD, "Python_EXECUTABLE") if BUILD else None

pytestmark = pytest.mark.skipif(
    IS_GUNICORN or PYTHON is None,
    reason="GTHREADD_BIN is not a binary in a CMake build directory (nothing to package)")


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=DEADLINE, **kwargs)
    assert proc.returncode == 0, "%s failed (%d):\n%s" % (" ".join(cmd), proc.returncode,
                                                          proc.stdout[-4000:])
    return proc.stdout


def make_venv(path, system_site):
    """A venv of the build's interpreter, with pip (ensurepip works offline)."""
    cmd = [PYTHON, "-m", "venv"] + (["--system-site-packages"] if system_site else []) + [str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip("cannot make a venv with pip for %s (python3-venv missing?): %s"
                    % (PYTHON, proc.stderr[-300:]))
    return str(path)


@pytest.fixture
def builder(tmp_path):
    """A venv that can build: system site packages give it Debian's setuptools and wheel."""
    venv = make_venv(tmp_path / "builder", system_site=True)
    probe = subprocess.run([venv + "/bin/python", "-c", "import setuptools, wheel"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("setuptools or wheel missing for %s (apt-get install python3-setuptools "
                    "python3-wheel): %s" % (PYTHON, probe.stderr.strip()[-200:]))
    yield venv
    shutil.rmtree(str(tmp_path), ignore_errors=True)


def pip(venv, *args):
    env = dict(os.environ, GTHREADD_CMAKE_BUILD_DIR=BUILD, PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("VIRTUAL_ENV", None)
    return run([venv + "/bin/python", "-m", "pip"] + list(args), env=env)


def serve_from(installed, venv):
    """Starts the installed binary (no --virtualenv, no VIRTUAL_ENV) on the venv_info app and
    returns what the app reports about its interpreter."""
    server = Server("venv_info:app", [], chdir=APPS)
    server.env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    server.env["PYTHONDONTWRITEBYTECODE"] = "1"
    plain = server.command
    server.command = lambda: [installed] + plain()[1:]
    try:
        server.start()
        return server.get("/subprocess").json()
    finally:
        server.stop()


def test_pip_wheel_is_tagged_for_this_python_and_installs_into_a_plain_venv(builder, tmp_path):
    out = tmp_path / "wheels"
    pip(builder, "wheel", "--no-build-isolation", "--no-deps", "-w", str(out), ROOT)
    wheels = glob.glob(str(out / "gthreadd-*.whl"))
    assert len(wheels) == 1, os.listdir(str(out))
    name = os.path.basename(wheels[0])
    version = run([PYTHON, "-c", "import sys; print('%d%d' % sys.version_info[:2])"]).strip()
    # A native binary linked to one CPython: never a py3-none-any wheel.
    assert re.match(r"gthreadd-[0-9.]+-cp%s-cp%s[a-z]*-linux_[a-z0-9_]+\.whl$" % (version, version),
                    name), name

    # Installed where no build tools are: a venv without system site packages.
    target = make_venv(tmp_path / "target", system_site=False)
    pip(target, "install", "--no-deps", wheels[0])
    installed = os.path.join(target, "bin", "gthreadd")
    assert os.access(installed, os.X_OK)
    assert "gthreadd" in run([installed, "--version"])
    info = serve_from(installed, target)
    # The binary in the venv's bin/ runs the app in that venv, as the venv's python would.
    assert info["prefix"] == target
    assert info["executable"] == target + "/bin/python"
    assert info["child_prefix"] == target
    man = glob.glob(os.path.join(target, "share", "man", "man1", "gthreadd.1*"))
    assert man, "the man page was not installed with the wheel"

    pip(target, "uninstall", "-y", "gthreadd")
    assert not os.path.exists(installed), "pip uninstall left the binary behind"


def test_pip_install_from_the_checkout_puts_gthreadd_in_the_venvs_bin(builder):
    pip(builder, "install", "--no-build-isolation", "--no-deps", ROOT)
    installed = os.path.join(builder, "bin", "gthreadd")
    assert os.access(installed, os.X_OK)
    info = serve_from(installed, builder)
    assert info["prefix"] == builder and info["executable"] == builder + "/bin/python"


def test_a_build_directory_of_another_python_is_refused_with_a_message(builder, tmp_path):
    """setup.py must not package a binary that embeds another interpreter than pip's."""
    fake = tmp_path / "other-build"
    fake.mkdir()
    (fake / "CMakeCache.txt").write_text("Python_EXECUTABLE:FILEPATH=/nonexistent/python9.9\n")
    env = dict(os.environ, GTHREADD_CMAKE_BUILD_DIR=str(fake), PIP_NO_INDEX="1")
    proc = subprocess.run([builder + "/bin/python", "-m", "pip", "wheel", "--no-build-isolation",
                           "--no-deps", "-w", str(tmp_path / "w"), ROOT],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=DEADLINE, env=env)
    assert proc.returncode != 0
    assert "was configured for /nonexistent/python9.9" in proc.stdout
    assert not glob.glob(str(tmp_path / "w" / "*.whl"))
