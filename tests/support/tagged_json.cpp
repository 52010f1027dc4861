#include "support/tagged_json.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cktest {
namespace {

cachekit::Error json_error(const std::string& why, std::size_t at) {
  return cachekit::Error(cachekit::ErrorKind::permanent, "json: " + why + " at " + std::to_string(at));
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  cachekit::Result<Json> document() {
    auto v = value(0);
    if (!v) return v;
    ws();
    if (i_ != s_.size()) return json_error("trailing characters", i_);
    return v;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  cachekit::Result<Json> value(int depth) {
    if (depth > 64) return json_error("too deep", i_);
    ws();
    if (i_ >= s_.size()) return json_error("unexpected end", i_);
    Json j;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      j.kind = Json::Kind::object;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return j;
      }
      while (true) {
        ws();
        auto k = string();
        if (!k) return std::move(k).error();
        ws();
        if (!lit(":")) return json_error("expected ':'", i_);
        auto v = value(depth + 1);
        if (!v) return v;
        j.keys.push_back(std::move(*k));
        j.items.push_back(std::move(*v));
        ws();
        if (lit(",")) continue;
        if (lit("}")) return j;
        return json_error("expected ',' or '}'", i_);
      }
    }
    if (c == '[') {
      ++i_;
      j.kind = Json::Kind::array;
      ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return j;
      }
      while (true) {
        auto v = value(depth + 1);
        if (!v) return v;
        j.items.push_back(std::move(*v));
        ws();
        if (lit(",")) continue;
        if (lit("]")) return j;
        return json_error("expected ',' or ']'", i_);
      }
    }
    if (c == '"') {
      auto str = string();
      if (!str) return std::move(str).error();
      j.kind = Json::Kind::string;
      j.text = std::move(*str);
      return j;
    }
    if (lit("true")) {
      j.kind = Json::Kind::boolean;
      j.boolean = true;
      return j;
    }
    if (lit("false")) {
      j.kind = Json::Kind::boolean;
      return j;
    }
    if (lit("null")) return j;
    const std::size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
    }
    if (i_ == start) return json_error("unexpected character", i_);
    j.kind = Json::Kind::number;
    j.text = std::string(s_.substr(start, i_ - start));
    return j;
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

  bool hex4(std::uint32_t& out) {
    if (s_.size() - i_ < 4) return false;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<std::uint32_t>(h - 'A' + 10);
      else return false;
    }
    out = v;
    return true;
  }

  cachekit::Result<std::string> string() {
    if (!lit("\"")) return json_error("expected a string", i_);
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
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
          if (!hex4(cp)) return json_error("bad \\u escape", i_);
          if (cp >= 0xd800 && cp <= 0xdbff) {
            std::uint32_t lo;
            if (!lit("\\u") || !hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return json_error("lone surrogate", i_);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return json_error("lone surrogate", i_);
          }
          put_utf8(out, cp);
          break;
        }
        default: return json_error("bad escape", i_);
      }
    }
    return json_error("unterminated string", i_);
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

cachekit::Error bridge_error(const std::string& why) {
  return cachekit::Error(cachekit::ErrorKind::permanent, "tagged json: " + why);
}

cachekit::Result<Tagged> integer_from_text(const std::string& text) {
  Tagged t;
  const char* b = text.data();
  const char* e = b + text.size();
  if (!text.empty() && text[0] == '-') {
    t.kind = Tagged::Kind::sint;
    auto r = std::from_chars(b, e, t.sint);
    if (r.ec != std::errc() || r.ptr != e) return bridge_error("integer out of the interop range: " + text);
  } else {
    t.kind = Tagged::Kind::uint;
    auto r = std::from_chars(b, e, t.uint);
    if (r.ec != std::errc() || r.ptr != e) return bridge_error("integer out of the interop range: " + text);
  }
  return t;
}

}  // namespace

const Json* Json::find(std::string_view key) const {
  if (kind != Kind::object) return nullptr;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

cachekit::Result<Json> parse_json(std::string_view text) { return Parser(text).document(); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += digits[u >> 4];
    out += digits[u & 0xf];
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>((nib(hex[i]) << 4) | nib(hex[i + 1]));
  }
  return out;
}

cachekit::Result<Tagged> tagged_from_json(const Json& j) {
  Tagged t;
  switch (j.kind) {
    case Json::Kind::null: return t;
    case Json::Kind::boolean:
      t.kind = Tagged::Kind::boolean;
      t.boolean = j.boolean;
      return t;
    case Json::Kind::number: return integer_from_text(j.text);
    case Json::Kind::string:
      t.kind = Tagged::Kind::string;
      t.string = j.text;
      return t;
    case Json::Kind::array:
      t.kind = Tagged::Kind::array;
      for (const auto& item : j.items) {
        auto v = tagged_from_json(item);
        if (!v) return v;
        t.items.push_back(std::move(*v));
      }
      return t;
    case Json::Kind::object: break;
  }
  if (j.keys.size() == 1 && !j.keys[0].empty() && j.keys[0][0] == '$') {
    const std::string& tag = j.keys[0];
    const Json& body = j.items[0];
    if (tag == "$set") {
      t.kind = Tagged::Kind::set;
      for (const auto& item : body.items) {
        auto v = tagged_from_json(item);
        if (!v) return v;
        t.items.push_back(std::move(*v));
      }
      return t;
    }
    if (tag == "$bytes") {
      t.kind = Tagged::Kind::bin;
      t.bin = cachekit::bytes(from_hex(body.text));
      return t;
    }
    if (tag == "$float") {
      t.kind = Tagged::Kind::real;
      // strtod gives NaN for "nan" and +-HUGE_VAL (infinity) for "1e999", as Python does.
      t.real = std::strtod(body.text.c_str(), nullptr);
      return t;
    }
    if (tag == "$int") return integer_from_text(body.text);
    if (tag == "$datetime") {
      auto tp = cachekit::detail::parse_iso8601(body.text);
      if (!tp) return std::move(tp).error();
      t.kind = Tagged::Kind::time;
      t.time = *tp;
      return t;
    }
    if (tag == "$uuid") {
      auto u = cachekit::uuid::parse(body.text);
      if (!u) return std::move(u).error();
      t.kind = Tagged::Kind::uuid;
      t.id = *u;
      return t;
    }
    return bridge_error("unknown tag " + tag);
  }
  t.kind = Tagged::Kind::map;
  for (std::size_t i = 0; i < j.keys.size(); ++i) {
    auto v = tagged_from_json(j.items[i]);
    if (!v) return v;
    t.keys.push_back(j.keys[i]);
    t.items.push_back(std::move(*v));
  }
  return t;
}

cachekit::Result<std::string> canonical_args_of(const std::vector<Tagged>& args) {
  cachekit::detail::msgpack_writer w(cachekit::detail::msgpack_profile::canonical);
  cachekit::detail::write_array_range(w, args.begin(), args.end(), args.size());
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

}  // namespace cktest
