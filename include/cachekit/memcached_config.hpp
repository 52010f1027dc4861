#pragma once
// MemcachedBackendConfig: everything MemcachedBackend needs, buildable
// without a live server, from code or from CACHEKIT_MEMCACHED_* variables.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "detail/json.hpp"
#include "error.hpp"
#include "placement.hpp"
#include "ring.hpp"
#include "server_spec.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// The wire protocol a MemcachedBackend speaks.
enum class Protocol {
  meta,    ///< memcached's meta commands (mg/ms/md/ma/mn), memcached >= 1.6.10; the default
  text,    ///< the classic text protocol: every memcached, twemproxy, mcrouter, memcached's proxy
  binary,  ///< the binary protocol (deprecated by memcached 1.6.0; SASL needs it)
};

/// Name of a Protocol ("meta", "text", "binary").
inline const char* to_string(Protocol p) noexcept {
  switch (p) {
    case Protocol::meta: return "meta";
    case Protocol::text: return "text";
    case Protocol::binary: return "binary";
  }
  return "unknown";
}

/// The Protocol named by name.
inline Result<Protocol> parse_protocol(std::string_view name) {
  if (name == "meta") return Protocol::meta;
  if (name == "text") return Protocol::text;
  if (name == "binary") return Protocol::binary;
  return make_error(ErrorKind::permanent, "unknown protocol '" + std::string(name) + "' (expected meta, text or binary)");
}

/// Configuration of a MemcachedBackend.
struct MemcachedBackendConfig {
  /// Servers in ServerSpec syntax ("host", "host:port", "host:port:weight", "/unix.sock").
  std::vector<std::string> servers{"127.0.0.1:11211"};
  /// Bound on establishing one connection, 0.1 s .. 30 s.
  std::chrono::milliseconds connect_timeout{2000};
  /// Bound on one attempt of an operation (and on waiting for a pooled connection), 0.1 s .. 30 s.
  std::chrono::milliseconds timeout{1000};
  /// Connections per server, 1 .. 100.
  std::size_t max_pool_size = 10;
  /// Extra attempts after a transient failure, 0 .. 10.
  int retry_attempts = 2;
  /// Prepended to every key (counts toward the 250-byte limit).
  std::string key_prefix;
  /// The servers' item size limit (memcached -I, 1 MiB by default); 0
  /// disables the check. memcached counts the key and a 59-byte item header
  /// (63 with non-zero flags) against it, so a value is refused before
  /// sending when value + key + header exceed this: exactly what a server
  /// started with the same -I accepts.
  std::size_t max_item_size_bytes = 1048576;
  /// How keys are placed on servers.
  Distribution distribution = Distribution::ketama;
  /// The key's hash on a ketama ring (libmemcached MEMCACHED_BEHAVIOR_HASH, twemproxy `hash:`).
  KeyHash key_hash = KeyHash::md5;
  /// The wire protocol. meta needs memcached >= 1.6.10: a server that
  /// answers meta commands with ERROR, or in the older meta dialect, switches
  /// the backend to text (once, reported through the log hook). Proxies
  /// (twemproxy, mcrouter) speak text only.
  Protocol protocol = Protocol::meta;
  /// Credentials; authentication is used when username is set. binary logs
  /// in with SASL PLAIN (memcached -S), text and meta with memcached's
  /// authfile login (memcached -Y FILE).
  std::string username, password;
  /// Consecutive failures after which a server is marked dead, 1 .. 100.
  int server_failure_limit = 2;
  /// How long a dead server stays out of the ring before it is tried again, 0.1 s .. 3600 s.
  std::chrono::milliseconds dead_timeout{5000};
  /// Take dead servers out of the ring (their keys move to the others); when
  /// false, calls for a dead server's keys fail fast until it is retried.
  bool remove_failed_servers = true;
  /// Keys remembered per server for its rejoin repair, 0 .. 16777216: the
  /// keys written elsewhere while it was dead, and writes to it that ended
  /// without a definite answer. Before the server is used again those keys
  /// are deleted on it; past this many, the server is flushed instead.
  std::size_t rejoin_log_keys = 65536;
  /// Keys per connection in get_many/set_many, 1 .. 1000000: a larger share
  /// for one server is split over several pooled connections (up to
  /// max_pool_size) so several memcached threads serve it at once. The
  /// default splits only very large batches: on small machines the extra
  /// connections cost more than they bring (see the benchmarks).
  std::size_t pipeline_chunk_keys = 1024;
  /// How long to busy-poll for a reply before sleeping in the kernel,
  /// 0 .. 1000 us (0 never busy-polls). Waking a sleeping thread costs tens
  /// of microseconds, as much as a whole reply takes from a nearby server;
  /// polling for a short while avoids that when replies are that fast.
  /// Adaptive: a connection whose replies keep arriving later than this
  /// backs off and sleeps right away, so distant servers cost no spinning.
  /// A batch spins only for its last connection still answering.
  std::chrono::microseconds spin_wait{50};

