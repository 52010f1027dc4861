#!/usr/bin/python3
"""Places keys with a Python peer client, for live parity tests.

usage: peer-place.py rendezvous|libketama|uhashring INPUT
INPUT has "servers <spec,...>" lines (ServerSpec syntax; weights ignored)
followed by "key <utf-8 hex>" lines. Prints one server index per key.
rendezvous uses pymemcache's HashClient, libketama uhashring's ketama ring.
uhashring reads "nodes" lines, each followed by "node <name> <weight>" lines,
and builds uhashring's ketama ring with those node names and weights."""
import sys


def split_spec(spec):
    # host:port:weight or [v6]:port:weight or /path -> (pymemcache server, "host:port")
    if spec.startswith("/"):
        return spec, spec
    if spec.startswith("["):
        host, rest = spec[1:].split("]", 1)
        parts = rest.lstrip(":").split(":") if rest else []
    else:
        host, *parts = spec.split(":")
    port = int(parts[0]) if parts and parts[0] else 11211
    return (host, port), "%s:%d" % (host, port)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    out = []
    client = ring = None
    servers = names = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            kind, _, rest = line.strip().partition(" ")
            if kind == "nodes":
                names, weights, ring = [], {}, None
            elif kind == "node":
                name, weight = rest.rsplit(" ", 1)
                names.append(name)
                weights[name] = int(weight)
            elif kind == "servers":
                pairs = [split_spec(s) for s in rest.split(",")]
                servers = [p[0] for p in pairs]
                names = [p[1] for p in pairs]
                if mode == "rendezvous":
                    from pymemcache.client.hash import HashClient
                    client = HashClient(servers, allow_unicode_keys=True)
                else:
                    from uhashring import HashRing
                    ring = HashRing(nodes=names, hash_fn="ketama")
            elif kind == "key":
                key = bytes.fromhex(rest).decode("utf-8")
                if mode == "uhashring":
                    if ring is None:
                        from uhashring import HashRing
                        ring = HashRing(nodes=weights, hash_fn="ketama")
                    out.append(str(names.index(ring.get_node(key))))
                elif mode == "rendezvous":
                    out.append(str(servers.index(client._get_client(key).server)))
                else:
                    out.append(str(names.index(ring.get_node(key))))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
