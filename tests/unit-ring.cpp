// Ring: server specs, building, and the four distributions' invariants.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <random>
#include <string>
#include <vector>

using cachekit::Distribution;
using cachekit::ErrorKind;
using cachekit::Ring;
using cachekit::ServerSpec;

namespace {

std::vector<ServerSpec> specs(std::initializer_list<const char*> texts) {
  std::vector<ServerSpec> out;
  for (const char* t : texts) {
    auto s = ServerSpec::parse(t);
    REQUIRE_MESSAGE(s, t);
    out.push_back(s.value());
  }
  return out;
}

std::string random_key(std::mt19937& rng, bool high_bytes) {
  std::uniform_int_distribution<int> len(1, 60);
  std::uniform_int_distribution<int> byte(high_bytes ? 0 : 33, high_bytes ? 255 : 126);
  std::string k(static_cast<std::size_t>(len(rng)), 'x');
  for (auto& c : k) c = static_cast<char>(byte(rng));
  return k;
}

}  // namespace

TEST_CASE("ring: ServerSpec::parse accepts every documented form") {
  auto a = ServerSpec::parse("cache1");
  REQUIRE(a);
  CHECK(a->host == "cache1");
  CHECK(a->port == 11211);
  CHECK(a->weight == 1);

  auto b = ServerSpec::parse("10.0.0.1:11311");
  REQUIRE(b);
  CHECK(b->host == "10.0.0.1");
  CHECK(b->port == 11311);

  auto c = ServerSpec::parse("mc.example.com:11211:3");
  REQUIRE(c);
  CHECK(c->host == "mc.example.com");
  CHECK(c->weight == 3);

  auto d = ServerSpec::parse("[::1]:11212");
  REQUIRE(d);
  CHECK(d->host == "::1");
  CHECK(d->port == 11212);
  CHECK(d->to_string() == "[::1]:11212");

  auto e = ServerSpec::parse("[fe80::1%eth0]");
  REQUIRE(e);
  CHECK(e->host == "fe80::1%eth0");
  CHECK(e->port == 11211);

  auto f = ServerSpec::parse("[2001:db8::2]:11213:7");
  REQUIRE(f);
  CHECK(f->weight == 7);

  auto g = ServerSpec::parse("/var/run/memcached.sock");
  REQUIRE(g);
  CHECK(g->host == "/var/run/memcached.sock");
  CHECK(g->port == 0);
  CHECK(g->is_unix_socket());
  CHECK(g->to_string() == "/var/run/memcached.sock");

  auto h = ServerSpec::parse("unix:/tmp/mc.sock");
  REQUIRE(h);
  CHECK(h->host == "/tmp/mc.sock");

  auto i = ServerSpec::parse("  host:65535:4294967295 ");
  REQUIRE(i);
  CHECK(i->port == 65535);
  CHECK(i->weight == 4294967295u);
}

TEST_CASE("ring: ServerSpec::parse rejects bad specs with a clear permanent error") {
  struct Bad {
    const char* spec;
    const char* says;
  };
  const Bad bad[] = {
      {"", "empty server spec"},
      {"   ", "empty server spec"},
      {":11211", "empty host"},
      {"host:0", "port 0 is out of range 1..65535"},
      {"host:65536", "port 65536 is out of range 1..65535"},
      {"host:99999999999999999999999", "out of range 1..65535"},
      {"host:", "empty port"},
      {"host:-1", "is not a number"},
      {"host:+5", "is not a number"},
      {"host:11211:0", "weight 0 is out of range"},
      {"host:11211:4294967296", "out of range 1..4294967295"},
      {"host:11211:", "empty weight"},
      {"host:11211:2:junk", "too many ':'"},
      {"host:11211x", "is not a number"},
      {"host:11211:2x", "is not a number"},
      {"ho st:11211", "whitespace"},
      {"host,other", "invalid character ','"},
      {"::1", "write IPv6 addresses as [addr]:port"},
      {"[::1", "missing ']'"},
      {"[::1]x", "unexpected 'x' after ']'"},
      {"[]:11211", "'[...]' must hold an IPv6 address"},
      {"[host]:11211", "'[...]' must hold an IPv6 address"},
      {"[::1]:0", "port 0"},
      {"[::g]:1", "invalid character 'g' in IPv6 address"},
  };
  for (const auto& b : bad) {
    auto r = ServerSpec::parse(b.spec);
    REQUIRE_MESSAGE(!r, b.spec);
    CHECK(r.error().kind() == ErrorKind::permanent);
    INFO(b.spec, " -> ", r.error().message());
    CHECK(r.error().message().find(b.says) != std::string::npos);
    CHECK(r.error().message().find("invalid server spec") == 0);
  }
  std::string long_path = "/" + std::string(200, 'p');
  CHECK(!ServerSpec::parse(long_path));
}

