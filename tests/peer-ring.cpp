// Live placement parity with libmemcached: the same server lists and keys
// must land on the same servers, for ketama (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED)
// and modula. libmemcached never connects here: placement needs no server.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>
#include <libmemcached/memcached.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using MemcPtr = std::unique_ptr<memcached_st, decltype(&memcached_free)>;

struct ServerList {
  std::vector<cachekit::ServerSpec> specs;
};

// 1..100 servers (libmemcached's ring asserts past 100), random weights,
// the default port and others, IPv4, IPv6, host names and a unix socket.
ServerList random_servers(std::mt19937& rng, std::size_t n) {
  ServerList out;
  std::uniform_int_distribution<int> octet(0, 255);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> weight_kind(0, 3);
  while (out.specs.size() < n) {
    cachekit::ServerSpec s;
    const int k = kind(rng);
    if (k <= 3) {
      s.host = std::to_string(octet(rng)) + "." + std::to_string(octet(rng)) + "." + std::to_string(octet(rng)) +
               "." + std::to_string(1 + octet(rng) % 254);
    } else if (k <= 6) {
      s.host = "cache-" + std::to_string(octet(rng) * 7 + octet(rng)) + (k == 6 ? ".prod.example.com" : "");
    } else if (k == 7) {
      s.host = "2001:db8::" + std::to_string(octet(rng) + 1);
    } else if (k == 8 && out.specs.size() % 7 == 3) {
      s.host = "/tmp/cachekit-peer-" + std::to_string(octet(rng)) + ".sock";
      s.port = 0;
    } else {
      s.host = "MC" + std::to_string(octet(rng));
    }
    if (s.port != 0) {
      const int pk = octet(rng) % 4;
      s.port = pk < 2 ? 11211 : pk == 2 ? 11212 : static_cast<std::uint16_t>(1024 + octet(rng) * 200 + octet(rng));
    }
    const int wk = weight_kind(rng);
    s.weight = wk == 0 ? 1 : wk == 1 ? static_cast<std::uint32_t>(1 + octet(rng) % 5)
                                     : static_cast<std::uint32_t>(1 + octet(rng) * octet(rng) % 1000);
    bool dup = false;
    for (const auto& o : out.specs) dup = dup || cachekit::same_address(o, s);
    if (!dup) out.specs.push_back(s);
  }
  return out;
}

MemcPtr libmemcached_ring(const ServerList& list, bool ketama) {
  MemcPtr memc(memcached_create(nullptr), &memcached_free);
  REQUIRE(memc);
  if (ketama) REQUIRE(memcached_behavior_set(memc.get(), MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) == MEMCACHED_SUCCESS);
  for (const auto& s : list.specs) {
    memcached_return_t rc;
    if (s.is_unix_socket()) {
      rc = memcached_server_add_unix_socket_with_weight(memc.get(), s.host.c_str(), s.weight);
    } else {
      rc = memcached_server_add_with_weight(memc.get(), s.host.c_str(), s.port, s.weight);
    }
    REQUIRE_MESSAGE(rc == MEMCACHED_SUCCESS, s.host);
  }
  return memc;
}

std::string random_key(std::mt19937& rng, bool high_bytes) {
  std::uniform_int_distribution<int> len(1, 250);
  std::uniform_int_distribution<int> small(1, 40);
  std::uniform_int_distribution<int> byte(high_bytes ? 1 : 33, high_bytes ? 255 : 126);
  const int n = rng() % 3 == 0 ? len(rng) : small(rng);
  std::string k(static_cast<std::size_t>(n), 'x');
  for (auto& c : k) c = static_cast<char>(byte(rng));
  return k;
}

void check_parity(bool ketama, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const cachekit::Distribution d = ketama ? cachekit::Distribution::ketama : cachekit::Distribution::modula;
  constexpr int kLists = 32;
  constexpr int kKeys = 10000;
  std::size_t total = 0, mismatched = 0;
  for (int list_no = 0; list_no < kLists; ++list_no) {
    // Cover the edges (1, 2, 25, 50, 100 servers) and random sizes.
    static const std::size_t kEdge[] = {1, 2, 25, 47, 50, 100};
    const std::size_t n = list_no < 6 ? kEdge[list_no] : 1 + rng() % 100;
    ServerList list = random_servers(rng, n);
    if (list_no < 6) {  // equal weights: where float32 rounding drops points (156, not 160)
      for (auto& s : list.specs) s.weight = 1;
    }
    if (list_no == 6) {  // a fixed list with every kind of address
      list.specs = {{"/tmp/cachekit-peer.sock", 0, 3}, {"::1", 11211, 1}, {"2001:db8::5", 11300, 2},
                    {"localhost", 11211, 1}, {"127.0.0.1", 11212, 5}, {"Cache-Upper.Example.COM", 11211, 1}};
    }
    auto ring = cachekit::Ring::build(list.specs, d);
    REQUIRE(ring);
    MemcPtr memc = libmemcached_ring(list, ketama);
    REQUIRE(memcached_server_count(memc.get()) == list.specs.size());
    std::vector<std::string> keys;
    for (int i = 0; i < kKeys; ++i) keys.push_back(random_key(rng, i % 2 == 1));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::size_t> batch(keys.size());
    ring->server_for(views.data(), views.size(), batch.data());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto want = static_cast<std::size_t>(memcached_generate_hash(memc.get(), keys[i].data(), keys[i].size()));
      const std::size_t got = ring->server_for(keys[i]);
      ++total;
      if (got != want || batch[i] != want) {
        if (++mismatched <= 5) {
          FAIL_CHECK("list ", list_no, " (", list.specs.size(), " servers), key of ", keys[i].size(), " bytes: cachekit ", got,
                     " batch ", batch[i], ", libmemcached ", want);
        }
      }
    }
  }
  CHECK(mismatched == 0);
  CHECK(total == static_cast<std::size_t>(kLists) * kKeys);
  MESSAGE(std::string(cachekit::to_string(d)), ": ", total, " keys over ", kLists, " server lists, ", mismatched, " mismatches");
}

}  // namespace

