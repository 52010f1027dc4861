#pragma once
// The operations of MemcachedBackend as conversations in memcached's
// classic text protocol (what twemproxy, mcrouter and memcached's proxy
// speak). Replies carry no opaque: they come in request order, and a
// VALUE names its key. incr/decr with an initial value is built from
// incr, add and incr again (see counter()).

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../memcached_config.hpp"
#include "../protocol/ascii.hpp"
#include "../protocol/text.hpp"
#include "connection.hpp"
#include "pipeline.hpp"
#include "types.hpp"
#include "wire_ascii.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class = void>  // compiled where it is used
struct BasicTextConversation : AsciiConversation<protocol::TextWire> {
  using Wire = protocol::TextWire;
  static constexpr Protocol kProtocol = Protocol::text;

  // ---- one key ----

  template <class Store>
  static Result<void> get(Connection& c, std::string_view key, Deadline d, TimePoint now, Store&& store) {
    auto sent = c.send_head(c.head(), protocol::text::encode_get(c.head(), protocol::text::Retrieval::get, key), d);
    if (!sent) return sent;
    auto got = c.fill(d, now);
    if (!got) return got;
    if (c.between_replies()) {  // the usual hit and END, or END, whole in the buffer
      const char* data = c.buffered();
      const std::size_t n = c.buffered_size();
      std::string_view value;
      std::uint32_t flags = 0;
      const std::size_t len = protocol::text::decode_get_hit(data, n, c.max_value(), key, flags, value);
      if (len != 0) {  // a hit and its END (checked first)
        store(value);
        c.skip(len);
        return {};
      }
      if (protocol::text::starts_with_end(data, n)) {  // a miss
        c.skip(5);
        return {};
      }
    }
    return retrieve_rest(c, key, d, now, "get", [&store](const Reply& r) { store(r.value); });
  }

  static Result<std::optional<Item>> gets(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    std::optional<Item> out;
    auto ok = retrieve(c, protocol::text::encode_get(c.head(), protocol::text::Retrieval::gets, key), key, d, now,
                       "gets", [&out](const Reply& r) { out = Item{std::string(r.value), r.flags, r.cas}; });
    if (!ok) return std::move(ok).error();
    return out;
  }

  static Result<bool> exists(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    bool hit = false;
    auto ok = retrieve(c, protocol::text::encode_get(c.head(), protocol::text::Retrieval::get, key), key, d, now,
                       "exists", [&hit](const Reply&) { hit = true; });
    if (!ok) return std::move(ok).error();
    return hit;
  }

  static Result<bool> remove(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return yes_no(c, protocol::text::encode_delete(c.head(), key), d, now, protocol::ReplyKind::deleted, "delete");
  }

  static Result<bool> touch(Connection& c, std::string_view key, std::uint32_t exp, Deadline d, TimePoint now) {
    return yes_no(c, protocol::text::encode_touch(c.head(), key, exp), d, now, protocol::ReplyKind::touched, "touch");
  }

  static Result<std::optional<std::string>> get_and_touch(Connection& c, std::string_view key, std::uint32_t exp,
                                                          Deadline d, TimePoint now) {
    std::optional<std::string> out;
    auto ok = retrieve(c, protocol::text::encode_get(c.head(), protocol::text::Retrieval::gat, key, exp), key, d, now,
                       "get_and_touch", [&out](const Reply& r) { out.emplace(r.value); });
    if (!ok) return std::move(ok).error();
    return out;
  }

