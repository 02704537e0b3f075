#!/usr/bin/env bash
# Zero lost requests, measured (issue 5): the scenario of tests/integration/test_zero_loss.py
# (keep-alive and Connection: close clients on loopback while the master goes through
# 5 x HUP, 3 x TTIN + 3 x TTOU, USR2 + WINCH + QUIT, a --max-requests 50 recycle and a
# kill -9 of a worker), run against gthreadd and then `gunicorn -k gthread`, printing
# ok / failed / stale-retried requests per phase for each.
#   load-tests/zero-loss.sh [BIN] [GUNICORN]
# BIN defaults to the first built gthreadd (build-release, build, build-*), then PATH;
# GUNICORN to `gunicorn` (Debian's 20.1); pass "none" to skip it.
# Exit status: 0 when gthreadd lost no request outside the kill -9 phase.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
scenario="$repo/tests/integration/test_zero_loss.py"

bin="${1:-}"
if [[ -z "$bin" ]]; then
  for candidate in "$repo"/build-release/gthreadd "$repo"/build/gthreadd "$repo"/build-*/gthreadd; do
    if [[ -x "$candidate" ]]; then bin="$candidate"; break; fi
  done
fi
[[ -n "$bin" ]] || bin="$(command -v gthreadd || true)"
if [[ -z "$bin" ]]; then
  echo "zero-loss.sh: no gthreadd binary; build it (scripts/build.sh) or pass its path" >&2
  exit 2
fi
gunicorn="${2:-gunicorn}"

status=0
echo "== gthreadd: $bin"
out="$(GTHREADD_BIN="$bin" /usr/bin/python3 "$scenario" gthreadd)" || status=1
echo "$out"
# The verdict: no failure outside the kill -9 phase (its in-flight requests may be lost).
if ! echo "$out" | awk '$1 == "gthreadd" && $2 != "kill-9" && $4 != 0 { bad = 1 } END { exit bad }'; then
  status=1
fi

if [[ "$gunicorn" != none ]]; then
  echo "== gunicorn -k gthread: $(command -v "$gunicorn" || echo "$gunicorn")"
  # Informational: gunicorn's numbers are what we compare against, not a pass/fail.
  GTHREADD_BIN="$gunicorn" /usr/bin/python3 "$scenario" gunicorn || true
fi
exit "$status"
