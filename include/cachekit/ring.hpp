#pragma once
// Ring: which server a key goes to. Placement is identical to the clients
// cachekit replaces (libmemcached ketama and modula, last.fm libketama,
// spymemcached, uhashring, Dalli, pymemcache rendezvous). A pure layer: no
// I/O, no globals.

#include "config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "error.hpp"
#include "hash/crc32.hpp"
#include "hash/libhashkit.hpp"
#include "hash/md5.hpp"
#include "hash/md5_multi.hpp"
#include "hash/murmur3.hpp"
#include "hash/sha1.hpp"
#include "placement.hpp"
#include "server_spec.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Most servers a ring accepts (keeps every point index in 32 bits).
inline constexpr std::size_t kMaxRingServers = 1000000;

/// Bob Jenkins' one-at-a-time hash as libhashkit computes it: bytes are read
/// as (signed) char, so bytes >= 0x80 are sign-extended before the add.
inline std::uint32_t one_at_a_time(std::string_view key) noexcept {
  std::uint32_t h = 0;
  for (char ch : key) {
    h += static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(ch)));
    h += h << 10;
    h ^= h >> 6;
  }
  h += h << 3;
  h ^= h >> 11;
  h += h << 15;
  return h;
}

/// The key hash h of key.
inline std::uint32_t key_hash_value(KeyHash h, std::string_view key) noexcept {
  switch (h) {
    case KeyHash::md5: return hash::md5_le32(key);
    case KeyHash::crc32: return hash::crc32_libmemcached(key);
    case KeyHash::fnv1_64: return hash::fnv1_64(key);
    case KeyHash::fnv1a_64: return hash::fnv1a_64(key);
    case KeyHash::fnv1_32: return hash::fnv1_32(key);
    case KeyHash::fnv1a_32: return hash::fnv1a_32(key);
    case KeyHash::murmur: return hash::murmur2_libhashkit(key);
    case KeyHash::jenkins: return hash::jenkins_lookup3(key);
    case KeyHash::hsieh: return hash::hsieh(key);
    case KeyHash::one_at_a_time: return one_at_a_time(key);
    case KeyHash::crc32a: return hash::crc32(key);
  }
  return 0;
}

/// A byte-at-a-time hash of m keys, eight at a time in lockstep so the
/// keys' serial multiply chains overlap: state starts at init, step(state,
/// byte) takes each byte, fin(state) gives the hash.
template <class State, class Step, class Fin>
inline void byte_serial_batch(const std::string_view* keys, std::size_t m, std::uint32_t* out, State init, Step step,
                              Fin fin) noexcept {
  constexpr std::size_t kLanes = 8;
  std::size_t i = 0;
  for (; i + kLanes <= m; i += kLanes) {
    State st[kLanes];
    std::size_t common = keys[i].size();
    for (std::size_t l = 0; l < kLanes; ++l) {
      st[l] = init;
      common = std::min(common, keys[i + l].size());
    }
    for (std::size_t b = 0; b < common; ++b) {
      for (std::size_t l = 0; l < kLanes; ++l) st[l] = step(st[l], keys[i + l][b]);
    }
    for (std::size_t l = 0; l < kLanes; ++l) {
      const std::string_view k = keys[i + l];
      for (std::size_t b = common; b < k.size(); ++b) st[l] = step(st[l], k[b]);
      out[i + l] = fin(st[l]);
    }
  }
  for (; i < m; ++i) {
    State st = init;
    for (char c : keys[i]) st = step(st, c);
    out[i] = fin(st);
  }
}

/// The key hashes of m keys (the byte-serial ones interleaved).
template <class = void>  // compiled where it is used
inline void key_hash_batch(KeyHash h, const std::string_view* keys, std::size_t m, std::uint32_t* out) noexcept {
  auto same = [](std::uint32_t v) { return v; };
  switch (h) {
    case KeyHash::fnv1a_64:
      byte_serial_batch(keys, m, out, std::uint32_t{0x84222325u},
                        [](std::uint32_t v, char c) { return (v ^ signed_byte(c)) * 0x1b3u; }, same);
      return;
    case KeyHash::fnv1a_32:
      byte_serial_batch(keys, m, out, std::uint32_t{2166136261u},
                        [](std::uint32_t v, char c) { return (v ^ signed_byte(c)) * 16777619u; }, same);
      return;
    case KeyHash::fnv1_32:
      byte_serial_batch(keys, m, out, std::uint32_t{2166136261u},
                        [](std::uint32_t v, char c) { return (v * 16777619u) ^ signed_byte(c); }, same);
      return;
    case KeyHash::fnv1_64:
      byte_serial_batch(
          keys, m, out, std::uint64_t{0xcbf29ce484222325ull},
          [](std::uint64_t v, char c) {
            return (v * 0x100000001b3ull) ^
                   static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<signed char>(c)));
          },
          [](std::uint64_t v) { return static_cast<std::uint32_t>(v); });
      return;
    default:
      for (std::size_t j = 0; j < m; ++j) out[j] = key_hash_value(h, keys[j]);
      return;
  }
}