  /// Connect over TLS (memcached -Z). Needs a build with CACHEKIT_OPENSSL
  /// (CMake: CACHEKIT_WITH_OPENSSL=ON); TCP servers only.
  bool tls = false;
  /// PEM file of the CAs that sign the servers' certificates; empty: the
  /// system trust store.
  std::string tls_ca_file;
  /// PEM client certificate (chain) and its private key, for servers that
  /// require one (memcached ssl_verify_mode=2 or 3); both or neither.
  std::string tls_cert_file, tls_key_file;
  /// The name the servers' certificates must carry, also sent as SNI;
  /// empty: the host of each server spec (a name or an IP address).
  std::string tls_server_name;
  /// Verify the server's certificate and name. false is unsafe: anyone on
  /// the path can impersonate the server and read every value.
  bool tls_verify = true;

#ifdef CACHEKIT_DETAIL_SPLIT
  // In split use (config.hpp) made, copied and destroyed in the file with
  // CACHEKIT_IMPLEMENTATION: the defaults above are compiled once.
  MemcachedBackendConfig();
  MemcachedBackendConfig(const MemcachedBackendConfig&);
  MemcachedBackendConfig(MemcachedBackendConfig&&) noexcept;
  MemcachedBackendConfig& operator=(const MemcachedBackendConfig&);
  MemcachedBackendConfig& operator=(MemcachedBackendConfig&&) noexcept;
  ~MemcachedBackendConfig();
#endif

  /// Defaults overridden by the CACHEKIT_MEMCACHED_* environment variables.
  template <class = void>
  static Result<MemcachedBackendConfig> from_env();
  /// Checks every field; the error names the field and its accepted range.
  template <class = void>
  Result<void> validate() const;
};

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
namespace detail {

/// Key bytes memcached's text protocol would misread: whitespace, control characters.
inline bool bad_key_byte(unsigned char c) noexcept { return c <= 0x20 || c == 0x7f; }

/// has_bad_key_byte for n >= 8, eight bytes per step in a word (any
/// target). For a byte b below 0x80, b is bad exactly when
/// ((b + 1) & 0x7f) < 0x22, that is when ((b + 1) & 0x7f) + 0x5e has its
/// top bit clear; every step stays inside its byte (no carries between
/// bytes), so each byte is judged alone.
CACHEKIT_HOT_INLINE bool has_bad_key_byte_words(const char* p, std::size_t n) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull, lows = 0x7f7f7f7f7f7f7f7full, highs = 0x8080808080808080ull;
  auto bad_bits = [](const char* w) noexcept {  // a top bit set for each bad byte of w
    std::uint64_t x;
    std::memcpy(&x, w, 8);
    const std::uint64_t g = (((x & lows) + ones) & lows) + ones * 0x5e;
    return ~(g | x) & highs;
  };
  // The first and the last eight bytes (they may overlap), then the rest.
  std::uint64_t bad = bad_bits(p) | bad_bits(p + n - 8);
  for (std::size_t i = 8; i + 8 < n; i += 8) bad |= bad_bits(p + i);
  return bad != 0;
}

