// cachekit-cli health: one line per server, "server up LATENCY_US VERSION"
// or "server down REASON"; exit 0 when all are up, 3 otherwise.
#include <cstdio>

#include "memcached_common.hpp"

namespace cli {

int run_health(const Args& args) {
  if (!positionals(args, kValueOptions).empty()) {
    std::fprintf(stderr, "usage: cachekit-cli health [--servers LIST]\n");
    return kUsage;
  }
  auto b = make_backend(args);
  if (!b) return kUsage;
  int rc = kOk;
  for (const auto& h : b->health_check()) {
    if (h.up) {
      std::printf("%s up %lld %s\n", h.server.c_str(), static_cast<long long>(h.latency.count()), h.version.c_str());
    } else {
      std::printf("%s down %s\n", h.server.c_str(), h.error.message().c_str());
      rc = kServerError;
    }
  }
  if (rc != kOk) note_default_servers();
  return rc;
}

}  // namespace cli
