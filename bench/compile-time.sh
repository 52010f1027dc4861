#!/usr/bin/env bash
# CPU cost of including cachekit: compiles a file that only includes the
# single header and a file that only includes <string>, <vector> and <map>,
# with g++ and clang++ (-std=c++17 -O0 -c), the two files interleaved, and
# prints the median CPU time (user + sys) of each side by side with the
# difference, which is what the header adds to a translation unit, and the
# cost of the standard headers the public declarations include (the floor
# of any declarations-only use of the API). Then the
# same for a file that uses the memcached backend and the facade, compiled
# header-only and with CACHEKIT_DECLARATIONS_ONLY (the library compiled in
# another translation unit, see config.hpp).
#
#   bench/compile-time.sh [-n reps] [-I include-dir] [-B include-dir] [-c] [-- extra compiler flags]
#
# -c also counts the instructions each compiler executes for the
# include-only and std-only files (valgrind's cachegrind, child processes
# included): the same count on every run, however loaded the machine, so
# a change of a few percent shows where CPU times are too noisy to.
#
# Defaults: 5 repetitions, -I the repository's single_include. -B adds rows
# for another copy of the header (e.g. the one before a change), compiled in
# the same loop, alternating with the first, so that both see the same load.
# CXX_LIST="g++ clang++" chooses the compilers.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
reps=5
inc="$here/single_include"
before=""
count=0
while [ $# -gt 0 ]; do
  case $1 in
    -n) reps=$2; shift 2 ;;
    -I) inc=$2; shift 2 ;;
    -B) before=$2; shift 2 ;;
    -c) count=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile-time.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