/// Whether any of n bytes is a bad_key_byte. Keys of under eight bytes
/// are read a byte at a time; longer ones sixteen bytes per step in a
/// vector register where GCC/Clang generic vectors map to one (as in
/// hash/md5_multi.hpp), else with has_bad_key_byte_words.
CACHEKIT_HOT_INLINE bool has_bad_key_byte(const char* p, std::size_t n) noexcept {
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) {
      if (bad_key_byte(static_cast<unsigned char>(p[i]))) return true;
    }
    return false;
  }
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__ARM_NEON))
  // The first and the last eight bytes for keys of up to 16 (they may
  // overlap), else 16-byte steps and the last 16 (overlapping).
  typedef unsigned char Bytes16 __attribute__((vector_size(16)));
  auto bad16 = [](const Bytes16& v) noexcept {
    const Bytes16 m = (v <= 0x20) | (v == 0x7f);  // 0xff for each bad byte
#if defined(__SSE2__)
    typedef char Chars16 __attribute__((vector_size(16)));
    return __builtin_ia32_pmovmskb128(reinterpret_cast<Chars16>(m)) != 0;  // a bit per byte's top bit
#else
    std::uint64_t lo, hi;
    std::memcpy(&lo, &m, 8);
    std::memcpy(&hi, reinterpret_cast<const char*>(&m) + 8, 8);
    return (lo | hi) != 0;
#endif
  };
  Bytes16 v;
  if (n <= 16) {
    // The two words put together in registers (stored to memory and read
    // back as one vector, they cost more instructions and a stall).
    typedef std::uint64_t Words2 __attribute__((vector_size(16)));
    std::uint64_t lo, hi;
    std::memcpy(&lo, p, 8);
    std::memcpy(&hi, p + n - 8, 8);
    const Words2 w = {lo, hi};
    return bad16(reinterpret_cast<Bytes16>(w));
  }
  for (std::size_t i = 0; i + 16 < n; i += 16) {
    std::memcpy(&v, p + i, 16);
    if (bad16(v)) return true;
  }
  std::memcpy(&v, p + n - 16, 16);
  return bad16(v);
#else
  return has_bad_key_byte_words(p, n);
#endif
}

/// Parses non-negative decimal seconds ("2", "0.25") into milliseconds.
inline bool parse_seconds(std::string_view s, std::chrono::milliseconds& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t whole = 0;
  std::size_t i = 0;
  bool digits = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (whole > 100000000u) return false;
    whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
    digits = true;
  }
  std::uint64_t frac_ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::uint64_t scale = 100;
    bool frac_digits = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      frac_ms += static_cast<std::uint64_t>(s[i] - '0') * scale;
      scale /= 10;
      frac_digits = true;
    }
    if (!frac_digits) return false;
    digits = true;
  }
  if (!digits || i != s.size()) return false;
  out = std::chrono::milliseconds(static_cast<std::int64_t>(whole * 1000 + frac_ms));
  return true;
}

/// Parses a non-negative decimal integer that fits in max.
inline bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

/// Whether s is one or more decimal digits.
inline bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/// A duration for messages: "45 s", "0.05 s".
inline std::string format_ms(std::chrono::milliseconds v) {
  const long long ms = static_cast<long long>(v.count());
  const long long a = ms < 0 ? -ms : ms;
  std::string s = ms < 0 ? "-" : "";
  s += std::to_string(a / 1000);
  if (a % 1000 != 0) {
    std::string frac = std::to_string(1000 + a % 1000).substr(1);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    s += '.' + frac;
  }
  return s + " s";
}

inline Error env_error(const char* var, const std::string& what) {
  return Error(ErrorKind::permanent, std::string(var) + ": " + what);
}

inline const char* getenv_set(const char* name) noexcept {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

inline bool ms_in(std::chrono::milliseconds v, std::int64_t lo, std::int64_t hi) noexcept {
  return v.count() >= lo && v.count() <= hi;
}

}  // namespace detail

