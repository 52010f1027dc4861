#pragma once
// memcached's meta protocol (1.6.10 and later): encoders for mg, ms, md, ma,
// mn and me writing into a caller's buffer, and a reply decoder for VA, HD,
// EN, NS, EX, NF, MN, ME and the error lines, with the returned flags
// parsed. Values are read by the length in `VA <size>`, never by looking for
// "\r\n". Flags are written in an order that gives the documented answers:
// modifiers (N, R, T) before `t`, so a vivified miss reports the new TTL.
// MetaWire packs both for a backend templated over its wire.
// Pure: no I/O, no allocation.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "ascii.hpp"
#include "reply.hpp"
#include "text.hpp"
#include "wire.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace meta {

/// Room a command head needs for a key of key_size bytes.
inline constexpr std::size_t head_bound(std::size_t key_size) noexcept { return key_size + kHeadSlack; }

/// mg: what to return, and how to modify the item.
struct GetOptions {
  bool value = true;         ///< v: the data (VA instead of HD)
  bool client_flags = true;  ///< f
  bool key = false;          ///< k
  bool cas = false;          ///< c
  bool ttl = false;          ///< t: seconds left (-1: never expires)
  bool size = false;         ///< s
  bool hit_before = false;   ///< h
  bool last_access = false;  ///< l
  bool no_lru_bump = false;  ///< u
  bool base64_key = false;   ///< b: the key is base64
  bool quiet = false;        ///< q: no EN on a miss
  std::optional<std::int64_t> vivify;   ///< N<ttl>: create an empty item on a miss (the caller wins, W)
  std::optional<std::int64_t> recache;  ///< R<ttl>: win the recache when fewer seconds are left
  std::optional<std::int64_t> touch;    ///< T<ttl>: update the TTL
  std::uint32_t opaque = 0;             ///< O<opaque> when non-zero
};

/// ms: how to store.
struct SetOptions {
  StoreMode mode = StoreMode::set;            ///< M (E add, R replace, A append, P prepend); cas: set with C
  std::uint32_t client_flags = 0;             ///< F (written when non-zero)
  std::optional<std::int64_t> ttl;            ///< T
  std::optional<std::uint64_t> compare_cas;   ///< C (always written for mode cas)
  bool invalidate = false;                    ///< I: with C, an older CAS marks the item stale
  std::optional<std::int64_t> vivify;         ///< N<ttl>: append/prepend to a missing item creates it
  bool return_cas = false;                    ///< c
  bool return_key = false;                    ///< k
  bool base64_key = false;                    ///< b
  bool quiet = false;                         ///< q: no HD on success
  std::uint32_t opaque = 0;                   ///< O<opaque> when non-zero
};

/// md: how to delete.
struct DeleteOptions {
  std::optional<std::uint64_t> compare_cas;  ///< C
  bool invalidate = false;                   ///< I: mark stale instead of removing
  std::optional<std::int64_t> ttl;           ///< T (with I)
  bool return_key = false;                   ///< k
  bool base64_key = false;                   ///< b
  bool quiet = false;                        ///< q: no HD on success
  std::uint32_t opaque = 0;                  ///< O<opaque> when non-zero
};

/// ma: increment or decrement.
struct ArithOptions {
  bool decrement = false;                    ///< MD (incr is the default mode)
  std::uint64_t delta = 1;                   ///< D
  std::optional<std::int64_t> vivify;        ///< N<ttl>: create on a miss...
  std::uint64_t initial = 0;                 ///< ...with J<initial>
  std::optional<std::int64_t> ttl;           ///< T: update the TTL on success
  std::optional<std::uint64_t> compare_cas;  ///< C
  bool value = true;                         ///< v: the new value (VA)
  bool return_ttl = false;                   ///< t
  bool return_cas = false;                   ///< c
  bool return_key = false;                   ///< k
  bool base64_key = false;                   ///< b
  bool quiet = false;                        ///< q: no HD on success
  std::uint32_t opaque = 0;                  ///< O<opaque> when non-zero
};

