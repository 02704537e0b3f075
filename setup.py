"""`pip install .` / `pip wheel .`: builds gthreadd with CMake against the interpreter that
runs pip and installs the binary into that environment's bin/ (README, "Installing with pip").

setuptools (Debian's python3-setuptools) is the build backend; this file only adds the CMake
step. There is no package index here, so pip must use the setuptools already installed:
`pip install --no-build-isolation .` (pip's isolated build would try to download it).

Environment:
  GTHREADD_CMAKE_BUILD_DIR  an existing or new CMake build directory to (re)use; default
                            build-pip/pyX.Y in the checkout, so a second install is quick.
  GTHREADD_BUILD_TYPE       CMAKE_BUILD_TYPE for a new build directory (default Release).
"""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

# setuptools provides distutils (Python 3.12 dropped it from the standard library); import it
# after setuptools so setuptools' copy is the one used.
from distutils.command.build_scripts import build_scripts  # noqa: E402
from distutils.command.install_data import install_data  # noqa: E402

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from cmake_cache import cache_value  # noqa: E402

try:
    import wheel  # noqa: F401  (setuptools' build_wheel needs it; pip cannot fetch it here)
except ImportError:
    sys.exit("setup.py: the 'wheel' package is missing for %s: install Debian's python3-wheel "
             "and make the venv with --system-site-packages, or install wheel into it, then "
             "run pip with --no-build-isolation" % sys.executable)
PY_TAG = "py%d.%d" % sys.version_info[:2]
os.makedirs(os.path.join(ROOT, "build-pip"), exist_ok=True)  # egg_info writes there


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        match = re.search(r"project\(gthreadd VERSION ([0-9.]+)", f.read())
    if not match:
        sys.exit("setup.py: no 'project(gthreadd VERSION x.y.z' line in CMakeLists.txt")
    return match.group(1)


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class BinaryDistribution(Distribution):
    """The wheel holds a native binary linked to this CPython's libpython: tag it for this
    interpreter and platform, never py3-none-any."""

    def has_ext_modules(self):
        return True


class BuildWithCMake(build_py):
    """Configures (once) and builds gthreadd, then stages `cmake --install` output
    so the binary carries the installed RPATH (only libpython's directory when it is outside
    the system's library path: a pyenv CPython)."""

    def run(self):
        super().run()
        if shutil.which("cmake") is None:
            sys.exit("setup.py: cmake not found (apt-get install cmake, or run "
                     "scripts/install-deps.sh build)")
        build_dir = os.environ.get("GTHREADD_CMAKE_BUILD_DIR") or os.path.join(
            ROOT, "build-pip", PY_TAG)
        self.configure(build_dir)
        # The default target: the binary and the man page `cmake --install` expects (in a
        # directory configured with tests, they are built too).
        subprocess.check_call(["cmake", "--build", build_dir, "-j", str(os.cpu_count() or 2)])
        stage = os.path.abspath(os.path.join(self.build_lib, "..", "gthreadd-stage"))
        shutil.rmtree(stage, ignore_errors=True)
        subprocess.check_call(["cmake", "--install", build_dir, "--prefix", stage],
                              stdout=subprocess.DEVNULL)
        self.distribution.staged = stage
        self.adjust_unit(stage)

    @staticmethod
    def adjust_unit(stage):
        """`cmake --install` wrote the staging prefix into the example unit's ExecStart; where
        pip will put the wheel's bin/ is unknown until it installs it, so name a venv to edit."""
        unit = os.path.join(stage, "share", "doc", "gthreadd", "examples", "gthreadd.service")
        if not os.path.exists(unit):
            return
        with open(unit) as f:
            text = f.read()
        text = text.replace(
            "ExecStart=" + os.path.join(stage, "bin", "gthreadd") + " ",
            "# Installed with pip: name the venv's bin/gthreadd (it then runs the app in that\n"
            "# venv, no --virtualenv needed).\nExecStart=/srv/venv/bin/gthreadd ")
        with open(unit, "w") as f:
            f.write(text)

    def configure(self, build_dir):
        if os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            # A directory built for another interpreter would install a binary that embeds
            # the wrong Python: say so rather than mix them.
            embedded = cache_value(build_dir, "Python_EXECUTABLE")
            if embedded and not same_file(embedded, sys.executable):
                sys.exit("setup.py: %s was configured for %s, not for %s (the Python running "
                         "pip); choose another GTHREADD_CMAKE_BUILD_DIR"
                         % (build_dir, embedded, sys.executable))
            return
        subprocess.check_call([
            "cmake", "-S", ROOT, "-B", build_dir,
            "-DCMAKE_BUILD_TYPE=" + os.environ.get("GTHREADD_BUILD_TYPE", "Release"),
            # The interpreter itself, not the build venv's link to it: the binary names it as
            # sys.executable when it runs outside any venv, and the build venv may be gone.
            "-DPython_EXECUTABLE=" + os.path.realpath(sys.executable), "-DGTHREADD_TESTS=OFF"])


def staged_files(dist):
    """(scripts, data_files) from the staged install: the binary as a script, so it lands in
    the environment's bin/ (pip installs a wheel's scripts there), and the man page and
    examples under share/."""
    stage = getattr(dist, "staged", None)
    if stage is None:
        return [], []
    data = []
    for sub in ("share/man/man1", "share/doc/gthreadd/examples"):
        folder = os.path.join(stage, sub)
        if os.path.isdir(folder):
            files = [os.path.join(folder, n) for n in sorted(os.listdir(folder))
                     if os.path.isfile(os.path.join(folder, n))]
            data.append((sub, files))
    return [os.path.join(stage, "bin", "gthreadd")], data


class BuildScripts(build_scripts):
    def run(self):
        self.run_command("build_py")  # the CMake build comes first
        scripts, data = staged_files(self.distribution)
        self.scripts = scripts
        self.distribution.scripts = scripts
        self.distribution.data_files = data
        # build_scripts would read the ELF binary as Python source to adjust a #! line: copy
        # it as it is (mode kept) to where install_scripts takes scripts from.
        self.mkpath(self.build_dir)
        for script in scripts:
            self.copy_file(script, os.path.join(self.build_dir, os.path.basename(script)))


class InstallData(install_data):
    def finalize_options(self):
        super().finalize_options()
        self.data_files = self.distribution.data_files


setup(
    name="gthreadd",
    version=project_version(),
    description="A fast, strict WSGI server in C++ that replaces gunicorn -k gthread",
    long_description=open(os.path.join(ROOT, "README.md")).read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9,<3.14",
    # A placeholder so build_scripts runs; replaced with the staged binary in BuildScripts.
    scripts=[os.path.join("scripts", "serve-example.sh")],
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildWithCMake, "build_scripts": BuildScripts,
              "install_data": InstallData},
    options={"build": {"build_base": os.path.join("build-pip", "setuptools-" + PY_TAG)},
             "egg_info": {"egg_base": os.path.join("build-pip")}},
    packages=[],  # no Python package: the distribution is the binary
    py_modules=[],
    zip_safe=False,
)
