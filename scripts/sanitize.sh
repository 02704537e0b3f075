#!/usr/bin/env bash
# Builds build-asan/ with ASan + UBSan (Debug) and runs the whole ctest suite, unit and
# integration, under them (issue 3). Exits non-zero on a failing test or any report.
#   scripts/sanitize.sh                 everything
#   scripts/sanitize.sh -R unit_http    extra arguments go to ctest
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-asan}"
supp="$root/tests/sanitizers"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DGTHREADD_SANITIZE=ON \
  -DGTHREADD_TESTS=ON >/dev/null
cmake --build "$build" -j"${SANITIZE_BUILD_JOBS:-2}"

# Reports go to stderr (no log_path): the unit tests show it in ctest's output, and the
# integration fixtures merge the server's stderr into the log they print on a failure.
# The embedded CPython is not instrumented: LeakSanitizer stays on for our code, with
# libpython's own allocations suppressed.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_init_order=1:check_initialization_order=1:detect_stack_use_after_return=0:print_summary=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# PYTHONMALLOC=malloc: pymalloc's arenas are mmap'd, which LeakSanitizer does not scan, so
# every pybind11 function record owned by a Python object would look leaked.
export PYTHONMALLOC=malloc
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# A worker killed by a report is just respawned by the master: this plugin fails the test
# whose server log holds a report, and prints it.
export PYTHONPATH="$supp${PYTHONPATH:+:$PYTHONPATH}"
export PYTEST_ADDOPTS="-p pytest_sanitizer_reports${PYTEST_ADDOPTS:+ $PYTEST_ADDOPTS}"

cd "$build"
ctest --output-on-failure --timeout 1500 -j"${SANITIZE_TEST_JOBS:-2}" "$@"
