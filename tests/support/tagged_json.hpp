#pragma once
// Test-only bridge from the interop conformance file's tagged JSON
// ({"$set": ...}, {"$float": "2.0"}, ...) to a dynamic value whose
// codec<> encodes through the library's own range helpers, so the vectors
// exercise the same canonicalization code as typed arguments.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

namespace cktest {

/// A parsed JSON value (numbers kept as their source text).
struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // number literal or string contents (UTF-8)
  std::vector<Json> items;        // array elements, or object values
  std::vector<std::string> keys;  // object keys, parallel to items

  /// The member named key, or nullptr.
  const Json* find(std::string_view key) const;
};

/// Parses strict JSON (\u escapes and surrogate pairs decoded to UTF-8).
cachekit::Result<Json> parse_json(std::string_view text);

/// Whole file contents ("" when unreadable).
std::string read_file(const std::string& path);

/// Lowercase hex of bytes, and back (hex must be valid).
std::string to_hex(std::string_view bytes);
std::string from_hex(std::string_view hex);

/// A dynamic interop value.
struct Tagged {
  enum class Kind { nil, boolean, uint, sint, real, string, bin, array, map, set, time, uuid };
  Kind kind = Kind::nil;
  bool boolean = false;
  std::uint64_t uint = 0;
  std::int64_t sint = 0;
  double real = 0;
  std::string string;
  cachekit::bytes bin;
  cachekit::uuid id;
  std::chrono::system_clock::time_point time;
  std::vector<Tagged> items;     // array, set, or map values
  std::vector<std::string> keys;  // map keys, parallel to items
};

/// Converts tagged JSON to a Tagged value; an Error for inputs C++ cannot
/// hold ($int beyond 64 bits) or the library rejects (naive $datetime, bad $uuid).
cachekit::Result<Tagged> tagged_from_json(const Json& j);

/// Canonical bytes of the argument array, encoded with the library helpers.
cachekit::Result<std::string> canonical_args_of(const std::vector<Tagged>& args);

}  // namespace cktest

namespace cachekit {
template <>
struct codec<cktest::Tagged> {
  static void encode(detail::msgpack_writer& w, const cktest::Tagged& v) {
    using K = cktest::Tagged::Kind;
    switch (v.kind) {
      case K::nil: return w.nil();
      case K::boolean: return codec<bool>::encode(w, v.boolean);
      case K::uint: return codec<std::uint64_t>::encode(w, v.uint);
      case K::sint: return codec<std::int64_t>::encode(w, v.sint);
      case K::real: return codec<double>::encode(w, v.real);
      case K::string: return codec<std::string>::encode(w, v.string);
      case K::bin: return codec<bytes>::encode(w, v.bin);
      case K::uuid: return codec<uuid>::encode(w, v.id);
      case K::time: return codec<std::chrono::system_clock::time_point>::encode(w, v.time);
      case K::array: return detail::write_array_range(w, v.items.begin(), v.items.end(), v.items.size());
      case K::set: return detail::write_set_range(w, v.items.begin(), v.items.end(), v.items.size());
      case K::map: {
        // Kept as parallel vectors: a pair holding the incomplete Tagged cannot be a member.
        std::vector<std::pair<std::string_view, const cktest::Tagged&>> entries;
        for (std::size_t i = 0; i < v.keys.size(); ++i) entries.emplace_back(v.keys[i], v.items[i]);
        return detail::write_map_range(w, entries.begin(), entries.end(), entries.size());
      }
    }
  }
};
}  // namespace cachekit
