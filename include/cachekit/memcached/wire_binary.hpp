#pragma once
// The operations of MemcachedBackend as conversations in the binary
// protocol: what to send on a connection and how to read the answer.
// Every conversation class (BinaryConversation here, TextConversation and
// MetaConversation beside it) offers the same static functions, so the
// backend is a template over it: the executor, the pipeline engine and the
// batch skeleton know no protocol.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../memcached_config.hpp"
#include "../protocol/binary.hpp"
#include "../protocol/wire.hpp"
#include "connection.hpp"
#include "pipeline.hpp"
#include "types.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class = void>  // compiled where it is used
struct BasicBinaryConversation {
  using Wire = protocol::BinaryWire;
  using Reply = protocol::Reply;
  using Deadline = net::Deadline;
  using TimePoint = net::Clock::time_point;
  static constexpr Protocol kProtocol = Protocol::binary;

  // ---- one key ----

  /// A get of key; on a hit, store(value) runs with a view of the value
  /// (valid during the call).
  template <class Store>
  static Result<void> get(Connection& c, std::string_view key, Deadline d, TimePoint now, Store&& store) {
    const std::uint32_t opaque = c.take_opaques();
    const std::size_t n = protocol::encode_head(c.head(), protocol::Opcode::get, key, {}, 0, opaque);
    auto sent = c.send_head(c.head(), n, d);
    if (!sent) return sent;
    Reply r;
    const char* why = nullptr;
    for (bool first = true;; first = false) {
      auto got = c.fill(d, first ? now : net::Clock::now());
      if (!got) return got;
      if (c.between_replies()) {  // the usual hit, whole in the buffer
        const std::size_t len = protocol::decode_hit(c.buffered(), c.buffered_size(), protocol::Opcode::get, r);
        if (len != 0) {
          c.skip(len);
          break;
        }
      }
      const int have = c.next_reply<Wire>(r, why);
      if (have < 0) return c.protocol_failure(why);
      if (have > 0) break;
    }
    const auto& h = r.header;
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::get)) {
      return c.protocol_failure("reply opcode does not match the request");
    }
    if (h.opaque != opaque) return c.protocol_failure("reply opaque does not match the request");
    if (h.status == 0) {
      store(r.value());
    } else if (h.status != static_cast<std::uint16_t>(protocol::Status::key_not_found)) {
      c.reply_done();
      return protocol::status_error(h.status);
    }
    c.reply_done();
    return {};
  }

  static Result<std::optional<Item>> gets(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    Reply r;
    auto ok = request(c, r, protocol::Opcode::get, key, {}, {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    std::optional<Item> out;
    if (st == 0) out = Item{std::string(r.value()), r.flags(), r.header.cas};
    c.reply_done();
    if (st == 0 || st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return out;
    return protocol::status_error(st);
  }

  static Result<bool> exists(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return status_bool(c, protocol::Opcode::get, key, {}, d, now);
  }
  static Result<bool> remove(Connection& c, std::string_view key, Deadline d, TimePoint now) {
    return status_bool(c, protocol::Opcode::del, key, {}, d, now);
  }
  static Result<bool> touch(Connection& c, std::string_view key, std::uint32_t exp, Deadline d, TimePoint now) {
    char ex[4];
    return status_bool(c, protocol::Opcode::touch, key, protocol::expiry_extras(ex, exp), d, now);
  }

  static Result<std::optional<std::string>> get_and_touch(Connection& c, std::string_view key, std::uint32_t exp,
                                                          Deadline d, TimePoint now) {
    char ex[4];
    Reply r;
    auto ok = request(c, r, protocol::Opcode::gat, key, protocol::expiry_extras(ex, exp), {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    std::optional<std::string> out;
    if (st == 0) out.emplace(r.value());
    c.reply_done();
    if (st == 0 || st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return out;
    return protocol::status_error(st);
  }

  static Result<StoreStatus> store(Connection& c, protocol::StoreMode mode, std::string_view key,
                                   std::string_view value, std::uint32_t flags, std::uint32_t exp, std::uint64_t cas,
                                   Deadline d, TimePoint now) {
    protocol::Opcode op = protocol::Opcode::set;
    switch (mode) {
      case protocol::StoreMode::set:
      case protocol::StoreMode::cas: op = protocol::Opcode::set; break;
      case protocol::StoreMode::add: op = protocol::Opcode::add; break;
      case protocol::StoreMode::replace: op = protocol::Opcode::replace; break;
      case protocol::StoreMode::append: op = protocol::Opcode::append; break;
      case protocol::StoreMode::prepend: op = protocol::Opcode::prepend; break;
    }
    const bool has_extras = op != protocol::Opcode::append && op != protocol::Opcode::prepend;
    char ex[8];
    const std::string_view extras = has_extras ? protocol::store_extras(ex, flags, exp) : std::string_view();
    Reply r;
    auto ok = request(c, r, op, key, extras, value, cas, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    c.reply_done();
    switch (static_cast<protocol::Status>(st)) {
      case protocol::Status::ok: return StoreStatus::stored;
      case protocol::Status::not_stored: return StoreStatus::not_stored;
      case protocol::Status::key_exists: return StoreStatus::exists;
      case protocol::Status::key_not_found: return StoreStatus::not_found;
      default: return protocol::status_error(st);
    }
  }

  static Result<std::optional<std::uint64_t>> counter(Connection& c, bool decrement, std::string_view key,
                                                      std::uint64_t delta, std::optional<std::uint64_t> initial,
                                                      std::uint32_t exp, Deadline d, TimePoint now) {
    char ex[20];
    Reply r;
    const auto op = decrement ? protocol::Opcode::decrement : protocol::Opcode::increment;
    auto ok = request(c, r, op, key, protocol::counter_extras(ex, delta, initial.value_or(0), initial.has_value(), exp),
                      {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    if (st == 0) {
      const std::string_view v = r.value();
      if (v.size() != 8) return c.protocol_failure("counter reply is not 8 bytes");
      const auto n = protocol::detail::get64(reinterpret_cast<const unsigned char*>(v.data()));
      c.reply_done();
      return std::optional<std::uint64_t>(n);
    }
    c.reply_done();
    if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return std::optional<std::uint64_t>();
    return protocol::status_error(st);
  }

  // ---- admin ----

  static Result<void> flush_all(Connection& c, std::uint32_t exp, Deadline d) {
    char ex[4];
    auto r = status_bool(c, protocol::Opcode::flush, {}, protocol::expiry_extras(ex, exp), d, net::Clock::now());
    if (!r) return std::move(r).error();
    return {};
  }

  static Result<std::string> version(Connection& c, Deadline d) {
    Reply r;
    auto ok = request(c, r, protocol::Opcode::version, {}, {}, {}, 0, d, net::Clock::now());
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    std::string v(r.value());
    c.reply_done();
    if (st != 0) return protocol::status_error(st);
    return v;
  }

  static Result<void> stats(Connection& c, std::string_view group, Deadline d,
                            std::vector<std::pair<std::string, std::string>>& kv) {
    const std::uint32_t opaque = c.take_opaques();
    protocol::encode_request(c.out(), protocol::Opcode::stat, group, {}, {}, opaque);
    auto sent = c.flush(d);
    if (!sent) return sent;
    for (;;) {
      Reply r;
      auto got = c.read_reply<Wire>(r, d, net::Clock::now());
      if (!got) return got;
      auto ok = check(c, r, protocol::Opcode::stat, opaque);
      if (!ok) return ok;
      const std::uint16_t st = r.header.status;
      if (st != 0) {
        c.reply_done();
        return protocol::status_error(st);  // the server ends the stream after an error reply
      }
      const std::string_view key(r.body + r.header.extras_length, r.header.key_length);
      if (key.empty()) {
        c.reply_done();
        return {};
      }
      kv.emplace_back(std::string(key), std::string(r.value()));
      c.reply_done();
    }
  }

  /// SASL PLAIN, as the first exchange on a new connection.
  static Result<void> login(Connection& c, std::string_view user, std::string_view password, Deadline d,
                            const std::string& server_name) {
    const std::uint32_t opaque = c.take_opaques();
    protocol::encode_sasl_plain(c.out(), user, password, opaque);
    auto sent = c.flush(d);
    c.scrub_out();  // the request buffer held the password
    if (!sent) return sent;
    Reply r;
    auto got = c.read_reply<Wire>(r, d, net::Clock::now());
    if (!got) {
      // A server started with -Y FILE reads binary bytes as a text line
      // that never ends: it does not answer at all.
      if (got.error().kind() != ErrorKind::timeout) return got;
      return Error(ErrorKind::authentication,
                   "server " + server_name +
                       " sent no reply to the SASL login before the timeout; a server started with -Y FILE "
                       "(authfile) speaks only the text and meta protocols: set protocol = meta or text");
    }
    auto ok = check(c, r, protocol::Opcode::sasl_auth, opaque);
    if (!ok) return ok;
    const std::uint16_t status = r.header.status;
    c.reply_done();
    if (status == 0) return {};
    c.mark_broken();
    if (status == static_cast<std::uint16_t>(protocol::Status::auth_error) ||
        status == static_cast<std::uint16_t>(protocol::Status::auth_continue)) {
      return Error(ErrorKind::authentication, "SASL PLAIN authentication refused");
    }
    // A server started without -S does not know the SASL commands.
    if (status == static_cast<std::uint16_t>(protocol::Status::unknown_command)) {
      return Error(ErrorKind::authentication,
                   "server " + server_name +
                       " does not support SASL authentication (a server started with -Y FILE takes the authfile "
                       "login of the text and meta protocols: set protocol = meta or text)");
    }
    return protocol::status_error(status);
  }

  // ---- batches ----

  /// get_many's requests for the job's keys: a quiet GETKQ per key and a
  /// NOOP, encoded straight into the request buffer. key_bytes: the keys'
  /// total size when known (0: summed here).
  template <class KeyOf>
  static void encode_get_batch(Connection& c, Job& j, KeyOf&& key_of, std::size_t key_bytes) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    std::size_t bytes = protocol::kHeaderSize * (j.keys.size() + 1);
    if (key_bytes != 0) {
      bytes += key_bytes;
    } else {
      for (auto idx : j.keys) bytes += key_of(idx).size();
    }
    char* w = c.out().extend(bytes);
    for (std::uint32_t k = 0; k < count; ++k) {
      w += protocol::encode_head(w, protocol::Opcode::getkq, key_of(j.keys[k]), {}, 0, j.base + k);
    }
    protocol::encode_head(w, protocol::Opcode::noop, {}, {}, 0, j.end_mark);
  }

  /// Hits of the job's own keys decoded in place in a tight loop; the NOOP
  /// and anything unexpected are left to on_get_reply.
  template <class KeyOf, class Hit>
  CACHEKIT_LOOP_NOINLINE static std::size_t fast_get_replies(Job& j, const char* data, std::size_t size,
                                                             KeyOf&& key_of, Hit&& hit) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    const std::uint32_t* idx_of = j.keys.data();
    std::size_t used = 0;
    Reply r;
    for (;;) {
      const std::size_t len = protocol::decode_hit(data + used, size - used, protocol::Opcode::getkq, r);
      if (len == 0) break;
      const std::uint32_t rel = r.header.opaque - j.base;
      if (rel >= count) break;
      const std::uint32_t idx = idx_of[rel];
      const std::string_view want = key_of(idx);
      if (r.header.key_length != want.size() || !protocol::detail::same_bytes(r.body + 4, want.data(), want.size())) break;
      hit(idx, r.value());
      used += len;
    }
    return used;
  }

  template <class KeyOf, class Hit>
  static Verdict on_get_reply(Job& j, const Reply& r, KeyOf&& key_of, Hit&& hit, const char*& why) {
    const auto& h = r.header;
    if (h.opaque == j.end_mark) {
      if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return Verdict::last;
      why = "reply opcode does not match the request";
      return Verdict::bad;
    }
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::getkq) || h.opaque < j.base || h.opaque >= j.end_mark) {
      why = "reply to a request that was not sent";
      return Verdict::bad;
    }
    const std::uint32_t idx = j.keys[h.opaque - j.base];
    const std::string_view want = key_of(idx);
    if (h.key_length != want.size() ||
        !protocol::detail::same_bytes(r.body + h.extras_length, want.data(), want.size())) {
      why = "reply key does not match the request";
      return Verdict::bad;
    }
    if (h.status == 0) hit(idx, r.value());
    return Verdict::more;
  }

  /// set_many's requests: a quiet SETQ per key and a NOOP.
  template <class KeyOf, class ValueOf>
  static void encode_set_batch(Connection& c, Job& j, KeyOf&& key_of, ValueOf&& value_of, std::uint32_t flags,
                               std::uint32_t exp) {
    const auto count = static_cast<std::uint32_t>(j.keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    char ex[8];
    const std::string_view extras = protocol::store_extras(ex, flags, exp);
    for (std::uint32_t k = 0; k < count; ++k) {
      protocol::encode_request(c.out(), protocol::Opcode::setq, key_of(j.keys[k]), extras, value_of(j.keys[k]),
                               j.base + k);
    }
    protocol::encode_request(c.out(), protocol::Opcode::noop, {}, {}, {}, j.end_mark);
  }

  /// Quiet sets answer only on failure: failed(idx, error) reports it.
  template <class Failed>
  static Verdict on_set_reply(Job& j, const Reply& r, Failed&& failed, const char*& why) {
    const auto& h = r.header;
    if (h.opaque == j.end_mark) {
      if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return Verdict::last;
      why = "reply opcode does not match the request";
      return Verdict::bad;
    }
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::setq) || h.opaque < j.base || h.opaque >= j.end_mark) {
      why = "reply to a request that was not sent";
      return Verdict::bad;
    }
    failed(j.keys[h.opaque - j.base], protocol::status_error(h.status));
    return Verdict::more;
  }

  /// The rejoin repair's requests: a quiet delete per key and a NOOP.
  static void encode_delete_batch(Connection& c, Job& j, const std::vector<std::string>& keys) {
    const auto count = static_cast<std::uint32_t>(keys.size());
    j.base = c.take_opaques(count + 1);
    j.end_mark = j.base + count;
    for (std::uint32_t k = 0; k < count; ++k) {
      protocol::encode_request(c.out(), protocol::Opcode::deleteq, keys[k], {}, {}, j.base + k);
    }
    protocol::encode_request(c.out(), protocol::Opcode::noop, {}, {}, {}, j.end_mark);
  }

  /// Quiet deletes answer only when the key was absent, or on an error
  /// (the first error is kept in refused).
  static Verdict on_delete_reply(Job& j, const Reply& r, std::optional<Error>& refused, const char*& why) {
    const auto& h = r.header;
    if (h.opaque == j.end_mark) {
      if (h.opcode == static_cast<std::uint8_t>(protocol::Opcode::noop)) return Verdict::last;
      why = "reply opcode does not match the request";
      return Verdict::bad;
    }
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::deleteq) || h.opaque < j.base || h.opaque >= j.end_mark) {
      why = "reply to a request that was not sent";
      return Verdict::bad;
    }
    if (h.status != 0 && h.status != static_cast<std::uint16_t>(protocol::Status::key_not_found) && !refused) {
      refused.emplace(protocol::status_error(h.status));
    }
    return Verdict::more;
  }

 private:
  /// The completed reply must answer op/opaque, else the stream is out of step.
  static Result<void> check(Connection& c, const Reply& r, protocol::Opcode op, std::uint32_t opaque) {
    if (r.header.opcode != static_cast<std::uint8_t>(op)) return c.protocol_failure("reply opcode does not match the request");
    if (r.header.opaque != opaque) return c.protocol_failure("reply opaque does not match the request");
    return {};
  }

  /// One request (header, extras and key built in the connection's head
  /// buffer; the value sent from the caller's memory), then its reply in r,
  /// checked for opcode and opaque (call c.reply_done() after using it).
  static Result<void> request(Connection& c, Reply& r, protocol::Opcode op, std::string_view key,
                              std::string_view extras, std::string_view value, std::uint64_t cas, Deadline d,
                              TimePoint now) {
    const std::uint32_t opaque = c.take_opaques();
    const std::size_t n = protocol::encode_head(c.head(), op, key, extras, value.size(), opaque, cas);
    auto sent = value.empty() ? c.send_head(c.head(), n, d) : c.send_parts(c.head(), n, value, {}, d);
    if (!sent) return sent;
    auto got = c.read_reply<Wire>(r, d, now);
    if (!got) return got;
    return check(c, r, op, opaque);
  }

  /// After a request: true on ok, false on key-not-found, else the status error.
  static Result<bool> status_bool(Connection& c, protocol::Opcode op, std::string_view key, std::string_view extras,
                                  Deadline d, TimePoint now) {
    Reply r;
    auto ok = request(c, r, op, key, extras, {}, 0, d, now);
    if (!ok) return std::move(ok).error();
    const std::uint16_t st = r.header.status;
    c.reply_done();
    if (st == 0) return true;
    if (st == static_cast<std::uint16_t>(protocol::Status::key_not_found)) return false;
    return protocol::status_error(st);
  }
};
using BinaryConversation = BasicBinaryConversation<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
