#pragma once
// The text and meta reply decoders driven as a byte stream through
// ReplyReader: the first byte picks how the rest is split into reads, the
// second the largest value accepted. The one-pass decoding of a hit must
// agree with the full decoder. Whatever it accepts must be
// self-consistent and view only bytes it was given; it must never read past
// its input, allocate what a reply merely announces, or stall.
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace cktest_fuzz {

// The one-pass decoding of a hit gives what the full decoder gives.
template <class Codec>
void check_fast_path(const char* p, std::size_t n, const cachekit::protocol::Limits& limits) {
  std::string_view line;
  cachekit::protocol::Decoded found;
  if (!cachekit::protocol::ascii::take_line(p, n, limits, line, found)) return;
  cachekit::protocol::ServerReply quick, full;
  const auto a = Codec::decode(p, n, quick, limits);
  const auto b = Codec::decode_line(p, n, line, full, limits);
  if (a.status != b.status || a.size != b.size) std::abort();
  if (!a.complete()) return;
  if (quick.kind != full.kind || quick.fields != full.fields || quick.flags != full.flags || quick.cas != full.cas ||
      quick.size != full.size || quick.ttl != full.ttl || quick.number != full.number || quick.value != full.value ||
      quick.key != full.key || quick.opaque != full.opaque || quick.text != full.text) {
    std::abort();
  }
}

inline bool within(std::string_view view, const std::string& buf) {
  if (view.empty()) return true;
  return view.data() >= buf.data() && view.data() + view.size() <= buf.data() + buf.size();
}

/// One fuzz input through Wire's decoder, whole and as a split byte stream.
template <class Wire, class Codec>
int fuzz_reply_stream(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  cachekit::protocol::Limits limits;
  limits.max_value = data[1] % 2 == 0 ? std::size_t{1} << (data[1] % 24) : CACHEKIT_MAX_RESPONSE_BODY;
  const char* p = reinterpret_cast<const char*>(data) + 2;
  std::size_t left = size - 2;

  check_fast_path<Codec>(p, left, limits);

  // The same bytes decoded whole, once, must agree with the first reply.
  cachekit::protocol::ServerReply whole;
  const auto first = Wire::decode(p, left, whole, limits);
  if (first.complete() && (first.size == 0 || first.size > left)) std::abort();
  if (first.malformed() && first.why == nullptr) std::abort();
  if (first.need_more() && first.size <= left) std::abort();

  cachekit::protocol::ReplyReader<Wire> reader(limits);
  int replies = 0;
  while (left > 0 && replies < 10000) {
    // Each read arrives in a buffer of its own, as from a socket.
    const std::size_t offer = left < chunk ? left : chunk;
    const std::string piece(p, offer);
    const std::size_t used = reader.feed(piece.data(), offer);
    if (used > offer) std::abort();
    if (reader.failed()) {
      if (reader.failure() == nullptr || *reader.failure() == '\0') std::abort();
      return 0;
    }
    const bool done = reader.complete();
    if (done) {
      const auto& r = reader.reply();
      (void)cachekit::protocol::to_string(r.kind);
      if (r.value.size() > limits.max_value && r.kind == cachekit::protocol::ReplyKind::value) std::abort();
      if (cachekit::protocol::is_error(r)) {
        const auto e = cachekit::protocol::reply_error(r);
        if (e.message().empty() || !cachekit::protocol::must_close(r)) std::abort();
      }
      // Views lie in this read or in what the reader gathered (not checked
      // here); a reply that came whole lies in this read.
      if (replies == 0 && first.complete() && first.size <= offer &&
          !(within(r.value, piece) && within(r.key, piece) && within(r.text, piece) && within(r.opaque, piece))) {
        std::abort();
      }
      if (replies == 0 && first.complete() && (r.kind != whole.kind || r.value.size() != whole.value.size())) {
        std::abort();
      }
      reader.next();
      ++replies;
    } else if (used != offer) {
      std::abort();  // an unfinished reply takes everything offered
    }
    p += used;
    left -= used;
    if (used == 0 && !done) std::abort();  // neither progress nor an answer
  }
  return 0;
}

}  // namespace cktest_fuzz
