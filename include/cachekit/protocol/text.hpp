#pragma once
// memcached's classic text protocol: request encoders writing into a
// caller's buffer, and a reply decoder that reads one reply (one line, or a
// VALUE line and its data) from the start of a buffer. Values are read by
// the length their line announces, never by looking for "\r\n" (values may
// hold it). TextWire packs both for a backend templated over its wire.
// Pure: no I/O, no allocation.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ascii.hpp"
#include "reply.hpp"
#include "wire.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace text {

/// The four retrieval commands.
enum class Retrieval : std::uint8_t { get, gets, gat, gats };

/// Longest `get`/`gets` line encode_get_many writes before it starts
/// another command (memcached takes longer ones; proxies and hosted
/// services cap them, e.g. 16 KB).
inline constexpr std::size_t kMaxGetLine = 8192;
/// Longest `gat`/`gats` line: memcached closes a connection whose command
/// line passes 2048 bytes (1024 in its proxy) unless it starts "get " or "gets ".
inline constexpr std::size_t kMaxTouchLine = 1024;

namespace detail {
inline std::string_view retrieval_name(Retrieval cmd) noexcept {
  switch (cmd) {
    case Retrieval::gets: return "gets";
    case Retrieval::gat: return "gat";
    case Retrieval::gats: return "gats";
    case Retrieval::get: break;
  }
  return "get";
}
inline std::string_view store_name(StoreMode mode) noexcept {
  switch (mode) {
    case StoreMode::add: return "add";
    case StoreMode::replace: return "replace";
    case StoreMode::append: return "append";
    case StoreMode::prepend: return "prepend";
    case StoreMode::cas: return "cas";
    case StoreMode::set: break;
  }
  return "set";
}
/// "<name>" or "<name> <exptime>" at p.
inline char* retrieval_prefix(char* p, Retrieval cmd, std::int64_t exptime) noexcept {
  p = ascii::write(p, retrieval_name(cmd));
  if (cmd == Retrieval::gat || cmd == Retrieval::gats) {
    *p++ = ' ';
    p = ascii::write_i64(p, exptime);
  }
  return p;
}
inline char* end_line(char* p, bool noreply) noexcept {
  if (noreply) p = ascii::write(p, " noreply");
  *p++ = '\r';
  *p++ = '\n';
  return p;
}
inline std::size_t length(const char* begin, const char* end) noexcept {
  return static_cast<std::size_t>(end - begin);
}
}  // namespace detail

/// Room a command head needs for a key (or stats group) of key_size bytes.
inline constexpr std::size_t head_bound(std::size_t key_size) noexcept { return key_size + kHeadSlack; }

/// `get|gets <key>\r\n` or `gat|gats <exptime> <key>\r\n`.
inline std::size_t encode_get(char* dst, Retrieval cmd, std::string_view key, std::int64_t exptime = 0) noexcept {
  if (cmd == Retrieval::get) {  // the common case, with a few word moves (dst has head_bound's slack)
    std::memcpy(dst, "get ", 4);
    protocol::detail::copy_bytes(dst + 4, key.data(), key.size());
    std::memcpy(dst + 4 + key.size(), "\r\n", 2);
    return 4 + key.size() + 2;
  }
  char* p = detail::retrieval_prefix(dst, cmd, exptime);
  *p++ = ' ';
  p = ascii::write(p, key);
  return detail::length(dst, detail::end_line(p, false));
}

/// Reads n keys (key_at(i) -> string_view) with as few commands as fit
/// max_line bytes each (gat/gats at most kMaxTouchLine); each command ends
/// with its own END reply. Returns the number of commands written.
template <class Out, class KeyAt>
inline std::size_t encode_get_many(Out& out, Retrieval cmd, std::size_t n, KeyAt&& key_at, std::int64_t exptime = 0,
                                   std::size_t max_line = kMaxGetLine);

