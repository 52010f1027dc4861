#pragma once
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

#include "backend.hpp"
#include "detail/function.hpp"
#include "error.hpp"

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
