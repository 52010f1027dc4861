#!/usr/bin/env bash
# The whole cachekit test suite: installs missing Debian packages (as root),
# then builds and runs every leg. Exits non-zero on any failure.
#
#   tools/run-tests.sh            all legs
#   LEGS="gcc17 meson" tools/run-tests.sh   only the named legs
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CACHEKIT_BUILD_DIR:-$ROOT/build/ci}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
# The meson leg builds everything with meson and runs the unit tests but
# the memcached backend suite (these files, listed the same way in
# tests/CMakeLists.txt), which the CMake legs run: with g++ in gcc17 (every
# protocol) and noexcept (the single header), with clang++ in clang20 and
# asan.
MESON_UNIT_EXCLUDE='-sfe=*unit-memcached-*,*unit-bad-input*,*unit-rejoin*,*unit-resilience*,*unit-alloc-get*,*unit-spin-wait*,*unit-cache-memcached*,*unit-cache-prefix*,*unit-interop-python*,*unit-ring-peers*'
ALL_LEGS="generated headeronly gcc17 clang20 noexcept asan tsan meson fuzz"
LEGS=${LEGS:-$ALL_LEGS}
cd "$ROOT"

PACKAGES="g++ clang cmake ninja-build meson pkg-config python3 memcached libmemcached-dev
  libmemcached-tools doctest-dev libbenchmark-dev python3-pymemcache python3-msgpack
  python3-uhashring sasl2-bin libclang-rt-14-dev libspymemcached-java default-jdk-headless ruby ruby-dalli
  nutcracker openssl libssl-dev"

install_packages() {
  local missing=()
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "run-tests: missing packages (run as root to install): ${missing[*]}" >&2
    return 1
  fi
  echo "run-tests: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

run_start=$SECONDS
leg_times=""
passed=0
failed=0
failed_legs=()
leg() {  # leg NAME COMMAND...
  local name=$1; shift
  echo "=== leg $name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  leg_times="$leg_times $name=$((SECONDS - start))s"
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); echo "=== leg $name passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failed_legs+=("$name"); echo "=== leg $name FAILED ($((SECONDS - start)) s)"
  fi
}