/// Points (a multiple of 4) libmemcached gives a server with weighted
/// ketama: floorf(pct * 160 / 4 * n + 1e-10) * 4 in float32, step by step
/// as libmemcached rounds. volatile keeps each step a separately rounded
/// float (no FMA contraction, no excess precision).
inline std::uint32_t ketama_points(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile float x = pct * 160.0f;
  x = x / 4.0f;
  x = x * static_cast<float>(n);
  x = x + 0.0000000001f;
  return static_cast<std::uint32_t>(__builtin_floor(static_cast<double>(x)) * 4.0);
}

/// MD5 digests libketama makes for a server: floorf(pct * 40.0 * n), where
/// pct is a float, the products are double, and floorf's argument is
/// rounded to float.
inline std::uint32_t libketama_digests(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile double x = static_cast<double>(pct) * 40.0;
  x = x * static_cast<double>(static_cast<float>(n));
  const volatile float xf = static_cast<float>(x);
  return static_cast<std::uint32_t>(__builtin_floorf(xf));
}

/// MD5 digests (4 points each) uhashring gives a server: vnodes (40) * n *
/// weight // total weight, in exact integers.
inline std::uint32_t uhashring_digests(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  return static_cast<std::uint32_t>(40u * static_cast<std::uint64_t>(n) * weight / total_weight);
}

/// Points Dalli gives a server: floor(n * 160 * weight / Float(total)),
/// the integer product converted to double as Ruby does.
inline std::uint32_t dalli_points(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  const std::uint64_t num = static_cast<std::uint64_t>(n) * 160u * weight;
  return static_cast<std::uint32_t>(__builtin_floor(static_cast<double>(num) / static_cast<double>(total_weight)));
}

