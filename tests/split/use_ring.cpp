// A third translation unit of the split build. The ring and server specs are
// not in the declarations view (config.hpp), so this file includes the header
// without CACHEKIT_DECLARATIONS_ONLY and compiles them itself; it does not
// use the backends or the facade. The configuration check it calls is the
// one compiled in impl.cpp.
#include <cachekit/cachekit.hpp>

#include <cstdio>
#include <string>
#include <vector>

int use_ring() {
  std::vector<cachekit::ServerSpec> specs;
  for (const char* s : {"10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"}) {
    auto spec = cachekit::ServerSpec::parse(s);
    if (!spec) return 1;
    specs.push_back(*spec);
  }
  auto ring = cachekit::Ring::build(specs);
  if (!ring || ring->servers().size() != 3 || ring->describe().size() != 3) {
    std::fprintf(stderr, "Ring::build: expected a ring of three servers\n");
    return 1;
  }
  if (ring->server_for("some key") >= 3) return 1;
  cachekit::MemcachedBackendConfig cfg;
  cfg.max_pool_size = 0;
  auto ok = cfg.validate();
  if (ok || ok.error().message().find("max_pool_size") == std::string::npos) {
    std::fprintf(stderr, "validate(): expected a max_pool_size error\n");
    return 1;
  }
  return 0;
}
