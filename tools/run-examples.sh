#!/usr/bin/env bash
# Builds the examples and runs each one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CACHEKIT_BUILD_DIR:-$ROOT/build}/examples
if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null || ! command -v g++ >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ cmake ninja-build >/dev/null
  else
    echo "run-examples: needs g++, cmake and ninja-build" >&2; exit 1
  fi
fi
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF \
  -DCACHEKIT_BUILD_EXAMPLES=ON -DCACHEKIT_BUILD_TOOLS=OFF -DCACHEKIT_INSTALL=OFF >/dev/null
cmake --build "$BUILD"
for ex in "$ROOT"/examples/*.cpp; do
  name=$(basename "$ex" .cpp)
  echo "=== examples/$name"
  "$BUILD/examples/$name"
done
