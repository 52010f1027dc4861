#!/usr/bin/env python3
"""Fails when two files of one unity-built binary define a file-scope
function of the same name. The test, peer and CLI binaries are compiled in
unity batches (CACHEKIT_UNITY_BUILD), where such functions become overloads
of each other and a call can silently pick the other file's. Python stdlib only.

usage: check_test_names.py"""
import collections
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = ["tests/unit-*.cpp", "tests/peer-*.cpp", "tests/support/*.cpp", "tools/cli/*.cpp"]
# A definition starts at column 0: optional specifiers, a return type, the name, '('.
DEFINITION = re.compile(r"^(?:static |inline |constexpr |template <[^>]*> )*[A-Za-z_][\w:<>,\s*&]*?[\s*&]([a-z_]\w*)\(")


def main():
    bad = []
    for group in GROUPS:
        where = collections.defaultdict(set)
        for path in sorted(glob.glob(os.path.join(ROOT, group))):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.startswith((" ", "\t", "#", "//", "}", "return", "TEST_CASE")):
                        continue
                    m = DEFINITION.match(line)
                    if m and ("{" in line or not line.rstrip().endswith(";")):
                        where[m.group(1)].add(os.path.relpath(path, ROOT))
        for name, files in sorted(where.items()):
            if len(files) > 1 and name != "main":
                bad.append("%s is defined in %s" % (name, ", ".join(sorted(files))))
    for b in bad:
        print("check_test_names: " + b + ": give each file's helper its own name or share one in tests/support/")
    if bad:
        return 1
    print("check_test_names: file-scope function names are unique per binary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
