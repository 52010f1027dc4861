#pragma once
// Interop keys: cache keys shared with cachekit's Python, Rust and
// TypeScript SDKs (interop/v1).
//
//   key = "{namespace}:{operation}:{args_hash}"
//   args_hash = lowercase hex BLAKE2b-256 (unkeyed) of the canonical
//               MessagePack of the flat array of the call's arguments
//
// Canonical profile (detail::msgpack_profile::canonical): integers in the
// shortest form (range -2^63 .. 2^64-1); floats as float64, except integral
// values in [-2^63, 2^64) (including -0.0), which are encoded as integers;
// NaN and infinities are errors; strings must be well-formed UTF-8; map keys
// must be strings and are sorted by code point (UTF-8 byte order) at every
// level; sets become arrays sorted by their encoded bytes, duplicates
// removed; time points become float64 epoch seconds (floored to whole
// microseconds, then divided by 10^6, then the float rule); UUIDs become
// lowercase hyphenated strings; cachekit::bytes become bin.

#include <string>
#include <string_view>

#include "hash/blake2b.hpp"
#include "msgpack.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// True when s fully matches ^[a-z0-9][a-z0-9._-]{0,63}$ (an interop
/// namespace or operation).
inline bool is_valid_interop_segment(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) continue;
    if (i > 0 && (c == '.' || c == '_' || c == '-')) continue;
    return false;
  }
  return true;
}

/// The canonical MessagePack of the argument array [args...] that interop
/// keys hash; an Error for values outside the interop data model (NaN,
/// infinities, non-string map keys, malformed UTF-8, ...).
template <class... Args>
Result<std::string> canonical_args(const Args&... args) {
  detail::msgpack_writer w(detail::msgpack_profile::canonical);
  w.array_header(sizeof...(Args));
  (codec<std::remove_cv_t<Args>>::encode(w, args), ...);
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

/// "{ns}:{operation}:{hash}" from already-canonical argument bytes; an Error
/// when a segment is invalid.
CACHEKIT_DETAIL_LINKAGE Result<std::string> interop_key_from_canonical(std::string_view ns, std::string_view operation,
                                                                       std::string_view canonical);

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
CACHEKIT_DETAIL_LINKAGE Result<std::string> interop_key_from_canonical(std::string_view ns, std::string_view operation,
                                                                       std::string_view canonical) {
  if (!is_valid_interop_segment(ns)) {
    return Error(ErrorKind::permanent,
                 "interop: namespace '" + std::string(ns) + "' must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  }
  if (!is_valid_interop_segment(operation)) {
    return Error(ErrorKind::permanent,
                 "interop: operation '" + std::string(operation) + "' must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  }
  std::string key;
  key.reserve(ns.size() + operation.size() + 2 + 64);
  key.append(ns);
  key += ':';
  key.append(operation);
  key += ':';
  key += blake2b_hex(canonical, 32);
  return key;
}
#endif  // CACHEKIT_DETAIL_VIEW

/// The interop cache key "{ns}:{operation}:{blake2b-256 hex of canonical
/// msgpack of [args...]}", shared with the other cachekit SDKs; an Error for
/// an invalid segment or an argument outside the interop data model.
template <class... Args>
Result<std::string> interop_key(std::string_view ns, std::string_view operation, const Args&... args) {
  if (!is_valid_interop_segment(ns) || !is_valid_interop_segment(operation)) {
    return interop_key_from_canonical(ns, operation, {});
  }
  auto canonical = canonical_args(args...);
  if (!canonical) return std::move(canonical).error();
  return interop_key_from_canonical(ns, operation, *canonical);
}

CACHEKIT_END_NAMESPACE
