#pragma once
// ServerSpec: one memcached server as configured ("host:port:weight",
// "[::1]:11211", "/path/to.sock", twemproxy's "host:port:weight name").
// Parsing only; no DNS, no I/O.

#include "config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// One memcached server. A unix socket has its path in host and port 0.
struct ServerSpec {
  std::string host;           ///< name or address as configured, or a unix socket path
  std::uint16_t port = 11211;  ///< TCP port; 0 for a unix socket
  std::uint32_t weight = 1;    ///< relative share of keys (ketama, libketama)
  /// Name hashed into the ring in place of the address (twemproxy's
  /// "host:port:weight name"); empty: the address, as each distribution names it.
  std::string name = std::string();

  /// Parses "host", "host:port", "host:port:weight", "[v6]", "[v6]:port[:weight]",
  /// "/path/to.sock" or "unix:/path/to.sock", each optionally followed by
  /// whitespace and a name ("10.0.0.1:11211:1 cache-a"). Bad input is a permanent error.
  static Result<ServerSpec> parse(std::string_view spec);

  /// Whether this is a unix socket (port 0, host is the path).
  bool is_unix_socket() const noexcept { return port == 0; }

  /// "host:port", "[v6]:port" or the socket path: how servers are named in
  /// messages and in the CLI.
  std::string to_string() const {
    if (is_unix_socket()) return host;
    std::string s;
    const bool v6 = host.find(':') != std::string::npos;
    s.reserve(host.size() + 8);
    if (v6) s += '[';
    s += host;
    if (v6) s += ']';
    s += ':';
    s += std::to_string(port);
    return s;
  }

  /// Checks a spec built by hand the way parse() checks text.
  Result<void> validate() const;
};

/// Same host (compared without case) and port.
inline bool same_address(const ServerSpec& a, const ServerSpec& b) noexcept {
  if (a.port != b.port || a.host.size() != b.host.size()) return false;
  for (std::size_t i = 0; i < a.host.size(); ++i) {
    char x = a.host[i], y = b.host[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace detail {

/// Longest unix socket path (sizeof(sockaddr_un::sun_path) - 1 on Linux).
inline constexpr std::size_t kMaxUnixPath = 107;
/// Longest host name or address accepted (DNS allows 253).
inline constexpr std::size_t kMaxHostLength = 255;

inline Error spec_error(std::string_view spec, const std::string& why) {
  std::string m = "invalid server spec '";
  m.append(spec.data(), spec.size());
  m += "': ";
  m += why;
  return make_error(ErrorKind::permanent, std::move(m));
}

inline bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

inline bool is_v6_char(char c) noexcept {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/// Why host is not a valid name or address, or empty when it is.
inline std::string check_host(std::string_view host) {
  if (host.empty()) return "empty host";
  if (host.size() > kMaxHostLength) return "host longer than " + std::to_string(kMaxHostLength) + " bytes";
  if (host.find(':') != std::string_view::npos) {  // IPv6, possibly with a %zone
    const std::size_t pct = host.find('%');
    const std::string_view addr = host.substr(0, pct);
    if (addr.empty()) return "empty IPv6 address";
    for (char c : addr) {
      if (!is_v6_char(c)) return std::string("invalid character '") + c + "' in IPv6 address";
    }
    if (pct != std::string_view::npos) {
      const std::string_view zone = host.substr(pct + 1);
      if (zone.empty()) return "empty IPv6 zone after '%'";
      for (char c : zone) {
        if (!is_host_char(c)) return std::string("invalid character '") + c + "' in IPv6 zone";
      }
    }
    return {};
  }
  for (char c : host) {
    if (!is_host_char(c)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == ' ') return "whitespace or control character in host";
      return std::string("invalid character '") + c + "' in host";
    }
  }
  return {};
}

/// Why name is not a usable server name, or empty when it is.
inline std::string check_server_name(std::string_view name) {
  if (name.empty()) return "empty server name";
  if (name.size() > kMaxHostLength) return "server name longer than " + std::to_string(kMaxHostLength) + " bytes";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "whitespace or control character in server name";
  }
  return {};
}

/// Why path is not a usable unix socket path, or empty when it is.
inline std::string check_unix_path(std::string_view path) {
  if (path.size() > kMaxUnixPath) return "unix socket path longer than " + std::to_string(kMaxUnixPath) + " bytes";
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20) return "control character in unix socket path";
  }
  return {};
}

/// Parses decimal digits into [lo, hi]; what names the field in messages.
inline Result<std::uint32_t> parse_number(std::string_view spec, std::string_view text, const char* what,
                                          std::uint64_t lo, std::uint64_t hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (text.empty()) return spec_error(spec, std::string("empty ") + what + " (expected " + range + ")");
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return spec_error(spec, std::string(what) + " '" + std::string(text) + "' is not a number (expected " +
                                  range + ")");
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > hi) break;  // stop before overflow; reported below
  }
  if (v < lo || v > hi) {
    return spec_error(spec, std::string(what) + " " + std::string(text) + " is out of range " + range);
  }
  return static_cast<std::uint32_t>(v);
}

}  // namespace detail

