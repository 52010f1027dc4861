#pragma once
// What every ASCII wire (text, meta) offers the layers above it: requests
// described without protocol words, and a reader that turns a byte stream
// split anyhow into whole replies. A wire is a struct of static functions
// and capability flags (TextWire in text.hpp, MetaWire in meta.hpp), chosen
// at compile time: a backend templated over it makes no virtual call per
// request. Every wire provides:
//
//   static constexpr const char* name;                 "text", "meta"
//   static constexpr bool has_quiet_get, has_quiet_store, has_opaque, has_cas, has_lease,
//                         has_noop, has_multi_key_get, has_counter_create, has_counter_ttl;
//   static std::size_t head_bound(std::size_t key_size);  room a head needs
//   static std::size_t encode_get(char*, const GetRequest&);
//   static std::size_t encode_store_head(char*, const StoreRequest&);  data + "\r\n" follow
//   static std::size_t encode_delete(char*, std::string_view key, std::uint32_t opaque, bool quiet);
//   static std::size_t encode_counter(char*, const CounterRequest&);
//   static std::size_t encode_touch(char*, std::string_view key, std::int64_t exptime, std::uint32_t opaque);
//   static std::size_t encode_flush_all(char*, std::int64_t delay);
//   static std::size_t encode_version(char*);
//   static std::size_t encode_stats(char*, std::string_view group);  room: head_bound(group.size())
//   template <class Out> static void encode_login(Out&, std::string_view user, std::string_view password);
//   static Decoded decode(const char*, std::size_t, ServerReply&, const Limits&);
//
// and, where has_noop: static std::size_t encode_noop(char*) (a batch's end).
// A request field a wire cannot express is ignored, and a capability flag
// says so (text has no opaque, no quiet get, no counter creation).
//
// The char* encoders write one command head at dst, which has room for
// head_bound(key.size()) bytes, and return its length; the caller sends a
// store's data from its own memory after the head, then kDataEnd.
// Pure: no I/O.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "reply.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace protocol {

/// Room a command head needs besides its key (command, numbers, flags, an
/// opaque of up to 32 bytes, "\r\n").
inline constexpr std::size_t kHeadSlack = 256;

/// What ends a data block on the ASCII wires.
inline constexpr std::string_view kDataEnd = "\r\n";

/// A read of one key.
struct GetRequest {
  std::string_view key;
  bool cas = false;          ///< also return the CAS unique (text gets)
  bool touch = false;        ///< also set the TTL to exptime (text gat)
  std::int64_t exptime = 0;  ///< with touch
  std::uint32_t opaque = 0;  ///< meta: echoed as O<opaque> when non-zero
  bool quiet = false;        ///< meta: no reply on a miss
  bool return_key = false;   ///< meta: echo the key (k)
};

/// How a storage command treats an existing item.
enum class StoreMode : std::uint8_t { set, add, replace, append, prepend, cas };

/// A write of one item; its data (value_size bytes) follows the head.
struct StoreRequest {
  StoreMode mode = StoreMode::set;
  std::string_view key;
  std::size_t value_size = 0;
  std::uint32_t flags = 0;   ///< ignored by the server for append/prepend
  std::int64_t exptime = 0;  ///< ignored by the server for append/prepend
  std::uint64_t cas = 0;     ///< mode cas: the CAS unique to compare
  std::uint32_t opaque = 0;  ///< meta: O<opaque> when non-zero
  bool quiet = false;        ///< meta: no reply on success; text: noreply (no reply at all)
};

/// An increment or decrement.
struct CounterRequest {
  std::string_view key;
  bool decrement = false;
  std::uint64_t delta = 1;
  bool create = false;       ///< meta: create on a miss with initial and exptime
  std::uint64_t initial = 0;
  std::int64_t exptime = 0;  ///< meta: TTL of a created item
  std::uint32_t opaque = 0;  ///< meta: O<opaque> when non-zero
  bool quiet = false;        ///< meta: no reply on success; text: noreply
};

namespace detail {
/// Runs write(buf) -> length into a buffer of at least bound bytes and
/// appends the result to out: on the stack for any key memcached accepts.
template <class Out, class Write>
inline void append_head(Out& out, std::size_t bound, Write&& write) {
  char stack[kHeadSlack + 512];
  if (bound <= sizeof stack) {
    out.append(stack, write(stack));
    return;
  }
  std::unique_ptr<char[]> heap(new char[bound]);  // only for keys far beyond memcached's limit
  out.append(heap.get(), write(heap.get()));
}
}  // namespace detail

/// Gathers a reply that arrives split across reads, for any wire: a reply
/// that arrives whole is decoded where it lies (no copy); one split across
/// reads is held here until it is complete. Memory grows only with bytes
/// actually received, within the limits (a value's announced length is
/// checked by the decoder first).
class ReplyStash {
 public:
  enum class Step { need_more, complete, malformed };

