// cachekit-cli version: "server version" for every server; exit 3 when any
// server did not answer.
#include <cstdio>

#include "memcached_common.hpp"

namespace cli {

int run_version(const Args& args) {
  if (!positionals(args, kValueOptions).empty()) {
    std::fprintf(stderr, "usage: cachekit-cli version [--servers LIST]\n");
    return kUsage;
  }
  auto b = make_backend(args);
  if (!b) return kUsage;
  int rc = kOk;
  for (const auto& v : b->version()) {
    if (v.ok) {
      std::printf("%s %s\n", v.server.c_str(), v.version.c_str());
    } else {
      std::printf("%s -\n", v.server.c_str());
      std::fprintf(stderr, "cachekit-cli: %s\n", v.error.to_string().c_str());
      rc = kServerError;
    }
  }
  if (rc != kOk) note_default_servers();
  return rc;
}

}  // namespace cli
