// The typed facade: cachekit::cache and Cache<T> over in-process backends.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/memcached_process.hpp"
#include "support/test_backends.hpp"

using cachekit::CacheOptions;
using cachekit::MemoryBackend;
using namespace std::chrono_literals;

namespace {
}  // namespace

TEST_CASE("cache: a miss calls the function, a hit does not") {
  auto backend = std::make_shared<MemoryBackend>();
  int calls = 0;
  auto get_user = cachekit::cache(backend, cktest::users_get_user(), [&](std::int64_t id) {
    ++calls;
    return "user" + std::to_string(id);
  });
  CHECK(get_user(42) == "user42");
  CHECK(get_user(42) == "user42");
  CHECK(get_user(std::int64_t{42}) == "user42");  // same key whatever the integer type
  CHECK(calls == 1);
  CHECK(get_user(7) == "user7");
  CHECK(calls == 2);

  auto s = get_user.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 2);
  CHECK(s.calls == 2);
  CHECK(s.errors == 0);
  CHECK(s.hit_rate() == doctest::Approx(0.5));

  auto key = get_user.key(42);
  REQUIRE(key);
  CHECK(key->rfind("users:get_user:", 0) == 0);
  CHECK(backend->get(*key)->has_value());

  CHECK(get_user.invalidate(42));
  CHECK_FALSE(get_user.invalidate(42));
  CHECK_FALSE(backend->get(*key)->has_value());
  CHECK(get_user(42) == "user42");
  CHECK(calls == 3);

  // Copies share the backend entries and the counters.
  auto copy = get_user;
  CHECK(copy(42) == "user42");
  CHECK(calls == 3);
  CHECK(get_user.stats().hits == copy.stats().hits);
}

TEST_CASE("cache: backend by reference or shared ownership") {
  std::shared_ptr<MemoryBackend> owned = std::make_shared<MemoryBackend>();
  std::weak_ptr<MemoryBackend> watch = owned;
  int calls = 0;
  auto twice = cachekit::cache(std::move(owned), cktest::users_get_user(), [&](int x) { ++calls; return 2 * x; });
  CHECK_FALSE(watch.expired());  // the cached function keeps it alive
  CHECK(twice(4) == 8);
  CHECK(twice(4) == 8);
  CHECK(calls == 1);

  MemoryBackend local;  // must outlive `thrice`
  auto thrice = cachekit::cache(local, cktest::users_get_user(), [&](int x) { ++calls; return 3 * x; });
  CHECK(thrice(4) == 12);
  CHECK(thrice(4) == 12);
  CHECK(calls == 2);
  CHECK(local.size() == 1);
}

TEST_CASE("cache: backend errors never fail the call") {
  auto backend = std::make_shared<cktest::CountingBackend>();
  std::vector<std::string> seen;
  CacheOptions o = cktest::users_get_user();
  o.on_error = [&](const cachekit::Error& e) { seen.push_back(e.operation()); };
  int calls = 0;
  auto f = cachekit::cache(backend, o, [&](int x) { ++calls; return x + 1; });

  backend->failing = true;
  CHECK(f(1) == 2);
  CHECK(f(1) == 2);
  CHECK(calls == 2);  // uncached while the backend fails
  auto s = f.stats();
  CHECK(s.errors == 4);  // a get and a set per call
  CHECK(s.misses == 2);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0] == "get");
  CHECK(seen[1] == "set");
  CHECK_FALSE(f.invalidate(1));
  CHECK(f.stats().errors == 5);

  backend->failing = false;
  CHECK(f(1) == 2);
  CHECK(f(1) == 2);
  CHECK(calls == 3);
  CHECK(f.stats().hits == 1);
}

TEST_CASE("cache: an undecodable value is a miss, counted, then overwritten") {
  auto backend = std::make_shared<MemoryBackend>();
  int calls = 0;
  int decode_reports = 0;
  CacheOptions o = cktest::users_get_user();
  o.on_error = [&](const cachekit::Error& e) { decode_reports += e.operation() == "decode"; };
  auto f = cachekit::cache(backend, o, [&](int x) { ++calls; return std::string(static_cast<std::size_t>(x), 'a'); });
  auto key = f.key(3);
  REQUIRE(key);
  REQUIRE(backend->set(*key, std::string("\xc1\xc1\xc1", 3), 0s));  // 0xc1 is never valid MessagePack
  CHECK(f(3) == "aaa");
  CHECK(calls == 1);
  auto s = f.stats();
  CHECK(s.decode_errors == 1);
  CHECK(s.misses == 1);
  CHECK(s.errors == 0);
  CHECK(decode_reports == 1);
  CHECK(f(3) == "aaa");  // the fresh value replaced the bad one
  CHECK(calls == 1);
}