TEST_CASE("ring: build rejects empty lists, invalid specs and duplicates") {
  auto empty = Ring::build({});
  REQUIRE(!empty);
  CHECK(empty.error().kind() == ErrorKind::permanent);
  CHECK(empty.error().message().find("empty server list") != std::string::npos);

  auto dup = Ring::build(specs({"a:1", "b:1", "A:1"}));
  REQUIRE(!dup);
  CHECK(dup.error().message().find("listed twice") != std::string::npos);
  CHECK(dup.error().message().find("A:1") != std::string::npos);

  CHECK(Ring::build(specs({"a:1", "a:2"})));  // same host, other port: fine

  std::vector<ServerSpec> weight0 = specs({"a", "b"});
  weight0[1].weight = 0;
  auto w = Ring::build(weight0);
  REQUIRE(!w);
  CHECK(w.error().message().find("weight 0") != std::string::npos);

  std::vector<ServerSpec> port0 = specs({"a"});
  port0[0].port = 0;
  auto p = Ring::build(port0);
  REQUIRE(!p);
  CHECK(p.error().message().find("port 0") != std::string::npos);

  std::vector<ServerSpec> nohost(1);
  nohost[0].host = "";
  auto h = Ring::build(nohost);
  REQUIRE(!h);
  CHECK(h.error().message().find("empty host") != std::string::npos);

  std::vector<ServerSpec> unix_with_port(1);
  unix_with_port[0].host = "/tmp/x.sock";
  CHECK(!Ring::build(unix_with_port));

  for (auto d : {Distribution::ketama, Distribution::libketama, Distribution::modula, Distribution::rendezvous}) {
    CHECK(!Ring::build({}, d));
    CHECK(!Ring::build(specs({"a", "a:11211"}), d));
  }
}

TEST_CASE("ring: ketama point counts follow libmemcached's float32 formula") {
  // With 25, 47, 50 or 100 equal servers each gets 156 points in float32,
  // not 160 (computed with float32 emulation in Python).
  for (std::size_t n : {1u, 2u, 3u, 7u, 10u, 25u, 47u, 50u, 99u, 100u}) {
    std::vector<ServerSpec> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back({"10.0.0." + std::to_string(i + 1), 11211, 1});
    auto r = Ring::build(v);
    REQUIRE(r);
    const std::size_t expect = (n == 25 || n == 47 || n == 50 || n == 100) ? 156 : 160;
    for (const auto& s : r->describe()) CHECK(s.points == expect);
  }
  // Weighted: pct * 40 * n rounded down, times 4.
  auto r = Ring::build(specs({"a:11211:1", "b:11211:2", "c:11211:5"}));
  REQUIRE(r);
  auto d = r->describe();
  CHECK(d[0].points == 4 * 15);   // 1/8 * 120 = 15
  CHECK(d[1].points == 4 * 30);   // 2/8 * 120 = 30
  CHECK(d[2].points == 4 * 75);   // 5/8 * 120 = 75
  double total = 0;
  for (const auto& s : d) total += s.share;
  CHECK(total == doctest::Approx(1.0));
}

TEST_CASE("ring: libketama digest counts (hand-checked)") {
  // pct = w/total as float, * 40.0 * n in double, floorf of the float.
  auto r = Ring::build(specs({"10.0.1.1:11211:1", "10.0.1.2:11211:2", "10.0.1.3:11211:3"}), Distribution::libketama);
  REQUIRE(r);
  auto d = r->describe();
  CHECK(d[0].points == 4 * 20);
  CHECK(d[1].points == 4 * 40);
  CHECK(d[2].points == 4 * 60);
  // 7 equal servers: float(1/7) * 280 in double is 40.0000006; 40 digests each.
  std::vector<ServerSpec> seven;
  for (int i = 0; i < 7; ++i) seven.push_back({"10.0.2." + std::to_string(i + 1), 11211, 1});
  auto r7 = Ring::build(seven, Distribution::libketama);
  REQUIRE(r7);
  for (const auto& s : r7->describe()) CHECK(s.points == 160);
}

