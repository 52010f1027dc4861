// cachekit 0.1.0 - single-header C++17 memcached client and typed cache.
// SPDX-License-Identifier: MIT
//
// GENERATED FILE - DO NOT EDIT.
// Produced by tools/amalgamate.py from the headers under include/cachekit/.
// Edit those and run: python3 tools/amalgamate.py

#pragma once

// ---- begin cachekit/version.hpp ----
// Version of cachekit. CMake and meson read these three macros.

#define CACHEKIT_VERSION_MAJOR 0
#define CACHEKIT_VERSION_MINOR 1
#define CACHEKIT_VERSION_PATCH 0
#define CACHEKIT_VERSION_STRING "0.1.0"

// The inline ABI namespace carries the version so that two copies of
// different versions linked into one program never share symbols.
#define CACHEKIT_ABI_NAMESPACE v0_1_0
#define CACHEKIT_BEGIN_NAMESPACE \
  namespace cachekit {           \
  inline namespace CACHEKIT_ABI_NAMESPACE {
#define CACHEKIT_END_NAMESPACE \
  }                            \
  }
// ---- end cachekit/version.hpp ----

// ---- begin cachekit/config.hpp ----
// Compile-time tunables. Define any of these before including cachekit to
// override the default; each is documented in README.md.


// Longest key memcached accepts (after key_prefix), in bytes.
#ifndef CACHEKIT_MAX_KEY_LENGTH
#define CACHEKIT_MAX_KEY_LENGTH 250
#endif

// Longest TTL in seconds; longer TTLs are clamped (memcached treats larger
// values as absolute Unix times).
#ifndef CACHEKIT_MAX_TTL_SECONDS
#define CACHEKIT_MAX_TTL_SECONDS 2592000
#endif

// Deepest nesting the MessagePack decoder accepts.
#ifndef CACHEKIT_MSGPACK_MAX_DEPTH
#define CACHEKIT_MSGPACK_MAX_DEPTH 64
#endif

// Largest reply body the binary protocol parser accepts, in bytes. A header
// that announces more is a protocol error, never an allocation.
#ifndef CACHEKIT_MAX_RESPONSE_BODY
#define CACHEKIT_MAX_RESPONSE_BODY (128u * 1024u * 1024u)
#endif

// Set to 0 to compile out the run-time selected AVX2/AVX-512 MD5 lanes.
#ifndef CACHEKIT_ENABLE_SIMD
#define CACHEKIT_ENABLE_SIMD 1
#endif
// ---- end cachekit/config.hpp ----

// ---- begin cachekit/error.hpp ----
// Error and Result<T>: every fallible call returns a Result instead of
// throwing, so the library works under -fno-exceptions.

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// How a caller should react to an error.
enum class ErrorKind {
  transient,       ///< may succeed if retried (connection reset, server down)
  permanent,       ///< will fail again with the same input (bad key, too large)
  timeout,         ///< a deadline passed
  authentication,  ///< credentials were refused
  unknown,         ///< anything else
};

/// Name of an ErrorKind, for messages.
inline const char* to_string(ErrorKind k) noexcept {
  switch (k) {
    case ErrorKind::transient: return "transient";
    case ErrorKind::permanent: return "permanent";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::authentication: return "authentication";
    case ErrorKind::unknown: break;
  }
  return "unknown";
}

/// An error: its kind, a message, and where it happened.
class Error {
 public:
  Error() = default;
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& message() const noexcept { return message_; }
  /// Operation that failed ("get", "set", ...), empty when not known.
  const std::string& operation() const noexcept { return operation_; }
  /// Key involved, empty when none.
  const std::string& key() const noexcept { return key_; }
  /// Server involved as "host:port", empty when none.
  const std::string& server() const noexcept { return server_; }

  Error& with_operation(std::string op) { operation_ = std::move(op); return *this; }
  Error& with_key(std::string key) { key_ = std::move(key); return *this; }
  Error& with_server(std::string server) { server_ = std::move(server); return *this; }

