#pragma once
// The names of key placements: how keys are spread over servers
// (Distribution) and the key's hash on a ketama ring (KeyHash). The rings
// themselves are in ring.hpp.

#include <string>
#include <string_view>

#include "error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// How keys are spread over servers.
enum class Distribution {
  ketama,                ///< libmemcached 1.1.4 with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (default); twemproxy ketama
  libketama,             ///< last.fm's C libketama (floorf point counts, "host:port-N")
  modula,                ///< libmemcached's default: one-at-a-time hash modulo server count
  rendezvous,            ///< pymemcache HashClient's default (murmur3 highest random weight)
  spymemcached,          ///< spymemcached KetamaNodeLocator; a weights map when any weight is not 1
  spymemcached_weighted, ///< spymemcached KetamaNodeLocator with a weights map, even when all weights are equal
  uhashring,             ///< Python uhashring's ketama ring (exact integer point counts)
  dalli                  ///< Ruby Dalli's ring (SHA-1 points, CRC-32 keys)
};

/// Name of a Distribution ("ketama", ...).
inline const char* to_string(Distribution d) noexcept {
  switch (d) {
    case Distribution::ketama: return "ketama";
    case Distribution::libketama: return "libketama";
    case Distribution::modula: return "modula";
    case Distribution::rendezvous: return "rendezvous";
    case Distribution::spymemcached: return "spymemcached";
    case Distribution::spymemcached_weighted: return "spymemcached_weighted";
    case Distribution::uhashring: return "uhashring";
    case Distribution::dalli: return "dalli";
  }
  return "ketama";
}

/// Every Distribution, in declaration order.
inline constexpr Distribution kAllDistributions[] = {
    Distribution::ketama,       Distribution::libketama,             Distribution::modula,
    Distribution::rendezvous,   Distribution::spymemcached,          Distribution::spymemcached_weighted,
    Distribution::uhashring,    Distribution::dalli};

/// Parses a distribution name; an unknown name is a permanent error.
inline Result<Distribution> parse_distribution(std::string_view name) {
  if (name == "ketama") return Distribution::ketama;
  if (name == "libketama") return Distribution::libketama;
  if (name == "modula") return Distribution::modula;
  if (name == "rendezvous") return Distribution::rendezvous;
  if (name == "spymemcached") return Distribution::spymemcached;
  if (name == "spymemcached_weighted") return Distribution::spymemcached_weighted;
  if (name == "uhashring") return Distribution::uhashring;
  if (name == "dalli") return Distribution::dalli;
  return make_error(ErrorKind::permanent, "unknown distribution '" + std::string(name) +
                                              "' (expected ketama, libketama, modula, rendezvous, spymemcached, "
                                              "spymemcached_weighted, uhashring or dalli)");
}

/// The hash of the key on a ketama ring (libmemcached's
/// MEMCACHED_BEHAVIOR_HASH, twemproxy's `hash:`); ring points stay MD5.
enum class KeyHash {
  md5,            ///< first 4 bytes of MD5, little-endian (the default of both)
  crc32,          ///< libmemcached MEMCACHED_HASH_CRC = twemproxy `crc32`: (CRC-32 >> 16) & 0x7fff
  fnv1_64,        ///< FNV-1, 64-bit, low 32 bits
  fnv1a_64,       ///< FNV-1a, 64-bit, low 32 bits (twemproxy's sample config)
  fnv1_32,        ///< FNV-1, 32-bit
  fnv1a_32,       ///< FNV-1a, 32-bit
  murmur,         ///< MurmurHash2, seed 0xdeadbeef * length
  jenkins,        ///< lookup3 hashlittle, initval 13
  hsieh,          ///< SuperFastHash (twemproxy; Debian's libmemcached is built without it)
  one_at_a_time,  ///< Jenkins one-at-a-time (libmemcached's default for modula)
  crc32a          ///< twemproxy `crc32a`: the full CRC-32 (zlib's)
};

/// Name of a KeyHash, as twemproxy's config spells it ("fnv1a_64", ...).
inline const char* to_string(KeyHash h) noexcept {
  switch (h) {
    case KeyHash::md5: return "md5";
    case KeyHash::crc32: return "crc32";
    case KeyHash::fnv1_64: return "fnv1_64";
    case KeyHash::fnv1a_64: return "fnv1a_64";
    case KeyHash::fnv1_32: return "fnv1_32";
    case KeyHash::fnv1a_32: return "fnv1a_32";
    case KeyHash::murmur: return "murmur";
    case KeyHash::jenkins: return "jenkins";
    case KeyHash::hsieh: return "hsieh";
    case KeyHash::one_at_a_time: return "one_at_a_time";
    case KeyHash::crc32a: return "crc32a";
  }
  return "md5";
}

/// Every KeyHash, in declaration order.
inline constexpr KeyHash kAllKeyHashes[] = {KeyHash::md5,      KeyHash::crc32,   KeyHash::fnv1_64, KeyHash::fnv1a_64,
                                            KeyHash::fnv1_32,  KeyHash::fnv1a_32, KeyHash::murmur, KeyHash::jenkins,
                                            KeyHash::hsieh,    KeyHash::one_at_a_time, KeyHash::crc32a};

/// Parses a key hash name (twemproxy's spelling); an unknown name is a permanent error.
inline Result<KeyHash> parse_key_hash(std::string_view name) {
  for (KeyHash h : kAllKeyHashes) {
    if (name == to_string(h)) return h;
  }
  return make_error(ErrorKind::permanent, "unknown key hash '" + std::string(name) +
                                              "' (expected md5, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, "
                                              "fnv1a_32, murmur, jenkins, hsieh or one_at_a_time)");
}

CACHEKIT_END_NAMESPACE
