// Interop with pymemcache's HashClient on the same servers (rendezvous
// distribution): values written by one client are read by the other.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

namespace {
std::string join_specs(const cktest::MemcachedCluster& c) {
  std::string s;
  for (std::size_t i = 0; i < c.size(); ++i) s += (i ? "," : "") + c.spec(i);
  return s;
}

// Runs the pymemcache script and returns its stdout lines; exit status in rc.
std::vector<std::string> run_python(const std::string& args, int& rc) {
  const std::string cmd = std::string("/usr/bin/python3 ") + CACHEKIT_SOURCE_DIR +
                          "/tests/scripts/pymemcache-interop.py " + args;
  std::vector<std::string> lines;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, "cannot run " << cmd);
  std::string cur;
  int ch;
  while ((ch = std::fgetc(p)) != EOF) {
    if (ch == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(ch);
    }
  }
  rc = ::pclose(p);
  return lines;
}
}  // namespace

TEST_CASE("interop: pymemcache HashClient and cachekit (rendezvous) share keys both ways") {
  int rc = -1;
  cktest::MemcachedCluster cluster(3);
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.distribution = cachekit::Distribution::rendezvous;
  cachekit::MemcachedBackend b(cfg);
  constexpr int kKeys = 300;

  // Python writes, cachekit reads: every key found on the server our ring names.
  auto out = run_python("write " + join_specs(cluster) + " from-py- " + std::to_string(kKeys), rc);
  REQUIRE_MESSAGE(rc == 0, "pymemcache script failed; install python3-pymemcache for /usr/bin/python3");
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("from-py-" + std::to_string(i));
  auto got = b.get_many(keys);
  REQUIRE(got);
  std::vector<int> per_server(3, 0);
  for (int i = 0; i < kKeys; ++i) {
    REQUIRE((*got)[static_cast<std::size_t>(i)].has_value());
    CHECK(*(*got)[static_cast<std::size_t>(i)] == "py-value-" + std::to_string(i));
    ++per_server[b.server_for(keys[static_cast<std::size_t>(i)]).value()];
  }
  for (int n : per_server) CHECK(n > 30);

  // cachekit writes, Python reads.
  for (int i = 0; i < kKeys; ++i) {
    REQUIRE(b.set("from-ck-" + std::to_string(i), "ck-value-" + std::to_string(i)));
  }
  auto lines = run_python("read " + join_specs(cluster) + " from-ck- " + std::to_string(kKeys), rc);
  REQUIRE(rc == 0);
  REQUIRE(lines.size() == static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) CHECK(lines[static_cast<std::size_t>(i)] == "ck-value-" + std::to_string(i));
}
