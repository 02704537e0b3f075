#!/usr/bin/env bash
# Builds gthreadd and packs it as a Debian package: gthreadd_<version>_<arch>.deb (binary in
# /usr/bin, man page, example configs and systemd units in /usr/share/doc/gthreadd/examples;
# Depends computed by dpkg-shlibdeps). Install it with: apt-get install ./gthreadd_*.deb
# Usage: scripts/package-deb.sh [OUTPUT_DIR]   (default: the build directory, build/ or $BUILD_DIR)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out="$(mkdir -p "${1:-$build}" && cd "${1:-$build}" && pwd)"
"$root/scripts/install-deps.sh" package
# Configure (a new build directory gets no tests: packaging needs none; an existing one keeps
# its options and re-checks for help2man), then build only what the package holds.
if [ -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" >/dev/null
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
        -DGTHREADD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target gthreadd gthreadd_man -j"$(nproc)"
# cpack's staging area goes to a scratch directory, so the build tree gets only the .deb.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
(cd "$build" && cpack -G DEB -B "$stage" >/dev/null)
deb="$(find "$stage" -maxdepth 1 -name 'gthreadd_*.deb' -print -quit)"
[ -n "$deb" ] || { echo "package-deb: cpack made no gthreadd_*.deb" >&2; exit 1; }
mv -f "$deb" "$out/"
echo "$out/$(basename "$deb")"
