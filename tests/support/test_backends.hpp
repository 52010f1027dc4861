#pragma once
// Backends for facade tests: one that counts calls and can be switched to
// fail, wrapping an in-process store.

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace cktest {

/// A backend config for every server of a test cluster, keys under `prefix`.
inline cachekit::MemcachedBackendConfig prefixed_config(const MemcachedCluster& cluster, std::string prefix) {
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.key_prefix = std::move(prefix);
  return cfg;
}

/// The options of the README's users/get_user example.
inline cachekit::CacheOptions users_get_user() {
  cachekit::CacheOptions o;
  o.ns = "users";
  o.operation = "get_user";
  o.ttl = std::chrono::seconds(300);
  return o;
}

/// A MemoryBackend that counts operations and fails them on demand.
class CountingBackend final : public cachekit::Backend {
 public:
  std::atomic<int> gets{0}, sets{0}, adds{0}, removes{0};
  std::atomic<bool> failing{false};
  cachekit::MemoryBackend store;

  cachekit::Result<std::optional<std::string>> get(std::string_view key) override {
    ++gets;
    if (failing) return fail("get");
    return store.get(key);
  }
  cachekit::Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    ++sets;
    if (failing) return fail("set");
    return store.set(key, value, ttl);
  }
  cachekit::Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    ++adds;
    if (failing) return fail("add");
    return store.add(key, value, ttl);
  }
  cachekit::Result<bool> remove(std::string_view key) override {
    ++removes;
    if (failing) return fail("delete");
    return store.remove(key);
  }
  cachekit::Result<bool> exists(std::string_view key) override {
    if (failing) return fail("exists");
    return store.exists(key);
  }
  cachekit::Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override {
    if (failing) return fail("touch");
    return store.touch(key, ttl);
  }

 private:
  static cachekit::Error fail(const char* op) {
    return cachekit::Error(cachekit::ErrorKind::transient, "injected failure").with_operation(op);
  }
};

}  // namespace cktest
