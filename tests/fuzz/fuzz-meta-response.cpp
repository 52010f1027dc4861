// The meta protocol reply decoder as a split byte stream (reply_stream.hpp).
#include "reply_stream.hpp"

namespace {
struct Codec {
  static auto decode(const char* p, std::size_t n, cachekit::protocol::ServerReply& r,
                     const cachekit::protocol::Limits& lim) {
    return cachekit::protocol::meta::decode(p, n, r, lim);
  }
  static auto decode_line(const char* p, std::size_t n, std::string_view line, cachekit::protocol::ServerReply& r,
                          const cachekit::protocol::Limits& lim) {
    return cachekit::protocol::meta::detail::decode_line(p, n, line, r, lim);
  }
};
}  // namespace

namespace {
// get_many's one-pass hit decoder takes only what the full decoder reads
// the same way: the same length, value and opaque.
void check_batch_hit(const char* p, std::size_t n) {
  namespace proto = cachekit::protocol;
  std::string_view value;
  std::uint64_t opaque = 0;
  const std::size_t took =
      proto::meta::decode_batch_hit(p, n, CACHEKIT_MAX_RESPONSE_BODY, [](std::uint64_t) { return true; }, value, opaque);
  if (took == 0) return;
  proto::ServerReply full;
  const auto d = proto::meta::decode(p, n, full);
  std::uint64_t full_opaque = 0;  // the same number (a token may have leading zeros: O0042)
  if (!d.complete() || d.size != took || full.kind != proto::ReplyKind::value || full.value != value ||
      !proto::ascii::parse_u64(full.opaque, full_opaque) || full_opaque != opaque || full.has(proto::Field::key)) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_batch_hit(reinterpret_cast<const char*>(data), size);
  return cktest_fuzz::fuzz_reply_stream<cachekit::protocol::MetaWire, Codec>(data, size);
}
