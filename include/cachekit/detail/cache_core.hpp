#pragma once
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

#include "../backend.hpp"
#include "../cache_options.hpp"
#include "../error.hpp"
#include "../log.hpp"
#include "../memory_backend.hpp"
#include "../net/sleep.hpp"

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
