#pragma once
// Value types MessagePack needs that the standard library lacks: a byte
// string (encoded as bin, not as an array of integers) and a UUID; plus the
// ISO-8601 text form that cachekit SDKs use for time points in values.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// A byte string; MessagePack bin (Python reads it as bytes).
struct bytes {
  std::vector<std::uint8_t> data;

  bytes() = default;
  /// Takes the given bytes.
  explicit bytes(std::vector<std::uint8_t> d) : data(std::move(d)) {}
  /// Copies the bytes of s.
  explicit bytes(std::string_view s) : data(s.begin(), s.end()) {}

  std::size_t size() const noexcept { return data.size(); }
  bool empty() const noexcept { return data.empty(); }
  /// The bytes as a string_view (valid while this object is unchanged).
  std::string_view view() const noexcept {
    return std::string_view(reinterpret_cast<const char*>(data.data()), data.size());
  }
  friend bool operator==(const bytes& a, const bytes& b) noexcept { return a.data == b.data; }
  friend bool operator!=(const bytes& a, const bytes& b) noexcept { return a.data != b.data; }
  friend bool operator<(const bytes& a, const bytes& b) noexcept { return a.data < b.data; }
};

/// A UUID. Encoded as its lowercase hyphenated string, the interop form.
struct uuid {
  std::array<std::uint8_t, 16> octets{};

  /// Parses "550e8400-e29b-41d4-a716-446655440000" (any case), also without
  /// hyphens, in braces or with a "urn:uuid:" prefix.
  static Result<uuid> parse(std::string_view s) {
    if (s.size() >= 9 && (s.substr(0, 9) == "urn:uuid:" || s.substr(0, 9) == "URN:UUID:")) s.remove_prefix(9);
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    uuid u;
    std::size_t nibbles = 0;
    const bool hyphenated = s.size() == 36;
    if (!hyphenated && s.size() != 32) return Error(ErrorKind::permanent, "uuid: expected 32 hex digits");
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
        if (c != '-') return Error(ErrorKind::permanent, "uuid: misplaced hyphen");
        continue;
      }
      int v;
      if (c >= '0' && c <= '9') v = c - '0';
      else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
      else return Error(ErrorKind::permanent, "uuid: not a hex digit");
      auto& o = u.octets[nibbles / 2];
      o = static_cast<std::uint8_t>(nibbles % 2 == 0 ? v << 4 : o | v);
      ++nibbles;
    }
    return u;
  }

  /// Lowercase hyphenated form.
  std::string to_string() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
      s += hex[octets[i] >> 4];
      s += hex[octets[i] & 0xf];
    }
    return s;
  }

  friend bool operator==(const uuid& a, const uuid& b) noexcept { return a.octets == b.octets; }
  friend bool operator!=(const uuid& a, const uuid& b) noexcept { return a.octets != b.octets; }
  friend bool operator<(const uuid& a, const uuid& b) noexcept { return a.octets < b.octets; }
};

namespace detail {

// Days since 1970-01-01 of a proleptic Gregorian date, and back
// (the classic era-based civil calendar algorithm).
inline constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

inline constexpr civil_date civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return civil_date{y, m, d};
}

/// Builds a time point from epoch seconds plus nanoseconds (0..999999999);
/// false when system_clock cannot represent it (libstdc++ counts int64
/// nanoseconds: years 1678..2261).
inline bool time_from_epoch(std::int64_t secs, std::int64_t nanos, std::chrono::system_clock::time_point& out) noexcept {
  using duration = std::chrono::system_clock::duration;
  constexpr std::int64_t limit = std::chrono::duration_cast<std::chrono::seconds>(duration::max()).count() - 1;
  if (secs > limit || secs < -limit) return false;
  out = std::chrono::system_clock::time_point(std::chrono::duration_cast<duration>(std::chrono::seconds(secs)) +
                                              std::chrono::duration_cast<duration>(std::chrono::nanoseconds(nanos)));
  return true;
}

/// Microseconds since the Unix epoch, floored (toward negative infinity).
inline std::int64_t epoch_micros(std::chrono::system_clock::time_point tp) noexcept {
  return std::chrono::floor<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

/// ISO-8601 in UTC exactly as Python's datetime.isoformat() writes an aware
/// datetime: "2024-01-01T12:30:45.123456+00:00", no fraction when it is zero.
/// Sub-microsecond precision is floored away. Years outside 1..9999 (which
/// Python cannot represent) are written anyway, zero-padded to 4 digits.
template <class = void>  // compiled where it is used
inline std::string format_iso8601_utc(std::chrono::system_clock::time_point tp) {
  const std::int64_t us = epoch_micros(tp);
  std::int64_t secs = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const civil_date c = civil_from_days(days);
  std::string s;
  s.reserve(32);
  auto two = [&s](std::int64_t v) {
    s += static_cast<char>('0' + v / 10);
    s += static_cast<char>('0' + v % 10);
  };
  std::int64_t y = c.year;
  if (y < 0) {
    s += '-';
    y = -y;
  }
  const std::string ys = std::to_string(y);
  if (ys.size() < 4) s.append(4 - ys.size(), '0');
  s += ys;
  s += '-';
  two(c.month);
  s += '-';
  two(c.day);
  s += 'T';
  two(sod / 3600);
  s += ':';
  two(sod / 60 % 60);
  s += ':';
  two(sod % 60);
  if (frac != 0) {
    s += '.';
    std::int64_t div = 100000;
    for (int i = 0; i < 6; ++i, div /= 10) s += static_cast<char>('0' + frac / div % 10);
  }
  s += "+00:00";
  return s;
}

/// Parses ISO-8601 "YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}](Z|±HH:MM|±HHMM)". A time
/// without a UTC offset is rejected: it names no instant.
template <class = void>  // compiled where it is used
inline Result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  auto bad = [](const char* why) { return Error(ErrorKind::permanent, std::string("datetime: ") + why); };
  std::size_t i = 0;
  auto digits = [&](std::size_t n, std::int64_t& out) {
    if (s.size() - i < n) return false;
    std::int64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  };
  auto expect = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  std::int64_t year, month, day, hour, minute, second;
  if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!(expect('T') || expect('t') || expect(' '))) return bad("expected a time after the date");
  if (!digits(2, hour) || !expect(':') || !digits(2, minute) || !expect(':') || !digits(2, second)) {
    return bad("expected HH:MM:SS");
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return bad("field out of range");
  }
  static constexpr unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > month_days[month - 1] || (month == 2 && day == 29 && !leap)) return bad("day out of range");
  std::int64_t nanos = 0;
  if (expect('.') || expect(',')) {
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 9) nanos = nanos * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return bad("empty fraction");
    for (std::size_t k = n; k < 9; ++k) nanos *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (expect('Z') || expect('z')) {
    // UTC
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool negative = s[i] == '-';
    ++i;
    std::int64_t oh, om;
    if (!digits(2, oh)) return bad("bad UTC offset");
    expect(':');
    if (!digits(2, om)) return bad("bad UTC offset");
    if (oh > 23 || om > 59) return bad("UTC offset out of range");
    offset_minutes = (oh * 60 + om) * (negative ? -1 : 1);
  } else {
    return bad("no UTC offset (naive datetime)");
  }
  if (i != s.size()) return bad("trailing characters");
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  std::chrono::system_clock::time_point tp;
  if (!time_from_epoch(secs, nanos, tp)) return bad("outside the range of std::chrono::system_clock");
  return tp;
}

}  // namespace detail

CACHEKIT_END_NAMESPACE
