#pragma once
// memcached binary protocol codec: request encoder and reply decoder
// (replies split across reads are gathered by ReplyStash in wire.hpp).
// Pure: bytes in, bytes out; no I/O, no clock.
// Constants follow the memcached binary protocol specification
// (docs/protocol-binary.xml in the memcached repository).

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../error.hpp"
#include "bytes.hpp"
#include "reply.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace protocol {

inline constexpr std::uint8_t kRequestMagic = 0x80;
inline constexpr std::uint8_t kResponseMagic = 0x81;
inline constexpr std::size_t kHeaderSize = 24;

/// Binary protocol opcodes used by cachekit.
enum class Opcode : std::uint8_t {
  get = 0x00,
  set = 0x01,
  add = 0x02,
  replace = 0x03,
  del = 0x04,
  increment = 0x05,
  decrement = 0x06,
  flush = 0x08,
  noop = 0x0a,
  version = 0x0b,
  getk = 0x0c,
  getkq = 0x0d,
  append = 0x0e,
  prepend = 0x0f,
  stat = 0x10,
  setq = 0x11,
  addq = 0x12,
  replaceq = 0x13,
  deleteq = 0x14,
  touch = 0x1c,
  gat = 0x1d,
  sasl_list_mechs = 0x20,
  sasl_auth = 0x21,
  sasl_step = 0x22,
};

/// Response status codes.
enum class Status : std::uint16_t {
  ok = 0x0000,
  key_not_found = 0x0001,
  key_exists = 0x0002,
  value_too_large = 0x0003,
  invalid_arguments = 0x0004,
  not_stored = 0x0005,
  non_numeric = 0x0006,
  vbucket_wrong_server = 0x0007,
  auth_error = 0x0020,
  auth_continue = 0x0021,
  unknown_command = 0x0081,
  out_of_memory = 0x0082,
  not_supported = 0x0083,
  internal_error = 0x0084,
  busy = 0x0085,
  temporary_failure = 0x0086,
};

/// Human-readable text for a status code.
inline const char* status_text(std::uint16_t s) noexcept {
  switch (static_cast<Status>(s)) {
    case Status::ok: return "no error";
    case Status::key_not_found: return "key not found";
    case Status::key_exists: return "key exists";
    case Status::value_too_large: return "value too large";
    case Status::invalid_arguments: return "invalid arguments";
    case Status::not_stored: return "item not stored";
    case Status::non_numeric: return "incr/decr on a non-numeric value";
    case Status::vbucket_wrong_server: return "vbucket belongs to another server";
    case Status::auth_error: return "authentication failed";
    case Status::auth_continue: return "authentication continues (unsupported)";
    case Status::unknown_command: return "unknown command";
    case Status::out_of_memory: return "server out of memory";
    case Status::not_supported: return "not supported";
    case Status::internal_error: return "server internal error";
    case Status::busy: return "server busy";
    case Status::temporary_failure: return "temporary failure";
  }
  return "unknown status";
}

/// Whether memcached's binary protocol defines status s. Any other status
/// means the stream cannot be trusted, so the parser treats it as a
/// protocol error and the connection is closed.
inline bool is_known_status(std::uint16_t s) noexcept {
  return s == 0 || s <= 0x0007 || s == 0x0020 || s == 0x0021 || (s >= 0x0081 && s <= 0x0086);
}

/// How a caller should treat a non-ok status.
inline ErrorKind status_kind(std::uint16_t s) noexcept {
  switch (static_cast<Status>(s)) {
    case Status::ok:
    case Status::key_not_found:
    case Status::key_exists:
    case Status::value_too_large:
    case Status::invalid_arguments:
    case Status::not_stored:
    case Status::non_numeric:
    case Status::unknown_command:
    case Status::not_supported: return ErrorKind::permanent;
    case Status::vbucket_wrong_server:
    case Status::out_of_memory:
    case Status::internal_error:
    case Status::busy:
    case Status::temporary_failure: return ErrorKind::transient;
    case Status::auth_error:
    case Status::auth_continue: return ErrorKind::authentication;
  }
  return ErrorKind::unknown;
}

