#!/usr/bin/env bash
# cachekit's memcached backend over each protocol (meta, text, binary) against
# libmemcached (binary protocol and ASCII mode), all in one benchmark run,
# printed as ratios (bench/README.md, "Protocols: meta, text, binary").
# The targets are judged on the side-by-side benchmarks (BM_Backend_Side_*:
# all five clients take turns in one loop, each operation timed): a ratio per
# repetition, then the median and the range over the repetitions. A client's
# rate in a repetition comes from its median operation time (STAT=median, the
# default: a shared machine's preemptions do not move it) or from its mean
# (STAT=mean). The separate benchmarks
# (BM_Backend_Get_cachekit_meta, ...) follow as ratios of medians.
#   bench/protocol-ratios.sh BUILD_DIR [extra cachekit_bench arguments]
# REPS (default 5) repetitions, randomly interleaved, of MIN_TIME (default 0.2)
# seconds each; FILTER (default BM_Backend_) narrows the benchmarks.
# BASELINE=/path/to/an/older/cachekit_bench also runs that binary right after
# with the same arguments and compares cachekit's binary protocol in the two
# runs, each as a ratio to libmemcached in its own run (older binaries name
# the cachekit benchmarks without the protocol suffix; a baseline built from
# this bench-backend.cpp and an older single header has the side-by-side
# benchmarks too, see bench/README.md). JSON=FILE keeps the
# raw results; CACHEKIT_MEMCACHED_* variables configure cachekit's client as
# usual (the protocol is the benchmark's own).
set -euo pipefail
BUILD=${1:?usage: protocol-ratios.sh BUILD_DIR [benchmark args]}
shift
BENCH=$BUILD/bench/cachekit_bench
[ -x "$BENCH" ] || { echo "no $BENCH (configure with -DCACHEKIT_BUILD_BENCH=ON, build cachekit_bench)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ARGS=(--benchmark_filter="${FILTER:-BM_Backend_}" --benchmark_min_time="${MIN_TIME:-0.2}"
      --benchmark_repetitions="${REPS:-5}" --benchmark_enable_random_interleaving=true
      --benchmark_display_aggregates_only=true --benchmark_out_format=json "$@")
"$BENCH" "${ARGS[@]}" --benchmark_out="$TMP/new.json" >&2
[ -n "${JSON:-}" ] && cp "$TMP/new.json" "$JSON"
if [ -n "${BASELINE:-}" ]; then
  "$BASELINE" "${ARGS[@]}" --benchmark_out="$TMP/old.json" >&2
fi
python3 - "$TMP/new.json" "${BASELINE:+$TMP/old.json}" <<'PY'
import json, os, sys
STAT = os.environ.get("STAT", "median")

import statistics

def load(path):
    with open(path) as f:
        return json.load(f)["benchmarks"]

def medians(runs):
    out = {}
    for b in runs:
        if b.get("aggregate_name") == "median" and "items_per_second" in b:
            out[b["run_name"].replace("/real_time", "")] = b["items_per_second"]
    return out

def side_runs(runs):
    """name -> list of {client: items/s}, one per repetition."""
    out = {}
    for b in runs:
        if b.get("run_type") == "iteration" and b["run_name"].startswith("BM_Backend_Side_") and not b.get("error_occurred"):
            counters = {k: v for k, v in b.items() if k.startswith(("cachekit_", "libmemcached"))}
            if STAT == "mean":
                counters = {k[:-5]: v for k, v in counters.items() if k.endswith("_mean")}
            else:
                counters = {k: v for k, v in counters.items() if not k.endswith("_mean")}
            out.setdefault(b["run_name"].replace("/real_time", ""), []).append(counters)
    return out

