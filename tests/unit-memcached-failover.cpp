// MemcachedBackend under failure and load: bounded calls, dead-server
// ejection and rejoin, a server that never answers, pool exhaustion,
// many threads, fork.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/fake_memcached.hpp"
#include "support/call_bound.hpp"
#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using Clock = std::chrono::steady_clock;

namespace {
using cktest::call_bound;
constexpr auto kMargin = 300ms;

// Value that names its key and carries a checksum, so a wrong value is caught.
std::string value_for(const std::string& key, int version) {
  std::string v = key + "#" + std::to_string(version) + "#";
  unsigned sum = 0;
  for (char c : v) sum = sum * 31 + static_cast<unsigned char>(c);
  return v + std::to_string(sum);
}
bool value_ok(const std::string& key, const std::string& v) {
  const auto a = v.find('#');
  const auto b = v.rfind('#');
  if (a == std::string::npos || b == a || v.substr(0, a) != key) return false;
  return value_for(key, std::stoi(v.substr(a + 1, b - a - 1))) == v;
}
}  // namespace

TEST_CASE("failover: a server that accepts and never answers is bounded by the timeout") {
  cktest::FakeMemcached hang([](cktest::FakeConnection& c) { c.hold(); });
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {hang.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  cfg.timeout = 200ms;
  cfg.connect_timeout = 200ms;
  cfg.retry_attempts = 1;
  cfg.server_failure_limit = 100;  // keep it in the ring: every call meets the hang
  MemcachedBackend b(cfg);
  for (int round = 0; round < 2; ++round) {
    const auto t0 = Clock::now();
    auto r = b.get("k");
    const auto took = Clock::now() - t0;
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::timeout);
    CHECK(r.error().server() == hang.spec());
    CHECK(r.error().operation() == "get");
    CHECK(took >= cfg.timeout);
    CHECK(took <= call_bound(cfg) + kMargin);
  }
  const auto t0 = Clock::now();
  auto m = b.get_many(std::vector<std::string>{"a", "b", "c"});
  CHECK_FALSE(m);
  CHECK(Clock::now() - t0 <= call_bound(cfg) + kMargin);
  const auto t1 = Clock::now();
  auto s = b.set_many(std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}});
  REQUIRE(s);
  CHECK(s->size() == 2);
  CHECK(Clock::now() - t1 <= call_bound(cfg) + kMargin);
  // Broken connections are not kept.
  CHECK(b.open_connections(0) == 0);
}

TEST_CASE("failover: a refused connection is a fast transient error") {
  const auto port = cktest::free_port();
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {"127.0.0.1:" + std::to_string(port)};
  MemcachedBackend b(cfg);
  const auto t0 = Clock::now();
  auto r = b.set("k", "v");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::transient);
  CHECK(Clock::now() - t0 < 1s);
  // After repeated failures the only server is dead: calls fail at once.
  CHECK(b.server_marked_dead(0));
  auto again = b.get("k");
  REQUIRE_FALSE(again);
  CHECK(again.error().kind() == ErrorKind::transient);
}

namespace {
// "<prefix><d>.<d> s after: <suffix>" with a plausible number of seconds.
bool dead_message(const std::string& text, const std::string& prefix, const std::string& suffix, double max_s) {
  if (text.rfind(prefix, 0) != 0) return false;
  const std::size_t num = prefix.size();
  const std::size_t s = text.find(" s after: ", num);
  if (s == std::string::npos || text.substr(s + 10) != suffix) return false;
  const std::string digits = text.substr(num, s - num);
  if (digits.size() < 3 || digits[digits.size() - 2] != '.') return false;
  const double v = std::stod(digits);
  return v > 0 && v <= max_s;
}
}  // namespace

