#pragma once
// Line and number helpers shared by the text and meta codecs: finding a
// line end within a bound, decimal numbers with overflow checks in both
// directions, space-separated tokens, key checks, and the error lines both
// protocols send. Pure: no I/O, no allocation.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "reply.hpp"
#include "bytes.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace ascii {

/// Longest decimal form of a 64-bit number, with a sign.
inline constexpr std::size_t kMaxNumberDigits = 20;

/// Where the line at the start of a buffer ends.
struct LineEnd {
  enum Status : std::uint8_t { found, need_more, too_long, bad_ending } status = need_more;
  std::size_t length = 0;  ///< found: bytes before the "\r\n"
};

/// The first '\n' among the n bytes at p, or nullptr. Reply lines are
/// short: eight bytes at a time, without a library call.
CACHEKIT_HOT_INLINE const char* find_newline(const char* p, std::size_t n) noexcept {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  constexpr std::uint64_t kNewlines = 0x0a0a0a0a0a0a0a0aull;
  const char* const end = p + n;
  for (; end - p >= 8; p += 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= kNewlines;  // a '\n' byte is now zero
    // The lowest set bit marks the first zero byte exactly (a borrow only
    // runs towards higher bytes).
    const std::uint64_t zero = (w - kOnes) & ~w & kHighs;
    if (zero != 0) return p + (__builtin_ctzll(zero) >> 3);
  }
  for (; p < end; ++p) {
    if (*p == '\n') return p;
  }
  return nullptr;
#else
  return n == 0 ? nullptr : static_cast<const char*>(std::memchr(p, '\n', n));
#endif
}

/// Looks for the "\r\n" that ends the line at p (n bytes available),
/// searching at most max_line + 2 bytes. A '\n' without '\r' before it is
/// a bad ending; no '\n' within the bound is too_long.
CACHEKIT_HOT_INLINE LineEnd find_line(const char* p, std::size_t n, std::size_t max_line) noexcept {
  const std::size_t bound = max_line + 2;
  const std::size_t look = n < bound ? n : bound;
  const char* nl = find_newline(p, look);
  if (nl == nullptr) return {n < bound ? LineEnd::need_more : LineEnd::too_long, 0};
  const std::size_t at = static_cast<std::size_t>(nl - p);
  if (at == 0 || p[at - 1] != '\r') return {LineEnd::bad_ending, 0};
  return {LineEnd::found, at - 1};
}

/// Parses an unsigned decimal (digits only, at least one) into out;
/// false when s is not one or the number does not fit 64 bits.
inline bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > kMaxNumberDigits) return false;
  std::uint64_t v = 0;
  for (const char ch : s) {
    const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(ch)) - '0';
    if (d > 9) return false;
    v = v * 10 + d;  // wraps only for 20 digits, checked below
  }
  // Twenty digits fit only up to 2^64 - 1; same-length digit strings
  // compare as their numbers do.
  if (s.size() == kMaxNumberDigits && s > std::string_view("18446744073709551615")) return false;
  out = v;
  return true;
}

