#!/usr/bin/env python3
"""Static checks of the C sources of the services and libshared (label unit):

  - no function is longer than MAX_LINES lines, from the first line of its
    signature to its closing brace (STYLE.md: "functions fit on a screen");
  - no printf-style log call (log_info("... %s", x)): errors are logged
    with structured fields, their text in "error.message" (log.h).

The house style (.clang-format, Linux/librdkafka braces) puts a function's
opening and closing braces alone at column 0, which is what this scanner
relies on; a definition written otherwise is reported too, so the check
cannot be dodged by formatting.

usage: check_functions.py SOURCE_DIR
"""
import pathlib
import re
import sys

MAX_LINES = 80
DIRS = ("libshared", "order_service", "processing_service",
        "notification_service")
PRINTF_LOG = re.compile(r"\blog_(?:debug|info|warn|error|printf)\s*\(")
# A definition whose body opens on the signature's line: "int f(void) {".
SAME_LINE_BRACE = re.compile(r"^[A-Za-z_][\w \t\*]*\b\w+\s*\([^;]*\)\s*\{\s*$")


def signature_start(lines, brace):
    """Index of the first line of the signature above line 'brace'."""
    i = brace - 1
    while i > 0:
        prev = lines[i - 1].rstrip()
        if (not prev or prev.endswith((";", "}", "*/")) or
                prev.startswith("#") or prev.startswith("//")):
            break
        i -= 1
    return i


def functions(lines):
    """(name, first line, length) of each function definition."""
    i = 0
    while i < len(lines):
        if lines[i].rstrip() == "{":
            start = signature_start(lines, i)
            sig = " ".join(l.strip() for l in lines[start:i])
            m = re.search(r"(\w+)\s*\(", sig)
            end = i + 1
            while end < len(lines) and lines[end].rstrip() != "}":
                end += 1
            if m:
                yield m.group(1), start + 1, end - start + 1
            i = end
        i += 1


def check_file(path, rel):
    problems = []
    lines = path.read_text(encoding="utf-8").split("\n")
    for name, first, length in functions(lines):
        if length > MAX_LINES:
            problems.append(f"{rel}:{first}: {name}() is {length} lines "
                            f"(at most {MAX_LINES})")
    for n, line in enumerate(lines, 1):
        if SAME_LINE_BRACE.match(line):
            problems.append(f"{rel}:{n}: function brace on the signature's "
                            "line: the length check cannot see it")
        if rel != "libshared/src/log.c" and PRINTF_LOG.search(line):
            problems.append(f"{rel}:{n}: printf-style log call: use "
                            "log_write() with fields")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    problems, nfiles = [], 0
    for d in DIRS:
        for path in sorted((root / d).rglob("*.c")):
            nfiles += 1
            problems += check_file(path, path.relative_to(root).as_posix())
    for p in problems:
        print(p)
    print(f"{nfiles} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
