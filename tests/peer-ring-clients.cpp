// Live placement parity with the clients' own ring code: spymemcached's
// KetamaNodeLocator (Java, Debian's libspymemcached-java), uhashring (Python)
// and Dalli (Ruby). Each peer runs once per family of server lists, reads
// every list and key from one file and prints the server it picks per key;
// no server is contacted.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using cachekit::Distribution;
using cachekit::Ring;
using cachekit::ServerSpec;

/// One server list and the keys placed on it.
struct Case {
  std::vector<ServerSpec> specs;
  std::vector<std::string> peer_specs;  // each server as the peer's input names it
  bool weights_map = false;             // spymemcached: pass a weights map
  std::vector<std::string> keys;
  std::string label;
};

std::string hex(const std::string& s) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

/// Keys of printable ASCII, with UTF-8 characters (every length of
/// sequence) when utf8, and any bytes (>= 0x80 included) when raw.
std::string client_random_key(std::mt19937& rng, bool utf8, bool raw) {
  static const char* const kWide[] = {"\xc3\xa9", "\xd0\x96", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xc3\xbf",
                                      "\xe2\x82\xac"};
  std::string key;
  const int len = 1 + static_cast<int>(rng() % (rng() % 8 == 0 ? 200 : 40));
  for (int c = 0; c < len; ++c) {
    if (raw && rng() % 4 == 0) {
      key += static_cast<char>(1 + rng() % 255);
    } else if (utf8 && rng() % 6 == 0) {
      key += kWide[rng() % 6];
    } else {
      key += static_cast<char>(33 + rng() % 94);
    }
  }
  return key;
}

/// Runs cmd on a file holding input; returns one number per output line.
std::vector<std::size_t> run_peer(const std::string& cmd, const std::string& input) {
  char path[] = "/tmp/cachekit-peer-ring-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << input;
  }
  const std::string full = cmd + " " + path;
  FILE* p = popen(full.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<std::size_t> got;
  char buf[64];
  while (std::fgets(buf, sizeof buf, p) != nullptr) got.push_back(std::stoul(buf));
  const int rc = pclose(p);
  std::remove(path);
  REQUIRE_MESSAGE(rc == 0, "peer command failed: ", full);
  return got;
}

bool have(const char* cmd) { return std::system((std::string(cmd) + " >/dev/null 2>&1").c_str()) == 0; }

/// Compares cachekit's placement (single and batch) with the peer's.
void compare(const std::vector<Case>& cases, Distribution d, const std::vector<std::size_t>& got) {
  std::size_t total = 0, wrong = 0;
  for (const auto& c : cases) total += c.keys.size();
  REQUIRE(got.size() == total);
  std::size_t at = 0;
  for (const auto& c : cases) {
    auto ring = Ring::build(c.specs, d);
    REQUIRE_MESSAGE(ring, c.label, ": ", ring ? std::string() : ring.error().message());
    std::vector<std::string_view> views(c.keys.begin(), c.keys.end());
    std::vector<std::size_t> batch(views.size());
    ring->server_for(views.data(), views.size(), batch.data());
    for (std::size_t i = 0; i < c.keys.size(); ++i, ++at) {
      const std::size_t single = ring->server_for(c.keys[i]);
      if (single != got[at] || batch[i] != got[at]) {
        if (++wrong <= 5) {
          FAIL_CHECK(c.label, ": key ", hex(c.keys[i]), " -> cachekit ", single, " (batch ", batch[i], "), peer ",
                     got[at]);
        }
      }
    }
  }
  CHECK(wrong == 0);
  MESSAGE(std::string(cachekit::to_string(d)), ": ", total, " keys over ", cases.size(), " server lists, ", wrong, " mismatches");
}

/// Point values of "name-N" MD5 rings, for finding ties between servers.
struct Tie {
  std::uint32_t value;
  std::uint32_t prev;  // the next lower distinct point value (wraps)
};

/// Ties between two servers' points on an MD5 ring with names[i]-N for
/// N < digests[i].
std::vector<Tie> find_ties(const std::vector<std::string>& names, const std::vector<std::uint32_t>& digests) {
  std::map<std::uint32_t, std::size_t> owner;
  std::vector<std::uint32_t> tied;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::uint32_t k = 0; k < digests[i]; ++k) {
      const auto dg = cachekit::hash::md5(names[i] + "-" + std::to_string(k));
      for (std::size_t j = 0; j < 4; ++j) {
        const std::uint32_t v = static_cast<std::uint32_t>(dg[4 * j]) | (static_cast<std::uint32_t>(dg[4 * j + 1]) << 8) |
                                (static_cast<std::uint32_t>(dg[4 * j + 2]) << 16) |
                                (static_cast<std::uint32_t>(dg[4 * j + 3]) << 24);
        auto ins = owner.emplace(v, i);
        if (!ins.second && ins.first->second != i) tied.push_back(v);
      }
    }
  }
  std::vector<Tie> out;
  for (std::uint32_t v : tied) {
    auto it = owner.find(v);
    const std::uint32_t prev = it == owner.begin() ? owner.rbegin()->first : std::prev(it)->first;
    out.push_back({v, prev});
  }
  return out;
}

