#!/usr/bin/env python3
"""Runs `cachekit-cli ring` and checks its placement, --describe and errors.

usage: test-ring-cli.py PATH/TO/cachekit-cli SOURCE_DIR
Placement is checked against the committed pymemcache rendezvous vectors
(tests/data/rendezvous-vectors.txt) and libmemcached-style ketama must
agree with --distribution omitted (ketama is the default)."""
import os
import subprocess
import sys


def run(cli, args, stdin=""):
    p = subprocess.run([cli, "ring"] + args, input=stdin.encode("utf-8"), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def spec_name(spec):
    # ServerSpec::to_string(): host:port, [v6]:port, or the socket path.
    if spec.startswith("/"):
        return spec
    if spec.startswith("["):
        host, rest = spec[1:].split("]", 1)
        parts = rest.lstrip(":").split(":") if rest else []
        return "[%s]:%s" % (host, parts[0] if parts and parts[0] else "11211")
    host, *parts = spec.split(":")
    return "%s:%s" % (host, parts[0] if parts and parts[0] else "11211")


def main():
    cli, src = sys.argv[1], sys.argv[2]
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    # Placement: every server list of the rendezvous vectors.
    lists, current = [], None
    with open(os.path.join(src, "tests", "data", "rendezvous-vectors.txt"), encoding="utf-8") as f:
        for line in f:
            kind, _, rest = line.strip().partition(" ")
            if kind == "servers":
                current = (rest, [], [])
                lists.append(current)
            elif kind == "key":
                key_hex, idx = rest.split()
                current[1].append(bytes.fromhex(key_hex).decode("utf-8"))
                current[2].append(int(idx))
    checked = 0
    for servers, keys, expect in lists:
        names = [spec_name(s) for s in servers.split(",")]
        rc, out, err = run(cli, ["--servers", servers, "--distribution", "rendezvous"], "\n".join(keys) + "\n")
        check(rc == 0, "rendezvous exit code %d: %s" % (rc, err))
        got = out.splitlines()
        check(got == [names[i] for i in expect], "rendezvous placement differs for %s" % servers[:60])
        checked += len(keys)
    check(checked >= 4000, "too few keys checked: %d" % checked)

    # Every distribution answers one line per key, in order, from the list;
    # CRLF input and a last line without newline are accepted.
    servers = "10.0.0.1,10.0.0.2:11212:3,[::1]:11213,/tmp/mc.sock"
    names = ["10.0.0.1:11211", "10.0.0.2:11212", "[::1]:11213", "/tmp/mc.sock"]
    keys = ["key-%d" % i for i in range(500)]
    outputs = {}
    for dist in ("ketama", "libketama", "modula", "rendezvous"):
        rc, out, err = run(cli, ["--servers", servers, "--distribution", dist], "\r\n".join(keys))
        lines = out.splitlines()
        check(rc == 0 and len(lines) == len(keys), "%s: rc %d, %d lines" % (dist, rc, len(lines)))
        check(all(l in names for l in lines), "%s: unknown server in output" % dist)
        check(len(set(lines)) > 1, "%s: every key on one server" % dist)
        outputs[dist] = lines
    rc, out, _ = run(cli, ["--servers=" + servers], "\n".join(keys) + "\n")
    check(out.splitlines() == outputs["ketama"], "ketama is not the default distribution")

    # The client-specific modes: IP addresses (spymemcached names nodes by
    # address) and a twemproxy-style named server.
    client_servers = "10.0.0.1,10.0.0.2:11212:3,[2001:db8::7]:11213,10.0.0.4:11214:1 shard-4"
    client_names = ["10.0.0.1:11211", "10.0.0.2:11212", "[2001:db8::7]:11213", "10.0.0.4:11214"]
    for dist in ("spymemcached", "spymemcached_weighted", "uhashring", "dalli"):
        rc, out, err = run(cli, ["--servers", client_servers, "--distribution", dist], "\n".join(keys) + "\n")
        lines = out.splitlines()
        check(rc == 0 and len(lines) == len(keys), "%s: rc %d, %d lines: %s" % (dist, rc, len(lines), err))
        check(all(l in client_names for l in lines), "%s: unknown server in output" % dist)
        check(len(set(lines)) == 4, "%s: not every server used" % dist)
        outputs[dist] = lines
        rc, out, err = run(cli, ["--servers", client_servers, "--distribution", dist, "--describe"])
        check(rc == 0 and out.startswith("distribution %s, 4 servers" % dist), "%s --describe: %r" % (dist, out))
        check("10.0.0.4:11214 (shard-4)" in out, "%s --describe does not show the name: %r" % (dist, out))
    check(outputs["dalli"] != outputs["uhashring"], "dalli and uhashring place alike")
    # 61 equal servers: spymemcached (160 points each) and libketama (156) disagree.
    sixty_one = ",".join("10.1.0.%d" % (i + 1) for i in range(61))
    placed = {}
    for dist in ("spymemcached", "libketama"):
        rc, out, err = run(cli, ["--servers", sixty_one, "--distribution", dist, "--describe"])
        check(rc == 0, "%s 61 servers: %s" % (dist, err))
        placed[dist] = out
    check("points 160 " in placed["spymemcached"] and "points 156 " in placed["libketama"],
          "61 servers: spymemcached should give 160 points, libketama 156")
    rc, out, err = run(cli, ["--servers", "10.0.0.1,cache-2", "--distribution", "spymemcached"], "k\n")
    check(rc == 2 and "resolved address" in err and out == "", "spymemcached with a host name: rc %d %r" % (rc, err))

    # The key hash of a ketama ring: fnv1a_64 moves keys; other modes refuse it.
    kh_servers = "10.0.0.1,10.0.0.2:11212:3,[::1]:11213"
    rc, md5_out, err = run(cli, ["--servers", kh_servers], "\n".join(keys) + "\n")
    rc2, fnv_out, err2 = run(cli, ["--servers", kh_servers, "--key-hash", "fnv1a_64"], "\n".join(keys) + "\n")
    check(rc == 0 and rc2 == 0 and len(fnv_out.splitlines()) == len(keys), "--key-hash: rc %d %r" % (rc2, err2))
    check(md5_out != fnv_out, "--key-hash fnv1a_64 places like md5")
    rc, out, err = run(cli, ["--servers", kh_servers, "--key-hash=jenkins", "--describe"])
    check(rc == 0 and out.startswith("distribution ketama (key hash jenkins), 3 servers"), "--key-hash --describe: %r" % out)
    rc, out, err = run(cli, ["--servers", kh_servers, "--key-hash", "fnv1a_64", "--distribution", "modula"], "k\n")
    check(rc == 2 and "ketama distribution only" in err, "--key-hash with modula: rc %d %r" % (rc, err))
    rc, out, err = run(cli, ["--servers", kh_servers, "--key-hash", "sha1"], "k\n")
    check(rc == 2 and "unknown key hash 'sha1'" in err, "--key-hash sha1: rc %d %r" % (rc, err))

    # --describe: one line per server with points and shares summing to 100%.
    rc, out, err = run(cli, ["--servers", servers, "--describe"])
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 5, "--describe: rc %d, %r" % (rc, out))
    total = sum(float(l.split("share")[1].strip().rstrip("%")) for l in lines[1:])
    check(abs(total - 100.0) < 0.01, "--describe shares sum to %f" % total)
    check("points 320 " in lines[2], "--describe: weight 3 of 6 on 4 servers: floor(0.5 * 40 * 4) * 4 = 320 points: %r" % lines[2])

    # Bad input: a clear message and exit code 2.
    for args, says in (
        (["--servers", "a,host:0"], "port 0 is out of range"),
        (["--servers", "a:11211:0"], "weight 0"),
        (["--servers", "a,b,A"], "listed twice"),
        (["--servers", "a,"], "empty server spec"),
        (["--servers", "a", "--distribution", "nope"], "unknown distribution 'nope'"),
        (["--servers", "a:11211 name"], "a name follows only host:port:weight"),
        ([], "--servers is required"),
        (["--servers", "a", "--bogus"], "unknown option '--bogus'"),
    ):
        rc, out, err = run(cli, args, "k\n")
        check(rc == 2, "%r: exit code %d, expected 2" % (args, rc))
        check(says in err, "%r: stderr %r lacks %r" % (args, err, says))
        check(out == "", "%r: printed to stdout on error" % (args,))

    for f in failures:
        print("FAIL:", f)
    print("cli ring: %d keys placed, %d failures" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
