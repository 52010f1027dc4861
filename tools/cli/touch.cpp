// cachekit-cli touch KEY --ttl S: exit 1 when the key does not exist.
#include <cstdio>

#include "memcached_common.hpp"

namespace cli {

int run_touch(const Args& args) {
  const Args pos = positionals(args, kValueOptions);
  std::chrono::seconds ttl{0};
  if (pos.size() != 1 || option(args, "ttl").empty()) {
    std::fprintf(stderr, "usage: cachekit-cli touch KEY --ttl SECONDS [--servers LIST]\n");
    return kUsage;
  }
  if (!ttl_option(args, ttl)) return kUsage;
  auto b = make_backend(args);
  if (!b) return kUsage;
  auto r = b->touch(pos[0], ttl);
  if (!r) return report(r.error());
  return *r ? kOk : kNegative;
}

}  // namespace cli