TEST_CASE("cache: a key that cannot be made runs the function uncached") {
  auto backend = std::make_shared<MemoryBackend>();
  CacheOptions o;
  o.ns = "Bad Namespace";
  o.operation = "op";
  int calls = 0;
  std::string message;
  o.on_error = [&](const cachekit::Error& e) { message = e.to_string(); };
  auto f = cachekit::cache(backend, o, [&](int x) { ++calls; return x; });
  CHECK(f(1) == 1);
  CHECK(f(1) == 1);
  CHECK(calls == 2);
  CHECK(f.stats().errors == 2);
  CHECK_FALSE(message.empty());
  CHECK(backend->size() == 0);
}

TEST_CASE("cache: bypass, refresh and disabling") {
  auto backend = std::make_shared<MemoryBackend>();
  int calls = 0;
  int version = 1;
  auto f = cachekit::cache(backend, cktest::users_get_user(), [&](int x) { ++calls; return x * 100 + version; });
  CHECK(f(1) == 101);
  version = 2;
  CHECK(f(1) == 101);         // cached
  CHECK(f.bypass(1) == 102);  // fresh, not stored
  CHECK(f(1) == 101);
  CHECK(f.refresh(1) == 102);  // fresh and stored
  CHECK(f(1) == 102);
  CHECK(calls == 3);
  CHECK(f.stats().bypasses == 1);

  CacheOptions off = cktest::users_get_user();
  off.enabled = false;
  auto g = cachekit::cache(backend, off, [&](int x) { ++calls; return x; });
  CHECK(g(5) == 5);
  CHECK(g(5) == 5);
  CHECK(calls == 5);
  CHECK(g.stats().bypasses == 2);
  CHECK(g.stats().misses == 0);
}

TEST_CASE("cache: a custom key function") {
  auto backend = std::make_shared<MemoryBackend>();
  int calls = 0;
  auto f = cachekit::cache(backend, cktest::users_get_user(), [&](int a, int b) { ++calls; return a + b; })
               .with_key([](int a, int b) { return "sum/" + std::to_string(a) + "+" + std::to_string(b); });
  CHECK(f(2, 3) == 5);
  CHECK(f(2, 3) == 5);
  CHECK(calls == 1);
  CHECK(backend->get("sum/2+3")->has_value());
  CHECK(f.invalidate(2, 3));
  CHECK_FALSE(backend->get("sum/2+3")->has_value());

  // A key function may refuse: the call runs uncached.
  auto g = cachekit::cache(backend, cktest::users_get_user(), [&](int a) { ++calls; return a; })
               .with_key([](int a) -> cachekit::Result<std::string> {
                 if (a < 0) return cachekit::Error(cachekit::ErrorKind::permanent, "negative");
                 return "pos/" + std::to_string(a);
               });
  CHECK(g(-1) == -1);
  CHECK(g.stats().errors == 1);
  CHECK(g(4) == 4);
  CHECK(g(4) == 4);
  CHECK(g.stats().hits == 1);
}

TEST_CASE("cache: the near cache (L1) answers repeated reads in process") {
  auto backend = std::make_shared<cktest::CountingBackend>();
  CacheOptions o = cktest::users_get_user();
  o.l1.enabled = true;
  o.l1.ttl = 60s;
  int calls = 0;
  auto f = cachekit::cache(backend, o, [&](int x) { ++calls; return x; });
  CHECK(f(1) == 1);
  const int gets_after_miss = backend->gets;
  CHECK(f(1) == 1);
  CHECK(f(1) == 1);
  CHECK(backend->gets == gets_after_miss);  // served by the L1
  CHECK(f.stats().l1_hits == 2);
  CHECK(f.stats().hits == 2);

  // A value another process wrote is read from the backend, then kept in L1.
  auto other = cachekit::cache(backend, o, [&](int x) { ++calls; return -x; });
  CHECK(other(1) == 1);
  CHECK(other.stats().l1_hits == 0);
  CHECK(other(1) == 1);
  CHECK(other.stats().l1_hits == 1);

  // Invalidation clears this process's L1 too.
  CHECK(f.invalidate(1));
  CHECK(f(1) == 1);
  CHECK(calls == 2);

  SUBCASE("L1 entries expire after their own TTL") {
    CacheOptions shortl1 = cktest::users_get_user();
    shortl1.l1.enabled = true;
    shortl1.l1.ttl = 20ms;
    auto h = cachekit::cache(backend, shortl1, [&](int x) { return x; });
    CHECK(h(9) == 9);
    const int before = backend->gets;
    CHECK(cktest::wait_until([&] { return h(9) == 9 && backend->gets > before; }, 5s));
  }
}

