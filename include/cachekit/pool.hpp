#pragma once
// Per-server connection pool: at most max connections, shared by all
// threads; waiting for one is bounded by a deadline. Fork-safe: a pool used
// in a child process drops every connection its parent opened.

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "connection.hpp"
#include "error.hpp"
#include "net/fork_guard.hpp"
#include "net/socket.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

class ConnectionPool;

/// A connection (or the right to open one) taken from a pool; given back
/// when destroyed. A broken connection is closed instead of returned.
class PoolLease {
 public:
  PoolLease() = default;
  PoolLease(ConnectionPool* pool, std::unique_ptr<Connection> c) noexcept : pool_(pool), conn_(std::move(c)) {}
  PoolLease(PoolLease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) { o.pool_ = nullptr; }
  PoolLease& operator=(PoolLease&& o) noexcept {
    if (this != &o) {
      give_back();
      pool_ = o.pool_;
      conn_ = std::move(o.conn_);
      o.pool_ = nullptr;
    }
    return *this;
  }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  ~PoolLease() { give_back(); }

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
  ConnectionPool* pool_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

class ConnectionPool {
 public:
  explicit ConnectionPool(std::size_t max) : max_(max) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// An idle connection, or an empty slot to open one in; waits until the
  /// deadline for one to free up, then a timeout error.
  Result<PoolLease> acquire(net::Deadline deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    forget_parent_connections();
    for (;;) {
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return PoolLease(this, std::move(c));
      }
      if (open_ < max_) {
        ++open_;
        return PoolLease(this, nullptr);
      }
      ++waiting_;
      const auto st = cv_.wait_until(lock, deadline);
      --waiting_;
      if (st == std::cv_status::timeout && idle_.empty() && open_ >= max_) {
        return Error(ErrorKind::timeout, "no pooled connection became free before the timeout");
      }
    }
  }

  /// Like acquire, but never waits: false when the pool is exhausted.
  bool try_acquire(PoolLease& out) {
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

  /// Closes every idle connection (the server failed).
  void close_idle() {
    std::vector<std::unique_ptr<Connection>> drop;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      drop.swap(idle_);
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
  friend class PoolLease;

  void put_back(std::unique_ptr<Connection> c) noexcept {
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
      wake = waiting_ > 0;
    }
    if (wake) cv_.notify_one();
  }

  // After fork() the child must not touch its parent's sockets: close our
  // copies of the descriptors (the parent's stay open) and start afresh.
  void forget_parent_connections() {
    if (!fork_guard_.forked()) return;
    fork_guard_.rearm();
    idle_.clear();
    open_ = 0;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t max_;
  std::size_t open_ = 0;
  std::size_t waiting_ = 0;
  net::ForkGuard fork_guard_;
};

inline void PoolLease::give_back() noexcept {
  if (pool_ != nullptr) {
    ConnectionPool* p = pool_;
    pool_ = nullptr;
    p->put_back(std::move(conn_));
  }
  conn_.reset();
}

}  // namespace detail
CACHEKIT_END_NAMESPACE
