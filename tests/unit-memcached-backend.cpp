// MemcachedBackend against real memcached servers: every operation, edge
// cases of keys, values and TTLs, placement across servers.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;

namespace {
MemcachedBackendConfig config_for(const cktest::MemcachedCluster& c) {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = c.specs();
  cfg.timeout = 2000ms;
  return cfg;
}
}  // namespace

TEST_CASE("memcached backend: get, set, add, replace, remove, exists") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackend b(config_for(cluster));
  REQUIRE(b.status());

  auto miss = b.get("nothing-here");
  REQUIRE(miss);
  CHECK_FALSE(miss->has_value());

  REQUIRE(b.set("k", "v1"));
  auto hit = b.get("k");
  REQUIRE(hit);
  REQUIRE(hit->has_value());
  CHECK(**hit == "v1");
  REQUIRE(b.set("k", "v2", 100s));
  CHECK(b.get("k")->value() == "v2");

  CHECK(b.add("k", "v3", 0s).value() == false);
  CHECK(b.get("k")->value() == "v2");
  CHECK(b.add("new", "n1", 0s).value() == true);
  CHECK(b.get("new")->value() == "n1");

  CHECK(b.replace("absent", "x").value() == false);
  CHECK_FALSE(b.get("absent")->has_value());
  CHECK(b.replace("k", "v4").value() == true);
  CHECK(b.get("k")->value() == "v4");

  CHECK(b.exists("k").value() == true);
  CHECK(b.exists("absent").value() == false);
  CHECK(b.remove("k").value() == true);
  CHECK(b.remove("k").value() == false);
  CHECK(b.exists("k").value() == false);

  // Empty and binary values round-trip.
  REQUIRE(b.set("empty", ""));
  CHECK(b.get("empty")->value() == "");
  const std::string bin("\0\x01\xff\r\n", 5);
  REQUIRE(b.set("bin", bin));
  CHECK(b.get("bin")->value() == bin);
}

TEST_CASE("memcached backend: append, prepend, incr, decr, flags, cas") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackend b(config_for(cluster));

  CHECK(b.append("a", "x").value() == false);
  REQUIRE(b.set("a", "mid"));
  CHECK(b.append("a", "-end").value() == true);
  CHECK(b.prepend("a", "start-").value() == true);
  CHECK(b.get("a")->value() == "start-mid-end");

  auto none = b.incr("n", 1);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  CHECK(b.incr("n", 5, 10)->value() == 10);  // created with the initial value
  CHECK(b.incr("n", 5, 10)->value() == 15);
  CHECK(b.decr("n", 3)->value() == 12);
  CHECK(b.decr("n", 100)->value() == 0);  // memcached stops at zero
  CHECK(b.get("n")->value().substr(0, 1) == "0");  // memcached may pad a shrunk number with spaces
  CHECK(b.incr("n", 0xffffffffffffffffull)->value() == 0xffffffffffffffffull);
  CHECK(b.incr("n", 1)->value() == 0);  // 64-bit wrap, as memcached does
  REQUIRE(b.set("text", "abc"));
  auto nonnum = b.incr("text", 1);
  REQUIRE_FALSE(nonnum);
  CHECK(nonnum.error().kind() == ErrorKind::permanent);
  CHECK(nonnum.error().operation() == "incr");
  CHECK(nonnum.error().key() == "text");
  CHECK(nonnum.error().server() == cluster.spec(0));
  // Counter with TTL expires.
  CHECK(b.incr("short", 1, 7, 1s)->value() == 7);
  CHECK(cktest::wait_until([&] { return !b.get("short")->has_value(); }, 4s));

  REQUIRE(b.set("f", "v", 0s, 0xcafef00d));
  auto it = b.gets("f");
  REQUIRE(it);
  REQUIRE(it->has_value());
  CHECK((*it)->value == "v");
  CHECK((*it)->flags == 0xcafef00d);
  const auto token = (*it)->cas;
  CHECK(token != 0);
  CHECK(b.cas("f", "w", token).value() == cachekit::CasOutcome::stored);
  CHECK(b.cas("f", "x", token).value() == cachekit::CasOutcome::conflict);
  CHECK(b.get("f")->value() == "w");
  CHECK(b.cas("missing", "x", token).value() == cachekit::CasOutcome::not_found);
  CHECK_FALSE(b.gets("missing")->has_value());
}