TEST_CASE("cache: default backend and default names") {
  // No CACHEKIT_MEMCACHED_SERVERS in the unit test environment: in process.
  int calls = 0;
  auto a = cachekit::cache([&](int x) { ++calls; return x * 2; });
  auto b = cachekit::cache([&](int x) { ++calls; return x * 3; });
  CHECK(a.options().ns == "cachekit");
  CHECK(a.options().operation.rfind("unit-cache.cpp-", 0) == 0);
  CHECK(a.options().operation != b.options().operation);  // two call sites, two keys
  CHECK(a(5) == 10);
  CHECK(b(5) == 15);
  CHECK(a(5) == 10);
  CHECK(b(5) == 15);
  CHECK(calls == 2);
  CHECK(cachekit::default_backend().get() == cachekit::default_backend().get());

  CacheOptions o;
  o.operation = "named";
  auto c = cachekit::cache(o, [&](int x) { ++calls; return x; });
  CHECK(c.options().operation == "named");
  CHECK(c(1) == 1);
  CHECK(c(1) == 1);
  CHECK(calls == 3);
  CHECK(a.invalidate(5));
  CHECK(c.invalidate(1));
}

TEST_CASE("cache: call-site operation names are valid key segments") {
  using cachekit::detail::call_site_operation;
  CHECK(call_site_operation("/src/My File.cpp", 12) == "my-file.cpp-12");
  CHECK(call_site_operation("C:\\x\\_odd.cc", 3) == "f_odd.cc-3");
  CHECK(call_site_operation(nullptr, 1) == "f-1");
  const std::string longname = call_site_operation(std::string(100, 'a').c_str(), 123456);
  CHECK(longname.size() == 64);
  CHECK(longname.substr(longname.size() - 7) == "-123456");
}

TEST_CASE("Cache<T>: get, set, get_or_set, remove") {
  auto backend = std::make_shared<MemoryBackend>();
  cachekit::Cache<std::string> names(backend);
  CHECK_FALSE(names.get("alice"));
  CHECK(names.set("alice", "Alice A."));
  CHECK(names.get("alice") == "Alice A.");
  int calls = 0;
  CHECK(names.get_or_set("bob", [&] { ++calls; return std::string("Bob B."); }) == "Bob B.");
  CHECK(names.get_or_set("bob", [&] { ++calls; return std::string("other"); }) == "Bob B.");
  CHECK(calls == 1);
  CHECK(names.remove("bob"));
  CHECK_FALSE(names.remove("bob"));
  CHECK_FALSE(names.get("bob"));
  auto s = names.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 3);

  // A namespace prefixes keys; a different type under a key is a counted miss.
  CacheOptions o;
  o.ns = "counts";
  o.ttl = 60s;
  cachekit::Cache<int> counts(*backend, o);
  CHECK(counts.set("a", 5));
  CHECK(backend->get("counts:a")->has_value());
  CHECK(counts.get("a") == 5);
  cachekit::Cache<int> as_int(backend);
  CHECK_FALSE(as_int.get("alice"));
  CHECK(as_int.stats().decode_errors == 1);

  // Backend failures: nothing throws, misses and false.
  auto flaky = std::make_shared<cktest::CountingBackend>();
  cachekit::Cache<int> f(flaky);
  flaky->failing = true;
  CHECK_FALSE(f.set("k", 1));
  CHECK_FALSE(f.get("k"));
  CHECK(f.get_or_set("k", [] { return 3; }) == 3);
  CHECK(f.stats().errors >= 3);

  cachekit::Cache<int> on_default;  // the process-wide default backend
  CHECK(on_default.set("cache-t-default", 1));
  CHECK(on_default.get("cache-t-default") == 1);
  CHECK(on_default.remove("cache-t-default"));
}

