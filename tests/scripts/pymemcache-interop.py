#!/usr/bin/python3
"""Reads or writes keys with pymemcache's HashClient (rendezvous hashing),
for the cachekit interop test.

usage: pymemcache-interop.py write|read HOST:PORT[,HOST:PORT...] PREFIX COUNT
write stores PREFIX<i> = "py-value-<i>" for i < COUNT; read prints one line
per key: the value, or MISS."""
import sys

from pymemcache.client.hash import HashClient


def main():
    mode, servers, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pairs = []
    for s in servers.split(","):
        host, port = s.rsplit(":", 1)
        pairs.append((host, int(port)))
    client = HashClient(pairs, connect_timeout=2, timeout=2)
    for i in range(count):
        key = "%s%d" % (prefix, i)
        if mode == "write":
            if not client.set(key, ("py-value-%d" % i).encode(), noreply=False):
                print("set failed for", key, file=sys.stderr)
                return 1
        else:
            v = client.get(key)
            print("MISS" if v is None else v.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
