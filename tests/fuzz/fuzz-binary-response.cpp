// The binary-protocol response parser driven as a byte stream: the first
// byte picks how the rest is split into reads. Whatever it accepts must be
// self-consistent; it must never read past its input or allocate what a
// header merely announces (ASan and the RSS limit catch both).
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 32;
  const char* p = reinterpret_cast<const char*>(data) + 1;
  std::size_t left = size - 1;
  cachekit::protocol::ResponseParser parser;
  int responses = 0;
  while (left > 0 && responses < 10000) {
    const std::size_t offer = left < chunk ? left : chunk;
    const std::size_t used = parser.feed(p, offer);
    if (used > offer) std::abort();
    p += used;
    left -= used;
    if (parser.failed()) {
      if (parser.failure() == nullptr) std::abort();
      return 0;
    }
    if (parser.complete()) {
      const auto& h = parser.header();
      const auto body = parser.body();
      if (body.size() != h.body_length) std::abort();
      if (parser.extras().size() + parser.key().size() + parser.value().size() != body.size()) std::abort();
      (void)parser.flags();
      parser.next();
      ++responses;
    } else if (used == 0) {
      std::abort();  // neither progress nor an answer: a stuck stream
    }
  }
  return 0;
}
