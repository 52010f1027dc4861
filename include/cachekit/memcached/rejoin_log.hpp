#pragma once
// RejoinLog: the keys a server may hold a stale copy of. While a server is
// marked dead, writes to its keys land elsewhere; a write to it that ended
// without a definite answer may still land later. Before the server serves
// again, the backend deletes every key logged here on it (or flushes it
// when the log overflowed). Pure bookkeeping: no I/O, no clock.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// What a rejoin repair must do: delete keys, or flush the server.
struct RejoinBatch {
  std::vector<std::string> keys;
  bool flush = false;
  bool empty() const noexcept { return keys.empty() && !flush; }
};

/// A bounded, thread-safe set of keys to delete on one server before it
/// is used again. Past its capacity it forgets the keys and asks for a
/// flush of the whole server instead. (A template only so that its code
/// is compiled where it is used; RejoinLog is the type.)
template <class Unused = void>
class BasicRejoinLog {
 public:
  using Batch = RejoinBatch;

  explicit BasicRejoinLog(std::size_t capacity) : capacity_(capacity) {}
  BasicRejoinLog(const BasicRejoinLog&) = delete;
  BasicRejoinLog& operator=(const BasicRejoinLog&) = delete;

  /// Records key (a full key, as sent to the server).
  void add(std::string_view key) {
    std::lock_guard<std::mutex> lock(mutex_);
    add_locked(key);
  }

  /// Takes everything logged so far (the log is empty afterwards).
  Batch take() {
    std::lock_guard<std::mutex> lock(mutex_);
    Batch b;
    b.flush = overflow_;
    b.keys.reserve(keys_.size());
    for (auto it = keys_.begin(); it != keys_.end();) {
      auto node = keys_.extract(it++);
      b.keys.push_back(std::move(node.value()));
    }
    keys_.clear();
    overflow_ = false;
    return b;
  }

  /// Puts back a batch whose repair failed.
  void restore(Batch b) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (b.flush) overflow_true_locked();
    for (auto& k : b.keys) {
      if (overflow_) break;
      add_locked(k);
    }
  }

  /// Runs f() while holding the log's lock if the log is empty, and
  /// returns what f returns (false when the log is not empty). A key added
  /// concurrently is either seen here or added after f has run.
  template <class F>
  bool if_empty(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!keys_.empty() || overflow_) return false;
    return f();
  }

  /// Keys held now (for tests and monitoring); overflowed() tells whether
  /// the next repair is a flush.
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_.size();
  }
  bool overflowed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return overflow_;
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  void add_locked(std::string_view key) {
    if (overflow_) return;
    if (keys_.size() >= capacity_) {
      if (keys_.find(std::string(key)) != keys_.end()) return;
      overflow_true_locked();
      return;
    }
    keys_.emplace(key);
  }
  void overflow_true_locked() {
    overflow_ = true;
    std::unordered_set<std::string>().swap(keys_);  // a flush covers them; free the memory
  }

  mutable std::mutex mutex_;
  std::unordered_set<std::string> keys_;
  bool overflow_ = false;
  std::size_t capacity_;
};

using RejoinLog = BasicRejoinLog<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