namespace detail {
inline char* flag(char* p, char f) noexcept {
  *p++ = ' ';
  *p++ = f;
  return p;
}
inline char* flag_i64(char* p, char f, std::int64_t v) noexcept { return ascii::write_i64(flag(p, f), v); }
inline char* flag_u64(char* p, char f, std::uint64_t v) noexcept { return ascii::write_u64(flag(p, f), v); }
inline char* command(char* p, std::string_view name, std::string_view key) noexcept {
  p = ascii::write(p, name);
  *p++ = ' ';
  return ascii::write(p, key);
}
/// O<opaque> and q come last; then the line end.
inline std::size_t finish(char* dst, char* p, std::uint32_t opaque, bool quiet) noexcept {
  if (opaque != 0) p = flag_u64(p, 'O', opaque);
  if (quiet) p = flag(p, 'q');
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<std::size_t>(p - dst);
}
inline char mode_letter(StoreMode mode) noexcept {
  switch (mode) {
    case StoreMode::add: return 'E';
    case StoreMode::replace: return 'R';
    case StoreMode::append: return 'A';
    case StoreMode::prepend: return 'P';
    case StoreMode::set:
    case StoreMode::cas: break;
  }
  return 'S';
}
}  // namespace detail

/// `mg <key> <flags>*\r\n`: b v f k c s h l u, then N R T, then t, O, q.
inline std::size_t encode_mg(char* dst, std::string_view key, const GetOptions& o) noexcept {
  char* p = detail::command(dst, "mg", key);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.value) p = detail::flag(p, 'v');
  if (o.client_flags) p = detail::flag(p, 'f');
  if (o.key) p = detail::flag(p, 'k');
  if (o.cas) p = detail::flag(p, 'c');
  if (o.size) p = detail::flag(p, 's');
  if (o.hit_before) p = detail::flag(p, 'h');
  if (o.last_access) p = detail::flag(p, 'l');
  if (o.no_lru_bump) p = detail::flag(p, 'u');
  if (o.vivify) p = detail::flag_i64(p, 'N', *o.vivify);
  if (o.recache) p = detail::flag_i64(p, 'R', *o.recache);
  if (o.touch) p = detail::flag_i64(p, 'T', *o.touch);
  if (o.ttl) p = detail::flag(p, 't');  // after N and T: reports the TTL they set
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// `ms <key> <datalen> <flags>*\r\n`: b T F C I M N c k O q; the data and "\r\n" follow.
inline std::size_t encode_ms_head(char* dst, std::string_view key, std::size_t datalen, const SetOptions& o) noexcept {
  char* p = detail::command(dst, "ms", key);
  *p++ = ' ';
  p = ascii::write_u64(p, datalen);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.ttl) p = detail::flag_i64(p, 'T', *o.ttl);
  if (o.client_flags != 0) p = detail::flag_u64(p, 'F', o.client_flags);
  if (o.compare_cas || o.mode == StoreMode::cas) p = detail::flag_u64(p, 'C', o.compare_cas.value_or(0));
  if (o.invalidate) p = detail::flag(p, 'I');
  const char mode = detail::mode_letter(o.mode);
  if (mode != 'S') {
    p = detail::flag(p, 'M');
    *p++ = mode;
  }
  if (o.vivify) p = detail::flag_i64(p, 'N', *o.vivify);
  if (o.return_cas) p = detail::flag(p, 'c');
  if (o.return_key) p = detail::flag(p, 'k');
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// A whole ms command: head, data, "\r\n".
template <class Out>
inline void encode_ms(Out& out, std::string_view key, std::string_view value, const SetOptions& o) {
  protocol::detail::append_head(out, head_bound(key.size()),
                                [&](char* dst) { return encode_ms_head(dst, key, value.size(), o); });
  out.append(value.data(), value.size());
  out.append(kDataEnd.data(), kDataEnd.size());
}