/// Parses a dotted quad of decimal numbers 0..255 without leading zeros.
inline bool parse_ipv4(std::string_view s, unsigned char out[4]) noexcept {
  int part = 0;
  std::size_t i = 0;
  while (part < 4) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
    if (i == start || v > 255 || (i - start > 1 && s[start] == '0')) return false;
    out[part++] = static_cast<unsigned char>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

/// Parses an IPv6 address (with "::" and a trailing dotted quad) into eight groups.
inline bool parse_ipv6(std::string_view s, std::uint16_t out[8]) noexcept {
  std::uint16_t head[8] = {}, tail[8] = {};
  int nh = 0, nt = 0;
  bool gap = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    gap = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    std::uint16_t* groups = gap ? tail : head;
    int& count = gap ? nt : nh;
    if (nh + nt >= 8) return false;
    // A dotted quad ends the address and fills two groups.
    const std::size_t colon = s.find(':', i);
    const std::string_view field = s.substr(i, colon == std::string_view::npos ? std::string_view::npos : colon - i);
    if (colon == std::string_view::npos && field.find('.') != std::string_view::npos) {
      unsigned char q[4];
      if (!parse_ipv4(field, q) || nh + nt > 6) return false;
      groups[count++] = static_cast<std::uint16_t>((q[0] << 8) | q[1]);
      groups[count++] = static_cast<std::uint16_t>((q[2] << 8) | q[3]);
      i = s.size();
      break;
    }
    if (field.empty() || field.size() > 4) return false;
    unsigned v = 0;
    for (char c : field) {
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<unsigned>(d);
    }
    groups[count++] = static_cast<std::uint16_t>(v);
    if (colon == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = colon + 1;
    if (i < s.size() && s[i] == ':') {
      if (gap) return false;
      gap = true;
      ++i;
    } else if (i == s.size()) {
      return false;  // a single trailing ':'
    }
  }
  if (gap ? nh + nt > 7 : nh != 8) return false;
  for (int k = 0; k < 8; ++k) out[k] = 0;
  for (int k = 0; k < nh; ++k) out[k] = head[k];
  for (int k = 0; k < nt; ++k) out[8 - nt + k] = tail[k];
  return true;
}

/// spymemcached's default node name: String.valueOf(InetSocketAddress)
/// without its leading '/', on Java 14 and later: "10.0.0.1:11211",
/// "[2001:db8:0:0:0:0:0:a]:11212" (every group, no zero compression), an
/// IPv4-mapped IPv6 address as IPv4. Empty when host is not an IP address
/// (spymemcached then names the node "host/ip:port" from DNS).
inline std::string java_address_name(const ServerSpec& s) {
  std::string out;
  unsigned char q[4];
  if (parse_ipv4(s.host, q)) {
    for (int k = 0; k < 4; ++k) {
      if (k) out += '.';
      out += std::to_string(q[k]);
    }
  } else {
    const std::size_t pct = s.host.find('%');
    std::uint16_t g[8];
    if (s.host.find(':') == std::string::npos || !parse_ipv6(std::string_view(s.host).substr(0, pct), g)) return {};
    if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
      out = std::to_string(g[6] >> 8) + "." + std::to_string(g[6] & 0xff) + "." + std::to_string(g[7] >> 8) + "." +
            std::to_string(g[7] & 0xff);
    } else {
      static const char* const kHex = "0123456789abcdef";
      out += '[';
      for (int k = 0; k < 8; ++k) {
        if (k) out += ':';
        bool started = false;
        for (int sh = 12; sh >= 0; sh -= 4) {
          const unsigned d = (g[k] >> sh) & 0xfu;
          if (d != 0 || started || sh == 0) {
            out += kHex[d];
            started = true;
          }
        }
      }
      if (pct != std::string::npos) out += s.host.substr(pct);
      out += ']';
    }
  }
  out += ':';
  out += std::to_string(s.port);
  return out;
}

/// Decimal digits of v appended at p; returns the end.
inline char* append_uint(char* p, std::uint32_t v) noexcept {
  char tmp[10];
  int len = 0;
  do {
    tmp[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (len > 0) *p++ = tmp[--len];
  return p;
}

/// One point on the continuum.
struct RingPoint {
  std::uint32_t value;
  std::uint32_t server;
};

/// Stable LSD radix sort of points by value (ties keep their order, so
/// points generated in server order end sorted by (value, server)).
template <class = void>
inline void sort_points(std::vector<RingPoint>& pts) {
  if (pts.size() < 256) {
    std::stable_sort(pts.begin(), pts.end(),
                     [](const RingPoint& a, const RingPoint& b) { return a.value < b.value; });
    return;
  }
  std::vector<RingPoint> tmp(pts.size());
  constexpr int kBits = 11;
  constexpr std::uint32_t kMask = (1u << kBits) - 1;
  for (int shift = 0; shift < 32; shift += kBits) {
    std::size_t count[(1u << kBits) + 1] = {};
    for (const auto& p : pts) ++count[((p.value >> shift) & kMask) + 1];
    for (std::size_t i = 1; i <= kMask + 1; ++i) count[i] += count[i - 1];
    for (const auto& p : pts) tmp[count[(p.value >> shift) & kMask]++] = p;
    pts.swap(tmp);
  }
}

/// The code points of key & 0xff when key is valid UTF-8 with non-ASCII
/// characters, as pymemcache's murmur3 sees a Python str key; otherwise the
/// bytes. Feeds them to m and returns nothing; the length is counted by m.
inline void feed_python_str(Murmur3& m, std::string_view key) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t n = key.size();
  // Validate first: invalid UTF-8 is hashed as raw bytes.
  bool valid = true;
  for (std::size_t i = 0; i < n && valid;) {
    const unsigned char c = p[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) {
      valid = false;
      break;
    }
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (p[i + k] & 0x3fu);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF as Python does.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      valid = false;
    }
    i += len;
  }
  if (!valid) {
    m.update(p, n);
    return;
  }
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    // The low 8 bits of the code point are the low 6 bits of the last byte
    // plus the low 2 bits of the byte before it.
    unsigned char low = c;
    if (len > 1) low = static_cast<unsigned char>((p[i + len - 1] & 0x3f) | ((p[i + len - 2] & 0x03) << 6));
    m.update(low);
    i += len;
  }
}

}  // namespace detail

