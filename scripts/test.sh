#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run every test (unit, integration and a
# short fuzz run). Exits non-zero when any test fails. This is what .ci/run calls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" test
"$root/scripts/build.sh" -DGTHREADD_TESTS=ON
cd "$root/build"
ctest --output-on-failure --timeout 1500 -j2
# A short libFuzzer run of the request parser (issue 3); the long runs are scripts/fuzz.sh.
if [ -x "$root/scripts/fuzz.sh" ]; then
  "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"
fi