/// `md <key> <flags>*\r\n`: b C I T k O q.
inline std::size_t encode_md(char* dst, std::string_view key, const DeleteOptions& o = DeleteOptions{}) noexcept {
  char* p = detail::command(dst, "md", key);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.compare_cas) p = detail::flag_u64(p, 'C', *o.compare_cas);
  if (o.invalidate) p = detail::flag(p, 'I');
  if (o.ttl) p = detail::flag_i64(p, 'T', *o.ttl);
  if (o.return_key) p = detail::flag(p, 'k');
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// `ma <key> <flags>*\r\n`: b M D N J T C, then v t c k O q.
inline std::size_t encode_ma(char* dst, std::string_view key, const ArithOptions& o) noexcept {
  char* p = detail::command(dst, "ma", key);
  if (o.base64_key) p = detail::flag(p, 'b');
  if (o.decrement) {
    p = detail::flag(p, 'M');
    *p++ = 'D';
  }
  p = detail::flag_u64(p, 'D', o.delta);
  if (o.vivify) {
    p = detail::flag_i64(p, 'N', *o.vivify);
    p = detail::flag_u64(p, 'J', o.initial);
  }
  if (o.ttl) p = detail::flag_i64(p, 'T', *o.ttl);
  if (o.compare_cas) p = detail::flag_u64(p, 'C', *o.compare_cas);
  if (o.value) p = detail::flag(p, 'v');
  if (o.return_ttl) p = detail::flag(p, 't');
  if (o.return_cas) p = detail::flag(p, 'c');
  if (o.return_key) p = detail::flag(p, 'k');
  return detail::finish(dst, p, o.opaque, o.quiet);
}

/// `mn\r\n`: answered with MN once every earlier command on the connection is.
inline std::size_t encode_mn(char* dst) noexcept { return static_cast<std::size_t>(ascii::write(dst, "mn\r\n") - dst); }

/// `me <key>\r\n` (debug: the item's metadata).
inline std::size_t encode_me(char* dst, std::string_view key) noexcept {
  char* p = detail::command(dst, "me", key);
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<std::size_t>(p - dst);
}

namespace detail {
/// `mg <key> v O` at w, the start of every batch read request; returns
/// where the opaque goes.
CACHEKIT_HOT_INLINE char* put_mg_batch_head(char* w, std::string_view key) noexcept {
  std::memcpy(w, "mg ", 3);
  protocol::detail::copy_bytes(w + 3, key.data(), key.size());
  w += 3 + key.size();
  std::memcpy(w, " v O", 4);
  return w + 4;
}
}  // namespace detail

/// One request of a quiet batch read: `mg <key> v O<opaque> q\r\n` (dst
/// has head_bound(key.size()) bytes). The opaque alone names the request a
/// hit answers; the key is not echoed (no `k`): fewer bytes each way and
/// nothing more to compare.
CACHEKIT_HOT_INLINE std::size_t encode_mg_batch(char* dst, std::string_view key, std::uint32_t opaque) noexcept {
  char* p = ascii::write_u64(detail::put_mg_batch_head(dst, key), opaque);
  std::memcpy(p, " q\r\n", 4);
  return static_cast<std::size_t>(p + 4 - dst);
}

/// Room encode_mg_batch_run needs for n keys of key_bytes bytes in all.
inline constexpr std::size_t mg_batch_bound(std::size_t n, std::size_t key_bytes) noexcept {
  return key_bytes + n * (3 + 4 + 10 + 4) + 4 + 16;  // 16: the last opaque is copied as two words
}

namespace detail {
/// "00" to "99", two bytes each: the digit pairs of four-digit opaques.
inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/// encode_mg_batch_run with four-digit opaques, leading zeros included;
/// the last opaque (first_opaque + n - 1) is below 10,000.
template <class KeyAt>
inline std::size_t encode_mg_batch_four(char* dst, std::size_t n, KeyAt& key_at, std::uint32_t first_opaque) {
  char* w = dst;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // The four digits and " q\r\n" as one word, written with one store; the
  // next opaque adds one to the last digit (the word's fourth byte), and
  // only a carry (every tenth key) builds the word again.
  auto word_of = [](std::uint32_t opaque) noexcept {
    char b[8];
    std::memcpy(b, kDigitPairs + 2 * (opaque / 100), 2);
    std::memcpy(b + 2, kDigitPairs + 2 * (opaque % 100), 2);
    std::memcpy(b + 4, " q\r\n", 4);
    std::uint64_t x;
    std::memcpy(&x, b, 8);
    return x;
  };
  constexpr std::uint64_t kLastDigit = std::uint64_t{1} << 24;
  std::uint64_t word = word_of(first_opaque);
  for (std::size_t i = 0; i < n; ++i) {
    w = put_mg_batch_head(w, key_at(i));
    std::memcpy(w, &word, 8);
    w += 8;
    if (((word >> 24) & 0xff) != '9') {
      word += kLastDigit;
    } else {
      word = word_of(first_opaque + static_cast<std::uint32_t>(i) + 1);
    }
  }
#else
  unsigned hi = first_opaque / 100, lo = first_opaque % 100;
  for (std::size_t i = 0; i < n; ++i) {
    w = put_mg_batch_head(w, key_at(i));
    std::memcpy(w, kDigitPairs + 2 * hi, 2);
    std::memcpy(w + 2, kDigitPairs + 2 * lo, 2);
    std::memcpy(w + 4, " q\r\n", 4);
    w += 8;
    if (++lo == 100) {
      lo = 0;
      ++hi;
    }
  }
#endif
  std::memcpy(w, "mn\r\n", 4);
  return static_cast<std::size_t>(w + 4 - dst);
}
}  // namespace detail

