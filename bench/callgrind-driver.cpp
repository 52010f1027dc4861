// Runs N client operations against a running memcached so that
// valgrind --tool=callgrind can count the client's instructions per
// operation. See bench/callgrind-backend.sh.
//   cachekit_callgrind_driver cachekit|libmemcached|libmemcached_ascii get|mget|mget_vec|get_into|mget_into PORT N
// cachekit's config comes from the CACHEKIT_MEMCACHED_* variables (PROTOCOL
// picks meta, text or binary, SPIN_WAIT_US=0 turns off busy-polling);
// libmemcached speaks its binary protocol, libmemcached_ascii its ASCII mode.
// get and mget return a new value per key (cachekit: std::optional<std::string>,
// libmemcached: memcached_get / memcached_fetch_result with a new result);
// both clients get the 100 keys of a multi-get as arrays built once
// (cachekit: string_views, libmemcached: pointers and lengths), except
// mget_vec, cachekit's form over a std::vector<std::string>;
// get_into and mget_into reuse the caller's buffers (cachekit: the
// std::string& and vector overloads, libmemcached: memcached_fetch_result
// into one memcached_result_st).
// CG_HOLD_BYTES=N makes the program allocate N bytes after its first
// operation and hold them to the end, as a program that allocates between
// calls does: glibc's heap then settles in another steady state (see
// bench/README.md, "Client instructions"), for either client.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <cachekit/cachekit.hpp>

#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s cachekit|libmemcached|libmemcached_ascii get|mget|mget_vec|get_into|mget_into PORT N\n",
                 argv[0]);
    return 2;
  }
  const std::string client = argv[1], op = argv[2];
  const std::string port = argv[3];
  const long n = std::atol(argv[4]);
  const std::string value(100, 'v');
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("cg:key:" + std::to_string(i));
  long found = 0;
  // After the first operation (i == 0): the allocation CG_HOLD_BYTES asks for.
  static void* volatile held = nullptr;
  const char* hold_env = std::getenv("CG_HOLD_BYTES");
  const std::size_t hold_bytes = hold_env != nullptr ? std::strtoul(hold_env, nullptr, 10) : 0;
  auto hold_after = [&](long i) {
    if (i == 0 && hold_env != nullptr) held = std::malloc(hold_bytes);
  };
  if (client == "cachekit") {
    // CACHEKIT_MEMCACHED_* variables apply (PROTOCOL, SPIN_WAIT_US=0: no busy-polling).
    auto env = cachekit::MemcachedBackendConfig::from_env();
    if (!env) {
      std::fprintf(stderr, "CACHEKIT_MEMCACHED_*: %s\n", env.error().message().c_str());
      return 2;
    }
    cachekit::MemcachedBackendConfig cfg = *env;
    cfg.servers = {"127.0.0.1:" + port};
    cachekit::MemcachedBackend b(cfg);
    for (const auto& k : keys) (void)b.set(k, value);
    // The keys as an array of views, built once, as libmemcached's key
    // pointer and length arrays are below.
    const std::vector<std::string_view> views(keys.begin(), keys.end());
    if (op == "get") {
      for (long i = 0; i < n; ++i) {
        found += b.get(keys[0])->has_value() ? 1 : 0;
        hold_after(i);
      }
    } else if (op == "get_into") {
      std::string v;
      for (long i = 0; i < n; ++i) {
        found += *b.get(keys[0], v) ? 1 : 0;
        hold_after(i);
      }
    } else if (op == "mget_into") {
      std::vector<std::optional<std::string>> vs;
      for (long i = 0; i < n; ++i) {
        if (!b.get_many(views.data(), views.size(), vs)) continue;
        for (const auto& v : vs) found += v ? 1 : 0;
        hold_after(i);
      }
    } else if (op == "mget_vec") {
      for (long i = 0; i < n; ++i) {
        {
          auto r = b.get_many(keys);  // the std::vector<std::string> form
          for (const auto& v : *r) found += v ? 1 : 0;
        }
        hold_after(i);
      }
    } else {
      for (long i = 0; i < n; ++i) {
        {
          auto r = b.get_many(views.data(), views.size());
          for (const auto& v : *r) found += v ? 1 : 0;
        }
        hold_after(i);
      }
    }
  }
#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
  else if (client == "libmemcached" || client == "libmemcached_ascii") {
    memcached_st* m = memcached_create(nullptr);
    memcached_behavior_set(m, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, client == "libmemcached" ? 1 : 0);
    memcached_behavior_set(m, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    memcached_server_add(m, "127.0.0.1", static_cast<in_port_t>(std::atoi(port.c_str())));
    std::vector<const char*> kp;
    std::vector<size_t> kl;
    for (const auto& k : keys) {
      memcached_set(m, k.data(), k.size(), value.data(), value.size(), 0, 0);
      kp.push_back(k.data());
      kl.push_back(k.size());
    }
    memcached_result_st reuse;
    memcached_result_create(m, &reuse);
    for (long i = 0; i < n; ++i) {
      if (op == "get_into" || op == "mget_into") {
        const std::size_t count = op == "get_into" ? 1 : kp.size();
        memcached_mget(m, kp.data(), kl.data(), count);
        memcached_return_t rc;
        while (memcached_fetch_result(m, &reuse, &rc) != nullptr) ++found;
      } else if (op == "get") {
        size_t len;
        uint32_t flags;
        memcached_return_t rc;
        char* v = memcached_get(m, kp[0], kl[0], &len, &flags, &rc);
        found += v ? 1 : 0;
        std::free(v);
      } else {
        memcached_mget(m, kp.data(), kl.data(), kp.size());
        memcached_return_t rc;
        memcached_result_st* res;
        while ((res = memcached_fetch_result(m, nullptr, &rc)) != nullptr) {
          ++found;
          memcached_result_free(res);
        }
      }
      hold_after(i);
    }
    memcached_result_free(&reuse);
    memcached_free(m);
  }
#endif
  else {
    std::fprintf(stderr, "unknown client %s\n", client.c_str());
    return 2;
  }
  std::free(held);
  std::printf("%ld found\n", found);
  return 0;
}
