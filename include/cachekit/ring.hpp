#pragma once
// Ring: which server a key goes to. Placement is identical to the clients
// cachekit replaces (libmemcached ketama and modula, last.fm libketama,
// pymemcache rendezvous). A pure layer: no I/O, no globals.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "error.hpp"
#include "hash/md5.hpp"
#include "hash/md5_multi.hpp"
#include "hash/murmur3.hpp"
#include "server_spec.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// How keys are spread over servers.
enum class Distribution {
  ketama,     ///< libmemcached 1.1.4 with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (default)
  libketama,  ///< last.fm libketama / spymemcached KETAMA with IP addresses
  modula,     ///< libmemcached's default: one-at-a-time hash modulo server count
  rendezvous  ///< pymemcache HashClient's default (murmur3 highest random weight)
};

/// Name of a Distribution ("ketama", ...).
inline const char* to_string(Distribution d) noexcept {
  switch (d) {
    case Distribution::ketama: return "ketama";
    case Distribution::libketama: return "libketama";
    case Distribution::modula: return "modula";
    case Distribution::rendezvous: return "rendezvous";
  }
  return "ketama";
}

/// Parses a distribution name; an unknown name is a permanent error.
inline Result<Distribution> parse_distribution(std::string_view name) {
  if (name == "ketama") return Distribution::ketama;
  if (name == "libketama") return Distribution::libketama;
  if (name == "modula") return Distribution::modula;
  if (name == "rendezvous") return Distribution::rendezvous;
  return make_error(ErrorKind::permanent, "unknown distribution '" + std::string(name) +
                                              "' (expected ketama, libketama, modula or rendezvous)");
}

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
  return static_cast<std::uint32_t>(std::floor(static_cast<double>(x)) * 4.0);
}

/// MD5 digests libketama makes for a server: floorf(pct * 40.0 * n), where
/// pct is a float, the products are double, and floorf's argument is
/// rounded to float.
inline std::uint32_t libketama_digests(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile double x = static_cast<double>(pct) * 40.0;
  x = x * static_cast<double>(static_cast<float>(n));
  const volatile float xf = static_cast<float>(x);
  return static_cast<std::uint32_t>(std::floor(xf));
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
  /// host:port twice, with a permanent error.
  static Result<Ring> build(std::vector<ServerSpec> servers, Distribution d = Distribution::ketama);

  /// Index into servers() of the server for key.
  std::size_t server_for(std::string_view key) const noexcept {
    if (servers_.size() <= 1) return 0;  // a single server takes every key unhashed, as libmemcached does
    switch (dist_) {
      case Distribution::ketama:
      case Distribution::libketama: return lookup(hash::md5_le32(key));
      case Distribution::modula: return detail::one_at_a_time(key) % servers_.size();
      case Distribution::rendezvous: return rendezvous(key);
    }
    return 0;
  }

  /// out[i] = server_for(keys[i]) for i < n, hashing many keys at once.
  void server_for(const std::string_view* keys, std::size_t n, std::size_t* out) const noexcept {
    server_for_with(keys, n, out, detail::Md5Path::automatic);
  }

  /// The servers, in the order given to build().
  const std::vector<ServerSpec>& servers() const noexcept { return servers_; }

  /// The distribution this ring was built with.
  Distribution distribution() const noexcept { return dist_; }

  /// Total points on the continuum (ketama and libketama; else 0).
  std::size_t point_count() const noexcept { return points_.size(); }

  /// Points and expected share of keys for each server, aligned with servers().
  std::vector<ServerShare> describe() const;

  /// The batch lookup with a chosen MD5 path (tests force each path).
  void server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                       detail::Md5Path path) const noexcept;

  /// The ketama key hash: first four bytes of MD5(key), little-endian.
  static std::uint32_t ketama_hash(std::string_view key) noexcept { return hash::md5_le32(key); }

 private:
  std::size_t lookup(std::uint32_t h) const noexcept {
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
    if (lo == points_.size()) lo = 0;  // past the last point: wrap to the first
    return points_[lo].server;
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

  Result<void> build_continuum();

  std::vector<ServerSpec> servers_;
  Distribution dist_ = Distribution::ketama;
  std::vector<detail::RingPoint> points_;  // sorted by (value, server)
  std::vector<std::uint32_t> buckets_;     // buckets_[b] = first point >= b << shift_
  unsigned shift_ = 31;
  std::vector<detail::Murmur3> prefix_;    // rendezvous: murmur3 state after "name-"
  std::vector<std::string> names_;         // rendezvous: pymemcache's node names
};