new_runs = load(sys.argv[1])
new = medians(new_runs)
side = side_runs(new_runs)
old_runs = load(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
old = medians(old_runs) if old_runs is not None else None
old_side = side_runs(old_runs) if old_runs is not None else {}
PROTOS = ["meta", "text", "binary"]
PEERS = [("libmemcached", "libmemcached"), ("libmemcached_ascii", "libmemcached ASCII")]

def rep_ratio(reps, a, b, target=None):
    rs = [r[a] / r[b] for r in reps if r.get(a) and r.get(b)]
    if not rs:
        return "-"
    m = statistics.median(rs)
    text = f"{m:.2f}x [{min(rs):.2f}-{max(rs):.2f}]"
    return text + (" " + verdict(m, target) if target else "")

def side_table(title, base, vs_binary_target, vs_peer_target, unit):
    for arg, label in (("-1", "spin_wait default"), ("0", "spin_wait 0")):
        reps = side.get(f"{base}/{arg}")
        if not reps:
            continue
        print(f"\n{title}, side by side, {label} ({len(reps)} repetitions, rates from the {STAT} operation time;"
              " median ratio [range])")
        for p in PROTOS:
            c = f"cachekit_{p}"
            cols = [f"  {p:<7} {fmt(statistics.median(r[c] for r in reps)):>8} {unit}"]
            if p != "binary":
                cols.append(f"vs binary {rep_ratio(reps, c, 'cachekit_binary', vs_binary_target)}")
            for key, name in PEERS:
                cols.append(f"vs {name} {rep_ratio(reps, c, key, vs_peer_target)}")
            print(", ".join(cols))
        for key, name in PEERS:
            print(f"  {name}: {fmt(statistics.median(r[key] for r in reps if key in r))} {unit}")

def fmt(v):
    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k"

def verdict(r, target):
    return ("met" if r >= target else "MISSED") + f" (>= {target}x)"

def ratio(a, b, target=None):
    if a is None or b is None:
        return "-"
    r = a / b
    return f"{r:.2f}x" + (" " + verdict(r, target) if target else "")

def table(title, base, args, unit, vs_binary_target, vs_peer_target):
    print(f"\n{title}")
    for arg in args:
        suffix = f"/{arg}" if arg is not None else ""
        peers = {p: new.get(f"{base}_{p}") for p, _ in PEERS}
        binary = new.get(f"{base}_cachekit_binary{suffix}")
        if binary is None:
            continue
        label = {None: "", "-1": " (spin_wait default)", "0": " (spin_wait 0)"}[arg]
        print(f"  cachekit{label}:")
        for p in PROTOS:
            v = new.get(f"{base}_cachekit_{p}{suffix}")
            if v is None:
                continue
            cols = [f"    {p:<7} {fmt(v):>8} {unit}"]
            if p != "binary":
                cols.append(f"vs binary {ratio(v, binary, vs_binary_target)}")
            for key, name in PEERS:
                cols.append(f"vs {name} {ratio(v, peers[key], vs_peer_target)}")
            print(", ".join(cols))
    for key, name in PEERS:
        if peers[key] is not None:
            print(f"  {name}: {fmt(peers[key])} {unit}")

# Targets of the default configuration; the spin_wait 0 rows get the same
# marks for reference.
side_table("get, hit (ops/s)", "BM_Backend_Side_Get", 0.97, 1.0, "ops/s")
side_table("get_many 100 keys, 1 server (keys/s)", "BM_Backend_Side_GetMany100_1server", None, 1.3, "keys/s")
side_table("get_many 100 keys, 3 servers (keys/s)", "BM_Backend_Side_GetMany100_3servers", None, 1.3, "keys/s")
side_table("get_many 1,000 keys, 3 servers (keys/s)", "BM_Backend_Side_GetMany1000_3servers", None, 1.3, "keys/s")

print("\n--- separate benchmarks (ratios of medians over repetitions) ---")
table("get, hit (ops/s)", "BM_Backend_Get", ["-1", "0"], "ops/s", 0.97, 1.0)
table("get_many 100 keys, 1 server (keys/s)", "BM_Backend_GetMany100_1server", ["-1", "0"], "keys/s", None, 1.3)
table("get_many 100 keys, 3 servers (keys/s)", "BM_Backend_GetMany100_3servers", ["-1", "0"], "keys/s", None, 1.3)
table("get_many 1,000 keys, 3 servers (keys/s)", "BM_Backend_GetMany1000_3servers", ["-1", "0"], "keys/s", None, 1.3)
table("set_many 100 keys vs a memcached_set loop (keys/s)", "BM_Backend_SetMany100", [None], "keys/s", None, None)

def side_ratio(reps, a, b):
    rs = [r[a] / r[b] for r in reps if r.get(a) and r.get(b)]
    return statistics.median(rs) if rs else None

if old_side:
    print("\ncachekit binary protocol, side by side, this build vs BASELINE (median ratio to"
          " libmemcached binary in each run; >= 1.0 is not slower)")
    for name in sorted(side):
        if name not in old_side:
            continue
        rn = side_ratio(side[name], "cachekit_binary", "libmemcached")
        ro = side_ratio(old_side[name], "cachekit_binary", "libmemcached")
        if rn and ro:
            print(f"  {name}: {rn:.2f}x now, {ro:.2f}x baseline -> {rn / ro:.2f}")

if old is not None:
    print("\ncachekit binary protocol, separate benchmarks, this build vs BASELINE (each as a ratio to"
          " libmemcached binary in its own run; >= 1.0 is not slower)")
    for name in sorted(new):
        if "_cachekit_binary" not in name:
            continue
        base, _, rest = name.partition("_cachekit_binary")
        old_name = name if name in old else base + "_cachekit" + rest
        peer = base + "_libmemcached"
        if old_name not in old or peer not in old or peer not in new:
            continue
        rn, ro = new[name] / new[peer], old[old_name] / old[peer]
        print(f"  {name}: {rn:.2f}x now, {ro:.2f}x baseline -> {rn / ro:.2f}"
              f" (raw {fmt(new[name])} vs {fmt(old[old_name])})")
PY
