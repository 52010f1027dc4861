#!/usr/bin/env bash
# Fuzz targets live in tests/fuzz/fuzz-<name>.cpp, seeds in tests/fuzz/corpus/<name>/.
#
#   tools/run-fuzz.sh replay [BUILD_DIR]        replay every corpus through every target
#                                               (GCC, ASan+UBSan, no libFuzzer); used by the test command
#   tools/run-fuzz.sh fuzz NAME SECONDS [DIR]   libFuzzer (clang, -fsanitize=fuzzer,address,undefined)
#                                               for SECONDS; new inputs go to DIR (default: a temp dir);
#                                               crashers are written to tests/fuzz/crashers/
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ=$ROOT/tests/fuzz
FLAGS=(-std=c++17 -g -O1 -I"$ROOT/include" -Wall -Wextra -Werror)
mode=${1:-replay}

case $mode in
  replay)
    out=${2:-$ROOT/build/fuzz}
    mkdir -p "$out"
    shopt -s nullglob
    targets=("$FUZZ"/fuzz-*.cpp)
    [ ${#targets[@]} -gt 0 ] || { echo "run-fuzz: no targets"; exit 1; }
    g++ "${FLAGS[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all -c "$FUZZ/replay_main.cpp" -o "$out/replay_main.o"
    for src in "${targets[@]}"; do
      name=$(basename "$src" .cpp); name=${name#fuzz-}
      g++ "${FLAGS[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all "$src" "$out/replay_main.o" -o "$out/replay-$name"
      inputs=("$FUZZ/corpus/$name")
      [ -d "$FUZZ/crashers/$name" ] && inputs+=("$FUZZ/crashers/$name")
      echo "--- $name"
      ASAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/replay-$name" "${inputs[@]}"
    done
    ;;
  fuzz)
    name=$2; seconds=$3; work=${4:-$(mktemp -d)}
    out=$ROOT/build/libfuzzer
    mkdir -p "$out" "$work" "$FUZZ/crashers/$name"
    clang++ "${FLAGS[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      "$FUZZ/fuzz-$name.cpp" -o "$out/fuzz-$name"
    "$out/fuzz-$name" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$FUZZ/crashers/$name/" "$work" "$FUZZ/corpus/$name"
    ;;
  *) echo "usage: run-fuzz.sh replay [BUILD_DIR] | fuzz NAME SECONDS [CORPUS_DIR]" >&2; exit 2 ;;
esac
