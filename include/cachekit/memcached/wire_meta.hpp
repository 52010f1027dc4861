#pragma once
// The operations of MemcachedBackend as conversations in memcached's meta
// protocol (mg/ms/md/ma/mn; memcached >= 1.6.10). Batches carry an opaque
// (O<n>) on every request, checked on every reply; quiet mode leaves out
// the nominal replies, and mn ends each batch. An ERROR reply to a meta
// command marks the connection (protocol_refused): the server predates
// meta, and the backend moves to the text protocol.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend.hpp"
#include "../error.hpp"
#include "../memcached_config.hpp"
#include "../protocol/ascii.hpp"
#include "../protocol/meta.hpp"
#include "connection.hpp"
#include "pipeline.hpp"
#include "types.hpp"
#include "wire_ascii.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class = void>  // compiled where it is used
struct BasicMetaConversation : AsciiConversation<protocol::MetaWire> {
  using Wire = protocol::MetaWire;
  static constexpr Protocol kProtocol = Protocol::meta;

  // ---- one key ----

  template <class Store>
  static Result<void> get(Connection& c, std::string_view key, Deadline d, TimePoint now, Store&& store) {
    auto sent = c.send_head(c.head(), protocol::meta::encode_mg_value(c.head(), key), d);
    if (!sent) return sent;
    auto got = c.fill(d, now);
    if (!got) return got;
    if (c.between_replies()) {  // the usual VA or EN, whole in the buffer
      std::string_view value;
      bool hit = false;
      const std::size_t len = protocol::meta::decode_value_reply(c.buffered(), c.buffered_size(), c.max_value(), value, hit);
      if (len != 0) {
        if (hit) store(value);
        c.skip(len);
        return {};
      }
    }
    Reply r;  // anything else: the full decoder
    auto ok = c.read_reply<Wire>(r, d, now);
    if (!ok) return ok;
    if (r.kind == protocol::ReplyKind::value) {
      store(r.value);
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "get");
    }
    c.reply_done();
    return {};
  }

  static Result<std::optional<Item>> gets(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.cas = true;
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    std::optional<Item> out;
    if (r.kind == protocol::ReplyKind::value) {
      out = Item{std::string(r.value), r.flags, r.cas};
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "gets");
    }
    c.reply_done();
    return out;
  }

  static Result<bool> exists(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    return yes_no(c, protocol::meta::encode_mg(c.head(), key, o), d, now, protocol::ReplyKind::miss, "exists");
  }

  static Result<bool> remove(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return yes_no(c, protocol::meta::encode_md(c.head(), key), d, now, protocol::ReplyKind::not_found, "delete");
  }

  static Result<bool> touch(Connection& c, std::string_view key, std::uint32_t exp, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    o.touch = static_cast<std::int64_t>(exp);
    return yes_no(c, protocol::meta::encode_mg(c.head(), key, o), d, now, protocol::ReplyKind::miss, "touch");
  }

  static Result<std::optional<std::string>> get_and_touch(Connection& c, std::string_view key, std::uint32_t exp,
                                                          Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.client_flags = false;
    o.touch = static_cast<std::int64_t>(exp);
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    std::optional<std::string> out;
    if (r.kind == protocol::ReplyKind::value) {
      out.emplace(r.value);
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "get_and_touch");
    }
    c.reply_done();
    return out;
  }

  // ---- TTLs and leases (meta only) ----

  /// `mg <key> t`: the remaining lifetime without the value (true when
  /// present).
  template <class = void>  // compiled only where used
  static Result<bool> ttl(Connection& c, std::string_view key, Ttl& out, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    o.ttl = true;
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    bool found = false;
    if (r.kind == protocol::ReplyKind::ok && !r.has(protocol::Field::legacy)) {
      if (!r.has(protocol::Field::ttl)) return c.protocol_failure("mg t answered without its TTL");
      out = ttl_of(r);
      found = true;
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "ttl");
    }
    c.reply_done();
    return found;
  }

  /// `mg <key> v t`: the value and its remaining lifetime (true when present).
  template <class = void>  // compiled only where used
  static Result<bool> get_with_ttl(Connection& c, std::string_view key, std::string& value, Ttl& ttl, Deadline d,
                                   TimePoint now) {
    protocol::meta::GetOptions o;
    o.client_flags = false;
    o.ttl = true;
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    bool found = false;
    if (r.kind == protocol::ReplyKind::value) {
      if (!r.has(protocol::Field::ttl)) return c.protocol_failure("mg v t answered without its TTL");
      value.assign(r.value.data(), r.value.size());
      ttl = ttl_of(r);
      found = true;
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "get_with_ttl");
    }
    c.reply_done();
    return found;
  }

  /// `mg <key> v c [N<lease>] [R<recache>] t`: N and R before t, or the TTL
  /// read back on a vivified miss is -1 instead of the placeholder's.
  template <class = void>  // compiled only where used
  static Result<LeaseRead> lease_get(Connection& c, std::string_view key, std::uint32_t lease_ttl,
                                     std::uint32_t recache, Deadline d, TimePoint now) {
    protocol::meta::GetOptions o;
    o.client_flags = false;
    o.cas = true;
    o.ttl = true;
    if (lease_ttl != 0) o.vivify = static_cast<std::int64_t>(lease_ttl);
    if (recache != 0) o.recache = static_cast<std::int64_t>(recache);
    Reply r;
    auto ok = ask(c, protocol::meta::encode_mg(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    LeaseRead out;
    if (r.kind == protocol::ReplyKind::value) {
      if (!r.has(protocol::Field::ttl) || !r.has(protocol::Field::cas)) {
        return c.protocol_failure("mg v c t answered without its TTL or CAS");
      }
      out.ttl = ttl_of(r);
      out.token = r.cas;
      out.won = r.has(protocol::Field::won);
      out.stale = r.has(protocol::Field::stale);
      out.pending = r.has(protocol::Field::winner_sent);
      // An empty value under a lease is the placeholder N created.
      if (!r.value.empty() || !(out.won || out.pending)) out.value.emplace(r.value);
    } else if (r.kind != protocol::ReplyKind::miss) {
      return refuse_meta(c, r, "lease_get");
    }
    c.reply_done();
    return out;
  }

  /// `md <key> I [T<stale_for>]`: marks the value stale; false when absent.
  template <class = void>  // compiled only where used
  static Result<bool> invalidate(Connection& c, std::string_view key, std::uint32_t stale_for, Deadline d,
                                 TimePoint now) {
    protocol::meta::DeleteOptions o;
    o.invalidate = true;
    if (stale_for != 0) o.ttl = static_cast<std::int64_t>(stale_for);
    return yes_no(c, protocol::meta::encode_md(c.head(), key, o), d, now, protocol::ReplyKind::not_found,
                  "invalidate");
  }

  static Result<StoreStatus> store(Connection& c, protocol::StoreMode mode, std::string_view key,
                                   std::string_view value, std::uint32_t flags, std::uint32_t exp, std::uint64_t cas,
                                   Deadline d, TimePoint now) {
    protocol::meta::SetOptions o;
    o.mode = mode;
    if (mode != protocol::StoreMode::append && mode != protocol::StoreMode::prepend) {
      o.client_flags = flags;
      if (exp != 0) o.ttl = static_cast<std::int64_t>(exp);
    }
    if (mode == protocol::StoreMode::cas) o.compare_cas = cas;
    const std::size_t n = protocol::meta::encode_ms_head(c.head(), key, value.size(), o);
    auto sent = c.send_parts(c.head(), n, value, protocol::kDataEnd, d);
    if (!sent) return std::move(sent).error();
    Reply r;
    auto got = c.read_reply<Wire>(r, d, now);
    if (!got) return std::move(got).error();
    StoreStatus st;
    switch (r.kind) {
      case protocol::ReplyKind::ok: st = StoreStatus::stored; break;
      case protocol::ReplyKind::not_stored: st = StoreStatus::not_stored; break;
      case protocol::ReplyKind::exists: st = StoreStatus::exists; break;
      case protocol::ReplyKind::not_found: st = StoreStatus::not_found; break;
      default: return refuse_meta(c, r, "store");
    }
    if (r.has(protocol::Field::legacy)) return refuse_meta(c, r, "store");
    c.reply_done();
    return st;
  }

  /// ma; with an initial value a missing key is created (N<ttl> J<initial>)
  /// and the initial value is the result, in one atomic step.
  static Result<std::optional<std::uint64_t>> counter(Connection& c, bool decrement, std::string_view key,
                                                      std::uint64_t delta, std::optional<std::uint64_t> initial,
                                                      std::uint32_t exp, Deadline d, TimePoint now) {
    protocol::meta::ArithOptions o;
    o.decrement = decrement;
    o.delta = delta;
    if (initial) {
      o.vivify = static_cast<std::int64_t>(exp);
      o.initial = *initial;
    }
    Reply r;
    auto ok = ask(c, protocol::meta::encode_ma(c.head(), key, o), r, d, now);
    if (!ok) return std::move(ok).error();
    if (r.kind == protocol::ReplyKind::not_found) {
      c.reply_done();
      return std::optional<std::uint64_t>();
    }
    if (r.kind != protocol::ReplyKind::value) return refuse_meta(c, r, decrement ? "decr" : "incr");
    std::string_view digits = r.value;
    while (!digits.empty() && digits.back() == ' ') digits.remove_suffix(1);
    std::uint64_t v = 0;
    if (!protocol::ascii::parse_u64(digits, v)) return c.protocol_failure("counter value is not a number");
    c.reply_done();
    return std::optional<std::uint64_t>(v);
  }

  // ---- batches ----

  /// get_many's requests: `mg <key> v O<n> q` per key, then mn, written
  /// straight into the request buffer. The opaques are the keys' places in
  /// the job (four digits while it has at most 10,000 keys): short, and
  /// unambiguous (a batch ends with MN, and a batch that fails closes its
  /// connection).
  template <class KeyOf>
  static void encode_get_batch(Connection& c, Job& j, KeyOf&& key_of, std::size_t key_bytes) {
    const std::size_t count = j.keys.size();
    j.base = 0;
    j.end_mark = static_cast<std::uint32_t>(count);
    if (key_bytes == 0) {
      for (auto idx : j.keys) key_bytes += key_of(idx).size();
    }
    const std::size_t bound = protocol::meta::mg_batch_bound(count, key_bytes);
    char* w = c.out().extend(bound);
    const std::uint32_t* idx = j.keys.data();
    const std::size_t n = protocol::meta::encode_mg_batch_run(w, count, [&](std::size_t i) { return key_of(idx[i]); }, 0);
    c.out().shrink(bound - n);
  }

  /// Hits of the job's own keys decoded in place in a tight loop; MN and
  /// anything unexpected are left to on_get_reply.
  template <class KeyOf, class Hit>
  CACHEKIT_LOOP_NOINLINE static std::size_t fast_get_replies(Job& j, const char* data, std::size_t size,
                                                             KeyOf&& /*key_of*/, Hit&& hit) {
    const auto count = static_cast<std::uint64_t>(j.keys.size());
    const std::uint32_t* idx_of = j.keys.data();
    // The job's opaques are 0 .. count - 1 (encode_get_batch).
    auto known = [count](std::uint64_t opaque) { return opaque < count; };
    std::size_t used = 0;
    for (;;) {
      std::string_view value;
      std::uint64_t opaque = 0;
      const std::size_t len =
          protocol::meta::decode_batch_hit(data + used, size - used, CACHEKIT_MAX_RESPONSE_BODY, known, value, opaque);
      if (CACHEKIT_UNLIKELY(len == 0)) break;
      hit(idx_of[opaque], value);
      used += len;
    }
    return used;
  }

  template <class KeyOf, class Hit>
  static Verdict on_get_reply(Job& j, const Reply& r, KeyOf&& key_of, Hit&& hit, const char*& why) {
    if (r.kind == protocol::ReplyKind::end) return Verdict::last;
    if (r.kind != protocol::ReplyKind::value && r.kind != protocol::ReplyKind::miss) return batch_refusal(j, r, why);
    std::uint32_t rel = 0;
    if (!opaque_of(j, r, rel)) {
      why = "reply opaque does not match a request";
      return Verdict::bad;
    }
    const std::uint32_t idx = j.keys[rel];
    if (r.has(protocol::Field::key) && r.key != key_of(idx)) {
      why = "reply key does not match the request";
      return Verdict::bad;
    }
    if (r.kind == protocol::ReplyKind::value) hit(idx, r.value);
    return Verdict::more;
  }

  /// set_many's requests: `ms` per key with its opaque, then mn. Not
  /// quiet: a SERVER_ERROR line (too large, out of memory) carries no
  /// opaque, and only when every request answers can it be placed by order.
  template <class KeyOf, class ValueOf>
  static void encode_set_batch(Connection& c, Job& j, KeyOf&& key_of, ValueOf&& value_of, std::uint32_t flags,
                               std::uint32_t exp) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    j.cursor = 0;
    protocol::meta::SetOptions o;
    o.client_flags = flags;
    if (exp != 0) o.ttl = static_cast<std::int64_t>(exp);
    for (std::uint32_t k = 0; k < count; ++k) {
      o.opaque = j.base + k;
      protocol::meta::encode_ms(c.out(), key_of(j.keys[k]), value_of(j.keys[k]), o);
    }
    end_batch(c);
  }

  /// One reply per ms, in order; then MN.
  template <class Failed>
  static Verdict on_set_reply(Job& j, const Reply& r, Failed&& failed, const char*& why) {
    if (r.kind == protocol::ReplyKind::end) {
      if (j.cursor == j.keys.size()) return Verdict::last;
      why = "MN before every ms was answered";
      return Verdict::bad;
    }
    if (j.cursor >= j.keys.size()) {
      why = "more replies than requests";
      return Verdict::bad;
    }
    const std::uint32_t idx = j.keys[j.cursor];
    if (r.kind == protocol::ReplyKind::server_error) {
      // The server read the data (too large, out of memory): still in step.
      failed(idx, protocol::reply_error(r));
    } else {
      if (r.kind != protocol::ReplyKind::ok && r.kind != protocol::ReplyKind::not_stored &&
          r.kind != protocol::ReplyKind::exists && r.kind != protocol::ReplyKind::not_found) {
        return batch_refusal(j, r, why);
      }
      std::uint32_t rel = 0;
      if (!opaque_of(j, r, rel) || rel != j.cursor) {
        why = "reply opaque does not match the request";
        return Verdict::bad;
      }
      if (r.kind != protocol::ReplyKind::ok) {
        failed(idx, Error(ErrorKind::permanent, std::string("item not stored (") + protocol::to_string(r.kind) + ")"));
      }
    }
    ++j.cursor;
    return Verdict::more;
  }

  /// The rejoin repair's requests: quiet `md` per key, then mn.
  static void encode_delete_batch(Connection& c, Job& j, const std::vector<std::string>& keys) {
    const auto count = static_cast<std::uint32_t>(keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    protocol::meta::DeleteOptions o;
    o.quiet = true;
    for (std::uint32_t k = 0; k < count; ++k) {
      o.opaque = j.base + k;
      protocol::detail::append_head(c.out(), protocol::meta::head_bound(keys[k].size()),
                                    [&](char* dst) { return protocol::meta::encode_md(dst, keys[k], o); });
    }
    end_batch(c);
  }

  static Verdict on_delete_reply(Job& j, const Reply& r, std::optional<Error>& refused, const char*& why) {
    if (r.kind == protocol::ReplyKind::end) return Verdict::last;
    if (r.kind == protocol::ReplyKind::not_found) return Verdict::more;  // absent already
    if (protocol::is_error(r)) {
      if (!refused) refused.emplace(protocol::reply_error(r));
      return batch_refusal(j, r, why);
    }
    why = "unexpected reply to a quiet delete";
    return Verdict::bad;
  }

 private:
  static void end_batch(Connection& c) {
    char mn[8];
    c.out().append(mn, protocol::meta::encode_mn(mn));
  }

  /// The request index a reply's opaque names.
  static bool opaque_of(const Job& j, const Reply& r, std::uint32_t& rel) noexcept {
    std::uint32_t o = 0;
    if (!r.has(protocol::Field::opaque) || !protocol::ascii::parse_u32(r.opaque, o)) return false;
    rel = o - j.base;
    return o >= j.base && o < j.end_mark;
  }

  /// An ERROR reply to a meta command: the server predates meta.
  CACHEKIT_COLD_NOINLINE static Error refuse_meta(Connection& c, const Reply& r, const char* op) {
    if (r.kind == protocol::ReplyKind::error || r.has(protocol::Field::legacy)) c.set_protocol_refused();
    return refuse(c, r, op);
  }

  static Verdict batch_refusal(Job& j, const Reply& r, const char*& why) {
    if (protocol::is_error(r)) {
      if (r.kind == protocol::ReplyKind::error) j.lease.get()->set_protocol_refused();
      j.error = protocol::reply_error(r);
      return Verdict::error;
    }
    why = "unexpected reply in a batch";
    return Verdict::bad;
  }

  /// A meta command answered HD (true) or no (kind no: EN, NF).
  /// The t flag of a reply (-1: no expiry).
  static Ttl ttl_of(const Reply& r) noexcept {
    return r.ttl < 0 ? Ttl::never() : Ttl::in(std::chrono::seconds(r.ttl));
  }

  static Result<bool> yes_no(Connection& c, std::size_t n, Deadline d, TimePoint now, protocol::ReplyKind no,
                             const char* op) {
    Reply r;
    auto ok = ask(c, n, r, d, now);
    if (!ok) return std::move(ok).error();
    if ((r.kind != protocol::ReplyKind::ok && r.kind != no) || r.has(protocol::Field::legacy)) {
      return refuse_meta(c, r, op);
    }
    c.reply_done();
    return r.kind == protocol::ReplyKind::ok;
  }
};
using MetaConversation = BasicMetaConversation<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