TEST_CASE("memcached backend: TTLs expire for real; negative and > 30 days behave") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackend b(config_for(cluster));
  REQUIRE(b.set("short", "v", 1s));
  REQUIRE(b.set("never", "v", -5s));
  REQUIRE(b.set("zero", "v", 0s));
  REQUIRE(b.set("forty-days", "v", std::chrono::hours(24 * 40)));  // clamped, else read as a past Unix time
  CHECK(b.get("short")->has_value());
  CHECK(cktest::wait_until([&] { return !b.get("short")->has_value(); }, 4s));
  CHECK(b.get("never")->has_value());
  CHECK(b.get("zero")->has_value());
  CHECK(b.get("forty-days")->has_value());

  REQUIRE(b.set("t", "v", 0s));
  CHECK(b.touch("t", 1s).value() == true);
  CHECK(b.touch("absent", 1s).value() == false);
  CHECK(cktest::wait_until([&] { return !b.get("t")->has_value(); }, 4s));

  REQUIRE(b.set("g", "gv", 0s));
  auto gat = b.get_and_touch("g", 1s);
  REQUIRE(gat);
  CHECK(gat->value() == "gv");
  CHECK_FALSE(b.get_and_touch("absent", 1s)->has_value());
  CHECK(cktest::wait_until([&] { return !b.get("g")->has_value(); }, 4s));
}

TEST_CASE("memcached backend: key rules are enforced before anything is sent") {
  cktest::MemcachedCluster cluster(1);
  auto cfg = config_for(cluster);
  cfg.key_prefix = "app:";
  MemcachedBackend b(cfg);
  const std::string k246(246, 'k');  // 4 + 246 = 250 bytes
  const std::string k247(247, 'k');
  for (const std::string& bad : {std::string(), k247, std::string("a b"), std::string("a\r\nb"), std::string("a\nb"),
                                 std::string("a\0b", 3), std::string("a\tb"), std::string("a\x7f"),
                                 std::string("a\x01")}) {
    CAPTURE(bad.size());
    auto s = b.set(bad, "v");
    REQUIRE_FALSE(s);
    CHECK(s.error().kind() == ErrorKind::permanent);
    CHECK(s.error().operation() == "set");
    CHECK_FALSE(b.get(bad));
    CHECK_FALSE(b.remove(bad));
    CHECK_FALSE(b.touch(bad, 1s));
    CHECK_FALSE(b.incr(bad, 1));
    CHECK_FALSE(b.get_many(std::vector<std::string>{"ok", bad}));
  }
  CHECK(b.open_connections(0) == 0);  // nothing was sent, no connection opened

  REQUIRE(b.set(k246, "edge"));
  CHECK(b.get(k246)->value() == "edge");
  // The prefix is really on the server: a backend without it sees the full key.
  MemcachedBackend raw(config_for(cluster));
  CHECK(raw.get("app:" + k246)->value() == "edge");
  // UTF-8 keys are fine.
  REQUIRE(b.set("caf\xc3\xa9", "v"));
  CHECK(b.get("caf\xc3\xa9")->value() == "v");
}

