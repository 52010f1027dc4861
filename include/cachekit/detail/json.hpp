#pragma once
// A small, strict JSON reader for configuration: an array of strings
// (RFC 8259 syntax, UTF-8 checked, \u escapes with surrogate pairs).
// Pure: no I/O; every index is checked against the input.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

class JsonReader {
 public:
  explicit JsonReader(std::string_view in) noexcept : in_(in) {}

  /// Parses the whole input as ["...", ...]; anything else is an error.
  Result<std::vector<std::string>> string_array() {
    std::vector<std::string> out;
    skip_ws();
    if (!eat('[')) return fail("expected '['");
    skip_ws();
    if (eat(']')) return finish(std::move(out));
    for (;;) {
      skip_ws();
      std::string s;
      if (!string(s)) return fail(error_);
      out.push_back(std::move(s));
      skip_ws();
      if (eat(',')) continue;
      if (eat(']')) break;
      return fail("expected ',' or ']'");
    }
    return finish(std::move(out));
  }

 private:
  Result<std::vector<std::string>> finish(std::vector<std::string> out) {
    skip_ws();
    if (pos_ != in_.size()) return fail("unexpected characters after the array");
    return out;
  }

  Error fail(const char* why) const {
    return Error(ErrorKind::permanent, std::string("invalid JSON at offset ") + std::to_string(pos_) + ": " + why);
  }

  bool at_end() const noexcept { return pos_ >= in_.size(); }
  unsigned char peek() const noexcept { return static_cast<unsigned char>(in_[pos_]); }
  bool eat(char c) noexcept {
    if (!at_end() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void skip_ws() noexcept {
    while (!at_end() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) ++pos_;
  }
  bool set_error(const char* why) noexcept {
    error_ = why;
    return false;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool hex4(std::uint32_t& v) noexcept {
    if (in_.size() - pos_ < 4) return set_error("truncated \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = in_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return set_error("bad hex digit in \\u escape");
    }
    return true;
  }

  // One UTF-8 sequence copied verbatim, rejecting overlong forms,
  // surrogates and code points above U+10FFFF.
  bool utf8(std::string& out) {
    const unsigned char c = peek();
    std::size_t len;
    std::uint32_t cp;
    if (c < 0xc2) return set_error("invalid UTF-8");
    if (c < 0xe0) { len = 2; cp = c & 0x1fu; }
    else if (c < 0xf0) { len = 3; cp = c & 0x0fu; }
    else if (c < 0xf5) { len = 4; cp = c & 0x07u; }
    else return set_error("invalid UTF-8");
    if (in_.size() - pos_ < len) return set_error("truncated UTF-8");
    for (std::size_t i = 1; i < len; ++i) {
      const auto cc = static_cast<unsigned char>(in_[pos_ + i]);
      if ((cc & 0xc0) != 0x80) return set_error("invalid UTF-8");
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return set_error("invalid UTF-8");
    }
    out.append(in_.data() + pos_, len);
    pos_ += len;
    return true;
  }

  bool string(std::string& out) {
    if (!eat('"')) return set_error("expected a string");
    for (;;) {
      if (at_end()) return set_error("unterminated string");
      const unsigned char c = peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return set_error("control character in string");
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (at_end()) return set_error("unterminated escape");
      const char e = in_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return set_error("lone low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (in_.size() - pos_ < 2 || in_[pos_] != '\\' || in_[pos_ + 1] != 'u') {
              return set_error("lone high surrogate");
            }
            pos_ += 2;
            std::uint32_t lo;
            if (!hex4(lo)) return false;
            if (lo < 0xdc00 || lo > 0xdfff) return set_error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          put_utf8(out, cp);
          break;
        }
        default: return set_error("unknown escape");
      }
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  const char* error_ = "";
};

/// Parses a JSON array of strings, strictly.
inline Result<std::vector<std::string>> parse_json_string_array(std::string_view text) {
  return JsonReader(text).string_array();
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