/// Pipelined multi-get into dst (mg_batch_bound bytes): encode_mg_batch
/// per key with opaques first_opaque + i, then `mn`. Returns the bytes
/// written. While the last opaque is below 10,000 each is written as four
/// digits (`O0042`: leading zeros, read back as the same number) from a
/// table of digit pairs, which decode_batch_hit reads in one step;
/// otherwise in plain decimal, counted up a digit at a time. Hits come back
/// (at once, not at the mn) with their opaque; misses send nothing; MN ends
/// the batch.
template <class KeyAt>
inline std::size_t encode_mg_batch_run(char* dst, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque) {
  if (n <= 10000 && first_opaque <= 10000 - n) return detail::encode_mg_batch_four(dst, n, key_at, first_opaque);
  char* w = dst;
  char digits[16] = {};
  std::size_t nd = static_cast<std::size_t>(ascii::write_u64(digits, first_opaque) - digits);
  for (std::size_t i = 0; i < n; ++i) {
    w = detail::put_mg_batch_head(w, key_at(i));
    std::memcpy(w, digits, 16);  // at most 10 digits; the rest is written over next
    w += nd;
    std::memcpy(w, " q\r\n", 4);
    w += 4;
    // The next opaque, one decimal digit at a time.
    std::size_t d = nd;
    while (d > 0 && digits[d - 1] == '9') digits[--d] = '0';
    if (d > 0) {
      ++digits[d - 1];
    } else {
      std::memmove(digits + 1, digits, nd++);
      digits[0] = '1';
    }
  }
  std::memcpy(w, "mn\r\n", 4);
  return static_cast<std::size_t>(w + 4 - dst);
}

/// The same requests appended to out (any buffer with append(const char*, size_t)).
template <class Out, class KeyAt>
inline void encode_mg_pipeline(Out& out, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view key = key_at(i);
    protocol::detail::append_head(out, head_bound(key.size()), [&](char* dst) {
      return encode_mg_batch(dst, key, first_opaque + static_cast<std::uint32_t>(i));
    });
  }
  out.append("mn\r\n", 4);
}

/// `mg <key> v\r\n`, the plain read of a value (dst has head_bound(key.size()) bytes).
inline std::size_t encode_mg_value(char* dst, std::string_view key) noexcept {
  std::memcpy(dst, "mg ", 3);
  protocol::detail::copy_bytes(dst + 3, key.data(), key.size());
  std::memcpy(dst + 3 + key.size(), " v\r\n", 4);
  return key.size() + 7;
}

/// The reply to encode_mg_value in its common form, whole among the n
/// bytes: `VA <size>\r\n<data>\r\n` (hit set, value viewed) or `EN\r\n`
/// (hit cleared); returns the bytes it took. 0 for anything else, which the
/// full decoder then judges (it gives the same reading for what this takes).
CACHEKIT_HOT_INLINE std::size_t decode_value_reply(const char* data, std::size_t n, std::size_t max_value,
                                                   std::string_view& value, bool& hit) noexcept {
  if (n < 4) return 0;
  if (protocol::detail::starts_with(data, "EN\r\n")) {
    hit = false;
    return 4;
  }
  if (!protocol::detail::starts_with(data, "VA ")) return 0;
  std::uint64_t size = 0;
  const char* end = data + n;
  const char* p = ascii::scan_digits_before(data + 3, end, size);
  if (p == nullptr || end - p < 2 || p[0] != '\r' || p[1] != '\n' || size > max_value) return 0;
  const std::size_t head = static_cast<std::size_t>(p + 2 - data);
  if (n - head < size + 2 || data[head + size] != '\r' || data[head + size + 1] != '\n') return 0;
  value = std::string_view(data + head, static_cast<std::size_t>(size));
  hit = true;
  return head + static_cast<std::size_t>(size) + 2;
}