TEST_CASE("failover: a call refused because its server is dead names the server, how long, and the last failure") {
  SUBCASE("connection refused") {
    const auto port = cktest::free_port();
    const std::string spec = "127.0.0.1:" + std::to_string(port);
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {spec};
    MemcachedBackend b(cfg);
    auto r = b.get("a");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::transient);
    CHECK_MESSAGE(dead_message(r.error().to_string(), "transient: " + spec + " is marked dead for ",
                               "connect: Connection refused (op=get, key=a)", 5.0),
                  r.error().to_string());
    auto again = b.set("a", "v");
    REQUIRE_FALSE(again);
    CHECK_MESSAGE(dead_message(again.error().to_string(), "transient: " + spec + " is marked dead for ",
                               "connect: Connection refused (op=set, key=a)", 5.0),
                  again.error().to_string());
  }
  SUBCASE("a host that does not resolve") {
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {"cachekit-no-such-host.invalid:11211"};
    cfg.retry_attempts = 1;
    MemcachedBackend b(cfg);
    CHECK_FALSE(b.get("a"));
    auto r = b.get("a");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::transient);
    const std::string text = r.error().to_string();
    CAPTURE(text);
    CHECK(text.rfind("transient: cachekit-no-such-host.invalid:11211 is marked dead for ", 0) == 0);
    CHECK(text.find(" s after: cannot resolve host: ") != std::string::npos);
    CHECK(text.find("(op=get, key=a)") != std::string::npos);
  }
  SUBCASE("a server that never answers: the kind stays timeout") {
    cktest::FakeMemcached hang([](cktest::FakeConnection& c) { c.hold(); });
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {hang.spec()};
    cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
    cfg.timeout = 200ms;
    cfg.connect_timeout = 200ms;
    MemcachedBackend b(cfg);
    auto r = b.get("a");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::timeout);
    CHECK_MESSAGE(dead_message(r.error().to_string(), "timeout: " + hang.spec() + " is marked dead for ",
                               "no reply before the timeout (op=get, key=a)", 5.0),
                  r.error().to_string());
    auto m = b.get_many(std::vector<std::string>{"a", "b"});
    REQUIRE_FALSE(m);
    CHECK(m.error().kind() == ErrorKind::timeout);
    CHECK(m.error().message().find(" is marked dead for ") != std::string::npos);
  }
  SUBCASE("without ejection: the dead server's keys name it too") {
    const auto port = cktest::free_port();
    const std::string spec = "127.0.0.1:" + std::to_string(port);
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {spec};
    cfg.remove_failed_servers = false;
    cfg.dead_timeout = 30s;
    MemcachedBackend b(cfg);
    CHECK_FALSE(b.get("a"));
    auto r = b.get("a");
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(dead_message(r.error().to_string(), "transient: " + spec + " is marked dead for ",
                               "connect: Connection refused (op=get, key=a)", 30.0),
                  r.error().to_string());
  }
}

