// The text protocol through a real twemproxy (nutcracker) in front of two
// memcached servers: every operation twemproxy supports works; the ones it
// does not (flush_all, stats, gat) fail with an error in time, never hang;
// binary and meta fail in time with an error that suggests text.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/call_bound.hpp"
#include "support/fake_memcached.hpp"
#include "support/memcached_process.hpp"
#include "support/nutcracker_process.hpp"

using namespace std::chrono_literals;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cachekit::Protocol;

namespace {

using ProxyClock = std::chrono::steady_clock;
// Scheduling slack on a loaded 2-core machine (sanitizer builds included).
constexpr auto kProxyMargin = 500ms;

// Two memcached servers behind one nutcracker pool (ketama, md5, weight 1).
struct ProxyPair {
  cktest::MemcachedCluster cluster{2};
  std::uint16_t port = cktest::free_port();
  std::vector<cachekit::ServerSpec> specs;
  std::optional<cachekit::Ring> ring;
  std::optional<cktest::NutcrackerProcess> proxy;

  ProxyPair() {
    std::string yaml = "cache:\n  listen: 127.0.0.1:" + std::to_string(port) +
                       "\n  hash: md5\n  distribution: ketama\n  auto_eject_hosts: false\n  timeout: 2000\n"
                       "  servers:\n";
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      yaml += "   - 127.0.0.1:" + std::to_string(cluster.port(i)) + ":1\n";
      specs.push_back(cachekit::ServerSpec{"127.0.0.1", cluster.port(i), 1});
    }
    auto built = cachekit::Ring::build(specs, cachekit::Distribution::ketama, cachekit::KeyHash::md5);
    REQUIRE(built);
    ring.emplace(std::move(*built));
    proxy.emplace(yaml, std::vector<std::uint16_t>{port});
  }
  std::string spec() const { return "127.0.0.1:" + std::to_string(port); }

  // Index of the memcached twemproxy sends key to (cachekit's ring matches
  // twemproxy's placement: peer-nutcracker.cpp).
  std::size_t holder_of(const std::string& key) const {
    const std::uint16_t port_of_holder = ring->servers()[ring->server_for(key)].port;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      if (cluster.port(i) == port_of_holder) return i;
    }
    FAIL("the ring names a server that is not in the cluster");
    return 0;
  }
};

std::string proxy_value(std::size_t i) { return "proxy-value-" + std::to_string(i) + std::string(i % 37, 'v'); }

// Writes keys with the text protocol straight to the memcached that holds
// each; returns how many went to each server.
std::vector<std::size_t> write_behind_proxy(const ProxyPair& pair, const std::vector<std::string>& keys) {
  std::vector<std::string> requests(pair.cluster.size());
  std::vector<std::size_t> counts(pair.cluster.size(), 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::size_t s = pair.holder_of(keys[i]);
    const std::string v = proxy_value(i);
    requests[s] += "set " + keys[i] + " 0 0 " + std::to_string(v.size()) + "\r\n" + v + "\r\n";
    ++counts[s];
  }
  for (std::size_t s = 0; s < requests.size(); ++s) {
    std::string want;
    for (std::size_t n = 0; n < counts[s]; ++n) want += "STORED\r\n";
    REQUIRE(cktest::exchange_bytes(pair.cluster.port(s), requests[s], want.size()) == want);
  }
  return counts;
}

std::vector<std::string> proxy_keys(std::size_t n) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back("proxy-key-" + std::to_string(i));
  return keys;
}

MemcachedBackendConfig proxy_config(const ProxyPair& pair, Protocol protocol) {
  MemcachedBackendConfig cfg;
  cfg.servers = {pair.spec()};
  cfg.protocol = protocol;
  cfg.timeout = 1000ms;
  cfg.connect_timeout = 1000ms;
  cfg.retry_attempts = 1;
  cfg.server_failure_limit = 100;  // a refused command is not a dead proxy
  return cfg;
}

}  // namespace