/// A batch hit in the form encode_mg_batch asks for, whole among the n
/// bytes: `VA <size> O<opaque>\r\n<data>\r\n` where known(opaque) is true
/// (false when no request had that opaque); returns the bytes it took, or
/// 0 for anything else (the full decoder judges it).
template <class Known>
CACHEKIT_HOT_INLINE std::size_t decode_batch_hit(const char* data, std::size_t n, std::size_t max_value, Known&& known,
                                                 std::string_view& value, std::uint64_t& opaque) noexcept {
  std::uint64_t size = 0;
  const char* p;
  if (n >= 32) {
    if (!protocol::detail::starts_with(data, "VA ")) return 0;
    // Sizes and opaques of up to seven digits: every byte read lies in the
    // first 21 (size digits from byte 3, " O" by byte 11, opaque digits
    // from byte 12 at most, "\r\n" by byte 20; a four-digit opaque's
    // "\r\n" by byte 17), so no bound is checked.
    p = ascii::scan_short_digits(data + 3, size);
    if (p == nullptr || !protocol::detail::starts_with(p, " O") || size > max_value) return 0;
    // Four-digit opaques first (encode_mg_batch_run's form), then any.
    if (protocol::detail::starts_with(p + 6, "\r\n") && ascii::four_digits(p + 2, opaque)) {
      p += 6;
    } else {
      p = ascii::scan_short_digits(p + 2, opaque);
      if (p == nullptr || !protocol::detail::starts_with(p, "\r\n")) return 0;
    }
    if (!known(opaque)) return 0;
  } else {
    if (n < 12 || !protocol::detail::starts_with(data, "VA ")) return 0;
    const char* end = data + n;
    p = ascii::scan_digits_before(data + 3, end, size);
    if (p == nullptr || end - p < 3 || p[0] != ' ' || p[1] != 'O' || size > max_value) return 0;
    p = ascii::scan_digits_before(p + 2, end, opaque);
    if (p == nullptr || end - p < 2 || p[0] != '\r' || p[1] != '\n' || !known(opaque)) return 0;
  }
  const std::size_t head = static_cast<std::size_t>(p + 2 - data);
  if (n - head < size + 2 || !protocol::detail::starts_with(data + head + size, "\r\n")) return 0;
  value = std::string_view(data + head, static_cast<std::size_t>(size));
  return head + static_cast<std::size_t>(size) + 2;
}

/// Whether an opaque token (ServerReply::opaque) is the decimal form of want.
inline bool opaque_is(std::string_view token, std::uint32_t want) noexcept {
  std::uint32_t got = 0;
  return ascii::parse_u32(token, got) && got == want;
}

