#!/usr/bin/env bash
# Load-test harness entry point (issue 4): builds gthreadd (Release), then runs every
# scenario against gthreadd, uWSGI, gunicorn -k gthread and nginx. See README.md.
#   load-tests/run.sh [--short] [--scenarios a,b] [bench.py options…]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
build="$repo/build-release"
results="$here/results"
mkdir -p "$results"

say() { printf '== %s\n' "$*"; }

# wrk, the servers and a plotter from Debian; install only what is missing (idempotent).
need=()
command -v wrk >/dev/null || need+=(wrk)
[[ -x /usr/bin/gunicorn ]] || need+=(gunicorn)
[[ -x /usr/bin/uwsgi ]] || need+=(uwsgi-core)
[[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ]] || need+=(uwsgi-plugin-python3)
[[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v taskset >/dev/null || need+=(util-linux)
if ! command -v gnuplot >/dev/null && ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  need+=(gnuplot-nox)
fi
if ((${#need[@]})); then
  say "installing ${need[*]}"
  if ! { apt-get install -y --no-install-recommends "${need[@]}" ||
         { apt-get update && apt-get install -y --no-install-recommends "${need[@]}"; }; } \
       >"$results/apt.log" 2>&1; then
    say "apt-get failed (see $results/apt.log); continuing with what is installed"
  fi
fi

# gthreadd, Release, without tests. A failed build is not fatal: the peers are still
# measured and gthreadd's rows say why it was skipped.
gthreadd_args=()
if [[ "${GTHREADD_SKIP_BUILD:-0}" == 1 ]]; then
  say "GTHREADD_SKIP_BUILD=1: using $build/gthreadd as it is"
else
  say "building gthreadd (Release) in $build (log: $results/build.log)"
  if ! { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGTHREADD_TESTS=OFF &&
         cmake --build "$build" --target gthreadd -j2; } >"$results/build.log" 2>&1; then
    tail -n 5 "$results/build.log" | sed 's/^/   /'
    say "gthreadd build failed: gthreadd will be skipped"
    gthreadd_args=(--gthreadd-unavailable "Release build failed (load-tests/results/build.log)")
  fi
fi

exec /usr/bin/python3 "$here/bench.py" --gthreadd-bin "$build/gthreadd" \
  ${gthreadd_args[@]+"${gthreadd_args[@]}"} "$@"
