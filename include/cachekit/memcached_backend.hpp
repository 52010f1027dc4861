#pragma once
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

#include "backend.hpp"
#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
#include "memcached/batch.hpp"
#include "memcached/cluster.hpp"
#include "memcached/connection.hpp"
#include "memcached/executor.hpp"
#include "memcached/keys.hpp"
#include "memcached/pipeline.hpp"
#include "memcached/types.hpp"
#include "memcached/wire_binary.hpp"
#include "memcached/wire_meta.hpp"
#include "memcached/wire_text.hpp"
#include "memcached_config.hpp"
#include "net/socket.hpp"
#include "ring.hpp"

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