  static Result<StoreStatus> store(Connection& c, protocol::StoreMode mode, std::string_view key,
                                   std::string_view value, std::uint32_t flags, std::uint32_t exp, std::uint64_t cas,
                                   Deadline d, TimePoint now) {
    const std::size_t n =
        protocol::text::encode_store_head(c.head(), mode, key, flags, exp, value.size(), cas, false);
    auto sent = c.send_parts(c.head(), n, value, protocol::kDataEnd, d);
    if (!sent) return std::move(sent).error();
    Reply r;
    auto got = c.read_reply<Wire>(r, d, now);
    if (!got) return std::move(got).error();
    StoreStatus st;
    switch (r.kind) {
      case protocol::ReplyKind::stored: st = StoreStatus::stored; break;
      case protocol::ReplyKind::not_stored: st = StoreStatus::not_stored; break;
      case protocol::ReplyKind::exists: st = StoreStatus::exists; break;
      case protocol::ReplyKind::not_found: st = StoreStatus::not_found; break;
      default: return refuse(c, r, "store");
    }
    c.reply_done();
    return st;
  }

  /// incr/decr. With an initial value, a missing key is created by add
  /// (with ttl) and the initial value is the result; when another client
  /// creates the key between the incr and the add, the add is refused and
  /// the incr runs again. The text protocol has no atomic form: a client
  /// that deletes the key meanwhile can make the third step miss too
  /// (reported as a transient error).
  static Result<std::optional<std::uint64_t>> counter(Connection& c, bool decrement, std::string_view key,
                                                      std::uint64_t delta, std::optional<std::uint64_t> initial,
                                                      std::uint32_t exp, Deadline d, TimePoint now) {
    for (int round = 0; round < 2; ++round) {
      Reply r;
      auto ok = ask(c, protocol::text::encode_arith(c.head(), decrement, key, delta, false), r, d, now);
      if (!ok) return std::move(ok).error();
      if (r.kind == protocol::ReplyKind::number) {
        const std::uint64_t v = r.number;
        c.reply_done();
        return std::optional<std::uint64_t>(v);
      }
      if (r.kind != protocol::ReplyKind::not_found) return refuse(c, r, decrement ? "decr" : "incr");
      c.reply_done();
      if (!initial) return std::optional<std::uint64_t>();
      if (round == 1) break;
      char digits[24];
      const std::size_t len =
          static_cast<std::size_t>(protocol::ascii::write_u64(digits, *initial) - digits);
      auto added = store(c, protocol::StoreMode::add, key, std::string_view(digits, len), 0, exp, 0, d,
                         net::Clock::now());
      if (!added) return std::move(added).error();
      if (*added == StoreStatus::stored) return std::optional<std::uint64_t>(*initial);
      now = net::Clock::now();
    }
    return Error(ErrorKind::transient, "the key was created and removed by others during incr/decr with an initial value");
  }

  // ---- batches ----

  /// get_many's requests: `get k1 k2 ...` lines, each ended by its own END.
  /// key_bytes is the keys' total size when known (else 0).
  template <class KeyOf>
  static void encode_get_batch(Connection& c, Job& j, KeyOf&& key_of, std::size_t key_bytes) {
    const std::uint32_t* idx = j.keys.data();
    const std::size_t count = j.keys.size();
    if (key_bytes == 0) {
      for (auto i : j.keys) key_bytes += key_of(i).size();
    }
    const std::size_t bound = protocol::text::get_many_bound(count, key_bytes, 3);  // "get"
    char* w = c.out().extend(bound);
    std::size_t commands = 0;
    const std::size_t n = protocol::text::encode_get_many_run(w, commands, protocol::text::Retrieval::get, count,
                                                              [&](std::size_t i) { return key_of(idx[i]); }, key_bytes);
    c.out().shrink(bound - n);
    j.ends_left = commands;
    j.cursor = 0;
  }

