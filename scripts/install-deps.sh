#!/usr/bin/env bash
# Installs the Debian packages gthreadd needs that are not installed yet. Idempotent and
# quick when nothing is missing: it asks dpkg first and calls apt-get only for what lacks.
# Usage: scripts/install-deps.sh [build|package|test|bench]   (each includes the ones before it)
set -euo pipefail
level="${1:-build}"

build_pkgs=(cmake make g++ pkg-config python3 python3-dev libtbb-dev pybind11-dev libcli11-dev
            libinih-dev libspdlog-dev libfmt-dev libssl-dev help2man)   # help2man: the man page
package_pkgs=(dpkg-dev file)   # cpack -G DEB: dpkg-shlibdeps computes Depends, file finds ELFs
test_pkgs=(libgtest-dev libgmock-dev python3-pytest python3-venv python3-flask python3-django nginx-light openssl curl
           python3-prometheus-client prometheus   # test_metrics.py: the exposition parser, a real scraper
           clang libclang-rt-14-dev)
bench_pkgs=(gunicorn uwsgi uwsgi-plugin-python3 python3-waitress wrk gnuplot-nox)

want=("${build_pkgs[@]}")
case "$level" in
  build) ;;
  package) want+=("${package_pkgs[@]}") ;;
  test) want+=("${package_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) want+=("${package_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|package|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