  /// One line: "kind: message (op=..., key=..., server=...)".
  std::string to_string() const {
    std::string s = cachekit::to_string(kind_);
    s += ": ";
    s += message_;
    if (!operation_.empty() || !key_.empty() || !server_.empty()) {
      s += " (";
      bool first = true;
      auto add = [&](const char* name, const std::string& v) {
        if (v.empty()) return;
        if (!first) s += ", ";
        first = false;
        s += name;
        s += '=';
        s += v;
      };
      add("op", operation_);
      add("key", key_);
      add("server", server_);
      s += ')';
    }
    return s;
  }

 private:
  ErrorKind kind_ = ErrorKind::unknown;
  std::string message_;
  std::string operation_;
  std::string key_;
  std::string server_;
};

/// Builds an Error; shorthand used throughout the library.
inline Error make_error(ErrorKind kind, std::string message) { return Error(kind, std::move(message)); }

/// Either a value of T or an Error. Accessing the wrong side is a
/// precondition violation (asserted in debug builds).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : value_(v) {}                       // NOLINT(google-explicit-constructor)
  Result(T&& v) : value_(std::move(v)) {}                  // NOLINT(google-explicit-constructor)
  Result(Error e) : error_(std::move(e)) {}                // NOLINT(google-explicit-constructor)
  template <class U, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                              !std::is_same_v<std::decay_t<U>, T> &&
                                              !std::is_same_v<std::decay_t<U>, Error> &&
                                              !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& v) : value_(std::in_place, std::forward<U>(v)) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return value_.has_value(); }
  bool ok() const noexcept { return value_.has_value(); }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& { return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback)); }

  const Error& error() const& { assert(!ok()); return error_; }
  Error&& error() && { assert(!ok()); return std::move(error_); }

 private:
  std::optional<T> value_;
  Error error_;
};

/// Success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : error_(std::move(e)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return !failed_; }
  bool ok() const noexcept { return !failed_; }
  void value() const { assert(ok()); }
  const Error& error() const& { assert(!ok()); return error_; }
  Error&& error() && { assert(!ok()); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/error.hpp ----

// ---- begin cachekit/backend.hpp ----
// The Backend interface: what the typed facade needs from a store.
// MemcachedBackend and MemoryBackend implement it; users may write their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

/// A key-value store with TTLs. Implementations must be safe to share
/// across threads.
class Backend {
 public:
  virtual ~Backend() = default;

  /// The value stored under key, or nullopt on a miss.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  /// Stores value under key; ttl <= 0 means no expiry.
  virtual Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl) = 0;
  /// Stores only if key is absent: true when stored, false when it existed.
  virtual Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) = 0;
  /// Removes key: true when it existed.
  virtual Result<bool> remove(std::string_view key) = 0;
  /// Whether key is present.
  virtual Result<bool> exists(std::string_view key) = 0;
  /// Sets a new TTL on key: true when it existed.
  virtual Result<bool> touch(std::string_view key, std::chrono::seconds ttl) = 0;
};

namespace detail {
/// TTL as memcached expects it: 0 = never; negative = never; longer than
/// 30 days is clamped to 30 days (larger numbers would be read as absolute
/// Unix times by the server).
inline std::uint32_t normalize_ttl(std::chrono::seconds ttl) noexcept {
  const auto s = ttl.count();
  if (s <= 0) return 0;
  if (s > CACHEKIT_MAX_TTL_SECONDS) return CACHEKIT_MAX_TTL_SECONDS;
  return static_cast<std::uint32_t>(s);
}
}  // namespace detail

CACHEKIT_END_NAMESPACE
// ---- end cachekit/backend.hpp ----

// ---- begin cachekit/protocol/binary.hpp ----
// memcached binary protocol codec: request encoder and an incremental
// response parser. Pure: bytes in, bytes out; no I/O, no clock.
// Constants follow the memcached binary protocol specification
// (docs/protocol-binary.xml in the memcached repository).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {

