#pragma once
// The protocol-neutral reply: what a text or meta reply decoder produces,
// whatever the wire. Views point into the bytes that were decoded (valid
// while they are). Also the decode status every wire shares, the mapping of
// error replies to ErrorKind, and which replies leave a connection unusable.
// Pure: no I/O.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace protocol {

/// What a reply says, whatever the wire.
enum class ReplyKind : std::uint8_t {
  value,         ///< a value: text `VALUE`, meta `VA`; value() holds the data
  miss,          ///< meta `EN`
  ok,            ///< meta `HD`; text `OK` (flush_all); meta `OK` (the dialect before 1.6.10)
  stored,        ///< text `STORED`
  not_stored,    ///< text `NOT_STORED`, meta `NS`
  exists,        ///< text `EXISTS`, meta `EX` (CAS mismatch)
  not_found,     ///< text `NOT_FOUND`, meta `NF`
  deleted,       ///< text `DELETED`
  touched,       ///< text `TOUCHED`
  number,        ///< text incr/decr result, in ServerReply::number
  end,           ///< end of a batch: text `END`, meta `MN`
  version,       ///< `VERSION <text>`
  stat,          ///< `STAT <name> <value>`: name in text, value in value
  debug,         ///< meta `ME <key> <name>=<value>*`: the rest of the line in text
  error,         ///< `ERROR`: the server does not know the command
  client_error,  ///< `CLIENT_ERROR <text>`
  server_error,  ///< `SERVER_ERROR <text>`
};

/// Name of a ReplyKind, for messages.
inline const char* to_string(ReplyKind k) noexcept {
  switch (k) {
    case ReplyKind::value: return "value";
    case ReplyKind::miss: return "miss";
    case ReplyKind::ok: return "ok";
    case ReplyKind::stored: return "stored";
    case ReplyKind::not_stored: return "not stored";
    case ReplyKind::exists: return "exists";
    case ReplyKind::not_found: return "not found";
    case ReplyKind::deleted: return "deleted";
    case ReplyKind::touched: return "touched";
    case ReplyKind::number: return "number";
    case ReplyKind::end: return "end";
    case ReplyKind::version: return "version";
    case ReplyKind::stat: return "stat";
    case ReplyKind::debug: return "debug";
    case ReplyKind::error: return "ERROR";
    case ReplyKind::client_error: return "CLIENT_ERROR";
    case ReplyKind::server_error: return "SERVER_ERROR";
  }
  return "unknown";
}

/// Optional parts a reply carried (bits of ServerReply::fields).
enum class Field : std::uint32_t {
  flags = 1u << 0,         ///< client flags (text VALUE, meta `f`)
  cas = 1u << 1,           ///< CAS unique (text gets, meta `c`)
  ttl = 1u << 2,           ///< meta `t`: seconds left, -1 = never expires
  size = 1u << 3,          ///< meta `s`: item size
  key = 1u << 4,           ///< the key (text VALUE, meta `k`)
  opaque = 1u << 5,        ///< meta `O`
  won = 1u << 6,           ///< meta `W`: this client won the right to recache
  stale = 1u << 7,         ///< meta `X`: the item is stale
  winner_sent = 1u << 8,   ///< meta `Z`: another client already won
  base64_key = 1u << 9,    ///< meta `b`: the returned key is base64
  hit_before = 1u << 10,   ///< meta `h` (value in ServerReply::hit_before)
  last_access = 1u << 11,  ///< meta `l` (seconds in ServerReply::last_access)
  legacy = 1u << 12,       ///< meta `OK`: the server speaks the dialect before 1.6.10
  trailing_space = 1u << 13,  ///< the line ended in a space (meta before 1.6.18)
};

/// One decoded reply. Views point into the decoded bytes.
struct ServerReply {
  ReplyKind kind = ReplyKind::end;
  std::uint32_t fields = 0;  ///< Field bits
  std::uint32_t flags = 0;
  std::uint32_t last_access = 0;
  std::uint64_t cas = 0;
  std::uint64_t number = 0;  ///< text incr/decr result
  std::uint64_t size = 0;    ///< meta `s`
  std::int64_t ttl = 0;      ///< meta `t`
  bool hit_before = false;   ///< meta `h`
  std::string_view value;    ///< data of a value reply; STAT value
  std::string_view key;      ///< text VALUE key, meta `k`
  std::string_view opaque;   ///< meta `O` token
  std::string_view text;     ///< VERSION text, STAT name, error message, ME line

  bool has(Field f) const noexcept { return (fields & static_cast<std::uint32_t>(f)) != 0; }
  void set(Field f) noexcept { fields |= static_cast<std::uint32_t>(f); }
  /// Back to the default state, member by member (cheaper than assigning a
  /// fresh object, and stores a decoder then overwrites are dropped).
  void clear() noexcept {
    kind = ReplyKind::end;
    fields = 0;
    flags = 0;
    last_access = 0;
    cas = 0;
    number = 0;
    size = 0;
    ttl = 0;
    hit_before = false;
    value = {};
    key = {};
    opaque = {};
    text = {};
  }
  bool won() const noexcept { return has(Field::won); }
  bool stale() const noexcept { return has(Field::stale); }
  bool winner_sent() const noexcept { return has(Field::winner_sent); }
};