/// Error for a non-ok status (message names the status, never the payload).
inline Error status_error(std::uint16_t s) {
  std::string msg = "server replied: ";
  msg += status_text(s);
  msg += " (status 0x";
  static constexpr char hex[] = "0123456789abcdef";
  for (int shift = 12; shift >= 0; shift -= 4) msg += hex[(s >> shift) & 0xf];
  msg += ')';
  return Error(status_kind(s), std::move(msg));
}

namespace detail {
// Big-endian fields. With GCC and Clang on a little-endian machine these
// are one load or store plus a byte swap; elsewhere, byte by byte.
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline void put16(char* p, std::uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void put32(char* p, std::uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void put64(char* p, std::uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline std::uint16_t get16(const unsigned char* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline std::uint32_t get32(const unsigned char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline std::uint64_t get64(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
#else
inline void put16(char* p, std::uint16_t v) noexcept {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline void put32(char* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (24 - 8 * i));
}
inline void put64(char* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (56 - 8 * i));
}
inline std::uint16_t get16(const unsigned char* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t get32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t get64(const unsigned char* p) noexcept {
  return (std::uint64_t{get32(p)} << 32) | get32(p + 4);
}
#endif

}  // namespace detail

/// Writes the header, extras and key of a request to dst (room for
/// kHeaderSize + extras + key bytes); the value, value_size bytes, follows
/// separately. Returns the bytes written.
inline std::size_t encode_head(char* dst, Opcode op, std::string_view key, std::string_view extras,
                               std::size_t value_size, std::uint32_t opaque, std::uint64_t cas = 0) noexcept {
  char* h = dst;
  // Magic, opcode, key length, extras length, data type 0 (raw bytes),
  // vbucket 0; then body length and opaque; then the CAS: three words.
  detail::put64(h, (std::uint64_t{kRequestMagic} << 56) | (std::uint64_t{static_cast<std::uint8_t>(op)} << 48) |
                       (std::uint64_t{static_cast<std::uint16_t>(key.size())} << 32) |
                       (std::uint64_t{static_cast<std::uint8_t>(extras.size())} << 24));
  detail::put64(h + 8, (std::uint64_t{static_cast<std::uint32_t>(extras.size() + key.size() + value_size)} << 32) | opaque);
  detail::put64(h + 16, cas);
  char* p = h + kHeaderSize;
  if (!extras.empty()) std::memcpy(p, extras.data(), extras.size());
  p += extras.size();
  detail::copy_bytes(p, key.data(), key.size());
  p += key.size();
  return static_cast<std::size_t>(p - dst);
}

/// Appends one request to out (a std::string, or any buffer with
/// append(const char*, size_t)). The caller keeps key <= 250 bytes and
/// extras <= 255 bytes; out's capacity is reused between calls.
template <class Out>
inline void encode_request(Out& out, Opcode op, std::string_view key, std::string_view extras,
                           std::string_view value, std::uint32_t opaque, std::uint64_t cas = 0) {
  char head[kHeaderSize + 255 + 255];
  const std::size_t n = encode_head(head, op, key, extras, value.size(), opaque, cas);
  out.append(head, n);
  out.append(value.data(), value.size());
}

/// Extras of set/add/replace (flags, expiration) into ex[8].
inline std::string_view store_extras(char* ex, std::uint32_t flags, std::uint32_t expiry) noexcept {
  detail::put32(ex, flags);
  detail::put32(ex + 4, expiry);
  return std::string_view(ex, 8);
}

/// Extras of increment/decrement into ex[20]. Without an initial value the
/// server answers "not found" for a missing key (expiration 0xffffffff).
inline std::string_view counter_extras(char* ex, std::uint64_t delta, std::uint64_t initial, bool create,
                                       std::uint32_t expiry) noexcept {
  detail::put64(ex, delta);
  detail::put64(ex + 8, initial);
  detail::put32(ex + 16, create ? expiry : 0xffffffffu);
  return std::string_view(ex, 20);
}

/// Extras holding only an expiration (touch, get-and-touch, flush) into ex[4].
inline std::string_view expiry_extras(char* ex, std::uint32_t expiry) noexcept {
  detail::put32(ex, expiry);
  return std::string_view(ex, 4);
}

/// Extras of set/add/replace: flags and expiration.
template <class Out>
inline void encode_store(Out& out, Opcode op, std::string_view key, std::string_view value,
                         std::uint32_t flags, std::uint32_t expiry, std::uint32_t opaque,
                         std::uint64_t cas = 0) {
  char ex[8];
  detail::put32(ex, flags);
  detail::put32(ex + 4, expiry);
  encode_request(out, op, key, std::string_view(ex, 8), value, opaque, cas);
}

/// Increment/decrement. Without an initial value the server answers
/// "not found" for a missing key (expiration 0xffffffff).
template <class Out>
inline void encode_counter(Out& out, Opcode op, std::string_view key, std::uint64_t delta,
                           std::uint64_t initial, bool create, std::uint32_t expiry,
                           std::uint32_t opaque) {
  char ex[20];
  detail::put64(ex, delta);
  detail::put64(ex + 8, initial);
  detail::put32(ex + 16, create ? expiry : 0xffffffffu);
  encode_request(out, op, key, std::string_view(ex, 20), {}, opaque);
}

/// Touch and get-and-touch carry only an expiration.
template <class Out>
inline void encode_touch(Out& out, Opcode op, std::string_view key, std::uint32_t expiry,
                         std::uint32_t opaque) {
  char ex[4];
  detail::put32(ex, expiry);
  encode_request(out, op, key, std::string_view(ex, 4), {}, opaque);
}

/// SASL PLAIN: authzid empty, then user and password separated by NUL.
template <class Out>
inline void encode_sasl_plain(Out& out, std::string_view user, std::string_view password,
                              std::uint32_t opaque) {
  std::string payload;
  payload.reserve(2 + user.size() + password.size());
  payload += '\0';
  payload.append(user.data(), user.size());
  payload += '\0';
  payload.append(password.data(), password.size());
  encode_request(out, Opcode::sasl_auth, "PLAIN", {}, payload, opaque);
  // Scrub the temporary copy of the password.
  volatile char* p = payload.data();
  for (std::size_t i = 0; i < payload.size(); ++i) p[i] = 0;
}

/// Pipelined multi-get: one GETKQ per key (opaque = first_opaque + index),
/// then a NOOP with noop_opaque that marks the end of the replies.
template <class Out, class KeyAt>
inline void encode_getkq_pipeline(Out& out, std::size_t n, KeyAt&& key_at, std::uint32_t first_opaque,
                                  std::uint32_t noop_opaque) {
  for (std::size_t i = 0; i < n; ++i) {
    encode_request(out, Opcode::getkq, key_at(i), {}, {}, first_opaque + static_cast<std::uint32_t>(i));
  }
  encode_request(out, Opcode::noop, {}, {}, {}, noop_opaque);
}

/// A parsed response header.
struct ResponseHeader {
  std::uint8_t opcode = 0;
  std::uint16_t key_length = 0;
  std::uint8_t extras_length = 0;
  std::uint16_t status = 0;
  std::uint32_t body_length = 0;
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;
};

/// Checks and decodes a 24-byte response header into h: nullptr when it is
/// valid, else why the stream is corrupt.
inline const char* decode_response_header(const char* bytes, ResponseHeader& h) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes);
  if (p[0] != kResponseMagic) return "bad response magic";
  h.opcode = p[1];
  h.key_length = detail::get16(p + 2);
  h.extras_length = p[4];
  h.status = detail::get16(p + 6);
  h.body_length = detail::get32(p + 8);
  h.opaque = detail::get32(p + 12);
  h.cas = detail::get64(p + 16);
  if (!is_known_status(h.status)) return "unknown response status";
  if (std::size_t{h.extras_length} + h.key_length > h.body_length) return "extras and key longer than the body";
  if (h.body_length > CACHEKIT_MAX_RESPONSE_BODY) return "response body too large";
  return nullptr;
}

/// One complete response, viewed where its bytes lie (valid while they do).
struct Reply {
  ResponseHeader header;
  const char* body = nullptr;  // header.body_length bytes

  std::string_view extras() const noexcept { return std::string_view(body, header.extras_length); }
  std::string_view key() const noexcept { return std::string_view(body + header.extras_length, header.key_length); }
  std::string_view value() const noexcept {
    const std::size_t skip = std::size_t{header.extras_length} + header.key_length;
    return std::string_view(body + skip, header.body_length - skip);
  }
  /// Flags of a get reply (0 when the reply carries no flags).
  std::uint32_t flags() const noexcept {
    return header.extras_length < 4 ? 0 : detail::get32(reinterpret_cast<const unsigned char*>(body));
  }
};

/// Decodes the response at the start of data when all of it is among the n
/// bytes: returns its whole size (header and body) and fills r. Returns 0
/// when bytes are missing (why stays nullptr) or when the header is corrupt
/// (why says why).
inline std::size_t decode_whole(const char* data, std::size_t n, Reply& r, const char*& why) noexcept {
  why = nullptr;
  if (n < kHeaderSize) return 0;
  why = decode_response_header(data, r.header);
  if (why != nullptr || n - kHeaderSize < r.header.body_length) return 0;
  r.body = data + kHeaderSize;
  return kHeaderSize + r.header.body_length;
}

/// decode_whole in the form every wire shares: need_more with the bytes
/// the response needs (the header, then header and body), complete, or
/// malformed with the cause.
inline Decoded decode_response(const char* data, std::size_t n, Reply& r) noexcept {
  if (n < kHeaderSize) return Decoded::need(kHeaderSize);
  if (const char* why = decode_response_header(data, r.header)) return Decoded::bad(why);
  const std::size_t whole = kHeaderSize + std::size_t{r.header.body_length};
  if (n < whole) return Decoded::need(whole);
  r.body = data + kHeaderSize;
  return Decoded::done(whole);
}

/// The common get reply, checked with fewer steps: when the response at
/// the start of data is a complete successful reply to op (a get of any
/// kind) carrying four bytes of flags, fills r (as decode_whole would) and
/// returns its whole size. Returns 0 for anything else (the caller then
/// decodes it with decode_whole, which applies and reports every check).
inline std::size_t decode_hit(const char* data, std::size_t n, Opcode op, Reply& r) noexcept {
  if (n < kHeaderSize) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  // Magic, opcode, extras length, data type and status, one word at once;
  // the key length (bytes 2 and 3) is masked out.
  const unsigned char want_bytes[8] = {kResponseMagic, static_cast<unsigned char>(op), 0, 0, 4, 0, 0, 0};
  static constexpr unsigned char kMask[8] = {0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff};
  std::uint64_t word, want, mask;
  std::memcpy(&word, p, 8);
  std::memcpy(&want, want_bytes, 8);
  std::memcpy(&mask, kMask, 8);
  if ((word & mask) != want) return 0;
  const std::uint16_t key_length = detail::get16(p + 2);
  const std::uint32_t body_length = detail::get32(p + 8);
  if (body_length < 4u + key_length || body_length > CACHEKIT_MAX_RESPONSE_BODY || n - kHeaderSize < body_length) return 0;
  r.header.opcode = static_cast<std::uint8_t>(op);
  r.header.key_length = key_length;
  r.header.extras_length = 4;
  r.header.status = 0;
  r.header.body_length = body_length;
  r.header.opaque = detail::get32(p + 12);
  r.header.cas = detail::get64(p + 16);
  r.body = data + kHeaderSize;
  return kHeaderSize + body_length;
}

/// The binary protocol as a wire: its reply type and decoder (requests
/// are encoded with encode_head / encode_request).
struct BinaryWire {
  static constexpr const char* name = "binary";
  using Reply = protocol::Reply;
  static Decoded decode(const char* data, std::size_t n, Reply& r, const Limits& = Limits{}) noexcept {
    return decode_response(data, n, r);
  }
};

}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