inline constexpr std::uint8_t kRequestMagic = 0x80;
inline constexpr std::uint8_t kResponseMagic = 0x81;
inline constexpr std::size_t kHeaderSize = 24;

/// Binary protocol opcodes used by cachekit.
enum class Opcode : std::uint8_t {
  get = 0x00,
  set = 0x01,
  add = 0x02,
  replace = 0x03,
  del = 0x04,
  increment = 0x05,
  decrement = 0x06,
  flush = 0x08,
  noop = 0x0a,
  version = 0x0b,
  getk = 0x0c,
  getkq = 0x0d,
  append = 0x0e,
  prepend = 0x0f,
  stat = 0x10,
  setq = 0x11,
  addq = 0x12,
  replaceq = 0x13,
  deleteq = 0x14,
  touch = 0x1c,
  gat = 0x1d,
  sasl_list_mechs = 0x20,
  sasl_auth = 0x21,
  sasl_step = 0x22,
};

/// Response status codes.
enum class Status : std::uint16_t {
  ok = 0x0000,
  key_not_found = 0x0001,
  key_exists = 0x0002,
  value_too_large = 0x0003,
  invalid_arguments = 0x0004,
  not_stored = 0x0005,
  non_numeric = 0x0006,
  vbucket_wrong_server = 0x0007,
  auth_error = 0x0020,
  auth_continue = 0x0021,
  unknown_command = 0x0081,
  out_of_memory = 0x0082,
  not_supported = 0x0083,
  internal_error = 0x0084,
  busy = 0x0085,
  temporary_failure = 0x0086,
};

/// Human-readable text for a status code.
inline const char* status_text(std::uint16_t s) noexcept {
  switch (static_cast<Status>(s)) {
    case Status::ok: return "no error";
    case Status::key_not_found: return "key not found";
    case Status::key_exists: return "key exists";
    case Status::value_too_large: return "value too large";
    case Status::invalid_arguments: return "invalid arguments";
    case Status::not_stored: return "item not stored";
    case Status::non_numeric: return "incr/decr on a non-numeric value";
    case Status::vbucket_wrong_server: return "vbucket belongs to another server";
    case Status::auth_error: return "authentication failed";
    case Status::auth_continue: return "authentication continues (unsupported)";
    case Status::unknown_command: return "unknown command";
    case Status::out_of_memory: return "server out of memory";
    case Status::not_supported: return "not supported";
    case Status::internal_error: return "server internal error";
    case Status::busy: return "server busy";
    case Status::temporary_failure: return "temporary failure";
  }
  return "unknown status";
}

/// How a caller should treat a non-ok status.
inline ErrorKind status_kind(std::uint16_t s) noexcept {
  switch (static_cast<Status>(s)) {
    case Status::ok:
    case Status::key_not_found:
    case Status::key_exists:
    case Status::value_too_large:
    case Status::invalid_arguments:
    case Status::not_stored:
    case Status::non_numeric:
    case Status::unknown_command:
    case Status::not_supported: return ErrorKind::permanent;
    case Status::vbucket_wrong_server:
    case Status::out_of_memory:
    case Status::internal_error:
    case Status::busy:
    case Status::temporary_failure: return ErrorKind::transient;
    case Status::auth_error:
    case Status::auth_continue: return ErrorKind::authentication;
  }
  return ErrorKind::unknown;
}

/// Error for a non-ok status (message names the status, never the payload).
inline Error status_error(std::uint16_t s) {
  std::string msg = "server replied: ";
  msg += status_text(s);
  msg += " (status 0x";
  static constexpr char hex[] = "0123456789abcdef";
  for (int shift = 12; shift >= 0; shift -= 4) msg += hex[(s >> shift) & 0xf];
  msg += ')';
  return Error(status_kind(s), std::move(msg));
}