template <class>
inline Result<void> MemcachedBackendConfig::validate() const {
  auto bad = [](const char* field, const std::string& what) {
    return Error(ErrorKind::permanent, std::string(field) + ": " + what);
  };
  if (servers.empty()) return bad("servers", "at least one server is required");
  std::vector<ServerSpec> specs;
  for (const auto& s : servers) {
    auto spec = ServerSpec::parse(s);
    // The spec parser's message names the spec already.
    if (!spec) return bad("servers", spec.error().message());
    specs.push_back(std::move(*spec));
  }
  auto ring = Ring::build(std::move(specs), distribution, key_hash);
  if (!ring) return bad("servers", ring.error().message());
  auto seconds_range = [&](const char* field, std::chrono::milliseconds v, std::int64_t lo, std::int64_t hi,
                           const char* range) -> Result<void> {
    if (detail::ms_in(v, lo, hi)) return {};
    return bad(field, detail::format_ms(v) + " is out of range (must be " + range + ")");
  };
  auto int_range = [&](const char* field, long long v, long long lo, long long hi) -> Result<void> {
    if (v >= lo && v <= hi) return {};
    return bad(field, std::to_string(v) + " is out of range (must be " + std::to_string(lo) + " .. " + std::to_string(hi) + ")");
  };
  if (auto r = seconds_range("connect_timeout", connect_timeout, 100, 30000, "0.1 .. 30 seconds"); !r) return r;
  if (auto r = seconds_range("timeout", timeout, 100, 30000, "0.1 .. 30 seconds"); !r) return r;
  if (max_pool_size < 1 || max_pool_size > 100) {
    return bad("max_pool_size", std::to_string(max_pool_size) + " is out of range (must be 1 .. 100)");
  }
  if (auto r = int_range("retry_attempts", retry_attempts, 0, 10); !r) return r;
  if (key_prefix.size() >= CACHEKIT_MAX_KEY_LENGTH) {
    return bad("key_prefix", "must be shorter than " + std::to_string(CACHEKIT_MAX_KEY_LENGTH) + " bytes");
  }
  for (char c : key_prefix) {
    if (detail::bad_key_byte(static_cast<unsigned char>(c))) {
      return bad("key_prefix", "must not contain whitespace or control characters");
    }
  }
  if (auto r = int_range("server_failure_limit", server_failure_limit, 1, 100); !r) return r;
  if (auto r = seconds_range("dead_timeout", dead_timeout, 100, 3600000, "0.1 .. 3600 seconds"); !r) return r;
  if (username.empty() && !password.empty()) return bad("username", "a password is set but no username");
  if (pipeline_chunk_keys < 1 || pipeline_chunk_keys > 1000000) {
    return bad("pipeline_chunk_keys", std::to_string(pipeline_chunk_keys) + " is out of range (must be 1 .. 1000000)");
  }
  if (rejoin_log_keys > 16777216) {
    return bad("rejoin_log_keys", std::to_string(rejoin_log_keys) + " is out of range (must be 0 .. 16777216)");
  }
  if (spin_wait.count() < 0 || spin_wait.count() > 1000) {
    return bad("spin_wait", std::to_string(spin_wait.count()) + " us is out of range (must be 0 .. 1000 microseconds)");
  }
  if (tls) {
#ifndef CACHEKIT_OPENSSL
    return bad("tls", "this build has no TLS support: define CACHEKIT_OPENSSL before including cachekit "
                      "(CMake: -DCACHEKIT_WITH_OPENSSL=ON) and link OpenSSL 3 (-lssl -lcrypto)");
#endif
    for (const auto& s : servers) {
      if (ServerSpec::parse(s)->is_unix_socket()) {
        return bad("tls", "server '" + s + "' is a unix socket; TLS needs TCP servers");
      }
    }
    if (tls_cert_file.empty() != tls_key_file.empty()) {
      return bad(tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                 "tls_cert_file and tls_key_file go together (a client certificate and its key)");
    }
  } else {
    const char* set = !tls_ca_file.empty()       ? "tls_ca_file"
                      : !tls_cert_file.empty()   ? "tls_cert_file"
                      : !tls_key_file.empty()    ? "tls_key_file"
                      : !tls_server_name.empty() ? "tls_server_name"
                                                 : nullptr;
    if (set != nullptr) return bad(set, "is set but tls is off (set tls to connect over TLS)");
  }
  return {};
}

