// Sharing entries with cachekit's Python SDK (and any pymemcache reader).
//
// Interop keys are "{namespace}:{operation}:{blake2b-256 of the canonical
// MessagePack of the arguments}"; values are plain MessagePack. Python's
// pymemcache HashClient places keys by rendezvous hashing, so the C++ side
// uses Distribution::rendezvous on the same server list.
//
// Without CACHEKIT_MEMCACHED_SERVERS this prints the key only. With it set,
// it also stores a user under that key for Python to read:
//
//   import msgpack
//   from pymemcache.client.hash import HashClient
//   c = HashClient([("127.0.0.1", 11211)])
//   print(msgpack.unpackb(c.get("users:get_user:6159...8875")))
#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

struct User {
  std::int64_t id = 0;
  std::string name;
};
CACHEKIT_FIELDS(User, id, name)

int main() {
  auto key = cachekit::interop_key("users", "get_user", std::int64_t{42});
  if (!key) {
    std::printf("interop_key failed: %s\n", key.error().to_string().c_str());
    return 1;
  }
  std::printf("interop key of users:get_user(42): %s\n", key->c_str());
  std::printf("value bytes of {id: 42, name: \"Ada\"}: %zu (MessagePack map)\n",
              cachekit::to_msgpack(User{42, "Ada"}).size());

  if (!cachekit::memcached_configured()) {
    std::printf("set CACHEKIT_MEMCACHED_SERVERS='[\"host:port\"]' to write it for Python to read\n");
    return 0;
  }
  auto config = cachekit::MemcachedBackendConfig::from_env();
  if (!config) {
    std::printf("bad configuration: %s\n", config.error().to_string().c_str());
    return 1;
  }
  config->distribution = cachekit::Distribution::rendezvous;  // pymemcache HashClient's placement
  auto backend = std::make_shared<cachekit::MemcachedBackend>(std::move(config).value());

  cachekit::CacheOptions options;
  options.ns = "users";
  options.operation = "get_user";
  options.ttl = std::chrono::seconds(300);
  auto get_user = cachekit::cache(backend, options, [](std::int64_t id) { return User{id, "Ada"}; });
  const User u = get_user(42);  // stored under the key above unless Python already wrote it
  std::printf("get_user(42) = {id: %lld, name: %s}; %s\n", static_cast<long long>(u.id), u.name.c_str(),
              get_user.stats().hits ? "read from the cache" : "computed and stored for Python");
  return get_user.stats().errors == 0 ? 0 : 1;
}