namespace detail {
inline void put16(char* p, std::uint16_t v) noexcept {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline void put32(char* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (24 - 8 * i));
}
inline void put64(char* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (56 - 8 * i));
}
inline std::uint16_t get16(const unsigned char* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t get32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t get64(const unsigned char* p) noexcept {
  return (std::uint64_t{get32(p)} << 32) | get32(p + 4);
}
}  // namespace detail

/// Appends one request to out. The caller keeps key <= 250 bytes and
/// extras <= 255 bytes; out's capacity is reused between calls.
inline void encode_request(std::string& out, Opcode op, std::string_view key, std::string_view extras,
                           std::string_view value, std::uint32_t opaque, std::uint64_t cas = 0) {
  char h[kHeaderSize];
  h[0] = static_cast<char>(kRequestMagic);
  h[1] = static_cast<char>(op);
  detail::put16(h + 2, static_cast<std::uint16_t>(key.size()));
  h[4] = static_cast<char>(extras.size());
  h[5] = 0;  // raw bytes
  detail::put16(h + 6, 0);
  detail::put32(h + 8, static_cast<std::uint32_t>(extras.size() + key.size() + value.size()));
  detail::put32(h + 12, opaque);
  detail::put64(h + 16, cas);
  out.append(h, kHeaderSize);
  out.append(extras.data(), extras.size());
  out.append(key.data(), key.size());
  out.append(value.data(), value.size());
}

/// Extras of set/add/replace: flags and expiration.
inline void encode_store(std::string& out, Opcode op, std::string_view key, std::string_view value,
                         std::uint32_t flags, std::uint32_t expiry, std::uint32_t opaque,
                         std::uint64_t cas = 0) {
  char ex[8];
  detail::put32(ex, flags);
  detail::put32(ex + 4, expiry);
  encode_request(out, op, key, std::string_view(ex, 8), value, opaque, cas);
}

/// Increment/decrement. Without an initial value the server answers
/// "not found" for a missing key (expiration 0xffffffff).
inline void encode_counter(std::string& out, Opcode op, std::string_view key, std::uint64_t delta,
                           std::uint64_t initial, bool create, std::uint32_t expiry,
                           std::uint32_t opaque) {
  char ex[20];
  detail::put64(ex, delta);
  detail::put64(ex + 8, initial);
  detail::put32(ex + 16, create ? expiry : 0xffffffffu);
  encode_request(out, op, key, std::string_view(ex, 20), {}, opaque);
}

/// Touch and get-and-touch carry only an expiration.
inline void encode_touch(std::string& out, Opcode op, std::string_view key, std::uint32_t expiry,
                         std::uint32_t opaque) {
  char ex[4];
  detail::put32(ex, expiry);
  encode_request(out, op, key, std::string_view(ex, 4), {}, opaque);
}

/// SASL PLAIN: authzid empty, then user and password separated by NUL.
inline void encode_sasl_plain(std::string& out, std::string_view user, std::string_view password,
                              std::uint32_t opaque) {
  std::string payload;
  payload.reserve(2 + user.size() + password.size());
  payload += '\0';
  payload.append(user.data(), user.size());
  payload += '\0';
  payload.append(password.data(), password.size());
  encode_request(out, Opcode::sasl_auth, "PLAIN", {}, payload, opaque);
  // Scrub the temporary copy of the password.
  volatile char* p = payload.data();
  for (std::size_t i = 0; i < payload.size(); ++i) p[i] = 0;
}

/// Pipelined multi-get: one GETKQ per key (opaque = first_opaque + index),
/// then a NOOP with noop_opaque that marks the end of the replies.
template <class KeyAt>
inline void encode_getkq_pipeline(std::string& out, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque,
                                  std::uint32_t noop_opaque) {
  for (std::size_t i = 0; i < n; ++i) {
    encode_request(out, Opcode::getkq, key_at(i), {}, {}, first_opaque + static_cast<std::uint32_t>(i));
  }
  encode_request(out, Opcode::noop, {}, {}, {}, noop_opaque);
}

