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

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cktest_fuzz::fuzz_reply_stream<cachekit::protocol::MetaWire, Codec>(data, size);
}