/// Reads the decimal digits at p into v and returns the byte after them;
/// nullptr when there is none or more than 19 (then the full parser
/// decides). p lies in a line already found: its "\r" stops the scan.
/// For the fast paths of the decoders.
CACHEKIT_HOT_INLINE const char* scan_digits(const char* p, std::uint64_t& v) noexcept {
  const char* start = p;
  std::uint64_t x = 0;
  for (unsigned d; (d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0') <= 9; ++p) x = x * 10 + d;
  if (p == start || p - start > 19) return nullptr;
  v = x;
  return p;
}

/// A number of one to three decimal digits at p, read a byte at a time
/// (p[0] to p[3] are read): true with v and after set when it ends there;
/// false otherwise, with after nullptr when p[0] is no digit and p + 3 when
/// a fourth digit follows (v then holds the first three). The sizes, flags
/// and opaques of most replies have one to three digits.
CACHEKIT_HOT_INLINE bool three_digits(const char* p, std::uint64_t& v, const char*& after) noexcept {
  const unsigned d0 = static_cast<unsigned>(static_cast<unsigned char>(p[0])) - '0';
  if (d0 > 9) {
    after = nullptr;
    return false;
  }
  const unsigned d1 = static_cast<unsigned>(static_cast<unsigned char>(p[1])) - '0';
  if (d1 > 9) {
    v = d0;
    after = p + 1;
    return true;
  }
  const unsigned d2 = static_cast<unsigned>(static_cast<unsigned char>(p[2])) - '0';
  if (d2 > 9) {
    v = d0 * 10 + d1;
    after = p + 2;
    return true;
  }
  v = d0 * 100 + d1 * 10 + d2;
  after = p + 3;
  return static_cast<unsigned>(static_cast<unsigned char>(p[3])) - '0' > 9;
}

/// Reads exactly four decimal digits at p (leading zeros allowed) into v:
/// false when any of the four bytes is no digit. Reads p[0..3], which must
/// lie in the buffer. The opaques of a batch read of up to 10,000 keys are
/// written this way (protocol::meta::encode_mg_batch_run).
CACHEKIT_HOT_INLINE bool four_digits(const char* p, std::uint64_t& v) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  const std::uint32_t x = w ^ 0x30303030u;  // a digit byte becomes 0..9
  if (((x | (x + 0x06060606u)) & 0xF0F0F0F0u) != 0) return false;
  const std::uint32_t pairs = (x * 10 + (x >> 8)) & 0x00FF00FFu;  // first two and last two digits
  v = (pairs * 100 + (pairs >> 16)) & 0xFFFFu;
  return true;
#else
  std::uint64_t x = 0;
  for (int i = 0; i < 4; ++i) {
    const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(p[i])) - '0';
    if (d > 9) return false;
    x = x * 10 + d;
  }
  v = x;
  return true;
#endif
}