/// Keys whose MD5 hash falls on the arc a tied point owns: they expose
/// which server keeps the point. Appends one for each of the first two ties.
std::size_t add_tie_keys(const std::vector<Tie>& ties, std::vector<std::string>& keys, bool strictly_above) {
  std::size_t added = 0;
  for (std::size_t ti = 0; ti < ties.size() && ti < 2; ++ti) {
    const Tie& t = ties[ti];
    int found = 0;
    for (std::uint32_t n = 0; n < 3000000 && found < 1; ++n) {
      std::string k = "tie-" + std::to_string(t.value) + "-" + std::to_string(n);
      const std::uint32_t h = cachekit::hash::md5_le32(k);
      // ceiling owners: (prev, value]; uhashring's bisect_right: [prev, value)
      const bool in = strictly_above ? (t.prev < t.value ? h >= t.prev && h < t.value : h >= t.prev || h < t.value)
                                     : (t.prev < t.value ? h > t.prev && h <= t.value : h > t.prev || h <= t.value);
      if (in) {
        keys.push_back(std::move(k));
        ++found;
      }
    }
    added += static_cast<std::size_t>(found);
  }
  return added;
}

const std::size_t kSizes[] = {1, 2, 3, 7, 25, 61, 122, 237, 244, 474, 488, 500, 1000};

std::string ipv4(std::size_t list, std::size_t i) {
  return "10." + std::to_string(list % 250) + "." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
}

// IPv6 written as users write them: compressed, uppercase, leading zeros,
// full form, IPv4-mapped (unless the peer cannot parse it). Distinct for
// distinct i.
std::string ipv6(std::mt19937& rng, std::size_t list, std::size_t i, bool mapped = true) {
  switch (rng() % (mapped ? 5 : 4)) {
    case 0: return "2001:db8::" + std::to_string(list) + ":" + std::to_string(i + 1);
    case 1: return "FD00:0:0:0:" + std::to_string(list) + "::A:" + std::to_string(i);
    case 2: return "2001:0db8:0000:0000:0000:00" + std::to_string(10 + list % 90) + ":0000:" + std::to_string(1000 + i);
    case 3: return "fe80::" + std::to_string(i + 1) + ":0:" + std::to_string(list);
    default: return "::ffff:192." + std::to_string(list % 250) + "." + std::to_string(i / 250) + "." + std::to_string(i % 250);
  }
}

}  // namespace