/// Room encode_get_many_run needs for n keys of key_bytes bytes in all,
/// for a command whose prefix ("get", "gats 60", ...) has prefix_size
/// bytes (at most 25: "gats " and a 20-byte exptime).
inline constexpr std::size_t get_many_bound(std::size_t n, std::size_t key_bytes, std::size_t prefix_size = 25) noexcept {
  return key_bytes + n * (1 + prefix_size + 2);  // each key may open a line of its own
}

/// encode_get_many's bytes written straight into dst (get_many_bound bytes
/// for the keys, of key_bytes bytes in all): the same lines, without a
/// capacity check per key, nor a line check when all fit on one.
/// Returns the bytes written; commands is set to the number of commands.
template <class KeyAt>
inline std::size_t encode_get_many_run(char* dst, std::size_t& commands, Retrieval cmd, std::size_t n, KeyAt&& key_at,
                                       std::size_t key_bytes, std::int64_t exptime = 0,
                                       std::size_t max_line = kMaxGetLine) {
  if ((cmd == Retrieval::gat || cmd == Retrieval::gats) && max_line > kMaxTouchLine) max_line = kMaxTouchLine;
  char prefix[32];
  const std::size_t prefix_size = detail::length(prefix, detail::retrieval_prefix(prefix, cmd, exptime));
  char* w = dst;
  if (n != 0 && prefix_size + n + key_bytes + 2 <= max_line) {  // one line
    std::memcpy(w, prefix, prefix_size);
    w += prefix_size;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view key = key_at(i);
      *w = ' ';
      protocol::detail::copy_bytes(w + 1, key.data(), key.size());
      w += 1 + key.size();
    }
    std::memcpy(w, "\r\n", 2);
    commands = 1;
    return static_cast<std::size_t>(w + 2 - dst);
  }
  commands = 0;
  std::size_t line = 0;  // bytes of the open command line, 0 when none is open
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view key = key_at(i);
    if (line != 0 && line + 1 + key.size() + 2 > max_line) {
      std::memcpy(w, "\r\n", 2);
      w += 2;
      line = 0;
    }
    if (line == 0) {
      std::memcpy(w, prefix, prefix_size);
      w += prefix_size;
      line = prefix_size;
      ++commands;
    }
    *w = ' ';
    protocol::detail::copy_bytes(w + 1, key.data(), key.size());
    w += 1 + key.size();
    line += 1 + key.size();
  }
  if (line != 0) {
    std::memcpy(w, "\r\n", 2);
    w += 2;
  }
  return static_cast<std::size_t>(w - dst);
}

template <class Out, class KeyAt>
inline std::size_t encode_get_many(Out& out, Retrieval cmd, std::size_t n, KeyAt&& key_at, std::int64_t exptime,
                                   std::size_t max_line) {
  std::size_t key_bytes = 0;
  for (std::size_t i = 0; i < n; ++i) key_bytes += key_at(i).size();
  std::size_t commands = 0;
  protocol::detail::append_head(out, get_many_bound(n, key_bytes), [&](char* dst) {
    return encode_get_many_run(dst, commands, cmd, n, key_at, key_bytes, exptime, max_line);
  });
  return commands;
}

/// `set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]\r\n`,
/// or `cas ... <bytes> <cas> [noreply]\r\n`; the data and "\r\n" follow.
inline std::size_t encode_store_head(char* dst, StoreMode mode, std::string_view key, std::uint32_t flags,
                                     std::int64_t exptime, std::size_t bytes, std::uint64_t cas = 0,
                                     bool noreply = false) noexcept {
  char* p = ascii::write(dst, detail::store_name(mode));
  *p++ = ' ';
  p = ascii::write(p, key);
  *p++ = ' ';
  p = ascii::write_u64(p, flags);
  *p++ = ' ';
  p = ascii::write_i64(p, exptime);
  *p++ = ' ';
  p = ascii::write_u64(p, bytes);
  if (mode == StoreMode::cas) {
    *p++ = ' ';
    p = ascii::write_u64(p, cas);
  }
  return detail::length(dst, detail::end_line(p, noreply));
}

