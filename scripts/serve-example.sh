#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and serve the example app with gthreadd on
# 127.0.0.1:8000 (Ctrl-C stops it). Extra arguments go to gthreadd.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" build
BUILD_TARGET=gthreadd "$root/scripts/build.sh" -DGTHREADD_TESTS=OFF >/dev/null
exec "$root/build/gthreadd" -w 2 --threads 4 -b 127.0.0.1:8000 --chdir "$root/scripts/example" "$@" app:application