TEST_CASE("failover: kill one of three servers mid-run, keys remap, it rejoins" * doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(3);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.retry_attempts = 2;
  cfg.dead_timeout = 1500ms;
  MemcachedBackend b(cfg);

  // Keys owned by server 1 while all are up.
  std::vector<std::string> on1;
  for (int i = 0; on1.size() < 20; ++i) {
    const std::string k = "owned-" + std::to_string(i);
    if (b.server_for(k).value() == 1) on1.push_back(k);
  }

  std::atomic<bool> stop{false};
  std::atomic<long> ops{0}, errors{0}, wrong{0}, slow{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      while (!stop) {
        const std::string key = "run-" + std::to_string(t) + "-" + std::to_string(i % 200);
        const auto t0 = Clock::now();
        if (i % 3 == 0) {
          if (!b.set(key, value_for(key, i))) ++errors;
        } else {
          auto g = b.get(key);
          if (!g) ++errors;
          else if (g->has_value() && !value_ok(key, **g)) ++wrong;
        }
        if (Clock::now() - t0 > call_bound(cfg) + kMargin) ++slow;
        ++ops;
        ++i;
      }
    });
  }
  CHECK(cktest::wait_until([&] { return ops.load() > 2000; }, 20s));
  cluster.kill(1);
  CHECK(cktest::wait_until([&] { return b.server_marked_dead(1); }, 5s));
  const long after_kill = ops.load();
  CHECK(cktest::wait_until([&] { return ops.load() > after_kill + 2000; }, 20s));

  // While server 1 is out, its keys live on the others.
  for (const auto& k : on1) {
    const auto s = b.server_for(k);
    REQUIRE_MESSAGE(s, s.error().to_string());
    CHECK(*s != 1);
    REQUIRE(b.set(k, value_for(k, 1)));
    CHECK(b.get(k)->value() == value_for(k, 1));
  }
  cluster.restart(1);
  // After the dead timeout it is tried again and takes its keys back.
  CHECK(cktest::wait_until([&] {
    (void)b.get("probe");
    const auto s = b.server_for(on1[0]);  // fails while every server is out: not yet
    return !b.server_marked_dead(1) && s && *s == 1;
  }, 10s));
  const long after_restart = ops.load();
  CHECK(cktest::wait_until([&] { return ops.load() > after_restart + 2000; }, 20s));
  stop = true;
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
  CHECK(slow.load() == 0);
  MESSAGE("ops " << ops.load() << ", errors during the failure " << errors.load());
  // The restarted server is empty: its keys are misses, not errors.
  auto g = b.get(on1[0]);
  REQUIRE(g);
  CHECK_FALSE(g->has_value());
  REQUIRE(b.set(on1[0], "back"));
  MemcachedBackendConfig only1 = cktest::backend_config();
  only1.servers = {cluster.spec(1)};
  MemcachedBackend direct(only1);
  CHECK(direct.get(on1[0])->value() == "back");
}

TEST_CASE("failover: without ejection a dead server's keys fail fast and stay put") {
  cktest::MemcachedCluster cluster(2);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.remove_failed_servers = false;
  cfg.dead_timeout = 500ms;
  MemcachedBackend b(cfg);
  std::string k1;
  for (int i = 0; k1.empty(); ++i) {
    const std::string k = "k" + std::to_string(i);
    if (b.server_for(k).value() == 1) k1 = k;
  }
  cluster.kill(1);
  CHECK_FALSE(b.get(k1));
  CHECK(b.server_for(k1).value() == 1);
  const auto t0 = Clock::now();
  auto r = b.get(k1);
  REQUIRE_FALSE(r);
  CHECK(Clock::now() - t0 < 100ms);
  cluster.restart(1);
  CHECK(cktest::wait_until([&] { return b.get(k1).ok(); }, 5s));
}