/// Keys to servers. Build once, then share freely: every method is const.
class Ring {
 public:
  /// Per-server description of a ring (for --describe and diagnostics).
  struct ServerShare {
    std::size_t points;  ///< points on the continuum (0 for modula and rendezvous)
    double share;        ///< expected fraction of keys
  };

  /// An empty ring; server_for returns 0. Use build() to make a real one.
  Ring() = default;

  /// Builds a ring. Rejects an empty list, invalid specs and the same
  /// host:port twice, with a permanent error; for spymemcached, also a host
  /// name or socket without a name (spymemcached names nodes by IP address);
  /// and a key hash other than md5 on any distribution but ketama.
  template <class = void>
  static Result<Ring> build(std::vector<ServerSpec> servers, Distribution d = Distribution::ketama,
                            KeyHash key_hash = KeyHash::md5);

  /// Index into servers() of the server for key.
  std::size_t server_for(std::string_view key) const noexcept {
    if (servers_.size() <= 1) return 0;  // a single server takes every key unhashed, as libmemcached does
    switch (dist_) {
      case Distribution::ketama:
        return lookup(key_hash_ == KeyHash::md5 ? hash::md5_le32(key) : detail::key_hash_value(key_hash_, key));
      case Distribution::libketama:
      case Distribution::spymemcached:
      case Distribution::spymemcached_weighted: return lookup(hash::md5_le32(key));
      case Distribution::uhashring: return lookup_above(hash::md5_le32(key));
      case Distribution::dalli: return lookup_floor(hash::crc32(key));
      case Distribution::modula: return detail::one_at_a_time(key) % servers_.size();
      case Distribution::rendezvous: return rendezvous(key);
    }
    return 0;
  }

  /// out[i] = server_for(keys[i]) for i < n, hashing many keys at once.
  template <class = void>  // compiled where it is used
  void server_for(const std::string_view* keys, std::size_t n, std::size_t* out) const noexcept {
    server_for_with(keys, n, out, detail::Md5Path::automatic);
  }

  /// The servers, in the order given to build().
  const std::vector<ServerSpec>& servers() const noexcept { return servers_; }

  /// The distribution this ring was built with.
  Distribution distribution() const noexcept { return dist_; }

  /// The key hash this ring was built with.
  KeyHash key_hash() const noexcept { return key_hash_; }

  /// Total points on the continuum (0 for modula and rendezvous).
  std::size_t point_count() const noexcept { return points_.size(); }

  /// Points and expected share of keys for each server, aligned with servers().
  template <class = void>
  std::vector<ServerShare> describe() const;

