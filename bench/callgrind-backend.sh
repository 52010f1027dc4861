#!/usr/bin/env bash
# Client instructions per get and per get_many key, cachekit over each
# protocol vs libmemcached (binary protocol and ASCII mode), counted with
# callgrind (user-space instructions; the difference between two run lengths
# removes setup costs).
#   bench/callgrind-backend.sh BUILD_DIR     (a Release build with -DCACHEKIT_BUILD_BENCH=ON)
# OPS, CLIENTS and PROTOCOLS (space-separated) pick a subset: CLIENTS from
# "cachekit libmemcached libmemcached_ascii", PROTOCOLS (cachekit's, default
# "binary meta text") from "binary meta text". CACHEKIT_MEMCACHED_* variables
# configure the cachekit client (e.g. SPIN_WAIT_US=0); the protocol is set
# from PROTOCOLS. CG_HOLD_BYTES=N reaches the driver too (an allocation held
# after the first operation; see callgrind-driver.cpp).
set -euo pipefail
BUILD=${1:?usage: callgrind-backend.sh BUILD_DIR}
DRIVER=$BUILD/bench/cachekit_callgrind_driver
[ -x "$DRIVER" ] || { echo "no $DRIVER (configure with -DCACHEKIT_BUILD_BENCH=ON)" >&2; exit 2; }
PROTOCOLS=${PROTOCOLS:-binary meta text}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
USER_ARGS=(); [ "$(id -u)" -eq 0 ] && USER_ARGS=(-u nobody)
memcached -l 127.0.0.1 -p "$PORT" -U 0 "${USER_ARGS[@]}" & MC=$!
RESULTS=$(mktemp)
trap 'kill $MC; rm -f "$RESULTS"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
ir() {  # ir CLIENT OP N EXPECTED_HITS -> total instructions (fails when a key was missed)
  local out found; out=$(mktemp)
  found=$(valgrind --tool=callgrind --callgrind-out-file="$out" "$DRIVER" "$1" "$2" "$PORT" "$3" 2>/dev/null)
  if [ "$found" != "$4 found" ]; then
    echo "$1 $2 $3: expected $4 found, got '$found'" >&2
    rm -f "$out"
    return 1
  fi
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}'
  rm -f "$out"
}
for op in ${OPS:-get mget mget_vec get_into mget_into}; do
  per=1; case $op in mget*) per=100;; esac
  n1=200; n2=2200; [ $per = 100 ] && { n1=20; n2=220; }
  for client in ${CLIENTS:-cachekit libmemcached libmemcached_ascii}; do
    # mget_vec is cachekit's std::vector<std::string> form; libmemcached's counterpart is mget's.
    [ "$op" = mget_vec ] && [ "$client" != cachekit ] && continue
    variants=("$client"); [ "$client" = cachekit ] && read -ra variants <<< "$PROTOCOLS"
    for v in "${variants[@]}"; do
      name=$client; [ "$client" = cachekit ] && { name=cachekit-$v; export CACHEKIT_MEMCACHED_PROTOCOL=$v; }
      a=$(ir "$client" "$op" $n1 $((n1 * per))); b=$(ir "$client" "$op" $n2 $((n2 * per)))
      per_key=$(( (b - a) / ((n2 - n1) * per) ))
      echo "$op $name: $per_key instructions per key"
      echo "$op $name $per_key" >> "$RESULTS"
    done
  done
done
# Ratios: each cachekit protocol against cachekit binary (target <= 1.15x for
# meta and text) and against libmemcached (<= 0.25x); mget_vec is set against
# libmemcached's mget.
echo
echo "ratios (instructions per key; lower is better)"
# The allocating get_many's count depends on glibc's heap state; its target
# is judged with CG_HOLD_BYTES=8192 (bench/README.md, "How the get_many
# target is judged").
if [ -n "${CG_HOLD_BYTES:-}" ]; then
  echo "heap: CG_HOLD_BYTES=$CG_HOLD_BYTES held after the first operation (the state the get_many target is judged in)"
else
  echo "heap: as the driver runs by default (mget rows: CG_HOLD_BYTES=8192 gives the state the target is judged in)"
fi
awk -v protos="$PROTOCOLS" '
  { n[$1 " " $2] = $3; if (!seen[$1]++) ops[++nops] = $1 }
  END {
    for (i = 1; i <= nops; ++i) {
      op = ops[i]; peer_op = (op == "mget_vec") ? "mget" : op
      bin = n[op " cachekit-binary"]
      np = split(protos, P, " ")
      for (j = 1; j <= np; ++j) {
        k = op " cachekit-" P[j]
        if (!(k in n)) continue
        line = sprintf("%s cachekit-%s:", op, P[j])
        if (P[j] != "binary" && bin > 0)
          line = line sprintf(" %.3fx binary (%s <= 1.15x)", n[k] / bin, n[k] / bin <= 1.15 ? "met" : "MISSED")
        if (n[peer_op " libmemcached"] > 0) {
          r = n[k] / n[peer_op " libmemcached"]
          line = line sprintf(" %.3fx libmemcached (%s <= 0.25x)", r, r <= 0.25 ? "met" : "MISSED")
        }
        if (n[peer_op " libmemcached_ascii"] > 0)
          line = line sprintf(" %.3fx libmemcached ASCII", n[k] / n[peer_op " libmemcached_ascii"])
        print line
      }
    }
  }' "$RESULTS"