/// A whole storage command: head, data, "\r\n".
template <class Out>
inline void encode_store(Out& out, StoreMode mode, std::string_view key, std::string_view value, std::uint32_t flags,
                         std::int64_t exptime, std::uint64_t cas = 0, bool noreply = false) {
  protocol::detail::append_head(out, head_bound(key.size()), [&](char* dst) {
    return encode_store_head(dst, mode, key, flags, exptime, value.size(), cas, noreply);
  });
  out.append(value.data(), value.size());
  out.append(kDataEnd.data(), kDataEnd.size());
}

/// `delete <key> [noreply]\r\n`.
inline std::size_t encode_delete(char* dst, std::string_view key, bool noreply = false) noexcept {
  char* p = ascii::write(dst, "delete ");
  p = ascii::write(p, key);
  return detail::length(dst, detail::end_line(p, noreply));
}

/// `incr|decr <key> <delta> [noreply]\r\n`.
inline std::size_t encode_arith(char* dst, bool decrement, std::string_view key, std::uint64_t delta,
                                bool noreply = false) noexcept {
  char* p = ascii::write(dst, decrement ? "decr " : "incr ");
  p = ascii::write(p, key);
  *p++ = ' ';
  p = ascii::write_u64(p, delta);
  return detail::length(dst, detail::end_line(p, noreply));
}

/// `touch <key> <exptime> [noreply]\r\n`.
inline std::size_t encode_touch(char* dst, std::string_view key, std::int64_t exptime, bool noreply = false) noexcept {
  char* p = ascii::write(dst, "touch ");
  p = ascii::write(p, key);
  *p++ = ' ';
  p = ascii::write_i64(p, exptime);
  return detail::length(dst, detail::end_line(p, noreply));
}

/// `flush_all\r\n`, or `flush_all <delay>\r\n` when delay > 0.
inline std::size_t encode_flush_all(char* dst, std::int64_t delay = 0) noexcept {
  char* p = ascii::write(dst, "flush_all");
  if (delay > 0) {
    *p++ = ' ';
    p = ascii::write_i64(p, delay);
  }
  return detail::length(dst, detail::end_line(p, false));
}

/// `version\r\n`.
inline std::size_t encode_version(char* dst) noexcept { return detail::length(dst, ascii::write(dst, "version\r\n")); }

/// `stats\r\n`, or `stats <group>\r\n` (dst has head_bound(group.size()) bytes).
inline std::size_t encode_stats(char* dst, std::string_view group = {}) noexcept {
  char* p = ascii::write(dst, "stats");
  if (!group.empty()) {
    *p++ = ' ';
    p = ascii::write(p, group);
  }
  return detail::length(dst, detail::end_line(p, false));
}

/// The authfile login (`memcached -Y`): a `set` whose data is
/// "<user> <password>", sent alone on a new connection; STORED means logged in.
/// Its exptime is -1, so that a server without an authfile, which stores
/// it as an ordinary item, drops it at once.
template <class Out>
inline void encode_login(Out& out, std::string_view user, std::string_view password) {
  char head[64];
  const std::size_t n =
      encode_store_head(head, StoreMode::set, "cachekit:login", 0, -1, user.size() + 1 + password.size());
  out.append(head, n);
  out.append(user.data(), user.size());
  out.append(" ", 1);
  out.append(password.data(), password.size());
  out.append(kDataEnd.data(), kDataEnd.size());
}

