#!/usr/bin/env bash
# ThreadSanitizer over the concurrency tests (doctest test suite
# "concurrency": pool, failover under threads, stampede, load).
#   tools/run-tsan.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build/tsan}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
# Only the files that hold concurrency tests are built.
FILES=$(cd "$ROOT/tests" && grep -l 'test_suite("concurrency")' unit-*.cpp | paste -sd';' -)
CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCACHEKIT_TEST_FILES=$FILES" \
  -DCACHEKIT_MULTIPLE_HEADERS=ON -DCACHEKIT_BUILD_EXAMPLES=OFF -DCACHEKIT_BUILD_TOOLS=OFF \
  -DCACHEKIT_INSTALL=OFF "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target cachekit_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$BUILD/tests/cachekit_tests" -ts=concurrency