  /// The batch lookup with a chosen MD5 path (tests force each path).
  template <class = void>
  void server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                       detail::Md5Path path) const noexcept;

  /// The ketama key hash: first four bytes of MD5(key), little-endian.
  static std::uint32_t ketama_hash(std::string_view key) noexcept { return hash::md5_le32(key); }

 private:
  /// Whether keys are placed on a continuum of points.
  static bool has_continuum(Distribution d) noexcept {
    return d != Distribution::modula && d != Distribution::rendezvous;
  }

  /// The server of the first point >= h, wrapping past the last point
  /// (libmemcached, libketama, spymemcached's TreeMap ceiling).
  std::size_t lookup(std::uint32_t h) const noexcept {
    std::size_t i = first_at_least(h);
    if (i == points_.size()) i = 0;  // past the last point: wrap to the first
    return points_[i].server;
  }

  /// The server of the first point > h, wrapping (uhashring's bisect_right).
  std::size_t lookup_above(std::uint32_t h) const noexcept {
    std::size_t i = h == 0xffffffffu ? points_.size() : first_at_least(h + 1);
    if (i == points_.size()) i = 0;
    return points_[i].server;
  }

  /// The server of the last point <= h; below the first point, the last
  /// point's (Dalli's bsearch for the first point > h, minus one).
  std::size_t lookup_floor(std::uint32_t h) const noexcept {
    const std::size_t i = h == 0xffffffffu ? points_.size() : first_at_least(h + 1);
    return points_[i == 0 ? points_.size() - 1 : i - 1].server;
  }

  std::size_t first_at_least(std::uint32_t h) const noexcept {
    const std::uint32_t b = h >> shift_;
    std::size_t lo = buckets_[b];
    const std::size_t hi = buckets_[b + 1];
    // The first point >= h lies in [lo, hi]: points_[hi] (if any) is at
    // least the next bucket's start, which exceeds h.
    if (hi - lo > 8) {
      lo = static_cast<std::size_t>(
          std::lower_bound(points_.begin() + static_cast<std::ptrdiff_t>(lo),
                           points_.begin() + static_cast<std::ptrdiff_t>(hi), h,
                           [](const detail::RingPoint& p, std::uint32_t v) { return p.value < v; }) -
          points_.begin());
    } else {
      while (lo < hi && points_[lo].value < h) ++lo;
    }
    return lo;
  }

  std::size_t rendezvous(std::string_view key) const noexcept {
    bool ascii = true;
    for (char c : key) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        ascii = false;
        break;
      }
    }
    std::size_t best = 0;
    std::uint32_t best_score = 0;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      detail::Murmur3 m = prefix_[i];
      if (ascii) {
        m.update(reinterpret_cast<const unsigned char*>(key.data()), key.size());
      } else {
        detail::feed_python_str(m, key);
      }
      const std::uint32_t score = m.finish();
      // Highest score wins; a tie goes to the larger "host:port", as
      // pymemcache's max(str(node), str(winner)) does.
      if (i == 0 || score > best_score || (score == best_score && names_[i] > names_[best])) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }

  template <class = void>
  Result<void> build_continuum();
  template <class = void>
  Result<std::string> point_name(const ServerSpec& s) const;

  std::vector<ServerSpec> servers_;
  Distribution dist_ = Distribution::ketama;
  KeyHash key_hash_ = KeyHash::md5;
  std::vector<detail::RingPoint> points_;  // sorted by (value, server); one per value where the peer keeps one
  std::vector<std::uint32_t> buckets_;     // buckets_[b] = first point >= b << shift_
  unsigned shift_ = 31;
  std::vector<detail::Murmur3> prefix_;    // rendezvous: murmur3 state after "name-"
  std::vector<std::string> names_;         // rendezvous: pymemcache's node names
};

template <class>
inline Result<Ring> Ring::build(std::vector<ServerSpec> servers, Distribution d, KeyHash key_hash) {
  if (servers.empty()) return make_error(ErrorKind::permanent, "ring: empty server list");
  if (key_hash != KeyHash::md5 && d != Distribution::ketama) {
    return make_error(ErrorKind::permanent, std::string("ring: key hash ") + to_string(key_hash) +
                                                " applies to the ketama distribution only (not " + to_string(d) + ")");
  }
  if (servers.size() > detail::kMaxRingServers) {
    return make_error(ErrorKind::permanent, "ring: " + std::to_string(servers.size()) + " servers (at most " +
                                                std::to_string(detail::kMaxRingServers) + ")");
  }
  std::unordered_set<std::string> seen;
  seen.reserve(servers.size() * 2);
  for (const auto& s : servers) {
    auto ok = s.validate();
    if (!ok) return std::move(ok).error();
    std::string id;
    id.reserve(s.host.size() + 6);
    for (char c : s.host) id += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    id += '\0';
    id += std::to_string(s.port);
    if (!seen.insert(std::move(id)).second) {
      return make_error(ErrorKind::permanent, "ring: server " + s.to_string() + " is listed twice");
    }
  }
  Ring r;
  r.servers_ = std::move(servers);
  r.dist_ = d;
  r.key_hash_ = key_hash;
  if (has_continuum(d)) {
    auto ok = r.build_continuum();
    if (!ok) return std::move(ok).error();
  } else if (d == Distribution::rendezvous) {
    r.prefix_.reserve(r.servers_.size());
    r.names_.reserve(r.servers_.size());
    for (const auto& s : r.servers_) {
      // pymemcache names a TCP node "host:port" (IPv6 without brackets)
      // and a unix socket node by its path.
      std::string name = s.is_unix_socket() ? s.host : s.host + ":" + std::to_string(s.port);
      detail::Murmur3 m;
      m.update(reinterpret_cast<const unsigned char*>(name.data()), name.size());
      m.update(static_cast<unsigned char>('-'));
      r.prefix_.push_back(m);
      r.names_.push_back(std::move(name));
    }
  }
  return r;
}