namespace detail {
inline bool is(std::string_view line, std::string_view word) noexcept { return line == word; }

/// `VALUE <key> <flags> <bytes> [<cas>]` (line without "VALUE ") and its data.
inline Decoded decode_value(const char* data, std::size_t n, std::string_view line, std::string_view rest, ServerReply& r,
                            const Limits& lim) noexcept {
  r.kind = ReplyKind::value;
  r.key = ascii::next_token(rest);
  const std::string_view flags = ascii::next_token(rest);
  const std::string_view bytes = ascii::next_token(rest);
  const std::string_view cas = ascii::next_token(rest);
  if (r.key.empty() || bytes.empty()) return Decoded::bad("VALUE line with too few fields");
  if (!ascii::next_token(rest).empty()) return Decoded::bad("VALUE line with too many fields");
  if (!ascii::parse_u32(flags, r.flags)) return Decoded::bad("VALUE flags not a 32-bit number");
  std::uint64_t size = 0;
  if (!ascii::parse_u64(bytes, size)) return Decoded::bad("VALUE length not a number");
  if (!cas.empty()) {
    if (!ascii::parse_u64(cas, r.cas)) return Decoded::bad("VALUE cas not a 64-bit number");
    r.set(Field::cas);
  }
  r.fields |= static_cast<std::uint32_t>(Field::key) | static_cast<std::uint32_t>(Field::flags);
  Decoded d;
  ascii::take_data(data, n, line.size(), size, lim, r.value, d);
  return d;
}
/// The common hit, `VALUE <key> <flags> <bytes> [<cas>]` (the line of
/// line bytes at data, already found) with single spaces and numbers of at
/// most 19 digits, and its data, all among the n bytes, decoded in one
/// pass. false for anything else (the full decoder then judges it); when
/// true, r and d are what it would give.
CACHEKIT_HOT_INLINE bool decode_value_fast(const char* data, std::size_t n, std::size_t line, ServerReply& r,
                                           const Limits& lim, Decoded& d) noexcept {
  const char* const key = data + 6;  // after "VALUE "
  const char* p = ascii::scan_token(key, data + line + 1);
  if (p == key || *p != ' ') return false;
  const std::size_t key_size = static_cast<std::size_t>(p - key);
  std::uint64_t flags = 0, size = 0, cas = 0;
  p = ascii::scan_digits(p + 1, flags);
  if (p == nullptr || flags > UINT32_MAX || *p != ' ') return false;
  p = ascii::scan_digits(p + 1, size);
  if (p == nullptr) return false;
  const bool has_cas = *p == ' ';
  if (has_cas && (p = ascii::scan_digits(p + 1, cas)) == nullptr) return false;
  if (p != data + line || size > lim.max_value) return false;
  const std::size_t start = line + 2;
  if (size > n - start || n - start - static_cast<std::size_t>(size) < 2) return false;
  const std::size_t total = start + static_cast<std::size_t>(size) + 2;
  if (data[total - 2] != '\r' || data[total - 1] != '\n') return false;
  r.clear();
  r.kind = ReplyKind::value;
  r.fields = static_cast<std::uint32_t>(Field::key) | static_cast<std::uint32_t>(Field::flags) |
             (has_cas ? static_cast<std::uint32_t>(Field::cas) : 0u);
  r.flags = static_cast<std::uint32_t>(flags);
  r.cas = cas;
  r.key = std::string_view(key, key_size);
  r.value = std::string_view(data + start, static_cast<std::size_t>(size));
  d = Decoded::done(total);
  return true;
}
}  // namespace detail

