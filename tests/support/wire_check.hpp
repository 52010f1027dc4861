#pragma once
// Helpers shared by the text and meta codec tests: encode into a string,
// decode a whole reply, name why a reply is malformed.

#include <cachekit/cachekit.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <string>

namespace cktest {

/// What an encoder writes into a scratch buffer, as a string.
template <class Encode>
std::string encoded(Encode&& encode) {
  char buf[1024] = {};  // zeroed: g++ -O1 cannot see that encode writes what it returns
  return std::string(buf, encode(buf));
}

/// Decodes `wire` with Wire as one complete reply of exactly its size. The
/// bytes are kept for the rest of the run (the reply views them).
template <class Wire>
cachekit::protocol::ServerReply decode_whole(const std::string& wire) {
  static std::deque<std::string> kept;
  kept.push_back(wire);
  const std::string& w = kept.back();
  cachekit::protocol::ServerReply r;
  const auto d = Wire::decode(w.data(), w.size(), r);
  INFO("reply: ", w);
  REQUIRE(d.complete());
  CHECK(d.size == w.size());
  return r;
}

/// The cause Wire gives for a malformed reply, or "(not malformed)".
template <class Wire>
std::string why_of(const std::string& w, cachekit::protocol::Limits lim = cachekit::protocol::Limits{}) {
  cachekit::protocol::ServerReply r;
  const auto d = Wire::decode(w.data(), w.size(), r, lim);
  if (!d.malformed()) return "(not malformed)";
  REQUIRE(d.why != nullptr);
  return d.why;
}

}  // namespace cktest