TEST_CASE("pool: exhaustion gives a timeout error within the timeout" * doctest::test_suite("concurrency")) {
  std::atomic<bool> got_request{false};
  cktest::FakeMemcached hang([&](cktest::FakeConnection& c) {
    cktest::FakeRequest req;
    if (c.read_request(req)) got_request.store(true);
    c.hold();
  });
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {hang.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  cfg.timeout = 400ms;
  cfg.connect_timeout = 400ms;
  cfg.retry_attempts = 0;
  cfg.max_pool_size = 1;
  cfg.server_failure_limit = 100;
  MemcachedBackend b(cfg);
  std::thread holder([&] { (void)b.get("held"); });
  REQUIRE(cktest::wait_until([&] { return got_request.load(); }, 5s));
  const auto t0 = Clock::now();
  auto r = b.get("waiting");
  const auto took = Clock::now() - t0;
  holder.join();
  REQUIRE_FALSE(r);
  // Either the pool wait or (if the holder gave its slot back first) the
  // reply wait ran out; both are timeouts within the call bound.
  CHECK(r.error().kind() == ErrorKind::timeout);
  CHECK(took <= call_bound(cfg) + kMargin);
}

TEST_CASE("pool: acquire waits at most until its deadline, then a timeout error") {
  cachekit::detail::ConnectionPool pool(1);
  auto first = pool.acquire(Clock::now() + 1s);
  REQUIRE(first);
  const auto t0 = Clock::now();
  auto second = pool.acquire(t0 + 200ms);
  const auto took = Clock::now() - t0;
  REQUIRE_FALSE(second);
  CHECK(second.error().kind() == ErrorKind::timeout);
  CHECK(second.error().message().find("pooled connection") != std::string::npos);
  CHECK(took >= 200ms);
  CHECK(took <= 200ms + kMargin);
  // A slot given back wakes a waiter.
  std::thread giver([&] {
    std::this_thread::sleep_for(50ms);
    first->give_back();
  });
  auto third = pool.acquire(Clock::now() + 2s);
  giver.join();
  CHECK(third);
  cachekit::detail::PoolLease spare;
  CHECK_FALSE(pool.try_acquire(spare));
}

TEST_CASE("pool: 32 threads on a pool of 2, every call succeeds or times out, no deadlock" * doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.max_pool_size = 2;
  cfg.timeout = 2000ms;
  MemcachedBackend b(cfg);
  std::atomic<long> ok{0}, timeouts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string k = "p" + std::to_string(t) + "-" + std::to_string(i % 10);
        auto s = b.set(k, k);
        if (s) ++ok;
        else if (s.error().kind() == ErrorKind::timeout) ++timeouts;
        else ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(other.load() == 0);
  CHECK(ok.load() + timeouts.load() == 32 * 200);
  CHECK(b.open_connections(0) <= 2);
}

TEST_CASE("load: 8 threads x 10,000 mixed operations, every value verified" * doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(3);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.timeout = 3000ms;
  MemcachedBackend b(cfg);
  std::atomic<long> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int> version(50, -1);  // what this thread last stored per key (-1: absent)
      auto key_of = [&](int i) { return "mt-" + std::to_string(t) + "-" + std::to_string(i); };
      unsigned rng = 12345u + static_cast<unsigned>(t);
      for (int i = 0; i < 10000; ++i) {
        rng = rng * 1103515245u + 12345u;
        const int k = static_cast<int>((rng >> 8) % 50);
        const std::string key = key_of(k);
        switch ((rng >> 20) % 6) {
          case 0:
          case 1: {
            if (!b.set(key, value_for(key, i))) ++failures;
            else version[static_cast<std::size_t>(k)] = i;
            break;
          }
          case 2: {
            auto r = b.remove(key);
            if (!r || *r != (version[static_cast<std::size_t>(k)] >= 0)) ++failures;
            version[static_cast<std::size_t>(k)] = -1;
            break;
          }
          case 3: {
            std::vector<std::string> ks{key, key_of((k + 1) % 50), key_of((k + 7) % 50)};
            auto r = b.get_many(ks);
            if (!r) { ++failures; break; }
            for (std::size_t j = 0; j < ks.size(); ++j) {
              const int kk = (j == 0 ? k : j == 1 ? (k + 1) % 50 : (k + 7) % 50);
              const int want = version[static_cast<std::size_t>(kk)];
              if (want < 0 ? (*r)[j].has_value() : (!(*r)[j] || *(*r)[j] != value_for(ks[j], want))) ++failures;
            }
            break;
          }
          default: {
            auto r = b.get(key);
            const int want = version[static_cast<std::size_t>(k)];
            if (!r || (want < 0 ? r->has_value() : (!r->has_value() || **r != value_for(key, want)))) ++failures;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("pool: a forked child never uses its parent's connections") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  MemcachedBackend b(cfg);
  REQUIRE(b.set("fork", "parent"));
  REQUIRE(b.open_connections(0) == 1);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: the parent's connection is dropped, a new one is opened.
    bool ok = b.get("fork").ok() && b.get("fork")->value_or("") == "parent" && b.set("fork", "child").ok() &&
              b.open_connections(0) == 1;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The parent's connection still works and is in step.
  CHECK(b.get("fork")->value() == "child");
  CHECK(b.set("fork", "again"));
  CHECK(b.get("fork")->value() == "again");
}
