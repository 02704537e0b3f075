#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run every test (a short fuzz run of the
# request parser, then unit and integration tests through ctest). Exits non-zero when any test
# fails. This is what .ci/run calls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" test
"$root/scripts/build.sh" -DGTHREADD_TESTS=ON
# libFuzzer on the request parser and chunked decoder for FUZZ_SECONDS (issue 3); the long
# runs are scripts/fuzz.sh SECONDS. First, so ctest's summary closes the output.
"$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}" 2>&1 | tail -n 12
cd "$root/build"
ctest --output-on-failure --timeout 1500 -j2