TEST_CASE("twemproxy (harness): two memcached behind nutcracker, keys written behind it read through it") {
  ProxyPair pair;
  const auto keys = proxy_keys(40);
  const auto counts = write_behind_proxy(pair, keys);
  CHECK(counts[0] > 0);
  CHECK(counts[1] > 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string v = proxy_value(i);
    const std::string want = "VALUE " + keys[i] + " 0 " + std::to_string(v.size()) + "\r\n" + v + "\r\nEND\r\n";
    CHECK(cktest::exchange_bytes(pair.port, "get " + keys[i] + "\r\n", want.size()) == want);
  }
}

TEST_CASE("twemproxy: protocol text through nutcracker, every operation twemproxy supports") {
  ProxyPair pair;
  const auto cfg = proxy_config(pair, Protocol::text);
  MemcachedBackend backend(cfg);
  REQUIRE(backend.status());

  // get, set (with flags), gets
  auto miss = backend.get("tp-absent");
  REQUIRE_MESSAGE(miss, miss.error().to_string());
  CHECK_FALSE(miss->has_value());
  REQUIRE(backend.set("tp-a", "alpha", 0s, 7));
  auto a = backend.get("tp-a");
  REQUIRE(a);
  CHECK((a->has_value() && **a == "alpha"));
  auto item = backend.gets("tp-a");
  REQUIRE_MESSAGE(item, item.error().to_string());
  REQUIRE(item->has_value());
  CHECK((*item)->value == "alpha");
  CHECK((*item)->flags == 7);

  // add, replace
  auto added = backend.add("tp-b", "beta", 0s);
  REQUIRE(added);
  CHECK(*added);
  auto again = backend.add("tp-b", "beta2", 0s);
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto replaced = backend.replace("tp-b", "beta3");
  REQUIRE(replaced);
  CHECK(*replaced);
  auto not_there = backend.replace("tp-absent", "x");
  REQUIRE(not_there);
  CHECK_FALSE(*not_there);
  CHECK(backend.get("tp-b")->value_or("") == "beta3");

  // gets + cas
  auto before = backend.gets("tp-b");
  REQUIRE(before);
  REQUIRE(before->has_value());
  auto swapped = backend.cas("tp-b", "beta4", (*before)->cas);
  REQUIRE_MESSAGE(swapped, swapped.error().to_string());
  CHECK(*swapped == cachekit::CasOutcome::stored);
  auto stale = backend.cas("tp-b", "beta5", (*before)->cas);
  REQUIRE(stale);
  CHECK(*stale == cachekit::CasOutcome::conflict);
  auto gone = backend.cas("tp-absent", "x", 12345);
  REQUIRE(gone);
  CHECK(*gone == cachekit::CasOutcome::not_found);
  CHECK(backend.get("tp-b")->value_or("") == "beta4");

  // remove
  auto removed = backend.remove("tp-b");
  REQUIRE(removed);
  CHECK(*removed);
  auto removed_again = backend.remove("tp-b");
  REQUIRE(removed_again);
  CHECK_FALSE(*removed_again);

  // incr / decr, with and without an initial value
  REQUIRE(backend.set("tp-n", "10"));
  auto up = backend.incr("tp-n", 5);
  REQUIRE_MESSAGE(up, up.error().to_string());
  CHECK(*up == std::optional<std::uint64_t>(15));
  auto down = backend.decr("tp-n", 3);
  REQUIRE(down);
  CHECK(*down == std::optional<std::uint64_t>(12));
  auto no_initial = backend.incr("tp-n-absent", 1);
  REQUIRE(no_initial);
  CHECK_FALSE(no_initial->has_value());
  auto created = backend.incr("tp-n-new", 4, 100);
  REQUIRE_MESSAGE(created, created.error().to_string());
  CHECK(*created == std::optional<std::uint64_t>(100));
  auto bumped = backend.incr("tp-n-new", 4, 100);
  REQUIRE(bumped);
  CHECK(*bumped == std::optional<std::uint64_t>(104));
  auto created_down = backend.decr("tp-n-down", 1, 7);
  REQUIRE(created_down);
  CHECK(*created_down == std::optional<std::uint64_t>(7));

  // touch
  auto touched = backend.touch("tp-a", 60s);
  REQUIRE_MESSAGE(touched, touched.error().to_string());
  CHECK(*touched);
  auto untouched = backend.touch("tp-absent", 60s);
  REQUIRE(untouched);
  CHECK_FALSE(*untouched);

  // set_many, read back with get_many (keys on both servers)
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> item_keys;
  std::vector<std::size_t> per_server(pair.cluster.size(), 0);
  for (int i = 0; i < 50; ++i) {
    items.emplace_back("tp-many-" + std::to_string(i), "many-" + std::to_string(i));
    item_keys.push_back(items.back().first);
    ++per_server[pair.holder_of(items.back().first)];
  }
  CHECK(per_server[0] > 0);
  CHECK(per_server[1] > 0);
  auto failed = backend.set_many(items);
  REQUIRE_MESSAGE(failed, failed.error().to_string());
  CHECK(failed->empty());
  auto read = backend.get_many(item_keys);
  REQUIRE_MESSAGE(read, read.error().to_string());
  REQUIRE(read->size() == items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    CAPTURE(items[i].first);
    CHECK(((*read)[i] && *(*read)[i] == items[i].second));
  }
}

