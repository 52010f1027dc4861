// cachekit-cli delete KEY: exit 1 when the key did not exist.
#include <cstdio>

#include "memcached_common.hpp"

namespace cli {

int run_delete(const Args& args) {
  const Args pos = positionals(args, kValueOptions);
  if (pos.size() != 1) {
    std::fprintf(stderr, "usage: cachekit-cli delete KEY [--servers LIST]\n");
    return kUsage;
  }
  auto b = make_backend(args);
  if (!b) return kUsage;
  auto r = b->remove(pos[0]);
  if (!r) return report(r.error());
  return *r ? kOk : kNegative;
}

}  // namespace cli