cmake_leg() {  # cmake_leg DIR CXX [cmake args...] -- [ctest args...]
  local dir=$BUILD/$1 cxx=$2; shift 2
  local cmake_args=() ctest_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmake_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  ctest_args=("$@")
  CXX=$cxx cmake -S "$ROOT" -B "$dir" -G Ninja -DCACHEKIT_REQUIRE_PEERS=ON "${cmake_args[@]}" >"$dir.configure.log" 2>&1 \
    || { mkdir -p "$dir"; cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j "$JOBS" || return 1
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" "${ctest_args[@]}")
}

leg_generated() {
  python3 tools/amalgamate.py --check && python3 tools/check_includes.py && python3 tools/check_test_names.py
}

leg_headeronly() {  # a file containing only the include compiles everywhere
  local tmp; tmp=$(mktemp -d)
  echo '#include <cachekit/cachekit.hpp>' >"$tmp/only.cpp"
  local ok=0 n=0 pids=() what=()
  for cxx in g++ clang++; do
    for std in c++17 c++20; do
      for extra in "" "-fno-exceptions -fno-rtti" "-DCACHEKIT_DECLARATIONS_ONLY"; do
        # shellcheck disable=SC2086
        $cxx -std=$std -Isingle_include -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror $extra \
          -fsyntax-only "$tmp/only.cpp" &
        pids+=($!); what+=("$cxx -std=$std $extra"); n=$((n + 1))
        if [ $((n % JOBS)) -eq 0 ]; then
          for i in "${!pids[@]}"; do wait "${pids[$i]}" || { echo "header-only compile failed: ${what[$i]}"; ok=1; }; done
          pids=(); what=()
        fi
      done
    done
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { echo "header-only compile failed: ${what[$i]}"; ok=1; }; done
  # Every modular header compiles on its own (includes what it uses).
  local h
  for h in $(cd include && find cachekit -name '*.hpp' | sort); do
    printf '#include <%s>\n' "$h" >"$tmp/$(echo "$h" | tr '/.' '__').cpp"
  done
  if ! (cd "$tmp" && ls cachekit_*.cpp | xargs -P "$JOBS" -I{} g++ -std=c++17 -I"$ROOT/include" -Wall -Wextra -Werror \
        -fsyntax-only {}); then
    echo "a header in include/cachekit does not compile on its own"; ok=1
  fi
  rm -rf "$tmp"
  return $ok
}

mkdir -p "$BUILD"
install_packages || exit 1
export CI=${CI:-}
for l in $LEGS; do
  case $l in
    generated) leg generated leg_generated ;;
    headeronly) leg headeronly leg_headeronly ;;
    # GCC, C++17, modular headers, benchmarks built too, TLS on (CACHEKIT_OPENSSL).
    # (The examples are built in the noexcept leg only.)
    gcc17) leg gcc17 cmake_leg gcc17 g++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_STANDARD=17 \
             -DCACHEKIT_MULTIPLE_HEADERS=ON -DCACHEKIT_BUILD_BENCH=ON -DCACHEKIT_BUILD_EXAMPLES=OFF \
             -DCACHEKIT_TEST_ALL_PROTOCOLS=ON -DCACHEKIT_WITH_OPENSSL=ON ;;
    # Clang, C++20, the generated single header.
    clang20) leg clang20 cmake_leg clang20 clang++ -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=20 \
               -DCACHEKIT_BUILD_EXAMPLES=OFF -DCACHEKIT_TEST_ALL_PROTOCOLS=ON ;;
    # No exceptions, no RTTI: the whole suite and the examples (the README's
    # snippets are compiled by the gcc17 and clang20 legs). The CLI and the
    # examples at -O3 (g++'s warnings of an optimized build), the test
    # binaries at -O1 (its flow warnings on, two thirds of -O3's compile time).
    noexcept) leg noexcept cmake_leg noexcept g++ -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_TEST_COMPILE_OPTIONS=-O1 \
               -DCACHEKIT_NO_EXCEPTIONS=ON -DCACHEKIT_BUILD_EXAMPLES=ON -- -E readme_snippets ;;
    asan) leg asan env ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            bash -c "$(declare -f cmake_leg); BUILD='$BUILD' JOBS='$JOBS' ROOT='$ROOT' cmake_leg asan clang++ \
              -DCMAKE_BUILD_TYPE=Debug -DCACHEKIT_MULTIPLE_HEADERS=ON -DCACHEKIT_BUILD_EXAMPLES=OFF \
              -DCACHEKIT_TEST_ALL_PROTOCOLS=ON -DCACHEKIT_WITH_OPENSSL=ON \
              '-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
              -- -E 'consumer|readme_snippets'" ;;
    tsan) if [ -x tools/run-tsan.sh ]; then leg tsan tools/run-tsan.sh "$BUILD/tsan"; fi ;;
    # Meson: the build, the CLI test and the unit tests but the backend suite.
    meson) leg meson bash -c "meson setup --wipe -Dunity=on -Dunity_size=8 '$BUILD/meson' >'$BUILD/meson.log' 2>&1 || meson setup -Dunity=on -Dunity_size=8 '$BUILD/meson' >'$BUILD/meson.log' 2>&1 || { cat '$BUILD/meson.log'; exit 1; }; \
             meson compile -C '$BUILD/meson' -j $JOBS && meson test -C '$BUILD/meson' --print-errorlogs --no-rebuild cli_ring \
             && meson test -C '$BUILD/meson' --print-errorlogs --no-rebuild unit --test-args='$MESON_UNIT_EXCLUDE'" ;;
    fuzz) if [ -x tools/run-fuzz.sh ]; then leg fuzz tools/run-fuzz.sh replay "$BUILD/fuzz"; fi ;;
    *) echo "unknown leg: $l"; failed=$((failed + 1)); failed_legs+=("$l") ;;
  esac
done

echo
echo "leg times:${leg_times}"
echo "total: $((SECONDS - run_start)) s"
[ ${#failed_legs[@]} -gt 0 ] && echo "failed legs: ${failed_legs[*]}"
echo "legs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
