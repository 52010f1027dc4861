// The binary-protocol reply reader (ReplyReader over BinaryWire, the
// gathering the connection uses) driven as a byte stream: the first byte
// picks how the rest is split into reads. Whatever it accepts must be
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
  cachekit::protocol::ReplyReader<cachekit::protocol::BinaryWire> reader;
  int responses = 0;
  while (left > 0 && responses < 10000) {
    const std::size_t offer = left < chunk ? left : chunk;
    const std::size_t used = reader.feed(p, offer);
    if (used > offer) std::abort();
    p += used;
    left -= used;
    if (reader.failed()) {
      if (reader.failure() == nullptr) std::abort();
      return 0;
    }
    if (reader.complete()) {
      const auto& r = reader.reply();
      const auto& h = r.header;
      if (r.extras().size() + r.key().size() + r.value().size() != h.body_length) std::abort();
      (void)r.flags();
      reader.next();
      ++responses;
    } else if (used == 0) {
      std::abort();  // neither progress nor an answer: a stuck stream
    }
  }
  return 0;
}
