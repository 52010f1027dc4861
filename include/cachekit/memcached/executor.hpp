#pragma once
// The executor: runs one operation on one key with routing, pooled
// connections, retries and failover. One fast path (every server alive,
// an idle connection in the key's server's hot slot) and one retry loop
// for everything else. The operation itself is a callable
// fn(connection, full key, deadline, now) from a wire's conversation; the
// executor knows no protocol.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "../error.hpp"
#include "../memcached_config.hpp"
#include "cluster.hpp"
#include "connection.hpp"
#include "keys.hpp"

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
