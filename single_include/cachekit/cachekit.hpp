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


// Marks a small function on the get path that must be inlined whatever the
// compiler's size heuristics say (GCC and Clang; a plain inline elsewhere).
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_HOT_INLINE inline __attribute__((always_inline))
#else
#define CACHEKIT_HOT_INLINE inline
#endif

// The same for a lambda (placed after its parameter list).
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_LAMBDA_INLINE __attribute__((always_inline))
#else
#define CACHEKIT_LAMBDA_INLINE
#endif

// Keeps a hot loop (a batch's decoding of the hits in a read buffer) a
// function of its own, so that the compiler inlines what the loop calls
// (the value's construction) instead of giving up on an ever larger caller.
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_LOOP_NOINLINE __attribute__((noinline))
#else
#define CACHEKIT_LOOP_NOINLINE
#endif

// A condition that is almost never true (the end of a run of hits): lets
// the compiler lay out and inline for the other branch.
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CACHEKIT_UNLIKELY(x) (x)
#endif

// Marks the rare branch of a hot function (a full decoder behind a fast
// path) that must stay a call, so the hot function stays small.
#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_COLD_NOINLINE inline __attribute__((noinline))
#else
#define CACHEKIT_COLD_NOINLINE inline
#endif

// Compiling the library once in a project with many translation units:
// define CACHEKIT_DECLARATIONS_ONLY in every translation unit that includes
// cachekit (e.g. on the compiler's command line) and, in exactly one of them,
// CACHEKIT_IMPLEMENTATION too (alone it means the same). The others then see
// the declarations view (below): the public API of the backends and the
// facade, without the code behind it, which the one with
// CACHEKIT_IMPLEMENTATION compiles once. Every translation unit of a program
// that uses the backends or the facade must agree: either all header-only,
// or all split. Without either macro every translation unit compiles what
// it uses (header-only); nothing in the library is compiled where it is not
// used.
//
// CACHEKIT_COMPILE_ONCE(declaration) marks one such part: an explicit
// instantiation where CACHEKIT_IMPLEMENTATION is defined, an explicit
// instantiation declaration (extern template) where only
// CACHEKIT_DECLARATIONS_ONLY is, nothing in header-only use.
#if defined(CACHEKIT_IMPLEMENTATION)
#define CACHEKIT_COMPILE_ONCE(...) template __VA_ARGS__;
#elif defined(CACHEKIT_DECLARATIONS_ONLY)
#define CACHEKIT_COMPILE_ONCE(...) extern template __VA_ARGS__;
#else
#define CACHEKIT_COMPILE_ONCE(...)
#endif

// The declarations view. In split use (either macro) MemcachedBackend and
// MemoryBackend are small classes that hold their implementation
// (BasicMemcachedBackend, BasicMemoryBackend) behind a pointer, and the
// read-through of cache() and Cache<T> reaches each function's typed code
// (decode, compute, encode) through function pointers, so that a file with
// CACHEKIT_DECLARATIONS_ONLY alone needs only declarations. The view holds
// Result/Error, the log, the Backend interface, MemcachedBackendConfig,
// both backends, MessagePack's codec (the typed values and keys of the
// file's own types), interop keys, cache() and Cache<T>. The rest of the
// header (rings, hash functions, protocol codecs, sockets, the cluster) is
// skipped in it (CACHEKIT_DETAIL_VIEW); a file that needs those includes
// the header without CACHEKIT_DECLARATIONS_ONLY and compiles them itself
// (tests/split/use_ring.cpp). One call through a pointer is what split use
// adds at run time; header-only use is unchanged.
#if defined(CACHEKIT_IMPLEMENTATION) || defined(CACHEKIT_DECLARATIONS_ONLY)
#define CACHEKIT_DETAIL_SPLIT 1
#endif
#if defined(CACHEKIT_DECLARATIONS_ONLY) && !defined(CACHEKIT_IMPLEMENTATION)
#define CACHEKIT_DETAIL_VIEW 1
#endif

// A non-template function of the library: inline in header-only use; in
// split use declared everywhere and defined (not inline) in the file with
// CACHEKIT_IMPLEMENTATION.
#if defined(CACHEKIT_DETAIL_SPLIT)
#define CACHEKIT_DETAIL_LINKAGE
#else
#define CACHEKIT_DETAIL_LINKAGE inline
#endif

// A public entry point of such a part whose body is a few lines around the
// part's own code (MemcachedBackend::get): forced inline into the caller
// in header-only use; a plain inline member in split use, so that a using
// file calls the one compiled copy instead of compiling the path behind it.
#if defined(CACHEKIT_IMPLEMENTATION) || defined(CACHEKIT_DECLARATIONS_ONLY)
#define CACHEKIT_HOT_INLINE_ENTRY inline
#else
#define CACHEKIT_HOT_INLINE_ENTRY CACHEKIT_HOT_INLINE
#endif

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

// Largest reply body the binary protocol parser accepts, in bytes, and the
// default largest value of the text and meta decoders (protocol::Limits). A
// reply that announces more is a protocol error, never an allocation.
#ifndef CACHEKIT_MAX_RESPONSE_BODY
#define CACHEKIT_MAX_RESPONSE_BODY (128u * 1024u * 1024u)
#endif

// Set to 0 to compile out the run-time selected AVX2/AVX-512 MD5 lanes.
#ifndef CACHEKIT_ENABLE_SIMD
#define CACHEKIT_ENABLE_SIMD 1
#endif

// Default byte budget of a MemoryBackend (keys + values), 64 MiB.
#ifndef CACHEKIT_MEMORY_BACKEND_MAX_BYTES
#define CACHEKIT_MEMORY_BACKEND_MAX_BYTES (64u * 1024u * 1024u)
#endif
// ---- end cachekit/config.hpp ----

// ---- begin cachekit/error.hpp ----
// Error and Result<T>: every fallible call returns a Result instead of
// throwing, so the library works under -fno-exceptions.

#include <cassert>
#include <new>
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

namespace detail {
// The value side of a Result<T>: what std::optional<T> would be, written out
// so that the library's many Result types do not each instantiate optional's
// machinery (a large share of the header's compile time). Same layout, same
// code: trivially copyable for a trivially copyable T, as optional is.
template <class T, bool trivial = std::is_trivially_copyable<T>::value>
class ResultValue {
 public:
  ResultValue() noexcept {}  // NOLINT(modernize-use-equals-default): leaves value_ unconstructed
  template <class... A>
  explicit ResultValue(std::in_place_t, A&&... a) : value_(std::forward<A>(a)...), engaged_(true) {}
  ResultValue(const ResultValue& o) {
    if (o.engaged_) construct(o.value_);
  }
  ResultValue(ResultValue&& o) noexcept(std::is_nothrow_move_constructible<T>::value) {
    if (o.engaged_) construct(std::move(o.value_));
  }
  ResultValue& operator=(const ResultValue& o) {
    if (!o.engaged_) reset();
    else if (engaged_) value_ = o.value_;
    else construct(o.value_);
    return *this;
  }
  ResultValue& operator=(ResultValue&& o) noexcept(std::is_nothrow_move_constructible<T>::value &&
                                                   std::is_nothrow_move_assignable<T>::value) {
    if (!o.engaged_) reset();
    else if (engaged_) value_ = std::move(o.value_);
    else construct(std::move(o.value_));
    return *this;
  }
  ~ResultValue() { reset(); }

  bool engaged() const noexcept { return engaged_; }
  T& get() noexcept { return value_; }
  const T& get() const noexcept { return value_; }

 private:
  template <class V>
  void construct(V&& v) {
    ::new (static_cast<void*>(&value_)) T(std::forward<V>(v));
    engaged_ = true;
  }
  void reset() noexcept {
    if (engaged_) {
      value_.~T();
      engaged_ = false;
    }
  }

  union {
    T value_;  // alive when engaged_
  };
  bool engaged_ = false;
};

template <class T>
class ResultValue<T, true> {
 public:
  ResultValue() noexcept {}  // NOLINT(modernize-use-equals-default): leaves value_ unconstructed
  template <class... A>
  explicit ResultValue(std::in_place_t, A&&... a) : value_(std::forward<A>(a)...), engaged_(true) {}

  bool engaged() const noexcept { return engaged_; }
  T& get() noexcept { return value_; }
  const T& get() const noexcept { return value_; }

 private:
  union {
    T value_;  // alive when engaged_
  };
  bool engaged_ = false;
};

// Deletes Result<T>'s copy operations when T cannot be copied, so that type
// traits (and std::vector's move_if_noexcept) see what std::optional shows.
template <bool copyable>
struct ResultCopyGate {};
template <>
struct ResultCopyGate<false> {
  ResultCopyGate() = default;
  ResultCopyGate(const ResultCopyGate&) = delete;
  ResultCopyGate(ResultCopyGate&&) = default;
  ResultCopyGate& operator=(const ResultCopyGate&) = delete;
  ResultCopyGate& operator=(ResultCopyGate&&) = default;
  ~ResultCopyGate() = default;
};
}  // namespace detail

/// Either a value of T or an Error. Accessing the wrong side is a
/// precondition violation (asserted in debug builds).
template <class T>
class [[nodiscard]] Result : private detail::ResultCopyGate<std::is_copy_constructible<T>::value> {
 public:
  Result(const T& v) : value_(std::in_place, v) {}                // NOLINT(google-explicit-constructor)
  Result(T&& v) : value_(std::in_place, std::move(v)) {}          // NOLINT(google-explicit-constructor)
  Result(Error e) : error_(std::in_place, std::move(e)) {}  // NOLINT(google-explicit-constructor)
  template <class U, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                              !std::is_same_v<std::decay_t<U>, T> &&
                                              !std::is_same_v<std::decay_t<U>, Error> &&
                                              !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& v) : value_(std::in_place, std::forward<U>(v)) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return value_.engaged(); }
  bool ok() const noexcept { return value_.engaged(); }

  T& value() & { assert(ok()); return value_.get(); }
  const T& value() const& { assert(ok()); return value_.get(); }
  T&& value() && { assert(ok()); return std::move(value_.get()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& { return ok() ? value_.get() : static_cast<T>(std::forward<U>(fallback)); }

  const Error& error() const& { assert(!ok()); return *error_; }
  Error&& error() && { assert(!ok()); return std::move(*error_); }

 private:
  detail::ResultValue<T> value_;
  // Engaged only on failure, so a successful Result costs no Error
  // construction, move or destruction (hot paths return many of them).
  std::optional<Error> error_;
};

/// Success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  // User-provided on purpose: `return {}` then only marks the error empty,
  // instead of value-initialising (zero-filling) the whole object first.
  Result() noexcept {}  // NOLINT(modernize-use-equals-default)
  Result(Error e) : error_(std::in_place, std::move(e)) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return !error_.has_value(); }
  bool ok() const noexcept { return !error_.has_value(); }
  void value() const { assert(ok()); }
  const Error& error() const& { assert(!ok()); return *error_; }
  Error&& error() && { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;  // engaged only on failure
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/error.hpp ----

// ---- begin cachekit/detail/function.hpp ----
// std::function without the rest of <functional>. In C++17 <functional> also
// declares the searchers, and libstdc++ brings <unordered_map>, <array> and
// its algorithms with them: about 0.13 s of GCC's time in every translation
// unit, for one class template. libstdc++ declares std::function in
// <bits/std_function.h> (which its <future> includes alone as well); other
// standard libraries get <functional>.

#include <cstddef>  // defines __GLIBCXX__ when the library is libstdc++

#if defined(__GLIBCXX__) && defined(__has_include)
#if __has_include(<bits/std_function.h>)
#include <bits/std_function.h>
#define CACHEKIT_DETAIL_HAVE_STD_FUNCTION_H 1
#endif
#endif
#ifndef CACHEKIT_DETAIL_HAVE_STD_FUNCTION_H
#include <functional>
#endif
// ---- end cachekit/detail/function.hpp ----

// ---- begin cachekit/log.hpp ----
// The library log: one replaceable, process-wide hook for the few things
// cachekit reports on its own (a cached function that runs uncached because
// of a misconfiguration or a failing backend; later, a protocol downgrade).
//
// It is the one process-wide setting of the library (the README says why and
// what it costs): a misconfiguration must not go unnoticed, and a library
// that writes to stderr must let its user redirect or silence that. The
// state is a mutex and a shared pointer, touched only when something is
// logged; no get or set on the hot path reads it. Messages are rate-limited
// by their callers (once per cached function and kind of error), never per
// call.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// Severity of a log record.
enum class LogLevel : std::uint8_t { debug, info, warning, error };

/// "debug", "info", "warning" or "error".
inline const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "unknown";
}

/// One thing the library reports: its level, the part of the library that
/// reports it ("cache", "memcached", ...) and a one-line message.
struct LogRecord {
  LogLevel level = LogLevel::warning;
  std::string_view topic;
  std::string_view message;
};

/// A log hook. Called on the thread that met the event, possibly from
/// several threads at once; it must not throw.
using Logger = std::function<void(const LogRecord&)>;

/// The default hook: one line on stderr, "cachekit: <level>: <message>".
inline void log_to_stderr(const LogRecord& record) {
  std::string line = "cachekit: ";
  line += to_string(record.level);
  line += ": ";
  line += record.message;
  line += '\n';
  // One write of the whole line, so lines of concurrent threads do not mix.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

/// Replaces the library's log hook for the whole process; an empty function
/// (set_logger(nullptr)) silences the library. Thread-safe; a call already
/// running the previous hook finishes with it. (A template only so that it
/// is compiled where it is used.)
template <class = void>
void set_logger(Logger logger);

/// Sends a record to the current hook (nothing when silenced). The hook runs
/// outside the library's lock, so it may itself call set_logger or log_message.
template <class = void>
void log_message(LogLevel level, std::string_view topic, std::string_view message);

CACHEKIT_END_NAMESPACE

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
#include <mutex>

CACHEKIT_BEGIN_NAMESPACE

namespace detail {
template <class = void>  // compiled where it is used
struct LoggerSlot {
  std::mutex mutex;
  std::shared_ptr<const Logger> logger = std::make_shared<const Logger>(log_to_stderr);
};
template <class = void>  // compiled where it is used
inline LoggerSlot<>& logger_slot() {
  static LoggerSlot<> slot;
  return slot;
}
}  // namespace detail

template <class>
inline void set_logger(Logger logger) {
  std::shared_ptr<const Logger> next;
  if (logger) next = std::make_shared<const Logger>(std::move(logger));
  detail::LoggerSlot<>& slot = detail::logger_slot();
  std::lock_guard<std::mutex> lock(slot.mutex);
  slot.logger.swap(next);
  // The previous hook is released here, after the lock, with `next`.
}

template <class>
inline void log_message(LogLevel level, std::string_view topic, std::string_view message) {
  std::shared_ptr<const Logger> current;
  {
    detail::LoggerSlot<>& slot = detail::logger_slot();
    std::lock_guard<std::mutex> lock(slot.mutex);
    current = slot.logger;
  }
  if (current && *current) (*current)(LogRecord{level, topic, message});
}

namespace detail {
CACHEKIT_COMPILE_ONCE(struct LoggerSlot<void>)  // see config.hpp
CACHEKIT_COMPILE_ONCE(LoggerSlot<>& logger_slot<void>())
}  // namespace detail

CACHEKIT_END_NAMESPACE
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_BEGIN_NAMESPACE
CACHEKIT_COMPILE_ONCE(void set_logger<void>(Logger))
CACHEKIT_COMPILE_ONCE(void log_message<void>(LogLevel, std::string_view, std::string_view))

CACHEKIT_END_NAMESPACE
// ---- end cachekit/log.hpp ----

// ---- begin cachekit/backend.hpp ----
// The Backend interface: what the typed facade needs from a store.
// MemcachedBackend and MemoryBackend implement it; users may write their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

/// The remaining lifetime of a stored entry.
struct Ttl {
  bool expires = false;             ///< false: the entry never expires
  std::chrono::seconds left{0};     ///< whole seconds left (when expires)
  /// An entry without expiry.
  static Ttl never() noexcept { return Ttl{}; }
  /// An entry that expires in left seconds.
  static Ttl in(std::chrono::seconds left) noexcept { return Ttl{true, left}; }
  friend bool operator==(const Ttl& a, const Ttl& b) noexcept {
    return a.expires == b.expires && (!a.expires || a.left == b.left);
  }
  friend bool operator!=(const Ttl& a, const Ttl& b) noexcept { return !(a == b); }
};

/// A value with its remaining lifetime (get_with_ttl).
struct ValueWithTtl {
  std::string value;
  Ttl ttl;
};

/// How a lease-aware read may hand its caller the right to compute.
struct LeaseOptions {
  /// > 0: a miss creates an empty placeholder that lives this long, and the
  /// reader that created it wins (LeaseRead::won); readers after it see
  /// LeaseRead::pending until the winner stores or the placeholder expires.
  std::chrono::seconds lease_ttl{0};
  /// > 0: when an entry has fewer seconds than this left, one reader wins an
  /// early recompute while every reader still gets the value.
  std::chrono::seconds recache{0};
};

/// What a lease-aware read found (Backend::lease_get).
struct LeaseRead {
  /// The current value; nullopt on a miss or while only a placeholder exists.
  std::optional<std::string> value;
  /// The entry's remaining lifetime (the placeholder's while one stands).
  Ttl ttl;
  /// The entry's version: lease_set stores only while it is unchanged.
  std::uint64_t token = 0;
  bool won = false;      ///< this reader must compute the value and lease_set it
  bool stale = false;    ///< the value was invalidated (served stale until replaced)
  bool pending = false;  ///< another reader holds the right to compute
};

/// A key-value store with TTLs. Implementations must be safe to share
/// across threads.
///
/// Beyond the six required operations a store may offer TTL inspection and
/// leases (memcached's meta protocol and MemoryBackend do); the defaults
/// answer a `permanent` error that names the operation, and has_leases()
/// tells the facade whether it may use them.
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

  /// The remaining lifetime of key without its value; nullopt on a miss.
  /// (A store provides it by overriding read_ttl.)
  template <class = void>
  Result<std::optional<Ttl>> ttl(std::string_view key) {
    Ttl t;
    auto r = read_ttl(key, t);
    if (!r) return std::move(r).error();
    return *r ? std::optional<Ttl>(t) : std::optional<Ttl>();
  }
  /// The value under key and its remaining lifetime, in one request.
  /// (A store provides it by overriding read_with_ttl.)
  template <class = void>
  Result<std::optional<ValueWithTtl>> get_with_ttl(std::string_view key) {
    ValueWithTtl v;
    auto r = read_with_ttl(key, v.value, v.ttl);
    if (!r) return std::move(r).error();
    return *r ? std::optional<ValueWithTtl>(std::move(v)) : std::optional<ValueWithTtl>();
  }
  /// ttl()'s question to the store: true with out set when key is present,
  /// false on a miss.
  virtual Result<bool> read_ttl(std::string_view key, Ttl& out) {
    (void)out;
    return unsupported("ttl", key);
  }
  /// get_with_ttl()'s question to the store: true with value and ttl set
  /// when key is present, false on a miss.
  virtual Result<bool> read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) {
    (void)value, (void)ttl;
    return unsupported("get_with_ttl", key);
  }
  /// Whether lease_get, lease_set and invalidate work (and ttl).
  virtual bool has_leases() const noexcept { return false; }
  /// A read that may hand this caller the right to compute the value (see
  /// LeaseOptions and LeaseRead), in one request.
  virtual Result<LeaseRead> lease_get(std::string_view key, const LeaseOptions& options) {
    (void)options;
    return unsupported("lease_get", key);
  }
  /// Stores value only while the entry is still the version token names (a
  /// LeaseRead's token): false when it changed (a newer value, another
  /// invalidation, an expired placeholder) or is gone.
  virtual Result<bool> lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                 std::uint64_t token) {
    (void)value, (void)ttl, (void)token;
    return unsupported("lease_set", key);
  }
  /// Marks the value under key stale instead of removing it: for stale_for
  /// more seconds (<= 0: its current lifetime) readers still get it, flagged,
  /// and one of them wins the recompute. False when key is absent.
  virtual Result<bool> invalidate(std::string_view key, std::chrono::seconds stale_for) {
    (void)stale_for;
    return unsupported("invalidate", key);
  }

 protected:
  /// The error of an operation this store does not offer.
  static Error unsupported(const char* op, std::string_view key) {
    Error e(ErrorKind::permanent, std::string(op) + " is not supported by this backend");
    e.with_operation(op);
    if (!key.empty()) e.with_key(std::string(key));
    return e;
  }
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

// ---- begin cachekit/hash/md5.hpp ----
// MD5 (RFC 1321), used for ketama key routing. Scalar, allocation-free, with
// a one-block fast path for keys of up to 55 bytes. Not for security.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>


// The 64 MD5 steps as an X-macro list, shared by the scalar and the
// multi-lane implementations: X(round, a, b, c, d, message word, constant,
// rotation). Constants are RFC 1321's T[i] = floor(abs(sin(i + 1)) * 2^32).
#define CACHEKIT_MD5_STEPS(X) \
  X(F, a, b, c, d,  0, 0xd76aa478u,  7) \
  X(F, d, a, b, c,  1, 0xe8c7b756u, 12) \
  X(F, c, d, a, b,  2, 0x242070dbu, 17) \
  X(F, b, c, d, a,  3, 0xc1bdceeeu, 22) \
  X(F, a, b, c, d,  4, 0xf57c0fafu,  7) \
  X(F, d, a, b, c,  5, 0x4787c62au, 12) \
  X(F, c, d, a, b,  6, 0xa8304613u, 17) \
  X(F, b, c, d, a,  7, 0xfd469501u, 22) \
  X(F, a, b, c, d,  8, 0x698098d8u,  7) \
  X(F, d, a, b, c,  9, 0x8b44f7afu, 12) \
  X(F, c, d, a, b, 10, 0xffff5bb1u, 17) \
  X(F, b, c, d, a, 11, 0x895cd7beu, 22) \
  X(F, a, b, c, d, 12, 0x6b901122u,  7) \
  X(F, d, a, b, c, 13, 0xfd987193u, 12) \
  X(F, c, d, a, b, 14, 0xa679438eu, 17) \
  X(F, b, c, d, a, 15, 0x49b40821u, 22) \
  X(G, a, b, c, d,  1, 0xf61e2562u,  5) \
  X(G, d, a, b, c,  6, 0xc040b340u,  9) \
  X(G, c, d, a, b, 11, 0x265e5a51u, 14) \
  X(G, b, c, d, a,  0, 0xe9b6c7aau, 20) \
  X(G, a, b, c, d,  5, 0xd62f105du,  5) \
  X(G, d, a, b, c, 10, 0x02441453u,  9) \
  X(G, c, d, a, b, 15, 0xd8a1e681u, 14) \
  X(G, b, c, d, a,  4, 0xe7d3fbc8u, 20) \
  X(G, a, b, c, d,  9, 0x21e1cde6u,  5) \
  X(G, d, a, b, c, 14, 0xc33707d6u,  9) \
  X(G, c, d, a, b,  3, 0xf4d50d87u, 14) \
  X(G, b, c, d, a,  8, 0x455a14edu, 20) \
  X(G, a, b, c, d, 13, 0xa9e3e905u,  5) \
  X(G, d, a, b, c,  2, 0xfcefa3f8u,  9) \
  X(G, c, d, a, b,  7, 0x676f02d9u, 14) \
  X(G, b, c, d, a, 12, 0x8d2a4c8au, 20) \
  X(H, a, b, c, d,  5, 0xfffa3942u,  4) \
  X(H, d, a, b, c,  8, 0x8771f681u, 11) \
  X(H, c, d, a, b, 11, 0x6d9d6122u, 16) \
  X(H, b, c, d, a, 14, 0xfde5380cu, 23) \
  X(H, a, b, c, d,  1, 0xa4beea44u,  4) \
  X(H, d, a, b, c,  4, 0x4bdecfa9u, 11) \
  X(H, c, d, a, b,  7, 0xf6bb4b60u, 16) \
  X(H, b, c, d, a, 10, 0xbebfbc70u, 23) \
  X(H, a, b, c, d, 13, 0x289b7ec6u,  4) \
  X(H, d, a, b, c,  0, 0xeaa127fau, 11) \
  X(H, c, d, a, b,  3, 0xd4ef3085u, 16) \
  X(H, b, c, d, a,  6, 0x04881d05u, 23) \
  X(H, a, b, c, d,  9, 0xd9d4d039u,  4) \
  X(H, d, a, b, c, 12, 0xe6db99e5u, 11) \
  X(H, c, d, a, b, 15, 0x1fa27cf8u, 16) \
  X(H, b, c, d, a,  2, 0xc4ac5665u, 23) \
  X(I, a, b, c, d,  0, 0xf4292244u,  6) \
  X(I, d, a, b, c,  7, 0x432aff97u, 10) \
  X(I, c, d, a, b, 14, 0xab9423a7u, 15) \
  X(I, b, c, d, a,  5, 0xfc93a039u, 21) \
  X(I, a, b, c, d, 12, 0x655b59c3u,  6) \
  X(I, d, a, b, c,  3, 0x8f0ccc92u, 10) \
  X(I, c, d, a, b, 10, 0xffeff47du, 15) \
  X(I, b, c, d, a,  1, 0x85845dd1u, 21) \
  X(I, a, b, c, d,  8, 0x6fa87e4fu,  6) \
  X(I, d, a, b, c, 15, 0xfe2ce6e0u, 10) \
  X(I, c, d, a, b,  6, 0xa3014314u, 15) \
  X(I, b, c, d, a, 13, 0x4e0811a1u, 21) \
  X(I, a, b, c, d,  4, 0xf7537e82u,  6) \
  X(I, d, a, b, c, 11, 0xbd3af235u, 10) \
  X(I, c, d, a, b,  2, 0x2ad7d2bbu, 15) \
  X(I, b, c, d, a,  9, 0xeb86d391u, 21)

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

inline constexpr std::uint32_t kMd5Init[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

/// Little-endian 32-bit load; compilers turn it into one load on x86.
inline std::uint32_t load_le32(const unsigned char* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

inline void store_le32(unsigned char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
  p[2] = static_cast<unsigned char>(v >> 16);
  p[3] = static_cast<unsigned char>(v >> 24);
}

inline std::uint32_t rotl32(std::uint32_t x, int s) noexcept { return (x << s) | (x >> (32 - s)); }

// Round functions written so the value produced by the previous step (b)
// enters as late as possible: G's two halves are disjoint, so + equals |.
#define CACHEKIT_MD5_SCALAR_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define CACHEKIT_MD5_SCALAR_G(b, c, d) ((c) & ~(d)) + ((b) & (d))
#define CACHEKIT_MD5_SCALAR_H(b, c, d) ((b) ^ (c) ^ (d))
#define CACHEKIT_MD5_SCALAR_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define CACHEKIT_MD5_SCALAR_STEP(R, a, b, c, d, i, k, s) \
  a = b + rotl32(a + m[i] + k + CACHEKIT_MD5_SCALAR_##R(b, c, d), s);

#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_MD5_INLINE inline __attribute__((always_inline))
#else
#define CACHEKIT_MD5_INLINE inline
#endif

/// One MD5 compression of the 16 little-endian words m into state. Always
/// inlined so that a caller wanting one word lets the compiler drop the
/// last steps.
CACHEKIT_MD5_INLINE void md5_compress(std::uint32_t state[4], const std::uint32_t m[16]) noexcept {
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_SCALAR_STEP)
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

#undef CACHEKIT_MD5_SCALAR_STEP
#undef CACHEKIT_MD5_SCALAR_F
#undef CACHEKIT_MD5_SCALAR_G
#undef CACHEKIT_MD5_SCALAR_H
#undef CACHEKIT_MD5_SCALAR_I

/// Number of 64-byte blocks MD5 processes for a message of n bytes.
inline constexpr std::size_t md5_block_count(std::size_t n) noexcept { return (n + 8) / 64 + 1; }

/// Words of block j (of md5_block_count(n)) of the padded message p[0..n).
inline void md5_block_words(const unsigned char* p, std::size_t n, std::size_t j,
                            std::uint32_t m[16]) noexcept {
  const std::size_t start = j * 64;
  if (start + 64 <= n) {
    for (int i = 0; i < 16; ++i) m[i] = load_le32(p + start + 4 * i);
    return;
  }
  unsigned char buf[64] = {};
  if (start < n) std::memcpy(buf, p + start, n - start);
  if (start <= n) buf[n - start] = 0x80;
  if (j + 1 == md5_block_count(n)) {
    const std::uint64_t bits = static_cast<std::uint64_t>(n) << 3;
    store_le32(buf + 56, static_cast<std::uint32_t>(bits));
    store_le32(buf + 60, static_cast<std::uint32_t>(bits >> 32));
  }
  for (int i = 0; i < 16; ++i) m[i] = load_le32(buf + 4 * i);
}

/// The MD5 state after the whole message p[0..n).
CACHEKIT_MD5_INLINE void md5_state(const unsigned char* p, std::size_t n, std::uint32_t state[4]) noexcept {
  state[0] = kMd5Init[0];
  state[1] = kMd5Init[1];
  state[2] = kMd5Init[2];
  state[3] = kMd5Init[3];
  std::uint32_t m[16];
  if (n <= 55) {  // the common case for keys and ring point names: one block
    unsigned char buf[64] = {};
    std::memcpy(buf, p, n);
    buf[n] = 0x80;
    store_le32(buf + 56, static_cast<std::uint32_t>(n << 3));
    for (int i = 0; i < 16; ++i) m[i] = load_le32(buf + 4 * i);
    md5_compress(state, m);
    return;
  }
  const std::size_t blocks = md5_block_count(n);
  for (std::size_t j = 0; j < blocks; ++j) {
    md5_block_words(p, n, j, m);
    md5_compress(state, m);
  }
}

}  // namespace detail

namespace hash {

/// MD5 digest of data (RFC 1321).
inline std::array<std::uint8_t, 16> md5(std::string_view data) noexcept {
  std::uint32_t s[4];
  detail::md5_state(reinterpret_cast<const unsigned char*>(data.data()), data.size(), s);
  std::array<std::uint8_t, 16> out{};
  for (int i = 0; i < 4; ++i) detail::store_le32(out.data() + 4 * i, s[i]);
  return out;
}

/// The first four digest bytes of MD5(data) as a little-endian uint32: the
/// ketama key hash. The compiler drops the steps this word does not need.
inline std::uint32_t md5_le32(std::string_view data) noexcept {
  std::uint32_t s[4];
  detail::md5_state(reinterpret_cast<const unsigned char*>(data.data()), data.size(), s);
  return s[0];
}

/// Lowercase hex of an MD5 digest.
inline std::string md5_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto d = md5(data);
  std::string out(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/md5.hpp ----

// ---- begin cachekit/hash/md5_multi.hpp ----
// Many MD5 hashes at once: 2 x 16 lanes with AVX-512, 2 x 8 with AVX2,
// chosen at run time, else the scalar code. Every path gives the same answers. The
// SIMD code is compiled through target attributes, so no -m flag is needed.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>


#if CACHEKIT_ENABLE_SIMD && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define CACHEKIT_MD5_X86_SIMD 1
#else
#define CACHEKIT_MD5_X86_SIMD 0
#endif

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Which MD5 implementation a batch uses.
enum class Md5Path { automatic, scalar, avx2, avx512 };

/// Path that automatic resolves to on this CPU (detected once).
inline Md5Path md5_best_path() noexcept {
#if CACHEKIT_MD5_X86_SIMD
  static const Md5Path best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return Md5Path::avx512;
    if (__builtin_cpu_supports("avx2")) return Md5Path::avx2;
    return Md5Path::scalar;
  }();
  return best;
#else
  return Md5Path::scalar;
#endif
}

/// Whether this CPU (and build) can run path.
inline bool md5_path_supported(Md5Path path) noexcept {
  const Md5Path best = md5_best_path();
  switch (path) {
    case Md5Path::automatic:
    case Md5Path::scalar: return true;
    case Md5Path::avx2: return best == Md5Path::avx2 || best == Md5Path::avx512;
    case Md5Path::avx512: return best == Md5Path::avx512;
  }
  return false;
}

/// Lanes a path hashes together (1 for scalar).
inline constexpr std::size_t md5_lanes(Md5Path path) noexcept {
  return path == Md5Path::avx512 ? 16 : path == Md5Path::avx2 ? 8 : 1;
}

#if CACHEKIT_MD5_X86_SIMD

// Each kernel hashes up to two lane sets of messages that all have the same
// number of blocks, the two sets interleaved step by step so that one set's
// dependency chain runs while the other's waits. Per block, each lane's
// padded block is built as a row, the rows are transposed in registers into
// message-word vectors, and one macro list (CACHEKIT_MD5_STEPS) runs the
// 64 steps. kFull: out[4 * which[l] + j] receives digest word j of lane l;
// otherwise out[which[l]] receives word 0 (the ketama key hash).

// The lanes are GCC/Clang generic vectors rather than <immintrin.h> types:
// that header alone costs every translation unit about half a second to
// parse, and for +, ^, &, | and shifts by a constant the compiler emits the
// same instructions (vpternlogd and vprold included, for the AVX-512 path);
// the transposes are __builtin_shufflevector.

using Md5U32x8 = std::uint32_t __attribute__((vector_size(32)));
using Md5U32x16 = std::uint32_t __attribute__((vector_size(64)));
using Md5U64x4 = std::uint64_t __attribute__((vector_size(32)));
using Md5U64x8 = std::uint64_t __attribute__((vector_size(64)));

// Round functions as plain bit operations: F = b?c:d, G = d?b:c,
// H = b^c^d, I = c^(b|~d). G adds its two disjoint halves: written with |,
// GCC turns it into c^((b^c)&d), one more instruction after b is ready.
#define CACHEKIT_MD5_VEC_FN_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define CACHEKIT_MD5_VEC_FN_G(b, c, d) ((~(d) & (c)) + ((b) & (d)))
#define CACHEKIT_MD5_VEC_FN_H(b, c, d) ((b) ^ (c) ^ (d))
#define CACHEKIT_MD5_VEC_FN_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define CACHEKIT_MD5_VEC_STEP2(R, a, b, c, d, i, k, s)                                \
  {                                                                                    \
    std::uint32_t k32 = (k);                                                           \
    __asm__("" : "+r"(k32)); /* a value, not a constant: one broadcast per step */    \
    const auto kk = decltype(a##1){} + k32;                                            \
    const auto t1 = a##1 + (m1[i] + kk) + CACHEKIT_MD5_VEC_FN_##R(b##1, c##1, d##1);    \
    const auto t2 = a##2 + (m2[i] + kk) + CACHEKIT_MD5_VEC_FN_##R(b##2, c##2, d##2);    \
    a##1 = b##1 + ((t1 << (s)) | (t1 >> (32 - (s))));                                  \
    a##2 = b##2 + ((t2 << (s)) | (t2 >> (32 - (s))));                                  \
  }

// ---- AVX2: 8 lanes per set ------------------------------------------------

/// Transposes 8 rows of 16 words into m[16] (word i of every lane).
__attribute__((target("avx2"))) inline void md5_transpose8x16(const std::uint32_t (*rows)[16],
                                                              Md5U32x8* m) noexcept {
  for (int half = 0; half < 2; ++half) {
    Md5U32x8 r[8];
    Md5U64x4 t[8], u[8];
    for (int l = 0; l < 8; ++l) std::memcpy(&r[l], rows[l] + 8 * half, sizeof r[l]);
    for (int k = 0; k < 4; ++k) {  // interleave dwords of row pairs, per 128-bit half
      t[2 * k] = (Md5U64x4)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
      t[2 * k + 1] = (Md5U64x4)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int k = 0; k < 2; ++k) {  // u[4k + j], 128-bit half H: column 4H + j of rows 4k..4k+3
      u[4 * k + 0] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 0, 4, 2, 6);
      u[4 * k + 1] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 1, 5, 3, 7);
      u[4 * k + 2] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 0, 4, 2, 6);
      u[4 * k + 3] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 1, 5, 3, 7);
    }
    for (int j = 0; j < 4; ++j) {
      m[8 * half + j] = (Md5U32x8)__builtin_shufflevector(u[j], u[4 + j], 0, 1, 4, 5);
      m[8 * half + 4 + j] = (Md5U32x8)__builtin_shufflevector(u[j], u[4 + j], 2, 3, 6, 7);
    }
  }
}

/// Up to 16 messages of `blocks` blocks each (two sets of 8 lanes).
template <bool kFull>
__attribute__((target("avx2"))) void md5_lanes_avx2(const std::string_view* msgs, const std::size_t* which,
                                                    std::size_t count, std::size_t blocks,
                                                    std::uint32_t* out) noexcept {
  Md5U32x8 st[2][4];
  for (int j = 0; j < 4; ++j) {
    for (int l = 0; l < 8; ++l) st[0][j][l] = kMd5Init[j];
    st[1][j] = st[0][j];
  }
  alignas(32) std::uint32_t rows[16][16];
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    for (std::size_t l = 0; l < 16; ++l) {
      if (l < count) {
        const std::string_view m = msgs[which[l]];
        md5_block_words(reinterpret_cast<const unsigned char*>(m.data()), m.size(), blk, rows[l]);
      } else {
        std::memset(rows[l], 0, sizeof rows[l]);
      }
    }
    Md5U32x8 m1[16], m2[16];
    md5_transpose8x16(rows, m1);
    md5_transpose8x16(rows + 8, m2);
    Md5U32x8 a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    Md5U32x8 a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_VEC_STEP2)
    st[0][0] += a1;
    st[0][1] += b1;
    st[0][2] += c1;
    st[0][3] += d1;
    st[1][0] += a2;
    st[1][1] += b2;
    st[1][2] += c2;
    st[1][3] += d2;
  }
  alignas(32) std::uint32_t words[4][16];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    std::memcpy(words[j], &st[0][j], sizeof st[0][j]);
    std::memcpy(words[j] + 8, &st[1][j], sizeof st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

// ---- AVX-512: 16 lanes per set --------------------------------------------

/// Transposes 16 rows of 16 words into m[16] (word i of every lane) in 64 shuffles.
__attribute__((target("avx512f,avx512bw"))) inline void md5_transpose16(const Md5U32x16* r, Md5U32x16* m) noexcept {
  Md5U64x8 t[16], u[16];
  for (int k = 0; k < 8; ++k) {  // interleave dwords of row pairs, per 128-bit lane
    t[2 * k] = (Md5U64x8)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12,
                                                 28, 13, 29);
    t[2 * k + 1] = (Md5U64x8)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11,
                                                     27, 14, 30, 15, 31);
  }
  for (int k = 0; k < 4; ++k) {  // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3
    u[4 * k + 0] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 0, 8, 2, 10, 4, 12, 6, 14);
    u[4 * k + 1] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 1, 9, 3, 11, 5, 13, 7, 15);
    u[4 * k + 2] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 0, 8, 2, 10, 4, 12, 6, 14);
    u[4 * k + 3] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 1, 9, 3, 11, 5, 13, 7, 15);
  }
  for (int j = 0; j < 4; ++j) {  // 4x4 transpose of 128-bit lanes across u[j], u[4+j], u[8+j], u[12+j]
    const Md5U64x8 v0 = __builtin_shufflevector(u[j], u[4 + j], 0, 1, 2, 3, 8, 9, 10, 11);
    const Md5U64x8 v1 = __builtin_shufflevector(u[j], u[4 + j], 4, 5, 6, 7, 12, 13, 14, 15);
    const Md5U64x8 v2 = __builtin_shufflevector(u[8 + j], u[12 + j], 0, 1, 2, 3, 8, 9, 10, 11);
    const Md5U64x8 v3 = __builtin_shufflevector(u[8 + j], u[12 + j], 4, 5, 6, 7, 12, 13, 14, 15);
    m[j] = (Md5U32x16)__builtin_shufflevector(v0, v2, 0, 1, 4, 5, 8, 9, 12, 13);
    m[4 + j] = (Md5U32x16)__builtin_shufflevector(v0, v2, 2, 3, 6, 7, 10, 11, 14, 15);
    m[8 + j] = (Md5U32x16)__builtin_shufflevector(v1, v3, 0, 1, 4, 5, 8, 9, 12, 13);
    m[12 + j] = (Md5U32x16)__builtin_shufflevector(v1, v3, 2, 3, 6, 7, 10, 11, 14, 15);
  }
}

using Md5U8x64 = unsigned char __attribute__((vector_size(64)));
using Md5C8x64 = char __attribute__((vector_size(64)));

/// Block `blk` (of `blocks`) of message m, padded, built in a register with a
/// masked byte load that never reads past the message (building it in memory
/// and reloading it stalls on store forwarding).
__attribute__((target("avx512f,avx512bw"))) inline Md5U32x16 md5_block_row(std::string_view m, std::size_t blk,
                                                                           std::size_t blocks) noexcept {
  const std::size_t n = m.size();
  const std::size_t off = blk * 64;
  Md5U8x64 v{};
  if (n >= off + 64) {
    std::memcpy(&v, m.data() + off, sizeof v);
  } else if (n >= off) {
    const std::size_t avail = n - off;
    if (avail > 0) {
      const std::uint64_t load = (std::uint64_t{1} << avail) - 1;
      // Same builtin in both compilers; only its pointer parameter's type differs.
#if defined(__clang__)
      v = (Md5U8x64)__builtin_ia32_loaddquqi512_mask(reinterpret_cast<const Md5C8x64*>(m.data() + off), Md5C8x64{},
                                                     load);
#else
      v = (Md5U8x64)__builtin_ia32_loaddquqi512_mask(m.data() + off, Md5C8x64{}, load);
#endif
    }
    Md5U8x64 pos{}, iota{};
    for (unsigned char i = 0; i < 64; ++i) {
      iota[i] = i;
      pos[i] = static_cast<unsigned char>(avail);
    }
    v |= (Md5U8x64)(iota == pos) & static_cast<unsigned char>(0x80);
  }
  Md5U32x16 w = (Md5U32x16)v;
  if (blk + 1 == blocks) {  // bit length in words 14 and 15
    const std::uint64_t bits = static_cast<std::uint64_t>(n) << 3;
    w[14] = static_cast<std::uint32_t>(bits);
    w[15] = static_cast<std::uint32_t>(bits >> 32);
  }
  return w;
}

/// Up to 32 messages of `blocks` blocks each (two sets of 16 lanes).
template <bool kFull>
__attribute__((target("avx512f,avx512bw"))) void md5_lanes_avx512(const std::string_view* msgs,
                                                                  const std::size_t* which, std::size_t count,
                                                                  std::size_t blocks, std::uint32_t* out) noexcept {
  Md5U32x16 st[2][4];
  for (int j = 0; j < 4; ++j) {
    for (int l = 0; l < 16; ++l) st[0][j][l] = kMd5Init[j];
    st[1][j] = st[0][j];
  }
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    Md5U32x16 r[16], m1[16], m2[16];
    for (std::size_t l = 0; l < 16; ++l) r[l] = l < count ? md5_block_row(msgs[which[l]], blk, blocks) : Md5U32x16{};
    md5_transpose16(r, m1);
    for (std::size_t l = 0; l < 16; ++l) {
      r[l] = l + 16 < count ? md5_block_row(msgs[which[l + 16]], blk, blocks) : Md5U32x16{};
    }
    md5_transpose16(r, m2);
    Md5U32x16 a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    Md5U32x16 a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_VEC_STEP2)
    st[0][0] += a1;
    st[0][1] += b1;
    st[0][2] += c1;
    st[0][3] += d1;
    st[1][0] += a2;
    st[1][1] += b2;
    st[1][2] += c2;
    st[1][3] += d2;
  }
  alignas(64) std::uint32_t words[4][32];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    std::memcpy(words[j], &st[0][j], sizeof st[0][j]);
    std::memcpy(words[j] + 16, &st[1][j], sizeof st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

#undef CACHEKIT_MD5_VEC_STEP2
#undef CACHEKIT_MD5_VEC_FN_F
#undef CACHEKIT_MD5_VEC_FN_G
#undef CACHEKIT_MD5_VEC_FN_H
#undef CACHEKIT_MD5_VEC_FN_I

#endif  // CACHEKIT_MD5_X86_SIMD

/// MD5 of n messages through `path` (automatic = the fastest this CPU
/// supports). kFull: out[4i + j] = digest word j of msgs[i] (little-endian
/// words, as md5_state); else out[i] = word 0, the ketama key hash. Messages
/// are grouped by block count so that each lane group ends together.
template <bool kFull>
void md5_batch(const std::string_view* msgs, std::size_t n, std::uint32_t* out, Md5Path path) noexcept {
  if (path == Md5Path::automatic || !md5_path_supported(path)) path = md5_best_path();
  auto scalar = [&](std::size_t i) {
    std::uint32_t st[4];
    md5_state(reinterpret_cast<const unsigned char*>(msgs[i].data()), msgs[i].size(), st);
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = st[j];
    } else {
      out[i] = st[0];
    }
  };
  const std::size_t lanes = md5_lanes(path);
  if (lanes == 1) {
    for (std::size_t i = 0; i < n; ++i) scalar(i);
    return;
  }
  // Pending groups (two lane sets each) for messages of 1..kGroups blocks
  // (up to 311 bytes); longer ones are rare and take the scalar code.
  constexpr std::size_t kGroups = 5;
  std::size_t pending[kGroups][32];
  std::size_t fill[kGroups] = {};
  auto flush = [&](std::size_t g) {
#if CACHEKIT_MD5_X86_SIMD
    if (path == Md5Path::avx512) {
      md5_lanes_avx512<kFull>(msgs, pending[g], fill[g], g + 1, out);
    } else {
      md5_lanes_avx2<kFull>(msgs, pending[g], fill[g], g + 1, out);
    }
#endif
    fill[g] = 0;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t blocks = md5_block_count(msgs[i].size());
    if (blocks > kGroups) {
      scalar(i);
      continue;
    }
    const std::size_t g = blocks - 1;
    pending[g][fill[g]++] = i;
    if (fill[g] == 2 * lanes) flush(g);
  }
  for (std::size_t g = 0; g < kGroups; ++g) {
    if (fill[g] == 0) continue;
    if (fill[g] <= 2) {  // too few to pay for the lanes
      for (std::size_t l = 0; l < fill[g]; ++l) scalar(pending[g][l]);
      fill[g] = 0;
    } else {
      flush(g);
    }
  }
}

/// out[i] = first four MD5 bytes of keys[i] as a little-endian uint32 (the
/// ketama key hash), for n keys, through `path`.
template <class = void>  // compiled where it is used
inline void md5_le32_batch(const std::string_view* keys, std::size_t n, std::uint32_t* out,
                           Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<false>(keys, n, out, path);
}

/// out[4i .. 4i+4) = the four little-endian digest words of MD5(msgs[i]).
template <class = void>  // compiled where it is used
inline void md5_digest_batch(const std::string_view* msgs, std::size_t n, std::uint32_t* out,
                             Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<true>(msgs, n, out, path);
}

}  // namespace detail

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/md5_multi.hpp ----

// ---- begin cachekit/hash/murmur3.hpp ----
// MurmurHash3 x86 32-bit (Austin Appleby's public-domain algorithm), used by
// the rendezvous distribution that pymemcache's HashClient defaults to.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

inline constexpr std::uint32_t kMurmurC1 = 0xcc9e2d51u;
inline constexpr std::uint32_t kMurmurC2 = 0x1b873593u;

inline std::uint32_t murmur3_rotl(std::uint32_t x, int s) noexcept { return (x << s) | (x >> (32 - s)); }

inline std::uint32_t murmur3_mix_k(std::uint32_t k) noexcept {
  k *= kMurmurC1;
  k = murmur3_rotl(k, 15);
  return k * kMurmurC2;
}

inline std::uint32_t murmur3_mix_h(std::uint32_t h, std::uint32_t k) noexcept {
  h ^= murmur3_mix_k(k);
  h = murmur3_rotl(h, 13);
  return h * 5u + 0xe6546b64u;
}

inline std::uint32_t murmur3_fmix(std::uint32_t h) noexcept {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/// Incremental murmur3_32: feed bytes in any split, then finish(). The
/// state is a few words, so a prefix can be hashed once and copied.
class Murmur3 {
 public:
  explicit Murmur3(std::uint32_t seed = 0) noexcept : h_(seed) {}

  void update(const unsigned char* p, std::size_t n) noexcept {
    total_ += n;
    while (pending_ != 0 && n != 0) {  // complete a partial word first
      tail_ |= static_cast<std::uint32_t>(*p++) << (8 * pending_);
      --n;
      if (++pending_ == 4) {
        h_ = murmur3_mix_h(h_, tail_);
        tail_ = 0;
        pending_ = 0;
      }
    }
    for (; n >= 4; n -= 4, p += 4) {
      const std::uint32_t k = static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                              (static_cast<std::uint32_t>(p[2]) << 16) |
                              (static_cast<std::uint32_t>(p[3]) << 24);
      h_ = murmur3_mix_h(h_, k);
    }
    for (; n != 0; --n) tail_ |= static_cast<std::uint32_t>(*p++) << (8 * pending_++);
  }

  void update(unsigned char byte) noexcept { update(&byte, 1); }

  std::uint32_t finish() const noexcept {
    std::uint32_t h = h_;
    if (pending_ != 0) h ^= murmur3_mix_k(tail_);
    // The reference adds the length as a 32-bit int.
    return murmur3_fmix(h ^ static_cast<std::uint32_t>(total_));
  }

 private:
  std::uint32_t h_;
  std::uint32_t tail_ = 0;
  unsigned pending_ = 0;
  std::size_t total_ = 0;
};

}  // namespace detail

namespace hash {

/// MurmurHash3 x86 32-bit of data with the given seed.
inline std::uint32_t murmur3_32(std::string_view data, std::uint32_t seed = 0) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  std::uint32_t h = seed;
  const std::size_t blocks = n / 4;
  for (std::size_t i = 0; i < blocks; ++i, p += 4) {
    const std::uint32_t k = static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                            (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    h = detail::murmur3_mix_h(h, k);
  }
  std::uint32_t k = 0;
  switch (n & 3) {
    case 3: k |= static_cast<std::uint32_t>(p[2]) << 16; [[fallthrough]];
    case 2: k |= static_cast<std::uint32_t>(p[1]) << 8; [[fallthrough]];
    case 1:
      k |= p[0];
      h ^= detail::murmur3_mix_k(k);
      break;
    default: break;
  }
  return detail::murmur3_fmix(h ^ static_cast<std::uint32_t>(n));
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/murmur3.hpp ----

// ---- begin cachekit/server_spec.hpp ----
// ServerSpec: one memcached server as configured ("host:port:weight",
// "[::1]:11211", "/path/to.sock", twemproxy's "host:port:weight name").
// Parsing only; no DNS, no I/O.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>


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
// ---- end cachekit/server_spec.hpp ----

// ---- begin cachekit/hash/crc32.hpp ----
// CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320), as zlib's crc32()
// computes it: Dalli's key hash.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Slicing-by-8 tables: t[0] is the byte-at-a-time table (the CRC of byte
/// b), t[k][b] the CRC of byte b followed by k zero bytes. Written out
/// rather than computed by a constexpr constructor, which costs every
/// translation unit about 30 ms of compile time; the unit tests rebuild
/// every entry from the polynomial and compare.
struct Crc32Tables {
  std::uint32_t t[8][256];
};

inline constexpr Crc32Tables kCrc32 = {{
    {
        0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu, 0xe963a535u, 0x9e6495a3u,
        0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u,
        0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
        0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u,
        0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u, 0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu,
        0x35b5a8fau, 0x42b2986cu, 0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
        0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
        0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u, 0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du,
        0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
        0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du, 0x91646c97u, 0xe6635c01u,
        0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu, 0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u,
        0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
        0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu,
        0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u, 0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
        0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
        0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u, 0xb7bd5c3bu, 0xc0ba6cadu,
        0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au, 0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u,
        0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
        0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u,
        0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u,
        0xd6d6a3e8u, 0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
        0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu, 0x4669be79u,
        0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u, 0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu,
        0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
        0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u,
        0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u, 0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u,
        0x86d3d2d4u, 0xf1d4e242u, 0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
        0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
        0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu,
        0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
        0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u, 0x54de5729u, 0x23d967bfu,
        0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u, 0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du
    },
    {
        0x00000000u, 0x191b3141u, 0x32366282u, 0x2b2d53c3u, 0x646cc504u, 0x7d77f445u, 0x565aa786u, 0x4f4196c7u,
        0xc8d98a08u, 0xd1c2bb49u, 0xfaefe88au, 0xe3f4d9cbu, 0xacb54f0cu, 0xb5ae7e4du, 0x9e832d8eu, 0x87981ccfu,
        0x4ac21251u, 0x53d92310u, 0x78f470d3u, 0x61ef4192u, 0x2eaed755u, 0x37b5e614u, 0x1c98b5d7u, 0x05838496u,
        0x821b9859u, 0x9b00a918u, 0xb02dfadbu, 0xa936cb9au, 0xe6775d5du, 0xff6c6c1cu, 0xd4413fdfu, 0xcd5a0e9eu,
        0x958424a2u, 0x8c9f15e3u, 0xa7b24620u, 0xbea97761u, 0xf1e8e1a6u, 0xe8f3d0e7u, 0xc3de8324u, 0xdac5b265u,
        0x5d5daeaau, 0x44469febu, 0x6f6bcc28u, 0x7670fd69u, 0x39316baeu, 0x202a5aefu, 0x0b07092cu, 0x121c386du,
        0xdf4636f3u, 0xc65d07b2u, 0xed705471u, 0xf46b6530u, 0xbb2af3f7u, 0xa231c2b6u, 0x891c9175u, 0x9007a034u,
        0x179fbcfbu, 0x0e848dbau, 0x25a9de79u, 0x3cb2ef38u, 0x73f379ffu, 0x6ae848beu, 0x41c51b7du, 0x58de2a3cu,
        0xf0794f05u, 0xe9627e44u, 0xc24f2d87u, 0xdb541cc6u, 0x94158a01u, 0x8d0ebb40u, 0xa623e883u, 0xbf38d9c2u,
        0x38a0c50du, 0x21bbf44cu, 0x0a96a78fu, 0x138d96ceu, 0x5ccc0009u, 0x45d73148u, 0x6efa628bu, 0x77e153cau,
        0xbabb5d54u, 0xa3a06c15u, 0x888d3fd6u, 0x91960e97u, 0xded79850u, 0xc7cca911u, 0xece1fad2u, 0xf5facb93u,
        0x7262d75cu, 0x6b79e61du, 0x4054b5deu, 0x594f849fu, 0x160e1258u, 0x0f152319u, 0x243870dau, 0x3d23419bu,
        0x65fd6ba7u, 0x7ce65ae6u, 0x57cb0925u, 0x4ed03864u, 0x0191aea3u, 0x188a9fe2u, 0x33a7cc21u, 0x2abcfd60u,
        0xad24e1afu, 0xb43fd0eeu, 0x9f12832du, 0x8609b26cu, 0xc94824abu, 0xd05315eau, 0xfb7e4629u, 0xe2657768u,
        0x2f3f79f6u, 0x362448b7u, 0x1d091b74u, 0x04122a35u, 0x4b53bcf2u, 0x52488db3u, 0x7965de70u, 0x607eef31u,
        0xe7e6f3feu, 0xfefdc2bfu, 0xd5d0917cu, 0xcccba03du, 0x838a36fau, 0x9a9107bbu, 0xb1bc5478u, 0xa8a76539u,
        0x3b83984bu, 0x2298a90au, 0x09b5fac9u, 0x10aecb88u, 0x5fef5d4fu, 0x46f46c0eu, 0x6dd93fcdu, 0x74c20e8cu,
        0xf35a1243u, 0xea412302u, 0xc16c70c1u, 0xd8774180u, 0x9736d747u, 0x8e2de606u, 0xa500b5c5u, 0xbc1b8484u,
        0x71418a1au, 0x685abb5bu, 0x4377e898u, 0x5a6cd9d9u, 0x152d4f1eu, 0x0c367e5fu, 0x271b2d9cu, 0x3e001cddu,
        0xb9980012u, 0xa0833153u, 0x8bae6290u, 0x92b553d1u, 0xddf4c516u, 0xc4eff457u, 0xefc2a794u, 0xf6d996d5u,
        0xae07bce9u, 0xb71c8da8u, 0x9c31de6bu, 0x852aef2au, 0xca6b79edu, 0xd37048acu, 0xf85d1b6fu, 0xe1462a2eu,
        0x66de36e1u, 0x7fc507a0u, 0x54e85463u, 0x4df36522u, 0x02b2f3e5u, 0x1ba9c2a4u, 0x30849167u, 0x299fa026u,
        0xe4c5aeb8u, 0xfdde9ff9u, 0xd6f3cc3au, 0xcfe8fd7bu, 0x80a96bbcu, 0x99b25afdu, 0xb29f093eu, 0xab84387fu,
        0x2c1c24b0u, 0x350715f1u, 0x1e2a4632u, 0x07317773u, 0x4870e1b4u, 0x516bd0f5u, 0x7a468336u, 0x635db277u,
        0xcbfad74eu, 0xd2e1e60fu, 0xf9ccb5ccu, 0xe0d7848du, 0xaf96124au, 0xb68d230bu, 0x9da070c8u, 0x84bb4189u,
        0x03235d46u, 0x1a386c07u, 0x31153fc4u, 0x280e0e85u, 0x674f9842u, 0x7e54a903u, 0x5579fac0u, 0x4c62cb81u,
        0x8138c51fu, 0x9823f45eu, 0xb30ea79du, 0xaa1596dcu, 0xe554001bu, 0xfc4f315au, 0xd7626299u, 0xce7953d8u,
        0x49e14f17u, 0x50fa7e56u, 0x7bd72d95u, 0x62cc1cd4u, 0x2d8d8a13u, 0x3496bb52u, 0x1fbbe891u, 0x06a0d9d0u,
        0x5e7ef3ecu, 0x4765c2adu, 0x6c48916eu, 0x7553a02fu, 0x3a1236e8u, 0x230907a9u, 0x0824546au, 0x113f652bu,
        0x96a779e4u, 0x8fbc48a5u, 0xa4911b66u, 0xbd8a2a27u, 0xf2cbbce0u, 0xebd08da1u, 0xc0fdde62u, 0xd9e6ef23u,
        0x14bce1bdu, 0x0da7d0fcu, 0x268a833fu, 0x3f91b27eu, 0x70d024b9u, 0x69cb15f8u, 0x42e6463bu, 0x5bfd777au,
        0xdc656bb5u, 0xc57e5af4u, 0xee530937u, 0xf7483876u, 0xb809aeb1u, 0xa1129ff0u, 0x8a3fcc33u, 0x9324fd72u
    },
    {
        0x00000000u, 0x01c26a37u, 0x0384d46eu, 0x0246be59u, 0x0709a8dcu, 0x06cbc2ebu, 0x048d7cb2u, 0x054f1685u,
        0x0e1351b8u, 0x0fd13b8fu, 0x0d9785d6u, 0x0c55efe1u, 0x091af964u, 0x08d89353u, 0x0a9e2d0au, 0x0b5c473du,
        0x1c26a370u, 0x1de4c947u, 0x1fa2771eu, 0x1e601d29u, 0x1b2f0bacu, 0x1aed619bu, 0x18abdfc2u, 0x1969b5f5u,
        0x1235f2c8u, 0x13f798ffu, 0x11b126a6u, 0x10734c91u, 0x153c5a14u, 0x14fe3023u, 0x16b88e7au, 0x177ae44du,
        0x384d46e0u, 0x398f2cd7u, 0x3bc9928eu, 0x3a0bf8b9u, 0x3f44ee3cu, 0x3e86840bu, 0x3cc03a52u, 0x3d025065u,
        0x365e1758u, 0x379c7d6fu, 0x35dac336u, 0x3418a901u, 0x3157bf84u, 0x3095d5b3u, 0x32d36beau, 0x331101ddu,
        0x246be590u, 0x25a98fa7u, 0x27ef31feu, 0x262d5bc9u, 0x23624d4cu, 0x22a0277bu, 0x20e69922u, 0x2124f315u,
        0x2a78b428u, 0x2bbade1fu, 0x29fc6046u, 0x283e0a71u, 0x2d711cf4u, 0x2cb376c3u, 0x2ef5c89au, 0x2f37a2adu,
        0x709a8dc0u, 0x7158e7f7u, 0x731e59aeu, 0x72dc3399u, 0x7793251cu, 0x76514f2bu, 0x7417f172u, 0x75d59b45u,
        0x7e89dc78u, 0x7f4bb64fu, 0x7d0d0816u, 0x7ccf6221u, 0x798074a4u, 0x78421e93u, 0x7a04a0cau, 0x7bc6cafdu,
        0x6cbc2eb0u, 0x6d7e4487u, 0x6f38fadeu, 0x6efa90e9u, 0x6bb5866cu, 0x6a77ec5bu, 0x68315202u, 0x69f33835u,
        0x62af7f08u, 0x636d153fu, 0x612bab66u, 0x60e9c151u, 0x65a6d7d4u, 0x6464bde3u, 0x662203bau, 0x67e0698du,
        0x48d7cb20u, 0x4915a117u, 0x4b531f4eu, 0x4a917579u, 0x4fde63fcu, 0x4e1c09cbu, 0x4c5ab792u, 0x4d98dda5u,
        0x46c49a98u, 0x4706f0afu, 0x45404ef6u, 0x448224c1u, 0x41cd3244u, 0x400f5873u, 0x4249e62au, 0x438b8c1du,
        0x54f16850u, 0x55330267u, 0x5775bc3eu, 0x56b7d609u, 0x53f8c08cu, 0x523aaabbu, 0x507c14e2u, 0x51be7ed5u,
        0x5ae239e8u, 0x5b2053dfu, 0x5966ed86u, 0x58a487b1u, 0x5deb9134u, 0x5c29fb03u, 0x5e6f455au, 0x5fad2f6du,
        0xe1351b80u, 0xe0f771b7u, 0xe2b1cfeeu, 0xe373a5d9u, 0xe63cb35cu, 0xe7fed96bu, 0xe5b86732u, 0xe47a0d05u,
        0xef264a38u, 0xeee4200fu, 0xeca29e56u, 0xed60f461u, 0xe82fe2e4u, 0xe9ed88d3u, 0xebab368au, 0xea695cbdu,
        0xfd13b8f0u, 0xfcd1d2c7u, 0xfe976c9eu, 0xff5506a9u, 0xfa1a102cu, 0xfbd87a1bu, 0xf99ec442u, 0xf85cae75u,
        0xf300e948u, 0xf2c2837fu, 0xf0843d26u, 0xf1465711u, 0xf4094194u, 0xf5cb2ba3u, 0xf78d95fau, 0xf64fffcdu,
        0xd9785d60u, 0xd8ba3757u, 0xdafc890eu, 0xdb3ee339u, 0xde71f5bcu, 0xdfb39f8bu, 0xddf521d2u, 0xdc374be5u,
        0xd76b0cd8u, 0xd6a966efu, 0xd4efd8b6u, 0xd52db281u, 0xd062a404u, 0xd1a0ce33u, 0xd3e6706au, 0xd2241a5du,
        0xc55efe10u, 0xc49c9427u, 0xc6da2a7eu, 0xc7184049u, 0xc25756ccu, 0xc3953cfbu, 0xc1d382a2u, 0xc011e895u,
        0xcb4dafa8u, 0xca8fc59fu, 0xc8c97bc6u, 0xc90b11f1u, 0xcc440774u, 0xcd866d43u, 0xcfc0d31au, 0xce02b92du,
        0x91af9640u, 0x906dfc77u, 0x922b422eu, 0x93e92819u, 0x96a63e9cu, 0x976454abu, 0x9522eaf2u, 0x94e080c5u,
        0x9fbcc7f8u, 0x9e7eadcfu, 0x9c381396u, 0x9dfa79a1u, 0x98b56f24u, 0x99770513u, 0x9b31bb4au, 0x9af3d17du,
        0x8d893530u, 0x8c4b5f07u, 0x8e0de15eu, 0x8fcf8b69u, 0x8a809decu, 0x8b42f7dbu, 0x89044982u, 0x88c623b5u,
        0x839a6488u, 0x82580ebfu, 0x801eb0e6u, 0x81dcdad1u, 0x8493cc54u, 0x8551a663u, 0x8717183au, 0x86d5720du,
        0xa9e2d0a0u, 0xa820ba97u, 0xaa6604ceu, 0xaba46ef9u, 0xaeeb787cu, 0xaf29124bu, 0xad6fac12u, 0xacadc625u,
        0xa7f18118u, 0xa633eb2fu, 0xa4755576u, 0xa5b73f41u, 0xa0f829c4u, 0xa13a43f3u, 0xa37cfdaau, 0xa2be979du,
        0xb5c473d0u, 0xb40619e7u, 0xb640a7beu, 0xb782cd89u, 0xb2cddb0cu, 0xb30fb13bu, 0xb1490f62u, 0xb08b6555u,
        0xbbd72268u, 0xba15485fu, 0xb853f606u, 0xb9919c31u, 0xbcde8ab4u, 0xbd1ce083u, 0xbf5a5edau, 0xbe9834edu
    },
    {
        0x00000000u, 0xb8bc6765u, 0xaa09c88bu, 0x12b5afeeu, 0x8f629757u, 0x37def032u, 0x256b5fdcu, 0x9dd738b9u,
        0xc5b428efu, 0x7d084f8au, 0x6fbde064u, 0xd7018701u, 0x4ad6bfb8u, 0xf26ad8ddu, 0xe0df7733u, 0x58631056u,
        0x5019579fu, 0xe8a530fau, 0xfa109f14u, 0x42acf871u, 0xdf7bc0c8u, 0x67c7a7adu, 0x75720843u, 0xcdce6f26u,
        0x95ad7f70u, 0x2d111815u, 0x3fa4b7fbu, 0x8718d09eu, 0x1acfe827u, 0xa2738f42u, 0xb0c620acu, 0x087a47c9u,
        0xa032af3eu, 0x188ec85bu, 0x0a3b67b5u, 0xb28700d0u, 0x2f503869u, 0x97ec5f0cu, 0x8559f0e2u, 0x3de59787u,
        0x658687d1u, 0xdd3ae0b4u, 0xcf8f4f5au, 0x7733283fu, 0xeae41086u, 0x525877e3u, 0x40edd80du, 0xf851bf68u,
        0xf02bf8a1u, 0x48979fc4u, 0x5a22302au, 0xe29e574fu, 0x7f496ff6u, 0xc7f50893u, 0xd540a77du, 0x6dfcc018u,
        0x359fd04eu, 0x8d23b72bu, 0x9f9618c5u, 0x272a7fa0u, 0xbafd4719u, 0x0241207cu, 0x10f48f92u, 0xa848e8f7u,
        0x9b14583du, 0x23a83f58u, 0x311d90b6u, 0x89a1f7d3u, 0x1476cf6au, 0xaccaa80fu, 0xbe7f07e1u, 0x06c36084u,
        0x5ea070d2u, 0xe61c17b7u, 0xf4a9b859u, 0x4c15df3cu, 0xd1c2e785u, 0x697e80e0u, 0x7bcb2f0eu, 0xc377486bu,
        0xcb0d0fa2u, 0x73b168c7u, 0x6104c729u, 0xd9b8a04cu, 0x446f98f5u, 0xfcd3ff90u, 0xee66507eu, 0x56da371bu,
        0x0eb9274du, 0xb6054028u, 0xa4b0efc6u, 0x1c0c88a3u, 0x81dbb01au, 0x3967d77fu, 0x2bd27891u, 0x936e1ff4u,
        0x3b26f703u, 0x839a9066u, 0x912f3f88u, 0x299358edu, 0xb4446054u, 0x0cf80731u, 0x1e4da8dfu, 0xa6f1cfbau,
        0xfe92dfecu, 0x462eb889u, 0x549b1767u, 0xec277002u, 0x71f048bbu, 0xc94c2fdeu, 0xdbf98030u, 0x6345e755u,
        0x6b3fa09cu, 0xd383c7f9u, 0xc1366817u, 0x798a0f72u, 0xe45d37cbu, 0x5ce150aeu, 0x4e54ff40u, 0xf6e89825u,
        0xae8b8873u, 0x1637ef16u, 0x048240f8u, 0xbc3e279du, 0x21e91f24u, 0x99557841u, 0x8be0d7afu, 0x335cb0cau,
        0xed59b63bu, 0x55e5d15eu, 0x47507eb0u, 0xffec19d5u, 0x623b216cu, 0xda874609u, 0xc832e9e7u, 0x708e8e82u,
        0x28ed9ed4u, 0x9051f9b1u, 0x82e4565fu, 0x3a58313au, 0xa78f0983u, 0x1f336ee6u, 0x0d86c108u, 0xb53aa66du,
        0xbd40e1a4u, 0x05fc86c1u, 0x1749292fu, 0xaff54e4au, 0x322276f3u, 0x8a9e1196u, 0x982bbe78u, 0x2097d91du,
        0x78f4c94bu, 0xc048ae2eu, 0xd2fd01c0u, 0x6a4166a5u, 0xf7965e1cu, 0x4f2a3979u, 0x5d9f9697u, 0xe523f1f2u,
        0x4d6b1905u, 0xf5d77e60u, 0xe762d18eu, 0x5fdeb6ebu, 0xc2098e52u, 0x7ab5e937u, 0x680046d9u, 0xd0bc21bcu,
        0x88df31eau, 0x3063568fu, 0x22d6f961u, 0x9a6a9e04u, 0x07bda6bdu, 0xbf01c1d8u, 0xadb46e36u, 0x15080953u,
        0x1d724e9au, 0xa5ce29ffu, 0xb77b8611u, 0x0fc7e174u, 0x9210d9cdu, 0x2aacbea8u, 0x38191146u, 0x80a57623u,
        0xd8c66675u, 0x607a0110u, 0x72cfaefeu, 0xca73c99bu, 0x57a4f122u, 0xef189647u, 0xfdad39a9u, 0x45115eccu,
        0x764dee06u, 0xcef18963u, 0xdc44268du, 0x64f841e8u, 0xf92f7951u, 0x41931e34u, 0x5326b1dau, 0xeb9ad6bfu,
        0xb3f9c6e9u, 0x0b45a18cu, 0x19f00e62u, 0xa14c6907u, 0x3c9b51beu, 0x842736dbu, 0x96929935u, 0x2e2efe50u,
        0x2654b999u, 0x9ee8defcu, 0x8c5d7112u, 0x34e11677u, 0xa9362eceu, 0x118a49abu, 0x033fe645u, 0xbb838120u,
        0xe3e09176u, 0x5b5cf613u, 0x49e959fdu, 0xf1553e98u, 0x6c820621u, 0xd43e6144u, 0xc68bceaau, 0x7e37a9cfu,
        0xd67f4138u, 0x6ec3265du, 0x7c7689b3u, 0xc4caeed6u, 0x591dd66fu, 0xe1a1b10au, 0xf3141ee4u, 0x4ba87981u,
        0x13cb69d7u, 0xab770eb2u, 0xb9c2a15cu, 0x017ec639u, 0x9ca9fe80u, 0x241599e5u, 0x36a0360bu, 0x8e1c516eu,
        0x866616a7u, 0x3eda71c2u, 0x2c6fde2cu, 0x94d3b949u, 0x090481f0u, 0xb1b8e695u, 0xa30d497bu, 0x1bb12e1eu,
        0x43d23e48u, 0xfb6e592du, 0xe9dbf6c3u, 0x516791a6u, 0xccb0a91fu, 0x740cce7au, 0x66b96194u, 0xde0506f1u
    },
    {
        0x00000000u, 0x3d6029b0u, 0x7ac05360u, 0x47a07ad0u, 0xf580a6c0u, 0xc8e08f70u, 0x8f40f5a0u, 0xb220dc10u,
        0x30704bc1u, 0x0d106271u, 0x4ab018a1u, 0x77d03111u, 0xc5f0ed01u, 0xf890c4b1u, 0xbf30be61u, 0x825097d1u,
        0x60e09782u, 0x5d80be32u, 0x1a20c4e2u, 0x2740ed52u, 0x95603142u, 0xa80018f2u, 0xefa06222u, 0xd2c04b92u,
        0x5090dc43u, 0x6df0f5f3u, 0x2a508f23u, 0x1730a693u, 0xa5107a83u, 0x98705333u, 0xdfd029e3u, 0xe2b00053u,
        0xc1c12f04u, 0xfca106b4u, 0xbb017c64u, 0x866155d4u, 0x344189c4u, 0x0921a074u, 0x4e81daa4u, 0x73e1f314u,
        0xf1b164c5u, 0xccd14d75u, 0x8b7137a5u, 0xb6111e15u, 0x0431c205u, 0x3951ebb5u, 0x7ef19165u, 0x4391b8d5u,
        0xa121b886u, 0x9c419136u, 0xdbe1ebe6u, 0xe681c256u, 0x54a11e46u, 0x69c137f6u, 0x2e614d26u, 0x13016496u,
        0x9151f347u, 0xac31daf7u, 0xeb91a027u, 0xd6f18997u, 0x64d15587u, 0x59b17c37u, 0x1e1106e7u, 0x23712f57u,
        0x58f35849u, 0x659371f9u, 0x22330b29u, 0x1f532299u, 0xad73fe89u, 0x9013d739u, 0xd7b3ade9u, 0xead38459u,
        0x68831388u, 0x55e33a38u, 0x124340e8u, 0x2f236958u, 0x9d03b548u, 0xa0639cf8u, 0xe7c3e628u, 0xdaa3cf98u,
        0x3813cfcbu, 0x0573e67bu, 0x42d39cabu, 0x7fb3b51bu, 0xcd93690bu, 0xf0f340bbu, 0xb7533a6bu, 0x8a3313dbu,
        0x0863840au, 0x3503adbau, 0x72a3d76au, 0x4fc3fedau, 0xfde322cau, 0xc0830b7au, 0x872371aau, 0xba43581au,
        0x9932774du, 0xa4525efdu, 0xe3f2242du, 0xde920d9du, 0x6cb2d18du, 0x51d2f83du, 0x167282edu, 0x2b12ab5du,
        0xa9423c8cu, 0x9422153cu, 0xd3826fecu, 0xeee2465cu, 0x5cc29a4cu, 0x61a2b3fcu, 0x2602c92cu, 0x1b62e09cu,
        0xf9d2e0cfu, 0xc4b2c97fu, 0x8312b3afu, 0xbe729a1fu, 0x0c52460fu, 0x31326fbfu, 0x7692156fu, 0x4bf23cdfu,
        0xc9a2ab0eu, 0xf4c282beu, 0xb362f86eu, 0x8e02d1deu, 0x3c220dceu, 0x0142247eu, 0x46e25eaeu, 0x7b82771eu,
        0xb1e6b092u, 0x8c869922u, 0xcb26e3f2u, 0xf646ca42u, 0x44661652u, 0x79063fe2u, 0x3ea64532u, 0x03c66c82u,
        0x8196fb53u, 0xbcf6d2e3u, 0xfb56a833u, 0xc6368183u, 0x74165d93u, 0x49767423u, 0x0ed60ef3u, 0x33b62743u,
        0xd1062710u, 0xec660ea0u, 0xabc67470u, 0x96a65dc0u, 0x248681d0u, 0x19e6a860u, 0x5e46d2b0u, 0x6326fb00u,
        0xe1766cd1u, 0xdc164561u, 0x9bb63fb1u, 0xa6d61601u, 0x14f6ca11u, 0x2996e3a1u, 0x6e369971u, 0x5356b0c1u,
        0x70279f96u, 0x4d47b626u, 0x0ae7ccf6u, 0x3787e546u, 0x85a73956u, 0xb8c710e6u, 0xff676a36u, 0xc2074386u,
        0x4057d457u, 0x7d37fde7u, 0x3a978737u, 0x07f7ae87u, 0xb5d77297u, 0x88b75b27u, 0xcf1721f7u, 0xf2770847u,
        0x10c70814u, 0x2da721a4u, 0x6a075b74u, 0x576772c4u, 0xe547aed4u, 0xd8278764u, 0x9f87fdb4u, 0xa2e7d404u,
        0x20b743d5u, 0x1dd76a65u, 0x5a7710b5u, 0x67173905u, 0xd537e515u, 0xe857cca5u, 0xaff7b675u, 0x92979fc5u,
        0xe915e8dbu, 0xd475c16bu, 0x93d5bbbbu, 0xaeb5920bu, 0x1c954e1bu, 0x21f567abu, 0x66551d7bu, 0x5b3534cbu,
        0xd965a31au, 0xe4058aaau, 0xa3a5f07au, 0x9ec5d9cau, 0x2ce505dau, 0x11852c6au, 0x562556bau, 0x6b457f0au,
        0x89f57f59u, 0xb49556e9u, 0xf3352c39u, 0xce550589u, 0x7c75d999u, 0x4115f029u, 0x06b58af9u, 0x3bd5a349u,
        0xb9853498u, 0x84e51d28u, 0xc34567f8u, 0xfe254e48u, 0x4c059258u, 0x7165bbe8u, 0x36c5c138u, 0x0ba5e888u,
        0x28d4c7dfu, 0x15b4ee6fu, 0x521494bfu, 0x6f74bd0fu, 0xdd54611fu, 0xe03448afu, 0xa794327fu, 0x9af41bcfu,
        0x18a48c1eu, 0x25c4a5aeu, 0x6264df7eu, 0x5f04f6ceu, 0xed242adeu, 0xd044036eu, 0x97e479beu, 0xaa84500eu,
        0x4834505du, 0x755479edu, 0x32f4033du, 0x0f942a8du, 0xbdb4f69du, 0x80d4df2du, 0xc774a5fdu, 0xfa148c4du,
        0x78441b9cu, 0x4524322cu, 0x028448fcu, 0x3fe4614cu, 0x8dc4bd5cu, 0xb0a494ecu, 0xf704ee3cu, 0xca64c78cu
    },
    {
        0x00000000u, 0xcb5cd3a5u, 0x4dc8a10bu, 0x869472aeu, 0x9b914216u, 0x50cd91b3u, 0xd659e31du, 0x1d0530b8u,
        0xec53826du, 0x270f51c8u, 0xa19b2366u, 0x6ac7f0c3u, 0x77c2c07bu, 0xbc9e13deu, 0x3a0a6170u, 0xf156b2d5u,
        0x03d6029bu, 0xc88ad13eu, 0x4e1ea390u, 0x85427035u, 0x9847408du, 0x531b9328u, 0xd58fe186u, 0x1ed33223u,
        0xef8580f6u, 0x24d95353u, 0xa24d21fdu, 0x6911f258u, 0x7414c2e0u, 0xbf481145u, 0x39dc63ebu, 0xf280b04eu,
        0x07ac0536u, 0xccf0d693u, 0x4a64a43du, 0x81387798u, 0x9c3d4720u, 0x57619485u, 0xd1f5e62bu, 0x1aa9358eu,
        0xebff875bu, 0x20a354feu, 0xa6372650u, 0x6d6bf5f5u, 0x706ec54du, 0xbb3216e8u, 0x3da66446u, 0xf6fab7e3u,
        0x047a07adu, 0xcf26d408u, 0x49b2a6a6u, 0x82ee7503u, 0x9feb45bbu, 0x54b7961eu, 0xd223e4b0u, 0x197f3715u,
        0xe82985c0u, 0x23755665u, 0xa5e124cbu, 0x6ebdf76eu, 0x73b8c7d6u, 0xb8e41473u, 0x3e7066ddu, 0xf52cb578u,
        0x0f580a6cu, 0xc404d9c9u, 0x4290ab67u, 0x89cc78c2u, 0x94c9487au, 0x5f959bdfu, 0xd901e971u, 0x125d3ad4u,
        0xe30b8801u, 0x28575ba4u, 0xaec3290au, 0x659ffaafu, 0x789aca17u, 0xb3c619b2u, 0x35526b1cu, 0xfe0eb8b9u,
        0x0c8e08f7u, 0xc7d2db52u, 0x4146a9fcu, 0x8a1a7a59u, 0x971f4ae1u, 0x5c439944u, 0xdad7ebeau, 0x118b384fu,
        0xe0dd8a9au, 0x2b81593fu, 0xad152b91u, 0x6649f834u, 0x7b4cc88cu, 0xb0101b29u, 0x36846987u, 0xfdd8ba22u,
        0x08f40f5au, 0xc3a8dcffu, 0x453cae51u, 0x8e607df4u, 0x93654d4cu, 0x58399ee9u, 0xdeadec47u, 0x15f13fe2u,
        0xe4a78d37u, 0x2ffb5e92u, 0xa96f2c3cu, 0x6233ff99u, 0x7f36cf21u, 0xb46a1c84u, 0x32fe6e2au, 0xf9a2bd8fu,
        0x0b220dc1u, 0xc07ede64u, 0x46eaaccau, 0x8db67f6fu, 0x90b34fd7u, 0x5bef9c72u, 0xdd7beedcu, 0x16273d79u,
        0xe7718facu, 0x2c2d5c09u, 0xaab92ea7u, 0x61e5fd02u, 0x7ce0cdbau, 0xb7bc1e1fu, 0x31286cb1u, 0xfa74bf14u,
        0x1eb014d8u, 0xd5ecc77du, 0x5378b5d3u, 0x98246676u, 0x852156ceu, 0x4e7d856bu, 0xc8e9f7c5u, 0x03b52460u,
        0xf2e396b5u, 0x39bf4510u, 0xbf2b37beu, 0x7477e41bu, 0x6972d4a3u, 0xa22e0706u, 0x24ba75a8u, 0xefe6a60du,
        0x1d661643u, 0xd63ac5e6u, 0x50aeb748u, 0x9bf264edu, 0x86f75455u, 0x4dab87f0u, 0xcb3ff55eu, 0x006326fbu,
        0xf135942eu, 0x3a69478bu, 0xbcfd3525u, 0x77a1e680u, 0x6aa4d638u, 0xa1f8059du, 0x276c7733u, 0xec30a496u,
        0x191c11eeu, 0xd240c24bu, 0x54d4b0e5u, 0x9f886340u, 0x828d53f8u, 0x49d1805du, 0xcf45f2f3u, 0x04192156u,
        0xf54f9383u, 0x3e134026u, 0xb8873288u, 0x73dbe12du, 0x6eded195u, 0xa5820230u, 0x2316709eu, 0xe84aa33bu,
        0x1aca1375u, 0xd196c0d0u, 0x5702b27eu, 0x9c5e61dbu, 0x815b5163u, 0x4a0782c6u, 0xcc93f068u, 0x07cf23cdu,
        0xf6999118u, 0x3dc542bdu, 0xbb513013u, 0x700de3b6u, 0x6d08d30eu, 0xa65400abu, 0x20c07205u, 0xeb9ca1a0u,
        0x11e81eb4u, 0xdab4cd11u, 0x5c20bfbfu, 0x977c6c1au, 0x8a795ca2u, 0x41258f07u, 0xc7b1fda9u, 0x0ced2e0cu,
        0xfdbb9cd9u, 0x36e74f7cu, 0xb0733dd2u, 0x7b2fee77u, 0x662adecfu, 0xad760d6au, 0x2be27fc4u, 0xe0beac61u,
        0x123e1c2fu, 0xd962cf8au, 0x5ff6bd24u, 0x94aa6e81u, 0x89af5e39u, 0x42f38d9cu, 0xc467ff32u, 0x0f3b2c97u,
        0xfe6d9e42u, 0x35314de7u, 0xb3a53f49u, 0x78f9ececu, 0x65fcdc54u, 0xaea00ff1u, 0x28347d5fu, 0xe368aefau,
        0x16441b82u, 0xdd18c827u, 0x5b8cba89u, 0x90d0692cu, 0x8dd55994u, 0x46898a31u, 0xc01df89fu, 0x0b412b3au,
        0xfa1799efu, 0x314b4a4au, 0xb7df38e4u, 0x7c83eb41u, 0x6186dbf9u, 0xaada085cu, 0x2c4e7af2u, 0xe712a957u,
        0x15921919u, 0xdececabcu, 0x585ab812u, 0x93066bb7u, 0x8e035b0fu, 0x455f88aau, 0xc3cbfa04u, 0x089729a1u,
        0xf9c19b74u, 0x329d48d1u, 0xb4093a7fu, 0x7f55e9dau, 0x6250d962u, 0xa90c0ac7u, 0x2f987869u, 0xe4c4abccu
    },
    {
        0x00000000u, 0xa6770bb4u, 0x979f1129u, 0x31e81a9du, 0xf44f2413u, 0x52382fa7u, 0x63d0353au, 0xc5a73e8eu,
        0x33ef4e67u, 0x959845d3u, 0xa4705f4eu, 0x020754fau, 0xc7a06a74u, 0x61d761c0u, 0x503f7b5du, 0xf64870e9u,
        0x67de9cceu, 0xc1a9977au, 0xf0418de7u, 0x56368653u, 0x9391b8ddu, 0x35e6b369u, 0x040ea9f4u, 0xa279a240u,
        0x5431d2a9u, 0xf246d91du, 0xc3aec380u, 0x65d9c834u, 0xa07ef6bau, 0x0609fd0eu, 0x37e1e793u, 0x9196ec27u,
        0xcfbd399cu, 0x69ca3228u, 0x582228b5u, 0xfe552301u, 0x3bf21d8fu, 0x9d85163bu, 0xac6d0ca6u, 0x0a1a0712u,
        0xfc5277fbu, 0x5a257c4fu, 0x6bcd66d2u, 0xcdba6d66u, 0x081d53e8u, 0xae6a585cu, 0x9f8242c1u, 0x39f54975u,
        0xa863a552u, 0x0e14aee6u, 0x3ffcb47bu, 0x998bbfcfu, 0x5c2c8141u, 0xfa5b8af5u, 0xcbb39068u, 0x6dc49bdcu,
        0x9b8ceb35u, 0x3dfbe081u, 0x0c13fa1cu, 0xaa64f1a8u, 0x6fc3cf26u, 0xc9b4c492u, 0xf85cde0fu, 0x5e2bd5bbu,
        0x440b7579u, 0xe27c7ecdu, 0xd3946450u, 0x75e36fe4u, 0xb044516au, 0x16335adeu, 0x27db4043u, 0x81ac4bf7u,
        0x77e43b1eu, 0xd19330aau, 0xe07b2a37u, 0x460c2183u, 0x83ab1f0du, 0x25dc14b9u, 0x14340e24u, 0xb2430590u,
        0x23d5e9b7u, 0x85a2e203u, 0xb44af89eu, 0x123df32au, 0xd79acda4u, 0x71edc610u, 0x4005dc8du, 0xe672d739u,
        0x103aa7d0u, 0xb64dac64u, 0x87a5b6f9u, 0x21d2bd4du, 0xe47583c3u, 0x42028877u, 0x73ea92eau, 0xd59d995eu,
        0x8bb64ce5u, 0x2dc14751u, 0x1c295dccu, 0xba5e5678u, 0x7ff968f6u, 0xd98e6342u, 0xe86679dfu, 0x4e11726bu,
        0xb8590282u, 0x1e2e0936u, 0x2fc613abu, 0x89b1181fu, 0x4c162691u, 0xea612d25u, 0xdb8937b8u, 0x7dfe3c0cu,
        0xec68d02bu, 0x4a1fdb9fu, 0x7bf7c102u, 0xdd80cab6u, 0x1827f438u, 0xbe50ff8cu, 0x8fb8e511u, 0x29cfeea5u,
        0xdf879e4cu, 0x79f095f8u, 0x48188f65u, 0xee6f84d1u, 0x2bc8ba5fu, 0x8dbfb1ebu, 0xbc57ab76u, 0x1a20a0c2u,
        0x8816eaf2u, 0x2e61e146u, 0x1f89fbdbu, 0xb9fef06fu, 0x7c59cee1u, 0xda2ec555u, 0xebc6dfc8u, 0x4db1d47cu,
        0xbbf9a495u, 0x1d8eaf21u, 0x2c66b5bcu, 0x8a11be08u, 0x4fb68086u, 0xe9c18b32u, 0xd82991afu, 0x7e5e9a1bu,
        0xefc8763cu, 0x49bf7d88u, 0x78576715u, 0xde206ca1u, 0x1b87522fu, 0xbdf0599bu, 0x8c184306u, 0x2a6f48b2u,
        0xdc27385bu, 0x7a5033efu, 0x4bb82972u, 0xedcf22c6u, 0x28681c48u, 0x8e1f17fcu, 0xbff70d61u, 0x198006d5u,
        0x47abd36eu, 0xe1dcd8dau, 0xd034c247u, 0x7643c9f3u, 0xb3e4f77du, 0x1593fcc9u, 0x247be654u, 0x820cede0u,
        0x74449d09u, 0xd23396bdu, 0xe3db8c20u, 0x45ac8794u, 0x800bb91au, 0x267cb2aeu, 0x1794a833u, 0xb1e3a387u,
        0x20754fa0u, 0x86024414u, 0xb7ea5e89u, 0x119d553du, 0xd43a6bb3u, 0x724d6007u, 0x43a57a9au, 0xe5d2712eu,
        0x139a01c7u, 0xb5ed0a73u, 0x840510eeu, 0x22721b5au, 0xe7d525d4u, 0x41a22e60u, 0x704a34fdu, 0xd63d3f49u,
        0xcc1d9f8bu, 0x6a6a943fu, 0x5b828ea2u, 0xfdf58516u, 0x3852bb98u, 0x9e25b02cu, 0xafcdaab1u, 0x09baa105u,
        0xfff2d1ecu, 0x5985da58u, 0x686dc0c5u, 0xce1acb71u, 0x0bbdf5ffu, 0xadcafe4bu, 0x9c22e4d6u, 0x3a55ef62u,
        0xabc30345u, 0x0db408f1u, 0x3c5c126cu, 0x9a2b19d8u, 0x5f8c2756u, 0xf9fb2ce2u, 0xc813367fu, 0x6e643dcbu,
        0x982c4d22u, 0x3e5b4696u, 0x0fb35c0bu, 0xa9c457bfu, 0x6c636931u, 0xca146285u, 0xfbfc7818u, 0x5d8b73acu,
        0x03a0a617u, 0xa5d7ada3u, 0x943fb73eu, 0x3248bc8au, 0xf7ef8204u, 0x519889b0u, 0x6070932du, 0xc6079899u,
        0x304fe870u, 0x9638e3c4u, 0xa7d0f959u, 0x01a7f2edu, 0xc400cc63u, 0x6277c7d7u, 0x539fdd4au, 0xf5e8d6feu,
        0x647e3ad9u, 0xc209316du, 0xf3e12bf0u, 0x55962044u, 0x90311ecau, 0x3646157eu, 0x07ae0fe3u, 0xa1d90457u,
        0x579174beu, 0xf1e67f0au, 0xc00e6597u, 0x66796e23u, 0xa3de50adu, 0x05a95b19u, 0x34414184u, 0x92364a30u
    },
    {
        0x00000000u, 0xccaa009eu, 0x4225077du, 0x8e8f07e3u, 0x844a0efau, 0x48e00e64u, 0xc66f0987u, 0x0ac50919u,
        0xd3e51bb5u, 0x1f4f1b2bu, 0x91c01cc8u, 0x5d6a1c56u, 0x57af154fu, 0x9b0515d1u, 0x158a1232u, 0xd92012acu,
        0x7cbb312bu, 0xb01131b5u, 0x3e9e3656u, 0xf23436c8u, 0xf8f13fd1u, 0x345b3f4fu, 0xbad438acu, 0x767e3832u,
        0xaf5e2a9eu, 0x63f42a00u, 0xed7b2de3u, 0x21d12d7du, 0x2b142464u, 0xe7be24fau, 0x69312319u, 0xa59b2387u,
        0xf9766256u, 0x35dc62c8u, 0xbb53652bu, 0x77f965b5u, 0x7d3c6cacu, 0xb1966c32u, 0x3f196bd1u, 0xf3b36b4fu,
        0x2a9379e3u, 0xe639797du, 0x68b67e9eu, 0xa41c7e00u, 0xaed97719u, 0x62737787u, 0xecfc7064u, 0x205670fau,
        0x85cd537du, 0x496753e3u, 0xc7e85400u, 0x0b42549eu, 0x01875d87u, 0xcd2d5d19u, 0x43a25afau, 0x8f085a64u,
        0x562848c8u, 0x9a824856u, 0x140d4fb5u, 0xd8a74f2bu, 0xd2624632u, 0x1ec846acu, 0x9047414fu, 0x5ced41d1u,
        0x299dc2edu, 0xe537c273u, 0x6bb8c590u, 0xa712c50eu, 0xadd7cc17u, 0x617dcc89u, 0xeff2cb6au, 0x2358cbf4u,
        0xfa78d958u, 0x36d2d9c6u, 0xb85dde25u, 0x74f7debbu, 0x7e32d7a2u, 0xb298d73cu, 0x3c17d0dfu, 0xf0bdd041u,
        0x5526f3c6u, 0x998cf358u, 0x1703f4bbu, 0xdba9f425u, 0xd16cfd3cu, 0x1dc6fda2u, 0x9349fa41u, 0x5fe3fadfu,
        0x86c3e873u, 0x4a69e8edu, 0xc4e6ef0eu, 0x084cef90u, 0x0289e689u, 0xce23e617u, 0x40ace1f4u, 0x8c06e16au,
        0xd0eba0bbu, 0x1c41a025u, 0x92cea7c6u, 0x5e64a758u, 0x54a1ae41u, 0x980baedfu, 0x1684a93cu, 0xda2ea9a2u,
        0x030ebb0eu, 0xcfa4bb90u, 0x412bbc73u, 0x8d81bcedu, 0x8744b5f4u, 0x4beeb56au, 0xc561b289u, 0x09cbb217u,
        0xac509190u, 0x60fa910eu, 0xee7596edu, 0x22df9673u, 0x281a9f6au, 0xe4b09ff4u, 0x6a3f9817u, 0xa6959889u,
        0x7fb58a25u, 0xb31f8abbu, 0x3d908d58u, 0xf13a8dc6u, 0xfbff84dfu, 0x37558441u, 0xb9da83a2u, 0x7570833cu,
        0x533b85dau, 0x9f918544u, 0x111e82a7u, 0xddb48239u, 0xd7718b20u, 0x1bdb8bbeu, 0x95548c5du, 0x59fe8cc3u,
        0x80de9e6fu, 0x4c749ef1u, 0xc2fb9912u, 0x0e51998cu, 0x04949095u, 0xc83e900bu, 0x46b197e8u, 0x8a1b9776u,
        0x2f80b4f1u, 0xe32ab46fu, 0x6da5b38cu, 0xa10fb312u, 0xabcaba0bu, 0x6760ba95u, 0xe9efbd76u, 0x2545bde8u,
        0xfc65af44u, 0x30cfafdau, 0xbe40a839u, 0x72eaa8a7u, 0x782fa1beu, 0xb485a120u, 0x3a0aa6c3u, 0xf6a0a65du,
        0xaa4de78cu, 0x66e7e712u, 0xe868e0f1u, 0x24c2e06fu, 0x2e07e976u, 0xe2ade9e8u, 0x6c22ee0bu, 0xa088ee95u,
        0x79a8fc39u, 0xb502fca7u, 0x3b8dfb44u, 0xf727fbdau, 0xfde2f2c3u, 0x3148f25du, 0xbfc7f5beu, 0x736df520u,
        0xd6f6d6a7u, 0x1a5cd639u, 0x94d3d1dau, 0x5879d144u, 0x52bcd85du, 0x9e16d8c3u, 0x1099df20u, 0xdc33dfbeu,
        0x0513cd12u, 0xc9b9cd8cu, 0x4736ca6fu, 0x8b9ccaf1u, 0x8159c3e8u, 0x4df3c376u, 0xc37cc495u, 0x0fd6c40bu,
        0x7aa64737u, 0xb60c47a9u, 0x3883404au, 0xf42940d4u, 0xfeec49cdu, 0x32464953u, 0xbcc94eb0u, 0x70634e2eu,
        0xa9435c82u, 0x65e95c1cu, 0xeb665bffu, 0x27cc5b61u, 0x2d095278u, 0xe1a352e6u, 0x6f2c5505u, 0xa386559bu,
        0x061d761cu, 0xcab77682u, 0x44387161u, 0x889271ffu, 0x825778e6u, 0x4efd7878u, 0xc0727f9bu, 0x0cd87f05u,
        0xd5f86da9u, 0x19526d37u, 0x97dd6ad4u, 0x5b776a4au, 0x51b26353u, 0x9d1863cdu, 0x1397642eu, 0xdf3d64b0u,
        0x83d02561u, 0x4f7a25ffu, 0xc1f5221cu, 0x0d5f2282u, 0x079a2b9bu, 0xcb302b05u, 0x45bf2ce6u, 0x89152c78u,
        0x50353ed4u, 0x9c9f3e4au, 0x121039a9u, 0xdeba3937u, 0xd47f302eu, 0x18d530b0u, 0x965a3753u, 0x5af037cdu,
        0xff6b144au, 0x33c114d4u, 0xbd4e1337u, 0x71e413a9u, 0x7b211ab0u, 0xb78b1a2eu, 0x39041dcdu, 0xf5ae1d53u,
        0x2c8e0fffu, 0xe0240f61u, 0x6eab0882u, 0xa201081cu, 0xa8c40105u, 0x646e019bu, 0xeae10678u, 0x264b06e6u
    }
}};

}  // namespace detail

namespace hash {

/// zlib's crc32(0, data, size).
inline std::uint32_t crc32(std::string_view data) noexcept {
  const auto& t = detail::kCrc32.t;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint32_t c = 0xffffffffu;
  // Eight bytes per step (bytes assembled little-endian, so any host order works).
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
                                  (std::uint32_t{p[3]} << 24));
    c = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ *p) & 0xffu] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/crc32.hpp ----

// ---- begin cachekit/hash/libhashkit.hpp ----
// The key hashes libmemcached (libhashkit, MEMCACHED_BEHAVIOR_HASH) and
// twemproxy (`hash:`) offer, bit for bit as those two compute them,
// including how bytes >= 0x80 are read: where they read a `char`, the byte
// is sign-extended, as on x86 and most ABIs. Pure functions; not for security.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// A key byte as libhashkit's `(uint32_t)key[x]` reads a signed char.
inline std::uint32_t signed_byte(char c) noexcept {
  return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(c)));
}

inline std::uint32_t le32_at(const unsigned char* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}

inline std::uint32_t jenkins_rot(std::uint32_t x, int k) noexcept { return (x << k) | (x >> (32 - k)); }

}  // namespace detail

namespace hash {

/// FNV-1, 64-bit state, low 32 bits (libhashkit fnv1_64, twemproxy fnv1_64).
inline std::uint32_t fnv1_64(std::string_view key) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) {
    h *= 0x100000001b3ull;
    h ^= static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<signed char>(c)));
  }
  return static_cast<std::uint32_t>(h);
}

/// FNV-1a, 64-bit, low 32 bits (libhashkit fnv1a_64; twemproxy computes it
/// in 32 bits with the truncated constants, which gives the same low bits).
inline std::uint32_t fnv1a_64(std::string_view key) noexcept {
  std::uint32_t h = 0x84222325u;  // low halves of the 64-bit offset basis and prime
  for (char c : key) {
    h ^= detail::signed_byte(c);
    h *= 0x1b3u;
  }
  return h;
}

/// FNV-1, 32-bit.
inline std::uint32_t fnv1_32(std::string_view key) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : key) {
    h *= 16777619u;
    h ^= detail::signed_byte(c);
  }
  return h;
}

/// FNV-1a, 32-bit.
inline std::uint32_t fnv1a_32(std::string_view key) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : key) {
    h ^= detail::signed_byte(c);
    h *= 16777619u;
  }
  return h;
}

/// libmemcached's MEMCACHED_HASH_CRC and twemproxy's `crc32`: bits 16..30
/// of the CRC-32 (a value below 32768).
inline std::uint32_t crc32_libmemcached(std::string_view key) noexcept { return (crc32(key) >> 16) & 0x7fffu; }

/// MurmurHash2 with libhashkit's seed (0xdeadbeef * length), little-endian reads.
inline std::uint32_t murmur2_libhashkit(std::string_view key) noexcept {
  constexpr std::uint32_t m = 0x5bd1e995u;
  const auto len = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = (0xdeadbeefu * len) ^ len;
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  std::size_t n = key.size();
  for (; n >= 4; n -= 4, p += 4) {
    std::uint32_t k = detail::le32_at(p);
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (n) {
    case 3: h ^= std::uint32_t{p[2]} << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t{p[1]} << 8; [[fallthrough]];
    case 1:
      h ^= p[0];
      h *= m;
      break;
    default: break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

/// Bob Jenkins' lookup3 hashlittle with initval 13 (libhashkit, twemproxy).
inline std::uint32_t jenkins_lookup3(std::string_view key) noexcept {
  using detail::jenkins_rot;
  std::size_t n = key.size();
  std::uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + static_cast<std::uint32_t>(n) + 13u;
  if (n == 0) return c;
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  for (; n > 12; n -= 12, p += 12) {
    a += detail::le32_at(p);
    b += detail::le32_at(p + 4);
    c += detail::le32_at(p + 8);
    a -= c; a ^= jenkins_rot(c, 4);  c += b;
    b -= a; b ^= jenkins_rot(a, 6);  a += c;
    c -= b; c ^= jenkins_rot(b, 8);  b += a;
    a -= c; a ^= jenkins_rot(c, 16); c += b;
    b -= a; b ^= jenkins_rot(a, 19); a += c;
    c -= b; c ^= jenkins_rot(b, 4);  b += a;
  }
  // The last 1..12 bytes, zero-padded, little-endian.
  unsigned char tail[12] = {};
  std::memcpy(tail, p, n);
  a += detail::le32_at(tail);
  b += detail::le32_at(tail + 4);
  c += detail::le32_at(tail + 8);
  c ^= b; c -= jenkins_rot(b, 14);
  a ^= c; a -= jenkins_rot(c, 11);
  b ^= a; b -= jenkins_rot(a, 25);
  c ^= b; c -= jenkins_rot(b, 16);
  a ^= c; a -= jenkins_rot(c, 4);
  b ^= a; b -= jenkins_rot(a, 14);
  c ^= b; c -= jenkins_rot(b, 24);
  return c;
}

/// Paul Hsieh's SuperFastHash as libhashkit and twemproxy compute it (the
/// odd third byte of a 3-byte tail is read as a signed char).
inline std::uint32_t hsieh(std::string_view key) noexcept {
  std::size_t n = key.size();
  if (n == 0) return 0;
  const char* p = key.data();
  auto get16 = [](const char* q) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(q[0])) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(q[1])) << 8);
  };
  std::uint32_t h = 0;
  const std::size_t rem = n & 3;
  for (n >>= 2; n > 0; --n, p += 4) {
    h += get16(p);
    const std::uint32_t tmp = (get16(p + 2) << 11) ^ h;
    h = (h << 16) ^ tmp;
    h += h >> 11;
  }
  switch (rem) {
    case 3:
      h += get16(p);
      h ^= h << 16;
      h ^= detail::signed_byte(p[2]) << 18;
      h += h >> 11;
      break;
    case 2:
      h += get16(p);
      h ^= h << 11;
      h += h >> 17;
      break;
    case 1:
      h += static_cast<unsigned char>(p[0]);
      h ^= h << 10;
      h += h >> 1;
      break;
    default: break;
  }
  h ^= h << 3;
  h += h >> 5;
  h ^= h << 4;
  h += h >> 17;
  h ^= h << 25;
  h += h >> 6;
  return h;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/libhashkit.hpp ----

// ---- begin cachekit/hash/sha1.hpp ----
// SHA-1 (FIPS 180-4), used only to place Dalli's ring points, as Dalli does.
// Not for security.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

inline std::uint32_t sha1_rotl(std::uint32_t x, int s) noexcept { return (x << s) | (x >> (32 - s)); }

/// One 64-byte block into the state h.
inline void sha1_block(std::uint32_t h[5], const unsigned char* p) noexcept {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{p[4 * i]} << 24) | (std::uint32_t{p[4 * i + 1]} << 16) |
           (std::uint32_t{p[4 * i + 2]} << 8) | std::uint32_t{p[4 * i + 3]};
  }
  for (int i = 16; i < 80; ++i) w[i] = sha1_rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    const std::uint32_t t = sha1_rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = sha1_rotl(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

}  // namespace detail

namespace hash {

/// SHA-1 digest of data.
inline std::array<std::uint8_t, 20> sha1(std::string_view data) noexcept {
  std::uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
  for (; n >= 64; n -= 64, p += 64) detail::sha1_block(h, p);
  unsigned char tail[128] = {};
  for (std::size_t i = 0; i < n; ++i) tail[i] = p[i];
  tail[n] = 0x80;
  const std::size_t len = n < 56 ? 64 : 128;
  for (int i = 0; i < 8; ++i) tail[len - 1 - static_cast<std::size_t>(i)] = static_cast<unsigned char>(bits >> (8 * i));
  detail::sha1_block(h, tail);
  if (len == 128) detail::sha1_block(h, tail + 64);
  std::array<std::uint8_t, 20> out{};
  for (std::size_t i = 0; i < 20; ++i) out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

/// First four bytes of SHA-1(data), big-endian: Dalli's ring point.
inline std::uint32_t sha1_be32(std::string_view data) noexcept {
  const auto d = sha1(data);
  return (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) | (std::uint32_t{d[2]} << 8) | std::uint32_t{d[3]};
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/sha1.hpp ----

// ---- begin cachekit/placement.hpp ----
// The names of key placements: how keys are spread over servers
// (Distribution) and the key's hash on a ketama ring (KeyHash). The rings
// themselves are in ring.hpp.

#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

/// How keys are spread over servers.
enum class Distribution {
  ketama,                ///< libmemcached 1.1.4 with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (default); twemproxy ketama
  libketama,             ///< last.fm's C libketama (floorf point counts, "host:port-N")
  modula,                ///< libmemcached's default: one-at-a-time hash modulo server count
  rendezvous,            ///< pymemcache HashClient's default (murmur3 highest random weight)
  spymemcached,          ///< spymemcached KetamaNodeLocator; a weights map when any weight is not 1
  spymemcached_weighted, ///< spymemcached KetamaNodeLocator with a weights map, even when all weights are equal
  uhashring,             ///< Python uhashring's ketama ring (exact integer point counts)
  dalli                  ///< Ruby Dalli's ring (SHA-1 points, CRC-32 keys)
};

/// Name of a Distribution ("ketama", ...).
inline const char* to_string(Distribution d) noexcept {
  switch (d) {
    case Distribution::ketama: return "ketama";
    case Distribution::libketama: return "libketama";
    case Distribution::modula: return "modula";
    case Distribution::rendezvous: return "rendezvous";
    case Distribution::spymemcached: return "spymemcached";
    case Distribution::spymemcached_weighted: return "spymemcached_weighted";
    case Distribution::uhashring: return "uhashring";
    case Distribution::dalli: return "dalli";
  }
  return "ketama";
}

/// Every Distribution, in declaration order.
inline constexpr Distribution kAllDistributions[] = {
    Distribution::ketama,       Distribution::libketama,             Distribution::modula,
    Distribution::rendezvous,   Distribution::spymemcached,          Distribution::spymemcached_weighted,
    Distribution::uhashring,    Distribution::dalli};

/// Parses a distribution name; an unknown name is a permanent error.
inline Result<Distribution> parse_distribution(std::string_view name) {
  if (name == "ketama") return Distribution::ketama;
  if (name == "libketama") return Distribution::libketama;
  if (name == "modula") return Distribution::modula;
  if (name == "rendezvous") return Distribution::rendezvous;
  if (name == "spymemcached") return Distribution::spymemcached;
  if (name == "spymemcached_weighted") return Distribution::spymemcached_weighted;
  if (name == "uhashring") return Distribution::uhashring;
  if (name == "dalli") return Distribution::dalli;
  return make_error(ErrorKind::permanent, "unknown distribution '" + std::string(name) +
                                              "' (expected ketama, libketama, modula, rendezvous, spymemcached, "
                                              "spymemcached_weighted, uhashring or dalli)");
}

/// The hash of the key on a ketama ring (libmemcached's
/// MEMCACHED_BEHAVIOR_HASH, twemproxy's `hash:`); ring points stay MD5.
enum class KeyHash {
  md5,            ///< first 4 bytes of MD5, little-endian (the default of both)
  crc32,          ///< libmemcached MEMCACHED_HASH_CRC = twemproxy `crc32`: (CRC-32 >> 16) & 0x7fff
  fnv1_64,        ///< FNV-1, 64-bit, low 32 bits
  fnv1a_64,       ///< FNV-1a, 64-bit, low 32 bits (twemproxy's sample config)
  fnv1_32,        ///< FNV-1, 32-bit
  fnv1a_32,       ///< FNV-1a, 32-bit
  murmur,         ///< MurmurHash2, seed 0xdeadbeef * length
  jenkins,        ///< lookup3 hashlittle, initval 13
  hsieh,          ///< SuperFastHash (twemproxy; Debian's libmemcached is built without it)
  one_at_a_time,  ///< Jenkins one-at-a-time (libmemcached's default for modula)
  crc32a          ///< twemproxy `crc32a`: the full CRC-32 (zlib's)
};

/// Name of a KeyHash, as twemproxy's config spells it ("fnv1a_64", ...).
inline const char* to_string(KeyHash h) noexcept {
  switch (h) {
    case KeyHash::md5: return "md5";
    case KeyHash::crc32: return "crc32";
    case KeyHash::fnv1_64: return "fnv1_64";
    case KeyHash::fnv1a_64: return "fnv1a_64";
    case KeyHash::fnv1_32: return "fnv1_32";
    case KeyHash::fnv1a_32: return "fnv1a_32";
    case KeyHash::murmur: return "murmur";
    case KeyHash::jenkins: return "jenkins";
    case KeyHash::hsieh: return "hsieh";
    case KeyHash::one_at_a_time: return "one_at_a_time";
    case KeyHash::crc32a: return "crc32a";
  }
  return "md5";
}

/// Every KeyHash, in declaration order.
inline constexpr KeyHash kAllKeyHashes[] = {KeyHash::md5,      KeyHash::crc32,   KeyHash::fnv1_64, KeyHash::fnv1a_64,
                                            KeyHash::fnv1_32,  KeyHash::fnv1a_32, KeyHash::murmur, KeyHash::jenkins,
                                            KeyHash::hsieh,    KeyHash::one_at_a_time, KeyHash::crc32a};

/// Parses a key hash name (twemproxy's spelling); an unknown name is a permanent error.
inline Result<KeyHash> parse_key_hash(std::string_view name) {
  for (KeyHash h : kAllKeyHashes) {
    if (name == to_string(h)) return h;
  }
  return make_error(ErrorKind::permanent, "unknown key hash '" + std::string(name) +
                                              "' (expected md5, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, "
                                              "fnv1a_32, murmur, jenkins, hsieh or one_at_a_time)");
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/placement.hpp ----

// ---- begin cachekit/ring.hpp ----
// Ring: which server a key goes to. Placement is identical to the clients
// cachekit replaces (libmemcached ketama and modula, last.fm libketama,
// spymemcached, uhashring, Dalli, pymemcache rendezvous). A pure layer: no
// I/O, no globals.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Most servers a ring accepts (keeps every point index in 32 bits).
inline constexpr std::size_t kMaxRingServers = 1000000;

/// Bob Jenkins' one-at-a-time hash as libhashkit computes it: bytes are read
/// as (signed) char, so bytes >= 0x80 are sign-extended before the add.
inline std::uint32_t one_at_a_time(std::string_view key) noexcept {
  std::uint32_t h = 0;
  for (char ch : key) {
    h += static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(ch)));
    h += h << 10;
    h ^= h >> 6;
  }
  h += h << 3;
  h ^= h >> 11;
  h += h << 15;
  return h;
}

/// The key hash h of key.
inline std::uint32_t key_hash_value(KeyHash h, std::string_view key) noexcept {
  switch (h) {
    case KeyHash::md5: return hash::md5_le32(key);
    case KeyHash::crc32: return hash::crc32_libmemcached(key);
    case KeyHash::fnv1_64: return hash::fnv1_64(key);
    case KeyHash::fnv1a_64: return hash::fnv1a_64(key);
    case KeyHash::fnv1_32: return hash::fnv1_32(key);
    case KeyHash::fnv1a_32: return hash::fnv1a_32(key);
    case KeyHash::murmur: return hash::murmur2_libhashkit(key);
    case KeyHash::jenkins: return hash::jenkins_lookup3(key);
    case KeyHash::hsieh: return hash::hsieh(key);
    case KeyHash::one_at_a_time: return one_at_a_time(key);
    case KeyHash::crc32a: return hash::crc32(key);
  }
  return 0;
}

/// A byte-at-a-time hash of m keys, eight at a time in lockstep so the
/// keys' serial multiply chains overlap: state starts at init, step(state,
/// byte) takes each byte, fin(state) gives the hash.
template <class State, class Step, class Fin>
inline void byte_serial_batch(const std::string_view* keys, std::size_t m, std::uint32_t* out, State init, Step step,
                              Fin fin) noexcept {
  constexpr std::size_t kLanes = 8;
  std::size_t i = 0;
  for (; i + kLanes <= m; i += kLanes) {
    State st[kLanes];
    std::size_t common = keys[i].size();
    for (std::size_t l = 0; l < kLanes; ++l) {
      st[l] = init;
      common = std::min(common, keys[i + l].size());
    }
    for (std::size_t b = 0; b < common; ++b) {
      for (std::size_t l = 0; l < kLanes; ++l) st[l] = step(st[l], keys[i + l][b]);
    }
    for (std::size_t l = 0; l < kLanes; ++l) {
      const std::string_view k = keys[i + l];
      for (std::size_t b = common; b < k.size(); ++b) st[l] = step(st[l], k[b]);
      out[i + l] = fin(st[l]);
    }
  }
  for (; i < m; ++i) {
    State st = init;
    for (char c : keys[i]) st = step(st, c);
    out[i] = fin(st);
  }
}

/// The key hashes of m keys (the byte-serial ones interleaved).
template <class = void>  // compiled where it is used
inline void key_hash_batch(KeyHash h, const std::string_view* keys, std::size_t m, std::uint32_t* out) noexcept {
  auto same = [](std::uint32_t v) { return v; };
  switch (h) {
    case KeyHash::fnv1a_64:
      byte_serial_batch(keys, m, out, std::uint32_t{0x84222325u},
                        [](std::uint32_t v, char c) { return (v ^ signed_byte(c)) * 0x1b3u; }, same);
      return;
    case KeyHash::fnv1a_32:
      byte_serial_batch(keys, m, out, std::uint32_t{2166136261u},
                        [](std::uint32_t v, char c) { return (v ^ signed_byte(c)) * 16777619u; }, same);
      return;
    case KeyHash::fnv1_32:
      byte_serial_batch(keys, m, out, std::uint32_t{2166136261u},
                        [](std::uint32_t v, char c) { return (v * 16777619u) ^ signed_byte(c); }, same);
      return;
    case KeyHash::fnv1_64:
      byte_serial_batch(
          keys, m, out, std::uint64_t{0xcbf29ce484222325ull},
          [](std::uint64_t v, char c) {
            return (v * 0x100000001b3ull) ^
                   static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<signed char>(c)));
          },
          [](std::uint64_t v) { return static_cast<std::uint32_t>(v); });
      return;
    default:
      for (std::size_t j = 0; j < m; ++j) out[j] = key_hash_value(h, keys[j]);
      return;
  }
}

/// Points (a multiple of 4) libmemcached gives a server with weighted
/// ketama: floorf(pct * 160 / 4 * n + 1e-10) * 4 in float32, step by step
/// as libmemcached rounds. volatile keeps each step a separately rounded
/// float (no FMA contraction, no excess precision).
inline std::uint32_t ketama_points(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile float x = pct * 160.0f;
  x = x / 4.0f;
  x = x * static_cast<float>(n);
  x = x + 0.0000000001f;
  return static_cast<std::uint32_t>(__builtin_floor(static_cast<double>(x)) * 4.0);
}

/// MD5 digests libketama makes for a server: floorf(pct * 40.0 * n), where
/// pct is a float, the products are double, and floorf's argument is
/// rounded to float.
inline std::uint32_t libketama_digests(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile double x = static_cast<double>(pct) * 40.0;
  x = x * static_cast<double>(static_cast<float>(n));
  const volatile float xf = static_cast<float>(x);
  return static_cast<std::uint32_t>(__builtin_floorf(xf));
}

/// MD5 digests (4 points each) uhashring gives a server: vnodes (40) * n *
/// weight // total weight, in exact integers.
inline std::uint32_t uhashring_digests(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  return static_cast<std::uint32_t>(40u * static_cast<std::uint64_t>(n) * weight / total_weight);
}

/// Points Dalli gives a server: floor(n * 160 * weight / Float(total)),
/// the integer product converted to double as Ruby does.
inline std::uint32_t dalli_points(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  const std::uint64_t num = static_cast<std::uint64_t>(n) * 160u * weight;
  return static_cast<std::uint32_t>(__builtin_floor(static_cast<double>(num) / static_cast<double>(total_weight)));
}

/// Parses a dotted quad of decimal numbers 0..255 without leading zeros.
inline bool parse_ipv4(std::string_view s, unsigned char out[4]) noexcept {
  int part = 0;
  std::size_t i = 0;
  while (part < 4) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
    if (i == start || v > 255 || (i - start > 1 && s[start] == '0')) return false;
    out[part++] = static_cast<unsigned char>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

/// Parses an IPv6 address (with "::" and a trailing dotted quad) into eight groups.
inline bool parse_ipv6(std::string_view s, std::uint16_t out[8]) noexcept {
  std::uint16_t head[8] = {}, tail[8] = {};
  int nh = 0, nt = 0;
  bool gap = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    gap = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    std::uint16_t* groups = gap ? tail : head;
    int& count = gap ? nt : nh;
    if (nh + nt >= 8) return false;
    // A dotted quad ends the address and fills two groups.
    const std::size_t colon = s.find(':', i);
    const std::string_view field = s.substr(i, colon == std::string_view::npos ? std::string_view::npos : colon - i);
    if (colon == std::string_view::npos && field.find('.') != std::string_view::npos) {
      unsigned char q[4];
      if (!parse_ipv4(field, q) || nh + nt > 6) return false;
      groups[count++] = static_cast<std::uint16_t>((q[0] << 8) | q[1]);
      groups[count++] = static_cast<std::uint16_t>((q[2] << 8) | q[3]);
      i = s.size();
      break;
    }
    if (field.empty() || field.size() > 4) return false;
    unsigned v = 0;
    for (char c : field) {
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<unsigned>(d);
    }
    groups[count++] = static_cast<std::uint16_t>(v);
    if (colon == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = colon + 1;
    if (i < s.size() && s[i] == ':') {
      if (gap) return false;
      gap = true;
      ++i;
    } else if (i == s.size()) {
      return false;  // a single trailing ':'
    }
  }
  if (gap ? nh + nt > 7 : nh != 8) return false;
  for (int k = 0; k < 8; ++k) out[k] = 0;
  for (int k = 0; k < nh; ++k) out[k] = head[k];
  for (int k = 0; k < nt; ++k) out[8 - nt + k] = tail[k];
  return true;
}

/// spymemcached's default node name: String.valueOf(InetSocketAddress)
/// without its leading '/', on Java 14 and later: "10.0.0.1:11211",
/// "[2001:db8:0:0:0:0:0:a]:11212" (every group, no zero compression), an
/// IPv4-mapped IPv6 address as IPv4. Empty when host is not an IP address
/// (spymemcached then names the node "host/ip:port" from DNS).
inline std::string java_address_name(const ServerSpec& s) {
  std::string out;
  unsigned char q[4];
  if (parse_ipv4(s.host, q)) {
    for (int k = 0; k < 4; ++k) {
      if (k) out += '.';
      out += std::to_string(q[k]);
    }
  } else {
    const std::size_t pct = s.host.find('%');
    std::uint16_t g[8];
    if (s.host.find(':') == std::string::npos || !parse_ipv6(std::string_view(s.host).substr(0, pct), g)) return {};
    if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
      out = std::to_string(g[6] >> 8) + "." + std::to_string(g[6] & 0xff) + "." + std::to_string(g[7] >> 8) + "." +
            std::to_string(g[7] & 0xff);
    } else {
      static const char* const kHex = "0123456789abcdef";
      out += '[';
      for (int k = 0; k < 8; ++k) {
        if (k) out += ':';
        bool started = false;
        for (int sh = 12; sh >= 0; sh -= 4) {
          const unsigned d = (g[k] >> sh) & 0xfu;
          if (d != 0 || started || sh == 0) {
            out += kHex[d];
            started = true;
          }
        }
      }
      if (pct != std::string::npos) out += s.host.substr(pct);
      out += ']';
    }
  }
  out += ':';
  out += std::to_string(s.port);
  return out;
}

/// Decimal digits of v appended at p; returns the end.
inline char* append_uint(char* p, std::uint32_t v) noexcept {
  char tmp[10];
  int len = 0;
  do {
    tmp[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (len > 0) *p++ = tmp[--len];
  return p;
}

/// One point on the continuum.
struct RingPoint {
  std::uint32_t value;
  std::uint32_t server;
};

/// Stable LSD radix sort of points by value (ties keep their order, so
/// points generated in server order end sorted by (value, server)).
template <class = void>
inline void sort_points(std::vector<RingPoint>& pts) {
  if (pts.size() < 256) {
    std::stable_sort(pts.begin(), pts.end(),
                     [](const RingPoint& a, const RingPoint& b) { return a.value < b.value; });
    return;
  }
  std::vector<RingPoint> tmp(pts.size());
  constexpr int kBits = 11;
  constexpr std::uint32_t kMask = (1u << kBits) - 1;
  for (int shift = 0; shift < 32; shift += kBits) {
    std::size_t count[(1u << kBits) + 1] = {};
    for (const auto& p : pts) ++count[((p.value >> shift) & kMask) + 1];
    for (std::size_t i = 1; i <= kMask + 1; ++i) count[i] += count[i - 1];
    for (const auto& p : pts) tmp[count[(p.value >> shift) & kMask]++] = p;
    pts.swap(tmp);
  }
}

/// The code points of key & 0xff when key is valid UTF-8 with non-ASCII
/// characters, as pymemcache's murmur3 sees a Python str key; otherwise the
/// bytes. Feeds them to m and returns nothing; the length is counted by m.
inline void feed_python_str(Murmur3& m, std::string_view key) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t n = key.size();
  // Validate first: invalid UTF-8 is hashed as raw bytes.
  bool valid = true;
  for (std::size_t i = 0; i < n && valid;) {
    const unsigned char c = p[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) {
      valid = false;
      break;
    }
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (p[i + k] & 0x3fu);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF as Python does.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      valid = false;
    }
    i += len;
  }
  if (!valid) {
    m.update(p, n);
    return;
  }
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    // The low 8 bits of the code point are the low 6 bits of the last byte
    // plus the low 2 bits of the byte before it.
    unsigned char low = c;
    if (len > 1) low = static_cast<unsigned char>((p[i + len - 1] & 0x3f) | ((p[i + len - 2] & 0x03) << 6));
    m.update(low);
    i += len;
  }
}

}  // namespace detail

/// Keys to servers. Build once, then share freely: every method is const.
class Ring {
 public:
  /// Per-server description of a ring (for --describe and diagnostics).
  struct ServerShare {
    std::size_t points;  ///< points on the continuum (0 for modula and rendezvous)
    double share;        ///< expected fraction of keys
  };

  /// An empty ring; server_for returns 0. Use build() to make a real one.
  Ring() = default;

  /// Builds a ring. Rejects an empty list, invalid specs and the same
  /// host:port twice, with a permanent error; for spymemcached, also a host
  /// name or socket without a name (spymemcached names nodes by IP address);
  /// and a key hash other than md5 on any distribution but ketama.
  template <class = void>
  static Result<Ring> build(std::vector<ServerSpec> servers, Distribution d = Distribution::ketama,
                            KeyHash key_hash = KeyHash::md5);

  /// Index into servers() of the server for key.
  std::size_t server_for(std::string_view key) const noexcept {
    if (servers_.size() <= 1) return 0;  // a single server takes every key unhashed, as libmemcached does
    switch (dist_) {
      case Distribution::ketama:
        return lookup(key_hash_ == KeyHash::md5 ? hash::md5_le32(key) : detail::key_hash_value(key_hash_, key));
      case Distribution::libketama:
      case Distribution::spymemcached:
      case Distribution::spymemcached_weighted: return lookup(hash::md5_le32(key));
      case Distribution::uhashring: return lookup_above(hash::md5_le32(key));
      case Distribution::dalli: return lookup_floor(hash::crc32(key));
      case Distribution::modula: return detail::one_at_a_time(key) % servers_.size();
      case Distribution::rendezvous: return rendezvous(key);
    }
    return 0;
  }

  /// out[i] = server_for(keys[i]) for i < n, hashing many keys at once.
  template <class = void>  // compiled where it is used
  void server_for(const std::string_view* keys, std::size_t n, std::size_t* out) const noexcept {
    server_for_with(keys, n, out, detail::Md5Path::automatic);
  }

  /// The servers, in the order given to build().
  const std::vector<ServerSpec>& servers() const noexcept { return servers_; }

  /// The distribution this ring was built with.
  Distribution distribution() const noexcept { return dist_; }

  /// The key hash this ring was built with.
  KeyHash key_hash() const noexcept { return key_hash_; }

  /// Total points on the continuum (0 for modula and rendezvous).
  std::size_t point_count() const noexcept { return points_.size(); }

  /// Points and expected share of keys for each server, aligned with servers().
  template <class = void>
  std::vector<ServerShare> describe() const;

  /// The batch lookup with a chosen MD5 path (tests force each path).
  template <class = void>
  void server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                       detail::Md5Path path) const noexcept;

  /// The ketama key hash: first four bytes of MD5(key), little-endian.
  static std::uint32_t ketama_hash(std::string_view key) noexcept { return hash::md5_le32(key); }

 private:
  /// Whether keys are placed on a continuum of points.
  static bool has_continuum(Distribution d) noexcept {
    return d != Distribution::modula && d != Distribution::rendezvous;
  }

  /// The server of the first point >= h, wrapping past the last point
  /// (libmemcached, libketama, spymemcached's TreeMap ceiling).
  std::size_t lookup(std::uint32_t h) const noexcept {
    std::size_t i = first_at_least(h);
    if (i == points_.size()) i = 0;  // past the last point: wrap to the first
    return points_[i].server;
  }

  /// The server of the first point > h, wrapping (uhashring's bisect_right).
  std::size_t lookup_above(std::uint32_t h) const noexcept {
    std::size_t i = h == 0xffffffffu ? points_.size() : first_at_least(h + 1);
    if (i == points_.size()) i = 0;
    return points_[i].server;
  }

  /// The server of the last point <= h; below the first point, the last
  /// point's (Dalli's bsearch for the first point > h, minus one).
  std::size_t lookup_floor(std::uint32_t h) const noexcept {
    const std::size_t i = h == 0xffffffffu ? points_.size() : first_at_least(h + 1);
    return points_[i == 0 ? points_.size() - 1 : i - 1].server;
  }

  std::size_t first_at_least(std::uint32_t h) const noexcept {
    const std::uint32_t b = h >> shift_;
    std::size_t lo = buckets_[b];
    const std::size_t hi = buckets_[b + 1];
    // The first point >= h lies in [lo, hi]: points_[hi] (if any) is at
    // least the next bucket's start, which exceeds h.
    if (hi - lo > 8) {
      lo = static_cast<std::size_t>(
          std::lower_bound(points_.begin() + static_cast<std::ptrdiff_t>(lo),
                           points_.begin() + static_cast<std::ptrdiff_t>(hi), h,
                           [](const detail::RingPoint& p, std::uint32_t v) { return p.value < v; }) -
          points_.begin());
    } else {
      while (lo < hi && points_[lo].value < h) ++lo;
    }
    return lo;
  }

  std::size_t rendezvous(std::string_view key) const noexcept {
    bool ascii = true;
    for (char c : key) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        ascii = false;
        break;
      }
    }
    std::size_t best = 0;
    std::uint32_t best_score = 0;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      detail::Murmur3 m = prefix_[i];
      if (ascii) {
        m.update(reinterpret_cast<const unsigned char*>(key.data()), key.size());
      } else {
        detail::feed_python_str(m, key);
      }
      const std::uint32_t score = m.finish();
      // Highest score wins; a tie goes to the larger "host:port", as
      // pymemcache's max(str(node), str(winner)) does.
      if (i == 0 || score > best_score || (score == best_score && names_[i] > names_[best])) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }

  template <class = void>
  Result<void> build_continuum();
  template <class = void>
  Result<std::string> point_name(const ServerSpec& s) const;

  std::vector<ServerSpec> servers_;
  Distribution dist_ = Distribution::ketama;
  KeyHash key_hash_ = KeyHash::md5;
  std::vector<detail::RingPoint> points_;  // sorted by (value, server); one per value where the peer keeps one
  std::vector<std::uint32_t> buckets_;     // buckets_[b] = first point >= b << shift_
  unsigned shift_ = 31;
  std::vector<detail::Murmur3> prefix_;    // rendezvous: murmur3 state after "name-"
  std::vector<std::string> names_;         // rendezvous: pymemcache's node names
};

template <class>
inline Result<Ring> Ring::build(std::vector<ServerSpec> servers, Distribution d, KeyHash key_hash) {
  if (servers.empty()) return make_error(ErrorKind::permanent, "ring: empty server list");
  if (key_hash != KeyHash::md5 && d != Distribution::ketama) {
    return make_error(ErrorKind::permanent, std::string("ring: key hash ") + to_string(key_hash) +
                                                " applies to the ketama distribution only (not " + to_string(d) + ")");
  }
  if (servers.size() > detail::kMaxRingServers) {
    return make_error(ErrorKind::permanent, "ring: " + std::to_string(servers.size()) + " servers (at most " +
                                                std::to_string(detail::kMaxRingServers) + ")");
  }
  std::unordered_set<std::string> seen;
  seen.reserve(servers.size() * 2);
  for (const auto& s : servers) {
    auto ok = s.validate();
    if (!ok) return std::move(ok).error();
    std::string id;
    id.reserve(s.host.size() + 6);
    for (char c : s.host) id += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    id += '\0';
    id += std::to_string(s.port);
    if (!seen.insert(std::move(id)).second) {
      return make_error(ErrorKind::permanent, "ring: server " + s.to_string() + " is listed twice");
    }
  }
  Ring r;
  r.servers_ = std::move(servers);
  r.dist_ = d;
  r.key_hash_ = key_hash;
  if (has_continuum(d)) {
    auto ok = r.build_continuum();
    if (!ok) return std::move(ok).error();
  } else if (d == Distribution::rendezvous) {
    r.prefix_.reserve(r.servers_.size());
    r.names_.reserve(r.servers_.size());
    for (const auto& s : r.servers_) {
      // pymemcache names a TCP node "host:port" (IPv6 without brackets)
      // and a unix socket node by its path.
      std::string name = s.is_unix_socket() ? s.host : s.host + ":" + std::to_string(s.port);
      detail::Murmur3 m;
      m.update(reinterpret_cast<const unsigned char*>(name.data()), name.size());
      m.update(static_cast<unsigned char>('-'));
      r.prefix_.push_back(m);
      r.names_.push_back(std::move(name));
    }
  }
  return r;
}

template <class>
inline Result<std::string> Ring::point_name(const ServerSpec& s) const {
  if (!s.name.empty()) return s.name;
  const std::string port = std::to_string(s.port);
  switch (dist_) {
    case Distribution::ketama:  // libmemcached and twemproxy leave out the default port
      return s.port == 11211 ? s.host : s.host + ":" + port;
    case Distribution::spymemcached:
    case Distribution::spymemcached_weighted: {
      std::string name = detail::java_address_name(s);
      if (name.empty()) {
        return make_error(ErrorKind::permanent,
                          "ring: spymemcached names server " + s.to_string() +
                              " by its resolved address ('host/ip:port'); give the IP address, or the name "
                              "spymemcached uses (\"" + s.to_string() + " " + s.host + "/IP:" + port + "\")");
      }
      return name;
    }
    case Distribution::uhashring:
    case Distribution::dalli: return s.is_unix_socket() ? s.host : s.host + ":" + port;
    default: return s.host + ":" + port;  // libketama
  }
}

template <class>
inline Result<void> Ring::build_continuum() {
  const std::size_t n = servers_.size();
  std::uint64_t total_weight = 0;
  bool all_one = true;
  for (const auto& s : servers_) {
    total_weight += s.weight;
    all_one = all_one && s.weight == 1;
  }
  // spymemcached without a weights map gives every server 160 points; with
  // one, libmemcached's formula.
  const bool spy_fixed = dist_ == Distribution::spymemcached && all_one;

  std::vector<std::string> bases(n);
  std::vector<std::uint32_t> counts(n);
  std::size_t total_points = 0, longest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto name = point_name(servers_[i]);
    if (!name) return std::move(name).error();
    bases[i] = std::move(name).value();
    longest = std::max(longest, bases[i].size());
    const std::uint32_t w = servers_[i].weight;
    switch (dist_) {
      case Distribution::libketama: counts[i] = detail::libketama_digests(w, total_weight, n); break;
      case Distribution::uhashring: counts[i] = detail::uhashring_digests(w, total_weight, n); break;
      case Distribution::dalli: counts[i] = detail::dalli_points(w, total_weight, n); break;
      default: counts[i] = spy_fixed ? 40 : detail::ketama_points(w, total_weight, n) / 4; break;
    }
    total_points += static_cast<std::size_t>(counts[i]) * (dist_ == Distribution::dalli ? 1 : 4);
  }
  points_.clear();
  points_.reserve(total_points);
  const char sep = dist_ == Distribution::dalli ? ':' : '-';
  const std::size_t slot = longest + 12;
  std::string one;
  if (dist_ == Distribution::dalli) {
    // Dalli: SHA-1("name:idx"), one point of the first four bytes.
    for (std::size_t i = 0; i < n; ++i) {
      one.assign(bases[i]);
      one += sep;
      for (std::uint32_t k = 0; k < counts[i]; ++k) {
        one.resize(bases[i].size() + 1);
        one += std::to_string(k);
        points_.push_back({hash::sha1_be32(one), static_cast<std::uint32_t>(i)});
      }
    }
  } else {
    // "name-N" hashed in chunks through the multi-lane MD5, four points per
    // digest; each name has a fixed slot in one buffer.
    constexpr std::size_t kChunk = 2048;
    std::vector<char> slots(slot * kChunk);
    std::vector<std::string_view> names(kChunk);
    std::vector<std::uint32_t> owner(kChunk);
    std::vector<std::uint32_t> words(4 * kChunk);
    std::size_t count = 0;
    auto flush = [&] {
      detail::md5_digest_batch(names.data(), count, words.data());
      for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t j = 0; j < 4; ++j) points_.push_back({words[4 * i + j], owner[i]});
      }
      count = 0;
    };
    for (std::size_t i = 0; i < n; ++i) {
      for (std::uint32_t k = 0; k < counts[i]; ++k) {
        char* const name = slots.data() + count * slot;
        char* p = name;
        std::memcpy(p, bases[i].data(), bases[i].size());
        p += bases[i].size();
        *p++ = sep;
        p = detail::append_uint(p, k);
        names[count] = std::string_view(name, static_cast<std::size_t>(p - name));
        owner[count] = static_cast<std::uint32_t>(i);
        if (++count == kChunk) flush();
      }
    }
    flush();
  }
  if (points_.empty()) return make_error(ErrorKind::permanent, "ring: no points on the continuum");
  detail::sort_points(points_);
  if (dist_ == Distribution::spymemcached || dist_ == Distribution::spymemcached_weighted ||
      dist_ == Distribution::uhashring) {
    // A TreeMap (spymemcached) or dict (uhashring) keeps one server per
    // point value: the one put last, i.e. the later server in the list.
    std::size_t out = 0;
    for (std::size_t i = 0; i < points_.size(); ++i) {
      if (i + 1 < points_.size() && points_[i + 1].value == points_[i].value) continue;
      points_[out++] = points_[i];
    }
    points_.resize(out);
  }

  // Bucket index over the top bits of the hash: about one point per bucket.
  unsigned bits = 1;
  while (bits < 22 && (std::size_t{1} << bits) < points_.size()) ++bits;
  shift_ = 32 - bits;
  buckets_.assign((std::size_t{1} << bits) + 1, 0);
  std::size_t pi = 0;
  for (std::size_t b = 0; b < (std::size_t{1} << bits); ++b) {
    const std::uint64_t start = static_cast<std::uint64_t>(b) << shift_;
    while (pi < points_.size() && points_[pi].value < start) ++pi;
    buckets_[b] = static_cast<std::uint32_t>(pi);
  }
  buckets_.back() = static_cast<std::uint32_t>(points_.size());
  return {};
}

template <class>
inline void Ring::server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                                  detail::Md5Path path) const noexcept {
  if (servers_.size() <= 1 || !has_continuum(dist_)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = server_for(keys[i]);
    return;
  }
  constexpr std::size_t kChunk = 256;
  std::uint32_t hashes[kChunk];
  if (dist_ == Distribution::dalli) {
    // Hashes first, then lookups: independent CRCs overlap in the pipeline.
    for (std::size_t i = 0; i < n; i += kChunk) {
      const std::size_t m = std::min(kChunk, n - i);
      for (std::size_t j = 0; j < m; ++j) hashes[j] = hash::crc32(keys[i + j]);
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup_floor(hashes[j]);
    }
    return;
  }
  if (key_hash_ != KeyHash::md5) {
    for (std::size_t i = 0; i < n; i += kChunk) {
      const std::size_t m = std::min(kChunk, n - i);
      detail::key_hash_batch(key_hash_, keys + i, m, hashes);
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup(hashes[j]);
    }
    return;
  }
  const bool above = dist_ == Distribution::uhashring;
  for (std::size_t i = 0; i < n; i += kChunk) {
    const std::size_t m = std::min(kChunk, n - i);
    detail::md5_le32_batch(keys + i, m, hashes, path);
    if (above) {
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup_above(hashes[j]);
    } else {
      for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup(hashes[j]);
    }
  }
}

template <class>
inline std::vector<Ring::ServerShare> Ring::describe() const {
  std::vector<ServerShare> out(servers_.size(), ServerShare{0, 0.0});
  if (servers_.empty()) return out;
  if (points_.empty() || servers_.size() == 1) {
    for (auto& s : out) s.share = 1.0 / static_cast<double>(servers_.size());
    for (const auto& p : points_) ++out[p.server].points;
    return out;
  }
  // A point owns the hashes after the previous point up to itself; the
  // first point also owns the wrap-around past the last one. Dalli's points
  // own the hashes from themselves up to the next point instead.
  constexpr double kSpace = 4294967296.0;
  const bool floor = dist_ == Distribution::dalli;
  std::uint32_t prev = points_.back().value;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const std::uint32_t v = points_[i].value;
    const double arc = i == 0 ? (kSpace - prev) + v : static_cast<double>(v - prev);
    const std::size_t owner = !floor ? i : i == 0 ? points_.size() - 1 : i - 1;
    out[points_[owner].server].share += arc / kSpace;
    ++out[points_[i].server].points;
    prev = v;
  }
  return out;
}

namespace detail {
CACHEKIT_COMPILE_ONCE(void sort_points<void>(std::vector<RingPoint>&))  // see config.hpp
}  // namespace detail
CACHEKIT_COMPILE_ONCE(Result<Ring> Ring::build<void>(std::vector<ServerSpec>, Distribution, KeyHash))
CACHEKIT_COMPILE_ONCE(Result<void> Ring::build_continuum<void>())
CACHEKIT_COMPILE_ONCE(Result<std::string> Ring::point_name<void>(const ServerSpec&) const)
CACHEKIT_COMPILE_ONCE(std::vector<Ring::ServerShare> Ring::describe<void>() const)

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/ring.hpp ----

// ---- begin cachekit/protocol/bytes.hpp ----
// Byte moves shared by the wire codecs. Pure.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace detail {

/// Copies n bytes (no overlap); keys of 4 to 16 bytes, the common sizes,
/// as two overlapping word moves without a library call.
CACHEKIT_HOT_INLINE void copy_bytes(char* dst, const char* src, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    std::uint64_t head, tail;
    std::memcpy(&head, src, 8);
    std::memcpy(&tail, src + n - 8, 8);
    std::memcpy(dst, &head, 8);
    std::memcpy(dst + n - 8, &tail, 8);
  } else if (n >= 4 && n < 8) {
    std::uint32_t head, tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    std::memcpy(dst, src, n);
  }
}

/// Whether a[0..n) and b[0..n) hold the same bytes (keys compared eight
/// bytes at a time, without a library call).
CACHEKIT_HOT_INLINE bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {  // the first and the last eight bytes (they may overlap)
    std::uint64_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 8);
    std::memcpy(&y0, b, 8);
    std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  for (; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

/// Whether the bytes at p begin with the literal lit (without its NUL),
/// compared a word at a time: never a call to memcmp, which compilers make
/// for lengths like 3, 5 or 6. The caller has made sure the bytes exist.
template <std::size_t N>
CACHEKIT_HOT_INLINE bool starts_with(const char* p, const char (&lit)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  static_assert(n >= 1 && n <= 8, "a literal of one to eight bytes");
  if constexpr (n >= 4) {
    std::uint32_t a, b, c, d;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, lit, 4);
    std::memcpy(&c, p + n - 4, 4);  // the last four (they may overlap)
    std::memcpy(&d, lit + n - 4, 4);
    return ((a ^ b) | (c ^ d)) == 0;
  } else if constexpr (n >= 2) {
    std::uint16_t a, b, c, d;
    std::memcpy(&a, p, 2);
    std::memcpy(&b, lit, 2);
    std::memcpy(&c, p + n - 2, 2);
    std::memcpy(&d, lit + n - 2, 2);
    return ((a ^ b) | (c ^ d)) == 0;
  } else {
    return p[0] == lit[0];
  }
}

}  // namespace detail
}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/protocol/bytes.hpp ----

// ---- begin cachekit/protocol/reply.hpp ----
// The protocol-neutral reply: what a text or meta reply decoder produces,
// whatever the wire. Views point into the bytes that were decoded (valid
// while they are). Also the decode status every wire shares, the mapping of
// error replies to ErrorKind, and which replies leave a connection unusable.
// Pure: no I/O.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {

/// What a reply says, whatever the wire.
enum class ReplyKind : std::uint8_t {
  value,         ///< a value: text `VALUE`, meta `VA`; value() holds the data
  miss,          ///< meta `EN`
  ok,            ///< meta `HD`; text `OK` (flush_all); meta `OK` (the dialect before 1.6.10)
  stored,        ///< text `STORED`
  not_stored,    ///< text `NOT_STORED`, meta `NS`
  exists,        ///< text `EXISTS`, meta `EX` (CAS mismatch)
  not_found,     ///< text `NOT_FOUND`, meta `NF`
  deleted,       ///< text `DELETED`
  touched,       ///< text `TOUCHED`
  number,        ///< text incr/decr result, in ServerReply::number
  end,           ///< end of a batch: text `END`, meta `MN`
  version,       ///< `VERSION <text>`
  stat,          ///< `STAT <name> <value>`: name in text, value in value
  debug,         ///< meta `ME <key> <name>=<value>*`: the rest of the line in text
  error,         ///< `ERROR`: the server does not know the command
  client_error,  ///< `CLIENT_ERROR <text>`
  server_error,  ///< `SERVER_ERROR <text>`
};

/// Name of a ReplyKind, for messages.
inline const char* to_string(ReplyKind k) noexcept {
  switch (k) {
    case ReplyKind::value: return "value";
    case ReplyKind::miss: return "miss";
    case ReplyKind::ok: return "ok";
    case ReplyKind::stored: return "stored";
    case ReplyKind::not_stored: return "not stored";
    case ReplyKind::exists: return "exists";
    case ReplyKind::not_found: return "not found";
    case ReplyKind::deleted: return "deleted";
    case ReplyKind::touched: return "touched";
    case ReplyKind::number: return "number";
    case ReplyKind::end: return "end";
    case ReplyKind::version: return "version";
    case ReplyKind::stat: return "stat";
    case ReplyKind::debug: return "debug";
    case ReplyKind::error: return "ERROR";
    case ReplyKind::client_error: return "CLIENT_ERROR";
    case ReplyKind::server_error: return "SERVER_ERROR";
  }
  return "unknown";
}

/// Optional parts a reply carried (bits of ServerReply::fields).
enum class Field : std::uint32_t {
  flags = 1u << 0,         ///< client flags (text VALUE, meta `f`)
  cas = 1u << 1,           ///< CAS unique (text gets, meta `c`)
  ttl = 1u << 2,           ///< meta `t`: seconds left, -1 = never expires
  size = 1u << 3,          ///< meta `s`: item size
  key = 1u << 4,           ///< the key (text VALUE, meta `k`)
  opaque = 1u << 5,        ///< meta `O`
  won = 1u << 6,           ///< meta `W`: this client won the right to recache
  stale = 1u << 7,         ///< meta `X`: the item is stale
  winner_sent = 1u << 8,   ///< meta `Z`: another client already won
  base64_key = 1u << 9,    ///< meta `b`: the returned key is base64
  hit_before = 1u << 10,   ///< meta `h` (value in ServerReply::hit_before)
  last_access = 1u << 11,  ///< meta `l` (seconds in ServerReply::last_access)
  legacy = 1u << 12,       ///< meta `OK`: the server speaks the dialect before 1.6.10
  trailing_space = 1u << 13,  ///< the line ended in a space (meta before 1.6.18)
};

/// One decoded reply. Views point into the decoded bytes.
struct ServerReply {
  ReplyKind kind = ReplyKind::end;
  std::uint32_t fields = 0;  ///< Field bits
  std::uint32_t flags = 0;
  std::uint32_t last_access = 0;
  std::uint64_t cas = 0;
  std::uint64_t number = 0;  ///< text incr/decr result
  std::uint64_t size = 0;    ///< meta `s`
  std::int64_t ttl = 0;      ///< meta `t`
  bool hit_before = false;   ///< meta `h`
  std::string_view value;    ///< data of a value reply; STAT value
  std::string_view key;      ///< text VALUE key, meta `k`
  std::string_view opaque;   ///< meta `O` token
  std::string_view text;     ///< VERSION text, STAT name, error message, ME line

  bool has(Field f) const noexcept { return (fields & static_cast<std::uint32_t>(f)) != 0; }
  void set(Field f) noexcept { fields |= static_cast<std::uint32_t>(f); }
  /// Back to the default state, member by member (cheaper than assigning a
  /// fresh object, and stores a decoder then overwrites are dropped).
  void clear() noexcept {
    kind = ReplyKind::end;
    fields = 0;
    flags = 0;
    last_access = 0;
    cas = 0;
    number = 0;
    size = 0;
    ttl = 0;
    hit_before = false;
    value = {};
    key = {};
    opaque = {};
    text = {};
  }
  bool won() const noexcept { return has(Field::won); }
  bool stale() const noexcept { return has(Field::stale); }
  bool winner_sent() const noexcept { return has(Field::winner_sent); }
};

/// Outcome of decoding the bytes at the start of a buffer.
enum class DecodeStatus : std::uint8_t {
  need_more,  ///< a prefix of a reply: read more bytes and decode again
  complete,   ///< a whole reply; Decoded::size bytes consumed
  malformed,  ///< not a reply: the stream cannot be trusted, close the connection
};

/// Result of a decode call.
struct Decoded {
  DecodeStatus status = DecodeStatus::need_more;
  /// complete: bytes the reply took. need_more: total bytes the reply needs
  /// at least (more than were given; exact once a value's length is known).
  std::size_t size = 0;
  const char* why = nullptr;  ///< malformed: the cause (a static string)

  static Decoded need(std::size_t at_least) noexcept { return {DecodeStatus::need_more, at_least, nullptr}; }
  static Decoded done(std::size_t n) noexcept { return {DecodeStatus::complete, n, nullptr}; }
  static Decoded bad(const char* why) noexcept { return {DecodeStatus::malformed, 0, why}; }
  bool complete() const noexcept { return status == DecodeStatus::complete; }
  bool malformed() const noexcept { return status == DecodeStatus::malformed; }
  bool need_more() const noexcept { return status == DecodeStatus::need_more; }
};

/// Longest reply line (without a value's data) decoders accept by default.
inline constexpr std::size_t kMaxReplyLine = 8192;

/// Bounds a decoder enforces: anything beyond is malformed, never an allocation.
struct Limits {
  std::size_t max_value = CACHEKIT_MAX_RESPONSE_BODY;  ///< largest value (memcached's item size limit)
  std::size_t max_line = kMaxReplyLine;                ///< longest reply line
};

/// Whether the reply is an error line (ERROR, CLIENT_ERROR, SERVER_ERROR).
inline bool is_error(const ServerReply& r) noexcept {
  return r.kind == ReplyKind::error || r.kind == ReplyKind::client_error || r.kind == ReplyKind::server_error;
}

/// Whether the connection must be closed after this reply. Every error
/// line qualifies: after a refused storage command the server may not have
/// read the data block (a `set` refused with CLIENT_ERROR leaves it unread,
/// and the server then parses it as a command), `ERROR` to a meta command
/// means the server does not speak the protocol, and the server itself may
/// close after SERVER_ERROR. A malformed reply (DecodeStatus::malformed)
/// always closes the connection too.
inline bool must_close(const ServerReply& r) noexcept { return is_error(r); }

namespace detail {
inline bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}
/// Appends at most 120 bytes of s to out, non-printable bytes as '?'.
inline void append_printable(std::string& out, std::string_view s) {
  const std::size_t n = s.size() < 120 ? s.size() : 120;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (n < s.size()) out += "...";
}
}  // namespace detail

/// How a caller should treat an error reply.
/// - ERROR: permanent (the server does not know the command: wrong protocol
///   or an old server);
/// - CLIENT_ERROR: authentication when it names authentication, else permanent;
/// - SERVER_ERROR: permanent for "object too large for cache", else transient
///   (out of memory, busy, a proxy's backend down).
inline ErrorKind error_kind(const ServerReply& r) noexcept {
  switch (r.kind) {
    case ReplyKind::error: return ErrorKind::permanent;
    case ReplyKind::client_error:
      if (detail::starts_with(r.text, "unauthenticated") || detail::starts_with(r.text, "authentication")) {
        return ErrorKind::authentication;
      }
      return ErrorKind::permanent;
    case ReplyKind::server_error:
      if (detail::starts_with(r.text, "object too large")) return ErrorKind::permanent;
      return ErrorKind::transient;
    default: return ErrorKind::unknown;
  }
}

/// Error for an error reply: its kind and the server's words.
inline Error reply_error(const ServerReply& r) {
  std::string msg = "server replied ";
  msg += to_string(r.kind);
  if (!r.text.empty()) {
    msg += ' ';
    detail::append_printable(msg, r.text);
  }
  if (r.kind == ReplyKind::error) msg += " (unknown command: the server does not speak this protocol or command)";
  return Error(error_kind(r), std::move(msg));
}

/// Error for a reply the request did not expect (the connection must be closed).
inline Error unexpected_reply_error(const ServerReply& r, const char* operation) {
  std::string msg = "unexpected reply to ";
  msg += operation;
  msg += ": ";
  msg += to_string(r.kind);
  return Error(ErrorKind::unknown, std::move(msg));
}

/// Error for a malformed reply: the cause and the first bytes that were
/// decoded (non-printable bytes shown as '?').
inline Error malformed_error(const Decoded& d, const char* data, std::size_t n) {
  std::string msg = "protocol error: ";
  msg += d.why != nullptr ? d.why : "malformed reply";
  msg += " (reply starts \"";
  detail::append_printable(msg, std::string_view(data, n < 60 ? n : 60));
  msg += "\")";
  return Error(ErrorKind::unknown, std::move(msg));
}

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/protocol/reply.hpp ----

// ---- begin cachekit/protocol/binary.hpp ----
// memcached binary protocol codec: request encoder and reply decoder
// (replies split across reads are gathered by ReplyStash in wire.hpp).
// Pure: bytes in, bytes out; no I/O, no clock.
// Constants follow the memcached binary protocol specification
// (docs/protocol-binary.xml in the memcached repository).


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
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

/// Whether memcached's binary protocol defines status s. Any other status
/// means the stream cannot be trusted, so the parser treats it as a
/// protocol error and the connection is closed.
inline bool is_known_status(std::uint16_t s) noexcept {
  return s == 0 || s <= 0x0007 || s == 0x0020 || s == 0x0021 || (s >= 0x0081 && s <= 0x0086);
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
// Big-endian fields. With GCC and Clang on a little-endian machine these
// are one load or store plus a byte swap; elsewhere, byte by byte.
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline void put16(char* p, std::uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void put32(char* p, std::uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void put64(char* p, std::uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline std::uint16_t get16(const unsigned char* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline std::uint32_t get32(const unsigned char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline std::uint64_t get64(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
#else
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
#endif

}  // namespace detail

/// Writes the header, extras and key of a request to dst (room for
/// kHeaderSize + extras + key bytes); the value, value_size bytes, follows
/// separately. Returns the bytes written.
inline std::size_t encode_head(char* dst, Opcode op, std::string_view key, std::string_view extras,
                               std::size_t value_size, std::uint32_t opaque, std::uint64_t cas = 0) noexcept {
  char* h = dst;
  // Magic, opcode, key length, extras length, data type 0 (raw bytes),
  // vbucket 0; then body length and opaque; then the CAS: three words.
  detail::put64(h, (std::uint64_t{kRequestMagic} << 56) | (std::uint64_t{static_cast<std::uint8_t>(op)} << 48) |
                       (std::uint64_t{static_cast<std::uint16_t>(key.size())} << 32) |
                       (std::uint64_t{static_cast<std::uint8_t>(extras.size())} << 24));
  detail::put64(h + 8, (std::uint64_t{static_cast<std::uint32_t>(extras.size() + key.size() + value_size)} << 32) | opaque);
  detail::put64(h + 16, cas);
  char* p = h + kHeaderSize;
  if (!extras.empty()) std::memcpy(p, extras.data(), extras.size());
  p += extras.size();
  detail::copy_bytes(p, key.data(), key.size());
  p += key.size();
  return static_cast<std::size_t>(p - dst);
}

/// Appends one request to out (a std::string, or any buffer with
/// append(const char*, size_t)). The caller keeps key <= 250 bytes and
/// extras <= 255 bytes; out's capacity is reused between calls.
template <class Out>
inline void encode_request(Out& out, Opcode op, std::string_view key, std::string_view extras,
                           std::string_view value, std::uint32_t opaque, std::uint64_t cas = 0) {
  char head[kHeaderSize + 255 + 255];
  const std::size_t n = encode_head(head, op, key, extras, value.size(), opaque, cas);
  out.append(head, n);
  out.append(value.data(), value.size());
}

/// Extras of set/add/replace (flags, expiration) into ex[8].
inline std::string_view store_extras(char* ex, std::uint32_t flags, std::uint32_t expiry) noexcept {
  detail::put32(ex, flags);
  detail::put32(ex + 4, expiry);
  return std::string_view(ex, 8);
}

/// Extras of increment/decrement into ex[20]. Without an initial value the
/// server answers "not found" for a missing key (expiration 0xffffffff).
inline std::string_view counter_extras(char* ex, std::uint64_t delta, std::uint64_t initial, bool create,
                                       std::uint32_t expiry) noexcept {
  detail::put64(ex, delta);
  detail::put64(ex + 8, initial);
  detail::put32(ex + 16, create ? expiry : 0xffffffffu);
  return std::string_view(ex, 20);
}

/// Extras holding only an expiration (touch, get-and-touch, flush) into ex[4].
inline std::string_view expiry_extras(char* ex, std::uint32_t expiry) noexcept {
  detail::put32(ex, expiry);
  return std::string_view(ex, 4);
}

/// Extras of set/add/replace: flags and expiration.
template <class Out>
inline void encode_store(Out& out, Opcode op, std::string_view key, std::string_view value,
                         std::uint32_t flags, std::uint32_t expiry, std::uint32_t opaque,
                         std::uint64_t cas = 0) {
  char ex[8];
  detail::put32(ex, flags);
  detail::put32(ex + 4, expiry);
  encode_request(out, op, key, std::string_view(ex, 8), value, opaque, cas);
}

/// Increment/decrement. Without an initial value the server answers
/// "not found" for a missing key (expiration 0xffffffff).
template <class Out>
inline void encode_counter(Out& out, Opcode op, std::string_view key, std::uint64_t delta,
                           std::uint64_t initial, bool create, std::uint32_t expiry,
                           std::uint32_t opaque) {
  char ex[20];
  detail::put64(ex, delta);
  detail::put64(ex + 8, initial);
  detail::put32(ex + 16, create ? expiry : 0xffffffffu);
  encode_request(out, op, key, std::string_view(ex, 20), {}, opaque);
}

/// Touch and get-and-touch carry only an expiration.
template <class Out>
inline void encode_touch(Out& out, Opcode op, std::string_view key, std::uint32_t expiry,
                         std::uint32_t opaque) {
  char ex[4];
  detail::put32(ex, expiry);
  encode_request(out, op, key, std::string_view(ex, 4), {}, opaque);
}

/// SASL PLAIN: authzid empty, then user and password separated by NUL.
template <class Out>
inline void encode_sasl_plain(Out& out, std::string_view user, std::string_view password,
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
template <class Out, class KeyAt>
inline void encode_getkq_pipeline(Out& out, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque,
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

/// Checks and decodes a 24-byte response header into h: nullptr when it is
/// valid, else why the stream is corrupt.
inline const char* decode_response_header(const char* bytes, ResponseHeader& h) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes);
  if (p[0] != kResponseMagic) return "bad response magic";
  h.opcode = p[1];
  h.key_length = detail::get16(p + 2);
  h.extras_length = p[4];
  h.status = detail::get16(p + 6);
  h.body_length = detail::get32(p + 8);
  h.opaque = detail::get32(p + 12);
  h.cas = detail::get64(p + 16);
  if (!is_known_status(h.status)) return "unknown response status";
  if (std::size_t{h.extras_length} + h.key_length > h.body_length) return "extras and key longer than the body";
  if (h.body_length > CACHEKIT_MAX_RESPONSE_BODY) return "response body too large";
  return nullptr;
}

/// One complete response, viewed where its bytes lie (valid while they do).
struct Reply {
  ResponseHeader header;
  const char* body = nullptr;  // header.body_length bytes

  std::string_view extras() const noexcept { return std::string_view(body, header.extras_length); }
  std::string_view key() const noexcept { return std::string_view(body + header.extras_length, header.key_length); }
  std::string_view value() const noexcept {
    const std::size_t skip = std::size_t{header.extras_length} + header.key_length;
    return std::string_view(body + skip, header.body_length - skip);
  }
  /// Flags of a get reply (0 when the reply carries no flags).
  std::uint32_t flags() const noexcept {
    return header.extras_length < 4 ? 0 : detail::get32(reinterpret_cast<const unsigned char*>(body));
  }
};

/// Decodes the response at the start of data when all of it is among the n
/// bytes: returns its whole size (header and body) and fills r. Returns 0
/// when bytes are missing (why stays nullptr) or when the header is corrupt
/// (why says why).
inline std::size_t decode_whole(const char* data, std::size_t n, Reply& r, const char*& why) noexcept {
  why = nullptr;
  if (n < kHeaderSize) return 0;
  why = decode_response_header(data, r.header);
  if (why != nullptr || n - kHeaderSize < r.header.body_length) return 0;
  r.body = data + kHeaderSize;
  return kHeaderSize + r.header.body_length;
}

/// decode_whole in the form every wire shares: need_more with the bytes
/// the response needs (the header, then header and body), complete, or
/// malformed with the cause.
inline Decoded decode_response(const char* data, std::size_t n, Reply& r) noexcept {
  if (n < kHeaderSize) return Decoded::need(kHeaderSize);
  if (const char* why = decode_response_header(data, r.header)) return Decoded::bad(why);
  const std::size_t whole = kHeaderSize + std::size_t{r.header.body_length};
  if (n < whole) return Decoded::need(whole);
  r.body = data + kHeaderSize;
  return Decoded::done(whole);
}

/// The common get reply, checked with fewer steps: when the response at
/// the start of data is a complete successful reply to op (a get of any
/// kind) carrying four bytes of flags, fills r (as decode_whole would) and
/// returns its whole size. Returns 0 for anything else (the caller then
/// decodes it with decode_whole, which applies and reports every check).
inline std::size_t decode_hit(const char* data, std::size_t n, Opcode op, Reply& r) noexcept {
  if (n < kHeaderSize) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  // Magic, opcode, extras length, data type and status, one word at once;
  // the key length (bytes 2 and 3) is masked out.
  const unsigned char want_bytes[8] = {kResponseMagic, static_cast<unsigned char>(op), 0, 0, 4, 0, 0, 0};
  static constexpr unsigned char kMask[8] = {0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff};
  std::uint64_t word, want, mask;
  std::memcpy(&word, p, 8);
  std::memcpy(&want, want_bytes, 8);
  std::memcpy(&mask, kMask, 8);
  if ((word & mask) != want) return 0;
  const std::uint16_t key_length = detail::get16(p + 2);
  const std::uint32_t body_length = detail::get32(p + 8);
  if (body_length < 4u + key_length || body_length > CACHEKIT_MAX_RESPONSE_BODY || n - kHeaderSize < body_length) return 0;
  r.header.opcode = static_cast<std::uint8_t>(op);
  r.header.key_length = key_length;
  r.header.extras_length = 4;
  r.header.status = 0;
  r.header.body_length = body_length;
  r.header.opaque = detail::get32(p + 12);
  r.header.cas = detail::get64(p + 16);
  r.body = data + kHeaderSize;
  return kHeaderSize + body_length;
}

/// The binary protocol as a wire: its reply type and decoder (requests
/// are encoded with encode_head / encode_request).
struct BinaryWire {
  static constexpr const char* name = "binary";
  using Reply = protocol::Reply;
  static Decoded decode(const char* data, std::size_t n, Reply& r, const Limits& = Limits{}) noexcept {
    return decode_response(data, n, r);
  }
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/protocol/binary.hpp ----

// ---- begin cachekit/protocol/ascii.hpp ----
// Line and number helpers shared by the text and meta codecs: finding a
// line end within a bound, decimal numbers with overflow checks in both
// directions, space-separated tokens, key checks, and the error lines both
// protocols send. Pure: no I/O, no allocation.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>


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
// ---- end cachekit/protocol/ascii.hpp ----

// ---- begin cachekit/protocol/wire.hpp ----
// What every ASCII wire (text, meta) offers the layers above it: requests
// described without protocol words, and a reader that turns a byte stream
// split anyhow into whole replies. A wire is a struct of static functions
// and capability flags (TextWire in text.hpp, MetaWire in meta.hpp), chosen
// at compile time: a backend templated over it makes no virtual call per
// request. Every wire provides:
//
//   static constexpr const char* name;                 "text", "meta"
//   static constexpr bool has_quiet_get, has_quiet_store, has_opaque, has_cas, has_lease,
//                         has_noop, has_multi_key_get, has_counter_create, has_counter_ttl;
//   static std::size_t head_bound(std::size_t key_size);  room a head needs
//   static std::size_t encode_get(char*, const GetRequest&);
//   static std::size_t encode_store_head(char*, const StoreRequest&);  data + "\r\n" follow
//   static std::size_t encode_delete(char*, std::string_view key, std::uint32_t opaque, bool quiet);
//   static std::size_t encode_counter(char*, const CounterRequest&);
//   static std::size_t encode_touch(char*, std::string_view key, std::int64_t exptime, std::uint32_t opaque);
//   static std::size_t encode_flush_all(char*, std::int64_t delay);
//   static std::size_t encode_version(char*);
//   static std::size_t encode_stats(char*, std::string_view group);  room: head_bound(group.size())
//   template <class Out> static void encode_login(Out&, std::string_view user, std::string_view password);
//   static Decoded decode(const char*, std::size_t, ServerReply&, const Limits&);
//
// and, where has_noop: static std::size_t encode_noop(char*) (a batch's end).
// A request field a wire cannot express is ignored, and a capability flag
// says so (text has no opaque, no quiet get, no counter creation).
//
// The char* encoders write one command head at dst, which has room for
// head_bound(key.size()) bytes, and return its length; the caller sends a
// store's data from its own memory after the head, then kDataEnd.
// Pure: no I/O.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {

/// Room a command head needs besides its key (command, numbers, flags, an
/// opaque of up to 32 bytes, "\r\n").
inline constexpr std::size_t kHeadSlack = 256;

/// What ends a data block on the ASCII wires.
inline constexpr std::string_view kDataEnd = "\r\n";

/// A read of one key.
struct GetRequest {
  std::string_view key;
  bool cas = false;          ///< also return the CAS unique (text gets)
  bool touch = false;        ///< also set the TTL to exptime (text gat)
  std::int64_t exptime = 0;  ///< with touch
  std::uint32_t opaque = 0;  ///< meta: echoed as O<opaque> when non-zero
  bool quiet = false;        ///< meta: no reply on a miss
  bool return_key = false;   ///< meta: echo the key (k)
};

/// How a storage command treats an existing item.
enum class StoreMode : std::uint8_t { set, add, replace, append, prepend, cas };

/// A write of one item; its data (value_size bytes) follows the head.
struct StoreRequest {
  StoreMode mode = StoreMode::set;
  std::string_view key;
  std::size_t value_size = 0;
  std::uint32_t flags = 0;   ///< ignored by the server for append/prepend
  std::int64_t exptime = 0;  ///< ignored by the server for append/prepend
  std::uint64_t cas = 0;     ///< mode cas: the CAS unique to compare
  std::uint32_t opaque = 0;  ///< meta: O<opaque> when non-zero
  bool quiet = false;        ///< meta: no reply on success; text: noreply (no reply at all)
};

/// An increment or decrement.
struct CounterRequest {
  std::string_view key;
  bool decrement = false;
  std::uint64_t delta = 1;
  bool create = false;       ///< meta: create on a miss with initial and exptime
  std::uint64_t initial = 0;
  std::int64_t exptime = 0;  ///< meta: TTL of a created item
  std::uint32_t opaque = 0;  ///< meta: O<opaque> when non-zero
  bool quiet = false;        ///< meta: no reply on success; text: noreply
};

namespace detail {
/// Runs write(buf) -> length into a buffer of at least bound bytes and
/// appends the result to out: on the stack for any key memcached accepts.
template <class Out, class Write>
inline void append_head(Out& out, std::size_t bound, Write&& write) {
  char stack[kHeadSlack + 512];
  if (bound <= sizeof stack) {
    out.append(stack, write(stack));
    return;
  }
  std::unique_ptr<char[]> heap(new char[bound]);  // only for keys far beyond memcached's limit
  out.append(heap.get(), write(heap.get()));
}
}  // namespace detail

/// Gathers a reply that arrives split across reads, for any wire: a reply
/// that arrives whole is decoded where it lies (no copy); one split across
/// reads is held here until it is complete. Memory grows only with bytes
/// actually received, within the limits (a value's announced length is
/// checked by the decoder first).
class ReplyStash {
 public:
  enum class Step { need_more, complete, malformed };

  /// Takes bytes up to the end of the current reply (used says how many)
  /// and decodes with Wire into r. complete: r views the reply (in data,
  /// or in this stash: valid until next()); need_more: every byte was
  /// taken; malformed: why() says why.
  template <class Wire>
  Step feed(const char* data, std::size_t n, typename Wire::Reply& r, const Limits& limits, std::size_t& used) {
    used = 0;
    if (held_.empty()) {
      if (n == 0) return Step::need_more;
      const Decoded d = Wire::decode(data, n, r, limits);
      if (d.complete()) {
        used = d.size;
        return Step::complete;
      }
      if (d.malformed()) return fail(d.why);
      held_.assign(data, n);  // a reply split across reads: keep its first part
      need_ = d.size;
      used = n;
      return Step::need_more;
    }
    for (;;) {
      const std::size_t before = held_.size();
      if (used == n) return Step::need_more;
      // Once the reply's length is known, take no byte beyond its end.
      const std::size_t avail = n - used;
      const std::size_t take = need_ > before + 1 && need_ - before < avail ? need_ - before : avail;
      held_.append(data + used, take);
      used += take;
      if (held_.size() < need_) continue;  // all taken: the loop ends above
      const Decoded d = Wire::decode(held_.data(), held_.size(), r, limits);
      if (d.complete()) {
        used -= held_.size() - d.size;  // bytes past the reply's end stay with the caller
        held_.resize(d.size);
        done_ = true;
        return Step::complete;
      }
      if (d.malformed()) return fail(d.why);
      need_ = d.size;
    }
  }

  /// Whether no part of a reply is held.
  bool empty() const noexcept { return held_.empty(); }
  /// Why the stream is corrupt (after Step::malformed).
  const char* why() const noexcept { return why_; }
  /// Bytes the held reply needs at least, when known (0 when none is held).
  std::size_t needed() const noexcept { return need_; }
  /// Ready for the next reply; keeps a bounded amount of memory.
  void next() noexcept {
    need_ = 0;
    done_ = false;
    held_.clear();
    if (held_.capacity() > kKeepCapacity) std::string().swap(held_);
  }
  /// Whether the last complete reply was gathered here (next() drops it).
  bool holds_reply() const noexcept { return done_; }

 private:
  static constexpr std::size_t kKeepCapacity = 64 * 1024;

  Step fail(const char* why) noexcept {
    why_ = why != nullptr ? why : "malformed reply";
    return Step::malformed;
  }

  std::string held_;
  std::size_t need_ = 0;
  bool done_ = false;
  const char* why_ = "";
};

/// Turns a byte stream split anyhow into whole replies of one Wire. Feed it
/// bytes as they arrive; it stops at the end of each reply so the caller can
/// act on it, then next() prepares for the following one.
template <class Wire>
class ReplyReader {
 public:
  using Reply = typename Wire::Reply;
  explicit ReplyReader(Limits limits = Limits{}) : limits_(limits) {}

  /// Consumes bytes up to the end of the current reply; returns how many.
  /// Check failed() and complete() afterwards.
  std::size_t feed(const char* data, std::size_t n) {
    if (failed_ || complete_ || n == 0) return 0;
    std::size_t used = 0;
    switch (stash_.template feed<Wire>(data, n, reply_, limits_, used)) {
      case ReplyStash::Step::complete: complete_ = true; break;
      case ReplyStash::Step::malformed:
        failed_ = true;
        failure_ = stash_.why();
        return 0;
      case ReplyStash::Step::need_more: break;
    }
    return used;
  }

  /// A whole reply is ready.
  bool complete() const noexcept { return complete_; }
  /// The stream is corrupt; the connection must be closed.
  bool failed() const noexcept { return failed_; }
  /// Why the stream is corrupt.
  const char* failure() const noexcept { return failure_; }
  /// Whether no part of a reply is held (nothing fed since next()).
  bool idle() const noexcept { return stash_.empty() && !complete_; }
  /// The complete reply; its views stay valid until next() or until the
  /// caller reuses the buffer it fed.
  const Reply& reply() const noexcept { return reply_; }
  /// Bytes the current reply needs at least, when known (0 before any).
  std::size_t needed() const noexcept { return stash_.needed(); }

  /// Ready for the next reply; keeps a bounded amount of memory.
  void next() noexcept {
    complete_ = false;
    stash_.next();
  }
  /// Forgets everything, including a failure.
  void reset() noexcept {
    next();
    failed_ = false;
    failure_ = "";
  }

 private:
  Limits limits_;
  Reply reply_;
  ReplyStash stash_;
  bool complete_ = false;
  bool failed_ = false;
  const char* failure_ = "";
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/protocol/wire.hpp ----

// ---- begin cachekit/protocol/text.hpp ----
// memcached's classic text protocol: request encoders writing into a
// caller's buffer, and a reply decoder that reads one reply (one line, or a
// VALUE line and its data) from the start of a buffer. Values are read by
// the length their line announces, never by looking for "\r\n" (values may
// hold it). TextWire packs both for a backend templated over its wire.
// Pure: no I/O, no allocation.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace text {

/// The four retrieval commands.
enum class Retrieval : std::uint8_t { get, gets, gat, gats };

/// Longest `get`/`gets` line encode_get_many writes before it starts
/// another command (memcached takes longer ones; proxies and hosted
/// services cap them, e.g. 16 KB).
inline constexpr std::size_t kMaxGetLine = 8192;
/// Longest `gat`/`gats` line: memcached closes a connection whose command
/// line passes 2048 bytes (1024 in its proxy) unless it starts "get " or "gets ".
inline constexpr std::size_t kMaxTouchLine = 1024;

namespace detail {
inline std::string_view retrieval_name(Retrieval cmd) noexcept {
  switch (cmd) {
    case Retrieval::gets: return "gets";
    case Retrieval::gat: return "gat";
    case Retrieval::gats: return "gats";
    case Retrieval::get: break;
  }
  return "get";
}
inline std::string_view store_name(StoreMode mode) noexcept {
  switch (mode) {
    case StoreMode::add: return "add";
    case StoreMode::replace: return "replace";
    case StoreMode::append: return "append";
    case StoreMode::prepend: return "prepend";
    case StoreMode::cas: return "cas";
    case StoreMode::set: break;
  }
  return "set";
}
/// "<name>" or "<name> <exptime>" at p.
inline char* retrieval_prefix(char* p, Retrieval cmd, std::int64_t exptime) noexcept {
  p = ascii::write(p, retrieval_name(cmd));
  if (cmd == Retrieval::gat || cmd == Retrieval::gats) {
    *p++ = ' ';
    p = ascii::write_i64(p, exptime);
  }
  return p;
}
inline char* end_line(char* p, bool noreply) noexcept {
  if (noreply) p = ascii::write(p, " noreply");
  *p++ = '\r';
  *p++ = '\n';
  return p;
}
inline std::size_t length(const char* begin, const char* end) noexcept {
  return static_cast<std::size_t>(end - begin);
}
}  // namespace detail

/// Room a command head needs for a key (or stats group) of key_size bytes.
inline constexpr std::size_t head_bound(std::size_t key_size) noexcept { return key_size + kHeadSlack; }

/// `get|gets <key>\r\n` or `gat|gats <exptime> <key>\r\n`.
inline std::size_t encode_get(char* dst, Retrieval cmd, std::string_view key, std::int64_t exptime = 0) noexcept {
  if (cmd == Retrieval::get) {  // the common case, with a few word moves (dst has head_bound's slack)
    std::memcpy(dst, "get ", 4);
    protocol::detail::copy_bytes(dst + 4, key.data(), key.size());
    std::memcpy(dst + 4 + key.size(), "\r\n", 2);
    return 4 + key.size() + 2;
  }
  char* p = detail::retrieval_prefix(dst, cmd, exptime);
  *p++ = ' ';
  p = ascii::write(p, key);
  return detail::length(dst, detail::end_line(p, false));
}

/// Reads n keys (key_at(i) -> string_view) with as few commands as fit
/// max_line bytes each (gat/gats at most kMaxTouchLine); each command ends
/// with its own END reply. Returns the number of commands written.
template <class Out, class KeyAt>
inline std::size_t encode_get_many(Out& out, Retrieval cmd, std::size_t n, KeyAt&& key_at, std::int64_t exptime = 0,
                                   std::size_t max_line = kMaxGetLine);

/// Room encode_get_many_run needs for n keys of key_bytes bytes in all,
/// for a command whose prefix ("get", "gats 60", ...) has prefix_size
/// bytes (at most 25: "gats " and a 20-byte exptime).
inline constexpr std::size_t get_many_bound(std::size_t n, std::size_t key_bytes, std::size_t prefix_size = 25) noexcept {
  return key_bytes + n * (1 + prefix_size + 2);  // each key may open a line of its own
}

/// encode_get_many's bytes written straight into dst (get_many_bound bytes
/// for the keys, of key_bytes bytes in all): the same lines, without a
/// capacity check per key, nor a line check when all fit on one.
/// Returns the bytes written; commands is set to the number of commands.
template <class KeyAt>
inline std::size_t encode_get_many_run(char* dst, std::size_t& commands, Retrieval cmd, std::size_t n, KeyAt&& key_at,
                                       std::size_t key_bytes, std::int64_t exptime = 0,
                                       std::size_t max_line = kMaxGetLine) {
  if ((cmd == Retrieval::gat || cmd == Retrieval::gats) && max_line > kMaxTouchLine) max_line = kMaxTouchLine;
  char prefix[32];
  const std::size_t prefix_size = detail::length(prefix, detail::retrieval_prefix(prefix, cmd, exptime));
  char* w = dst;
  if (n != 0 && prefix_size + n + key_bytes + 2 <= max_line) {  // one line
    std::memcpy(w, prefix, prefix_size);
    w += prefix_size;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view key = key_at(i);
      *w = ' ';
      protocol::detail::copy_bytes(w + 1, key.data(), key.size());
      w += 1 + key.size();
    }
    std::memcpy(w, "\r\n", 2);
    commands = 1;
    return static_cast<std::size_t>(w + 2 - dst);
  }
  commands = 0;
  std::size_t line = 0;  // bytes of the open command line, 0 when none is open
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view key = key_at(i);
    if (line != 0 && line + 1 + key.size() + 2 > max_line) {
      std::memcpy(w, "\r\n", 2);
      w += 2;
      line = 0;
    }
    if (line == 0) {
      std::memcpy(w, prefix, prefix_size);
      w += prefix_size;
      line = prefix_size;
      ++commands;
    }
    *w = ' ';
    protocol::detail::copy_bytes(w + 1, key.data(), key.size());
    w += 1 + key.size();
    line += 1 + key.size();
  }
  if (line != 0) {
    std::memcpy(w, "\r\n", 2);
    w += 2;
  }
  return static_cast<std::size_t>(w - dst);
}

template <class Out, class KeyAt>
inline std::size_t encode_get_many(Out& out, Retrieval cmd, std::size_t n, KeyAt&& key_at, std::int64_t exptime,
                                   std::size_t max_line) {
  std::size_t key_bytes = 0;
  for (std::size_t i = 0; i < n; ++i) key_bytes += key_at(i).size();
  std::size_t commands = 0;
  protocol::detail::append_head(out, get_many_bound(n, key_bytes), [&](char* dst) {
    return encode_get_many_run(dst, commands, cmd, n, key_at, key_bytes, exptime, max_line);
  });
  return commands;
}

/// `set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]\r\n`,
/// or `cas ... <bytes> <cas> [noreply]\r\n`; the data and "\r\n" follow.
inline std::size_t encode_store_head(char* dst, StoreMode mode, std::string_view key, std::uint32_t flags,
                                     std::int64_t exptime, std::size_t bytes, std::uint64_t cas = 0,
                                     bool noreply = false) noexcept {
  char* p = ascii::write(dst, detail::store_name(mode));
  *p++ = ' ';
  p = ascii::write(p, key);
  *p++ = ' ';
  p = ascii::write_u64(p, flags);
  *p++ = ' ';
  p = ascii::write_i64(p, exptime);
  *p++ = ' ';
  p = ascii::write_u64(p, bytes);
  if (mode == StoreMode::cas) {
    *p++ = ' ';
    p = ascii::write_u64(p, cas);
  }
  return detail::length(dst, detail::end_line(p, noreply));
}

/// A whole storage command: head, data, "\r\n".
template <class Out>
inline void encode_store(Out& out, StoreMode mode, std::string_view key, std::string_view value, std::uint32_t flags,
                         std::int64_t exptime, std::uint64_t cas = 0, bool noreply = false) {
  protocol::detail::append_head(out, head_bound(key.size()), [&](char* dst) {
    return encode_store_head(dst, mode, key, flags, exptime, value.size(), cas, noreply);
  });
  out.append(value.data(), value.size());
  out.append(kDataEnd.data(), kDataEnd.size());
}

/// `delete <key> [noreply]\r\n`.
inline std::size_t encode_delete(char* dst, std::string_view key, bool noreply = false) noexcept {
  char* p = ascii::write(dst, "delete ");
  p = ascii::write(p, key);
  return detail::length(dst, detail::end_line(p, noreply));
}

/// `incr|decr <key> <delta> [noreply]\r\n`.
inline std::size_t encode_arith(char* dst, bool decrement, std::string_view key, std::uint64_t delta,
                                bool noreply = false) noexcept {
  char* p = ascii::write(dst, decrement ? "decr " : "incr ");
  p = ascii::write(p, key);
  *p++ = ' ';
  p = ascii::write_u64(p, delta);
  return detail::length(dst, detail::end_line(p, noreply));
}

/// `touch <key> <exptime> [noreply]\r\n`.
inline std::size_t encode_touch(char* dst, std::string_view key, std::int64_t exptime, bool noreply = false) noexcept {
  char* p = ascii::write(dst, "touch ");
  p = ascii::write(p, key);
  *p++ = ' ';
  p = ascii::write_i64(p, exptime);
  return detail::length(dst, detail::end_line(p, noreply));
}

/// `flush_all\r\n`, or `flush_all <delay>\r\n` when delay > 0.
inline std::size_t encode_flush_all(char* dst, std::int64_t delay = 0) noexcept {
  char* p = ascii::write(dst, "flush_all");
  if (delay > 0) {
    *p++ = ' ';
    p = ascii::write_i64(p, delay);
  }
  return detail::length(dst, detail::end_line(p, false));
}

/// `version\r\n`.
inline std::size_t encode_version(char* dst) noexcept { return detail::length(dst, ascii::write(dst, "version\r\n")); }

/// `stats\r\n`, or `stats <group>\r\n` (dst has head_bound(group.size()) bytes).
inline std::size_t encode_stats(char* dst, std::string_view group = {}) noexcept {
  char* p = ascii::write(dst, "stats");
  if (!group.empty()) {
    *p++ = ' ';
    p = ascii::write(p, group);
  }
  return detail::length(dst, detail::end_line(p, false));
}

/// The authfile login (`memcached -Y`): a `set` whose data is
/// "<user> <password>", sent alone on a new connection; STORED means logged in.
/// Its exptime is -1, so that a server without an authfile, which stores
/// it as an ordinary item, drops it at once.
template <class Out>
inline void encode_login(Out& out, std::string_view user, std::string_view password) {
  char head[64];
  const std::size_t n =
      encode_store_head(head, StoreMode::set, "cachekit:login", 0, -1, user.size() + 1 + password.size());
  out.append(head, n);
  out.append(user.data(), user.size());
  out.append(" ", 1);
  out.append(password.data(), password.size());
  out.append(kDataEnd.data(), kDataEnd.size());
}

namespace detail {
inline bool is(std::string_view line, std::string_view word) noexcept { return line == word; }

/// `VALUE <key> <flags> <bytes> [<cas>]` (line without "VALUE ") and its data.
inline Decoded decode_value(const char* data, std::size_t n, std::string_view line, std::string_view rest, ServerReply& r,
                            const Limits& lim) noexcept {
  r.kind = ReplyKind::value;
  r.key = ascii::next_token(rest);
  const std::string_view flags = ascii::next_token(rest);
  const std::string_view bytes = ascii::next_token(rest);
  const std::string_view cas = ascii::next_token(rest);
  if (r.key.empty() || bytes.empty()) return Decoded::bad("VALUE line with too few fields");
  if (!ascii::next_token(rest).empty()) return Decoded::bad("VALUE line with too many fields");
  if (!ascii::parse_u32(flags, r.flags)) return Decoded::bad("VALUE flags not a 32-bit number");
  std::uint64_t size = 0;
  if (!ascii::parse_u64(bytes, size)) return Decoded::bad("VALUE length not a number");
  if (!cas.empty()) {
    if (!ascii::parse_u64(cas, r.cas)) return Decoded::bad("VALUE cas not a 64-bit number");
    r.set(Field::cas);
  }
  r.fields |= static_cast<std::uint32_t>(Field::key) | static_cast<std::uint32_t>(Field::flags);
  Decoded d;
  ascii::take_data(data, n, line.size(), size, lim, r.value, d);
  return d;
}
/// The common hit, `VALUE <key> <flags> <bytes> [<cas>]` (the line of
/// line bytes at data, already found) with single spaces and numbers of at
/// most 19 digits, and its data, all among the n bytes, decoded in one
/// pass. false for anything else (the full decoder then judges it); when
/// true, r and d are what it would give.
CACHEKIT_HOT_INLINE bool decode_value_fast(const char* data, std::size_t n, std::size_t line, ServerReply& r,
                                           const Limits& lim, Decoded& d) noexcept {
  const char* const key = data + 6;  // after "VALUE "
  const char* p = ascii::scan_token(key, data + line + 1);
  if (p == key || *p != ' ') return false;
  const std::size_t key_size = static_cast<std::size_t>(p - key);
  std::uint64_t flags = 0, size = 0, cas = 0;
  p = ascii::scan_digits(p + 1, flags);
  if (p == nullptr || flags > UINT32_MAX || *p != ' ') return false;
  p = ascii::scan_digits(p + 1, size);
  if (p == nullptr) return false;
  const bool has_cas = *p == ' ';
  if (has_cas && (p = ascii::scan_digits(p + 1, cas)) == nullptr) return false;
  if (p != data + line || size > lim.max_value) return false;
  const std::size_t start = line + 2;
  if (size > n - start || n - start - static_cast<std::size_t>(size) < 2) return false;
  const std::size_t total = start + static_cast<std::size_t>(size) + 2;
  if (data[total - 2] != '\r' || data[total - 1] != '\n') return false;
  r.clear();
  r.kind = ReplyKind::value;
  r.fields = static_cast<std::uint32_t>(Field::key) | static_cast<std::uint32_t>(Field::flags) |
             (has_cas ? static_cast<std::uint32_t>(Field::cas) : 0u);
  r.flags = static_cast<std::uint32_t>(flags);
  r.cas = cas;
  r.key = std::string_view(key, key_size);
  r.value = std::string_view(data + start, static_cast<std::size_t>(size));
  d = Decoded::done(total);
  return true;
}
}  // namespace detail

namespace detail {
/// The full decoder, for the line (found at data) of any reply: every form,
/// every check. decode() tries the common hit in one pass first.
CACHEKIT_COLD_NOINLINE Decoded decode_line(const char* data, std::size_t n, std::string_view line, ServerReply& r,
                                           const Limits& lim) noexcept {
  r.clear();
  const std::size_t whole = line.size() + 2;
  if (line.size() > 6 && protocol::detail::starts_with(line.data(), "VALUE ")) {
    return detail::decode_value(data, n, line, line.substr(6), r, lim);
  }
  while (!line.empty() && line.back() == ' ') {
    line.remove_suffix(1);
    r.set(Field::trailing_space);
  }
  if (line.empty()) return Decoded::bad("empty reply line");
  const auto kind = [&](ReplyKind k) {
    r.kind = k;
    return Decoded::done(whole);
  };
  switch (line[0]) {
    case 'E':
      if (detail::is(line, "END")) return kind(ReplyKind::end);
      if (detail::is(line, "EXISTS")) return kind(ReplyKind::exists);
      break;
    case 'S':
      if (detail::is(line, "STORED")) return kind(ReplyKind::stored);
      if (line.size() > 5 && line.compare(0, 5, "STAT ") == 0) {
        std::string_view rest = line.substr(5);
        r.text = ascii::next_token(rest);
        if (r.text.empty()) return Decoded::bad("STAT line without a name");
        if (!rest.empty()) rest.remove_prefix(1);
        r.value = rest;
        return kind(ReplyKind::stat);
      }
      break;
    case 'N':
      if (detail::is(line, "NOT_STORED")) return kind(ReplyKind::not_stored);
      if (detail::is(line, "NOT_FOUND")) return kind(ReplyKind::not_found);
      break;
    case 'D':
      if (detail::is(line, "DELETED")) return kind(ReplyKind::deleted);
      break;
    case 'T':
      if (detail::is(line, "TOUCHED")) return kind(ReplyKind::touched);
      break;
    case 'O':
      if (detail::is(line, "OK")) return kind(ReplyKind::ok);
      break;
    case 'V':
      if (line.size() > 8 && line.compare(0, 8, "VERSION ") == 0) {
        r.text = line.substr(8);
        return kind(ReplyKind::version);
      }
      break;
    default:
      if (line[0] >= '0' && line[0] <= '9') {
        if (!ascii::parse_u64(line, r.number)) return Decoded::bad("number reply not a 64-bit number");
        return kind(ReplyKind::number);
      }
      break;
  }
  if (ascii::decode_error_line(line, r)) return Decoded::done(whole);
  if (line.size() >= 5 && line.compare(0, 5, "VALUE") == 0) return Decoded::bad("VALUE line with too few fields");
  return Decoded::bad("unknown text reply line");
}
}  // namespace detail

/// Decodes the reply at the start of data (n bytes) into r: a VALUE line
/// and its data, or one line. need_more for any proper prefix of a reply.
inline Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
  Decoded d;
  std::string_view line;
  if (!ascii::take_line(data, n, lim, line, d)) return d;
  // The replies of a get first.
  if (line.size() > 6 && protocol::detail::starts_with(data, "VALUE ") &&
      detail::decode_value_fast(data, n, line.size(), r, lim, d)) {
    return d;
  }
  if (line.size() == 3 && protocol::detail::starts_with(data, "END")) {
    r.clear();
    r.kind = ReplyKind::end;
    return Decoded::done(5);
  }
  return detail::decode_line(data, n, line, r, lim);
}

namespace detail {
/// Whether data starts with `VALUE <key> `, of which the caller knows that
/// key.size() + 7 bytes can be read.
CACHEKIT_HOT_INLINE bool names_key(const char* data, std::string_view key) noexcept {
  return protocol::detail::starts_with(data, "VALUE ") &&
         protocol::detail::same_bytes(data + 6, key.data(), key.size()) && data[6 + key.size()] == ' ';
}
/// Whether the n bytes at data start with `VALUE <key> ` and hold at least
/// key.size() + least bytes in all (the shortest reply the caller reads).
CACHEKIT_HOT_INLINE bool names_key(const char* data, std::size_t n, std::string_view key, std::size_t least) noexcept {
  return n >= key.size() + least && names_key(data, key);
}
}  // namespace detail

namespace detail {
/// The end of a hit whose header (flags f, size) ends with the "\r\n" at
/// p: its data and the "\r\n" after it (with kEnd `\r\nEND\r\n`, in one
/// comparison) must lie among the n bytes at data. Returns the bytes of it
/// all, or 0.
template <bool kEnd>
CACHEKIT_HOT_INLINE std::size_t value_after_head(const char* data, std::size_t n, const char* p, std::uint64_t f,
                                                 std::uint64_t size, std::uint32_t& flags,
                                                 std::string_view& value) noexcept {
  const std::size_t head = static_cast<std::size_t>(p + 2 - data);
  if constexpr (kEnd) {
    if (n - head < size + 7 || !protocol::detail::starts_with(data + head + size, "\r\nEND\r\n")) return 0;
  } else {
    if (n - head < size + 2 || !protocol::detail::starts_with(data + head + size, "\r\n")) return 0;
  }
  flags = static_cast<std::uint32_t>(f);
  value = std::string_view(data + head, static_cast<std::size_t>(size));
  return head + static_cast<std::size_t>(size) + (kEnd ? 7 : 2);
}
}  // namespace detail

/// decode_value_rest when n >= key_size + 32. Flags and sizes of up to
/// seven digits are read with no bound checked: every byte read lies in the
/// 17 after `VALUE <key> ` (flags digits, a space by the 8th, size digits
/// from the 9th at most, "\r\n" by the 17th). A longer number gives 0, and
/// the full decoder judges the reply.
template <bool kEnd = false>
CACHEKIT_HOT_INLINE std::size_t decode_value_wide(const char* data, std::size_t key_size, std::size_t max_value,
                                                  std::size_t n, std::uint32_t& flags,
                                                  std::string_view& value) noexcept {
  std::uint64_t f = 0, size = 0;
  const char* p;
  if (protocol::detail::starts_with(data + 7 + key_size, "0 ")) {  // flags 0, the common case, in one comparison
    p = data + 8 + key_size;
  } else {
    p = ascii::scan_short_digits(data + 7 + key_size, f);
    if (p == nullptr || *p != ' ') return 0;
  }
  p = ascii::scan_short_digits(p + 1, size);
  if (p == nullptr || !protocol::detail::starts_with(p, "\r\n") || size > max_value) return 0;
  return detail::value_after_head<kEnd>(data, n, p, f, size, flags, value);
}

/// decode_value_hit after its `VALUE <key> ` (key_size bytes of key) has
/// been matched by the caller, who checked that n >= key_size + 13. With
/// kEnd, the data must be followed by `END\r\n` too, which is then taken.
template <bool kEnd = false>
CACHEKIT_HOT_INLINE std::size_t decode_value_rest(const char* data, std::size_t n, std::size_t key_size,
                                                  std::size_t max_value, std::uint32_t& flags,
                                                  std::string_view& value) noexcept {
  if (n - key_size >= 32) return decode_value_wide<kEnd>(data, key_size, max_value, n, flags, value);
  std::uint64_t f = 0, size = 0;
  const char* end = data + n;
  const char* p = ascii::scan_digits_before(data + 7 + key_size, end, f);
  if (p == nullptr || *p != ' ' || f > UINT32_MAX) return 0;
  p = ascii::scan_digits_before(p + 1, end, size);
  if (p == nullptr || end - p < 2 || p[0] != '\r' || p[1] != '\n' || size > max_value) return 0;
  return detail::value_after_head<kEnd>(data, n, p, f, size, flags, value);
}

/// A hit `VALUE <key> <flags> <bytes>\r\n<data>\r\n` for exactly key, whole
/// among the n bytes (single spaces, numbers of at most 19 digits);
/// returns the bytes it took, or 0 for anything else (another key, or any
/// other form: the full decoder judges it).
CACHEKIT_HOT_INLINE std::size_t decode_value_hit(const char* data, std::size_t n, std::size_t max_value,
                                                 std::string_view key, std::uint32_t& flags,
                                                 std::string_view& value) noexcept {
  if (!detail::names_key(data, n, key, 13)) return 0;
  return decode_value_rest(data, n, key.size(), max_value, flags, value);
}

/// The whole reply to a one-key get that hit: decode_value_hit's hit
/// followed by `END\r\n`; returns the bytes of both, or 0 for anything
/// else (a miss's lone END among it: see starts_with_end).
CACHEKIT_HOT_INLINE std::size_t decode_get_hit(const char* data, std::size_t n, std::size_t max_value,
                                               std::string_view key, std::uint32_t& flags,
                                               std::string_view& value) noexcept {
  if (!detail::names_key(data, n, key, 18)) return 0;
  return decode_value_rest<true>(data, n, key.size(), max_value, flags, value);
}

/// Whether the n bytes at data start with `END\r\n`.
CACHEKIT_HOT_INLINE bool starts_with_end(const char* data, std::size_t n) noexcept {
  return n >= 5 && protocol::detail::starts_with(data, "END\r\n");
}

}  // namespace text

/// memcached's classic text protocol as a wire (see wire.hpp).
struct TextWire {
  static constexpr const char* name = "text";
  using Reply = ServerReply;
  static constexpr bool has_quiet_get = false;       ///< no quiet read; a miss has no reply line anyway
  static constexpr bool has_quiet_store = false;     ///< only noreply, which hides failures too
  static constexpr bool has_opaque = false;          ///< replies are matched by order (and a VALUE's key)
  static constexpr bool has_cas = true;              ///< gets, cas
  static constexpr bool has_lease = false;           ///< no vivify-on-miss, recache, stale (W/X/Z)
  static constexpr bool has_noop = false;            ///< batches end with END per get command
  static constexpr bool has_multi_key_get = true;    ///< get k1 k2 ...
  static constexpr bool has_counter_create = false;  ///< incr on a missing key is NOT_FOUND
  static constexpr bool has_counter_ttl = false;

  static constexpr std::size_t head_bound(std::size_t key_size) noexcept { return text::head_bound(key_size); }

  /// get, gets, gat or gats of one key (opaque, quiet and return_key do not apply).
  static std::size_t encode_get(char* dst, const GetRequest& r) noexcept {
    const text::Retrieval cmd = r.touch ? (r.cas ? text::Retrieval::gats : text::Retrieval::gat)
                                        : (r.cas ? text::Retrieval::gets : text::Retrieval::get);
    return text::encode_get(dst, cmd, r.key, r.exptime);
  }
  /// A storage command head; quiet means noreply.
  static std::size_t encode_store_head(char* dst, const StoreRequest& r) noexcept {
    return text::encode_store_head(dst, r.mode, r.key, r.flags, r.exptime, r.value_size, r.cas, r.quiet);
  }
  static std::size_t encode_delete(char* dst, std::string_view key, std::uint32_t /*opaque*/, bool quiet) noexcept {
    return text::encode_delete(dst, key, quiet);
  }
  /// incr/decr; create, initial and exptime do not apply (has_counter_create).
  static std::size_t encode_counter(char* dst, const CounterRequest& r) noexcept {
    return text::encode_arith(dst, r.decrement, r.key, r.delta, r.quiet);
  }
  static std::size_t encode_touch(char* dst, std::string_view key, std::int64_t exptime,
                                  std::uint32_t /*opaque*/) noexcept {
    return text::encode_touch(dst, key, exptime);
  }
  static std::size_t encode_flush_all(char* dst, std::int64_t delay) noexcept {
    return text::encode_flush_all(dst, delay);
  }
  static std::size_t encode_version(char* dst) noexcept { return text::encode_version(dst); }
  static std::size_t encode_stats(char* dst, std::string_view group) noexcept { return text::encode_stats(dst, group); }
  template <class Out>
  static void encode_login(Out& out, std::string_view user, std::string_view password) {
    text::encode_login(out, user, password);
  }
  static Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
    return text::decode(data, n, r, lim);
  }
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/protocol/text.hpp ----

// ---- begin cachekit/protocol/meta.hpp ----
// memcached's meta protocol (1.6.10 and later): encoders for mg, ms, md, ma,
// mn and me writing into a caller's buffer, and a reply decoder for VA, HD,
// EN, NS, EX, NF, MN, ME and the error lines, with the returned flags
// parsed. Values are read by the length in `VA <size>`, never by looking for
// "\r\n". Flags are written in an order that gives the documented answers:
// modifiers (N, R, T) before `t`, so a vivified miss reports the new TTL.
// MetaWire packs both for a backend templated over its wire.
// Pure: no I/O, no allocation.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace meta {

/// Room a command head needs for a key of key_size bytes.
inline constexpr std::size_t head_bound(std::size_t key_size) noexcept { return key_size + kHeadSlack; }

/// mg: what to return, and how to modify the item.
struct GetOptions {
  bool value = true;         ///< v: the data (VA instead of HD)
  bool client_flags = true;  ///< f
  bool key = false;          ///< k
  bool cas = false;          ///< c
  bool ttl = false;          ///< t: seconds left (-1: never expires)
  bool size = false;         ///< s
  bool hit_before = false;   ///< h
  bool last_access = false;  ///< l
  bool no_lru_bump = false;  ///< u
  bool base64_key = false;   ///< b: the key is base64
  bool quiet = false;        ///< q: no EN on a miss
  std::optional<std::int64_t> vivify;   ///< N<ttl>: create an empty item on a miss (the caller wins, W)
  std::optional<std::int64_t> recache;  ///< R<ttl>: win the recache when fewer seconds are left
  std::optional<std::int64_t> touch;    ///< T<ttl>: update the TTL
  std::uint32_t opaque = 0;             ///< O<opaque> when non-zero
};

/// ms: how to store.
struct SetOptions {
  StoreMode mode = StoreMode::set;            ///< M (E add, R replace, A append, P prepend); cas: set with C
  std::uint32_t client_flags = 0;             ///< F (written when non-zero)
  std::optional<std::int64_t> ttl;            ///< T
  std::optional<std::uint64_t> compare_cas;   ///< C (always written for mode cas)
  bool invalidate = false;                    ///< I: with C, an older CAS marks the item stale
  std::optional<std::int64_t> vivify;         ///< N<ttl>: append/prepend to a missing item creates it
  bool return_cas = false;                    ///< c
  bool return_key = false;                    ///< k
  bool base64_key = false;                    ///< b
  bool quiet = false;                         ///< q: no HD on success
  std::uint32_t opaque = 0;                   ///< O<opaque> when non-zero
};

/// md: how to delete.
struct DeleteOptions {
  std::optional<std::uint64_t> compare_cas;  ///< C
  bool invalidate = false;                   ///< I: mark stale instead of removing
  std::optional<std::int64_t> ttl;           ///< T (with I)
  bool return_key = false;                   ///< k
  bool base64_key = false;                   ///< b
  bool quiet = false;                        ///< q: no HD on success
  std::uint32_t opaque = 0;                  ///< O<opaque> when non-zero
};

/// ma: increment or decrement.
struct ArithOptions {
  bool decrement = false;                    ///< MD (incr is the default mode)
  std::uint64_t delta = 1;                   ///< D
  std::optional<std::int64_t> vivify;        ///< N<ttl>: create on a miss...
  std::uint64_t initial = 0;                 ///< ...with J<initial>
  std::optional<std::int64_t> ttl;           ///< T: update the TTL on success
  std::optional<std::uint64_t> compare_cas;  ///< C
  bool value = true;                         ///< v: the new value (VA)
  bool return_ttl = false;                   ///< t
  bool return_cas = false;                   ///< c
  bool return_key = false;                   ///< k
  bool base64_key = false;                   ///< b
  bool quiet = false;                        ///< q: no HD on success
  std::uint32_t opaque = 0;                  ///< O<opaque> when non-zero
};

namespace detail {
inline char* flag(char* p, char f) noexcept {
  *p++ = ' ';
  *p++ = f;
  return p;
}
inline char* flag_i64(char* p, char f, std::int64_t v) noexcept { return ascii::write_i64(flag(p, f), v); }
inline char* flag_u64(char* p, char f, std::uint64_t v) noexcept { return ascii::write_u64(flag(p, f), v); }
inline char* command(char* p, std::string_view name, std::string_view key) noexcept {
  p = ascii::write(p, name);
  *p++ = ' ';
  return ascii::write(p, key);
}
/// O<opaque> and q come last; then the line end.
inline std::size_t finish(char* dst, char* p, std::uint32_t opaque, bool quiet) noexcept {
  if (opaque != 0) p = flag_u64(p, 'O', opaque);
  if (quiet) p = flag(p, 'q');
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<std::size_t>(p - dst);
}
inline char mode_letter(StoreMode mode) noexcept {
  switch (mode) {
    case StoreMode::add: return 'E';
    case StoreMode::replace: return 'R';
    case StoreMode::append: return 'A';
    case StoreMode::prepend: return 'P';
    case StoreMode::set:
    case StoreMode::cas: break;
  }
  return 'S';
}
}  // namespace detail

/// `mg <key> <flags>*\r\n`: b v f k c s h l u, then N R T, then t, O, q.
inline std::size_t encode_mg(char* dst, std::string_view key, const GetOptions& o) noexcept {
  char* p = detail::command(dst, "mg", key);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.value) p = detail::flag(p, 'v');
  if (o.client_flags) p = detail::flag(p, 'f');
  if (o.key) p = detail::flag(p, 'k');
  if (o.cas) p = detail::flag(p, 'c');
  if (o.size) p = detail::flag(p, 's');
  if (o.hit_before) p = detail::flag(p, 'h');
  if (o.last_access) p = detail::flag(p, 'l');
  if (o.no_lru_bump) p = detail::flag(p, 'u');
  if (o.vivify) p = detail::flag_i64(p, 'N', *o.vivify);
  if (o.recache) p = detail::flag_i64(p, 'R', *o.recache);
  if (o.touch) p = detail::flag_i64(p, 'T', *o.touch);
  if (o.ttl) p = detail::flag(p, 't');  // after N and T: reports the TTL they set
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// `ms <key> <datalen> <flags>*\r\n`: b T F C I M N c k O q; the data and "\r\n" follow.
inline std::size_t encode_ms_head(char* dst, std::string_view key, std::size_t datalen, const SetOptions& o) noexcept {
  char* p = detail::command(dst, "ms", key);
  *p++ = ' ';
  p = ascii::write_u64(p, datalen);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.ttl) p = detail::flag_i64(p, 'T', *o.ttl);
  if (o.client_flags != 0) p = detail::flag_u64(p, 'F', o.client_flags);
  if (o.compare_cas || o.mode == StoreMode::cas) p = detail::flag_u64(p, 'C', o.compare_cas.value_or(0));
  if (o.invalidate) p = detail::flag(p, 'I');
  const char mode = detail::mode_letter(o.mode);
  if (mode != 'S') {
    p = detail::flag(p, 'M');
    *p++ = mode;
  }
  if (o.vivify) p = detail::flag_i64(p, 'N', *o.vivify);
  if (o.return_cas) p = detail::flag(p, 'c');
  if (o.return_key) p = detail::flag(p, 'k');
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// A whole ms command: head, data, "\r\n".
template <class Out>
inline void encode_ms(Out& out, std::string_view key, std::string_view value, const SetOptions& o) {
  protocol::detail::append_head(out, head_bound(key.size()),
                                [&](char* dst) { return encode_ms_head(dst, key, value.size(), o); });
  out.append(value.data(), value.size());
  out.append(kDataEnd.data(), kDataEnd.size());
}

/// `md <key> <flags>*\r\n`: b C I T k O q.
inline std::size_t encode_md(char* dst, std::string_view key, const DeleteOptions& o = DeleteOptions{}) noexcept {
  char* p = detail::command(dst, "md", key);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.compare_cas) p = detail::flag_u64(p, 'C', *o.compare_cas);
  if (o.invalidate) p = detail::flag(p, 'I');
  if (o.ttl) p = detail::flag_i64(p, 'T', *o.ttl);
  if (o.return_key) p = detail::flag(p, 'k');
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// `ma <key> <flags>*\r\n`: b M D N J T C, then v t c k O q.
inline std::size_t encode_ma(char* dst, std::string_view key, const ArithOptions& o) noexcept {
  char* p = detail::command(dst, "ma", key);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.decrement) {
    p = detail::flag(p, 'M');
    *p++ = 'D';
  }
  p = detail::flag_u64(p, 'D', o.delta);
  if (o.vivify) {
    p = detail::flag_i64(p, 'N', *o.vivify);
    p = detail::flag_u64(p, 'J', o.initial);
  }
  if (o.ttl) p = detail::flag_i64(p, 'T', *o.ttl);
  if (o.compare_cas) p = detail::flag_u64(p, 'C', *o.compare_cas);
  if (o.value) p = detail::flag(p, 'v');
  if (o.return_ttl) p = detail::flag(p, 't');
  if (o.return_cas) p = detail::flag(p, 'c');
  if (o.return_key) p = detail::flag(p, 'k');
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// `mn\r\n`: answered with MN once every earlier command on the connection is.
inline std::size_t encode_mn(char* dst) noexcept { return static_cast<std::size_t>(ascii::write(dst, "mn\r\n") - dst); }

/// `me <key>\r\n` (debug: the item's metadata).
inline std::size_t encode_me(char* dst, std::string_view key) noexcept {
  char* p = detail::command(dst, "me", key);
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<std::size_t>(p - dst);
}

namespace detail {
/// `mg <key> v O` at w, the start of every batch read request; returns
/// where the opaque goes.
CACHEKIT_HOT_INLINE char* put_mg_batch_head(char* w, std::string_view key) noexcept {
  std::memcpy(w, "mg ", 3);
  protocol::detail::copy_bytes(w + 3, key.data(), key.size());
  w += 3 + key.size();
  std::memcpy(w, " v O", 4);
  return w + 4;
}
}  // namespace detail

/// One request of a quiet batch read: `mg <key> v O<opaque> q\r\n` (dst
/// has head_bound(key.size()) bytes). The opaque alone names the request a
/// hit answers; the key is not echoed (no `k`): fewer bytes each way and
/// nothing more to compare.
CACHEKIT_HOT_INLINE std::size_t encode_mg_batch(char* dst, std::string_view key, std::uint32_t opaque) noexcept {
  char* p = ascii::write_u64(detail::put_mg_batch_head(dst, key), opaque);
  std::memcpy(p, " q\r\n", 4);
  return static_cast<std::size_t>(p + 4 - dst);
}

/// Room encode_mg_batch_run needs for n keys of key_bytes bytes in all.
inline constexpr std::size_t mg_batch_bound(std::size_t n, std::size_t key_bytes) noexcept {
  return key_bytes + n * (3 + 4 + 10 + 4) + 4 + 16;  // 16: the last opaque is copied as two words
}

namespace detail {
/// "00" to "99", two bytes each: the digit pairs of four-digit opaques.
inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/// encode_mg_batch_run with four-digit opaques, leading zeros included;
/// the last opaque (first_opaque + n - 1) is below 10,000.
template <class KeyAt>
inline std::size_t encode_mg_batch_four(char* dst, std::size_t n, KeyAt& key_at, std::uint32_t first_opaque) {
  char* w = dst;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // The four digits and " q\r\n" as one word, written with one store; the
  // next opaque adds one to the last digit (the word's fourth byte), and
  // only a carry (every tenth key) builds the word again.
  auto word_of = [](std::uint32_t opaque) noexcept {
    char b[8];
    std::memcpy(b, kDigitPairs + 2 * (opaque / 100), 2);
    std::memcpy(b + 2, kDigitPairs + 2 * (opaque % 100), 2);
    std::memcpy(b + 4, " q\r\n", 4);
    std::uint64_t x;
    std::memcpy(&x, b, 8);
    return x;
  };
  constexpr std::uint64_t kLastDigit = std::uint64_t{1} << 24;
  std::uint64_t word = word_of(first_opaque);
  for (std::size_t i = 0; i < n; ++i) {
    w = put_mg_batch_head(w, key_at(i));
    std::memcpy(w, &word, 8);
    w += 8;
    if (((word >> 24) & 0xff) != '9') {
      word += kLastDigit;
    } else {
      word = word_of(first_opaque + static_cast<std::uint32_t>(i) + 1);
    }
  }
#else
  unsigned hi = first_opaque / 100, lo = first_opaque % 100;
  for (std::size_t i = 0; i < n; ++i) {
    w = put_mg_batch_head(w, key_at(i));
    std::memcpy(w, kDigitPairs + 2 * hi, 2);
    std::memcpy(w + 2, kDigitPairs + 2 * lo, 2);
    std::memcpy(w + 4, " q\r\n", 4);
    w += 8;
    if (++lo == 100) {
      lo = 0;
      ++hi;
    }
  }
#endif
  std::memcpy(w, "mn\r\n", 4);
  return static_cast<std::size_t>(w + 4 - dst);
}
}  // namespace detail

/// Pipelined multi-get into dst (mg_batch_bound bytes): encode_mg_batch
/// per key with opaques first_opaque + i, then `mn`. Returns the bytes
/// written. While the last opaque is below 10,000 each is written as four
/// digits (`O0042`: leading zeros, read back as the same number) from a
/// table of digit pairs, which decode_batch_hit reads in one step;
/// otherwise in plain decimal, counted up a digit at a time. Hits come back
/// (at once, not at the mn) with their opaque; misses send nothing; MN ends
/// the batch.
template <class KeyAt>
inline std::size_t encode_mg_batch_run(char* dst, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque) {
  if (n <= 10000 && first_opaque <= 10000 - n) return detail::encode_mg_batch_four(dst, n, key_at, first_opaque);
  char* w = dst;
  char digits[16] = {};
  std::size_t nd = static_cast<std::size_t>(ascii::write_u64(digits, first_opaque) - digits);
  for (std::size_t i = 0; i < n; ++i) {
    w = detail::put_mg_batch_head(w, key_at(i));
    std::memcpy(w, digits, 16);  // at most 10 digits; the rest is written over next
    w += nd;
    std::memcpy(w, " q\r\n", 4);
    w += 4;
    // The next opaque, one decimal digit at a time.
    std::size_t d = nd;
    while (d > 0 && digits[d - 1] == '9') digits[--d] = '0';
    if (d > 0) {
      ++digits[d - 1];
    } else {
      std::memmove(digits + 1, digits, nd++);
      digits[0] = '1';
    }
  }
  std::memcpy(w, "mn\r\n", 4);
  return static_cast<std::size_t>(w + 4 - dst);
}

/// The same requests appended to out (any buffer with append(const char*, size_t)).
template <class Out, class KeyAt>
inline void encode_mg_pipeline(Out& out, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view key = key_at(i);
    protocol::detail::append_head(out, head_bound(key.size()), [&](char* dst) {
      return encode_mg_batch(dst, key, first_opaque + static_cast<std::uint32_t>(i));
    });
  }
  out.append("mn\r\n", 4);
}

/// `mg <key> v\r\n`, the plain read of a value (dst has head_bound(key.size()) bytes).
inline std::size_t encode_mg_value(char* dst, std::string_view key) noexcept {
  std::memcpy(dst, "mg ", 3);
  protocol::detail::copy_bytes(dst + 3, key.data(), key.size());
  std::memcpy(dst + 3 + key.size(), " v\r\n", 4);
  return key.size() + 7;
}

/// The reply to encode_mg_value in its common form, whole among the n
/// bytes: `VA <size>\r\n<data>\r\n` (hit set, value viewed) or `EN\r\n`
/// (hit cleared); returns the bytes it took. 0 for anything else, which the
/// full decoder then judges (it gives the same reading for what this takes).
CACHEKIT_HOT_INLINE std::size_t decode_value_reply(const char* data, std::size_t n, std::size_t max_value,
                                                   std::string_view& value, bool& hit) noexcept {
  if (n < 4) return 0;
  if (protocol::detail::starts_with(data, "EN\r\n")) {
    hit = false;
    return 4;
  }
  if (!protocol::detail::starts_with(data, "VA ")) return 0;
  std::uint64_t size = 0;
  const char* end = data + n;
  const char* p = ascii::scan_digits_before(data + 3, end, size);
  if (p == nullptr || end - p < 2 || p[0] != '\r' || p[1] != '\n' || size > max_value) return 0;
  const std::size_t head = static_cast<std::size_t>(p + 2 - data);
  if (n - head < size + 2 || data[head + size] != '\r' || data[head + size + 1] != '\n') return 0;
  value = std::string_view(data + head, static_cast<std::size_t>(size));
  hit = true;
  return head + static_cast<std::size_t>(size) + 2;
}

/// A batch hit in the form encode_mg_batch asks for, whole among the n
/// bytes: `VA <size> O<opaque>\r\n<data>\r\n` where known(opaque) is true
/// (false when no request had that opaque); returns the bytes it took, or
/// 0 for anything else (the full decoder judges it).
template <class Known>
CACHEKIT_HOT_INLINE std::size_t decode_batch_hit(const char* data, std::size_t n, std::size_t max_value, Known&& known,
                                                 std::string_view& value, std::uint64_t& opaque) noexcept {
  std::uint64_t size = 0;
  const char* p;
  if (n >= 32) {
    if (!protocol::detail::starts_with(data, "VA ")) return 0;
    // Sizes and opaques of up to seven digits: every byte read lies in the
    // first 21 (size digits from byte 3, " O" by byte 11, opaque digits
    // from byte 12 at most, "\r\n" by byte 20; a four-digit opaque's
    // "\r\n" by byte 17), so no bound is checked.
    p = ascii::scan_short_digits(data + 3, size);
    if (p == nullptr || !protocol::detail::starts_with(p, " O") || size > max_value) return 0;
    // Four-digit opaques first (encode_mg_batch_run's form), then any.
    if (protocol::detail::starts_with(p + 6, "\r\n") && ascii::four_digits(p + 2, opaque)) {
      p += 6;
    } else {
      p = ascii::scan_short_digits(p + 2, opaque);
      if (p == nullptr || !protocol::detail::starts_with(p, "\r\n")) return 0;
    }
    if (!known(opaque)) return 0;
  } else {
    if (n < 12 || !protocol::detail::starts_with(data, "VA ")) return 0;
    const char* end = data + n;
    p = ascii::scan_digits_before(data + 3, end, size);
    if (p == nullptr || end - p < 3 || p[0] != ' ' || p[1] != 'O' || size > max_value) return 0;
    p = ascii::scan_digits_before(p + 2, end, opaque);
    if (p == nullptr || end - p < 2 || p[0] != '\r' || p[1] != '\n' || !known(opaque)) return 0;
  }
  const std::size_t head = static_cast<std::size_t>(p + 2 - data);
  if (n - head < size + 2 || !protocol::detail::starts_with(data + head + size, "\r\n")) return 0;
  value = std::string_view(data + head, static_cast<std::size_t>(size));
  return head + static_cast<std::size_t>(size) + 2;
}

/// Whether an opaque token (ServerReply::opaque) is the decimal form of want.
inline bool opaque_is(std::string_view token, std::uint32_t want) noexcept {
  std::uint32_t got = 0;
  return ascii::parse_u32(token, got) && got == want;
}

namespace detail {
/// Parses returned flags (the tokens after the code, or after VA's size).
inline const char* decode_flags(std::string_view rest, ServerReply& r) noexcept {
  for (;;) {
    const std::string_view t = ascii::next_token(rest);
    if (t.empty()) return nullptr;
    const std::string_view arg = t.substr(1);
    switch (t[0]) {
      case 'O':
        r.opaque = arg;
        r.set(Field::opaque);
        break;
      case 'k':
        r.key = arg;
        r.set(Field::key);
        break;
      case 'f':
        if (!ascii::parse_u32(arg, r.flags)) return "meta flag f not a 32-bit number";
        r.set(Field::flags);
        break;
      case 'c':
        if (!ascii::parse_u64(arg, r.cas)) return "meta flag c not a 64-bit number";
        r.set(Field::cas);
        break;
      case 't':
        if (!ascii::parse_i64(arg, r.ttl) || r.ttl < -1) return "meta flag t not a TTL";
        r.set(Field::ttl);
        break;
      case 's':
        if (!ascii::parse_u64(arg, r.size)) return "meta flag s not a 64-bit number";
        r.set(Field::size);
        break;
      case 'l':
        if (!ascii::parse_u32(arg, r.last_access)) return "meta flag l not a 32-bit number";
        r.set(Field::last_access);
        break;
      case 'h':
        if (arg != "0" && arg != "1") return "meta flag h not 0 or 1";
        r.hit_before = arg == "1";
        r.set(Field::hit_before);
        break;
      case 'W': r.set(Field::won); break;
      case 'X': r.set(Field::stale); break;
      case 'Z': r.set(Field::winner_sent); break;
      case 'b': r.set(Field::base64_key); break;
      default:
        // Flags this client does not ask for are skipped; anything else
        // is not a flag at all.
        if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'))) return "meta reply flag is not a letter";
        break;
    }
  }
}

/// The common hit, `VA <size> <flags>*` (the line of line bytes at data,
/// already found) with single spaces, only the flags f, c, s, k and O and
/// numbers of at most 19 digits, and its data, all among the n bytes,
/// decoded in one pass. false for anything else (the full decoder then
/// judges it); when true, r and d are what it would give.
CACHEKIT_HOT_INLINE bool decode_va_fast(const char* data, std::size_t n, std::size_t line, ServerReply& r,
                                        const Limits& lim, Decoded& d) noexcept {
  std::uint64_t size = 0;
  const char* p = ascii::scan_digits(data + 3, size);  // after "VA "; the line's '\r' stops every scan
  if (p == nullptr) return false;
  r.clear();
  while (*p == ' ') {
    const char f = p[1];
    p += 2;
    std::uint64_t v = 0;
    switch (f) {
      case 'f':
        p = ascii::scan_digits(p, v);
        if (p == nullptr || v > UINT32_MAX) return false;
        r.flags = static_cast<std::uint32_t>(v);
        r.set(Field::flags);
        break;
      case 'c':
        if ((p = ascii::scan_digits(p, r.cas)) == nullptr) return false;
        r.set(Field::cas);
        break;
      case 's':
        if ((p = ascii::scan_digits(p, r.size)) == nullptr) return false;
        r.set(Field::size);
        break;
      case 'k': {
        const char* t = ascii::scan_token(p, data + line + 1);
        r.key = std::string_view(p, static_cast<std::size_t>(t - p));
        r.set(Field::key);
        p = t;
        break;
      }
      case 'O': {
        const char* t = ascii::scan_token(p, data + line + 1);
        r.opaque = std::string_view(p, static_cast<std::size_t>(t - p));
        r.set(Field::opaque);
        p = t;
        break;
      }
      default: return false;  // also a space before the line's end
    }
  }
  if (p != data + line || size > lim.max_value) return false;
  const std::size_t start = line + 2;
  if (size > n - start || n - start - static_cast<std::size_t>(size) < 2) return false;
  const std::size_t total = start + static_cast<std::size_t>(size) + 2;
  if (data[total - 2] != '\r' || data[total - 1] != '\n') return false;
  r.kind = ReplyKind::value;
  r.value = std::string_view(data + start, static_cast<std::size_t>(size));
  d = Decoded::done(total);
  return true;
}

inline Decoded with_flags(std::string_view rest, ServerReply& r, ReplyKind kind, std::size_t whole) noexcept {
  r.kind = kind;
  const char* why = decode_flags(rest, r);
  return why == nullptr ? Decoded::done(whole) : Decoded::bad(why);
}
}  // namespace detail

namespace detail {
/// The full decoder, for the line (found at data) of any reply: every form,
/// every check. decode() tries the common hit in one pass first.
CACHEKIT_COLD_NOINLINE Decoded decode_line(const char* data, std::size_t n, std::string_view line, ServerReply& r,
                                           const Limits& lim) noexcept {
  Decoded d;
  r.clear();
  const std::size_t whole = line.size() + 2;
  if (!line.empty() && line.back() == ' ') r.set(Field::trailing_space);
  if (line.size() >= 2 && (line.size() == 2 || line[2] == ' ')) {
    const std::string_view rest = line.substr(2);
    const std::uint16_t code = static_cast<std::uint16_t>((static_cast<unsigned char>(line[0]) << 8) |
                                                          static_cast<unsigned char>(line[1]));
    switch (code) {
      case ('V' << 8) | 'A': {
        std::string_view tail = rest;
        const std::string_view size_token = ascii::next_token(tail);
        std::uint64_t size = 0;
        if (!ascii::parse_u64(size_token, size)) {
          const char first = size_token.empty() ? '0' : size_token[0];
          const bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
          return Decoded::bad(letter ? "VA without a size (the meta dialect before 1.6.10)" : "VA size not a number");
        }
        r.kind = ReplyKind::value;
        if (const char* why = detail::decode_flags(tail, r)) return Decoded::bad(why);
        ascii::take_data(data, n, line.size(), size, lim, r.value, d);
        return d;
      }
      case ('H' << 8) | 'D': return detail::with_flags(rest, r, ReplyKind::ok, whole);
      case ('E' << 8) | 'N': return detail::with_flags(rest, r, ReplyKind::miss, whole);
      case ('N' << 8) | 'S': return detail::with_flags(rest, r, ReplyKind::not_stored, whole);
      case ('E' << 8) | 'X': return detail::with_flags(rest, r, ReplyKind::exists, whole);
      case ('N' << 8) | 'F': return detail::with_flags(rest, r, ReplyKind::not_found, whole);
      case ('M' << 8) | 'N': return detail::with_flags(rest, r, ReplyKind::end, whole);
      case ('O' << 8) | 'K':
        // 1.6.0 to 1.6.9 answer OK where later servers answer HD.
        r.set(Field::legacy);
        return detail::with_flags(rest, r, ReplyKind::ok, whole);
      case ('M' << 8) | 'E': {
        std::string_view tail = rest;
        r.key = ascii::next_token(tail);
        if (r.key.empty()) return Decoded::bad("ME line without a key");
        r.set(Field::key);
        while (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
        r.text = tail;
        r.kind = ReplyKind::debug;
        return Decoded::done(whole);
      }
      default: break;
    }
  }
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  if (ascii::decode_error_line(line, r)) return Decoded::done(whole);
  if (line.empty()) return Decoded::bad("empty reply line");
  return Decoded::bad("unknown meta reply line");
}
}  // namespace detail

/// Decodes the reply at the start of data (n bytes) into r: a VA line and
/// its data, or one line. need_more for any proper prefix of a reply.
inline Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
  Decoded d;
  std::string_view line;
  if (!ascii::take_line(data, n, lim, line, d)) return d;
  // A hit first.
  if (line.size() > 3 && data[0] == 'V' && data[1] == 'A' && data[2] == ' ' &&
      detail::decode_va_fast(data, n, line.size(), r, lim, d)) {
    return d;
  }
  return detail::decode_line(data, n, line, r, lim);
}

/// Whether a reply to a meta command says the server cannot be spoken to
/// in meta: ERROR (before 1.5.19, or a proxy without meta) or the OK of
/// the dialect before 1.6.10. Such a server is spoken to in text. (Only a
/// reply to a meta command tells: flush_all is answered OK by every server.)
inline bool calls_for_text(const ServerReply& r) noexcept { return r.kind == ReplyKind::error || r.has(Field::legacy); }

}  // namespace meta

/// memcached's meta protocol as a wire (see wire.hpp). flush_all, version,
/// stats and the authfile login have no meta form: they are sent as text
/// commands, which a meta server also reads.
struct MetaWire {
  static constexpr const char* name = "meta";
  using Reply = ServerReply;
  static constexpr bool has_quiet_get = true;       ///< mg q: misses send nothing
  static constexpr bool has_quiet_store = true;     ///< ms/md/ma q: only failures reply
  static constexpr bool has_opaque = true;          ///< O<n> echoed on every reply but error lines
  static constexpr bool has_cas = true;
  static constexpr bool has_lease = true;           ///< N, R, W/X/Z
  static constexpr bool has_noop = true;            ///< mn -> MN
  static constexpr bool has_multi_key_get = false;  ///< one mg per key, pipelined
  static constexpr bool has_counter_create = true;  ///< ma N J
  static constexpr bool has_counter_ttl = true;

  static constexpr std::size_t head_bound(std::size_t key_size) noexcept { return meta::head_bound(key_size); }

  /// `mg <key> v f [c] [T<exptime>] [k] [O<n>] [q]`.
  static std::size_t encode_get(char* dst, const GetRequest& r) noexcept {
    if (!r.cas && !r.touch && !r.return_key && !r.quiet && r.opaque == 0) {
      // The plain get, written with a few word moves (dst has head_bound's slack).
      std::memcpy(dst, "mg ", 3);
      protocol::detail::copy_bytes(dst + 3, r.key.data(), r.key.size());
      std::memcpy(dst + 3 + r.key.size(), " v f\r\n\0\0", 8);
      return 3 + r.key.size() + 6;
    }
    meta::GetOptions o;
    o.cas = r.cas;
    if (r.touch) o.touch = r.exptime;
    o.key = r.return_key;
    o.opaque = r.opaque;
    o.quiet = r.quiet;
    return meta::encode_mg(dst, r.key, o);
  }
  /// `ms <key> <size> [T] [F] [C] [M] [O] [q]`; T is written when exptime is non-zero.
  static std::size_t encode_store_head(char* dst, const StoreRequest& r) noexcept {
    meta::SetOptions o;
    o.mode = r.mode;
    if (r.exptime != 0 && r.mode != StoreMode::append && r.mode != StoreMode::prepend) o.ttl = r.exptime;
    if (r.mode != StoreMode::append && r.mode != StoreMode::prepend) o.client_flags = r.flags;
    if (r.mode == StoreMode::cas) o.compare_cas = r.cas;
    o.opaque = r.opaque;
    o.quiet = r.quiet;
    return meta::encode_ms_head(dst, r.key, r.value_size, o);
  }
  static std::size_t encode_delete(char* dst, std::string_view key, std::uint32_t opaque, bool quiet) noexcept {
    meta::DeleteOptions o;
    o.opaque = opaque;
    o.quiet = quiet;
    return meta::encode_md(dst, key, o);
  }
  /// `ma <key> [MD] D<delta> [N<exptime> J<initial>] v [O] [q]`: the reply is VA with the new value.
  static std::size_t encode_counter(char* dst, const CounterRequest& r) noexcept {
    meta::ArithOptions o;
    o.decrement = r.decrement;
    o.delta = r.delta;
    if (r.create) {
      o.vivify = r.exptime;
      o.initial = r.initial;
    }
    o.opaque = r.opaque;
    o.quiet = r.quiet;
    return meta::encode_ma(dst, r.key, o);
  }
  /// `mg <key> T<exptime> [O]`: HD when touched, EN when missing.
  static std::size_t encode_touch(char* dst, std::string_view key, std::int64_t exptime, std::uint32_t opaque) noexcept {
    meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    o.touch = exptime;
    o.opaque = opaque;
    return meta::encode_mg(dst, key, o);
  }
  static std::size_t encode_noop(char* dst) noexcept { return meta::encode_mn(dst); }
  static std::size_t encode_flush_all(char* dst, std::int64_t delay) noexcept {
    return text::encode_flush_all(dst, delay);
  }
  static std::size_t encode_version(char* dst) noexcept { return text::encode_version(dst); }
  static std::size_t encode_stats(char* dst, std::string_view group) noexcept { return text::encode_stats(dst, group); }
  /// The authfile login is a text `set` (ms cannot log in).
  template <class Out>
  static void encode_login(Out& out, std::string_view user, std::string_view password) {
    text::encode_login(out, user, password);
  }
  /// Decodes meta replies, and the text replies of flush_all (OK), version,
  /// stats and the login (STORED) that a meta connection also receives.
  static Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
    const Decoded d = meta::decode(data, n, r, lim);
    if (d.malformed() && (data[0] == 'S' || data[0] == 'V' || data[0] == 'E')) {
      // STORED, STAT, VERSION, END: replies to the text commands meta has
      // no form of. Anything else keeps the meta decoder's diagnosis.
      const Decoded t = text::decode(data, n, r, lim);
      if (t.complete() && (r.kind == ReplyKind::stored || r.kind == ReplyKind::stat ||
                           r.kind == ReplyKind::version || r.kind == ReplyKind::end)) {
        return t;
      }
      r.clear();
    }
    return d;
  }
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/protocol/meta.hpp ----

// ---- begin cachekit/net/socket.hpp ----
// POSIX sockets with deadlines. The only file in cachekit that makes
// system calls: name resolution, non-blocking connect finished with poll +
// SO_ERROR, and poll-bounded send/recv (MSG_NOSIGNAL, EINTR retried).


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <atomic>
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
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

using Clock = std::chrono::steady_clock;

/// Clock::now() for the hot path. On Linux with libstdc++ or libc++,
/// steady_clock is CLOCK_MONOTONIC: reading it directly skips a library
/// call. Elsewhere it is Clock::now().
CACHEKIT_HOT_INLINE Clock::time_point now() noexcept {
#if defined(__linux__) && (defined(__GLIBCXX__) || defined(_LIBCPP_VERSION))
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                       std::chrono::nanoseconds(ts.tv_nsec)));
#else
  return Clock::now();
#endif
}
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

/// Makes a connected socket blocking: plain send/recv then wait in the
/// kernel, bounded by SO_SNDTIMEO/SO_RCVTIMEO (one system call per read or
/// write instead of poll + read). MSG_DONTWAIT still gives non-blocking calls.
inline Result<void> set_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return sys_error(ErrorKind::transient, "fcntl", errno);
  return {};
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
  auto blocking = set_blocking(s.fd());
  if (!blocking) return std::move(blocking).error();
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

/// Sets SO_RCVTIMEO or SO_SNDTIMEO (microseconds, > 0).
inline bool set_io_timeout(int fd, int option, long long us) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv) == 0;
}

/// Blocking send bounded by SO_SNDTIMEO: bytes written, 0 when the timeout
/// ran out first.
inline Result<std::size_t> send_wait(int fd, const char* data, std::size_t n) {
  for (;;) {
    const ssize_t rc = ::send(fd, data, n, MSG_NOSIGNAL);
    if (rc >= 0) return static_cast<std::size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "send", errno);
  }
}

/// Blocking receive bounded by SO_RCVTIMEO: bytes read, 0 when the timeout
/// ran out first; an orderly close by the peer is an error.
CACHEKIT_HOT_INLINE Result<std::size_t> recv_wait(int fd, char* buf, std::size_t cap) {
  for (;;) {
    const ssize_t rc = ::recv(fd, buf, cap, 0);
    if (rc > 0) return static_cast<std::size_t>(rc);
    if (rc == 0) return Error(ErrorKind::transient, "connection closed by server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "recv", errno);
  }
}

/// sendmsg of n buffers with extra flags (MSG_NOSIGNAL always): bytes
/// written, 0 when the socket would block or its timeout ran out.
inline Result<std::size_t> send_iov(int fd, iovec* iov, std::size_t n, int flags) {
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = n;
  for (;;) {
    const ssize_t rc = ::sendmsg(fd, &m, MSG_NOSIGNAL | flags);
    if (rc >= 0) return static_cast<std::size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
    return sys_error(ErrorKind::transient, "send", errno);
  }
}

/// Sends without blocking: bytes written (0 when the socket buffer is full).
CACHEKIT_HOT_INLINE Result<std::size_t> try_send(int fd, const char* data, std::size_t n) {
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

/// Lets at most half the cores (at least one) busy-poll at once, process
/// wide, so spinning threads never starve the rest of the process or a
/// server on the same host.
class SpinGate {
 public:
  static SpinGate& process() {
    static SpinGate gate;
    return gate;
  }
  bool enter() noexcept {
    if (active_.fetch_add(1, std::memory_order_relaxed) < limit_) return true;
    active_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void leave() noexcept { active_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  SpinGate() noexcept {
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    limit_ = cores >= 4 ? static_cast<int>(cores / 2) : 1;
  }
  std::atomic<int> active_{0};
  int limit_ = 1;
};

/// Holds a place at the SpinGate for one busy-poll.
class SpinTicket {
 public:
  SpinTicket() noexcept : held_(SpinGate::process().enter()) {}
  ~SpinTicket() {
    if (held_) SpinGate::process().leave();
  }
  SpinTicket(const SpinTicket&) = delete;
  SpinTicket& operator=(const SpinTicket&) = delete;
  bool held() const noexcept { return held_; }

 private:
  bool held_;
};

/// Busy-polls for bytes until `until`: bytes read, 0 when none arrived in
/// time; an orderly close by the peer is an error. Reads the clock only
/// every few tries (a try is one system call, well under a microsecond).
/// Returns 0 at once, with spun false, when other threads already spin on
/// every core allowed.
inline Result<std::size_t> recv_spin(int fd, char* buf, std::size_t cap, Clock::time_point until, bool& spun) {
  const SpinTicket ticket;
  spun = ticket.held();
  if (!spun) return std::size_t{0};
  for (unsigned tries = 1;; ++tries) {
    const ssize_t rc = ::recv(fd, buf, cap, MSG_DONTWAIT);
    if (rc > 0) return static_cast<std::size_t>(rc);
    if (rc == 0) return Error(ErrorKind::transient, "connection closed by server");
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return sys_error(ErrorKind::transient, "recv", errno);
    if ((tries & 7) == 0 && Clock::now() >= until) return std::size_t{0};
  }
}

/// poll() with no wait, repeated until a descriptor is ready or `until`:
/// the number ready (0 when none became ready in time) or an error. Like
/// recv_spin, it does not spin when the SpinGate is full.
inline Result<int> poll_spin(pollfd* fds, std::size_t n, Clock::time_point until, bool& spun) {
  const SpinTicket ticket;
  spun = ticket.held();
  if (!spun) return 0;
  for (unsigned tries = 1;; ++tries) {
    const int rc = ::poll(fds, static_cast<nfds_t>(n), 0);
    if (rc > 0) return rc;
    if (rc < 0 && errno != EINTR) return sys_error(ErrorKind::transient, "poll", errno);
    if ((tries & 7) == 0 && Clock::now() >= until) return 0;
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

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/net/socket.hpp ----

// ---- begin cachekit/detail/json.hpp ----
// A small, strict JSON reader for configuration: an array of strings
// (RFC 8259 syntax, UTF-8 checked, \u escapes with surrogate pairs).
// Pure: no I/O; every index is checked against the input.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
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

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/detail/json.hpp ----

// ---- begin cachekit/memcached_config.hpp ----
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
// ---- end cachekit/memcached_config.hpp ----

// ---- begin cachekit/detail/byte_buffer.hpp ----
// A growable byte buffer for outgoing requests. Unlike std::string, growth
// leaves the new bytes uninitialised, for callers that write them at once
// (a pipeline of thousands of headers is encoded in place, not zero-filled
// first). Pure: no I/O.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstring>
#include <memory>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  const char* data() const noexcept { return buf_.get(); }
  char* data() noexcept { return buf_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Forgets the contents; keeps the memory.
  void clear() noexcept { size_ = 0; }
  /// Room for at least n bytes in all.
  void reserve(std::size_t n) {
    if (n <= cap_) return;
    std::unique_ptr<char[]> bigger(new char[n]);  // uninitialised on purpose
    if (size_ > 0) std::memcpy(bigger.get(), buf_.get(), size_);
    buf_ = std::move(bigger);
    cap_ = n;
  }
  /// Grows by n bytes for the caller to write; returns where they start.
  char* extend(std::size_t n) {
    if (n > cap_ - size_) reserve(size_ + n > 2 * cap_ ? size_ + n : 2 * cap_);
    char* at = buf_.get() + size_;
    size_ += n;
    return at;
  }
  /// Drops the last n bytes (after an extend() that reserved more than was written).
  void shrink(std::size_t n) noexcept { size_ -= n; }
  /// Appends n bytes from p.
  void append(const char* p, std::size_t n) {
    char* at = extend(n);
    if (n > 0) std::memcpy(at, p, n);
  }
  /// Overwrites every byte held, up to the capacity, with zeros (for
  /// buffers that carried a secret).
  void scrub() noexcept {
    volatile char* p = buf_.get();
    for (std::size_t i = 0; i < cap_; ++i) p[i] = 0;
  }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/detail/byte_buffer.hpp ----

// ---- begin cachekit/net/tls.hpp ----
// TLS over a connected socket with OpenSSL 3, compiled only when
// CACHEKIT_OPENSSL is defined (without it this header adds nothing).
//
// One TlsContext (an SSL_CTX) per backend, built from the configuration;
// one TlsSession (an SSL) per connection. OpenSSL reads and writes through
// a BIO of our own over the descriptor: every send carries MSG_NOSIGNAL
// (no SIGPIPE from a peer that went away, no signal() call) and
// MSG_DONTWAIT, every recv MSG_DONTWAIT, so each TLS call is non-blocking
// and the waits are poll()s bounded by the caller's deadline; except the
// blocking read of a connection waiting for its reply, which sleeps in recv
// bounded by SO_RCVTIMEO like the plaintext path (one system call per read).
// Read-ahead is on: one recv takes every record that has arrived. The
// latest session of each server is kept in its TlsContext, so the next
// connection to it resumes instead of making a full handshake.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)

#ifdef CACHEKIT_OPENSSL

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

/// What a TlsContext is built from (MemcachedBackendConfig's tls_* fields).
struct TlsOptions {
  std::string ca_file;    ///< PEM CA bundle; empty: the system trust store
  std::string cert_file;  ///< PEM client certificate chain; empty: none
  std::string key_file;   ///< PEM private key of cert_file
  bool verify = true;     ///< verify the server's certificate and name
};

/// OpenSSL's reason for the most recent failure on this thread (and the
/// thread's error queue emptied), or fallback when it has none.
inline std::string tls_reason(const char* fallback) {
  const unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e != 0) {
    const char* r = ERR_reason_error_string(e);
    out = r != nullptr ? r : "error " + std::to_string(ERR_GET_REASON(e));
  } else {
    out = fallback;
  }
  ERR_clear_error();
  return out;
}

/// Whether OpenSSL's reason code r is the server refusing our client
/// certificate (an alert about it, or about a missing one).
inline bool tls_client_cert_refused(int r) noexcept {
  return r == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || r == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         r == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN || r == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
         r == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE || r == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED ||
         r == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED || r == SSL_R_TLSV1_ALERT_ACCESS_DENIED ||
         r == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
}

class TlsSession;

/// An SSL_CTX for client connections plus the BIO method sessions use.
/// Shared (read only) by every connection of one backend.
class TlsContext {
 public:
  /// Builds the context; a CA, certificate or key file that cannot be
  /// loaded is a permanent error naming the field and the file.
  static Result<std::unique_ptr<TlsContext>> create(const TlsOptions& o) {
    ERR_clear_error();
    std::unique_ptr<TlsContext> t(new TlsContext());
    t->ctx_ = SSL_CTX_new(TLS_client_method());
    if (t->ctx_ == nullptr) return Error(ErrorKind::permanent, "tls: cannot create an SSL_CTX: " + tls_reason("unknown"));
    SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
    // Partial writes let a non-blocking write report progress; a retried
    // write may come from a buffer that moved (a vector that grew).
    SSL_CTX_set_mode(t->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(t->ctx_, 1);
    if (!o.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(t->ctx_, o.ca_file.c_str(), nullptr) != 1) {
        return Error(ErrorKind::permanent,
                     "tls_ca_file: cannot load '" + o.ca_file + "': " + tls_reason("not a PEM certificate file"));
      }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx_) != 1) {
      return Error(ErrorKind::permanent, "tls: cannot load the system trust store: " + tls_reason("unknown"));
    }
    if (!o.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(t->ctx_, o.cert_file.c_str()) != 1) {
        return Error(ErrorKind::permanent,
                     "tls_cert_file: cannot load '" + o.cert_file + "': " + tls_reason("not a PEM certificate file"));
      }
      if (SSL_CTX_use_PrivateKey_file(t->ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return Error(ErrorKind::permanent,
                     "tls_key_file: cannot load '" + o.key_file + "': " + tls_reason("not a PEM private key file"));
      }
      if (SSL_CTX_check_private_key(t->ctx_) != 1) {
        return Error(ErrorKind::permanent, "tls_key_file: '" + o.key_file + "' does not match tls_cert_file '" +
                                               o.cert_file + "': " + tls_reason("key mismatch"));
      }
    }
    SSL_CTX_set_verify(t->ctx_, o.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    // Sessions kept here, per server, not in OpenSSL's cache (keyed by
    // session id, useless to a client).
    SSL_CTX_set_session_cache_mode(t->ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(t->ctx_, &TlsContext::on_new_session);
    t->verify_ = o.verify;
    t->method_ = make_method();
    if (t->method_ == nullptr) return Error(ErrorKind::permanent, "tls: cannot create a BIO method: " + tls_reason("unknown"));
    return t;
  }

  ~TlsContext() {
    for (auto& kept : sessions_) SSL_SESSION_free(kept.second);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (method_ != nullptr) BIO_meth_free(method_);
  }
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ctx() const noexcept { return ctx_; }
  BIO_METHOD* method() const noexcept { return method_; }
  bool verify() const noexcept { return verify_; }
  /// Handshakes completed with this context (one per connection opened).
  std::uint64_t handshakes() const noexcept { return handshakes_.load(std::memory_order_relaxed); }
  /// Of those, the handshakes that resumed an earlier session.
  std::uint64_t resumed() const noexcept { return resumed_.load(std::memory_order_relaxed); }
  void count_handshake(bool resumed) noexcept {
    handshakes_.fetch_add(1, std::memory_order_relaxed);
    if (resumed) resumed_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Takes the newest kept session of server (the caller owns the
  /// reference; null when none). Each is used once: TLS 1.3 tickets are
  /// single-use (RFC 8446, C.4), and servers with a session cache refuse
  /// a second use.
  SSL_SESSION* take_session(const std::string& server) {
    const std::lock_guard<std::mutex> lock(sessions_mutex_);
    for (std::size_t i = sessions_.size(); i-- > 0;) {
      if (sessions_[i].first != server) continue;
      SSL_SESSION* s = sessions_[i].second;
      sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(i));
      if (SSL_SESSION_is_resumable(s) == 1) return s;
      SSL_SESSION_free(s);
    }
    return nullptr;
  }
  /// Keeps session (taking the reference) for server; at most
  /// kKeptSessions per server, the oldest dropped.
  void keep_session(const std::string& server, SSL_SESSION* session) {
    const std::lock_guard<std::mutex> lock(sessions_mutex_);
    std::size_t count = 0, oldest = sessions_.size();
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      if (sessions_[i].first != server) continue;
      if (count++ == 0) oldest = i;
    }
    if (count >= kKeptSessions) {
      SSL_SESSION_free(sessions_[oldest].second);
      sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(oldest));
    }
    sessions_.emplace_back(server, session);
  }
  static constexpr std::size_t kKeptSessions = 8;

 private:
  TlsContext() = default;
  static BIO_METHOD* make_method();
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  SSL_CTX* ctx_ = nullptr;
  BIO_METHOD* method_ = nullptr;
  bool verify_ = true;
  std::atomic<std::uint64_t> handshakes_{0};
  std::atomic<std::uint64_t> resumed_{0};
  std::mutex sessions_mutex_;
  std::vector<std::pair<std::string, SSL_SESSION*>> sessions_;  // by TlsSession key, oldest first
};

/// One TLS connection over a connected socket the caller owns (the socket
/// outlives the session).
class TlsSession {
 public:
  /// Runs the handshake on fd, bounded by deadline. name is what the
  /// server's certificate must match (a DNS name, sent as SNI, or an IP
  /// address); server names the server in messages. Verification failures
  /// and a refused client certificate are authentication errors; a server
  /// that closes, answers something else than TLS or hangs is transient
  /// (a timeout for the hang).
  static Result<std::unique_ptr<TlsSession>> handshake(TlsContext& tc, int fd, const std::string& name,
                                                       const std::string& server, Deadline deadline) {
    ERR_clear_error();
    std::unique_ptr<TlsSession> s(new TlsSession(fd, tc, server + " " + name));
    s->ssl_ = SSL_new(tc.ctx());
    if (s->ssl_ == nullptr) return Error(ErrorKind::transient, "TLS with " + server + ": SSL_new: " + tls_reason("failed"));
    SSL_set_app_data(s->ssl_, s.get());
    if (SSL_SESSION* earlier = tc.take_session(s->key_)) {
      SSL_set_session(s->ssl_, earlier);  // takes its own reference
      SSL_SESSION_free(earlier);
    }
    BIO* bio = BIO_new(tc.method());
    if (bio == nullptr) return Error(ErrorKind::transient, "TLS with " + server + ": BIO_new: " + tls_reason("failed"));
    BIO_set_data(bio, s.get());
    BIO_set_init(bio, 1);
    SSL_set_bio(s->ssl_, bio, bio);  // the SSL owns the BIO now
    SSL_set_connect_state(s->ssl_);
    unsigned char ip[16];
    const bool is_ip = ::inet_pton(AF_INET, name.c_str(), ip) == 1 || ::inet_pton(AF_INET6, name.c_str(), ip) == 1;
    if (!is_ip && !name.empty()) SSL_set_tlsext_host_name(s->ssl_, name.c_str());
    if (tc.verify() && !name.empty()) {
      const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl_), name.c_str())
                           : SSL_set1_host(s->ssl_, name.c_str());
      if (ok != 1) return Error(ErrorKind::permanent, "tls_server_name: cannot use '" + name + "': " + tls_reason("invalid"));
    }
    for (;;) {
      ERR_clear_error();
      s->errno_ = 0;
      const int rc = SSL_connect(s->ssl_);
      if (rc == 1) break;
      const int err = SSL_get_error(s->ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        auto ready = wait_fd(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (!ready) return std::move(ready).error();
        if (*ready == 0) {
          return Error(ErrorKind::timeout, "TLS handshake with " + server +
                                               " timed out (connect_timeout; does the server speak TLS?)");
        }
        continue;
      }
      return s->handshake_error(err, name, server);
    }
    const bool resumed = SSL_session_reused(s->ssl_) == 1;
    tc.count_handshake(resumed);
    // TLS 1.2 issues no new session when one is resumed: keep it for the
    // next connection (TLS 1.3 sends fresh tickets instead).
    if (resumed && SSL_version(s->ssl_) < TLS1_3_VERSION) {
      if (SSL_SESSION* again = SSL_get1_session(s->ssl_)) tc.keep_session(s->key_, again);
    }
    return s;
  }

  ~TlsSession() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: like a plaintext close
  }
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Bytes waiting inside OpenSSL (decrypted, or whole records read ahead):
  /// readable without the socket becoming ready, so callers check this
  /// before poll(). A partial record read ahead does not count once a read
  /// found it incomplete (the rest must come through the socket).
  bool pending() const noexcept { return SSL_pending(ssl_) > 0 || (!starved_ && SSL_has_pending(ssl_) == 1); }

  /// Reads what is available without waiting: bytes read, 0 when none.
  Result<std::size_t> try_read(char* buf, std::size_t cap) {
    short want = 0;
    return read_once(buf, cap, want);
  }

  /// Reads at least one byte, sleeping in recv() bounded by the socket's
  /// SO_RCVTIMEO (the caller arms it to end by deadline): bytes read, 0
  /// when that timeout passed first.
  Result<std::size_t> read_blocking(char* buf, std::size_t cap, Deadline deadline) {
    block_ = true;
    short want = 0;
    auto n = read_once(buf, cap, want);
    block_ = false;
    if (n && *n == 0 && want == POLLOUT) {  // OpenSSL must send first (a key update's answer)
      auto ready = wait_fd(fd_, POLLOUT, deadline);
      if (!ready) return std::move(ready).error();
    }
    return n;
  }

  /// Busy-polls for bytes until `until` (see recv_spin): bytes read, 0 when
  /// none came in time; spun false when the SpinGate was full.
  Result<std::size_t> read_spin(char* buf, std::size_t cap, Clock::time_point until, bool& spun) {
    const SpinTicket ticket;
    spun = ticket.held();
    if (!spun) return std::size_t{0};
    for (unsigned tries = 1;; ++tries) {
      short want = 0;
      auto n = read_once(buf, cap, want);
      if (!n || *n > 0) return n;
      if ((tries & 7) == 0 && Clock::now() >= until) return std::size_t{0};
    }
  }

  /// Writes what the socket takes now: bytes written (0 when it would
  /// block; the next call must start at the same bytes).
  Result<std::size_t> try_write(const char* data, std::size_t n) {
    short want = 0;
    return write_once(data, n, want);
  }

  /// Writes all n bytes before the deadline.
  Result<void> write_all(const char* data, std::size_t n, Deadline deadline) {
    while (n > 0) {
      short want = 0;
      auto w = write_once(data, n, want);
      if (!w) return std::move(w).error();
      if (*w == 0) {
        auto ready = wait_fd(fd_, want, deadline);
        if (!ready) return std::move(ready).error();
        if (*ready == 0) return Error(ErrorKind::timeout, "send timed out");
        continue;
      }
      data += *w;
      n -= *w;
    }
    return {};
  }

  /// Whether an idle connection is unusable: the peer closed it or sent
  /// application bytes nobody asked for. TLS records that carry no data
  /// (session tickets) are consumed. Never blocks.
  bool idle_broken() {
    if (pending()) return true;
    if (!idle_connection_broken(fd_)) return false;
    char probe[64];
    short want = 0;
    auto n = read_once(probe, sizeof probe, want);
    return !n || *n > 0;
  }

  // BIO callbacks (the BIO's data is the session).
  static int bio_write(BIO* b, const char* data, int n) {
    auto* s = static_cast<TlsSession*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    for (;;) {
      const ssize_t rc = ::send(s->fd_, data, static_cast<std::size_t>(n), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (rc >= 0) return static_cast<int>(rc);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
      s->errno_ = errno;
      return -1;
    }
  }
  static int bio_read(BIO* b, char* buf, int n) {
    auto* s = static_cast<TlsSession*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    for (;;) {
      const ssize_t rc = ::recv(s->fd_, buf, static_cast<std::size_t>(n), s->block_ ? 0 : MSG_DONTWAIT);
      if (rc >= 0) return static_cast<int>(rc);  // 0: the peer closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
      s->errno_ = errno;
      return -1;
    }
  }

 private:
  friend class TlsContext;
  TlsSession(int fd, TlsContext& tc, std::string key) : fd_(fd), tc_(&tc), key_(std::move(key)) {}

  // SSL_get_error() needs the thread's error queue empty before the call;
  // peeking is cheaper than clearing an empty queue on every read and write.
  static void clear_errors() noexcept {
    if (ERR_peek_error() != 0) ERR_clear_error();
  }

  Result<std::size_t> read_once(char* buf, std::size_t cap, short& want) {
    clear_errors();
    errno_ = 0;
    const int ask = cap > 0x40000000u ? 0x40000000 : static_cast<int>(cap);
    const int rc = SSL_read(ssl_, buf, ask);
    if (rc > 0) {
      starved_ = false;
      return static_cast<std::size_t>(rc);
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      starved_ = err == SSL_ERROR_WANT_READ;
      return std::size_t{0};
    }
    return io_error(err, "recv");
  }

  Result<std::size_t> write_once(const char* data, std::size_t n, short& want) {
    clear_errors();
    errno_ = 0;
    const int ask = n > 0x40000000u ? 0x40000000 : static_cast<int>(n);
    const int rc = SSL_write(ssl_, data, ask);
    if (rc > 0) return static_cast<std::size_t>(rc);
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      return std::size_t{0};
    }
    if (err == SSL_ERROR_SYSCALL) {
      // The server may have refused us with an alert and closed before this
      // write (TLS 1.3 checks the client certificate after the client's
      // handshake ends): the alert, when it came, says why.
      const int saved = errno_;
      char scratch[256];
      ERR_clear_error();
      const int r = SSL_read(ssl_, scratch, sizeof scratch);
      if (r <= 0 && SSL_get_error(ssl_, r) == SSL_ERROR_SSL &&
          tls_client_cert_refused(ERR_GET_REASON(ERR_peek_last_error()))) {
        return io_error(SSL_ERROR_SSL, "recv");
      }
      ERR_clear_error();
      errno_ = saved;
    }
    return io_error(err, "send");
  }

  Error io_error(int err, const char* what) {
    if (err == SSL_ERROR_ZERO_RETURN) return Error(ErrorKind::transient, "connection closed by server (TLS close_notify)");
    if (err == SSL_ERROR_SYSCALL) {
      ERR_clear_error();
      if (errno_ != 0) return sys_error(ErrorKind::transient, what, errno_);
      return Error(ErrorKind::transient, "connection closed by server");
    }
    const unsigned long e = ERR_peek_last_error();
    const int reason = ERR_GET_REASON(e);
    std::string m = tls_reason("TLS protocol error");
    if (tls_client_cert_refused(reason)) {
      return Error(ErrorKind::authentication, "the server refused the TLS client certificate (" + m +
                                                  "; set tls_cert_file and tls_key_file to a certificate it trusts)");
    }
    return Error(ErrorKind::transient, "TLS error: " + m);
  }

  Error handshake_error(int err, const std::string& name, const std::string& server) {
    const long v = SSL_get_verify_result(ssl_);
    if (err == SSL_ERROR_SSL && v != X509_V_OK) {
      ERR_clear_error();
      std::string m = "TLS certificate verification failed for " + server + ": " + X509_verify_cert_error_string(v);
      if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        m += " (the certificate is not for '" + name + "'; see tls_server_name)";
      } else if (v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                 v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) {
        m += " (issuer not trusted; see tls_ca_file)";
      }
      return Error(ErrorKind::authentication, std::move(m));
    }
    if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      std::string m = "TLS handshake with " + server + " failed: ";
      if (errno_ != 0) return Error(ErrorKind::transient, m + errno_text(errno_) + " (does the server speak TLS?)");
      return Error(ErrorKind::transient, m + "the server closed the connection (does it speak TLS?)");
    }
    const int reason = ERR_GET_REASON(ERR_peek_last_error());
    std::string why = tls_reason("TLS protocol error");
    if (tls_client_cert_refused(reason)) {
      return Error(ErrorKind::authentication, "TLS handshake with " + server + ": the server refused the client certificate (" +
                                                  why + "; set tls_cert_file and tls_key_file)");
    }
    return Error(ErrorKind::transient, "TLS handshake with " + server + " failed: " + why + " (does the server speak TLS?)");
  }

  int fd_;
  TlsContext* tc_;
  std::string key_;  // the server and the certificate name: whose sessions resume here
  int errno_ = 0;
  bool block_ = false;    // the next BIO read may sleep in recv()
  bool starved_ = false;  // the last read needed bytes from the socket
  SSL* ssl_ = nullptr;
};

// A session (TLS 1.3: a ticket, after the handshake) to resume later.
inline int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* s = static_cast<TlsSession*>(SSL_get_app_data(ssl));
  if (s == nullptr) return 0;
  s->tc_->keep_session(s->key_, session);
  return 1;  // the reference is kept
}

inline BIO_METHOD* TlsContext::make_method() {
  BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cachekit socket");
  if (m == nullptr) return nullptr;
  BIO_meth_set_write(m, &TlsSession::bio_write);
  BIO_meth_set_read(m, &TlsSession::bio_read);
  BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
  BIO_meth_set_create(m, [](BIO* b) -> int {
    BIO_set_init(b, 0);
    return 1;
  });
  BIO_meth_set_destroy(m, [](BIO* b) -> int {
    BIO_set_data(b, nullptr);
    BIO_set_init(b, 0);
    return 1;
  });
  return m;
}

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_OPENSSL

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/net/tls.hpp ----

// ---- begin cachekit/memcached/connection.hpp ----
// One connection to one memcached server: the transport. A socket, a
// reusable request buffer, a read buffer, deadlines and busy-polling; no
// protocol. Replies are cut out of the read buffer by the decoder of the
// wire the caller names (next_reply<Wire>): a reply that arrived whole is
// viewed where it lies, one split across reads is gathered in a stash that
// grows only with bytes actually received. Any I/O or protocol error marks
// the connection broken; a broken connection is closed, never reused.
//
// With CACHEKIT_OPENSSL a connection may carry a TLS session (net/tls.hpp):
// every read and write then goes through it, behind one predictable branch
// per call; without the macro there is no branch at all.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/uio.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Copies v into s, reusing its buffer; a value of the same size as
/// before (the common case when a key is read again) is one copy, with no
/// library call to check sizes or aliasing.
CACHEKIT_HOT_INLINE void assign_bytes(std::string& s, std::string_view v) {
  if (s.size() == v.size()) {
    if (!v.empty()) std::memcpy(&s[0], v.data(), v.size());
  } else {
    s.assign(v.data(), v.size());
  }
}

template <class = void>  // compiled where it is used
class BasicConnection {
 public:
  using Deadline = net::Deadline;

  /// Connects, bounded by connect_deadline. owner_pid is the process the
  /// connection belongs to (see ConnectionPool). A login, when the server
  /// needs one, is the caller's first exchange.
  static Result<std::unique_ptr<BasicConnection>> open(std::string_view host, std::uint16_t port,
                                                       Deadline connect_deadline, int owner_pid) {
    auto sock = net::connect_to(host, port, connect_deadline);
    if (!sock) return std::move(sock).error();
    return std::unique_ptr<BasicConnection>(new BasicConnection(std::move(*sock), owner_pid));
  }

#ifdef CACHEKIT_OPENSSL
  /// Connects and runs the TLS handshake, both bounded by connect_deadline.
  /// tls_name is what the certificate must match; server names the server
  /// in messages.
  static Result<std::unique_ptr<BasicConnection>> open_tls(std::string_view host, std::uint16_t port,
                                                           Deadline connect_deadline, int owner_pid,
                                                           net::TlsContext& tls, const std::string& tls_name,
                                                           const std::string& server) {
    auto sock = net::connect_to(host, port, connect_deadline);
    if (!sock) return std::move(sock).error();
    auto session = net::TlsSession::handshake(tls, sock->fd(), tls_name, server, connect_deadline);
    if (!session) return std::move(session).error();
    std::unique_ptr<BasicConnection> c(new BasicConnection(std::move(*sock), owner_pid));
    c->tls_ = std::move(*session);
    return c;
  }
#endif
  /// Whether the connection runs over TLS.
  bool tls() const noexcept {
#ifdef CACHEKIT_OPENSSL
    return tls_ != nullptr;
#else
    return false;
#endif
  }
  /// Whether bytes are already readable without the socket becoming ready
  /// (decrypted inside the TLS session): check before polling fd().
  bool tls_buffered() const noexcept {
#ifdef CACHEKIT_OPENSSL
    return tls_ != nullptr && tls_->pending();
#else
    return false;
#endif
  }
  /// Whether an idle connection was closed by the server or got bytes
  /// nobody asked for (either makes it unusable). Never blocks.
  bool idle_broken() {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_->idle_broken();
#endif
    return net::idle_connection_broken(sock_.fd());
  }

  BasicConnection(const BasicConnection&) = delete;
  BasicConnection& operator=(const BasicConnection&) = delete;

  int fd() const noexcept { return sock_.fd(); }
  int pid() const noexcept { return pid_; }
  bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept {
    broken_ = true;
#ifdef CACHEKIT_OPENSSL
    tls_.reset();  // never reused: no close_notify, like a plaintext close
#endif
    sock_.close();
  }
  net::Clock::time_point last_used() const noexcept { return last_used_; }
  void touch_used(net::Clock::time_point t) noexcept { last_used_ = t; }
  /// Whether a whole reply ever came on this connection (a server that
  /// never answered may not speak the protocol at all).
  bool answered() const noexcept { return answered_; }
  /// Whether the server answered a command of the connection's protocol
  /// with ERROR (it does not know the command: an older server).
  bool protocol_refused() const noexcept { return protocol_refused_; }
  void set_protocol_refused() noexcept { protocol_refused_ = true; }

  /// The request buffer; callers append encoded requests, then flush().
  ByteBuffer& out() noexcept { return out_; }
  /// Room for one request head (a command and its key).
  char* head() noexcept { return head_; }
  static constexpr std::size_t head_room() noexcept { return kHeadRoom; }
  /// Fresh opaque values for requests on this connection.
  std::uint32_t take_opaques(std::uint32_t n = 1) noexcept {
    const std::uint32_t first = next_opaque_;
    next_opaque_ += n;
    if (next_opaque_ > 0x7fffffffu) next_opaque_ = 1;  // keep clear of wrap-around
    return first;
  }

  /// Sends the whole request buffer before the deadline.
  Result<void> flush(Deadline deadline) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_flush(deadline);
#endif
    // A request normally fits the socket buffer: try once without waiting
    // (and without setting a kernel timeout) first.
    auto first = net::try_send(sock_.fd(), out_.data(), out_.size());
    if (!first) return io_failure(std::move(first).error());
    if (*first < out_.size()) {
      auto rest = send_rest(out_.data() + *first, out_.size() - *first, deadline);
      if (!rest) return rest;
    }
    out_.clear();
    return {};
  }

  /// Sends n bytes of head (this connection's head() or any buffer).
  CACHEKIT_HOT_INLINE Result<void> send_head(const char* data, std::size_t n, Deadline deadline) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_write(data, n, deadline);
#endif
    auto sent = net::try_send(sock_.fd(), data, n);
    if (!sent) return io_failure(std::move(sent).error());
    if (*sent < n) return send_rest(data + *sent, n - *sent, deadline);
    return {};
  }

  /// Sends head, then value from the caller's memory (no copy), then tail.
  Result<void> send_parts(const char* head, std::size_t head_size, std::string_view value, std::string_view tail,
                          Deadline deadline) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_send_parts(head, head_size, value, tail, deadline);
#endif
    iovec iov[3];
    std::size_t parts = 0;
    auto add = [&](const char* p, std::size_t n) {
      if (n == 0) return;
      iov[parts].iov_base = const_cast<char*>(p);
      iov[parts++].iov_len = n;
    };
    add(head, head_size);
    add(value.data(), value.size());
    add(tail.data(), tail.size());
    std::size_t total = 0;
    for (std::size_t i = 0; i < parts; ++i) total += iov[i].iov_len;
    // Normally the whole request fits the socket buffer at once.
    auto first = net::send_iov(sock_.fd(), iov, parts, MSG_DONTWAIT);
    if (!first) return io_failure(std::move(first).error());
    std::size_t sent = *first;
    while (sent < total) {
      if (!arm(SO_SNDTIMEO, snd_timeout_, deadline, net::Clock::now())) {
        return io_failure(Error(ErrorKind::timeout, "send timed out"));
      }
      // The parts not yet sent, the first of them cut where sending stopped.
      iovec rest[3];
      std::size_t n = 0, skip = sent;
      for (std::size_t i = 0; i < parts; ++i) {
        if (skip >= iov[i].iov_len) {
          skip -= iov[i].iov_len;
          continue;
        }
        rest[n].iov_base = static_cast<char*>(iov[i].iov_base) + skip;
        rest[n++].iov_len = iov[i].iov_len - skip;
        skip = 0;
      }
      auto more = net::send_iov(sock_.fd(), rest, n, 0);
      if (!more) return io_failure(std::move(more).error());
      sent += *more;
    }
    return {};
  }

  /// The next complete reply of Wire among the buffered bytes: 1 when r
  /// holds it (call reply_done() once it is used, before reading more), 0
  /// when more bytes are needed (every buffered byte is then consumed), -1
  /// when the stream is corrupt (why says why).
  template <class Wire>
  int next_reply(typename Wire::Reply& r, const char*& why) {
    std::size_t used = 0;
    const auto step = stash_.feed<Wire>(in_.data() + in_pos_, in_end_ - in_pos_, r, limits_, used);
    in_pos_ += used;
    if (step == protocol::ReplyStash::Step::complete) {
      answered_ = true;
      return 1;
    }
    if (step == protocol::ReplyStash::Step::malformed) {
      why = stash_.why();
      return -1;
    }
    return 0;
  }

  /// Done with the reply next_reply() gave.
  CACHEKIT_HOT_INLINE void reply_done() noexcept {
    if (stash_.holds_reply()) stash_.next();
  }

  /// Reads until one whole reply of Wire is in r (call reply_done() after
  /// using it). now is a recent clock reading.
  template <class Wire>
  Result<void> read_reply(typename Wire::Reply& r, Deadline deadline, net::Clock::time_point now) {
    const char* why = nullptr;
    for (bool first = true;; first = false) {
      const int have = next_reply<Wire>(r, why);
      if (have > 0) return {};
      if (have < 0) return protocol_failure(why);
      auto got = fill(deadline, first ? now : net::Clock::now());
      if (!got) return got;
    }
  }

  /// The unparsed bytes of the read buffer, for a caller that decodes
  /// whole replies in place itself: valid while no reply is half-gathered
  /// (between_replies()); skip(n) marks n of them used.
  bool between_replies() const noexcept { return stash_.empty(); }
  const char* buffered() const noexcept { return in_.data() + in_pos_; }
  std::size_t buffered_size() const noexcept { return in_end_ - in_pos_; }
  void skip(std::size_t n) noexcept {  // n > 0: whole replies taken
    in_pos_ += n;
    answered_ = true;
  }
  /// The largest value a reply may carry.
  std::size_t max_value() const noexcept { return limits_.max_value; }
  /// Whether unparsed bytes remain in the read buffer.
  bool has_buffered() const noexcept { return in_pos_ < in_end_; }
  /// Whether the connection is between replies with nothing left over.
  bool idle_clean() const noexcept {
    return !broken_ && in_pos_ == in_end_ && stash_.empty() && out_.empty() && !tls_buffered();
  }

  /// Blocks until some bytes are in the read buffer (it must be empty) or
  /// the deadline passes. now is a recent clock reading.
  CACHEKIT_HOT_INLINE Result<void> fill(Deadline deadline, net::Clock::time_point now) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_fill(deadline, now);
#endif
    // Common case without busy-polling, inline: the kernel timeout already
    // fits the deadline and one blocking read brings bytes.
    if (spin_.count() <= 0 && arm(SO_RCVTIMEO, rcv_timeout_, deadline, now)) {
      auto got = net::recv_wait(sock_.fd(), in_.data(), in_.size());
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
      now = net::Clock::now();
    }
    return fill_slow(deadline, now);
  }
  /// fill() beyond its inline case: busy-polling first, and waits that end
  /// without bytes before the deadline.
  Result<void> fill_slow(Deadline deadline, net::Clock::time_point now) {
    if (spin_now()) {
      bool spun = false;
      auto got = net::recv_spin(sock_.fd(), in_.data(), in_.size(), std::min(now + spin_, deadline), spun);
      if (!got) return io_failure(std::move(got).error());
      if (spun) spin_outcome(*got > 0);
      if (took(*got)) return {};
      now = net::Clock::now();
    }
    for (;; now = net::Clock::now()) {
      if (!arm(SO_RCVTIMEO, rcv_timeout_, deadline, now)) {
        return io_failure(Error(ErrorKind::timeout, "no reply before the timeout"));
      }
      auto got = net::recv_wait(sock_.fd(), in_.data(), in_.size());
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
    }
  }

  /// Marks the connection broken and describes a protocol violation.
  Error protocol_failure(const char* why) {
    mark_broken();
    return Error(ErrorKind::unknown, std::string("protocol error: ") + why);
  }
  /// Marks the connection broken and returns e (an error reply, or a reply
  /// the request did not expect: the stream can no longer be trusted).
  Error fail_with(Error e) {
    mark_broken();
    return e;
  }

  /// Busy-poll budget before a wait sleeps (see MemcachedBackendConfig::spin_wait).
  void set_spin(std::chrono::microseconds budget) noexcept { spin_ = budget; }
  /// Whether the next wait should busy-poll first. After spins that found
  /// nothing, the next 1, 3, 7 .. 63 waits sleep right away.
  bool spin_now() noexcept {
    if (spin_.count() <= 0) return false;
    if (spin_skip_ == 0) return true;
    --spin_skip_;
    return false;
  }
  std::chrono::microseconds spin_budget() const noexcept { return spin_; }
  /// Records whether a spin found the reply in time.
  void spin_outcome(bool hit) noexcept {
    if (hit) {
      spin_backoff_ = 0;
      return;
    }
    spin_backoff_ = spin_backoff_ >= 31 ? 63 : spin_backoff_ * 2 + 1;
    spin_skip_ = spin_backoff_;
  }

  // --- non-blocking pieces for pipelines over several connections ---

  /// Bytes of out() not yet sent.
  std::size_t pending() const noexcept { return out_.size() - out_sent_; }
  /// Sends what the socket takes now.
  Result<void> send_some() {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_send_some();
#endif
    auto n = net::try_send(sock_.fd(), out_.data() + out_sent_, out_.size() - out_sent_);
    if (!n) return io_failure(std::move(n).error());
    out_sent_ += *n;
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
    }
    return {};
  }
  /// Reads what is available into the read buffer (false when nothing).
  Result<bool> recv_available() {
    if (in_pos_ < in_end_) return true;
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_recv_available();
#endif
    auto n = net::try_recv(sock_.fd(), in_.data(), in_.size());
    if (!n) return io_failure(std::move(n).error());
    in_pos_ = 0;
    in_end_ = *n;
    return *n > 0;
  }
  /// Scrubs the request buffer (it held a password).
  void scrub_out() noexcept { out_.scrub(); }

 private:
  static constexpr std::size_t kReadBuffer = 32 * 1024;
  static constexpr std::size_t kHeadRoom = 512 + CACHEKIT_MAX_KEY_LENGTH;
  static constexpr long long kSlackUs = 2000;

  BasicConnection(net::Socket s, int owner_pid) : sock_(std::move(s)), in_(kReadBuffer), pid_(owner_pid) {
    out_.reserve(1024);
    limits_.max_value = CACHEKIT_MAX_RESPONSE_BODY;
  }

  /// The read buffer now holds n fresh bytes, if n > 0.
  bool took(std::size_t n) noexcept {
    if (n == 0) return false;
    in_pos_ = 0;
    in_end_ = n;
    return true;
  }

  // The rest of a request the socket did not take at once.
  Result<void> send_rest(const char* data, std::size_t n, Deadline deadline) {
    while (n > 0) {
      if (!arm(SO_SNDTIMEO, snd_timeout_, deadline, net::Clock::now())) {
        return io_failure(Error(ErrorKind::timeout, "send timed out"));
      }
      auto more = net::send_wait(sock_.fd(), data, n);
      if (!more) return io_failure(std::move(more).error());
      data += *more;
      n -= *more;
    }
    return {};
  }

  Error io_failure(Error e) {
    mark_broken();
    return e;
  }

#ifdef CACHEKIT_OPENSSL
  // The TLS counterparts of the plaintext paths above (kept out of line
  // so the plaintext callers stay small).
  CACHEKIT_COLD_NOINLINE Result<void> tls_write(const char* data, std::size_t n, Deadline deadline) {
    auto ok = tls_->write_all(data, n, deadline);
    if (!ok) return io_failure(std::move(ok).error());
    return {};
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_flush(Deadline deadline) {
    auto ok = tls_write(out_.data(), out_.size(), deadline);
    if (ok) out_.clear();
    return ok;
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_send_parts(const char* head, std::size_t head_size, std::string_view value,
                                                     std::string_view tail, Deadline deadline) {
    // One TLS record for a request that fits one: gathered in the request
    // buffer (TLS copies the bytes to encrypt them anyway).
    if (head_size + value.size() + tail.size() <= 16384 && out_.empty()) {
      out_.append(head, head_size);
      out_.append(value.data(), value.size());
      out_.append(tail.data(), tail.size());
      return tls_flush(deadline);
    }
    auto ok = tls_write(head, head_size, deadline);
    if (ok && !value.empty()) ok = tls_write(value.data(), value.size(), deadline);
    if (ok && !tail.empty()) ok = tls_write(tail.data(), tail.size(), deadline);
    return ok;
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_fill(Deadline deadline, net::Clock::time_point now) {
    if (!tls_->pending() && spin_now()) {
      bool spun = false;
      auto got = tls_->read_spin(in_.data(), in_.size(), std::min(now + spin_, deadline), spun);
      if (!got) return io_failure(std::move(got).error());
      if (spun) spin_outcome(*got > 0);
      if (took(*got)) return {};
    }
    for (;; now = net::Clock::now()) {
      if (!arm(SO_RCVTIMEO, rcv_timeout_, deadline, now)) {
        return io_failure(Error(ErrorKind::timeout, "no reply before the timeout"));
      }
      auto got = tls_->read_blocking(in_.data(), in_.size(), deadline);
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
    }
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_send_some() {
    auto n = tls_->try_write(out_.data() + out_sent_, out_.size() - out_sent_);
    if (!n) return io_failure(std::move(n).error());
    out_sent_ += *n;
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
    }
    return {};
  }
  CACHEKIT_COLD_NOINLINE Result<bool> tls_recv_available() {
    auto n = tls_->try_read(in_.data(), in_.size());
    if (!n) return io_failure(std::move(n).error());
    in_pos_ = 0;
    in_end_ = *n;
    return *n > 0;
  }
#endif

  // The kernel timeout (SO_SNDTIMEO or SO_RCVTIMEO) last set, as the range
  // of remaining times it serves: from the setting less kSlack (at least
  // 1 ns, so a passed deadline is never in it) to twice the setting.
  // Empty until first set.
  struct ArmedTimeout {
    long long lo_ns = std::numeric_limits<long long>::max();
    long long hi_ns = 0;
  };
  // Sets the kernel timeout of the next blocking send/recv so that it ends
  // by the deadline (overshoot at most kSlack). Costs a system call only
  // when the remaining time falls outside the range the current setting
  // serves (two comparisons, no division, on the usual path); false when
  // the deadline has passed.
  CACHEKIT_HOT_INLINE bool arm(int option, ArmedTimeout& armed, Deadline deadline, net::Clock::time_point now) {
    const long long remaining_ns = std::chrono::nanoseconds(deadline - now).count();
    if (remaining_ns >= armed.lo_ns && remaining_ns <= armed.hi_ns) return true;
    if (remaining_ns <= 0) return false;
    return rearm(option, armed, remaining_ns / 1000);
  }
  bool rearm(int option, ArmedTimeout& armed, long long remaining_us) {
    const long long want = remaining_us > 0 ? remaining_us : 1;
    if (!net::set_io_timeout(sock_.fd(), option, want)) return false;
    constexpr long long kMax = std::numeric_limits<long long>::max();
    // want * 1000 cannot overflow: it is at most remaining_ns.
    armed.lo_ns = std::max(1LL, want * 1000 - kSlackUs * 1000);
    armed.hi_ns = want > kMax / 2000 ? kMax : want * 2000;
    return true;
  }

  net::Socket sock_;
#ifdef CACHEKIT_OPENSSL
  std::unique_ptr<net::TlsSession> tls_;  // null: plaintext
#endif
  ByteBuffer out_;
  std::size_t out_sent_ = 0;
  std::vector<char> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  protocol::ReplyStash stash_;  // a reply split across reads
  protocol::Limits limits_;
  char head_[kHeadRoom];
  std::uint32_t next_opaque_ = 1;
  int pid_;
  bool broken_ = false;
  bool answered_ = false;
  bool protocol_refused_ = false;
  ArmedTimeout snd_timeout_;
  ArmedTimeout rcv_timeout_;
  net::Clock::time_point last_used_{};
  std::chrono::microseconds spin_{0};
  unsigned spin_skip_ = 0, spin_backoff_ = 0;
};
using Connection = BasicConnection<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/connection.hpp ----

// ---- begin cachekit/net/fork_guard.hpp ----
// Detects that the process forked since the guard was armed, so a child
// never uses its parent's sockets. With MADV_WIPEONFORK (Linux 4.14+) the
// check is a memory read: the kernel zeroes the page in the child. Elsewhere
// it falls back to comparing getpid().


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {
namespace net {

class ForkGuard {
 public:
  ForkGuard() noexcept : pid_(::getpid()) {
#ifdef MADV_WIPEONFORK
    void* p = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      if (::madvise(p, kPage, MADV_WIPEONFORK) == 0) {
        page_ = static_cast<unsigned char*>(p);
        __atomic_store_n(page_, static_cast<unsigned char>(1), __ATOMIC_RELAXED);
      } else {
        ::munmap(p, kPage);
      }
    }
#endif
  }
  ~ForkGuard() {
    if (page_ != nullptr) ::munmap(page_, kPage);
  }
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;

  /// True once in a process forked after the guard was (re)armed.
  CACHEKIT_HOT_INLINE bool forked() const noexcept {
    if (page_ != nullptr) return __atomic_load_n(page_, __ATOMIC_RELAXED) == 0;
    return ::getpid() != __atomic_load_n(&pid_, __ATOMIC_RELAXED);
  }
  /// Arms the guard for the current process.
  void rearm() noexcept {
    __atomic_store_n(&pid_, ::getpid(), __ATOMIC_RELAXED);
    if (page_ != nullptr) __atomic_store_n(page_, static_cast<unsigned char>(1), __ATOMIC_RELAXED);
  }
  /// Process id when last armed.
  int pid() const noexcept { return static_cast<int>(__atomic_load_n(&pid_, __ATOMIC_RELAXED)); }

 private:
  static constexpr std::size_t kPage = 4096;
  unsigned char* page_ = nullptr;  // read and written atomically (a thread may race a rearm)
  pid_t pid_;
};

}  // namespace net
}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/net/fork_guard.hpp ----

// ---- begin cachekit/pool.hpp ----
// Per-server connection pool: at most max connections, shared by all
// threads; waiting for one is bounded by a deadline. The most recently
// returned connection sits in a lock-free slot. Fork-safe: a pool used
// in a child process drops every connection its parent opened.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class Unused = void>
class BasicConnectionPool;
template <class Unused = void>
class BasicPoolLease;
/// A connection taken from a pool (see BasicPoolLease).
using PoolLease = BasicPoolLease<>;
/// The connections of one server (see BasicConnectionPool).
using ConnectionPool = BasicConnectionPool<>;

/// A connection (or the right to open one) taken from a pool; given back
/// when destroyed. (The pool's classes are templates only so that they are
/// compiled where the backend is used.) A broken connection is closed instead of returned.
template <class Unused>
class BasicPoolLease {
 public:
  BasicPoolLease() = default;
  BasicPoolLease(BasicConnectionPool<Unused>* pool, std::unique_ptr<Connection> c) noexcept : pool_(pool), conn_(std::move(c)) {}
  BasicPoolLease(BasicPoolLease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) { o.pool_ = nullptr; }
  BasicPoolLease& operator=(BasicPoolLease&& o) noexcept {
    if (this != &o) {
      give_back();
      pool_ = o.pool_;
      conn_ = std::move(o.conn_);
      o.pool_ = nullptr;
    }
    return *this;
  }
  BasicPoolLease(const BasicPoolLease&) = delete;
  BasicPoolLease& operator=(const BasicPoolLease&) = delete;
  ~BasicPoolLease() { give_back(); }

  /// The connection, or null when the caller must open one (then set()).
  Connection* get() const noexcept { return conn_.get(); }
  void set(std::unique_ptr<Connection> c) noexcept { conn_ = std::move(c); }
  /// Closes the connection now and frees its slot.
  void discard() noexcept {
    if (conn_) conn_->mark_broken();
    give_back();
  }
  void give_back() noexcept;

 private:
  BasicConnectionPool<Unused>* pool_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

template <class Unused>
class BasicConnectionPool {
 public:
  explicit BasicConnectionPool(std::size_t max) : max_(max) {}
  ~BasicConnectionPool() { delete hot_.load(); }
  BasicConnectionPool(const BasicConnectionPool&) = delete;
  BasicConnectionPool& operator=(const BasicConnectionPool&) = delete;

  /// An idle connection, or an empty slot to open one in; waits until the
  /// deadline for one to free up, then a timeout error.
  Result<PoolLease> acquire(net::Deadline deadline) {
    if (Connection* c = take_hot()) return PoolLease(this, std::unique_ptr<Connection>(c));
    std::unique_lock<std::mutex> lock(mutex_);
    forget_parent_connections();
    for (;;) {
      if (Connection* c = take_hot()) return PoolLease(this, std::unique_ptr<Connection>(c));
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return PoolLease(this, std::move(c));
      }
      if (open_ < max_) {
        ++open_;
        return PoolLease(this, nullptr);
      }
      // Announce the wait, then look at the hot slot once more: a
      // connection given back there after this increment wakes us.
      waiting_.fetch_add(1);
      if (Connection* c = take_hot()) {
        waiting_.fetch_sub(1);
        return PoolLease(this, std::unique_ptr<Connection>(c));
      }
      const auto st = cv_.wait_until(lock, deadline);
      waiting_.fetch_sub(1);
      if (st == std::cv_status::timeout && hot_.load() == nullptr && idle_.empty() && open_ >= max_) {
        return Error(ErrorKind::timeout, "no pooled connection became free before the timeout");
      }
    }
  }

  /// Like acquire, but never waits: false when the pool is exhausted.
  bool try_acquire(PoolLease& out) {
    if (Connection* c = take_hot()) {
      out = PoolLease(this, std::unique_ptr<Connection>(c));
      return true;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    forget_parent_connections();
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      out = PoolLease(this, std::move(c));
      return true;
    }
    if (open_ < max_) {
      ++open_;
      out = PoolLease(this, nullptr);
      return true;
    }
    return false;
  }

  /// The idle connection in the hot slot, or null: the lock-free fast
  /// path. Hand it back with give_back().
  CACHEKIT_HOT_INLINE Connection* take_hot() noexcept {
    if (hot_.load(std::memory_order_relaxed) == nullptr || fork_guard_.forked()) return nullptr;
    return hot_.exchange(nullptr);
  }
  /// Returns a connection from take_hot() (closed instead when broken).
  /// take_hot() checked for a fork, and no fork can come between the two
  /// calls in the calling thread, so that check is not repeated.
  CACHEKIT_HOT_INLINE void give_back(Connection* c) noexcept {
    if (to_hot_slot(c, false)) return;
    put_back(std::unique_ptr<Connection>(c));
  }

  /// Closes every idle connection (the server failed).
  void close_idle() {
    std::vector<std::unique_ptr<Connection>> drop;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      drop.swap(idle_);
      if (Connection* c = hot_.exchange(nullptr)) drop.emplace_back(c);
      open_ -= drop.size();
    }
    cv_.notify_all();
  }

  /// Connections open now (idle + in use).
  std::size_t open_count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_;
  }
  std::size_t max_size() const noexcept { return max_; }
  /// The process this pool's connections belong to (for Connection::open).
  int owner_pid() {
    std::lock_guard<std::mutex> lock(mutex_);
    forget_parent_connections();
    return fork_guard_.pid();
  }

 private:
  friend class BasicPoolLease<Unused>;

  // A healthy connection goes to the hot slot when it is free (no lock);
  // the mutex path serves the rest and wakes waiters.
  void put_back(std::unique_ptr<Connection> c) noexcept {
    if (c && to_hot_slot(c.get(), true)) {
      c.release();
      return;
    }
    std::unique_ptr<Connection> drop;
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (c && c->pid() != fork_guard_.pid()) {
        // Opened before a fork by the parent: not ours to use or count.
        drop = std::move(c);
      } else if (c && !c->broken() && c->idle_clean()) {
        idle_.push_back(std::move(c));
      } else {
        drop = std::move(c);
        if (open_ > 0) --open_;
      }
      wake = waiting_.load() > 0;
    }
    if (wake) cv_.notify_one();
  }

  // Puts a healthy c in the empty hot slot (waking a waiter); false when
  // c is unfit or the slot is taken, and then c is still the caller's.
  CACHEKIT_HOT_INLINE bool to_hot_slot(Connection* c, bool check_fork) noexcept {
    if (c->broken() || !c->idle_clean() || (check_fork && fork_guard_.forked())) return false;
    Connection* expected = nullptr;
    if (!hot_.compare_exchange_strong(expected, c)) return false;
    if (waiting_.load() > 0) wake_one();
    return true;
  }
  void wake_one() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    cv_.notify_one();
  }

  // After fork() the child must not touch its parent's sockets: close our
  // copies of the descriptors (the parent's stay open) and start afresh.
  void forget_parent_connections() {
    if (!fork_guard_.forked()) return;
    fork_guard_.rearm();
    delete hot_.exchange(nullptr);
    idle_.clear();
    open_ = 0;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t max_;
  std::size_t open_ = 0;
  std::atomic<std::size_t> waiting_{0};
  // One idle connection outside the mutex: a thread's take and give back
  // are then an exchange and a compare-exchange. Counted in open_.
  std::atomic<Connection*> hot_{nullptr};
  net::ForkGuard fork_guard_;
};

template <class Unused>
inline void BasicPoolLease<Unused>::give_back() noexcept {
  if (pool_ != nullptr) {
    BasicConnectionPool<Unused>* p = pool_;
    pool_ = nullptr;
    p->put_back(std::move(conn_));
  }
  conn_.reset();
}

CACHEKIT_COMPILE_ONCE(class BasicPoolLease<void>)  // see config.hpp
CACHEKIT_COMPILE_ONCE(class BasicConnectionPool<void>)

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/pool.hpp ----

// ---- begin cachekit/memcached/rejoin_log.hpp ----
// RejoinLog: the keys a server may hold a stale copy of. While a server is
// marked dead, writes to its keys land elsewhere; a write to it that ended
// without a definite answer may still land later. Before the server serves
// again, the backend deletes every key logged here on it (or flushes it
// when the log overflowed). Pure bookkeeping: no I/O, no clock.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// What a rejoin repair must do: delete keys, or flush the server.
struct RejoinBatch {
  std::vector<std::string> keys;
  bool flush = false;
  bool empty() const noexcept { return keys.empty() && !flush; }
};

/// A bounded, thread-safe set of keys to delete on one server before it
/// is used again. Past its capacity it forgets the keys and asks for a
/// flush of the whole server instead. (A template only so that its code
/// is compiled where it is used; RejoinLog is the type.)
template <class Unused = void>
class BasicRejoinLog {
 public:
  using Batch = RejoinBatch;

  explicit BasicRejoinLog(std::size_t capacity) : capacity_(capacity) {}
  BasicRejoinLog(const BasicRejoinLog&) = delete;
  BasicRejoinLog& operator=(const BasicRejoinLog&) = delete;

  /// Records key (a full key, as sent to the server).
  void add(std::string_view key) {
    std::lock_guard<std::mutex> lock(mutex_);
    add_locked(key);
  }

  /// Takes everything logged so far (the log is empty afterwards).
  Batch take() {
    std::lock_guard<std::mutex> lock(mutex_);
    Batch b;
    b.flush = overflow_;
    b.keys.reserve(keys_.size());
    for (auto it = keys_.begin(); it != keys_.end();) {
      auto node = keys_.extract(it++);
      b.keys.push_back(std::move(node.value()));
    }
    keys_.clear();
    overflow_ = false;
    return b;
  }

  /// Puts back a batch whose repair failed.
  void restore(Batch b) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (b.flush) overflow_true_locked();
    for (auto& k : b.keys) {
      if (overflow_) break;
      add_locked(k);
    }
  }

  /// Runs f() while holding the log's lock if the log is empty, and
  /// returns what f returns (false when the log is not empty). A key added
  /// concurrently is either seen here or added after f has run.
  template <class F>
  bool if_empty(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!keys_.empty() || overflow_) return false;
    return f();
  }

  /// Keys held now (for tests and monitoring); overflowed() tells whether
  /// the next repair is a flush.
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_.size();
  }
  bool overflowed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return overflow_;
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  void add_locked(std::string_view key) {
    if (overflow_) return;
    if (keys_.size() >= capacity_) {
      if (keys_.find(std::string(key)) != keys_.end()) return;
      overflow_true_locked();
      return;
    }
    keys_.emplace(key);
  }
  void overflow_true_locked() {
    overflow_ = true;
    std::unordered_set<std::string>().swap(keys_);  // a flush covers them; free the memory
  }

  mutable std::mutex mutex_;
  std::unordered_set<std::string> keys_;
  bool overflow_ = false;
  std::size_t capacity_;
};

using RejoinLog = BasicRejoinLog<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/rejoin_log.hpp ----

// ---- begin cachekit/memcached/cluster.hpp ----
// The cluster: the configured servers, each with its connection pool,
// failure count, dead time and rejoin log; the ring over all servers and
// the ring over the live ones; routing of keys around dead servers; the
// rejoin repair before a server is used again; and connections taken from
// (or opened into) a server's pool. Knows no protocol: what a new
// connection must say first (a login, a dialect check) and how a repair
// deletes keys come from the backend's hooks.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

using Clock = net::Clock;
using Deadline = net::Deadline;

template <class = void>  // compiled where it is used
struct BasicServer {
  BasicServer(ServerSpec s, std::size_t pool_size, std::size_t log_keys)
      : spec(std::move(s)), name(spec.to_string()), pool(pool_size), rejoin(log_keys) {}
  ServerSpec spec;
  std::string name;
  ConnectionPool pool;
  std::atomic<int> failures{0};
  /// Clock ticks until which the server is dead; 0 when alive.
  std::atomic<Clock::rep> dead_until{0};
  /// The last failure charged to the server, for the errors of calls
  /// refused while it is dead.
  std::mutex failure_mutex;
  Error last_failure;
  /// Keys to delete on the server before it is used again.
  RejoinLog rejoin;
  /// Held while the server's rejoin repair runs.
  std::mutex repair_mutex;
  /// The server's version was checked (meta: the dialect it speaks).
  std::atomic<bool> checked{false};
};
using Server = BasicServer<>;

/// What the cluster asks of the backend.
struct ClusterHooks {
  void* context = nullptr;
  /// The first exchange on a new connection to a server (login, dialect check).
  Result<void> (*prepare)(void* context, Server& s, Connection& c, Deadline io_end) = nullptr;
  /// The rejoin repair's deletes (or flush) on a connection to s (the
  /// lease holds it; a broken connection is closed afterwards).
  Result<void> (*repair)(void* context, Server& s, PoolLease& lease, const RejoinLog::Batch& batch, Deadline io_end) =
      nullptr;
};

// A class template only so that it is compiled where the backend is used
// (see BasicMemcachedBackend); use it as Cluster.
template <class Unused = void>
class BasicCluster {
 public:
  /// A connection idle longer than this is checked before reuse (the
  /// server may have closed it).
  static constexpr std::chrono::seconds kFreshIdle{1};
  /// Where getting a connection failed.
  enum class Stage { pool, connect };

  BasicCluster(const MemcachedBackendConfig& config, ClusterHooks hooks) : config_(config), hooks_(hooks) {
    auto ok = config_.validate();
    if (!ok) {
      init_error_ = std::move(ok).error();
      return;
    }
    std::vector<ServerSpec> specs;
    for (const auto& s : config_.servers) specs.push_back(*ServerSpec::parse(s));
    for (const auto& s : specs) servers_.push_back(std::make_unique<Server>(s, config_.max_pool_size, config_.rejoin_log_keys));
    auto ring = Ring::build(specs, config_.distribution, config_.key_hash);
    full_ring_.emplace(std::move(*ring));
#ifdef CACHEKIT_OPENSSL
    if (config_.tls) {
      net::TlsOptions o;
      o.ca_file = config_.tls_ca_file;
      o.cert_file = config_.tls_cert_file;
      o.key_file = config_.tls_key_file;
      o.verify = config_.tls_verify;
      auto t = net::TlsContext::create(o);
      if (!t) {
        init_error_ = std::move(t).error();
        return;
      }
      tls_ = std::move(*t);
    }
#endif
  }

  /// TLS handshakes completed (one per connection opened over TLS).
  std::uint64_t tls_handshakes() const noexcept {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_->handshakes();
#endif
    return 0;
  }
  /// Of those, the handshakes that resumed an earlier session.
  std::uint64_t tls_resumed() const noexcept {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_->resumed();
#endif
    return 0;
  }

  const MemcachedBackendConfig& config() const noexcept { return config_; }
  const std::optional<Error>& init_error() const noexcept { return init_error_; }
  std::size_t size() const noexcept { return servers_.size(); }
  Server& server(std::size_t i) noexcept { return *servers_[i]; }
  const Server& server(std::size_t i) const noexcept { return *servers_[i]; }
  const Ring& full_ring() const noexcept { return *full_ring_; }
  /// Servers dead or waiting for their repair.
  int dead_count() const noexcept { return dead_count_.load(std::memory_order_acquire); }
  /// The key's server when every server is alive.
  std::size_t home_of(std::string_view key) const noexcept {
    return servers_.size() == 1 ? 0 : full_ring_->server_for(key);
  }

  /// Whether server s is marked dead now.
  static bool marked_dead(const Server& s, Clock::time_point now) noexcept {
    const auto dead = s.dead_until.load(std::memory_order_acquire);
    return dead != 0 && Clock::time_point(Clock::duration(dead)) > now;
  }

  // ---- routing and failover ----

  /// Server for key (hashed without key_prefix, as libmemcached and
  /// pymemcache do), skipping dead servers. A server whose dead time is
  /// over is repaired (bounded by end) before it is routed to again.
  Result<std::size_t> route(std::string_view key, Clock::time_point now, Deadline end) {
    if (init_error_) return *init_error_;
    if (dead_count() == 0) return full_ring_->server_for(key);
    revive_due(now, end);
    std::shared_ptr<const LiveRing> live;
    {
      std::lock_guard<std::mutex> lock(routing_mutex_);
      live = live_;
    }
    if (!live) return full_ring_->server_for(key);
    if (!live->ring) return dead_error(*servers_[full_ring_->server_for(key)], now);
    return live->to_server[live->ring->server_for(key)];
  }

  /// Routes keys[pending[i]] into server_of.
  Result<void> route_many(const std::string_view* keys, const std::vector<std::uint32_t>& pending,
                          std::vector<std::size_t>& server_of, Clock::time_point now, Deadline end) {
    if (dead_count() == 0 && pending.size() == server_of.size()) {
      full_ring_->server_for(keys, pending.size(), server_of.data());
      return {};
    }
    for (auto i : pending) {
      auto r = route(keys[i], now, end);
      if (!r) return std::move(r).error();
      server_of[i] = *r;
    }
    return {};
  }

  /// Why a call for a key on dead server s is refused: the server's last
  /// failure (its kind and message), and how long it stays dead.
  Error dead_error(Server& s, Clock::time_point now) {
    Error last;
    {
      std::lock_guard<std::mutex> lock(s.failure_mutex);
      last = s.last_failure;
    }
    std::string m = s.name + " is marked dead";
    const auto until = s.dead_until.load(std::memory_order_acquire);
    const auto left = Clock::duration(until) - now.time_since_epoch();
    if (until != 0 && left > Clock::duration::zero()) {
      const auto tenths = (std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 99) / 100;
      m += " for " + std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
    } else {
      m += " until its rejoin repair succeeds";
    }
    if (!last.message().empty()) m += " after: " + last.message();
    return Error(last.message().empty() ? ErrorKind::transient : last.kind(), std::move(m));
  }

  /// Dead, or waiting for its rejoin repair (revive_due ran just before).
  static bool is_dead(const Server& s) noexcept { return s.dead_until.load(std::memory_order_acquire) != 0; }

  /// Logs full_key for s's rejoin repair; a live s is repaired before its
  /// next use. Used for a write that reached s without a definite answer.
  void note_stale(Server& s, std::string_view full_key) {
    s.rejoin.add(full_key);
    if (s.dead_until.load(std::memory_order_acquire) == 0) mark_due(s);
  }

  /// A write of key routed to server target while servers are dead: the
  /// key's own server (when it is not target) may hold an older value, and
  /// with several servers dead any of them might take the key back first.
  void note_moved(std::string_view key, std::string_view full_key, std::size_t target) {
    if (!config_.remove_failed_servers) return;  // keys never move
    const std::size_t home = full_ring_->server_for(key);
    if (home != target) note_stale(*servers_[home], full_key);
    if (dead_count() > 1) {
      for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (i != target && i != home && servers_[i]->dead_until.load(std::memory_order_acquire) != 0) {
          servers_[i]->rejoin.add(full_key);
        }
      }
    }
  }

  void record_failure(Server& s, const Error& why) {
    {
      std::lock_guard<std::mutex> lock(s.failure_mutex);
      s.last_failure = why;
    }
    const int f = s.failures.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (f < config_.server_failure_limit) return;
    std::lock_guard<std::mutex> lock(routing_mutex_);
    if (s.dead_until.load(std::memory_order_acquire) != 0) return;
    const auto until = Clock::now() + config_.dead_timeout;
    s.dead_until.store(until.time_since_epoch().count(), std::memory_order_release);
    dead_count_.fetch_add(1, std::memory_order_acq_rel);
    rebuild_live_ring_locked();
    s.pool.close_idle();
  }

  static void record_success(Server& s) noexcept {
    if (s.failures.load(std::memory_order_relaxed) != 0) s.failures.store(0, std::memory_order_relaxed);
  }

  static bool retryable_kind(ErrorKind k) noexcept { return k == ErrorKind::transient || k == ErrorKind::timeout; }
  static bool server_fault(ErrorKind k) noexcept {
    return k == ErrorKind::transient || k == ErrorKind::timeout || k == ErrorKind::unknown;
  }

  /// After an attempt failed on s with err: records the failure against
  /// the server and tells whether another attempt may follow.
  bool retry_after(const Error& err, Server& s, bool idempotent, bool sent_nothing, int attempt, Deadline end) {
    if (err.kind() == ErrorKind::authentication || err.kind() == ErrorKind::permanent) return false;
    if (server_fault(err.kind())) record_failure(s, err);
    const bool may_retry = retryable_kind(err.kind()) && (idempotent || sent_nothing);
    return may_retry && attempt < config_.retry_attempts && Clock::now() < end;
  }

  // ---- connections ----

  /// A pooled connection to server s, opening one when needed. now is
  /// the caller's current time; fresh is set when the connection was taken
  /// idle without waiting (so the caller's clock reading is still current).
  Result<PoolLease> connection(Server& s, Clock::time_point now, Deadline call_end, Stage& failed_at, bool& fresh) {
    const Deadline io_end = std::min(now + config_.timeout, call_end);
    failed_at = Stage::pool;
    fresh = false;
    auto lease = s.pool.acquire(io_end);
    if (!lease) return std::move(lease).error();
    Connection* c = lease->get();
    if (c != nullptr) {
      // A connection idle for a while may have been closed by the server.
      if (now - c->last_used() <= kFreshIdle) {
        fresh = true;
        return lease;
      }
      if (!c->idle_broken()) return lease;
      c->mark_broken();
      lease->set(nullptr);
    }
    failed_at = Stage::connect;
    now = Clock::now();
    auto opened = open_connection(s, std::min(now + config_.connect_timeout, call_end), std::min(now + config_.timeout, call_end));
    if (!opened) return std::move(opened).error();
    lease->set(std::move(*opened));
    return lease;
  }

  /// A new connection to s (connect bounded by conn_end, its first
  /// exchange by io_end).
  Result<std::unique_ptr<Connection>> open_connection(Server& s, Deadline conn_end, Deadline io_end) {
#ifdef CACHEKIT_OPENSSL
    auto c = tls_ ? Connection::open_tls(s.spec.host, s.spec.port, conn_end, s.pool.owner_pid(), *tls_,
                                         config_.tls_server_name.empty() ? s.spec.host : config_.tls_server_name, s.name)
                  : Connection::open(s.spec.host, s.spec.port, conn_end, s.pool.owner_pid());
#else
    auto c = Connection::open(s.spec.host, s.spec.port, conn_end, s.pool.owner_pid());
#endif
    if (!c) return c;
    (*c)->set_spin(config_.spin_wait);
    auto ok = hooks_.prepare(hooks_.context, s, **c, io_end);
    if (!ok) return std::move(ok).error();
    return c;
  }

 private:
  /// The ring over the servers that are alive, with indices mapped back.
  struct LiveRing {
    std::optional<Ring> ring;
    std::vector<std::size_t> to_server;
  };

  void rebuild_live_ring_locked() {
    if (dead_count() == 0 || !config_.remove_failed_servers) {
      live_.reset();
      return;
    }
    auto lr = std::make_shared<LiveRing>();
    std::vector<ServerSpec> specs;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      if (servers_[i]->dead_until.load(std::memory_order_acquire) == 0) {
        specs.push_back(servers_[i]->spec);
        lr->to_server.push_back(i);
      }
    }
    if (!specs.empty()) {
      auto r = Ring::build(std::move(specs), config_.distribution, config_.key_hash);
      if (r) lr->ring.emplace(std::move(*r));
    }
    live_ = std::move(lr);
  }

  /// Brings back every server whose dead time is over, each after its
  /// rejoin repair (bounded by end).
  void revive_due(Clock::time_point now, Deadline end) {
    const auto t = now.time_since_epoch().count();
    for (auto& s : servers_) {
      const auto d = s->dead_until.load(std::memory_order_acquire);
      if (d != 0 && t >= d) revive(*s, end);
    }
  }

  /// Deletes on s the keys in its rejoin log (or flushes s when the log
  /// overflowed), then puts s back in the ring. A key logged meanwhile
  /// keeps it out for another round; a failed repair keeps it dead for
  /// dead_timeout. One thread repairs a server at a time; the others wait.
  void revive(Server& s, Deadline end) {
    std::lock_guard<std::mutex> repair_lock(s.repair_mutex);
    for (int round = 0; round < 3; ++round) {
      auto d = s.dead_until.load(std::memory_order_acquire);
      if (d == 0 || Clock::now().time_since_epoch().count() < d) return;
      RejoinLog::Batch batch = s.rejoin.take();
      if (!batch.empty()) {
        auto ok = repair(s, batch, end);
        if (!ok) {
          s.rejoin.restore(std::move(batch));
          const Error& e = ok.error();
          keep_dead(s, Error(e.kind(), "rejoin repair: " + e.message()));
          return;
        }
      }
      std::lock_guard<std::mutex> lock(routing_mutex_);
      // Live only with nothing left to repair (see RejoinLog::if_empty).
      const bool live = s.rejoin.if_empty([&] { return s.dead_until.compare_exchange_strong(d, 0, std::memory_order_acq_rel); });
      if (live) {
        // Back from a dead time, on probation: one more failure sends it
        // back out. (A live server that was only due for a repair, tick 1,
        // keeps its count.)
        if (d != 1) s.failures.store(config_.server_failure_limit - 1, std::memory_order_release);
        dead_count_.fetch_sub(1, std::memory_order_acq_rel);
        rebuild_live_ring_locked();
        return;
      }
    }
  }

  /// Marks s dead for dead_timeout from now after why (s already counts as dead).
  void keep_dead(Server& s, const Error& why) {
    {
      std::lock_guard<std::mutex> lock(s.failure_mutex);
      s.last_failure = why;
    }
    {
      std::lock_guard<std::mutex> lock(routing_mutex_);
      s.dead_until.store((Clock::now() + config_.dead_timeout).time_since_epoch().count(), std::memory_order_release);
    }
    s.pool.close_idle();
  }

  /// The rejoin repair of s, bounded by timeout (and end).
  Result<void> repair(Server& s, const RejoinLog::Batch& batch, Deadline end) {
    const auto now = Clock::now();
    const Deadline stop = std::min(now + config_.connect_timeout + config_.timeout, end);
    Stage stage = Stage::pool;
    bool fresh = false;
    auto lease = connection(s, now, stop, stage, fresh);
    if (!lease) return std::move(lease).error();
    auto ok = hooks_.repair(hooks_.context, s, *lease, batch, std::min(Clock::now() + config_.timeout, stop));
    Connection* c = lease->get();
    if (c == nullptr || c->broken()) {
      lease->discard();
    } else {
      c->touch_used(Clock::now());
    }
    return ok;
  }

  /// Marks live server s as needing its rejoin repair before it is used again.
  void mark_due(Server& s) {
    std::lock_guard<std::mutex> lock(routing_mutex_);
    Clock::rep alive = 0;
    if (!s.dead_until.compare_exchange_strong(alive, 1, std::memory_order_acq_rel)) return;  // tick 1: due at once
    dead_count_.fetch_add(1, std::memory_order_acq_rel);
    rebuild_live_ring_locked();
  }

  const MemcachedBackendConfig& config_;
  ClusterHooks hooks_;
#ifdef CACHEKIT_OPENSSL
  // null without tls; declared before servers_ so that their connections
  // (whose TLS sessions use it) are destroyed first
  std::unique_ptr<net::TlsContext> tls_;
#endif
  std::optional<Error> init_error_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::optional<Ring> full_ring_;
  std::atomic<int> dead_count_{0};
  std::mutex routing_mutex_;
  std::shared_ptr<const LiveRing> live_;
};

using Cluster = BasicCluster<>;
CACHEKIT_COMPILE_ONCE(class BasicCluster<void>)  // see config.hpp

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/cluster.hpp ----

// ---- begin cachekit/memcached/keys.hpp ----
// Key and value rules of MemcachedBackend: key_prefix + key, validated
// (length, bytes), in a stack buffer; the errors that name a refused key
// or value; memcached's item size rule. Pure: no I/O.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Key with prefix, validated; in a stack buffer when there is a prefix
/// (no allocation), else the caller's bytes.
struct FullKey {
  char buf[CACHEKIT_MAX_KEY_LENGTH];
  const char* data = buf;
  std::size_t len = 0;
  std::string_view view() const noexcept { return std::string_view(data, len); }
};

class KeyRules {
 public:
  explicit KeyRules(const MemcachedBackendConfig& config) : config_(config), prefix_(config.key_prefix) {}

  /// Why key (with key_prefix) is not a valid memcached key, or null.
  CACHEKIT_HOT_INLINE const char* problem(std::string_view key) const noexcept {
    if (key.empty()) return "empty key";
    if (prefix_.size() + key.size() > CACHEKIT_MAX_KEY_LENGTH) return "key longer than 250 bytes (with key_prefix)";
    if (has_bad_key_byte(key.data(), key.size())) return "key contains whitespace or a control character";
    return nullptr;
  }

  /// Fills out with key_prefix + key; null, or why the key is refused.
  CACHEKIT_HOT_INLINE const char* make(std::string_view key, FullKey& out) const noexcept {
    if (const char* why = problem(key)) return why;
    if (prefix_.empty()) {
      out.data = key.data();
    } else {
      std::memcpy(out.buf, prefix_.data(), prefix_.size());
      std::memcpy(out.buf + prefix_.size(), key.data(), key.size());
    }
    out.len = prefix_.size() + key.size();
    return nullptr;
  }

  /// A refused key: why, with the length and at most the first 64 bytes of
  /// the key when it is too long.
  Error error(const char* why, const char* op, std::string_view key) const {
    const std::size_t len = config_.key_prefix.size() + key.size();
    if (len <= CACHEKIT_MAX_KEY_LENGTH) {
      Error e(ErrorKind::permanent, why);
      e.with_operation(op);
      if (!key.empty()) e.with_key(std::string(key));
      return e;
    }
    std::string m = config_.key_prefix.empty() ? "key of " : "key_prefix + key of ";
    m += std::to_string(len) + " bytes is longer than the " + std::to_string(CACHEKIT_MAX_KEY_LENGTH) + "-byte limit";
    constexpr std::size_t kShown = 64;
    if (key.size() > kShown) m += " (key= shows its first " + std::to_string(kShown) + " bytes)";
    Error e(ErrorKind::permanent, std::move(m));
    e.with_operation(op);
    e.with_key(std::string(key.substr(0, kShown)));
    return e;
  }

  /// memcached's item header, counted against its item size limit (-I)
  /// with the key and the value (1.6, 64-bit: header, CAS, the key's NUL,
  /// the value's CRLF); non-zero flags add four bytes.
  static constexpr std::size_t kItemOverhead = 59, kFlagsOverhead = 4;

  /// Refuses a value that a server with max_item_size_bytes as its item
  /// size limit would refuse (key_len: the full key's length).
  Result<void> check_value(std::string_view value, std::size_t key_len, std::uint32_t flags) const {
    const std::size_t limit = config_.max_item_size_bytes;
    const std::size_t overhead = key_len + kItemOverhead + (flags != 0 ? kFlagsOverhead : 0);
    if (limit != 0 && (value.size() > limit || limit - value.size() < overhead)) {
      const std::size_t fits = limit > overhead ? limit - overhead : 0;
      return Error(ErrorKind::permanent,
                   "value of " + std::to_string(value.size()) + " bytes does not fit max_item_size_bytes (" +
                       std::to_string(limit) + "): memcached's item size limit also counts the " +
                       std::to_string(key_len) + "-byte key and " + std::to_string(overhead - key_len) +
                       " bytes of item header, so at most " + std::to_string(fits) + " bytes fit");
    }
    if (value.size() > 0xffffffffu - CACHEKIT_MAX_KEY_LENGTH - 8) return Error(ErrorKind::permanent, "value too large");
    return {};
  }

 private:
  const MemcachedBackendConfig& config_;
  std::string_view prefix_;  // config_.key_prefix, read on every call
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/keys.hpp ----

// ---- begin cachekit/memcached/executor.hpp ----
// The executor: runs one operation on one key with routing, pooled
// connections, retries and failover. One fast path (every server alive,
// an idle connection in the key's server's hot slot) and one retry loop
// for everything else. The operation itself is a callable
// fn(connection, full key, deadline, now) from a wire's conversation; the
// executor knows no protocol.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Whether an operation may change what the server holds for its key.
enum class Effect { read, write };

// A class template for the reason BasicCluster is one; use it as Executor.
template <class Unused = void>
class BasicExecutor {
 public:
  BasicExecutor(const MemcachedBackendConfig& config, Cluster& cluster, const KeyRules& keys,
           const std::atomic<Protocol>& protocol)
      : config_(config),
        cluster_(cluster),
        keys_(keys),
        protocol_(protocol),
        call_budget_(config.connect_timeout + (config.retry_attempts + 1) * config.timeout) {}

  /// Set when a server answered a command of the protocol in use with
  /// ERROR (it predates the protocol); the backend then changes protocol.
  std::atomic<bool>& refused() noexcept { return refused_; }
  /// The server that refused it (null when none did).
  const Server* refused_by() const noexcept { return refused_by_.load(std::memory_order_acquire); }

  /// The end of a call that starts at start: connect_timeout and one
  /// timeout per attempt.
  Deadline call_deadline(Clock::time_point start) const noexcept { return start + call_budget_; }

  /// op, key and server added to an error.
  Error decorate(Error e, const char* op, std::string_view key, const Server* s) const {
    e.with_operation(op);
    if (!key.empty()) e.with_key(std::string(key));
    if (s != nullptr) e.with_server(s->name);
    return e;
  }

  /// Runs fn(connection, key, deadline, now) for one key with routing,
  /// retries and failover. idempotent=false: never retried once a byte was
  /// sent.
  template <class T, class Fn>
  Result<T> single(const char* op, std::string_view key, bool idempotent, Effect effect, Fn&& fn) {
    FullKey fk;
    if (const char* why = keys_.make(key, fk)) return keys_.error(why, op, key);
    if (cluster_.init_error()) return decorate(*cluster_.init_error(), op, key, nullptr);
    const auto start = Clock::now();
    const Deadline end = call_deadline(start);
    int attempt = 0;
    // Common case first: every server alive and an idle connection, used
    // within the last second, in the server's hot slot (no lock taken).
    if (cluster_.dead_count() == 0) {
      Server& s = cluster_.server(cluster_.home_of(key));
      if (Connection* c = s.pool.take_hot()) {
        if (start - c->last_used() <= Cluster::kFreshIdle) {
          auto r = fn(*c, fk.view(), std::min(start + config_.timeout, end), start);
          if (r) {
            give_back_hot(s, c, start);
            return r;
          }
          Error err = explain(std::move(r).error(), *c, &s);
          const bool broken = give_back_hot(s, c, start);
          const bool again = broken && cluster_.retry_after(err, s, idempotent, false, attempt, end);
          if (broken && effect == Effect::write) cluster_.note_stale(s, fk.view());  // sent, no definite answer
          if (!again) return decorate(std::move(err), op, key, &s);
          ++attempt;
        } else {
          s.pool.give_back(c);  // idle a while: the general path checks it first
        }
      }
    }
    return retry_loop<T>(op, key, fk, idempotent, effect, fn, attempt, start);
  }

  /// The attempts of single() from `attempt` on, within the call that
  /// started at `start`: routing around dead servers, pooled connections.
  template <class T, class Fn>
  Result<T> retry_loop(const char* op, std::string_view key, const FullKey& fk, bool idempotent, Effect effect, Fn&& fn,
                       int attempt, Clock::time_point start) {
    const Deadline end = call_deadline(start);
    for (;; ++attempt) {
      const auto now = attempt == 0 ? start : Clock::now();
      auto idx = cluster_.route(key, now, end);
      if (!idx) return decorate(std::move(idx).error(), op, key, nullptr);
      Server& s = cluster_.server(*idx);
      if (!config_.remove_failed_servers && Cluster::is_dead(s)) {
        return decorate(cluster_.dead_error(s, now), op, key, nullptr);
      }
      // A write routed away from a dead server: logged before it is sent.
      if (effect == Effect::write && cluster_.dead_count() != 0) cluster_.note_moved(key, fk.view(), *idx);
      bool sent_nothing = false, in_doubt = false;
      std::optional<Error> failure;
      {
        Cluster::Stage stage = Cluster::Stage::pool;
        bool fresh = false;
        auto lease = cluster_.connection(s, now, end, stage, fresh);
        if (lease) {
          Connection& c = *lease->get();
          const auto t = fresh ? now : Clock::now();
          auto r = fn(c, fk.view(), std::min(t + config_.timeout, end), t);
          if (r) {
            c.touch_used(t);
            Cluster::record_success(s);
            return r;
          }
          Error err = explain(std::move(r).error(), c, &s);
          if (!c.broken()) {
            c.touch_used(t);
            Cluster::record_success(s);
            return decorate(std::move(err), op, key, &s);
          }
          failure.emplace(std::move(err));
          in_doubt = effect == Effect::write;
        } else {
          // An exhausted pool is not the server's fault and is not retried.
          if (stage == Cluster::Stage::pool) return decorate(std::move(lease).error(), op, key, &s);
          failure.emplace(std::move(lease).error());
          sent_nothing = true;
        }
      }
      const bool again = !refused_.load(std::memory_order_relaxed) &&
                         cluster_.retry_after(*failure, s, idempotent, sent_nothing, attempt, end);
      if (in_doubt) cluster_.note_stale(s, fk.view());
      if (!again) return decorate(std::move(*failure), op, key, &s);
    }
  }

  /// Runs fn on server i directly (no routing, no retries): admin commands.
  template <class T, class Fn>
  Result<T> on_server(std::size_t i, const char* op, Deadline end, Fn&& fn) {
    if (cluster_.init_error()) return decorate(*cluster_.init_error(), op, {}, nullptr);
    Server& s = cluster_.server(i);
    Cluster::Stage stage = Cluster::Stage::pool;
    bool fresh = false;
    auto lease = cluster_.connection(s, Clock::now(), end, stage, fresh);
    if (!lease) return decorate(std::move(lease).error(), op, {}, &s);
    Connection& c = *lease->get();
    auto r = fn(c, std::min(Clock::now() + config_.timeout, end));
    c.touch_used(Clock::now());
    if (!r) return decorate(explain(std::move(r).error(), c, &s), op, {}, &s);
    return r;
  }

  /// Returns a connection used on the fast path (closed when it broke,
  /// else a success for s); true when it broke.
  CACHEKIT_HOT_INLINE bool give_back_hot(Server& s, Connection* c, Clock::time_point used) noexcept {
    const bool broken = c->broken();
    if (!broken) {
      c->touch_used(used);
      Cluster::record_success(s);
    }
    s.pool.give_back(c);
    return broken;
  }

  /// err from an attempt on c, with what it suggests: a server that
  /// answered ERROR to the protocol's commands is noted (the backend moves
  /// to text); a connection closed, or answered with bytes that are no
  /// reply, before any whole reply may face a server that does not speak
  /// the protocol at all (a proxy speaks only text; a hang is just a timeout).
  CACHEKIT_COLD_NOINLINE Error explain(Error err, const Connection& c, const Server* s = nullptr) {
    if (c.protocol_refused()) {
      if (s != nullptr) refused_by_.store(s, std::memory_order_release);
      refused_.store(true, std::memory_order_release);
    }
    const Protocol p = protocol_.load(std::memory_order_relaxed);
    if (!c.answered() && c.broken() && p != Protocol::text &&
        (err.kind() == ErrorKind::transient || err.kind() == ErrorKind::unknown)) {
      return Error(err.kind(), err.message() + " (the server sent no reply in the " + to_string(p) +
                                   " protocol; a proxy such as twemproxy or mcrouter speaks only text: set "
                                   "protocol = text)");
    }
    return err;
  }

 private:
  const MemcachedBackendConfig& config_;
  Cluster& cluster_;
  const KeyRules& keys_;
  const std::atomic<Protocol>& protocol_;
  std::chrono::milliseconds call_budget_;
  std::atomic<bool> refused_{false};
  std::atomic<const Server*> refused_by_{nullptr};
};

using Executor = BasicExecutor<>;
CACHEKIT_COMPILE_ONCE(class BasicExecutor<void>)  // see config.hpp

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/executor.hpp ----

// ---- begin cachekit/memcached/pipeline.hpp ----
// The pipeline engine: many requests on many connections at once. Each
// job is one pipeline on one pooled connection (its requests, then the
// wire's end-of-batch marker); run_jobs sends what every socket takes,
// reads what every socket has, and hands each whole reply to the caller's
// handler until every job's last reply came or the deadline passed.
// Reading interleaves with writing, so a batch larger than the socket
// buffers never deadlocks on replies that arrive before the end marker.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <poll.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// One pipeline on one connection: requests for keys[idx...], then the
/// wire's end marker.
template <class = void>  // compiled where it is used
struct BasicJob {
  std::size_t server = 0;
  std::vector<std::uint32_t> keys;  // indices into the caller's arrays
  PoolLease lease;
  std::uint32_t base = 0;      // opaque of the first request (binary, meta)
  std::uint32_t end_mark = 0;  // opaque of the end marker (binary, meta)
  std::size_t cursor = 0;      // next key a reply may answer (text: replies come in order)
  std::size_t ends_left = 0;   // end lines still to come (text: one END per get command)
  bool done = false;
  bool failed = false;
  bool pool_exhausted = false;  // no connection became free: not the server's fault
  Error error;

  /// Ready for another pipeline; keeps the capacity of keys.
  void reset() noexcept {
    server = 0;
    keys.clear();
    lease.give_back();
    base = end_mark = 0;
    cursor = ends_left = 0;
    done = failed = pool_exhausted = false;
    if (!error.message().empty()) error = Error();
  }
};
using Job = BasicJob<>;

/// What a reply handler tells run_jobs.
enum class Verdict { more, last, bad, error };

/// run_jobs without a fast path: every reply goes through the handler.
struct NoFastPath {
  std::size_t operator()(Job&, const char*, std::size_t) const noexcept { return 0; }
};

/// Per-thread working arrays of the batch operations, reused from call to
/// call: with glibc, a large allocation made while the previous batch's
/// freed values sit in the fast bins merges them all, and every value
/// allocation after it takes the slow path. So get_many's values go here
/// first and the caller's vector is the last allocation of the call.
template <class = void>  // compiled where it is used
struct BasicManyScratch {
  std::vector<std::string_view> views;             // the caller's keys
  std::vector<std::string_view> full;              // prefix + key
  std::vector<std::optional<std::string>> values;  // the spare result vector
  std::vector<unsigned char> hit;                  // which slots got a value
  std::vector<std::uint32_t> pending;
  std::vector<std::size_t> server_of;
  std::vector<Job> jobs;
  std::vector<std::vector<std::uint32_t>> by_server;
  std::vector<std::size_t> first_of;
  std::vector<pollfd> fds;
  std::vector<std::size_t> fd_job;
  std::vector<unsigned char> readable;
};
using ManyScratch = BasicManyScratch<>;
template <class = void>  // compiled where it is used
inline ManyScratch& many_scratch() {
  static thread_local ManyScratch s;
  return s;
}
/// After a call, a very large scratch array gives its memory back; a
/// smaller one keeps its size, so that a next batch of the same size is
/// written over it without being initialised first.
template <class V>
inline void shed(V& v) noexcept {
  if (v.capacity() > 4096) V().swap(v);
}
/// Empties a scratch array; a very large one gives its memory back.
template <class V>
inline void trim(V& v) noexcept {
  v.clear();
  if (v.capacity() > 4096) V().swap(v);
}

/// How many elements a range of keys holds: its size() when it has one,
/// else counted by walking it once.
template <class R, class = void>
struct has_std_size : std::false_type {};
template <class R>
struct has_std_size<R, std::void_t<decltype(std::size(std::declval<const R&>()))>> : std::true_type {};
template <class R>
inline std::size_t range_size(const R& range) {
  if constexpr (has_std_size<R>::value) {
    return static_cast<std::size_t>(std::size(range));
  } else {
    std::size_t n = 0;
    for (auto it = std::begin(range), end = std::end(range); it != end; ++it) ++n;
    return n;
  }
}

/// Gives back every job's connection when a pipeline attempt ends (the
/// jobs live in per-thread scratch and outlast the call).
template <class = void>  // compiled where it is used
struct LeasesBack {
  std::vector<Job>& jobs;
  ~LeasesBack() {
    for (auto& j : jobs) j.lease.give_back();
  }
};

/// Drives every job's connection at once until each job's last reply came
/// or the deadline passes. on_reply(job, reply, why) judges each whole
/// reply of Wire: Verdict::more, last (the job's end marker), bad (why
/// set: the connection is out of step) or error (job.error set: an error
/// reply; the connection is closed). When one job is left with everything
/// sent, it waits in a blocking read (no poll). fast(job, data, n), when
/// given, may first take the common replies at the front of data (n
/// buffered bytes, whole replies in place) and returns how many bytes it
/// used; it leaves anything else, including every reply that is wrong, to
/// on_reply's checks.
template <class Wire, class OnReply, class Fast = NoFastPath>
void run_jobs(std::vector<Job>& jobs, net::Deadline deadline, OnReply&& on_reply, Fast&& fast = Fast{}) {
  auto fail = [&](Job& j, Error e) {
    j.failed = true;
    j.done = true;
    j.error = std::move(e);
    if (j.lease.get() != nullptr) j.lease.get()->mark_broken();
  };
  // Parses everything buffered on j's connection.
  auto consume = [&](Job& j) {
    Connection& c = *j.lease.get();
    typename Wire::Reply r;
    const char* why = nullptr;
    while (!j.done) {
      if (c.between_replies() && c.has_buffered()) {
        if (const std::size_t taken = fast(j, c.buffered(), c.buffered_size())) c.skip(taken);
      }
      const int have = c.template next_reply<Wire>(r, why);
      if (have == 0) return;
      if (have < 0) return fail(j, c.protocol_failure(why));
      const Verdict verdict = on_reply(j, r, why);
      c.reply_done();
      if (verdict == Verdict::bad) return fail(j, c.protocol_failure(why));
      if (verdict == Verdict::error) {
        Error e = std::move(j.error);
        return fail(j, std::move(e));
      }
      if (verdict == Verdict::last) {
        j.done = true;
        if (c.has_buffered()) fail(j, c.protocol_failure("unexpected bytes after the last reply"));
      }
    }
  };
  ManyScratch& sc = many_scratch();
  std::vector<pollfd>& fds = sc.fds;
  std::vector<std::size_t>& fd_job = sc.fd_job;
  std::vector<unsigned char>& readable = sc.readable;
  readable.assign(jobs.size(), 0);
  for (;;) {
    fds.clear();
    fd_job.clear();
    bool buffered = false;  // a TLS session holds decrypted bytes: no poll this round
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      Job& j = jobs[i];
      if (j.done) continue;
      Connection& c = *j.lease.get();
      if (c.pending() > 0) {
        auto sent = c.send_some();
        if (!sent) {
          fail(j, std::move(sent).error());
          continue;
        }
      }
      if (readable[i]) {
        readable[i] = 0;
        auto more = c.recv_available();
        if (!more) {
          fail(j, std::move(more).error());
          continue;
        }
        consume(j);
        if (j.done) continue;
      }
      if (c.tls_buffered()) {
        readable[i] = 1;
        buffered = true;
      }
      fds.push_back(pollfd{c.fd(), static_cast<short>(POLLIN | (c.pending() > 0 ? POLLOUT : 0)), 0});
      fd_job.push_back(i);
    }
    if (fds.empty()) return;
    if (fds.size() == 1 && jobs[fd_job[0]].lease.get()->pending() == 0) {
      Job& j = jobs[fd_job[0]];
      Connection& c = *j.lease.get();
      while (!j.done) {
        auto got = c.fill(deadline, net::Clock::now());
        if (!got) return fail(j, std::move(got).error());
        consume(j);
      }
      return;
    }
    if (buffered) continue;
    // Busy-polling is for one connection only (the last job, or a single
    // one still sending): while several are in flight the batch lasts as
    // long as the slowest, and a spinning thread would only take a core
    // from the servers or the process. The last one left is waited for in
    // the blocking read above, which spins as a get does.
    Connection& lead = *jobs[fd_job[0]].lease.get();
    Result<int> ready = 0;
    if (fds.size() == 1 && lead.spin_now()) {
      bool spun = false;
      ready = net::poll_spin(fds.data(), fds.size(), std::min(net::Clock::now() + lead.spin_budget(), deadline), spun);
      if (ready && spun) lead.spin_outcome(*ready > 0);
    }
    if (ready && *ready == 0) ready = net::wait_many(fds.data(), fds.size(), deadline);
    if (!ready || *ready == 0) {
      Error e = ready ? Error(ErrorKind::timeout, "no complete reply before the timeout") : std::move(ready).error();
      for (auto i : fd_job) fail(jobs[i], e);
      return;
    }
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents & (POLLIN | POLLERR | POLLHUP)) readable[fd_job[k]] = 1;
    }
  }
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/pipeline.hpp ----

// ---- begin cachekit/memcached/batch.hpp ----
// The batch skeleton that get_many and set_many share: route the pending
// keys, split them into jobs per server (a large share over several pooled
// connections), connect, encode each job with the wire's conversation, run
// the pipelines, then collect the keys of failed jobs and retry them while
// the failure allows it. What differs between the two operations (the
// requests, the reply handler, what a failed key undoes) comes in as
// callables.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Splits the pending key indices into jobs per server (large batches
/// over several pooled connections).
template <class = void>
inline void plan_jobs(Cluster& cluster, const std::vector<std::uint32_t>& pending,
                      const std::vector<std::size_t>& server_of, std::vector<Job>& jobs) {
  const MemcachedBackendConfig& config = cluster.config();
  std::vector<std::vector<std::uint32_t>>& by_server = many_scratch().by_server;
  const std::size_t servers = cluster.size();
  if (by_server.size() < servers) by_server.resize(servers);
  for (std::size_t s = 0; s < servers; ++s) by_server[s].clear();
  const bool one = servers == 1;  // then every key is pending's, in order
  if (!one) {
    for (auto i : pending) by_server[server_of[i]].push_back(i);
  }
  std::size_t used = 0;
  for (std::size_t s = 0; s < servers; ++s) {
    const std::vector<std::uint32_t>& ks = one ? pending : by_server[s];
    if (ks.empty()) continue;
    const std::size_t chunk = config.pipeline_chunk_keys;
    std::size_t parts = (ks.size() + chunk - 1) / chunk;
    parts = std::max<std::size_t>(1, std::min(parts, config.max_pool_size));
    const std::size_t per = (ks.size() + parts - 1) / parts;
    for (std::size_t off = 0; off < ks.size(); off += per) {
      if (used == jobs.size()) jobs.emplace_back();
      Job& j = jobs[used++];
      j.reset();
      j.server = s;
      j.keys.assign(ks.begin() + static_cast<std::ptrdiff_t>(off),
                    ks.begin() + static_cast<std::ptrdiff_t>(std::min(ks.size(), off + per)));
    }
  }
  jobs.resize(used);
  for (std::size_t s = 0; s < servers; ++s) trim(by_server[s]);
}

/// Opens or takes connections for jobs: the first per server may wait,
/// extra ones only if free now (else merged into the server's first job).
template <class = void>
inline void connect_jobs(Cluster& cluster, std::vector<Job>& jobs, Deadline end) {
  const MemcachedBackendConfig& config = cluster.config();
  std::vector<std::size_t>& first_of = many_scratch().first_of;
  first_of.assign(cluster.size(), static_cast<std::size_t>(-1));
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    Job& job = jobs[j];
    Server& s = cluster.server(job.server);
    if (first_of[job.server] != static_cast<std::size_t>(-1)) {
      Job& first = jobs[first_of[job.server]];
      auto merge = [&] {
        first.keys.insert(first.keys.end(), job.keys.begin(), job.keys.end());
        job.keys.clear();
        job.done = true;
      };
      if (first.failed || !s.pool.try_acquire(job.lease)) {
        merge();
        continue;
      }
      if (job.lease.get() == nullptr) {
        const auto now = Clock::now();
        auto opened = cluster.open_connection(s, std::min(now + config.connect_timeout, end), std::min(now + config.timeout, end));
        if (!opened) {
          job.lease.discard();
          merge();
          continue;
        }
        job.lease.set(std::move(*opened));
      }
      continue;
    }
    first_of[job.server] = j;
    Cluster::Stage stage = Cluster::Stage::pool;
    bool fresh = false;
    auto lease = cluster.connection(s, Clock::now(), end, stage, fresh);
    if (!lease) {
      job.failed = true;
      job.done = true;
      job.pool_exhausted = stage == Cluster::Stage::pool;
      job.error = std::move(lease).error();
      continue;
    }
    job.lease = std::move(*lease);
  }
}

CACHEKIT_COMPILE_ONCE(void plan_jobs<void>(Cluster&, const std::vector<std::uint32_t>&, const std::vector<std::size_t>&,
                                           std::vector<Job>&))  // see config.hpp
CACHEKIT_COMPILE_ONCE(void connect_jobs<void>(Cluster&, std::vector<Job>&, Deadline))

/// How a batch ended: every key answered, or the error of the last failed
/// job (and its server) once no retry may follow; the keys still without an
/// answer are in pending.
struct BatchEnd {
  bool complete = true;
  Error error;
  const Server* server = nullptr;
};

/// Runs the batch over the keys in pending until each has its answer or no
/// retry may follow. keys: the caller's keys (routed without key_prefix);
/// encode(conn, job) writes a job's requests; on_reply(job, reply, why) and
/// fast(job, data, n) as run_jobs takes them; lost(idx) runs for each key
/// of a failed job before it is retried (undo what its replies gave);
/// writes: the batch changes data (its failed keys are in doubt).
template <class Wire, class Encode, class OnReply, class Fast, class Lost, class FullKeyOf>
BatchEnd run_batch(Cluster& cluster, Executor& exec, const std::string_view* keys, std::vector<std::uint32_t>& pending,
                   std::vector<std::size_t>& server_of, Clock::time_point start, bool writes, FullKeyOf&& full_key,
                   Encode&& encode, OnReply&& on_reply, Fast&& fast, Lost&& lost) {
  const MemcachedBackendConfig& config = cluster.config();
  const Deadline end = exec.call_deadline(start);
  for (int attempt = 0;; ++attempt) {
    if (cluster.size() > 1 || cluster.dead_count() != 0) {
      auto routed = cluster.route_many(keys, pending, server_of, attempt == 0 ? start : Clock::now(), end);
      if (!routed) return BatchEnd{false, std::move(routed).error(), nullptr};
    }
    // Writes routed away from dead servers: logged before they are sent.
    if (writes && cluster.dead_count() != 0) {
      for (auto i : pending) cluster.note_moved(keys[i], full_key(i), server_of[i]);
    }
    std::vector<Job>& jobs = many_scratch().jobs;
    const LeasesBack<> leases_back{jobs};
    plan_jobs(cluster, pending, server_of, jobs);
    connect_jobs(cluster, jobs, end);
    for (auto& j : jobs) {
      if (!j.done) encode(*j.lease.get(), j);
    }
    run_jobs<Wire>(jobs, std::min(Clock::now() + config.timeout, end), on_reply, fast);
    // Give back healthy connections, collect the keys of failed jobs.
    pending.clear();
    BatchEnd out;
    bool exhausted = false;
    for (auto& j : jobs) {
      Server& s = cluster.server(j.server);
      if (j.failed) {
        out.complete = false;
        out.error = j.lease.get() != nullptr ? exec.explain(j.error, *j.lease.get(), &s) : j.error;
        out.server = &s;
        if (j.pool_exhausted) {
          exhausted = true;
        } else if (Cluster::server_fault(j.error.kind()) && !exec.refused().load(std::memory_order_relaxed)) {
          cluster.record_failure(s, j.error);
        }
        for (auto k : j.keys) {
          lost(k);
          pending.push_back(k);
        }
        // Sent (or partly sent) without a definite answer: in doubt.
        if (writes && j.lease.get() != nullptr) {
          for (auto k : j.keys) cluster.note_stale(s, full_key(k));
        }
        j.lease.discard();
      } else if (j.lease.get() != nullptr) {
        j.lease.get()->touch_used(start);
        Cluster::record_success(s);
      }
    }
    if (pending.empty()) return BatchEnd{};
    if (exhausted || exec.refused().load(std::memory_order_relaxed) || !Cluster::retryable_kind(out.error.kind()) ||
        attempt >= config.retry_attempts || Clock::now() >= end) {
      return out;
    }
    std::sort(pending.begin(), pending.end());
  }
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/batch.hpp ----

// ---- begin cachekit/memcached/types.hpp ----
// What MemcachedBackend's operations return besides plain values: items
// with flags and CAS, per-key failures of a batch, per-server admin
// results. Protocol-neutral.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

/// A value with its flags and CAS token, as gets() returns it.
struct Item {
  std::string value;
  std::uint32_t flags = 0;
  std::uint64_t cas = 0;
};

/// Outcome of a compare-and-swap.
enum class CasOutcome {
  stored,     ///< the value was replaced
  conflict,   ///< the item changed since gets() (CAS mismatch)
  not_found,  ///< the item is gone
};

/// A key that set_many could not store: its index in the input, and why.
struct KeyError {
  std::size_t index = 0;
  Error error;
};

/// Statistics of one server ("stat" command), or why they are missing.
struct ServerStats {
  std::string server;
  bool ok = false;
  Error error;
  std::vector<std::pair<std::string, std::string>> stats;
};

/// Version of one server, or why it is missing.
struct ServerVersion {
  std::string server;
  bool ok = false;
  Error error;
  std::string version;
};

/// Health of one server.
struct ServerHealth {
  std::string server;
  bool up = false;
  /// The server is currently taken out of the ring after repeated failures.
  bool marked_dead = false;
  std::chrono::microseconds latency{0};
  std::string version;
  Error error;
};

namespace detail {
/// What a storage command did, whatever the wire.
enum class StoreStatus { stored, not_stored, exists, not_found };
}  // namespace detail

CACHEKIT_END_NAMESPACE
// ---- end cachekit/memcached/types.hpp ----

// ---- begin cachekit/memcached/wire_binary.hpp ----
// The operations of MemcachedBackend as conversations in the binary
// protocol: what to send on a connection and how to read the answer.
// Every conversation class (BinaryConversation here, TextConversation and
// MetaConversation beside it) offers the same static functions, so the
// backend is a template over it: the executor, the pipeline engine and the
// batch skeleton know no protocol.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class = void>  // compiled where it is used
struct BasicBinaryConversation {
  using Wire = protocol::BinaryWire;
  using Reply = protocol::Reply;
  using Deadline = net::Deadline;
  using TimePoint = net::Clock::time_point;
  static constexpr Protocol kProtocol = Protocol::binary;

  // ---- one key ----

  /// A get of key; on a hit, store(value) runs with a view of the value
  /// (valid during the call).
  template <class Store>
  static Result<void> get(Connection& c, std::string_view key, Deadline d, TimePoint now, Store&& store) {
    const std::uint32_t opaque = c.take_opaques();
    const std::size_t n = protocol::encode_head(c.head(), protocol::Opcode::get, key, {}, 0, opaque);
    auto sent = c.send_head(c.head(), n, d);
    if (!sent) return sent;
    Reply r;
    const char* why = nullptr;
    for (bool first = true;; first = false) {
      auto got = c.fill(d, first ? now : net::Clock::now());
      if (!got) return got;
      if (c.between_replies()) {  // the usual hit, whole in the buffer
        const std::size_t len = protocol::decode_hit(c.buffered(), c.buffered_size(), protocol::Opcode::get, r);
        if (len != 0) {
          c.skip(len);
          break;
        }
      }
      const int have = c.next_reply<Wire>(r, why);
      if (have < 0) return c.protocol_failure(why);
      if (have > 0) break;
    }
    const auto& h = r.header;
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::get)) {
      return c.protocol_failure("reply opcode does not match the request");
    }
    if (h.opaque != opaque) return c.protocol_failure("reply opaque does not match the request");
    if (h.status == 0) {
      store(r.value());
    } else if (h.status != static_cast<std::uint16_t>(protocol::Status::key_not_found)) {
      c.reply_done();
      return protocol::status_error(h.status);
    }
    c.reply_done();
    return {};
  }

  static Result<std::optional<Item>> gets(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    Reply r;
    auto ok = request(c, r, protocol::Opcode::get, key, {}, {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    std::optional<Item> out;
    if (st == 0) out = Item{std::string(r.value()), r.flags(), r.header.cas};
    c.reply_done();
    if (st == 0 || st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return out;
    return protocol::status_error(st);
  }

  static Result<bool> exists(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return status_bool(c, protocol::Opcode::get, key, {}, d, now);
  }
  static Result<bool> remove(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return status_bool(c, protocol::Opcode::del, key, {}, d, now);
  }
  static Result<bool> touch(Connection& c, std::string_view key, std::uint32_t exp, Deadline d, TimePoint now) {
    char ex[4];
    return status_bool(c, protocol::Opcode::touch, key, protocol::expiry_extras(ex, exp), d, now);
  }

  static Result<std::optional<std::string>> get_and_touch(Connection& c, std::string_view key, std::uint32_t exp,
                                                          Deadline d, TimePoint now) {
    char ex[4];
    Reply r;
    auto ok = request(c, r, protocol::Opcode::gat, key, protocol::expiry_extras(ex, exp), {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    std::optional<std::string> out;
    if (st == 0) out.emplace(r.value());
    c.reply_done();
    if (st == 0 || st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return out;
    return protocol::status_error(st);
  }

  static Result<StoreStatus> store(Connection& c, protocol::StoreMode mode, std::string_view key,
                                   std::string_view value, std::uint32_t flags, std::uint32_t exp, std::uint64_t cas,
                                   Deadline d, TimePoint now) {
    protocol::Opcode op = protocol::Opcode::set;
    switch (mode) {
      case protocol::StoreMode::set:
      case protocol::StoreMode::cas: op = protocol::Opcode::set; break;
      case protocol::StoreMode::add: op = protocol::Opcode::add; break;
      case protocol::StoreMode::replace: op = protocol::Opcode::replace; break;
      case protocol::StoreMode::append: op = protocol::Opcode::append; break;
      case protocol::StoreMode::prepend: op = protocol::Opcode::prepend; break;
    }
    const bool has_extras = op != protocol::Opcode::append && op != protocol::Opcode::prepend;
    char ex[8];
    const std::string_view extras = has_extras ? protocol::store_extras(ex, flags, exp) : std::string_view();
    Reply r;
    auto ok = request(c, r, op, key, extras, value, cas, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    c.reply_done();
    switch (static_cast<protocol::Status>(st)) {
      case protocol::Status::ok: return StoreStatus::stored;
      case protocol::Status::not_stored: return StoreStatus::not_stored;
      case protocol::Status::key_exists: return StoreStatus::exists;
      case protocol::Status::key_not_found: return StoreStatus::not_found;
      default: return protocol::status_error(st);
    }
  }

  static Result<std::optional<std::uint64_t>> counter(Connection& c, bool decrement, std::string_view key,
                                                      std::uint64_t delta, std::optional<std::uint64_t> initial,
                                                      std::uint32_t exp, Deadline d, TimePoint now) {
    char ex[20];
    Reply r;
    const auto op = decrement ? protocol::Opcode::decrement : protocol::Opcode::increment;
    auto ok = request(c, r, op, key, protocol::counter_extras(ex, delta, initial.value_or(0), initial.has_value(), exp),
                      {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    if (st == 0) {
      const std::string_view v = r.value();
      if (v.size() != 8) return c.protocol_failure("counter reply is not 8 bytes");
      const auto n = protocol::detail::get64(reinterpret_cast<const unsigned char*>(v.data()));
      c.reply_done();
      return std::optional<std::uint64_t>(n);
    }
    c.reply_done();
    if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return std::optional<std::uint64_t>();
    return protocol::status_error(st);
  }

  // ---- admin ----

  static Result<void> flush_all(Connection& c, std::uint32_t exp, Deadline d) {
    char ex[4];
    auto r = status_bool(c, protocol::Opcode::flush, {}, protocol::expiry_extras(ex, exp), d, net::Clock::now());
    if (!r) return std::move(r).error();
    return {};
  }

  static Result<std::string> version(Connection& c, Deadline d) {
    Reply r;
    auto ok = request(c, r, protocol::Opcode::version, {}, {}, {}, 0, d, net::Clock::now());
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    std::string v(r.value());
    c.reply_done();
    if (st != 0) return protocol::status_error(st);
    return v;
  }

  static Result<void> stats(Connection& c, std::string_view group, Deadline d,
                            std::vector<std::pair<std::string, std::string>>& kv) {
    const std::uint32_t opaque = c.take_opaques();
    protocol::encode_request(c.out(), protocol::Opcode::stat, group, {}, {}, opaque);
    auto sent = c.flush(d);
    if (!sent) return sent;
    for (;;) {
      Reply r;
      auto got = c.read_reply<Wire>(r, d, net::Clock::now());
      if (!got) return got;
      auto ok = check(c, r, protocol::Opcode::stat, opaque);
      if (!ok) return ok;
      const std::uint16_t st = r.header.status;
      if (st != 0) {
        c.reply_done();
        return protocol::status_error(st);  // the server ends the stream after an error reply
      }
      const std::string_view key(r.body + r.header.extras_length, r.header.key_length);
      if (key.empty()) {
        c.reply_done();
        return {};
      }
      kv.emplace_back(std::string(key), std::string(r.value()));
      c.reply_done();
    }
  }

  /// SASL PLAIN, as the first exchange on a new connection.
  static Result<void> login(Connection& c, std::string_view user, std::string_view password, Deadline d,
                            const std::string& server_name) {
    const std::uint32_t opaque = c.take_opaques();
    protocol::encode_sasl_plain(c.out(), user, password, opaque);
    auto sent = c.flush(d);
    c.scrub_out();  // the request buffer held the password
    if (!sent) return sent;
    Reply r;
    auto got = c.read_reply<Wire>(r, d, net::Clock::now());
    if (!got) {
      // A server started with -Y FILE reads binary bytes as a text line
      // that never ends: it does not answer at all.
      if (got.error().kind() != ErrorKind::timeout) return got;
      return Error(ErrorKind::authentication,
                   "server " + server_name +
                       " sent no reply to the SASL login before the timeout; a server started with -Y FILE "
                       "(authfile) speaks only the text and meta protocols: set protocol = meta or text");
    }
    auto ok = check(c, r, protocol::Opcode::sasl_auth, opaque);
    if (!ok) return ok;
    const std::uint16_t status = r.header.status;
    c.reply_done();
    if (status == 0) return {};
    c.mark_broken();
    if (status == static_cast<std::uint16_t>(protocol::Status::auth_error) ||
        status == static_cast<std::uint16_t>(protocol::Status::auth_continue)) {
      return Error(ErrorKind::authentication, "SASL PLAIN authentication refused");
    }
    // A server started without -S does not know the SASL commands.
    if (status == static_cast<std::uint16_t>(protocol::Status::unknown_command)) {
      return Error(ErrorKind::authentication,
                   "server " + server_name +
                       " does not support SASL authentication (a server started with -Y FILE takes the authfile "
                       "login of the text and meta protocols: set protocol = meta or text)");
    }
    return protocol::status_error(status);
  }

  // ---- batches ----

  /// get_many's requests for the job's keys: a quiet GETKQ per key and a
  /// NOOP, encoded straight into the request buffer. key_bytes: the keys'
  /// total size when known (0: summed here).
  template <class KeyOf>
  static void encode_get_batch(Connection& c, Job& j, KeyOf&& key_of, std::size_t key_bytes) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    std::size_t bytes = protocol::kHeaderSize * (j.keys.size() + 1);
    if (key_bytes != 0) {
      bytes += key_bytes;
    } else {
      for (auto idx : j.keys) bytes += key_of(idx).size();
    }
    char* w = c.out().extend(bytes);
    for (std::uint32_t k = 0; k < count; ++k) {
      w += protocol::encode_head(w, protocol::Opcode::getkq, key_of(j.keys[k]), {}, 0, j.base + k);
    }
    protocol::encode_head(w, protocol::Opcode::noop, {}, {}, 0, j.end_mark);
  }

  /// Hits of the job's own keys decoded in place in a tight loop; the NOOP
  /// and anything unexpected are left to on_get_reply.
  template <class KeyOf, class Hit>
  CACHEKIT_LOOP_NOINLINE static std::size_t fast_get_replies(Job& j, const char* data, std::size_t size,
                                                             KeyOf&& key_of, Hit&& hit) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    const std::uint32_t* idx_of = j.keys.data();
    std::size_t used = 0;
    Reply r;
    for (;;) {
      const std::size_t len = protocol::decode_hit(data + used, size - used, protocol::Opcode::getkq, r);
      if (len == 0) break;
      const std::uint32_t rel = r.header.opaque - j.base;
      if (rel >= count) break;
      const std::uint32_t idx = idx_of[rel];
      const std::string_view want = key_of(idx);
      if (r.header.key_length != want.size() || !protocol::detail::same_bytes(r.body + 4, want.data(), want.size())) break;
      hit(idx, r.value());
      used += len;
    }
    return used;
  }

  template <class KeyOf, class Hit>
  static Verdict on_get_reply(Job& j, const Reply& r, KeyOf&& key_of, Hit&& hit, const char*& why) {
    const auto& h = r.header;
    if (h.opaque == j.end_mark) {
      if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return Verdict::last;
      why = "reply opcode does not match the request";
      return Verdict::bad;
    }
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::getkq) || h.opaque < j.base || h.opaque >= j.end_mark) {
      why = "reply to a request that was not sent";
      return Verdict::bad;
    }
    const std::uint32_t idx = j.keys[h.opaque - j.base];
    const std::string_view want = key_of(idx);
    if (h.key_length != want.size() ||
        !protocol::detail::same_bytes(r.body + h.extras_length, want.data(), want.size())) {
      why = "reply key does not match the request";
      return Verdict::bad;
    }
    if (h.status == 0) hit(idx, r.value());
    return Verdict::more;
  }

  /// set_many's requests: a quiet SETQ per key and a NOOP.
  template <class KeyOf, class ValueOf>
  static void encode_set_batch(Connection& c, Job& j, KeyOf&& key_of, ValueOf&& value_of, std::uint32_t flags,
                               std::uint32_t exp) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    char ex[8];
    const std::string_view extras = protocol::store_extras(ex, flags, exp);
    for (std::uint32_t k = 0; k < count; ++k) {
      protocol::encode_request(c.out(), protocol::Opcode::setq, key_of(j.keys[k]), extras, value_of(j.keys[k]),
                               j.base + k);
    }
    protocol::encode_request(c.out(), protocol::Opcode::noop, {}, {}, {}, j.end_mark);
  }

  /// Quiet sets answer only on failure: failed(idx, error) reports it.
  template <class Failed>
  static Verdict on_set_reply(Job& j, const Reply& r, Failed&& failed, const char*& why) {
    const auto& h = r.header;
    if (h.opaque == j.end_mark) {
      if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return Verdict::last;
      why = "reply opcode does not match the request";
      return Verdict::bad;
    }
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::setq) || h.opaque < j.base || h.opaque >= j.end_mark) {
      why = "reply to a request that was not sent";
      return Verdict::bad;
    }
    failed(j.keys[h.opaque - j.base], protocol::status_error(h.status));
    return Verdict::more;
  }

  /// The rejoin repair's requests: a quiet delete per key and a NOOP.
  static void encode_delete_batch(Connection& c, Job& j, const std::vector<std::string>& keys) {
    const auto count = static_cast<std::uint32_t>(keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    for (std::uint32_t k = 0; k < count; ++k) {
      protocol::encode_request(c.out(), protocol::Opcode::deleteq, keys[k], {}, {}, j.base + k);
    }
    protocol::encode_request(c.out(), protocol::Opcode::noop, {}, {}, {}, j.end_mark);
  }

  /// Quiet deletes answer only when the key was absent, or on an error
  /// (the first error is kept in refused).
  static Verdict on_delete_reply(Job& j, const Reply& r, std::optional<Error>& refused, const char*& why) {
    const auto& h = r.header;
    if (h.opaque == j.end_mark) {
      if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return Verdict::last;
      why = "reply opcode does not match the request";
      return Verdict::bad;
    }
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::deleteq) || h.opaque < j.base || h.opaque >= j.end_mark) {
      why = "reply to a request that was not sent";
      return Verdict::bad;
    }
    if (h.status != 0 && h.status != static_cast<std::uint16_t>(protocol::Status::key_not_found) && !refused) {
      refused.emplace(protocol::status_error(h.status));
    }
    return Verdict::more;
  }

 private:
  /// The completed reply must answer op/opaque, else the stream is out of step.
  static Result<void> check(Connection& c, const Reply& r, protocol::Opcode op, std::uint32_t opaque) {
    if (r.header.opcode != static_cast<std::uint8_t>(op)) return c.protocol_failure("reply opcode does not match the request");
    if (r.header.opaque != opaque) return c.protocol_failure("reply opaque does not match the request");
    return {};
  }

  /// One request (header, extras and key built in the connection's head
  /// buffer; the value sent from the caller's memory), then its reply in r,
  /// checked for opcode and opaque (call c.reply_done() after using it).
  static Result<void> request(Connection& c, Reply& r, protocol::Opcode op, std::string_view key,
                              std::string_view extras, std::string_view value, std::uint64_t cas, Deadline d,
                              TimePoint now) {
    const std::uint32_t opaque = c.take_opaques();
    const std::size_t n = protocol::encode_head(c.head(), op, key, extras, value.size(), opaque, cas);
    auto sent = value.empty() ? c.send_head(c.head(), n, d) : c.send_parts(c.head(), n, value, {}, d);
    if (!sent) return sent;
    auto got = c.read_reply<Wire>(r, d, now);
    if (!got) return got;
    return check(c, r, op, opaque);
  }

  /// After a request: true on ok, false on key-not-found, else the status error.
  static Result<bool> status_bool(Connection& c, protocol::Opcode op, std::string_view key, std::string_view extras,
                                  Deadline d, TimePoint now) {
    Reply r;
    auto ok = request(c, r, op, key, extras, {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    c.reply_done();
    if (st == 0) return true;
    if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return false;
    return protocol::status_error(st);
  }
};
using BinaryConversation = BasicBinaryConversation<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/wire_binary.hpp ----

// ---- begin cachekit/memcached/wire_ascii.hpp ----
// What the text and meta conversations share: the commands meta has no
// form of (flush_all, version, stats, the authfile login) are text
// commands on both, and both judge error replies alike. Every error line
// closes the connection (a set refused with CLIENT_ERROR leaves its data
// unread by the server, which would read it as a command).


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class Wire>
struct AsciiConversation {
  using Reply = protocol::ServerReply;
  using Deadline = net::Deadline;
  using TimePoint = net::Clock::time_point;

  /// The error for a reply the request cannot take: an error line (its
  /// kind and text), or a reply of the wrong kind. Either way the
  /// connection is closed.
  CACHEKIT_COLD_NOINLINE static Error refuse(Connection& c, const Reply& r, const char* op) {
    if (protocol::is_error(r)) return c.fail_with(protocol::reply_error(r));
    return c.fail_with(protocol::unexpected_reply_error(r, op));
  }

  /// Sends the head in the connection's head buffer (n bytes) and reads one reply into r.
  static Result<void> ask(Connection& c, std::size_t n, Reply& r, Deadline d, TimePoint now) {
    auto sent = c.send_head(c.head(), n, d);
    if (!sent) return sent;
    return c.read_reply<Wire>(r, d, now);
  }

  static Result<void> flush_all(Connection& c, std::uint32_t exp, Deadline d) {
    Reply r;
    auto ok = ask(c, protocol::text::encode_flush_all(c.head(), exp), r, d, net::Clock::now());
    if (!ok) return ok;
    if (r.kind != protocol::ReplyKind::ok) return refuse(c, r, "flush_all");
    c.reply_done();
    return {};
  }

  static Result<std::string> version(Connection& c, Deadline d) {
    Reply r;
    auto ok = ask(c, protocol::text::encode_version(c.head()), r, d, net::Clock::now());
    if (!ok) return std::move(ok).error();
    if (r.kind != protocol::ReplyKind::version) return refuse(c, r, "version");
    std::string v(r.text);
    c.reply_done();
    return v;
  }

  static Result<void> stats(Connection& c, std::string_view group, Deadline d,
                            std::vector<std::pair<std::string, std::string>>& kv) {
    if (group.size() + 300 > Connection::head_room()) return Error(ErrorKind::permanent, "stats group name too long");
    auto sent = c.send_head(c.head(), protocol::text::encode_stats(c.head(), group), d);
    if (!sent) return sent;
    for (;;) {
      Reply r;
      auto got = c.read_reply<Wire>(r, d, net::Clock::now());
      if (!got) return got;
      if (r.kind == protocol::ReplyKind::end) {
        c.reply_done();
        return {};
      }
      if (r.kind != protocol::ReplyKind::stat) return refuse(c, r, "stats");
      kv.emplace_back(std::string(r.text), std::string(r.value));
      c.reply_done();
    }
  }

  /// memcached's authfile login (-Y FILE), alone as the first exchange on
  /// a new connection.
  static Result<void> login(Connection& c, std::string_view user, std::string_view password, Deadline d,
                            const std::string& server_name) {
    protocol::text::encode_login(c.out(), user, password);
    auto sent = c.flush(d);
    c.scrub_out();  // the request buffer held the password
    if (!sent) return sent;
    Reply r;
    auto got = c.read_reply<Wire>(r, d, net::Clock::now());
    if (!got) {
      const Error& e = got.error();
      if (e.kind() == ErrorKind::timeout) return got;
      // A SASL server (-S) speaks only binary: it closes on a text command.
      return Error(ErrorKind::authentication,
                   "server " + server_name + " did not accept the authfile login of the " + Wire::name +
                       " protocol (" + e.message() +
                       "); a server started with -S (SASL) speaks only the binary protocol: set protocol = binary");
    }
    if (r.kind == protocol::ReplyKind::stored) {
      c.reply_done();
      return {};
    }
    if (r.kind == protocol::ReplyKind::client_error) {
      std::string m = "authfile login refused by " + server_name + ": ";
      protocol::detail::append_printable(m, r.text);
      c.mark_broken();
      return Error(ErrorKind::authentication, std::move(m));
    }
    return refuse(c, r, "login");
  }
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/wire_ascii.hpp ----

// ---- begin cachekit/memcached/wire_meta.hpp ----
// The operations of MemcachedBackend as conversations in memcached's meta
// protocol (mg/ms/md/ma/mn; memcached >= 1.6.10). Batches carry an opaque
// (O<n>) on every request, checked on every reply; quiet mode leaves out
// the nominal replies, and mn ends each batch. An ERROR reply to a meta
// command marks the connection (protocol_refused): the server predates
// meta, and the backend moves to the text protocol.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class = void>  // compiled where it is used
struct BasicMetaConversation : AsciiConversation<protocol::MetaWire> {
  using Wire = protocol::MetaWire;
  static constexpr Protocol kProtocol = Protocol::meta;

  // ---- one key ----

  template <class Store>
  static Result<void> get(Connection& c, std::string_view key, Deadline d, TimePoint now, Store&& store) {
    auto sent = c.send_head(c.head(), protocol::meta::encode_mg_value(c.head(), key), d);
    if (!sent) return sent;
    auto got = c.fill(d, now);
    if (!got) return got;
    if (c.between_replies()) {  // the usual VA or EN, whole in the buffer
      std::string_view value;
      bool hit = false;
      const std::size_t len = protocol::meta::decode_value_reply(c.buffered(), c.buffered_size(), c.max_value(), value, hit);
      if (len != 0) {
        if (hit) store(value);
        c.skip(len);
        return {};
      }
    }
    Reply r;  // anything else: the full decoder
    auto ok = c.read_reply<Wire>(r, d, now);
    if (!ok) return ok;
    if (r.kind == protocol::ReplyKind::value) {
      store(r.value);
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "get");
    }
    c.reply_done();
    return {};
  }

  static Result<std::optional<Item>> gets(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.cas = true;
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    std::optional<Item> out;
    if (r.kind == protocol::ReplyKind::value) {
      out = Item{std::string(r.value), r.flags, r.cas};
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "gets");
    }
    c.reply_done();
    return out;
  }

  static Result<bool> exists(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    return yes_no(c, protocol::meta::encode_mg(c.head(), key, o), d, now, protocol::ReplyKind::miss, "exists");
  }

  static Result<bool> remove(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return yes_no(c, protocol::meta::encode_md(c.head(), key), d, now, protocol::ReplyKind::not_found, "delete");
  }

  static Result<bool> touch(Connection& c, std::string_view key, std::uint32_t exp, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    o.touch = static_cast<std::int64_t>(exp);
    return yes_no(c, protocol::meta::encode_mg(c.head(), key, o), d, now, protocol::ReplyKind::miss, "touch");
  }

  static Result<std::optional<std::string>> get_and_touch(Connection& c, std::string_view key, std::uint32_t exp,
                                                          Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.client_flags = false;
    o.touch = static_cast<std::int64_t>(exp);
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    std::optional<std::string> out;
    if (r.kind == protocol::ReplyKind::value) {
      out.emplace(r.value);
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "get_and_touch");
    }
    c.reply_done();
    return out;
  }

  // ---- TTLs and leases (meta only) ----

  /// `mg <key> t`: the remaining lifetime without the value (true when
  /// present).
  template <class = void>  // compiled only where used
  static Result<bool> ttl(Connection& c, std::string_view key, Ttl& out, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    o.ttl = true;
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    bool found = false;
    if (r.kind == protocol::ReplyKind::ok && !r.has(protocol::Field::legacy)) {
      if (!r.has(protocol::Field::ttl)) return c.protocol_failure("mg t answered without its TTL");
      out = ttl_of(r);
      found = true;
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "ttl");
    }
    c.reply_done();
    return found;
  }

  /// `mg <key> v t`: the value and its remaining lifetime (true when present).
  template <class = void>  // compiled only where used
  static Result<bool> get_with_ttl(Connection& c, std::string_view key, std::string& value, Ttl& ttl, Deadline d,
                                   TimePoint now) {
    protocol::meta::GetOptions o;
    o.client_flags = false;
    o.ttl = true;
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    bool found = false;
    if (r.kind == protocol::ReplyKind::value) {
      if (!r.has(protocol::Field::ttl)) return c.protocol_failure("mg v t answered without its TTL");
      value.assign(r.value.data(), r.value.size());
      ttl = ttl_of(r);
      found = true;
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "get_with_ttl");
    }
    c.reply_done();
    return found;
  }

  /// `mg <key> v c [N<lease>] [R<recache>] t`: N and R before t, or the TTL
  /// read back on a vivified miss is -1 instead of the placeholder's.
  template <class = void>  // compiled only where used
  static Result<LeaseRead> lease_get(Connection& c, std::string_view key, std::uint32_t lease_ttl,
                                     std::uint32_t recache, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.client_flags = false;
    o.cas = true;
    o.ttl = true;
    if (lease_ttl != 0) o.vivify = static_cast<std::int64_t>(lease_ttl);
    if (recache != 0) o.recache = static_cast<std::int64_t>(recache);
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    LeaseRead out;
    if (r.kind == protocol::ReplyKind::value) {
      if (!r.has(protocol::Field::ttl) || !r.has(protocol::Field::cas)) {
        return c.protocol_failure("mg v c t answered without its TTL or CAS");
      }
      out.ttl = ttl_of(r);
      out.token = r.cas;
      out.won = r.has(protocol::Field::won);
      out.stale = r.has(protocol::Field::stale);
      out.pending = r.has(protocol::Field::winner_sent);
      // An empty value under a lease is the placeholder N created.
      if (!r.value.empty() || !(out.won || out.pending)) out.value.emplace(r.value);
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "lease_get");
    }
    c.reply_done();
    return out;
  }

  /// `md <key> I [T<stale_for>]`: marks the value stale; false when absent.
  template <class = void>  // compiled only where used
  static Result<bool> invalidate(Connection& c, std::string_view key, std::uint32_t stale_for, Deadline d,
                                 TimePoint now) {
    protocol::meta::DeleteOptions o;
    o.invalidate = true;
    if (stale_for != 0) o.ttl = static_cast<std::int64_t>(stale_for);
    return yes_no(c, protocol::meta::encode_md(c.head(), key, o), d, now, protocol::ReplyKind::not_found,
                  "invalidate");
  }

  static Result<StoreStatus> store(Connection& c, protocol::StoreMode mode, std::string_view key,
                                   std::string_view value, std::uint32_t flags, std::uint32_t exp, std::uint64_t cas,
                                   Deadline d, TimePoint now) {
    protocol::meta::SetOptions o;
    o.mode = mode;
    if (mode != protocol::StoreMode::append && mode != protocol::StoreMode::prepend) {
      o.client_flags = flags;
      if (exp != 0) o.ttl = static_cast<std::int64_t>(exp);
    }
    if (mode == protocol::StoreMode::cas) o.compare_cas = cas;
    const std::size_t n = protocol::meta::encode_ms_head(c.head(), key, value.size(), o);
    auto sent = c.send_parts(c.head(), n, value, protocol::kDataEnd, d);
    if (!sent) return std::move(sent).error();
    Reply r;
    auto got = c.read_reply<Wire>(r, d, now);
    if (!got) return std::move(got).error();
    StoreStatus st;
    switch (r.kind) {
      case protocol::ReplyKind::ok: st = StoreStatus::stored; break;
      case protocol::ReplyKind::not_stored: st = StoreStatus::not_stored; break;
      case protocol::ReplyKind::exists: st = StoreStatus::exists; break;
      case protocol::ReplyKind::not_found: st = StoreStatus::not_found; break;
      default: return refuse_meta(c, r, "store");
    }
    if (r.has(protocol::Field::legacy)) return refuse_meta(c, r, "store");
    c.reply_done();
    return st;
  }

  /// ma; with an initial value a missing key is created (N<ttl> J<initial>)
  /// and the initial value is the result, in one atomic step.
  static Result<std::optional<std::uint64_t>> counter(Connection& c, bool decrement, std::string_view key,
                                                      std::uint64_t delta, std::optional<std::uint64_t> initial,
                                                      std::uint32_t exp, Deadline d, TimePoint now) {
    protocol::meta::ArithOptions o;
    o.decrement = decrement;
    o.delta = delta;
    if (initial) {
      o.vivify = static_cast<std::int64_t>(exp);
      o.initial = *initial;
    }
    Reply r;
    auto ok = ask(c, protocol::meta::encode_ma(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    if (r.kind == protocol::ReplyKind::not_found) {
      c.reply_done();
      return std::optional<std::uint64_t>();
    }
    if (r.kind != protocol::ReplyKind::value) return refuse_meta(c, r, decrement ? "decr" : "incr");
    std::string_view digits = r.value;
    while (!digits.empty() && digits.back() == ' ') digits.remove_suffix(1);
    std::uint64_t v = 0;
    if (!protocol::ascii::parse_u64(digits, v)) return c.protocol_failure("counter value is not a number");
    c.reply_done();
    return std::optional<std::uint64_t>(v);
  }

  // ---- batches ----

  /// get_many's requests: `mg <key> v O<n> q` per key, then mn, written
  /// straight into the request buffer. The opaques are the keys' places in
  /// the job (four digits while it has at most 10,000 keys): short, and
  /// unambiguous (a batch ends with MN, and a batch that fails closes its
  /// connection).
  template <class KeyOf>
  static void encode_get_batch(Connection& c, Job& j, KeyOf&& key_of, std::size_t key_bytes) {
    const std::size_t count = j.keys.size();
    j.base = 0;
    j.end_mark = static_cast<std::uint32_t>(count);
    if (key_bytes == 0) {
      for (auto idx : j.keys) key_bytes += key_of(idx).size();
    }
    const std::size_t bound = protocol::meta::mg_batch_bound(count, key_bytes);
    char* w = c.out().extend(bound);
    const std::uint32_t* idx = j.keys.data();
    const std::size_t n = protocol::meta::encode_mg_batch_run(w, count, [&](std::size_t i) { return key_of(idx[i]); }, 0);
    c.out().shrink(bound - n);
  }

  /// Hits of the job's own keys decoded in place in a tight loop; MN and
  /// anything unexpected are left to on_get_reply.
  template <class KeyOf, class Hit>
  CACHEKIT_LOOP_NOINLINE static std::size_t fast_get_replies(Job& j, const char* data, std::size_t size,
                                                             KeyOf&& /*key_of*/, Hit&& hit) {
    const auto count = static_cast<std::uint64_t>(j.keys.size());
    const std::uint32_t* idx_of = j.keys.data();
    // The job's opaques are 0 .. count - 1 (encode_get_batch).
    auto known = [count](std::uint64_t opaque) { return opaque < count; };
    std::size_t used = 0;
    for (;;) {
      std::string_view value;
      std::uint64_t opaque = 0;
      const std::size_t len =
          protocol::meta::decode_batch_hit(data + used, size - used, CACHEKIT_MAX_RESPONSE_BODY, known, value, opaque);
      if (CACHEKIT_UNLIKELY(len == 0)) break;
      hit(idx_of[opaque], value);
      used += len;
    }
    return used;
  }

  template <class KeyOf, class Hit>
  static Verdict on_get_reply(Job& j, const Reply& r, KeyOf&& key_of, Hit&& hit, const char*& why) {
    if (r.kind == protocol::ReplyKind::end) return Verdict::last;
    if (r.kind != protocol::ReplyKind::value && r.kind != protocol::ReplyKind::miss) return batch_refusal(j, r, why);
    std::uint32_t rel = 0;
    if (!opaque_of(j, r, rel)) {
      why = "reply opaque does not match a request";
      return Verdict::bad;
    }
    const std::uint32_t idx = j.keys[rel];
    if (r.has(protocol::Field::key) && r.key != key_of(idx)) {
      why = "reply key does not match the request";
      return Verdict::bad;
    }
    if (r.kind == protocol::ReplyKind::value) hit(idx, r.value);
    return Verdict::more;
  }

  /// set_many's requests: `ms` per key with its opaque, then mn. Not
  /// quiet: a SERVER_ERROR line (too large, out of memory) carries no
  /// opaque, and only when every request answers can it be placed by order.
  template <class KeyOf, class ValueOf>
  static void encode_set_batch(Connection& c, Job& j, KeyOf&& key_of, ValueOf&& value_of, std::uint32_t flags,
                               std::uint32_t exp) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    j.cursor = 0;
    protocol::meta::SetOptions o;
    o.client_flags = flags;
    if (exp != 0) o.ttl = static_cast<std::int64_t>(exp);
    for (std::uint32_t k = 0; k < count; ++k) {
      o.opaque = j.base + k;
      protocol::meta::encode_ms(c.out(), key_of(j.keys[k]), value_of(j.keys[k]), o);
    }
    end_batch(c);
  }

  /// One reply per ms, in order; then MN.
  template <class Failed>
  static Verdict on_set_reply(Job& j, const Reply& r, Failed&& failed, const char*& why) {
    if (r.kind == protocol::ReplyKind::end) {
      if (j.cursor == j.keys.size()) return Verdict::last;
      why = "MN before every ms was answered";
      return Verdict::bad;
    }
    if (j.cursor >= j.keys.size()) {
      why = "more replies than requests";
      return Verdict::bad;
    }
    const std::uint32_t idx = j.keys[j.cursor];
    if (r.kind == protocol::ReplyKind::server_error) {
      // The server read the data (too large, out of memory): still in step.
      failed(idx, protocol::reply_error(r));
    } else {
      if (r.kind != protocol::ReplyKind::ok && r.kind != protocol::ReplyKind::not_stored &&
          r.kind != protocol::ReplyKind::exists && r.kind != protocol::ReplyKind::not_found) {
        return batch_refusal(j, r, why);
      }
      std::uint32_t rel = 0;
      if (!opaque_of(j, r, rel) || rel != j.cursor) {
        why = "reply opaque does not match the request";
        return Verdict::bad;
      }
      if (r.kind != protocol::ReplyKind::ok) {
        failed(idx, Error(ErrorKind::permanent, std::string("item not stored (") + protocol::to_string(r.kind) + ")"));
      }
    }
    ++j.cursor;
    return Verdict::more;
  }

  /// The rejoin repair's requests: quiet `md` per key, then mn.
  static void encode_delete_batch(Connection& c, Job& j, const std::vector<std::string>& keys) {
    const auto count = static_cast<std::uint32_t>(keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    protocol::meta::DeleteOptions o;
    o.quiet = true;
    for (std::uint32_t k = 0; k < count; ++k) {
      o.opaque = j.base + k;
      protocol::detail::append_head(c.out(), protocol::meta::head_bound(keys[k].size()),
                                    [&](char* dst) { return protocol::meta::encode_md(dst, keys[k], o); });
    }
    end_batch(c);
  }

  static Verdict on_delete_reply(Job& j, const Reply& r, std::optional<Error>& refused, const char*& why) {
    if (r.kind == protocol::ReplyKind::end) return Verdict::last;
    if (r.kind == protocol::ReplyKind::not_found) return Verdict::more;  // absent already
    if (protocol::is_error(r)) {
      if (!refused) refused.emplace(protocol::reply_error(r));
      return batch_refusal(j, r, why);
    }
    why = "unexpected reply to a quiet delete";
    return Verdict::bad;
  }

 private:
  static void end_batch(Connection& c) {
    char mn[8];
    c.out().append(mn, protocol::meta::encode_mn(mn));
  }

  /// The request index a reply's opaque names.
  static bool opaque_of(const Job& j, const Reply& r, std::uint32_t& rel) noexcept {
    std::uint32_t o = 0;
    if (!r.has(protocol::Field::opaque) || !protocol::ascii::parse_u32(r.opaque, o)) return false;
    rel = o - j.base;
    return o >= j.base && o < j.end_mark;
  }

  /// An ERROR reply to a meta command: the server predates meta.
  CACHEKIT_COLD_NOINLINE static Error refuse_meta(Connection& c, const Reply& r, const char* op) {
    if (r.kind == protocol::ReplyKind::error || r.has(protocol::Field::legacy)) c.set_protocol_refused();
    return refuse(c, r, op);
  }

  static Verdict batch_refusal(Job& j, const Reply& r, const char*& why) {
    if (protocol::is_error(r)) {
      if (r.kind == protocol::ReplyKind::error) j.lease.get()->set_protocol_refused();
      j.error = protocol::reply_error(r);
      return Verdict::error;
    }
    why = "unexpected reply in a batch";
    return Verdict::bad;
  }

  /// A meta command answered HD (true) or no (kind no: EN, NF).
  /// The t flag of a reply (-1: no expiry).
  static Ttl ttl_of(const Reply& r) noexcept {
    return r.ttl < 0 ? Ttl::never() : Ttl::in(std::chrono::seconds(r.ttl));
  }

  static Result<bool> yes_no(Connection& c, std::size_t n, Deadline d, TimePoint now, protocol::ReplyKind no,
                             const char* op) {
    Reply r;
    auto ok = ask(c, n, r, d, now);
    if (!ok) return std::move(ok).error();
    if ((r.kind != protocol::ReplyKind::ok && r.kind != no) || r.has(protocol::Field::legacy)) {
      return refuse_meta(c, r, op);
    }
    c.reply_done();
    return r.kind == protocol::ReplyKind::ok;
  }
};
using MetaConversation = BasicMetaConversation<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/wire_meta.hpp ----

// ---- begin cachekit/memcached/wire_text.hpp ----
// The operations of MemcachedBackend as conversations in memcached's
// classic text protocol (what twemproxy, mcrouter and memcached's proxy
// speak). Replies carry no opaque: they come in request order, and a
// VALUE names its key. incr/decr with an initial value is built from
// incr, add and incr again (see counter()).


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class = void>  // compiled where it is used
struct BasicTextConversation : AsciiConversation<protocol::TextWire> {
  using Wire = protocol::TextWire;
  static constexpr Protocol kProtocol = Protocol::text;

  // ---- one key ----

  template <class Store>
  static Result<void> get(Connection& c, std::string_view key, Deadline d, TimePoint now, Store&& store) {
    auto sent = c.send_head(c.head(), protocol::text::encode_get(c.head(), protocol::text::Retrieval::get, key), d);
    if (!sent) return sent;
    auto got = c.fill(d, now);
    if (!got) return got;
    if (c.between_replies()) {  // the usual hit and END, or END, whole in the buffer
      const char* data = c.buffered();
      const std::size_t n = c.buffered_size();
      std::string_view value;
      std::uint32_t flags = 0;
      const std::size_t len = protocol::text::decode_get_hit(data, n, c.max_value(), key, flags, value);
      if (len != 0) {  // a hit and its END (checked first)
        store(value);
        c.skip(len);
        return {};
      }
      if (protocol::text::starts_with_end(data, n)) {  // a miss
        c.skip(5);
        return {};
      }
    }
    return retrieve_rest(c, key, d, now, "get", [&store](const Reply& r) { store(r.value); });
  }

  static Result<std::optional<Item>> gets(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    std::optional<Item> out;
    auto ok = retrieve(c, protocol::text::encode_get(c.head(), protocol::text::Retrieval::gets, key), key, d, now,
                       "gets", [&out](const Reply& r) { out = Item{std::string(r.value), r.flags, r.cas}; });
    if (!ok) return std::move(ok).error();
    return out;
  }

  static Result<bool> exists(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    bool hit = false;
    auto ok = retrieve(c, protocol::text::encode_get(c.head(), protocol::text::Retrieval::get, key), key, d, now,
                       "exists", [&hit](const Reply&) { hit = true; });
    if (!ok) return std::move(ok).error();
    return hit;
  }

  static Result<bool> remove(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return yes_no(c, protocol::text::encode_delete(c.head(), key), d, now, protocol::ReplyKind::deleted, "delete");
  }

  static Result<bool> touch(Connection& c, std::string_view key, std::uint32_t exp, Deadline d, TimePoint now) {
    return yes_no(c, protocol::text::encode_touch(c.head(), key, exp), d, now, protocol::ReplyKind::touched, "touch");
  }

  static Result<std::optional<std::string>> get_and_touch(Connection& c, std::string_view key, std::uint32_t exp,
                                                          Deadline d, TimePoint now) {
    std::optional<std::string> out;
    auto ok = retrieve(c, protocol::text::encode_get(c.head(), protocol::text::Retrieval::gat, key, exp), key, d, now,
                       "get_and_touch", [&out](const Reply& r) { out.emplace(r.value); });
    if (!ok) return std::move(ok).error();
    return out;
  }

  static Result<StoreStatus> store(Connection& c, protocol::StoreMode mode, std::string_view key,
                                   std::string_view value, std::uint32_t flags, std::uint32_t exp, std::uint64_t cas,
                                   Deadline d, TimePoint now) {
    const std::size_t n =
        protocol::text::encode_store_head(c.head(), mode, key, flags, exp, value.size(), cas, false);
    auto sent = c.send_parts(c.head(), n, value, protocol::kDataEnd, d);
    if (!sent) return std::move(sent).error();
    Reply r;
    auto got = c.read_reply<Wire>(r, d, now);
    if (!got) return std::move(got).error();
    StoreStatus st;
    switch (r.kind) {
      case protocol::ReplyKind::stored: st = StoreStatus::stored; break;
      case protocol::ReplyKind::not_stored: st = StoreStatus::not_stored; break;
      case protocol::ReplyKind::exists: st = StoreStatus::exists; break;
      case protocol::ReplyKind::not_found: st = StoreStatus::not_found; break;
      default: return refuse(c, r, "store");
    }
    c.reply_done();
    return st;
  }

  /// incr/decr. With an initial value, a missing key is created by add
  /// (with ttl) and the initial value is the result; when another client
  /// creates the key between the incr and the add, the add is refused and
  /// the incr runs again. The text protocol has no atomic form: a client
  /// that deletes the key meanwhile can make the third step miss too
  /// (reported as a transient error).
  static Result<std::optional<std::uint64_t>> counter(Connection& c, bool decrement, std::string_view key,
                                                      std::uint64_t delta, std::optional<std::uint64_t> initial,
                                                      std::uint32_t exp, Deadline d, TimePoint now) {
    for (int round = 0; round < 2; ++round) {
      Reply r;
      auto ok = ask(c, protocol::text::encode_arith(c.head(), decrement, key, delta, false), r, d, now);
      if (!ok) return std::move(ok).error();
      if (r.kind == protocol::ReplyKind::number) {
        const std::uint64_t v = r.number;
        c.reply_done();
        return std::optional<std::uint64_t>(v);
      }
      if (r.kind != protocol::ReplyKind::not_found) return refuse(c, r, decrement ? "decr" : "incr");
      c.reply_done();
      if (!initial) return std::optional<std::uint64_t>();
      if (round == 1) break;
      char digits[24];
      const std::size_t len =
          static_cast<std::size_t>(protocol::ascii::write_u64(digits, *initial) - digits);
      auto added = store(c, protocol::StoreMode::add, key, std::string_view(digits, len), 0, exp, 0, d,
                         net::Clock::now());
      if (!added) return std::move(added).error();
      if (*added == StoreStatus::stored) return std::optional<std::uint64_t>(*initial);
      now = net::Clock::now();
    }
    return Error(ErrorKind::transient, "the key was created and removed by others during incr/decr with an initial value");
  }

  // ---- batches ----

  /// get_many's requests: `get k1 k2 ...` lines, each ended by its own END.
  /// key_bytes is the keys' total size when known (else 0).
  template <class KeyOf>
  static void encode_get_batch(Connection& c, Job& j, KeyOf&& key_of, std::size_t key_bytes) {
    const std::uint32_t* idx = j.keys.data();
    const std::size_t count = j.keys.size();
    if (key_bytes == 0) {
      for (auto i : j.keys) key_bytes += key_of(i).size();
    }
    const std::size_t bound = protocol::text::get_many_bound(count, key_bytes, 3);  // "get"
    char* w = c.out().extend(bound);
    std::size_t commands = 0;
    const std::size_t n = protocol::text::encode_get_many_run(w, commands, protocol::text::Retrieval::get, count,
                                                              [&](std::size_t i) { return key_of(idx[i]); }, key_bytes);
    c.out().shrink(bound - n);
    j.ends_left = commands;
    j.cursor = 0;
  }

  /// Hits decoded in place in a tight loop, each the next requested key of
  /// its name; END and anything unexpected are left to on_get_reply.
  template <class KeyOf, class Hit>
  CACHEKIT_LOOP_NOINLINE static std::size_t fast_get_replies(Job& j, const char* data, std::size_t size,
                                                             KeyOf&& key_of, Hit&& hit) {
    std::size_t used = 0;
    const std::size_t count = j.keys.size();
    while (used < size && j.cursor < count) {
      const char* at = data + used;
      const std::size_t left = size - used;
      std::size_t len, k = j.cursor;
      std::string_view value;
      const std::string_view key = key_of(j.keys[k]);
      // The common case, the key at the cursor with its whole header in
      // the buffer, is matched here; a hit for a later key (the ones
      // between missed) or one cut short goes the longer way.
      if (left < key.size() + 32 || !protocol::text::detail::names_key(at, key)) {
        const LaterHit h = later_hit(j, at, left, key_of);
        len = h.len;
        k = h.k;
        value = h.value;
      } else {
        std::uint32_t flags = 0;
        len = protocol::text::decode_value_wide(at, key.size(), CACHEKIT_MAX_RESPONSE_BODY, left, flags, value);
      }
      if (len == 0) break;
      hit(j.keys[k], value);
      j.cursor = k + 1;
      used += len;
    }
    return used;
  }

  /// A hit found by later_hit: its length (0: none), key and value.
  struct LaterHit {
    std::size_t len = 0;
    std::size_t k = 0;
    std::string_view value;
  };
  /// fast_get_replies' hit at `at` when it is not a whole one for the key
  /// at the cursor: one for the first requested key from the cursor on that
  /// it names, or none when there is none or the reply is not whole.
  template <class KeyOf>
  CACHEKIT_COLD_NOINLINE static LaterHit later_hit(const Job& j, const char* at, std::size_t left, KeyOf&& key_of) {
    LaterHit h;
    if (left < 7 || !protocol::detail::starts_with(at, "VALUE ")) return h;
    for (std::size_t k = j.cursor; k < j.keys.size(); ++k) {
      const std::string_view key = key_of(j.keys[k]);
      if (left < key.size() + 13) return h;  // cannot tell yet
      if (protocol::detail::same_bytes(at + 6, key.data(), key.size()) && at[6 + key.size()] == ' ') {
        std::uint32_t flags = 0;
        h.len = protocol::text::decode_value_rest(at, left, key.size(), CACHEKIT_MAX_RESPONSE_BODY, flags, h.value);
        h.k = k;
        return h;
      }
    }
    return h;
  }

  /// A VALUE answers the next requested key of that name (hits come in
  /// request order, misses are left out); END ends one get command.
  template <class KeyOf, class Hit>
  static Verdict on_get_reply(Job& j, const Reply& r, KeyOf&& key_of, Hit&& hit, const char*& why) {
    if (r.kind == protocol::ReplyKind::value) {
      std::size_t k = j.cursor;
      while (k < j.keys.size() && key_of(j.keys[k]) != r.key) ++k;
      if (k == j.keys.size()) {
        why = "VALUE for a key that was not asked (or out of order)";
        return Verdict::bad;
      }
      hit(j.keys[k], r.value);
      j.cursor = k + 1;
      return Verdict::more;
    }
    if (r.kind == protocol::ReplyKind::end) {
      if (j.ends_left == 0) {
        why = "more END lines than get commands";
        return Verdict::bad;
      }
      return --j.ends_left == 0 ? Verdict::last : Verdict::more;
    }
    return batch_refusal(j, r, why);
  }

  /// set_many's requests: plain sets (no noreply: every key gets its own
  /// answer, so failures are reported per key).
  template <class KeyOf, class ValueOf>
  static void encode_set_batch(Connection& c, Job& j, KeyOf&& key_of, ValueOf&& value_of, std::uint32_t flags,
                               std::uint32_t exp) {
    for (auto idx : j.keys) {
      const std::string_view value = value_of(idx);
      const std::string_view key = key_of(idx);
      protocol::detail::append_head(c.out(), protocol::text::head_bound(key.size()), [&](char* dst) {
        return protocol::text::encode_store_head(dst, protocol::StoreMode::set, key, flags, exp, value.size(), 0,
                                                 false);
      });
      c.out().append(value.data(), value.size());
      c.out().append(protocol::kDataEnd.data(), protocol::kDataEnd.size());
    }
    j.cursor = 0;
  }

  template <class Failed>
  static Verdict on_set_reply(Job& j, const Reply& r, Failed&& failed, const char*& why) {
    if (j.cursor >= j.keys.size()) {
      why = "more replies than requests";
      return Verdict::bad;
    }
    if (r.kind == protocol::ReplyKind::server_error) {
      // The server read the data (too large, out of memory): the stream is
      // still in step, and the error is this key's.
      failed(j.keys[j.cursor], protocol::reply_error(r));
    } else if (r.kind != protocol::ReplyKind::stored) {
      if (r.kind != protocol::ReplyKind::not_stored && r.kind != protocol::ReplyKind::exists &&
          r.kind != protocol::ReplyKind::not_found) {
        return batch_refusal(j, r, why);
      }
      failed(j.keys[j.cursor], Error(ErrorKind::permanent, std::string("item not stored (") + protocol::to_string(r.kind) + ")"));
    }
    return ++j.cursor == j.keys.size() ? Verdict::last : Verdict::more;
  }

  /// The rejoin repair's requests: a delete per key, each answered.
  static void encode_delete_batch(Connection& c, Job& j, const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      protocol::detail::append_head(c.out(), protocol::text::head_bound(k.size()),
                                    [&](char* dst) { return protocol::text::encode_delete(dst, k); });
    }
    j.cursor = 0;
    j.ends_left = keys.size();
  }

  static Verdict on_delete_reply(Job& j, const Reply& r, std::optional<Error>& refused, const char*& why) {
    if (j.ends_left == 0) {
      why = "more replies than requests";
      return Verdict::bad;
    }
    if (r.kind != protocol::ReplyKind::deleted && r.kind != protocol::ReplyKind::not_found) {
      if (!protocol::is_error(r)) {
        why = "unexpected reply to delete";
        return Verdict::bad;
      }
      if (!refused) refused.emplace(protocol::reply_error(r));
      j.error = protocol::reply_error(r);
      return Verdict::error;
    }
    return --j.ends_left == 0 ? Verdict::last : Verdict::more;
  }

 private:
  /// An error line ends the job with the server's error; any other
  /// unexpected reply puts the stream out of step.
  static Verdict batch_refusal(Job& j, const Reply& r, const char*& why) {
    if (protocol::is_error(r)) {
      j.error = protocol::reply_error(r);
      return Verdict::error;
    }
    why = "unexpected reply in a batch";
    return Verdict::bad;
  }

  /// A retrieval of one key (head of n bytes in the head buffer): on a hit,
  /// on_hit(reply) runs; then END.
  template <class OnHit>
  static Result<void> retrieve(Connection& c, std::size_t n, std::string_view key, Deadline d, TimePoint now,
                               const char* op, OnHit&& on_hit) {
    auto sent = c.send_head(c.head(), n, d);
    if (!sent) return sent;
    return retrieve_rest(c, key, d, now, op, on_hit);
  }

  /// The replies of a retrieval already sent, through the full decoder.
  template <class OnHit>
  static Result<void> retrieve_rest(Connection& c, std::string_view key, Deadline d, TimePoint now, const char* op,
                                    OnHit&& on_hit) {
    Reply r;
    auto ok = c.read_reply<Wire>(r, d, now);
    if (!ok) return ok;
    if (r.kind == protocol::ReplyKind::value) {
      if (r.key != key) return c.protocol_failure("reply key does not match the request");
      on_hit(r);
      c.reply_done();
      auto more = c.read_reply<Wire>(r, d, now);
      if (!more) return more;
    }
    if (r.kind != protocol::ReplyKind::end) return refuse(c, r, op);
    c.reply_done();
    return {};
  }

  /// A command answered yes (kind yes) or NOT_FOUND.
  static Result<bool> yes_no(Connection& c, std::size_t n, Deadline d, TimePoint now, protocol::ReplyKind yes,
                             const char* op) {
    Reply r;
    auto ok = ask(c, n, r, d, now);
    if (!ok) return std::move(ok).error();
    if (r.kind != yes && r.kind != protocol::ReplyKind::not_found) return refuse(c, r, op);
    c.reply_done();
    return r.kind == yes;
  }
};
using TextConversation = BasicTextConversation<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/memcached/wire_text.hpp ----

// ---- begin cachekit/memcached_backend.hpp ----
// MemcachedBackend: memcached over the meta, text or binary protocol, a
// pool of connections per server, keys routed by the Ring, retries,
// dead-server ejection and rejoin. The operations here are written once,
// as templates over a wire's conversation (memcached/wire_*.hpp); the
// protocol is chosen when the backend is built and costs one predictable
// branch per call, no virtual call.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <atomic>

CACHEKIT_BEGIN_NAMESPACE

/// memcached client. Safe to share across threads; connects lazily. A
/// config that does not validate makes every call return that error.
///
/// A class template only so that a translation unit that includes the
/// header without using the backend compiles none of it; use it as
/// MemcachedBackend. See CACHEKIT_DECLARATIONS_ONLY (config.hpp) to compile
/// it in one translation unit only.
template <class Unused = void>
class BasicMemcachedBackend final : public Backend {
 public:
  using Clock = detail::net::Clock;
  using Deadline = detail::net::Deadline;

  /// Default configuration (127.0.0.1:11211, meta protocol).
  BasicMemcachedBackend();
  /// The given configuration; check status() for a configuration error.
  explicit BasicMemcachedBackend(MemcachedBackendConfig config);
  BasicMemcachedBackend(const BasicMemcachedBackend&) = delete;
  BasicMemcachedBackend& operator=(const BasicMemcachedBackend&) = delete;
  ~BasicMemcachedBackend() override;  // defined below the class

  /// Configuration error, if any (then every call fails with it).
  Result<void> status() const {
    if (cluster_.init_error()) return *cluster_.init_error();
    return {};
  }
  const MemcachedBackendConfig& config() const noexcept { return config_; }
  /// The protocol in use: config().protocol, or text after a server
  /// refused the meta protocol.
  Protocol protocol() const noexcept { return protocol_.load(std::memory_order_relaxed); }
  /// TLS handshakes completed so far: one per connection opened (pooled
  /// connections are reused, not handshaken again); 0 without tls.
  std::uint64_t tls_handshakes() const noexcept { return cluster_.tls_handshakes(); }
  /// Of those, the handshakes that resumed the server's previous session
  /// (a session ticket kept from an earlier connection to that server).
  std::uint64_t tls_resumed_handshakes() const noexcept { return cluster_.tls_resumed(); }
  /// "host:port" of every configured server, in configuration order.
  std::vector<std::string> server_names() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < cluster_.size(); ++i) out.push_back(cluster_.server(i).name);
    return out;
  }
  /// Index (into server_names()) of the server that holds key now. Like
  /// every call, runs the rejoin repair of a server whose dead time is over.
  Result<std::size_t> server_for(std::string_view key) {
    const auto now = Clock::now();
    return cluster_.route(key, now, now + config_.connect_timeout + config_.timeout);
  }

  // ---- Backend interface ----

  /// The value under key, or nullopt on a miss.
  CACHEKIT_HOT_INLINE_ENTRY Result<std::optional<std::string>> get(std::string_view key) override {
    // One result object for every return (built in the caller's slot): the
    // value string is constructed once, in place, and never moved.
    Result<std::optional<std::string>> out{std::optional<std::string>()};
    std::optional<std::string>& value = *out;
    auto ok = get_any(key, [&value](std::string_view v) { value.emplace(v.data(), v.size()); });
    if (!ok) out = std::move(ok).error();
    return out;
  }
  /// The value under key into value, reusing its capacity (no allocation
  /// when it is large enough): true on a hit, false on a miss (value is
  /// then empty). On an error value is left unchanged.
  CACHEKIT_HOT_INLINE_ENTRY Result<bool> get(std::string_view key, std::string& value) {
    bool hit = false;
    auto ok = get_any(key, [&value, &hit](std::string_view v) CACHEKIT_LAMBDA_INLINE {
      detail::assign_bytes(value, v);
      hit = true;
    });
    if (!ok) return std::move(ok).error();
    if (!hit) value.clear();
    return hit;
  }

  /// Stores value (flags 0); ttl <= 0 never expires, > 30 days is clamped.
  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl = {}) override {
    return set(key, value, ttl, 0);
  }
  /// Stores value with client flags.
  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl, std::uint32_t flags) {
    auto r = store("set", protocol::StoreMode::set, key, value, ttl, flags, 0);
    if (!r) return std::move(r).error();
    if (*r != detail::StoreStatus::stored) {
      return Error(ErrorKind::permanent, "item not stored").with_operation("set").with_key(std::string(key));
    }
    return {};
  }
  /// Stores only when absent: true when stored, false when key existed.
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    return add(key, value, ttl, 0);
  }
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl, std::uint32_t flags) {
    return stored_bool("add", protocol::StoreMode::add, key, value, ttl, flags);
  }
  /// Stores only when present: true when replaced, false when absent.
  Result<bool> replace(std::string_view key, std::string_view value, std::chrono::seconds ttl = {},
                       std::uint32_t flags = 0) {
    return stored_bool("replace", protocol::StoreMode::replace, key, value, ttl, flags);
  }
  /// Appends to an existing value: false when the key is absent. Never retried.
  Result<bool> append(std::string_view key, std::string_view value) {
    return stored_bool("append", protocol::StoreMode::append, key, value, {}, 0);
  }
  /// Prepends to an existing value: false when the key is absent. Never retried.
  Result<bool> prepend(std::string_view key, std::string_view value) {
    return stored_bool("prepend", protocol::StoreMode::prepend, key, value, {}, 0);
  }
  /// Replaces the value only if its CAS token still equals cas.
  Result<CasOutcome> cas(std::string_view key, std::string_view value, std::uint64_t cas_token,
                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    auto r = store("cas", protocol::StoreMode::cas, key, value, ttl, flags, cas_token == 0 ? 1 : cas_token);
    if (!r) return std::move(r).error();
    switch (*r) {
      case detail::StoreStatus::stored: return CasOutcome::stored;
      case detail::StoreStatus::exists: return CasOutcome::conflict;
      default: return CasOutcome::not_found;
    }
  }
  /// Value, flags and CAS token, or nullopt on a miss.
  Result<std::optional<Item>> gets(std::string_view key) {
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<std::optional<Item>>("gets", key, true, detail::Effect::read,
                                               [](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                                                 return C::gets(c, k, d, now);
                                               });
    });
  }
  /// Removes key: true when it existed.
  Result<bool> remove(std::string_view key) override {
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<bool>("delete", key, true, detail::Effect::write,
                                [](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                                  return C::remove(c, k, d, now);
                                });
    });
  }
  /// Whether key is present.
  Result<bool> exists(std::string_view key) override {
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<bool>("exists", key, true, detail::Effect::read,
                                [](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                                  return C::exists(c, k, d, now);
                                });
    });
  }
  /// Sets a new TTL: true when key existed.
  Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override {
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<bool>("touch", key, true, detail::Effect::write,
                                [exp](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                                  return C::touch(c, k, exp, d, now);
                                });
    });
  }
  /// Reads the value and sets a new TTL in one round trip.
  Result<std::optional<std::string>> get_and_touch(std::string_view key, std::chrono::seconds ttl) {
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<std::optional<std::string>>(
          "get_and_touch", key, true, detail::Effect::write,
          [exp](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
            return C::get_and_touch(c, k, exp, d, now);
          });
    });
  }
  // ---- TTL inspection and leases: the meta protocol only ----

  /// ttl(key) (Backend::ttl): `mg <key> t`, the remaining lifetime without
  /// the value. Text and binary cannot ask: a permanent error.
  Result<bool> read_ttl(std::string_view key, Ttl& out) override {
    return meta_only<bool>("ttl", key, true, detail::Effect::read,
                           [&out](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                             return detail::MetaConversation::ttl(c, k, out, d, now);
                           });
  }
  /// get_with_ttl(key) (Backend::get_with_ttl): `mg <key> v t`, the value
  /// and its remaining lifetime in one request.
  Result<bool> read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) override {
    return meta_only<bool>("get_with_ttl", key, true, detail::Effect::read,
                           [&value, &ttl](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                             return detail::MetaConversation::get_with_ttl(c, k, value, ttl, d, now);
                           });
  }
  /// True while the backend speaks meta (leases need memcached >= 1.6.10).
  bool has_leases() const noexcept override { return protocol() == Protocol::meta; }
  /// One `mg <key> v c [N<lease_ttl>] [R<recache>] t` (see Backend::lease_get).
  /// Not retried once sent: a lost reply may have carried the win (W).
  Result<LeaseRead> lease_get(std::string_view key, const LeaseOptions& options) override {
    const std::uint32_t lease = detail::normalize_ttl(options.lease_ttl);
    const std::uint32_t recache = detail::normalize_ttl(options.recache);
    return meta_only<LeaseRead>("lease_get", key, false, detail::Effect::write,
                                [lease, recache](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                                  return detail::MetaConversation::lease_get(c, k, lease, recache, d, now);
                                });
  }
  /// `ms <key> ... C<token>`: stores only while the entry is still the
  /// version token names; false when it changed or is gone.
  Result<bool> lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                         std::uint64_t token) override {
    auto ok = keys_.check_value(value, config_.key_prefix.size() + key.size(), 0);
    if (!ok) return exec_.decorate(std::move(ok).error(), "lease_set", key, nullptr);
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    auto r = meta_only<detail::StoreStatus>(
        "lease_set", key, true, detail::Effect::write,
        [&](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
          return detail::MetaConversation::store(c, protocol::StoreMode::cas, k, value, 0, exp, token == 0 ? 1 : token,
                                                 d, now);
        });
    if (!r) return std::move(r).error();
    return *r == detail::StoreStatus::stored;
  }
  /// `md <key> I T<stale_for>`: marks the value stale (see Backend::invalidate).
  Result<bool> invalidate(std::string_view key, std::chrono::seconds stale_for) override {
    const std::uint32_t exp = detail::normalize_ttl(stale_for);
    return meta_only<bool>("invalidate", key, true, detail::Effect::write,
                           [exp](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
                             return detail::MetaConversation::invalidate(c, k, exp, d, now);
                           });
  }

  /// Adds delta; with an initial value a missing key is created with it
  /// (and ttl), else a missing key gives nullopt. Never retried once sent.
  Result<std::optional<std::uint64_t>> incr(std::string_view key, std::uint64_t delta,
                                            std::optional<std::uint64_t> initial = std::nullopt,
                                            std::chrono::seconds ttl = {}) {
    return counter("incr", false, key, delta, initial, ttl);
  }
  /// Subtracts delta (memcached stops at 0); as incr otherwise.
  Result<std::optional<std::uint64_t>> decr(std::string_view key, std::uint64_t delta,
                                            std::optional<std::uint64_t> initial = std::nullopt,
                                            std::chrono::seconds ttl = {}) {
    return counter("decr", true, key, delta, initial, ttl);
  }

  /// Values for keys, aligned with keys (nullopt = miss). One pipelined
  /// round trip per server, all servers in flight at once.
  template <class Keys>
  Result<std::vector<std::optional<std::string>>> get_many(const Keys& keys) {
    std::vector<std::string_view>& views = key_views(keys);
    auto r = get_many(views.data(), views.size());
    detail::shed(views);
    return r;
  }
  /// get_many over an array of keys.
  Result<std::vector<std::optional<std::string>>> get_many(const std::string_view* keys, std::size_t n) {
    // The values land in a per-thread spare vector, which is then handed
    // over whole; a new spare is allocated at the end of the call. (With
    // glibc, a large allocation made while the previous batch's freed
    // values sit in the fast bins merges them all, and every value
    // allocation after it takes the slow path.)
    std::vector<std::optional<std::string>>& spare = detail::many_scratch().values;
    auto ok = get_many_any<false>(keys, n, spare);
    if (!ok) {
      detail::trim(spare);
      return std::move(ok).error();
    }
    std::vector<std::optional<std::string>> out = std::move(spare);
    spare = std::vector<std::optional<std::string>>();
    if (n <= kSpareValues) spare.reserve(n);
    return out;
  }
  Result<std::vector<std::optional<std::string>>> get_many(std::initializer_list<std::string_view> keys) {
    return get_many(keys.begin(), keys.size());
  }
  /// get_many into values (resized to match keys), reusing the strings
  /// already there: a hit assigns into an engaged slot without allocating
  /// when its capacity suffices; a miss leaves the slot empty. On an error
  /// values is emptied.
  template <class Keys>
  Result<void> get_many(const Keys& keys, std::vector<std::optional<std::string>>& values) {
    std::vector<std::string_view>& views = key_views(keys);
    auto r = get_many(views.data(), views.size(), values);
    detail::shed(views);
    return r;
  }
  /// get_many into values over an array of keys.
  Result<void> get_many(const std::string_view* keys, std::size_t n, std::vector<std::optional<std::string>>& values) {
    auto ok = get_many_any<true>(keys, n, values);
    if (!ok) values.clear();
    return ok;
  }

  /// Stores every (key, value) pair, pipelined per server (binary: quiet
  /// sets; meta: quiet ms; text: sets, each answered). Returns the keys
  /// that failed (empty when all were stored).
  template <class Items>
  Result<std::vector<KeyError>> set_many(const Items& items, std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    std::vector<std::pair<std::string_view, std::string_view>> views;
    for (const auto& kv : items) views.emplace_back(std::string_view(kv.first), std::string_view(kv.second));
    return set_many_any(views.data(), views.size(), ttl, flags);
  }
  /// set_many over a braced list: set_many({{"a", "1"}, {"b", "2"}}).
  Result<std::vector<KeyError>> set_many(std::initializer_list<std::pair<std::string_view, std::string_view>> items,
                                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    return set_many_any(items.begin(), items.size(), ttl, flags);
  }
  /// set_many over an array of (key, value) pairs.
  Result<std::vector<KeyError>> set_many(const std::pair<std::string_view, std::string_view>* items, std::size_t n,
                                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    return set_many_any(items, n, ttl, flags);
  }

  /// Invalidates every item on every server (after delay when given).
  Result<void> flush_all(std::chrono::seconds delay = {}) {
    if (cluster_.init_error()) return *cluster_.init_error();
    const std::uint32_t exp = detail::normalize_ttl(delay);
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      auto r = with_wire([&](auto conv) {
        using C = decltype(conv);
        return exec_.on_server<void>(i, "flush_all", admin_deadline(),
                                     [exp](detail::Connection& c, Deadline d) { return C::flush_all(c, exp, d); });
      });
      if (!r) return r;
    }
    return {};
  }

  /// Version string of every server.
  std::vector<ServerVersion> version() {
    std::vector<ServerVersion> out;
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      ServerVersion v;
      v.server = cluster_.server(i).name;
      auto r = server_version(i, admin_deadline());
      if (r) {
        v.ok = true;
        v.version = std::move(*r);
      } else {
        v.error = std::move(r).error();
      }
      out.push_back(std::move(v));
    }
    return out;
  }

  /// "stats" of every server; group selects a stats group ("slabs", "items", ...), empty for general.
  std::vector<ServerStats> stats(std::string_view group = {}) {
    std::vector<ServerStats> out;
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      ServerStats s;
      s.server = cluster_.server(i).name;
      std::vector<std::pair<std::string, std::string>> kv;
      auto r = with_wire([&](auto conv) {
        using C = decltype(conv);
        kv.clear();
        return exec_.on_server<void>(i, "stats", admin_deadline(),
                                     [&](detail::Connection& c, Deadline d) { return C::stats(c, group, d, kv); });
      });
      if (r) {
        s.ok = true;
        s.stats = std::move(kv);
      } else {
        s.error = std::move(r).error();
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  /// Contacts every server (also those marked dead) and reports each one:
  /// up or down, round-trip latency and version. Each server is bounded by
  /// connect_timeout + timeout.
  std::vector<ServerHealth> health_check() {
    std::vector<ServerHealth> out;
    const auto now = Clock::now();
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      ServerHealth h;
      h.server = cluster_.server(i).name;
      h.marked_dead = detail::Cluster::marked_dead(cluster_.server(i), now);
      if (cluster_.init_error()) {
        h.error = *cluster_.init_error();
        out.push_back(std::move(h));
        continue;
      }
      const auto t0 = Clock::now();
      auto r = server_version(i, t0 + config_.connect_timeout + config_.timeout);
      h.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
      if (r) {
        h.up = true;
        h.version = std::move(*r);
      } else {
        h.error = std::move(r).error();
      }
      out.push_back(std::move(h));
    }
    return out;
  }

  /// Connections currently open to server i (for tests and monitoring).
  std::size_t open_connections(std::size_t i) { return cluster_.server(i).pool.open_count(); }
  /// Whether server i is currently taken out of the ring.
  bool server_marked_dead(std::size_t i) const { return detail::Cluster::marked_dead(cluster_.server(i), Clock::now()); }

 private:
  static MemcachedBackendConfig default_config() { return MemcachedBackendConfig(); }

  /// Largest get_many whose result vector is kept ready for the next call.
  static constexpr std::size_t kSpareValues = 4096;

  Deadline admin_deadline() const { return Clock::now() + config_.connect_timeout + config_.timeout; }

  /// Runs f(conversation) with the conversation of the protocol in use. A
  /// call over meta that a server refused with ERROR runs again over text,
  /// where the backend then stays.
  template <class F>
  auto with_wire(F&& f) -> decltype(f(detail::BinaryConversation{})) {
    switch (protocol_.load(std::memory_order_relaxed)) {
      case Protocol::binary: return f(detail::BinaryConversation{});
      case Protocol::text: return f(detail::TextConversation{});
      case Protocol::meta: break;
    }
    auto r = f(detail::MetaConversation{});
    if (r || !exec_.refused().load(std::memory_order_acquire)) return r;
    downgrade_refused();
    return f(detail::TextConversation{});
  }

  /// An operation only meta has, as exec_.single runs it; over text or
  /// binary (configured, or after a server refused meta) a permanent error.
  template <class T, class F>
  Result<T> meta_only(const char* op, std::string_view key, bool idempotent, detail::Effect effect, F&& attempt) {
    if (protocol() == Protocol::meta) {
      auto r = exec_.single<T>(op, key, idempotent, effect, attempt);
      if (r || !exec_.refused().load(std::memory_order_acquire)) return r;
      downgrade_refused();
    }
    std::string why = std::string(op) + " needs memcached's meta protocol (memcached 1.6.10 or later); this backend speaks " +
                      to_string(protocol());
    if (config_.protocol == Protocol::meta) why += " since a server refused meta";
    return exec_.decorate(Error(ErrorKind::permanent, std::move(why)), op, key, nullptr);
  }

  /// After a server refused meta: the switch to text (logged once).
  CACHEKIT_COLD_NOINLINE void downgrade_refused() {
    const detail::Server* s = exec_.refused_by();
    downgrade((s != nullptr ? s->name : std::string("a server")) + " answered ERROR to a meta command");
  }

  /// Moves the backend from meta to text, once, and says so in the log.
  CACHEKIT_COLD_NOINLINE void downgrade(const std::string& why) {
    Protocol expected = Protocol::meta;
    const bool first = protocol_.compare_exchange_strong(expected, Protocol::text, std::memory_order_acq_rel);
    exec_.refused().store(false, std::memory_order_release);
    if (!first) return;
    log_message(LogLevel::warning, "memcached",
                "switching from the meta protocol to text for the life of this backend: " + why +
                    " (meta needs memcached 1.6.10 or later)");
  }

  /// Whether a memcached version string is older than 1.6.10 (the meta
  /// dialect of 1.6.0 .. 1.6.9 differs; before 1.6 meta is experimental or
  /// missing). A string that is not a version ("x.y.z") is not judged.
  static bool predates_meta(std::string_view v) {
    std::uint64_t part[3] = {0, 0, 0};
    std::size_t i = 0;
    for (int k = 0; k < 3; ++k) {
      std::size_t start = i;
      while (i < v.size() && v[i] >= '0' && v[i] <= '9') part[k] = part[k] * 10 + static_cast<std::uint64_t>(v[i++] - '0');
      if (i == start || part[k] > 100000) return false;
      if (k < 2) {
        if (i >= v.size() || v[i] != '.') return false;
        ++i;
      }
    }
    if (part[0] != 1) return part[0] < 1;
    if (part[1] != 6) return part[1] < 6;
    return part[2] < 10;
  }

  /// The first exchange on a new connection: the login the protocol
  /// takes, then (meta, once per server) the server's version, to catch a
  /// server older than the meta protocol.
  static Result<void> prepare_hook(void* context, detail::Server& s, detail::Connection& c, Deadline io_end) {
    auto* self = static_cast<BasicMemcachedBackend*>(context);
    const MemcachedBackendConfig& cfg = self->config_;
    const Protocol p = self->protocol_.load(std::memory_order_acquire);
    if (!cfg.username.empty()) {
      auto ok = p == Protocol::binary ? detail::BinaryConversation::login(c, cfg.username, cfg.password, io_end, s.name)
                                      : detail::TextConversation::login(c, cfg.username, cfg.password, io_end, s.name);
      if (!ok) return ok;
    }
    if (p == Protocol::meta && !s.checked.load(std::memory_order_acquire)) {
      auto v = detail::TextConversation::version(c, io_end);
      if (!v) return std::move(v).error();
      s.checked.store(true, std::memory_order_release);
      if (predates_meta(*v)) {
        self->downgrade(s.name + " is memcached " + *v);
        // The call that opened this connection was made for meta: it ends
        // here (nothing sent) and runs again over text.
        self->exec_.refused().store(true, std::memory_order_release);
        c.mark_broken();
        return Error(ErrorKind::permanent, s.name + " is memcached " + *v + ", older than the meta protocol");
      }
    }
    return {};
  }

  /// The rejoin repair's deletes (or flush) over the protocol in use.
  static Result<void> repair_hook(void* context, detail::Server&, detail::PoolLease& lease,
                                  const detail::RejoinLog::Batch& batch, Deadline io_end) {
    auto* self = static_cast<BasicMemcachedBackend*>(context);
    return self->with_wire([&](auto conv) -> Result<void> {
      using C = decltype(conv);
      if (batch.flush) return C::flush_all(*lease.get(), 0, io_end);
      std::vector<detail::Job> jobs(1);
      detail::Job& job = jobs[0];
      job.lease = std::move(lease);
      C::encode_delete_batch(*job.lease.get(), job, batch.keys);
      std::optional<Error> refused;
      detail::run_jobs<typename C::Wire>(jobs, io_end, [&](detail::Job& j, const typename C::Reply& r, const char*& why) {
        return C::on_delete_reply(j, r, refused, why);
      });
      lease = std::move(job.lease);
      if (job.failed) return job.error;
      if (refused) return *refused;
      return {};
    });
  }

  /// One get of key: routing, retries and failover as exec_.single()
  /// does, with a leaner first attempt. store(value) runs on a hit.
  template <class Store>
  Result<void> get_any(std::string_view key, Store&& store) {
    switch (protocol_.load(std::memory_order_relaxed)) {
      case Protocol::binary: return get_impl<detail::BinaryConversation>(key, store);
      case Protocol::text: return get_impl<detail::TextConversation>(key, store);
      case Protocol::meta: break;
    }
    auto r = get_impl<detail::MetaConversation>(key, store);
    if (r || !exec_.refused().load(std::memory_order_acquire)) return r;
    downgrade_refused();
    return get_impl<detail::TextConversation>(key, store);
  }

  template <class C, class Store>
  CACHEKIT_HOT_INLINE Result<void> get_impl(std::string_view key, Store& store) {
    auto attempt = [&store](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
      return C::get(c, k, d, now, store);
    };
    detail::FullKey fk;
    if (cluster_.init_error() || keys_.make(key, fk) != nullptr || cluster_.dead_count() != 0) {
      return exec_.single<void>("get", key, true, detail::Effect::read, attempt);
    }
    // Fast path: an idle connection from the hot slot, used within the
    // last second; anything else goes the general way.
    detail::Server& s = cluster_.server(cluster_.home_of(key));
    detail::Connection* c = s.pool.take_hot();
    const auto start = detail::net::now();
    if (c == nullptr || start - c->last_used() > detail::Cluster::kFreshIdle) {
      if (c != nullptr) s.pool.give_back(c);
      return exec_.single<void>("get", key, true, detail::Effect::read, attempt);
    }
    const Deadline end = exec_.call_deadline(start);
    auto ok = C::get(*c, fk.view(), std::min(start + config_.timeout, end), start, store);
    if (ok) {
      exec_.give_back_hot(s, c, start);
      return ok;
    }
    Error err = exec_.explain(std::move(ok).error(), *c, &s);
    const bool broken = exec_.give_back_hot(s, c, start);
    if (!broken || exec_.refused().load(std::memory_order_relaxed) || !cluster_.retry_after(err, s, true, false, 0, end)) {
      return exec_.decorate(std::move(err), "get", key, &s);
    }
    return exec_.retry_loop<void>("get", key, fk, true, detail::Effect::read, attempt, 1, start);
  }

  Result<detail::StoreStatus> store(const char* op, protocol::StoreMode mode, std::string_view key,
                                    std::string_view value, std::chrono::seconds ttl, std::uint32_t flags,
                                    std::uint64_t cas_token) {
    auto ok = keys_.check_value(value, config_.key_prefix.size() + key.size(), flags);
    if (!ok) return exec_.decorate(std::move(ok).error(), op, key, nullptr);
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    const bool idempotent = mode != protocol::StoreMode::append && mode != protocol::StoreMode::prepend;
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<detail::StoreStatus>(
          op, key, idempotent, detail::Effect::write,
          [&](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
            return C::store(c, mode, k, value, flags, exp, cas_token, d, now);
          });
    });
  }

  Result<bool> stored_bool(const char* op, protocol::StoreMode mode, std::string_view key, std::string_view value,
                           std::chrono::seconds ttl, std::uint32_t flags) {
    auto r = store(op, mode, key, value, ttl, flags, 0);
    if (!r) return std::move(r).error();
    return *r == detail::StoreStatus::stored;
  }

  Result<std::optional<std::uint64_t>> counter(const char* op, bool decrement, std::string_view key, std::uint64_t delta,
                                               std::optional<std::uint64_t> initial, std::chrono::seconds ttl) {
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.single<std::optional<std::uint64_t>>(
          op, key, false, detail::Effect::write,
          [&](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
            return C::counter(c, decrement, k, delta, initial, exp, d, now);
          });
    });
  }

  Result<std::string> server_version(std::size_t i, Deadline end) {
    return with_wire([&](auto conv) {
      using C = decltype(conv);
      return exec_.on_server<std::string>(i, "version", end, [](detail::Connection& c, Deadline d) { return C::version(c, d); });
    });
  }

  // ---- batches ----

  template <bool reuse>
  Result<void> get_many_any(const std::string_view* keys, std::size_t n, std::vector<std::optional<std::string>>& results) {
    switch (protocol_.load(std::memory_order_relaxed)) {
      case Protocol::binary: return get_many_impl<detail::BinaryConversation, reuse>(keys, n, results);
      case Protocol::text: return get_many_impl<detail::TextConversation, reuse>(keys, n, results);
      case Protocol::meta: break;
    }
    auto r = get_many_impl<detail::MetaConversation, reuse>(keys, n, results);
    if (r || !exec_.refused().load(std::memory_order_acquire)) return r;
    downgrade_refused();
    return get_many_impl<detail::TextConversation, reuse>(keys, n, results);
  }

  /// The values of keys[0..n) into results (resized to n). reuse: results
  /// may hold strings from an earlier call, to be assigned into (or reset
  /// on a miss); else every slot starts empty.
  template <class C, bool reuse>
  Result<void> get_many_impl(const std::string_view* keys, std::size_t n, std::vector<std::optional<std::string>>& results) {
    const char* const op = "get_many";
    if (cluster_.init_error()) return exec_.decorate(*cluster_.init_error(), op, {}, nullptr);
    if (n == 0) {
      results.clear();
      return {};
    }
    if (n > 0x7ffffff0u) return exec_.decorate(Error(ErrorKind::permanent, "too many keys"), op, {}, nullptr);
    // Full keys (prefix + key) packed into one buffer.
    const std::string& prefix = config_.key_prefix;
    std::string packed;
    std::vector<std::uint32_t> offset;
    std::size_t key_bytes = 0;  // of all the full keys
    if (prefix.empty()) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::string_view k = keys[i];
        if (k.empty() || k.size() > CACHEKIT_MAX_KEY_LENGTH || detail::has_bad_key_byte(k.data(), k.size())) {
          return keys_.error(keys_.problem(k), op, k);
        }
        key_bytes += k.size();
      }
    } else {
      offset.assign(n + 1, 0);
      packed.reserve(n * (prefix.size() + 16));
      for (std::size_t i = 0; i < n; ++i) {
        detail::FullKey fk;
        if (const char* why = keys_.make(keys[i], fk)) return keys_.error(why, op, keys[i]);
        packed.append(fk.data, fk.len);
        offset[i + 1] = static_cast<std::uint32_t>(packed.size());
      }
      key_bytes = packed.size();
    }
    detail::ManyScratch& sc = detail::many_scratch();
    if (!reuse) results.clear();
    results.resize(n);
    std::vector<unsigned char>& hit = sc.hit;
    if (reuse) hit.assign(n, 0);
    // Full keys: the caller's when there is no prefix, else views of packed.
    std::vector<std::string_view>& full_views = sc.full;
    const std::string_view* full = keys;
    if (!prefix.empty()) {
      full_views.resize(n);
      for (std::size_t i = 0; i < n; ++i) full_views[i] = std::string_view(packed.data() + offset[i], offset[i + 1] - offset[i]);
      full = full_views.data();
    }
    auto full_key = [full](std::size_t i) noexcept { return full[i]; };
    std::vector<std::uint32_t>& pending = sc.pending;
    pending.resize(n);
    for (std::size_t i = 0; i < n; ++i) pending[i] = static_cast<std::uint32_t>(i);
    std::vector<std::size_t>& server_of = sc.server_of;
    server_of.resize(n);
    std::optional<std::string>* const slots = results.data();
    auto store = [&](std::uint32_t idx, std::string_view v) CACHEKIT_LAMBDA_INLINE {
      std::optional<std::string>& slot = slots[idx];
      if (reuse && slot) {
        detail::assign_bytes(*slot, v);
      } else {
        slot.emplace(v);
      }
      if (reuse) hit[idx] = 1;
    };
    const detail::BatchEnd outcome = detail::run_batch<typename C::Wire>(
        cluster_, exec_, keys, pending, server_of, Clock::now(), false, full_key,
        [&](detail::Connection& c, detail::Job& j) {
          C::encode_get_batch(c, j, full_key, j.keys.size() == n ? key_bytes : 0);
        },
        [&](detail::Job& j, const typename C::Reply& r, const char*& why) {
          return C::on_get_reply(j, r, full_key, store, why);
        },
        [&](detail::Job& j, const char* data, std::size_t size) {
          return C::fast_get_replies(j, data, size, full_key, store);
        },
        [&](std::uint32_t k) {
          // A retry's answer replaces anything the failed attempt gave.
          if (reuse) {
            hit[k] = 0;
          } else {
            results[k].reset();
          }
        });
    auto release = [&]() noexcept {
      detail::trim(sc.pending);
      detail::trim(sc.server_of);
      detail::trim(sc.full);
      detail::trim(hit);
    };
    if (!outcome.complete) {
      const std::string_view first_failed = pending.empty() ? std::string_view() : keys[pending.front()];
      release();
      return exec_.decorate(outcome.error, op, first_failed, outcome.server);
    }
    if (reuse) {
      for (std::size_t i = 0; i < n; ++i) {
        if (hit[i] == 0) results[i].reset();
      }
    }
    release();
    return {};
  }

  Result<std::vector<KeyError>> set_many_any(const std::pair<std::string_view, std::string_view>* items, std::size_t n,
                                             std::chrono::seconds ttl, std::uint32_t flags) {
    return with_wire([&](auto conv) { return set_many_impl<decltype(conv)>(items, n, ttl, flags); });
  }

  template <class C>
  Result<std::vector<KeyError>> set_many_impl(const std::pair<std::string_view, std::string_view>* items,
                                              std::size_t n, std::chrono::seconds ttl, std::uint32_t flags) {
    const char* const op = "set_many";
    if (cluster_.init_error()) return exec_.decorate(*cluster_.init_error(), op, {}, nullptr);
    std::vector<KeyError> failures;
    if (n > 0x7ffffff0u) return exec_.decorate(Error(ErrorKind::permanent, "too many keys"), op, {}, nullptr);
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    std::vector<std::string_view> keys(n);
    std::string packed;
    std::vector<std::uint32_t> offset(n + 1, 0);
    std::vector<std::uint32_t> pending;
    pending.reserve(n);
    const std::string& prefix = config_.key_prefix;
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = items[i].first;
      detail::FullKey fk;
      const char* why = keys_.make(items[i].first, fk);
      if (why != nullptr) {
        failures.push_back(KeyError{i, keys_.error(why, op, items[i].first)});
        if (!prefix.empty()) offset[i + 1] = static_cast<std::uint32_t>(packed.size());
        continue;
      }
      Result<void> ok = keys_.check_value(items[i].second, fk.len, flags);
      if (!ok) {
        failures.push_back(KeyError{i, exec_.decorate(std::move(ok).error(), op, items[i].first, nullptr)});
      } else {
        pending.push_back(static_cast<std::uint32_t>(i));
      }
      if (!prefix.empty()) {
        if (ok) packed.append(fk.data, fk.len);
        offset[i + 1] = static_cast<std::uint32_t>(packed.size());
      }
    }
    auto full_key = [&](std::size_t i) -> std::string_view {
      if (prefix.empty()) return keys[i];
      return std::string_view(packed.data() + offset[i], offset[i + 1] - offset[i]);
    };
    auto value_of = [&](std::size_t i) -> std::string_view { return items[i].second; };
    std::vector<std::size_t> server_of(n);
    // A server's report on a key counts only when it came in the key's last
    // attempt: the keys of a failed job are sent again.
    std::vector<std::uint32_t> round(n, 0);
    std::vector<std::uint32_t> report_round(failures.size(), 0);
    if (!pending.empty()) {
      const detail::BatchEnd outcome = detail::run_batch<typename C::Wire>(
          cluster_, exec_, keys.data(), pending, server_of, Clock::now(), true, full_key,
          [&](detail::Connection& c, detail::Job& j) { C::encode_set_batch(c, j, full_key, value_of, flags, exp); },
          [&](detail::Job& j, const typename C::Reply& r, const char*& why) {
            return C::on_set_reply(
                j, r,
                [&](std::uint32_t idx, Error e) {
                  failures.push_back(KeyError{idx, exec_.decorate(std::move(e), op, keys[idx], &cluster_.server(j.server))});
                  report_round.push_back(round[idx]);
                },
                why);
          },
          detail::NoFastPath{}, [&](std::uint32_t k) { ++round[k]; });
      std::size_t kept = 0;
      for (std::size_t f = 0; f < failures.size(); ++f) {
        const std::size_t idx = failures[f].index;
        if (f >= report_round.size() || report_round[f] == round[idx]) failures[kept++] = std::move(failures[f]);
      }
      failures.resize(kept);
      if (!outcome.complete) {
        for (auto i : pending) {
          failures.push_back(KeyError{i, exec_.decorate(outcome.error, op, keys[i], outcome.server)});
        }
      }
    }
    std::stable_sort(failures.begin(), failures.end(), [](const KeyError& a, const KeyError& b) { return a.index < b.index; });
    failures.erase(std::unique(failures.begin(), failures.end(),
                               [](const KeyError& a, const KeyError& b) { return a.index == b.index; }),
                   failures.end());
    return failures;
  }

  /// Views of keys in the per-thread array.
  template <class Keys>
  static std::vector<std::string_view>& key_views(const Keys& keys) {
    std::vector<std::string_view>& views = detail::many_scratch().views;
    views.resize(detail::range_size(keys));
    std::string_view* at = views.data();
    for (const auto& k : keys) *at++ = std::string_view(k);
    return views;
  }

  MemcachedBackendConfig config_;
  std::atomic<Protocol> protocol_;
  detail::KeyRules keys_;
  detail::Cluster cluster_;
  detail::Executor exec_;
};

// The constructors and the destructor are defined out of the class (not
// inline), so that a translation unit with CACHEKIT_DECLARATIONS_ONLY
// compiles none of them, nor the cluster, ring and checks they build.
template <class Unused>
BasicMemcachedBackend<Unused>::BasicMemcachedBackend() : BasicMemcachedBackend(default_config()) {}

template <class Unused>
BasicMemcachedBackend<Unused>::BasicMemcachedBackend(MemcachedBackendConfig config)
    : config_(std::move(config)),
      protocol_(config_.protocol),
      keys_(config_),
      cluster_(config_, detail::ClusterHooks{this, &BasicMemcachedBackend::prepare_hook, &BasicMemcachedBackend::repair_hook}),
      exec_(config_, cluster_, keys_, protocol_) {}

template <class Unused>
BasicMemcachedBackend<Unused>::~BasicMemcachedBackend() = default;

CACHEKIT_COMPILE_ONCE(class BasicMemcachedBackend<void>)  // see config.hpp

CACHEKIT_END_NAMESPACE
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_BEGIN_NAMESPACE

#ifndef CACHEKIT_DETAIL_SPLIT
/// The memcached backend.
using MemcachedBackend = BasicMemcachedBackend<>;
#else
template <class>
class BasicMemcachedBackend;

/// The memcached backend, in split use (config.hpp): the operations of
/// BasicMemcachedBackend (documented there), whose one instance it holds,
/// compiled in the file with CACHEKIT_IMPLEMENTATION.
class MemcachedBackend final : public Backend {
 public:
  MemcachedBackend();
  explicit MemcachedBackend(MemcachedBackendConfig config);
  MemcachedBackend(const MemcachedBackend&) = delete;
  MemcachedBackend& operator=(const MemcachedBackend&) = delete;
  ~MemcachedBackend() override;

  Result<void> status() const;
  const MemcachedBackendConfig& config() const noexcept;
  Protocol protocol() const noexcept;
  std::uint64_t tls_handshakes() const noexcept;
  std::uint64_t tls_resumed_handshakes() const noexcept;
  std::vector<std::string> server_names() const;
  Result<std::size_t> server_for(std::string_view key);

  Result<std::optional<std::string>> get(std::string_view key) override;
  Result<bool> get(std::string_view key, std::string& value);
  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl = {}) override;
  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl, std::uint32_t flags);
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl, std::uint32_t flags);
  Result<bool> replace(std::string_view key, std::string_view value, std::chrono::seconds ttl = {},
                       std::uint32_t flags = 0);
  Result<bool> append(std::string_view key, std::string_view value);
  Result<bool> prepend(std::string_view key, std::string_view value);
  Result<CasOutcome> cas(std::string_view key, std::string_view value, std::uint64_t cas_token,
                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0);
  Result<std::optional<Item>> gets(std::string_view key);
  Result<bool> remove(std::string_view key) override;
  Result<bool> exists(std::string_view key) override;
  Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override;
  Result<std::optional<std::string>> get_and_touch(std::string_view key, std::chrono::seconds ttl);
  Result<bool> read_ttl(std::string_view key, Ttl& out) override;
  Result<bool> read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) override;
  bool has_leases() const noexcept override;
  Result<LeaseRead> lease_get(std::string_view key, const LeaseOptions& options) override;
  Result<bool> lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                         std::uint64_t token) override;
  Result<bool> invalidate(std::string_view key, std::chrono::seconds stale_for) override;
  Result<std::optional<std::uint64_t>> incr(std::string_view key, std::uint64_t delta,
                                            std::optional<std::uint64_t> initial = std::nullopt,
                                            std::chrono::seconds ttl = {});
  Result<std::optional<std::uint64_t>> decr(std::string_view key, std::uint64_t delta,
                                            std::optional<std::uint64_t> initial = std::nullopt,
                                            std::chrono::seconds ttl = {});

  template <class Keys>
  Result<std::vector<std::optional<std::string>>> get_many(const Keys& keys) {
    std::vector<std::string_view>& views = key_views(keys);
    auto r = get_many(views.data(), views.size());
    shed_key_views();
    return r;
  }
  Result<std::vector<std::optional<std::string>>> get_many(const std::string_view* keys, std::size_t n);
  Result<std::vector<std::optional<std::string>>> get_many(std::initializer_list<std::string_view> keys) {
    return get_many(keys.begin(), keys.size());
  }
  template <class Keys>
  Result<void> get_many(const Keys& keys, std::vector<std::optional<std::string>>& values) {
    std::vector<std::string_view>& views = key_views(keys);
    auto r = get_many(views.data(), views.size(), values);
    shed_key_views();
    return r;
  }
  Result<void> get_many(const std::string_view* keys, std::size_t n, std::vector<std::optional<std::string>>& values);
  template <class Items>
  Result<std::vector<KeyError>> set_many(const Items& items, std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    std::vector<std::pair<std::string_view, std::string_view>> views;
    for (const auto& kv : items) views.emplace_back(std::string_view(kv.first), std::string_view(kv.second));
    return set_many(views.data(), views.size(), ttl, flags);
  }
  Result<std::vector<KeyError>> set_many(std::initializer_list<std::pair<std::string_view, std::string_view>> items,
                                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    return set_many(items.begin(), items.size(), ttl, flags);
  }
  /// set_many over an array of (key, value) pairs.
  Result<std::vector<KeyError>> set_many(const std::pair<std::string_view, std::string_view>* items, std::size_t n,
                                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0);

  Result<void> flush_all(std::chrono::seconds delay = {});
  std::vector<ServerVersion> version();
  std::vector<ServerStats> stats(std::string_view group = {});
  std::vector<ServerHealth> health_check();
  std::size_t open_connections(std::size_t i);
  bool server_marked_dead(std::size_t i) const;

 private:
  /// The per-thread array of key views get_many fills.
  static std::vector<std::string_view>& key_view_scratch();
  /// Gives the array back (trimmed after a very large batch).
  static void shed_key_views();
  template <class Keys>
  static std::vector<std::string_view>& key_views(const Keys& keys) {
    std::vector<std::string_view>& views = key_view_scratch();
    views.clear();
    for (const auto& k : keys) views.push_back(std::string_view(k));
    return views;
  }

  std::unique_ptr<BasicMemcachedBackend<void>> impl_;
};

#ifdef CACHEKIT_IMPLEMENTATION
MemcachedBackend::MemcachedBackend() : impl_(new BasicMemcachedBackend<void>()) {}
MemcachedBackend::MemcachedBackend(MemcachedBackendConfig config)
    : impl_(new BasicMemcachedBackend<void>(std::move(config))) {}
MemcachedBackend::~MemcachedBackend() = default;
Result<void> MemcachedBackend::status() const { return impl_->status(); }
const MemcachedBackendConfig& MemcachedBackend::config() const noexcept { return impl_->config(); }
Protocol MemcachedBackend::protocol() const noexcept { return impl_->protocol(); }
std::uint64_t MemcachedBackend::tls_handshakes() const noexcept { return impl_->tls_handshakes(); }
std::uint64_t MemcachedBackend::tls_resumed_handshakes() const noexcept { return impl_->tls_resumed_handshakes(); }
std::vector<std::string> MemcachedBackend::server_names() const { return impl_->server_names(); }
Result<std::size_t> MemcachedBackend::server_for(std::string_view key) { return impl_->server_for(key); }
Result<std::optional<std::string>> MemcachedBackend::get(std::string_view key) { return impl_->get(key); }
Result<bool> MemcachedBackend::get(std::string_view key, std::string& value) { return impl_->get(key, value); }
Result<void> MemcachedBackend::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  return impl_->set(key, value, ttl);
}
Result<void> MemcachedBackend::set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                   std::uint32_t flags) {
  return impl_->set(key, value, ttl, flags);
}
Result<bool> MemcachedBackend::add(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  return impl_->add(key, value, ttl);
}
Result<bool> MemcachedBackend::add(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                   std::uint32_t flags) {
  return impl_->add(key, value, ttl, flags);
}
Result<bool> MemcachedBackend::replace(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                       std::uint32_t flags) {
  return impl_->replace(key, value, ttl, flags);
}
Result<bool> MemcachedBackend::append(std::string_view key, std::string_view value) {
  return impl_->append(key, value);
}
Result<bool> MemcachedBackend::prepend(std::string_view key, std::string_view value) {
  return impl_->prepend(key, value);
}
Result<CasOutcome> MemcachedBackend::cas(std::string_view key, std::string_view value, std::uint64_t cas_token,
                                         std::chrono::seconds ttl, std::uint32_t flags) {
  return impl_->cas(key, value, cas_token, ttl, flags);
}
Result<std::optional<Item>> MemcachedBackend::gets(std::string_view key) { return impl_->gets(key); }
Result<bool> MemcachedBackend::remove(std::string_view key) { return impl_->remove(key); }
Result<bool> MemcachedBackend::exists(std::string_view key) { return impl_->exists(key); }
Result<bool> MemcachedBackend::touch(std::string_view key, std::chrono::seconds ttl) { return impl_->touch(key, ttl); }
Result<std::optional<std::string>> MemcachedBackend::get_and_touch(std::string_view key, std::chrono::seconds ttl) {
  return impl_->get_and_touch(key, ttl);
}
Result<bool> MemcachedBackend::read_ttl(std::string_view key, Ttl& out) { return impl_->read_ttl(key, out); }
Result<bool> MemcachedBackend::read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) {
  return impl_->read_with_ttl(key, value, ttl);
}
bool MemcachedBackend::has_leases() const noexcept { return impl_->has_leases(); }
Result<LeaseRead> MemcachedBackend::lease_get(std::string_view key, const LeaseOptions& options) {
  return impl_->lease_get(key, options);
}
Result<bool> MemcachedBackend::lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                         std::uint64_t token) {
  return impl_->lease_set(key, value, ttl, token);
}
Result<bool> MemcachedBackend::invalidate(std::string_view key, std::chrono::seconds stale_for) {
  return impl_->invalidate(key, stale_for);
}
Result<std::optional<std::uint64_t>> MemcachedBackend::incr(std::string_view key, std::uint64_t delta,
                                                            std::optional<std::uint64_t> initial,
                                                            std::chrono::seconds ttl) {
  return impl_->incr(key, delta, initial, ttl);
}
Result<std::optional<std::uint64_t>> MemcachedBackend::decr(std::string_view key, std::uint64_t delta,
                                                            std::optional<std::uint64_t> initial,
                                                            std::chrono::seconds ttl) {
  return impl_->decr(key, delta, initial, ttl);
}
Result<std::vector<std::optional<std::string>>> MemcachedBackend::get_many(const std::string_view* keys,
                                                                           std::size_t n) {
  return impl_->get_many(keys, n);
}
Result<void> MemcachedBackend::get_many(const std::string_view* keys, std::size_t n,
                                        std::vector<std::optional<std::string>>& values) {
  return impl_->get_many(keys, n, values);
}
Result<std::vector<KeyError>> MemcachedBackend::set_many(const std::pair<std::string_view, std::string_view>* items,
                                                         std::size_t n, std::chrono::seconds ttl,
                                                         std::uint32_t flags) {
  return impl_->set_many(items, n, ttl, flags);
}
Result<void> MemcachedBackend::flush_all(std::chrono::seconds delay) { return impl_->flush_all(delay); }
std::vector<ServerVersion> MemcachedBackend::version() { return impl_->version(); }
std::vector<ServerStats> MemcachedBackend::stats(std::string_view group) { return impl_->stats(group); }
std::vector<ServerHealth> MemcachedBackend::health_check() { return impl_->health_check(); }
std::size_t MemcachedBackend::open_connections(std::size_t i) { return impl_->open_connections(i); }
bool MemcachedBackend::server_marked_dead(std::size_t i) const { return impl_->server_marked_dead(i); }
std::vector<std::string_view>& MemcachedBackend::key_view_scratch() { return detail::many_scratch().views; }
void MemcachedBackend::shed_key_views() { detail::shed(detail::many_scratch().views); }
#endif  // CACHEKIT_IMPLEMENTATION
#endif  // CACHEKIT_DETAIL_SPLIT

CACHEKIT_END_NAMESPACE
// ---- end cachekit/memcached_backend.hpp ----

// ---- begin cachekit/memory_backend.hpp ----
// MemoryBackend: the in-process store. Thread-safe, least-recently-used
// eviction bounded by bytes (key + value sizes), TTLs on a monotonic clock.
// It is the default backend when no memcached servers are configured and the
// near cache (L1) in front of a remote one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// Settings of a MemoryBackend.
struct MemoryBackendOptions {
  /// Budget for the sum of key and value sizes; least recently used entries
  /// are evicted beyond it.
  std::size_t max_bytes = CACHEKIT_MEMORY_BACKEND_MAX_BYTES;
  /// Source of time for TTLs; empty means std::chrono::steady_clock::now.
  /// Tests inject a manual clock so that expiry needs no sleeping.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
CACHEKIT_END_NAMESPACE
#include <mutex>
#include <unordered_map>
CACHEKIT_BEGIN_NAMESPACE

/// In-process Backend: thread-safe LRU bounded by bytes, honouring TTLs.
/// TTLs follow memcached's rules (<= 0 never expires, longer than 30 days is
/// clamped); set_for/add_for take sub-second TTLs.
///
/// A class template only so that a translation unit that includes the
/// header without using it compiles none of it; use it as MemoryBackend.
template <class Unused = void>
class BasicMemoryBackend final : public Backend {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;
  using duration = clock_type::duration;

  /// A store with the default budget (CACHEKIT_MEMORY_BACKEND_MAX_BYTES).
  BasicMemoryBackend() = default;
  /// A store holding at most max_bytes of keys and values.
  explicit BasicMemoryBackend(std::size_t max_bytes) { options_.max_bytes = max_bytes; }
  /// A store with the given options.
  explicit BasicMemoryBackend(MemoryBackendOptions options) : options_(std::move(options)) {}

  BasicMemoryBackend(const BasicMemoryBackend&) = delete;
  BasicMemoryBackend& operator=(const BasicMemoryBackend&) = delete;
  ~BasicMemoryBackend() override;  // defined below (see BasicMemcachedBackend)

  Result<std::optional<std::string>> get(std::string_view key) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return std::optional<std::string>();
    return std::optional<std::string>(e->value);
  }

  /// Looks key up and hands the value to fn under the lock, without copying
  /// it; returns whether it was found. fn must not call back into the store.
  template <class Fn>
  bool visit(std::string_view key, Fn&& fn) {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    std::forward<Fn>(fn)(std::string_view(e->value));
    return true;
  }

  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    return set_for(key, value, ttl_duration(ttl));
  }

  /// set() with a TTL of any precision; zero or negative never expires.
  Result<void> set_for(std::string_view key, std::string_view value, duration ttl) {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    return store(key, value, expiry(now, ttl), now);
  }

  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    return add_for(key, value, ttl_duration(ttl));
  }

  /// add() with a TTL of any precision.
  Result<bool> add_for(std::string_view key, std::string_view value, duration ttl) {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    if (find_live(key, now) != nullptr) return false;
    auto stored = store(key, value, expiry(now, ttl), now);
    if (!stored) return std::move(stored).error();
    return true;
  }

  Result<bool> remove(std::string_view key) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    const bool live = !expired(*it->second, now);
    erase(it->second.get());
    return live;
  }

  Result<bool> exists(std::string_view key) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    if (expired(*it->second, now)) {
      erase(it->second.get());
      return false;
    }
    return true;
  }

  Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    e->expires = expiry(now, ttl_duration(ttl));
    return true;
  }

  // ---- TTL inspection and leases, as memcached's meta protocol has them ----

  Result<bool> read_ttl(std::string_view key, Ttl& out) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    out = ttl_left(*e, now);
    return true;
  }
  Result<bool> read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    value = e->value;
    ttl = ttl_left(*e, now);
    return true;
  }
  bool has_leases() const noexcept override { return true; }
  /// As memcached's `mg <key> v c N<lease_ttl> R<recache> t`: a miss with a
  /// lease_ttl creates an empty placeholder and wins; a stale entry, or one
  /// with fewer than recache seconds left, makes its first reader win; while
  /// a winner has not stored, every other reader is pending.
  Result<LeaseRead> lease_get(std::string_view key, const LeaseOptions& options) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    LeaseRead out;
    Entry* e = find_live(key, now);
    if (e == nullptr) {
      if (options.lease_ttl.count() <= 0) return out;
      const duration lease = ttl_duration(options.lease_ttl);
      auto stored = store(key, std::string_view(), expiry(now, lease), now);
      if (!stored) return std::move(stored).error();
      e = find_live(key, now);
      if (e == nullptr) return out;  // evicted at once by a tiny budget
      e->win_sent = true;
      out.won = true;
      out.token = e->cas;
      out.ttl = ttl_left(*e, now);
      return out;
    }
    out.token = e->cas;
    out.ttl = ttl_left(*e, now);
    out.stale = e->stale;
    if (e->win_sent) {
      out.pending = true;
    } else if (e->stale || (options.recache.count() > 0 && e->expires != time_point::max() &&
                            e->expires - now < std::chrono::duration_cast<duration>(options.recache))) {
      e->win_sent = true;
      out.won = true;
    }
    if (!e->value.empty() || !(out.won || out.pending)) out.value = e->value;
    return out;
  }
  Result<bool> lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                         std::uint64_t token) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr || e->cas != token) return false;
    auto stored = store(key, value, expiry(now, ttl_duration(ttl)), now);
    if (!stored) return std::move(stored).error();
    return true;
  }
  Result<bool> invalidate(std::string_view key, std::chrono::seconds stale_for) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    e->stale = true;
    e->win_sent = false;
    e->cas = ++cas_;
    if (stale_for.count() > 0) e->expires = expiry(now, ttl_duration(stale_for));
    return true;
  }

  /// Drops every entry.
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    index_.clear();
    lru_.prev = lru_.next = &lru_;
    bytes_ = 0;
    writes_since_sweep_ = 0;
  }

  /// Reclaims every expired entry now; returns how many were dropped.
  std::size_t purge_expired() {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    return sweep(now);
  }

  /// Number of entries held (expired ones not yet reclaimed included).
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return index_.size();
  }
  /// Sum of key and value sizes held, in bytes.
  std::size_t bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
  }
  /// The byte budget.
  std::size_t max_bytes() const noexcept { return options_.max_bytes; }
  /// Entries dropped to stay within the budget so far.
  std::uint64_t evictions() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return evictions_;
  }

 private:
  // The entries form a doubly linked list in recency order, through links
  // inside each entry, around the sentinel lru_: lru_.next is the most
  // recently used entry, lru_.prev the least.
  struct Links {
    Links* prev = nullptr;
    Links* next = nullptr;
  };
  struct Entry : Links {
    std::string key;
    std::string value;
    time_point expires;     // time_point::max() = never
    std::uint64_t cas = 0;  // the version lease_set compares (new on every write)
    bool stale = false;     // invalidated: served flagged until replaced
    bool win_sent = false;  // a reader holds the right to recompute (later ones: pending)
  };
  // The index owns the entries. Its keys view the key stored in the entry,
  // which never moves, so lookups by string_view need no allocation.
  using Index = std::unordered_map<std::string_view, std::unique_ptr<Entry>>;

  void link_front(Entry* e) noexcept {
    e->prev = &lru_;
    e->next = lru_.next;
    lru_.next->prev = e;
    lru_.next = e;
  }
  void unlink(Entry* e) noexcept {
    e->prev->next = e->next;
    e->next->prev = e->prev;
  }
  void to_front(Entry* e) noexcept {
    if (lru_.next == e) return;
    unlink(e);
    link_front(e);
  }

  time_point now() const { return options_.clock ? options_.clock() : clock_type::now(); }

  static duration ttl_duration(std::chrono::seconds ttl) noexcept {
    return std::chrono::seconds(detail::normalize_ttl(ttl));
  }
  static time_point expiry(time_point now, duration ttl) noexcept {
    if (ttl <= duration::zero()) return time_point::max();
    if (now > time_point::max() - ttl) return time_point::max();
    return now + ttl;
  }
  static bool expired(const Entry& e, time_point now) noexcept { return e.expires <= now; }
  /// Whole seconds left, rounded up (a live entry never reports 0).
  static Ttl ttl_left(const Entry& e, time_point now) noexcept {
    if (e.expires == time_point::max()) return Ttl::never();
    const auto left = std::chrono::ceil<std::chrono::seconds>(e.expires - now);
    return Ttl::in(left);
  }

  static std::size_t cost(std::string_view key, std::string_view value) noexcept {
    return key.size() + value.size();
  }

  // The live entry for key, moved to the front of the LRU list; an expired
  // one is reclaimed and reported as absent.
  Entry* find_live(std::string_view key, time_point now) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    Entry* node = it->second.get();
    if (expired(*node, now)) {
      erase(node);
      return nullptr;
    }
    to_front(node);
    return node;
  }

  Result<void> store(std::string_view key, std::string_view value, time_point expires, time_point now) {
    auto it = index_.find(key);
    if (cost(key, value) > options_.max_bytes) {
      // The old value must not outlive a write that could not be kept.
      if (it != index_.end()) erase(it->second.get());
      return Error(ErrorKind::permanent, "value larger than the memory backend's max_bytes")
          .with_operation("set");
    }
    if (it != index_.end()) {
      Entry* node = it->second.get();
      bytes_ -= node->value.size();
      node->value.assign(value.data(), value.size());
      bytes_ += node->value.size();
      node->expires = expires;
      node->cas = ++cas_;
      node->stale = false;
      node->win_sent = false;
      to_front(node);
    } else {
      auto fresh = std::make_unique<Entry>();
      fresh->key.assign(key.data(), key.size());
      fresh->value.assign(value.data(), value.size());
      fresh->expires = expires;
      fresh->cas = ++cas_;
      Entry* e = fresh.get();
      index_.emplace(std::string_view(e->key), std::move(fresh));
      link_front(e);
      bytes_ += cost(key, value);
    }
    // Amortised reclaim of expired entries nobody reads again: one full
    // sweep per as many writes as there were entries after the last one.
    if (++writes_since_sweep_ >= next_sweep_) sweep(now);
    while (bytes_ > options_.max_bytes && !index_.empty()) {
      erase(static_cast<Entry*>(lru_.prev));  // the least recently used entry
      ++evictions_;
    }
    return {};
  }

  std::size_t sweep(time_point now) {
    writes_since_sweep_ = 0;
    std::size_t dropped = 0;
    for (Links* node = lru_.next; node != &lru_;) {
      Links* next = node->next;
      Entry* e = static_cast<Entry*>(node);
      if (expired(*e, now)) {
        erase(e);
        ++dropped;
      }
      node = next;
    }
    next_sweep_ = index_.size() > 64 ? index_.size() : 64;
    return dropped;
  }

  /// Unlinks e and destroys it (the index owns it).
  void erase(Entry* e) {
    bytes_ -= cost(e->key, e->value);
    unlink(e);
    index_.erase(index_.find(std::string_view(e->key)));
  }

  MemoryBackendOptions options_;
  mutable std::mutex mutex_;
  Links lru_{&lru_, &lru_};
  Index index_;
  std::size_t bytes_ = 0;
  std::size_t writes_since_sweep_ = 0;
  std::size_t next_sweep_ = 64;
  std::uint64_t evictions_ = 0;
  std::uint64_t cas_ = 0;
};

template <class Unused>
BasicMemoryBackend<Unused>::~BasicMemoryBackend() = default;

CACHEKIT_COMPILE_ONCE(class BasicMemoryBackend<void>)  // see config.hpp
#endif  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_SPLIT
/// The in-process backend.
using MemoryBackend = BasicMemoryBackend<>;
#else
template <class>
class BasicMemoryBackend;

/// The in-process backend, in split use (config.hpp): the same operations
/// as BasicMemoryBackend, whose one instance it holds, compiled in the file
/// with CACHEKIT_IMPLEMENTATION.
class MemoryBackend final : public Backend {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;
  using duration = clock_type::duration;

  MemoryBackend();
  explicit MemoryBackend(std::size_t max_bytes);
  explicit MemoryBackend(MemoryBackendOptions options);
  MemoryBackend(const MemoryBackend&) = delete;
  MemoryBackend& operator=(const MemoryBackend&) = delete;
  ~MemoryBackend() override;

  Result<std::optional<std::string>> get(std::string_view key) override;
  template <class Fn>
  bool visit(std::string_view key, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    return visit_bytes(key, const_cast<void*>(static_cast<const void*>(std::addressof(fn))),
                       [](void* f, std::string_view v) { (*static_cast<F*>(f))(v); });
  }
  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  Result<void> set_for(std::string_view key, std::string_view value, duration ttl);
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  Result<bool> add_for(std::string_view key, std::string_view value, duration ttl);
  Result<bool> remove(std::string_view key) override;
  Result<bool> exists(std::string_view key) override;
  Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override;
  Result<bool> read_ttl(std::string_view key, Ttl& out) override;
  Result<bool> read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) override;
  bool has_leases() const noexcept override { return true; }
  Result<LeaseRead> lease_get(std::string_view key, const LeaseOptions& options) override;
  Result<bool> lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                         std::uint64_t token) override;
  Result<bool> invalidate(std::string_view key, std::chrono::seconds stale_for) override;
  void clear();
  std::size_t purge_expired();
  std::size_t size() const;
  std::size_t bytes() const;
  std::size_t max_bytes() const noexcept;
  std::uint64_t evictions() const;

 private:
  bool visit_bytes(std::string_view key, void* fn, void (*call)(void*, std::string_view));

  std::unique_ptr<BasicMemoryBackend<void>> impl_;
};

#ifdef CACHEKIT_IMPLEMENTATION
MemoryBackend::MemoryBackend() : impl_(new BasicMemoryBackend<void>()) {}
MemoryBackend::MemoryBackend(std::size_t max_bytes) : impl_(new BasicMemoryBackend<void>(max_bytes)) {}
MemoryBackend::MemoryBackend(MemoryBackendOptions options)
    : impl_(new BasicMemoryBackend<void>(std::move(options))) {}
MemoryBackend::~MemoryBackend() = default;
Result<std::optional<std::string>> MemoryBackend::get(std::string_view key) { return impl_->get(key); }
bool MemoryBackend::visit_bytes(std::string_view key, void* fn, void (*call)(void*, std::string_view)) {
  return impl_->visit(key, [fn, call](std::string_view v) { call(fn, v); });
}
Result<void> MemoryBackend::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  return impl_->set(key, value, ttl);
}
Result<void> MemoryBackend::set_for(std::string_view key, std::string_view value, duration ttl) {
  return impl_->set_for(key, value, ttl);
}
Result<bool> MemoryBackend::add(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  return impl_->add(key, value, ttl);
}
Result<bool> MemoryBackend::add_for(std::string_view key, std::string_view value, duration ttl) {
  return impl_->add_for(key, value, ttl);
}
Result<bool> MemoryBackend::remove(std::string_view key) { return impl_->remove(key); }
Result<bool> MemoryBackend::exists(std::string_view key) { return impl_->exists(key); }
Result<bool> MemoryBackend::touch(std::string_view key, std::chrono::seconds ttl) { return impl_->touch(key, ttl); }
Result<bool> MemoryBackend::read_ttl(std::string_view key, Ttl& out) { return impl_->read_ttl(key, out); }
Result<bool> MemoryBackend::read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) {
  return impl_->read_with_ttl(key, value, ttl);
}
Result<LeaseRead> MemoryBackend::lease_get(std::string_view key, const LeaseOptions& options) {
  return impl_->lease_get(key, options);
}
Result<bool> MemoryBackend::lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                      std::uint64_t token) {
  return impl_->lease_set(key, value, ttl, token);
}
Result<bool> MemoryBackend::invalidate(std::string_view key, std::chrono::seconds stale_for) {
  return impl_->invalidate(key, stale_for);
}
void MemoryBackend::clear() { impl_->clear(); }
std::size_t MemoryBackend::purge_expired() { return impl_->purge_expired(); }
std::size_t MemoryBackend::size() const { return impl_->size(); }
std::size_t MemoryBackend::bytes() const { return impl_->bytes(); }
std::size_t MemoryBackend::max_bytes() const noexcept { return impl_->max_bytes(); }
std::uint64_t MemoryBackend::evictions() const { return impl_->evictions(); }
#endif  // CACHEKIT_IMPLEMENTATION
#endif  // CACHEKIT_DETAIL_SPLIT

CACHEKIT_END_NAMESPACE
// ---- end cachekit/memory_backend.hpp ----

// ---- begin cachekit/hash/blake2b.hpp ----
// BLAKE2b (RFC 7693), unkeyed, digest 1..64 bytes. Interop cache keys hash
// their canonical arguments with BLAKE2b-256, as every cachekit SDK does.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {
// Initialisation vector: the SHA-512 IV (RFC 7693, section 2.6).
inline constexpr std::uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

// Message word schedule (RFC 7693, section 2.7); rounds 10 and 11 reuse rows 0 and 1.
inline constexpr std::uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

inline constexpr std::uint64_t rotr64(std::uint64_t x, unsigned n) noexcept {
  return (x >> n) | (x << (64u - n));
}

inline std::uint64_t load64_le(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
}  // namespace detail

/// Incremental unkeyed BLAKE2b hasher with a digest of 1..64 bytes.
class Blake2b {
 public:
  /// Largest digest, in bytes.
  static constexpr std::size_t max_digest_size = 64;
  /// Size of one compression block, in bytes.
  static constexpr std::size_t block_size = 128;

  /// Starts a hash with the given digest size (1..64; out-of-range sizes are clamped).
  explicit Blake2b(std::size_t digest_size = 32) noexcept {
    assert(digest_size >= 1 && digest_size <= max_digest_size);
    if (digest_size < 1) digest_size = 1;
    if (digest_size > max_digest_size) digest_size = max_digest_size;
    digest_size_ = digest_size;
    for (int i = 0; i < 8; ++i) h_[i] = detail::blake2b_iv[i];
    // Parameter block: digest length, key length 0, fanout 1, depth 1.
    h_[0] ^= 0x01010000ULL ^ static_cast<std::uint64_t>(digest_size);
  }

  /// Digest size in bytes.
  std::size_t digest_size() const noexcept { return digest_size_; }

  /// Absorbs n bytes.
  void update(const void* data, std::size_t n) noexcept {
    const auto* in = static_cast<const std::uint8_t*>(data);
    while (n > 0) {
      // The last block must be compressed with the final flag, so a full
      // buffer is only compressed once more input arrives.
      if (buffered_ == block_size) {
        add_counter(block_size);
        compress(buffer_, false);
        buffered_ = 0;
      }
      std::size_t take = block_size - buffered_;
      if (take > n) take = n;
      std::memcpy(buffer_ + buffered_, in, take);
      buffered_ += take;
      in += take;
      n -= take;
    }
  }

  /// Absorbs the bytes of s.
  void update(std::string_view s) noexcept { update(s.data(), s.size()); }

  /// Writes digest_size() bytes to out. The hasher must not be used afterwards.
  void finish(std::uint8_t* out) noexcept {
    add_counter(buffered_);
    std::memset(buffer_ + buffered_, 0, block_size - buffered_);
    compress(buffer_, true);
    for (std::size_t i = 0; i < digest_size_; ++i) {
      out[i] = static_cast<std::uint8_t>(h_[i / 8] >> (8 * (i % 8)));
    }
  }

 private:
  void add_counter(std::size_t n) noexcept {
    t_[0] += n;
    if (t_[0] < n) ++t_[1];
  }

  void compress(const std::uint8_t* block, bool last) noexcept {
    std::uint64_t m[16];
    std::uint64_t v[16];
    for (int i = 0; i < 16; ++i) m[i] = detail::load64_le(block + 8 * i);
    for (int i = 0; i < 8; ++i) {
      v[i] = h_[i];
      v[i + 8] = detail::blake2b_iv[i];
    }
    v[12] ^= t_[0];
    v[13] ^= t_[1];
    if (last) v[14] = ~v[14];
    // Rounds expanded at compile time so every index is a constant and the
    // state can live in registers.
    rounds(v, m, std::make_index_sequence<12>{});
    for (int i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
  }

  template <std::size_t R>
  static void round(std::uint64_t* v, const std::uint64_t* m) noexcept {
    constexpr const std::uint8_t* s = detail::blake2b_sigma[R];
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }

  template <std::size_t... R>
  static void rounds(std::uint64_t* v, const std::uint64_t* m, std::index_sequence<R...>) noexcept {
    (round<R>(v, m), ...);
  }

  // The G function (RFC 7693, section 3.1).
  static inline void mix(std::uint64_t* v, int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) noexcept {
    v[a] = v[a] + v[b] + x;
    v[d] = detail::rotr64(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = detail::rotr64(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = detail::rotr64(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = detail::rotr64(v[b] ^ v[c], 63);
  }

  std::uint64_t h_[8];
  std::uint64_t t_[2] = {0, 0};
  std::uint8_t buffer_[block_size] = {};
  std::size_t buffered_ = 0;
  std::size_t digest_size_ = 32;
};

/// One-shot BLAKE2b of n bytes into out (digest_size bytes, 1..64).
inline void blake2b(const void* data, std::size_t n, std::uint8_t* out, std::size_t digest_size = 32) noexcept {
  Blake2b h(digest_size);
  h.update(data, n);
  h.finish(out);
}

/// Lowercase hex of the BLAKE2b digest of data (digest_size bytes, 1..64).
inline std::string blake2b_hex(std::string_view data, std::size_t digest_size = 32) {
  std::uint8_t digest[Blake2b::max_digest_size];
  Blake2b h(digest_size);
  h.update(data);
  h.finish(digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(h.digest_size() * 2, '\0');
  for (std::size_t i = 0; i < h.digest_size(); ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xf];
  }
  return out;
}

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/hash/blake2b.hpp ----

// ---- begin cachekit/msgpack/writer.hpp ----
// MessagePack encoder primitives. One writer serves two profiles: plain
// values (what cache entries store) and the canonical profile that interop
// keys hash (numbers collapsed, map keys sorted, strings checked as UTF-8).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>


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
// ---- end cachekit/msgpack/writer.hpp ----

// ---- begin cachekit/msgpack/reader.hpp ----
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
// ---- end cachekit/msgpack/reader.hpp ----

// ---- begin cachekit/msgpack/types.hpp ----
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
// ---- end cachekit/msgpack/types.hpp ----

// ---- begin cachekit/msgpack/codec.hpp ----
// codec<T>: how a C++ type maps to MessagePack, for cache values (plain
// profile) and interop key arguments (canonical profile). Specialize codec
// for your own types, or describe a struct with CACHEKIT_FIELDS (fields.hpp).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

/// Maps T to MessagePack. Specializations provide
///   static void encode(detail::msgpack_writer&, const T&);
///   static Result<T> decode(detail::msgpack_reader&);
/// (encode-only types such as std::string_view omit decode).
template <class T, class Enable = void>
struct codec;

namespace detail {

template <class T>
inline constexpr bool is_char_like_v =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char16_t> ||
    std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
    || std::is_same_v<T, char8_t>
#endif
    ;

/// Sorts encoded set elements (std::string compares bytes as unsigned char,
/// the order the interop spec asks for) and drops duplicates.
template <class Items>
void sort_unique(Items& items);
/// Sorts the (key, encoded value) entries of a canonical map by key.
template <class Entries>
void sort_by_key(Entries& entries);

/// Encodes [first, last) as an array.
template <class It>
void write_array_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(*first)>>;
  w.array_header(n);
  for (; first != last && w.ok(); ++first) codec<E>::encode(w, *first);
}

/// Encodes a set: an array. The canonical profile sorts the elements by
/// their encoded bytes and drops duplicates (after canonicalization, so
/// {2, 2.0} is [2]).
template <class It>
void write_set_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(*first)>>;
  if (!w.canonical()) return write_array_range(w, first, last, n);
  std::vector<std::string> items;
  items.reserve(n);
  msgpack_writer sub(w.profile());
  for (; first != last; ++first) {
    sub.clear();
    codec<E>::encode(sub, *first);
    if (!sub.ok()) return w.fail(sub.error());
    items.push_back(sub.bytes());
  }
  sort_unique(items);
  w.array_header(items.size());
  for (const auto& item : items) w.raw(item);
}

/// Encodes [first, last) of key/value pairs as a map. The canonical profile
/// requires string keys and sorts them by Unicode code point (UTF-8 byte order).
template <class It>
void write_map_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using K = std::remove_cv_t<std::remove_reference_t<decltype(first->first)>>;
  using V = std::remove_cv_t<std::remove_reference_t<decltype(first->second)>>;
  if (!w.canonical()) {
    w.map_header(n);
    for (; first != last && w.ok(); ++first) {
      codec<K>::encode(w, first->first);
      codec<V>::encode(w, first->second);
    }
    return;
  }
  std::vector<std::pair<std::string, std::string>> entries;  // key text, encoded value
  entries.reserve(n);
  msgpack_writer sub(w.profile());
  for (; first != last; ++first) {
    sub.clear();
    codec<K>::encode(sub, first->first);
    if (!sub.ok()) return w.fail(sub.error());
    msgpack_reader key_reader(sub.bytes());
    std::string_view key;
    if (!key_reader.read_str(key)) return w.fail("interop map keys must be strings");
    std::string key_text(key);
    sub.clear();
    codec<V>::encode(sub, first->second);
    if (!sub.ok()) return w.fail(sub.error());
    entries.emplace_back(std::move(key_text), sub.bytes());
  }
  sort_by_key(entries);
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i - 1].first == entries[i].first) return w.fail("duplicate map key after canonicalization");
  }
  w.map_header(entries.size());
  for (const auto& e : entries) {
    w.str(e.first);
    w.raw(e.second);
  }
}

/// How many elements to reserve for a container whose header announced n:
/// never more bytes than the input has left, so a forged header cannot turn
/// a small input into a large allocation (the container still grows if the
/// elements really are there).
inline std::size_t bounded_reserve(std::size_t n, std::size_t remaining, std::size_t element_size) noexcept {
  const std::size_t by_input = remaining / (element_size == 0 ? 1 : element_size);
  return n < by_input ? n : by_input;
}

/// Decodes an array of codec<E> values into a container via add(E&&).
template <class E, class Add>
Result<void> read_array_into(msgpack_reader& r, std::uint32_t& n, Add&& add, bool header_read = false) {
  if (!header_read && !r.read_array_header(n)) return r.error();
  if (!r.enter()) return r.error();
  for (std::uint32_t i = 0; i < n; ++i) {
    auto e = codec<E>::decode(r);
    if (!e) return std::move(e).error();
    add(std::move(*e));
  }
  r.leave();
  return {};
}

/// Decodes a map of codec<K> -> codec<V> entries via add(K&&, V&&).
template <class K, class V, class Add>
Result<void> read_map_into(msgpack_reader& r, std::uint32_t n, Add&& add) {
  if (!r.enter()) return r.error();
  for (std::uint32_t i = 0; i < n; ++i) {
    auto k = codec<K>::decode(r);
    if (!k) return std::move(k).error();
    auto v = codec<V>::decode(r);
    if (!v) return std::move(v).error();
    add(std::move(*k), std::move(*v));
  }
  r.leave();
  return {};
}

}  // namespace detail

// ---- scalars ---------------------------------------------------------------

/// bool <-> true/false.
template <>
struct codec<bool> {
  static void encode(detail::msgpack_writer& w, bool v) { w.boolean(v); }
  static Result<bool> decode(detail::msgpack_reader& r) {
    bool v = false;
    if (!r.read_bool(v)) return r.error();
    return v;
  }
};

/// Integers of every width <-> the shortest int form; decoding accepts any
/// width and rejects values that do not fit T.
template <class T>
struct codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> && !detail::is_char_like_v<T>>> {
  static void encode(detail::msgpack_writer& w, T v) {
    if constexpr (std::is_signed_v<T>) {
      w.sint(static_cast<std::int64_t>(v));
    } else {
      w.uint(static_cast<std::uint64_t>(v));
    }
  }
  static Result<T> decode(detail::msgpack_reader& r) {
    T v{};
    if (!r.read_int(v)) return r.error();
    return v;
  }
};

/// Enumerations <-> their underlying integer.
template <class T>
struct codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using U = std::underlying_type_t<T>;
  static void encode(detail::msgpack_writer& w, T v) { codec<U>::encode(w, static_cast<U>(v)); }
  static Result<T> decode(detail::msgpack_reader& r) {
    U v{};
    if (!r.read_int(v)) return r.error();
    return static_cast<T>(v);
  }
};

/// double <-> float64 (decoding also takes float32 and integers).
template <>
struct codec<double> {
  static void encode(detail::msgpack_writer& w, double v) { w.number(v); }
  static Result<double> decode(detail::msgpack_reader& r) {
    double v = 0;
    if (!r.read_double(v)) return r.error();
    return v;
  }
};

/// float <-> float32 in values (exact); a number in interop keys. Decoding
/// rejects finite values beyond float's range.
template <>
struct codec<float> {
  static void encode(detail::msgpack_writer& w, float v) {
    if (w.canonical()) return w.number(static_cast<double>(v));
    w.float32(v);
  }
  static Result<float> decode(detail::msgpack_reader& r) {
    double v = 0;
    if (!r.read_double(v)) return r.error();
    if (__builtin_isfinite(v) && (v > static_cast<double>(std::numeric_limits<float>::max()) ||
                             v < -static_cast<double>(std::numeric_limits<float>::max()))) {
      r.fail("number does not fit a float");
      return r.error();
    }
    return static_cast<float>(v);
  }
};

/// std::nullptr_t <-> nil.
template <>
struct codec<std::nullptr_t> {
  static void encode(detail::msgpack_writer& w, std::nullptr_t) { w.nil(); }
  static Result<std::nullptr_t> decode(detail::msgpack_reader& r) {
    if (!r.read_nil()) return r.error();
    return nullptr;
  }
};

/// std::string <-> str.
template <>
struct codec<std::string> {
  static void encode(detail::msgpack_writer& w, const std::string& v) { w.str(v); }
  static Result<std::string> decode(detail::msgpack_reader& r) {
    std::string_view v;
    if (!r.read_str(v)) return r.error();
    return std::string(v);
  }
};

/// std::string_view -> str (encode only: a view cannot own decoded bytes).
template <>
struct codec<std::string_view> {
  static void encode(detail::msgpack_writer& w, std::string_view v) { w.str(v); }
};

/// const char* -> str (encode only); nullptr encodes as nil.
template <>
struct codec<const char*> {
  static void encode(detail::msgpack_writer& w, const char* v) {
    if (v == nullptr) return w.nil();
    w.str(std::string_view(v));
  }
};
template <>
struct codec<char*> : codec<const char*> {};

/// char arrays (string literals) -> str, up to the first NUL (encode only).
template <std::size_t N>
struct codec<char[N]> {
  static void encode(detail::msgpack_writer& w, const char (&v)[N]) {
    std::size_t n = 0;
    while (n < N && v[n] != '\0') ++n;
    w.str(std::string_view(v, n));
  }
};

/// cachekit::bytes <-> bin (decoding also takes str).
template <>
struct codec<bytes> {
  static void encode(detail::msgpack_writer& w, const bytes& v) { w.bin(v.data.data(), v.data.size()); }
  static Result<bytes> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    std::string_view v;
    const bool ok = (b >= 0xc4 && b <= 0xc6) ? r.read_bin(v) : r.read_str(v);
    if (!ok) return r.error();
    return bytes(v);
  }
};

/// cachekit::uuid <-> lowercase hyphenated str (decoding also takes any case
/// and a 16-byte bin).
template <>
struct codec<uuid> {
  static void encode(detail::msgpack_writer& w, const uuid& v) { w.str(v.to_string()); }
  static Result<uuid> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    std::string_view v;
    if (b >= 0xc4 && b <= 0xc6) {
      if (!r.read_bin(v)) return r.error();
      if (v.size() != 16) {
        r.fail("uuid bin is not 16 bytes");
        return r.error();
      }
      uuid u;
      std::memcpy(u.octets.data(), v.data(), 16);
      return u;
    }
    if (!r.read_str(v)) return r.error();
    auto u = uuid::parse(v);
    if (!u) {
      r.fail("malformed uuid string");
      return r.error();
    }
    return u;
  }
};

/// system_clock time points. Values: the cachekit sentinel map
/// {"__datetime__": true, "value": "<ISO-8601 UTC>"} (microsecond precision),
/// which cachekit-py revives as an aware datetime; decoding also accepts the
/// MessagePack timestamp extension (-1) and plain epoch seconds. Interop keys:
/// float64 epoch seconds (floored to microseconds, then / 10^6), collapsed to
/// an integer when whole.
template <class D>
struct codec<std::chrono::time_point<std::chrono::system_clock, D>> {
  using time_point = std::chrono::time_point<std::chrono::system_clock, D>;

  static void encode(detail::msgpack_writer& w, const time_point& v) {
    const auto tp = std::chrono::time_point_cast<std::chrono::system_clock::duration>(v);
    if (w.canonical()) return w.number(static_cast<double>(detail::epoch_micros(tp)) / 1e6);
    w.map_header(2);
    w.str("__datetime__");
    w.boolean(true);
    w.str("value");
    w.str(detail::format_iso8601_utc(tp));
  }

  static Result<time_point> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) return decode_sentinel(r);
    if ((b >= 0xd4 && b <= 0xd8) || (b >= 0xc7 && b <= 0xc9)) return decode_timestamp_ext(r);
    double secs = 0;
    if (!r.read_double(secs)) return r.error();
    std::chrono::system_clock::time_point tp;
    if (!__builtin_isfinite(secs) || secs > 9.2e12 || secs < -9.2e12) return out_of_range(r);
    const auto us = static_cast<std::int64_t>(__builtin_llround(secs * 1e6));
    std::int64_t whole = us / 1000000;
    std::int64_t frac = us % 1000000;
    if (frac < 0) {
      frac += 1000000;
      --whole;
    }
    if (!detail::time_from_epoch(whole, frac * 1000, tp)) return out_of_range(r);
    return std::chrono::time_point_cast<D>(tp);
  }

 private:
  static Error out_of_range(detail::msgpack_reader& r) {
    r.fail("time outside the range of std::chrono::system_clock");
    return r.error();
  }

  static Result<time_point> decode_sentinel(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    bool marked = false;
    std::string_view text;
    bool have_text = false;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string_view key;
      if (!r.read_str(key)) return r.error();
      if (key == "__datetime__") {
        if (!r.read_bool(marked)) return r.error();
      } else if (key == "value") {
        if (!r.read_str(text)) return r.error();
        have_text = true;
      } else if (!r.skip()) {
        return r.error();
      }
    }
    if (!marked || !have_text) {
      r.fail("not a {\"__datetime__\": true, \"value\": ...} map");
      return r.error();
    }
    auto tp = detail::parse_iso8601(text);
    if (!tp) {
      r.fail("malformed ISO-8601 datetime");
      return r.error();
    }
    return std::chrono::time_point_cast<D>(*tp);
  }

  // MessagePack timestamp extension: 32-bit seconds, 30+34-bit nanos+seconds, or 32-bit nanos + 64-bit seconds.
  static Result<time_point> decode_timestamp_ext(detail::msgpack_reader& r) {
    std::int8_t type = 0;
    std::string_view data;
    if (!r.read_ext(type, data)) return r.error();
    if (type != -1) {
      r.fail("unexpected extension type for a time point");
      return r.error();
    }
    auto be = [&](std::size_t from, std::size_t n) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[from + i]);
      return v;
    };
    std::int64_t secs = 0;
    std::uint32_t nanos = 0;
    if (data.size() == 4) {
      secs = static_cast<std::int64_t>(be(0, 4));
    } else if (data.size() == 8) {
      const std::uint64_t v = be(0, 8);
      nanos = static_cast<std::uint32_t>(v >> 34);
      secs = static_cast<std::int64_t>(v & 0x3ffffffffULL);
    } else if (data.size() == 12) {
      nanos = static_cast<std::uint32_t>(be(0, 4));
      secs = static_cast<std::int64_t>(be(4, 8));
    } else {
      r.fail("bad timestamp extension length");
      return r.error();
    }
    std::chrono::system_clock::time_point tp;
    if (nanos >= 1000000000u || !detail::time_from_epoch(secs, nanos, tp)) return out_of_range(r);
    return std::chrono::time_point_cast<D>(tp);
  }
};

// ---- containers ------------------------------------------------------------

/// std::optional<T> <-> nil or T.
template <class T>
struct codec<std::optional<T>> {
  static void encode(detail::msgpack_writer& w, const std::optional<T>& v) {
    if (!v) return w.nil();
    codec<T>::encode(w, *v);
  }
  static Result<std::optional<T>> decode(detail::msgpack_reader& r) {
    if (r.try_nil()) return std::optional<T>();
    auto v = codec<T>::decode(r);
    if (!v) return std::move(v).error();
    return std::optional<T>(std::move(*v));
  }
};

/// std::vector<T> <-> array.
template <class T, class A>
struct codec<std::vector<T, A>> {
  static void encode(detail::msgpack_writer& w, const std::vector<T, A>& v) {
    detail::write_array_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::vector<T, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    std::vector<T, A> out;
    out.reserve(detail::bounded_reserve(n, r.remaining(), sizeof(T)));
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.push_back(std::move(e)); }, true);
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::array<T, N> <-> array of exactly N elements.
template <class T, std::size_t N>
struct codec<std::array<T, N>> {
  static void encode(detail::msgpack_writer& w, const std::array<T, N>& v) {
    detail::write_array_range(w, v.begin(), v.end(), N);
  }
  static Result<std::array<T, N>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    if (n != N) {
      r.fail("array length does not match std::array");
      return r.error();
    }
    std::array<T, N> out{};
    std::size_t i = 0;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out[i++] = std::move(e); }, true);
    if (!res) return std::move(res).error();
    return out;
  }
};

namespace detail {
// Containers are recognised by what they offer, not by name, so that this
// header needs none of <map>, <set>, <unordered_map> and <unordered_set>.
template <class T, class = void>
struct is_map_like : std::false_type {};
/// std::map, std::unordered_map and alike: key_type, mapped_type, insert_or_assign.
template <class T>
struct is_map_like<T, std::void_t<typename T::key_type, typename T::mapped_type,
                                  decltype(std::declval<T&>().insert_or_assign(
                                      std::declval<typename T::key_type>(), std::declval<typename T::mapped_type>()))>>
    : std::true_type {};
template <class T, class = void>
struct is_set_like : std::false_type {};
/// std::set, std::unordered_set and alike: key_type that is the value_type, insert.
template <class T>
struct is_set_like<T, std::void_t<typename T::key_type, decltype(std::declval<T&>().insert(
                                                            std::declval<typename T::value_type>()))>>
    : std::is_same<typename T::key_type, typename T::value_type> {};
template <class T, class = void>
struct has_reserve : std::false_type {};
template <class T>
struct has_reserve<T, std::void_t<decltype(std::declval<T&>().reserve(std::size_t{}))>> : std::true_type {};
}  // namespace detail

/// Sets (std::set, std::unordered_set) <-> array (sorted by encoded bytes in
/// interop keys).
template <class S>
struct codec<S, std::enable_if_t<detail::is_set_like<S>::value && !detail::is_map_like<S>::value>> {
  using T = typename S::value_type;
  static void encode(detail::msgpack_writer& w, const S& v) { detail::write_set_range(w, v.begin(), v.end(), v.size()); }
  static Result<S> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    S out;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.insert(std::move(e)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// Maps (std::map, std::unordered_map) <-> map (a repeated key keeps the
/// last value).
template <class M>
struct codec<M, std::enable_if_t<detail::is_map_like<M>::value>> {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  static void encode(detail::msgpack_writer& w, const M& v) { detail::write_map_range(w, v.begin(), v.end(), v.size()); }
  static Result<M> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    M out;
    if constexpr (detail::has_reserve<M>::value) {
      out.reserve(detail::bounded_reserve(n, r.remaining(), 2 * sizeof(void*) + sizeof(K) + sizeof(V)));
    }
    auto res = detail::read_map_into<K, V>(r, n, [&](K&& k, V&& v) { out.insert_or_assign(std::move(k), std::move(v)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::tuple <-> array of exactly its size.
template <class... Ts>
struct codec<std::tuple<Ts...>> {
  static void encode(detail::msgpack_writer& w, const std::tuple<Ts...>& v) {
    w.array_header(sizeof...(Ts));
    std::apply([&w](const auto&... e) { (codec<std::decay_t<decltype(e)>>::encode(w, e), ...); }, v);
  }
  static Result<std::tuple<Ts...>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    if (n != sizeof...(Ts)) {
      r.fail("array length does not match the tuple");
      return r.error();
    }
    if (!r.enter()) return r.error();
    std::tuple<Ts...> out;
    std::optional<Error> err;
    std::apply([&](auto&... e) { (decode_one(r, e, err), ...); }, out);
    if (err) return std::move(*err);
    r.leave();
    return out;
  }

 private:
  template <class E>
  static void decode_one(detail::msgpack_reader& r, E& slot, std::optional<Error>& err) {
    if (err) return;
    auto v = codec<E>::decode(r);
    if (!v) {
      err = std::move(v).error();
      return;
    }
    slot = std::move(*v);
  }
};

/// std::pair <-> two-element array.
template <class A, class B>
struct codec<std::pair<A, B>> {
  static void encode(detail::msgpack_writer& w, const std::pair<A, B>& v) {
    w.array_header(2);
    codec<A>::encode(w, v.first);
    codec<B>::encode(w, v.second);
  }
  static Result<std::pair<A, B>> decode(detail::msgpack_reader& r) {
    auto t = codec<std::tuple<A, B>>::decode(r);
    if (!t) return std::move(t).error();
    return std::pair<A, B>(std::move(std::get<0>(*t)), std::move(std::get<1>(*t)));
  }
};

// ---- entry points ----------------------------------------------------------

/// Encodes value as plain MessagePack, or an Error (a container over 2^32-1 items).
template <class T>
Result<std::string> try_to_msgpack(const T& value) {
  detail::msgpack_writer w;
  codec<T>::encode(w, value);
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

/// Encodes value as plain MessagePack (no envelope; what interop values
/// store). Returns an empty string, never valid MessagePack, in the one case
/// that cannot be encoded (a container over 2^32-1 items).
template <class T>
std::string to_msgpack(const T& value) {
  detail::msgpack_writer w;
  codec<T>::encode(w, value);
  if (!w.ok()) return std::string();
  return std::move(w).take();
}

/// Decodes exactly one MessagePack document as T; malformed input, a type
/// mismatch or trailing bytes give a permanent Error.
template <class T>
Result<T> from_msgpack(std::string_view bytes) {
  detail::msgpack_reader r(bytes);
  auto v = codec<T>::decode(r);
  if (!v) return v;
  if (!r.at_end()) {
    // A cachekit-py auto-mode frame starts "CK": its first byte alone is the fixint 67.
    if (bytes.size() >= 2 && bytes[0] == 'C' && bytes[1] == 'K') {
      return Error(ErrorKind::permanent,
                   "msgpack: trailing bytes after the document (looks like a Python-SDK-internal "
                   "auto-mode entry, not an interop value)");
    }
    r.fail("trailing bytes after the document");
    return r.error();
  }
  return v;
}

CACHEKIT_END_NAMESPACE

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
#include <algorithm>

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
template <class Items>
void sort_unique(Items& items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
}
template <class Entries>
void sort_by_key(Entries& entries) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}
}  // namespace detail
CACHEKIT_END_NAMESPACE
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_BEGIN_NAMESPACE
namespace detail {
CACHEKIT_COMPILE_ONCE(void sort_unique(std::vector<std::string>&))  // see config.hpp
CACHEKIT_COMPILE_ONCE(void sort_by_key(std::vector<std::pair<std::string, std::string>>&))
CACHEKIT_COMPILE_ONCE(void sort_by_key(std::vector<std::pair<std::string_view, std::string>>&))
}  // namespace detail
CACHEKIT_END_NAMESPACE
// ---- end cachekit/msgpack/codec.hpp ----

// ---- begin cachekit/msgpack/fields.hpp ----
// CACHEKIT_FIELDS(Type, field...): encodes a struct as a MessagePack map of
// field name -> value, so a Python reader gets a dict and other SDKs can
// read it by name.
//
//   struct User { std::int64_t id; std::string name; std::vector<std::string> roles; };
//   CACHEKIT_FIELDS(User, id, name, roles)
//
// Write it at namespace scope (the namespace of Type or any enclosing one
// found by argument-dependent lookup), after the struct, before the first
// encode or decode. Up to 64 public data members.
//
// Encoding writes the fields in the order listed (values) or sorted by name
// (interop keys, canonical profile). Decoding is by name: fields may come in
// any order; unknown fields are skipped (a newer writer may have added some);
// a missing field is an error unless its type is std::optional (then it is
// nullopt), so an entry written by an older schema reads as a miss rather
// than as silently defaulted data; a field that appears twice is an error.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Tag whose associated namespaces include T's, so the CACHEKIT_FIELDS
/// function is found by argument-dependent lookup.
template <class T>
struct fields_tag {};

/// One described data member: its name and pointer.
template <class C, class M>
struct field_ref {
  using member_type = M;
  std::string_view name;
  M C::*member;
};

template <class C, class M>
constexpr field_ref<C, M> make_field(std::string_view name, M C::*member) noexcept {
  return field_ref<C, M>{name, member};
}

// Found by ordinary lookup so the unqualified call below is well-formed;
// deleted, so only a CACHEKIT_FIELDS overload can satisfy has_fields.
void cachekit_fields_of(...) = delete;

template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(cachekit_fields_of(fields_tag<T>{}))>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

}  // namespace detail

/// Structs described with CACHEKIT_FIELDS <-> map of field name -> value.
template <class T>
struct codec<T, std::enable_if_t<detail::has_fields<T>::value>> {
  static auto fields() { return cachekit_fields_of(detail::fields_tag<T>{}); }
  using fields_t = decltype(cachekit_fields_of(detail::fields_tag<T>{}));
  static constexpr std::size_t field_count = std::tuple_size_v<fields_t>;

  static void encode(detail::msgpack_writer& w, const T& v) {
    const auto fs = fields();
    if (!w.canonical()) {
      w.map_header(field_count);
      std::apply([&](const auto&... f) { (encode_field(w, v, f), ...); }, fs);
      return;
    }
    // Interop keys: fields sorted by name (code point order), like any map.
    std::vector<std::pair<std::string_view, std::string>> entries;
    entries.reserve(field_count);
    detail::msgpack_writer sub(w.profile());
    bool ok = true;
    auto collect = [&](const auto& f) {
      if (!ok) return;
      sub.clear();
      using M = typename std::decay_t<decltype(f)>::member_type;
      codec<M>::encode(sub, v.*(f.member));
      if (!sub.ok()) {
        ok = false;
        return w.fail(sub.error());
      }
      entries.emplace_back(f.name, sub.bytes());
    };
    std::apply([&](const auto&... f) { (collect(f), ...); }, fs);
    if (!ok) return;
    detail::sort_by_key(entries);
    w.map_header(entries.size());
    for (const auto& e : entries) {
      w.str(e.first);
      w.raw(e.second);
    }
  }

  static Result<T> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    if (!r.enter()) return r.error();
    T out{};
    std::array<bool, field_count> seen{};
    const auto fs = fields();
    std::optional<Error> err;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::uint8_t b;
      if (!r.peek(b)) return r.error();
      const bool str_key = (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
      if (!str_key) {  // not a field name: skip the entry
        if (!r.skip() || !r.skip()) return r.error();
        continue;
      }
      std::string_view key;
      if (!r.read_str(key)) return r.error();
      bool matched = false;
      match(fs, key, out, seen, r, matched, err, std::make_index_sequence<field_count>{});
      if (err) return std::move(*err);
      if (!matched && !r.skip()) return r.error();
    }
    std::string_view missing;
    find_missing(fs, seen, missing, std::make_index_sequence<field_count>{});
    if (!missing.empty()) {
      return Error(ErrorKind::permanent, "msgpack: missing field '" + std::string(missing) + "'");
    }
    r.leave();
    return out;
  }

 private:
  template <class F>
  static void encode_field(detail::msgpack_writer& w, const T& v, const F& f) {
    w.str(f.name);
    codec<typename F::member_type>::encode(w, v.*(f.member));
  }

  template <class F>
  static void decode_field(const F& f, T& out, bool& seen, detail::msgpack_reader& r, std::optional<Error>& err) {
    if (seen) {
      err = Error(ErrorKind::permanent, "msgpack: field '" + std::string(f.name) + "' appears twice");
      return;
    }
    seen = true;
    auto v = codec<typename F::member_type>::decode(r);
    if (!v) {
      err = std::move(v).error();
      return;
    }
    out.*(f.member) = std::move(*v);
  }

  template <std::size_t... Is>
  static void match(const fields_t& fs, std::string_view key, T& out, std::array<bool, field_count>& seen,
                    detail::msgpack_reader& r, bool& matched, std::optional<Error>& err, std::index_sequence<Is...>) {
    ((!matched && std::get<Is>(fs).name == key
          ? (void)(matched = true, decode_field(std::get<Is>(fs), out, seen[Is], r, err))
          : (void)0),
     ...);
  }

  template <std::size_t... Is>
  static void find_missing(const fields_t& fs, const std::array<bool, field_count>& seen, std::string_view& missing,
                           std::index_sequence<Is...>) {
    ((missing.empty() && !seen[Is] &&
              !detail::is_optional<typename std::tuple_element_t<Is, fields_t>::member_type>::value
          ? (void)(missing = std::get<Is>(fs).name)
          : (void)0),
     ...);
  }
};

CACHEKIT_END_NAMESPACE

// ---- the macro ---------------------------------------------------------------

#define CACHEKIT_DETAIL_EXPAND(x) x
#define CACHEKIT_DETAIL_CAT(a, b) CACHEKIT_DETAIL_CAT_(a, b)
#define CACHEKIT_DETAIL_CAT_(a, b) a##b
#define CACHEKIT_DETAIL_FIELD(T, x) ::cachekit::detail::make_field(#x, &T::x)
#define CACHEKIT_DETAIL_NARG(...) CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_NARG_(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, _))
#define CACHEKIT_DETAIL_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, _64, N, ...) N
#define CACHEKIT_DETAIL_FE_1(M, T, x) M(T, x)
#define CACHEKIT_DETAIL_FE_2(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_1(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_3(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_2(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_4(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_3(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_5(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_4(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_6(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_5(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_7(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_6(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_8(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_7(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_9(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_8(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_10(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_9(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_11(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_10(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_12(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_11(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_13(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_12(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_14(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_13(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_15(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_14(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_16(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_15(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_17(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_16(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_18(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_17(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_19(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_18(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_20(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_19(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_21(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_20(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_22(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_21(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_23(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_22(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_24(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_23(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_25(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_24(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_26(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_25(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_27(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_26(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_28(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_27(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_29(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_28(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_30(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_29(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_31(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_30(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_32(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_31(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_33(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_32(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_34(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_33(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_35(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_34(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_36(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_35(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_37(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_36(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_38(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_37(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_39(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_38(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_40(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_39(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_41(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_40(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_42(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_41(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_43(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_42(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_44(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_43(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_45(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_44(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_46(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_45(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_47(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_46(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_48(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_47(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_49(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_48(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_50(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_49(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_51(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_50(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_52(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_51(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_53(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_52(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_54(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_53(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_55(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_54(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_56(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_55(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_57(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_56(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_58(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_57(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_59(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_58(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_60(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_59(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_61(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_60(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_62(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_61(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_63(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_62(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_64(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_63(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FOREACH(M, T, ...) \
  CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_CAT(CACHEKIT_DETAIL_FE_, CACHEKIT_DETAIL_NARG(__VA_ARGS__))(M, T, __VA_ARGS__))

/// Describes the data members of Type (1 to 64 of them) so that codec<Type>
/// encodes it as a map of field name -> value. Use at namespace scope.
#define CACHEKIT_FIELDS(Type, ...)                                                                   \
  [[maybe_unused]] inline auto cachekit_fields_of(::cachekit::detail::fields_tag<Type>) noexcept {  \
    return ::std::make_tuple(CACHEKIT_DETAIL_FOREACH(CACHEKIT_DETAIL_FIELD, Type, __VA_ARGS__));     \
  }

/// Like CACHEKIT_FIELDS, but written inside the class body (as a hidden
/// friend), so private members can be listed.
#define CACHEKIT_FIELDS_FRIEND(Type, ...)                                                        \
  friend auto cachekit_fields_of(::cachekit::detail::fields_tag<Type>) noexcept {                \
    return ::std::make_tuple(CACHEKIT_DETAIL_FOREACH(CACHEKIT_DETAIL_FIELD, Type, __VA_ARGS__)); \
  }
// ---- end cachekit/msgpack/fields.hpp ----

// ---- begin cachekit/msgpack.hpp ----
// MessagePack values: codec<T>, to_msgpack / from_msgpack, CACHEKIT_FIELDS.
// ---- end cachekit/msgpack.hpp ----

// ---- begin cachekit/interop.hpp ----
// Interop keys: cache keys shared with cachekit's Python, Rust and
// TypeScript SDKs (interop/v1).
//
//   key = "{namespace}:{operation}:{args_hash}"
//   args_hash = lowercase hex BLAKE2b-256 (unkeyed) of the canonical
//               MessagePack of the flat array of the call's arguments
//
// Canonical profile (detail::msgpack_profile::canonical): integers in the
// shortest form (range -2^63 .. 2^64-1); floats as float64, except integral
// values in [-2^63, 2^64) (including -0.0), which are encoded as integers;
// NaN and infinities are errors; strings must be well-formed UTF-8; map keys
// must be strings and are sorted by code point (UTF-8 byte order) at every
// level; sets become arrays sorted by their encoded bytes, duplicates
// removed; time points become float64 epoch seconds (floored to whole
// microseconds, then divided by 10^6, then the float rule); UUIDs become
// lowercase hyphenated strings; cachekit::bytes become bin.

#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

/// True when s fully matches ^[a-z0-9][a-z0-9._-]{0,63}$ (an interop
/// namespace or operation).
inline bool is_valid_interop_segment(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) continue;
    if (i > 0 && (c == '.' || c == '_' || c == '-')) continue;
    return false;
  }
  return true;
}

/// The canonical MessagePack of the argument array [args...] that interop
/// keys hash; an Error for values outside the interop data model (NaN,
/// infinities, non-string map keys, malformed UTF-8, ...).
template <class... Args>
Result<std::string> canonical_args(const Args&... args) {
  detail::msgpack_writer w(detail::msgpack_profile::canonical);
  w.array_header(sizeof...(Args));
  (codec<std::remove_cv_t<Args>>::encode(w, args), ...);
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

/// "{ns}:{operation}:{hash}" from already-canonical argument bytes; an Error
/// when a segment is invalid.
CACHEKIT_DETAIL_LINKAGE Result<std::string> interop_key_from_canonical(std::string_view ns, std::string_view operation,
                                                                       std::string_view canonical);

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
CACHEKIT_DETAIL_LINKAGE Result<std::string> interop_key_from_canonical(std::string_view ns, std::string_view operation,
                                                                       std::string_view canonical) {
  if (!is_valid_interop_segment(ns)) {
    return Error(ErrorKind::permanent,
                 "interop: namespace '" + std::string(ns) + "' must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  }
  if (!is_valid_interop_segment(operation)) {
    return Error(ErrorKind::permanent,
                 "interop: operation '" + std::string(operation) + "' must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  }
  std::string key;
  key.reserve(ns.size() + operation.size() + 2 + 64);
  key.append(ns);
  key += ':';
  key.append(operation);
  key += ':';
  key += blake2b_hex(canonical, 32);
  return key;
}
#endif  // CACHEKIT_DETAIL_VIEW

/// The interop cache key "{ns}:{operation}:{blake2b-256 hex of canonical
/// msgpack of [args...]}", shared with the other cachekit SDKs; an Error for
/// an invalid segment or an argument outside the interop data model.
template <class... Args>
Result<std::string> interop_key(std::string_view ns, std::string_view operation, const Args&... args) {
  if (!is_valid_interop_segment(ns) || !is_valid_interop_segment(operation)) {
    return interop_key_from_canonical(ns, operation, {});
  }
  auto canonical = canonical_args(args...);
  if (!canonical) return std::move(canonical).error();
  return interop_key_from_canonical(ns, operation, *canonical);
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/interop.hpp ----

// ---- begin cachekit/cache_options.hpp ----
// Options and statistics of the typed cache facade (cachekit::cache and
// cachekit::Cache<T>).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>


CACHEKIT_BEGIN_NAMESPACE

/// An in-process near cache (L1) in front of the backend.
struct NearCacheOptions {
  /// Off by default; worth it in front of a remote backend.
  bool enabled = false;
  /// Byte budget of the L1 (keys + values).
  std::size_t max_bytes = 8u * 1024u * 1024u;
  /// How long an entry may be served from the L1 without asking the backend;
  /// also bounds how long another process's invalidation goes unseen.
  std::chrono::milliseconds ttl{30000};
};

/// Stampede protection: on a miss one caller computes under a lease, the
/// others wait for its value. With a backend that has leases (memcached over
/// the meta protocol, MemoryBackend) the lease comes with the read itself
/// (one request: `mg <key> v c N<lease_ttl> t`); otherwise it is an add of
/// "<key>:lock" followed by polling.
struct StampedeOptions {
  /// Off by default.
  bool enabled = false;
  /// Lifetime of the lease (the placeholder, or the "<key>:lock" key); a
  /// crashed or slow computation stops blocking others after it.
  std::chrono::seconds lease_ttl{5};
  /// Longest a caller waits for another's value before computing anyway.
  std::chrono::milliseconds max_wait{2000};
  /// First pause between polls while waiting; later pauses grow up to 50 ms.
  std::chrono::milliseconds poll_interval{2};
};

/// Options of cachekit::cache and cachekit::Cache<T>.
struct CacheOptions {
  /// Namespace, first key segment; must match ^[a-z0-9][a-z0-9._-]{0,63}$
  /// with the default key function. Empty: "cachekit" for cache(), no prefix
  /// for Cache<T>.
  std::string ns;
  /// Operation, second key segment (same pattern). Empty: derived from the
  /// call site of cache() as "<file name>-<line>".
  std::string operation;
  /// Lifetime of stored values; zero or negative = no expiry (memcached
  /// clamps to 30 days).
  std::chrono::seconds ttl{3600};
  /// When false every call runs the function and the cache is not touched.
  bool enabled = true;
  /// Near cache in front of the backend.
  NearCacheOptions l1;
  /// Stampede protection.
  StampedeOptions stampede;
  /// Refresh ahead (0 = off): when a cached entry has fewer seconds than this
  /// left, exactly one caller (the lease winner) recomputes it while every
  /// other caller is served the current value at once. Needs a backend with
  /// leases (Backend::has_leases); without one it is ignored.
  std::chrono::seconds refresh_ahead{0};
  /// Serve stale (0 = off): invalidate() marks the entry stale instead of
  /// deleting it; for up to this long readers get the stale value and one
  /// of them recomputes. Needs a backend with leases; without one
  /// invalidate() deletes, as with serve_stale off.
  std::chrono::seconds serve_stale{0};
  /// Where the winner of a refresh-ahead or stale recompute runs it. Empty:
  /// on the winner's own thread (that call returns the new value). Set: the
  /// winner hands the recompute (a task owning copies of the arguments) to
  /// it and is served the current value too. The library starts no threads.
  std::function<void(std::function<void()>)> executor;
  /// Called (on the calling thread) with every backend, key or decode error.
  /// The call that saw the error still returns a value. Independently, the
  /// first error of each kind goes to the library log (cachekit::set_logger).
  std::function<void(const Error&)> on_error;
};

/// Counters of a cached function or a Cache<T>, since it was created.
struct CacheStats {
  std::uint64_t hits = 0;               ///< calls answered from the cache (L1 included)
  std::uint64_t l1_hits = 0;            ///< of those, answered by the near cache
  std::uint64_t misses = 0;             ///< calls that found no usable value
  std::uint64_t calls = 0;              ///< times the user's function ran
  std::uint64_t bypasses = 0;           ///< calls that skipped the cache on request
  std::uint64_t errors = 0;             ///< backend and key errors (the call still succeeded)
  std::uint64_t decode_errors = 0;      ///< stored values that did not decode (treated as misses)
  std::uint64_t stampede_waits = 0;     ///< callers that waited for another's lease
  std::uint64_t stampede_timeouts = 0;  ///< of those, gave up waiting and computed
  std::uint64_t lease_wins = 0;         ///< reads that won the right to compute (miss, refresh or stale)
  std::uint64_t early_refreshes = 0;    ///< of those, refresh-ahead recomputes of a live entry
  std::uint64_t stale_serves = 0;       ///< calls answered with an invalidated (stale) value
  /// hits / (hits + misses), 0 when neither happened.
  double hit_rate() const noexcept {
    const auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/cache_options.hpp ----

// ---- begin cachekit/default_backend.hpp ----
// The default backend of cachekit::cache(fn): memcached when the environment
// names servers, else the in-process store. Chosen once per process, on
// first use, without connecting anywhere and without logging.

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {
/// Stands in for a backend whose configuration was refused: every operation
/// returns that error, so cached functions run uncached and report it. (A
/// class template only so that it is compiled where it is used.)
template <class Unused = void>
class BasicFailedBackend final : public Backend {
 public:
  explicit BasicFailedBackend(Error error) : error_(std::move(error)) {}
  Result<std::optional<std::string>> get(std::string_view) override { return error_; }
  Result<void> set(std::string_view, std::string_view, std::chrono::seconds) override { return error_; }
  Result<bool> add(std::string_view, std::string_view, std::chrono::seconds) override { return error_; }
  Result<bool> remove(std::string_view) override { return error_; }
  Result<bool> exists(std::string_view) override { return error_; }
  Result<bool> touch(std::string_view, std::chrono::seconds) override { return error_; }

 private:
  Error error_;
};
using FailedBackend = BasicFailedBackend<>;
}  // namespace detail

/// Whether CACHEKIT_MEMCACHED_SERVERS is set to something non-empty.
inline bool memcached_configured() noexcept {
  const char* servers = std::getenv("CACHEKIT_MEMCACHED_SERVERS");
  return servers != nullptr && servers[0] != '\0';
}

/// A new backend chosen from the environment: a MemcachedBackend from
/// MemcachedBackendConfig::from_env() when CACHEKIT_MEMCACHED_SERVERS is set,
/// else a MemoryBackend. Fails when that configuration is malformed.
/// (A template only so that it is compiled where it is used.)
template <class Memcached = MemcachedBackend>
Result<std::shared_ptr<Backend>> make_default_backend() {
  if (!memcached_configured()) return std::shared_ptr<Backend>(std::make_shared<MemoryBackend>());
  auto config = MemcachedBackendConfig::from_env();
  if (!config) return std::move(config).error();
  return std::shared_ptr<Backend>(std::make_shared<Memcached>(std::move(config).value()));
}

/// The process-wide default backend, made by make_default_backend() on first
/// use and kept for the life of the process. When the environment's
/// configuration is malformed, every operation on it fails with that error
/// (so cached functions run uncached and report it to on_error).
/// (A template only so that it is compiled where it is used; one backend
/// per process all the same.)
template <class Memcached = MemcachedBackend>
std::shared_ptr<Backend> default_backend() {
  static const std::shared_ptr<Backend> backend = []() -> std::shared_ptr<Backend> {
    auto made = make_default_backend<Memcached>();
    if (!made) return std::make_shared<detail::FailedBackend>(std::move(made).error());
    return std::move(made).value();
  }();
  return backend;
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/default_backend.hpp ----

// ---- begin cachekit/net/sleep.hpp ----
// Pausing the calling thread: nanosleep, EINTR retried for the time left.
// Here rather than std::this_thread::sleep_for so that every translation unit
// does not pay for parsing <thread>.


#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cerrno>
#include <chrono>

#include <time.h>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Blocks the calling thread for at least d (nothing when d <= 0).
inline void sleep_for(std::chrono::nanoseconds d) noexcept {
  if (d <= std::chrono::nanoseconds::zero()) return;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  timespec left{};
  left.tv_sec = static_cast<time_t>(secs.count());
  left.tv_nsec = static_cast<long>((d - secs).count());
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
// ---- end cachekit/net/sleep.hpp ----

// ---- begin cachekit/detail/cache_core.hpp ----
// The untyped engine behind cache() and Cache<T>: backend ownership, the
// near cache, counters, error reporting and the stampede lease. Typed code
// (encode, decode, the user's function) stays in cache.hpp.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Outcome of taking a stampede lease.
enum class Lease { taken, held_by_other, unavailable };

/// Outcome of waiting for another caller's lease (wait_for_winner).
enum class WaitEnd { arrived, won, timed_out };

/// Backend, L1, options and counters shared by every copy of a cached
/// function (copies share statistics and the near cache). A class template
/// only so that it is compiled where the facade is used; use it as CacheCore.
template <class Unused = void>
class BasicCacheCore {
 public:
  /// label names the cached function in log messages ("users:get_user").
  BasicCacheCore(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions options, std::string label);

  BasicCacheCore(const BasicCacheCore&) = delete;
  BasicCacheCore& operator=(const BasicCacheCore&) = delete;
  ~BasicCacheCore();

  const CacheOptions& options() const noexcept { return options_; }
  Backend& backend() noexcept { return *backend_; }

  /// The stored bytes for key from the L1, then the backend; nullopt on a
  /// miss or an error (reported).
  std::optional<std::string> lookup(std::string_view key, bool* from_l1 = nullptr);

  /// The stored bytes for key from the L1 alone (nullopt without one).
  std::optional<std::string> l1_lookup(std::string_view key);

  /// Stores bytes under key (L1 too); false (reported) when the backend failed.
  bool store(std::string_view key, std::string_view bytes, std::chrono::seconds ttl);

  /// Removes key from the backend and the L1; true when the backend had it.
  bool remove(std::string_view key);

  /// Tries to take the lease "<key>:lock" for a computation.
  Lease take_lease(const std::string& lock_key);

  /// Gives a lease back so waiting callers stop polling a dead lock.
  void release_lease(const std::string& lock_key);

  /// Polls for key until a value appears that decode accepts (returns true)
  /// or max_wait passes (returns false). Counts the wait.
  template <class Decode>
  bool wait_for_value(std::string_view key, Decode&& decode);

  // ---- the lease path (backends with leases) ----

  /// Whether reads go through lease_get: the backend has leases and an
  /// option needs them.
  bool leased() const noexcept {
    return (options_.stampede.enabled || options_.refresh_ahead.count() > 0 || options_.serve_stale.count() > 0) &&
           backend_->has_leases();
  }

  /// The lease read of the options (N<lease_ttl> with stampede, R<refresh_ahead>);
  /// nullopt (reported) on an error. A fresh value also fills the L1.
  std::optional<LeaseRead> lease_read(std::string_view key);

  /// Stores bytes only while the entry is the version token names (L1 too
  /// when it was); false when it changed or the backend failed (reported).
  bool lease_store(std::string_view key, std::string_view bytes, std::chrono::seconds ttl, std::uint64_t token);

  /// Marks key stale for serve_stale seconds (and drops it from the L1);
  /// true when the backend had it.
  bool mark_stale(std::string_view key);

  /// Polls the lease read of key while another caller holds the lease:
  /// arrived when a value appears that decode accepts, won when the holder's
  /// placeholder expired and this caller was elected (token set), timed_out
  /// after max_wait or on a backend error. Counts the wait.
  template <class Decode>
  WaitEnd wait_for_winner(std::string_view key, Decode&& decode, std::uint64_t& token);

  /// A stampede's wait: poll() after pauses that start at poll_interval and
  /// grow by half up to 50 ms, until it ends the wait or max_wait passes
  /// (timed_out from poll() ends it at once, as a failure). Counts the wait
  /// and, unless it arrived or won, the timeout.
  template <class Poll>
  WaitEnd poll_wait(Poll&& poll);

  /// Counts an error, logs the first of its kind and hands it to the
  /// user's callback.
  void report(Error e, const char* operation, std::string_view key);
  /// Counts a value that did not decode, logs the first one and hands the
  /// error to the callback.
  void report_decode(Error e, std::string_view key);

  /// A snapshot of the counters.
  CacheStats stats() const noexcept {
    CacheStats s;
    s.hits = hits.load(std::memory_order_relaxed);
    s.l1_hits = l1_hits.load(std::memory_order_relaxed);
    s.misses = misses.load(std::memory_order_relaxed);
    s.calls = calls.load(std::memory_order_relaxed);
    s.bypasses = bypasses.load(std::memory_order_relaxed);
    s.errors = errors.load(std::memory_order_relaxed);
    s.decode_errors = decode_errors.load(std::memory_order_relaxed);
    s.stampede_waits = stampede_waits.load(std::memory_order_relaxed);
    s.stampede_timeouts = stampede_timeouts.load(std::memory_order_relaxed);
    s.lease_wins = lease_wins.load(std::memory_order_relaxed);
    s.early_refreshes = early_refreshes.load(std::memory_order_relaxed);
    s.stale_serves = stale_serves.load(std::memory_order_relaxed);
    return s;
  }

  std::atomic<std::uint64_t> hits{0}, l1_hits{0}, misses{0}, calls{0}, bypasses{0}, errors{0},
      decode_errors{0}, stampede_waits{0}, stampede_timeouts{0}, lease_wins{0}, early_refreshes{0},
      stale_serves{0};

 private:
  void fill_l1(std::string_view key, std::string_view bytes, std::chrono::seconds ttl = {});

  static void complete(Error& e, const char* operation, std::string_view key);

  /// Logs e when it is the first error of its category (bit) this cached
  /// function met: a misconfiguration shows once, never once per call.
  void log_once(unsigned bit, const Error& e, const char* consequence);

  std::shared_ptr<Backend> owner_;  // null when the user keeps the backend alive
  Backend* backend_;
  CacheOptions options_;
  std::string label_;
  std::unique_ptr<MemoryBackend> l1_;
  std::atomic<std::uint32_t> logged_{0};  // categories already logged, one bit each
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
#include <algorithm>
CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class Unused>
inline BasicCacheCore<Unused>::BasicCacheCore(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions options,
                                              std::string label)
    : owner_(std::move(owner)), backend_(backend), options_(std::move(options)), label_(std::move(label)) {
  if (options_.l1.enabled) l1_ = std::make_unique<MemoryBackend>(options_.l1.max_bytes);
}

template <class Unused>
inline std::optional<std::string> BasicCacheCore<Unused>::lookup(std::string_view key, bool* from_l1) {
  if (l1_) {
    auto near = l1_->get(key);
    if (near && near->has_value()) {
      if (from_l1 != nullptr) *from_l1 = true;
      return std::move(*near);
    }
  }
  auto got = backend_->get(key);
  if (!got) {
    report(std::move(got).error(), "get", key);
    return std::nullopt;
  }
  if (got->has_value() && l1_) fill_l1(key, **got);
  return std::move(*got);
}

template <class Unused>
inline std::optional<std::string> BasicCacheCore<Unused>::l1_lookup(std::string_view key) {
  if (!l1_) return std::nullopt;
  auto near = l1_->get(key);
  if (near && near->has_value()) return std::move(*near);
  return std::nullopt;
}

template <class Unused>
inline bool BasicCacheCore<Unused>::store(std::string_view key, std::string_view bytes, std::chrono::seconds ttl) {
  if (l1_) fill_l1(key, bytes, ttl);
  auto r = backend_->set(key, bytes, ttl);
  if (!r) {
    report(std::move(r).error(), "set", key);
    return false;
  }
  return true;
}

template <class Unused>
inline bool BasicCacheCore<Unused>::remove(std::string_view key) {
  if (l1_) (void)l1_->remove(key);
  auto r = backend_->remove(key);
  if (!r) {
    report(std::move(r).error(), "delete", key);
    return false;
  }
  return *r;
}

template <class Unused>
inline Lease BasicCacheCore<Unused>::take_lease(const std::string& lock_key) {
  auto r = backend_->add(lock_key, "1", options_.stampede.lease_ttl);
  if (!r) {
    report(std::move(r).error(), "add", lock_key);
    return Lease::unavailable;
  }
  return *r ? Lease::taken : Lease::held_by_other;
}

template <class Unused>
inline void BasicCacheCore<Unused>::release_lease(const std::string& lock_key) {
  auto r = backend_->remove(lock_key);
  if (!r) report(std::move(r).error(), "delete", lock_key);
}

template <class Unused>
template <class Decode>
inline bool BasicCacheCore<Unused>::wait_for_value(std::string_view key, Decode&& decode) {
  return poll_wait([&]() -> std::optional<WaitEnd> {
           auto got = backend_->get(key);
           if (!got) {
             // The backend is failing: waiting longer will not help.
             report(std::move(got).error(), "get", key);
             return WaitEnd::timed_out;
           }
           if (got->has_value() && decode(std::string_view(**got))) {
             if (l1_) fill_l1(key, **got);
             return WaitEnd::arrived;
           }
           return std::nullopt;
         }) == WaitEnd::arrived;
}

template <class Unused>
inline std::optional<LeaseRead> BasicCacheCore<Unused>::lease_read(std::string_view key) {
  LeaseOptions o;
  if (options_.stampede.enabled) o.lease_ttl = options_.stampede.lease_ttl;
  o.recache = options_.refresh_ahead;
  auto r = backend_->lease_get(key, o);
  if (!r) {
    report(std::move(r).error(), "lease_get", key);
    return std::nullopt;
  }
  if (l1_ && r->value && !r->stale && !r->won) fill_l1(key, *r->value);
  return std::move(*r);
}

template <class Unused>
inline bool BasicCacheCore<Unused>::lease_store(std::string_view key, std::string_view bytes, std::chrono::seconds ttl,
                                                std::uint64_t token) {
  auto r = backend_->lease_set(key, bytes, ttl, token);
  if (!r) {
    report(std::move(r).error(), "lease_set", key);
    return false;
  }
  if (*r && l1_) fill_l1(key, bytes, ttl);
  return *r;
}

template <class Unused>
inline bool BasicCacheCore<Unused>::mark_stale(std::string_view key) {
  if (l1_) (void)l1_->remove(key);
  auto r = backend_->invalidate(key, options_.serve_stale);
  if (!r) {
    report(std::move(r).error(), "invalidate", key);
    return false;
  }
  return *r;
}

template <class Unused>
template <class Decode>
inline WaitEnd BasicCacheCore<Unused>::wait_for_winner(std::string_view key, Decode&& decode,
                                                      std::uint64_t& token) {
  return poll_wait([&]() -> std::optional<WaitEnd> {
    auto r = lease_read(key);
    if (!r) return WaitEnd::timed_out;  // the backend is failing: waiting longer will not help
    if (r->value && decode(std::string_view(*r->value))) return WaitEnd::arrived;
    if (r->won) {
      token = r->token;
      return WaitEnd::won;
    }
    return std::nullopt;
  });
}

template <class Unused>
template <class Poll>
inline WaitEnd BasicCacheCore<Unused>::poll_wait(Poll&& poll) {
  stampede_waits.fetch_add(1, std::memory_order_relaxed);
  const auto& s = options_.stampede;
  const auto deadline = std::chrono::steady_clock::now() + s.max_wait;
  auto pause = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::max(s.poll_interval, std::chrono::milliseconds(1)));
  const auto longest = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50));
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    detail::sleep_for(std::min(pause, deadline - now));
    pause = std::min(longest, pause + pause / 2);
    const std::optional<WaitEnd> end = poll();
    if (end) {
      if (*end == WaitEnd::timed_out) break;
      return *end;
    }
  }
  stampede_timeouts.fetch_add(1, std::memory_order_relaxed);
  return WaitEnd::timed_out;
}

template <class Unused>
inline void BasicCacheCore<Unused>::report(Error e, const char* operation, std::string_view key) {
  errors.fetch_add(1, std::memory_order_relaxed);
  complete(e, operation, key);
  log_once(static_cast<unsigned>(e.kind()) % 31u, e, "the call still returned a value, uncached");
  if (options_.on_error) options_.on_error(e);
}

template <class Unused>
inline void BasicCacheCore<Unused>::report_decode(Error e, std::string_view key) {
  decode_errors.fetch_add(1, std::memory_order_relaxed);
  complete(e, "decode", key);
  log_once(31u, e, "a stored value did not decode; it was recomputed");
  if (options_.on_error) options_.on_error(e);
}

template <class Unused>
inline void BasicCacheCore<Unused>::fill_l1(std::string_view key, std::string_view bytes, std::chrono::seconds ttl) {
  std::chrono::steady_clock::duration life = options_.l1.ttl;
  if (ttl > std::chrono::seconds::zero() && ttl < life) life = ttl;
  // An L1 refusal (value over its budget) only means the L1 is skipped.
  (void)l1_->set_for(key, bytes, life);
}

template <class Unused>
inline void BasicCacheCore<Unused>::complete(Error& e, const char* operation, std::string_view key) {
  if (e.operation().empty()) e.with_operation(operation);
  if (e.key().empty()) e.with_key(std::string(key));
}

template <class Unused>
inline void BasicCacheCore<Unused>::log_once(unsigned bit, const Error& e, const char* consequence) {
  const std::uint32_t mask = std::uint32_t{1} << bit;
  if ((logged_.load(std::memory_order_relaxed) & mask) != 0) return;
  if ((logged_.fetch_or(mask, std::memory_order_relaxed) & mask) != 0) return;
  std::string message = label_;
  message += ": ";
  message += e.to_string();
  message += "; ";
  message += consequence;
  message += " (later ";
  message += bit == 31u ? "decode" : to_string(e.kind());
  message += " errors of this cached function are not logged; CacheOptions::on_error sees each)";
  log_message(LogLevel::warning, "cache", message);
}

template <class Unused>
BasicCacheCore<Unused>::~BasicCacheCore() = default;
}  // namespace detail
CACHEKIT_END_NAMESPACE
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

using CacheCore = BasicCacheCore<>;
CACHEKIT_COMPILE_ONCE(class BasicCacheCore<void>)  // see config.hpp

/// Releases a stampede lease when the computation ends, also when the user's
/// function throws.
template <class Core>
class LeaseGuard {
 public:
  LeaseGuard(Core& core, std::string lock_key) : core_(core), lock_key_(std::move(lock_key)) {}
  ~LeaseGuard() { core_.release_lease(lock_key_); }
  LeaseGuard(const LeaseGuard&) = delete;
  LeaseGuard& operator=(const LeaseGuard&) = delete;

 private:
  Core& core_;
  std::string lock_key_;
};

}  // namespace detail
CACHEKIT_END_NAMESPACE
// ---- end cachekit/detail/cache_core.hpp ----

// ---- begin cachekit/cache.hpp ----
// cachekit::cache: memoizes a function over a Backend, the C++ spelling of
// cachekit's @cache. Keys are cachekit interop keys by default (shared with
// the Python, Rust and TypeScript SDKs); values are plain MessagePack.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// Marker for the default key function: interop_key(ns, operation, args...).
struct InteropKeyFunction {};

namespace detail {

// A key function may return std::string, Result<std::string> or anything
// convertible to std::string.
inline Result<std::string> as_key(Result<std::string>&& k) { return std::move(k); }
template <class K>
Result<std::string> as_key(K&& k) {
  return std::string(std::forward<K>(k));
}

inline bool segment_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/// "<file name>-<line>" reduced to an interop key segment, used as the
/// operation when the user names none.
template <class = void>  // compiled where it is used
std::string call_site_operation(const char* file, int line);

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
template <class>
std::string call_site_operation(const char* file, int line) {
  std::string_view path = file != nullptr ? file : "";
  const auto slash = path.find_last_of("/\\");
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  std::string suffix = "-" + std::to_string(line < 0 ? 0 : line);
  std::string op;
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    op += segment_char(c) ? c : '-';
  }
  if (op.empty() || !((op[0] >= 'a' && op[0] <= 'z') || (op[0] >= '0' && op[0] <= '9'))) op.insert(0, "f");
  if (op.size() + suffix.size() > 64) op.resize(64 - suffix.size());
  return op + suffix;
}
#endif  // CACHEKIT_DETAIL_VIEW
CACHEKIT_COMPILE_ONCE(std::string call_site_operation<void>(const char*, int))  // see config.hpp

/// The shared state of a new cached function: options with the defaults of
/// cache() filled in (namespace "cachekit", operation from the call site).
template <class = void>  // compiled where it is used
std::shared_ptr<CacheCore> make_core(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions options,
                                     const char* file, int line);

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
template <class>
std::shared_ptr<CacheCore> make_core(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions o,
                                     const char* file, int line) {
  if (o.ns.empty()) o.ns = "cachekit";
  if (o.operation.empty()) o.operation = call_site_operation(file, line);
  std::string label = "cache " + o.ns + ":" + o.operation;
  return std::make_shared<CacheCore>(std::move(owner), backend, std::move(o), std::move(label));
}
#endif  // CACHEKIT_DETAIL_VIEW
CACHEKIT_COMPILE_ONCE(std::shared_ptr<CacheCore> make_core<void>(std::shared_ptr<Backend>, Backend*, CacheOptions,
                                                                const char*, int))  // see config.hpp

/// Decodes bytes as R; a failure is counted and reported, never returned.
template <class R>
std::optional<R> decode_value(CacheCore& core, std::string_view key, std::string_view bytes) {
  auto v = from_msgpack<R>(bytes);
  if (!v) {
    core.report_decode(std::move(v).error(), key);
    return std::nullopt;
  }
  return std::optional<R>(std::move(v).value());
}

// The read-through (fetch below) is written once over an Ops type, what it
// needs of the typed layer:
//   value_type                  what a call returns
//   Result<value_type> decode(std::string_view bytes)
//   value_type compute()        runs the user's function
//   std::string encode(const value_type&)
//   bool later(std::uint64_t token)   hands a lease's recompute to the executor
// Header-only use instantiates it with TypedOps (the value itself, every call
// inlined); split use compiles it once with ErasedOps, whose functions reach
// the typed code of each cached function through pointers.

/// later() of a read-through without an executor.
struct NoLater {
  bool operator()(std::uint64_t) const noexcept { return false; }
};

template <class R, class Compute, class Later>
struct TypedOps {
  using value_type = R;
  Compute& compute_fn;
  Later& later_fn;
  Result<R> decode(std::string_view bytes) { return from_msgpack<R>(bytes); }
  R compute() { return compute_fn(); }
  std::string encode(const R& value) { return to_msgpack(value); }
  bool later(std::uint64_t token) { return later_fn(token); }
};

/// The Ops of split use: value_type is a flag, the value itself lives in
/// the caller's slot, which decode and compute fill.
struct ErasedOps {
  using value_type = bool;
  void* self;
  bool (*decode_into)(void* self, std::string_view bytes, Error* error);
  void (*compute_into)(void* self);
  std::string (*encode_slot)(void* self);
  bool (*later_fn)(void* self, std::uint64_t token);

  Result<bool> decode(std::string_view bytes) {
    Error e;
    if (decode_into(self, bytes, &e)) return true;
    return e;
  }
  bool compute() {
    compute_into(self);
    return true;
  }
  std::string encode(const bool&) { return encode_slot(self); }
  bool later(std::uint64_t token) { return later_fn(self, token); }
};

/// Read-through with optional stampede protection and leases: the value
/// under key, or ops.compute()'s result, stored for ttl.
template <class Ops>
typename Ops::value_type fetch(CacheCore& core, const std::string& key, Ops& ops, std::chrono::seconds ttl);

/// The typed entry of the read-through: R from the cache or from compute().
template <class R, class Compute, class Later = NoLater>
R read_through(CacheCore& core, const std::string& key, Compute& compute, std::chrono::seconds ttl,
               Later&& later = Later()) {
#ifndef CACHEKIT_DETAIL_SPLIT
  TypedOps<R, Compute, std::remove_reference_t<Later>> ops{compute, later};
  return fetch(core, key, ops, ttl);
#else
  struct Slot {
    std::optional<R> value;
    Compute* compute;
    std::remove_reference_t<Later>* later;
  } slot{std::nullopt, &compute, &later};
  ErasedOps ops{&slot,
                [](void* self, std::string_view bytes, Error* error) -> bool {
                  auto v = from_msgpack<R>(bytes);
                  if (!v) {
                    *error = std::move(v).error();
                    return false;
                  }
                  static_cast<Slot*>(self)->value.emplace(std::move(v).value());
                  return true;
                },
                [](void* self) {
                  Slot& s = *static_cast<Slot*>(self);
                  s.value.emplace((*s.compute)());
                },
                [](void* self) -> std::string { return to_msgpack(*static_cast<Slot*>(self)->value); },
                [](void* self, std::uint64_t token) -> bool { return (*static_cast<Slot*>(self)->later)(token); }};
  fetch(core, key, ops, ttl);
  return std::move(*slot.value);
#endif
}

#ifndef CACHEKIT_DETAIL_VIEW  // definitions: not in the declarations view (config.hpp)
/// ops.decode, counted and reported on failure.
template <class Ops>
std::optional<typename Ops::value_type> decode_with(CacheCore& core, std::string_view key, Ops& ops,
                                                    std::string_view bytes) {
  auto v = ops.decode(bytes);
  if (!v) {
    core.report_decode(std::move(v).error(), key);
    return std::nullopt;
  }
  return std::optional<typename Ops::value_type>(std::move(v).value());
}

/// Runs compute, counts it, stores the encoded result.
template <class Ops>
typename Ops::value_type compute_and_store(CacheCore& core, std::string_view key, Ops& ops, std::chrono::seconds ttl) {
  core.misses.fetch_add(1, std::memory_order_relaxed);
  core.calls.fetch_add(1, std::memory_order_relaxed);
  typename Ops::value_type value = ops.compute();
  core.store(key, ops.encode(value), ttl);
  return value;
}

/// Runs compute for the holder of a lease (token) and stores the result
/// only while the entry is still that version: a slow winner never
/// overwrites a newer value.
template <class Ops>
typename Ops::value_type compute_and_lease(CacheCore& core, std::string_view key, Ops& ops, std::chrono::seconds ttl,
                                           std::uint64_t token) {
  core.calls.fetch_add(1, std::memory_order_relaxed);
  typename Ops::value_type value = ops.compute();
  core.lease_store(key, ops.encode(value), ttl, token);
  return value;
}

/// The read-through over a backend with leases: one lease_get per call
/// (stampede, refresh-ahead and serve-stale in the same request).
template <class Ops>
typename Ops::value_type fetch_leased(CacheCore& core, const std::string& key, Ops& ops, std::chrono::seconds ttl) {
  using V = typename Ops::value_type;
  if (auto near = core.l1_lookup(key)) {
    if (auto v = decode_with(core, key, ops, *near)) {
      core.hits.fetch_add(1, std::memory_order_relaxed);
      core.l1_hits.fetch_add(1, std::memory_order_relaxed);
      return std::move(*v);
    }
  }
  auto read = core.lease_read(key);
  if (!read) return compute_and_store(core, key, ops, ttl);  // the backend failed (reported)
  std::optional<V> current;
  if (read->value) current = decode_with(core, key, ops, *read->value);
  if (current) {
    if (!read->won) {  // a hit, perhaps stale while another caller recomputes
      core.hits.fetch_add(1, std::memory_order_relaxed);
      if (read->stale) core.stale_serves.fetch_add(1, std::memory_order_relaxed);
      return std::move(*current);
    }
    // This caller won the recompute of a live entry: refresh-ahead, or an
    // invalidated (stale) one.
    core.lease_wins.fetch_add(1, std::memory_order_relaxed);
    if (!read->stale) core.early_refreshes.fetch_add(1, std::memory_order_relaxed);
    if (core.options().executor && ops.later(read->token)) {
      core.hits.fetch_add(1, std::memory_order_relaxed);
      if (read->stale) core.stale_serves.fetch_add(1, std::memory_order_relaxed);
      return std::move(*current);
    }
    (read->stale ? core.misses : core.hits).fetch_add(1, std::memory_order_relaxed);
    return compute_and_lease(core, key, ops, ttl, read->token);
  }
  if (read->won) {  // a miss, and this caller holds the placeholder
    core.lease_wins.fetch_add(1, std::memory_order_relaxed);
    core.misses.fetch_add(1, std::memory_order_relaxed);
    return compute_and_lease(core, key, ops, ttl, read->token);
  }
  if (read->pending) {  // another caller computes: wait for its value
    std::optional<V> got;
    std::uint64_t token = 0;
    const WaitEnd end = core.wait_for_winner(
        key,
        [&](std::string_view bytes) {
          auto v = ops.decode(bytes);
          if (!v) return false;
          got.emplace(std::move(v).value());
          return true;
        },
        token);
    if (end == WaitEnd::arrived) {
      core.hits.fetch_add(1, std::memory_order_relaxed);
      return std::move(*got);
    }
    if (end == WaitEnd::won) {  // the holder died; its placeholder expired
      core.lease_wins.fetch_add(1, std::memory_order_relaxed);
      core.misses.fetch_add(1, std::memory_order_relaxed);
      return compute_and_lease(core, key, ops, ttl, token);
    }
  }
  // A plain miss (no placeholder asked for), a value that did not decode
  // with nobody elected, or a wait that ran out.
  return compute_and_store(core, key, ops, ttl);
}

template <class Ops>
typename Ops::value_type fetch(CacheCore& core, const std::string& key, Ops& ops, std::chrono::seconds ttl) {
  if (core.leased()) return fetch_leased(core, key, ops, ttl);
  bool from_l1 = false;
  if (auto bytes = core.lookup(key, &from_l1)) {
    if (auto v = decode_with(core, key, ops, *bytes)) {
      core.hits.fetch_add(1, std::memory_order_relaxed);
      if (from_l1) core.l1_hits.fetch_add(1, std::memory_order_relaxed);
      return std::move(*v);
    }
  }
  if (!core.options().stampede.enabled) return compute_and_store(core, key, ops, ttl);

  std::string lock_key = key + ":lock";
  switch (core.take_lease(lock_key)) {
    case Lease::taken: {
      LeaseGuard<CacheCore> guard(core, std::move(lock_key));
      // Another caller may have stored the value between our miss and the
      // lease; one more read saves a computation.
      if (auto bytes = core.lookup(key)) {
        auto v = ops.decode(*bytes);
        if (v) {
          core.hits.fetch_add(1, std::memory_order_relaxed);
          return std::move(v).value();
        }
      }
      return compute_and_store(core, key, ops, ttl);
    }
    case Lease::held_by_other: {
      std::optional<typename Ops::value_type> got;
      const bool arrived = core.wait_for_value(key, [&](std::string_view bytes) {
        auto v = ops.decode(bytes);
        if (!v) return false;
        got.emplace(std::move(v).value());
        return true;
      });
      if (arrived) {
        core.hits.fetch_add(1, std::memory_order_relaxed);
        return std::move(*got);
      }
      return compute_and_store(core, key, ops, ttl);
    }
    case Lease::unavailable: break;
  }
  return compute_and_store(core, key, ops, ttl);
}
#endif  // CACHEKIT_DETAIL_VIEW

CACHEKIT_COMPILE_ONCE(bool fetch<ErasedOps>(CacheCore&, const std::string&, ErasedOps&, std::chrono::seconds))

}  // namespace detail

/// A memoized function: call it like the function it wraps. Copies share the
/// backend, statistics and near cache. Thread-safe when the wrapped function
/// is. Returned by cachekit::cache; spell its type with auto.
template <class Fn, class KeyFn = InteropKeyFunction>
class Cached {
 public:
  /// Prefer cachekit::cache().
  Cached(std::shared_ptr<detail::CacheCore> core, std::shared_ptr<Fn> fn, std::shared_ptr<KeyFn> key_fn = {})
      : core_(std::move(core)), fn_(std::move(fn)), key_fn_(std::move(key_fn)) {}

  /// Result type of a call with arguments A.
  template <class... A>
  using result_type = std::decay_t<std::invoke_result_t<Fn&, A&&...>>;

  /// The cached value for args, or the function's result (then stored).
  /// Backend, key and decode errors never fail the call: the function runs
  /// uncached and the error is counted and passed to options().on_error.
  template <class... A>
  result_type<A...> operator()(A&&... args) const {
    using R = result_type<A...>;
    static_assert(!std::is_void_v<R>, "cachekit::cache: the function must return a value");
    detail::CacheCore& core = *core_;
    if (!core.options().enabled) return run_bypassed(std::forward<A>(args)...);
    auto k = key(static_cast<const A&>(args)...);
    if (!k) {
      core.report(std::move(k).error(), "key", {});
      core.misses.fetch_add(1, std::memory_order_relaxed);
      core.calls.fetch_add(1, std::memory_order_relaxed);
      return (*fn_)(std::forward<A>(args)...);
    }
    auto compute = [&]() -> R { return (*fn_)(std::forward<A>(args)...); };
    auto later = [&](std::uint64_t token) -> bool {
      if constexpr ((std::is_copy_constructible_v<std::decay_t<A>> && ...)) {
        // The task owns copies of what it needs: it may run after this call returns.
        auto task = [shared = core_, f = fn_, full = *k, token, call = std::tuple<std::decay_t<A>...>(args...)]() mutable {
          shared->calls.fetch_add(1, std::memory_order_relaxed);
          R value = std::apply(*f, std::move(call));
          shared->lease_store(full, to_msgpack(value), shared->options().ttl, token);
        };
        core.options().executor(std::function<void()>(std::move(task)));
        return true;
      } else {
        (void)token;
        return false;  // arguments that cannot be copied: the winner recomputes itself
      }
    };
    return detail::read_through<R>(core, *k, compute, core.options().ttl, later);
  }

  /// Runs the function without reading or writing the cache.
  template <class... A>
  result_type<A...> bypass(A&&... args) const {
    return run_bypassed(std::forward<A>(args)...);
  }

  /// Runs the function and stores its result, replacing any cached value.
  template <class... A>
  result_type<A...> refresh(A&&... args) const {
    using R = result_type<A...>;
    detail::CacheCore& core = *core_;
    auto k = key(static_cast<const A&>(args)...);
    core.calls.fetch_add(1, std::memory_order_relaxed);
    R value = (*fn_)(std::forward<A>(args)...);
    if (!k) core.report(std::move(k).error(), "key", {});
    else core.store(*k, to_msgpack(value), core.options().ttl);
    return value;
  }

  /// Removes the cached value for args (and from this process's near cache);
  /// true when the backend held one. With serve_stale (and a backend with
  /// leases) the value is marked stale instead: readers keep getting it for
  /// serve_stale seconds while one of them recomputes. Errors are counted
  /// and reported.
  template <class... A>
  bool invalidate(const A&... args) const {
    auto k = key(args...);
    if (!k) {
      core_->report(std::move(k).error(), "key", {});
      return false;
    }
    if (core_->options().serve_stale.count() > 0 && core_->backend().has_leases()) return core_->mark_stale(*k);
    return core_->remove(*k);
  }

  /// The remaining lifetime of the cached value for args (nullopt when none
  /// is cached). Needs a backend that can tell (Backend::ttl).
  template <class... A>
  Result<std::optional<Ttl>> ttl(const A&... args) const {
    auto k = key(args...);
    if (!k) return std::move(k).error();
    return core_->backend().ttl(*k);
  }

  /// The backend key used for args.
  template <class... A>
  Result<std::string> key(const A&... args) const {
    if constexpr (std::is_same_v<KeyFn, InteropKeyFunction>) {
      const CacheOptions& o = core_->options();
      return interop_key(o.ns, o.operation, args...);
    } else {
      return detail::as_key((*key_fn_)(args...));
    }
  }

  /// The same cached function with keys from key_fn(args...) (returning
  /// std::string or Result<std::string>) instead of interop keys. The key is
  /// used as is: namespace and operation are not added.
  template <class K>
  Cached<Fn, std::decay_t<K>> with_key(K&& key_fn) const {
    return Cached<Fn, std::decay_t<K>>(core_, fn_, std::make_shared<std::decay_t<K>>(std::forward<K>(key_fn)));
  }

  /// Counters since creation (shared by copies).
  CacheStats stats() const noexcept { return core_->stats(); }
  /// The options in effect, defaults filled in.
  const CacheOptions& options() const noexcept { return core_->options(); }

 private:
  template <class... A>
  result_type<A...> run_bypassed(A&&... args) const {
    core_->bypasses.fetch_add(1, std::memory_order_relaxed);
    core_->calls.fetch_add(1, std::memory_order_relaxed);
    return (*fn_)(std::forward<A>(args)...);
  }

  std::shared_ptr<detail::CacheCore> core_;
  std::shared_ptr<Fn> fn_;
  std::shared_ptr<KeyFn> key_fn_;
};

namespace detail {
template <class Fn>
Cached<std::decay_t<Fn>> make_cached(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions options, Fn&& fn,
                                     const char* file, int line) {
  auto core = make_core(std::move(owner), backend, std::move(options), file, line);
  return Cached<std::decay_t<Fn>>(std::move(core), std::make_shared<std::decay_t<Fn>>(std::forward<Fn>(fn)));
}
}  // namespace detail

/// Memoizes fn over backend, which the result shares ownership of. A
/// backend's own key prefix (MemcachedBackendConfig::key_prefix) goes in
/// front of every key, as in cachekit's other SDKs.
template <class Fn>
Cached<std::decay_t<Fn>> cache(std::shared_ptr<Backend> backend, CacheOptions options, Fn&& fn,
                               const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  Backend* raw = backend.get();
  return detail::make_cached(std::move(backend), raw, std::move(options), std::forward<Fn>(fn), file, line);
}

/// Memoizes fn over backend, which must outlive the result and its copies.
template <class Fn>
Cached<std::decay_t<Fn>> cache(Backend& backend, CacheOptions options, Fn&& fn,
                               const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return detail::make_cached(nullptr, &backend, std::move(options), std::forward<Fn>(fn), file, line);
}

/// Memoizes fn over the default backend (see default_backend()).
template <class Fn>
Cached<std::decay_t<Fn>> cache(CacheOptions options, Fn&& fn, const char* file = __builtin_FILE(),
                               int line = __builtin_LINE()) {
  std::shared_ptr<Backend> backend = default_backend();
  Backend* raw = backend.get();
  return detail::make_cached(std::move(backend), raw, std::move(options), std::forward<Fn>(fn), file, line);
}

/// Memoizes fn over the default backend with default options: namespace
/// "cachekit", operation "<file name>-<line>" of this call.
template <class Fn, class = std::enable_if_t<!std::is_convertible_v<Fn, CacheOptions>>>
Cached<std::decay_t<Fn>> cache(Fn&& fn, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cache(CacheOptions{}, std::forward<Fn>(fn), file, line);
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/cache.hpp ----

// ---- begin cachekit/typed_cache.hpp ----
// cachekit::Cache<T>: a typed key-value view over a Backend, values stored as
// plain MessagePack.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// Typed get/set over a backend. Keys are used as given, prefixed with
/// "<ns>:" when options.ns is set. Like cache(), no call fails: backend
/// errors and undecodable values are counted, passed to options.on_error and
/// seen as misses. Options used: ns, ttl (default for set), enabled, l1,
/// stampede (for get_or_set), on_error. Copies share statistics.
template <class T>
class Cache {
 public:
  /// Over the default backend (see default_backend()).
  explicit Cache(CacheOptions options = {}) : Cache(default_backend(), std::move(options)) {}
  /// Over backend, which the cache shares ownership of.
  explicit Cache(std::shared_ptr<Backend> backend, CacheOptions options = {}) {
    Backend* raw = backend.get();
    std::string name = label(options);
    core_ = std::make_shared<detail::CacheCore>(std::move(backend), raw, std::move(options), std::move(name));
  }
  /// Over backend, which must outlive the cache and its copies.
  explicit Cache(Backend& backend, CacheOptions options = {})
      : core_(std::make_shared<detail::CacheCore>(nullptr, &backend, options, label(options))) {}  // copies options

  /// The value under key, or nullopt (absent, undecodable or backend error).
  std::optional<T> get(std::string_view key) const {
    detail::CacheCore& core = *core_;
    if (!core.options().enabled) return std::nullopt;
    const std::string k = full_key(key);
    bool from_l1 = false;
    if (auto bytes = core.lookup(k, &from_l1)) {
      if (auto v = detail::decode_value<T>(core, k, *bytes)) {
        core.hits.fetch_add(1, std::memory_order_relaxed);
        if (from_l1) core.l1_hits.fetch_add(1, std::memory_order_relaxed);
        return v;
      }
    }
    core.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }

  /// Stores value under key for options.ttl; false when the backend failed.
  bool set(std::string_view key, const T& value) const { return set(key, value, core_->options().ttl); }
  /// Stores value under key for ttl (<= 0: no expiry); false when the backend failed.
  bool set(std::string_view key, const T& value, std::chrono::seconds ttl) const {
    if (!core_->options().enabled) return false;
    return core_->store(full_key(key), to_msgpack(value), ttl);
  }

  /// The value under key, else fn()'s result, stored for options.ttl.
  template <class Fn>
  T get_or_set(std::string_view key, Fn&& fn) const {
    return get_or_set(key, std::forward<Fn>(fn), core_->options().ttl);
  }
  /// The value under key, else fn()'s result, stored for ttl.
  template <class Fn>
  T get_or_set(std::string_view key, Fn&& fn, std::chrono::seconds ttl) const {
    detail::CacheCore& core = *core_;
    auto compute = [&]() -> T { return std::forward<Fn>(fn)(); };
    if (!core.options().enabled) {
      core.bypasses.fetch_add(1, std::memory_order_relaxed);
      core.calls.fetch_add(1, std::memory_order_relaxed);
      return compute();
    }
    return detail::read_through<T>(core, full_key(key), compute, ttl);
  }

  /// Removes key; true when the backend held it.
  bool remove(std::string_view key) const { return core_->remove(full_key(key)); }

  /// Counters since creation (calls counts get_or_set computations).
  CacheStats stats() const noexcept { return core_->stats(); }
  /// The options in effect.
  const CacheOptions& options() const noexcept { return core_->options(); }

 private:
  static std::string label(const CacheOptions& o) { return o.ns.empty() ? "Cache<T>" : "Cache<T> " + o.ns + ":"; }

  std::string full_key(std::string_view key) const {
    const std::string& ns = core_->options().ns;
    if (ns.empty()) return std::string(key);
    std::string k;
    k.reserve(ns.size() + 1 + key.size());
    k += ns;
    k += ':';
    k += key;
    return k;
  }

  std::shared_ptr<detail::CacheCore> core_;
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/typed_cache.hpp ----

// ---- begin cachekit/cachekit.hpp ----
// cachekit: a single-header C++17 memcached client and typed cache.
// ---- end cachekit/cachekit.hpp ----