  /// Takes bytes up to the end of the current reply (used says how many)
  /// and decodes with Wire into r. complete: r views the reply (in data,
  /// or in this stash: valid until next()); need_more: every byte was
  /// taken; malformed: why() says why.
  template <class Wire>
  Step feed(const char* data, std::size_t n, typename Wire::Reply& r, const Limits& limits, std::size_t& used) {
    used = 0;
    if (held_.empty()) {
      if (n == 0) return Step::need_more;
      const Decoded d = Wire::decode(data, n, r, limits);
      if (d.complete()) {
        used = d.size;
        return Step::complete;
      }
      if (d.malformed()) return fail(d.why);
      held_.assign(data, n);  // a reply split across reads: keep its first part
      need_ = d.size;
      used = n;
      return Step::need_more;
    }
    for (;;) {
      const std::size_t before = held_.size();
      if (used == n) return Step::need_more;
      // Once the reply's length is known, take no byte beyond its end.
      const std::size_t avail = n - used;
      const std::size_t take = need_ > before + 1 && need_ - before < avail ? need_ - before : avail;
      held_.append(data + used, take);
      used += take;
      if (held_.size() < need_) continue;  // all taken: the loop ends above
      const Decoded d = Wire::decode(held_.data(), held_.size(), r, limits);
      if (d.complete()) {
        used -= held_.size() - d.size;  // bytes past the reply's end stay with the caller
        held_.resize(d.size);
        done_ = true;
        return Step::complete;
      }
      if (d.malformed()) return fail(d.why);
      need_ = d.size;
    }
  }

  /// Whether no part of a reply is held.
  bool empty() const noexcept { return held_.empty(); }
  /// Why the stream is corrupt (after Step::malformed).
  const char* why() const noexcept { return why_; }
  /// Bytes the held reply needs at least, when known (0 when none is held).
  std::size_t needed() const noexcept { return need_; }
  /// Ready for the next reply; keeps a bounded amount of memory.
  void next() noexcept {
    need_ = 0;
    done_ = false;
    held_.clear();
    if (held_.capacity() > kKeepCapacity) std::string().swap(held_);
  }
  /// Whether the last complete reply was gathered here (next() drops it).
  bool holds_reply() const noexcept { return done_; }

 private:
  static constexpr std::size_t kKeepCapacity = 64 * 1024;

  Step fail(const char* why) noexcept {
    why_ = why != nullptr ? why : "malformed reply";
    return Step::malformed;
  }

  std::string held_;
  std::size_t need_ = 0;
  bool done_ = false;
  const char* why_ = "";
};

/// Turns a byte stream split anyhow into whole replies of one Wire. Feed it
/// bytes as they arrive; it stops at the end of each reply so the caller can
/// act on it, then next() prepares for the following one.
template <class Wire>
class ReplyReader {
 public:
  using Reply = typename Wire::Reply;
  explicit ReplyReader(Limits limits = Limits{}) : limits_(limits) {}

  /// Consumes bytes up to the end of the current reply; returns how many.
  /// Check failed() and complete() afterwards.
  std::size_t feed(const char* data, std::size_t n) {
    if (failed_ || complete_ || n == 0) return 0;
    std::size_t used = 0;
    switch (stash_.template feed<Wire>(data, n, reply_, limits_, used)) {
      case ReplyStash::Step::complete: complete_ = true; break;
      case ReplyStash::Step::malformed:
        failed_ = true;
        failure_ = stash_.why();
        return 0;
      case ReplyStash::Step::need_more: break;
    }
    return used;
  }

  /// A whole reply is ready.
  bool complete() const noexcept { return complete_; }
  /// The stream is corrupt; the connection must be closed.
  bool failed() const noexcept { return failed_; }
  /// Why the stream is corrupt.
  const char* failure() const noexcept { return failure_; }
  /// Whether no part of a reply is held (nothing fed since next()).
  bool idle() const noexcept { return stash_.empty() && !complete_; }
  /// The complete reply; its views stay valid until next() or until the
  /// caller reuses the buffer it fed.
  const Reply& reply() const noexcept { return reply_; }
  /// Bytes the current reply needs at least, when known (0 before any).
  std::size_t needed() const noexcept { return stash_.needed(); }

  /// Ready for the next reply; keeps a bounded amount of memory.
  void next() noexcept {
    complete_ = false;
    stash_.next();
  }
  /// Forgets everything, including a failure.
  void reset() noexcept {
    next();
    failed_ = false;
    failure_ = "";
  }

 private:
  Limits limits_;
  Reply reply_;
  ReplyStash stash_;
  bool complete_ = false;
  bool failed_ = false;
  const char* failure_ = "";
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