/// A parsed response header.
struct ResponseHeader {
  std::uint8_t opcode = 0;
  std::uint16_t key_length = 0;
  std::uint8_t extras_length = 0;
  std::uint16_t status = 0;
  std::uint32_t body_length = 0;
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;
};

/// Incremental response parser: feed it bytes as they arrive, in any split.
/// It stops at the end of each complete response so the caller can act on
/// it, then next() prepares for the following one. Memory grows only with
/// bytes actually received, never with what a header announces.
class ResponseParser {
 public:
  /// Consumes bytes up to the end of the current response; returns the
  /// number consumed. Check failed() and complete() afterwards.
  std::size_t feed(const char* data, std::size_t n) {
    if (failed_ || complete_) return 0;
    std::size_t used = 0;
    if (header_have_ < kHeaderSize) {
      const std::size_t take = n < kHeaderSize - header_have_ ? n : kHeaderSize - header_have_;
      std::memcpy(header_bytes_ + header_have_, data, take);
      header_have_ += take;
      used += take;
      if (header_have_ < kHeaderSize) return used;
      if (!decode_header()) return used;
      if (header_.body_length == 0) {
        complete_ = true;
        return used;
      }
    }
    const std::size_t want = header_.body_length - body_.size();
    const std::size_t avail = n - used;
    const std::size_t take = avail < want ? avail : want;
    body_.append(data + used, take);
    used += take;
    if (body_.size() == header_.body_length) complete_ = true;
    return used;
  }

  /// A whole response is ready.
  bool complete() const noexcept { return complete_; }
  /// The stream is corrupt; the connection must be closed.
  bool failed() const noexcept { return failed_; }
  /// Why the stream is corrupt.
  const char* failure() const noexcept { return failure_; }
  /// Whether a response has started but not finished.
  bool in_progress() const noexcept { return header_have_ > 0 && !complete_; }

  const ResponseHeader& header() const noexcept { return header_; }
  std::string_view extras() const noexcept { return std::string_view(body_).substr(0, header_.extras_length); }
  std::string_view key() const noexcept {
    return std::string_view(body_).substr(header_.extras_length, header_.key_length);
  }
  std::string_view value() const noexcept {
    return std::string_view(body_).substr(std::size_t{header_.extras_length} + header_.key_length);
  }
  /// Flags of a get reply (0 when the reply carries no flags).
  std::uint32_t flags() const noexcept {
    if (header_.extras_length < 4) return 0;
    return detail::get32(reinterpret_cast<const unsigned char*>(body_.data()));
  }

  /// Moves the value out (for the caller's result) and resets nothing else.
  std::string take_value() {
    const std::size_t off = std::size_t{header_.extras_length} + header_.key_length;
    return std::string(body_.data() + off, body_.size() - off);
  }

  /// Ready for the next response; keeps buffer capacity (bounded).
  void next() noexcept {
    header_have_ = 0;
    complete_ = false;
    body_.clear();
    if (body_.capacity() > kKeepCapacity) {
      std::string().swap(body_);
    }
  }

  /// Forgets everything, including a failure.
  void reset() noexcept {
    next();
    failed_ = false;
    failure_ = "";
  }

 private:
  static constexpr std::size_t kKeepCapacity = 64 * 1024;

  bool fail(const char* why) noexcept {
    failed_ = true;
    failure_ = why;
    return false;
  }

  bool decode_header() {
    const auto* p = reinterpret_cast<const unsigned char*>(header_bytes_);
    if (p[0] != kResponseMagic) return fail("bad response magic");
    header_.opcode = p[1];
    header_.key_length = detail::get16(p + 2);
    header_.extras_length = p[4];
    header_.status = detail::get16(p + 6);
    header_.body_length = detail::get32(p + 8);
    header_.opaque = detail::get32(p + 12);
    header_.cas = detail::get64(p + 16);
    if (std::size_t{header_.extras_length} + header_.key_length > header_.body_length) {
      return fail("extras and key longer than the body");
    }
    if (header_.body_length > CACHEKIT_MAX_RESPONSE_BODY) return fail("response body too large");
    return true;
  }