template <class>
inline Result<MemcachedBackendConfig> MemcachedBackendConfig::from_env() {
  MemcachedBackendConfig c;
  using detail::env_error;
  using detail::getenv_set;
  if (const char* v = getenv_set("CACHEKIT_MEMCACHED_SERVERS")) {
    auto list = detail::parse_json_string_array(v);
    if (!list) {
      return env_error("CACHEKIT_MEMCACHED_SERVERS",
                       "expected a JSON array of server strings like [\"mc1:11211\", \"mc2:11211\"]; " +
                           list.error().message());
    }
    if (list->empty()) return env_error("CACHEKIT_MEMCACHED_SERVERS", "the array must name at least one server");
    c.servers = std::move(*list);
  }
  struct SecondsVar {
    const char* name;
    std::chrono::milliseconds* field;
    std::int64_t lo, hi;
    const char* range;
  };
  const SecondsVar seconds_vars[] = {
      {"CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", &c.connect_timeout, 100, 30000, "0.1 .. 30 seconds"},
      {"CACHEKIT_MEMCACHED_TIMEOUT", &c.timeout, 100, 30000, "0.1 .. 30 seconds"},
      {"CACHEKIT_MEMCACHED_DEAD_TIMEOUT", &c.dead_timeout, 100, 3600000, "0.1 .. 3600 seconds"},
  };
  for (const auto& sv : seconds_vars) {
    if (const char* v = getenv_set(sv.name)) {
      std::chrono::milliseconds ms{};
      if (!detail::parse_seconds(v, ms)) {
        // Digits that overflow are a number too, just out of range.
        if (!detail::all_digits(v)) {
          return env_error(sv.name, "'" + std::string(v) + "' is not a number of seconds (must be " + sv.range + ")");
        }
        ms = std::chrono::milliseconds::max();
      }
      if (!detail::ms_in(ms, sv.lo, sv.hi)) {
        return env_error(sv.name, "'" + std::string(v) + "' is out of range (must be " + sv.range + ")");
      }
      *sv.field = ms;
    }
  }
  struct IntVar {
    const char* name;
    std::uint64_t lo, hi;
    std::uint64_t* out;
  };
  std::uint64_t pool = c.max_pool_size, retries = static_cast<std::uint64_t>(c.retry_attempts),
                item = c.max_item_size_bytes, limit = static_cast<std::uint64_t>(c.server_failure_limit),
                spin = static_cast<std::uint64_t>(c.spin_wait.count()), rejoin = c.rejoin_log_keys;
  const IntVar int_vars[] = {
      {"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", 1, 100, &pool},
      {"CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", 0, 10, &retries},
      {"CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", 0, 1ull << 40, &item},
      {"CACHEKIT_MEMCACHED_SERVER_FAILURE_LIMIT", 1, 100, &limit},
      {"CACHEKIT_MEMCACHED_SPIN_WAIT_US", 0, 1000, &spin},
      {"CACHEKIT_MEMCACHED_REJOIN_LOG_KEYS", 0, 16777216, &rejoin},
  };
  for (const auto& iv : int_vars) {
    if (const char* v = getenv_set(iv.name)) {
      std::uint64_t n = 0;
      const std::string range = "(must be " + std::to_string(iv.lo) + " .. " + std::to_string(iv.hi) + ")";
      if (!detail::all_digits(v)) return env_error(iv.name, "'" + std::string(v) + "' is not an integer " + range);
      if (!detail::parse_uint(v, iv.hi, n) || n < iv.lo) {
        return env_error(iv.name, "'" + std::string(v) + "' is out of range " + range);
      }
      *iv.out = n;
    }
  }
  c.max_pool_size = static_cast<std::size_t>(pool);
  c.retry_attempts = static_cast<int>(retries);
  c.max_item_size_bytes = static_cast<std::size_t>(item);
  c.server_failure_limit = static_cast<int>(limit);
  c.spin_wait = std::chrono::microseconds(static_cast<std::int64_t>(spin));
  c.rejoin_log_keys = static_cast<std::size_t>(rejoin);
  if (const char* v = std::getenv("CACHEKIT_MEMCACHED_KEY_PREFIX")) c.key_prefix = v;
  if (const char* v = getenv_set("CACHEKIT_MEMCACHED_DISTRIBUTION")) {
    auto d = parse_distribution(v);
    if (!d) return env_error("CACHEKIT_MEMCACHED_DISTRIBUTION", d.error().message());
    c.distribution = *d;
  }
  if (const char* v = getenv_set("CACHEKIT_MEMCACHED_PROTOCOL")) {
    auto p = parse_protocol(v);
    if (!p) return env_error("CACHEKIT_MEMCACHED_PROTOCOL", p.error().message());
    c.protocol = *p;
  }
  if (const char* v = getenv_set("CACHEKIT_MEMCACHED_KEY_HASH")) {
    auto h = parse_key_hash(v);
    if (!h) return env_error("CACHEKIT_MEMCACHED_KEY_HASH", h.error().message());
    c.key_hash = *h;
  }
  if (const char* v = getenv_set("CACHEKIT_MEMCACHED_REMOVE_FAILED_SERVERS")) {
    const std::string_view s(v);
    if (s == "1" || s == "true") c.remove_failed_servers = true;
    else if (s == "0" || s == "false") c.remove_failed_servers = false;
    else return env_error("CACHEKIT_MEMCACHED_REMOVE_FAILED_SERVERS", "'" + std::string(s) + "' is not one of true, false, 1, 0");
  }
  const struct {
    const char* name;
    bool* field;
  } bool_vars[] = {{"CACHEKIT_MEMCACHED_TLS", &c.tls}, {"CACHEKIT_MEMCACHED_TLS_VERIFY", &c.tls_verify}};
  for (const auto& bv : bool_vars) {
    if (const char* v = getenv_set(bv.name)) {
      const std::string_view s(v);
      if (s == "1" || s == "true") *bv.field = true;
      else if (s == "0" || s == "false") *bv.field = false;
      else return env_error(bv.name, "'" + std::string(s) + "' is not one of true, false, 1, 0");
    }
  }
  const struct {
    const char* name;
    std::string* field;
  } tls_vars[] = {{"CACHEKIT_MEMCACHED_TLS_CA_FILE", &c.tls_ca_file},
                  {"CACHEKIT_MEMCACHED_TLS_CERT_FILE", &c.tls_cert_file},
                  {"CACHEKIT_MEMCACHED_TLS_KEY_FILE", &c.tls_key_file},
                  {"CACHEKIT_MEMCACHED_TLS_SERVER_NAME", &c.tls_server_name}};
  for (const auto& tv : tls_vars) {
    if (const char* v = getenv_set(tv.name)) *tv.field = v;
  }
  if (const char* v = std::getenv("CACHEKIT_MEMCACHED_USERNAME")) c.username = v;
  if (const char* v = std::getenv("CACHEKIT_MEMCACHED_PASSWORD")) c.password = v;
  auto ok = c.validate();
  if (!ok) {
    // Name the variable behind the field that failed.
    const std::string& m = ok.error().message();
    auto var_for = [&](const char* field, const char* var) -> bool {
      return m.rfind(std::string(field) + ":", 0) == 0 && std::getenv(var) != nullptr;
    };
    if (var_for("servers", "CACHEKIT_MEMCACHED_SERVERS")) return env_error("CACHEKIT_MEMCACHED_SERVERS", m);
    if (var_for("key_prefix", "CACHEKIT_MEMCACHED_KEY_PREFIX")) return env_error("CACHEKIT_MEMCACHED_KEY_PREFIX", m);
    if (var_for("tls", "CACHEKIT_MEMCACHED_TLS")) return env_error("CACHEKIT_MEMCACHED_TLS", m);
    if (var_for("tls_ca_file", "CACHEKIT_MEMCACHED_TLS_CA_FILE")) return env_error("CACHEKIT_MEMCACHED_TLS_CA_FILE", m);
    if (var_for("tls_cert_file", "CACHEKIT_MEMCACHED_TLS_CERT_FILE")) {
      return env_error("CACHEKIT_MEMCACHED_TLS_CERT_FILE", m);
    }
    if (var_for("tls_key_file", "CACHEKIT_MEMCACHED_TLS_KEY_FILE")) return env_error("CACHEKIT_MEMCACHED_TLS_KEY_FILE", m);
    if (var_for("tls_server_name", "CACHEKIT_MEMCACHED_TLS_SERVER_NAME")) {
      return env_error("CACHEKIT_MEMCACHED_TLS_SERVER_NAME", m);
    }
    if (var_for("username", "CACHEKIT_MEMCACHED_PASSWORD")) {
      return env_error("CACHEKIT_MEMCACHED_PASSWORD", "is set but CACHEKIT_MEMCACHED_USERNAME is not");
    }
    return std::move(ok).error();
  }
  return c;
}

#endif  // CACHEKIT_DETAIL_VIEW

#ifdef CACHEKIT_IMPLEMENTATION
MemcachedBackendConfig::MemcachedBackendConfig() = default;
MemcachedBackendConfig::MemcachedBackendConfig(const MemcachedBackendConfig&) = default;
MemcachedBackendConfig::MemcachedBackendConfig(MemcachedBackendConfig&&) noexcept = default;
MemcachedBackendConfig& MemcachedBackendConfig::operator=(const MemcachedBackendConfig&) = default;
MemcachedBackendConfig& MemcachedBackendConfig::operator=(MemcachedBackendConfig&&) noexcept = default;
MemcachedBackendConfig::~MemcachedBackendConfig() = default;
#endif

CACHEKIT_COMPILE_ONCE(Result<void> MemcachedBackendConfig::validate<void>() const)  // see config.hpp
CACHEKIT_COMPILE_ONCE(Result<MemcachedBackendConfig> MemcachedBackendConfig::from_env<void>())

CACHEKIT_END_NAMESPACE
