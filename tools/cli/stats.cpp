// cachekit-cli stats [GROUP]: "server name value" lines for every server;
// exit 3 when any server did not answer.
#include <cstdio>

#include "memcached_common.hpp"

namespace cli {

int run_stats(const Args& args) {
  const Args pos = positionals(args, kValueOptions);
  if (pos.size() > 1) {
    std::fprintf(stderr, "usage: cachekit-cli stats [GROUP] [--servers LIST]\n");
    return kUsage;
  }
  auto b = make_backend(args);
  if (!b) return kUsage;
  int rc = kOk;
  for (const auto& s : b->stats(pos.empty() ? std::string() : pos[0])) {
    if (!s.ok) {
      std::fprintf(stderr, "cachekit-cli: %s\n", s.error.to_string().c_str());
      rc = kServerError;
      continue;
    }
    for (const auto& kv : s.stats) std::printf("%s %s %s\n", s.server.c_str(), kv.first.c_str(), kv.second.c_str());
  }
  if (rc != kOk) note_default_servers();
  return rc;
}

}  // namespace cli
