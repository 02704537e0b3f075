#!/usr/bin/env bash
# Configures (once) and builds gthreadd into build/ (or $BUILD_DIR). Incremental: a second
# run with nothing changed finishes in seconds.
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
type="${BUILD_TYPE:-RelWithDebInfo}"
if [ ! -f "$build/CMakeCache.txt" ] || [ "$#" -gt 0 ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
fi
cmake --build "$build" --target "${BUILD_TARGET:-all}" -j"$(nproc)"
