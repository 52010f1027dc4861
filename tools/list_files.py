#!/usr/bin/env python3
"""List files for meson, which has no glob: list_files.py DIR PATTERN.

PATTERN ending in '-' is a name prefix ("unit-" -> DIR/unit-*.cpp);
otherwise it is a suffix (".cpp" -> DIR/*.cpp). Paths are relative to the
repository root and sorted, one per line."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
directory, pattern = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(os.path.join(ROOT, directory)))
if pattern.endswith("-"):
    picked = [n for n in names if n.startswith(pattern) and n.endswith(".cpp")]
else:
    picked = [n for n in names if n.endswith(pattern)]
print("\n".join(f"{directory}/{n}" for n in picked))
