#pragma once
// Per-server connection pool: at most max connections, shared by all
// threads; waiting for one is bounded by a deadline. The most recently
// returned connection sits in a lock-free slot. Fork-safe: a pool used
// in a child process drops every connection its parent opened.

#include "config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "memcached/connection.hpp"
#include "error.hpp"
#include "net/fork_guard.hpp"
#include "net/socket.hpp"

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