namespace detail {
/// Parses returned flags (the tokens after the code, or after VA's size).
inline const char* decode_flags(std::string_view rest, ServerReply& r) noexcept {
  for (;;) {
    const std::string_view t = ascii::next_token(rest);
    if (t.empty()) return nullptr;
    const std::string_view arg = t.substr(1);
    switch (t[0]) {
      case 'O':
        r.opaque = arg;
        r.set(Field::opaque);
        break;
      case 'k':
        r.key = arg;
        r.set(Field::key);
        break;
      case 'f':
        if (!ascii::parse_u32(arg, r.flags)) return "meta flag f not a 32-bit number";
        r.set(Field::flags);
        break;
      case 'c':
        if (!ascii::parse_u64(arg, r.cas)) return "meta flag c not a 64-bit number";
        r.set(Field::cas);
        break;
      case 't':
        if (!ascii::parse_i64(arg, r.ttl) || r.ttl < -1) return "meta flag t not a TTL";
        r.set(Field::ttl);
        break;
      case 's':
        if (!ascii::parse_u64(arg, r.size)) return "meta flag s not a 64-bit number";
        r.set(Field::size);
        break;
      case 'l':
        if (!ascii::parse_u32(arg, r.last_access)) return "meta flag l not a 32-bit number";
        r.set(Field::last_access);
        break;
      case 'h':
        if (arg != "0" && arg != "1") return "meta flag h not 0 or 1";
        r.hit_before = arg == "1";
        r.set(Field::hit_before);
        break;
      case 'W': r.set(Field::won); break;
      case 'X': r.set(Field::stale); break;
      case 'Z': r.set(Field::winner_sent); break;
      case 'b': r.set(Field::base64_key); break;
      default:
        // Flags this client does not ask for are skipped; anything else
        // is not a flag at all.
        if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'))) return "meta reply flag is not a letter";
        break;
    }
  }
}

/// The common hit, `VA <size> <flags>*` (the line of line bytes at data,
/// already found) with single spaces, only the flags f, c, s, k and O and
/// numbers of at most 19 digits, and its data, all among the n bytes,
/// decoded in one pass. false for anything else (the full decoder then
/// judges it); when true, r and d are what it would give.
CACHEKIT_HOT_INLINE bool decode_va_fast(const char* data, std::size_t n, std::size_t line, ServerReply& r,
                                        const Limits& lim, Decoded& d) noexcept {
  std::uint64_t size = 0;
  const char* p = ascii::scan_digits(data + 3, size);  // after "VA "; the line's '\r' stops every scan
  if (p == nullptr) return false;
  r.clear();
  while (*p == ' ') {
    const char f = p[1];
    p += 2;
    std::uint64_t v = 0;
    switch (f) {
      case 'f':
        p = ascii::scan_digits(p, v);
        if (p == nullptr || v > UINT32_MAX) return false;
        r.flags = static_cast<std::uint32_t>(v);
        r.set(Field::flags);
        break;
      case 'c':
        if ((p = ascii::scan_digits(p, r.cas)) == nullptr) return false;
        r.set(Field::cas);
        break;
      case 's':
        if ((p = ascii::scan_digits(p, r.size)) == nullptr) return false;
        r.set(Field::size);
        break;
      case 'k': {
        const char* t = ascii::scan_token(p, data + line + 1);
        r.key = std::string_view(p, static_cast<std::size_t>(t - p));
        r.set(Field::key);
        p = t;
        break;
      }
      case 'O': {
        const char* t = ascii::scan_token(p, data + line + 1);
        r.opaque = std::string_view(p, static_cast<std::size_t>(t - p));
        r.set(Field::opaque);
        p = t;
        break;
      }
      default: return false;  // also a space before the line's end
    }
  }
  if (p != data + line || size > lim.max_value) return false;
  const std::size_t start = line + 2;
  if (size > n - start || n - start - static_cast<std::size_t>(size) < 2) return false;
  const std::size_t total = start + static_cast<std::size_t>(size) + 2;
  if (data[total - 2] != '\r' || data[total - 1] != '\n') return false;
  r.kind = ReplyKind::value;
  r.value = std::string_view(data + start, static_cast<std::size_t>(size));
  d = Decoded::done(total);
  return true;
}

inline Decoded with_flags(std::string_view rest, ServerReply& r, ReplyKind kind, std::size_t whole) noexcept {
  r.kind = kind;
  const char* why = decode_flags(rest, r);
  return why == nullptr ? Decoded::done(whole) : Decoded::bad(why);
}
}  // namespace detail

