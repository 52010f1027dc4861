#pragma once
// MemcachedBackend: the binary protocol over a pool of connections per
// server, keys routed by the Ring, retries, dead-server ejection and rejoin.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <poll.h>

#include "backend.hpp"
#include "config.hpp"
#include "connection.hpp"
#include "error.hpp"
#include "memcached_config.hpp"
#include "memcached/rejoin_log.hpp"
#include "net/socket.hpp"
#include "pool.hpp"
#include "protocol/binary.hpp"
#include "ring.hpp"

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

/// memcached client over the binary protocol. Safe to share across threads;
/// connects lazily. A config that does not validate makes every call return
/// that error.
class MemcachedBackend final : public Backend {
 public:
  using Clock = detail::net::Clock;
  using Deadline = detail::net::Deadline;

  /// Default configuration (127.0.0.1:11211).
  MemcachedBackend() : MemcachedBackend(MemcachedBackendConfig{}) {}
  /// The given configuration; check status() for a configuration error.
  explicit MemcachedBackend(MemcachedBackendConfig config) : config_(std::move(config)) { init(); }
  MemcachedBackend(const MemcachedBackend&) = delete;
  MemcachedBackend& operator=(const MemcachedBackend&) = delete;

  /// Configuration error, if any (then every call fails with it).
  Result<void> status() const {
    if (init_error_) return *init_error_;
    return {};
  }
  const MemcachedBackendConfig& config() const noexcept { return config_; }
  /// "host:port" of every configured server, in configuration order.
  std::vector<std::string> server_names() const {
    std::vector<std::string> out;
    for (const auto& s : servers_) out.push_back(s->name);
    return out;
  }
  /// Index (into server_names()) of the server that holds key now. Like
  /// every call, runs the rejoin repair of a server whose dead time is over.
  Result<std::size_t> server_for(std::string_view key) {
    const auto now = Clock::now();
    auto r = route(key, now, now + config_.connect_timeout + config_.timeout);
    if (!r) return std::move(r).error();
    return *r;
  }

  // ---- Backend interface ----