  char header_bytes_[kHeaderSize] = {};
  std::size_t header_have_ = 0;
  ResponseHeader header_;
  std::string body_;
  bool complete_ = false;
  bool failed_ = false;
  const char* failure_ = "";
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE
// ---- end cachekit/protocol/binary.hpp ----

// ---- begin cachekit/net/socket.hpp ----
// POSIX sockets with deadlines. The only file in cachekit that makes
// system calls: name resolution, non-blocking connect finished with poll +
// SO_ERROR, and poll-bounded send/recv (MSG_NOSIGNAL, EINTR retried).

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

/// Milliseconds left until deadline for poll(): rounded up, never negative.
inline int remaining_ms(Deadline deadline) noexcept {
  const auto now = Clock::now();
  if (now >= deadline) return 0;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now).count();
  const auto ms = (us + 999) / 1000;
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

/// strerror text without the thread-safety trap of strerror().
inline std::string errno_text(int err) {
  char buf[128];
  buf[0] = '\0';
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return std::string(::strerror_r(err, buf, sizeof buf));
#else
  if (::strerror_r(err, buf, sizeof buf) != 0) return "errno " + std::to_string(err);
  return std::string(buf);
#endif
}

inline Error sys_error(ErrorKind kind, const char* what, int err) {
  std::string m = what;
  m += ": ";
  m += errno_text(err);
  return Error(kind, std::move(m));
}

/// Owns one file descriptor; closes it when destroyed.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  ~Socket() { close(); }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  void close() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);  // not retried on EINTR: the descriptor is gone either way on Linux
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
};

/// Waits until fd is ready for events or the deadline passes. Returns the
/// revents (0 on timeout) or an error.
inline Result<short> wait_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return p.revents;
    if (rc == 0) return static_cast<short>(0);
    if (errno != EINTR) return sys_error(ErrorKind::transient, "poll", errno);
  }
}

/// poll() over several descriptors until one is ready or the deadline; the
/// number ready (0 on timeout) or an error.
inline Result<int> wait_many(pollfd* fds, std::size_t n, Deadline deadline) {
  for (;;) {
    const int rc = ::poll(fds, static_cast<nfds_t>(n), remaining_ms(deadline));
    if (rc >= 0) return rc;
    if (errno != EINTR) return sys_error(ErrorKind::transient, "poll", errno);
  }
}

inline Result<void> finish_connect(int fd, Deadline deadline) {
  auto ready = wait_fd(fd, POLLOUT, deadline);
  if (!ready) return std::move(ready).error();
  if (*ready == 0) return Error(ErrorKind::timeout, "connect timed out");
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) return sys_error(ErrorKind::transient, "connect", err);
  return {};
}

inline Result<Socket> connect_addr(int family, const sockaddr* addr, socklen_t len, Deadline deadline) {
  Socket s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.valid()) return sys_error(ErrorKind::transient, "socket", errno);
  if (family != AF_UNIX) {
    int one = 1;
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  int rc;
  do {
    rc = ::connect(s.fd(), addr, len);
  } while (rc != 0 && errno == EINTR && family == AF_UNIX);
  if (rc != 0) {
    if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) {
      return sys_error(ErrorKind::transient, "connect", errno);
    }
    auto done = finish_connect(s.fd(), deadline);
    if (!done) return std::move(done).error();
  }
  return s;
}

