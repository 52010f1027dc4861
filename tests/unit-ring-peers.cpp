// Ring: the spymemcached, uhashring and Dalli distributions and named
// servers (placement itself is checked live against each client in
// tests/peer-ring-clients.cpp).
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include <cstdlib>
#include <string>
#include <vector>

using cachekit::Distribution;
using cachekit::Ring;
using cachekit::ServerSpec;

namespace {

std::vector<ServerSpec> equal_ipv4(std::size_t n) {
  std::vector<ServerSpec> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back({"10.9." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250), 11211, 1});
  }
  return v;
}

std::string hex(const std::uint8_t* p, std::size_t n) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("ring: SHA-1 and CRC-32 match the published test vectors") {
  using cachekit::hash::sha1;
  CHECK(hex(sha1("").data(), 20) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(hex(sha1("abc").data(), 20) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").data(), 20) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(hex(sha1(std::string(1000, 'a')).data(), 20) == "291e9a6c66994949b57ba5e650361e98fc36b1ba");
  CHECK(cachekit::hash::sha1_be32("abc") == 0xa9993e36u);
  CHECK(cachekit::hash::crc32("") == 0u);
  CHECK(cachekit::hash::crc32("123456789") == 0xcbf43926u);
  CHECK(cachekit::hash::crc32("The quick brown fox jumps over the lazy dog") == 0x414fa339u);
  // Every length around the eight-byte steps, against the bit-at-a-time definition.
  std::string data;
  for (int len = 0; len < 80; ++len) {
    std::uint32_t c = 0xffffffffu;
    for (char ch : data) {
      c ^= static_cast<unsigned char>(ch);
      for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    INFO(len);
    CHECK(cachekit::hash::crc32(data) == ~c);
    data += static_cast<char>(0x80 + len * 37);
  }
}

TEST_CASE("ring: every entry of the written-out CRC-32 tables matches the polynomial") {
  // t[0][b]: b shifted out bit by bit through 0xedb88320; t[k][b]: t[k-1][b]
  // followed by one more zero byte.
  std::uint32_t t[8][256];
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xffu];
  }
  int wrong = 0;
  for (int k = 0; k < 8; ++k) {
    for (int b = 0; b < 256; ++b) {
      if (cachekit::detail::kCrc32.t[k][b] != t[k][b]) {
        INFO("t[" << k << "][" << b << "]");
        CHECK(cachekit::detail::kCrc32.t[k][b] == t[k][b]);
        ++wrong;
      }
    }
  }
  CHECK(wrong == 0);
  CHECK(cachekit::detail::kCrc32.t[0][1] == 0x77073096u);  // zlib's crc_table[0][1]
}

TEST_CASE("ring: point counts per peer at the sizes where float rounding bites") {
  // 61, 122, 237, 244, 474 and 488 equal servers: libmemcached's and
  // libketama's float32 formulas give 156 points, spymemcached without a
  // weights map and uhashring 160, Dalli 160 points (one per SHA-1).
  for (std::size_t n : {2u, 7u, 61u, 122u, 237u, 244u, 474u, 488u}) {
    const auto v = equal_ipv4(n);
    const bool odd = n >= 61;
    auto count = [&](Distribution d) {
      auto r = Ring::build(v, d);
      REQUIRE(r);
      std::size_t lo = ~std::size_t{0}, hi = 0;
      for (const auto& s : r->describe()) {
        lo = std::min(lo, s.points);
        hi = std::max(hi, s.points);
      }
      return std::make_pair(lo, hi);
    };
    INFO(n, " servers");
    CHECK(count(Distribution::libketama).second == (odd ? 156u : 160u));
    CHECK(count(Distribution::spymemcached_weighted).second == (odd ? 156u : 160u));
    // Ties between servers drop a point here and there.
    CHECK(count(Distribution::spymemcached).second == 160u);
    CHECK(count(Distribution::spymemcached).first >= 158u);
    CHECK(count(Distribution::uhashring).second == 160u);
    CHECK(count(Distribution::dalli).second == 160u);
  }
  // Weights other than 1 mean spymemcached had a weights map.
  std::vector<ServerSpec> w = {{"10.0.0.1", 11211, 1}, {"10.0.0.2", 11211, 6}, {"10.0.0.3", 11211, 6}};
  auto spy = Ring::build(w, Distribution::spymemcached);
  auto spyw = Ring::build(w, Distribution::spymemcached_weighted);
  REQUIRE(spy);
  REQUIRE(spyw);
  CHECK(spy->describe()[0].points == 4 * 9);  // floorf(1/13 * 40 * 3) = 9 digests
  CHECK(spyw->describe()[0].points == 4 * 9);
  auto uh = Ring::build(w, Distribution::uhashring);
  REQUIRE(uh);
  CHECK(uh->describe()[0].points == 4 * 9);   // 40 * 3 * 1 // 13 = 9
  CHECK(uh->describe()[1].points == 4 * 55);  // 40 * 3 * 6 // 13 = 55
  auto dalli = Ring::build(w, Distribution::dalli);
  REQUIRE(dalli);
  CHECK(dalli->describe()[0].points == 36);   // floor(3 * 160 * 1 / 13.0)
  CHECK(dalli->describe()[1].points == 221);  // floor(3 * 160 * 6 / 13.0)
}

TEST_CASE("ring: a point two servers share goes to the later one (spymemcached, uhashring)") {
  // MD5("10.0.2.53:11211-38") and MD5("10.0.2.161:11211-8") share a point
  // word, 3152960057 (found by search over ten-dot addresses).
  auto word = [](const std::string& s, std::size_t j) {
    const auto d = cachekit::hash::md5(s);
    return static_cast<std::uint32_t>(d[4 * j]) | (static_cast<std::uint32_t>(d[4 * j + 1]) << 8) |
           (static_cast<std::uint32_t>(d[4 * j + 2]) << 16) | (static_cast<std::uint32_t>(d[4 * j + 3]) << 24);
  };
  bool shared = false;
  for (std::size_t a = 0; a < 4; ++a) {
    for (std::size_t b = 0; b < 4; ++b) {
      shared = shared || (word("10.0.2.53:11211-38", a) == 3152960057u && word("10.0.2.161:11211-8", b) == 3152960057u);
    }
  }
  REQUIRE(shared);
  for (bool reversed : {false, true}) {
    std::vector<ServerSpec> v = {{"10.0.2.53", 11211, 1}, {"10.0.2.161", 11211, 1}};
    if (reversed) std::swap(v[0], v[1]);
    // libketama keeps the earlier server's point; both places agree elsewhere.
    auto lib = Ring::build(v, Distribution::libketama);
    auto spy = Ring::build(v, Distribution::spymemcached);
    auto uh = Ring::build(v, Distribution::uhashring);
    REQUIRE(lib);
    REQUIRE(spy);
    REQUIRE(uh);
    int differ = 0;
    for (int i = 0; i < 200000 && differ < 3; ++i) {
      const std::string k = "key" + std::to_string(i);
      if (lib->server_for(k) != spy->server_for(k)) {
        ++differ;
        CHECK(lib->server_for(k) == 0);
        CHECK(spy->server_for(k) == 1);
        CHECK(uh->server_for(k) == 1);
      }
    }
    CHECK(differ == 3);
  }
}

TEST_CASE("ring: spymemcached names nodes as Java prints their addresses") {
  using cachekit::detail::java_address_name;
  CHECK(java_address_name({"10.0.0.1", 11211, 1}) == "10.0.0.1:11211");
  CHECK(java_address_name({"2001:db8::a", 11212, 1}) == "[2001:db8:0:0:0:0:0:a]:11212");
  CHECK(java_address_name({"2001:0DB8:0000::00A0", 11212, 1}) == "[2001:db8:0:0:0:0:0:a0]:11212");
  CHECK(java_address_name({"::1", 1, 1}) == "[0:0:0:0:0:0:0:1]:1");
  CHECK(java_address_name({"::", 1, 1}) == "[0:0:0:0:0:0:0:0]:1");
  CHECK(java_address_name({"1::", 1, 1}) == "[1:0:0:0:0:0:0:0]:1");
  CHECK(java_address_name({"::ffff:10.1.2.3", 5, 1}) == "10.1.2.3:5");
  CHECK(java_address_name({"::10.1.2.3", 5, 1}) == "[0:0:0:0:0:0:a01:203]:5");
  CHECK(java_address_name({"fe80::1%eth0", 7, 1}) == "[fe80:0:0:0:0:0:0:1%eth0]:7");
  // Not IP addresses: spymemcached would name them after a DNS lookup.
  for (const char* host : {"cache-1", "10.0.0", "10.0.0.256", "010.0.0.1", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1"}) {
    INFO(host);
    CHECK(java_address_name({host, 11211, 1}).empty());
  }
  // So a host name needs the name spymemcached gives it.
  auto bad = Ring::build({{"10.0.0.1", 11211, 1}, {"cache-2.example.com", 11211, 1}}, Distribution::spymemcached);
  REQUIRE(!bad);
  CHECK(bad.error().kind() == cachekit::ErrorKind::permanent);
  CHECK(bad.error().message().find("cache-2.example.com") != std::string::npos);
  CHECK(bad.error().message().find("resolved address") != std::string::npos);
  auto named = ServerSpec::parse("cache-2.example.com:11211:1 cache-2.example.com/10.0.0.2:11211");
  REQUIRE(named);
  auto ok = Ring::build({{"10.0.0.1", 11211, 1}, named.value()}, Distribution::spymemcached);
  CHECK(ok);
  // The same ring as the one named by address, up to the name.
  auto by_ip = Ring::build({{"10.0.0.1", 11211, 1}, {"10.0.0.2", 11211, 1}}, Distribution::spymemcached);
  auto by_name = Ring::build({{"10.0.0.1", 11211, 1}, {"x", 11211, 1, "10.0.0.2:11211"}}, Distribution::spymemcached);
  REQUIRE(by_ip);
  REQUIRE(by_name);
  for (int i = 0; i < 2000; ++i) {
    const std::string k = "k" + std::to_string(i);
    CHECK(by_ip->server_for(k) == by_name->server_for(k));
  }
}

TEST_CASE("ring: ServerSpec parses twemproxy's 'host:port:weight name'") {
  auto a = ServerSpec::parse("127.0.0.1:11212:3 cache-a");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 11212);
  CHECK(a->weight == 3);
  CHECK(a->name == "cache-a");
  CHECK(a->to_string() == "127.0.0.1:11212");
  auto b = ServerSpec::parse("  [::1]:11211:1\t\tv6-server ");
  REQUIRE(b);
  CHECK(b->host == "::1");
  CHECK(b->name == "v6-server");
  CHECK(ServerSpec::parse("cache1")->name.empty());
  struct Bad {
    const char* spec;
    const char* says;
  };
  const Bad bad[] = {
      {"host:11211 name", "a name follows only host:port:weight"},
      {"host name", "a name follows only host:port:weight"},
      {"/tmp/mc.sock name", "a name follows only host:port:weight"},
      {"host:11211:1 two words", "whitespace or control character in server name"},
      {"host:99999:1 name", "port 99999 is out of range"},
  };
  for (const auto& x : bad) {
    auto r = ServerSpec::parse(x.spec);
    REQUIRE_MESSAGE(!r, x.spec);
    INFO(x.spec, " -> ", r.error().message());
    CHECK(r.error().message().find(x.says) != std::string::npos);
    CHECK(r.error().message().find("invalid server spec") == 0);
  }
  ServerSpec bad_name{"h", 11211, 1, "a\nb"};
  CHECK(!bad_name.validate());
  CHECK(!Ring::build({bad_name}));
}

TEST_CASE("ring: a name replaces the address in every ketama-family ring") {
  // The same names on other addresses give the same placement.
  for (auto d : {Distribution::ketama, Distribution::libketama, Distribution::spymemcached,
                 Distribution::spymemcached_weighted, Distribution::uhashring, Distribution::dalli}) {
    INFO(cachekit::to_string(d));
    std::vector<ServerSpec> a, b, unnamed;
    for (int i = 0; i < 9; ++i) {
      const std::string name = "shard-" + std::to_string(i);
      const auto w = static_cast<std::uint32_t>(1 + i % 3);
      a.push_back({"10.0.0." + std::to_string(i + 1), 11211, w, name});
      b.push_back({"192.168.7." + std::to_string(i + 1), static_cast<std::uint16_t>(12000 + i), w, name});
      unnamed.push_back({"10.0.0." + std::to_string(i + 1), 11211, w});
    }
    auto ra = Ring::build(a, d), rb = Ring::build(b, d), ru = Ring::build(unnamed, d);
    REQUIRE(ra);
    REQUIRE(rb);
    REQUIRE(ru);
    int moved = 0;
    for (int i = 0; i < 3000; ++i) {
      const std::string k = "user:" + std::to_string(i);
      CHECK(ra->server_for(k) == rb->server_for(k));
      moved += ra->server_for(k) != ru->server_for(k);
    }
    CHECK(moved > 1000);  // the name, not the address, was hashed
  }
}

TEST_CASE("ring: parse_distribution knows every mode by its to_string name") {
  for (auto d : cachekit::kAllDistributions) {
    auto p = cachekit::parse_distribution(cachekit::to_string(d));
    REQUIRE(p);
    CHECK(p.value() == d);
    auto r = Ring::build(equal_ipv4(5), d);
    REQUIRE(r);
    CHECK(r->distribution() == d);
    double total = 0;
    for (const auto& s : r->describe()) total += s.share;
    CHECK(total == doctest::Approx(1.0));
  }
  auto bad = cachekit::parse_distribution("spy");
  REQUIRE(!bad);
  CHECK(bad.error().message().find("dalli") != std::string::npos);
}

TEST_CASE("ring: Dalli's share of a server follows its points' forward arcs") {
  // Dalli places a key on the last point at or below its hash, so the arc
  // after each point is that point's server's.
  auto r = Ring::build({{"10.0.0.1", 11211, 1}, {"10.0.0.2", 11211, 3}}, Distribution::dalli);
  REQUIRE(r);
  const auto d = r->describe();
  int hits[2] = {0, 0};
  for (int i = 0; i < 40000; ++i) ++hits[r->server_for("k" + std::to_string(i))];
  CHECK(d[0].share == doctest::Approx(hits[0] / 40000.0).epsilon(0.05));
  CHECK(d[1].share == doctest::Approx(hits[1] / 40000.0).epsilon(0.05));
}

TEST_CASE("ring: key hashes (published and hand-checked values)") {
  using cachekit::KeyHash;
  using cachekit::detail::key_hash_value;
  // FNV test vectors (Landon Curt Noll): FNV-1a 32 "a" = 0xe40c292c,
  // FNV-1 32 "a" = 0x050c5d7e; the 64-bit ones' low words.
  CHECK(key_hash_value(KeyHash::fnv1a_32, "a") == 0xe40c292cu);
  CHECK(key_hash_value(KeyHash::fnv1_32, "a") == 0x050c5d7eu);
  CHECK(key_hash_value(KeyHash::fnv1a_64, "a") == 0x8601ec8cu);  // af63dc4c8601ec8c
  CHECK(key_hash_value(KeyHash::fnv1_64, "a") == 0x8601b7beu);   // af63bd4c8601b7be
  CHECK(key_hash_value(KeyHash::crc32a, "123456789") == 0xcbf43926u);
  CHECK(key_hash_value(KeyHash::crc32, "123456789") == ((0xcbf43926u >> 16) & 0x7fffu));
  CHECK(key_hash_value(KeyHash::md5, "abc") == cachekit::hash::md5_le32("abc"));
  CHECK(key_hash_value(KeyHash::one_at_a_time, "a") == cachekit::detail::one_at_a_time("a"));
  CHECK(key_hash_value(KeyHash::hsieh, "") == 0u);
  CHECK(key_hash_value(KeyHash::jenkins, "") == 0xdeadbeefu + 13u);
  for (KeyHash h : cachekit::kAllKeyHashes) {
    auto p = cachekit::parse_key_hash(cachekit::to_string(h));
    REQUIRE(p);
    CHECK(p.value() == h);
  }
  auto bad = cachekit::parse_key_hash("sha1");
  REQUIRE(!bad);
  CHECK(bad.error().message().find("unknown key hash 'sha1'") != std::string::npos);
}

TEST_CASE("ring: a key hash moves keys on ketama only, and batch equals single") {
  using cachekit::KeyHash;
  std::vector<ServerSpec> v = equal_ipv4(30);
  auto md5 = Ring::build(v, Distribution::ketama);
  REQUIRE(md5);
  CHECK(md5->key_hash() == KeyHash::md5);
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back("k\xc3\xa9y:" + std::to_string(i * 7919));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  for (KeyHash h : cachekit::kAllKeyHashes) {
    INFO(cachekit::to_string(h));
    auto r = Ring::build(v, Distribution::ketama, h);
    REQUIRE(r);
    CHECK(r->key_hash() == h);
    std::vector<std::size_t> batch(views.size());
    r->server_for(views.data(), views.size(), batch.data());
    int moved = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      CHECK(batch[i] == r->server_for(keys[i]));
      moved += r->server_for(keys[i]) != md5->server_for(keys[i]);
    }
    if (h == KeyHash::md5) {
      CHECK(moved == 0);
    } else {
      CHECK(moved > 1000);
    }
  }
  for (auto d : {Distribution::libketama, Distribution::modula, Distribution::spymemcached, Distribution::dalli}) {
    auto r = Ring::build(v, d, KeyHash::fnv1a_64);
    REQUIRE(!r);
    CHECK(r.error().message().find("applies to the ketama distribution only") != std::string::npos);
  }
}

