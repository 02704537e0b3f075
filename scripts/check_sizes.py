#!/usr/bin/env python3
"""Issue 12's size rule: no source file over 500 lines, no function body over 60 lines
(initialiser tables excepted). Lists what breaks it and exits 1, else exits 0.
    scripts/check_sizes.py [--file-lines N] [--function-lines N] [PATH ...]
PATHs default to source/ and headers/. The function finder is a brace matcher, not a C++
parser: a body is a '{' opened at namespace or class scope whose declaration holds ')' and
no '=' before its '(' (so `const auto table = {...}` is data, not a function); comments,
string, raw-string and character literals are blanked first."""
import argparse
import pathlib
import re
import sys

HEX = "0123456789abcdefABCDEF"


def blank_literals(src):
    """The source with comments and literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i) + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith('R"', i) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            delim = re.match(r'R"([^(]*)\(', src[i:]).group(1)
            j = src.find(")" + delim + '"', i) + len(delim) + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "'" and i > 0 and src[i - 1].isdigit() and i + 1 < n and src[i + 1] in HEX:
            out.append(c)  # a digit separator: 1'000'000
            i += 1
        elif c in "\"'":
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path, limit):
    """(first line, name, lines) of each function body longer than `limit` lines."""
    text = blank_literals(path.read_text())
    stack, decl, saved, line, found = [], "", "", 1, []
    for ch in text:
        if ch == "\n":
            line += 1
        if ch == "{":
            d = decl.strip()
            kind, name = "other", ""
            if not any(k == "fn" for k, _, _ in stack):
                if re.match(r"(.*\s)?namespace\b", d) or d.startswith('extern "'):
                    kind = "ns"
                elif re.search(r"\b(class|struct|union|enum)\b[^()]*$", d):
                    kind = "class"
                elif re.search(r"\)\s*(noexcept\s*)?:[^:]", d) and re.search(r"\w$", d):
                    kind = "init"  # a brace initialiser in a constructor's member list
                elif ")" in d and not re.search(r"(?<![=!<>])=(?!=)", d.split("(")[0]):
                    kind = "fn"
                    m = re.search(r"([~\w:]+)\s*\(", d)
                    name = m.group(1) if m else d[:40]
            stack.append((kind, line, name))
            if kind == "init":
                saved = decl
            else:
                decl = ""
        elif ch == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "fn" and line - start + 1 > limit:
                    found.append((start, name, line - start + 1))
                if kind == "init":
                    decl = saved + "{}"
                    continue
            decl = ""
        elif ch == ";":
            decl = ""
        else:
            decl += ch
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file-lines", type=int, default=500)
    parser.add_argument("--function-lines", type=int, default=60)
    parser.add_argument("paths", nargs="*", default=["source", "headers"])
    args = parser.parse_args()
    root = pathlib.Path(__file__).resolve().parent.parent
    files = []
    for p in args.paths:
        p = pathlib.Path(p) if pathlib.Path(p).exists() else root / p
        files += sorted(p.rglob("*.[ch]pp")) if p.is_dir() else [p]
    problems = 0
    for f in files:
        lines = f.read_text().count("\n")
        if lines > args.file_lines:
            print(f"{f}: {lines} lines (file)")
            problems += 1
        for start, name, n in long_functions(f, args.function_lines):
            print(f"{f}:{start}: {name}: {n} lines")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
