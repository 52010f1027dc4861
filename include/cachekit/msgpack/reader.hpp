#pragma once
// Hardened MessagePack decoder primitives. Input is untrusted (anything a
// cache server hands back): every length is checked against the bytes that
// remain, nesting is bounded by CACHEKIT_MSGPACK_MAX_DEPTH, and a failure is
// an Error, never undefined behaviour.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// An integer as read from the wire: sign plus value.
struct msgpack_int {
  bool negative = false;       ///< true only for values below zero
  std::uint64_t magnitude = 0;  ///< the value when !negative
  std::int64_t value = 0;       ///< the value when negative
};

/// Reads MessagePack from a byte range it does not own. Primitives return
/// false on failure and remember the first reason; error() turns it into an
/// Error naming the offset.
class msgpack_reader {
 public:
  explicit msgpack_reader(std::string_view input) noexcept
      : begin_(reinterpret_cast<const std::uint8_t*>(input.data())), p_(begin_), end_(begin_ + input.size()) {}

  std::size_t offset() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  bool at_end() const noexcept { return p_ == end_; }

  /// Records a failure (the first one wins) and returns false.
  bool fail(const char* message) noexcept {
    if (message_ == nullptr) {
      message_ = message;
      error_offset_ = offset();
    }
    return false;
  }
  bool failed() const noexcept { return message_ != nullptr; }
  /// The recorded failure as a permanent Error.
  Error error() const {
    std::string m = "msgpack: ";
    m += message_ != nullptr ? message_ : "decode failed";
    m += " at offset ";
    m += std::to_string(error_offset_);
    return Error(ErrorKind::permanent, std::move(m));
  }

  /// The next format byte without consuming it.
  bool peek(std::uint8_t& b) noexcept {
    if (p_ == end_) return fail("unexpected end of input");
    b = *p_;
    return true;
  }
  /// True (and consumed) when the next value is nil.
  bool try_nil() noexcept {
    if (p_ != end_ && *p_ == 0xc0) {
      ++p_;
      return true;
    }
    return false;
  }

  /// Enters a container; false past CACHEKIT_MSGPACK_MAX_DEPTH.
  bool enter() noexcept {
    if (depth_ >= CACHEKIT_MSGPACK_MAX_DEPTH) return fail("nesting deeper than CACHEKIT_MSGPACK_MAX_DEPTH");
    ++depth_;
    return true;
  }
  void leave() noexcept { --depth_; }