namespace detail {
/// The full decoder, for the line (found at data) of any reply: every form,
/// every check. decode() tries the common hit in one pass first.
CACHEKIT_COLD_NOINLINE Decoded decode_line(const char* data, std::size_t n, std::string_view line, ServerReply& r,
                                           const Limits& lim) noexcept {
  Decoded d;
  r.clear();
  const std::size_t whole = line.size() + 2;
  if (!line.empty() && line.back() == ' ') r.set(Field::trailing_space);
  if (line.size() >= 2 && (line.size() == 2 || line[2] == ' ')) {
    const std::string_view rest = line.substr(2);
    const std::uint16_t code = static_cast<std::uint16_t>((static_cast<unsigned char>(line[0]) << 8) |
                                                          static_cast<unsigned char>(line[1]));
    switch (code) {
      case ('V' << 8) | 'A': {
        std::string_view tail = rest;
        const std::string_view size_token = ascii::next_token(tail);
        std::uint64_t size = 0;
        if (!ascii::parse_u64(size_token, size)) {
          const char first = size_token.empty() ? '0' : size_token[0];
          const bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
          return Decoded::bad(letter ? "VA without a size (the meta dialect before 1.6.10)" : "VA size not a number");
        }
        r.kind = ReplyKind::value;
        if (const char* why = detail::decode_flags(tail, r)) return Decoded::bad(why);
        ascii::take_data(data, n, line.size(), size, lim, r.value, d);
        return d;
      }
      case ('H' << 8) | 'D': return detail::with_flags(rest, r, ReplyKind::ok, whole);
      case ('E' << 8) | 'N': return detail::with_flags(rest, r, ReplyKind::miss, whole);
      case ('N' << 8) | 'S': return detail::with_flags(rest, r, ReplyKind::not_stored, whole);
      case ('E' << 8) | 'X': return detail::with_flags(rest, r, ReplyKind::exists, whole);
      case ('N' << 8) | 'F': return detail::with_flags(rest, r, ReplyKind::not_found, whole);
      case ('M' << 8) | 'N': return detail::with_flags(rest, r, ReplyKind::end, whole);
      case ('O' << 8) | 'K':
        // 1.6.0 to 1.6.9 answer OK where later servers answer HD.
        r.set(Field::legacy);
        return detail::with_flags(rest, r, ReplyKind::ok, whole);
      case ('M' << 8) | 'E': {
        std::string_view tail = rest;
        r.key = ascii::next_token(tail);
        if (r.key.empty()) return Decoded::bad("ME line without a key");
        r.set(Field::key);
        while (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
        r.text = tail;
        r.kind = ReplyKind::debug;
        return Decoded::done(whole);
      }
      default: break;
    }
  }
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  if (ascii::decode_error_line(line, r)) return Decoded::done(whole);
  if (line.empty()) return Decoded::bad("empty reply line");
  return Decoded::bad("unknown meta reply line");
}
}  // namespace detail

/// Decodes the reply at the start of data (n bytes) into r: a VA line and
/// its data, or one line. need_more for any proper prefix of a reply.
inline Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
  Decoded d;
  std::string_view line;
  if (!ascii::take_line(data, n, lim, line, d)) return d;
  // A hit first.
  if (line.size() > 3 && data[0] == 'V' && data[1] == 'A' && data[2] == ' ' &&
      detail::decode_va_fast(data, n, line.size(), r, lim, d)) {
    return d;
  }
  return detail::decode_line(data, n, line, r, lim);
}

/// Whether a reply to a meta command says the server cannot be spoken to
/// in meta: ERROR (before 1.5.19, or a proxy without meta) or the OK of
/// the dialect before 1.6.10. Such a server is spoken to in text. (Only a
/// reply to a meta command tells: flush_all is answered OK by every server.)
inline bool calls_for_text(const ServerReply& r) noexcept { return r.kind == ReplyKind::error || r.has(Field::legacy); }

}  // namespace meta

/// memcached's meta protocol as a wire (see wire.hpp). flush_all, version,
/// stats and the authfile login have no meta form: they are sent as text
/// commands, which a meta server also reads.
struct MetaWire {
  static constexpr const char* name = "meta";
  using Reply = ServerReply;
  static constexpr bool has_quiet_get = true;       ///< mg q: misses send nothing
  static constexpr bool has_quiet_store = true;     ///< ms/md/ma q: only failures reply
  static constexpr bool has_opaque = true;          ///< O<n> echoed on every reply but error lines
  static constexpr bool has_cas = true;
  static constexpr bool has_lease = true;           ///< N, R, W/X/Z
  static constexpr bool has_noop = true;            ///< mn -> MN
  static constexpr bool has_multi_key_get = false;  ///< one mg per key, pipelined
  static constexpr bool has_counter_create = true;  ///< ma N J
  static constexpr bool has_counter_ttl = true;

  static constexpr std::size_t head_bound(std::size_t key_size) noexcept { return meta::head_bound(key_size); }