/// Reads the decimal digits in [p, end) into v and returns the byte after
/// them, which must lie before end; nullptr (v then unspecified) when there
/// is no digit, more than 19, or the digits run to end. For the fast paths
/// of the decoders where no line has been found yet.
CACHEKIT_HOT_INLINE const char* scan_digits_before(const char* p, const char* end, std::uint64_t& v) noexcept {
  if (end - p >= 4) {
    const char* after = nullptr;
    if (three_digits(p, v, after)) return after;
    if (after == nullptr) return nullptr;
  }
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (end - p >= 9) {
    // Eight bytes at once: the run of digits at the front, then its value.
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    const std::uint64_t x = w ^ 0x3030303030303030ull;  // a digit byte becomes 0..9
    // A byte is no digit when its high nibble is set, or when adding 6 sets
    // it (10..15). A carry out of a byte reaches only later bytes, so the
    // first non-digit is found exactly.
    const std::uint64_t bad = (x | (x + 0x0606060606060606ull)) & 0xF0F0F0F0F0F0F0F0ull;
    if (bad != 0) {
      const unsigned n = static_cast<unsigned>(__builtin_ctzll(bad)) >> 3;  // leading digits, 0..7
      if (n == 0) return nullptr;
      // The digits moved to the top bytes (leading zeros below), then
      // combined pairwise: 2, 4, 8 digits.
      std::uint64_t d = (x << (8 * (8 - n))) & 0x0F0F0F0F0F0F0F0Full;
      d = (d * 2561) >> 8;
      d = ((d & 0x00FF00FF00FF00FFull) * 6553601) >> 16;
      d = ((d & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;
      v = d;
      return p + n;
    }
  }
#endif
  const char* start = p;
  const char* stop = end - p > 20 ? p + 20 : end;
  std::uint64_t x = 0;
  for (unsigned d; p < stop && (d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0') <= 9; ++p) x = x * 10 + d;
  if (p == start || p == end || p - start > 19) return nullptr;
  v = x;
  return p;
}

/// Reads one to seven decimal digits at p into v and returns the byte
/// after them; nullptr (v then unspecified) when there is no digit or more
/// than seven (then a checked parser decides). Reads up to eight bytes from
/// p, which must all lie in the buffer. For the fast paths of the decoders
/// that first made sure of that.
CACHEKIT_HOT_INLINE const char* scan_short_digits(const char* p, std::uint64_t& v) noexcept {
  const char* after = nullptr;
  if (three_digits(p, v, after)) return after;
  if (after == nullptr) return nullptr;
  std::uint64_t x = v;
  for (unsigned i = 3; i < 8; ++i) {
    const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(p[i])) - '0';
    if (d > 9) {
      v = x;
      return p + i;
    }
    x = x * 10 + d;
  }
  return nullptr;
}

/// The end of the token at p (the first space or control byte); p lies in
/// a line already found, whose "\r" stops the scan, and bytes up to end
/// may be read.
CACHEKIT_HOT_INLINE const char* scan_token(const char* p, const char* end) noexcept {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr std::uint64_t kSpaces = 0x2121212121212121ull;  // one more than ' ' in every byte
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  for (; end - p >= 8; p += 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    // The lowest set bit marks the first byte below 0x21 exactly.
    const std::uint64_t low = (w - kSpaces) & ~w & kHighs;
    if (low != 0) return p + (__builtin_ctzll(low) >> 3);
  }
#else
  (void)end;
#endif
  while (static_cast<unsigned char>(*p) > ' ') ++p;
  return p;
}


/// Parses an unsigned decimal that fits 32 bits.
inline bool parse_u32(std::string_view s, std::uint32_t& out) noexcept {
  std::uint64_t v = 0;
  if (!parse_u64(s, v) || v > UINT32_MAX) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

/// Parses a signed decimal (optional leading '-') that fits 64 bits.
inline bool parse_i64(std::string_view s, std::int64_t& out) noexcept {
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  std::uint64_t v = 0;
  if (!parse_u64(s, v)) return false;
  const std::uint64_t limit = negative ? std::uint64_t{INT64_MAX} + 1 : std::uint64_t{INT64_MAX};
  if (v > limit) return false;
  out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

/// Parses a counter as memcached stores it: digits, then possibly spaces
/// (incr/decr rewrite a shorter number in place, padded with spaces).
inline bool parse_counter(std::string_view s, std::uint64_t& out) noexcept {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return parse_u64(s, out);
}

/// Writes v in decimal at p; returns the end.
inline char* write_u64(char* p, std::uint64_t v) noexcept {
  if (v < 10) {  // flags 0, small opaques and TTLs
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  char tmp[kMaxNumberDigits];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

/// Writes v in decimal (with '-' when negative) at p; returns the end.
inline char* write_i64(char* p, std::int64_t v) noexcept {
  if (v >= 0) return write_u64(p, static_cast<std::uint64_t>(v));
  *p++ = '-';
  return write_u64(p, 0 - static_cast<std::uint64_t>(v));
}

/// Copies s to p; returns the end.
CACHEKIT_HOT_INLINE char* write(char* p, std::string_view s) noexcept {
  protocol::detail::copy_bytes(p, s.data(), s.size());
  return p + s.size();
}

/// Takes the next space-separated token off the front of rest (runs of
/// spaces are skipped); empty when none is left.
inline std::string_view next_token(std::string_view& rest) noexcept {
  std::size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  std::size_t j = i;
  while (j < rest.size() && rest[j] != ' ') ++j;
  const std::string_view token = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return token;
}

/// Whether a key may be sent in a text or meta command: 1 to max_length
/// bytes, none of them a space, a control character or DEL (the server
/// would split the command there or accept bytes a reader cannot echo).
inline bool is_valid_key(std::string_view key, std::size_t max_length = CACHEKIT_MAX_KEY_LENGTH) noexcept {
  if (key.empty() || key.size() > max_length) return false;
  for (const char ch : key) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

/// Whether a version string ("1.6.18", "1.6.9-beta") is at least major.minor.patch.
inline bool version_at_least(std::string_view version, std::uint32_t major, std::uint32_t minor,
                             std::uint32_t patch) noexcept {
  std::uint32_t part[3] = {0, 0, 0};
  std::size_t i = 0;
  for (int k = 0; k < 3; ++k) {
    std::uint64_t v = 0;
    std::size_t start = i;
    while (i < version.size() && version[i] >= '0' && version[i] <= '9' && v < 100000) {
      v = v * 10 + static_cast<std::uint64_t>(version[i] - '0');
      ++i;
    }
    if (i == start) break;
    part[k] = static_cast<std::uint32_t>(v);
    if (i < version.size() && version[i] == '.') ++i;
    else break;
  }
  if (part[0] != major) return part[0] > major;
  if (part[1] != minor) return part[1] > minor;
  return part[2] >= patch;
}

/// Decodes an error line (ERROR, CLIENT_ERROR <msg>, SERVER_ERROR <msg>)
/// into r; false when the line is not one.
inline bool decode_error_line(std::string_view line, ServerReply& r) noexcept {
  if (line.size() >= 5 && line.compare(0, 5, "ERROR") == 0 && (line.size() == 5 || line[5] == ' ')) {
    r.kind = ReplyKind::error;
    r.text = line.size() > 6 ? line.substr(6) : std::string_view();
    return true;
  }
  if (line.size() >= 12 && line.compare(0, 12, "CLIENT_ERROR") == 0 && (line.size() == 12 || line[12] == ' ')) {
    r.kind = ReplyKind::client_error;
    r.text = line.size() > 13 ? line.substr(13) : std::string_view();
    return true;
  }
  if (line.size() >= 12 && line.compare(0, 12, "SERVER_ERROR") == 0 && (line.size() == 12 || line[12] == ' ')) {
    r.kind = ReplyKind::server_error;
    r.text = line.size() > 13 ? line.substr(13) : std::string_view();
    return true;
  }
  return false;
}

/// Shared first step of a text or meta decode: finds the line at data or
/// reports need_more / malformed in d. Returns true with line set when found.
inline bool take_line(const char* data, std::size_t n, const Limits& lim, std::string_view& line,
                      Decoded& d) noexcept {
  const LineEnd e = find_line(data, n, lim.max_line);
  switch (e.status) {
    case LineEnd::found: line = std::string_view(data, e.length); return true;
    case LineEnd::need_more: d = Decoded::need(n + 1); return false;
    case LineEnd::too_long: d = Decoded::bad("reply line too long (no \\r\\n within the limit)"); return false;
    case LineEnd::bad_ending: d = Decoded::bad("reply line ends in \\n without \\r"); return false;
  }
  return false;
}

/// Checks the data block of a value reply: size bytes after a line of
/// line_size bytes plus "\r\n", then "\r\n". Sets d and returns true when the
/// value is whole and well terminated; else d says need_more or malformed.
inline bool take_data(const char* data, std::size_t n, std::size_t line_size, std::uint64_t size, const Limits& lim,
                      std::string_view& value, Decoded& d) noexcept {
  if (size > lim.max_value) {
    d = Decoded::bad("value length beyond the largest accepted value");
    return false;
  }
  const std::size_t start = line_size + 2;
  if (size > SIZE_MAX - start - 2) {
    d = Decoded::bad("value length beyond the largest accepted value");
    return false;
  }
  const std::size_t total = start + static_cast<std::size_t>(size) + 2;
  if (n < total) {
    // A partial terminator can already be judged.
    if (n > total - 2 && data[total - 2] != '\r') d = Decoded::bad("value data not followed by \\r\\n");
    else d = Decoded::need(total);
    return false;
  }
  if (data[total - 2] != '\r' || data[total - 1] != '\n') {
    d = Decoded::bad("value data not followed by \\r\\n");
    return false;
  }
  value = std::string_view(data + start, static_cast<std::size_t>(size));
  d = Decoded::done(total);
  return true;
}

}  // namespace ascii
}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
