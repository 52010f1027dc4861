#pragma once
// The cluster: the configured servers, each with its connection pool,
// failure count, dead time and rejoin log; the ring over all servers and
// the ring over the live ones; routing of keys around dead servers; the
// rejoin repair before a server is used again; and connections taken from
// (or opened into) a server's pool. Knows no protocol: what a new
// connection must say first (a login, a dialect check) and how a repair
// deletes keys come from the backend's hooks.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

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

#include "../error.hpp"
#include "../memcached_config.hpp"
#include "../net/socket.hpp"
#include "../pool.hpp"
#include "../ring.hpp"
#include "connection.hpp"
#include "rejoin_log.hpp"

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
