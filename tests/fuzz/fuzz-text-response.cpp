// The text protocol reply decoder as a split byte stream (reply_stream.hpp).
#include "reply_stream.hpp"

namespace {
struct Codec {
  static auto decode(const char* p, std::size_t n, cachekit::protocol::ServerReply& r,
                     const cachekit::protocol::Limits& lim) {
    return cachekit::protocol::text::decode(p, n, r, lim);
  }
  static auto decode_line(const char* p, std::size_t n, std::string_view line, cachekit::protocol::ServerReply& r,
                          const cachekit::protocol::Limits& lim) {
    return cachekit::protocol::text::detail::decode_line(p, n, line, r, lim);
  }
};
}  // namespace

namespace {
// The one-pass hit decoders (get and get_many) take only what the full
// decoder reads the same way, for the key the VALUE line names when it is
// one the backend would send (the decoder is only ever given those).
void check_value_hit(const char* p, std::size_t n) {
  namespace proto = cachekit::protocol;
  if (n < 7 || std::string_view(p, 6) != "VALUE ") return;
  std::size_t e = 6;
  while (e < n && e < 6 + 250 && p[e] != ' ' && p[e] != '\r') ++e;
  const std::string_view key(p + 6, e - 6);
  if (key.empty() || cachekit::detail::has_bad_key_byte(key.data(), key.size())) return;
  std::string_view value;
  std::uint32_t flags = 0;
  const std::size_t took = proto::text::decode_value_hit(p, n, CACHEKIT_MAX_RESPONSE_BODY, key, flags, value);
  // A get's hit with its END: taken exactly when the hit above is followed
  // by a whole END, and read the same way.
  std::string_view get_value;
  std::uint32_t get_flags = 0;
  const std::size_t got = proto::text::decode_get_hit(p, n, CACHEKIT_MAX_RESPONSE_BODY, key, get_flags, get_value);
  const bool end_follows = took != 0 && proto::text::starts_with_end(p + took, n - took);
  if (got != (end_follows ? took + 5 : 0) || (got != 0 && (get_flags != flags || get_value != value))) std::abort();
  if (took == 0) return;
  proto::ServerReply full;
  const auto d = proto::text::decode(p, n, full);
  if (!d.complete() || d.size != took || full.kind != proto::ReplyKind::value || full.key != key ||
      full.flags != flags || full.value != value) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_value_hit(reinterpret_cast<const char*>(data), size);
  return cktest_fuzz::fuzz_reply_stream<cachekit::protocol::TextWire, Codec>(data, size);
}