/// Connects to host:port (a name, an IPv4 or IPv6 address) or to the unix
/// socket at host when it starts with '/'. Bounded by deadline, except name
/// resolution, which the system resolver bounds.
inline Result<Socket> connect_to(std::string_view host, std::uint16_t port, Deadline deadline) {
  if (!host.empty() && host[0] == '/') {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (host.size() >= sizeof sun.sun_path) return Error(ErrorKind::permanent, "unix socket path too long");
    std::memcpy(sun.sun_path, host.data(), host.size());
    return connect_addr(AF_UNIX, reinterpret_cast<const sockaddr*>(&sun), sizeof sun, deadline);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  const std::string host_z(host);
  const std::string port_z = std::to_string(port);
  addrinfo* list = nullptr;
  const int gai = ::getaddrinfo(host_z.c_str(), port_z.c_str(), &hints, &list);
  if (gai != 0) {
    if (gai == EAI_SYSTEM) return sys_error(ErrorKind::transient, "getaddrinfo", errno);
    return Error(ErrorKind::transient, std::string("cannot resolve host: ") + ::gai_strerror(gai));
  }
  Error last(ErrorKind::transient, "no address to connect to");
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto s = connect_addr(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
    if (s) {
      ::freeaddrinfo(list);
      return s;
    }
    last = std::move(s).error();
    if (Clock::now() >= deadline) break;
  }
  ::freeaddrinfo(list);
  return last;
}

/// Sends without blocking: bytes written (0 when the socket buffer is full).
inline Result<std::size_t> try_send(int fd, const char* data, std::size_t n) {
  for (;;) {
    const ssize_t rc = ::send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (rc >= 0) return static_cast<std::size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "send", errno);
  }
}

/// Sends all n bytes before the deadline.
inline Result<void> send_all(int fd, const char* data, std::size_t n, Deadline deadline) {
  while (n > 0) {
    auto sent = try_send(fd, data, n);
    if (!sent) return std::move(sent).error();
    if (*sent == 0) {
      auto ready = wait_fd(fd, POLLOUT, deadline);
      if (!ready) return std::move(ready).error();
      if (*ready == 0) return Error(ErrorKind::timeout, "send timed out");
      continue;
    }
    data += *sent;
    n -= *sent;
  }
  return {};
}

/// Receives without blocking: bytes read, 0 when nothing is available; an
/// orderly close by the peer is an error.
inline Result<std::size_t> try_recv(int fd, char* buf, std::size_t cap) {
  for (;;) {
    const ssize_t rc = ::recv(fd, buf, cap, MSG_DONTWAIT);
    if (rc > 0) return static_cast<std::size_t>(rc);
    if (rc == 0) return Error(ErrorKind::transient, "connection closed by server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "recv", errno);
  }
}

/// Receives at least one byte before the deadline. With wait_first the
/// socket is polled before reading (the reply to a request just sent is
/// rarely there yet, so this saves a read that would fail).
inline Result<std::size_t> recv_some(int fd, char* buf, std::size_t cap, Deadline deadline, bool wait_first) {
  for (;;) {
    if (wait_first) {
      auto ready = wait_fd(fd, POLLIN, deadline);
      if (!ready) return std::move(ready).error();
      if (*ready == 0) return Error(ErrorKind::timeout, "no reply before the timeout");
    }
    auto got = try_recv(fd, buf, cap);
    if (!got) return got;
    if (*got > 0) return got;
    wait_first = true;
  }
}

/// Whether the peer has closed or sent unsolicited bytes on an idle
/// connection (either makes it unusable). Never blocks.
inline bool idle_connection_broken(int fd) noexcept {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc != 0;
}

/// Process id, for fork detection.
inline int current_pid() noexcept { return static_cast<int>(::getpid()); }

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE
// ---- end cachekit/net/socket.hpp ----

// ---- begin cachekit/detail/json.hpp ----
// A small, strict JSON reader for configuration: an array of strings
// (RFC 8259 syntax, UTF-8 checked, \u escapes with surrogate pairs).
// Pure: no I/O; every index is checked against the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>


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
// ---- end cachekit/detail/json.hpp ----

// ---- begin cachekit/cachekit.hpp ----
// cachekit: a single-header C++17 memcached client and typed cache.
// ---- end cachekit/cachekit.hpp ----
