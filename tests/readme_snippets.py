#!/usr/bin/env python3
"""Compiles every ```cpp block of a Markdown file, each as its own
translation unit, with the project's warning flags (-fsyntax-only), as
nlohmann/json's unit-readme does for its README.

usage: readme_snippets.py README.md INCLUDE_DIR CXX [compiler flags...]

A block without `#include <cachekit/cachekit.hpp>` gets that line in front
(a few blocks show only declarations). A block whose fence reads
```cpp fragment is not compiled: keep those rare, for code that cannot stand
alone. Exits 1 naming each block (by line) that did not compile."""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\S*)(?:\s+(\S+))?\s*$")


def blocks(path):
    """(first line number, info words, code) of every fenced block."""
    out, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = FENCE.match(line.rstrip("\n"))
            if cur is None:
                if m and m.group(1):
                    cur = (n, [m.group(1)] + ([m.group(2)] if m.group(2) else []), [])
                elif m:
                    cur = (n, [""], [])
            elif line.rstrip("\n") == "```":
                out.append((cur[0], cur[1], "".join(cur[2])))
                cur = None
            else:
                cur[2].append(line)
    if cur is not None:
        sys.exit("%s:%d: unterminated code block" % (path, cur[0]))
    return out


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    readme, include, cxx, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    failures, jobs, skipped = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for line, info, code in blocks(readme):
            if info[0] != "cpp":
                continue
            if "fragment" in info[1:]:
                skipped += 1
                continue
            if "#include <cachekit/cachekit.hpp>" not in code:
                code = "#include <cachekit/cachekit.hpp>\n" + code
            src = os.path.join(tmp, "readme-line-%d.cpp" % line)
            with open(src, "w", encoding="utf-8") as f:
                f.write(code)
            jobs.append((line, [cxx, "-fsyntax-only", "-I" + include] + flags + [src]))
        # Two at a time: each one parses the whole header.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda job: (job[0], subprocess.run(job[1], capture_output=True, text=True)), jobs))
        for line, p in results:
            if p.returncode != 0:
                failures.append(line)
                print("%s:%d: the C++ block does not compile:\n%s%s" % (readme, line, p.stdout, p.stderr))
    compiled = len(jobs)
    print("readme snippets: %d compiled, %d failed, %d marked fragment" % (compiled, len(failures), skipped))
    if compiled == 0:
        print("no ```cpp block found in " + readme)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