template <class>
inline Result<std::string> Ring::point_name(const ServerSpec& s) const {
  if (!s.name.empty()) return s.name;
  const std::string port = std::to_string(s.port);
  switch (dist_) {
    case Distribution::ketama:  // libmemcached and twemproxy leave out the default port
      return s.port == 11211 ? s.host : s.host + ":" + port;
    case Distribution::spymemcached:
    case Distribution::spymemcached_weighted: {
      std::string name = detail::java_address_name(s);
      if (name.empty()) {
        return make_error(ErrorKind::permanent,
                          "ring: spymemcached names server " + s.to_string() +
                              " by its resolved address ('host/ip:port'); give the IP address, or the name "
                              "spymemcached uses (\"" + s.to_string() + " " + s.host + "/IP:" + port + "\")");
      }
      return name;
    }
    case Distribution::uhashring:
    case Distribution::dalli: return s.is_unix_socket() ? s.host : s.host + ":" + port;
    default: return s.host + ":" + port;  // libketama
  }
}

template <class>
inline Result<void> Ring::build_continuum() {
  const std::size_t n = servers_.size();
  std::uint64_t total_weight = 0;
  bool all_one = true;
  for (const auto& s : servers_) {
    total_weight += s.weight;
    all_one = all_one && s.weight == 1;
  }
  // spymemcached without a weights map gives every server 160 points; with
  // one, libmemcached's formula.
  const bool spy_fixed = dist_ == Distribution::spymemcached && all_one;

  std::vector<std::string> bases(n);
  std::vector<std::uint32_t> counts(n);
  std::size_t total_points = 0, longest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto name = point_name(servers_[i]);
    if (!name) return std::move(name).error();
    bases[i] = std::move(name).value();
    longest = std::max(longest, bases[i].size());
    const std::uint32_t w = servers_[i].weight;
    switch (dist_) {
      case Distribution::libketama: counts[i] = detail::libketama_digests(w, total_weight, n); break;
      case Distribution::uhashring: counts[i] = detail::uhashring_digests(w, total_weight, n); break;
      case Distribution::dalli: counts[i] = detail::dalli_points(w, total_weight, n); break;
      default: counts[i] = spy_fixed ? 40 : detail::ketama_points(w, total_weight, n) / 4; break;
    }
    total_points += static_cast<std::size_t>(counts[i]) * (dist_ == Distribution::dalli ? 1 : 4);
  }
  points_.clear();
  points_.reserve(total_points);
  const char sep = dist_ == Distribution::dalli ? ':' : '-';
  const std::size_t slot = longest + 12;
  std::string one;
  if (dist_ == Distribution::dalli) {
    // Dalli: SHA-1("name:idx"), one point of the first four bytes.
    for (std::size_t i = 0; i < n; ++i) {
      one.assign(bases[i]);
      one += sep;
      for (std::uint32_t k = 0; k < counts[i]; ++k) {
        one.resize(bases[i].size() + 1);
        one += std::to_string(k);
        points_.push_back({hash::sha1_be32(one), static_cast<std::uint32_t>(i)});
      }
    }
  } else {
    // "name-N" hashed in chunks through the multi-lane MD5, four points per
    // digest; each name has a fixed slot in one buffer.
    constexpr std::size_t kChunk = 2048;
    std::vector<char> slots(slot * kChunk);
    std::vector<std::string_view> names(kChunk);
    std::vector<std::uint32_t> owner(kChunk);
    std::vector<std::uint32_t> words(4 * kChunk);
    std::size_t count = 0;
    auto flush = [&] {
      detail::md5_digest_batch(names.data(), count, words.data());
      for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t j = 0; j < 4; ++j) points_.push_back({words[4 * i + j], owner[i]});
      }
      count = 0;
    };
    for (std::size_t i = 0; i < n; ++i) {
      for (std::uint32_t k = 0; k < counts[i]; ++k) {
        char* const name = slots.data() + count * slot;
        char* p = name;
        std::memcpy(p, bases[i].data(), bases[i].size());
        p += bases[i].size();
        *p++ = sep;
        p = detail::append_uint(p, k);
        names[count] = std::string_view(name, static_cast<std::size_t>(p - name));
        owner[count] = static_cast<std::uint32_t>(i);
        if (++count == kChunk) flush();
      }
    }
    flush();
  }
  if (points_.empty()) return make_error(ErrorKind::permanent, "ring: no points on the continuum");
  detail::sort_points(points_);
  if (dist_ == Distribution::spymemcached || dist_ == Distribution::spymemcached_weighted ||
      dist_ == Distribution::uhashring) {
    // A TreeMap (spymemcached) or dict (uhashring) keeps one server per
    // point value: the one put last, i.e. the later server in the list.
    std::size_t out = 0;
    for (std::size_t i = 0; i < points_.size(); ++i) {
      if (i + 1 < points_.size() && points_[i + 1].value == points_[i].value) continue;
      points_[out++] = points_[i];
    }
    points_.resize(out);
  }

  // Bucket index over the top bits of the hash: about one point per bucket.
  unsigned bits = 1;
  while (bits < 22 && (std::size_t{1} << bits) < points_.size()) ++bits;
  shift_ = 32 - bits;
  buckets_.assign((std::size_t{1} << bits) + 1, 0);
  std::size_t pi = 0;
  for (std::size_t b = 0; b < (std::size_t{1} << bits); ++b) {
    const std::uint64_t start = static_cast<std::uint64_t>(b) << shift_;
    while (pi < points_.size() && points_[pi].value < start) ++pi;
    buckets_[b] = static_cast<std::uint32_t>(pi);
  }
  buckets_.back() = static_cast<std::uint32_t>(points_.size());
  return {};
}