  /// Hits decoded in place in a tight loop, each the next requested key of
  /// its name; END and anything unexpected are left to on_get_reply.
  template <class KeyOf, class Hit>
  CACHEKIT_LOOP_NOINLINE static std::size_t fast_get_replies(Job& j, const char* data, std::size_t size,
                                                             KeyOf&& key_of, Hit&& hit) {
    std::size_t used = 0;
    const std::size_t count = j.keys.size();
    while (used < size && j.cursor < count) {
      const char* at = data + used;
      const std::size_t left = size - used;
      std::size_t len, k = j.cursor;
      std::string_view value;
      const std::string_view key = key_of(j.keys[k]);
      // The common case, the key at the cursor with its whole header in
      // the buffer, is matched here; a hit for a later key (the ones
      // between missed) or one cut short goes the longer way.
      if (left < key.size() + 32 || !protocol::text::detail::names_key(at, key)) {
        const LaterHit h = later_hit(j, at, left, key_of);
        len = h.len;
        k = h.k;
        value = h.value;
      } else {
        std::uint32_t flags = 0;
        len = protocol::text::decode_value_wide(at, key.size(), CACHEKIT_MAX_RESPONSE_BODY, left, flags, value);
      }
      if (len == 0) break;
      hit(j.keys[k], value);
      j.cursor = k + 1;
      used += len;
    }
    return used;
  }

  /// A hit found by later_hit: its length (0: none), key and value.
  struct LaterHit {
    std::size_t len = 0;
    std::size_t k = 0;
    std::string_view value;
  };
  /// fast_get_replies' hit at `at` when it is not a whole one for the key
  /// at the cursor: one for the first requested key from the cursor on that
  /// it names, or none when there is none or the reply is not whole.
  template <class KeyOf>
  CACHEKIT_COLD_NOINLINE static LaterHit later_hit(const Job& j, const char* at, std::size_t left, KeyOf&& key_of) {
    LaterHit h;
    if (left < 7 || !protocol::detail::starts_with(at, "VALUE ")) return h;
    for (std::size_t k = j.cursor; k < j.keys.size(); ++k) {
      const std::string_view key = key_of(j.keys[k]);
      if (left < key.size() + 13) return h;  // cannot tell yet
      if (protocol::detail::same_bytes(at + 6, key.data(), key.size()) && at[6 + key.size()] == ' ') {
        std::uint32_t flags = 0;
        h.len = protocol::text::decode_value_rest(at, left, key.size(), CACHEKIT_MAX_RESPONSE_BODY, flags, h.value);
        h.k = k;
        return h;
      }
    }
    return h;
  }

  /// A VALUE answers the next requested key of that name (hits come in
  /// request order, misses are left out); END ends one get command.
  template <class KeyOf, class Hit>
  static Verdict on_get_reply(Job& j, const Reply& r, KeyOf&& key_of, Hit&& hit, const char*& why) {
    if (r.kind == protocol::ReplyKind::value) {
      std::size_t k = j.cursor;
      while (k < j.keys.size() && key_of(j.keys[k]) != r.key) ++k;
      if (k == j.keys.size()) {
        why = "VALUE for a key that was not asked (or out of order)";
        return Verdict::bad;
      }
      hit(j.keys[k], r.value);
      j.cursor = k + 1;
      return Verdict::more;
    }
    if (r.kind == protocol::ReplyKind::end) {
      if (j.ends_left == 0) {
        why = "more END lines than get commands";
        return Verdict::bad;
      }
      return --j.ends_left == 0 ? Verdict::last : Verdict::more;
    }
    return batch_refusal(j, r, why);
  }

  /// set_many's requests: plain sets (no noreply: every key gets its own
  /// answer, so failures are reported per key).
  template <class KeyOf, class ValueOf>
  static void encode_set_batch(Connection& c, Job& j, KeyOf&& key_of, ValueOf&& value_of, std::uint32_t flags,
                               std::uint32_t exp) {
    for (auto idx : j.keys) {
      const std::string_view value = value_of(idx);
      const std::string_view key = key_of(idx);
      protocol::detail::append_head(c.out(), protocol::text::head_bound(key.size()), [&](char* dst) {
        return protocol::text::encode_store_head(dst, protocol::StoreMode::set, key, flags, exp, value.size(), 0,
                                                 false);
      });
      c.out().append(value.data(), value.size());
      c.out().append(protocol::kDataEnd.data(), protocol::kDataEnd.size());
    }
    j.cursor = 0;
  }

