#!/usr/bin/env bash
# Builds gthreadd against every other CPython this machine has (pyenv builds of 3.9-3.13 with
# a shared libpython; a new user's machine usually has none) and runs the integration
# modules that need only the standard library against each: environ, wsgi.input, responses,
# threads, pipelining, venvs. The full suite runs on Debian's python in scripts/test.sh.
#   scripts/test-pythons.sh                 the versions in GTHREADD_PYTHONS, default 3.12 3.13
#   GTHREADD_PYTHONS="3.9 3.10 3.12 3.13"   more (each build takes a few minutes on 2 cores)
#   GTHREADD_PYTHONS=none                   none
# Prints one line per version; exits non-zero when a build or a test fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
versions="${GTHREADD_PYTHONS:-3.12 3.13}"
[ "$versions" = none ] && { echo "pythons: skipped (GTHREADD_PYTHONS=none)"; exit 0; }
pyenv_root="${PYENV_ROOT:-$(command -v pyenv >/dev/null 2>&1 && pyenv root || echo "$HOME/.pyenv")}"
modules=(test_basic.py test_environ.py test_request_body.py test_response_validation.py
         test_pipelining.py test_concurrency.py test_python_env.py test_process_model.py
         test_ops_issue10.py)
status=0
for version in $versions; do
  # The newest pyenv build of that minor version.
  python="$(ls -d "$pyenv_root"/versions/"$version".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$python" ]; then
    echo "pythons: $version skipped (no pyenv build of it under $pyenv_root)"
    continue
  fi
  tag="${version//./}"
  build="$root/build-py$tag"
  mkdir -p "$build"
  if ! cmake -S "$root" -B "$build" -DPython_EXECUTABLE="$python" -DGTHREADD_TESTS=OFF \
         -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/build.log" 2>&1 ||
     ! cmake --build "$build" --target gthreadd -j"$(nproc)" >>"$build/build.log" 2>&1; then
    tail -30 "$build/build.log"
    echo "pythons: $version ($python) FAILED to build (log: $build/build.log)"
    status=1
    continue
  fi
  cd "$root/tests/integration"
  # Apps that need Flask or Django (Debian's, for Debian's python) are left out, and so are
  # -u/-g runs: an unprivileged worker cannot read a pyenv under root's home.
  if GTHREADD_BIN="$build/gthreadd" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q \
       -p no:cacheprovider -k "not flask and not django and not user_and_group" "${modules[@]}" >"$build/pytest.log" 2>&1; then
    echo "pythons: $version ($python): $(tail -1 "$build/pytest.log")"
  else
    tail -40 "$build/pytest.log"
    echo "pythons: $version ($python) FAILED: $(tail -1 "$build/pytest.log")"
    status=1
  fi
  cd "$root"
done
exit "$status"
