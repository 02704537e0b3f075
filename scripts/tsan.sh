#!/usr/bin/env bash
# Builds build-tsan/ with ThreadSanitizer and the invariant checks (GTHREADD_TSAN: also defines
# GTHREADD_ASSERTIONS) and runs the unit tests, then a short integration run of stdlib-only
# modules against the instrumented server (issue 12). Exits non-zero on a failing test or any
# ThreadSanitizer report. Too slow for every CI run (a full instrumented build); run it after
# touching code that two threads share.
#   scripts/tsan.sh                                   everything below
#   TSAN_UNITS="worker http" scripts/tsan.sh          only these unit test binaries
#   TSAN_MODULES="test_basic.py" scripts/tsan.sh      only these integration modules (none: "")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-tsan}"
supp="$root/tests/sanitizers"
units="${TSAN_UNITS-$(cd "$root/tests/unit" && ls -d */ | tr -d / | tr '\n' ' ')}"
modules="${TSAN_MODULES-test_basic.py test_concurrency.py test_pipelining.py test_metrics.py test_request_timeout.py test_control.py test_tls.py test_slow_readers.py}"

targets=(gthreadd)
for area in $units; do targets+=("unit_$area"); done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGTHREADD_TSAN=ON \
  -DGTHREADD_TESTS=ON >/dev/null
cmake --build "$build" --target "${targets[@]}" -j"${TSAN_BUILD_JOBS:-2}"

# Reports go to stderr, as with ASan (scripts/sanitize.sh). exitcode=66: a unit test binary
# with a report fails even when every test passed. second_deadlock_stack: both stacks of a
# lock-order inversion. PYTHONMALLOC=malloc: pymalloc's arenas reuse memory behind TSan's
# back (a block freed by one thread and reused by another would look like a race).
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=0:exitcode=66:second_deadlock_stack=1:print_suppressions=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export PYTHONMALLOC=malloc
export PYTHONDONTWRITEBYTECODE=1
status=0
for area in $units; do
  binary="$build/tests/unit_$area"
  [ -x "$binary" ] || continue
  log="$build/unit_$area.log"
  if (cd "$build/tests" && "$binary" >"$log" 2>&1); then
    echo "tsan: unit_$area: $(grep -E '^\[  PASSED  \]' "$log" | head -1)"
  else
    grep -B2 -A40 -E 'WARNING: ThreadSanitizer|FAILED|assertion failed' "$log" | head -200
    echo "tsan: unit_$area FAILED (a failing test or a ThreadSanitizer report; log: $log)"
    status=1
  fi
done

# The integration run: a worker that reports keeps serving (halt_on_error=0), so the pytest
# plugin fails the test whose server log holds a report, and prints it.
if [ -n "$modules" ]; then
  export PYTHONPATH="$supp${PYTHONPATH:+:$PYTHONPATH}"
  cd "$root/tests/integration"
  # shellcheck disable=SC2086  # the module list is meant to split
  if ! GTHREADD_BIN="$build/gthreadd" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
       -p pytest_sanitizer_reports -k "not flask and not django" $modules; then
    echo "tsan: integration FAILED ($modules)"
    status=1
  fi
fi
exit "$status"