template <class>
inline void Ring::server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                                  detail::Md5Path path) const noexcept {
  if (servers_.size() <= 1 || !has_continuum(dist_)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = server_for(keys[i]);
    return;
  }
  constexpr std::size_t kChunk = 256;
  std::uint32_t hashes[kChunk];
  if (dist_ == Distribution::dalli) {
    // Hashes first, then lookups: independent CRCs overlap in the pipeline.
    for (std::size_t i = 0; i < n; i += kChunk) {
      const std::size_t m = std::min(kChunk, n - i);
      for (std::size_t j = 0; j < m; ++j) hashes[j] = hash::crc32(keys[i + j]);
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup_floor(hashes[j]);
    }
    return;
  }
  if (key_hash_ != KeyHash::md5) {
    for (std::size_t i = 0; i < n; i += kChunk) {
      const std::size_t m = std::min(kChunk, n - i);
      detail::key_hash_batch(key_hash_, keys + i, m, hashes);
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup(hashes[j]);
    }
    return;
  }
  const bool above = dist_ == Distribution::uhashring;
  for (std::size_t i = 0; i < n; i += kChunk) {
    const std::size_t m = std::min(kChunk, n - i);
    detail::md5_le32_batch(keys + i, m, hashes, path);
    if (above) {
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup_above(hashes[j]);
    } else {
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup(hashes[j]);
    }
  }
}

template <class>
inline std::vector<Ring::ServerShare> Ring::describe() const {
  std::vector<ServerShare> out(servers_.size(), ServerShare{0, 0.0});
  if (servers_.empty()) return out;
  if (points_.empty() || servers_.size() == 1) {
    for (auto& s : out) s.share = 1.0 / static_cast<double>(servers_.size());
    for (const auto& p : points_) ++out[p.server].points;
    return out;
  }
  // A point owns the hashes after the previous point up to itself; the
  // first point also owns the wrap-around past the last one. Dalli's points
  // own the hashes from themselves up to the next point instead.
  constexpr double kSpace = 4294967296.0;
  const bool floor = dist_ == Distribution::dalli;
  std::uint32_t prev = points_.back().value;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const std::uint32_t v = points_[i].value;
    const double arc = i == 0 ? (kSpace - prev) + v : static_cast<double>(v - prev);
    const std::size_t owner = !floor ? i : i == 0 ? points_.size() - 1 : i - 1;
    out[points_[owner].server].share += arc / kSpace;
    ++out[points_[i].server].points;
    prev = v;
  }
  return out;
}

namespace detail {
CACHEKIT_COMPILE_ONCE(void sort_points<void>(std::vector<RingPoint>&))  // see config.hpp
}  // namespace detail
CACHEKIT_COMPILE_ONCE(Result<Ring> Ring::build<void>(std::vector<ServerSpec>, Distribution, KeyHash))
CACHEKIT_COMPILE_ONCE(Result<void> Ring::build_continuum<void>())
CACHEKIT_COMPILE_ONCE(Result<std::string> Ring::point_name<void>(const ServerSpec&) const)
CACHEKIT_COMPILE_ONCE(std::vector<Ring::ServerShare> Ring::describe<void>() const)

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
