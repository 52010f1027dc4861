// A user struct as a cached value: CACHEKIT_FIELDS encodes it as a
// MessagePack map of field name to value, which other cachekit SDKs read as
// a dict / object.
#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

struct User {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
};
CACHEKIT_FIELDS(User, id, name, roles)

namespace {
int db_queries = 0;
User load_user_from_db(std::int64_t id) {
  ++db_queries;
  return User{id, "user-" + std::to_string(id), {"reader", id == 1 ? "admin" : "member"}};
}
}  // namespace

int main() {
  cachekit::CacheOptions options;
  options.ns = "users";
  options.operation = "get_user";
  options.ttl = std::chrono::seconds(300);
  auto get_user = cachekit::cache(options, [](std::int64_t id) { return load_user_from_db(id); });
  (void)get_user.invalidate(1);

  User u = get_user(1);       // miss: calls the lambda, stores the result
  User again = get_user(1);   // hit: decoded from the cache
  std::printf("%s (%lld) roles: %s, %s\n", again.name.c_str(), static_cast<long long>(again.id),
              again.roles[0].c_str(), again.roles[1].c_str());
  std::printf("db queries: %d, key: %s\n", db_queries, get_user.key(1).value_or("?").c_str());
  std::printf("stored bytes (MessagePack): %zu\n", cachekit::to_msgpack(u).size());
  (void)get_user.invalidate(1);
  return db_queries == 1 && again.name == u.name ? 0 : 1;
}