  /// The value under key, or nullopt on a miss.
  Result<std::optional<std::string>> get(std::string_view key) override {
    // One result object for every return (built in the caller's slot): the
    // value string is constructed once, in place, and never moved.
    Result<std::optional<std::string>> out{std::optional<std::string>()};
    std::optional<std::string>& value = *out;
    auto ok = get_impl(key, [&value](std::string_view v) { value.emplace(v.data(), v.size()); });
    if (!ok) out = std::move(ok).error();
    return out;
  }
  /// The value under key into value, reusing its capacity (no allocation
  /// when it is large enough): true on a hit, false on a miss (value is
  /// then empty). On an error value is left unchanged.
  Result<bool> get(std::string_view key, std::string& value) {
    bool hit = false;
    auto ok = get_impl(key, [&value, &hit](std::string_view v) {
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
    auto r = store("set", protocol::Opcode::set, key, value, ttl, flags, 0);
    if (!r) return std::move(r).error();
    if (*r != StoreStatus::stored) return Error(ErrorKind::permanent, "item not stored").with_operation("set").with_key(std::string(key));
    return {};
  }
  /// Stores only when absent: true when stored, false when key existed.
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    return add(key, value, ttl, 0);
  }
  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl, std::uint32_t flags) {
    return stored_bool("add", protocol::Opcode::add, key, value, ttl, flags);
  }
  /// Stores only when present: true when replaced, false when absent.
  Result<bool> replace(std::string_view key, std::string_view value, std::chrono::seconds ttl = {},
                       std::uint32_t flags = 0) {
    return stored_bool("replace", protocol::Opcode::replace, key, value, ttl, flags);
  }
  /// Appends to an existing value: false when the key is absent. Never retried.
  Result<bool> append(std::string_view key, std::string_view value) {
    return stored_bool("append", protocol::Opcode::append, key, value, {}, 0);
  }
  /// Prepends to an existing value: false when the key is absent. Never retried.
  Result<bool> prepend(std::string_view key, std::string_view value) {
    return stored_bool("prepend", protocol::Opcode::prepend, key, value, {}, 0);
  }
  /// Replaces the value only if its CAS token still equals cas.
  Result<CasOutcome> cas(std::string_view key, std::string_view value, std::uint64_t cas_token,
                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    auto r = store("cas", protocol::Opcode::set, key, value, ttl, flags, cas_token == 0 ? 1 : cas_token);
    if (!r) return std::move(r).error();
    switch (*r) {
      case StoreStatus::stored: return CasOutcome::stored;
      case StoreStatus::exists: return CasOutcome::conflict;
      default: return CasOutcome::not_found;
    }
  }
  /// Value, flags and CAS token, or nullopt on a miss.
  Result<std::optional<Item>> gets(std::string_view key) {
    return single<std::optional<Item>>(
        "gets", key, true, Effect::read, [](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<std::optional<Item>> {
          auto ok = c.request(protocol::Opcode::get, k, {}, {}, 0, d, now);
          if (!ok) return std::move(ok).error();
          auto& p = c.parser();
          const std::uint16_t st = p.header().status;
          if (st == 0) {
            Item it{p.take_value(), p.flags(), p.header().cas};
            p.next();
            return std::optional<Item>(std::move(it));
          }
          p.next();
          if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return std::optional<Item>();
          return protocol::status_error(st);
        });
  }
  /// Removes key: true when it existed.
  Result<bool> remove(std::string_view key) override {
    return single<bool>("delete", key, true, Effect::write, [](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<bool> {
      return status_bool(c.request(protocol::Opcode::del, k, {}, {}, 0, d, now), c, protocol::Status::key_not_found);
    });
  }
  /// Whether key is present (its value is read and dropped).
  Result<bool> exists(std::string_view key) override {
    return single<bool>("exists", key, true, Effect::read, [](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<bool> {
      return status_bool(c.request(protocol::Opcode::get, k, {}, {}, 0, d, now), c, protocol::Status::key_not_found);
    });
  }
  /// Sets a new TTL: true when key existed.
  Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override {
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    return single<bool>("touch", key, true, Effect::write, [exp](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<bool> {
      char ex[4];
      return status_bool(c.request(protocol::Opcode::touch, k, protocol::expiry_extras(ex, exp), {}, 0, d, now), c,
                         protocol::Status::key_not_found);
    });
  }
  /// Reads the value and sets a new TTL in one round trip.
  Result<std::optional<std::string>> get_and_touch(std::string_view key, std::chrono::seconds ttl) {
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    return single<std::optional<std::string>>(
        "get_and_touch", key, true, Effect::write,
        [exp](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<std::optional<std::string>> {
          char ex[4];
          auto ok = c.request(protocol::Opcode::gat, k, protocol::expiry_extras(ex, exp), {}, 0, d, now);
          if (!ok) return std::move(ok).error();
          auto& p = c.parser();
          const std::uint16_t st = p.header().status;
          if (st == 0) {
            std::optional<std::string> v(p.take_value());
            p.next();
            return v;
          }
          p.next();
          if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return std::optional<std::string>();
          return protocol::status_error(st);
        });
  }
  /// Adds delta; with an initial value a missing key is created with it
  /// (and ttl), else a missing key gives nullopt. Never retried once sent.
  Result<std::optional<std::uint64_t>> incr(std::string_view key, std::uint64_t delta,
                                            std::optional<std::uint64_t> initial = std::nullopt,
                                            std::chrono::seconds ttl = {}) {
    return counter("incr", protocol::Opcode::increment, key, delta, initial, ttl);
  }
  /// Subtracts delta (memcached stops at 0); as incr otherwise.
  Result<std::optional<std::uint64_t>> decr(std::string_view key, std::uint64_t delta,
                                            std::optional<std::uint64_t> initial = std::nullopt,
                                            std::chrono::seconds ttl = {}) {
    return counter("decr", protocol::Opcode::decrement, key, delta, initial, ttl);
  }

  /// Values for keys, aligned with keys (nullopt = miss). One pipelined
  /// round trip per server, all servers in flight at once.
  template <class Keys>
  Result<std::vector<std::optional<std::string>>> get_many(const Keys& keys) {
    std::vector<std::string_view>& views = key_views(keys);
    auto r = get_many(views.data(), views.size());
    shed(views);
    return r;
  }
  /// get_many over an array of keys.
  Result<std::vector<std::optional<std::string>>> get_many(const std::string_view* keys, std::size_t n) {
    // The values land in a per-thread spare vector, which is then handed
    // over whole; a new spare is allocated at the end of the call. (With
    // glibc, a large allocation made while the previous batch's freed
    // values sit in the fast bins merges them all, and every value
    // allocation after it takes the slow path.)
    std::vector<std::optional<std::string>>& spare = scratch().values;
    auto ok = get_many_impl<false>(keys, n, spare);
    if (!ok) {
      trim(spare);
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
    shed(views);
    return r;
  }
  /// get_many into values over an array of keys.
  Result<void> get_many(const std::string_view* keys, std::size_t n, std::vector<std::optional<std::string>>& values) {
    auto ok = get_many_impl<true>(keys, n, values);
    if (!ok) values.clear();
    return ok;
  }

  /// Stores every (key, value) pair with quiet sets, pipelined per server.
  /// Returns the keys that failed (empty when all were stored).
  template <class Items>
  Result<std::vector<KeyError>> set_many(const Items& items, std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    std::vector<std::pair<std::string_view, std::string_view>> views;
    for (const auto& kv : items) views.emplace_back(std::string_view(kv.first), std::string_view(kv.second));
    return set_many_impl(views.data(), views.size(), ttl, flags);
  }
  /// set_many over a braced list: set_many({{"a", "1"}, {"b", "2"}}).
  Result<std::vector<KeyError>> set_many(std::initializer_list<std::pair<std::string_view, std::string_view>> items,
                                         std::chrono::seconds ttl = {}, std::uint32_t flags = 0) {
    return set_many_impl(items.begin(), items.size(), ttl, flags);
  }

  /// Invalidates every item on every server (after delay when given).
  Result<void> flush_all(std::chrono::seconds delay = {}) {
    if (init_error_) return *init_error_;
    const std::uint32_t exp = detail::normalize_ttl(delay);
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      auto r = on_server<bool>(i, "flush_all", Clock::now() + config_.connect_timeout + config_.timeout,
                               [exp](detail::Connection& c, Deadline d) -> Result<bool> {
                                 char ex[4];
                                 return status_bool(c.request(protocol::Opcode::flush, {}, protocol::expiry_extras(ex, exp), {}, 0,
                                                              d, Clock::now()),
                                                    c, protocol::Status::ok);
                               });
      if (!r) return std::move(r).error();
    }
    return {};
  }

  /// Version string of every server.
  std::vector<ServerVersion> version() {
    std::vector<ServerVersion> out;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      ServerVersion v;
      v.server = servers_[i]->name;
      auto r = server_version(i, Clock::now() + config_.connect_timeout + config_.timeout);
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

  /// "stat" output of every server; group selects a stats group ("slabs", "items", ...), empty for general.
  std::vector<ServerStats> stats(std::string_view group = {}) {
    std::vector<ServerStats> out;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      ServerStats s;
      s.server = servers_[i]->name;
      std::vector<std::pair<std::string, std::string>> kv;
      auto r = on_server<bool>(i, "stats", Clock::now() + config_.connect_timeout + config_.timeout,
                               [&](detail::Connection& c, Deadline d) -> Result<bool> {
                                 const std::uint32_t opaque = c.take_opaques();
                                 protocol::encode_request(c.out(), protocol::Opcode::stat, group, {}, {}, opaque);
                                 auto sent = c.flush(d);
                                 if (!sent) return std::move(sent).error();
                                 for (;;) {
                                   auto got = c.read_response(d);
                                   if (!got) return std::move(got).error();
                                   auto ok = c.check_reply(protocol::Opcode::stat, opaque);
                                   if (!ok) return std::move(ok).error();
                                   auto& p = c.parser();
                                   const std::uint16_t st = p.header().status;
                                   if (st != 0) {
                                     p.next();
                                     // The server ends the stream after an error reply.
                                     return protocol::status_error(st);
                                   }
                                   if (p.key().empty()) {
                                     p.next();
                                     return true;
                                   }
                                   kv.emplace_back(std::string(p.key()), std::string(p.value()));
                                   p.next();
                                 }
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
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      ServerHealth h;
      h.server = servers_[i]->name;
      const auto dead = servers_[i]->dead_until.load(std::memory_order_acquire);
      h.marked_dead = dead != 0 && Clock::time_point(Clock::duration(dead)) > now;
      if (init_error_) {
        h.error = *init_error_;
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
  std::size_t open_connections(std::size_t i) { return servers_[i]->pool.open_count(); }
  /// Whether server i is currently taken out of the ring.
  bool server_marked_dead(std::size_t i) const {
    const auto dead = servers_[i]->dead_until.load(std::memory_order_acquire);
    return dead != 0 && Clock::time_point(Clock::duration(dead)) > Clock::now();
  }

 private:
  enum class StoreStatus { stored, not_stored, exists, not_found };
  /// Whether an operation may change what the server holds for its key.
  enum class Effect { read, write };

  struct Server {
    Server(ServerSpec s, std::size_t pool_size, std::size_t log_keys)
        : spec(std::move(s)), name(spec.to_string()), pool(pool_size), rejoin(log_keys) {}
    ServerSpec spec;
    std::string name;
    detail::ConnectionPool pool;
    std::atomic<int> failures{0};
    /// Clock ticks until which the server is dead; 0 when alive.
    std::atomic<Clock::rep> dead_until{0};
    /// The last failure charged to the server, for the errors of calls
    /// refused while it is dead.
    std::mutex failure_mutex;
    Error last_failure;
    /// Keys to delete on the server before it is used again.
    detail::RejoinLog rejoin;
    /// Held while the server's rejoin repair runs.
    std::mutex repair_mutex;
  };

  /// The ring over the servers that are alive, with indices mapped back.
  struct LiveRing {
    std::optional<Ring> ring;
    std::vector<std::size_t> to_server;
  };

  /// Key with prefix, validated; in a stack buffer when there is a prefix
  /// (no allocation), else the caller's bytes.
  struct FullKey {
    char buf[CACHEKIT_MAX_KEY_LENGTH];
    const char* data = buf;
    std::size_t len = 0;
    std::string_view view() const noexcept { return std::string_view(data, len); }
  };

  void init() {
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
  }

  /// Why key (with key_prefix) is not a valid memcached key, or null.
  CACHEKIT_HOT_INLINE const char* key_problem(std::string_view key) const noexcept {
    if (key.empty()) return "empty key";
    if (config_.key_prefix.size() + key.size() > CACHEKIT_MAX_KEY_LENGTH) return "key longer than 250 bytes (with key_prefix)";
    if (detail::has_bad_key_byte(key.data(), key.size())) return "key contains whitespace or a control character";
    return nullptr;
  }

  /// Fills out with key_prefix + key; null, or why the key is refused.
  CACHEKIT_HOT_INLINE const char* make_key(std::string_view key, FullKey& out) const noexcept {
    if (const char* why = key_problem(key)) return why;
    const std::string& prefix = config_.key_prefix;
    if (prefix.empty()) {
      out.data = key.data();
    } else {
      std::memcpy(out.buf, prefix.data(), prefix.size());
      std::memcpy(out.buf + prefix.size(), key.data(), key.size());
    }
    out.len = prefix.size() + key.size();
    return nullptr;
  }

  Deadline call_deadline(Deadline start) const noexcept {
    return start + config_.connect_timeout + (config_.retry_attempts + 1) * config_.timeout;
  }

  // ---- routing and failover ----

  /// Server for key (hashed without key_prefix, as libmemcached and
  /// pymemcache do), skipping dead servers.
  /// A server whose dead time is over is repaired (bounded by end) before
  /// it is routed to again.
  Result<std::size_t> route(std::string_view key, Clock::time_point now, Deadline end) {
    if (init_error_) return *init_error_;
    if (dead_count_.load(std::memory_order_acquire) == 0) return full_ring_->server_for(key);
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
  bool is_dead(const Server& s, Clock::time_point) const noexcept {
    return s.dead_until.load(std::memory_order_acquire) != 0;
  }

  void rebuild_live_ring_locked() {
    if (dead_count_.load(std::memory_order_acquire) == 0 || !config_.remove_failed_servers) {
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
      detail::RejoinLog::Batch batch = s.rejoin.take();
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
        // On probation: one more failure sends it back out.
        s.failures.store(config_.server_failure_limit - 1, std::memory_order_release);
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

  /// The rejoin repair of s: one pipelined batch of quiet deletes, or a
  /// flush_all when the log overflowed; bounded by timeout (and end).
  Result<void> repair(Server& s, const detail::RejoinLog::Batch& batch, Deadline end) {
    const auto now = Clock::now();
    const Deadline stop = std::min(now + config_.connect_timeout + config_.timeout, end);
    Stage stage = Stage::pool;
    bool fresh = false;
    auto lease = connection(s, now, stop, stage, fresh);
    if (!lease) return std::move(lease).error();
    detail::Connection& c = *lease->get();
    const Deadline io_end = std::min(Clock::now() + config_.timeout, stop);
    if (batch.flush) {
      char ex[4];
      auto r = status_bool(c.request(protocol::Opcode::flush, {}, protocol::expiry_extras(ex, 0), {}, 0, io_end, Clock::now()),
                           c, protocol::Status::ok);
      if (!r) {
        lease->discard();
        return std::move(r).error();
      }
      c.touch_used(Clock::now());
      return {};
    }
    std::vector<Job> jobs(1);
    Job& job = jobs[0];
    job.lease = std::move(*lease);
    const auto n = static_cast<std::uint32_t>(batch.keys.size());
    const std::uint32_t base = c.take_opaques(n + 1);
    for (std::uint32_t k = 0; k < n; ++k) {
      protocol::encode_request(c.out(), protocol::Opcode::deleteq, batch.keys[k], {}, {}, base + k);
    }
    job.noop_opaque = base + n;
    protocol::encode_request(c.out(), protocol::Opcode::noop, {}, {}, {}, job.noop_opaque);
    std::optional<Error> refused;
    run_jobs(jobs, io_end, [&](Job& j, const protocol::Reply& r, const char*& why) -> int {
      const auto& h = r.header;
      if (h.opaque == j.noop_opaque) {
        if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return 1;
        why = "reply opcode does not match the request";
        return -1;
      }
      if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::deleteq) || h.opaque < base || h.opaque >= j.noop_opaque) {
        why = "reply to a request that was not sent";
        return -1;
      }
      // Quiet deletes answer only when the key was absent, or on an error.
      if (h.status != 0 && h.status != static_cast<std::uint16_t>(protocol::Status::key_not_found) && !refused) {
        refused.emplace(protocol::status_error(h.status));
      }
      return 0;
    });
    if (job.failed) {
      job.lease.discard();
      return job.error;
    }
    c.touch_used(Clock::now());
    if (refused) return *refused;
    return {};
  }

  /// Marks live server s as needing its rejoin repair before it is used again.
  void mark_due(Server& s) {
    std::lock_guard<std::mutex> lock(routing_mutex_);
    Clock::rep alive = 0;
    if (!s.dead_until.compare_exchange_strong(alive, 1, std::memory_order_acq_rel)) return;  // tick 1: due at once
    dead_count_.fetch_add(1, std::memory_order_acq_rel);
    rebuild_live_ring_locked();
  }

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
    if (dead_count_.load(std::memory_order_acquire) > 1) {
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

  /// A connection idle longer than this is checked before reuse (the
  /// server may have closed it).
  static constexpr std::chrono::seconds kFreshIdle{1};

  /// Where getting a connection failed.
  enum class Stage { pool, connect };

  /// A pooled connection to server s, opening one when needed. now is
  /// the caller's current time; fresh is set when the connection was taken
  /// idle without waiting (so the caller's clock reading is still current).
  Result<detail::PoolLease> connection(Server& s, Clock::time_point now, Deadline call_end, Stage& failed_at,
                                       bool& fresh) {
    const Deadline io_end = std::min(now + config_.timeout, call_end);
    failed_at = Stage::pool;
    fresh = false;
    auto lease = s.pool.acquire(io_end);
    if (!lease) return std::move(lease).error();
    detail::Connection* c = lease->get();
    if (c != nullptr) {
      // A connection idle for a while may have been closed by the server.
      if (now - c->last_used() <= kFreshIdle) {
        fresh = true;
        return lease;
      }
      if (!detail::net::idle_connection_broken(c->fd())) return lease;
      c->mark_broken();
      lease->set(nullptr);
    }
    failed_at = Stage::connect;
    now = Clock::now();
    const Deadline conn_end = std::min(now + config_.connect_timeout, call_end);
    auto opened = open_connection(s, conn_end, std::min(now + config_.timeout, call_end));
    if (!opened) return std::move(opened).error();
    lease->set(std::move(*opened));
    return lease;
  }

  /// A new connection to s (connect bounded by conn_end, login by io_end).
  Result<std::unique_ptr<detail::Connection>> open_connection(Server& s, Deadline conn_end, Deadline io_end) {
    auto c = detail::Connection::open(s.spec.host, s.spec.port, conn_end, io_end, config_.username, config_.password,
                                      s.pool.owner_pid(), s.name);
    if (c) (*c)->set_spin(config_.spin_wait);
    return c;
  }

  /// A refused key: why, with the length and at most the first 64 bytes of
  /// the key when it is too long.
  Error key_error(const char* why, const char* op, std::string_view key) const {
    const std::size_t len = config_.key_prefix.size() + key.size();
    if (len <= CACHEKIT_MAX_KEY_LENGTH) return decorate(Error(ErrorKind::permanent, why), op, key, nullptr);
    std::string m = config_.key_prefix.empty() ? "key of " : "key_prefix + key of ";
    m += std::to_string(len) + " bytes is longer than the " + std::to_string(CACHEKIT_MAX_KEY_LENGTH) + "-byte limit";
    constexpr std::size_t kShown = 64;
    if (key.size() > kShown) m += " (key= shows its first " + std::to_string(kShown) + " bytes)";
    Error e(ErrorKind::permanent, std::move(m));
    e.with_operation(op);
    e.with_key(std::string(key.substr(0, kShown)));
    return e;
  }

  Error decorate(Error e, const char* op, std::string_view key, const Server* s) const {
    e.with_operation(op);
    if (!key.empty()) e.with_key(std::string(key));
    if (s != nullptr) e.with_server(s->name);
    return e;
  }

  static bool retryable_kind(ErrorKind k) noexcept { return k == ErrorKind::transient || k == ErrorKind::timeout; }
  static bool server_fault(ErrorKind k) noexcept {
    return k == ErrorKind::transient || k == ErrorKind::timeout || k == ErrorKind::unknown;
  }

  /// Runs fn(connection, key, deadline) for one key with routing, retries
  /// and failover. idempotent=false: never retried once a byte was sent.
  template <class T, class Fn>
  Result<T> single(const char* op, std::string_view key, bool idempotent, Effect effect, Fn&& fn) {
    FullKey fk;
    if (const char* why = make_key(key, fk)) return key_error(why, op, key);
    if (init_error_) return decorate(*init_error_, op, key, nullptr);
    const auto start = Clock::now();
    const Deadline end = call_deadline(start);
    int attempt = 0;
    // Common case first: every server alive and an idle connection, used
    // within the last second, in the server's hot slot (no lock taken).
    if (dead_count_.load(std::memory_order_acquire) == 0) {
      Server& s = *servers_[full_ring_->server_for(key)];
      if (detail::Connection* c = s.pool.take_hot()) {
        if (start - c->last_used() <= kFreshIdle) {
          auto r = fn(*c, fk.view(), std::min(start + config_.timeout, end), start);
          const bool broken = give_back_hot(s, c, start);
          if (r) return r;
          Error err = std::move(r).error();
          const bool again = broken && retry_after(err, s, idempotent, false, attempt, end);
          if (broken && effect == Effect::write) note_stale(s, fk.view());  // sent, no definite answer
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
      auto idx = route(key, now, end);
      if (!idx) return decorate(std::move(idx).error(), op, key, nullptr);
      Server& s = *servers_[*idx];
      if (!config_.remove_failed_servers && is_dead(s, now)) {
        return decorate(dead_error(s, now), op, key, nullptr);
      }
      // A write routed away from a dead server: logged before it is sent.
      if (effect == Effect::write && dead_count_.load(std::memory_order_acquire) != 0) note_moved(key, fk.view(), *idx);
      bool sent_nothing = false, in_doubt = false;
      std::optional<Error> failure;
      {
        Stage stage = Stage::pool;
        bool fresh = false;
        auto lease = connection(s, now, end, stage, fresh);
        if (lease) {
          detail::Connection& c = *lease->get();
          const auto t = fresh ? now : Clock::now();
          auto r = fn(c, fk.view(), std::min(t + config_.timeout, end), t);
          if (r) {
            c.touch_used(t);
            record_success(s);
            return r;
          }
          if (!c.broken()) {
            c.touch_used(t);
            record_success(s);
            return decorate(std::move(r).error(), op, key, &s);
          }
          failure.emplace(std::move(r).error());
          in_doubt = effect == Effect::write;
        } else {
          // An exhausted pool is not the server's fault and is not retried.
          if (stage == Stage::pool) return decorate(std::move(lease).error(), op, key, &s);
          failure.emplace(std::move(lease).error());
          sent_nothing = true;
        }
      }
      const bool again = retry_after(*failure, s, idempotent, sent_nothing, attempt, end);
      if (in_doubt) note_stale(s, fk.view());
      if (!again) return decorate(std::move(*failure), op, key, &s);
    }
  }

  /// One get of key: routing, retries and failover as single() does, with
  /// a leaner first attempt. store(value) runs on a hit.
  template <class Store>
  Result<void> get_impl(std::string_view key, Store&& store) {
    auto attempt = [&store](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) {
      return c.get_value(k, d, now, store);
    };
    FullKey fk;
    if (init_error_ || make_key(key, fk) != nullptr || dead_count_.load(std::memory_order_acquire) != 0) {
      return single<void>("get", key, true, Effect::read, attempt);
    }
    // Fast path: an idle connection from the hot slot, used within the
    // last second; anything else goes the general way.
    Server& s = *servers_[servers_.size() == 1 ? 0 : full_ring_->server_for(key)];
    detail::Connection* c = s.pool.take_hot();
    const auto start = detail::net::now();
    if (c == nullptr || start - c->last_used() > kFreshIdle) {
      if (c != nullptr) s.pool.give_back(c);
      return single<void>("get", key, true, Effect::read, attempt);
    }
    const Deadline end = call_deadline(start);
    auto ok = c->get_value(fk.view(), std::min(start + config_.timeout, end), start, store);
    const bool broken = give_back_hot(s, c, start);
    if (ok) return ok;
    Error err = std::move(ok).error();
    if (!broken || !retry_after(err, s, true, false, 0, end)) return decorate(std::move(err), "get", key, &s);
    return retry_loop<void>("get", key, fk, true, Effect::read, attempt, 1, start);
  }

  /// Returns a connection used on the fast path (closed when it broke,
  /// else a success for s); true when it broke.
  CACHEKIT_HOT_INLINE bool give_back_hot(Server& s, detail::Connection* c, Clock::time_point used) noexcept {
    const bool broken = c->broken();
    if (!broken) {
      c->touch_used(used);
      record_success(s);
    }
    s.pool.give_back(c);
    return broken;
  }

  /// After attempt failed on s with err: records the failure against the
  /// server and tells whether another attempt may follow.
  bool retry_after(const Error& err, Server& s, bool idempotent, bool sent_nothing, int attempt, Deadline end) {
    if (err.kind() == ErrorKind::authentication || err.kind() == ErrorKind::permanent) return false;
    if (server_fault(err.kind())) record_failure(s, err);
    const bool may_retry = retryable_kind(err.kind()) && (idempotent || sent_nothing);
    return may_retry && attempt < config_.retry_attempts && Clock::now() < end;
  }

  /// Runs fn on server i directly (no routing, no retries): admin commands.
  template <class T, class Fn>
  Result<T> on_server(std::size_t i, const char* op, Deadline end, Fn&& fn) {
    if (init_error_) return decorate(*init_error_, op, {}, nullptr);
    Server& s = *servers_[i];
    Stage stage = Stage::pool;
    bool fresh = false;
    auto lease = connection(s, Clock::now(), end, stage, fresh);
    if (!lease) return decorate(std::move(lease).error(), op, {}, &s);
    detail::Connection& c = *lease->get();
    auto r = fn(c, std::min(Clock::now() + config_.timeout, end));
    c.touch_used(Clock::now());
    if (!r) return decorate(std::move(r).error(), op, {}, &s);
    return r;
  }

  Result<std::string> server_version(std::size_t i, Deadline end) {
    return on_server<std::string>(i, "version", end, [](detail::Connection& c, Deadline d) -> Result<std::string> {
      auto ok = c.request(protocol::Opcode::version, {}, {}, {}, 0, d, Clock::now());
      if (!ok) return std::move(ok).error();
      auto& p = c.parser();
      const std::uint16_t st = p.header().status;
      std::string v(p.value());
      p.next();
      if (st != 0) return protocol::status_error(st);
      return v;
    });
  }

  /// After a request: true on ok, false on the given "negative" status,
  /// else the status error.
  static Result<bool> status_bool(Result<void> sent, detail::Connection& c, protocol::Status negative) {
    if (!sent) return std::move(sent).error();
    auto& p = c.parser();
    const std::uint16_t st = p.header().status;
    p.next();
    if (st == 0) return true;
    if (st == static_cast<std::uint16_t>(negative)) return false;
    return protocol::status_error(st);
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

  Result<StoreStatus> store(const char* op, protocol::Opcode opcode, std::string_view key, std::string_view value,
                            std::chrono::seconds ttl, std::uint32_t flags, std::uint64_t cas_token) {
    auto ok = check_value(value, config_.key_prefix.size() + key.size(), flags);
    if (!ok) return decorate(std::move(ok).error(), op, key, nullptr);
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    const bool has_extras = opcode != protocol::Opcode::append && opcode != protocol::Opcode::prepend;
    const bool idempotent = has_extras;
    return single<StoreStatus>(
        op, key, idempotent, Effect::write,
        [&](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<StoreStatus> {
          char ex[8];
          const std::string_view extras = has_extras ? protocol::store_extras(ex, flags, exp) : std::string_view();
          auto rt = c.request(opcode, k, extras, value, cas_token, d, now);
          if (!rt) return std::move(rt).error();
          auto& p = c.parser();
          const std::uint16_t st = p.header().status;
          p.next();
          switch (static_cast<protocol::Status>(st)) {
            case protocol::Status::ok: return StoreStatus::stored;
            case protocol::Status::not_stored: return StoreStatus::not_stored;
            case protocol::Status::key_exists: return StoreStatus::exists;
            case protocol::Status::key_not_found: return StoreStatus::not_found;
            default: return protocol::status_error(st);
          }
        });
  }

  Result<bool> stored_bool(const char* op, protocol::Opcode opcode, std::string_view key, std::string_view value,
                           std::chrono::seconds ttl, std::uint32_t flags) {
    auto r = store(op, opcode, key, value, ttl, flags, 0);
    if (!r) return std::move(r).error();
    return *r == StoreStatus::stored;
  }

  Result<std::optional<std::uint64_t>> counter(const char* op, protocol::Opcode opcode, std::string_view key,
                                               std::uint64_t delta, std::optional<std::uint64_t> initial,
                                               std::chrono::seconds ttl) {
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    return single<std::optional<std::uint64_t>>(
        op, key, false, Effect::write,
        [&](detail::Connection& c, std::string_view k, Deadline d, Clock::time_point now) -> Result<std::optional<std::uint64_t>> {
          char ex[20];
          auto rt = c.request(opcode, k, protocol::counter_extras(ex, delta, initial.value_or(0), initial.has_value(), exp),
                              {}, 0, d, now);
          if (!rt) return std::move(rt).error();
          auto& p = c.parser();
          const std::uint16_t st = p.header().status;
          if (st == 0) {
            const std::string_view v = p.value();
            if (v.size() != 8) return c.protocol_failure("counter reply is not 8 bytes");
            const auto n = protocol::detail::get64(reinterpret_cast<const unsigned char*>(v.data()));
            p.next();
            return std::optional<std::uint64_t>(n);
          }
          p.next();
          if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return std::optional<std::uint64_t>();
          return protocol::status_error(st);
        });
  }

  // ---- pipelines over many connections (get_many, set_many) ----

  /// One pipeline on one connection: requests for keys[idx...] then a NOOP.
  struct Job {
    std::size_t server = 0;
    std::vector<std::uint32_t> keys;  // indices into the caller's arrays
    detail::PoolLease lease;
    std::uint32_t noop_opaque = 0;
    bool done = false;
    bool failed = false;
    bool pool_exhausted = false;  // no connection became free: not the server's fault
    Error error;

    /// Ready for another pipeline; keeps the capacity of keys.
    void reset() noexcept {
      server = 0;
      keys.clear();
      lease.give_back();
      noop_opaque = 0;
      done = failed = pool_exhausted = false;
      if (!error.message().empty()) error = Error();
    }
  };
  /// run_jobs without a fast path: every reply goes through on_reply.
  struct NoFastPath {
    std::size_t operator()(Job&, const char*, std::size_t) const noexcept { return 0; }
  };
  /// Gives back every job's connection when a pipeline attempt ends (the
  /// jobs live in per-thread scratch and outlast the call).
  struct LeasesBack {
    std::vector<Job>& jobs;
    ~LeasesBack() {
      for (auto& j : jobs) j.lease.give_back();
    }
  };

  /// Splits the pending key indices into jobs per server (large batches
  /// over several pooled connections) and acquires their connections.
  void plan_jobs(const std::vector<std::uint32_t>& pending, const std::vector<std::size_t>& server_of,
                 std::vector<Job>& jobs) {
    ManyScratch& sc = scratch();
    std::vector<std::vector<std::uint32_t>>& by_server = sc.by_server;
    if (by_server.size() < servers_.size()) by_server.resize(servers_.size());
    for (std::size_t s = 0; s < servers_.size(); ++s) by_server[s].clear();
    const bool one = servers_.size() == 1;  // then every key is pending's, in order
    if (!one) {
      for (auto i : pending) by_server[server_of[i]].push_back(i);
    }
    std::size_t used = 0;
    for (std::size_t s = 0; s < servers_.size(); ++s) {
      const std::vector<std::uint32_t>& ks = one ? pending : by_server[s];
      if (ks.empty()) continue;
      const std::size_t chunk = config_.pipeline_chunk_keys;
      std::size_t parts = (ks.size() + chunk - 1) / chunk;
      parts = std::max<std::size_t>(1, std::min(parts, config_.max_pool_size));
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
    for (std::size_t s = 0; s < servers_.size(); ++s) trim(by_server[s]);
  }

  /// Opens or takes connections for jobs: the first per server may wait,
  /// extra ones only if free now (else merged into the server's first job).
  void connect_jobs(std::vector<Job>& jobs, Deadline end) {
    std::vector<std::size_t>& first_of = scratch().first_of;
    first_of.assign(servers_.size(), static_cast<std::size_t>(-1));
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      Job& job = jobs[j];
      Server& s = *servers_[job.server];
      if (first_of[job.server] != static_cast<std::size_t>(-1)) {
        Job& first = jobs[first_of[job.server]];
        if (first.failed || !s.pool.try_acquire(job.lease)) {
          first.keys.insert(first.keys.end(), job.keys.begin(), job.keys.end());
          job.keys.clear();
          job.done = true;
          continue;
        }
        if (job.lease.get() == nullptr) {
          const auto now = Clock::now();
          auto opened = open_connection(s, std::min(now + config_.connect_timeout, end), std::min(now + config_.timeout, end));
          if (!opened) {
            job.lease.discard();
            first.keys.insert(first.keys.end(), job.keys.begin(), job.keys.end());
            job.keys.clear();
            job.done = true;
            continue;
          }
          job.lease.set(std::move(*opened));
        }
        continue;
      }
      first_of[job.server] = j;
      Stage stage = Stage::pool;
      bool fresh = false;
      auto lease = connection(s, Clock::now(), end, stage, fresh);
      if (!lease) {
        job.failed = true;
        job.done = true;
        job.pool_exhausted = stage == Stage::pool;
        job.error = std::move(lease).error();
        continue;
      }
      job.lease = std::move(*lease);
    }
  }

  /// Drives every job's connection at once: sends what each socket takes,
  /// reads what each has, hands complete replies to on_reply(job, reply,
  /// why) until each job's NOOP arrives or the deadline passes. on_reply
  /// returns 0 to go on, 1 when the job's last reply came, -1 (setting why)
  /// when the reply does not belong. When one job is
  /// left with everything sent, it waits in a blocking read (no poll).
  /// fast(job, data, n), when given, may first take the common replies at
  /// the front of data (n buffered bytes, whole replies in place) and
  /// returns how many bytes it used; it leaves anything else, including
  /// every reply that is wrong, to on_reply's checks.
  template <class OnReply, class Fast = NoFastPath>
  void run_jobs(std::vector<Job>& jobs, Deadline deadline, OnReply&& on_reply, Fast&& fast = Fast{}) {
    auto fail = [&](Job& j, Error e) {
      j.failed = true;
      j.done = true;
      j.error = std::move(e);
      if (j.lease.get() != nullptr) j.lease.get()->mark_broken();
    };
    // Parses everything buffered on j's connection.
    auto consume = [&](Job& j) {
      detail::Connection& c = *j.lease.get();
      protocol::Reply r;
      const char* why = nullptr;
      while (!j.done) {
        if (c.between_replies()) c.skip(fast(j, c.buffered(), c.buffered_size()));
        const int have = c.next_reply(r, why);
        if (have == 0) return;
        if (have < 0) return fail(j, c.protocol_failure(why));
        const int verdict = on_reply(j, r, why);
        c.reply_done();
        if (verdict < 0) return fail(j, c.protocol_failure(why));
        if (verdict > 0) {
          j.done = true;
          if (c.has_buffered()) fail(j, c.protocol_failure("unexpected bytes after the last reply"));
        }
      }
    };
    ManyScratch& sc = scratch();
    std::vector<pollfd>& fds = sc.fds;
    std::vector<std::size_t>& fd_job = sc.fd_job;
    std::vector<unsigned char>& readable = sc.readable;
    readable.assign(jobs.size(), 0);
    for (;;) {
      fds.clear();
      fd_job.clear();
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        Job& j = jobs[i];
        if (j.done) continue;
        detail::Connection& c = *j.lease.get();
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
        fds.push_back(pollfd{c.fd(), static_cast<short>(POLLIN | (c.pending() > 0 ? POLLOUT : 0)), 0});
        fd_job.push_back(i);
      }
      if (fds.empty()) return;
      if (fds.size() == 1 && jobs[fd_job[0]].lease.get()->pending() == 0) {
        Job& j = jobs[fd_job[0]];
        detail::Connection& c = *j.lease.get();
        while (!j.done) {
          auto got = c.fill(deadline, Clock::now());
          if (!got) return fail(j, std::move(got).error());
          consume(j);
        }
        return;
      }
      detail::Connection& lead = *jobs[fd_job[0]].lease.get();
      Result<int> ready = 0;
      if (lead.spin_now()) {
        bool spun = false;
        ready = detail::net::poll_spin(fds.data(), fds.size(), std::min(Clock::now() + lead.spin_budget(), deadline), spun);
        if (ready && spun) lead.spin_outcome(*ready > 0);
      }
      if (ready && *ready == 0) ready = detail::net::wait_many(fds.data(), fds.size(), deadline);
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

  /// The values of keys[0..n) into results (resized to n). reuse: results
  /// may hold strings from an earlier call, to be assigned into (or reset
  /// on a miss); else every slot starts empty.
  template <bool reuse>
  Result<void> get_many_impl(const std::string_view* keys, std::size_t n, std::vector<std::optional<std::string>>& results) {
    const char* const op = "get_many";
    if (init_error_) return decorate(*init_error_, op, {}, nullptr);
    if (n == 0) {
      results.clear();
      return {};
    }
    if (n > 0x7ffffff0u) return decorate(Error(ErrorKind::permanent, "too many keys"), op, {}, nullptr);
    // Full keys (prefix + key) packed into one buffer.
    const std::string& prefix = config_.key_prefix;
    std::string packed;
    std::vector<std::uint32_t> offset;
    std::size_t key_bytes = 0;  // of all the full keys
    if (prefix.empty()) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::string_view k = keys[i];
        if (k.empty() || k.size() > CACHEKIT_MAX_KEY_LENGTH || detail::has_bad_key_byte(k.data(), k.size())) {
          return key_error(key_problem(k), op, k);
        }
        key_bytes += k.size();
      }
    } else {
      offset.assign(n + 1, 0);
      packed.reserve(n * (prefix.size() + 16));
      for (std::size_t i = 0; i < n; ++i) {
        FullKey fk;
        if (const char* why = make_key(keys[i], fk)) return key_error(why, op, keys[i]);
        packed.append(fk.data, fk.len);
        offset[i + 1] = static_cast<std::uint32_t>(packed.size());
      }
      key_bytes = packed.size();
    }
    ManyScratch& sc = scratch();
    if (!reuse) results.clear();
    results.resize(n);
    std::vector<unsigned char>& hit = sc.hit;
    if (reuse) hit.assign(n, 0);
    auto release = [&]() noexcept {
      trim(sc.pending);
      trim(sc.server_of);
      trim(sc.full);
      trim(hit);
    };
    auto finish = [&]() -> Result<void> {
      if (reuse) {
        for (std::size_t i = 0; i < n; ++i) {
          if (hit[i] == 0) results[i].reset();
        }
      }
      release();
      return {};
    };
    // Full keys: the caller's when there is no prefix, else views of packed.
    std::vector<std::string_view>& full_views = sc.full;
    const std::string_view* full = keys;
    if (!prefix.empty()) {
      full_views.resize(n);
      for (std::size_t i = 0; i < n; ++i) full_views[i] = std::string_view(packed.data() + offset[i], offset[i + 1] - offset[i]);
      full = full_views.data();
    }
    auto full_key = [full](std::size_t i) noexcept { return full[i]; };

    const auto start = Clock::now();
    const Deadline end = call_deadline(start);
    std::vector<std::uint32_t>& pending = sc.pending;
    pending.resize(n);
    for (std::size_t i = 0; i < n; ++i) pending[i] = static_cast<std::uint32_t>(i);
    std::vector<std::size_t>& server_of = sc.server_of;
    server_of.resize(n);
    for (int attempt = 0;; ++attempt) {
      if (servers_.size() > 1 || dead_count_.load(std::memory_order_acquire) != 0) {
        auto routed = route_many(keys, pending, server_of, attempt == 0 ? start : Clock::now(), end);
        if (!routed) {
          release();
          return decorate(std::move(routed).error(), op, keys[pending.front()], nullptr);
        }
      }
      std::vector<Job>& jobs = scratch().jobs;
      const LeasesBack leases_back{jobs};
      plan_jobs(pending, server_of, jobs);
      connect_jobs(jobs, end);
      for (auto& j : jobs) {
        if (j.done) continue;
        detail::Connection& c = *j.lease.get();
        const std::uint32_t base = c.take_opaques(static_cast<std::uint32_t>(j.keys.size() + 1));
        // Encoded straight into the connection's request buffer.
        std::size_t bytes = protocol::kHeaderSize * (j.keys.size() + 1);
        if (j.keys.size() == n) {
          bytes += key_bytes;
        } else {
          for (auto idx : j.keys) bytes += full_key(idx).size();
        }
        char* w = c.out().extend(bytes);
        for (std::size_t k = 0; k < j.keys.size(); ++k) {
          w += protocol::encode_head(w, protocol::Opcode::getkq, full_key(j.keys[k]), {}, 0,
                                     base + static_cast<std::uint32_t>(k));
        }
        j.noop_opaque = base + static_cast<std::uint32_t>(j.keys.size());
        protocol::encode_head(w, protocol::Opcode::noop, {}, {}, 0, j.noop_opaque);
      }
      const Deadline io_end = std::min(Clock::now() + config_.timeout, end);
      std::optional<std::string>* const slots = results.data();
      auto store = [&](std::uint32_t idx, const protocol::Reply& r) {
        std::optional<std::string>& slot = slots[idx];
        const std::string_view v = r.value();
        if (reuse && slot) {
          detail::assign_bytes(*slot, v);
        } else {
          slot.emplace(v);
        }
        if (reuse) hit[idx] = 1;
      };
      // Hits of the job's own keys, decoded in place in a tight loop; the
      // NOOP, and anything unexpected, goes to the checks below.
      auto hits = [&](Job& j, const char* data, std::size_t size) -> std::size_t {
        const std::uint32_t count = static_cast<std::uint32_t>(j.keys.size());
        const std::uint32_t base = j.noop_opaque - count;
        const std::uint32_t* idx_of = j.keys.data();
        std::size_t used = 0;
        protocol::Reply r;
        for (;;) {
          const std::size_t len = protocol::decode_hit(data + used, size - used, protocol::Opcode::getkq, r);
          if (len == 0) break;
          const std::uint32_t rel = r.header.opaque - base;
          if (rel >= count) break;
          const std::uint32_t idx = idx_of[rel];
          const std::string_view want = full_key(idx);
          if (r.header.key_length != want.size() || !protocol::detail::same_bytes(r.body + 4, want.data(), want.size())) break;
          store(idx, r);
          used += len;
        }
        return used;
      };
      run_jobs(jobs, io_end, [&](Job& j, const protocol::Reply& r, const char*& why) -> int {
        const auto& h = r.header;
        if (h.opaque == j.noop_opaque) {
          if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return 1;
          why = "reply opcode does not match the request";
          return -1;
        }
        const std::uint32_t base = j.noop_opaque - static_cast<std::uint32_t>(j.keys.size());
        if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::getkq) || h.opaque < base || h.opaque >= j.noop_opaque) {
          why = "reply to a request that was not sent";
          return -1;
        }
        const std::uint32_t idx = j.keys[h.opaque - base];
        const std::string_view want = full_key(idx);
        if (h.key_length != want.size() || !protocol::detail::same_bytes(r.body + h.extras_length, want.data(), want.size())) {
          why = "reply key does not match the request";
          return -1;
        }
        if (h.status == 0) store(idx, r);
        return 0;
      }, hits);
      // Finish: give back healthy connections, collect failed keys.
      pending.clear();
      Error last;
      const Server* last_server = nullptr;
      bool exhausted = false;
      for (auto& j : jobs) {
        Server& s = *servers_[j.server];
        if (j.failed) {
          last = j.error;
          last_server = &s;
          if (j.pool_exhausted) exhausted = true;
          else if (server_fault(j.error.kind())) record_failure(s, j.error);
          for (auto k : j.keys) {
            // A retry's answer replaces anything the failed attempt gave.
            if (reuse) {
              hit[k] = 0;
            } else {
              results[k].reset();
            }
            pending.push_back(k);
          }
          j.lease.discard();
        } else if (j.lease.get() != nullptr) {
          j.lease.get()->touch_used(start);
          record_success(s);
        }
      }
      if (pending.empty()) return finish();
      if (exhausted || !retryable_kind(last.kind()) || attempt >= config_.retry_attempts || Clock::now() >= end) {
        const std::string_view first_failed = keys[pending.front()];
        release();
        return decorate(std::move(last), op, first_failed, last_server);
      }
      std::sort(pending.begin(), pending.end());
    }
  }

  /// Per-thread working arrays of get_many, reused from call to call:
  /// with glibc, a large allocation made while the previous batch's freed
  /// values sit in the fast bins merges them all, and every value
  /// allocation after it takes the slow path. So the values go here first
  /// and the caller's vector is the last allocation of the call.
  struct ManyScratch {
    std::vector<std::string_view> views;              // the caller's keys
    std::vector<std::string_view> full;               // prefix + key
    std::vector<std::optional<std::string>> values;   // the spare result vector
    std::vector<unsigned char> hit;                   // which slots got a value
    std::vector<std::uint32_t> pending;
    std::vector<std::size_t> server_of;
    // Pipeline bookkeeping (get_many, set_many).
    std::vector<Job> jobs;
    std::vector<std::vector<std::uint32_t>> by_server;
    std::vector<std::size_t> first_of;
    std::vector<pollfd> fds;
    std::vector<std::size_t> fd_job;
    std::vector<unsigned char> readable;
  };
  /// Largest get_many whose result vector is kept ready for the next call.
  static constexpr std::size_t kSpareValues = 4096;
  /// Views of keys in the per-thread array.
  template <class Keys>
  static std::vector<std::string_view>& key_views(const Keys& keys) {
    std::vector<std::string_view>& views = scratch().views;
    views.resize(static_cast<std::size_t>(std::distance(std::begin(keys), std::end(keys))));
    std::string_view* at = views.data();
    for (const auto& k : keys) *at++ = std::string_view(k);
    return views;
  }
  static ManyScratch& scratch() {
    static thread_local ManyScratch s;
    return s;
  }
  /// After a call, a very large scratch array gives its memory back; a
  /// smaller one keeps its size, so that a next batch of the same size is
  /// written over it without being initialised first.
  template <class V>
  static void shed(V& v) noexcept {
    if (v.capacity() > 4096) V().swap(v);
  }
  /// Empties a scratch array; a very large one gives its memory back.
  template <class V>
  static void trim(V& v) noexcept {
    v.clear();
    if (v.capacity() > 4096) V().swap(v);
  }

  /// Routes keys[pending[i]] into server_of.
  Result<void> route_many(const std::string_view* keys, const std::vector<std::uint32_t>& pending,
                          std::vector<std::size_t>& server_of, Clock::time_point now, Deadline end) {
    if (dead_count_.load(std::memory_order_acquire) == 0 && pending.size() == server_of.size()) {
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

  Result<std::vector<KeyError>> set_many_impl(const std::pair<std::string_view, std::string_view>* items,
                                              std::size_t n, std::chrono::seconds ttl, std::uint32_t flags) {
    const char* const op = "set_many";
    if (init_error_) return decorate(*init_error_, op, {}, nullptr);
    std::vector<KeyError> failures;
    if (n > 0x7ffffff0u) return decorate(Error(ErrorKind::permanent, "too many keys"), op, {}, nullptr);
    const std::uint32_t exp = detail::normalize_ttl(ttl);
    std::vector<std::string_view> keys(n);
    std::string packed;
    std::vector<std::uint32_t> offset(n + 1, 0);
    std::vector<std::uint32_t> pending;
    pending.reserve(n);
    const std::string& prefix = config_.key_prefix;
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = items[i].first;
      FullKey fk;
      const char* why = make_key(items[i].first, fk);
      if (why != nullptr) {
        failures.push_back(KeyError{i, key_error(why, op, items[i].first)});
        if (!prefix.empty()) offset[i + 1] = static_cast<std::uint32_t>(packed.size());
        continue;
      }
      Result<void> ok = check_value(items[i].second, fk.len, flags);
      if (!ok) {
        failures.push_back(KeyError{i, decorate(std::move(ok).error(), op, items[i].first, nullptr)});
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
    const auto start = Clock::now();
    const Deadline end = call_deadline(start);
    std::vector<std::size_t> server_of(n);
    for (int attempt = 0; !pending.empty(); ++attempt) {
      auto routed = route_many(keys.data(), pending, server_of, attempt == 0 ? start : Clock::now(), end);
      if (!routed) {
        for (auto i : pending) failures.push_back(KeyError{i, decorate(routed.error(), op, keys[i], nullptr)});
        break;
      }
      // Writes routed away from dead servers: logged before they are sent.
      if (dead_count_.load(std::memory_order_acquire) != 0) {
        for (auto i : pending) note_moved(keys[i], full_key(i), server_of[i]);
      }
      std::vector<Job>& jobs = scratch().jobs;
      const LeasesBack leases_back{jobs};
      plan_jobs(pending, server_of, jobs);
      connect_jobs(jobs, end);
      for (auto& j : jobs) {
        if (j.done) continue;
        detail::Connection& c = *j.lease.get();
        const std::uint32_t base = c.take_opaques(static_cast<std::uint32_t>(j.keys.size() + 1));
        for (std::size_t k = 0; k < j.keys.size(); ++k) {
          char ex[8];
          protocol::encode_request(c.out(), protocol::Opcode::setq, full_key(j.keys[k]), protocol::store_extras(ex, flags, exp),
                                   items[j.keys[k]].second, base + static_cast<std::uint32_t>(k));
        }
        j.noop_opaque = base + static_cast<std::uint32_t>(j.keys.size());
        protocol::encode_request(c.out(), protocol::Opcode::noop, {}, {}, {}, j.noop_opaque);
      }
      const Deadline io_end = std::min(Clock::now() + config_.timeout, end);
      run_jobs(jobs, io_end, [&](Job& j, const protocol::Reply& r, const char*& why) -> int {
        const auto& h = r.header;
        if (h.opaque == j.noop_opaque) {
          if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return 1;
          why = "reply opcode does not match the request";
          return -1;
        }
        const std::uint32_t base = j.noop_opaque - static_cast<std::uint32_t>(j.keys.size());
        if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::setq) || h.opaque < base || h.opaque >= j.noop_opaque) {
          why = "reply to a request that was not sent";
          return -1;
        }
        // Quiet sets answer only on failure.
        const std::uint32_t idx = j.keys[h.opaque - base];
        failures.push_back(KeyError{idx, decorate(protocol::status_error(h.status), op, keys[idx], servers_[j.server].get())});
        return 0;
      });
      pending.clear();
      Error last;
      bool exhausted = false;
      for (auto& j : jobs) {
        Server& s = *servers_[j.server];
        if (j.failed) {
          last = j.error;
          if (j.pool_exhausted) exhausted = true;
          else if (server_fault(j.error.kind())) record_failure(s, j.error);
          // Keys already reported by the server stay reported once.
          for (auto k : j.keys) pending.push_back(k);
          // Sent (or partly sent) without a definite answer: in doubt.
          if (j.lease.get() != nullptr) {
            for (auto k : j.keys) note_stale(s, full_key(k));
          }
          j.lease.discard();
        } else if (j.lease.get() != nullptr) {
          j.lease.get()->touch_used(start);
          record_success(s);
        }
      }
      if (pending.empty()) break;
      if (exhausted || !retryable_kind(last.kind()) || attempt >= config_.retry_attempts || Clock::now() >= end) {
        for (auto i : pending) {
          Error e = last;
          failures.push_back(KeyError{i, decorate(std::move(e), op, keys[i], servers_[server_of[i]].get())});
        }
        break;
      }
      // Drop per-key reports for keys about to be retried.
      std::sort(pending.begin(), pending.end());
      failures.erase(std::remove_if(failures.begin(), failures.end(),
                                    [&](const KeyError& f) { return std::binary_search(pending.begin(), pending.end(), static_cast<std::uint32_t>(f.index)); }),
                     failures.end());
    }
    std::stable_sort(failures.begin(), failures.end(), [](const KeyError& a, const KeyError& b) { return a.index < b.index; });
    failures.erase(std::unique(failures.begin(), failures.end(),
                               [](const KeyError& a, const KeyError& b) { return a.index == b.index; }),
                   failures.end());
    return failures;
  }

  MemcachedBackendConfig config_;
  std::optional<Error> init_error_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::optional<Ring> full_ring_;
  std::atomic<int> dead_count_{0};
  std::mutex routing_mutex_;
  std::shared_ptr<const LiveRing> live_;
};

CACHEKIT_END_NAMESPACE
