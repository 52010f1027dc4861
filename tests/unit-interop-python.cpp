// Cross-language proof: Python (pymemcache HashClient with its default
// rendezvous hasher, and msgpack) and the C++ facade share entries on the
// same memcached servers, in both directions.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "support/memcached_process.hpp"

using namespace std::chrono_literals;

namespace {
struct PyUser {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
};
CACHEKIT_FIELDS(PyUser, id, name, roles)

struct PythonRun {
  int status = -1;
  std::string out;
};

// Runs the Python peer (Debian's interpreter, where the peers are installed).
PythonRun python_peer(const std::string& args) {
  const std::string cmd =
      "/usr/bin/python3 '" CACHEKIT_SOURCE_DIR "/tests/python/interop_peer.py' " + args + " 2>&1";
  PythonRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, "cannot run /usr/bin/python3");
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.out += buf;
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}
}  // namespace

TEST_CASE("interop with Python: pymemcache + msgpack and the C++ facade share entries") {
  const PythonRun probe = python_peer("x key 42");
  REQUIRE_MESSAGE(probe.status == 0,
                  "the Python peers are missing; install them with: apt-get install python3-pymemcache "
                  "python3-msgpack\n" << probe.out);
  // Both sides derive the same key independently.
  CHECK(probe.out == cachekit::interop_key("users", "get_user", 42).value());

  cktest::MemcachedCluster cluster(3);
  const std::string servers = join(cluster.specs());
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.distribution = cachekit::Distribution::rendezvous;  // pymemcache HashClient's placement
  auto backend = std::make_shared<cachekit::MemcachedBackend>(cfg);
  REQUIRE(backend->status());

  cachekit::CacheOptions o;
  o.ns = "users";
  o.operation = "get_user";
  o.ttl = 300s;
  int calls = 0;
  auto get_user = cachekit::cache(backend, o, [&](std::int64_t id) {
    ++calls;
    return PyUser{id, "from-cpp", {"cpp"}};
  });

  SUBCASE("Python writes, C++ reads a hit") {
    const PythonRun w = python_peer(servers + " write 42 from-python");
    REQUIRE_MESSAGE(w.status == 0, w.out);
    CHECK(w.out == get_user.key(42).value());
    const PyUser u = get_user(42);
    CHECK(calls == 0);
    CHECK(get_user.stats().hits == 1);
    CHECK(u.id == 42);
    CHECK(u.name == "from-python");
    CHECK(u.roles == std::vector<std::string>{"python"});
  }
  SUBCASE("C++ writes, Python reads it") {
    const PythonRun before = python_peer(servers + " read 42");
    CHECK(before.status == 3);  // absent
    const PyUser u = get_user(42);
    CHECK(calls == 1);
    CHECK(u.name == "from-cpp");
    const PythonRun r = python_peer(servers + " read 42");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out == R"({"id": 42, "name": "from-cpp", "roles": ["cpp"]})");
  }
}

TEST_CASE("interop with Python: the same key_prefix on both sides shares entries") {
  // cachekit-py's documented setup: a backend with key_prefix "myapp:". The
  // C++ facade needs no extra option; pymemcache's HashClient(key_prefix=
  // b"myapp:") with its rendezvous hasher finds the same entries.
  cktest::MemcachedCluster cluster(3);
  const std::string servers = join(cluster.specs());
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.distribution = cachekit::Distribution::rendezvous;
  cfg.key_prefix = "myapp:";
  auto backend = std::make_shared<cachekit::MemcachedBackend>(cfg);
  REQUIRE(backend->status());

  cachekit::CacheOptions o;
  o.ns = "users";
  o.operation = "get_user";
  o.ttl = 300s;
  int calls = 0;
  auto get_user = cachekit::cache(backend, o, [&](std::int64_t id) {
    ++calls;
    return PyUser{id, "from-cpp", {"cpp"}};
  });

  // C++ writes 42 and 43, Python (same prefix) reads both; a Python client
  // without the prefix does not see them.
  CHECK(get_user(42).name == "from-cpp");
  CHECK(get_user(43).name == "from-cpp");
  CHECK(calls == 2);
  CHECK(get_user.stats().errors == 0);
  for (const char* id : {"42", "43"}) {
    const PythonRun r = python_peer(servers + " read " + id + " --prefix=myapp:");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out == std::string(R"({"id": )") + id + R"(, "name": "from-cpp", "roles": ["cpp"]})");
  }
  CHECK(python_peer(servers + " read 42").status == 3);

  // Python writes 7..11 with the prefix, C++ reads hits on whichever server
  // each key landed.
  for (int id = 7; id < 12; ++id) {
    const PythonRun w = python_peer(servers + " write " + std::to_string(id) + " from-python --prefix=myapp:");
    REQUIRE_MESSAGE(w.status == 0, w.out);
    CHECK(w.out == get_user.key(id).value());
  }
  for (int id = 7; id < 12; ++id) CHECK(get_user(id).name == "from-python");
  CHECK(calls == 2);
  CHECK(get_user.stats().hits == 5);
  // The entries really carry the prefix on the servers.
  std::size_t found = 0;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    cachekit::MemcachedBackendConfig one = cktest::backend_config();
    one.servers = {cluster.spec(i)};
    cachekit::MemcachedBackend server(one);
    auto got = server.get("myapp:" + get_user.key(7).value());
    REQUIRE(got);
    found += got->has_value() ? 1u : 0u;
  }
  CHECK(found == 1);
}