inline Result<Ring> Ring::build(std::vector<ServerSpec> servers, Distribution d) {
  if (servers.empty()) return make_error(ErrorKind::permanent, "ring: empty server list");
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
  if (d == Distribution::ketama || d == Distribution::libketama) {
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

inline Result<void> Ring::build_continuum() {
  const std::size_t n = servers_.size();
  std::uint64_t total_weight = 0;
  for (const auto& s : servers_) total_weight += s.weight;
  const bool lib = dist_ == Distribution::libketama;

  std::vector<std::uint32_t> digests(n);
  std::size_t total_points = 0;
  for (std::size_t i = 0; i < n; ++i) {
    digests[i] = lib ? detail::libketama_digests(servers_[i].weight, total_weight, n)
                     : detail::ketama_points(servers_[i].weight, total_weight, n) / 4;
    total_points += static_cast<std::size_t>(digests[i]) * 4;
  }
  points_.clear();
  points_.reserve(total_points);
  // Point names are hashed in chunks through the multi-lane MD5; each name
  // has a fixed slot in one buffer.
  constexpr std::size_t kSlot = detail::kMaxHostLength + 32;
  constexpr std::size_t kChunk = 2048;
  std::vector<char> slots(kSlot * kChunk);
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
    const ServerSpec& s = servers_[i];
    for (std::uint32_t k = 0; k < digests[i]; ++k) {
      // ketama: "host-N" on the default port, else "host:port-N" (libmemcached);
      // libketama: always "host:port-N".
      char* const name = slots.data() + count * kSlot;
      char* p = name;
      std::memcpy(p, s.host.data(), s.host.size());
      p += s.host.size();
      if (lib || s.port != 11211) {
        *p++ = ':';
        p = detail::append_uint(p, s.port);
      }
      *p++ = '-';
      p = detail::append_uint(p, k);
      names[count] = std::string_view(name, static_cast<std::size_t>(p - name));
      owner[count] = static_cast<std::uint32_t>(i);
      if (++count == kChunk) flush();
    }
  }
  flush();
  if (points_.empty()) return make_error(ErrorKind::permanent, "ring: no points on the continuum");
  detail::sort_points(points_);

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

inline void Ring::server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                                  detail::Md5Path path) const noexcept {
  if (servers_.size() <= 1 || (dist_ != Distribution::ketama && dist_ != Distribution::libketama)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = server_for(keys[i]);
    return;
  }
  constexpr std::size_t kChunk = 256;
  std::uint32_t hashes[kChunk];
  for (std::size_t i = 0; i < n; i += kChunk) {
    const std::size_t m = std::min(kChunk, n - i);
    detail::md5_le32_batch(keys + i, m, hashes, path);
    for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup(hashes[j]);
  }
}

inline std::vector<Ring::ServerShare> Ring::describe() const {
  std::vector<ServerShare> out(servers_.size(), ServerShare{0, 0.0});
  if (servers_.empty()) return out;
  if (points_.empty() || servers_.size() == 1) {
    for (auto& s : out) s.share = 1.0 / static_cast<double>(servers_.size());
    for (const auto& p : points_) ++out[p.server].points;
    return out;
  }
  // A point owns the hashes after the previous point up to itself; the
  // first point also owns the wrap-around past the last one.
  constexpr double kSpace = 4294967296.0;
  std::uint32_t prev = points_.back().value;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const std::uint32_t v = points_[i].value;
    const double arc = i == 0 ? (kSpace - prev) + v : static_cast<double>(v - prev);
    out[points_[i].server].share += arc / kSpace;
    ++out[points_[i].server].points;
    prev = v;
  }
  return out;
}

CACHEKIT_END_NAMESPACE