TEST_CASE("peer ring: spymemcached places keys exactly like KetamaNodeLocator (Java)") {
  const char* jar = "/usr/share/java/spymemcached.jar";
  REQUIRE_MESSAGE(access(jar, R_OK) == 0, "apt-get install libspymemcached-java default-jdk-headless");
  REQUIRE_MESSAGE(have("javac -version"), "apt-get install default-jdk-headless");
  char dir[] = "/tmp/cachekit-spy-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string classes = dir;
  REQUIRE(std::system(("javac -nowarn -cp " + std::string(jar) + " -d " + classes + " " CACHEKIT_SOURCE_DIR
                       "/tests/peer/SpyPlace.java")
                          .c_str()) == 0);

  std::mt19937 rng(2024);
  std::vector<Case> plain, weighted;  // no weights map / a weights map
  std::size_t list = 0, ties = 0, tie_keys = 0;
  for (std::size_t n : kSizes) {
    for (int variant = 0; variant < 4; ++variant) {
      // 0: IPv4, equal; 1: IPv4 with weights; 2: IPv6 and resolved host
      // names; 3: IPv4, a weights map of equal weights.
      if (n > 500 && variant == 2) continue;
      Case c;
      c.weights_map = variant == 1 || variant == 3;
      c.label = std::to_string(n) + " servers, variant " + std::to_string(variant);
      for (std::size_t i = 0; i < n; ++i) {
        ServerSpec s;
        s.port = static_cast<std::uint16_t>(rng() % 3 == 0 ? 11211 : 11212 + rng() % 50);
        std::string peer;
        if (variant == 2 && i % 3 == 1) {
          s.host = "cache-" + std::to_string(i) + ".example.com";
          const std::string ip = ipv4(list, i);
          s.name = s.host + "/" + ip + ":" + std::to_string(s.port);
          peer = s.host + "/" + ip + ":" + std::to_string(s.port);
        } else if (variant == 2) {
          s.host = ipv6(rng, list, i);
          peer = "[" + s.host + "]:" + std::to_string(s.port);
        } else {
          s.host = ipv4(list, i);
          peer = s.host + ":" + std::to_string(s.port);
        }
        if (variant == 1) {
          static const std::uint32_t kPattern[] = {1, 6, 6, 6, 6};
          s.weight = i < 5 ? kPattern[i] : static_cast<std::uint32_t>(1 + rng() % 20);
        }
        c.peer_specs.push_back(peer + ":" + std::to_string(s.weight));
        c.specs.push_back(std::move(s));
      }
      for (int k = 0; k < (n >= 474 ? 800 : 300); ++k) c.keys.push_back(client_random_key(rng, true, false));
      if (n >= 474 && variant != 2) {
        // Ties between servers' points: spymemcached's TreeMap keeps the later server.
        std::vector<std::string> names;
        std::vector<std::uint32_t> digests;
        std::uint64_t total = 0;
        for (const auto& s : c.specs) total += s.weight;
        for (const auto& s : c.specs) {
          names.push_back(s.host + ":" + std::to_string(s.port));
          digests.push_back(c.weights_map ? cachekit::detail::ketama_points(s.weight, total, n) / 4 : 40);
        }
        const auto found = find_ties(names, digests);
        ties += found.size();
        tie_keys += add_tie_keys(found, c.keys, false);
      }
      ++list;
      (c.weights_map ? weighted : plain).push_back(std::move(c));
    }
  }
  CHECK(ties > 0);
  CHECK(tie_keys > 0);
  MESSAGE("spymemcached: ", ties, " tied points between servers, ", tie_keys, " keys on them");

  auto input = [](const std::vector<Case>& cases) {
    std::string in;
    for (const auto& c : cases) {
      in += std::string("servers ") + (c.weights_map ? "1 " : "0 ");
      for (std::size_t i = 0; i < c.peer_specs.size(); ++i) in += (i ? "," : "") + c.peer_specs[i];
      in += '\n';
      for (const auto& k : c.keys) in += "key " + hex(k) + '\n';
    }
    return in;
  };
  const std::string cmd = "java -cp " + std::string(jar) + ":" + classes + " SpyPlace";
  // No weights map: 160 points each (cachekit's spymemcached with weights 1).
  compare(plain, Distribution::spymemcached, run_peer(cmd, input(plain)));
  // A weights map: libmemcached's float formula, even with equal weights.
  const auto got = run_peer(cmd, input(weighted));
  compare(weighted, Distribution::spymemcached_weighted, got);
  std::vector<Case> unequal;
  std::vector<std::size_t> unequal_got;
  std::size_t at = 0;
  for (const auto& c : weighted) {
    bool all_one = true;
    for (const auto& s : c.specs) all_one = all_one && s.weight == 1;
    if (!all_one) {
      unequal.push_back(c);
      unequal_got.insert(unequal_got.end(), got.begin() + static_cast<std::ptrdiff_t>(at),
                         got.begin() + static_cast<std::ptrdiff_t>(at + c.keys.size()));
    }
    at += c.keys.size();
  }
  REQUIRE(!unequal.empty());
  compare(unequal, Distribution::spymemcached, unequal_got);  // weights other than 1 imply the map
  std::system(("rm -rf " + classes).c_str());
}

