// The key byte check (16-byte vector steps where the compiler has them)
// and its 8-byte word form (has_bad_key_byte_words, the other targets'
// path, checked here on every target) agree with the byte-by-byte rule for
// every byte value at every position of keys up to 40 bytes and of long
// keys up to 250: both halves of a short key, whole steps, and the
// overlapping last step.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <cachekit/cachekit.hpp>

namespace {

bool slow_has_bad(const std::string& s) {
  for (char ch : s) {
    if (cachekit::detail::bad_key_byte(static_cast<unsigned char>(ch))) return true;
  }
  return false;
}

// Whether both forms of the check give want for key (the word form takes
// keys of eight bytes or more).
bool both_say(const std::string& key, bool want) {
  if (cachekit::detail::has_bad_key_byte(key.data(), key.size()) != want) return false;
  return key.size() < 8 || cachekit::detail::has_bad_key_byte_words(key.data(), key.size()) == want;
}

}  // namespace

TEST_CASE("has_bad_key_byte matches the byte rule for every byte at every position") {
  long checked = 0, bad = 0;
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string key(len, 'k');
        key[pos] = static_cast<char>(b);
        const bool want = slow_has_bad(key);
        CHECK_MESSAGE(both_say(key, want), "len ", len, " pos ", pos, " byte ", b);
        ++checked;
        bad += want ? 1 : 0;
      }
    }
  }
  // 34 bad byte values (0x00..0x20 and 0x7f) at each of the 820 positions.
  CHECK(bad == 34 * 820);
  CHECK(checked == 256 * 820);
}

TEST_CASE("has_bad_key_byte matches the byte rule at every position of long keys, up to 250 bytes") {
  long checked = 0, bad = 0, positions = 0;
  for (std::size_t len : {41u, 47u, 48u, 49u, 63u, 64u, 65u, 100u, 127u, 128u, 129u, 200u, 249u, 250u}) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      ++positions;
      for (int b = 0; b < 256; ++b) {
        std::string key(len, '~');
        key[pos] = static_cast<char>(b);
        const bool want = slow_has_bad(key);
        if (!both_say(key, want)) FAIL_CHECK("len ", len, " pos ", pos, " byte ", b);
        ++checked;
        bad += want ? 1 : 0;
      }
    }
  }
  CHECK(bad == 34 * positions);
  CHECK(checked == 256 * positions);
}

TEST_CASE("has_bad_key_byte: bytes above 0x7f are allowed and borrows do not hide a bad byte") {
  CHECK(both_say(std::string("\x80\xff\x81\xfe\x21\x7e\xc3\xa9", 8), false));
  CHECK(both_say(std::string("\x80\x20\xff\xff\xff\xff\xff\xff", 8), true));
  CHECK(both_say(std::string("abcdefgh\x7f", 9), true));
  CHECK(both_say(std::string("\x00zzzzzzz", 8), true));
  CHECK_FALSE(cachekit::detail::has_bad_key_byte("", 0));
}

TEST_CASE("has_bad_key_byte matches the byte rule for keys of mixed random bytes") {
  // Bytes drawn mostly from around the edges of the rule (0x1f..0x22,
  // 0x7e..0x81, 0xff), so that every word mixes good and bad neighbours.
  const unsigned char edges[] = {0x00, 0x1f, 0x20, 0x21, 0x22, 0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xdf, 0xfe, 0xff, 'a'};
  std::uint32_t state = 12345;
  auto next = [&state]() {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  long mismatches = 0, bad = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string key(1 + next() % 40, 'k');
    for (auto& ch : key) {
      const std::uint32_t r = next();
      ch = static_cast<char>(r % 4 == 0 ? static_cast<unsigned char>(r >> 8) : edges[(r >> 8) % sizeof edges]);
    }
    const bool want = slow_has_bad(key);
    bad += want ? 1 : 0;
    if (!both_say(key, want)) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(bad > 1000);           // both outcomes were exercised
  CHECK(bad < 200000 - 1000);
}
