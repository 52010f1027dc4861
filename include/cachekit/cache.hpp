#pragma once
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

#include "backend.hpp"
#include "cache_options.hpp"
#include "default_backend.hpp"
#include "detail/cache_core.hpp"
#include "error.hpp"
#include "interop.hpp"
#include "memcached_backend.hpp"
#include "msgpack.hpp"

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
