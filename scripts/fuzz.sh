#!/bin/sh
# Fuzz the HTTP request parser and chunked decoder, then the PROXY protocol header parser,
# with libFuzzer under ASan/UBSan.
#   scripts/fuzz.sh [SECONDS]      (default 30, shared: two thirds to the request parser, the
#                                   rest to the PROXY header; exits non-zero on a finding)
# Builds build-fuzz/ with clang++; findings are written to build-fuzz/findings/.
set -eu
seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
jobs="${FUZZ_BUILD_JOBS:-2}"

# GTHREADD_WERROR=ON in the environment (scripts/test.sh sets it) makes clang's warnings errors.
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGTHREADD_FUZZ=ON -DGTHREADD_TESTS=OFF -DGTHREADD_WERROR="${GTHREADD_WERROR:-OFF}" >/dev/null
cmake --build "$build" --target fuzz_request_parser fuzz_proxy_header -j"$jobs"

# The PROXY header parser is small (a 107-byte line, a 16-byte binary head and TLVs): a
# third of the time covers it; the request parser keeps the larger share.
proxy_seconds=$((seconds / 3))
[ "$proxy_seconds" -ge 1 ] || proxy_seconds=1
http_seconds=$((seconds - proxy_seconds))
[ "$http_seconds" -ge 1 ] || http_seconds=1

# New inputs go to a scratch corpus so the seed corpus in the tree stays as committed.
work="$build/corpus"
mkdir -p "$work" "$build/corpus-proxy" "$build/findings"
"$build/tests/fuzz/fuzz_request_parser" "$work" "$root/tests/fuzz/corpus/request_parser" \
  -max_total_time="$http_seconds" -max_len=16384 -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix="$build/findings/" -print_final_stats=1
exec "$build/tests/fuzz/fuzz_proxy_header" "$build/corpus-proxy" "$root/tests/fuzz/corpus/proxy_header" \
  -max_total_time="$proxy_seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix="$build/findings/proxy-" -print_final_stats=1
