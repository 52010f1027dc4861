#pragma once
// What the text and meta conversations share: the commands meta has no
// form of (flush_all, version, stats, the authfile login) are text
// commands on both, and both judge error replies alike. Every error line
// closes the connection (a set refused with CLIENT_ERROR leaves its data
// unread by the server, which would read it as a command).

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../protocol/reply.hpp"
#include "../protocol/text.hpp"
#include "connection.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

template <class Wire>
struct AsciiConversation {
  using Reply = protocol::ServerReply;
  using Deadline = net::Deadline;
  using TimePoint = net::Clock::time_point;

  /// The error for a reply the request cannot take: an error line (its
  /// kind and text), or a reply of the wrong kind. Either way the
  /// connection is closed.
  CACHEKIT_COLD_NOINLINE static Error refuse(Connection& c, const Reply& r, const char* op) {
    if (protocol::is_error(r)) return c.fail_with(protocol::reply_error(r));
    return c.fail_with(protocol::unexpected_reply_error(r, op));
  }

  /// Sends the head in the connection's head buffer (n bytes) and reads one reply into r.
  static Result<void> ask(Connection& c, std::size_t n, Reply& r, Deadline d, TimePoint now) {
    auto sent = c.send_head(c.head(), n, d);
    if (!sent) return sent;
    return c.read_reply<Wire>(r, d, now);
  }

  static Result<void> flush_all(Connection& c, std::uint32_t exp, Deadline d) {
    Reply r;
    auto ok = ask(c, protocol::text::encode_flush_all(c.head(), exp), r, d, net::Clock::now());
    if (!ok) return ok;
    if (r.kind != protocol::ReplyKind::ok) return refuse(c, r, "flush_all");
    c.reply_done();
    return {};
  }

  static Result<std::string> version(Connection& c, Deadline d) {
    Reply r;
    auto ok = ask(c, protocol::text::encode_version(c.head()), r, d, net::Clock::now());
    if (!ok) return std::move(ok).error();
    if (r.kind != protocol::ReplyKind::version) return refuse(c, r, "version");
    std::string v(r.text);
    c.reply_done();
    return v;
  }

  static Result<void> stats(Connection& c, std::string_view group, Deadline d,
                            std::vector<std::pair<std::string, std::string>>& kv) {
    if (group.size() + 300 > Connection::head_room()) return Error(ErrorKind::permanent, "stats group name too long");
    auto sent = c.send_head(c.head(), protocol::text::encode_stats(c.head(), group), d);
    if (!sent) return sent;
    for (;;) {
      Reply r;
      auto got = c.read_reply<Wire>(r, d, net::Clock::now());
      if (!got) return got;
      if (r.kind == protocol::ReplyKind::end) {
        c.reply_done();
        return {};
      }
      if (r.kind != protocol::ReplyKind::stat) return refuse(c, r, "stats");
      kv.emplace_back(std::string(r.text), std::string(r.value));
      c.reply_done();
    }
  }

  /// memcached's authfile login (-Y FILE), alone as the first exchange on
  /// a new connection.
  static Result<void> login(Connection& c, std::string_view user, std::string_view password, Deadline d,
                            const std::string& server_name) {
    protocol::text::encode_login(c.out(), user, password);
    auto sent = c.flush(d);
    c.scrub_out();  // the request buffer held the password
    if (!sent) return sent;
    Reply r;
    auto got = c.read_reply<Wire>(r, d, net::Clock::now());
    if (!got) {
      const Error& e = got.error();
      if (e.kind() == ErrorKind::timeout) return got;
      // A SASL server (-S) speaks only binary: it closes on a text command.
      return Error(ErrorKind::authentication,
                   "server " + server_name + " did not accept the authfile login of the " + Wire::name +
                       " protocol (" + e.message() +
                       "); a server started with -S (SASL) speaks only the binary protocol: set protocol = binary");
    }
    if (r.kind == protocol::ReplyKind::stored) {
      c.reply_done();
      return {};
    }
    if (r.kind == protocol::ReplyKind::client_error) {
      std::string m = "authfile login refused by " + server_name + ": ";
      protocol::detail::append_printable(m, r.text);
      c.mark_broken();
      return Error(ErrorKind::authentication, std::move(m));
    }
    return refuse(c, r, "login");
  }
};

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