namespace detail {
/// The full decoder, for the line (found at data) of any reply: every form,
/// every check. decode() tries the common hit in one pass first.
CACHEKIT_COLD_NOINLINE Decoded decode_line(const char* data, std::size_t n, std::string_view line, ServerReply& r,
                                           const Limits& lim) noexcept {
  r.clear();
  const std::size_t whole = line.size() + 2;
  if (line.size() > 6 && protocol::detail::starts_with(line.data(), "VALUE ")) {
    return detail::decode_value(data, n, line, line.substr(6), r, lim);
  }
  while (!line.empty() && line.back() == ' ') {
    line.remove_suffix(1);
    r.set(Field::trailing_space);
  }
  if (line.empty()) return Decoded::bad("empty reply line");
  const auto kind = [&](ReplyKind k) {
    r.kind = k;
    return Decoded::done(whole);
  };
  switch (line[0]) {
    case 'E':
      if (detail::is(line, "END")) return kind(ReplyKind::end);
      if (detail::is(line, "EXISTS")) return kind(ReplyKind::exists);
      break;
    case 'S':
      if (detail::is(line, "STORED")) return kind(ReplyKind::stored);
      if (line.size() > 5 && line.compare(0, 5, "STAT ") == 0) {
        std::string_view rest = line.substr(5);
        r.text = ascii::next_token(rest);
        if (r.text.empty()) return Decoded::bad("STAT line without a name");
        if (!rest.empty()) rest.remove_prefix(1);
        r.value = rest;
        return kind(ReplyKind::stat);
      }
      break;
    case 'N':
      if (detail::is(line, "NOT_STORED")) return kind(ReplyKind::not_stored);
      if (detail::is(line, "NOT_FOUND")) return kind(ReplyKind::not_found);
      break;
    case 'D':
      if (detail::is(line, "DELETED")) return kind(ReplyKind::deleted);
      break;
    case 'T':
      if (detail::is(line, "TOUCHED")) return kind(ReplyKind::touched);
      break;
    case 'O':
      if (detail::is(line, "OK")) return kind(ReplyKind::ok);
      break;
    case 'V':
      if (line.size() > 8 && line.compare(0, 8, "VERSION ") == 0) {
        r.text = line.substr(8);
        return kind(ReplyKind::version);
      }
      break;
    default:
      if (line[0] >= '0' && line[0] <= '9') {
        if (!ascii::parse_u64(line, r.number)) return Decoded::bad("number reply not a 64-bit number");
        return kind(ReplyKind::number);
      }
      break;
  }
  if (ascii::decode_error_line(line, r)) return Decoded::done(whole);
  if (line.size() >= 5 && line.compare(0, 5, "VALUE") == 0) return Decoded::bad("VALUE line with too few fields");
  return Decoded::bad("unknown text reply line");
}
}  // namespace detail

/// Decodes the reply at the start of data (n bytes) into r: a VALUE line
/// and its data, or one line. need_more for any proper prefix of a reply.
inline Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
  Decoded d;
  std::string_view line;
  if (!ascii::take_line(data, n, lim, line, d)) return d;
  // The replies of a get first.
  if (line.size() > 6 && protocol::detail::starts_with(data, "VALUE ") &&
      detail::decode_value_fast(data, n, line.size(), r, lim, d)) {
    return d;
  }
  if (line.size() == 3 && protocol::detail::starts_with(data, "END")) {
    r.clear();
    r.kind = ReplyKind::end;
    return Decoded::done(5);
  }
  return detail::decode_line(data, n, line, r, lim);
}

namespace detail {
/// Whether data starts with `VALUE <key> `, of which the caller knows that
/// key.size() + 7 bytes can be read.
CACHEKIT_HOT_INLINE bool names_key(const char* data, std::string_view key) noexcept {
  return protocol::detail::starts_with(data, "VALUE ") &&
         protocol::detail::same_bytes(data + 6, key.data(), key.size()) && data[6 + key.size()] == ' ';
}
/// Whether the n bytes at data start with `VALUE <key> ` and hold at least
/// key.size() + least bytes in all (the shortest reply the caller reads).
CACHEKIT_HOT_INLINE bool names_key(const char* data, std::size_t n, std::string_view key, std::size_t least) noexcept {
  return n >= key.size() + least && names_key(data, key);
}
}  // namespace detail