TEST_CASE("cache: many threads share one cached function" * doctest::test_suite("concurrency")) {
  auto backend = std::make_shared<MemoryBackend>();
  std::atomic<int> calls{0};
  auto f = cachekit::cache(backend, cktest::users_get_user(), [&](int x) { ++calls; return x * 7; });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const int x = (i * 13 + t) % 50;
        if (f(x) != x * 7) ++wrong;
        if (i % 97 == 0) (void)f.invalidate(x);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  auto s = f.stats();
  CHECK(s.hits + s.misses == 8 * 2000);
  CHECK(s.calls == static_cast<std::uint64_t>(calls.load()));
}

namespace {
struct Profile {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> roles;
  bool operator==(const Profile& o) const { return id == o.id && name == o.name && roles == o.roles; }
};
CACHEKIT_FIELDS(Profile, id, name, roles)
}  // namespace

TEST_CASE("cache: interop keys and MessagePack values shared with other SDKs") {
  auto backend = std::make_shared<MemoryBackend>();
  auto get_user = cachekit::cache(backend, cktest::users_get_user(), [](std::int64_t id) {
    return Profile{id, "Ada", {"admin"}};
  });
  // Vector "single_int" of the cachekit interop conformance file.
  const std::string expected = "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875";
  CHECK(get_user.key(42).value() == expected);
  CHECK(get_user(42) == Profile{42, "Ada", {"admin"}});
  // Stored as a plain MessagePack map, readable by any MessagePack reader.
  auto stored = backend->get(expected);
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK(**stored == cachekit::to_msgpack(Profile{42, "Ada", {"admin"}}));
  CHECK(static_cast<unsigned char>((**stored)[0]) == 0x83);  // fixmap with 3 entries

  // A value written by another SDK under the same key is a hit.
  REQUIRE(backend->set(expected, cachekit::to_msgpack(Profile{42, "From Python", {}}), 0s));
  CHECK(get_user(42).name == "From Python");
  CHECK(get_user.stats().calls == 1);

  // Arguments outside the interop data model (NaN) run uncached.
  int calls = 0;
  auto half = cachekit::cache(backend, cktest::users_get_user(), [&](double x) { ++calls; return x / 2; });
  CHECK(half(std::numeric_limits<double>::quiet_NaN()) != half(std::numeric_limits<double>::quiet_NaN()));
  CHECK(half.stats().errors == 2);
  CHECK(half(3.0) == 1.5);
  CHECK(half(3) == 1.5);  // 3.0 and 3 share a canonical key
  CHECK(calls == 3);

  // Several arguments of several types, and string literals.
  auto greet = cachekit::cache(backend, cktest::users_get_user(),
                               [](const std::string& who, int times) { return who + std::to_string(times); });
  CHECK(greet("ada", 2) == "ada2");
  CHECK(greet(std::string("ada"), 2) == "ada2");
  CHECK(greet.stats().hits == 1);
  CHECK(greet.key("ada", 2).value() == cachekit::interop_key("users", "get_user", std::string("ada"), 2).value());

  cachekit::Cache<Profile> profiles(backend);
  CHECK(profiles.set("p1", Profile{1, "One", {"a", "b"}}));
  CHECK(profiles.get("p1") == Profile{1, "One", {"a", "b"}});
}

TEST_CASE("cache: make_default_backend follows CACHEKIT_MEMCACHED_SERVERS") {
  (void)cachekit::default_backend();  // the process-wide one is fixed before the variable changes
  REQUIRE(std::getenv("CACHEKIT_MEMCACHED_SERVERS") == nullptr);
  auto memory = cachekit::make_default_backend();
  REQUIRE(memory);
  CHECK((*memory)->set("k", "v", 1s));

  ::setenv("CACHEKIT_MEMCACHED_SERVERS", "not json", 1);
  auto bad = cachekit::make_default_backend();
  ::setenv("CACHEKIT_MEMCACHED_SERVERS", "[\"127.0.0.1:1\"]", 1);
  auto mc = cachekit::make_default_backend();
  ::unsetenv("CACHEKIT_MEMCACHED_SERVERS");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("CACHEKIT_MEMCACHED_SERVERS") != std::string::npos);
  REQUIRE(mc);  // made without connecting anywhere
  auto unreachable = (*mc)->get("k");
  CHECK_FALSE(unreachable);

  cachekit::detail::FailedBackend failed(cachekit::Error(cachekit::ErrorKind::permanent, "bad config"));
  int calls = 0;
  auto f = cachekit::cache(failed, cktest::users_get_user(), [&](int x) { ++calls; return x; });
  CHECK(f(1) == 1);
  CHECK(f(1) == 1);
  CHECK(calls == 2);
  CHECK(f.stats().errors == 4);
}