TEST_CASE("ring: a single server takes every key; results stay in range") {
  for (auto d : {Distribution::ketama, Distribution::libketama, Distribution::modula, Distribution::rendezvous}) {
    auto one = Ring::build(specs({"only:11211"}), d);
    REQUIRE(one);
    CHECK(one->server_for("anything") == 0);
    CHECK(one->server_for("") == 0);
    auto many = Ring::build(specs({"a", "b:11212", "c:11213:3", "[::1]:11214", "/tmp/mc.sock"}), d);
    REQUIRE(many);
    std::mt19937 rng(7);
    std::vector<int> hits(5, 0);
    for (int i = 0; i < 5000; ++i) {
      const std::size_t s = many->server_for(random_key(rng, i % 2 == 0));
      REQUIRE(s < 5);
      ++hits[s];
    }
    for (int h : hits) CHECK(h > 0);
  }
  Ring empty;
  CHECK(empty.server_for("k") == 0);
  CHECK(empty.servers().empty());
}

TEST_CASE("ring: batch server_for equals the single-key form on every MD5 path") {
  using cachekit::detail::Md5Path;
  std::mt19937 rng(11);
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(random_key(rng, i % 3 == 0));
  for (std::size_t len : {0u, 1u, 54u, 55u, 56u, 63u, 64u, 119u, 120u, 250u, 311u, 312u, 1000u}) {
    keys.push_back(std::string(len, 'k'));
  }
  std::vector<std::string_view> views(keys.begin(), keys.end());
  for (auto d : {Distribution::ketama, Distribution::libketama, Distribution::modula, Distribution::rendezvous}) {
    std::vector<ServerSpec> v;
    for (int i = 0; i < 37; ++i) v.push_back({"host" + std::to_string(i), static_cast<std::uint16_t>(11211 + i % 3),
                                              static_cast<std::uint32_t>(1 + i % 4)});
    auto r = Ring::build(v, d);
    REQUIRE(r);
    std::vector<std::size_t> single(views.size());
    for (std::size_t i = 0; i < views.size(); ++i) single[i] = r->server_for(views[i]);
    for (auto path : {Md5Path::automatic, Md5Path::scalar, Md5Path::avx2, Md5Path::avx512}) {
      if (!cachekit::detail::md5_path_supported(path)) {
        MESSAGE("MD5 path not supported on this CPU: ", static_cast<int>(path));
        continue;
      }
      std::vector<std::size_t> batch(views.size(), 999);
      r->server_for_with(views.data(), views.size(), batch.data(), path);
      CHECK(batch == single);
    }
    std::vector<std::size_t> batch(views.size(), 999);
    r->server_for(views.data(), views.size(), batch.data());
    CHECK(batch == single);
  }
}

TEST_CASE("ring: modula sign-extends bytes >= 0x80 like libhashkit") {
  // one_at_a_time("\x80"): the byte is added as 0xffffff80.
  std::uint32_t h = 0xffffff80u;
  h += h << 10;
  h ^= h >> 6;
  h += h << 3;
  h ^= h >> 11;
  h += h << 15;
  CHECK(cachekit::detail::one_at_a_time("\x80") == h);
}

TEST_CASE("ring: parse_distribution") {
  CHECK(cachekit::parse_distribution("ketama").value() == Distribution::ketama);
  CHECK(cachekit::parse_distribution("libketama").value() == Distribution::libketama);
  CHECK(cachekit::parse_distribution("modula").value() == Distribution::modula);
  CHECK(cachekit::parse_distribution("rendezvous").value() == Distribution::rendezvous);
  auto bad = cachekit::parse_distribution("consistent");
  REQUIRE(!bad);
  CHECK(bad.error().message().find("unknown distribution 'consistent'") != std::string::npos);
}

TEST_CASE("ring: rendezvous ties go to the larger host:port, in any order") {
  // Found by search with pymemcache: both score 3996118570 for "user:42", and
  // pymemcache's RendezvousHash picks "10.2.13.243:11211" whatever the order.
  CHECK(cachekit::hash::murmur3_32("10.0.53.93:11211-user:42") == 3996118570u);
  CHECK(cachekit::hash::murmur3_32("10.2.13.243:11211-user:42") == 3996118570u);
  auto ab = Ring::build(specs({"10.0.53.93", "10.2.13.243"}), Distribution::rendezvous);
  auto ba = Ring::build(specs({"10.2.13.243", "10.0.53.93"}), Distribution::rendezvous);
  REQUIRE(ab);
  REQUIRE(ba);
  CHECK(ab->servers()[ab->server_for("user:42")].host == "10.2.13.243");
  CHECK(ba->servers()[ba->server_for("user:42")].host == "10.2.13.243");
}
