#!/usr/bin/python3
"""Generate the reference vectors the routing tests read (tests/data/).

Run with Debian's /usr/bin/python3, which has python3-pymemcache and
python3-uhashring:

  /usr/bin/python3 tools/gen-routing-vectors.py

hash-vectors.txt        MD5 (hashlib) and murmur3_32 (pymemcache) of random
                        inputs of every length 0..300
rendezvous-vectors.txt  pymemcache HashClient placement for random server
                        lists and keys (ASCII and non-ASCII str keys)
libketama-vectors.txt   uhashring's ketama ring (equal weights) and an
                        independent float32 libketama model (weighted)
The output is deterministic (fixed seeds)."""
import hashlib
import math
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")


def hexs(b):
    return b.hex() if b else "-"


def hash_vectors():
    from pymemcache.client.murmur3 import murmur3_32
    rng = random.Random(1321)
    lines = ["# kind [seed] input-hex expected (md5: hex digest; murmur3: 8 hex digits)"]
    for n in range(301):
        data = bytes(rng.randrange(256) for _ in range(n))
        lines.append(f"md5 {hexs(data)} {hashlib.md5(data).hexdigest()}")
    for n in range(301):
        data = bytes(rng.randrange(256) for _ in range(n))
        seed = rng.choice([0, 1, 0x9747B28C, rng.randrange(1 << 32)])
        # pymemcache's murmur3 reads ord(ch) & 0xff of a str: latin-1 maps bytes 1:1.
        lines.append(f"murmur3 {seed} {hexs(data)} {murmur3_32(data.decode('latin-1'), seed):08x}")
    return lines


def random_host(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
    if kind == 1:
        return "cache-%d.%s.example.com" % (rng.randrange(1000), rng.choice(["eu", "us", "ap"]))
    if kind == 2:
        return "mc%d" % rng.randrange(100000)
    return "2001:db8::%x" % rng.randrange(1, 65535)


def random_key(rng, unicode_ok):
    n = rng.randrange(1, 60)
    chars = [chr(rng.randrange(33, 127)) for _ in range(n)]
    if unicode_ok and rng.random() < 0.3:
        for _ in range(rng.randrange(1, 4)):
            chars.insert(rng.randrange(len(chars) + 1),
                         rng.choice(["\u00e9", "\u00fc", "\u0416", "\u4e2d", "\u6587", "\U0001F600", "\u00ff"]))
    return "".join(chars)


def spec_text(host, port):
    return ("[%s]:%d" % (host, port)) if ":" in host else ("%s:%d" % (host, port))


def rendezvous_vectors():
    from pymemcache.client.hash import HashClient
    rng = random.Random(2024)
    lines = ["# servers <spec,...> then key <utf-8 hex> <server index>"]
    for case in range(12):
        n = rng.choice([1, 2, 3, 5, 8, 13, 30, 64])
        specs, seen = [], set()
        while len(specs) < n:
            if rng.random() < 0.05:
                spec = "/tmp/mc-%d.sock" % rng.randrange(1000)
                server = spec
            else:
                host = random_host(rng)
                port = rng.choice([11211, 11211, 11212, 20000 + rng.randrange(1000)])
                spec = spec_text(host, port)
                server = (host, port)
            if server in seen:
                continue
            seen.add(server)
            specs.append((spec, server))
        client = HashClient([s for _, s in specs], allow_unicode_keys=True)
        index = {s: i for i, (_, s) in enumerate(specs)}
        lines.append("servers " + ",".join(s for s, _ in specs))
        for _ in range(400):
            key = random_key(rng, True)
            server = client._get_client(key).server
            lines.append("key %s %d" % (key.encode("utf-8").hex(), index[server]))
    return lines


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def libketama_model(servers):
    """Independent libketama model: servers = [(name, weight)]."""
    total = sum(w for _, w in servers)
    n = len(servers)
    points = []
    for i, (name, w) in enumerate(servers):
        pct = f32(f32(w) / f32(total))
        ks = math.floor(f32(pct * 40.0 * f32(n)))
        for k in range(ks):
            d = hashlib.md5(("%s-%d" % (name, k)).encode()).digest()
            for h in range(4):
                points.append((struct.unpack("<I", d[4 * h:4 * h + 4])[0], i))
    points.sort()
    return points


def model_lookup(points, key):
    h = struct.unpack("<I", hashlib.md5(key.encode()).digest()[:4])[0]
    lo, hi = 0, len(points)
    while lo < hi:
        mid = (lo + hi) // 2
        if points[mid][0] < h:
            lo = mid + 1
        else:
            hi = mid
    return points[lo % len(points)][1]


def libketama_vectors():
    from uhashring import HashRing
    rng = random.Random(1997)
    lines = ["# servers <spec,...> then key <utf-8 hex> <server index>",
             "# equal weights: uhashring ketama; weighted: float32 libketama model"]
    for case in range(10):
        n = rng.choice([1, 2, 3, 5, 7, 10, 20, 50])
        hosts = []
        while len(hosts) < n:
            h = "10.%d.%d.%d:%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255),
                                   rng.choice([11211, 11212]))
            if h not in hosts:
                hosts.append(h)
        weighted = case % 2 == 1
        weights = [rng.randrange(1, 10) if weighted else 1 for _ in hosts]
        lines.append("servers " + ",".join("%s:%d" % (h, w) for h, w in zip(hosts, weights)))
        if weighted:
            points = libketama_model(list(zip(hosts, weights)))
        else:
            ring = HashRing(nodes=hosts, hash_fn="ketama")
            keys_sorted = ring.runtime._keys
        for _ in range(400):
            key = random_key(rng, False)
            if weighted:
                idx = model_lookup(points, key)
            else:
                # uhashring picks the first point > hash; libketama the first >= hash.
                # Skip the (astronomically rare) key whose hash is exactly a point.
                h = ring.get_key(key)
                if h in ring.runtime._ring:
                    continue
                idx = hosts.index(ring.get_node(key))
            lines.append("key %s %d" % (key.encode().hex(), idx))
    return lines


def main():
    os.makedirs(DATA, exist_ok=True)
    for name, fn in (("hash-vectors.txt", hash_vectors), ("rendezvous-vectors.txt", rendezvous_vectors),
                     ("libketama-vectors.txt", libketama_vectors)):
        with open(os.path.join(DATA, name), "w") as f:
            f.write("\n".join(fn()) + "\n")
        print("wrote tests/data/" + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
