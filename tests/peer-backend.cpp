// Interop with libmemcached on the same weighted servers (ketama,
// KETAMA_WEIGHTED): values written by one client are read by the other,
// and each key sits on the server both clients name.
#include <doctest/doctest.h>

#include <libmemcached/memcached.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

namespace {
using MemcPtr = std::unique_ptr<memcached_st, decltype(&memcached_free)>;

MemcPtr libmemcached_client(const cktest::MemcachedCluster& c, const std::vector<std::uint32_t>& weights, bool binary) {
  MemcPtr memc(memcached_create(nullptr), &memcached_free);
  REQUIRE(memc);
  REQUIRE(memcached_behavior_set(memc.get(), MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) == MEMCACHED_SUCCESS);
  REQUIRE(memcached_behavior_set(memc.get(), MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, binary ? 1 : 0) == MEMCACHED_SUCCESS);
  for (std::size_t i = 0; i < c.size(); ++i) {
    REQUIRE(memcached_server_add_with_weight(memc.get(), "127.0.0.1", c.port(i), weights[i]) == MEMCACHED_SUCCESS);
  }
  return memc;
}
}  // namespace

TEST_CASE("peer backend: libmemcached (ketama weighted) and cachekit share keys both ways") {
  cktest::MemcachedCluster cluster(3);
  const std::vector<std::uint32_t> weights{1, 2, 3};
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers.clear();
  for (std::size_t i = 0; i < 3; ++i) cfg.servers.push_back(cluster.spec(i) + ":" + std::to_string(weights[i]));
  cfg.distribution = cachekit::Distribution::ketama;
  cachekit::MemcachedBackend b(cfg);
  REQUIRE(b.status());
  constexpr int kKeys = 500;

  for (bool binary : {true, false}) {
    CAPTURE(binary);
    MemcPtr memc = libmemcached_client(cluster, weights, binary);
    const std::string tag = binary ? "bin-" : "txt-";
    // cachekit writes, libmemcached reads.
    for (int i = 0; i < kKeys; ++i) {
      const std::string k = tag + "ck-" + std::to_string(i);
      const std::string v = "ck-value-" + std::to_string(i);
      REQUIRE(b.set(k, v, std::chrono::seconds(0), static_cast<std::uint32_t>(i)));
      size_t len = 0;
      uint32_t flags = 0;
      memcached_return_t rc;
      char* got = memcached_get(memc.get(), k.data(), k.size(), &len, &flags, &rc);
      REQUIRE_MESSAGE(got != nullptr, "libmemcached did not find " << k << ": " << memcached_strerror(memc.get(), rc));
      CHECK(std::string(got, len) == v);
      CHECK(flags == static_cast<std::uint32_t>(i));
      std::free(got);
    }
    // libmemcached writes, cachekit reads (single and multi-get).
    std::vector<std::string> keys;
    for (int i = 0; i < kKeys; ++i) {
      const std::string k = tag + "lm-" + std::to_string(i);
      const std::string v = "lm-value-" + std::to_string(i);
      REQUIRE(memcached_set(memc.get(), k.data(), k.size(), v.data(), v.size(), 0, 7) == MEMCACHED_SUCCESS);
      keys.push_back(k);
    }
    auto many = b.get_many(keys);
    REQUIRE(many);
    for (int i = 0; i < kKeys; ++i) {
      REQUIRE((*many)[static_cast<std::size_t>(i)].has_value());
      CHECK(*(*many)[static_cast<std::size_t>(i)] == "lm-value-" + std::to_string(i));
      auto item = b.gets(keys[static_cast<std::size_t>(i)]);
      REQUIRE(item);
      REQUIRE(item->has_value());
      CHECK((*item)->flags == 7);
    }
  }
  // Both clients agree on placement: each key is only on the server cachekit names.
  std::vector<std::unique_ptr<cachekit::MemcachedBackend>> direct;
  for (std::size_t i = 0; i < 3; ++i) {
    cachekit::MemcachedBackendConfig one = cktest::backend_config();
    one.servers = {cluster.spec(i)};
    direct.push_back(std::make_unique<cachekit::MemcachedBackend>(one));
  }
  std::vector<int> per_server(3, 0);
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = "bin-lm-" + std::to_string(i);
    const std::size_t s = b.server_for(k).value();
    ++per_server[s];
    for (std::size_t j = 0; j < 3; ++j) CHECK(direct[j]->exists(k).value() == (j == s));
  }
  for (std::size_t i = 0; i < 3; ++i) CHECK_FALSE(b.server_marked_dead(i));
  // Weights 1:2:3 show in the share of keys.
  CHECK(per_server[0] < per_server[2]);
}