TEST_CASE("twemproxy: get_many of 200 keys written behind the proxy reads them all through it") {
  ProxyPair pair;
  auto keys = proxy_keys(200);
  const auto counts = write_behind_proxy(pair, keys);
  CHECK(counts[0] > 0);
  CHECK(counts[1] > 0);
  keys.push_back("proxy-key-absent");
  MemcachedBackend backend(proxy_config(pair, Protocol::text));
  auto got = backend.get_many(keys);
  REQUIRE_MESSAGE(got, got.error().to_string());
  REQUIRE(got->size() == keys.size());
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    CAPTURE(keys[i]);
    REQUIRE((*got)[i].has_value());
    CHECK(*(*got)[i] == proxy_value(i));
  }
  CHECK_FALSE(got->back().has_value());
}

TEST_CASE("twemproxy: flush_all, stats and get_and_touch fail with an error in time, and the next call works") {
  ProxyPair pair;
  const auto cfg = proxy_config(pair, Protocol::text);
  const auto bound = cktest::call_bound(cfg) + kProxyMargin;
  MemcachedBackend backend(cfg);
  REQUIRE(backend.set("tp-keep", "kept"));
  auto still_works = [&] {
    auto r = backend.get("tp-keep");
    REQUIRE_MESSAGE(r, r.error().to_string());
    CHECK((r->has_value() && **r == "kept"));
  };

  auto t0 = ProxyClock::now();
  auto flushed = backend.flush_all();
  CHECK(ProxyClock::now() - t0 <= bound);
  REQUIRE_FALSE(flushed);
  CHECK_FALSE(flushed.error().message().empty());
  still_works();

  t0 = ProxyClock::now();
  auto stats = backend.stats();
  CHECK(ProxyClock::now() - t0 <= bound);
  REQUIRE(stats.size() == 1);
  CHECK_FALSE(stats[0].ok);
  CHECK_FALSE(stats[0].error.message().empty());
  still_works();

  t0 = ProxyClock::now();
  auto gat = backend.get_and_touch("tp-keep", 60s);
  CHECK(ProxyClock::now() - t0 <= bound);
  REQUIRE_FALSE(gat);
  CHECK_FALSE(gat.error().message().empty());
  // The proxy closed the connection after the gat was sent: a write (of
  // the TTL) without a definite answer, so the key is deleted before the
  // proxy is used again, and the next call works and misses.
  auto after = backend.get("tp-keep");
  REQUIRE_MESSAGE(after, after.error().to_string());
  CHECK_FALSE(after->has_value());
  REQUIRE(backend.set("tp-keep", "kept"));
  still_works();
}

TEST_CASE("twemproxy: binary and meta fail in time with an error that suggests text") {
  ProxyPair pair;
  for (Protocol protocol : {Protocol::binary, Protocol::meta}) {
    const std::string name = cachekit::to_string(protocol);
    CAPTURE(name);
    const auto cfg = proxy_config(pair, protocol);
    MemcachedBackend backend(cfg);
    const auto t0 = ProxyClock::now();
    auto r = backend.get("tp-k");
    CHECK(ProxyClock::now() - t0 <= cktest::call_bound(cfg) + kProxyMargin);
    REQUIRE_FALSE(r);
    const std::string message = r.error().to_string();
    CAPTURE(message);
    CHECK(message.find("text") != std::string::npos);
  }
}