namespace detail {
/// The end of a hit whose header (flags f, size) ends with the "\r\n" at
/// p: its data and the "\r\n" after it (with kEnd `\r\nEND\r\n`, in one
/// comparison) must lie among the n bytes at data. Returns the bytes of it
/// all, or 0.
template <bool kEnd>
CACHEKIT_HOT_INLINE std::size_t value_after_head(const char* data, std::size_t n, const char* p, std::uint64_t f,
                                                 std::uint64_t size, std::uint32_t& flags,
                                                 std::string_view& value) noexcept {
  const std::size_t head = static_cast<std::size_t>(p + 2 - data);
  if constexpr (kEnd) {
    if (n - head < size + 7 || !protocol::detail::starts_with(data + head + size, "\r\nEND\r\n")) return 0;
  } else {
    if (n - head < size + 2 || !protocol::detail::starts_with(data + head + size, "\r\n")) return 0;
  }
  flags = static_cast<std::uint32_t>(f);
  value = std::string_view(data + head, static_cast<std::size_t>(size));
  return head + static_cast<std::size_t>(size) + (kEnd ? 7 : 2);
}
}  // namespace detail

/// decode_value_rest when n >= key_size + 32. Flags and sizes of up to
/// seven digits are read with no bound checked: every byte read lies in the
/// 17 after `VALUE <key> ` (flags digits, a space by the 8th, size digits
/// from the 9th at most, "\r\n" by the 17th). A longer number gives 0, and
/// the full decoder judges the reply.
template <bool kEnd = false>
CACHEKIT_HOT_INLINE std::size_t decode_value_wide(const char* data, std::size_t key_size, std::size_t max_value,
                                                  std::size_t n, std::uint32_t& flags,
                                                  std::string_view& value) noexcept {
  std::uint64_t f = 0, size = 0;
  const char* p;
  if (protocol::detail::starts_with(data + 7 + key_size, "0 ")) {  // flags 0, the common case, in one comparison
    p = data + 8 + key_size;
  } else {
    p = ascii::scan_short_digits(data + 7 + key_size, f);
    if (p == nullptr || *p != ' ') return 0;
  }
  p = ascii::scan_short_digits(p + 1, size);
  if (p == nullptr || !protocol::detail::starts_with(p, "\r\n") || size > max_value) return 0;
  return detail::value_after_head<kEnd>(data, n, p, f, size, flags, value);
}

/// decode_value_hit after its `VALUE <key> ` (key_size bytes of key) has
/// been matched by the caller, who checked that n >= key_size + 13. With
/// kEnd, the data must be followed by `END\r\n` too, which is then taken.
template <bool kEnd = false>
CACHEKIT_HOT_INLINE std::size_t decode_value_rest(const char* data, std::size_t n, std::size_t key_size,
                                                  std::size_t max_value, std::uint32_t& flags,
                                                  std::string_view& value) noexcept {
  if (n - key_size >= 32) return decode_value_wide<kEnd>(data, key_size, max_value, n, flags, value);
  std::uint64_t f = 0, size = 0;
  const char* end = data + n;
  const char* p = ascii::scan_digits_before(data + 7 + key_size, end, f);
  if (p == nullptr || *p != ' ' || f > UINT32_MAX) return 0;
  p = ascii::scan_digits_before(p + 1, end, size);
  if (p == nullptr || end - p < 2 || p[0] != '\r' || p[1] != '\n' || size > max_value) return 0;
  return detail::value_after_head<kEnd>(data, n, p, f, size, flags, value);
}

/// A hit `VALUE <key> <flags> <bytes>\r\n<data>\r\n` for exactly key, whole
/// among the n bytes (single spaces, numbers of at most 19 digits);
/// returns the bytes it took, or 0 for anything else (another key, or any
/// other form: the full decoder judges it).
CACHEKIT_HOT_INLINE std::size_t decode_value_hit(const char* data, std::size_t n, std::size_t max_value,
                                                 std::string_view key, std::uint32_t& flags,
                                                 std::string_view& value) noexcept {
  if (!detail::names_key(data, n, key, 13)) return 0;
  return decode_value_rest(data, n, key.size(), max_value, flags, value);
}

