#pragma once
// MessagePack encoder primitives. One writer serves two profiles: plain
// values (what cache entries store) and the canonical profile that interop
// keys hash (numbers collapsed, map keys sorted, strings checked as UTF-8).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Which encoding rules a writer follows.
enum class msgpack_profile : std::uint8_t {
  value,      ///< plain MessagePack, shortest integer and length forms
  canonical,  ///< the interop/v1 argument profile (see interop.hpp)
};

/// True when s is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
inline bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len;
    unsigned min_second = 0x80, max_second = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) min_second = 0xa0;  // overlong
      if (c == 0xed) max_second = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) min_second = 0x90;  // overlong
      if (c == 0xf4) max_second = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (p[1] < min_second || p[1] > max_second) return false;
    for (std::size_t i = 2; i < len; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += len;
  }
  return true;
}

/// Appends MessagePack to a string. Encoding never throws; the first
/// failure (NaN in the canonical profile, a container over 2^32-1 items, ...)
/// is kept and later writes are ignored.
class msgpack_writer {
 public:
  explicit msgpack_writer(msgpack_profile profile = msgpack_profile::value) noexcept : profile_(profile) {}

  msgpack_profile profile() const noexcept { return profile_; }
  bool canonical() const noexcept { return profile_ == msgpack_profile::canonical; }

  bool ok() const noexcept { return !failed_; }
  const Error& error() const noexcept { return error_; }
  /// Records the first failure; later writes are ignored.
  void fail(std::string message) {
    if (failed_) return;
    failed_ = true;
    error_ = Error(ErrorKind::permanent, "msgpack: " + std::move(message));
  }
  /// Adopts another writer's failure (used when encoding through a sub-writer).
  void fail(const Error& e) {
    if (failed_) return;
    failed_ = true;
    error_ = e;
  }

  const std::string& bytes() const noexcept { return buf_; }
  std::string take() && { return std::move(buf_); }
  void clear() noexcept { buf_.clear(); }
  void reserve(std::size_t n) { buf_.reserve(n); }

  void nil() { put(0xc0); }
  void boolean(bool b) { put(b ? 0xc3 : 0xc2); }

  /// Non-negative integer, shortest form.
  void uint(std::uint64_t v) {
    if (v < 0x80) {
      put(static_cast<std::uint8_t>(v));
    } else if (v <= 0xff) {
      put(0xcc);
      put(static_cast<std::uint8_t>(v));
    } else if (v <= 0xffff) {
      put(0xcd);
      be(v, 2);
    } else if (v <= 0xffffffffu) {
      put(0xce);
      be(v, 4);
    } else {
      put(0xcf);
      be(v, 8);
    }
  }

  /// Signed integer, shortest form (non-negative values use the uint family,
  /// as msgpack-python does).
  void sint(std::int64_t v) {
    if (v >= 0) return uint(static_cast<std::uint64_t>(v));
    const auto u = static_cast<std::uint64_t>(v);
    if (v >= -32) {
      put(static_cast<std::uint8_t>(u));
    } else if (v >= -128) {
      put(0xd0);
      be(u, 1);
    } else if (v >= -32768) {
      put(0xd1);
      be(u, 2);
    } else if (v >= -2147483648LL) {
      put(0xd2);
      be(u, 4);
    } else {
      put(0xd3);
      be(u, 8);
    }
  }

  void float32(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    put(0xca);
    be(bits, 4);
  }
  void float64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    put(0xcb);
    be(bits, 8);
  }

  /// A floating-point number under the writer's profile: float64 for values;
  /// for canonical keys NaN/inf fail and integral values in [-2^63, 2^64)
  /// (including -0.0) become integers.
  void number(double d) {
    if (!canonical()) return float64(d);
    if (__builtin_isnan(d) || __builtin_isinf(d)) return fail("NaN and infinities cannot be hashed into an interop key");
    if (d == __builtin_floor(d) && d >= -9223372036854775808.0 && d < 18446744073709551616.0) {
      if (d < 0) return sint(static_cast<std::int64_t>(d));
      return uint(static_cast<std::uint64_t>(d));
    }
    float64(d);
  }

  /// UTF-8 string (str family). The canonical profile rejects malformed UTF-8.
  void str(std::string_view s) {
    if (canonical() && !valid_utf8(s)) return fail("string is not well-formed UTF-8");
    if (!length_fits(s.size())) return;
    const std::size_t n = s.size();
    if (n < 32) {
      put(static_cast<std::uint8_t>(0xa0 | n));
    } else if (n <= 0xff) {
      put(0xd9);
      be(n, 1);
    } else if (n <= 0xffff) {
      put(0xda);
      be(n, 2);
    } else {
      put(0xdb);
      be(n, 4);
    }
    append(s.data(), n);
  }

  /// Byte string (bin family).
  void bin(const void* data, std::size_t n) {
    if (!length_fits(n)) return;
    if (n <= 0xff) {
      put(0xc4);
      be(n, 1);
    } else if (n <= 0xffff) {
      put(0xc5);
      be(n, 2);
    } else {
      put(0xc6);
      be(n, 4);
    }
    append(data, n);
  }

  void array_header(std::size_t n) {
    if (!length_fits(n)) return;
    if (n < 16) {
      put(static_cast<std::uint8_t>(0x90 | n));
    } else if (n <= 0xffff) {
      put(0xdc);
      be(n, 2);
    } else {
      put(0xdd);
      be(n, 4);
    }
  }

  void map_header(std::size_t n) {
    if (!length_fits(n)) return;
    if (n < 16) {
      put(static_cast<std::uint8_t>(0x80 | n));
    } else if (n <= 0xffff) {
      put(0xde);
      be(n, 2);
    } else {
      put(0xdf);
      be(n, 4);
    }
  }

  /// Appends bytes that are already MessagePack.
  void raw(std::string_view encoded) { append(encoded.data(), encoded.size()); }

 private:
  bool length_fits(std::size_t n) {
    if (static_cast<std::uint64_t>(n) <= 0xffffffffu) return true;
    fail("length over 2^32-1 cannot be encoded");
    return false;
  }
  void put(std::uint8_t b) {
    if (!failed_) buf_.push_back(static_cast<char>(b));
  }
  void be(std::uint64_t v, int n) {
    if (failed_) return;
    char tmp[8];
    for (int i = 0; i < n; ++i) tmp[i] = static_cast<char>(v >> (8 * (n - 1 - i)));
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
  void append(const void* data, std::size_t n) {
    if (!failed_ && n > 0) buf_.append(static_cast<const char*>(data), n);
  }

  std::string buf_;
  Error error_;
  msgpack_profile profile_;
  bool failed_ = false;
};

}  // namespace detail

CACHEKIT_END_NAMESPACE