TEST_CASE("ring: MemcachedBackendConfig takes key_hash from CACHEKIT_MEMCACHED_KEY_HASH") {
  ::setenv("CACHEKIT_MEMCACHED_KEY_HASH", "fnv1a_64", 1);
  auto c = cachekit::MemcachedBackendConfig::from_env();
  REQUIRE(c);
  CHECK(c->key_hash == cachekit::KeyHash::fnv1a_64);
  ::setenv("CACHEKIT_MEMCACHED_KEY_HASH", "fnv", 1);
  auto bad = cachekit::MemcachedBackendConfig::from_env();
  REQUIRE(!bad);
  CHECK(bad.error().message().find("CACHEKIT_MEMCACHED_KEY_HASH") != std::string::npos);
  ::setenv("CACHEKIT_MEMCACHED_KEY_HASH", "murmur", 1);
  ::setenv("CACHEKIT_MEMCACHED_DISTRIBUTION", "modula", 1);
  auto mismatch = cachekit::MemcachedBackendConfig::from_env();
  CHECK(!mismatch);
  ::unsetenv("CACHEKIT_MEMCACHED_KEY_HASH");
  ::unsetenv("CACHEKIT_MEMCACHED_DISTRIBUTION");
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.key_hash = cachekit::KeyHash::jenkins;
  CHECK(cfg.validate());
  cfg.distribution = Distribution::rendezvous;
  CHECK(!cfg.validate());
}