TEST_CASE("peer ring: uhashring places keys exactly like Python's uhashring") {
  REQUIRE_MESSAGE(have("/usr/bin/python3 -c 'import uhashring'"), "apt-get install python3-uhashring");
  std::mt19937 rng(31337);
  std::vector<Case> cases;
  std::size_t list = 0, ties = 0, tie_keys = 0;
  for (std::size_t n : kSizes) {
    for (int variant = 0; variant < 3; ++variant) {
      // 0: IPv4 equal; 1: weights, IPv6 and host names; 2: named servers.
      // uhashring inserts each point into a sorted list: 1,000 servers once.
      if ((n > 500 && variant == 2) || (n == 1000 && variant == 1)) continue;
      Case c;
      c.label = std::to_string(n) + " servers, variant " + std::to_string(variant);
      for (std::size_t i = 0; i < n; ++i) {
        ServerSpec s;
        s.port = static_cast<std::uint16_t>(rng() % 3 == 0 ? 11211 : 11212 + rng() % 50);
        s.host = variant == 0 || i % 3 == 0 ? ipv4(list, i)
                 : i % 3 == 1              ? ipv6(rng, list, i)
                                           : "mc-" + std::to_string(i) + ".cache.example.org";
        if (variant == 1) s.weight = static_cast<std::uint32_t>(1 + rng() % 10);
        if (variant == 2) s.name = "shard-" + std::to_string(i);
        c.peer_specs.push_back(s.name.empty() ? s.host + ":" + std::to_string(s.port) : s.name);
        c.specs.push_back(std::move(s));
      }
      for (int k = 0; k < (n >= 474 ? 800 : 300); ++k) c.keys.push_back(client_random_key(rng, true, false));
      if (n >= 474) {
        std::uint64_t total = 0;
        for (const auto& s : c.specs) total += s.weight;
        std::vector<std::uint32_t> digests;
        for (const auto& s : c.specs) digests.push_back(cachekit::detail::uhashring_digests(s.weight, total, n));
        const auto found = find_ties(c.peer_specs, digests);
        ties += found.size();
        tie_keys += add_tie_keys(found, c.keys, true);
      }
      ++list;
      cases.push_back(std::move(c));
    }
  }
  CHECK(ties > 0);
  MESSAGE("uhashring: ", ties, " tied points between servers, ", tie_keys, " keys on them");
  std::string in;
  for (const auto& c : cases) {
    in += "nodes\n";
    for (std::size_t i = 0; i < c.specs.size(); ++i) {
      in += "node " + c.peer_specs[i] + " " + std::to_string(c.specs[i].weight) + "\n";
    }
    for (const auto& k : c.keys) in += "key " + hex(k) + '\n';
  }
  compare(cases, Distribution::uhashring,
          run_peer("/usr/bin/python3 " CACHEKIT_SOURCE_DIR "/tests/scripts/peer-place.py uhashring", in));
}

TEST_CASE("peer ring: dalli places keys exactly like Ruby's Dalli::Ring") {
  REQUIRE_MESSAGE(have("ruby -e 'require \"dalli\"'"), "apt-get install ruby ruby-dalli");
  std::mt19937 rng(4242);
  std::vector<Case> cases;
  std::size_t list = 0;
  for (std::size_t n : kSizes) {
    for (int variant = 0; variant < 2; ++variant) {
      // 0: IPv4 equal; 1: weights, IPv6, host names and a unix socket.
      if (n == 1000 && variant == 0) continue;
      Case c;
      c.label = std::to_string(n) + " servers, variant " + std::to_string(variant);
      for (std::size_t i = 0; i < n; ++i) {
        ServerSpec s;
        s.port = static_cast<std::uint16_t>(rng() % 3 == 0 ? 11211 : 11212 + rng() % 50);
        std::string peer;
        if (variant == 1 && i % 4 == 1) {
          s.host = ipv6(rng, list, i, false);
          peer = "[" + s.host + "]:" + std::to_string(s.port);
        } else if (variant == 1 && i % 4 == 2) {
          s.host = "mc-" + std::to_string(i) + ".cache.example.org";
          peer = s.host + ":" + std::to_string(s.port);
        } else if (variant == 1 && i == 3) {
          s.host = "/tmp/cachekit-dalli-" + std::to_string(list) + ".sock";
          s.port = 0;
          peer = s.host;
        } else {
          s.host = ipv4(list, i);
          peer = s.host + ":" + std::to_string(s.port);
        }
        if (variant == 1) s.weight = static_cast<std::uint32_t>(1 + rng() % 10);
        c.peer_specs.push_back(peer + ":" + std::to_string(s.weight));
        c.specs.push_back(std::move(s));
      }
      // Dalli hashes the key's bytes; keys over 250 bytes are digested
      // before routing, so keys stay within 250.
      for (int k = 0; k < 400; ++k) c.keys.push_back(client_random_key(rng, true, k % 2 == 0).substr(0, 250));
      ++list;
      cases.push_back(std::move(c));
    }
  }
  std::string in;
  for (const auto& c : cases) {
    in += "servers ";
    for (std::size_t i = 0; i < c.peer_specs.size(); ++i) in += (i ? "," : "") + c.peer_specs[i];
    in += '\n';
    for (const auto& k : c.keys) in += "key " + hex(k) + '\n';
  }
  compare(cases, Distribution::dalli, run_peer("ruby " CACHEKIT_SOURCE_DIR "/tests/scripts/dalli-place.rb", in));
}