/// Outcome of decoding the bytes at the start of a buffer.
enum class DecodeStatus : std::uint8_t {
  need_more,  ///< a prefix of a reply: read more bytes and decode again
  complete,   ///< a whole reply; Decoded::size bytes consumed
  malformed,  ///< not a reply: the stream cannot be trusted, close the connection
};

/// Result of a decode call.
struct Decoded {
  DecodeStatus status = DecodeStatus::need_more;
  /// complete: bytes the reply took. need_more: total bytes the reply needs
  /// at least (more than were given; exact once a value's length is known).
  std::size_t size = 0;
  const char* why = nullptr;  ///< malformed: the cause (a static string)

  static Decoded need(std::size_t at_least) noexcept { return {DecodeStatus::need_more, at_least, nullptr}; }
  static Decoded done(std::size_t n) noexcept { return {DecodeStatus::complete, n, nullptr}; }
  static Decoded bad(const char* why) noexcept { return {DecodeStatus::malformed, 0, why}; }
  bool complete() const noexcept { return status == DecodeStatus::complete; }
  bool malformed() const noexcept { return status == DecodeStatus::malformed; }
  bool need_more() const noexcept { return status == DecodeStatus::need_more; }
};

/// Longest reply line (without a value's data) decoders accept by default.
inline constexpr std::size_t kMaxReplyLine = 8192;

/// Bounds a decoder enforces: anything beyond is malformed, never an allocation.
struct Limits {
  std::size_t max_value = CACHEKIT_MAX_RESPONSE_BODY;  ///< largest value (memcached's item size limit)
  std::size_t max_line = kMaxReplyLine;                ///< longest reply line
};

/// Whether the reply is an error line (ERROR, CLIENT_ERROR, SERVER_ERROR).
inline bool is_error(const ServerReply& r) noexcept {
  return r.kind == ReplyKind::error || r.kind == ReplyKind::client_error || r.kind == ReplyKind::server_error;
}

/// Whether the connection must be closed after this reply. Every error
/// line qualifies: after a refused storage command the server may not have
/// read the data block (a `set` refused with CLIENT_ERROR leaves it unread,
/// and the server then parses it as a command), `ERROR` to a meta command
/// means the server does not speak the protocol, and the server itself may
/// close after SERVER_ERROR. A malformed reply (DecodeStatus::malformed)
/// always closes the connection too.
inline bool must_close(const ServerReply& r) noexcept { return is_error(r); }

namespace detail {
inline bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}
/// Appends at most 120 bytes of s to out, non-printable bytes as '?'.
inline void append_printable(std::string& out, std::string_view s) {
  const std::size_t n = s.size() < 120 ? s.size() : 120;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (n < s.size()) out += "...";
}
}  // namespace detail

/// How a caller should treat an error reply.
/// - ERROR: permanent (the server does not know the command: wrong protocol
///   or an old server);
/// - CLIENT_ERROR: authentication when it names authentication, else permanent;
/// - SERVER_ERROR: permanent for "object too large for cache", else transient
///   (out of memory, busy, a proxy's backend down).
inline ErrorKind error_kind(const ServerReply& r) noexcept {
  switch (r.kind) {
    case ReplyKind::error: return ErrorKind::permanent;
    case ReplyKind::client_error:
      if (detail::starts_with(r.text, "unauthenticated") || detail::starts_with(r.text, "authentication")) {
        return ErrorKind::authentication;
      }
      return ErrorKind::permanent;
    case ReplyKind::server_error:
      if (detail::starts_with(r.text, "object too large")) return ErrorKind::permanent;
      return ErrorKind::transient;
    default: return ErrorKind::unknown;
  }
}

/// Error for an error reply: its kind and the server's words.
inline Error reply_error(const ServerReply& r) {
  std::string msg = "server replied ";
  msg += to_string(r.kind);
  if (!r.text.empty()) {
    msg += ' ';
    detail::append_printable(msg, r.text);
  }
  if (r.kind == ReplyKind::error) msg += " (unknown command: the server does not speak this protocol or command)";
  return Error(error_kind(r), std::move(msg));
}

/// Error for a reply the request did not expect (the connection must be closed).
inline Error unexpected_reply_error(const ServerReply& r, const char* operation) {
  std::string msg = "unexpected reply to ";
  msg += operation;
  msg += ": ";
  msg += to_string(r.kind);
  return Error(ErrorKind::unknown, std::move(msg));
}

/// Error for a malformed reply: the cause and the first bytes that were
/// decoded (non-printable bytes shown as '?').
inline Error malformed_error(const Decoded& d, const char* data, std::size_t n) {
  std::string msg = "protocol error: ";
  msg += d.why != nullptr ? d.why : "malformed reply";
  msg += " (reply starts \"";
  detail::append_printable(msg, std::string_view(data, n < 60 ? n : 60));
  msg += "\")";
  return Error(ErrorKind::unknown, std::move(msg));
}

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
