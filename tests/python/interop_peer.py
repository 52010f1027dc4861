#!/usr/bin/python3
"""The Python side of the cross-language facade test.

Uses Debian's python3-pymemcache (HashClient with its default rendezvous
hasher, as cachekit-py does) and python3-msgpack. The interop key is computed
here independently: "users:get_user:" + blake2b-256 hex of the MessagePack
array of the arguments.

  interop_peer.py SERVERS key USER_ID            print the interop key
  interop_peer.py SERVERS write USER_ID NAME     store {"id", "name", "roles"}
  interop_peer.py SERVERS read USER_ID           print the stored value as JSON;
                                                 exit 3 when it is absent

SERVERS is "host:port,host:port". A last argument "--prefix=P" gives the
client key_prefix=P (pymemcache puts it in front of every key it sends and
hashes the key without it).
"""
import hashlib
import json
import sys

import msgpack
from pymemcache.client.hash import HashClient


def interop_key(user_id):
    args = msgpack.packb([user_id], use_bin_type=True)
    return "users:get_user:" + hashlib.blake2b(args, digest_size=32).hexdigest()


def client(servers, prefix):
    pairs = []
    for spec in servers.split(","):
        host, port = spec.rsplit(":", 1)
        pairs.append((host, int(port)))
    return HashClient(pairs, connect_timeout=2, timeout=2, default_noreply=False,
                      key_prefix=prefix.encode("utf-8"))


def main(argv):
    prefix = ""
    if argv and argv[-1].startswith("--prefix="):
        prefix = argv[-1][len("--prefix="):]
        argv = argv[:-1]
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    servers, command, user_id = argv[1], argv[2], int(argv[3])
    key = interop_key(user_id)
    if command == "key":
        print(key)
        return 0
    c = client(servers, prefix)
    if command == "write":
        value = {"id": user_id, "name": argv[4], "roles": ["python"]}
        if not c.set(key, msgpack.packb(value, use_bin_type=True), expire=300):
            return 1
        print(key)
        return 0
    if command == "read":
        raw = c.get(key)
        if raw is None:
            return 3
        print(json.dumps(msgpack.unpackb(raw, raw=False), sort_keys=True))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