inline Result<void> ServerSpec::validate() const {
  const std::string shown = host + (port == 0 ? std::string() : ":" + std::to_string(port));
  if (port == 0) {
    if (host.empty() || host[0] != '/') {
      return detail::spec_error(shown, "port 0 is only valid for a unix socket path starting with '/'");
    }
    const std::string why = detail::check_unix_path(host);
    if (!why.empty()) return detail::spec_error(shown, why);
  } else {
    if (!host.empty() && host[0] == '/') {
      return detail::spec_error(shown, "a unix socket path needs port 0 (use ServerSpec::parse)");
    }
    const std::string why = detail::check_host(host);
    if (!why.empty()) return detail::spec_error(shown, why);
  }
  if (weight == 0) return detail::spec_error(shown, "weight 0 is out of range 1..4294967295");
  if (!name.empty()) {
    const std::string why = detail::check_server_name(name);
    if (!why.empty()) return detail::spec_error(shown, why);
  }
  return {};
}

inline Result<ServerSpec> ServerSpec::parse(std::string_view spec) {
  std::string_view s = spec;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return detail::spec_error(spec, "empty server spec");

  // "host:port:weight name" (twemproxy): the name follows the first run of
  // blanks, and only after a full host:port:weight.
  const std::size_t blank = s.find_first_of(" \t");
  if (blank != std::string_view::npos) {
    const std::string_view addr = s.substr(0, blank);
    std::string_view name = s.substr(blank);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    const std::size_t close = addr.find(']');
    const std::string_view tail = addr.front() == '[' && close != std::string_view::npos ? addr.substr(close) : addr;
    std::size_t colons = 0;
    for (char c : tail) colons += c == ':';
    if (addr.front() == '/' || colons != 2) {
      return detail::spec_error(spec, "whitespace in server spec (a name follows only host:port:weight, as in "
                                      "twemproxy's 'host:port:weight name')");
    }
    const std::string why = detail::check_server_name(name);
    if (!why.empty()) return detail::spec_error(spec, why);
    auto out = parse(addr);  // an error names the address part
    if (!out) return out;
    out->name = std::string(name);
    return out;
  }

  ServerSpec out;
  // "unix:" prefixes a socket path only; "unix:11211" is host "unix", port 11211.
  if (s.substr(0, 6) == "unix:/") s.remove_prefix(5);
  if (s.front() == '/') {
    const std::string why = detail::check_unix_path(s);
    if (!why.empty()) return detail::spec_error(spec, why);
    out.host = std::string(s);
    out.port = 0;
    return out;
  }

  std::string_view host, rest;
  if (s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos) return detail::spec_error(spec, "missing ']' after IPv6 address");
    host = s.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) {
      return detail::spec_error(spec, "'[...]' must hold an IPv6 address");
    }
    rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return detail::spec_error(spec, "unexpected '" + std::string(rest) + "' after ']'");
    }
  } else {
    const std::size_t colon = s.find(':');
    host = s.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
    if (!rest.empty() && rest.find(':', 1) != std::string_view::npos &&
        rest.find(':', rest.find(':', 1) + 1) != std::string_view::npos) {
      return detail::spec_error(spec, "too many ':' (write IPv6 addresses as [addr]:port)");
    }
  }
  if (host.empty() && s.front() == ':') {
    return detail::spec_error(spec, "empty host (write IPv6 addresses as [addr]:port)");
  }
  const std::string why = detail::check_host(host);
  if (!why.empty()) return detail::spec_error(spec, why);
  out.host = std::string(host);

  if (!rest.empty()) {  // ":port" or ":port:weight"
    rest.remove_prefix(1);
    const std::size_t colon = rest.find(':');
    auto port = detail::parse_number(spec, rest.substr(0, colon), "port", 1, 65535);
    if (!port) return std::move(port).error();
    out.port = static_cast<std::uint16_t>(port.value());
    if (colon != std::string_view::npos) {
      auto weight = detail::parse_number(spec, rest.substr(colon + 1), "weight", 1, 4294967295u);
      if (!weight) return std::move(weight).error();
      out.weight = weight.value();
    }
  }
  return out;
}

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
