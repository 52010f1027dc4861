// cachekit-cli set KEY VALUE [--ttl S]: VALUE "-" reads the value from stdin.
#include <cstdio>
#include <string>

#include "memcached_common.hpp"

namespace cli {

int run_set(const Args& args) {
  const Args pos = positionals(args, kValueOptions);
  if (pos.size() != 2) {
    std::fprintf(stderr, "usage: cachekit-cli set KEY VALUE|- [--ttl SECONDS] [--servers LIST]\n");
    return kUsage;
  }
  std::chrono::seconds ttl{0};
  if (!ttl_option(args, ttl)) return kUsage;
  std::string value = pos[1];
  if (value == "-") {
    value.clear();
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) value.append(buf, n);
  }
  auto b = make_backend(args);
  if (!b) return kUsage;
  auto r = b->set(pos[0], value, ttl);
  if (!r) return report(r.error());
  return kOk;
}

}  // namespace cli
