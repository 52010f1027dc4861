#!/usr/bin/env bash
# Client instructions per get and per get_many key, cachekit vs libmemcached,
# counted with callgrind (user-space instructions; the difference between
# two run lengths removes setup costs).
#   bench/callgrind-backend.sh BUILD_DIR     (a Release build with -DCACHEKIT_BUILD_BENCH=ON)
# OPS and CLIENTS (space-separated) pick a subset; CACHEKIT_MEMCACHED_*
# variables configure the cachekit client (e.g. SPIN_WAIT_US=0).
set -euo pipefail
BUILD=${1:?usage: callgrind-backend.sh BUILD_DIR}
DRIVER=$BUILD/bench/cachekit_callgrind_driver
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
USER_ARGS=(); [ "$(id -u)" -eq 0 ] && USER_ARGS=(-u nobody)
memcached -l 127.0.0.1 -p "$PORT" -U 0 "${USER_ARGS[@]}" & MC=$!
trap 'kill $MC' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done
ir() {  # ir CLIENT OP N -> total instructions
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$DRIVER" "$1" "$2" "$PORT" "$3" >/dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}'
  rm -f "$out"
}
for op in ${OPS:-get mget mget_vec get_into mget_into}; do
  per=1; case $op in mget*) per=100;; esac
  n1=200; n2=2200; [ $per = 100 ] && { n1=20; n2=220; }
  for client in ${CLIENTS:-cachekit libmemcached}; do
    # mget_vec is cachekit's std::vector<std::string> form; libmemcached's counterpart is mget's.
    [ "$op" = mget_vec ] && [ "$client" = libmemcached ] && continue
    a=$(ir $client $op $n1); b=$(ir $client $op $n2)
    echo "$op $client: $(( (b - a) / ((n2 - n1) * per) )) instructions per key"
  done
done