TEST_CASE("memcached backend: 1 MiB values and the client-side size limit") {
  cktest::MemcachedCluster cluster(1, {"-I", "2m"});
  auto cfg = config_for(cluster);
  cfg.max_item_size_bytes = 2 * 1048576;  // as the server's -I
  MemcachedBackend b(cfg);
  std::string mib(1048576, 'x');
  for (std::size_t i = 0; i < mib.size(); i += 997) mib[i] = static_cast<char>('a' + i % 26);
  REQUIRE(b.set("big", mib));
  CHECK(b.get("big")->value() == mib);
  auto many = b.get_many(std::vector<std::string>{"big", "none", "big"});
  REQUIRE(many);
  CHECK((*many)[0].value() == mib);
  CHECK_FALSE((*many)[1].has_value());
  CHECK((*many)[2].value() == mib);

  const std::string over(2 * 1048576, 'y');
  auto s = b.set("over", over);
  REQUIRE_FALSE(s);
  CHECK(s.error().kind() == ErrorKind::permanent);
  CHECK(s.error().message().find("max_item_size_bytes") != std::string::npos);
  CHECK_FALSE(b.get("over")->has_value());

  // A server "too large" reply is permanent too.
  cktest::MemcachedCluster small(1);  // default -I 1m: a 1 MiB value does not fit with its header
  MemcachedBackend sb(config_for(small));
  auto tl = sb.set("big", mib);
  REQUIRE_FALSE(tl);
  CHECK(tl.error().kind() == ErrorKind::permanent);
  CHECK(sb.get("k").value() == std::nullopt);  // the connection is still usable
  cfg.max_item_size_bytes = 0;  // check disabled: the server decides
  cfg.servers = small.specs();
  MemcachedBackend nolimit(cfg);
  auto tl2 = nolimit.set("over", over);
  REQUIRE_FALSE(tl2);
  CHECK(tl2.error().message().find("too large") != std::string::npos);
}

TEST_CASE("memcached backend: keys are placed on the server the ring names") {
  cktest::MemcachedCluster cluster(3);
  MemcachedBackend b(config_for(cluster));
  std::vector<std::unique_ptr<MemcachedBackend>> direct;
  for (std::size_t i = 0; i < 3; ++i) {
    MemcachedBackendConfig one = cktest::backend_config();
    one.servers = {cluster.spec(i)};
    direct.push_back(std::make_unique<MemcachedBackend>(one));
  }
  std::vector<int> per_server(3, 0);
  for (int i = 0; i < 300; ++i) {
    const std::string key = "placed-" + std::to_string(i);
    REQUIRE(b.set(key, "v" + std::to_string(i)));
    const std::size_t s = b.server_for(key).value();
    ++per_server[s];
    for (std::size_t j = 0; j < 3; ++j) {
      CHECK(direct[j]->get(key)->has_value() == (j == s));
    }
  }
  for (int n : per_server) CHECK(n > 30);
}

