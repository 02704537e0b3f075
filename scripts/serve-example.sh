#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and serve the example app with gthreadd on
# 127.0.0.1:8000 (Ctrl-C stops it). Extra arguments go to gthreadd.
# The build goes to build/ (or $BUILD_DIR); its progress is shown ([NN%] lines), as a first
# build takes minutes. With nothing changed, serving starts within seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh" build
if [ -f "$build/CMakeCache.txt" ]; then
  # Configured already (maybe by scripts/test.sh, with the tests): no -D options, so
  # build.sh does not configure again; only the server is (re)built, if anything changed.
  echo "serve-example: checking the build of gthreadd in $build"
  BUILD_DIR="$build" BUILD_TARGET=gthreadd "$root/scripts/build.sh"
else
  echo "serve-example: configuring and building gthreadd in $build (a first build takes" \
       "several minutes; progress follows)"
  BUILD_DIR="$build" BUILD_TARGET=gthreadd "$root/scripts/build.sh" -DGTHREADD_TESTS=OFF
fi
echo "serve-example: serving scripts/example/app.py on http://127.0.0.1:8000 (Ctrl-C stops)"
exec "$build/gthreadd" -w 2 --threads 4 -b 127.0.0.1:8000 --chdir "$root/scripts/example" "$@" app:application
