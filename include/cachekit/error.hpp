#pragma once
// Error and Result<T>: every fallible call returns a Result instead of
// throwing, so the library works under -fno-exceptions.

#include <cassert>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "config.hpp"

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
