#pragma once
// cachekit::Cache<T>: a typed key-value view over a Backend, values stored as
// plain MessagePack.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "backend.hpp"
#include "cache.hpp"
#include "cache_options.hpp"
#include "default_backend.hpp"
#include "detail/cache_core.hpp"
#include "msgpack.hpp"

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
