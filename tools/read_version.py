#!/usr/bin/env python3
"""Print the cachekit version read from include/cachekit/version.hpp."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "include", "cachekit", "version.hpp"), encoding="utf-8") as f:
    text = f.read()
parts = [re.search(r"#define CACHEKIT_VERSION_%s (\d+)" % p, text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
print(".".join(parts))
