#!/usr/bin/env python3
"""Generate single_include/cachekit/cachekit.hpp from include/cachekit/.

Inlines every project header reachable from include/cachekit/cachekit.hpp,
each once, in dependency order (a header appears after everything it
includes). <system> includes are left alone. The output has no timestamp,
so two runs give identical bytes.

  python3 tools/amalgamate.py          write the single header
  python3 tools/amalgamate.py --check  exit 1 if the committed file is stale
"""
import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_DIR = os.path.join(ROOT, "include")
ENTRY = os.path.join(INCLUDE_DIR, "cachekit", "cachekit.hpp")
OUTPUT = os.path.join(ROOT, "single_include", "cachekit", "cachekit.hpp")

QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
CONFLICT = re.compile(r"^(<<<<<<<|=======$|>>>>>>>)")
PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\b")

BANNER = """\
// cachekit {version} - single-header C++17 memcached client and typed cache.
// SPDX-License-Identifier: MIT
//
// GENERATED FILE - DO NOT EDIT.
// Produced by tools/amalgamate.py from the headers under include/cachekit/.
// Edit those and run: python3 tools/amalgamate.py
"""


class AmalgamateError(Exception):
    pass


def resolve(including_file, name):
    for base in (os.path.dirname(including_file), INCLUDE_DIR):
        path = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(path):
            return path
    raise AmalgamateError(f"{os.path.relpath(including_file, ROOT)}: cannot find \"{name}\"")


def generate():
    emitted = set()
    in_progress = []
    out = []

    def emit(path):
        if path in emitted:
            return
        if path in in_progress:
            cycle = " -> ".join(os.path.relpath(p, ROOT) for p in in_progress + [path])
            raise AmalgamateError(f"include cycle: {cycle}")
        in_progress.append(path)
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        body = []
        for n, line in enumerate(lines, 1):
            if CONFLICT.match(line):
                raise AmalgamateError(f"{os.path.relpath(path, ROOT)}:{n}: unresolved merge conflict marker")
            if PRAGMA_ONCE.match(line):
                continue
            m = QUOTED.match(line)
            if m:
                dep = resolve(path, m.group(1))
                # Dependencies go first, at top level, so each is emitted once.
                emit(dep)
                continue
            body.append(line)
        in_progress.pop()
        emitted.add(path)
        rel = os.path.relpath(path, INCLUDE_DIR).replace(os.sep, "/")
        out.append(f"// ---- begin {rel} ----")
        # Trim blank lines at both ends of each header for a stable layout.
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        out.extend(body)
        out.append(f"// ---- end {rel} ----")
        out.append("")

    emit(ENTRY)
    version = read_version()
    text = BANNER.format(version=version) + "\n#pragma once\n\n" + "\n".join(out)
    if not text.endswith("\n"):
        text += "\n"
    return text


def read_version():
    path = os.path.join(INCLUDE_DIR, "cachekit", "version.hpp")
    with open(path, encoding="utf-8") as f:
        m = re.search(r'#define\s+CACHEKIT_VERSION_STRING\s+"([^"]+)"', f.read())
    if not m:
        raise AmalgamateError("version.hpp has no CACHEKIT_VERSION_STRING")
    return m.group(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if the committed single header differs from a fresh generation")
    parser.add_argument("--output", default=OUTPUT, help="where to write (default: %(default)s)")
    args = parser.parse_args()
    try:
        text = generate()
    except AmalgamateError as e:
        print(f"amalgamate: error: {e}", file=sys.stderr)
        return 2
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            print(f"amalgamate: {os.path.relpath(args.output, ROOT)} is missing; "
                  "run: python3 tools/amalgamate.py", file=sys.stderr)
            return 1
        if current != text:
            diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                             "committed", "generated", lineterm="", n=1))
            print(f"amalgamate: {os.path.relpath(args.output, ROOT)} is stale "
                  f"({len(diff)} diff lines); run: python3 tools/amalgamate.py", file=sys.stderr)
            for line in diff[:40]:
                print(line, file=sys.stderr)
            return 1
        print("amalgamate: single header is up to date")
        return 0
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