extra=("$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <cachekit/cachekit.hpp>\n' >"$tmp/header.cpp"
printf '#include <string>\n#include <vector>\n#include <map>\n' >"$tmp/std.cpp"
# The standard headers the public declarations (config, Result, the backend
# interface, cache(), Cache<T>) include: what any declarations-only file of
# cachekit's API would cost at least.
# std::function comes from libstdc++'s own header where there is one, as in
# the library (detail/function.hpp).
printf '#include <%s>\n' cstddef cstdint new utility type_traits tuple string string_view vector optional memory \
  chrono >"$tmp/api.cpp"
cat >>"$tmp/api.cpp" <<'EOF2'
#if defined(__GLIBCXX__) && __has_include(<bits/std_function.h>)
#include <bits/std_function.h>
#else
#include <functional>
#endif
EOF2

# CPU milliseconds (user + sys) of one command: a child bash runs it and
# reports its children's times with the `times` builtin.
cpu_of() {
  local line
  line=$(bash -c '"$@" >/dev/null || exit 1; times' _ "$@" | tail -n 1) || {
    echo "compile failed: $*" >&2; exit 1; }
  local user sys
  read -r user sys <<<"$line"
  echo $(( $(to_ms "$user") + $(to_ms "$sys") ))
}

to_ms() {  # 0m1.234s -> 1234
  local v=$1 m s
  m=${v%%m*}; s=${v#*m}; s=${s%s}
  local whole=${s%.*} frac=${s#*.}
  frac=$(printf '%-3s' "$frac" | tr ' ' 0); frac=${frac:0:3}
  echo $(( (10#$m * 60 + 10#$whole) * 1000 + 10#$frac ))
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }
fmt() { awk -v ms="$1" 'BEGIN {printf "%.2f", ms / 1000}'; }

cat >"$tmp/use.cpp" <<'EOF2'
#include <cachekit/cachekit.hpp>
#include <cstdint>
#include <string>
std::int64_t answer(std::int64_t x);
int use() {
  cachekit::MemcachedBackendConfig cfg;
  auto backend = std::make_shared<cachekit::MemcachedBackend>(cfg);
  auto cached = cachekit::cache(backend, cachekit::CacheOptions{}, [](std::int64_t x) { return answer(x); });
  auto got = backend->get("k");
  return (got ? 0 : 1) + static_cast<int>(cached(1));
}
EOF2
{ echo '#define CACHEKIT_DECLARATIONS_ONLY'; cat "$tmp/use.cpp"; } >"$tmp/use_decl.cpp"
# The declarations view alone: what including the header costs a file of a
# project that compiles the library once.
printf '#define CACHEKIT_DECLARATIONS_ONLY\n#include <cachekit/cachekit.hpp>\n' >"$tmp/view.cpp"
printf '%-10s %12s %12s %12s   (median CPU s of %d runs; min-max)\n' compiler cachekit.hpp std-only added "$reps"
for cxx in ${CXX_LIST:-g++ clang++}; do
  if ! command -v "$cxx" >/dev/null; then echo "$cxx: not found, skipped"; continue; fi
  : >"$tmp/h.txt"; : >"$tmp/s.txt"; : >"$tmp/hb.txt"; : >"$tmp/a.txt"
  for ((i = 0; i < reps; ++i)); do
    cpu_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/header.cpp" -o "$tmp/h.o" >>"$tmp/h.txt"
    cpu_of "$cxx" -std=c++17 -O0 "${extra[@]}" -c "$tmp/std.cpp" -o "$tmp/s.o" >>"$tmp/s.txt"
    cpu_of "$cxx" -std=c++17 -O0 "${extra[@]}" -c "$tmp/api.cpp" -o "$tmp/a.o" >>"$tmp/a.txt"
    if [ -n "$before" ]; then
      cpu_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/header.cpp" -o "$tmp/h.o" >>"$tmp/hb.txt"
    fi
  done
  s=$(median <"$tmp/s.txt")
  for f in h hb; do
    [ -s "$tmp/$f.txt" ] || continue
    h=$(median <"$tmp/$f.txt")
    hr="$(fmt "$(sort -n "$tmp/$f.txt" | head -n1)")-$(fmt "$(sort -n "$tmp/$f.txt" | tail -n1)")"
    label=$cxx; [ "$f" = hb ] && label="$cxx -B"
    printf '%-10s %12s %12s %12s   (header %s)\n' "$label" "$(fmt "$h")" "$(fmt "$s")" "$(fmt $((h - s)))" "$hr"
  done
  printf '%-10s %12s   (the standard headers of the public declarations alone)\n' "$cxx api" "$(fmt "$(median <"$tmp/a.txt")")"
done

printf '\n%-10s %12s %12s %12s   (a file using the backend and cache(), and one that only includes the\n%-10s %12s %12s %12s    header, with CACHEKIT_DECLARATIONS_ONLY; median CPU s of %d runs)\n' compiler header-only declarations "decl. include" "" "" "" "" "$reps"
for cxx in ${CXX_LIST:-g++ clang++}; do
  if ! command -v "$cxx" >/dev/null; then continue; fi
  : >"$tmp/u.txt"; : >"$tmp/d.txt"; : >"$tmp/v.txt"; : >"$tmp/ub.txt"; : >"$tmp/db.txt"; : >"$tmp/vb.txt"
  for ((i = 0; i < reps; ++i)); do
    cpu_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/use.cpp" -o "$tmp/u.o" >>"$tmp/u.txt"
    cpu_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/use_decl.cpp" -o "$tmp/d.o" >>"$tmp/d.txt"
    cpu_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/view.cpp" -o "$tmp/v.o" >>"$tmp/v.txt"
    if [ -n "$before" ]; then
      cpu_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/use.cpp" -o "$tmp/u.o" >>"$tmp/ub.txt"
      cpu_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/use_decl.cpp" -o "$tmp/d.o" >>"$tmp/db.txt"
      cpu_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/view.cpp" -o "$tmp/v.o" >>"$tmp/vb.txt"
    fi
  done
  printf '%-10s %12s %12s %12s\n' "$cxx" "$(fmt "$(median <"$tmp/u.txt")")" "$(fmt "$(median <"$tmp/d.txt")")" \
    "$(fmt "$(median <"$tmp/v.txt")")"
  if [ -n "$before" ]; then
    printf '%-10s %12s %12s %12s\n' "$cxx -B" "$(fmt "$(median <"$tmp/ub.txt")")" "$(fmt "$(median <"$tmp/db.txt")")" \
      "$(fmt "$(median <"$tmp/vb.txt")")"
  fi
done

# Instructions (millions) the compiler and its child processes execute for
# one file: the sum of cachegrind's per-process totals.
instructions_of() {
  valgrind --tool=cachegrind --cache-sim=no --trace-children=yes --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    awk '/I *refs:/ {gsub(",", "", $NF); n += $NF} END {if (n == 0) exit 1; printf "%d", n / 1000000}' || {
    echo "instruction count failed: $*" >&2; exit 1; }
}

if [ "$count" = 1 ]; then
  command -v valgrind >/dev/null || { echo "compile-time.sh: -c needs valgrind" >&2; exit 2; }
  printf '\n%-10s %12s %12s %12s   (millions of instructions, cachegrind)\n' compiler cachekit.hpp std-only added
  for cxx in ${CXX_LIST:-g++ clang++}; do
    if ! command -v "$cxx" >/dev/null; then continue; fi
    s=$(instructions_of "$cxx" -std=c++17 -O0 "${extra[@]}" -c "$tmp/std.cpp" -o "$tmp/s.o")
    h=$(instructions_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/header.cpp" -o "$tmp/h.o")
    printf '%-10s %12s %12s %12s\n' "$cxx" "$h" "$s" "$((h - s))"
    if [ -n "$before" ]; then
      h=$(instructions_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/header.cpp" -o "$tmp/h.o")
      printf '%-10s %12s %12s %12s\n' "$cxx -B" "$h" "$s" "$((h - s))"
    fi
    a=$(instructions_of "$cxx" -std=c++17 -O0 "${extra[@]}" -c "$tmp/api.cpp" -o "$tmp/a.o")
    d=$(instructions_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/use_decl.cpp" -o "$tmp/d.o")
    v=$(instructions_of "$cxx" -std=c++17 -O0 -I"$inc" "${extra[@]}" -c "$tmp/view.cpp" -o "$tmp/v.o")
    printf '%-10s %12s   (api: the standard headers of the public declarations)\n' "$cxx api" "$a"
    printf '%-10s %12s %12s   (declarations only: the using file; the header alone)\n' "$cxx decl" "$d" "$v"
    if [ -n "$before" ]; then
      d=$(instructions_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/use_decl.cpp" -o "$tmp/d.o")
      v=$(instructions_of "$cxx" -std=c++17 -O0 -I"$before" "${extra[@]}" -c "$tmp/view.cpp" -o "$tmp/v.o")
      printf '%-10s %12s %12s\n' "$cxx decl -B" "$d" "$v"
    fi
  done
fi
