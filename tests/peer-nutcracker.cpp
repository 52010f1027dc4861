// Live placement parity with twemproxy: a real nutcracker, started by the
// test in front of real memcached servers, with one pool per key hash, named
// and unnamed servers. Keys are stored through each pool; then every
// memcached is asked which keys it holds, and that must be the server
// cachekit's ketama ring (with the same names and key hash) picks.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include "support/memcached_process.hpp"
#include "support/nutcracker_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

/// Sends request to 127.0.0.1:port and reads until done(reply) or a 10 s
/// receive timeout; returns what was read.
template <class Done>
std::string exchange(std::uint16_t port, const std::string& request, Done done) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[65536];
  while (!done(reply)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

/// Keys as a memcached text-protocol client may send them: printable ASCII,
/// UTF-8 and other bytes >= 0x80; no spaces or control characters.
std::string proxy_random_key(std::mt19937& rng, std::size_t pool) {
  static const char* const kWide[] = {"\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xd0\x96"};
  std::string k = "p" + std::to_string(pool) + ":";
  const int len = 1 + static_cast<int>(rng() % 60);
  for (int i = 0; i < len; ++i) {
    const auto r = rng() % 10;
    if (r == 0) {
      k += kWide[rng() % 4];
    } else if (r == 1) {
      k += static_cast<char>(0x80 + rng() % 128);
    } else {
      k += static_cast<char>(33 + rng() % 94);
    }
  }
  return k;
}

}  // namespace

TEST_CASE("peer ring: ketama with each key hash and named servers places keys exactly like twemproxy") {
  cktest::MemcachedCluster cluster(5);
  std::mt19937 rng(1701);

  struct Pool {
    cachekit::KeyHash hash;
    bool named;
    std::uint16_t port;
    std::vector<cachekit::ServerSpec> specs;
    std::vector<std::string> keys;
  };
  std::vector<Pool> pools;
  std::string yaml;
  for (cachekit::KeyHash h : cachekit::kAllKeyHashes) {
    for (bool named : {false, true}) {
      Pool p{h, named, cktest::free_port(), {}, {}};
      yaml += "p" + std::to_string(pools.size()) + ":\n  listen: 127.0.0.1:" + std::to_string(p.port) +
              "\n  hash: " + cachekit::to_string(h) +
              "\n  distribution: ketama\n  auto_eject_hosts: false\n  timeout: 5000\n  servers:\n";
      for (std::size_t i = 0; i < cluster.size(); ++i) {
        cachekit::ServerSpec s{"127.0.0.1", cluster.port(i), static_cast<std::uint32_t>(1 + rng() % 4)};
        std::string line = "127.0.0.1:" + std::to_string(s.port) + ":" + std::to_string(s.weight);
        if (named) {
          s.name = "cache-" + std::to_string(i) + (i % 2 ? ".shard" : "");
          line += " " + s.name;
        }
        yaml += "   - " + line + "\n";
        p.specs.push_back(std::move(s));
      }
      std::set<std::string> seen;
      while (p.keys.size() < 250) {
        std::string k = proxy_random_key(rng, pools.size());
        if (seen.insert(k).second) p.keys.push_back(std::move(k));
      }
      pools.push_back(std::move(p));
    }
  }
  std::vector<std::uint16_t> ports;
  for (const auto& p : pools) ports.push_back(p.port);
  cktest::NutcrackerProcess proxy(yaml, ports);

  // Store every key through its pool.
  for (const auto& p : pools) {
    std::string req;
    for (const auto& k : p.keys) req += "set " + k + " 0 0 1\r\nx\r\n";
    const std::size_t n = p.keys.size();
    const std::string reply = exchange(p.port, req, [n](const std::string& r) {
      return count_of(r, "\r\n") >= n;
    });
    REQUIRE_MESSAGE(count_of(reply, "STORED\r\n") == n, std::string(cachekit::to_string(p.hash)), ": ", reply.substr(0, 200));
  }

  // Ask each memcached which keys it holds.
  std::map<std::string, std::vector<std::uint16_t>> holders;
  std::vector<std::string> all;
  for (const auto& p : pools) all.insert(all.end(), p.keys.begin(), p.keys.end());
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    std::string req;
    std::size_t lines = 0;
    for (std::size_t at = 0; at < all.size(); at += 20, ++lines) {
      req += "get";
      for (std::size_t j = at; j < std::min(all.size(), at + 20); ++j) req += " " + all[j];
      req += "\r\n";
    }
    const std::string reply =
        exchange(cluster.port(i), req, [lines](const std::string& r) { return count_of(r, "END\r\n") >= lines; });
    for (std::size_t at = reply.find("VALUE "); at != std::string::npos; at = reply.find("\r\nVALUE ", at + 1)) {
      const std::size_t start = reply.compare(at, 6, "VALUE ") == 0 ? at + 6 : at + 8;
      const std::size_t end = reply.find(' ', start);
      holders[reply.substr(start, end - start)].push_back(cluster.port(i));
    }
  }

  std::size_t total = 0, wrong = 0;
  for (const auto& p : pools) {
    auto ring = cachekit::Ring::build(p.specs, cachekit::Distribution::ketama, p.hash);
    REQUIRE(ring);
    std::size_t pool_wrong = 0;
    for (const auto& k : p.keys) {
      ++total;
      const auto& h = holders[k];
      const std::uint16_t want = ring->servers()[ring->server_for(k)].port;
      if (h.size() != 1 || h[0] != want) {
        ++pool_wrong;
        if (++wrong <= 5) {
          std::string hex;
          for (char c : k) {
            static const char* const kHex = "0123456789abcdef";
            hex += kHex[static_cast<unsigned char>(c) >> 4];
            hex += kHex[static_cast<unsigned char>(c) & 15];
          }
          FAIL_CHECK(std::string(cachekit::to_string(p.hash)), (p.named ? " named" : " unnamed"), ": key ", hex,
                     " bytes held by ", h.size(), " servers, first port ", h.empty() ? 0 : h[0], "; cachekit says ",
                     want);
        }
      }
    }
    INFO(std::string(cachekit::to_string(p.hash)), p.named ? " named" : " unnamed");
    CHECK(pool_wrong == 0);
  }
  CHECK(wrong == 0);
  MESSAGE("twemproxy: ", total, " keys over ", pools.size(), " pools, ", wrong, " misplaced");
}