TEST_CASE("memcached backend: get_many and set_many across servers") {
  cktest::MemcachedCluster cluster(3);
  auto cfg = config_for(cluster);
  cfg.key_prefix = "gm:";
  MemcachedBackend b(cfg);

  CHECK(b.get_many(std::vector<std::string>{})->empty());

  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 1000; ++i) items.emplace_back("key-" + std::to_string(i), std::string(static_cast<std::size_t>(i % 300), 'a' + static_cast<char>(i % 26)) + std::to_string(i));
  auto failed = b.set_many(items, 300s);
  REQUIRE(failed);
  CHECK(failed->empty());

  std::vector<std::string> keys;
  for (int i = 0; i < 1200; ++i) keys.push_back("key-" + std::to_string(i % 1100));
  keys.push_back("key-5");  // duplicate
  auto got = b.get_many(keys);
  REQUIRE(got);
  REQUIRE(got->size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const int n = std::stoi(keys[i].substr(4));
    if (n < 1000) {
      REQUIRE((*got)[i].has_value());
      CHECK(*(*got)[i] == items[static_cast<std::size_t>(n)].second);
    } else {
      CHECK_FALSE((*got)[i].has_value());
    }
  }
  // Values agree with single gets.
  CHECK(b.get("key-999")->value() == items[999].second);

  // Large batches split over several pooled connections per server.
  auto split_cfg = cfg;
  split_cfg.pipeline_chunk_keys = 16;
  split_cfg.max_pool_size = 4;
  MemcachedBackend split(split_cfg);
  auto got2 = split.get_many(keys);
  REQUIRE(got2);
  CHECK(*got2 == *got);
  CHECK(split.open_connections(0) > 1);
  auto f_split = split.set_many(items, 300s);
  REQUIRE(f_split);
  CHECK(f_split->empty());

  // Per-key failures are reported; the other keys are stored.
  std::map<std::string, std::string> mixed{{"good-1", "a"}, {"bad key", "b"}, {"good-2", "c"},
                                           {"huge", std::string(2 * 1048576, 'z')}};
  auto f2 = b.set_many(mixed);
  REQUIRE(f2);
  REQUIRE(f2->size() == 2);
  CHECK((*f2)[0].index == 0);  // "bad key" sorts first
  CHECK((*f2)[0].error.kind() == ErrorKind::permanent);
  CHECK((*f2)[1].index == 3);  // "huge"
  CHECK(b.get("good-1")->value() == "a");
  CHECK(b.get("good-2")->value() == "c");

  // A server-side failure for one key of a pipeline (too large for the server).
  auto cfg2 = config_for(cluster);
  cfg2.max_item_size_bytes = 0;
  MemcachedBackend nolimit(cfg2);
  std::vector<std::pair<std::string, std::string>> srv{{"s1", "x"}, {"s2", std::string(2 * 1048576, 'z')}, {"s3", "y"}};
  auto f3 = nolimit.set_many(srv);
  REQUIRE(f3);
  REQUIRE(f3->size() == 1);
  CHECK((*f3)[0].index == 1);
  CHECK((*f3)[0].error.kind() == ErrorKind::permanent);
  CHECK(nolimit.get("s3")->value() == "y");
}

TEST_CASE("memcached backend: flush_all, version, stats, health_check") {
  cktest::MemcachedCluster cluster(2);
  MemcachedBackend b(config_for(cluster));
  REQUIRE(b.set("a", "1"));
  REQUIRE(b.set("b", "2"));
  REQUIRE(b.flush_all());
  CHECK_FALSE(b.get("a")->has_value());
  CHECK_FALSE(b.get("b")->has_value());

  auto versions = b.version();
  REQUIRE(versions.size() == 2);
  for (const auto& v : versions) {
    CHECK(v.ok);
    CHECK(v.version.find('.') != std::string::npos);
  }
  auto stats = b.stats();
  REQUIRE(stats.size() == 2);
  for (const auto& s : stats) {
    CHECK(s.ok);
    bool has_pid = false;
    for (const auto& kv : s.stats) has_pid = has_pid || kv.first == "pid";
    CHECK(has_pid);
  }
  CHECK(b.stats("settings")[0].ok);

  cluster.kill(1);
  auto health = b.health_check();
  REQUIRE(health.size() == 2);
  CHECK(health[0].up);
  CHECK(health[0].server == cluster.spec(0));
  CHECK(health[0].version == versions[0].version);
  CHECK(health[0].latency.count() >= 0);
  CHECK_FALSE(health[1].up);
  CHECK(health[1].error.kind() == ErrorKind::transient);
  CHECK(health[1].error.server() == cluster.spec(1));
}

TEST_CASE("memcached backend: an invalid configuration fails every call with its error") {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {"127.0.0.1:0"};
  MemcachedBackend b(cfg);
  REQUIRE_FALSE(b.status());
  auto r = b.get("k");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::permanent);
  CHECK(r.error().message().find("servers") != std::string::npos);
  CHECK_FALSE(b.set("k", "v"));
  CHECK_FALSE(b.get_many(std::vector<std::string>{"k"}));
}

TEST_CASE("memcached backend: usable through the Backend interface") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackend mb(config_for(cluster));
  cachekit::Backend& b = mb;
  REQUIRE(b.set("i", "v", 0s));
  CHECK(b.get("i")->value() == "v");
  CHECK(b.add("i", "w", 0s).value() == false);
  CHECK(b.exists("i").value());
  CHECK(b.touch("i", 10s).value());
  CHECK(b.remove("i").value());
}