TEST_CASE("peer ring: ketama places keys exactly like libmemcached (KETAMA_WEIGHTED)") { check_parity(true, 1234); }

TEST_CASE("peer ring: modula places keys exactly like libmemcached's default") { check_parity(false, 4321); }

TEST_CASE("peer ring: key hashes equal libhashkit's MD5 and default (one-at-a-time)") {
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    const std::string k = random_key(rng, true);
    CHECK(cachekit::hash::md5_le32(k) == memcached_generate_hash_value(k.data(), k.size(), MEMCACHED_HASH_MD5));
    CHECK(cachekit::detail::one_at_a_time(k) ==
          memcached_generate_hash_value(k.data(), k.size(), MEMCACHED_HASH_DEFAULT));
  }
}

namespace {

struct KeyHashPair {
  cachekit::KeyHash ours;
  memcached_hash_t theirs;
};

// Debian's libmemcached is built without hsieh (libhashkit_hsieh returns 0);
// hsieh is checked against twemproxy in tests/peer-nutcracker.cpp.
const KeyHashPair kLibmemcachedHashes[] = {
    {cachekit::KeyHash::md5, MEMCACHED_HASH_MD5},           {cachekit::KeyHash::crc32, MEMCACHED_HASH_CRC},
    {cachekit::KeyHash::fnv1_64, MEMCACHED_HASH_FNV1_64},   {cachekit::KeyHash::fnv1a_64, MEMCACHED_HASH_FNV1A_64},
    {cachekit::KeyHash::fnv1_32, MEMCACHED_HASH_FNV1_32},   {cachekit::KeyHash::fnv1a_32, MEMCACHED_HASH_FNV1A_32},
    {cachekit::KeyHash::murmur, MEMCACHED_HASH_MURMUR},     {cachekit::KeyHash::jenkins, MEMCACHED_HASH_JENKINS},
    {cachekit::KeyHash::one_at_a_time, MEMCACHED_HASH_DEFAULT},
};

}  // namespace

TEST_CASE("peer ring: each key hash equals libhashkit's, bytes >= 0x80 included") {
  std::mt19937 rng(2026);
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back(random_key(rng, true));
  for (std::size_t len = 0; len < 40; ++len) keys.push_back(std::string(len, '\xe9'));
  for (const auto& p : kLibmemcachedHashes) {
    std::size_t wrong = 0;
    for (const auto& k : keys) {
      wrong += cachekit::detail::key_hash_value(p.ours, k) != memcached_generate_hash_value(k.data(), k.size(), p.theirs);
    }
    INFO(cachekit::to_string(p.ours));
    CHECK(wrong == 0);
  }
}

TEST_CASE("peer ring: ketama with each MEMCACHED_BEHAVIOR_HASH places keys exactly like libmemcached") {
  std::mt19937 rng(777);
  std::size_t total = 0, mismatched = 0;
  for (const auto& p : kLibmemcachedHashes) {
    for (int list_no = 0; list_no < 4; ++list_no) {
      const std::size_t n = list_no == 0 ? 61 : list_no == 1 ? 100 : 1 + rng() % 60;
      ServerList list = random_servers(rng, n);
      if (list_no == 0) {
        for (auto& s : list.specs) s.weight = 1;
      }
      auto ring = cachekit::Ring::build(list.specs, cachekit::Distribution::ketama, p.ours);
      REQUIRE(ring);
      MemcPtr memc = libmemcached_ring(list, true);
      REQUIRE(memcached_behavior_set(memc.get(), MEMCACHED_BEHAVIOR_HASH, static_cast<std::uint64_t>(p.theirs)) ==
              MEMCACHED_SUCCESS);
      std::vector<std::string> keys;
      for (int i = 0; i < 2000; ++i) keys.push_back(random_key(rng, i % 2 == 1));
      std::vector<std::string_view> views(keys.begin(), keys.end());
      std::vector<std::size_t> batch(keys.size());
      ring->server_for(views.data(), views.size(), batch.data());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto want = static_cast<std::size_t>(memcached_generate_hash(memc.get(), keys[i].data(), keys[i].size()));
        ++total;
        if (ring->server_for(keys[i]) != want || batch[i] != want) {
          if (++mismatched <= 5) FAIL_CHECK(cachekit::to_string(p.ours), ": list ", list_no, " key ", i);
        }
      }
    }
  }
  CHECK(mismatched == 0);
  MESSAGE("ketama with key hashes: ", total, " keys, ", mismatched, " mismatches");
}