  template <class Failed>
  static Verdict on_set_reply(Job& j, const Reply& r, Failed&& failed, const char*& why) {
    if (j.cursor >= j.keys.size()) {
      why = "more replies than requests";
      return Verdict::bad;
    }
    if (r.kind == protocol::ReplyKind::server_error) {
      // The server read the data (too large, out of memory): the stream is
      // still in step, and the error is this key's.
      failed(j.keys[j.cursor], protocol::reply_error(r));
    } else if (r.kind != protocol::ReplyKind::stored) {
      if (r.kind != protocol::ReplyKind::not_stored && r.kind != protocol::ReplyKind::exists &&
          r.kind != protocol::ReplyKind::not_found) {
        return batch_refusal(j, r, why);
      }
      failed(j.keys[j.cursor], Error(ErrorKind::permanent, std::string("item not stored (") + protocol::to_string(r.kind) + ")"));
    }
    return ++j.cursor == j.keys.size() ? Verdict::last : Verdict::more;
  }

  /// The rejoin repair's requests: a delete per key, each answered.
  static void encode_delete_batch(Connection& c, Job& j, const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      protocol::detail::append_head(c.out(), protocol::text::head_bound(k.size()),
                                    [&](char* dst) { return protocol::text::encode_delete(dst, k); });
    }
    j.cursor = 0;
    j.ends_left = keys.size();
  }

  static Verdict on_delete_reply(Job& j, const Reply& r, std::optional<Error>& refused, const char*& why) {
    if (j.ends_left == 0) {
      why = "more replies than requests";
      return Verdict::bad;
    }
    if (r.kind != protocol::ReplyKind::deleted && r.kind != protocol::ReplyKind::not_found) {
      if (!protocol::is_error(r)) {
        why = "unexpected reply to delete";
        return Verdict::bad;
      }
      if (!refused) refused.emplace(protocol::reply_error(r));
      j.error = protocol::reply_error(r);
      return Verdict::error;
    }
    return --j.ends_left == 0 ? Verdict::last : Verdict::more;
  }

 private:
  /// An error line ends the job with the server's error; any other
  /// unexpected reply puts the stream out of step.
  static Verdict batch_refusal(Job& j, const Reply& r, const char*& why) {
    if (protocol::is_error(r)) {
      j.error = protocol::reply_error(r);
      return Verdict::error;
    }
    why = "unexpected reply in a batch";
    return Verdict::bad;
  }

  /// A retrieval of one key (head of n bytes in the head buffer): on a hit,
  /// on_hit(reply) runs; then END.
  template <class OnHit>
  static Result<void> retrieve(Connection& c, std::size_t n, std::string_view key, Deadline d, TimePoint now,
                               const char* op, OnHit&& on_hit) {
    auto sent = c.send_head(c.head(), n, d);
    if (!sent) return sent;
    return retrieve_rest(c, key, d, now, op, on_hit);
  }

  /// The replies of a retrieval already sent, through the full decoder.
  template <class OnHit>
  static Result<void> retrieve_rest(Connection& c, std::string_view key, Deadline d, TimePoint now, const char* op,
                                    OnHit&& on_hit) {
    Reply r;
    auto ok = c.read_reply<Wire>(r, d, now);
    if (!ok) return ok;
    if (r.kind == protocol::ReplyKind::value) {
      if (r.key != key) return c.protocol_failure("reply key does not match the request");
      on_hit(r);
      c.reply_done();
      auto more = c.read_reply<Wire>(r, d, now);
      if (!more) return more;
    }
    if (r.kind != protocol::ReplyKind::end) return refuse(c, r, op);
    c.reply_done();
    return {};
  }

  /// A command answered yes (kind yes) or NOT_FOUND.
  static Result<bool> yes_no(Connection& c, std::size_t n, Deadline d, TimePoint now, protocol::ReplyKind yes,
                             const char* op) {
    Reply r;
    auto ok = ask(c, n, r, d, now);
    if (!ok) return std::move(ok).error();
    if (r.kind != yes && r.kind != protocol::ReplyKind::not_found) return refuse(c, r, op);
    c.reply_done();
    return r.kind == yes;
  }
};
using TextConversation = BasicTextConversation<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