/// The whole reply to a one-key get that hit: decode_value_hit's hit
/// followed by `END\r\n`; returns the bytes of both, or 0 for anything
/// else (a miss's lone END among it: see starts_with_end).
CACHEKIT_HOT_INLINE std::size_t decode_get_hit(const char* data, std::size_t n, std::size_t max_value,
                                               std::string_view key, std::uint32_t& flags,
                                               std::string_view& value) noexcept {
  if (!detail::names_key(data, n, key, 18)) return 0;
  return decode_value_rest<true>(data, n, key.size(), max_value, flags, value);
}

/// Whether the n bytes at data start with `END\r\n`.
CACHEKIT_HOT_INLINE bool starts_with_end(const char* data, std::size_t n) noexcept {
  return n >= 5 && protocol::detail::starts_with(data, "END\r\n");
}

}  // namespace text

/// memcached's classic text protocol as a wire (see wire.hpp).
struct TextWire {
  static constexpr const char* name = "text";
  using Reply = ServerReply;
  static constexpr bool has_quiet_get = false;       ///< no quiet read; a miss has no reply line anyway
  static constexpr bool has_quiet_store = false;     ///< only noreply, which hides failures too
  static constexpr bool has_opaque = false;          ///< replies are matched by order (and a VALUE's key)
  static constexpr bool has_cas = true;              ///< gets, cas
  static constexpr bool has_lease = false;           ///< no vivify-on-miss, recache, stale (W/X/Z)
  static constexpr bool has_noop = false;            ///< batches end with END per get command
  static constexpr bool has_multi_key_get = true;    ///< get k1 k2 ...
  static constexpr bool has_counter_create = false;  ///< incr on a missing key is NOT_FOUND
  static constexpr bool has_counter_ttl = false;

  static constexpr std::size_t head_bound(std::size_t key_size) noexcept { return text::head_bound(key_size); }

  /// get, gets, gat or gats of one key (opaque, quiet and return_key do not apply).
  static std::size_t encode_get(char* dst, const GetRequest& r) noexcept {
    const text::Retrieval cmd = r.touch ? (r.cas ? text::Retrieval::gats : text::Retrieval::gat)
                                        : (r.cas ? text::Retrieval::gets : text::Retrieval::get);
    return text::encode_get(dst, cmd, r.key, r.exptime);
  }
  /// A storage command head; quiet means noreply.
  static std::size_t encode_store_head(char* dst, const StoreRequest& r) noexcept {
    return text::encode_store_head(dst, r.mode, r.key, r.flags, r.exptime, r.value_size, r.cas, r.quiet);
  }
  static std::size_t encode_delete(char* dst, std::string_view key, std::uint32_t /*opaque*/, bool quiet) noexcept {
    return text::encode_delete(dst, key, quiet);
  }
  /// incr/decr; create, initial and exptime do not apply (has_counter_create).
  static std::size_t encode_counter(char* dst, const CounterRequest& r) noexcept {
    return text::encode_arith(dst, r.decrement, r.key, r.delta, r.quiet);
  }
  static std::size_t encode_touch(char* dst, std::string_view key, std::int64_t exptime,
                                  std::uint32_t /*opaque*/) noexcept {
    return text::encode_touch(dst, key, exptime);
  }
  static std::size_t encode_flush_all(char* dst, std::int64_t delay) noexcept {
    return text::encode_flush_all(dst, delay);
  }
  static std::size_t encode_version(char* dst) noexcept { return text::encode_version(dst); }
  static std::size_t encode_stats(char* dst, std::string_view group) noexcept { return text::encode_stats(dst, group); }
  template <class Out>
  static void encode_login(Out& out, std::string_view user, std::string_view password) {
    text::encode_login(out, user, password);
  }
  static Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
    return text::decode(data, n, r, lim);
  }
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
