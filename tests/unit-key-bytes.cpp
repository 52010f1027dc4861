// The word-at-a-time key byte check agrees with the byte-by-byte rule for
// every byte value at every position of keys up to 24 bytes.
#include <doctest/doctest.h>

#include <string>

#include <cachekit/cachekit.hpp>

namespace {

bool slow_has_bad(const std::string& s) {
  for (char ch : s) {
    if (cachekit::detail::bad_key_byte(static_cast<unsigned char>(ch))) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("has_bad_key_byte matches the byte rule for every byte at every position") {
  long checked = 0, bad = 0;
  for (std::size_t len = 1; len <= 24; ++len) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string key(len, 'k');
        key[pos] = static_cast<char>(b);
        const bool want = slow_has_bad(key);
        CHECK_MESSAGE(cachekit::detail::has_bad_key_byte(key.data(), key.size()) == want,
                      "len ", len, " pos ", pos, " byte ", b);
        ++checked;
        bad += want ? 1 : 0;
      }
    }
  }
  // 34 bad byte values (0x00..0x20 and 0x7f) at each of the 300 positions.
  CHECK(bad == 34 * 300);
  CHECK(checked == 256 * 300);
}

TEST_CASE("has_bad_key_byte: bytes above 0x7f are allowed and borrows do not hide a bad byte") {
  CHECK_FALSE(cachekit::detail::has_bad_key_byte("\x80\xff\x81\xfe\x21\x7e\xc3\xa9", 8));
  CHECK(cachekit::detail::has_bad_key_byte("\x80\x20\xff\xff\xff\xff\xff\xff", 8));
  CHECK(cachekit::detail::has_bad_key_byte("abcdefgh\x7f", 9));
  CHECK(cachekit::detail::has_bad_key_byte("\x00zzzzzzz", 8));
  CHECK_FALSE(cachekit::detail::has_bad_key_byte("", 0));
}
