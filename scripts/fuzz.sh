#!/bin/sh
# Fuzz the HTTP request parser and chunked decoder with libFuzzer under ASan/UBSan.
#   scripts/fuzz.sh [SECONDS]      (default 30; exits non-zero on a finding)
# Builds build-fuzz/ with clang++; findings are written to build-fuzz/findings/.
set -eu
seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
jobs="${FUZZ_BUILD_JOBS:-2}"

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGTHREADD_FUZZ=ON -DGTHREADD_TESTS=OFF >/dev/null
cmake --build "$build" --target fuzz_request_parser -j"$jobs"

# New inputs go to a scratch corpus so the seed corpus in the tree stays as committed.
work="$build/corpus"
mkdir -p "$work" "$build/findings"
exec "$build/tests/fuzz/fuzz_request_parser" "$work" "$root/tests/fuzz/corpus/request_parser" \
  -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix="$build/findings/" -print_final_stats=1
