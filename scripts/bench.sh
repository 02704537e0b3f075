#!/usr/bin/env bash
# Benchmarks gthreadd against its peers; all options go to load-tests/run.sh (--short,
# --scenarios a,b, …). Results land in load-tests/results/.
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/load-tests/run.sh" "$@"
