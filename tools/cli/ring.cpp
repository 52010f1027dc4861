// cachekit-cli ring: which server each key on stdin goes to.
//
//   cachekit-cli ring --servers SPEC[,SPEC...] [--distribution NAME] [--describe]
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "commands.hpp"
#include "memcached_common.hpp"

namespace cli {

namespace {

constexpr const char* kRingUsage =
    "usage: cachekit-cli ring --servers SPEC[,SPEC...]|JSON [--distribution NAME] [--key-hash HASH] [--describe]\n"
    "Reads keys, one per line, from stdin and prints the server (host:port) of each, in order.\n"
    "--describe prints each server's points and share of the hash space instead.\n"
    "SPEC: host, host:port, host:port:weight, [v6addr]:port[:weight], /path/to.sock,\n"
    "      or host:port:weight NAME (the name is hashed in place of the address)\n"
    "NAME: ketama (default; libmemcached, php-memcached, pylibmc, twemproxy), libketama (C libketama),\n"
    "      modula (libmemcached's default), rendezvous (pymemcache), spymemcached (Java, IP addresses),\n"
    "      spymemcached_weighted (spymemcached with a weights map), uhashring (Python), dalli (Ruby)\n"
    "HASH: the key hash of a ketama ring, as twemproxy's 'hash:' names it: md5 (default), crc32, crc32a,\n"
    "      fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, murmur, jenkins, hsieh, one_at_a_time\n";

int ring_usage_error(const std::string& message) {
  std::fprintf(stderr, "cachekit-cli ring: %s\n%s", message.c_str(), kRingUsage);
  return kUsage;
}

void print_servers(const cachekit::Ring& ring, const std::vector<std::string>& names,
                   const std::vector<std::string_view>& keys, std::vector<std::size_t>& out) {
  out.resize(keys.size());
  ring.server_for(keys.data(), keys.size(), out.data());
  for (std::size_t i : out) {
    std::fwrite(names[i].data(), 1, names[i].size(), stdout);
    std::fputc('\n', stdout);
  }
}

}  // namespace

int run_ring(const Args& args) {
  if (flag(args, "help")) {
    std::fputs(kRingUsage, stdout);
    return kOk;
  }
  const std::string servers_text = option(args, "servers");
  if (servers_text.empty()) return ring_usage_error("--servers is required");
  const std::string dist_text = option(args, "distribution", "ketama");
  auto dist = cachekit::parse_distribution(dist_text);
  if (!dist) return ring_usage_error(dist.error().message());
  const std::string hash_text = option(args, "key-hash", "md5");
  auto key_hash = cachekit::parse_key_hash(hash_text);
  if (!key_hash) return ring_usage_error(key_hash.error().message());
  const Args extra = positionals(args, {"servers", "distribution", "key-hash"});
  if (!extra.empty()) return ring_usage_error("unexpected argument '" + extra.front() + "'");
  for (const auto& a : args) {
    if (a.rfind("--", 0) == 0 && a != "--servers" && a.rfind("--servers=", 0) != 0 && a != "--distribution" &&
        a.rfind("--distribution=", 0) != 0 && a != "--key-hash" && a.rfind("--key-hash=", 0) != 0 &&
        a != "--describe") {
      return ring_usage_error("unknown option '" + a + "'");
    }
  }

  auto texts = parse_servers_option(servers_text);
  if (!texts) {
    std::fprintf(stderr, "cachekit-cli ring: %s\n", texts.error().message().c_str());
    return kUsage;
  }
  std::vector<cachekit::ServerSpec> specs;
  for (const std::string& one : *texts) {
    auto spec = cachekit::ServerSpec::parse(one);
    if (!spec) {
      std::fprintf(stderr, "cachekit-cli ring: %s\n", spec.error().message().c_str());
      return kUsage;
    }
    specs.push_back(std::move(spec).value());
  }
  auto built = cachekit::Ring::build(std::move(specs), dist.value(), key_hash.value());
  if (!built) {
    std::fprintf(stderr, "cachekit-cli ring: %s\n", built.error().message().c_str());
    return kUsage;
  }
  const cachekit::Ring& ring = built.value();
  std::vector<std::string> names;
  for (const auto& s : ring.servers()) names.push_back(s.to_string());

  if (flag(args, "describe")) {
    const auto shares = ring.describe();
    const std::string hashed = ring.key_hash() == cachekit::KeyHash::md5
                                   ? std::string()
                                   : std::string(" (key hash ") + cachekit::to_string(ring.key_hash()) + ")";
    std::printf("distribution %s%s, %zu servers, %zu points\n", cachekit::to_string(ring.distribution()),
                hashed.c_str(), ring.servers().size(), ring.point_count());
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& named = ring.servers()[i].name;
      const std::string shown = named.empty() ? names[i] : names[i] + " (" + named + ")";
      std::printf("%-40s weight %-6u points %-7zu share %7.3f%%\n", shown.c_str(), ring.servers()[i].weight,
                  shares[i].points, shares[i].share * 100.0);
    }
    return kOk;
  }

  // Keys in chunks through the batch lookup.
  std::vector<std::string> lines;
  std::vector<std::string_view> keys;
  std::vector<std::size_t> out;
  std::string line;
  int c;
  auto flush = [&] {
    keys.assign(lines.begin(), lines.end());
    print_servers(ring, names, keys, out);
    lines.clear();
  };
  while ((c = std::getchar()) != EOF) {
    if (c != '\n') {
      line += static_cast<char>(c);
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    line.clear();
    if (lines.size() == 4096) flush();
  }
  if (!line.empty()) {
    if (line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  flush();
  return std::fflush(stdout) == 0 ? kOk : kServerError;
}

}  // namespace cli
