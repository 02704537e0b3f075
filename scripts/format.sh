#!/usr/bin/env bash
# Applies .clang-format to the C++ sources: source/, headers/, tests/unit and tests/fuzz.
#   scripts/format.sh           rewrite the files in place
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 if any do
# CLANG_FORMAT names the binary (default: clang-format-14, else clang-format). The output
# depends on clang-format's version: the tree is formatted with Debian 12's clang-format 14.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
tool="${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}"
if [ -z "$tool" ]; then
  echo "format: clang-format not found (apt-get install clang-format)" >&2
  exit 2
fi

cd "$root"
mapfile -d '' files < <(find source headers tests/unit tests/fuzz -type f \
                          \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -print0 | sort -z)
if [ "$check" -eq 0 ]; then
  "$tool" -i --style=file "${files[@]}"
  echo "format: ${#files[@]} files formatted with $("$tool" --version | head -1)"
  exit 0
fi
differ=0
for f in "${files[@]}"; do
  if ! "$tool" --style=file "$f" | cmp -s - "$f"; then
    echo "format: $f differs from .clang-format (scripts/format.sh rewrites it)"
    differ=$((differ + 1))
  fi
done
if [ "$differ" -gt 0 ]; then
  echo "format: $differ of ${#files[@]} files differ" >&2
  exit 1
fi
echo "format: ${#files[@]} files match .clang-format"