  /// `mg <key> v f [c] [T<exptime>] [k] [O<n>] [q]`.
  static std::size_t encode_get(char* dst, const GetRequest& r) noexcept {
    if (!r.cas && !r.touch && !r.return_key && !r.quiet && r.opaque == 0) {
      // The plain get, written with a few word moves (dst has head_bound's slack).
      std::memcpy(dst, "mg ", 3);
      protocol::detail::copy_bytes(dst + 3, r.key.data(), r.key.size());
      std::memcpy(dst + 3 + r.key.size(), " v f\r\n\0\0", 8);
      return 3 + r.key.size() + 6;
    }
    meta::GetOptions o;
    o.cas = r.cas;
    if (r.touch) o.touch = r.exptime;
    o.key = r.return_key;
    o.opaque = r.opaque;
    o.quiet = r.quiet;
    return meta::encode_mg(dst, r.key, o);
  }
  /// `ms <key> <size> [T] [F] [C] [M] [O] [q]`; T is written when exptime is non-zero.
  static std::size_t encode_store_head(char* dst, const StoreRequest& r) noexcept {
    meta::SetOptions o;
    o.mode = r.mode;
    if (r.exptime != 0 && r.mode != StoreMode::append && r.mode != StoreMode::prepend) o.ttl = r.exptime;
    if (r.mode != StoreMode::append && r.mode != StoreMode::prepend) o.client_flags = r.flags;
    if (r.mode == StoreMode::cas) o.compare_cas = r.cas;
    o.opaque = r.opaque;
    o.quiet = r.quiet;
    return meta::encode_ms_head(dst, r.key, r.value_size, o);
  }
  static std::size_t encode_delete(char* dst, std::string_view key, std::uint32_t opaque, bool quiet) noexcept {
    meta::DeleteOptions o;
    o.opaque = opaque;
    o.quiet = quiet;
    return meta::encode_md(dst, key, o);
  }
  /// `ma <key> [MD] D<delta> [N<exptime> J<initial>] v [O] [q]`: the reply is VA with the new value.
  static std::size_t encode_counter(char* dst, const CounterRequest& r) noexcept {
    meta::ArithOptions o;
    o.decrement = r.decrement;
    o.delta = r.delta;
    if (r.create) {
      o.vivify = r.exptime;
      o.initial = r.initial;
    }
    o.opaque = r.opaque;
    o.quiet = r.quiet;
    return meta::encode_ma(dst, r.key, o);
  }
  /// `mg <key> T<exptime> [O]`: HD when touched, EN when missing.
  static std::size_t encode_touch(char* dst, std::string_view key, std::int64_t exptime, std::uint32_t opaque) noexcept {
    meta::GetOptions o;
    o.value = false;
    o.client_flags = false;
    o.touch = exptime;
    o.opaque = opaque;
    return meta::encode_mg(dst, key, o);
  }
  static std::size_t encode_noop(char* dst) noexcept { return meta::encode_mn(dst); }
  static std::size_t encode_flush_all(char* dst, std::int64_t delay) noexcept {
    return text::encode_flush_all(dst, delay);
  }
  static std::size_t encode_version(char* dst) noexcept { return text::encode_version(dst); }
  static std::size_t encode_stats(char* dst, std::string_view group) noexcept { return text::encode_stats(dst, group); }
  /// The authfile login is a text `set` (ms cannot log in).
  template <class Out>
  static void encode_login(Out& out, std::string_view user, std::string_view password) {
    text::encode_login(out, user, password);
  }
  /// Decodes meta replies, and the text replies of flush_all (OK), version,
  /// stats and the login (STORED) that a meta connection also receives.
  static Decoded decode(const char* data, std::size_t n, ServerReply& r, const Limits& lim = Limits{}) noexcept {
    const Decoded d = meta::decode(data, n, r, lim);
    if (d.malformed() && (data[0] == 'S' || data[0] == 'V' || data[0] == 'E')) {
      // STORED, STAT, VERSION, END: replies to the text commands meta has
      // no form of. Anything else keeps the meta decoder's diagnosis.
      const Decoded t = text::decode(data, n, r, lim);
      if (t.complete() && (r.kind == ReplyKind::stored || r.kind == ReplyKind::stat ||
                           r.kind == ReplyKind::version || r.kind == ReplyKind::end)) {
        return t;
      }
      r.clear();
    }
    return d;
  }
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
