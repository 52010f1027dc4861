// cachekit-cli get KEY: prints the value (and a newline); exit 1 on a miss.
#include <cstdio>

#include "memcached_common.hpp"

namespace cli {

int run_get(const Args& args) {
  const Args pos = positionals(args, kValueOptions);
  if (pos.size() != 1) {
    std::fprintf(stderr, "usage: cachekit-cli get KEY [--servers LIST]\n");
    return kUsage;
  }
  auto b = make_backend(args);
  if (!b) return kUsage;
  auto r = b->get(pos[0]);
  if (!r) return report(r.error());
  if (!r->has_value()) return kNegative;
  std::fwrite((*r)->data(), 1, (*r)->size(), stdout);
  std::fputc('\n', stdout);
  return kOk;
}

}  // namespace cli
