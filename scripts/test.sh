#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run every test (a short fuzz run of the
# request parser, then unit and integration tests through ctest). Exits non-zero when any test
# fails. This is what .ci/run calls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" test
# -Werror here (GTHREADD_WERROR), not by default: a warning fails CI, while a newer compiler
# with new warnings does not stop someone building a release.
"$root/scripts/build.sh" -DGTHREADD_TESTS=ON -DGTHREADD_WERROR=ON
# libFuzzer on the request parser, chunked decoder and PROXY header parser for FUZZ_SECONDS; the long
# runs are scripts/fuzz.sh SECONDS. First, so ctest's summary closes the output.
fuzz_log="$root/build/fuzz.log"
if GTHREADD_WERROR=ON "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}" >"$fuzz_log" 2>&1; then
  grep -E 'Done [0-9]+ runs|stat::number_of_executed_units' "$fuzz_log" | head -2 | sed 's/^/fuzz: /'
else
  cat "$fuzz_log"
  echo "fuzz: a fuzzer (request parser or PROXY header) found a problem (log above)" >&2
  exit 1
fi
# The stdlib-only integration modules against the other CPythons this machine has (issue 11).
"$root/scripts/test-pythons.sh"
cd "$root/build"
ctest --output-on-failure --timeout 1500 -j2