  bool read_nil() noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    if (b != 0xc0) return fail("expected nil");
    ++p_;
    return true;
  }

  bool read_bool(bool& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    if (b != 0xc2 && b != 0xc3) return fail("expected a boolean");
    out = b == 0xc3;
    ++p_;
    return true;
  }

  /// Any integer format.
  bool read_integer(msgpack_int& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    out = msgpack_int{};
    if (b <= 0x7f) {
      ++p_;
      out.magnitude = b;
      return true;
    }
    if (b >= 0xe0) {
      ++p_;
      out.negative = true;
      out.value = static_cast<std::int8_t>(b);
      return true;
    }
    std::uint64_t v;
    switch (b) {
      case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        const int n = 1 << (b - 0xcc);
        if (!take_be(1 + n, v)) return false;
        out.magnitude = v;
        return true;
      }
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        const int n = 1 << (b - 0xd0);
        if (!take_be(1 + n, v)) return false;
        // Sign-extend from n bytes.
        const int shift = 64 - 8 * n;
        const auto s = static_cast<std::int64_t>(v << shift) >> shift;
        if (s < 0) {
          out.negative = true;
          out.value = s;
        } else {
          out.magnitude = static_cast<std::uint64_t>(s);
        }
        return true;
      }
      default:
        return fail("expected an integer");
    }
  }

  /// An integer that must fit T (any wire width accepted).
  template <class T>
  bool read_int(T& out) noexcept {
    static_assert(std::is_integral_v<T>, "read_int needs an integer type");
    msgpack_int v;
    if (!read_integer(v)) return false;
    if (v.negative) {
      if constexpr (std::is_signed_v<T>) {
        if (v.value < static_cast<std::int64_t>(std::numeric_limits<T>::min())) {
          return fail("integer does not fit the target type");
        }
        out = static_cast<T>(v.value);
        return true;
      } else {
        return fail("negative integer for an unsigned type");
      }
    }
    if (v.magnitude > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
      return fail("integer does not fit the target type");
    }
    out = static_cast<T>(v.magnitude);
    return true;
  }

  /// float32, float64, or an integer (converted).
  bool read_double(double& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t v;
    if (b == 0xca) {
      if (!take_be(5, v)) return false;
      const auto bits = static_cast<std::uint32_t>(v);
      float f;
      std::memcpy(&f, &bits, 4);
      out = static_cast<double>(f);
      return true;
    }
    if (b == 0xcb) {
      if (!take_be(9, v)) return false;
      std::memcpy(&out, &v, 8);
      return true;
    }
    msgpack_int i;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
      if (!read_integer(i)) return false;
      out = i.negative ? static_cast<double>(i.value) : static_cast<double>(i.magnitude);
      return true;
    }
    return fail("expected a number");
  }

  /// str family; the view points into the input.
  bool read_str(std::string_view& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t n;
    if (b >= 0xa0 && b <= 0xbf) {
      ++p_;
      n = b & 0x1fu;
    } else if (b >= 0xd9 && b <= 0xdb) {
      if (!take_be(1 + (1 << (b - 0xd9)), n)) return false;
    } else {
      return fail("expected a string");
    }
    return take_view(n, out);
  }

  /// bin family; the view points into the input.
  bool read_bin(std::string_view& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    if (b < 0xc4 || b > 0xc6) return fail("expected a byte string");
    std::uint64_t n;
    if (!take_be(1 + (1 << (b - 0xc4)), n)) return false;
    return take_view(n, out);
  }

  /// Array header; n is checked against the remaining input (one byte per element at least).
  bool read_array_header(std::uint32_t& n) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t v;
    if (b >= 0x90 && b <= 0x9f) {
      ++p_;
      v = b & 0x0fu;
    } else if (b == 0xdc || b == 0xdd) {
      if (!take_be(b == 0xdc ? 3 : 5, v)) return false;
    } else {
      return fail("expected an array");
    }
    if (v > remaining()) return fail("array length exceeds the input");
    n = static_cast<std::uint32_t>(v);
    return true;
  }

  /// Map header; n is checked against the remaining input (two bytes per entry at least).
  bool read_map_header(std::uint32_t& n) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t v;
    if (b >= 0x80 && b <= 0x8f) {
      ++p_;
      v = b & 0x0fu;
    } else if (b == 0xde || b == 0xdf) {
      if (!take_be(b == 0xde ? 3 : 5, v)) return false;
    } else {
      return fail("expected a map");
    }
    if (v * 2 > remaining()) return fail("map length exceeds the input");
    n = static_cast<std::uint32_t>(v);
    return true;
  }

  /// Extension value (fixext or ext 8/16/32); the view points into the input.
  bool read_ext(std::int8_t& type, std::string_view& data) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t n;
    if (b >= 0xd4 && b <= 0xd8) {
      ++p_;
      n = std::uint64_t{1} << (b - 0xd4);
    } else if (b >= 0xc7 && b <= 0xc9) {
      if (!take_be(1 + (1 << (b - 0xc7)), n)) return false;
    } else {
      return fail("expected an extension value");
    }
    if (p_ == end_) return fail("unexpected end of input");
    type = static_cast<std::int8_t>(*p_++);
    return take_view(n, data);
  }

  /// Skips one complete value of any type, without recursion.
  bool skip() noexcept {
    std::uint64_t pending = 1;
    while (pending > 0) {
      --pending;
      std::uint8_t b;
      if (!peek(b)) return false;
      std::uint64_t n = 0;
      std::string_view ignored;
      if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        ++p_;
      } else if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) {
        std::uint32_t m;
        if (!read_map_header(m)) return false;
        pending += 2 * static_cast<std::uint64_t>(m);
      } else if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
        std::uint32_t m;
        if (!read_array_header(m)) return false;
        pending += m;
      } else if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
        if (!read_str(ignored)) return false;
      } else if (b >= 0xc4 && b <= 0xc6) {
        if (!read_bin(ignored)) return false;
      } else if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) {
        std::int8_t t;
        if (!read_ext(t, ignored)) return false;
      } else if (b == 0xca) {
        if (!take_be(5, n)) return false;
      } else if (b == 0xcb) {
        if (!take_be(9, n)) return false;
      } else if (b >= 0xcc && b <= 0xd3) {
        msgpack_int i;
        if (!read_integer(i)) return false;
      } else {
        return fail("invalid format byte 0xc1");
      }
    }
    return true;
  }

 private:
  // Consumes `total` bytes: one format byte, then a big-endian number of total-1 bytes.
  bool take_be(int total, std::uint64_t& out) noexcept {
    if (remaining() < static_cast<std::size_t>(total)) return fail("unexpected end of input");
    std::uint64_t v = 0;
    for (int i = 1; i < total; ++i) v = (v << 8) | p_[i];
    p_ += total;
    out = v;
    return true;
  }
  bool take_view(std::uint64_t n, std::string_view& out) noexcept {
    if (n > remaining()) return fail("length exceeds the input");
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const char* message_ = nullptr;
  std::size_t error_offset_ = 0;
  int depth_ = 0;
};

}  // namespace detail

CACHEKIT_END_NAMESPACE
